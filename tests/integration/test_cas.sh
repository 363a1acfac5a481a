#!/bin/bash
#
# CAs over HTTPS (fcgi/api_ca.h) and their public files over plain HTTP
# (fcgi/pki_http.h): roots with EC and RSA keys in the HSM, an issuing CA
# under a root (chain, path length, key usage, CRL and OCSP pointers), a CA
# signed elsewhere (its request signed by a CA that openssl makes here, the
# upload of the certificate, and the refusal of a certificate for another
# key, an expired one, one that is no CA, one with another subject, and a
# chain that does not verify it), downloads in every format checked with
# openssl, list filters and pages, permissions (a Tenant Admin's CA, an
# operator's 403, another tenant's 404), deactivate and delete rules (409
# while active or in use), changes with If-Match, and CRLs: fetched over
# plain HTTP from ESTUARY_PKI_URL, verified with openssl, listing revoked
# certificates with their reasons and leaving out expired ones.  Names
# carry a per-run suffix so that it can run again on the same instance.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

CAS=/api/v1/cas
PW="pw-$RUN-Secret"
O="O=Estuary IT"
TAB=$'\t'

# plain PATH [curl options...]: GET over the plain-HTTP /pki/ listener;
# prints the status, the body in $T_TMP/body and headers in $T_TMP/headers.
plain() {
	local path=$1
	shift
	curl -sS -o "$T_TMP/body" -D "$T_TMP/headers" -w '%{http_code}' \
	    "$@" "$ESTUARY_PKI_URL$path"
}

# plain_to PATH FILE: plain, with the body copied to FILE.
plain_to() {
	local code
	code=$(plain "$1")
	cp "$T_TMP/body" "$2"
	printf '%s' "$code"
}

ncas() {
	db_sql "SELECT COUNT(*) FROM cas"
}

# mkca WHO JSON: POST /cas as WHO; prints the status.
mkca() {
	as "$1" POST $CAS "$2"
}

# dl WHO ID FORMAT FILE: downloads CA ID in FORMAT to FILE; prints the status.
dl() {
	local code
	code=$(as "$1" GET "$CAS/$2/download?format=$3")
	cp "$T_TMP/body" "$4"
	printf '%s' "$code"
}

admin_session
check_match "setup: the instance publishes over plain HTTP" \
    '^http://127\.0\.0\.1:[0-9]+$' "${ESTUARY_PKI_URL:-}"

# --- a root CA with an EC key --------------------------------------------------
ROOT="it-root-ec-$RUN"
code=$(mkca admin "$(jq -nc --arg n "$ROOT" --arg s "CN=IT Root EC $RUN,$O" \
    '{name: $n, kind: "root", key_type: "ec-p256", subject: $s,
      validity_days: 3650, description: "test root"}')")
check_eq "root (EC): 201" 201 "$code"
RID=$(jbody .id)
check_eq "root: Location" "$CAS/$RID" "$(header Location)"
check_match "root: a strong ETag" '^"[A-Za-z0-9_-]{22}"$' "$(etag)"
check_eq "root: kind, status, key type" "root active ec-p256" \
    "$(jbody '"\(.kind) \(.status) \(.key_type)"')"
check_eq "root: no path length" null "$(jbody .path_len)"
check_eq "root: default key usage" \
    '["digitalSignature","keyCertSign","cRLSign"]' "$(jq -c .key_usage "$T_TMP/body")"
check_eq "root: CRL URL under pki_base_url" \
    "$ESTUARY_PKI_URL/pki/crl/$RID.crl" "$(jbody .crl_url)"
check_eq "root: OCSP URL" "$ESTUARY_PKI_URL/pki/ocsp/$RID" "$(jbody .ocsp_url)"
check_eq "root: caIssuers URL" "$ESTUARY_PKI_URL/pki/ca/$RID.crt" \
    "$(jbody .ca_issuers_url)"
check_eq "root: its first CRL is made" 1 "$(jbody .crl_number)"
check_match "root: serial and fingerprint as lower-case hex" \
    '^[0-9a-f]{32} [0-9a-f]{64}$' "$(jbody '"\(.serial) \(.fingerprint)"')"
jbody .pem >"$T_TMP/root.pem"
check "root: self-signed, verifies" \
    openssl verify -x509_strict -CAfile "$T_TMP/root.pem" "$T_TMP/root.pem"
check_eq "root: audited" 1 "$(audits ca create "$RID")"
check_match "root: its key is in the token under a fresh label" \
    "^[0-9a-f]{32}${TAB}ca-$ROOT-[0-9a-f]{12}${TAB}ec-p256${TAB}ca\$" \
    "$(ctl key list | grep -F "ca-$ROOT-")"
