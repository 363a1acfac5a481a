#!/bin/bash
#
# Reports (fcgi/api_report.c, db/report.c, db/views-report.sql): every
# report's figures, in JSON and in CSV, against rows this script made, for
# an Admin narrowing to a tenant and for that tenant's Tenant Auditor; the
# refusals (an operator, another tenant, bad parameters); and the
# read-only account estuary_report, which can SELECT the report views and
# nothing else, and whose SQL (docs/reports.md) gives the API's figures.
#
# Certificates, CAs, device types, devices and enrollments have no API yet
# (later issues), so this script inserts them directly with the instance's
# administrative database account, in a tenant of its own (and a second
# tenant whose rows must not leak into the first one's figures), and
# deletes them at the end.  The CAs are inactive and have no key: nothing
# else in the instance can pick them up.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

TR_NAME="Report T $RUN"
TU_NAME="Report U $RUN"
CA1="Report CA $RUN"
CA2="=Report CA2 $RUN"
DT1="Report DT $RUN"
DTG="Report Global $RUN"

# The read-only account; its password file lies beside estuary.conf.
report_sql() {
	sql_as estuary_report "$(dirname "$ESTUARY_CONF")/db-report.pw" "$1"
}

items() {
	jq -c '.items' "$T_TMP/body" 2>/dev/null
}

# The rows this script inserted, removed whatever happens.
cleanup() {
	[ -n "${TR:-}" ] || return 0
	db_sql "DELETE FROM est_enrollments WHERE tenant_id IN ($TR, $TU);
	    DELETE FROM certificates WHERE tenant_id IN ($TR, $TU);
	    DELETE FROM devices WHERE tenant_id IN ($TR, $TU);
	    DELETE FROM device_types WHERE name IN ('$DT1', '$DTG');
	    DELETE FROM cas WHERE name IN ('$CA1', '$CA2')" >/dev/null 2>&1
}
at_exit cleanup

# admin REPORT?QUERY: a report as the Admin; prints the status.
admin() {
	http GET "/api/v1/reports/$1" -b "$T_TMP/admin.jar"
}

# app APP REPORT?QUERY: a report as an API application.
app() {
	as_app "$1" GET "/api/v1/reports/$2"
}

# --- tenants, applications and rows ------------------------------------------------
check "tenant T" ctl tenant add "$TR_NAME"
check "tenant U" ctl tenant add "$TU_NAME"
check "organization of T" ctl org add --tenant "$TR_NAME" "Report O $RUN"
check "organization of U" ctl org add --tenant "$TU_NAME" "Report P $RUN"
TR=$(db_sql "SELECT id FROM tenants WHERE name = '$TR_NAME'")
TU=$(db_sql "SELECT id FROM tenants WHERE name = '$TU_NAME'")
OR=$(db_sql "SELECT id FROM organizations WHERE tenant_id = $TR")
OU=$(db_sql "SELECT id FROM organizations WHERE tenant_id = $TU")
check_match "tenant and organization ids" '^[0-9]+ [0-9]+ [0-9]+ [0-9]+$' \
    "$TR $TU $OR $OU"
AUD=$(app_add "$TR_NAME" tenant_auditor "raud-$RUN")
check_match "tenant auditor application" '^[0-9a-f]{32}	' "$AUD"
ADM_T=$(app_add "$TR_NAME" tenant_admin "radm-$RUN")
check_match "tenant admin application" '^[0-9a-f]{32}	' "$ADM_T"
OPR=$(app_add "$TR_NAME" tenant_operator "ropr-$RUN")
check_match "tenant operator application" '^[0-9a-f]{32}	' "$OPR"

# Two CAs of tenant T (the second one's name begins with "=").
check "CAs inserted" db_sql "
INSERT INTO cas (name, key_id, key_type, subject, scope, tenant_id, active)
VALUES ('$CA1', UNHEX(LEFT(SHA2('k1 $RUN', 256), 32)), 1, 'CN=$CA1',
	'tenant', $TR, FALSE),
    ('$CA2', UNHEX(LEFT(SHA2('k2 $RUN', 256), 32)), 1, 'CN=CA2 $RUN',
	'tenant', $TR, FALSE)"
