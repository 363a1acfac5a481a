#!/bin/bash
#
# External CAs over HTTPS (fcgi/api_extca.h, guide §2.4): registration of
# CA certificates made here by openssl (EC and RSA), the refusal of what
# is no CA certificate (a leaf, an expired CA, two certificates, a
# private key, garbage) with nothing written, duplicates (409), proof of
# possession (a certificate the CA signed for the verification code;
# wrong signer, wrong or expired code and replay refused and audited as
# failures), manual verification and "verified on upload", access by
# role as the guide gives it (Admin any tenant, Tenant Admin its
# organizations' CAs and (de)activation of its tenant's, auditors
# read-only, operators nothing, another tenant 404), changes with
# If-Match, filters, and activate / deactivate / delete only when
# inactive (and not while a device type uses the CA).  Names carry a
# per-run suffix so that it can run again on the same instance.

# The jq programs are in single quotes on purpose.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

EXT=/api/v1/external-cas
PW="pw-$RUN-Secret"
T1="Extca T1 $RUN"
T2="Extca T2 $RUN"
O1="Extca O1 $RUN"
O1B="Extca O1b $RUN"
O1X="Extca O1x $RUN"
O2="Extca O2 $RUN"
D=$T_TMP/pki

# --- certificates made by openssl --------------------------------------------------

mkdir -p "$D/db" && touch "$D/db/index.txt" && echo 01 >"$D/db/serial"
# The library's configuration (ca_ext...), an end entity with a subject
# key identifier, and what "openssl ca" needs.
{ cat "$(ossl_cnf)" && cat <<EOF; } >"$D/openssl.cnf"
[ski_leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
[ca]
default_ca = dca
[dca]
database = $D/db/index.txt
new_certs_dir = $D/db
serial = $D/db/serial
default_md = sha256
policy = pol
email_in_dn = no
unique_subject = no
[pol]
commonName = supplied
EOF

# newkey ALG: the -newkey options of openssl req for ec or rsa.
newkey() {
	case $1 in
	ec) printf '%s\n' -newkey ec -pkeyopt ec_paramgen_curve:P-256 ;;
	rsa) printf '%s\n' -newkey rsa:2048 ;;
	esac
}

# mkca NAME ALG SUBJECT: a self-signed CA in $D/NAME.pem and $D/NAME.key.
mkca() {
	# shellcheck disable=SC2046
	openssl req -x509 -new -nodes $(newkey "$2") -keyout "$D/$1.key" \
	    -out "$D/$1.pem" -days 30 -subj "$3" -config "$D/openssl.cnf" \
	    -extensions ca_ext 2>/dev/null
}

# sign NAME ALG SUBJECT CA [EXTENSIONS]: a certificate for a new key,
# issued by CA ($D/CA.pem and .key), in $D/NAME.pem.
sign() {
	# shellcheck disable=SC2046
	openssl req -new -nodes $(newkey "$2") -keyout "$D/$1.key" \
	    -out "$D/$1.csr" -subj "$3" -config "$D/openssl.cnf" 2>/dev/null &&
	    openssl x509 -req -in "$D/$1.csr" -CA "$D/$4.pem" \
		-CAkey "$D/$4.key" -days 2 -set_serial "0x$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')" \
		-out "$D/$1.pem" -extfile "$D/openssl.cnf" \
		-extensions "${5:-ski_leaf_ext}" 2>/dev/null
}

# shellcheck disable=SC2046
{ mkca ec ec "/CN=Extca EC $RUN/O=Estuary Test" &&
    mkca rsa rsa "/CN=Extca RSA $RUN/O=Estuary Test" &&
    mkca other ec "/CN=Extca Other $RUN" &&
    mkca third ec "/CN=Extca Third $RUN" &&
    mkca fourth rsa "/CN=Extca Fourth $RUN" &&
    sign leaf ec "/CN=not a CA $RUN" ec &&
    cat "$D/ec.pem" "$D/rsa.pem" >"$D/two.pem" &&
    cat "$D/ec.pem" "$D/ec.key" >"$D/withkey.pem" &&
    openssl req -new -nodes $(newkey ec) -keyout "$D/old.key" \
	-out "$D/old.csr" -subj "/CN=Extca Old $RUN" \
	-config "$D/openssl.cnf" 2>/dev/null &&
    openssl ca -batch -config "$D/openssl.cnf" -selfsign \
	-keyfile "$D/old.key" -in "$D/old.csr" -out "$D/old.pem" \
	-startdate 20200101000000Z -enddate 20210101000000Z \
	-extensions ca_ext -notext 2>/dev/null; } ||
    { echo "cannot make the test certificates"; exit 1; }