check_eq "root: the database has no private key column" 0 \
    "$(db_sql "SELECT COUNT(*) FROM information_schema.columns
	WHERE table_name = 'cas' AND column_name LIKE '%priv%'")"

# --- a root CA with an RSA key, downloaded as DER ---------------------------------
RSA="it-root-rsa-$RUN"
check_eq "root (RSA): 201" 201 \
    "$(mkca admin "$(jq -nc --arg n "$RSA" --arg s "CN=IT Root RSA $RUN,$O" \
	'{name: $n, kind: "root", key_type: "rsa-2048", subject: $s,
	  validity_days: 365, path_len: 1}')")"
RSAID=$(jbody .id)
check_eq "root (RSA): key type and path length" "rsa-2048 1" \
    "$(jbody '"\(.key_type) \(.path_len)"')"
check_eq "download der: 200" 200 "$(dl admin "$RSAID" der "$T_TMP/rsa.der")"
check_eq "download der: application/pkix-cert" application/pkix-cert \
    "$(header Content-Type)"
check_match "download der: an attachment" "attachment; filename=\"ca-$RSAID.der\"" \
    "$(header Content-Disposition)"
check_match "download der: a 2048-bit RSA key" 'Public-Key: \(2048 bit\)' \
    "$(openssl x509 -inform DER -in "$T_TMP/rsa.der" -noout -text)"
check_match "download der: sha256WithRSAEncryption, pathlen 1" \
    'sha256WithRSAEncryption.*CA:TRUE, pathlen:1' \
    "$(openssl x509 -inform DER -in "$T_TMP/rsa.der" -noout -text | tr '\n' ' ')"

# --- an issuing CA under the EC root ---------------------------------------------
ISS="it-issuing-$RUN"
check_eq "issuing: 201" 201 \
    "$(mkca admin "$(jq -nc --arg n "$ISS" --arg s "CN=IT Issuing $RUN,$O" \
	--argjson p "$RID" '{name: $n, kind: "issuing", parent_id: $p,
	key_type: "ec-p384", subject: $s, validity_days: 365,
	crl_period_hours: 12}')")"
IID=$(jbody .id)
check_eq "issuing: kind, parent, path length 0 by default" "issuing $RID 0" \
    "$(jbody '"\(.kind) \(.parent_id) \(.path_len)"')"
check_eq "issuing: issuer is the root" "CN=IT Root EC $RUN,$O" "$(jbody .issuer)"
check_eq "issuing: CRL period" 12 "$(jbody .crl_period_hours)"
check_eq "download pem: 200" 200 "$(dl admin "$IID" pem "$T_TMP/issuing.pem")"
check_eq "download pem: one certificate" 1 \
    "$(grep -c 'BEGIN CERTIFICATE' "$T_TMP/issuing.pem")"
check "issuing: verifies against the root" \
    openssl verify -x509_strict -CAfile "$T_TMP/root.pem" "$T_TMP/issuing.pem"
itext=$(openssl x509 -in "$T_TMP/issuing.pem" -noout -text)
check_match "issuing: CA:TRUE, pathlen:0" 'CA:TRUE, pathlen:0' "$itext"
check_match "issuing: signed by the root's P-256 key" \
    'Signature Algorithm: ecdsa-with-SHA256' "$itext"
check_match "issuing: the root's CRL as distribution point" \
    "URI:$ESTUARY_PKI_URL/pki/crl/$RID.crl" "$itext"
check_match "issuing: the root's OCSP responder" \
    "OCSP - URI:$ESTUARY_PKI_URL/pki/ocsp/$RID" "$itext"
check_match "issuing: the root's certificate as caIssuers" \
    "CA Issuers - URI:$ESTUARY_PKI_URL/pki/ca/$RID.crt" "$itext"
check_eq "download chain: 200" 200 "$(dl admin "$IID" chain "$T_TMP/ichain.pem")"
check_eq "download chain: application/pem-certificate-chain" \
    application/pem-certificate-chain "$(header Content-Type)"
check_eq "download chain: two certificates" 2 \
    "$(grep -c 'BEGIN CERTIFICATE' "$T_TMP/ichain.pem")"
check_eq "download chain: the issuing CA first" "$(fp "$T_TMP/issuing.pem")" \
    "$(fp "$T_TMP/ichain.pem")"
check_eq "download p7: 200" 200 "$(dl admin "$IID" p7 "$T_TMP/ichain.p7b")"
check_match "download p7: PKCS#7 certs-only" '^application/pkcs7-mime' \
    "$(header Content-Type)"
check_eq "download p7: both certificates" 2 \
    "$(openssl pkcs7 -inform DER -in "$T_TMP/ichain.p7b" -print_certs |
	grep -c '^subject=')"
check_eq "download: an unknown format is 400" 400 \
    "$(as admin GET "$CAS/$IID/download?format=zip")"

