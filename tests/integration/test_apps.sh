#!/bin/bash
#
# API applications over HTTPS (fcgi/api_app.h): create with the AppKey
# shown once and stored hashed, the key working with HTTP Basic, rotation
# (the old key refused at once), deactivation, revocation, expiry, the TLS
# client certificate (chain, clientAuth, CN = AppID), its PKCS#12 given
# once, authentication with that certificate, changes with If-Match,
# deletion, refusals by role, bad input that writes nothing, and the audit
# rows of all of it without a key or passphrase in them.  Runs against the
# instance described by the ESTUARY_* variables (see lib.sh); names carry a
# per-run suffix so that it can run again.  Expiry is tested by moving
# expires_at back in the database rather than by waiting.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

T1="Apps T1 $RUN"
T2="Apps T2 $RUN"
ORG1="Apps Org $RUN"
PW="pw-$RUN-Secret"
PASS="pfx-$RUN-passphrase"
APPS=/api/v1/applications

# basic APPID KEY: GET /auth/me with HTTP Basic; prints the status.
basic() {
	http GET /api/v1/auth/me -u "$1:$2"
}

# napps NAME: how many applications carry NAME.
napps() {
	db_sql "SELECT COUNT(*) FROM api_applications WHERE name = $(sqlstr "$1")"
}

# --- setup: two tenants, an organization, users of several roles ------------
tenant_add "$T1" "$ORG1"
tenant_add "$T2"
TID1=$(tid_of "$T1")
TID2=$(tid_of "$T2")
OID1=$(oid_of "$ORG1")
users_add "$PW" "" ta1:tenant_admin:"$T1" tau1:tenant_auditor:"$T1" \
    top1:tenant_operator:"$T1" ta2:tenant_admin:"$T2"
admin_session

# --- create ---------------------------------------------------------------------
name="app-$RUN"
code=$(as admin POST $APPS "$(jq -nc --arg n "$name" --argjson t "$TID1" \
    '{name: $n, tenant_id: $t, role: "tenant_admin",
      description: "it; DROP TABLE x; -- \u0027"}')")
check_eq "create: 201" 201 "$code"
ID=$(jbody .id)
APPID=$(jbody .app_id)
KEY=$(jbody .app_key)
check_match "create: a 32-digit hex AppID" '^[0-9a-f]{32}$' "$APPID"
check_match "create: an AppKey of at least 128 bits (base64url)" \
    '^[A-Za-z0-9_-]{22,}$' "$KEY"
check_eq "create: Location" "$APPS/$ID" "$(header Location)"
check_match "create: ETag" '^"[A-Za-z0-9_-]+"$' "$(etag)"
check_eq "create: status active" active "$(jbody .status)"
check_eq "create: SQL metacharacters kept verbatim" \
    "it; DROP TABLE x; -- '" "$(jbody .description)"
check_eq "create: only the key's hash is stored" \
    "sha256\$$(printf '%s' "$KEY" | sha256sum | cut -c1-64)" \
    "$(db_sql "SELECT key_hash FROM api_applications WHERE id = $ID")"
check_eq "create: audited" 1 "$(audits api_application create "$ID")"

code=$(basic "$APPID" "$KEY")
check_eq "the AppKey works with Basic on /auth/me" 200 "$code"
check_eq "Basic: it is the application" "$APPID" "$(jbody .app_id)"

check_eq "read: 200" 200 "$(as admin GET "$APPS/$ID")"
check_eq "read: the key is never shown again" null "$(jbody .app_key)"
check_eq "read: tenant" "$T1" "$(jbody .tenant_name)"

code=$(as admin GET "$APPS?name=app-$RUN")
check_eq "list with a name filter: 200" 200 "$code"
check_eq "list: finds it" "$APPID" "$(jbody '.items[0].app_id')"
check_eq "list: no key in lists" null "$(jbody '.items[0].app_key')"
check_eq "list: an unknown filter is 400" 400 "$(as admin GET "$APPS?colour=red")"

# --- rotate -----------------------------------------------------------------
check_eq "rotate: 200" 200 "$(as admin POST "$APPS/$ID/rotate")"
KEY2=$(jbody .app_key)
check_match "rotate: a new key" '^[A-Za-z0-9_-]{22,}$' "$KEY2"
check_fails "rotate: the key changed" test "$KEY" = "$KEY2"
check_eq "rotate: the old key is refused at once" 401 "$(basic "$APPID" "$KEY")"
check_eq "rotate: the new key works" 200 "$(basic "$APPID" "$KEY2")"
check_eq "rotate: audited" 1 "$(audits api_application rotate_key "$ID")"

