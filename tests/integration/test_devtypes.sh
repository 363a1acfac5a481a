#!/bin/bash
# shellcheck disable=SC2016 # jq programs name their $variables in single quotes
#
# Device types over HTTPS (fcgi/api_devtype.h, guide §2.1): the guide's
# example (two operational templates, an internal factory template with
# the mappings CommonName <- DeviceName and Organization <- Manufacturer
# with the default "Demo Manufacturer"), an external factory CA, every
# rule refused with a 422 naming the member and nothing written (DAR with
# the same CA for factory and operational certificates, an unverified or
# inactive external CA, a fixed property or attribute without a default,
# two default templates, templates of the wrong type or of another
# tenant, mappings to fields the type does not use...), changes with
# If-Match (attributes keep their rows and the values devices hold),
# clone, activate / deactivate, delete only when inactive and unused,
# access by role as the guide gives it (another tenant 404), and the
# audit rows.  CAs come from estuaryctl, templates from
# /api/v1/cert-templates, external CAs from /api/v1/external-cas.  Names
# carry a per-run suffix so that it can run again on the same instance.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

DT=/api/v1/device-types
TPL=/api/v1/cert-templates
EXT=/api/v1/external-cas
PW="pw-$RUN-Secret"
T1="Devtype T1 $RUN"
T2="Devtype T2 $RUN"
O1="Devtype O1 $RUN"
O1B="Devtype O1b $RUN"
O2="Devtype O2 $RUN"
D=$T_TMP/pki
mkdir -p "$D"

# ndt: device types and their child rows, all tables, as one string.
ndt() {
	nrows device_types device_type_op_templates device_type_properties \
	    device_type_attributes device_type_mappings
}

# post WHO JSON: POST /device-types; prints the status.
post() {
	as "$1" POST "$DT" "$2"
}

# refuse DESC FIELD JSON [WHO]: a create refused with 422 naming FIELD.
refuse() {
	check_refused "$1" 422 "$2" "$(post "${4:-admin}" "$3")"
}

# --- setup: tenants, organizations, users of every role --------------------------
tenant_add "$T1" "$O1" "$O1B"
tenant_add "$T2" "$O2"
TID1=$(tid_of "$T1")
TID2=$(tid_of "$T2")
OID1=$(oid_of "$O1")
OID1B=$(oid_of "$O1B")
OID2=$(oid_of "$O2")
users_add "$PW" "" ta1:tenant_admin:"$T1": tau1:tenant_auditor:"$T1": \
    top1:tenant_operator:"$T1": oop1:org_operator:"$T1":"$O1" \
    oopb:org_operator:"$T1":"$O1B" ta2:tenant_admin:"$T2": aud:auditor::
admin_session

# Two CAs in the HSM: one for factory, one for operational certificates.
FCA=$(ca_add "DT factory CA $RUN" "$D/fca.pem")
OCA=$(ca_add "DT operational CA $RUN" "$D/oca.pem")
check_match "setup: two CAs" '^[0-9]+ [0-9]+$' "$FCA $OCA"

