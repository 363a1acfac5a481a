#!/bin/bash
#
# Certificates over HTTPS (fcgi/api_cert.h): issuance from EC and RSA CSRs
# (PEM and base64 DER) and with server-generated keys, every issued
# certificate verified with `openssl verify -CAfile root -untrusted
# issuing` and its extensions read back with OpenSSL; the Wi-SUN FAN
# template; the template's rules (422 naming "key" or the subject field);
# malformed, truncated, wrongly signed, oversized CSRs and one with 10,000
# attributes refused with nothing written; downloads (PEM, DER, PKCS#7,
# chain); PKCS#12 until the key's retention date, 410 after it; the list,
# its filters and the renewal report; revocation with the new CRL; scope
# and permissions; the audit rows.  Names carry a per-run suffix so that
# it can run again on the same instance.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PW="pw-$RUN-Secret"
CERTS=/api/v1/certificates
TPL=/api/v1/cert-templates

count() {
	db_sql "SELECT COUNT(*) FROM certificates"
}

# csr NAME KEYSPEC SUBJECT [openssl req options...]: a key and CSR in
# $T_TMP/NAME.key and NAME.csr (PEM).
csr() {
	local name=$1 spec=$2 subj=$3

	shift 3
	if [ "$spec" = ec ]; then
		set -- -pkeyopt ec_paramgen_curve:P-256 "$@"
	fi
	openssl req -new -newkey "$spec" -nodes -keyout "$T_TMP/$name.key" \
	    -subj "$subj" -out "$T_TMP/$name.csr" "$@" 2>/dev/null
}

# issue WHO TEMPLATE CSR-FILE [JQ-EXTRA]: POST the CSR (PEM text).
issue() {
	as "$1" POST $CERTS "$(jq -nc --argjson t "$2" --rawfile c "$3" \
	    "{template_id: \$t, csr: \$c} ${4:+| . + $4}")"
}

# generate WHO JSON: POST /generate.
generate() {
	as "$1" POST $CERTS/generate "$2"
}

# verify FILE: openssl verify of a PEM certificate against the EC chain.
verify() {
	openssl verify -CAfile "$T_TMP/root.pem" \
	    -untrusted "$T_TMP/issuing.pem" "$1"
}

# save FILE: the "pem" member of the last answer into FILE.
save() {
	jbody .pem >"$1"
}

# fetch FILE WHO METHOD PATH [JSON] [curl options...]: as "as", and the
# body of the answer is copied to FILE.  Prints the status.
fetch() {
	local file=$1 code

	shift
	code=$(as "$@")
	cp "$T_TMP/body" "$file"
	printf '%s' "$code"
}

# post_file WHO PATH FILE: POST the JSON in FILE (too large for argv).
post_file() {
	as "$1" POST "$2" -H 'Content-Type: application/json' \
	    --data-binary "@$3"
}

# text FILE: openssl's reading of a PEM certificate.
text() {
	openssl x509 -in "$1" -noout -text 2>&1
}

admin_session

# --- setup: tenants, an organization, users --------------------------------------
check_eq "setup: tenant 1" 201 "$(tenant_post admin "Cert T1 $RUN")"
TID1=$(jbody .id)
check_eq "setup: tenant 2" 201 "$(tenant_post admin "Cert T2 $RUN")"
TID2=$(jbody .id)
check_eq "setup: organization in tenant 1" 201 \
    "$(org_post admin "Cert O1 $RUN" "$TID1")"
OID1=$(jbody .id)
mkuser() { # WHO ROLE TENANT [ORG]
	user_post "crt-$1-$RUN" "$PW" "$2" "$3" "$4"
}
check_eq "setup: tenant operator 1" 201 "$(mkuser to1 tenant_operator "$TID1")"
check_eq "setup: tenant auditor 1" 201 "$(mkuser tu1 tenant_auditor "$TID1")"
check_eq "setup: organization operator 1" 201 \
    "$(mkuser oo1 org_operator "$TID1" "$OID1")"
check_eq "setup: tenant admin 2" 201 "$(mkuser ta2 tenant_admin "$TID2")"
for who in to1 tu1 oo1 ta2; do
	check_eq "setup: $who logs in" 200 "$(session $who "crt-$who-$RUN" "$PW")"
done