# --- update with If-Match ----------------------------------------------------
as admin GET "$APPS/$ID" >/dev/null
tag=$(etag)
check_eq "update without If-Match: 428" 428 \
    "$(as admin PUT "$APPS/$ID" '{"description":"new"}')"
check_eq "update with a stale ETag: 412" 412 \
    "$(as admin PUT "$APPS/$ID" '{"description":"new"}' -H 'If-Match: "AAAAAAAAAAAAAAAAAAAAAA"')"
check_eq "update with the ETag: 200" 200 \
    "$(as admin PUT "$APPS/$ID" '{"description":"new"}' -H "If-Match: $tag")"
check_eq "update: changed" new "$(jbody .description)"
check_fails "update: a new ETag" test "$tag" = "$(etag)"
check_eq "update: the old ETag is now stale" 412 \
    "$(as admin PUT "$APPS/$ID" '{"description":"newer"}' -H "If-Match: $tag")"
check_eq "update: audited" 1 "$(audits api_application update "$ID")"
check_eq "update: tenant_id is not a changeable field" 422 \
    "$(as admin PUT "$APPS/$ID" "{\"tenant_id\":$TID2}" -H 'If-Match: *')"

# --- deactivate, activate ---------------------------------------------------------
check_eq "deactivate: 200" 200 "$(as admin POST "$APPS/$ID/deactivate")"
check_eq "deactivate: inactive" inactive "$(jbody .status)"
check_eq "deactivate: the key is refused" 401 "$(basic "$APPID" "$KEY2")"
check_eq "activate: 200" 200 "$(as admin POST "$APPS/$ID/activate")"
check_eq "activate: the key works again" 200 "$(basic "$APPID" "$KEY2")"
check_eq "activate/deactivate: audited" 2 \
    "$(($(audits api_application activate "$ID") +
    $(audits api_application deactivate "$ID")))"

# --- an application acting through the API with its own key ------------------------
code=$(http GET "$APPS?limit=500" -u "$APPID:$KEY2")
check_eq "an application (tenant_admin) lists applications with Basic" 200 "$code"
check_eq "...and sees only its tenant's" "$TID1" \
    "$(jq -r '[.items[].tenant_id] | unique | join(",")' "$T_TMP/body")"

# --- roles -----------------------------------------------------------------------
n="auditor-$RUN"
check_eq "tenant_auditor may not create: 403" 403 "$(as tau1 POST $APPS \
    "{\"name\":\"$n\",\"role\":\"tenant_operator\"}")"
check_eq "...and nothing is written" 0 "$(napps "$n")"
check_eq "...the refusal is audited" 1 "$(db_sql "SELECT COUNT(*) FROM audit_log
    WHERE entity = 'api_application' AND action = 'create'
    AND outcome = 'denied' AND actor_name = 'tau1-$RUN'")"
check_eq "tenant_auditor may read its tenant's: 200" 200 \
    "$(as tau1 GET "$APPS/$ID")"
check_eq "tenant_auditor may list: 200" 200 "$(as tau1 GET $APPS)"
check_eq "tenant_auditor may not rotate: 403" 403 \
    "$(as tau1 POST "$APPS/$ID/rotate")"
check_eq "...the key still works" 200 "$(basic "$APPID" "$KEY2")"
check_eq "tenant_auditor may not download a PKCS#12: 403" 403 \
    "$(as tau1 POST "$APPS/$ID/certificate/pfx" "{\"passphrase\":\"$PASS\"}")"
check_eq "tenant_operator may not list: 403" 403 "$(as top1 GET $APPS)"
check_eq "tenant_operator may not read: 403" 403 "$(as top1 GET "$APPS/$ID")"
check_eq "another tenant's admin does not see it: 404" 404 \
    "$(as ta2 GET "$APPS/$ID")"
check_eq "...nor rotates it: 404" 404 "$(as ta2 POST "$APPS/$ID/rotate")"
check_eq "...nor deletes it: 404" 404 \
    "$(as ta2 DELETE "$APPS/$ID" -H 'If-Match: *')"
check_eq "...and it is not in its list" 0 "$(as ta2 GET "$APPS?limit=500" \
    >/dev/null; jq "[.items[] | select(.id == $ID)] | length" "$T_TMP/body")"
