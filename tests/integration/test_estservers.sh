#!/bin/bash
# shellcheck disable=SC2016 # jq programs name their $variables in single quotes
#
# EST servers over HTTPS (fcgi/api_estsrv.h, guide §2.3): create (dps with
# a device type, cms with templates and API applications), the domain rule
# (one domain serves several organizations of one tenant, never two
# tenants, also when two tenants race for a new domain), IP allow lists
# (canonical form; a bad entry is a 422 naming ip_allow[N]), every other
# refusal with nothing written, changes with If-Match, labels (syntax,
# unique per domain, bound to a device type or a template of the right
# kind), clone to another organization of the tenant, activate /
# deactivate, delete only when inactive, list filters and pages, access by
# role (Admin, Tenant Admin; auditors read only; other roles 403, other
# tenants 404), "test connection" (it reports a result per path and is
# audited) and the audit rows.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

ES=/api/v1/est-servers
DT=/api/v1/device-types
TPL=/api/v1/cert-templates
PW="pw-$RUN-Secret"
T1="Estsrv T1 $RUN"
T2="Estsrv T2 $RUN"
O1="Estsrv O1 $RUN"
O1B="Estsrv O1b $RUN"
O1C="Estsrv O1c $RUN"
O2="Estsrv O2 $RUN"
# The instance's TLS certificate covers *.estuary.test.
DOM="srv$RUN.estuary.test"
D=$T_TMP/pki
mkdir -p "$D"

# nsrv: EST servers and their child rows, all tables, as one string.
nsrv() {
	nrows est_servers est_server_ip_allow est_server_templates \
	    est_server_apps est_labels
}

# post WHO JSON: POST /est-servers; prints the status.
post() {
	as "$1" POST "$ES" "$2"
}

# --- setup: tenants, organizations, users of every role ------------------------
tenant_add "$T1" "$O1" "$O1B" "$O1C"
tenant_add "$T2" "$O2"
TID1=$(tid_of "$T1")
TID2=$(tid_of "$T2")
OID1=$(oid_of "$O1")
OID1B=$(oid_of "$O1B")
OID1C=$(oid_of "$O1C")
OID2=$(oid_of "$O2")
users_add "$PW" es ta1:tenant_admin:"$T1": tau1:tenant_auditor:"$T1": \
    top1:tenant_operator:"$T1": oop1:org_operator:"$T1":"$O1" \
    ta2:tenant_admin:"$T2": aud:auditor::
admin_session

CA=$(ca_add "ES CA $RUN" "$D/ca.pem")
check_match "setup: a CA" '^[0-9]+$' "$CA"

# tpl NAME TYPE SCOPE-JSON: a template made by the admin; prints its id.
tpl() {
	tpl_add "$1 $RUN" "$2" "$CA" \
	    '[{"attribute": "CN", "rule": "required", "max_length": 64}]' "$3"
}
T1S=$(jq -nc --argjson t "$TID1" '{scope: "tenant", tenant_id: $t}')
T2S=$(jq -nc --argjson t "$TID2" '{scope: "tenant", tenant_id: $t}')
OT=$(tpl "ES op" operational "$T1S")
OT2=$(tpl "ES op T2" operational "$T2S")
GT=$(tpl "ES general" general "$T1S")
GG=$(tpl "ES global" general '{"scope": "global"}')
GX=$(tpl "ES general T2" general "$T2S")
GI=$(tpl "ES general inactive" general "$T1S")
check_match "setup: templates" '^([0-9]+ ){5}[0-9]+$' "$OT $OT2 $GT $GG $GX $GI"
check_eq "setup: a template deactivated" 200 \
    "$(as admin POST "$TPL/$GI/deactivate")"