# --- setup: CAs in the HSM through the API ----------------------------------------
check_eq "setup: EC root CA" 201 "$(ca_post "Cert Root" root ec-p256 3650)"
ROOT=$(jbody .id)
check_eq "setup: EC issuing CA" 201 \
    "$(ca_post "Cert Issuing" issuing ec-p256 1825 "$ROOT")"
ISS=$(jbody .id)
check_eq "setup: RSA issuing CA under the EC root" 201 \
    "$(ca_post "Cert RSA Issuing" issuing rsa-2048 1825 "$ROOT")"
RISS=$(jbody .id)
check_eq "setup: root PEM" 200 \
    "$(fetch "$T_TMP/root.pem" admin GET "/api/v1/cas/$ROOT/download?format=pem")"
check_eq "setup: issuing PEM" 200 \
    "$(fetch "$T_TMP/issuing.pem" admin GET "/api/v1/cas/$ISS/download?format=pem")"
check_eq "setup: RSA issuing PEM" 200 \
    "$(fetch "$T_TMP/rissuing.pem" admin GET "/api/v1/cas/$RISS/download?format=pem")"

# --- setup: templates ------------------------------------------------------------
DEVICE=$(jq -nc --arg n "Cert Device $RUN" --argjson ca "$ISS" '{
	name: $n, type: "general", ca_id: $ca, validity_days: 30,
	key_types: ["ec-p256", "rsa-2048"], server_keygen: true,
	keygen_key_type: "ec-p256", digest: "sha256",
	key_usage: ["digitalSignature"], extended_key_usage: ["clientAuth"],
	basic_constraints: {include: true, ca: false, path_len: null,
	    critical: true},
	crl_distribution_point: true, ocsp: true, ca_issuers: true,
	key_retention_days: 2,
	subject_fields: [
		{attribute: "CN", rule: "required", max_length: 64},
		{attribute: "O", rule: "fixed", default_value: "Estuary IT"}
	],
	san_fields: [{type: "dns", rule: "optional", max_length: 253}]}')
check_eq "setup: device template" 201 "$(as admin POST $TPL "$DEVICE")"
TD=$(jbody .id)
check_eq "setup: template without key retention" 201 \
    "$(as admin POST $TPL "$(jq -c --arg n "Cert NoKeep $RUN" \
	'.name = $n | .key_retention_days = null' <<<"$DEVICE")")"
TN=$(jbody .id)
check_eq "setup: RSA CA template" 201 \
    "$(as admin POST $TPL "$(jq -c --arg n "Cert RSA CA $RUN" --argjson ca "$RISS" \
	'.name = $n | .ca_id = $ca' <<<"$DEVICE")")"
TR=$(jbody .id)
check_eq "setup: tenant 1 template" 201 \
    "$(as admin POST $TPL "$(jq -c --arg n "Cert T1 $RUN" --argjson t "$TID1" \
	'.name = $n | .scope = "tenant" | .tenant_id = $t' <<<"$DEVICE")")"
TT1=$(jbody .id)
check_eq "setup: Wi-SUN FAN template" 201 \
    "$(as admin POST $TPL "$(jq -c --arg n "Cert Wi-SUN $RUN" --argjson ca "$ISS" \
	'.name = $n | .ca_id = $ca' "$ESTUARY_SRCDIR/docs/templates/wisun-fan.json")")"
TW=$(jbody .id)

# --- issuance from CSRs ----------------------------------------------------------
csr ec ec \
    "/CN=dev-ec-$RUN/O=Someone Else/OU=not in the template" \
    -addext "subjectAltName=DNS:dev-ec-$RUN.example.com"
code=$(issue admin "$TD" "$T_TMP/ec.csr")
check_eq "EC CSR: 201" 201 "$code"
EC=$(jbody .id)
save "$T_TMP/ec.pem"
check_eq "EC CSR: Location" "$CERTS/$EC" "$(header Location)"
check_eq "EC CSR: status active" active "$(jbody .status)"
check_eq "EC CSR: key type" ec-p256 "$(jbody .key_type)"
check_eq "EC CSR: key source" csr "$(jbody .key_source)"
check_match "EC CSR: 16-octet serial in hex" '^[4-7][0-9a-f]{31}$' "$(jbody .serial)"
check_eq "EC CSR: belongs to no tenant" null "$(jbody .tenant_id)"
check "EC CSR: chain verifies" verify "$T_TMP/ec.pem"
T=$(text "$T_TMP/ec.pem")
check_match "EC CSR: CN from the CSR, O fixed, no OU" \
    "Subject: CN ?= ?dev-ec-$RUN, O ?= ?Estuary IT$" "$(grep 'Subject:' <<<"$T")"
