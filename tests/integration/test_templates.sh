#!/bin/bash
#
# Custom extensions and certificate templates over HTTPS (fcgi/api_pki.h):
# create, read, list with filters, update with If-Match (428, 412), the
# value of every extension type encoded to the exact DER, activate,
# deactivate and delete (409 while in use or active); every validation
# refusal answered 422 naming the field (400 malformed, 415 wrong media
# type) with nothing written; scope and permissions (404 for another
# tenant's objects, 403 for a Tenant Operator's create, a CA or an
# extension from outside the template's scope refused); the Wi-SUN FAN
# template of docs/templates/wisun-fan.json; the audit rows of changes.
# Names carry a per-run suffix so that it can run again on the same
# instance.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PW="pw-$RUN-Secret"
EXT=/api/v1/custom-extensions
TPL=/api/v1/cert-templates
WISUN="$ESTUARY_SRCDIR/docs/templates/wisun-fan.json"

next() { # the count of rows of TABLE
	db_sql "SELECT COUNT(*) FROM $1"
}

# post_tpl WHO JQ-EXPR: POST a template made from the base body by a jq
# expression; prints the status.
post_tpl() {
	as "$1" POST $TPL "$(jq -c "$2" <<<"$BASE")"
}

admin_session

# --- setup: two tenants, an organization, users, CAs -------------------------
T1="Tpl T1 $RUN"
T2="Tpl T2 $RUN"
check_eq "setup: tenant 1" 201 "$(tenant_post admin "$T1")"
TID1=$(jbody .id)
check_eq "setup: tenant 2" 201 "$(tenant_post admin "$T2")"
TID2=$(jbody .id)
check_eq "setup: organization in tenant 1" 201 \
    "$(org_post admin "Tpl O1 $RUN" "$TID1")"
OID1=$(jbody .id)
mkuser() { # WHO ROLE TENANT [ORG]
	user_post "tpl-$1-$RUN" "$PW" "$2" "$3" "$4"
}
check_eq "setup: tenant admin 1" 201 "$(mkuser ta1 tenant_admin "$TID1")"
check_eq "setup: tenant admin 2" 201 "$(mkuser ta2 tenant_admin "$TID2")"
check_eq "setup: tenant operator 1" 201 "$(mkuser to1 tenant_operator "$TID1")"
check_eq "setup: organization operator 1" 201 \
    "$(mkuser oo1 org_operator "$TID1" "$OID1")"
for who in ta1 ta2 to1 oo1; do
	check_eq "setup: $who logs in" 200 "$(session $who "tpl-$who-$RUN" "$PW")"
done

CAG=$(ctl ca create --name "Tpl Root $RUN" --subject "CN=Tpl Root $RUN" \
    --key-type ec-p256 --days 30 2>&1)
check_match "setup: a global root CA" '^[0-9]+$' "$CAG"
CA2=$(ctl ca create --name "Tpl T2 Root $RUN" --subject "CN=Tpl T2 $RUN" \
    --key-type ec-p256 --days 30 --tenant "$T2" 2>&1)
check_match "setup: a root CA of tenant 2" '^[0-9]+$' "$CA2"
CAOFF=$(ctl ca create --name "Tpl Off $RUN" --subject "CN=Tpl Off $RUN" \
    --key-type ec-p256 --days 30 2>&1)
check_match "setup: a CA to deactivate" '^[0-9]+$' "$CAOFF"
db_sql "UPDATE cas SET active = FALSE WHERE id = $CAOFF"