# devtype NAME PLACE-JSON TEMPLATE: a device type; prints its id.
devtype() {
	as admin POST "$DT" "$(jq -nc --arg n "$1 $RUN" --argjson p "$2" \
	    --argjson t "$3" \
	    '{name: $n, operational_templates: [{template_id: $t}]} + $p')" \
	    >/dev/null
	jbody .id
}
DT1=$(devtype "ES type" "$T1S" "$OT")
DT1B=$(devtype "ES type two" "$T1S" "$OT")
DTB=$(devtype "ES type O1b" \
    "$(jq -nc --argjson o "$OID1B" '{org_id: $o}')" "$OT")
DTX=$(devtype "ES type T2" "$T2S" "$OT2")
DTI=$(devtype "ES type inactive" "$T1S" "$OT")
check_match "setup: device types" '^([0-9]+ ){4}[0-9]+$' \
    "$DT1 $DT1B $DTB $DTX $DTI"
check_eq "setup: a device type deactivated" 200 \
    "$(as admin POST "$DT/$DTI/deactivate")"

APP1=$(app_add "$T1" tenant_operator "ES app $RUN")
APP2=$(app_add "$T2" tenant_operator "ES app T2 $RUN")
AID1=$(app_rowid "$APP1")
AID2=$(app_rowid "$APP2")
check_match "setup: API applications" '^[0-9]+ [0-9]+$' "$AID1 $AID2"

# dps [JQ-FILTER]: a valid dps body for O1 changed by FILTER.
dps() {
	jq -nc --arg d "$DOM" --argjson o "$OID1" --argjson t "$TID1" \
	    --argjson dt "$DT1" --argjson dtb "$DTB" --argjson dtx "$DTX" \
	    --argjson dti "$DTI" --argjson gt "$GT" --argjson a1 "$AID1" \
	    --argjson a2 "$AID2" --argjson o2 "$OID2" --argjson t2 "$TID2" \
	    "{domain: \$d, org_id: \$o, kind: \"dps\", device_type_id: \$dt,
	      server_keygen: true,
	      auth: {device_password: true, factory_cert: true},
	      ip_allow: [\"192.168.1.0/24\", \"10.0.0.1-10.0.0.9\",
	                 \"2001:DB8:0::/32\", \"192.168.2.16/255.255.255.240\",
	                 \"203.0.113.7\"]}
	     | ${1:-.}"
}
# cms [JQ-FILTER]: a valid cms body for O1b changed by FILTER.
cms() {
	jq -nc --arg d "$DOM" --argjson o "$OID1B" --argjson gt "$GT" \
	    --argjson gg "$GG" --argjson gx "$GX" --argjson gi "$GI" \
	    --argjson a1 "$AID1" --argjson a2 "$AID2" --argjson dt "$DT1" \
	    "{domain: \$d, org_id: \$o, kind: \"cms\",
	      templates: [{template_id: \$gt}, {template_id: \$gg, default: true}],
	      applications: [{id: \$a1}],
	      auth: {app_key: true, app_cert: true}}
	     | ${1:-.}"
}

# refuse DESC STATUS FIELD JSON [WHO]: a create refused with STATUS naming
# FIELD ("-": not checked), nothing written.
refuse() {
	local before

	before=$(nsrv)
	check_refused "$1" "$2" "$3" "$(post "${5:-admin}" "$4")"
	check_eq "$1: nothing written" "$before" "$(nsrv)"
}

# --- create ----------------------------------------------------------------------
check_eq "create a dps server (upper-case domain): 201" 201 \
    "$(post admin "$(dps '.domain = ($d | ascii_upcase)')")"
S1=$(jbody .id)
check_eq "create: Location" "$ES/$S1" "$(header Location)"
check_eq "create: the domain lower-cased" "$DOM" "$(jbody .domain)"
check_eq "create: tenant from the organization" "$TID1 $OID1" \
    "$(jbody '"\(.tenant_id) \(.org_id)"')"
check_eq "create: kind, device type, flags" "dps $DT1 true true true false false true" \
    "$(jbody '"\(.kind) \(.device_type_id) \(.server_keygen) \(.auth.device_password) \(.auth.factory_cert) \(.auth.app_key) \(.auth.app_cert) \(.active)"')"