check_match "EC CSR: SAN from the CSR" "DNS:dev-ec-$RUN.example.com" "$T"
check_match "EC CSR: clientAuth" "TLS Web Client Authentication" "$T"
check_match "EC CSR: basicConstraints critical CA:FALSE" \
    "Basic Constraints: critical" "$T"
check_match "EC CSR: CRL distribution point" "URI:.*/pki/crl/$ISS\.crl" "$T"
check_match "EC CSR: OCSP" "OCSP - URI:.*/pki/ocsp/$ISS" "$T"
check_match "EC CSR: caIssuers" "CA Issuers - URI:.*/pki/ca/$ISS\.crt" "$T"
check_eq "EC CSR: the key is the CSR's" \
    "$(openssl pkey -in "$T_TMP/ec.key" -pubout)" \
    "$(openssl x509 -in "$T_TMP/ec.pem" -noout -pubkey)"
check_eq "EC CSR: one audit row" 1 "$(audits certificate issue "$EC")"

csr rsa rsa:2048 "/CN=dev-rsa-$RUN"
B64=$(openssl req -in "$T_TMP/rsa.csr" -outform DER | base64 -w 0)
code=$(as admin POST $CERTS "$(jq -nc --argjson t "$TD" --arg c "$B64" \
    '{template_id: $t, csr: $c}')")
check_eq "RSA CSR as base64 DER: 201" 201 "$code"
RSA=$(jbody .id)
save "$T_TMP/rsa.pem"
check_eq "RSA CSR: key type" rsa-2048 "$(jbody .key_type)"
check "RSA CSR: chain verifies" verify "$T_TMP/rsa.pem"

check_eq "RSA CA: 201" 201 "$(issue admin "$TR" "$T_TMP/rsa.csr")"
save "$T_TMP/rsa2.pem"
check "RSA CA: chain verifies" openssl verify -CAfile "$T_TMP/root.pem" \
    -untrusted "$T_TMP/rissuing.pem" "$T_TMP/rsa2.pem"
check_match "RSA CA: signed with sha256WithRSAEncryption" \
    "Signature Algorithm: sha256WithRSAEncryption" "$(text "$T_TMP/rsa2.pem")"

# Unknown OIDs: an attribute and an extension the template lacks.
csr unk ec \
    "/CN=unknown-$RUN/1.3.6.1.4.1.99999.5=surplus" \
    -addext "1.3.6.1.4.1.99999.7=ASN1:UTF8String:ignored"
check_eq "unknown OIDs in the CSR: issued" 201 "$(issue admin "$TD" "$T_TMP/unk.csr")"
save "$T_TMP/unk.pem"
T=$(text "$T_TMP/unk.pem")
check_eq "unknown OIDs: neither the attribute nor the extension copied" 0 \
    "$(grep -c '99999' <<<"$T")"

# --- refusals, nothing written -----------------------------------------------------
BEFORE=$(count)
csr big rsa:3072 "/CN=big-$RUN"
check_eq "RSA 3072 outside the key policy: 422" 422 \
    "$(issue admin "$TD" "$T_TMP/big.csr")"
check_eq "RSA 3072: the field is key" key "$(jbody .error.field)"
csr nocn ec "/O=Nameless"
check_eq "no CN: 422" 422 "$(issue admin "$TD" "$T_TMP/nocn.csr")"
check_eq "no CN: the field is subject.CN" subject.CN "$(jbody .error.field)"
check_eq "garbage: 400" 400 "$(as admin POST $CERTS "$(jq -nc --argjson t "$TD" \
    '{template_id: $t, csr: "bm90IGEgcmVxdWVzdA=="}')")"
head -c 300 "$T_TMP/ec.csr" >"$T_TMP/trunc.csr"
printf '\n-----END CERTIFICATE REQUEST-----\n' >>"$T_TMP/trunc.csr"
check_eq "truncated: 400" 400 "$(issue admin "$TD" "$T_TMP/trunc.csr")"
# Flip a bit near the end: the self-signature no longer verifies.
openssl req -in "$T_TMP/ec.csr" -outform DER >"$T_TMP/bad.der"
size=$(stat -c %s "$T_TMP/bad.der")
last=$(od -An -tu1 -j $((size - 2)) -N1 "$T_TMP/bad.der" | tr -d ' ')
printf "\\x$(printf '%02x' $((last ^ 1)))" |
    dd of="$T_TMP/bad.der" bs=1 seek=$((size - 2)) conv=notrunc 2>/dev/null