KU="it-ku-$RUN"
check_eq "issuing with a chosen key usage: 201" 201 \
    "$(mkca admin "$(jq -nc --arg n "$KU" --arg s "CN=IT KU $RUN,$O" \
	--argjson p "$RID" '{name: $n, kind: "issuing", parent_id: $p,
	key_type: "ec-p256", subject: $s, validity_days: 30,
	key_usage: ["keyCertSign", "cRLSign"]}')")"
KUID=$(jbody .id)
jbody .pem >"$T_TMP/ku.pem"
check_match "the key usage is exactly that" \
    'Key Usage: critical *Certificate Sign, CRL Sign *X509v3' \
    "$(openssl x509 -in "$T_TMP/ku.pem" -noout -text | tr -s ' \n' ' ')"

# --- refusals: nothing is stored ------------------------------------------------
n=$(ncas)
code=$(mkca admin "$(jq -nc --arg s "CN=X $RUN" --argjson p "$RID" \
    '{name: "it-long", kind: "issuing", parent_id: $p, key_type: "ec-p256",
      subject: $s, validity_days: 3651}')")
check_eq "a child that outlives its parent: 422" 422 "$code"
check_eq "a child that outlives its parent: field" validity_days \
    "$(jbody .error.field)"
code=$(mkca admin "$(jq -nc --arg s "CN=X $RUN" --argjson p "$IID" \
    '{name: "it-deep", kind: "issuing", parent_id: $p, key_type: "ec-p256",
      subject: $s, validity_days: 5}')")
check_eq "a CA under a path length 0 CA: 422 on parent_id" "422 parent_id" \
    "$code $(jbody .error.field)"
check_eq "a bad subject: 422 on subject" "422 subject" \
    "$(mkca admin '{"name": "it-bad", "kind": "root", "key_type": "ec-p256",
	"subject": "CN=x,XX=y", "validity_days": 5}') $(jbody .error.field)"
check_eq "an unknown key type: 422" 422 \
    "$(mkca admin '{"name": "it-bad", "kind": "root", "key_type": "dsa",
	"subject": "CN=x", "validity_days": 5}')"
check_eq "a root without validity: 422 on validity_days" "422 validity_days" \
    "$(mkca admin '{"name": "it-bad", "kind": "root", "key_type": "ec-p256",
	"subject": "CN=x"}') $(jbody .error.field)"
check_eq "a key usage without keyCertSign: 422 on key_usage" "422 key_usage" \
    "$(mkca admin '{"name": "it-bad", "kind": "root", "key_type": "ec-p256",
	"subject": "CN=x", "validity_days": 5, "key_usage": ["cRLSign"]}') $(jbody .error.field)"
check_eq "an issuing CA without parent: 422 on parent_id" "422 parent_id" \
    "$(mkca admin '{"name": "it-bad", "kind": "issuing", "key_type": "ec-p256",
	"subject": "CN=x", "validity_days": 5}') $(jbody .error.field)"
check_eq "a parent that does not exist: 422" 422 \
    "$(mkca admin '{"name": "it-bad", "kind": "issuing", "parent_id": 999999999,
	"key_type": "ec-p256", "subject": "CN=x", "validity_days": 5}')"
check_eq "an unknown member: 422" 422 \
    "$(mkca admin '{"name": "it-bad", "kind": "root", "key_type": "ec-p256",
	"subject": "CN=x", "validity_days": 5, "key": "x"}')"
check_eq "malformed JSON: 400" 400 "$(mkca admin '{"name": "it-bad",}')"
check_eq "a duplicate name: 409 on name" "409 name" \
    "$(mkca admin "$(jq -nc --arg n "$ROOT" '{name: $n, kind: "root",
	key_type: "ec-p256", subject: "CN=dup", validity_days: 5}')") $(jbody .error.field)"
check_eq "refusals: no CA added" "$n" "$(ncas)"

# --- a CA signed elsewhere ------------------------------------------------------
EXT="it-ext-$RUN"
ESUBJ="CN=IT External $RUN,$O"
check_eq "external: 201" 201 \
    "$(mkca admin "$(jq -nc --arg n "$EXT" --arg s "$ESUBJ" \
	'{name: $n, kind: "external", key_type: "ec-p256", subject: $s,
	  path_len: 0}')")"
EID=$(jbody .id)
check_eq "external: pending, no certificate, a request" "pending null true" \
    "$(jbody '"\(.status) \(.pem) \(.has_request)"')"
check_eq "external: no validity of our own: 422" 422 \
    "$(mkca admin '{"name": "it-bad", "kind": "external", "key_type": "ec-p256",
	"subject": "CN=x", "validity_days": 5}')"