n="cross-$RUN"
check_eq "tenant_admin may not create in another tenant: 404" 404 \
    "$(as ta1 POST $APPS "{\"name\":\"$n\",\"tenant_id\":$TID2,\"role\":\"tenant_operator\"}")"
check_eq "...and nothing is written" 0 "$(napps "$n")"
n="ta1-$RUN"
check_eq "tenant_admin creates in its tenant (tenant_id implied): 201" 201 \
    "$(as ta1 POST $APPS "{\"name\":\"$n\",\"role\":\"org_operator\",\"org_id\":$OID1}")"
check_eq "...in its tenant and organization" "$TID1/$OID1" \
    "$(jbody '"\(.tenant_id)/\(.org_id)"')"
TA1APP=$(jbody .id)
check_eq "tenant_admin deletes it with If-Match *: 204" 204 \
    "$(as ta1 DELETE "$APPS/$TA1APP" -H 'If-Match: *')"

# --- bad input: 4xx and nothing written ---------------------------------------------
bad() {
	local desc=$1 status=$2 field=$3 name=$4 body=$5 code
	shift 5

	code=$(as admin POST $APPS "$body" "$@")
	check_eq "$desc: $status" "$status" "$code"
	[ -n "$field" ] &&
	    check_eq "$desc: names $field" "$field" "$(jbody .error.field)"
	check_eq "$desc: nothing written" 0 "$(napps "$name")"
}
n="bad-$RUN"
bad "unknown role" 422 role "$n" \
    "{\"name\":\"$n\",\"tenant_id\":$TID1,\"role\":\"superuser\"}"
bad "the admin role" 422 role "$n" \
    "{\"name\":\"$n\",\"tenant_id\":$TID1,\"role\":\"admin\"}"
bad "unknown field" 422 colour "$n" \
    "{\"name\":\"$n\",\"tenant_id\":$TID1,\"role\":\"tenant_admin\",\"colour\":1}"
bad "past expiry" 422 expires_at "$n" \
    "{\"name\":\"$n\",\"tenant_id\":$TID1,\"role\":\"tenant_admin\",\"expires_at\":\"2020-01-01T00:00:00Z\"}"
bad "malformed expiry" 422 expires_at "$n" \
    "{\"name\":\"$n\",\"tenant_id\":$TID1,\"role\":\"tenant_admin\",\"expires_at\":\"2040-02-30T00:00:00Z\"}"
bad "tenant_id as a string" 422 tenant_id "$n" \
    "{\"name\":\"$n\",\"tenant_id\":\"$TID1\",\"role\":\"tenant_admin\"}"
bad "no tenant for the admin" 422 tenant_id "$n" \
    "{\"name\":\"$n\",\"role\":\"tenant_admin\"}"
bad "unknown tenant" 422 tenant_id "$n" \
    "{\"name\":\"$n\",\"tenant_id\":999999999,\"role\":\"tenant_admin\"}"
bad "org_operator without an organization" 422 role "$n" \
    "{\"name\":\"$n\",\"tenant_id\":$TID1,\"role\":\"org_operator\"}"
bad "an organization of another tenant" 422 org_id "$n" \
    "{\"name\":\"$n\",\"tenant_id\":$TID2,\"role\":\"org_operator\",\"org_id\":$OID1}"
bad "an overlong name" 422 name "$n" \
    "{\"name\":\"$(printf 'x%.0s' {1..129})\",\"tenant_id\":$TID1,\"role\":\"tenant_admin\"}"
bad "malformed JSON" 400 "" "$n" "{\"name\":\"$n\","
code=$(http POST $APPS -b "$T_TMP/admin.jar" \
    -H "X-CSRF-Token: $(cat "$T_TMP/admin.csrf")" -H 'Content-Type: text/plain' \
    --data-binary "{\"name\":\"$n\",\"tenant_id\":$TID1,\"role\":\"tenant_admin\"}")
check_eq "a body that is not JSON: 415" 415 "$code"
check_eq "a body that is not JSON: nothing written" 0 "$(napps "$n")"
check_eq "a duplicate name: 409" 409 "$(as admin POST $APPS \
    "{\"name\":\"$name\",\"tenant_id\":$TID1,\"role\":\"tenant_admin\"}")"
check_eq "a duplicate name: names name" name "$(jbody .error.field)"
check_eq "a duplicate name: the first one stays alone" 1 "$(napps "$name")"

# --- expiry -----------------------------------------------------------------------
n="exp-$RUN"
future=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
check_eq "create with an expiry: 201" 201 "$(as admin POST $APPS \
    "{\"name\":\"$n\",\"tenant_id\":$TID1,\"role\":\"tenant_operator\",\"expires_at\":\"$future\"}")"