check_eq "create: ip_allow in canonical form" \
    '["192.168.1.0/24","10.0.0.1-10.0.0.9","2001:db8::/32","192.168.2.16/255.255.255.240","203.0.113.7"]' \
    "$(jq -c .ip_allow "$T_TMP/body")"
check_eq "create: ETag" 1 "$([ -n "$(etag)" ] && echo 1)"
check_eq "create: ip ranges stored in network byte order" \
    "0 C0A80100 C0A801FF|1 0A000001 0A000009|2 20010DB8000000000000000000000000 20010DB8FFFFFFFFFFFFFFFFFFFFFFFF|3 C0A80210 C0A8021F|4 CB007107 CB007107" \
    "$(db_sql "SELECT GROUP_CONCAT(CONCAT_WS(' ', position, HEX(start_addr),
	HEX(end_addr)) ORDER BY position SEPARATOR '|')
	FROM est_server_ip_allow WHERE server_id = $S1")"
check_eq "create: audited" 1 "$(audits est_server create "$S1")"
check_match "create: audit details name the domain" "$DOM" \
    "$(db_sql "SELECT details FROM audit_log WHERE entity = 'est_server'
	AND action = 'create' AND entity_id = $S1")"

check_eq "the same domain for another organization of the tenant (Tenant Admin, cms): 201" \
    201 "$(post ta1 "$(cms)")"
S2=$(jbody .id)
check_eq "cms: templates in order, the default marked" \
    "$GT false $GG true" \
    "$(jbody '[.templates[] | "\(.template_id) \(.default)"] | join(" ")')"
check_eq "cms: applications, no device type" "$AID1 null" \
    "$(jbody '"\([.applications[].id] | join(",")) \(.device_type_id)"')"

# --- the domain rule -------------------------------------------------------------
T2DOM="t2srv$RUN.estuary.test"
check_eq "another tenant's own domain: 201" 201 \
    "$(post ta2 "$(dps ".domain = \"$T2DOM\" | .org_id = \$o2 | .device_type_id = \$dtx")")"
refuse "the domain for another tenant" 409 domain \
    "$(dps '.org_id = $o2 | .device_type_id = $dtx')" ta2
check_match "another tenant: says why" "another tenant" "$(jbody .error.message)"
refuse "the domain twice for one organization" 409 domain "$(dps)"
refuse "an Admin naming another tenant's org for the domain" 409 domain \
    "$(dps '.org_id = $o2 | .tenant_id = $t2 | .device_type_id = $dtx')"

# Two tenants race for a new domain: exactly one wins, however it goes.
for i in 1 2 3; do
	nd="race$i-$RUN.estuary.test"
	(as ta1 POST "$ES" "$(dps ".domain = \"$nd\"")" >"$T_TMP/race1") &
	(as ta2 POST "$ES" "$(dps ".domain = \"$nd\" | .org_id = \$o2 |
	    .device_type_id = \$dtx")" >"$T_TMP/race2") &
	wait
	check_eq "race $i: one 201 and one 409" "201 409" \
	    "$(printf '%s\n%s\n' "$(cat "$T_TMP/race1")" "$(cat "$T_TMP/race2")" | sort | tr '\n' ' ' | sed 's/ $//')"
	check_eq "race $i: one tenant holds the domain" 1 \
	    "$(db_sql "SELECT COUNT(DISTINCT tenant_id) FROM est_servers
		WHERE domain = '$nd'")"
done

# --- refusals: 422 naming the member, nothing written ----------------------------
D2="other$RUN.estuary.test"
refuse "a CIDR prefix too long" 422 'ip_allow[1]' \
    "$(dps ".domain = \"$D2\" | .ip_allow = [\"10.0.0.0/8\", \"10.0.0.0/33\"]")"
refuse "a leading zero" 422 'ip_allow[0]' \
    "$(dps ".domain = \"$D2\" | .ip_allow = [\"010.0.0.1\"]")"
refuse "a non-contiguous netmask" 422 'ip_allow[0]' \
    "$(dps ".domain = \"$D2\" | .ip_allow = [\"10.0.0.0/255.0.255.0\"]")"