C1=$(db_sql "SELECT id FROM cas WHERE name = '$CA1'")
C2=$(db_sql "SELECT id FROM cas WHERE name = '$CA2'")

# cert N CA TENANT ORG STATUS DAYS: a certificate whose notAfter is an
# hour short of DAYS days from now (so that days_left is DAYS - 1 however
# long the script takes), as a VALUES tuple.
cert() {
	local revoked=NULL reason=NULL

	if [ "$5" = revoked ]; then
		revoked='UTC_TIMESTAMP(6)'
		reason=1
	fi
	printf "(%s, UNHEX(LPAD(HEX(%s), 16, '0')), UNHEX(SHA2('fp %s %s', 256)),
	    'CN=c%s %s', UTC_TIMESTAMP() - INTERVAL 400 DAY,
	    UTC_TIMESTAMP() + INTERVAL %s DAY - INTERVAL 1 HOUR, '%s', %s, %s,
	    X'00', %s, %s)" \
	    "$2" "$1" "$RUN" "$1" "$1" "$RUN" "$6" "$5" "$reason" "$revoked" \
	    "$3" "$4"
}
# Tenant T: three active (two expiring within 30 days), one active past
# its notAfter and one marked expired, one revoked; tenant U: one active.
check "certificates inserted" db_sql "
INSERT INTO certificates (ca_id, serial, fingerprint, subject, not_before,
    not_after, status, revocation_reason, revoked_at, cert_der, tenant_id,
    org_id) VALUES
    $(cert 1 "$C1" "$TR" "$OR" active 10),
    $(cert 2 "$C1" "$TR" "$OR" active 100),
    $(cert 3 "$C1" "$TR" "$OR" active -1),
    $(cert 4 "$C1" "$TR" "$OR" revoked 50),
    $(cert 5 "$C1" "$TR" "$OR" expired -10),
    $(cert 6 "$C2" "$TR" "$OR" active 20),
    $(cert 7 "$C1" "$TU" "$OU" active 5)"

# A device type of tenant T and a global one used by both tenants.
check "device types inserted" db_sql "
INSERT INTO device_types (name, scope, tenant_id)
VALUES ('$DT1', 'tenant', $TR), ('$DTG', 'global', NULL)"
D1=$(db_sql "SELECT id FROM device_types WHERE name = '$DT1'")
DG=$(db_sql "SELECT id FROM device_types WHERE name = '$DTG'")
check "devices inserted" db_sql "
INSERT INTO devices (name, tenant_id, org_id, device_type_id, mode,
    mode_before_disable, created_via) VALUES
    ('d1-$RUN', $TR, $OR, $D1, 'NEW', NULL, 'api'),
    ('d2-$RUN', $TR, $OR, $D1, 'FACTORY', NULL, 'api'),
    ('d3-$RUN', $TR, $OR, $D1, 'OPERATIONAL', NULL, 'api'),
    ('d4-$RUN', $TR, $OR, $DG, 'OPERATIONAL', NULL, 'api'),
    ('d5-$RUN', $TR, $OR, $DG, 'DISABLED', 'FACTORY', 'api'),
    ('d6-$RUN', $TU, $OU, $DG, 'NEW', NULL, 'api')"

# Enrollments on two days of 2020 (and one of tenant U).
check "enrollments inserted" db_sql "
INSERT INTO est_enrollments (ts, tenant_id, domain, operation, auth_method,
    outcome, device_created) VALUES
    ('2020-01-01 08:00:00', $TR, 'est01.example.test', 'simpleenroll',
	'factory_cert', 'success', TRUE),
    ('2020-01-01 23:59:59', $TR, 'est02.example.test', 'simpleenroll',
	'factory_cert', 'success', FALSE),
    ('2020-01-01 12:00:00', $TR, 'est01.example.test', 'simpleenroll',
	'device_password', 'failure', FALSE),
    ('2020-01-03 00:00:00', $TR, 'est01.example.test', 'simplereenroll',
	'operational_cert', 'denied', FALSE),
    ('2020-01-01 10:00:00', $TU, 'est01.example.test', 'simpleenroll',
	'factory_cert', 'success', TRUE)"