# tpl NAME TYPE CA SCOPE-JSON SUBJECT-FIELDS [SAN-FIELDS]: a template made
# by the admin; prints its id.
tpl() {
	tpl_add "$1 $RUN" "$2" "$3" "$5" "$(jq -nc --argjson s "$4" \
	    --argjson san "${6:-[]}" '{san_fields: $san} + $s')"
}
T1S=$(jq -nc --argjson t "$TID1" '{scope: "tenant", tenant_id: $t}')
CN='{"attribute": "CN", "rule": "required", "max_length": 64}'
FT=$(tpl "DT factory" factory "$FCA" "$T1S" "[$CN,
    {\"attribute\": \"O\", \"rule\": \"optional\", \"max_length\": 64},
    {\"attribute\": \"OU\", \"rule\": \"fixed\", \"max_length\": 64,
     \"default_value\": \"Factory\"},
    {\"attribute\": \"serialNumber\", \"rule\": \"optional\", \"max_length\": 32}]" \
    '[{"type": "dns", "rule": "optional", "max_length": 255}]')
jq -c . "$T_TMP/body" >"$T_TMP/ft.json"
OT1=$(tpl "DT op one" operational "$OCA" "$T1S" "[$CN]")
OT2=$(tpl "DT op two" operational "$OCA" '{"scope": "global"}' \
    "[$CN, {\"attribute\": \"O\", \"rule\": \"optional\", \"max_length\": 64}]")
jq -c . "$T_TMP/body" >"$T_TMP/ot2.json"
OTF=$(tpl "DT op on factory CA" operational "$FCA" "$T1S" "[$CN]")
OTX=$(tpl "DT op other tenant" operational "$OCA" \
    "$(jq -nc --argjson t "$TID2" '{scope: "tenant", tenant_id: $t}')" "[$CN]")
OTO=$(tpl "DT op org" operational "$OCA" \
    "$(jq -nc --argjson t "$TID1" --argjson o "$OID1" \
	'{scope: "organization", tenant_id: $t, org_id: $o}')" "[$CN]")
OTI=$(tpl "DT op inactive" operational "$OCA" "$T1S" "[$CN]")
check_match "setup: templates" '^([0-9]+ ){6}[0-9]+$' \
    "$FT $OT1 $OT2 $OTF $OTX $OTO $OTI"
check_eq "setup: a template deactivated" 200 \
    "$(as admin POST "$TPL/$OTI/deactivate")"
F_CN=$(field_id "$T_TMP/ft.json" CN)
F_O=$(field_id "$T_TMP/ft.json" O)
F_OU=$(field_id "$T_TMP/ft.json" OU)
F_SN=$(field_id "$T_TMP/ft.json" serialNumber)
F_DNS=$(jq '.san_fields[0].id' "$T_TMP/ft.json")
F_O2=$(field_id "$T_TMP/ot2.json" O)
check_match "setup: the template shows its field ids" '^([0-9]+ ){5}[0-9]+$' \
    "$F_CN $F_O $F_OU $F_SN $F_DNS $F_O2"

# External CAs: one made here by openssl (verified), the same unverified,
# one deactivated, and the operational CA's own certificate.
for n in ext unv ina; do
	x509_ca "$D/$n" "/CN=DT $n $RUN" ||
	    { echo "cannot make the external CA $n"; exit 1; }
done
# extca NAME FILE VERIFIED: registers a tenant-wide external CA of T1.
extca() {
	extca_add "$1 $RUN" "$2" "$TID1" "" "$3" >/dev/null
	jbody .id
}
EXT_OK=$(extca "DT ext" "$D/ext.pem" true)
EXT_UNV=$(extca "DT ext unverified" "$D/unv.pem" false)
EXT_INA=$(extca "DT ext inactive" "$D/ina.pem" true)
EXT_OCA=$(extca "DT ext = operational CA" "$D/oca.pem" true)
check_match "setup: external CAs" '^([0-9]+ ){3}[0-9]+$' \
    "$EXT_OK $EXT_UNV $EXT_INA $EXT_OCA"
check_eq "setup: an external CA deactivated" 200 \
    "$(as admin POST "$EXT/$EXT_INA/deactivate")"

# --- the guide's example -------------------------------------------------------------
GUIDE="Sensor $RUN"
guide=$(jq -nc --arg n "$GUIDE" --argjson t "$TID1" --argjson o1 "$OT1" \
    --argjson o2 "$OT2" --argjson ft "$FT" --argjson cn "$F_CN" \
    --argjson o "$F_O" '{
	name: $n, description: "guide 2.1.1", scope: "tenant", tenant_id: $t,
	enforce_factory_mode: true, dar: true, use_cert_mapping: true,
	operational_templates: [{template_id: $o1, default: true},
	    {template_id: $o2}],
	factory_source: "internal", factory_template_id: $ft,
	mappings: [
	    {subject_field_id: $cn, source: "device_name"},
	    {subject_field_id: $o, source: "property",
	     property: "manufacturer", default_value: "Demo Manufacturer"}],
	op_renewal_hours: 720, factory_renewal_hours: 240,
	device_password_enabled: true, password_retention_hours: 2,
	properties: {serial_number: {required: true},
	    model: {default_value: "M1", fixed: true},
	    manufacturer: {default_value: "Acme"}},
	attributes: [{name: "colour", default_value: "blue"},
	    {name: "batch", type: "integer", required: true, max_length: 10},
	    {name: "made", type: "date", default_value: "2024-02-29"}]}')
check_eq "create the guide's device type: 201" 201 "$(post admin "$guide")"
ID=$(jbody .id)
check_eq "create: Location" "$DT/$ID" "$(header Location)"
check_match "create: ETag" '^"[A-Za-z0-9_-]{22}"$' "$(etag)"
check_eq "create: active" true "$(jbody .active)"
check_eq "create: tenant access" "tenant $TID1 null" \
    "$(jbody '"\(.scope) \(.tenant_id) \(.org_id)"')"
check_eq "create: flags" "true true true true" \
    "$(jbody '"\(.enforce_factory_mode) \(.dar) \(.use_cert_mapping) \(.device_password_enabled)"')"
check_eq "create: two operational templates, the first the default" \
    "$OT1:true $OT2:false $OT1" \
    "$(jbody '[.operational_templates[] | "\(.template_id):\(.default)"] + [.default_template_id | tostring] | join(" ")')"
check_eq "create: internal factory template" "internal $FT null" \
    "$(jbody '"\(.factory_source) \(.factory_template_id) \(.external_ca_id)"')"
check_eq "create: CommonName <- DeviceName" \
    "$F_CN null device_name" \
    "$(jbody '.mappings[0] | "\(.subject_field_id) \(.san_field_id) \(.source)"')"
check_eq "create: Organization <- Manufacturer, default Demo Manufacturer" \
    "$F_O property manufacturer Demo Manufacturer" \
    "$(jbody '.mappings[1] | "\(.subject_field_id) \(.source) \(.property) \(.default_value)"')"
check_eq "create: renewal windows and retention" "720 240 2" \
    "$(jbody '"\(.op_renewal_hours) \(.factory_renewal_hours) \(.password_retention_hours)"')"
check_eq "create: all seven properties" 7 "$(jbody '.properties | length')"
check_eq "create: property settings" "true M1:true Acme:false null" \
    "$(jbody '"\(.properties.serial_number.required) \(.properties.model.default_value):\(.properties.model.fixed) \(.properties.manufacturer.default_value):\(.properties.manufacturer.fixed) \(.properties.firmware.default_value)"')"
check_eq "create: attributes in order with their types" \
    "colour:string:blue:255 batch:integer:null:10 made:date:2024-02-29:255" \
    "$(jbody '[.attributes[] | "\(.name):\(.type):\(.default_value):\(.max_length)"] | join(" ")')"
check_eq "create: created by the admin" true "$(jbody '.created_by_user_id > 0')"
check_eq "create: audited" 1 "$(audits device_type create "$ID")"
check_eq "create: the audit row names the templates" true \
    "$(db_sql "SELECT JSON_VALUE(details, '\$.after.factory_template_id') = $FT
	FROM audit_log WHERE entity = 'device_type' AND action = 'create'
	AND entity_id = $ID AND outcome = 'success'" | sed 's/^1$/true/')"
GUIDE_ETAG=$(etag)
check_eq "read: 200" 200 "$(as admin GET "$DT/$ID")"
check_eq "read: the same ETag" "$GUIDE_ETAG" "$(etag)"
check_eq "read: the mappings" 2 "$(jbody '.mappings | length')"

# A template edit must not drop or repurpose a field that a mapping names:
# FT's CN (position 0) and O (position 1) are mapped by the guide's type.
FT_FIELDS=$(jq -c '[.subject_fields[] | del(.id)]' "$T_TMP/ft.json")
tpl_fields() {
	as admin PATCH "$TPL/$FT" "$(jq -nc --argjson f "$1" \
	    '{subject_fields: $f}')" -H 'If-Match: *'
}
check_eq "template edit removing a mapped field: 409" 409 \
    "$(tpl_fields "$(jq -c 'del(.[1])' <<<"$FT_FIELDS")")"
check_eq "template edit removing a mapped field: names it" \
    "subject_fields[1]" "$(jbody .error.field)"
check_eq "template edit swapping two mapped fields: 409" 409 \
    "$(tpl_fields "$(jq -c '[.[1], .[0]] + .[2:]' <<<"$FT_FIELDS")")"
check_eq "template edit swapping two mapped fields: names the first" \
    "subject_fields[0]" "$(jbody .error.field)"
check_eq "refused template edits left the mappings" 2 \
    "$(db_sql "SELECT COUNT(*) FROM device_type_mappings
	WHERE device_type_id = $ID")"
check_eq "template edit keeping the mapped fields (a longer O): 200" 200 \
    "$(tpl_fields "$(jq -c '.[1].max_length = 80' <<<"$FT_FIELDS")")"
check_eq "the mapping still names the same field" "$F_O" \
    "$(db_sql "SELECT subject_field_id FROM device_type_mappings
	WHERE device_type_id = $ID AND subject_field_id = $F_O")"

# A device type with an external factory CA, for an organization, by the
# Tenant Admin (whose tenant is implied).
ext=$(jq -nc --arg n "External $RUN" --argjson o "$OID1" --argjson x "$EXT_OK" \
    --argjson o1 "$OT1" '{name: $n, org_id: $o, dar: true, use_cert_mapping: true,
	operational_templates: [{template_id: $o1}],
	factory_source: "external", external_ca_id: $x}')
check_eq "Tenant Admin: an external factory CA, organization access: 201" 201 \
    "$(post ta1 "$ext")"
EXTID=$(jbody .id)
check_eq "external: organization access in its tenant" \
    "organization $TID1 $OID1" "$(jbody '"\(.scope) \(.tenant_id) \(.org_id)"')"
check_eq "external: the external CA" "external null $EXT_OK" \
    "$(jbody '"\(.factory_source) \(.factory_template_id) \(.external_ca_id)"')"
check_eq "external: the only template is the default" "$OT1" \
    "$(jbody .default_template_id)"
check_eq "external: password retention defaults to 1 hour" 1 \
    "$(jbody .password_retention_hours)"
check_eq "an organization's template for its organization: 201" 201 \
    "$(post admin "$(jq -nc --arg n "Org tpl $RUN" --argjson o "$OID1" \
	--argjson t "$OTO" '{name: $n, org_id: $o,
	operational_templates: [{template_id: $t}]}')")"
ORGID=$(jbody .id)
check_eq "an Admin naming only the organization: its tenant taken" \
    "organization $TID1 $OID1" "$(jbody '"\(.scope) \(.tenant_id) \(.org_id)"')"

# --- refusals: a 422 naming the member, nothing written ----------------------------------
n=$(ndt)
# base [JQ-FILTER]: a valid body of T1 changed by FILTER.
base() {
	jq -nc --arg n "Refused $RUN" --argjson t "$TID1" --argjson o1 "$OT1" \
	    --argjson o2 "$OT2" --argjson ft "$FT" --argjson otf "$OTF" \
	    --argjson otx "$OTX" --argjson oto "$OTO" --argjson oti "$OTI" \
	    --argjson x "$EXT_OK" --argjson xu "$EXT_UNV" --argjson xi "$EXT_INA" \
	    --argjson xo "$EXT_OCA" --argjson cn "$F_CN" --argjson fo "$F_O" \
	    --argjson ou "$F_OU" --argjson sn "$F_SN" --argjson dns "$F_DNS" \
	    --argjson o2o "$F_O2" --argjson o "$OID1" \
	    "{name: \$n, tenant_id: \$t,
	      operational_templates: [{template_id: \$o1}],
	      factory_source: \"internal\", factory_template_id: \$ft}
	     | ${1:-.}"
}
refuse "DAR with the same CA for factory and operational certificates" \
    factory_template_id "$(base '.dar = true | .operational_templates = [{template_id: $otf}]')"
check_match "DAR same CA: says why" "differ" "$(jbody .error.message)"
refuse "DAR without a factory source" factory_source \
    "$(base '.dar = true | .factory_source = "none" | del(.factory_template_id)')"
refuse "DAR without an operational template" operational_templates \
    "$(base '.dar = true | .operational_templates = []')"
refuse "an unverified external CA" external_ca_id \
    "$(base '.factory_source = "external" | del(.factory_template_id) | .external_ca_id = $xu')"
check_match "unverified: says why" "not verified" "$(jbody .error.message)"
refuse "an inactive external CA" external_ca_id \
    "$(base '.factory_source = "external" | del(.factory_template_id) | .external_ca_id = $xi')"
refuse "DAR with the operational CA registered as external factory CA" \
    external_ca_id \
    "$(base '.dar = true | .factory_source = "external" | del(.factory_template_id) | .external_ca_id = $xo')"
refuse "an external CA with factory_source internal" external_ca_id \
    "$(base '.external_ca_id = $x')"
refuse "a factory template with factory_source none" factory_template_id \
    "$(base '.factory_source = "none"')"
refuse "internal without a factory template" factory_template_id \
    "$(base 'del(.factory_template_id)')"
refuse "a fixed property without a default" properties.model.default_value \
    "$(base '.properties = {model: {fixed: true}}')"
refuse "a fixed attribute without a default" 'attributes[0].default_value' \
    "$(base '.attributes = [{name: "a", fixed: true}]')"
refuse "an integer attribute's default that is no integer" \
    'attributes[1].default_value' \
    "$(base '.attributes = [{name: "a"}, {name: "b", type: "integer", default_value: "12a"}]')"
refuse "a date that does not exist" 'attributes[0].default_value' \
    "$(base '.attributes = [{name: "d", type: "date", default_value: "2023-02-29"}]')"
refuse "a boolean that is not true or false" 'attributes[0].default_value' \
    "$(base '.attributes = [{name: "b", type: "boolean", default_value: "yes"}]')"
refuse "a default longer than the attribute's maximum" \
    'attributes[0].default_value' \
    "$(base '.attributes = [{name: "s", max_length: 3, default_value: "abcd"}]')"
refuse "two attributes of one name (case ignored)" 'attributes[1].name' \
    "$(base '.attributes = [{name: "Colour"}, {name: "colour"}]')"
refuse "two default templates" operational_templates \
    "$(base '.operational_templates = [{template_id: $o1, default: true}, {template_id: $o2, default: true}]')"
refuse "a template listed twice" 'operational_templates[1].template_id' \
    "$(base '.operational_templates = [{template_id: $o1}, {template_id: $o1}]')"
refuse "a factory template as operational template" \
    'operational_templates[0].template_id' \
    "$(base '.operational_templates = [{template_id: $ft}]')"
check_match "wrong type: says why" "operational" "$(jbody .error.message)"
refuse "an operational template as factory template" factory_template_id \
    "$(base '.factory_template_id = $o1')"
refuse "another tenant's template" 'operational_templates[0].template_id' \
    "$(base '.operational_templates = [{template_id: $otx}]')"
refuse "an organization's template for tenant access" \
    'operational_templates[0].template_id' \
    "$(base '.operational_templates = [{template_id: $oto}]')"
refuse "an inactive template" 'operational_templates[0].template_id' \
    "$(base '.operational_templates = [{template_id: $oti}]')"
refuse "a template that does not exist" 'operational_templates[0].template_id' \
    "$(base '.operational_templates = [{template_id: 999999999}]')"
refuse "a mapping to a field of no template of the type" \
    'mappings[0].subject_field_id' \
    "$(base '.mappings = [{subject_field_id: $o2o, source: "device_name"}]')"
refuse "a mapping to a field that does not exist" \
    'mappings[0].subject_field_id' \
    "$(base '.mappings = [{subject_field_id: 999999999, source: "device_name"}]')"
refuse "a mapping to a fixed field" 'mappings[0].subject_field_id' \
    "$(base '.mappings = [{subject_field_id: $ou, source: "device_name"}]')"
refuse "a field mapped twice" 'mappings[1].subject_field_id' \
    "$(base '.mappings = [{subject_field_id: $cn, source: "device_name"}, {subject_field_id: $cn, source: "property", property: "model"}]')"
refuse "a mapping to an attribute the type lacks" 'mappings[0].attribute' \
    "$(base '.mappings = [{subject_field_id: $cn, source: "attribute", attribute: "nope"}]')"
refuse "source property without a property" 'mappings[0].property' \
    "$(base '.mappings = [{subject_field_id: $cn, source: "property"}]')"
refuse "a mapping naming no field" 'mappings[0]' \
    "$(base '.mappings = [{source: "device_name"}]')"
refuse "a mapping naming two fields" 'mappings[0]' \
    "$(base '.mappings = [{subject_field_id: $cn, san_field_id: $dns, source: "device_name"}]')"
refuse "a mapping wider than its field" 'mappings[0].max_length' \
    "$(base '.mappings = [{subject_field_id: $cn, source: "device_name", max_length: 65}]')"
refuse "a mapping default longer than the mapping's maximum" \
    'mappings[0].default_value' \
    "$(base '.mappings = [{subject_field_id: $cn, source: "device_name", max_length: 4, default_value: "abcde"}]')"
refuse "a mapping default the field refuses (PrintableString)" \
    'mappings[0].default_value' \
    "$(base '.mappings = [{subject_field_id: $sn, source: "property", property: "serial_number", default_value: "a_b"}]')"
refuse "a mapping default that is no DNS name" 'mappings[0].default_value' \
    "$(base '.mappings = [{san_field_id: $dns, source: "device_name", default_value: "not a host"}]')"
refuse "global accessibility" scope "$(base '.scope = "global" | del(.tenant_id)')"
refuse "tenant access with an organization" org_id \
    "$(base '.scope = "tenant" | .org_id = $o')"
refuse "organization access without one" org_id \
    "$(base '.scope = "organization"')"
refuse "an organization of another tenant" org_id \
    "$(base ".org_id = $OID2")"
refuse "no such tenant" tenant_id "$(base '.tenant_id = 999999999')"
refuse "no name" name "$(base 'del(.name)')"
refuse "an unknown member" colour "$(base '.colour = "red"')"
refuse "retention of 0 hours" password_retention_hours \
    "$(base '.password_retention_hours = 0')"
check_eq "malformed JSON: 400" 400 "$(post admin '{"name": ')"
check_eq "not JSON: 415" 415 "$(as admin POST "$DT" --data-binary 'name=x' \
    -H 'Content-Type: application/x-www-form-urlencoded')"
check_eq "a duplicate name in the tenant: 409" 409 \
    "$(post admin "$(base ".name = \"$GUIDE\"")")"
check_eq "a duplicate name: field" name "$(jbody .error.field)"
check_eq "refusals: nothing written" "$n" "$(ndt)"
check_eq "the same name in another tenant: 201" 201 \
    "$(post ta2 "$(jq -nc --arg n "$GUIDE" '{name: $n}')")"
T2ID=$(jbody .id)
check_eq "a tenant admin's type: tenant access to its tenant" "tenant $TID2" \
    "$(jbody '"\(.scope) \(.tenant_id)"')"

# --- access by role ---------------------------------------------------------------------
n=$(ndt)
for who in tau1 top1 oop1 aud; do
	check_eq "$who may not create: 403" 403 \
	    "$(post "$who" "$(base ".name = \"By $who $RUN\"")")"
done
check_eq "Tenant Admin, another tenant: 404" 404 \
    "$(post ta1 "$(base ".tenant_id = $TID2 | .name = \"Elsewhere $RUN\"")")"
check_eq "refused creates: audited as denied" true \
    "$(test "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE entity = 'device_type'
	AND action = 'create' AND outcome = 'denied'")" -ge 5 && echo true)"
check_eq "refused creates: nothing written" "$n" "$(ndt)"
for who in admin aud ta1 tau1 top1 oop1 oopb; do
	check_eq "$who reads the tenant-wide type" 200 "$(as "$who" GET "$DT/$ID")"
done
check_eq "the organization's operator reads its organization's type" 200 \
    "$(as oop1 GET "$DT/$EXTID")"
check_eq "another organization's operator: 404" 404 \
    "$(as oopb GET "$DT/$EXTID")"
check_eq "another tenant's admin: 404" 404 "$(as ta2 GET "$DT/$ID")"
check_eq "an unknown id: 404" 404 "$(as admin GET "$DT/999999999")"
as oopb GET "$DT?name_contains=$RUN" >/dev/null
check_eq "an Organization Operator lists what it may use" "$ID" \
    "$(jbody '[.items[].id] | map(tostring) | join(" ")')"
as ta2 GET "$DT?name_contains=$RUN" >/dev/null
check_eq "another tenant's admin lists its own" "$T2ID" \
    "$(jbody '[.items[].id] | map(tostring) | join(" ")')"
as aud GET "$DT?name_contains=$RUN&limit=500" >/dev/null
check_eq "the Auditor lists every tenant's" 4 "$(jbody '.items | length')"
check_eq "list items leave the mappings out" null "$(jbody '.items[0].mappings')"
check_eq "list items carry the operational templates" true \
    "$(jbody '.items[0].operational_templates | type == "array"')"
as admin GET "$DT?name_contains=$RUN&factory_source=external" >/dev/null
check_eq "filter factory_source" "$EXTID" "$(jbody '[.items[].id] | map(tostring) | join(" ")')"
as admin GET "$DT?name_contains=$RUN&template_id=$OT2" >/dev/null
check_eq "filter template_id" "$ID" "$(jbody '[.items[].id] | map(tostring) | join(" ")')"
as admin GET "$DT?name_contains=$RUN&tenant_id=$TID1&dar=true" >/dev/null
check_eq "filters tenant_id and dar" "$ID $EXTID" \
    "$(jbody '[.items[].id] | map(tostring) | join(" ")')"
as admin GET "$DT?name_contains=$RUN&limit=1" >/dev/null
cursor=$(jbody .next_cursor)
as admin GET "$DT?name_contains=$RUN&limit=1&cursor=$cursor" >/dev/null
check_eq "the second page follows the first" true \
    "$(jbody ".items[0].id > $ID")"
check_eq "an unknown filter: 400" 400 "$(as admin GET "$DT?colour=red")"
check_eq "a bad filter value: 400" 400 "$(as admin GET "$DT?dar=yes")"

# --- change -------------------------------------------------------------------------------
ATTR_ID=$(db_sql "SELECT id FROM device_type_attributes
    WHERE device_type_id = $ID AND name = 'colour'")
# A device holding a value of two attributes, to see what a change keeps.
db_sql "INSERT INTO devices (name, tenant_id, org_id, device_type_id,
    created_via) VALUES ('dev-$RUN', $TID1, $OID1, $ID, 'api');
    INSERT INTO device_attributes (device_id, attribute_id, value)
    SELECT d.id, a.id, '7' FROM devices d JOIN device_type_attributes a
    ON a.device_type_id = d.device_type_id WHERE d.name = 'dev-$RUN'
    AND a.name IN ('colour', 'batch')"
DEV=$(db_sql "SELECT id FROM devices WHERE name = 'dev-$RUN'")
check_match "setup: a device of the type" '^[0-9]+$' "$DEV"
change='{"description": "changed"}'
check_eq "change without If-Match: 428" 428 "$(as admin PUT "$DT/$ID" "$change")"
check_eq "change with a stale ETag: 412" 412 \
    "$(as admin PUT "$DT/$ID" "$change" -H 'If-Match: "AAAAAAAAAAAAAAAAAAAAAA"')"
check_eq "Tenant Auditor may not change: 403" 403 \
    "$(as tau1 PUT "$DT/$ID" "$change" -H "If-Match: $GUIDE_ETAG")"
check_eq "Tenant Operator may not change: 403" 403 \
    "$(as top1 PATCH "$DT/$ID" "$change" -H "If-Match: $GUIDE_ETAG")"
check_eq "another tenant's admin: 404" 404 \
    "$(as ta2 PUT "$DT/$ID" "$change" -H "If-Match: $GUIDE_ETAG")"
check_eq "refused changes: nothing changed" "$GUIDE_ETAG" \
    "$(as admin GET "$DT/$ID" >/dev/null; etag)"
change=$(jq -nc --argjson o1 "$OT1" --argjson o2 "$OT2" '{
    description: "changed",
    operational_templates: [{template_id: $o1}, {template_id: $o2, default: true}],
    attributes: [{name: "Colour", default_value: "red"},
	{name: "made", type: "date"}, {name: "lot", type: "integer", default_value: "-3"}]}')
check_eq "the Tenant Admin changes it: 200" 200 \
    "$(as ta1 PATCH "$DT/$ID" "$change" -H "If-Match: $GUIDE_ETAG")"
NEW_ETAG=$(etag)
check_eq "change: a new ETag" true "$([ "$NEW_ETAG" != "$GUIDE_ETAG" ] && echo true)"
check_eq "change: set default" "$OT2" "$(jbody .default_template_id)"
check_eq "change: members left out kept" "true 2 Demo Manufacturer" \
    "$(jbody '"\(.dar) \(.mappings | length) \(.mappings[1].default_value)"')"
check_eq "change: attributes replaced" "Colour:red made:null lot:-3" \
    "$(jbody '[.attributes[] | "\(.name):\(.default_value)"] | join(" ")')"
check_eq "change: a kept attribute keeps its row" "$ATTR_ID" \
    "$(db_sql "SELECT id FROM device_type_attributes
	WHERE device_type_id = $ID AND name = 'colour'")"
check_eq "change: the device keeps its kept attribute's value, not the other" \
    "Colour" "$(db_sql "SELECT a.name FROM device_attributes v
	JOIN device_type_attributes a ON a.id = v.attribute_id
	WHERE v.device_id = $DEV")"
check_eq "change: audited" 1 "$(audits device_type update "$ID")"
check_eq "change: the audit row has the old and new description" \
    "guide 2.1.1 changed" "$(db_sql "SELECT CONCAT(JSON_VALUE(details,
	'\$.before.description'), ' ', JSON_VALUE(details, '\$.after.description'))
	FROM audit_log WHERE entity = 'device_type' AND action = 'update'
	AND entity_id = $ID AND outcome = 'success'")"
check_eq "change: the same again changes nothing" 200 \
    "$(as admin PUT "$DT/$ID" "$change" -H "If-Match: $NEW_ETAG")"
check_eq "change: no new audit row" 1 "$(audits device_type update "$ID")"
check_eq "change: a type change of an attribute devices hold: 409" 409 \
    "$(as admin PUT "$DT/$ID" '{"attributes": [{"name": "colour", "type": "integer"}]}' \
	-H "If-Match: $NEW_ETAG")"
check_eq "change: field" 'attributes[0].type' "$(jbody .error.field)"
check_eq "change: a rule broken by the change: 422" 422 \
    "$(as admin PUT "$DT/$ID" '{"operational_templates": []}' -H "If-Match: $NEW_ETAG")"
check_eq "change: the rule's member" operational_templates "$(jbody .error.field)"
check_eq "change: moving it away from its device: 409" 409 \
    "$(as admin PUT "$DT/$ID" "{\"org_id\": $OID1B}" -H "If-Match: $NEW_ETAG")"
check_eq "change: Tenant Admin moving it to another tenant: 404" 404 \
    "$(as ta1 PUT "$DT/$ID" "{\"tenant_id\": $TID2}" -H "If-Match: $NEW_ETAG")"
check_eq "refused changes: unchanged" "$NEW_ETAG" \
    "$(as admin GET "$DT/$ID" >/dev/null; etag)"
code=$(as admin PUT "$DT/$ID" "{\"factory_source\": \"external\",
    \"external_ca_id\": $EXT_OK, \"mappings\": []}" -H "If-Match: $NEW_ETAG")
check_eq "change: factory source switched to external drops the template" \
    "200 external null $EXT_OK" \
    "$code $(jbody '"\(.factory_source) \(.factory_template_id) \(.external_ca_id)"')"
NEW_ETAG=$(etag)

# --- clone --------------------------------------------------------------------------------
check_eq "clone: 201" 201 \
    "$(as ta1 POST "$DT/$EXTID/clone" "{\"name\": \"Clone $RUN\"}")"
CLONE=$(jbody .id)
check_eq "clone: Location" "$DT/$CLONE" "$(header Location)"
check_eq "clone: same settings, same place, active" \
    "organization $OID1 external $EXT_OK $OT1 true" \
    "$(jbody '"\(.scope) \(.org_id) \(.factory_source) \(.external_ca_id) \(.default_template_id) \(.active)"')"
check_eq "clone: audited as clone with its origin" "1 $EXTID" \
    "$(audits device_type clone "$CLONE") $(db_sql "SELECT JSON_VALUE(details,
	'\$.after.cloned_from') FROM audit_log WHERE entity = 'device_type'
	AND action = 'clone' AND entity_id = $CLONE AND outcome = 'success'")"
check_eq "clone: a taken name: 409" 409 \
    "$(as ta1 POST "$DT/$EXTID/clone" "{\"name\": \"Clone $RUN\"}")"
check_eq "clone: Tenant Operator: 403" 403 \
    "$(as top1 POST "$DT/$EXTID/clone" "{\"name\": \"Clone 2 $RUN\"}")"
check_eq "clone: another tenant: 404" 404 \
    "$(as ta2 POST "$DT/$EXTID/clone" "{\"name\": \"Clone 2 $RUN\"}")"
check_eq "clone: a name is required: 422" 422 "$(as ta1 POST "$DT/$EXTID/clone" '{}')"

# --- activate, deactivate, delete -----------------------------------------------------------
check_eq "delete while active: 409" 409 \
    "$(as admin DELETE "$DT/$CLONE" -H 'If-Match: *')"
check_eq "Tenant Auditor may not deactivate: 403" 403 \
    "$(as tau1 POST "$DT/$CLONE/deactivate")"
check_eq "deactivate: 200" 200 "$(as ta1 POST "$DT/$CLONE/deactivate")"
check_eq "deactivate: inactive" false "$(jbody .active)"
check_eq "deactivate: audited" 1 "$(audits device_type deactivate "$CLONE")"
check_eq "filter active=false" "$CLONE" \
    "$(as admin GET "$DT?name_contains=$RUN&active=false" >/dev/null
	jbody '[.items[].id] | map(tostring) | join(" ")')"
check_eq "activate: 200" 200 "$(as ta1 POST "$DT/$CLONE/activate")"
check_eq "activate: active" true "$(jbody .active)"
check_eq "deactivate again: 200" 200 "$(as ta1 POST "$DT/$CLONE/deactivate")"
check_eq "delete without If-Match: 428" 428 "$(as ta1 DELETE "$DT/$CLONE")"
check_eq "delete by another tenant's admin: 404" 404 \
    "$(as ta2 DELETE "$DT/$CLONE" -H 'If-Match: *')"
check_eq "delete: 204" 204 "$(as ta1 DELETE "$DT/$CLONE" -H 'If-Match: *')"
check_eq "delete: gone" 404 "$(as admin GET "$DT/$CLONE")"
check_eq "delete: its children went with it" 0 \
    "$(db_sql "SELECT COUNT(*) FROM device_type_op_templates WHERE device_type_id = $CLONE")"
check_eq "delete: audited with what it was" "1 Clone $RUN" \
    "$(audits device_type delete "$CLONE") $(db_sql "SELECT JSON_VALUE(details,
	'\$.before.name') FROM audit_log WHERE entity = 'device_type'
	AND action = 'delete' AND entity_id = $CLONE AND outcome = 'success'")"
check_eq "deactivate the guide's type: 200" 200 "$(as admin POST "$DT/$ID/deactivate")"
check_eq "delete while a device uses it: 409" 409 \
    "$(as admin DELETE "$DT/$ID" -H 'If-Match: *')"
db_sql "DELETE FROM devices WHERE id = $DEV"
check_eq "delete once unused: 204" 204 "$(as admin DELETE "$DT/$ID" -H 'If-Match: *')"
for t in "$EXTID" "$ORGID" "$T2ID"; do
	as admin POST "$DT/$t/deactivate" >/dev/null
	as admin DELETE "$DT/$t" -H 'If-Match: *' >/dev/null
done
check_eq "cleanup: no device type of this run is left" 0 \
    "$(db_sql "SELECT COUNT(*) FROM device_types WHERE name LIKE '%$RUN'")"

finish