check_eq "wrong signature: 400" 400 "$(as admin POST $CERTS "$(jq -nc --argjson t "$TD" \
    --arg c "$(base64 -w 0 "$T_TMP/bad.der")" '{template_id: $t, csr: $c}')")"
head -c 100000 /dev/zero | base64 -w 0 |
    jq -Rc --argjson t "$TD" '{template_id: $t, csr: .}' >"$T_TMP/huge.json"
check_eq "oversized CSR: 413" 413 "$(post_file admin $CERTS "$T_TMP/huge.json")"
head -c 300000 /dev/zero | base64 -w 0 |
    jq -Rc --argjson t "$TD" '{template_id: $t, csr: .}' >"$T_TMP/huger.json"
check_eq "oversized body: 413" 413 "$(post_file admin $CERTS "$T_TMP/huger.json")"

# A request with 10,000 attributes (six octets each: a SEQUENCE of an empty
# OID and an empty SET), built by hand: the cheap walk counts them.
der_len() { # the DER length octets of N
	if [ "$1" -lt 128 ]; then printf "\\x$(printf %02x "$1")"
	elif [ "$1" -lt 256 ]; then printf "\\x81\\x$(printf %02x "$1")"
	else printf "\\x82\\x$(printf %02x $(($1 >> 8)))\\x$(printf %02x $(($1 & 255)))"
	fi
}
: >"$T_TMP/attrs"
for _ in $(seq 100); do printf '\x30\x04\x06\x00\x31\x00'; done >"$T_TMP/attr100"
for _ in $(seq 100); do cat "$T_TMP/attr100"; done >"$T_TMP/attrs"
openssl pkey -in "$T_TMP/ec.key" -pubout -outform DER >"$T_TMP/spki.der"
{
	printf '\x02\x01\x00\x30\x00'
	cat "$T_TMP/spki.der"
	printf '\xa0'
	der_len "$(stat -c %s "$T_TMP/attrs")"
	cat "$T_TMP/attrs"
} >"$T_TMP/cri.in"
{ printf '\x30'; der_len "$(stat -c %s "$T_TMP/cri.in")"; cat "$T_TMP/cri.in"; } >"$T_TMP/cri"
{
	cat "$T_TMP/cri"
	printf '\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02\x03\x03\x00\x30\x00'
} >"$T_TMP/req.in"
{ printf '\x30'; der_len "$(stat -c %s "$T_TMP/req.in")"; cat "$T_TMP/req.in"; } >"$T_TMP/many.der"
base64 -w 0 "$T_TMP/many.der" |
    jq -Rc --argjson t "$TD" '{template_id: $t, csr: .}' >"$T_TMP/many.json"
check_eq "10,000 attributes: 413" 413 "$(post_file admin $CERTS "$T_TMP/many.json")"
check_eq "a CSR with a subject member: 422" 422 \
    "$(issue admin "$TD" "$T_TMP/ec.csr" '{subject: {CN: "x"}}')"
check_eq "an unknown template: 422" 422 "$(issue admin 999999999 "$T_TMP/ec.csr")"
check_eq "an unknown template: the field" template_id "$(jbody .error.field)"
check_eq "validity beyond the CA: 422" 422 \
    "$(issue admin "$TD" "$T_TMP/ec.csr" '{validity_days: 4000}')"
check_eq "validity beyond the CA: the field" validity_days "$(jbody .error.field)"
check_eq "a bad valid_from: 422" 422 \
    "$(issue admin "$TD" "$T_TMP/ec.csr" '{valid_from: "yesterday"}')"
check_eq "wrong media type: 415" 415 "$(as admin POST $CERTS -H 'Content-Type: text/plain' \
    --data-binary "$(jq -nc --argjson t "$TD" --rawfile c "$T_TMP/ec.csr" '{template_id: $t, csr: $c}')")"
check_eq "malformed JSON: 400" 400 "$(as admin POST $CERTS '{"template_id": 1,')"
check_eq "refusals wrote no certificate" "$BEFORE" "$(count)"