check_eq "the Admin logs in" 200 \
    "$(session admin "$ESTUARY_ADMIN_USER" "$ESTUARY_ADMIN_PASSWORD")"

# --- JSON figures (Admin narrowed to tenant T) -------------------------------------
BY_STATUS='[{"status":"active","certificates":3},{"status":"expired","certificates":2},{"status":"revoked","certificates":1}]'
BY_CA="$(jq -nc --argjson a "$C1" --argjson b "$C2" --arg n "$CA1" \
    --arg m "$CA2" '[{ca_id: $b, ca_name: $m, active: 1, expired: 0,
	revoked: 0, total: 1}, {ca_id: $a, ca_name: $n, active: 2,
	expired: 2, revoked: 1, total: 5}]')"
BY_MODE='[{"mode":"NEW","devices":1},{"mode":"FACTORY","devices":1},{"mode":"OPERATIONAL","devices":2},{"mode":"DISABLED","devices":1}]'
BY_TYPE="$(jq -nc --argjson a "$D1" --argjson g "$DG" --arg n "$DT1" \
    --arg m "$DTG" '[{device_type_id: $a, device_type_name: $n, devices: 3,
	devices_new: 1, devices_factory: 1, devices_operational: 1,
	devices_disabled: 0}, {device_type_id: $g, device_type_name: $m,
	devices: 2, devices_new: 0, devices_factory: 0,
	devices_operational: 1, devices_disabled: 1}]')"
PER_DAY='[{"day":"2020-01-01","enrollments":3,"success":2,"failure":1,"denied":0,"devices_created":1},{"day":"2020-01-03","enrollments":1,"success":0,"failure":0,"denied":1,"devices_created":0}]'
RANGE="from=2020-01-01&to=2020-01-05"

check_eq "by status: 200" 200 "$(admin "certificates-by-status?tenant_id=$TR")"
check_eq "by status: JSON" application/json "$(header Content-Type)"
check_eq "by status: names the report" \
    "certificates-by-status $TR" "$(jbody '"\(.report) \(.tenant_id)"')"
check_match "by status: generated_at" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
    "$(jbody .generated_at)"
check_eq "by status: figures" "$BY_STATUS" "$(items)"
admin "certificates-by-ca?tenant_id=$TR" >/dev/null
check_eq "by CA: figures" "$BY_CA" "$(items)"
admin "devices-by-mode?tenant_id=$TR" >/dev/null
check_eq "by mode: figures" "$BY_MODE" "$(items)"
admin "devices-by-type?tenant_id=$TR" >/dev/null
check_eq "by type: figures" "$BY_TYPE" "$(items)"
admin "enrollments-per-day?tenant_id=$TR&$RANGE" >/dev/null
check_eq "per day: figures" "$PER_DAY" "$(items)"
check_eq "per day: the range" "2020-01-01 2020-01-05" \
    "$(jbody '"\(.from) \(.to)"')"
admin "enrollments-per-day?tenant_id=$TR&from=2020-01-02&to=2020-01-02" \
    >/dev/null
check_eq "per day: a day without enrollments has no row" '[]' "$(items)"
admin "enrollments-per-day?tenant_id=$TR" >/dev/null
check_eq "per day: defaults to the last 30 days" \
    "$(date -u -d '29 days ago' +%F) $(date -u +%F)" \
    "$(jbody '"\(.from) \(.to)"')"

admin "certificates-expiring?tenant_id=$TR" >/dev/null
check_eq "expiring: 30 days by default" \
    "30 2 false c1 $RUN,c6 $RUN" \
    "$(jbody '"\(.days) \(.total) \(.truncated) \([.items[].subject |
	sub("^CN="; "")] | join(","))"')"
check_eq "expiring: days left" "9,19" \
    "$(jbody '[.items[].days_left] | join(",")')"