check_match "non-contiguous netmask: says why" "contiguous" "$(jbody .error.message)"
refuse "a reversed range" 422 'ip_allow[2]' \
    "$(dps ".domain = \"$D2\" | .ip_allow = [\"::1\", \"10.0.0.1\", \"10.0.0.9-10.0.0.1\"]")"
refuse "host bits after the prefix" 422 'ip_allow[0]' \
    "$(dps ".domain = \"$D2\" | .ip_allow = [\"192.168.1.1/24\"]")"
refuse "junk in the allow list" 422 'ip_allow[0]' \
    "$(dps ".domain = \"$D2\" | .ip_allow = [\"example.com\"]")"
refuse "a repeated entry (same range, other spelling)" 422 'ip_allow[1]' \
    "$(dps ".domain = \"$D2\" | .ip_allow = [\"2001:db8::/32\", \"2001:DB8:0::/32\"]")"
refuse "no authentication method" 422 auth \
    "$(dps ".domain = \"$D2\" | .auth = {device_password: false}")"
refuse "dps without a device type" 422 device_type_id \
    "$(dps ".domain = \"$D2\" | del(.device_type_id)")"
refuse "another organization's device type" 422 device_type_id \
    "$(dps ".domain = \"$D2\" | .device_type_id = \$dtb")"
refuse "another tenant's device type" 422 device_type_id \
    "$(dps ".domain = \"$D2\" | .device_type_id = \$dtx")"
refuse "an inactive device type" 422 device_type_id \
    "$(dps ".domain = \"$D2\" | .device_type_id = \$dti")"
refuse "dps with templates" 422 templates \
    "$(dps ".domain = \"$D2\" | .templates = [{template_id: \$gt}]")"
refuse "cms without templates" 422 templates "$(cms ".domain = \"$D2\" | .templates = []")"
refuse "cms with a device type" 422 device_type_id \
    "$(cms ".domain = \"$D2\" | .device_type_id = \$dt")"
refuse "cms: another tenant's template" 422 'templates[1].template_id' \
    "$(cms ".domain = \"$D2\" | .templates = [{template_id: \$gt}, {template_id: \$gx}]")"
refuse "cms: an inactive template" 422 'templates[0].template_id' \
    "$(cms ".domain = \"$D2\" | .templates = [{template_id: \$gi}]")"
refuse "cms: two defaults" 422 'templates[1].default' \
    "$(cms ".domain = \"$D2\" | .templates = [{template_id: \$gt, default: true}, {template_id: \$gg, default: true}]")"
refuse "cms: a template twice" 422 'templates[1].template_id' \
    "$(cms ".domain = \"$D2\" | .templates = [{template_id: \$gt}, {template_id: \$gt}]")"
refuse "another tenant's application" 422 'applications[0].id' \
    "$(cms ".domain = \"$D2\" | .applications = [{id: \$a2}]")"
refuse "a domain with an underscore" 422 domain "$(dps '.domain = "bad_name.estuary.test"')"
refuse "an IP address as domain" 422 domain "$(dps '.domain = "10.0.0.1"')"
refuse "a domain with a port" 422 domain "$(dps '.domain = "x.estuary.test:8443"')"
refuse "a single-label domain" 422 domain "$(dps '.domain = "localhost"')"
refuse "no organization" 422 org_id "$(dps "del(.org_id) | .domain = \"$D2\"")"
refuse "an unknown member" 422 color "$(dps ".domain = \"$D2\" | .color = 1")"
refuse "an unknown kind" 422 kind "$(dps ".domain = \"$D2\" | .kind = \"ra\"")"
refuse "an organization of another tenant" 422 org_id \
    "$(dps ".domain = \"$D2\" | .tenant_id = \$t | .org_id = \$o2")"
before=$(nsrv)
check_eq "malformed JSON: 400" 400 "$(post admin '{"domain": ')"
check_eq "malformed JSON: nothing written" "$before" "$(nsrv)"