# body NAME FILE [FILTER-ADDITION [JQ-ARGS...]]: a registration body; the
# filter addition is merged into {name, certificate}.
body() {
	jq -nc --arg n "$1" --rawfile c "$2" "${@:4}" \
	    "{name: \$n, certificate: \$c}${3:+ + $3}"
}

nexts() {
	db_sql "SELECT COUNT(*) FROM external_cas"
}

# snap WHO ID: external CA ID as WHO sees it now.
snap() {
	as "$1" GET "$EXT/$2" >/dev/null
	jq -cS . "$T_TMP/body"
}

# --- setup: two tenants, organizations, users of every role ------------------------
tenant_add "$T1" "$O1" "$O1B" "$O1X"
tenant_add "$T2" "$O2"
TID1=$(tid_of "$T1")
TID2=$(tid_of "$T2")
OID1=$(oid_of "$O1")
OID1B=$(oid_of "$O1B")
OID1X=$(oid_of "$O1X")
OID2=$(oid_of "$O2")
users_add "$PW" "" ta1:tenant_admin:"$T1": tau1:tenant_auditor:"$T1": \
    top1:tenant_operator:"$T1": oop1:org_operator:"$T1":"$O1" \
    ta2:tenant_admin:"$T2": aud:auditor::
admin_session
check_eq "setup: an inactive organization" 200 \
    "$(as admin POST "/api/v1/organizations/$OID1X/deactivate")"

# --- register (Admin, EC, tenant-wide) -------------------------------------------------
N_EC="EC CA $RUN"
code=$(as admin POST $EXT "$(body "$N_EC" "$D/ec.pem" '{tenant_id: $t, description: "factory"}' --argjson t "$TID1")")
check_eq "register EC CA: 201" 201 "$code"
ID_EC=$(jbody .id)
check_eq "register: Location" "$EXT/$ID_EC" "$(header Location)"
check_match "register: ETag" '^"[A-Za-z0-9_-]{22}"$' "$(etag)"
check_eq "register: unverified" unverified "$(jbody .status)"
check_eq "register: active" true "$(jbody .active)"
check_eq "register: tenant-wide" "tenant $TID1 null" \
    "$(jbody '"\(.scope) \(.tenant_id) \(.org_id)"')"
check_eq "register: fingerprint of the certificate" "$(hexfp "$D/ec.pem")" \
    "$(jbody .fingerprint)"
check_match "register: subject" "CN=Extca EC $RUN" "$(jbody .subject)"
check_eq "register: self-signed, issuer = subject" "true" \
    "$(jbody '.self_signed and .issuer == .subject')"
check_eq "register: key type" ec-p256 "$(jbody .key_type)"
check_eq "register: subject key identifier" \
    "$(openssl x509 -in "$D/ec.pem" -noout -ext subjectKeyIdentifier |
	tail -n 1 | tr -d ' :' | tr 'A-F' 'a-f')" "$(jbody .subject_key_id)"
jbody .certificate >"$T_TMP/back.pem"
check_eq "register: the PEM shown is the certificate" "$(hexfp "$D/ec.pem")" \
    "$(hexfp "$T_TMP/back.pem")"
check_eq "register: created by the admin" true \
    "$(jbody '.created_by_user_id > 0')"
check_eq "register: audited" 1 "$(audits external_ca create "$ID_EC")"
check_eq "register: the stored fingerprint" "$(hexfp "$D/ec.pem")" \
    "$(db_sql "SELECT LOWER(HEX(fingerprint)) FROM external_cas WHERE id = $ID_EC")"