check_eq "expiring: the row's CA, tenant and organization" \
    "$C1 $CA1 $TR $TR_NAME $OR null" \
    "$(jbody '.items[0] | "\(.ca_id) \(.ca_name) \(.tenant_id) \(.tenant_name) \(.org_id) \(.device_id)"')"
check_match "expiring: notAfter in RFC 3339" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
    "$(jbody '.items[0].not_after')"
check_eq "expiring: serial in hex" 0000000000000001 \
    "$(jbody '.items[0].serial')"
admin "certificates-expiring?tenant_id=$TR&days=365" >/dev/null
check_eq "expiring within 365 days" "3 c1 $RUN,c6 $RUN,c2 $RUN" \
    "$(jbody '"\(.total) \([.items[].subject | sub("^CN="; "")] |
	join(","))"')"
admin "certificates-expiring?tenant_id=$TR&days=5" >/dev/null
check_eq "expiring within 5 days: none of tenant T" 0 "$(jbody .total)"
admin "certificates-expiring?days=6" >/dev/null
check_eq "expiring, every tenant: tenant U's certificate is one" 1 \
    "$(jq --arg s "CN=c7 $RUN" '[.items[] | select(.subject == $s)] |
	length' "$T_TMP/body")"

# --- the tenant's own roles ----------------------------------------------------------
for r in "certificates-by-status:$BY_STATUS" "certificates-by-ca:$BY_CA" \
    "devices-by-mode:$BY_MODE" "devices-by-type:$BY_TYPE"; do
	name=${r%%:*}
	check_eq "tenant auditor: $name: 200" 200 "$(app "$AUD" "$name")"
	check_eq "tenant auditor: $name: its tenant's figures" \
	    "$TR ${r#*:}" "$(jbody .tenant_id) $(items)"
done
check_eq "tenant auditor: per day" "$PER_DAY" \
    "$(app "$AUD" "enrollments-per-day?$RANGE" >/dev/null; items)"
check_eq "tenant admin: by status" "$BY_STATUS" \
    "$(app "$ADM_T" certificates-by-status >/dev/null; items)"
check_eq "tenant auditor: its own tenant_id: 200" 200 \
    "$(app "$AUD" "devices-by-mode?tenant_id=$TR")"
check_eq "tenant auditor: another tenant: 404" 404 \
    "$(app "$AUD" "devices-by-mode?tenant_id=$TU")"
check_eq "tenant auditor: CSV allowed (export)" 200 \
    "$(app "$AUD" "devices-by-mode?format=csv")"
check_eq "tenant operator: 403" 403 \
    "$(app "$OPR" certificates-by-status)"
check_eq "tenant operator: CSV 403" 403 \
    "$(app "$OPR" "certificates-by-status?format=csv")"
check_eq "tenant operator: refusals audited" 2 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE actor_name = 'ropr-$RUN'
	AND entity = 'report' AND outcome = 'denied'")"
check_eq "unauthenticated: 401" 401 \
    "$(http GET /api/v1/reports/certificates-by-status)"
app "$AUD" "devices-by-type" >/dev/null
check_eq "tenant U's devices of the global type are not tenant T's" 2 \
    "$(jq --argjson g "${DG:-0}" '.items[] | select(.device_type_id ==
	$g) | .devices' "$T_TMP/body")"
admin "devices-by-type?tenant_id=$TU" >/dev/null
check_eq "tenant U: its own device of the global type" \
    "$DG 1 1" "$(jbody '.items[0] | "\(.device_type_id) \(.devices) \(.devices_new)"')"

# --- CSV -----------------------------------------------------------------------------
crlf() {
	tr -d '\r' <"$T_TMP/body"
}
check_eq "CSV: 200" 200 \
    "$(admin "certificates-by-status?tenant_id=$TR&format=csv")"
check_eq "CSV: media type" "text/csv; charset=utf-8" "$(header Content-Type)"
check_eq "CSV: an attachment" \
    'attachment; filename="certificates-by-status.csv"' \
    "$(header Content-Disposition)"