check_eq "external: no download before the certificate: 409" 409 \
    "$(as admin GET "$CAS/$EID/download")"
check_eq "external: no CRL before the certificate: 404" 404 \
    "$(plain "/pki/crl/$EID.crl")"
check_eq "csr: 200" 200 "$(as admin GET "$CAS/$EID/csr")"
cp "$T_TMP/body" "$T_TMP/ext.csr"
check "csr: its self-signature verifies" \
    openssl req -in "$T_TMP/ext.csr" -noout -verify
check_match "csr: the CA's subject" "CN ?= ?IT External $RUN" \
    "$(openssl req -in "$T_TMP/ext.csr" -noout -subject)"
check_match "csr: asks for CA:TRUE, pathlen 0" 'CA:TRUE, pathlen:0' \
    "$(openssl req -in "$T_TMP/ext.csr" -noout -text)"
check_eq "csr of a CA made here: 409" 409 "$(as admin GET "$CAS/$RID/csr")"

# The CA that signs it, made by openssl.
(
	cd "$T_TMP" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout xroot.key -out xroot.pem -days 30 -subj "/CN=Outside Root $RUN" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout other.key -out other.pem -days 30 -subj "/CN=Other Root $RUN" &&
	printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >ca.ext &&
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' >leaf.ext &&
	sign() { openssl x509 -req -in "$1" -CA xroot.pem -CAkey xroot.key \
	    -set_serial "0x$(openssl rand -hex 8)" "${@:2}"; } &&
	sign ext.csr -days 20 -extfile ca.ext -out ext.pem &&
	sign ext.csr -days -1 -extfile ca.ext -out expired.pem &&
	sign ext.csr -days 20 -extfile leaf.ext -out leaf.pem &&
	sign ext.csr -days 20 -extfile ca.ext -subj "/CN=Someone Else $RUN" \
	    -out othersubj.pem &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout wrong.key -out wrong.csr -subj "/O=Estuary IT/CN=IT External $RUN" &&
	sign wrong.csr -days 20 -extfile ca.ext -out wrongkey.pem
) >"$T_TMP/openssl.log" 2>&1
check "openssl signs the request" test -s "$T_TMP/wrongkey.pem"

# upload WHO ID CERTFILE [CHAINFILE]: prints the status.
upload() {
	local body
	if [ -n "${4:-}" ]; then
		body=$(jq -nc --rawfile c "$3" --rawfile h "$4" '{certificate: $c, chain: $h}')
	else
		body=$(jq -nc --rawfile c "$3" '{certificate: $c}')
	fi
	as "$1" POST "$CAS/$2/certificate" "$body"
}

up_refused() { # DESCRIPTION FIELD CERT [CHAIN]
	local code
	code=$(upload admin "$EID" "$3" "${4:-}")
	check_eq "$1: 422 on $2" "422 $2" "$code $(jbody .error.field)"
}
up_refused "a certificate for another key" certificate "$T_TMP/wrongkey.pem"
up_refused "an expired certificate" certificate "$T_TMP/expired.pem"
up_refused "a certificate that is no CA" certificate "$T_TMP/leaf.pem"
up_refused "a certificate with another subject" certificate "$T_TMP/othersubj.pem"
printf 'not a certificate\n' >"$T_TMP/junk.pem"
up_refused "no PEM at all" certificate "$T_TMP/junk.pem"
cat "$T_TMP/ext.pem" "$T_TMP/ext.pem" >"$T_TMP/two.pem"
up_refused "two certificates" certificate "$T_TMP/two.pem"
up_refused "a chain that does not verify it" chain "$T_TMP/ext.pem" \
    "$T_TMP/other.pem"
check_eq "refused uploads: still pending" pending \
    "$(as admin GET "$CAS/$EID" >/dev/null; jbody .status)"
check_eq "upload without a session: 401" 401 \
    "$(http POST "$CAS/$EID/certificate" -H 'Content-Type: application/json' \
	--data-binary '{"certificate": "x"}')"
check_eq "upload with its chain: 200" 200 \
    "$(upload admin "$EID" "$T_TMP/ext.pem" "$T_TMP/xroot.pem")"
check_eq "upload: active, external, with its chain, a CRL" \
    "active external true 1" \
    "$(jbody '"\(.status) \(.kind) \(.has_chain) \(.crl_number)"')"
check_eq "upload: the certificate is the one uploaded" "$(fp "$T_TMP/ext.pem")" \
    "$(jbody .pem | openssl x509 -noout -fingerprint -sha256)"
check_eq "upload: audited" 1 "$(audits ca upload_certificate "$EID")"
check_eq "upload again: 409" 409 "$(upload admin "$EID" "$T_TMP/ext.pem")"
dl admin "$EID" chain "$T_TMP/echain.pem" >/dev/null
check_eq "external chain: the CA and the outside root" 2 \
    "$(grep -c 'BEGIN CERTIFICATE' "$T_TMP/echain.pem")"
