#!/bin/bash
# estuary-est keeps, per thread, what it read for an EST server (its allow
# list, applications, device type, templates, CAs, external CA) and uses
# it while one stamp query says it is current (fcgi/est_cache.c).  These
# checks change each of those through the REST API and assert that the
# NEXT request sees the change, then undo it, on the demo configuration's
# est01 server (app key enrollment) and its "ext" label (zero-touch with
# the external factory CA).  Everything changed is restored at exit.
#
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

H=$ESTUARY_EST_EC_HOST
PORT=$ESTUARY_EST_PORT
L=$ESTUARY_EXT_LABEL
D=$T_TMP/pki
mkdir -p "$D"

# est PATH [curl options...]: POST a CSR to https://H/.well-known/est/PATH
# over loopback; prints the status.
est() {
	local path=$1

	shift
	curl -sS -o "$T_TMP/body" -w '%{http_code}' --cacert "$ESTUARY_TLS_CA" \
	    --resolve "$H:$PORT:127.0.0.1" -X POST \
	    -H 'Content-Type: application/pkcs10' --data-binary @"$D/csr.b64" \
	    "$@" "https://$H:$PORT/.well-known/est/$path"
}
# app: a simpleenroll as the demo application (AppID:AppKey).
app() {
	est simpleenroll -u "$ESTUARY_APP_ID:$ESTUARY_APP_KEY"
}
# dar: a zero-touch enrollment of a never-seen device under the label,
# with a factory certificate minted by the demo's external factory CA.
dar() {
	local n=$RANDOM$RANDOM

	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$D/f$n.key" -subj "/CN=cache-$RUN-$n" \
	    -out "$D/f$n.csr" 2>/dev/null &&
	    openssl x509 -req -in "$D/f$n.csr" \
		-CA "$ESTUARY_EXT_FACTORY_CA_CERT" \
		-CAkey "$ESTUARY_EXT_FACTORY_CA_KEY" -set_serial "0x$n" \
		-days 2 -out "$D/f$n.pem" 2>/dev/null ||
	    { echo "mint failed"; return; }
	est "$L/simpleenroll" --cert "$D/f$n.pem" --key "$D/f$n.key"
}
# patch_server JSON: PATCH est01 with its current ETag; prints the status.
patch_server() {
	as admin GET "/api/v1/est-servers/$SID" >/dev/null
	as admin PATCH "/api/v1/est-servers/$SID" "$1" -H "If-Match: $(etag)"
}

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$D/csr.key" -subj "/CN=cache-$RUN" -outform DER \
    -out "$D/csr.der" 2>/dev/null && base64 <"$D/csr.der" >"$D/csr.b64" ||
    { echo "cannot make the CSR"; exit 1; }
check_eq "admin login" 200 \
    "$(session admin "$ESTUARY_ADMIN_USER" "$ESTUARY_ADMIN_PASSWORD")"
as admin GET "/api/v1/est-servers?domain=$H" >/dev/null
SID=$(jbody '.items[0].id')
DT=$(jbody '.items[0].device_type_id')
as admin GET "/api/v1/device-types/$DT" >/dev/null
TID=$(jbody '[.operational_templates[] | select(.default)][0].template_id')
as admin GET "/api/v1/external-cas?active=true" >/dev/null
XID=$(jq -r --slurpfile c <(openssl x509 -in "$ESTUARY_EXT_FACTORY_CA_CERT" \
    -outform DER | sha256sum | cut -d' ' -f1 | jq -R .) \
    '[.items[] | select(.fingerprint == $c[0])][0].id' "$T_TMP/body")
check_match "setup: the demo server, its type, template and external CA" \
    '^[0-9]+ [0-9]+ [0-9]+ [0-9]+$' "$SID $DT $TID $XID"

# patch_template JSON: PATCH the default template with its current ETag.
patch_template() {
	as admin GET "/api/v1/cert-templates/$TID" >/dev/null
	as admin PATCH "/api/v1/cert-templates/$TID" "$1" -H "If-Match: $(etag)"
}
# lifetime: notAfter - notBefore (s) of the certificate in the last answer.
lifetime() {
	local dates nb na

	dates=$(base64 -d "$T_TMP/body" 2>/dev/null |
	    openssl pkcs7 -inform DER -print_certs 2>/dev/null |
	    openssl x509 -noout -dates 2>/dev/null) || return
	nb=$(sed -n 's/^notBefore=//p' <<<"$dates")
	na=$(sed -n 's/^notAfter=//p' <<<"$dates")
	echo $(($(date -ud "$na" +%s) - $(date -ud "$nb" +%s)))
}
as admin GET "/api/v1/cert-templates/$TID" >/dev/null
DAYS=$(jbody .validity_days)