# --- a later start and validity ---------------------------------------------------
FROM=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
check_eq "valid_from and validity_days: 201" 201 \
    "$(issue admin "$TD" "$T_TMP/ec.csr" "{valid_from: \"$FROM\", validity_days: 10}")"
check_eq "valid_from honoured" "${FROM%Z}.000000Z" "$(jbody .not_before)"
check_eq "validity_days honoured" \
    "$(date -u -d "${FROM} +10 days" +%Y-%m-%dT%H:%M:%S).000000Z" "$(jbody .not_after)"

# --- server-generated keys --------------------------------------------------------
code=$(generate admin "$(jq -nc --argjson t "$TD" --arg cn "gen-$RUN" \
    '{template_id: $t, subject: {CN: $cn}, san: [{type: "dns", value: "gen.example"}]}')")
check_eq "generate: 201" 201 "$code"
GEN=$(jbody .id)
save "$T_TMP/gen.pem"
check_eq "generate: key source" server "$(jbody .key_source)"
check_eq "generate: key available" true "$(jbody .key_available)"
check_match "generate: the download note" \
    "^You can't download the certificate with private key after $(date -u -d '+2 days' +%Y-%m-%d)" \
    "$(jbody .key_download_message)"
check "generate: chain verifies" verify "$T_TMP/gen.pem"
check_eq "PKCS#12 with a short passphrase: 422" 422 \
    "$(as admin POST "$CERTS/$GEN/pkcs12" '{"passphrase": "short"}')"
check_eq "PKCS#12: 200" 200 "$(fetch "$T_TMP/gen.p12" admin POST "$CERTS/$GEN/pkcs12" \
    '{"passphrase": "correct horse battery"}')"
check_eq "PKCS#12: media type" application/pkcs12 "$(header Content-Type)"
check_match "PKCS#12: an attachment" attachment "$(header Content-Disposition)"
check "PKCS#12: opens with the passphrase" openssl pkcs12 -in "$T_TMP/gen.p12" \
    -passin pass:'correct horse battery' -nodes -out "$T_TMP/gen.p12.pem"
check_eq "PKCS#12: the key is the certificate's" \
    "$(openssl x509 -in "$T_TMP/gen.pem" -noout -pubkey)" \
    "$(openssl pkey -in "$T_TMP/gen.p12.pem" -pubout 2>/dev/null)"
check_eq "PKCS#12: with the chain" 3 "$(grep -c 'BEGIN CERTIFICATE' "$T_TMP/gen.p12.pem")"
check_eq "PKCS#12: audited" 1 "$(audits certificate download "$GEN")"
db_sql "UPDATE certificates SET key_retention_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE id = $GEN"
check_eq "PKCS#12 after the retention date: 410" 410 \
    "$(as admin POST "$CERTS/$GEN/pkcs12" '{"passphrase": "correct horse battery"}')"
check_eq "the key is destroyed" 1 \
    "$(db_sql "SELECT COUNT(*) FROM certificates WHERE id = $GEN AND wrapped_key IS NULL AND key_destroyed_at IS NOT NULL")"
check_eq "PKCS#12 of a CSR certificate: 409" 409 \
    "$(as admin POST "$CERTS/$EC/pkcs12" '{"passphrase": "correct horse battery"}')"

BEFORE=$(count)
check_eq "generate without retention or passphrase: 422" 422 \
    "$(generate admin "$(jq -nc --argjson t "$TN" '{template_id: $t, subject: {CN: "x"}}')")"
check_eq "generate without retention: the field" passphrase "$(jbody .error.field)"
check_eq "generate: a field the template lacks: 422" 422 \
    "$(generate admin "$(jq -nc --argjson t "$TD" '{template_id: $t, subject: {CN: "x", L: "Bern"}}')")"
check_eq "generate: the field is named" subject.L "$(jbody .error.field)"
check_eq "generate: a fixed value changed: 422" 422 \
    "$(generate admin "$(jq -nc --argjson t "$TD" '{template_id: $t, subject: {CN: "x", O: "Other"}}')")"
check_eq "generate: the fixed field is named" subject.O "$(jbody .error.field)"
check_eq "generate: a key type outside the policy: 422" 422 \
    "$(generate admin "$(jq -nc --argjson t "$TD" '{template_id: $t, key_type: "rsa-4096", subject: {CN: "x"}}')")"
check_eq "generate: the field is key_type" key_type "$(jbody .error.field)"
check_eq "generate: a subject that is no object: 422" 422 \
    "$(generate admin "$(jq -nc --argjson t "$TD" '{template_id: $t, subject: "CN=x"}')")"
