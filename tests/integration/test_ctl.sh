#!/bin/bash
#
# estuaryctl against a running instance (the ESTUARY_* variables of
# lib.sh): the signer answers, keys are generated in the token, a root and
# an issuing CA are created with their keys in the token only and a chain
# that openssl verifies, export and the web server's client CA file hold
# them, users and tenants refuse duplicates and store names verbatim, keys
# that no CA uses are destroyed and the others refused, the signer's
# journal detects a changed or removed line, and migrations run again
# apply nothing.  Names carry a per-run suffix, so the script can run
# against the same instance again.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

TAB=$'\t'

# --- the signer answers --------------------------------------------------------
out=$(ctl token info 2>&1)
check_match "token info: protocol version 1" '^protocol: 1$' \
    "$(printf '%s\n' "$out" | grep '^protocol:')"
check_match "token info: the token's label" '^token: [^ ]+$' \
    "$(printf '%s\n' "$out" | grep '^token:')"

# --- keys --------------------------------------------------------------------------
label="it-key-$RUN"
kid=$(ctl key generate --label "$label" --type ec-p256 --usage other 2>&1)
check_match "key generate prints a 16-byte id" '^[0-9a-f]{32}$' "$kid"
check_match "key list shows the new key" \
    "^$kid${TAB}$label${TAB}ec-p256${TAB}other\$" "$(ctl key list | grep -F "$label")"
check_fails "key generate refuses a label in use" \
    ctl key generate --label "$label" --type ec-p256 --usage other
check_fails "key generate: a CA key needs a subject" \
    ctl key generate --label "it-ca-$RUN" --type ec-p256 --usage ca
check_fails "key generate refuses an unknown key type" \
    ctl key generate --label "it-x-$RUN" --type ec-p521 --usage other

# --- a root and an issuing CA --------------------------------------------------------
root="IT Root $RUN"
issuing="it-issuing-$RUN"
root_id=$(ctl ca create --name "$root" \
    --subject "CN=IT Root $RUN,O=Estuary Tests,C=CH" --key-type ec-p384 \
    --days 30 --path-len 1 --out "$T_TMP/root.pem" 2>&1)
check_match "ca create (root) prints its id" '^[0-9]+$' "$root_id"
issuing_id=$(ctl ca create --name "$issuing" --parent "$root" \
    --subject "CN=IT Issuing $RUN,O=Estuary Tests,C=CH" --key-type ec-p256 \
    --days 20 --out "$T_TMP/issuing.pem" 2>&1)
check_match "ca create (issuing) prints its id" '^[0-9]+$' "$issuing_id"
check "openssl verifies the issuing CA against the root" \
    openssl verify -x509_strict -CAfile "$T_TMP/root.pem" "$T_TMP/issuing.pem"
check_fails "openssl does not verify the root against the issuing CA" \
    openssl verify -x509_strict -CAfile "$T_TMP/issuing.pem" "$T_TMP/root.pem"
check_match "the issuing CA is CA:TRUE with path length 0" \
    'CA:TRUE, pathlen:0' \
    "$(openssl x509 -in "$T_TMP/issuing.pem" -noout -ext basicConstraints 2>&1)"
check_match "the root is signed with ecdsa-with-SHA384" \
    'Signature Algorithm: ecdsa-with-SHA384' \
    "$(openssl x509 -in "$T_TMP/root.pem" -noout -text 2>&1)"

# An RSA issuer exercises the other signature algorithm.
check "ca create: an RSA root" ctl ca create --name "it-rsa-$RUN" \
    --subject "CN=IT RSA Root $RUN" --key-type rsa-2048 --days 10 \
    --out "$T_TMP/rsa.pem"
check "openssl verifies the self-signed RSA root" \
    openssl verify -x509_strict -CAfile "$T_TMP/rsa.pem" "$T_TMP/rsa.pem"
check_match "the RSA root is signed with sha256WithRSAEncryption" \
    'Signature Algorithm: sha256WithRSAEncryption' \
    "$(openssl x509 -in "$T_TMP/rsa.pem" -noout -text 2>&1)"

# Refusals that leave nothing behind.
check_fails "ca create refuses a child that outlives its parent" \
    ctl ca create --name "it-long-$RUN" --parent "$root" \
    --subject "CN=IT Long $RUN" --key-type ec-p256 --days 40
check_fails "ca create refuses a CA below a path length 0 CA" \
    ctl ca create --name "it-deep-$RUN" --parent "$issuing" \
    --subject "CN=IT Deep $RUN" --key-type ec-p256 --days 5