# --- refusals: nothing is written ------------------------------------------------
n=$(nexts)
refuse() {
	local desc=$1 file=$2 what=$3

	check_eq "$desc: 422" 422 \
	    "$(as admin POST $EXT "$(body "X $desc $RUN" "$file" '{tenant_id: $t}' --argjson t "$TID1")")"
	check_eq "$desc: field certificate" certificate "$(jbody .error.field)"
	check_match "$desc: says why" "$what" "$(jbody .error.message)"
}
refuse "a leaf certificate" "$D/leaf.pem" "CA:FALSE"
refuse "an expired CA" "$D/old.pem" "expired"
refuse "two certificates" "$D/two.pem" "more than one"
refuse "a certificate with its private key" "$D/withkey.pem" "private key"
printf 'hello, world\n' >"$T_TMP/garbage"
refuse "garbage" "$T_TMP/garbage" "no PEM certificate"
printf -- '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n' \
    >"$T_TMP/badpem"
refuse "a broken PEM block" "$T_TMP/badpem" "PEM"
check_eq "Admin without tenant_id: 422" 422 \
    "$(as admin POST $EXT "$(body "X nt $RUN" "$D/rsa.pem")")"
check_eq "Admin without tenant_id: field" tenant_id "$(jbody .error.field)"
check_eq "no such tenant: 422" 422 \
    "$(as admin POST $EXT "$(body "X t $RUN" "$D/rsa.pem" '{tenant_id: 999999999}')")"
check_eq "an organization of another tenant: 422" 422 \
    "$(as admin POST $EXT "$(body "X o $RUN" "$D/rsa.pem" '{tenant_id: $t, org_id: $o}' --argjson t "$TID1" --argjson o "$OID2")")"
check_eq "an organization of another tenant: field" org_id "$(jbody .error.field)"
check_eq "an inactive organization: 422" 422 \
    "$(as admin POST $EXT "$(body "X i $RUN" "$D/rsa.pem" '{tenant_id: $t, org_id: $o}' --argjson t "$TID1" --argjson o "$OID1X")")"
check_eq "an unknown field: 422" 422 \
    "$(as admin POST $EXT "$(body "X u $RUN" "$D/rsa.pem" '{tenant_id: $t, status: "verified"}' --argjson t "$TID1")")"
check_eq "no certificate: 422" 422 \
    "$(as admin POST $EXT "$(jq -nc --argjson t "$TID1" '{name: "X nc", tenant_id: $t}')")"
check_eq "refusals: no external CA added" "$n" "$(nexts)"
check_eq "refusals: the private key was stored nowhere" 0 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE details LIKE '%PRIVATE KEY%'")"

# --- duplicates ----------------------------------------------------------------------
check_eq "duplicate name: 409" 409 \
    "$(as admin POST $EXT "$(body "$N_EC" "$D/rsa.pem" '{tenant_id: $t}' --argjson t "$TID1")")"
check_eq "duplicate name: field" name "$(jbody .error.field)"
check_eq "duplicate name, other case: 409" 409 \
    "$(as admin POST $EXT "$(body "${N_EC^^}" "$D/rsa.pem" '{tenant_id: $t}' --argjson t "$TID1")")"
check_eq "the same name in another tenant: 201" 201 \
    "$(as admin POST $EXT "$(body "$N_EC" "$D/rsa.pem" '{tenant_id: $t}' --argjson t "$TID2")")"
OTHER_TENANT_CA=$(jbody .id)
check_eq "the same name in another tenant: a second row" 2 \
    "$(db_sql "SELECT COUNT(*) FROM external_cas WHERE name = '$N_EC'")"
as admin POST "$EXT/$OTHER_TENANT_CA/deactivate" >/dev/null
check_eq "the same name in another tenant: removed again" 204 \
    "$(as admin DELETE "$EXT/$OTHER_TENANT_CA" -H 'If-Match: *')"
check_eq "the same certificate twice in a tenant: 409" 409 \
    "$(as admin POST $EXT "$(body "EC again $RUN" "$D/ec.pem" '{tenant_id: $t, org_id: $o}' --argjson t "$TID1" --argjson o "$OID1")")"
