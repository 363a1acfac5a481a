#!/bin/bash
#
# The OCSP responder (pki/ocsp.h, fcgi/pki_ocsp.h) over the plain-HTTP
# /pki/ listener, checked with `openssl ocsp`: a certificate issued through
# the API is good, then revoked with its reason after the API revokes it;
# a serial the CA never issued is unknown; the GET form (base64url, and
# base64 URL-encoded); the delegated responder of the CA API (its
# certificate in the response, verified up to the root; replaced, then
# removed) with its audit rows and permissions; and the error answers
# (malformedRequest for garbage, unauthorized for an unknown or inactive CA
# and for a certificate of another CA, 415 for a wrong media type).  Names
# carry a per-run suffix so that it can run again on the same instance.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PKI=${ESTUARY_PKI_URL:?ESTUARY_PKI_URL is not set}
ROOT="OCSP Root $RUN"
ISS="OCSP Issuing $RUN"
OTHER="OCSP Other $RUN"
PW="pw-$RUN-Secret"
D=$T_TMP

# ocsp_status FILE: the status line openssl printed for FILE ("good"...).
ocsp_status() {
	sed -n "s|^$1: ||p" "$D/ocsp.out" | head -n 1
}

# ask CERT-ARGS...: openssl ocsp against the issuing CA's responder over
# plain HTTP, trusting only the root; output in $D/ocsp.out.
ask() {
	openssl ocsp -issuer "$D/iss.pem" -CAfile "$D/root.pem" \
	    -verify_other "$D/iss.pem" -url "$PKI/pki/ocsp/$IID" -resp_text \
	    "$@" >"$D/ocsp.out" 2>&1
}

# responder_id: the byKey responderID openssl printed (upper-case hex).
responder_id() {
	sed -n 's/^ *Responder Id: *//p' "$D/ocsp.out" | head -n 1 |
	    tr -d ' :' | tr a-f A-F
}

# keyid CERT: the subject key identifier of CERT, which our CAs make as
# the SHA-1 of the key's bits, the same hash as a byKey responderID.
keyid() {
	openssl x509 -in "$1" -noout -ext subjectKeyIdentifier 2>/dev/null |
	    sed -n '2p' | tr -d ' :' | tr a-f A-F
}

# resp_status FILE: the OCSPResponseStatus of a DER response, by name
# ("successful", "malformedRequest"...).  openssl prints a failure as
# "Responder Error: malformedrequest (1)".
resp_status() {
	openssl ocsp -respin "$1" -resp_text -noverify 2>/dev/null |
	    sed -n 's/^OCSP Response Status: \([a-zA-Z]*\).*/\1/p
		s/^Responder Error: .*(\([0-9]*\))$/\1/p' |
	    sed 's/^1$/malformedRequest/; s/^2$/internalError/;
		s/^3$/tryLater/; s/^5$/sigRequired/; s/^6$/unauthorized/'
}

# nonce FILE -req_text|-resp_text [-reqin|-respin]: the nonce openssl
# prints for a DER request or response.
nonce() {
	openssl ocsp "$3" "$1" "$2" -noverify 2>/dev/null |
	    grep -A1 'OCSP Nonce' | tail -n 1 | tr -d ' '
}

# post_req URL FILE [CONTENT-TYPE]: POSTs a DER request; the response goes
# to $D/resp.der; prints the HTTP status.
post_req() {
	curl -sS -o "$D/resp.der" -D "$D/resp.hdr" -w '%{http_code}' \
	    -H "Content-Type: ${3:-application/ocsp-request}" \
	    --data-binary "@$2" "$1"
}

# resp_header NAME: a header of the last post_req or get_req.
resp_header() {
	awk -v n="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" -F': ' '
		{ k = tolower($1) }
		k == n { sub(/\r$/, "", $2); print $2; exit }' "$D/resp.hdr"
}

# get_req PATH-SEGMENT: GET /pki/ocsp/IID/SEGMENT; response as post_req.
get_req() {
	curl -sS -o "$D/resp.der" -D "$D/resp.hdr" -w '%{http_code}' \
	    "$PKI/pki/ocsp/$IID/$1"
}