check_eq "generate refusals wrote no certificate" "$BEFORE" "$(count)"
code=$(fetch "$T_TMP/once.p12" admin POST $CERTS/generate "$(jq -nc --argjson t "$TN" --arg cn "once-$RUN" \
    '{template_id: $t, key_type: "rsa-2048", subject: {CN: $cn}, passphrase: "once and for all"}')")
check_eq "generate with a passphrase: 201" 201 "$code"
check_eq "generate with a passphrase: a PKCS#12" application/pkcs12 \
    "$(header Content-Type)"
ONCE=$(header Location)
ONCE=${ONCE##*/}
check "generate with a passphrase: it opens" openssl pkcs12 -in "$T_TMP/once.p12" \
    -passin pass:'once and for all' -nodes -out "$T_TMP/once.pem"
check_eq "generate with a passphrase: an RSA key" 1 \
    "$(openssl pkey -in "$T_TMP/once.pem" -noout -text 2>/dev/null | grep -c 'Private-Key: (2048 bit')"
check_eq "no retention: no key stored" 1 \
    "$(db_sql "SELECT COUNT(*) FROM certificates WHERE id = $ONCE AND wrapped_key IS NULL")"
check_eq "no retention: PKCS#12 later is 410" 410 \
    "$(as admin POST "$CERTS/$ONCE/pkcs12" '{"passphrase": "once and for all"}')"

# --- the Wi-SUN FAN template ------------------------------------------------------
code=$(generate admin "$(jq -nc --argjson t "$TW" \
    '{template_id: $t, san: [{type: "othername", oid: "1.3.6.1.5.5.7.8.4",
      value: "1.3.6.1.4.1.45605.1.1:0a1b2c3d"}]}')")
check_eq "Wi-SUN: 201" 201 "$code"
WS=$(jbody .id)
check_eq "Wi-SUN: audited" 1 "$(audits certificate issue "$WS")"
save "$T_TMP/wisun.pem"
T=$(text "$T_TMP/wisun.pem")
check_match "Wi-SUN: empty subject" "Subject: *$" "$(grep 'Subject:' <<<"$T")"
check_match "Wi-SUN: critical SAN" "Subject Alternative Name: critical" "$T"
check_match "Wi-SUN: the Wi-SUN EKU" "1\.3\.6\.1\.4\.1\.45605\.1" "$T"
check_match "Wi-SUN: unlimited expiration" "Not After : Dec 31 23:59:59 9999 GMT" "$T"
check_match "Wi-SUN: hardwareModuleName with the serial" \
    "2B0601040182E42501010404 ?0A1B2C3D" \
    "$(openssl asn1parse -in "$T_TMP/wisun.pem" 2>&1 | tr -d '\n')"
check "Wi-SUN: chain verifies" verify "$T_TMP/wisun.pem"
check_eq "Wi-SUN: without the otherName: 422" 422 \
    "$(generate admin "$(jq -nc --argjson t "$TW" '{template_id: $t}')")"
check_eq "Wi-SUN: the field" "san[0]" "$(jbody .error.field)"

# --- read and download ------------------------------------------------------------
check_eq "get: 200" 200 "$(as admin GET "$CERTS/$EC")"
check_match "get: ETag" '^".+"$' "$(etag)"
check_eq "get: the PEM" "$(cat "$T_TMP/ec.pem")" "$(jbody .pem)"
check_eq "get: unknown id 404" 404 "$(as admin GET "$CERTS/999999999")"
check_eq "get: a query parameter is refused" 400 "$(as admin GET "$CERTS/$EC?x=1")"
check_eq "download pem: 200" 200 \
    "$(fetch "$T_TMP/dl.pem" admin GET "$CERTS/$EC/download?format=pem")"
check_eq "download pem: the certificate" "$(fp "$T_TMP/ec.pem")" "$(fp "$T_TMP/dl.pem")"
check_eq "download der: 200" 200 \
    "$(fetch "$T_TMP/dl.der" admin GET "$CERTS/$EC/download?format=der")"
check_eq "download der: the certificate" "$(fp "$T_TMP/ec.pem")" "$(fp "$T_TMP/dl.der" DER)"
check_eq "download p7: 200" 200 \
    "$(fetch "$T_TMP/dl.p7b" admin GET "$CERTS/$EC/download?format=p7")"