check "external: its certificate verifies against the outside root" \
    openssl verify -CAfile "$T_TMP/xroot.pem" "$T_TMP/ext.pem"
check_eq "external: the CRL it signed is served" 200 \
    "$(plain_to "/pki/crl/$EID.crl" "$T_TMP/ext.crl")"
check_match "external: the CRL verifies with its certificate" 'verify OK' \
    "$(openssl crl -inform DER -in "$T_TMP/ext.crl" -CAfile "$T_TMP/ext.pem" \
	-noout 2>&1)"

# --- the demo CAs that estuaryctl made publish too ----------------------------------
as admin GET "$CAS?name=Estuary%20Demo%20Issuing%20CA" >/dev/null
did=$(jbody '.items[0].id')
check_eq "the demo issuing CA (estuaryctl) has a CRL URL" \
    "$ESTUARY_PKI_URL/pki/crl/$did.crl" "$(jbody '.items[0].crl_url')"
check_eq "the demo issuing CA's CRL is served" 200 "$(plain "/pki/crl/$did.crl")"

# --- list, filters, pages -------------------------------------------------------
check_eq "list by name: exactly the root" "$RID" \
    "$(as admin GET "$CAS?name=$ROOT" >/dev/null; jbody '[.items[].id] | join(",")')"
as admin GET "$CAS?name_contains=$RUN&limit=500" >/dev/null
check_eq "list name_contains: this run's CAs" 5 "$(jbody '.items | length')"
as admin GET "$CAS?parent_id=$RID" >/dev/null
check_eq "list by parent: its two children" "$IID,$KUID" \
    "$(jbody '[.items[].id] | join(",")')"
as admin GET "$CAS?root=true&name_contains=$RUN" >/dev/null
check_eq "list of roots: no parent among them" 0 \
    "$(jbody '[.items[] | select(.parent_id != null)] | length')"
check_eq "list of roots: this run's three" 3 "$(jbody '.items | length')"
PEND="it-pending-$RUN"
mkca admin "$(jq -nc --arg n "$PEND" \
    '{name: $n, kind: "external", key_type: "rsa-2048", subject: "CN=IT Pending"}')" >/dev/null
PID=$(jbody .id)
as admin GET "$CAS?status=pending&name_contains=$RUN" >/dev/null
check_eq "list of pending CAs" "$PID" "$(jbody '[.items[].id] | join(",")')"
as admin GET "$CAS?name_contains=$RUN&limit=2" >/dev/null
check_eq "a page of 2" 2 "$(jbody '.items | length')"
cur=$(jbody .next_cursor)
check_match "a next cursor" '^[A-Za-z0-9_-]{12}$' "$cur"
last=$(jbody '.items[1].id')
as admin GET "$CAS?name_contains=$RUN&limit=2&cursor=$cur" >/dev/null
check_eq "the next page goes on after it" 0 \
    "$(jq --argjson l "$last" '[.items[] | select(.id <= $l)] | length' \
	"$T_TMP/body")"
check_eq "an unknown filter: 400" 400 "$(as admin GET "$CAS?kind=root")"
check_eq "a bad status: 400" 400 "$(as admin GET "$CAS?status=lost")"

# --- permissions ----------------------------------------------------------------
mkt() { # NAME: a tenant; prints its id
	as admin POST /api/v1/tenants "$(jq -nc --arg n "$1" '{name: $n}')" >/dev/null
	jbody .id
}
mku() { # WHO ROLE TENANT: a user WHO-RUN, then its session
	as admin POST /api/v1/users "$(jq -nc --arg u "$1-$RUN" --arg p "$PW" \
	    --arg r "$2" --argjson t "$3" \
	    '{username: $u, password: $p, role: $r, tenant_id: $t}')" >/dev/null
	session "$1" "$1-$RUN" "$PW" >/dev/null
}
T1=$(mkt "CA T1 $RUN")
T2=$(mkt "CA T2 $RUN")
mku ta1 tenant_admin "$T1"
mku to1 tenant_operator "$T1"
mku ta2 tenant_admin "$T2"
TCA="it-tenant-$RUN"
check_eq "tenant admin creates a tenant CA: 201" 201 \
    "$(mkca ta1 "$(jq -nc --arg n "$TCA" --argjson t "$T1" \
	'{name: $n, kind: "root", key_type: "ec-p256", subject: "CN=IT Tenant",
	  validity_days: 30, scope: "tenant", tenant_id: $t}')")"
TID=$(jbody .id)
check_eq "the tenant CA: scope and tenant" "tenant $T1" \
    "$(jbody '"\(.scope) \(.tenant_id)"')"