# --- setup: a root, an issuing CA under it, a template, a leaf ----------------
check_eq "setup: admin logs in" 200 \
    "$(session admin "$ESTUARY_ADMIN_USER" "$ESTUARY_ADMIN_PASSWORD")"
{ ctl ca create --name "$ROOT" --subject "CN=$ROOT,O=Estuary Test" \
    --key-type ec-p256 --days 365 --out "$D/root.pem" >/dev/null &&
    ctl ca create --name "$ISS" --subject "CN=$ISS,O=Estuary Test" \
    --key-type ec-p384 --days 200 --parent "$ROOT" \
    --out "$D/iss.pem" >/dev/null &&
    ctl ca create --name "$OTHER" --subject "CN=$OTHER" \
    --key-type ec-p256 --days 100 --out "$D/other.pem" >/dev/null; } ||
    { echo "setup: cannot create the CAs"; exit 1; }
RID=$(db_sql "SELECT id FROM cas WHERE name = $(sqlstr "$ROOT")")
IID=$(db_sql "SELECT id FROM cas WHERE name = $(sqlstr "$ISS")")
XID=$(db_sql "SELECT id FROM cas WHERE name = $(sqlstr "$OTHER")")
check_match "setup: CA ids" '^[0-9]+ [0-9]+ [0-9]+$' "$RID $IID $XID"

tpl=$(jq -nc --arg n "ocsp-leaf-$RUN" --argjson ca "$IID" '{name: $n,
    type: "general", ca_id: $ca, validity_days: 30, key_types: ["ec-p256"],
    key_usage: ["digitalSignature"], extended_key_usage: ["clientAuth"],
    subject_fields: [{attribute: "CN", rule: "required"}]}')
check_eq "setup: template" 201 "$(as admin POST /api/v1/cert-templates "$tpl")"
TPL=$(jbody .id)

# issue NAME: a P-256 leaf issued through the API into $D/NAME.pem; prints
# the certificate's id.
issue() {
	local csr code

	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$D/$1.key" -subj "/CN=$1-$RUN" -out "$D/$1.csr" \
	    2>/dev/null || return 1
	csr=$(jq -nc --argjson t "$TPL" --rawfile c "$D/$1.csr" \
	    '{template_id: $t, csr: $c}')
	code=$(as admin POST /api/v1/certificates "$csr")
	[ "$code" = 201 ] || { echo "issue $1: $code $(cat "$T_TMP/body")" >&2; return 1; }
	jbody '.pem // .certificate' >"$D/$1.pem"
	jbody .id
}
LEAF=$(issue leaf) || { echo "setup: cannot issue a certificate"; exit 1; }
issue leaf2 >/dev/null || { echo "setup: cannot issue a second certificate"; exit 1; }
check "setup: the leaf verifies up to the root" \
    openssl verify -CAfile "$D/root.pem" -untrusted "$D/iss.pem" "$D/leaf.pem"
check_match "the leaf names this responder in its AIA" \
    "OCSP - URI:$PKI/pki/ocsp/$IID\$" \
    "$(openssl x509 -in "$D/leaf.pem" -noout -ext authorityInfoAccess 2>/dev/null)"

# --- good, revoked, unknown (POST, signed by the CA) --------------------------
check "good: openssl ocsp verifies the response" ask -cert "$D/leaf.pem"
check_eq "good: status" good "$(ocsp_status "$D/leaf.pem")"
check_match "good: the response is verified" 'Response verify OK' \
    "$(cat "$D/ocsp.out")"
check_match "good: nonce echoed (openssl checks it)" 'Response Extensions:' \
    "$(cat "$D/ocsp.out")"
check_match "good: a nextUpdate" 'Next Update:' "$(cat "$D/ocsp.out")"
check_eq "good: signed by the CA (responderID: its key)" "$(keyid "$D/iss.pem")" \
    "$(responder_id)"
check "two certificates in one request, SHA-256 CertIDs" \
    ask -sha256 -cert "$D/leaf.pem" -cert "$D/leaf2.pem"
check_eq "two certificates: both good" "good good" \
    "$(ocsp_status "$D/leaf.pem") $(ocsp_status "$D/leaf2.pem")"

check_match "revoke through the API" '^20[04]$' \
    "$(as admin POST "/api/v1/certificates/$LEAF/revoke" '{"reason": "keyCompromise"}')"
check "revoked: openssl ocsp verifies the response" ask -cert "$D/leaf.pem"
check_eq "revoked: status" revoked "$(ocsp_status "$D/leaf.pem")"
check_match "revoked: reason keyCompromise" 'Reason: keyCompromise' \
    "$(cat "$D/ocsp.out")"
check_match "revoked: revocation time" 'Revocation Time:' "$(cat "$D/ocsp.out")"
check "the other certificate is still good" ask -cert "$D/leaf2.pem"
check_eq "the other certificate: good" good "$(ocsp_status "$D/leaf2.pem")"