# --- custom extensions: every type encodes to its exact DER --------------------
mkext() { # WHO NAME OID TYPE VALUE [JQ-EXTRA]
	as "$1" POST $EXT "$(jq -nc --arg n "$2 $RUN" --arg o "$3" --arg t "$4" \
	    --arg v "$5" "{name: \$n, oid: \$o, value_type: \$t, value: \$v} ${6:+| . + $6}")"
}
# Private OIDs of this run, so that the OID filter finds this run's rows.
XOID=1.3.6.1.4.1.99999.$((16#$RUN))
declare -A EXTS
while read -r type value der; do
	code=$(mkext admin "ext-$type" "$XOID.$((${#EXTS[@]} + 1))" "$type" "$value")
	check_eq "extension $type: 201" 201 "$code"
	EXTS[$type]=$(jbody .id)
	check_eq "extension $type: value_der" "$der" "$(jbody .value_der)"
done <<'EOF'
utf8string Zürich 0c075ac3bc72696368
printablestring Test-1 1306546573742d31
ia5string a@b.c 16056140622e63
octetstring 0A1b 04020a1b
integer -129 0202ff7f
boolean true 0101ff
oid 1.3.6.1.4.1.45605.1 06092b0601040182e42501
der 3003020101 3003020101
EOF
XU=${EXTS[utf8string]}
check_eq "extension create: Location" "$EXT/${EXTS[der]}" "$(header Location)"
check_match "extension create: a strong ETag" '^"[A-Za-z0-9_-]{22}"$' "$(etag)"
check_eq "extension create: audited" 1 "$(audits custom_extension create "$XU")"
as admin GET "$EXT/$XU" >/dev/null
check_eq "extension read: the value as typed" 'Zürich' "$(jbody .value)"
check_eq "extension read: global" global "$(jbody .scope)"
check_eq "extension read: not critical by default" false "$(jbody .critical)"

# --- custom extensions: refusals, each naming its field, nothing written --------
n=$(next custom_extensions)
refuse_ext() { # DESCRIPTION FIELD OID TYPE VALUE
	check_eq "extension refused ($1): 422" 422 \
	    "$(mkext admin "bad-$1" "$3" "$4" "$5")"
	check_eq "extension refused ($1): field" "$2" "$(jbody .error.field)"
}
refuse_ext "OID arc 40 under 1" oid 1.40 utf8string x
refuse_ext "OID with a leading zero" oid 1.3.06 utf8string x
refuse_ext "OID of one arc" oid 1 utf8string x
refuse_ext "basic constraints OID" oid 2.5.29.19 der 3000
refuse_ext "SAN OID" oid 2.5.29.17 der 3000
refuse_ext "AIA OID" oid 1.3.6.1.5.5.7.1.1 der 3000
refuse_ext "integer with a leading zero" value 1.2.3 integer 01
refuse_ext "integer with a plus" value 1.2.3 integer +1
refuse_ext "PrintableString with @" value 1.2.3 printablestring a@b
refuse_ext "IA5String with a non-ASCII letter" value 1.2.3 ia5string "é"
refuse_ext "odd hex" value 1.2.3 octetstring abc
refuse_ext "boolean yes" value 1.2.3 boolean yes
refuse_ext "bad OID value" value 1.2.3 oid 1.40
refuse_ext "truncated DER" value 1.2.3 der 30030201
refuse_ext "DER with trailing bytes" value 1.2.3 der 3003020101ff
refuse_ext "indefinite length" value 1.2.3 der 30800201010000
refuse_ext "unknown value type" value_type 1.2.3 bitstring 00
check_eq "extension refused (missing value): 422" 422 \
    "$(as admin POST $EXT "$(jq -nc --arg n "nv $RUN" '{name: $n, oid: "1.2.3", value_type: "der"}')")"
check_eq "extension refused (missing value): field" value "$(jbody .error.field)"
check_eq "extension refused (unknown member): 422" 422 \
    "$(mkext admin unk 1.2.3 boolean true '{colour: "red"}')"
check_eq "extension refused (unknown member): named" colour "$(jbody .error.field)"
check_eq "extension refused (malformed JSON): 400" 400 \
    "$(as admin POST $EXT '{"name": "x",}')"
check_eq "extension refused (text/plain): 415" 415 \
    "$(as admin POST $EXT -H 'Content-Type: text/plain' --data-binary '{"name": "x"}')"
check_eq "extension refused (duplicate name): 409" 409 \
    "$(mkext admin ext-boolean 1.2.3 boolean true)"
check_eq "extension refused (duplicate name): field" name "$(jbody .error.field)"
check_eq "extension refused (global scope with a tenant): 422" 422 \
    "$(mkext admin sc 1.2.3 boolean true "{scope: \"global\", tenant_id: $TID1}")"
check_eq "extension refused (organization of another tenant): 422" 422 \
    "$(mkext admin sc 1.2.3 boolean true "{tenant_id: $TID2, org_id: $OID1}")"
check_eq "extension refused (organization of another tenant): field" org_id \
    "$(jbody .error.field)"
check_eq "extension refusals wrote nothing" "$n" "$(next custom_extensions)"

# --- custom extensions: list, filters, update with If-Match ------------------------
as admin GET "$EXT?oid=$XOID.5" >/dev/null
check_eq "extension list: filter by oid" "${EXTS[integer]}" \
    "$(jbody '[.items[].id]|join(" ")')"
as admin GET "$EXT?name=ext-boolean%20$RUN" >/dev/null
check_eq "extension list: filter by name" "${EXTS[boolean]}" \
    "$(jbody '[.items[].id]|join(" ")')"
check_eq "extension list: unknown filter is 400" 400 "$(as admin GET "$EXT?colour=red")"
as admin GET "$EXT/${EXTS[integer]}" >/dev/null
XTAG=$(etag)
check_eq "extension update without If-Match: 428" 428 \
    "$(as admin PATCH "$EXT/${EXTS[integer]}" '{"value": "256"}')"
check_eq "extension update, stale If-Match: 412" 412 \
    "$(as admin PATCH "$EXT/${EXTS[integer]}" '{"value": "256"}' -H 'If-Match: "AAAAAAAAAAAAAAAAAAAAAA"')"
check_eq "extension update, bad value: 422" 422 \
    "$(as admin PUT "$EXT/${EXTS[integer]}" '{"value": "2.5"}' -H "If-Match: $XTAG")"
check_eq "extension update, bad value: field" value "$(jbody .error.field)"
check_eq "extension update: 200" 200 \
    "$(as admin PUT "$EXT/${EXTS[integer]}" '{"value": "256", "critical": true}' -H "If-Match: $XTAG")"
check_eq "extension update: re-encoded" 02020100 "$(jbody .value_der)"
check_eq "extension update: critical" true "$(jbody .critical)"
check_eq "extension update: audited" 1 "$(audits custom_extension update "${EXTS[integer]}")"
check_match "extension update: the audit row has before and after" \
    '"before":\{.*"value":"-129".*"after":\{.*"value":"256"' \
    "$(db_sql "SELECT details FROM audit_log WHERE entity = 'custom_extension' AND action = 'update' AND entity_id = ${EXTS[integer]}")"
check_eq "extension update, old ETag: 412" 412 \
    "$(as admin PATCH "$EXT/${EXTS[integer]}" '{"value": "1"}' -H "If-Match: $XTAG")"
check_eq "extension: changing the type re-checks the value: 422" 422 \
    "$(as admin PATCH "$EXT/${EXTS[integer]}" '{"value_type": "boolean"}' -H 'If-Match: *')"

# --- custom extensions: scope and roles -------------------------------------------
check_eq "tenant admin creates a tenant extension: 201" 201 \
    "$(mkext ta1 ext-t1 1.3.6.1.4.1.99999.2 boolean false "{scope: \"tenant\", tenant_id: $TID1}")"
XT1=$(jbody .id)
check_eq "tenant admin: a global extension is 403" 403 \
    "$(mkext ta1 ext-g 1.3.6.1.4.1.99999.3 boolean false)"
check_eq "tenant admin: an extension in another tenant is 404" 404 \
    "$(mkext ta1 ext-t2 1.3.6.1.4.1.99999.3 boolean false "{tenant_id: $TID2}")"
check_eq "tenant admin of another tenant reads it: 404" 404 "$(as ta2 GET "$EXT/$XT1")"
check_eq "tenant admin of another tenant changes it: 404" 404 \
    "$(as ta2 PATCH "$EXT/$XT1" '{"critical": true}' -H 'If-Match: *')"
check_eq "tenant admin reads a global extension: 200" 200 "$(as ta1 GET "$EXT/$XU")"
check_eq "tenant admin changes a global extension: 403" 403 \
    "$(as ta1 PATCH "$EXT/$XU" '{"critical": true}' -H 'If-Match: *')"
as ta2 GET "$EXT?limit=500" >/dev/null
check_eq "tenant admin 2's list hides tenant 1's extension" 0 \
    "$(jbody "[.items[] | select(.id == $XT1)] | length")"
as ta1 GET "$EXT?limit=500" >/dev/null
check_eq "tenant admin 1's list has its own and the global ones" 2 \
    "$(jbody "[.items[] | select(.id == $XT1 or .id == $XU)] | length")"
check_eq "tenant operator creates an extension: 403" 403 \
    "$(mkext to1 ext-op 1.3.6.1.4.1.99999.4 boolean false "{tenant_id: $TID1}")"
check_eq "denied create audited" 1 \
    "$(db_sql "SELECT COUNT(*) > 0 FROM audit_log WHERE entity = 'custom_extension' AND action = 'create' AND outcome = 'denied'")"

# --- templates: the base used below ------------------------------------------------
BASE=$(jq -nc --arg n "Tpl Base $RUN" --argjson ca "$CAG" --argjson x "$XU" '{
	name: $n, description: "base", type: "general", ca_id: $ca,
	validity_days: 365, key_types: ["ec-p256", "rsa-2048"],
	server_keygen: true, keygen_key_type: "ec-p256", digest: "sha256",
	key_usage: ["digitalSignature", "keyEncipherment"],
	extended_key_usage: ["serverAuth", "clientAuth"],
	basic_constraints: {include: true, ca: false, path_len: null, critical: true},
	crl_distribution_point: true, ocsp: true, ca_issuers: false,
	key_retention_days: 7,
	subject_fields: [
		{attribute: "C", rule: "fixed", max_length: 2, default_value: "CH"},
		{attribute: "O", rule: "fixed", default_value: "Estuary"},
		{oid: "2.5.4.3", rule: "required", max_length: 64}
	],
	san_fields: [{type: "dns", rule: "optional", max_length: 253}],
	custom_extensions: [{id: $x}]}')

code=$(as admin POST $TPL "$BASE")
check_eq "template create: 201" 201 "$code"
TB=$(jbody .id)
check_eq "template create: Location" "$TPL/$TB" "$(header Location)"
check_match "template create: a strong ETag" '^"[A-Za-z0-9_-]{22}"$' "$(etag)"
check_eq "template create: key types" "ec-p256 rsa-2048" "$(jbody '.key_types|join(" ")')"
check_eq "template create: EKU by name" "serverAuth clientAuth" \
    "$(jbody '.extended_key_usage|join(" ")')"
check_eq "template create: subject fields in order" "C O CN" \
    "$(jbody '[.subject_fields[].attribute]|join(" ")')"
check_eq "template create: CN named from its OID" 2.5.4.3 "$(jbody '.subject_fields[2].oid')"
check_eq "template create: the extension attached" "$XU" "$(jbody '.custom_extensions[0].id')"
check_eq "template create: validity" "365 false" "$(jbody '"\(.validity_days) \(.unlimited)"')"
check_eq "template create: active" true "$(jbody .active)"
check_eq "template create: audited" 1 "$(audits cert_template create "$TB")"
check_match "template create: the audit row has the settings" '"subject_fields"' \
    "$(db_sql "SELECT details FROM audit_log WHERE entity = 'cert_template' AND action = 'create' AND entity_id = $TB")"
check_eq "template create: the rows" "3 1 1" \
    "$(db_sql "SELECT (SELECT COUNT(*) FROM cert_template_subject_fields WHERE template_id = $TB),
	(SELECT COUNT(*) FROM cert_template_san_fields WHERE template_id = $TB),
	(SELECT COUNT(*) FROM cert_template_extensions WHERE template_id = $TB)" | tr '\t' ' ')"
check_eq "template create: key types stored as the SET" "ec_p256,rsa_2048 digitalSignature,keyEncipherment" \
    "$(db_sql "SELECT key_types, key_usage FROM cert_templates WHERE id = $TB" | tr '\t' ' ')"
check_eq "template create: EKU stored as OIDs" '["1.3.6.1.5.5.7.3.1","1.3.6.1.5.5.7.3.2"]' \
    "$(db_sql "SELECT eku FROM cert_templates WHERE id = $TB")"
check_eq "template read: 200" 200 "$(as admin GET "$TPL/$TB")"
check_eq "template read: fixed default" Estuary "$(jbody '.subject_fields[1].default_value')"

# --- the Wi-SUN FAN template ----------------------------------------------------------
code=$(as admin POST $TPL "$(jq -c --arg n "Wi-SUN FAN $RUN" --argjson ca "$CAG" \
    '. + {name: $n, ca_id: $ca}' "$WISUN")")
check_eq "Wi-SUN template (docs/templates/wisun-fan.json): 201" 201 "$code"
TW=$(jbody .id)
check_eq "Wi-SUN: empty subject" 0 "$(jbody '.subject_fields|length')"
check_eq "Wi-SUN: one required hardwareModuleName otherName" \
    "othername 1.3.6.1.5.5.7.8.4 hardware_module_name required" \
    "$(jbody '.san_fields[0] | "\(.type) \(.othername_oid) \(.othername_encoding) \(.rule)"')"
check_eq "Wi-SUN: critical SAN" true "$(jbody .san_critical)"
check_eq "Wi-SUN: EKU clientAuth and id-kp-wisun-fan-device" \
    "clientAuth 1.3.6.1.4.1.45605.1" "$(jbody '.extended_key_usage|join(" ")')"
check_eq "Wi-SUN: unlimited validity" "null true" "$(jbody '"\(.validity_days) \(.unlimited)"')"
check_eq "Wi-SUN: EC P-256 only" ec-p256 "$(jbody '.key_types|join(" ")')"
check_eq "Wi-SUN: validity stored as NULL" NULL \
    "$(db_sql "SELECT IFNULL(validity_days, 'NULL') FROM cert_templates WHERE id = $TW")"

# --- templates: every validation refusal names its field, nothing is written ------
n=$(next cert_templates)
nf=$(next cert_template_subject_fields)
refuse() { # DESCRIPTION FIELD JQ-EXPR
	check_eq "template refused ($1): 422" 422 "$(post_tpl admin "$3")"
	check_eq "template refused ($1): field" "$2" "$(jbody .error.field)"
}
refuse "no name" name 'del(.name)'
refuse "no type" type 'del(.type)'
refuse "unknown type" type '.type = "device"'
refuse "no CA" ca_id 'del(.ca_id)'
refuse "no key types" key_types 'del(.key_types)'
refuse "empty key types" key_types '.key_types = []'
refuse "unknown key type" 'key_types[0]' '.key_types = ["ec-p521"]'
refuse "no validity" validity_days 'del(.validity_days)'
refuse "validity 0 days" validity_days '.validity_days = 0'
refuse "validity 36501 days" validity_days '.validity_days = 36501'
refuse "validity and unlimited" unlimited '.unlimited = true'
refuse "keygen type outside the key types" keygen_key_type '.keygen_key_type = "rsa-4096"'
refuse "a CA template" basic_constraints.ca '.basic_constraints.ca = true'
refuse "a path length" basic_constraints.path_len '.basic_constraints.path_len = 0'
refuse "keyCertSign" key_usage '.key_usage += ["keyCertSign"]'
refuse "encipherOnly without keyAgreement" key_usage '.key_usage += ["encipherOnly"]'
refuse "unknown key usage" 'key_usage[0]' '.key_usage = ["signing"]'
refuse "bad EKU" 'extended_key_usage[0]' '.extended_key_usage = ["webAuth"]'
refuse "EKU name and its OID" extended_key_usage '.extended_key_usage = ["clientAuth", "1.3.6.1.5.5.7.3.2"]'
refuse "retention 3651 days" key_retention_days '.key_retention_days = 3651'
refuse "fixed field without a value" 'subject_fields[0].default_value' 'del(.subject_fields[0].default_value)'
refuse "default longer than the field" 'subject_fields[1].default_value' '.subject_fields[1].max_length = 3'
refuse "country of three letters" 'subject_fields[0].default_value' '.subject_fields[0].max_length = 3 | .subject_fields[0].default_value = "CHE"'
refuse "attribute and another OID" 'subject_fields[2].oid' '.subject_fields[2].attribute = "O"'
refuse "field without attribute or OID" 'subject_fields[2].attribute' '.subject_fields[2] = {rule: "required"}'
refuse "bad DNS default" 'san_fields[0].default_value' '.san_fields[0].default_value = "not a host!"'
refuse "otherName without its OID" 'san_fields[0].othername_oid' '.san_fields[0] = {type: "othername", othername_encoding: "utf8string"}'
refuse "otherName without its encoding" 'san_fields[0].othername_encoding' '.san_fields[0] = {type: "othername", othername_oid: "1.2.3"}'
refuse "DNS with an otherName OID" 'san_fields[0].othername_oid' '.san_fields[0].othername_oid = "1.2.3"'
refuse "bad hardwareModuleName default" 'san_fields[0].default_value' '.san_fields[0] = {type: "othername", othername_oid: "1.3.6.1.5.5.7.8.4", othername_encoding: "hardware_module_name", default_value: "nohex"}'
refuse "empty subject without a required SAN" san_fields '.subject_fields = [] | .san_critical = true'
refuse "empty subject, SAN not critical" san_critical '.subject_fields = [] | .san_fields[0].rule = "required"'
refuse "unknown CA" ca_id '.ca_id = 999999999'
refuse "inactive CA" ca_id ".ca_id = $CAOFF"
refuse "a tenant's CA for a global template" ca_id ".ca_id = $CA2"
refuse "unknown extension" 'custom_extensions[0].id' '.custom_extensions = [{id: 999999999}]'
refuse "extension attached twice" 'custom_extensions[1].id' ".custom_extensions = [{id: $XU}, {id: $XU}]"
refuse "a tenant's extension for a global template" 'custom_extensions[0].id' ".custom_extensions = [{id: $XT1}]"
refuse "unknown member" colour '.colour = "red"'
check_eq "template refused (33 subject fields): 422" 422 \
    "$(post_tpl admin '.subject_fields = [range(33) | {attribute: "OU"}]')"
check_eq "template refused (17 extensions): 422" 422 \
    "$(post_tpl admin "[range(17) | {id: $XU}] as \$x | .custom_extensions = \$x")"
check_eq "template refused (malformed JSON): 400" 400 "$(as admin POST $TPL '{"name": ')"
check_eq "template refused (text/plain): 415" 415 \
    "$(as admin POST $TPL -H 'Content-Type: text/plain' --data-binary "$BASE")"
check_eq "template refused (duplicate name): 409" 409 "$(as admin POST $TPL "$BASE")"
check_eq "template refused (duplicate name): field" name "$(jbody .error.field)"
check_eq "template refusals wrote no template" "$n" "$(next cert_templates)"
check_eq "template refusals wrote no field" "$nf" "$(next cert_template_subject_fields)"

# --- templates: an inactive extension cannot be attached ---------------------------
check_eq "extension deactivate: 200" 200 "$(as admin POST "$EXT/${EXTS[der]}/deactivate")"
check_eq "extension deactivate: inactive" false "$(jbody .active)"
refuse "inactive extension" 'custom_extensions[0].id' ".custom_extensions = [{id: ${EXTS[der]}}]"
check_eq "extension activate: 200" 200 "$(as admin POST "$EXT/${EXTS[der]}/activate")"
check_eq "extension activate: audited" 1 "$(audits custom_extension activate "${EXTS[der]}")"

# --- templates: update with If-Match, field ids kept ----------------------------------
as admin GET "$TPL/$TB" >/dev/null
TAG=$(etag)
CNID=$(jbody '.subject_fields[2].id')
check_eq "template update without If-Match: 428" 428 \
    "$(as admin PATCH "$TPL/$TB" '{"description": "x"}')"
check_eq "template update, stale If-Match: 412" 412 \
    "$(as admin PATCH "$TPL/$TB" '{"description": "x"}' -H 'If-Match: "AAAAAAAAAAAAAAAAAAAAAA"')"
check_eq "template update, bad value: 422" 422 \
    "$(as admin PUT "$TPL/$TB" '{"validity_days": 0}' -H "If-Match: $TAG")"
check_eq "template update, bad value: nothing changed" "$TAG" \
    "$(as admin GET "$TPL/$TB" >/dev/null; etag)"
upd=$(jq -nc '{description: "changed", unlimited: true,
	subject_fields: [
		{attribute: "C", rule: "fixed", max_length: 2, default_value: "DE"},
		{attribute: "O", rule: "optional"},
		{attribute: "CN", rule: "required", max_length: 64},
		{attribute: "serialNumber", rule: "optional", max_length: 32}],
	custom_extensions: []}')
check_eq "template update: 200" 200 "$(as admin PUT "$TPL/$TB" "$upd" -H "If-Match: $TAG")"
check_eq "template update: description" changed "$(jbody .description)"
check_eq "template update: unlimited" "null true" "$(jbody '"\(.validity_days) \(.unlimited)"')"
check_eq "template update: fields replaced" "C O CN serialNumber" \
    "$(jbody '[.subject_fields[].attribute]|join(" ")')"
check_eq "template update: new default" DE "$(jbody '.subject_fields[0].default_value')"
check_eq "template update: a kept field keeps its id" "$CNID" "$(jbody '.subject_fields[2].id')"
check_eq "template update: SAN fields kept" dns "$(jbody '.san_fields[0].type')"
check_eq "template update: extension removed" 0 "$(jbody '.custom_extensions|length')"
check_eq "template update: key types kept" "ec-p256 rsa-2048" "$(jbody '.key_types|join(" ")')"
check_eq "template update: audited" 1 "$(audits cert_template update "$TB")"
check_match "template update: the audit row has the change" \
    '"before":\{.*"description":"base".*"after":\{.*"description":"changed"' \
    "$(db_sql "SELECT details FROM audit_log WHERE entity = 'cert_template' AND action = 'update' AND entity_id = $TB")"
check_eq "template update: the old ETag is stale: 412" 412 \
    "$(as admin PATCH "$TPL/$TB" '{"description": "y"}' -H "If-Match: $TAG")"
check_eq "template update: validity back from unlimited" 200 \
    "$(as admin PATCH "$TPL/$TB" '{"validity_days": 30}' -H 'If-Match: *')"
check_eq "template update: validity" "30 false" "$(jbody '"\(.validity_days) \(.unlimited)"')"

# --- templates: scope and roles ------------------------------------------------------
T1BODY=$(jq -c --arg n "Tpl T1 $RUN" --argjson t "$TID1" --argjson x "$XT1" \
    '. + {name: $n, scope: "tenant", tenant_id: $t, custom_extensions: [{id: $x}]}' <<<"$BASE")
check_eq "tenant admin creates a tenant template with a global CA: 201" 201 \
    "$(as ta1 POST $TPL "$T1BODY")"
TT1=$(jbody .id)
check_eq "tenant template: scope" "tenant $TID1" "$(jbody '"\(.scope) \(.tenant_id)"')"
check_eq "tenant admin: a CA of another tenant is no CA: 422" 422 \
    "$(as ta1 POST $TPL "$(jq -c --arg n "x $RUN" --argjson ca "$CA2" '.name = $n | .ca_id = $ca' <<<"$T1BODY")")"
check_eq "tenant admin: a CA of another tenant: field" ca_id "$(jbody .error.field)"
check_eq "tenant admin: a global template is 403" 403 "$(post_tpl ta1 '.name = "g"')"
check_eq "tenant admin: a template in another tenant is 404" 404 \
    "$(post_tpl ta1 ".scope = \"tenant\" | .tenant_id = $TID2")"
check_eq "tenant admin of another tenant reads it: 404" 404 "$(as ta2 GET "$TPL/$TT1")"
check_eq "tenant admin of another tenant deletes it: 404" 404 \
    "$(as ta2 DELETE "$TPL/$TT1" -H 'If-Match: *')"
check_eq "tenant admin 2 uses its tenant's CA: 201" 201 \
    "$(post_tpl ta2 ".name = \"Tpl T2 $RUN\" | .scope = \"tenant\" | .tenant_id = $TID2 | .ca_id = $CA2 | .custom_extensions = []")"
