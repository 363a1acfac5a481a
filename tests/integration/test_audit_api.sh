#!/bin/bash
#
# The audit log through the REST API (fcgi/api_audit.c): the rows of an
# Admin's actions with their actor, entity, action and outcome, a failed
# login as a failure, every filter narrowing exactly, keyset pages that
# cover every row once, a Tenant Auditor's view limited to its tenant, an
# Organization Operator refused (and that refusal audited), the CSV export
# (header, rows, formula cells neutralised, the export audited), and
# "estuaryctl audit verify" before and after a row is tampered with.
#
# The actions are made by an Admin created for this run, so that filtering
# on its name gives exactly the rows this script caused.  Other roles act
# through API applications (HTTP Basic), which need no password login.
#
# The tampered row is restored before the script ends (also when it fails
# half-way), and verify must then be OK again: later scripts may rely on an
# intact chain.  The row is changed with the instance's administrative
# database account, the one account besides MariaDB's root that may write
# audit_log.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

ADM="audadm-$RUN"
PW="pw-$RUN-Secret"
TA_NAME="Audit A $RUN"
TE_NAME="=evil-$RUN"
ORG_NAME="Audit Org $RUN"
CSV_HEADER='id,ts,actor_type,actor_id,actor_name,tenant_id,org_id,entity,entity_id,entity_name,action,outcome,reason,source_addr,details'

# The row restored at exit, if the tamper test changed it.
TAMPER_ID=
TAMPER_NAME=
restore_row() {
	[ -n "$TAMPER_ID" ] || return 0
	db_sql "UPDATE audit_log SET entity_name = '$TAMPER_NAME'
	    WHERE id = $TAMPER_ID" >/dev/null 2>&1
	TAMPER_ID=
}
at_exit restore_row

# logs QUERY: GET /audit-logs?QUERY as the Admin; prints the status.
logs() {
	as adm GET "/api/v1/audit-logs?$1"
}

# rows: "entity/action/outcome" of each item of the last page, one line.
rows() {
	jq -r '[.items[] | "\(.entity)/\(.action)/\(.outcome)"] | join(" ")' \
	    "$T_TMP/body" 2>/dev/null
}

count() {
	jq -r '.items | length' "$T_TMP/body" 2>/dev/null
}

# pages QUERY LIMIT: follows next_cursor from the first page; prints the
# ids of every item, one per line, and leaves the number of pages in
# $T_TMP/npages.
pages() {
	local q=$1 limit=$2 cursor='' n=0 code

	while :; do
		code=$(logs "$q&limit=$limit${cursor:+&cursor=$cursor}")
		[ "$code" = 200 ] || { echo "status $code"; return 1; }
		jq -r '.items[].id' "$T_TMP/body"
		n=$((n + 1))
		cursor=$(jbody '.next_cursor // empty')
		[ -n "$cursor" ] || break
		[ "$n" -lt 10000 ] || return 1
	done
	echo "$n" >"$T_TMP/npages"
}

# --- the run's Admin and its actions -------------------------------------------
printf '%s\n' "$PW" >"$T_TMP/pw"
check "admin user for the run" ctl user add --username "$ADM" --admin \
    --password-file "$T_TMP/pw"
check_eq "a wrong password is refused" 401 \
    "$(session adm "$ADM" "wrong-$RUN")"
check_eq "the Admin logs in" 200 "$(session adm "$ADM" "$PW")"
ADM_ID=$(jbody .user.id)

check_eq "tenant A created" 201 "$(tenant_post adm "$TA_NAME")"
TA=$(jbody .id)
check_eq "tenant =evil created" 201 "$(tenant_post adm "$TE_NAME")"
TE=$(jbody .id)
check_eq "organization created" 201 \
    "$(org_post adm "$ORG_NAME" "${TA:-0}")"
OA=$(jbody .id)

AUD=$(app_add "$TA_NAME" tenant_auditor "aud-$RUN")
check_match "tenant auditor application" '^[0-9a-f]{32}	' "$AUD"
OPR=$(app_add "$TA_NAME" org_operator "op-$RUN" --org "$ORG_NAME")
check_match "organization operator application" '^[0-9a-f]{32}	' "$OPR"