check "unknown serial: answered" ask -serial 0x7e57000000000001
check_eq "unknown serial: status" unknown "$(ocsp_status 0x7e57000000000001)"

# --- GET (RFC 6960 A.1) ---------------------------------------------------------
openssl ocsp -issuer "$D/iss.pem" -cert "$D/leaf2.pem" -no_nonce \
    -reqout "$D/req.der" >/dev/null 2>&1
b64url=$(base64 -w0 <"$D/req.der" | tr '+/' '-_' | tr -d '=')
check_eq "GET base64url: 200" 200 "$(get_req "$b64url")"
check_eq "GET: Content-Type" application/ocsp-response \
    "$(resp_header Content-Type)"
check "GET: the response verifies" openssl ocsp -respin "$D/resp.der" \
    -issuer "$D/iss.pem" -cert "$D/leaf2.pem" -CAfile "$D/root.pem" \
    -verify_other "$D/iss.pem" -no_nonce
check_match "GET: good" 'leaf2.pem: good' "$(openssl ocsp -respin "$D/resp.der" \
    -issuer "$D/iss.pem" -cert "$D/leaf2.pem" -CAfile "$D/root.pem" \
    -verify_other "$D/iss.pem" -no_nonce 2>&1)"
check_match "GET: cacheable until nextUpdate (Expires)" ' GMT$' \
    "$(resp_header Expires)"
check_match "GET: Last-Modified" ' GMT$' "$(resp_header Last-Modified)"
# With a nonce, through base64url: the nonce comes back.
openssl ocsp -issuer "$D/iss.pem" -cert "$D/leaf2.pem" -nonce \
    -reqout "$D/req2.der" >/dev/null 2>&1
b64url=$(base64 -w0 <"$D/req2.der" | tr '+/' '-_' | tr -d '=')
check_eq "GET with a nonce: 200" 200 "$(get_req "$b64url")"
check_match "GET with a nonce: echoed" '^0410[0-9A-F]{32}$' \
    "$(nonce "$D/resp.der" -resp_text -respin)"
check_eq "GET with a nonce: the request's" \
    "$(nonce "$D/req2.der" -req_text -reqin)" \
    "$(nonce "$D/resp.der" -resp_text -respin)"