check_eq "the same certificate twice: field" certificate "$(jbody .error.field)"
check_eq "duplicates: no external CA added" "$n" "$(nexts)"
check_eq "the same certificate in another tenant: 201" 201 \
    "$(as admin POST $EXT "$(body "EC in T2 $RUN" "$D/ec.pem" '{tenant_id: $t}' --argjson t "$TID2")")"
ID_EC2=$(jbody .id)

# --- Tenant Admin: its organizations' CAs ------------------------------------------------
N_RSA="RSA CA $RUN"
check_eq "Tenant Admin without an organization: 403" 403 \
    "$(as ta1 POST $EXT "$(body "$N_RSA" "$D/rsa.pem")")"
check_eq "Tenant Admin without an organization: field org_id" org_id \
    "$(jbody .error.field)"
check_eq "Tenant Admin, another tenant: 404" 404 \
    "$(as ta1 POST $EXT "$(body "$N_RSA" "$D/rsa.pem" '{tenant_id: $t, org_id: $o}' --argjson t "$TID2" --argjson o "$OID2")")"
check_eq "Tenant Auditor may not register: 403" 403 \
    "$(as tau1 POST $EXT "$(body "$N_RSA" "$D/rsa.pem" '{org_id: $o}' --argjson o "$OID1")")"
check_eq "Tenant Operator may not register: 403" 403 \
    "$(as top1 POST $EXT "$(body "$N_RSA" "$D/rsa.pem" '{org_id: $o}' --argjson o "$OID1")")"
check_eq "Organization Operator may not register: 403" 403 \
    "$(as oop1 POST $EXT "$(body "$N_RSA" "$D/rsa.pem" '{org_id: $o}' --argjson o "$OID1")")"
check_eq "Auditor may not register: 403" 403 \
    "$(as aud POST $EXT "$(body "$N_RSA" "$D/rsa.pem" '{tenant_id: $t}' --argjson t "$TID1")")"
check_eq "refused registrations: audited as denied" true \
    "$(test "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE entity = 'external_ca'
	AND action = 'create' AND outcome = 'denied'")" -ge 5 && echo true)"
check_eq "refused registrations: nothing added" "$((n + 1))" "$(nexts)"
code=$(as ta1 POST $EXT "$(body "$N_RSA" "$D/rsa.pem" '{org_id: $o}' --argjson o "$OID1")")
check_eq "Tenant Admin registers an RSA CA for its organization: 201" 201 "$code"
ID_RSA=$(jbody .id)
check_eq "Tenant Admin: its tenant implied" "organization $TID1 $OID1" \
    "$(jbody '"\(.scope) \(.tenant_id) \(.org_id)"')"
check_eq "RSA CA: key type" rsa-2048 "$(jbody .key_type)"

# --- read and list by role --------------------------------------------------------------
for who in admin aud ta1 tau1; do
	check_eq "$who reads the tenant-wide CA" 200 "$(as "$who" GET "$EXT/$ID_EC")"
done
check_eq "another tenant's admin: 404" 404 "$(as ta2 GET "$EXT/$ID_EC")"
check_eq "Tenant Operator: 403" 403 "$(as top1 GET "$EXT/$ID_EC")"
check_eq "Organization Operator, tenant-wide CA: 403" 403 \
    "$(as oop1 GET "$EXT/$ID_EC")"
check_eq "Tenant Operator may not list: 403" 403 "$(as top1 GET "$EXT")"
check_eq "Organization Operator may not list: 403" 403 "$(as oop1 GET "$EXT")"
check_eq "an unknown id: 404" 404 "$(as admin GET "$EXT/999999999")"
as tau1 GET "$EXT?name_contains=$RUN&limit=500" >/dev/null
check_eq "Tenant Auditor lists its tenant's CAs only" "$ID_EC $ID_RSA" \
    "$(jbody '[.items[].id] | sort | map(tostring) | join(" ")')"