# --- the rows of those actions ---------------------------------------------------
check_eq "list: 200" 200 "$(logs "actor_name=$ADM&limit=500")"
check_eq "list: JSON" application/json "$(header Content-Type)"
check_eq "list: the Admin's rows, newest first" \
    "organization/create/success tenant/create/success tenant/create/success user/login/success user/login/failure" \
    "$(rows)"
check_eq "list: actor_type user" user \
    "$(jq -r '[.items[].actor_type] | unique | join(",")' "$T_TMP/body")"
check_eq "list: actor_id of the Admin" "$ADM_ID" \
    "$(jq -r '[.items[].actor_id] | unique | join(",")' "$T_TMP/body")"
check_eq "list: source address" 127.0.0.1 \
    "$(jq -r '[.items[].source_addr] | unique | join(",")' "$T_TMP/body")"
check_eq "list: the last page has no next_cursor" null "$(jbody .next_cursor)"
check_eq "list: the tenant row names tenant A" "tenant $TA $TA_NAME" \
    "$(jq -r '.items[2] | "\(.entity) \(.entity_id) \(.entity_name)"' \
	"$T_TMP/body")"
check_eq "list: details of a create carry the new name" "$TA_NAME" \
    "$(jq -r '.items[2].details.after.name' "$T_TMP/body")"
check_match "list: ts in RFC 3339 with microseconds" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$' \
    "$(jbody '.items[0].ts')"
FIRST_TS=$(jbody '.items[-1].ts' | sed 's/\.[0-9]*Z$/Z/')
TA_ROW=$(jbody '.items[2].id')

check_eq "failed login: outcome failure" "user/login/failure $ADM" \
    "$(jq -r '.items[-1] | "\(.entity)/\(.action)/\(.outcome) \(.actor_name)"' \
	"$T_TMP/body")"

# --- filters -----------------------------------------------------------------------
logs "entity=tenant&entity_id=$TA" >/dev/null
check_eq "filter entity+entity_id: exactly the tenant's row" \
    "1 $TA_ROW create $ADM" \
    "$(jq -r '"\(.items | length) \(.items[0].id) \(.items[0].action) \(.items[0].actor_name)"' \
	"$T_TMP/body")"
logs "actor_name=$ADM&action=create" >/dev/null
check_eq "filter action" 3 "$(count)"
logs "actor_name=$ADM&action=create&entity=tenant" >/dev/null
check_eq "filter action+entity" "tenant/create/success tenant/create/success" \
    "$(rows)"
logs "actor_name=$ADM&outcome=failure" >/dev/null
check_eq "filter outcome" "user/login/failure" "$(rows)"
logs "actor_type=user&actor_id=$ADM_ID&outcome=success" >/dev/null
check_eq "filter actor_type+actor_id" 4 "$(count)"
check_eq "filter actor_id without actor_type: 400" 400 \
    "$(logs "actor_id=$ADM_ID")"
check_eq "filter actor_id without actor_type: names it" actor_id \
    "$(jbody .error.field)"
logs "actor_type=application&actor_name=$ADM" >/dev/null
check_eq "filter actor_type" 0 "$(count)"
logs "actor_name=$(printf '%s' "$ADM" | tr '[:lower:]' '[:upper:]')" >/dev/null
check_eq "filter actor_name ignores case" 5 "$(count)"
logs "actor_name=$ADM&tenant_id=$TA" >/dev/null
check_eq "filter tenant_id: rows of tenant A only" "$TA" \
    "$(jq -r '[.items[].tenant_id] | unique | join(",")' "$T_TMP/body")"
check_match "filter tenant_id: the organization's row is one" \
    "organization/create/success" "$(rows)"
logs "actor_name=$ADM&org_id=$OA" >/dev/null
check_eq "filter org_id" "organization/create/success" "$(rows)"
logs "actor_name=$ADM&from=$FIRST_TS" >/dev/null
check_eq "filter from: inclusive" 5 "$(count)"
logs "actor_name=$ADM&to=$FIRST_TS" >/dev/null
check_eq "filter to: exclusive" 0 "$(count)"
logs "actor_name=$ADM&from=2999-01-01T00:00:00Z" >/dev/null
check_eq "filter from in the future" 0 "$(count)"
logs "actor_name=$ADM&from=2000-01-01T01:00:00%2B01:00&to=2999-12-31T23:59:59.5Z" \
    >/dev/null