# --- roles -----------------------------------------------------------------------
refuse "a Tenant Admin in another tenant: 404" 404 - \
    "$(dps ".domain = \"$D2\" | .tenant_id = \$t2 | .org_id = \$o2 | .device_type_id = \$dtx")" ta1
for who in tau1 top1 oop1 aud; do
	refuse "create as $who: 403" 403 - "$(dps ".domain = \"$D2\"")" "$who"
done
check_eq "Tenant Admin reads its server" 200 "$(as ta1 GET "$ES/$S1")"
check_eq "Tenant Auditor reads it" 200 "$(as tau1 GET "$ES/$S1")"
check_eq "Auditor reads it" 200 "$(as aud GET "$ES/$S1")"
check_eq "another tenant's admin: 404" 404 "$(as ta2 GET "$ES/$S1")"
check_eq "Tenant Operator: 403" 403 "$(as top1 GET "$ES/$S1")"
check_eq "Organization Operator: 403" 403 "$(as oop1 GET "$ES/$S1")"
check_eq "Tenant Operator cannot list: 403" 403 "$(as top1 GET "$ES")"
check_eq "Tenant Auditor cannot deactivate: 403" 403 \
    "$(as tau1 POST "$ES/$S1/deactivate")"
check_eq "Auditor cannot test the connection: 403" 403 \
    "$(as aud POST "$ES/$S1/test-connection")"
check_eq "a refusal is audited" 1 \
    "$(db_sql "SELECT COUNT(*) > 0 FROM audit_log WHERE entity = 'est_server'
	AND action = 'deactivate' AND entity_id = $S1 AND outcome = 'denied'")"
check_eq "an unknown server: 404" 404 "$(as admin GET "$ES/999999999")"

# --- list ------------------------------------------------------------------------
check_eq "list by domain: 200" 200 "$(as admin GET "$ES?domain=$DOM")"
check_eq "list by domain: both organizations' servers" "$S1 $S2" \
    "$(jbody '[.items[].id] | join(" ")')"
as admin GET "$ES?domain=$DOM&kind=cms" >/dev/null
check_eq "list by kind" "$S2" "$(jbody '[.items[].id] | join(" ")')"
as admin GET "$ES?device_type_id=$DT1&tenant_id=$TID1" >/dev/null
check_match "list by device type" "(^| )$S1( |$)" "$(jbody '[.items[].id] | join(" ")')"
check_eq "list by device type: only its servers" true \
    "$(jbody "[.items[].device_type_id] | all(. == $DT1)")"
as admin GET "$ES?org_id=$OID1B" >/dev/null
check_eq "list by organization" "$S2" "$(jbody '[.items[].id] | join(" ")')"
as ta2 GET "$ES?domain=$DOM" >/dev/null
check_eq "another tenant's admin lists none of them" 0 "$(jbody '.items | length')"
as tau1 GET "$ES?tenant_id=$TID1" >/dev/null
check_eq "Tenant Auditor lists only its tenant" true \
    "$(jbody "[.items[].tenant_id] | all(. == $TID1)")"
check_eq "a page of one: 200" 200 "$(as admin GET "$ES?domain=$DOM&limit=1")"
C=$(jbody .next_cursor)
check_eq "a page of one: the first" "$S1" "$(jbody '.items[0].id')"
as admin GET "$ES?domain=$DOM&limit=1&cursor=$C" >/dev/null
check_eq "the next page: the second" "$S2 null" \
    "$(jbody '"\(.items[0].id) \(.next_cursor)"')"
check_eq "an unknown filter: 400" 400 "$(as admin GET "$ES?name=x")"
check_eq "a bad kind filter: 400" 400 "$(as admin GET "$ES?kind=ra")"

# --- change ----------------------------------------------------------------------
as admin GET "$ES/$S1" >/dev/null
E1=$(etag)
CH='{"description": "Line one", "ip_allow": ["2001:db8:1::/48", "198.51.100.0/24"]}'
check_eq "change without If-Match: 428" 428 "$(as admin PUT "$ES/$S1" "$CH")"
check_eq "change with a stale ETag: 412" 412 \
    "$(as admin PUT "$ES/$S1" "$CH" -H 'If-Match: "stale"')"