TT2=$(jbody .id)
check_eq "tenant operator reads its tenant's template: 200" 200 "$(as to1 GET "$TPL/$TT1")"
check_eq "tenant operator reads a global template: 200" 200 "$(as to1 GET "$TPL/$TB")"
check_eq "tenant operator creates a template: 403" 403 \
    "$(post_tpl to1 ".name = \"op $RUN\" | .scope = \"tenant\" | .tenant_id = $TID1")"
check_eq "tenant operator changes a template: 403" 403 \
    "$(as to1 PATCH "$TPL/$TT1" '{"description": "op"}' -H 'If-Match: *')"
check_eq "organization operator reads its tenant's template: 200" 200 "$(as oo1 GET "$TPL/$TT1")"
check_eq "tenant admin changes a global template: 403" 403 \
    "$(as ta1 PATCH "$TPL/$TB" '{"description": "ta"}' -H 'If-Match: *')"
check_eq "tenant admin moves its template to global: 403" 403 \
    "$(as ta1 PATCH "$TPL/$TT1" '{"scope": "global"}' -H 'If-Match: *')"
as ta1 GET "$TPL?limit=500" >/dev/null
check_eq "tenant admin 1's list: its own and the global ones" "1 1 0" \
    "$(jbody "[([.items[] | select(.id == $TT1)] | length), ([.items[] | select(.id == $TB)] | length), ([.items[] | select(.id == $TT2)] | length)] | join(\" \")")"