check_eq "lists leave the certificate out" null "$(jbody '.items[0].certificate')"
as ta2 GET "$EXT?name_contains=$RUN" >/dev/null
check_eq "the other tenant's admin lists its own only" "$ID_EC2" \
    "$(jbody '[.items[].id] | map(tostring) | join(" ")')"
as aud GET "$EXT?name_contains=$RUN" >/dev/null
check_eq "Auditor lists every tenant's" 3 "$(jbody '.items | length')"
as admin GET "$EXT?name_contains=$RUN&scope=organization" >/dev/null
check_eq "filter scope=organization" "$ID_RSA" "$(jbody '[.items[].id] | map(tostring) | join(" ")')"
as admin GET "$EXT?tenant_id=$TID2&name_contains=$RUN" >/dev/null
check_eq "filter tenant_id" "$ID_EC2" "$(jbody '[.items[].id] | map(tostring) | join(" ")')"
as admin GET "$EXT?name_contains=$RUN&limit=1" >/dev/null
cursor=$(jbody .next_cursor)
check_eq "page 1 of 1-item pages" 1 "$(jbody '.items | length')"
as admin GET "$EXT?name_contains=$RUN&limit=1&cursor=$cursor" >/dev/null
check_eq "page 2 follows" 1 "$(jbody '.items | length')"
check_eq "a bad filter value: 400" 400 "$(as admin GET "$EXT?status=trusted")"
check_eq "an unknown filter: 400" 400 "$(as admin GET "$EXT?colour=red")"

# --- proof of possession (RSA CA, by its Tenant Admin) -----------------------------------
check_eq "Tenant Auditor may not ask for a code: 403" 403 \
    "$(as tau1 POST "$EXT/$ID_RSA/verification-code")"
check_eq "another tenant's admin: 404" 404 \
    "$(as ta2 POST "$EXT/$ID_RSA/verification-code")"
check_eq "a verification code: 200" 200 \
    "$(as ta1 POST "$EXT/$ID_RSA/verification-code")"
CODE=$(jbody .verification_code)
check_match "the code: 128 bits of hex" '^[0-9a-f]{32}$' "$CODE"
check_match "the code expires in a day" "^$(date -u -d '+1 day' +%Y-%m-%d)T" \
    "$(jbody .expires_at)"
as ta1 GET "$EXT/$ID_RSA" >/dev/null
check_eq "the CA shows a pending verification" true "$(jbody .verification_pending)"
check_fails "the code is not shown again" grep -q "$CODE" "$T_TMP/body"
check_eq "the code was audited without the code" "1 0" \
    "$(audits external_ca verification_code "$ID_RSA") $(db_sql "SELECT COUNT(*) FROM audit_log WHERE details LIKE '%$CODE%' OR reason LIKE '%$CODE%'")"

fails() {
	audits external_ca verify "$ID_RSA" failure
}
before=$(snap ta1 "$ID_RSA")
# A CA named like ours but with another key, and our name's real rival.
mkca impostor rsa "/CN=Extca RSA $RUN/O=Estuary Test"
sign p_imp ec "/CN=$CODE" impostor
check_eq "proof signed by another key under the CA's name: 422" 422 \
    "$(as ta1 POST "$EXT/$ID_RSA/verify" "$(jq -nc --rawfile c "$D/p_imp.pem" '{certificate: $c}')")"
check_match "wrong signer: says so" "does not verify" "$(jbody .error.message)"
check_eq "wrong signer: field certificate" certificate "$(jbody .error.field)"
sign p_other ec "/CN=$CODE" other
check_eq "proof issued by another CA: 422" 422 \
    "$(as ta1 POST "$EXT/$ID_RSA/verify" "$(jq -nc --rawfile c "$D/p_other.pem" '{certificate: $c}')")"
check_match "another CA: says so" "not issued by this CA" "$(jbody .error.message)"
sign p_cn ec "/CN=0123456789abcdef0123456789abcdef" rsa
check_eq "proof for another code: 422" 422 \
    "$(as ta1 POST "$EXT/$ID_RSA/verify" "$(jq -nc --rawfile c "$D/p_cn.pem" '{certificate: $c}')")"