check_eq "change: 200" 200 "$(as admin PUT "$ES/$S1" "$CH" -H "If-Match: $E1")"
check_eq "change: description and allow list" 'Line one ["2001:db8:1::/48","198.51.100.0/24"]' \
    "$(jbody '"\(.description) \(.ip_allow | tojson)"')"
check_eq "change: the rest kept" "$DOM dps $DT1 true" \
    "$(jbody '"\(.domain) \(.kind) \(.device_type_id) \(.auth.factory_cert)"')"
E2=$(etag)
check_eq "change: a new ETag" 1 "$([ "$E1" != "$E2" ] && echo 1)"
check_eq "change: audited" 1 "$(audits est_server update "$S1")"
check_eq "change with the old ETag: 412" 412 \
    "$(as admin PUT "$ES/$S1" '{"description": "x"}' -H "If-Match: $E1")"
check_eq "a bad entry in a change: 422" 422 \
    "$(as admin PATCH "$ES/$S1" '{"ip_allow": ["1.2.3.4", "1.2.3"]}' -H "If-Match: $E2")"
check_eq "a bad entry in a change: field" 'ip_allow[1]' "$(jbody .error.field)"
check_eq "a bad change wrote nothing" 2 \
    "$(db_sql "SELECT COUNT(*) FROM est_server_ip_allow WHERE server_id = $S1")"
check_eq "active is not changed by PUT: 422" 422 \
    "$(as admin PUT "$ES/$S1" '{"active": false}' -H "If-Match: $E2")"
check_eq "moving the domain to another tenant's: 409" 409 \
    "$(as admin PUT "$ES/$S1" "{\"domain\": \"$T2DOM\"}" -H "If-Match: *")"
check_eq "moving the domain: field" domain "$(jbody .error.field)"
check_eq "a change by the Tenant Auditor: 403" 403 \
    "$(as tau1 PUT "$ES/$S1" '{"description": "x"}' -H "If-Match: *")"
check_eq "a change by another tenant's admin: 404" 404 \
    "$(as ta2 PUT "$ES/$S1" '{"description": "x"}' -H "If-Match: *")"
check_eq "the same change again: 200" 200 \
    "$(as admin PUT "$ES/$S1" "$CH" -H "If-Match: *")"
check_eq "no change, no new audit row" 1 "$(audits est_server update "$S1")"

# --- labels ----------------------------------------------------------------------
L=$ES/$S1/labels
check_eq "add a label: 201" 201 \
    "$(as ta1 POST "$L" "{\"label\": \"ext01\", \"device_type_id\": $DT1B}")"
LB1=$(jbody .id)
check_eq "label: Location" "$L/$LB1" "$(header Location)"
check_eq "label: fields" "ext01 $DT1B null $S1" \
    "$(jbody '"\(.label) \(.device_type_id) \(.template_id) \(.server_id)"')"
check_eq "label: audited" 1 "$(audits est_server label_create "$S1")"
n=$(nsrv)
check_eq "the label on another server of the domain: 409" 409 \
    "$(as ta1 POST "$ES/$S2/labels" "{\"label\": \"ext01\", \"template_id\": $GT}")"
check_eq "label taken: field" label "$(jbody .error.field)"
check_eq "label too short: 422" 422 \
    "$(as ta1 POST "$L" "{\"label\": \"ab\", \"device_type_id\": $DT1}")"
check_eq "label with upper case: 422" 422 \
    "$(as ta1 POST "$L" "{\"label\": \"Ext02\", \"device_type_id\": $DT1}")"
check_eq "label of 25 characters: 422" 422 \
    "$(as ta1 POST "$L" "{\"label\": \"abcdefghijklmnopqrstuvwxy\", \"device_type_id\": $DT1}")"