check_fails "ca create refuses a bad subject" \
    ctl ca create --name "it-bad-$RUN" --subject "CN=x,XX=y" \
    --key-type ec-p256 --days 5
check_eq "refused CAs are not in the list" "" \
    "$(ctl ca list | grep -E "it-(long|deep|bad)-$RUN")"
check_fails "ca create refuses an existing name" \
    ctl ca create --name "$issuing" --parent "$root" \
    --subject "CN=IT Issuing $RUN,O=Estuary Tests,C=CH" --key-type ec-p256 \
    --days 20
rm -f "$T_TMP/again.pem"
check_eq "ca create --exists-ok prints the existing id" "$issuing_id" \
    "$(ctl ca create --name "$issuing" --parent "$root" \
    --subject "CN=IT Issuing $RUN,O=Estuary Tests,C=CH" --key-type ec-p256 \
    --days 20 --out "$T_TMP/again.pem" --exists-ok 2>/dev/null)"
check_eq "ca create --exists-ok rewrites --out from the database" \
    "$(fp "$T_TMP/issuing.pem")" "$(fp "$T_TMP/again.pem")"

# A key left in the token by a ca create that stopped before storing the
# CA is taken over when the signer confirms it is bound to the CA's
# subject, and refused otherwise.
left="it-left-$RUN"
lkid=$(ctl key generate --label "ca-$left" --type ec-p256 --usage ca \
    --subject "CN=IT Left $RUN" 2>&1)
check "ca create takes over a left-over key bound to its subject" \
    ctl ca create --name "$left" --parent "$root" \
    --subject "CN=IT Left $RUN" --key-type ec-p256 --days 5
check_eq "the CA uses the left-over key" "${lkid:-no key}" \
    "$(db_sql "SELECT LOWER(HEX(key_id)) FROM cas WHERE name = '$left'")"
ctl key generate --label "ca-it-other-$RUN" --type ec-p256 --usage ca \
    --subject "CN=Someone Else $RUN" >/dev/null 2>&1
check_match "ca create refuses a left-over key bound to another subject" \
    'bound to another subject' \
    "$(ctl ca create --name "it-other-$RUN" --parent "$root" \
    --subject "CN=IT Other $RUN" --key-type ec-p256 --days 5 2>&1)"
ctl key generate --label "ca-it-type-$RUN" --type ec-p384 --usage ca \
    --subject "CN=IT Type $RUN" >/dev/null 2>&1
check_match "ca create refuses a left-over key of another type" \
    'another type or usage' \
    "$(ctl ca create --name "it-type-$RUN" --subject "CN=IT Type $RUN" \
    --key-type ec-p256 --days 5 2>&1)"
check_eq "the refused CAs are not stored" "" \
    "$(ctl ca list | grep -E "it-(other|type)-$RUN")"

# --- the keys are in the token, and only there ---------------------------------------
line=$(ctl key list | awk -F '\t' -v l="ca-$issuing" '$2 == l')
check_match "key list shows the issuing CA's key (usage ca)" \
    "^[0-9a-f]{32}${TAB}ca-$issuing${TAB}ec-p256${TAB}ca\$" "$line"