check_match "another code: says so" "verification code" "$(jbody .error.message)"
check_eq "garbage as a proof: 422" 422 \
    "$(as ta1 POST "$EXT/$ID_RSA/verify" '{"certificate": "garbage"}')"
check_eq "refused proofs: the CA is unchanged" "$before" "$(snap ta1 "$ID_RSA")"
check_eq "refused proofs: audited as failures" 4 "$(fails)"
sign p_ok ec "/CN=$CODE/O=Estuary Test" rsa
db_sql "UPDATE external_cas SET verification_expires_at =
    UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE id = $ID_RSA"
check_eq "a good proof for an expired code: 422" 422 \
    "$(as ta1 POST "$EXT/$ID_RSA/verify" "$(jq -nc --rawfile c "$D/p_ok.pem" '{certificate: $c}')")"
check_eq "expired code: field code" code "$(jbody .error.field)"
check_eq "expired code: still unverified" unverified \
    "$(as ta1 GET "$EXT/$ID_RSA" >/dev/null; jbody .status)"
check_eq "a new code: 200" 200 "$(as ta1 POST "$EXT/$ID_RSA/verification-code")"
CODE2=$(jbody .verification_code)
check_fails "the new code differs" test "$CODE" = "$CODE2"
check_eq "the proof made for the old code (replay): 422" 422 \
    "$(as ta1 POST "$EXT/$ID_RSA/verify" "$(jq -nc --rawfile c "$D/p_ok.pem" '{certificate: $c}')")"
sign p_ok2 ec "/CN=$CODE2" rsa
check_eq "both a proof and manual: 422" 422 \
    "$(as ta1 POST "$EXT/$ID_RSA/verify" "$(jq -nc --rawfile c "$D/p_ok2.pem" '{certificate: $c, manual: true}')")"
check_eq "Tenant Auditor may not verify: 403" 403 \
    "$(as tau1 POST "$EXT/$ID_RSA/verify" "$(jq -nc --rawfile c "$D/p_ok2.pem" '{certificate: $c}')")"
check_eq "the proof for the current code: 200" 200 \
    "$(as ta1 POST "$EXT/$ID_RSA/verify" "$(jq -nc --rawfile c "$D/p_ok2.pem" '{certificate: $c}')")"
check_eq "proof: verified" verified "$(jbody .status)"
check_eq "proof: verified by the Tenant Admin, at a time" true \
    "$(jbody '.verified_by_user_id > 0 and (.verified_at | length) > 0')"
check_eq "proof: no pending code" "false null" \
    "$(jbody '"\(.verification_pending) \(.verification_expires_at)"')"
check_eq "proof: the code is cleared" 1 \
    "$(db_sql "SELECT COUNT(*) FROM external_cas WHERE id = $ID_RSA
	AND verification_code IS NULL AND status = 'verified'")"
check_eq "proof: audited" 1 "$(audits external_ca verify "$ID_RSA")"
check_match "proof: the audit row names the method" proof_of_possession \
    "$(db_sql "SELECT details FROM audit_log WHERE entity = 'external_ca'
	AND action = 'verify' AND entity_id = $ID_RSA AND outcome = 'success'")"
check_eq "verified: no new code (409)" 409 \
    "$(as ta1 POST "$EXT/$ID_RSA/verification-code")"
check_eq "verified: no second verification (409)" 409 \
    "$(as ta1 POST "$EXT/$ID_RSA/verify" '{"manual": true}')"

# --- manual verification, verified on upload ----------------------------------------
check_eq "Tenant Admin may not verify a tenant-wide CA: 403" 403 \
    "$(as ta1 POST "$EXT/$ID_EC/verify" '{"manual": true}')"
check_eq "manual: false is 422" 422 \
    "$(as admin POST "$EXT/$ID_EC/verify" '{"manual": false}')"
check_eq "neither proof nor manual: 422" 422 \
    "$(as admin POST "$EXT/$ID_EC/verify" '{}')"
check_eq "Admin verifies by hand: 200" 200 \
    "$(as admin POST "$EXT/$ID_EC/verify" '{"manual": true}')"