check_eq "a dps label naming a template: 422" 422 \
    "$(as ta1 POST "$L" "{\"label\": \"ext02\", \"template_id\": $GT}")"
check_eq "a dps label naming a template: field" template_id "$(jbody .error.field)"
check_eq "a label with another tenant's device type: 422" 422 \
    "$(as admin POST "$L" "{\"label\": \"ext02\", \"device_type_id\": $DTX}")"
check_eq "a cms label naming a device type: 422" 422 \
    "$(as ta1 POST "$ES/$S2/labels" "{\"label\": \"wisun\", \"device_type_id\": $DT1}")"
check_eq "a label by the Tenant Auditor: 403" 403 \
    "$(as tau1 POST "$L" "{\"label\": \"ext03\", \"device_type_id\": $DT1}")"
check_eq "refused labels wrote nothing" "$n" "$(nsrv)"
check_eq "a cms label with a template: 201" 201 \
    "$(as ta1 POST "$ES/$S2/labels" "{\"label\": \"wisun\", \"template_id\": $GG}")"
LB2=$(jbody .id)
check_eq "list labels: 200" 200 "$(as tau1 GET "$L")"
check_eq "list labels: one" "ext01" "$(jbody '[.items[].label] | join(" ")')"
check_eq "read a label: 200" 200 "$(as aud GET "$L/$LB1")"
check_eq "a label of another server: 404" 404 "$(as admin GET "$L/$LB2")"
check_eq "rebind a label: 200" 200 \
    "$(as ta1 PUT "$L/$LB1" "{\"device_type_id\": $DT1}")"
check_eq "rebind: the new device type" "$DT1" "$(jbody .device_type_id)"
check_eq "rebind: audited" 1 "$(audits est_server label_update "$S1")"
check_eq "rename a label: 422" 422 \
    "$(as ta1 PUT "$L/$LB1" "{\"label\": \"ext09\", \"device_type_id\": $DT1}")"
as admin GET "$ES/$S1" >/dev/null
check_eq "the server counts its label" 1 "$(jbody .label_count)"
check_eq "changing the kind of a server with labels: 409" 409 \
    "$(as admin PUT "$ES/$S1" "$(jq -nc --argjson g "$GT" '{kind: "cms", device_type_id: null, templates: [{template_id: $g}]}')" -H 'If-Match: *')"
check_eq "changing the kind: field" kind "$(jbody .error.field)"

# --- test connection ---------------------------------------------------------------
check_eq "test connection: 200" 200 "$(as ta1 POST "$ES/$S1/test-connection")"
check_eq "test connection: one result per path" \
    "/.well-known/est/cacerts /.well-known/est/ext01/cacerts" \
    "$(jbody '[.results[].path] | join(" ")')"
check_eq "test connection: each reports ok, status, certificates" true \
    "$(jbody '[.results[] | (.ok | type) == "boolean" and (.status | type) == "number" and (.certificates | type) == "number"] | all')"
check_eq "test connection: an HTTP status came back" true \
    "$(jbody '[.results[].status] | all(. >= 200 and . < 600)')"
check_eq "test connection: a failure says why" true \
    "$(jbody '[.results[] | .ok or (.error | type) == "string"] | all')"
check_eq "test connection: the overall ok agrees" true \
    "$(jbody '.ok == ([.results[].ok] | all)')"
printf '# test connection said: %s\n' "$(jq -c .results "$T_TMP/body")"
check_eq "test connection: audited" 1 "$(audits est_server test_connection "$S1")"
check_eq "test connection with a body: 400" 400 \
    "$(as ta1 POST "$ES/$S1/test-connection" '{"url": "https://192.0.2.1/"}')"

# --- clone -----------------------------------------------------------------------
n=$(nsrv)
check_eq "clone to another tenant's organization: 422" 422 \
    "$(as admin POST "$ES/$S1/clone" "{\"org_id\": $OID2}")"
check_eq "clone to the same organization: 409" 409 \
    "$(as admin POST "$ES/$S1/clone" "{\"org_id\": $OID1}")"