check_eq "CSV: by status" "$(printf 'status,certificates\r\nactive,3\r\nexpired,2\r\nrevoked,1\r')" \
    "$(cat "$T_TMP/body")"
admin "certificates-by-ca?tenant_id=$TR&format=csv" >/dev/null
check_eq "CSV: by CA, the formula-like name quoted with an apostrophe" \
    "$(printf 'ca_id,ca_name,active,expired,revoked,total\n%s,'"'"'%s,1,0,0,1\n%s,%s,2,2,1,5' \
	"$C2" "$CA2" "$C1" "$CA1")" "$(crlf)"
admin "devices-by-mode?tenant_id=$TR&format=csv" >/dev/null
check_eq "CSV: by mode" \
    "$(printf 'mode,devices\nNEW,1\nFACTORY,1\nOPERATIONAL,2\nDISABLED,1')" \
    "$(crlf)"
admin "devices-by-type?tenant_id=$TR&format=csv" >/dev/null
check_eq "CSV: by type" \
    "$(printf 'device_type_id,device_type_name,devices,devices_new,devices_factory,devices_operational,devices_disabled\n%s,%s,3,1,1,1,0\n%s,%s,2,0,0,1,1' \
	"$D1" "$DT1" "$DG" "$DTG")" "$(crlf)"
admin "enrollments-per-day?tenant_id=$TR&$RANGE&format=csv" >/dev/null
check_eq "CSV: per day" \
    "$(printf 'day,enrollments,success,failure,denied,devices_created\n2020-01-01,3,2,1,0,1\n2020-01-03,1,0,0,1,0')" \
    "$(crlf)"
admin "certificates-expiring?tenant_id=$TR&format=csv" >/dev/null
check_eq "CSV: expiring, the header line" \
    "certificate_id,serial,subject,kind,ca_id,ca_name,not_before,not_after,days_left,template_id,template_name,device_id,device_name,tenant_id,tenant_name,org_id,org_name" \
    "$(crlf | head -n 1)"
check_eq "CSV: expiring, two certificates" 3 "$(crlf | wc -l)"
check_eq "CSV: expiring, X-Total-Count" 2 "$(header X-Total-Count)"
check_match "CSV: expiring, a row" \
    "^[0-9]+,0000000000000001,CN=c1 $RUN,other,$C1,$CA1,[-0-9T:Z]+,[-0-9T:Z]+,9,,,,,$TR,$TR_NAME,$OR,Report O $RUN\$" \
    "$(crlf | sed -n 2p)"

# --- bad parameters -----------------------------------------------------------------
bad() {
	local desc=$1 q=$2 field=$3 code

	code=$(admin "$q")
	check_eq "$desc: 400" 400 "$code"
	check_eq "$desc: field" "$field" "$(jbody .error.field)"
}
bad "days 0" "certificates-expiring?days=0" days
bad "days 3651" "certificates-expiring?days=3651" days
bad "days not a number" "certificates-expiring?days=ten" days
bad "days on another report" "certificates-by-status?days=5" days
bad "from not a date" "enrollments-per-day?from=2020-02-30" from
bad "from after to" "enrollments-per-day?from=2020-02-01&to=2020-01-01" from
bad "range too long" "enrollments-per-day?from=2000-01-01&to=2020-01-01" from
bad "format" "devices-by-mode?format=xml" format
bad "limit" "devices-by-mode?limit=5" limit
bad "cursor" "devices-by-mode?cursor=AQAAAAAAAAAE" cursor
bad "tenant_id" "devices-by-mode?tenant_id=0" tenant_id
check_eq "a tenant that does not exist: no rows" '[]' \
    "$(admin "devices-by-mode?tenant_id=999999999" >/dev/null; items)"

# --- the read-only account ----------------------------------------------------------
check_eq "report account: sees the six views and nothing else" \
    "report_certificates_by_ca report_certificates_by_status report_certificates_expiring report_devices_by_mode report_devices_by_type report_enrollments_per_day" \
    "$(report_sql "SHOW TABLES" | sort | tr '\n' ' ' | sed 's/ $//')"