check_eq "tenant admin puts an issuing CA under a global root: 201" 201 \
    "$(mkca ta1 "$(jq -nc --arg n "it-tsub-$RUN" --argjson t "$T1" \
	--argjson p "$RID" '{name: $n, kind: "issuing", parent_id: $p,
	key_type: "ec-p256", subject: "CN=IT Tenant Sub", validity_days: 30,
	tenant_id: $t}')")"
n=$(ncas)
check_eq "tenant admin creating a global CA: 403" 403 \
    "$(mkca ta1 '{"name": "it-g", "kind": "root", "key_type": "ec-p256",
	"subject": "CN=x", "validity_days": 5}')"
check_eq "tenant admin creating in another tenant: 404" 404 \
    "$(mkca ta1 "$(jq -nc --argjson t "$T2" '{name: "it-x", kind: "root",
	key_type: "ec-p256", subject: "CN=x", validity_days: 5, tenant_id: $t}')")"
check_eq "tenant operator creating a CA: 403" 403 \
    "$(mkca to1 "$(jq -nc --argjson t "$T1" '{name: "it-o", kind: "root",
	key_type: "ec-p256", subject: "CN=x", validity_days: 5, tenant_id: $t}')")"
check_eq "another tenant's CA as parent: 422 on parent_id" "422 parent_id" \
    "$(mkca ta2 "$(jq -nc --argjson t "$T2" --argjson p "$TID" \
	'{name: "it-y", kind: "issuing", parent_id: $p, key_type: "ec-p256",
	  subject: "CN=x", validity_days: 5, tenant_id: $t}')") $(jbody .error.field)"
check_eq "permission refusals: no CA added" "$n" "$(ncas)"
check_eq "the refusal is audited" 1 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE entity = 'ca'
	AND action = 'create' AND outcome = 'denied'
	AND actor_name = 'to1-$RUN'")"
check_eq "tenant operator reads its tenant's CA: 200" 200 \
    "$(as to1 GET "$CAS/$TID")"
check_eq "tenant operator reads a global CA: 200" 200 "$(as to1 GET "$CAS/$RID")"
check_eq "tenant operator deletes: 403" 403 "$(as to1 DELETE "$CAS/$TID")"
check_eq "other tenant reads it: 404" 404 "$(as ta2 GET "$CAS/$TID")"
check_eq "other tenant downloads it: 404" 404 "$(as ta2 GET "$CAS/$TID/download")"
as ta2 GET "$CAS?limit=500" >/dev/null
check_eq "other tenant's list: not there, the global root is" "0 1" \
    "$(jq -r --argjson a "$TID" --argjson r "$RID" \
	'"\([.items[] | select(.id == $a)] | length) \([.items[] | select(.id == $r)] | length)"' \
	"$T_TMP/body")"
as to1 GET "$CAS?limit=500" >/dev/null
check_eq "tenant operator's list: its tenant's CA" 1 \
    "$(jq --argjson a "$TID" '[.items[] | select(.id == $a)] | length' "$T_TMP/body")"

# --- change, deactivate, delete -----------------------------------------------------
as admin GET "$CAS/$KUID" >/dev/null
tag=$(etag)
check_eq "update without If-Match: 428" 428 \
    "$(as admin PATCH "$CAS/$KUID" '{"description": "x"}')"
check_eq "update: 200" 200 \
    "$(as admin PATCH "$CAS/$KUID" '{"description": "changed", "crl_period_hours": 48}' -H "If-Match: $tag")"
check_eq "update: the new values" "changed 48" \
    "$(jbody '"\(.description) \(.crl_period_hours)"')"
check_eq "update with the old ETag: 412" 412 \
    "$(as admin PATCH "$CAS/$KUID" '{"description": "y"}' -H "If-Match: $tag")"
check_eq "the subject cannot change: 422" 422 \
    "$(as admin PATCH "$CAS/$KUID" '{"subject": "CN=y"}' -H "If-Match: $(etag)")"
check_eq "update: audited" 1 "$(audits ca update "$KUID")"

as admin GET "$CAS/$RSAID" >/dev/null
check_eq "delete of an active CA: 409" 409 \
    "$(as admin DELETE "$CAS/$RSAID" -H "If-Match: $(etag)")"
check_eq "deactivate: 200, inactive" "200 inactive" \
    "$(as admin POST "$CAS/$RSAID/deactivate") $(jbody .status)"
check_eq "deactivate: audited" 1 "$(audits ca deactivate "$RSAID")"
check_eq "delete without If-Match: 428" 428 "$(as admin DELETE "$CAS/$RSAID")"
as admin GET "$CAS/$RSAID" >/dev/null
check_eq "delete of an unused inactive CA: 204" 204 \
    "$(as admin DELETE "$CAS/$RSAID" -H "If-Match: $(etag)")"