check_eq "filter from/to with an offset and a fraction" 5 "$(count)"

check_eq "bad from: 400" 400 "$(logs "from=2026-02-30T00:00:00Z")"
check_eq "bad from: field" from "$(jbody .error.field)"
check_eq "a date without time: 400" 400 "$(logs "to=2026-01-01")"
check_eq "bad outcome: 400" 400 "$(logs "outcome=maybe")"
check_eq "bad outcome: field" outcome "$(jbody .error.field)"
check_eq "bad entity: 400" 400 "$(logs "entity=Tenant%27--")"
check_eq "unknown parameter: 400" 400 "$(logs "colour=blue")"
check_eq "unknown parameter: field" colour "$(jbody .error.field)"
check_eq "limit 0: 400" 400 "$(logs "limit=0")"
check_eq "limit 501: 400" 400 "$(logs "limit=501")"
check_eq "bad cursor: 400" 400 "$(logs "cursor=notacursor")"
check_eq "bad cursor: field" cursor "$(jbody .error.field)"
check_eq "unauthenticated: 401" 401 "$(http GET /api/v1/audit-logs)"

# --- pagination ----------------------------------------------------------------------
pages "actor_name=$ADM" 2 >"$T_TMP/p2"
check_eq "pages of 2: three pages" 3 "$(cat "$T_TMP/npages" 2>/dev/null)"
logs "actor_name=$ADM&limit=500" >/dev/null
jq -r '.items[].id' "$T_TMP/body" >"$T_TMP/all"
check "pages of 2: every row once, in order" cmp "$T_TMP/all" "$T_TMP/p2"
# Rows appended while the pages are read (by anything else in the instance)
# are newer than the first page: both walks are compared up to its newest
# row.
pages "" 7 >"$T_TMP/p7"
np7=$(cat "$T_TMP/npages" 2>/dev/null)
TOP=$(head -n 1 "$T_TMP/p7")
pages "" 500 | awk -v top="${TOP:-0}" '$1 <= top' >"$T_TMP/p500"
check_eq "whole log: pages of 7" "$((($(wc -l <"$T_TMP/p7") + 6) / 7))" \
    "$np7"
check "whole log: pages of 7 and of 500 list the same rows" \
    cmp "$T_TMP/p7" "$T_TMP/p500"
check_eq "whole log: no row twice" "$(wc -l <"$T_TMP/p7")" \
    "$(sort -u "$T_TMP/p7" | wc -l)"
check_eq "whole log: newest first" "$(sort -rn "$T_TMP/p7")" \
    "$(cat "$T_TMP/p7")"
check_eq "whole log: every row of the table" \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE id <= ${TOP:-0}")" \
    "$(wc -l <"$T_TMP/p7")"

# --- a Tenant Auditor sees its tenant -------------------------------------------------
check_eq "tenant auditor: 200" 200 \
    "$(as_app "$AUD" GET "/api/v1/audit-logs?limit=500")"
check_eq "tenant auditor: only tenant A's rows" "$TA" \
    "$(jq -r '[.items[].tenant_id] | unique | join(",")' "$T_TMP/body")"
check_eq "tenant auditor: sees the organization's creation" 1 \
    "$(jq --argjson o "${OA:-0}" '[.items[] | select(.entity ==
	"organization" and .entity_id == $o)] | length' "$T_TMP/body")"
check_eq "tenant auditor: all of tenant A's rows" \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE tenant_id = $TA")" \
    "$(count)"
check_eq "tenant auditor: its own tenant_id filter: 200" 200 \
    "$(as_app "$AUD" GET "/api/v1/audit-logs?tenant_id=$TA")"
check_eq "tenant auditor: another tenant's id: 404" 404 \
    "$(as_app "$AUD" GET "/api/v1/audit-logs?tenant_id=$TE")"
as_app "$AUD" GET "/api/v1/audit-logs?actor_name=$ADM&limit=500" >/dev/null
check_eq "tenant auditor: the Admin's rows outside tenant A are hidden" \
    "$TA" "$(jq -r '[.items[].tenant_id] | unique | join(",")' "$T_TMP/body")"

# --- an Organization Operator is refused ------------------------------------------------
check_eq "org operator: list 403" 403 \
    "$(as_app "$OPR" GET /api/v1/audit-logs)"