check_eq "list items leave the field lists out" null "$(jbody '.items[0].subject_fields')"
as admin GET "$TPL?tenant_id=$TID1" >/dev/null
check_eq "template list: filter by tenant" "$TT1" "$(jbody '[.items[].id]|join(" ")')"
as admin GET "$TPL?ca_id=$CA2" >/dev/null
check_eq "template list: filter by CA" "$TT2" "$(jbody '[.items[].id]|join(" ")')"
as admin GET "$TPL?name=Wi-SUN%20FAN%20$RUN&type=operational" >/dev/null
check_eq "template list: filter by name and type" "$TW" "$(jbody '[.items[].id]|join(" ")')"
check_eq "template list: bad type is 400" 400 "$(as admin GET "$TPL?type=device")"
as admin GET "$TPL?limit=1&scope=global&active=true" >/dev/null
check_match "template list: paged" '^[A-Za-z0-9_-]{12}$' "$(jbody .next_cursor)"

# --- deactivate, delete -------------------------------------------------------------------
check_eq "extension in use: delete is 409" 409 \
    "$(as ta1 DELETE "$EXT/$XT1" -H 'If-Match: *')"
check_eq "extension in use: a scope change is 409" 409 \
    "$(as admin PATCH "$EXT/$XT1" "{\"scope\": \"organization\", \"org_id\": $OID1}" -H 'If-Match: *')"