for v in report_certificates_by_status report_certificates_by_ca \
    report_certificates_expiring report_devices_by_mode \
    report_devices_by_type report_enrollments_per_day; do
	check "report account: SELECT $v" report_sql "SELECT * FROM $v LIMIT 1"
done
for t in certificates audit_log users tenants cas; do
	check_fails "report account: no SELECT on $t" report_sql \
	    "SELECT COUNT(*) FROM $t"
done
check_fails "report account: no INSERT into a view" report_sql \
    "INSERT INTO report_certificates_expiring (certificate_id) VALUES (1)"
check_fails "report account: no DELETE" report_sql \
    "DELETE FROM report_certificates_expiring"
check_fails "report account: no CREATE" report_sql \
    "CREATE TABLE x_$RUN (a INT)"

# docs/reports.md's SQL, run by the auditor, gives the API's figures.
check_eq "report SQL: by status" "$(printf 'active\t3\nexpired\t2\nrevoked\t1')" \
    "$(report_sql "SELECT status, SUM(certificates) AS certificates
	FROM report_certificates_by_status WHERE tenant_id = $TR
	GROUP BY status
	ORDER BY FIELD(status, 'active', 'expired', 'revoked')")"
check_eq "report SQL: by CA" \
    "$(printf '%s\t%s\t1\t0\t0\t1\n%s\t%s\t2\t2\t1\t5' "$C2" "$CA2" "$C1" "$CA1")" \
    "$(report_sql "SELECT ca_id, ca_name,
	SUM(IF(status = 'active', certificates, 0)) AS active,
	SUM(IF(status = 'expired', certificates, 0)) AS expired,
	SUM(IF(status = 'revoked', certificates, 0)) AS revoked,
	SUM(certificates) AS total
	FROM report_certificates_by_ca WHERE tenant_id = $TR
	GROUP BY ca_id, ca_name ORDER BY ca_name, ca_id")"
check_eq "report SQL: expiring" "$(printf 'CN=c1 %s\t9\nCN=c6 %s\t19' "$RUN" "$RUN")" \
    "$(report_sql "SELECT subject, days_left
	FROM report_certificates_expiring
	WHERE not_after < UTC_TIMESTAMP() + INTERVAL 30 DAY
	AND tenant_id = $TR ORDER BY not_after, certificate_id")"
check_eq "report SQL: by mode" \
    "$(printf 'NEW\t1\nFACTORY\t1\nOPERATIONAL\t2\nDISABLED\t1')" \
    "$(report_sql "SELECT mode, SUM(devices) AS devices
	FROM report_devices_by_mode WHERE tenant_id = $TR GROUP BY mode
	ORDER BY FIELD(mode, 'NEW', 'FACTORY', 'OPERATIONAL', 'DISABLED')")"
check_eq "report SQL: by type" \
    "$(printf '%s\t3\t1\t1\t1\t0\n%s\t2\t0\t0\t1\t1' "$DT1" "$DTG")" \
    "$(report_sql "SELECT device_type_name, SUM(devices) AS devices,
	SUM(devices_new), SUM(devices_factory), SUM(devices_operational),
	SUM(devices_disabled)
	FROM report_devices_by_type WHERE tenant_id = $TR
	GROUP BY device_type_id, device_type_name
	ORDER BY device_type_name, device_type_id")"
check_eq "report SQL: per day" \
    "$(printf '2020-01-01\t3\t2\t1\t0\t1\n2020-01-03\t1\t0\t0\t1\t0')" \
    "$(report_sql "SELECT day, SUM(enrollments) AS enrollments,
	SUM(IF(outcome = 'success', enrollments, 0)) AS success,
	SUM(IF(outcome = 'failure', enrollments, 0)) AS failure,
	SUM(IF(outcome = 'denied', enrollments, 0)) AS denied,
	SUM(devices_created) AS devices_created
	FROM report_enrollments_per_day
	WHERE day BETWEEN '2020-01-01' AND '2020-01-31' AND tenant_id = $TR
	GROUP BY day ORDER BY day")"

finish