check_eq "download p7: leaf, issuing, root" 3 \
    "$(openssl pkcs7 -inform DER -in "$T_TMP/dl.p7b" -print_certs 2>/dev/null | grep -c 'BEGIN CERTIFICATE')"
check_eq "download chain: 200" 200 \
    "$(fetch "$T_TMP/chain.pem" admin GET "$CERTS/$EC/download?format=chain")"
check_eq "download chain: three certificates" 3 "$(grep -c 'BEGIN CERTIFICATE' "$T_TMP/chain.pem")"
check_eq "download chain: leaf first" "$(fp "$T_TMP/ec.pem")" "$(fp "$T_TMP/chain.pem")"
check_eq "download: unknown format 400" 400 \
    "$(as admin GET "$CERTS/$EC/download?format=zip")"

# --- list, filters, renewal report ------------------------------------------------
check_eq "list by template: 200" 200 "$(as admin GET "$CERTS?template_id=$TD&limit=500")"
N_TD=$(jbody '.items | length')
check_eq "list by template: the count" \
    "$(db_sql "SELECT COUNT(*) FROM certificates WHERE template_id = $TD")" "$N_TD"
SERIAL=$(as admin GET "$CERTS/$EC" >/dev/null; jbody .serial)
check_eq "list by serial: 200" 200 "$(as admin GET "$CERTS?serial=$SERIAL")"
check_eq "list by serial: the one" "$EC" "$(jbody '.items[0].id')"
check_eq "list by subject: 200" 200 "$(as admin GET "$CERTS?subject=DEV-EC-$RUN")"
check_eq "list by subject: a substring, any case" \
    "$(db_sql "SELECT COUNT(*) FROM certificates WHERE subject LIKE '%dev-ec-$RUN%'")" \
    "$(jbody '.items | length')"
check_eq "list by subject: the EC certificate first" "$EC" "$(jbody '.items[0].id')"
check_eq "list: pages of one" 200 "$(as admin GET "$CERTS?template_id=$TD&limit=1")"
CUR=$(jbody .next_cursor)
FIRST=$(jbody '.items[0].id')
check_eq "list: the next page" 200 \
    "$(as admin GET "$CERTS?template_id=$TD&limit=1&cursor=$CUR")"
check_match "list: the next page goes on" "^[0-9]+$" "$(jbody '.items[0].id')"
check_eq "list: no repeat" 1 "$([ "$(jbody '.items[0].id')" -gt "$FIRST" ] && echo 1)"
check_eq "list: unknown parameter 400" 400 "$(as admin GET "$CERTS?colour=red")"
check_eq "list: a bad serial 400" 400 "$(as admin GET "$CERTS?serial=xyz")"
check_eq "list: expiring_before in 60 days" 200 \
    "$(as admin GET "$CERTS?template_id=$TD&expiring_before=$(date -u -d '+60 days' +%Y-%m-%dT%H:%M:%SZ)&limit=500")"
check_eq "list: expiring_before holds every 30-day certificate" "$N_TD" "$(jbody '.items | length')"
check_eq "renewal report within 60 days" 200 \
    "$(as admin GET "$CERTS/expiring?within_days=60&template_id=$TD&limit=500")"
check_eq "renewal report: the active ones" \
    "$(db_sql "SELECT COUNT(*) FROM certificates WHERE template_id = $TD AND status = 'active'")" \
    "$(jbody '.items | length')"
check_eq "renewal report within 1 day" 200 \
    "$(as admin GET "$CERTS/expiring?within_days=1&template_id=$TD")"
check_eq "renewal report within 1 day: none" 0 "$(jbody '.items | length')"

# --- revocation -------------------------------------------------------------------
check_eq "revoke: an unknown reason 422" 422 \
    "$(as admin POST "$CERTS/$EC/revoke" '{"reason": "removeFromCRL"}')"
check_eq "revoke: an invalidity date ahead 422" 422 \
    "$(as admin POST "$CERTS/$EC/revoke" "{\"reason\": \"keyCompromise\", \"invalidity_date\": \"$FROM\"}")"