EID=$(jbody .id)
EAPP=$(jbody .app_id)
EKEY=$(jbody .app_key)
check_eq "expiry: stored" "${future%Z}.000000Z" "$(jbody .expires_at)"
check_eq "expiry: the key works before" 200 "$(basic "$EAPP" "$EKEY")"
db_sql "UPDATE api_applications SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 MINUTE WHERE id = $EID"
check_eq "expiry: an expired key is refused" 401 "$(basic "$EAPP" "$EKEY")"
as admin GET "$APPS/$EID" >/dev/null
check_eq "expiry: shown as expired" expired "$(jbody .status)"

# --- the TLS client certificate ---------------------------------------------------------
CA_ROOT=$ESTUARY_ROOT_CA_PEM
CA_ISSUING=$ESTUARY_ISSUING_CA_PEM
check_eq "no certificate yet: 404" 404 "$(as admin GET "$APPS/$ID/certificate")"
check_eq "certificate: a validity over 825 days is 422" 422 \
    "$(as admin POST "$APPS/$ID/certificate" '{"validity_days":826}')"
check_eq "certificate: issued, 201" 201 \
    "$(as admin POST "$APPS/$ID/certificate" '{"validity_days":30}')"
check_eq "certificate: Location" "$APPS/$ID/certificate" "$(header Location)"
jbody .certificate_pem >"$T_TMP/leaf.pem"
FP=$(jbody .certificate.fingerprint_sha256)
check "certificate: verifies against the demo root and issuing CA" \
    openssl verify -CAfile "$CA_ROOT" -untrusted "$CA_ISSUING" "$T_TMP/leaf.pem"
text=$(openssl x509 -in "$T_TMP/leaf.pem" -noout -text 2>&1)
check_match "certificate: clientAuth EKU" 'TLS Web Client Authentication' "$text"
check_match "certificate: not a CA" 'CA:FALSE' "$text"
subj=$(openssl x509 -in "$T_TMP/leaf.pem" -noout -subject -nameopt RFC2253)
check_match "certificate: CN = AppID, O = tenant" \
    "^subject=CN=$APPID,O=$T1\$" "$subj"
check_eq "certificate: the fingerprint shown is its own" "$FP" \
    "$(openssl x509 -in "$T_TMP/leaf.pem" -outform DER | sha256sum | cut -c1-64)"
end=$(openssl x509 -in "$T_TMP/leaf.pem" -noout -enddate | cut -d= -f2)
days=$((($(date -u -d "$end" +%s) - $(date -u +%s) + 3600) / 86400))
check_eq "certificate: valid for the days asked" 30 "$days"
check_eq "certificate: audited" 1 "$(audits api_application issue "$ID")"
check_eq "certificate: the public PEM any time" 200 \
    "$(as admin GET "$APPS/$ID/certificate")"
check_match "certificate: as a PEM chain" '^application/pem-certificate-chain' \
    "$(header Content-Type)"
check_eq "certificate: the PEM starts with the leaf" "$FP" \
    "$(openssl x509 -in "$T_TMP/body" -outform DER | sha256sum | cut -c1-64)"
check_eq "PKCS#12: a short passphrase is 422" 422 \
    "$(as admin POST "$APPS/$ID/certificate/pfx" '{"passphrase":"short"}')"
check_eq "PKCS#12: the passphrase is required" 422 \
    "$(as admin POST "$APPS/$ID/certificate/pfx" '{}')"
code=$(as admin POST "$APPS/$ID/certificate/pfx" "{\"passphrase\":\"$PASS\"}")
check_eq "PKCS#12: 200" 200 "$code"
check_eq "PKCS#12: its type" application/x-pkcs12 "$(header Content-Type)"
cp "$T_TMP/body" "$T_TMP/app.p12"
check "PKCS#12: opens with the passphrase" openssl pkcs12 -in "$T_TMP/app.p12" \
    -passin "pass:$PASS" -nodes -out "$T_TMP/p12.pem"
check_fails "PKCS#12: not with another passphrase" openssl pkcs12 \
    -in "$T_TMP/app.p12" -passin "pass:wrong-$PASS" -nodes -out /dev/null
openssl pkcs12 -in "$T_TMP/app.p12" -passin "pass:$PASS" -nodes -nocerts \
    -out "$T_TMP/app.key" 2>/dev/null