# Plain base64 with "+" and "=" URL-encoded.  The CertID of a given CA is
# the same in every request, so draw throwaway issuers until one gives a
# request without "/" (an encoded slash is the web path layer's to
# decode): its answer, unauthorized, shows the request was read.
ok=
for _ in $(seq 1 80); do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$D/tmp.key" -subj /CN=tmp -days 1 -out "$D/tmp.pem" \
	    >/dev/null 2>&1
	openssl ocsp -issuer "$D/tmp.pem" -serial 1 -no_nonce \
	    -reqout "$D/req3.der" >/dev/null 2>&1
	b64=$(base64 -w0 <"$D/req3.der")
	case $b64 in */*) continue ;; esac
	case $b64 in *+*|*=*) ;; *) continue ;; esac
	enc=$(printf '%s' "$b64" | sed 's/+/%2B/g; s/=/%3D/g')
	[ "$(get_req "$enc")" = 200 ] &&
	    [ "$(resp_status "$D/resp.der")" = unauthorized ] && ok=1
	break
done
check_eq "GET base64 with %2B and %3D: read (unauthorized issuer)" 1 "$ok"
check_eq "GET garbage: 200" 200 "$(get_req 'AAAA')"
check_eq "GET garbage: malformedRequest" malformedRequest \
    "$(resp_status "$D/resp.der")"

# --- errors -------------------------------------------------------------------
printf 'not an OCSP request' >"$D/garbage"
check_eq "POST garbage: 200" 200 "$(post_req "$PKI/pki/ocsp/$IID" "$D/garbage")"
check_eq "POST garbage: malformedRequest" malformedRequest \
    "$(resp_status "$D/resp.der")"
check_eq "POST garbage: Content-Type" application/ocsp-response \
    "$(resp_header Content-Type)"
check_eq "POST with another media type: 415" 415 \
    "$(post_req "$PKI/pki/ocsp/$IID" "$D/req.der" application/octet-stream)"
args=()
for i in $(seq 1 17); do args+=(-serial "$i"); done
openssl ocsp -issuer "$D/iss.pem" "${args[@]}" -reqout "$D/req17.der" \
    >/dev/null 2>&1
check_eq "17 certificates: 200" 200 "$(post_req "$PKI/pki/ocsp/$IID" "$D/req17.der")"
check_eq "17 certificates: malformedRequest" malformedRequest \
    "$(resp_status "$D/resp.der")"
check_eq "unknown CA: 200" 200 "$(post_req "$PKI/pki/ocsp/999999999" "$D/req.der")"
check_eq "unknown CA: unauthorized" unauthorized "$(resp_status "$D/resp.der")"
check_eq "a certificate of another CA: 200" 200 \
    "$(post_req "$PKI/pki/ocsp/$XID" "$D/req.der")"
check_eq "a certificate of another CA: unauthorized" unauthorized \
    "$(resp_status "$D/resp.der")"
check_eq "the root answers for the issuing CA's certificate" 0 \
    "$(openssl ocsp -issuer "$D/root.pem" -cert "$D/iss.pem" \
	-CAfile "$D/root.pem" -url "$PKI/pki/ocsp/$RID" >"$D/ocsp.out" 2>&1;
	echo $?)"
check_eq "the issuing CA's certificate: good" good "$(ocsp_status "$D/iss.pem")"
check_eq "not under /pki/ocsp: 404" 404 \
    "$(curl -sS -o /dev/null -w '%{http_code}' "$PKI/pki/ocsp")"

# --- the delegated responder ----------------------------------------------------
R=/api/v1/cas/$IID/ocsp-responder
check_eq "responder: none yet (404)" 404 "$(as admin GET "$R")"
check_eq "responder: not without authentication (401)" 401 \
    "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$ESTUARY_TLS_CA" \
	-X POST -H 'Content-Length: 0' "$ESTUARY_URL$R")"
check_eq "responder: bad key type (422)" 422 \
    "$(as admin POST "$R" '{"key_type": "dsa-1024"}')"
check_eq "responder: 422 names the field" key_type "$(jbody .error.field)"
check_eq "responder: validity over 365 days (422)" 422 \
    "$(as admin POST "$R" '{"validity_days": 400}')"
check_eq "responder: nothing made by refusals" 0 \
    "$(audits ca set_ocsp_responder "$IID")"
etag_ca=$( as admin GET "/api/v1/cas/$IID" >/dev/null; etag)
check_eq "responder: stale If-Match (412)" 412 \
    "$(as admin POST "$R" '{}' -H 'If-Match: "stale"')"
check_eq "responder: create (201)" 201 \
    "$(as admin POST "$R" '{"validity_days": 10}' -H "If-Match: $etag_ca")"
check_eq "responder: Location" "$R" "$(header Location)"
check_eq "responder: the CA's key type by default" ec-p384 "$(jbody .key_type)"
jbody .certificate >"$D/responder.pem"
SERIAL1=$(jbody .serial)
check_match "responder: its subject" "CN=$ISS OCSP Responder" "$(jbody .subject)"
check "responder: certified by the issuing CA" openssl verify \
    -CAfile "$D/root.pem" -untrusted "$D/iss.pem" -purpose ocsphelper \
    "$D/responder.pem"
check_match "responder: OCSP Signing, no check" \
    'OCSP Signing.*OCSP No Check|OCSP No Check.*OCSP Signing' \
    "$(openssl x509 -in "$D/responder.pem" -noout -text | tr '\n' ' ')"
nb=$(date -d "$(openssl x509 -in "$D/responder.pem" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$D/responder.pem" -noout -enddate | cut -d= -f2)" +%s)
check_eq "responder: valid 10 days" 864000 "$((na - nb))"
check_eq "responder: audited" 1 "$(audits ca set_ocsp_responder "$IID")"
check_eq "responder: recorded among the CA's certificates" 1 \
    "$(db_sql "SELECT COUNT(*) FROM certificates WHERE ca_id = $IID
	AND LOWER(HEX(serial)) = '$SERIAL1' AND status = 'active'")"
check_eq "responder: read back" 200 "$(as admin GET "$R")"
check_eq "responder: same serial" "$SERIAL1" "$(jbody .serial)"

check "delegated: openssl ocsp verifies the response" ask -cert "$D/leaf2.pem"
check_eq "delegated: good" good "$(ocsp_status "$D/leaf2.pem")"
check_match "delegated: the responder's certificate is in the response" \
    "CN *= *$ISS OCSP Responder" "$(cat "$D/ocsp.out")"
check_match "delegated: verified" 'Response verify OK' "$(cat "$D/ocsp.out")"
check_eq "delegated: responderID is the responder's key" \
    "$(keyid "$D/responder.pem")" "$(responder_id)"
check "delegated: revoked still revoked" ask -cert "$D/leaf.pem"
check_eq "delegated: revoked" revoked "$(ocsp_status "$D/leaf.pem")"

check_eq "responder: replace with P-256 (201)" 201 \
    "$(as admin POST "$R" '{"key_type": "ec-p256"}')"
SERIAL2=$(jbody .serial)
check_eq "responder: P-256" ec-p256 "$(jbody .key_type)"
jbody .certificate >"$D/responder2.pem"
nb=$(date -d "$(openssl x509 -in "$D/responder2.pem" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$D/responder2.pem" -noout -enddate | cut -d= -f2)" +%s)
check_eq "responder: 30 days by default" 2592000 "$((na - nb))"
check_eq "responder: the replaced one is revoked (superseded)" "revoked 4" \
    "$(db_sql "SELECT status, revocation_reason FROM certificates
	WHERE ca_id = $IID AND LOWER(HEX(serial)) = '$SERIAL1'" | tr '\t' ' ')"
check "responder: ... and in the CRL" sh -c \
    "curl -sSf '$PKI/pki/crl/$IID.crl' -o '$D/crl.der' &&
     openssl crl -inform DER -in '$D/crl.der' -noout -text |
     grep -qi 'Serial Number: $SERIAL1'"
check "replaced: the new responder signs" ask -cert "$D/leaf2.pem"
check_eq "replaced: responderID is the new key" \
    "$(keyid "$D/responder2.pem")" "$(responder_id)"
check_eq "replaced: good" good "$(ocsp_status "$D/leaf2.pem")"

# Permissions: a tenant admin may not change a global CA.
T1="OCSP T1 $RUN"
check_eq "setup: tenant" 201 \
    "$(as admin POST /api/v1/tenants "$(jq -nc --arg n "$T1" '{name: $n}')")"
TID1=$(jbody .id)
check_eq "setup: tenant admin" 201 "$(as admin POST /api/v1/users \
    "$(jq -nc --arg u "ocsp-ta-$RUN" --arg p "$PW" --argjson t "$TID1" \
	'{username: $u, password: $p, role: "tenant_admin", tenant_id: $t}')")"
check_eq "setup: tenant admin logs in" 200 \
    "$(session ta "ocsp-ta-$RUN" "$PW")"
code=$(as ta DELETE "$R")
check_match "tenant admin: may not remove a global CA's responder" \
    '^(403|404)$' "$code"
check_eq "tenant admin: refusal audited" 1 \
    "$(audits ca delete_ocsp_responder "$IID" denied)"
check_eq "tenant admin: the responder is still there" 200 "$(as admin GET "$R")"

check_eq "responder: remove (204)" 204 "$(as admin DELETE "$R")"
check_eq "responder: removal audited" 1 \
    "$(audits ca delete_ocsp_responder "$IID")"
check_eq "responder: its certificate revoked (cessationOfOperation)" \
    "revoked 5" "$(db_sql "SELECT status, revocation_reason FROM certificates
	WHERE ca_id = $IID AND LOWER(HEX(serial)) = '$SERIAL2'" | tr '\t' ' ')"
check_eq "responder: gone (404)" 404 "$(as admin GET "$R")"
check_eq "responder: removing again (404)" 404 "$(as admin DELETE "$R")"
check "CA-signed again: verified" ask -cert "$D/leaf2.pem"
check_eq "CA-signed again: responderID is the CA's key" \
    "$(keyid "$D/iss.pem")" "$(responder_id)"
check_eq "CA-signed again: good" good "$(ocsp_status "$D/leaf2.pem")"
check_fails "CA-signed again: no responder certificate in the response" \
    grep -q "OCSP Responder" "$D/ocsp.out"

# --- an inactive CA does not answer -------------------------------------------
check_eq "deactivate the other CA" 200 \
    "$(as admin POST "/api/v1/cas/$XID/deactivate")"
openssl ocsp -issuer "$D/other.pem" -serial 1 -no_nonce \
    -reqout "$D/reqx.der" >/dev/null 2>&1
check_eq "inactive CA: 200" 200 "$(post_req "$PKI/pki/ocsp/$XID" "$D/reqx.der")"
check_eq "inactive CA: unauthorized" unauthorized "$(resp_status "$D/resp.der")"
check_eq "inactive CA: no responder to make (409)" 409 \
    "$(as admin POST "/api/v1/cas/$XID/ocsp-responder")"

finish