check_eq "deleted: 404" 404 "$(as admin GET "$CAS/$RSAID")"
check_eq "delete: audited" 1 "$(audits ca delete "$RSAID")"
check_eq "an inactive parent takes no child: 409" 409 \
    "$(as admin POST "$CAS/$KUID/deactivate" >/dev/null
	mkca admin "$(jq -nc --argjson p "$KUID" '{name: "it-z", kind: "issuing",
	parent_id: $p, key_type: "ec-p256", subject: "CN=z", validity_days: 1}')")"
as admin POST "$CAS/$RID/deactivate" >/dev/null
as admin GET "$CAS/$RID" >/dev/null
check_eq "delete of a CA with children: 409" 409 \
    "$(as admin DELETE "$CAS/$RID" -H "If-Match: $(etag)")"
check_eq "it is still there" 200 "$(as admin GET "$CAS/$RID")"
check_eq "activate again: 200, active" "200 active" \
    "$(as admin POST "$CAS/$RID/activate") $(jbody .status)"

# --- CRLs -------------------------------------------------------------------------
# Revoked certificates of the issuing CA, as helper rows: the CRL is built
# from the certificates table whatever made them.
S1=4a$(openssl rand -hex 15)
S2=4b$(openssl rand -hex 15)
S3=4c$(openssl rand -hex 15)
S4=4d$(openssl rand -hex 15)
fake() { # SERIAL STATUS REASON NOT_AFTER INVALIDITY
	db_sql "INSERT INTO certificates (ca_id, serial, fingerprint, subject,
	    not_before, not_after, status, revocation_reason, revoked_at,
	    invalidity_date, cert_der) VALUES ($IID, UNHEX('$1'),
	    UNHEX(SHA2('$1', 256)), 'CN=fake', NOW() - INTERVAL 2 YEAR, $4,
	    '$2', $3, IF($3 IS NULL, NULL, NOW(6) - INTERVAL 1 HOUR), $5, 0x3000)"
}
fake "$S1" revoked 1 "NOW() + INTERVAL 1 YEAR" "'2024-01-02 03:04:05'"
fake "$S2" revoked 0 "NOW() + INTERVAL 1 YEAR" NULL
fake "$S3" revoked 1 "NOW() - INTERVAL 1 YEAR" NULL
fake "$S4" active NULL "NOW() + INTERVAL 1 YEAR" NULL
as admin GET "$CAS/$IID" >/dev/null
num=$(jbody .crl_number)
check_eq "regenerate the CRL: 200" 200 "$(as admin POST "$CAS/$IID/crl")"
check_eq "regenerate: the number goes up" $((num + 1)) "$(jbody .crl_number)"
check_eq "regenerate: audited" 1 "$(audits ca regenerate_crl "$IID")"
check_eq "regenerate is an update: the tenant operator's 403" 403 \
    "$(as to1 POST "$CAS/$TID/crl")"

check_eq "CRL over plain HTTP: 200" 200 \
    "$(plain_to "/pki/crl/$IID.crl" "$T_TMP/iss.crl")"
check_eq "CRL: application/pkix-crl" application/pkix-crl "$(header Content-Type)"
check_match "CRL: cacheable until its nextUpdate" 'GMT$' "$(header Expires)"
check_match "CRL: max-age up to its nextUpdate (12 hours)" \
    '^max-age=4(3[0-1][0-9]{2}|3200), public' "$(header Cache-Control)"
check_match "CRL: openssl crl -verify against the issuing CA" 'verify OK' \
    "$(openssl crl -inform DER -in "$T_TMP/iss.crl" -CAfile "$T_TMP/issuing.pem" \
	-noout 2>&1)"
ctext=$(openssl crl -inform DER -in "$T_TMP/iss.crl" -noout -text)
check_match "CRL: version 2" 'Version 2 \(0x1\)' "$ctext"
check_match "CRL: its crlNumber" "X509v3 CRL Number: $((num + 1)) " \
    "$(printf '%s\n' "$ctext" | tr -s ' \n' ' ')"
check_eq "CRL: the authority key identifier is the CA's key identifier" \
    "$(openssl x509 -in "$T_TMP/issuing.pem" -noout -ext subjectKeyIdentifier |
	tail -n 1 | tr -d ' ')" \
    "$(printf '%s\n' "$ctext" | grep -A1 'Authority Key Identifier' |
	tail -n 1 | tr -d ' ' | sed 's/^keyid://')"
check_eq "CRL: the issuer is the issuing CA" \
    "$(openssl x509 -in "$T_TMP/issuing.pem" -noout -subject | sed 's/^subject=//')" \
    "$(openssl crl -inform DER -in "$T_TMP/iss.crl" -noout -issuer | sed 's/^issuer=//')"