check_eq "revoke: 200" 200 "$(as admin POST "$CERTS/$EC/revoke" '{"reason": "keyCompromise"}')"
check_eq "revoke: status" revoked "$(jbody .status)"
check_eq "revoke: reason" keyCompromise "$(jbody .revocation_reason)"
check_eq "revoke again: 409" 409 "$(as admin POST "$CERTS/$EC/revoke" '{"reason": "superseded"}')"
check_eq "revoke: audited once" 1 "$(audits certificate revoke "$EC")"
check_eq "revoke: the CA's CRL" 200 \
    "$(fetch "$T_TMP/iss.crl" admin GET "/api/v1/cas/$ISS/crl")"
cat "$T_TMP/issuing.pem" "$T_TMP/root.pem" >"$T_TMP/cas.pem"
check "revoke: the CRL verifies" openssl crl -inform DER -in "$T_TMP/iss.crl" \
    -CAfile "$T_TMP/cas.pem" -noout -verify
check_match "revoke: the CRL lists the serial" \
    "Serial Number: ${SERIAL^^}" \
    "$(openssl crl -inform DER -in "$T_TMP/iss.crl" -noout -text 2>&1)"
check_eq "list revoked: the one" 200 "$(as admin GET "$CERTS?serial=$SERIAL&status=revoked")"
check_eq "list revoked: found" "$EC" "$(jbody '.items[0].id')"
check_eq "revoke without a body: unspecified" 200 \
    "$(as admin POST "$CERTS/$RSA/revoke")"
check_eq "revoke without a body: the reason" unspecified "$(jbody .revocation_reason)"

# --- scope and permissions --------------------------------------------------------
check_eq "tenant operator: issues from its tenant's template" 201 \
    "$(issue to1 "$TT1" "$T_TMP/ec.csr")"
C_T1=$(jbody .id)
check_eq "tenant operator: the certificate is its tenant's" "$TID1" "$(jbody .tenant_id)"
check_eq "tenant operator: tenant-wide" null "$(jbody .org_id)"
check_eq "organization operator: issues from a global template" 201 \
    "$(issue oo1 "$TD" "$T_TMP/ec.csr")"
C_O1=$(jbody .id)
check_eq "organization operator: its organization" "$OID1" "$(jbody .org_id)"
check_eq "tenant operator: reads the organization's" 200 "$(as to1 GET "$CERTS/$C_O1")"
check_eq "organization operator: not the tenant-wide one" 404 "$(as oo1 GET "$CERTS/$C_T1")"
check_eq "other tenant: 404" 404 "$(as ta2 GET "$CERTS/$C_T1")"
check_eq "other tenant: not listed" 200 "$(as ta2 GET "$CERTS?template_id=$TT1")"
check_eq "other tenant: an empty list" 0 "$(jbody '.items | length')"
check_eq "other tenant: global certificates not listed" 200 "$(as ta2 GET "$CERTS?serial=$SERIAL")"
check_eq "other tenant: none" 0 "$(jbody '.items | length')"
check_eq "other tenant: its template is not visible" 422 "$(issue ta2 "$TT1" "$T_TMP/ec.csr")"
check_eq "other tenant: the field" template_id "$(jbody .error.field)"
check_eq "other tenant: no revoke" 404 "$(as ta2 POST "$CERTS/$C_T1/revoke" '{}')"
check_eq "tenant auditor: reads" 200 "$(as tu1 GET "$CERTS/$C_T1")"
check_eq "tenant auditor: may not issue" 403 "$(issue tu1 "$TD" "$T_TMP/ec.csr")"
check_eq "tenant auditor: may not revoke" 403 "$(as tu1 POST "$CERTS/$C_T1/revoke" '{}')"
check_eq "both refused revokes are audited" 2 \
    "$(audits certificate revoke "$C_T1" denied)"
check_eq "tenant operator: another tenant's org 422" 422 \
    "$(issue to1 "$TD" "$T_TMP/ec.csr" '{org_id: 999999999}')"
check_eq "tenant operator: another tenant 404" 404 \
    "$(issue to1 "$TD" "$T_TMP/ec.csr" "{tenant_id: $TID2}")"
check_eq "admin: issues for tenant 2" 201 \
    "$(issue admin "$TD" "$T_TMP/ec.csr" "{tenant_id: $TID2}")"
C_T2=$(jbody .id)
check_eq "admin: tenant 2 reads it" 200 "$(as ta2 GET "$CERTS/$C_T2")"
check_eq "admin: tenant 1's template not for tenant 2" 422 \
    "$(issue admin "$TT1" "$T_TMP/ec.csr" "{tenant_id: $TID2}")"

finish