openssl pkcs12 -in "$T_TMP/app.p12" -passin "pass:$PASS" -clcerts -nokeys \
    -out "$T_TMP/app.pem" 2>/dev/null
check_eq "PKCS#12: holds the certificate" "$FP" \
    "$(openssl x509 -in "$T_TMP/app.pem" -outform DER | sha256sum | cut -c1-64)"
check_eq "PKCS#12: its key matches the certificate" \
    "$(openssl x509 -in "$T_TMP/app.pem" -noout -pubkey | sha256sum)" \
    "$(openssl pkey -in "$T_TMP/app.key" -pubout | sha256sum)"
check_eq "PKCS#12: a second download is 410" 410 \
    "$(as admin POST "$APPS/$ID/certificate/pfx" "{\"passphrase\":\"$PASS\"}")"
check_eq "PKCS#12: the wrapped key is destroyed" 0 \
    "$(db_sql "SELECT COUNT(*) FROM certificates c JOIN api_applications a
        ON a.certificate_id = c.id WHERE a.id = $ID AND c.wrapped_key IS NOT NULL")"
check_eq "PKCS#12: the download is audited once" 1 \
    "$(audits api_application download "$ID")"
code=$(http GET /api/v1/auth/me --cert "$T_TMP/app.pem" --key "$T_TMP/app.key")
check_eq "the application authenticates with its TLS certificate" 200 "$code"
check_eq "...as itself" "$APPID/certificate" "$(jbody '"\(.app_id)/\(.auth_method)"')"
check_eq "certificate: a new one replaces it, 201" 201 \
    "$(as admin POST "$APPS/$ID/certificate" '{"key_type":"rsa-2048"}')"
check_fails "certificate: a new fingerprint" test "$FP" = \
    "$(jbody .certificate.fingerprint_sha256)"
check_eq "certificate: the old one is revoked as superseded" "revoked/4" \
    "$(db_sql "SELECT CONCAT(status, '/', revocation_reason) FROM certificates
        WHERE fingerprint = UNHEX('$FP')")"
check_eq "certificate: the old one no longer authenticates" 401 \
    "$(http GET /api/v1/auth/me --cert "$T_TMP/app.pem" --key "$T_TMP/app.key")"
check_eq "tenant_auditor may not issue a certificate: 403" 403 \
    "$(as tau1 POST "$APPS/$ID/certificate" '{}')"

# --- revoke ---------------------------------------------------------------------------
check_eq "revoke: 200" 200 "$(as admin POST "$APPS/$ID/revoke")"
check_eq "revoke: revoked" revoked "$(jbody .status)"
check_eq "revoke: the key is refused" 401 "$(basic "$APPID" "$KEY2")"
check_eq "revoke: for good (activate is 409)" 409 \
    "$(as admin POST "$APPS/$ID/activate")"
check_eq "revoke: no new key (rotate is 409)" 409 \
    "$(as admin POST "$APPS/$ID/rotate")"
check_eq "revoke: twice is 409" 409 "$(as admin POST "$APPS/$ID/revoke")"
check_eq "revoke: the certificate is revoked too" 0 \
    "$(db_sql "SELECT COUNT(*) FROM certificates c JOIN api_applications a
        ON a.certificate_id = c.id WHERE a.id = $ID AND c.status = 'active'")"
check_eq "revoke: audited" 1 "$(audits api_application revoke_key "$ID")"

# --- delete -----------------------------------------------------------------------------
as admin GET "$APPS/$ID" >/dev/null
tag=$(etag)
check_eq "delete without If-Match: 428" 428 "$(as admin DELETE "$APPS/$ID")"
check_eq "delete with the ETag: 204" 204 \
    "$(as admin DELETE "$APPS/$ID" -H "If-Match: $tag")"
check_eq "delete: gone" 404 "$(as admin GET "$APPS/$ID")"
check_eq "delete: audited" 1 "$(audits api_application delete "$ID")"

# --- no secret in the audit log ----------------------------------------------------------
secrets=0
for s in "$KEY" "$KEY2" "$EKEY" "$PASS"; do
	[ -n "$s" ] || { secrets=$((secrets + 1)); continue; }
	secrets=$((secrets + $(db_sql "SELECT COUNT(*) FROM audit_log
	    WHERE INSTR(COALESCE(details, ''), '$s') > 0
	    OR INSTR(COALESCE(reason, ''), '$s') > 0")))
done
check_eq "audit: no AppKey and no passphrase in any row" 0 "$secrets"
check "audit: the chain verifies" ctl audit verify

finish