# Whatever a failed run leaves changed is changed back.
restore() {
	patch_template "{\"validity_days\": $DAYS}" >/dev/null
	as admin POST "/api/v1/est-servers/$SID/activate" >/dev/null
	patch_server '{"ip_allow": [], "auth": {"app_key": true}}' >/dev/null
	as admin POST "/api/v1/device-types/$DT/activate" >/dev/null
	as admin POST "/api/v1/cert-templates/$TID/activate" >/dev/null
	as admin POST "/api/v1/external-cas/$XID/activate" >/dev/null
}
at_exit restore

check_eq "app enrollment" 200 "$(app)"
check_eq "app enrollment again (from the cache)" 200 "$(app)"

check_eq "allow list without loopback: 200" 200 \
    "$(patch_server '{"ip_allow": ["192.0.2.0/24"]}')"
check_eq "...the next request is refused (403)" 403 "$(app)"
check_eq "allow list emptied: 200" 200 "$(patch_server '{"ip_allow": []}')"
check_eq "...the next request is served" 200 "$(app)"

check_eq "app key authentication off: 200" 200 \
    "$(patch_server '{"auth": {"app_key": false}}')"
check_eq "...the next request gets the Basic challenge (401)" 401 "$(app)"
check_eq "app key authentication on: 200" 200 \
    "$(patch_server '{"auth": {"app_key": true}}')"
check_eq "...the next request is served" 200 "$(app)"

check_eq "device type deactivated" 200 \
    "$(as admin POST "/api/v1/device-types/$DT/deactivate")"
check_eq "...the next request finds no device type (404)" 404 "$(app)"
check_eq "device type activated" 200 \
    "$(as admin POST "/api/v1/device-types/$DT/activate")"
check_eq "...the next request is served" 200 "$(app)"

check_eq "template deactivated" 200 \
    "$(as admin POST "/api/v1/cert-templates/$TID/deactivate")"
check_eq "...the next request is refused (409)" 409 "$(app)"
check_eq "template activated" 200 \
    "$(as admin POST "/api/v1/cert-templates/$TID/activate")"
check_eq "...the next request is served" 200 "$(app)"

# The template's version comes with the route's row, and a thread that
# holds the template takes it from there (issue_cache_prime()): with the
# template in every thread's cache, a new validity is in the very next
# certificates.
check_match "setup: the template's validity" '^[0-9]+$' "$DAYS"
NEWDAYS=$((DAYS > 2 ? DAYS - 1 : DAYS + 1))
bad=0
for _ in 1 2 3 4 5 6 7 8; do
	[ "$(app)" = 200 ] || bad=$((bad + 1))
done
L0=$(lifetime)
check_eq "eight enrollments fill every thread's cache" "0" "$bad"
check_eq "template validity changed" 200 \
    "$(patch_template "{\"validity_days\": $NEWDAYS}")"
bad=0
for _ in 1 2 3 4 5 6 7 8; do
	if [ "$(app)" != 200 ] ||
	    [ "$(lifetime)" != $((L0 + (NEWDAYS - DAYS) * 86400)) ]; then
		bad=$((bad + 1))
	fi
done
check_eq "...each of the next eight certificates has the new validity" \
    "0" "$bad"
check_eq "template validity restored" 200 \
    "$(patch_template "{\"validity_days\": $DAYS}")"
check_eq "...the next certificate has the old one" "$L0" \
    "$( [ "$(app)" = 200 ] && lifetime)"

check_eq "server deactivated" 200 \
    "$(as admin POST "/api/v1/est-servers/$SID/deactivate")"
check_eq "...the next request finds no server (404)" 404 "$(app)"
check_eq "server activated" 200 \
    "$(as admin POST "/api/v1/est-servers/$SID/activate")"
check_eq "...the next request is served" 200 "$(app)"

check_eq "zero-touch under the label" 200 "$(dar)"
check_eq "external factory CA deactivated" 200 \
    "$(as admin POST "/api/v1/external-cas/$XID/deactivate")"
check_eq "...the next zero-touch enrollment is refused (403)" 403 "$(dar)"
check_eq "external factory CA activated" 200 \
    "$(as admin POST "/api/v1/external-cas/$XID/activate")"
check_eq "...the next zero-touch enrollment is served" 200 "$(dar)"

finish