ikid=${line%%"$TAB"*}
check_eq "the database refers to that key by its id" \
    "$(printf '%s' "${ikid:-no key}" | tr 'a-f' 'A-F')" \
    "$(db_sql "SELECT HEX(key_id) FROM cas WHERE id = ${issuing_id//[^0-9]/}")"
db_admin mariadb-dump --hex-blob --no-tablespaces --single-transaction \
    --skip-extended-insert "$(conf db_name estuary)" >"$T_TMP/dump.sql" 2>&1
check_match "the database dump holds the issuing CA" "CN=IT Issuing $RUN" \
    "$(grep -o "CN=IT Issuing $RUN" "$T_TMP/dump.sql" | head -n 1)"
# PEM armour, PKCS#8 (version 0 and an EC or RSA algorithm) and
# ECPrivateKey (version 1 and a 32- or 48-byte secret) in any blob.
check_eq "no private key in the database, in any encoding" "" \
    "$(grep -oiE 'PRIVATE KEY|020100301306072A8648CE3D0201|020100300D06092A864886F70D010101|30770201010420|3081A40201010430' \
    "$T_TMP/dump.sql" | head -n 3)"

# --- export --------------------------------------------------------------------------
ctl ca export "$issuing" --chain >"$T_TMP/chain.pem" 2>&1
check_eq "ca export --chain gives two certificates" 2 \
    "$(grep -c 'BEGIN CERTIFICATE' "$T_TMP/chain.pem")"
awk '/BEGIN CERT/ { n++ } { print > (dir "/chain-" n ".pem") }' \
    dir="$T_TMP" "$T_TMP/chain.pem"
check_eq "the chain starts with the issuing CA" "$(fp "$T_TMP/issuing.pem")" \
    "$(fp "$T_TMP/chain-1.pem")"
check_eq "and ends with the root" "$(fp "$T_TMP/root.pem")" \
    "$(fp "$T_TMP/chain-2.pem")"
check "ca export --format der --out" \
    ctl ca export "$issuing" --format der --out "$T_TMP/issuing.der"
check_eq "the DER export is the issuing CA" "$(fp "$T_TMP/issuing.pem")" \
    "$(fp "$T_TMP/issuing.der" DER)"
check_fails "ca export of an unknown CA fails" ctl ca export "it-none-$RUN"

# --- the web server's client CA file -------------------------------------------------
out=$(ctl tls client-ca --out "$T_TMP/client-ca.pem" 2>&1)
check_match "tls client-ca writes the file" 'updated$' "$out"
openssl crl2pkcs7 -nocrl -certfile "$T_TMP/client-ca.pem" 2>/dev/null |
    openssl pkcs7 -print_certs -noout >"$T_TMP/client-ca.txt" 2>&1
check_match "the client CA file holds the root" "subject=.*CN ?= ?IT Root $RUN" \
    "$(cat "$T_TMP/client-ca.txt")"
check_match "the client CA file holds the issuing CA" \
    "subject=.*CN ?= ?IT Issuing $RUN" "$(cat "$T_TMP/client-ca.txt")"
check_eq "the client CA file has mode 0644" 644 \
    "$(stat -c %a "$T_TMP/client-ca.pem")"
check_match "tls client-ca again: unchanged" 'unchanged$' \
    "$(ctl tls client-ca --out "$T_TMP/client-ca.pem" 2>&1)"

# --follow: the file follows CA changes made meanwhile (here a new root CA,
# then the same CA deactivated through the API), checked every second.
in_file() {
	openssl crl2pkcs7 -nocrl -certfile "$T_TMP/follow.pem" 2>/dev/null |
	    openssl pkcs7 -print_certs -noout 2>/dev/null |
	    grep -Eq "subject=.*CN ?= ?IT Follow $RUN"
}
not_in_file() { ! in_file; }
ctl tls client-ca --out "$T_TMP/follow.pem" --follow 1 \
    >"$T_TMP/follow.log" 2>&1 &
follow_pid=$!
stop_follow() { kill "$follow_pid" 2>/dev/null; wait "$follow_pid" 2>/dev/null; }
at_exit stop_follow
check_match "tls client-ca --follow 0 is refused" 'follow' \
    "$(ctl tls client-ca --out "$T_TMP/x.pem" --follow 0 2>&1)"
followed=$(ctl ca create --name "it-follow-$RUN" --subject "CN=IT Follow $RUN" \
    --key-type ec-p256 --days 30 2>/dev/null)
check_match "a CA made while --follow runs" '^[0-9]+' "$followed"
check_within "--follow adds the new CA to the file" 20 in_file
check_eq "admin login for the API part" 200 \
    "$(session admin "$ESTUARY_ADMIN_USER" "$ESTUARY_ADMIN_PASSWORD")"
check_eq "deactivate that CA through the API: 200" 200 \
    "$(as admin POST "/api/v1/cas/${followed%% *}/deactivate")"
check_within "--follow removes the deactivated CA" 20 not_in_file
stop_follow
# The first check writes the new file, then one line per change.
check_match "--follow reported the file and both changes" '^3$' \
    "$(grep -c 'updated$' "$T_TMP/follow.log")"

# --- tenants and users -----------------------------------------------------------------
tenant="it-$RUN x'); DROP TABLE tenants; -- \"%_\\"
tid=$(ctl tenant add "$tenant" --description "SQL metacharacters" 2>&1)
check_match "tenant add with SQL metacharacters prints its id" '^[0-9]+$' \
    "$tid"
check_eq "the name is stored verbatim" "$tenant" \
    "$(db_sql "SELECT name FROM tenants WHERE id = ${tid:-0}")"
out=$(ctl tenant add "$tenant" 2>&1)
check_match "a second tenant add says it exists" 'already exists' "$out"
check_fails "a second tenant add fails" ctl tenant add "$tenant"
check_eq "tenant add --exists-ok prints the same id" "$tid" \
    "$(ctl tenant add "$tenant" --exists-ok 2>/dev/null)"
check "org add finds the tenant by its exact name" \
    ctl org add --tenant "$tenant" "Org $RUN"
check "ca create scoped to that tenant" ctl ca create --name "it-t-$RUN" \
    --subject "CN=IT Tenant $RUN" --key-type ec-p256 --days 5 \
    --tenant "$tenant"
check_match "ca list shows the tenant-scoped CA" \
    "^[0-9]+${TAB}it-t-$RUN${TAB}ec-p256${TAB}-${TAB}tenant${TAB}CN=IT Tenant $RUN\$" \
    "$(ctl ca list | grep -F "it-t-$RUN")"

user="it-user-$RUN"
pw=$(ctl user add --username "$user" --role tenant_admin --tenant "$tenant" \
    2>&1)
check_match "user add prints a generated password once" \
    '^[A-Za-z0-9_-]{24}$' "$pw"
check_fails "user add of the same user again fails" \
    ctl user add --username "$user" --role tenant_admin --tenant "$tenant"
check "user add --exists-ok accepts it" \
    ctl user add --username "$user" --role tenant_admin --tenant "$tenant" \
    --exists-ok
# The dollar signs are the hash's own, not the shell's.
# shellcheck disable=SC2016
check_match "only an argon2id hash is stored" '^\$argon2id\$v=19\$m=65536,t=3,p=1\$' \
    "$(db_sql "SELECT password_hash FROM users WHERE username = '$user'")"
check_eq "the password itself is not stored" 0 \
    "$(db_sql "SELECT COUNT(*) FROM users WHERE password_hash LIKE '%${pw:-x}%'")"
printf '%s\n' "file password $RUN" >"$T_TMP/pw"
check_match "user add --password-file prints the id" '^[0-9]+$' \
    "$(ctl user add --username "$user-2" --admin --password-file "$T_TMP/pw" \
    2>&1)"
check_fails "user add refuses a tenant role without a tenant" \
    ctl user add --username "$user-3" --role tenant_operator

# --- destroying keys ---------------------------------------------------------------------
# An officer destroys keys that nothing uses: the database says which are
# in use (a CA's key, a CA's OCSP responder key), and the signer journals
# each destruction.
dlabel="it-destroy-$RUN"
dkid=$(ctl key generate --label "$dlabel" --type ec-p256 --usage other 2>&1)
check_match "key generate: a key to destroy" '^[0-9a-f]{32}$' "$dkid"
check_match "key list --unused shows it" \
    "^$dkid${TAB}$dlabel${TAB}ec-p256${TAB}other\$" \
    "$(ctl key list --unused | grep -F "$dlabel")"
ikid=$(db_sql "SELECT LOWER(HEX(key_id)) FROM cas WHERE id = ${issuing_id//[^0-9]/}")
check_match "the issuing CA's key id from the database" '^[0-9a-f]{32}$' "$ikid"
check_eq "key list --unused leaves out a CA's key" "" \
    "$(ctl key list --unused | grep -F "${ikid:-no key}")"
check_match "key list without --unused has it" "^$ikid${TAB}ca-$issuing${TAB}" \
    "$(ctl key list | grep -F "${ikid:-no key}")"
out=$(ctl key destroy "$dkid" 2>&1)
rc=$?
check_eq "key destroy: exit 0" 0 "$rc"
check_eq "key destroy names the key and its label" "destroyed $dkid ($dlabel)" \
    "$out"
check_eq "the destroyed key is gone from key list" "" \
    "$(ctl key list | grep -F "$dkid")"
out=$(ctl key destroy "$dkid" 2>&1)
rc=$?
check_eq "key destroy again: exit 1" 1 "$rc"
check_match "key destroy again: no such key" "no such key $dkid\$" "$out"
out=$(ctl key destroy "$ikid" 2>&1)
rc=$?
check_eq "key destroy of a CA's key: exit 1" 1 "$rc"
check_match "the refusal names the CA" "is the key of CA '$issuing'" "$out"
check_match "the CA's key is still listed" "^$ikid${TAB}ca-$issuing${TAB}" \
    "$(ctl key list | grep -F "$ikid")"
check_match "a short id is a usage error" "'abc' is not a key id" \
    "$(ctl key destroy abc 2>&1)"
check_fails "a short id: exit status 1" ctl key destroy abc
check_match "32 characters that are not hex: usage error" 'is not a key id' \
    "$(ctl key destroy "${dkid//[0-9a-f]/g}" 2>&1)"
check_fails "key destroy without an id" ctl key destroy
# A delegated OCSP responder key is in use; the one it replaces is not.
R="/api/v1/cas/${issuing_id//[^0-9]/}/ocsp-responder"
check_eq "an OCSP responder for the issuing CA (201)" 201 \
    "$(as admin POST "$R" '{"validity_days": 5}')"
okid=$(db_sql "SELECT LOWER(HEX(ocsp_key_id)) FROM cas WHERE id = ${issuing_id//[^0-9]/}")
check_match "key destroy of an OCSP responder key: refused, naming the CA" \
    "is the OCSP responder key of CA '$issuing'" \
    "$(ctl key destroy "${okid:-0}" 2>&1)"
check_eq "a new responder replaces it (201)" 201 \
    "$(as admin POST "$R" '{"validity_days": 5}')"
check_match "the replaced responder key is unused now" "^$okid${TAB}" \
    "$(ctl key list --unused | grep -F "${okid:-no key}")"
check_match "and can be destroyed" "^destroyed $okid " \
    "$(ctl key destroy "${okid:-0}" 2>&1)"
# A deleted CA leaves its key behind, free to destroy.
gone="it-gone-$RUN"
gone_id=$(ctl ca create --name "$gone" --subject "CN=IT Gone $RUN" \
    --key-type ec-p256 --days 5 2>/dev/null)
gkid=$(db_sql "SELECT LOWER(HEX(key_id)) FROM cas WHERE id = ${gone_id//[^0-9]/0}")
check_match "a CA to delete, with its key" '^[0-9a-f]{32}$' "$gkid"
as admin POST "/api/v1/cas/${gone_id//[^0-9]/}/deactivate" >/dev/null
as admin GET "/api/v1/cas/${gone_id//[^0-9]/}" >/dev/null
check_eq "delete the CA through the API (204)" 204 \
    "$(as admin DELETE "/api/v1/cas/${gone_id//[^0-9]/}" -H "If-Match: $(etag)")"
check_match "its key stays in the token" "^$gkid${TAB}ca-$gone${TAB}" \
    "$(ctl key list --unused | grep -F "${gkid:-no key}")"
check_eq "and is destroyed on request" "destroyed $gkid (ca-$gone)" \
    "$(ctl key destroy "${gkid:-0}" 2>&1)"
idhash=$(perl -e 'print pack("H*", $ARGV[0])' "$dkid" | sha256sum | cut -d' ' -f1)
check_match "the journal has the destruction, hashing the key id" \
    "^[0-9]+ [0-9]+ $dkid destroy $idhash [0-9a-f]{64} [0-9a-f]{64}\$" \
    "$(grep -F " $dkid destroy " \
    "$(conf signer_journal /var/lib/estuary/signer/journal)")"

# --- the signer's journal ----------------------------------------------------------------
journal=$(conf signer_journal /var/lib/estuary/signer/journal)
out=$(ctl journal verify 2>&1)
check_match "journal verify: OK" '^journal OK: [0-9]+ entries$' "$out"
n=$(printf '%s' "$out" | sed -n 's/^journal OK: \([0-9]*\) entries$/\1/p')
check_match "the journal has this run's signatures" '^([4-9]|[1-9][0-9]+)$' \
    "${n:-0}"
cp "$journal" "$T_TMP/journal"
check_match "an intact copy verifies" '^journal OK' \
    "$(ctl journal verify "$T_TMP/journal" 2>&1)"
# Line 2's data hash (field 5) gets one digit changed.
awk 'NR == 2 { c = substr($5, 1, 1); $5 = (c == "0" ? "1" : "0") \
    substr($5, 2) } { print }' "$T_TMP/journal" >"$T_TMP/changed"
check_match "a changed line: BROKEN at that line" 'journal BROKEN at line 2$' \
    "$(ctl journal verify "$T_TMP/changed" 2>&1)"
check_fails "a changed line: exit status 1" ctl journal verify "$T_TMP/changed"
sed '3d' "$T_TMP/journal" >"$T_TMP/removed"
check_match "a removed line: BROKEN at that line" 'journal BROKEN at line 3$' \
    "$(ctl journal verify "$T_TMP/removed" 2>&1)"

# --- migrations ----------------------------------------------------------------------------
check_match "db migrate again applies nothing" \
    '^applied 0 migrations, schema version [1-9][0-9]*$' \
    "$(ctl db migrate 2>&1)"
check_eq "db version agrees" \
    "$(ctl db migrate 2>&1 | sed 's/.*schema version //')" \
    "$(ctl db version 2>&1)"

finish