check_eq "CRL: nextUpdate 12 hours after thisUpdate" 43200 \
    "$(($(date -d "$(openssl crl -inform DER -in "$T_TMP/iss.crl" -noout -nextupdate | sed 's/^nextUpdate=//')" +%s) -
	$(date -d "$(openssl crl -inform DER -in "$T_TMP/iss.crl" -noout -lastupdate | sed 's/^lastUpdate=//')" +%s)))"
entry() { # SERIAL: the CRL's lines for that serial, on one line
	printf '%s\n' "$ctext" | awk -v s="$(printf '%s' "$1" | tr 'a-f' 'A-F')" '
		/Serial Number:/ { on = index($0, s) > 0 }
		on { printf "%s ", $0 }'
}
check_match "CRL: a key compromise with its reason and invalidity date" \
    'Key Compromise.*Invalidity Date: *Jan +2 03:04:05 2024 GMT' \
    "$(entry "$S1" | tr -s ' ')"
check_match "CRL: an unspecified revocation is listed" 'Revocation Date' \
    "$(entry "$S2")"
check_eq "CRL: without a reasonCode entry extension" 0 \
    "$(entry "$S2" | grep -c 'Reason Code')"
check_eq "CRL: an expired revoked certificate is left out" "" "$(entry "$S3")"
check_eq "CRL: an active certificate is not listed" "" "$(entry "$S4")"
check_eq "CRL over HTTPS too: the same" "$(sha256sum <"$T_TMP/iss.crl")" \
    "$(curl -sS --cacert "$ESTUARY_TLS_CA" "$ESTUARY_URL/pki/crl/$IID.crl" |
	sha256sum)"
check_eq "CRL through the API: 200" 200 "$(as admin GET "$CAS/$IID/crl")"
check_eq "CRL through the API: the same" "$(sha256sum <"$T_TMP/iss.crl")" \
    "$(sha256sum <"$T_TMP/body")"

check_eq "CA certificate over plain HTTP: 200" 200 \
    "$(plain_to "/pki/ca/$IID.crt" "$T_TMP/iss.crt")"
check_eq "CA certificate: application/pkix-cert" application/pkix-cert \
    "$(header Content-Type)"
check_eq "CA certificate: the issuing CA" "$(fp "$T_TMP/issuing.pem")" \
    "$(fp "$T_TMP/iss.crt" DER)"
check_eq "an unknown CA's CRL: 404" 404 "$(plain /pki/crl/999999999.crl)"
check_eq "a malformed CRL name: 404" 404 "$(plain /pki/crl/x1.crl)"
check_eq "a pending CA's certificate: 404" 404 "$(plain "/pki/ca/$PID.crt")"
if [ "${ESTUARY_IPV6:-}" = yes ]; then
	check_eq "CRL over plain HTTP on [::1] too" 200 \
	    "$(curl -sS -o /dev/null -w '%{http_code}' \
		"http://[::1]:${ESTUARY_PKI_URL##*:}/pki/crl/$IID.crl")"
fi
check_eq "plain HTTP: no API" 404 "$(plain /api/v1/health)"
check_eq "plain HTTP: no EST" 404 "$(plain /.well-known/est/cacerts)"
check_eq "plain HTTP: no portal" 404 "$(plain /)"

# A CRL past its nextUpdate is made again when fetched.
db_sql "UPDATE cas SET crl_next_update = NOW() - INTERVAL 1 MINUTE WHERE id = $KUID"
before=$(db_sql "SELECT crl_number FROM cas WHERE id = $KUID")
check_eq "a late CRL: 200" 200 "$(plain_to "/pki/crl/$KUID.crl" "$T_TMP/ku.crl")"
check_eq "a late CRL is made again on the way" $((before + 1)) \
    "$(db_sql "SELECT crl_number FROM cas WHERE id = $KUID")"
check_match "the new one verifies" 'verify OK' \
    "$(openssl crl -inform DER -in "$T_TMP/ku.crl" -CAfile "$T_TMP/ku.pem" \
	-noout 2>&1)"

# --- the web server's client-CA file --------------------------------------------
if [ "${ESTUARY_PRIVSEP:-}" = yes ]; then
	check_match "client-CA file: estuary-api says it cannot write it" \
	    'not writable by estuary-api' \
	    "$(cat "$ESTUARY_VAR/log/api.log" 2>/dev/null)"
else
	check_match "client-CA file: holds the new root" "IT Root EC $RUN" \
	    "$(openssl crl2pkcs7 -nocrl -certfile "$(conf tls_client_ca_file)" |
		openssl pkcs7 -print_certs -noout)"
fi

finish