check_eq "active template: delete is 409" 409 "$(as ta1 DELETE "$TPL/$TT1" -H 'If-Match: *')"
check_eq "template deactivate: 200" 200 "$(as ta1 POST "$TPL/$TT1/deactivate")"
check_eq "template deactivate: inactive" false "$(jbody .active)"
check_eq "template deactivate: audited" 1 "$(audits cert_template deactivate "$TT1")"
db_sql "INSERT INTO batch_jobs (template_id, tenant_id, source, total, key_type,
    passphrase_mode) VALUES ($TT1, $TID1, 'generated', 1, 1, 'per_batch')"
check_eq "template named by a batch job: delete is 409" 409 \
    "$(as ta1 DELETE "$TPL/$TT1" -H 'If-Match: *')"
db_sql "DELETE FROM batch_jobs WHERE template_id = $TT1"
check_eq "template delete without If-Match: 428" 428 "$(as ta1 DELETE "$TPL/$TT1")"
check_eq "template delete: 204" 204 "$(as ta1 DELETE "$TPL/$TT1" -H 'If-Match: *')"
check_eq "template delete: gone" 404 "$(as ta1 GET "$TPL/$TT1")"
check_eq "template delete: children gone" 0 \
    "$(db_sql "SELECT COUNT(*) FROM cert_template_subject_fields WHERE template_id = $TT1")"
check_eq "template delete: audited" 1 "$(audits cert_template delete "$TT1")"
check_eq "extension no longer in use: delete is 204" 204 \
    "$(as ta1 DELETE "$EXT/$XT1" -H 'If-Match: *')"
check_eq "extension delete: audited" 1 "$(audits custom_extension delete "$XT1")"
check_eq "template activate: 200" 200 "$(as admin POST "$TPL/$TW/deactivate")"
check_eq "template activate again: 200" 200 "$(as admin POST "$TPL/$TW/activate")"
check_eq "template activate: active" true "$(jbody .active)"

finish