check_eq "org operator: export 403" 403 \
    "$(as_app "$OPR" GET /api/v1/audit-logs/export)"
logs "actor_name=op-$RUN&outcome=denied" >/dev/null
check_eq "org operator: both refusals audited" \
    "audit_log/export/denied audit_log/list/denied" "$(rows)"
check_eq "org operator: refusals carry the actor type" application \
    "$(jq -r '[.items[].actor_type] | unique | join(",")' "$T_TMP/body")"

# --- CSV export ---------------------------------------------------------------------
logs "actor_name=$ADM&limit=2" >/dev/null
CUR=$(jbody .next_cursor)
code=$(as adm GET "/api/v1/audit-logs/export?actor_name=$ADM")
check_eq "export: 200" 200 "$code"
check_eq "export: media type" "text/csv; charset=utf-8" "$(header Content-Type)"
check_eq "export: an attachment" 'attachment; filename="audit-log.csv"' \
    "$(header Content-Disposition)"
check_eq "export: the header line" "$CSV_HEADER" \
    "$(head -n 1 "$T_TMP/body" | tr -d '\r')"
check_eq "export: CRLF line ends" "$(wc -l <"$T_TMP/body")" \
    "$(grep -c $'\r$' "$T_TMP/body")"
check_eq "export: one line per row" 6 "$(wc -l <"$T_TMP/body")"
check_eq "export: rows newest first, as the list" "$(cat "$T_TMP/all")" \
    "$(tail -n +2 "$T_TMP/body" | cut -d, -f1)"
check_eq "export: no X-Next-Cursor when complete" "" "$(header X-Next-Cursor)"
check_eq "export: a name beginning with = gets an apostrophe" 1 \
    "$(grep -c ",'$TE_NAME,create," "$T_TMP/body")"
check_eq "export: no cell begins with =" 0 \
    "$(grep -c ",=evil" "$T_TMP/body")"
code=$(as adm GET "/api/v1/audit-logs/export?actor_name=$ADM&cursor=$CUR")
check_eq "export with a cursor: 200" 200 "$code"
check_eq "export with a cursor: the rows after it" \
    "$(tail -n +3 "$T_TMP/all")" "$(tail -n +2 "$T_TMP/body" | cut -d, -f1)"
check_eq "export: limit refused" 400 \
    "$(as adm GET "/api/v1/audit-logs/export?limit=5")"
check_eq "export: bad filter refused" 400 \
    "$(as adm GET "/api/v1/audit-logs/export?outcome=maybe")"

logs "actor_name=$ADM&action=export" >/dev/null
check_eq "export: audited once per export" \
    "audit_log/export/success audit_log/export/success" "$(rows)"
check_eq "export: the audit row counts the rows and the filters" \
    "5 $ADM false" \
    "$(jq -r '.items[1].details | "\(.rows) \(.filters.actor_name) \(.truncated)"' \
	"$T_TMP/body")"

check_eq "tenant auditor: export 200" 200 \
    "$(as_app "$AUD" GET /api/v1/audit-logs/export)"
check_eq "tenant auditor: export of tenant A's rows only" "$TA" \
    "$(tail -n +2 "$T_TMP/body" | cut -d, -f6 | sort -u | tr '\n' ' ' |
	sed 's/ $//')"
check_eq "tenant auditor: its export audited under tenant A" 1 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE actor_name = 'aud-$RUN'
	AND action = 'export' AND outcome = 'success' AND tenant_id = $TA")"

# --- the chain ------------------------------------------------------------------------
check "audit verify OK after all this" ctl audit verify
TAMPER_NAME=$TA_NAME
TAMPER_ID=$TA_ROW
check "tamper: a row's entity_name changed" db_sql "UPDATE audit_log
    SET entity_name = 'Someone Else $RUN' WHERE id = $TA_ROW"
ctl audit verify >"$T_TMP/verify" 2>&1
st=$?
check_eq "tamper: verify fails" 1 "$([ "$st" -ne 0 ] && echo 1 || echo 0)"
check_match "tamper: verify names the row" "BROKEN at id $TA_ROW" \
    "$(cat "$T_TMP/verify")"
restore_row
check "tamper: verify OK once the row is restored" ctl audit verify

finish