check_eq "clone without an organization: 422" 422 \
    "$(as admin POST "$ES/$S1/clone" '{}')"
check_eq "refused clones wrote nothing" "$n" "$(nsrv)"
check_eq "clone to another organization of the tenant: 201" 201 \
    "$(as ta1 POST "$ES/$S1/clone" "{\"org_id\": $OID1C, \"description\": \"Clone\"}")"
S3=$(jbody .id)
check_eq "clone: same domain, new organization, settings kept" \
    "$DOM $TID1 $OID1C dps $DT1 Clone 2 0 true" \
    "$(jbody '"\(.domain) \(.tenant_id) \(.org_id) \(.kind) \(.device_type_id) \(.description) \(.ip_allow | length) \(.label_count) \(.active)"')"
check_eq "clone: audited with its source" 1 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE entity = 'est_server'
	AND action = 'clone' AND entity_id = $S3
	AND JSON_VALUE(details, '\$.after.cloned_from') = $S1")"
check_eq "a clone by the Tenant Auditor: 403" 403 \
    "$(as tau1 POST "$ES/$S1/clone" "{\"org_id\": $OID1C}")"

# --- activate, deactivate, delete --------------------------------------------------
check_eq "delete while active: 409" 409 "$(as admin DELETE "$ES/$S3" -H 'If-Match: *')"
check_eq "delete while active: field" active "$(jbody .error.field)"
check_eq "deactivate: 200" 200 "$(as ta1 POST "$ES/$S3/deactivate")"
check_eq "deactivate: inactive" false "$(jbody .active)"
check_eq "deactivate: audited" 1 "$(audits est_server deactivate "$S3")"
check_eq "list inactive" "$S3" \
    "$(as admin GET "$ES?domain=$DOM&active=false" >/dev/null; jbody '[.items[].id] | join(" ")')"
check_eq "activate: 200" 200 "$(as ta1 POST "$ES/$S3/activate")"
check_eq "activate: active" true "$(jbody .active)"
check_eq "deactivate again: 200" 200 "$(as admin POST "$ES/$S3/deactivate")"
check_eq "delete without If-Match: 428" 428 "$(as admin DELETE "$ES/$S3")"
check_eq "delete by the Tenant Auditor: 403" 403 \
    "$(as tau1 DELETE "$ES/$S3" -H 'If-Match: *')"
check_eq "delete: 204" 204 "$(as ta1 DELETE "$ES/$S3" -H "If-Match: $(as admin GET "$ES/$S3" >/dev/null; etag)")"
check_eq "deleted: 404" 404 "$(as admin GET "$ES/$S3")"
check_eq "deleted with its allow list" 0 \
    "$(db_sql "SELECT COUNT(*) FROM est_server_ip_allow WHERE server_id = $S3")"
check_eq "delete: audited" 1 "$(audits est_server delete "$S3")"
check_eq "delete a label: 204" 204 "$(as ta1 DELETE "$L/$LB1")"
check_eq "deleted label: 404" 404 "$(as ta1 GET "$L/$LB1")"
check_eq "label delete: audited" 1 "$(audits est_server label_delete "$S1")"

# A domain whose servers are all gone may go to another tenant.
FREE="free$RUN.estuary.test"
check_eq "a server of a new domain: 201" 201 \
    "$(post ta1 "$(dps ".domain = \"$FREE\"")")"
S4=$(jbody .id)
check_eq "the domain is taken for another tenant: 409" 409 \
    "$(post ta2 "$(dps ".domain = \"$FREE\" | .org_id = \$o2 | .device_type_id = \$dtx")")"
check_eq "its only server deactivated" 200 "$(as ta1 POST "$ES/$S4/deactivate")"
check_eq "and deleted" 204 "$(as ta1 DELETE "$ES/$S4" -H 'If-Match: *')"
check_eq "then another tenant may use the domain: 201" 201 \
    "$(post ta2 "$(dps ".domain = \"$FREE\" | .org_id = \$o2 | .device_type_id = \$dtx")")"

finish