check_eq "manual: verified" verified "$(jbody .status)"
# The web server's client-CA file follows the verified, active external CAs:
# "estuaryctl tls client-ca --follow" (the service that keeps it in step
# when estuary-api may not write it) into a file of this test's own.
CLIENT_CA=$T_TMP/follow-client-ca.pem
ctl tls client-ca --out "$CLIENT_CA" --follow 1 >"$T_TMP/follow.log" 2>&1 &
follow_pid=$!
stop_follow() { kill "$follow_pid" 2>/dev/null; wait "$follow_pid" 2>/dev/null; }
at_exit stop_follow
EC_FP=$(openssl x509 -in "$D/ec.pem" -noout -fingerprint -sha256)
# in_client_ca: succeeds when the EC CA's certificate is in the file.
in_client_ca() {
	local dir=$T_TMP/client-ca f

	rm -rf "$dir" && mkdir -p "$dir" || return 1
	[ -s "$CLIENT_CA" ] || return 1
	awk -v d="$dir" '/BEGIN CERTIFICATE/ { n++ } n { print > (d "/" n ".pem") }' \
	    "$CLIENT_CA"
	for f in "$dir"/*.pem; do
		[ -e "$f" ] || continue
		[ "$(openssl x509 -in "$f" -noout -fingerprint -sha256)" = \
		    "$EC_FP" ] && return 0
	done
	return 1
}
not_in_client_ca() { [ -s "$CLIENT_CA" ] && ! in_client_ca; }
check_within "verified: its certificate reaches the client-CA file" 20 in_client_ca
check_match "manual: audited as manual" '"manual"' \
    "$(db_sql "SELECT details FROM audit_log WHERE entity = 'external_ca'
	AND action = 'verify' AND entity_id = $ID_EC AND outcome = 'success'")"
check_eq "Tenant Auditor may not register verified: 403" 403 \
    "$(as tau1 POST $EXT "$(body "Third $RUN" "$D/third.pem" '{org_id: $o, verified: true}' --argjson o "$OID1B")")"
code=$(as ta1 POST $EXT "$(body "Third $RUN" "$D/third.pem" '{org_id: $o, verified: true, description: null}' --argjson o "$OID1B")")
check_eq "Tenant Admin registers verified on upload: 201" 201 "$code"
ID_3=$(jbody .id)
check_eq "verified on upload" "verified true" \
    "$(jbody '"\(.status) \(.verified_at != null)"')"
check_eq "Organization Operator of another organization: 404" 404 \
    "$(as oop1 GET "$EXT/$ID_3")"

# --- change -------------------------------------------------------------------------------
as ta1 GET "$EXT/$ID_RSA" >/dev/null
tag=$(etag)
check_eq "change without If-Match: 428" 428 \
    "$(as ta1 PATCH "$EXT/$ID_RSA" '{"description": "new"}')"
check_eq "change with a stale ETag: 412" 412 \
    "$(as ta1 PATCH "$EXT/$ID_RSA" '{"description": "new"}' -H 'If-Match: "AAAAAAAAAAAAAAAAAAAAAA"')"
check_eq "the certificate cannot change: 422" 422 \
    "$(as ta1 PUT "$EXT/$ID_RSA" "$(jq -nc --rawfile c "$D/ec.pem" '{certificate: $c}')" -H "If-Match: $tag")"
check_eq "renaming onto another CA's name: 409" 409 \
    "$(as ta1 PUT "$EXT/$ID_RSA" "$(jq -nc --arg n "Third $RUN" '{name: $n}')" -H "If-Match: $tag")"
check_eq "change with the ETag: 200" 200 \
    "$(as ta1 PATCH "$EXT/$ID_RSA" "$(jq -nc --arg n "RSA CA renamed $RUN" '{name: $n, description: "new"}')" -H "If-Match: $tag")"
check_eq "changed" "RSA CA renamed $RUN new" "$(jbody '"\(.name) \(.description)"')"
check_eq "change: audited" 1 "$(audits external_ca update "$ID_RSA")"
check_eq "Tenant Admin may not change a tenant-wide CA: 403" 403 \
    "$(as ta1 PATCH "$EXT/$ID_EC" '{"description": "x"}' -H 'If-Match: *')"

# --- activate, deactivate, delete --------------------------------------------------------
check_eq "delete an active CA: 409" 409 \
    "$(as admin DELETE "$EXT/$ID_EC" -H 'If-Match: *')"
check_eq "Tenant Auditor may not deactivate: 403" 403 \
    "$(as tau1 POST "$EXT/$ID_EC/deactivate")"
check_eq "Tenant Admin deactivates a tenant-wide CA of its tenant: 200" 200 \
    "$(as ta1 POST "$EXT/$ID_EC/deactivate")"
check_eq "deactivated" false "$(jbody .active)"
check_within "deactivated: it leaves the client-CA file" 20 not_in_client_ca
check_eq "deactivate: audited" 1 "$(audits external_ca deactivate "$ID_EC")"
check_eq "deactivating again changes nothing: 200" 200 \
    "$(as ta1 POST "$EXT/$ID_EC/deactivate")"
check_eq "deactivating again: no second audit row" 1 \
    "$(audits external_ca deactivate "$ID_EC")"
as admin GET "$EXT?name_contains=$RUN&active=false" >/dev/null
check_eq "filter active=false" "$ID_EC" "$(jbody '[.items[].id] | map(tostring) | join(" ")')"
check_eq "Tenant Admin reactivates it: 200" 200 "$(as ta1 POST "$EXT/$ID_EC/activate")"
check_eq "reactivated" true "$(jbody .active)"
check_within "reactivated: back in the client-CA file" 20 in_client_ca
check_eq "deactivate again (Admin): 200" 200 "$(as admin POST "$EXT/$ID_EC/deactivate")"

# A device type that uses the CA keeps it from being deleted.
db_sql "INSERT INTO device_types (name, scope, tenant_id, factory_source,
    external_ca_id) VALUES ('Extca DT $RUN', 'tenant', $TID1, 'external',
    $ID_EC)"
check_eq "delete while a device type uses it: 409" 409 \
    "$(as admin DELETE "$EXT/$ID_EC" -H 'If-Match: *')"
check_match "in use: says so" "device type" "$(jbody .error.message)"
db_sql "DELETE FROM device_types WHERE name = 'Extca DT $RUN'"
check_eq "Tenant Admin may not delete a tenant-wide CA: 403" 403 \
    "$(as ta1 DELETE "$EXT/$ID_EC" -H 'If-Match: *')"
check_eq "delete without If-Match: 428" 428 "$(as admin DELETE "$EXT/$ID_EC")"
as admin GET "$EXT/$ID_EC" >/dev/null
check_eq "delete with the ETag: 204" 204 \
    "$(as admin DELETE "$EXT/$ID_EC" -H "If-Match: $(etag)")"
check_eq "deleted: 404" 404 "$(as admin GET "$EXT/$ID_EC")"
check_eq "delete: audited" 1 "$(audits external_ca delete "$ID_EC")"
check_eq "inactive CA: no verification code (409)" 409 \
    "$(as ta1 POST "$EXT/$ID_3/deactivate" >/dev/null; as ta1 POST "$EXT/$ID_3/verification-code")"
check_eq "Tenant Admin deletes its organization's inactive CA: 204" 204 \
    "$(as ta1 DELETE "$EXT/$ID_3" -H 'If-Match: *')"

# --- an unverified CA cannot be verified while inactive -------------------------------
code=$(as admin POST $EXT "$(body "Fourth $RUN" "$D/fourth.pem" '{tenant_id: $t}' --argjson t "$TID2")")
check_eq "register a fourth CA: 201" 201 "$code"
ID_4=$(jbody .id)
check_eq "deactivate it: 200" 200 "$(as ta2 POST "$EXT/$ID_4/deactivate")"
check_eq "manual verification of an inactive CA: 409" 409 \
    "$(as admin POST "$EXT/$ID_4/verify" '{"manual": true}')"
check_eq "inactive: still unverified" unverified \
    "$(as admin GET "$EXT/$ID_4" >/dev/null; jbody .status)"

finish
