#!/bin/bash
#
# Tenants, organizations and users over HTTPS (fcgi/api_admin.h): CRUD by
# each role that may (Admin everywhere, Tenant Admin in its tenant) and
# refusals for those that may not (404 outside the actor's tenant, 403
# inside it), duplicates (409), If-Match (428, 412), keyset pagination
# over more rows than a page, filters, bad input (malformed JSON, wrong
# types, unknown fields, oversized bodies, overlong names, wrong media
# type), SQL metacharacters stored verbatim, passwords (generated once,
# changed with the current one, reset by an admin), certificate binding,
# deletes refused while rows still refer to a tenant or organization, and
# the audit rows of every change and refusal.  After every refused request
# the rows are checked unchanged.  Names carry a per-run suffix so that it
# can run again on the same instance.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PW="pw-$RUN-Secret"
META="x'; DROP TABLE tenants; -- \"%_\\ $RUN"
TEN=/api/v1/tenants
ORGS=/api/v1/organizations
USERS=/api/v1/users

# snap WHO PATH: the object at PATH as WHO sees it now (body and ETag).
snap() {
	as "$1" GET "$2" >/dev/null
	printf '%s %s' "$(etag)" "$(jq -cS . "$T_TMP/body")"
}

ntenants() {
	db_sql "SELECT COUNT(*) FROM tenants"
}

nusers() {
	db_sql "SELECT COUNT(*) FROM users"
}

admin_session

# --- tenants: create, read, duplicates ------------------------------------------
T1="Admin T1 $RUN"
T2="Admin T2 $RUN"
code=$(as admin POST $TEN "$(jq -nc --arg n "$T1" '{name: $n, description: "first"}')")
check_eq "tenant create: 201" 201 "$code"
TID1=$(jbody .id)
check_eq "tenant create: Location" "$TEN/$TID1" "$(header Location)"
check_match "tenant create: a strong ETag" '^"[A-Za-z0-9_-]{22}"$' "$(etag)"
check_eq "tenant create: active" true "$(jbody .active)"
check_match "tenant create: RFC 3339 times" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z$' "$(jbody .created_at)"
check_eq "tenant create: audited" 1 "$(audits tenant create "$TID1")"
check_match "tenant create: audit details carry the new values" '"first"' \
    "$(db_sql "SELECT details FROM audit_log WHERE entity = 'tenant'
	AND action = 'create' AND entity_id = $TID1")"
code=$(as admin POST $TEN "$(jq -nc --arg n "$T2" '{name: $n}')")
check_eq "second tenant: 201" 201 "$code"
TID2=$(jbody .id)
tag=$(etag)
check_eq "tenant read: 200" 200 "$(as admin GET "$TEN/$TID1")"
check_eq "tenant read: name" "$T1" "$(jbody .name)"
as admin GET "$TEN/$TID2" >/dev/null
check_eq "tenant read: the ETag of create" "$tag" "$(etag)"
check_eq "tenant read: an unknown id is 404" 404 "$(as admin GET "$TEN/999999999")"
check_eq "tenant read: an unknown query parameter is 400" 400 \
    "$(as admin GET "$TEN/$TID1?x=1")"

n=$(ntenants)
check_eq "tenant duplicate name: 409" 409 \
    "$(as admin POST $TEN "$(jq -nc --arg n "$T1" '{name: $n}')")"
check_eq "tenant duplicate name: field name" name "$(jbody .error.field)"
check_eq "tenant duplicate name, other case: 409" 409 \
    "$(as admin POST $TEN "$(jq -nc --arg n "${T1^^}" '{name: $n}')")"
check_eq "tenant duplicates: no row added" "$n" "$(ntenants)"

# --- bad input: nothing changes ---------------------------------------------------
before=$(snap admin "$TEN/$TID1")
check_eq "malformed JSON: 400" 400 "$(as admin POST $TEN '{"name": "x",}')"
check_eq "malformed JSON on update: 400" 400 \
    "$(as admin PUT "$TEN/$TID1" '{"name" "x"}' -H 'If-Match: *')"
check_eq "wrong type: 422" 422 "$(as admin POST $TEN '{"name": 5}')"
check_eq "wrong type: field" name "$(jbody .error.field)"
check_eq "wrong type on update: 422" 422 \
    "$(as admin PUT "$TEN/$TID1" '{"description": true}' -H 'If-Match: *')"
check_eq "unknown field: 422" 422 \
    "$(as admin POST $TEN "$(jq -nc --arg n "U $RUN" '{name: $n, colour: "red"}')")"
check_eq "unknown field: named" colour "$(jbody .error.field)"
check_eq "unknown field on update: 422" 422 \
    "$(as admin PUT "$TEN/$TID1" '{"active": false}' -H 'If-Match: *')"
check_eq "missing name: 422" 422 "$(as admin POST $TEN '{"description": "x"}')"
long=$(printf 'n%.0s' $(seq 1 129))
check_eq "overlong name (129 characters): 422" 422 \
    "$(as admin POST $TEN "$(jq -nc --arg n "$long" '{name: $n}')")"
check_eq "overlong name: field name" name "$(jbody .error.field)"
check_eq "overlong name on update: 422" 422 \
    "$(as admin PUT "$TEN/$TID1" "$(jq -nc --arg n "$long" '{name: $n}')" -H 'If-Match: *')"
check_eq "name with a control character: 422" 422 \
    "$(as admin POST $TEN '{"name": "a\u0007b"}')"
check_eq "name of spaces only: 422" 422 "$(as admin POST $TEN '{"name": "   "}')"
check_eq "a JSON array: 400" 400 "$(as admin POST $TEN '["x"]')"
check_eq "wrong media type: 415" 415 \
    "$(as admin POST $TEN -H 'Content-Type: text/plain' --data-binary '{"name":"x"}')"
big=$(($(conf max_body 1048576) + 1))
head -c "$big" /dev/zero | tr '\0' 'a' >"$T_TMP/big"
check_eq "oversized body: 413" 413 \
    "$(as admin POST $TEN -H 'Content-Type: application/json' --data-binary "@$T_TMP/big")"
check_eq "bad input: no tenant added" "$n" "$(ntenants)"
check_eq "bad input: the tenant is unchanged" "$before" "$(snap admin "$TEN/$TID1")"

# 128 characters is the limit, in characters, not bytes.
name128="$(printf 'é%.0s' $(seq 1 120))$RUN"
check_eq "a 128-character name: 201" 201 \
    "$(as admin POST $TEN "$(jq -nc --arg n "$name128" '{name: $n}')")"
check_eq "a 128-character name: stored verbatim" "$name128" "$(jbody .name)"
TID128=$(jbody .id)

# --- SQL metacharacters in every string field -------------------------------------
code=$(as admin POST $TEN "$(jq -nc --arg n "$META" '{name: $n, description: $n}')")
check_eq "metacharacters: 201" 201 "$code"
TIDM=$(jbody .id)
as admin GET "$TEN/$TIDM" >/dev/null
check_eq "metacharacters: name verbatim" "$META" "$(jbody .name)"
check_eq "metacharacters: description verbatim" "$META" "$(jbody .description)"
check_eq "metacharacters: name filter finds exactly it" 1 \
    "$(as admin GET "$TEN?name_contains=$(jq -rn --arg s "$META" '$s|@uri')" >/dev/null; jbody '.items|length')"
check_eq "metacharacters: '%' is not a wildcard" 0 \
    "$(as admin GET "$TEN?name_prefix=%25" >/dev/null; jbody '.items|length')"

# --- update with If-Match -----------------------------------------------------
as admin GET "$TEN/$TID1" >/dev/null
tag=$(etag)
before=$(snap admin "$TEN/$TID1")
check_eq "update without If-Match: 428" 428 \
    "$(as admin PUT "$TEN/$TID1" '{"description": "new"}')"
check_eq "update with a stale ETag: 412" 412 \
    "$(as admin PUT "$TEN/$TID1" '{"description": "new"}' -H 'If-Match: "AAAAAAAAAAAAAAAAAAAAAA"')"
check_eq "update with a weak ETag: 412" 412 \
    "$(as admin PUT "$TEN/$TID1" '{"description": "new"}' -H "If-Match: W/$tag")"
check_eq "update with a malformed If-Match: 400" 400 \
    "$(as admin PUT "$TEN/$TID1" '{"description": "new"}' -H 'If-Match: abc')"
check_eq "refused updates: unchanged" "$before" "$(snap admin "$TEN/$TID1")"
check_eq "update with the ETag in a list: 200" 200 \
    "$(as admin PUT "$TEN/$TID1" '{"description": "new"}' -H "If-Match: \"x\", $tag")"
check_eq "update: changed" new "$(jbody .description)"
check_fails "update: a new ETag" test "$tag" = "$(etag)"
tag2=$(etag)
check_eq "update: the old ETag is stale now" 412 \
    "$(as admin PATCH "$TEN/$TID1" '{"description": null}' -H "If-Match: $tag")"
check_eq "PATCH with the ETag: 200" 200 \
    "$(as admin PATCH "$TEN/$TID1" '{"description": null}' -H "If-Match: $tag2")"
check_eq "PATCH: null clears" null "$(jbody .description)"
check_eq "update: name kept" "$T1" "$(jbody .name)"
check_eq "updates: audited" 2 "$(audits tenant update "$TID1")"
check_eq "update: rename to an existing name is 409" 409 \
    "$(as admin PUT "$TEN/$TID1" "$(jq -nc --arg n "$T2" '{name: $n}')" -H 'If-Match: *')"
check_eq "update: If-Match * matches" 200 \
    "$(as admin PUT "$TEN/$TID1" '{}' -H 'If-Match: *')"
check_eq "an empty update changes nothing and is not audited" 2 \
    "$(audits tenant update "$TID1")"

# --- pagination -----------------------------------------------------------------
P="Page $RUN"
for i in 1 2 3 4 5 6 7; do
	as admin POST $TEN "$(jq -nc --arg n "$P $i" '{name: $n}')" >/dev/null
done
ids=() cursor='' pages=0
while :; do
	q="$TEN?limit=3&name_prefix=$(jq -rn --arg s "$P" '$s|@uri')"
	[ -n "$cursor" ] && q="$q&cursor=$cursor"
	code=$(as admin GET "$q")
	[ "$code" = 200 ] || break
	pages=$((pages + 1))
	mapfile -t -O "${#ids[@]}" ids < <(jbody '.items[].id')
	cursor=$(jbody '.next_cursor // empty')
	{ [ -n "$cursor" ] && [ "$pages" -lt 10 ]; } || break
done
check_eq "pagination: 7 rows in pages of 3" 3 "$pages"
check_eq "pagination: every row once" 7 \
    "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)"
check_eq "pagination: in id order" "$(printf '%s\n' "${ids[@]}" | sort -n | tr '\n' ' ')" \
    "$(printf '%s\n' "${ids[@]}" | tr '\n' ' ')"
check_eq "pagination: the last page says so" null \
    "$(as admin GET "$TEN?name_prefix=$(jq -rn --arg s "$P" '$s|@uri')&limit=7" >/dev/null; jbody .next_cursor)"
check_eq "pagination: default page has them all" 7 \
    "$(as admin GET "$TEN?name_prefix=$(jq -rn --arg s "$P" '$s|@uri')" >/dev/null; jbody '.items|length')"
check_eq "a bad cursor: 400" 400 "$(as admin GET "$TEN?cursor=AAAA")"
check_eq "a bad cursor: field" cursor "$(jbody .error.field)"
check_eq "a cursor of another version: 400" 400 "$(as admin GET "$TEN?cursor=AgAAAAAAAAAB")"
check_eq "limit 0: 400" 400 "$(as admin GET "$TEN?limit=0")"
check_eq "limit 501: 400" 400 "$(as admin GET "$TEN?limit=501")"
check_eq "limit 500: 200" 200 "$(as admin GET "$TEN?limit=500")"
check_eq "an unknown filter: 400" 400 "$(as admin GET "$TEN?colour=red")"
check_eq "an unknown filter: named" colour "$(jbody .error.field)"
check_eq "a bad boolean: 400" 400 "$(as admin GET "$TEN?active=yes")"

# --- activate, deactivate ---------------------------------------------------------
check_eq "deactivate: 200" 200 "$(as admin POST "$TEN/$TID2/deactivate")"
check_eq "deactivate: inactive" false "$(jbody .active)"
check_eq "deactivate: audited" 1 "$(audits tenant deactivate "$TID2")"
check_eq "deactivate again: 200, no new audit row" 200 \
    "$(as admin POST "$TEN/$TID2/deactivate")"
check_eq "deactivate again: still one audit row" 1 "$(audits tenant deactivate "$TID2")"
check_eq "filter active=false finds it" "$TID2" \
    "$(as admin GET "$TEN?active=false&name=$(jq -rn --arg s "$T2" '$s|@uri')" >/dev/null; jbody '.items[0].id')"
check_eq "filter active=true does not" 0 \
    "$(as admin GET "$TEN?active=true&name=$(jq -rn --arg s "$T2" '$s|@uri')" >/dev/null; jbody '.items|length')"
check_eq "deactivate: a body is refused" 400 \
    "$(as admin POST "$TEN/$TID2/deactivate" '{"x": 1}')"

# --- organizations ----------------------------------------------------------------
O1="Org1 $RUN"
code=$(as admin POST $ORGS "$(jq -nc --arg n "$O1" --argjson t "$TID1" '{tenant_id: $t, name: $n}')")
check_eq "org create by admin: 201" 201 "$code"
OID1=$(jbody .id)
check_eq "org create: Location" "$ORGS/$OID1" "$(header Location)"
check_eq "org create: tenant" "$TID1" "$(jbody .tenant_id)"
check_eq "org create: audited" 1 "$(audits organization create "$OID1")"
check_eq "org under an inactive tenant: 422" 422 \
    "$(as admin POST $ORGS "$(jq -nc --argjson t "$TID2" '{tenant_id: $t, name: "x"}')")"
check_eq "org under an inactive tenant: field tenant_id" tenant_id "$(jbody .error.field)"
check_eq "org under no tenant: 422" 422 \
    "$(as admin POST $ORGS '{"tenant_id": 999999999, "name": "x"}')"
check_eq "org: tenant_id as a string is 422" 422 \
    "$(as admin POST $ORGS "{\"tenant_id\": \"$TID1\", \"name\": \"x\"}")"
check_eq "org: duplicate name in the tenant: 409" 409 \
    "$(as admin POST $ORGS "$(jq -nc --arg n "$O1" --argjson t "$TID1" '{tenant_id: $t, name: $n}')")"
check_eq "activate the second tenant: 200" 200 "$(as admin POST "$TEN/$TID2/activate")"
check_eq "activate: audited" 1 "$(audits tenant activate "$TID2")"
code=$(as admin POST $ORGS "$(jq -nc --arg n "$O1" --argjson t "$TID2" '{tenant_id: $t, name: $n}')")
check_eq "org: the same name in another tenant: 201" 201 "$code"
OID2=$(jbody .id)
code=$(as admin POST $ORGS "$(jq -nc --arg n "$META" --argjson t "$TID1" '{tenant_id: $t, name: $n, description: $n}')")
check_eq "org metacharacters: 201" 201 "$code"
OIDM=$(jbody .id)
as admin GET "$ORGS/$OIDM" >/dev/null
check_eq "org metacharacters: verbatim" "$META|$META" "$(jbody '.name + "|" + .description')"
check_eq "org filter tenant_id" "$OID1 $OIDM" \
    "$(as admin GET "$ORGS?tenant_id=$TID1" >/dev/null; jbody '[.items[].id]|join(" ")')"

# --- users of each role (created through the API) ------------------------------------
mkuser() { # WHO ROLE TENANT ORG: creates WHO-RUN with password PW
	user_post "$1-$RUN" "$PW" "$2" "${3:-null}" "$4"
}
check_eq "user create (tenant_admin): 201" 201 "$(mkuser ta1 tenant_admin "$TID1")"
UTA1=$(jbody .id)
check_eq "user create: Location" "$USERS/$UTA1" "$(header Location)"
check_eq "user create: no password shown when chosen" null "$(jbody .password)"
check_eq "user create: no hash anywhere" 0 \
    "$(grep -c -i -e argon2 -e hash "$T_TMP/body")"
check_eq "user create: audited" 1 "$(audits user create "$UTA1")"
check_match "user create: the audit row notes the password only" '"password":"set"' \
    "$(db_sql "SELECT details FROM audit_log WHERE entity = 'user' AND action = 'create' AND entity_id = $UTA1")"
check_eq "user create: the audit row does not hold it" 0 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE details LIKE '%$PW%'")"
check_eq "user create (tenant_auditor): 201" 201 "$(mkuser tau1 tenant_auditor "$TID1")"
UTAU1=$(jbody .id)
check_eq "user create (tenant_operator): 201" 201 "$(mkuser to1 tenant_operator "$TID1")"
check_eq "user create (org_operator): 201" 201 "$(mkuser oo1 org_operator "$TID1" "$OID1")"
UOO1=$(jbody .id)
check_eq "user create (tenant_admin of T2): 201" 201 "$(mkuser ta2 tenant_admin "$TID2")"
UTA2=$(jbody .id)
for who in ta1 tau1 to1 oo1 ta2; do
	check_eq "setup: $who logs in" 200 "$(session "$who" "$who-$RUN" "$PW")"
done
check_eq "stored hash is argon2id" 1 \
    "$(db_sql "SELECT COUNT(*) FROM users WHERE id = $UTA1 AND password_hash LIKE '\$argon2id\$%'")"

n=$(nusers)
check_eq "duplicate username: 409" 409 "$(mkuser ta1 tenant_admin "$TID1")"
check_eq "duplicate username: field" username "$(jbody .error.field)"
check_eq "org_operator without org: 422" 422 "$(mkuser x1 org_operator "$TID1")"
check_eq "org_operator without org: field org_id" org_id "$(jbody .error.field)"
check_eq "admin with a tenant: 422" 422 "$(mkuser x2 admin "$TID1")"
check_eq "org of another tenant: 422" 422 "$(mkuser x3 org_operator "$TID1" "$OID2")"
check_eq "org of another tenant: field org_id" org_id "$(jbody .error.field)"
check_eq "unknown role: 422" 422 "$(mkuser x4 superuser "$TID1")"
check_eq "short password: 422" 422 \
    "$(as admin POST $USERS "$(jq -nc --arg u "x5-$RUN" --argjson t "$TID1" '{username: $u, password: "short", role: "tenant_admin", tenant_id: $t}')")"
check_eq "bad email: 422" 422 \
    "$(as admin POST $USERS "$(jq -nc --arg u "x6-$RUN" --argjson t "$TID1" '{username: $u, email: "nope", role: "tenant_admin", tenant_id: $t}')")"
check_eq "password_hash is no field: 422" 422 \
    "$(as admin POST $USERS "$(jq -nc --arg u "x7-$RUN" --argjson t "$TID1" '{username: $u, password_hash: "x", role: "tenant_admin", tenant_id: $t}')")"
check_eq "refused user creates: no row added" "$n" "$(nusers)"

# Generated passwords are shown once and work.
code=$(as admin POST $USERS "$(jq -nc --arg u "gen-$RUN" --argjson t "$TID1" '{username: $u, role: "tenant_operator", tenant_id: $t, full_name: "Gen User", email: "gen@example.com"}')")
check_eq "generated password: 201" 201 "$code"
UGEN=$(jbody .id)
GENPW=$(jbody .password)
check_match "generated password: at least 128 bits" '^[A-Za-z0-9_-]{22,}$' "$GENPW"
check_eq "generated password: not shown again" null \
    "$(as admin GET "$USERS/$UGEN" >/dev/null; jbody .password)"
check_eq "generated password: logs in" 200 "$(session gen "gen-$RUN" "$GENPW")"

# SQL metacharacters in every string field of a user.
code=$(as admin POST $USERS "$(jq -nc --arg u "m'\";-- $RUN" --arg f "$META" --argjson t "$TID1" \
    '{username: $u, full_name: $f, role: "tenant_auditor", tenant_id: $t, password: "metameta-1"}')")
check_eq "user metacharacters: 201" 201 "$code"
UMETA=$(jbody .id)
as admin GET "$USERS/$UMETA" >/dev/null
check_eq "user metacharacters: verbatim" "m'\";-- $RUN|$META" "$(jbody '.username + "|" + .full_name')"
check_eq "user metacharacters: logs in" 200 \
    "$(session meta "m'\";-- $RUN" metameta-1)"

# --- refusals by role ------------------------------------------------------------
n=$(ntenants)
before=$(snap admin "$TEN/$TID2")
check_eq "tenant_admin reads its tenant: 200" 200 "$(as ta1 GET "$TEN/$TID1")"
check_eq "tenant_admin lists only its tenant" "$TID1" \
    "$(as ta1 GET "$TEN?limit=500" >/dev/null; jbody '[.items[].id]|join(" ")')"
check_eq "tenant_admin reads another tenant: 404" 404 "$(as ta1 GET "$TEN/$TID2")"
check_eq "tenant_admin updates another tenant: 404" 404 \
    "$(as ta1 PUT "$TEN/$TID2" '{"description": "x"}' -H 'If-Match: *')"
check_eq "tenant_admin updates its own tenant: 403" 403 \
    "$(as ta1 PUT "$TEN/$TID1" '{"description": "x"}' -H 'If-Match: *')"
check_eq "tenant_admin deletes another tenant: 404" 404 \
    "$(as ta1 DELETE "$TEN/$TID2" -H 'If-Match: *')"
check_eq "tenant_admin deactivates another tenant: 404" 404 \
    "$(as ta1 POST "$TEN/$TID2/deactivate")"
check_eq "tenant_admin creates a tenant: 403" 403 \
    "$(as ta1 POST $TEN '{"name": "nope"}')"
check_eq "tenant_auditor creates a tenant: 403" 403 \
    "$(as tau1 POST $TEN '{"name": "nope"}')"
check_eq "org_operator reads its tenant: 200" 200 "$(as oo1 GET "$TEN/$TID1")"
check_eq "tenant refusals: audited as denied" 1 \
    "$(audits tenant update "$TID2" denied)"
check_eq "tenant refusals: no tenant added" "$n" "$(ntenants)"
check_eq "tenant refusals: the tenant is unchanged" "$before" "$(snap admin "$TEN/$TID2")"

before=$(snap admin "$ORGS/$OID2")
code=$(as ta1 POST $ORGS "$(jq -nc --arg n "Org2 $RUN" --argjson t "$TID1" '{tenant_id: $t, name: $n}')")
check_eq "tenant_admin creates an org in its tenant: 201" 201 "$code"
OIDT=$(jbody .id)
check_eq "tenant_admin creates an org in another tenant: 404" 404 \
    "$(as ta1 POST $ORGS "$(jq -nc --argjson t "$TID2" '{tenant_id: $t, name: "nope"}')")"
check_eq "tenant_auditor creates an org: 403" 403 \
    "$(as tau1 POST $ORGS "$(jq -nc --argjson t "$TID1" '{tenant_id: $t, name: "nope"}')")"
check_eq "tenant_admin reads an org of another tenant: 404" 404 "$(as ta1 GET "$ORGS/$OID2")"
check_eq "tenant_admin updates an org of another tenant: 404" 404 \
    "$(as ta1 PUT "$ORGS/$OID2" '{"description": "x"}' -H 'If-Match: *')"
as ta1 GET "$ORGS/$OIDT" >/dev/null
check_eq "tenant_admin updates its org: 200" 200 \
    "$(as ta1 PUT "$ORGS/$OIDT" '{"description": "mine"}' -H "If-Match: $(etag)")"
check_eq "tenant_operator lists orgs of its tenant only" "$OID1 $OIDM $OIDT" \
    "$(as to1 GET "$ORGS?limit=500" >/dev/null; jbody '[.items[].id]|join(" ")')"
check_eq "tenant_operator updates an org: 403" 403 \
    "$(as to1 PUT "$ORGS/$OID1" '{"description": "x"}' -H 'If-Match: *')"
check_eq "org_operator lists only its org" "$OID1" \
    "$(as oo1 GET "$ORGS?limit=500" >/dev/null; jbody '[.items[].id]|join(" ")')"
check_eq "org_operator reads another org of its tenant: 404" 404 "$(as oo1 GET "$ORGS/$OIDT")"
check_eq "org refusals: the org of T2 is unchanged" "$before" "$(snap admin "$ORGS/$OID2")"

n=$(nusers)
before=$(snap admin "$USERS/$UTA2")
check_eq "tenant_admin creates a user in its tenant: 201" 201 \
    "$(as ta1 POST $USERS "$(jq -nc --arg u "byta-$RUN" --argjson t "$TID1" --argjson o "$OIDT" '{username: $u, role: "org_operator", tenant_id: $t, org_id: $o, password: "byta-pass-1"}')")"
UBYTA=$(jbody .id)
n=$((n + 1))
check_eq "tenant_admin creates an admin: 403" 403 \
    "$(as ta1 POST $USERS "$(jq -nc --arg u "x8-$RUN" '{username: $u, role: "admin"}')")"
check_eq "tenant_admin creates an auditor: 403" 403 \
    "$(as ta1 POST $USERS "$(jq -nc --arg u "x9-$RUN" '{username: $u, role: "auditor"}')")"
check_eq "tenant_admin creates a user in another tenant: 404" 404 \
    "$(as ta1 POST $USERS "$(jq -nc --arg u "x10-$RUN" --argjson t "$TID2" '{username: $u, role: "tenant_admin", tenant_id: $t}')")"
check_eq "tenant_auditor creates a user: 403" 403 \
    "$(as tau1 POST $USERS "$(jq -nc --arg u "x11-$RUN" --argjson t "$TID1" '{username: $u, role: "tenant_admin", tenant_id: $t}')")"
check_eq "org_operator lists users: 403" 403 "$(as oo1 GET $USERS)"
check_eq "tenant_operator lists users: 403" 403 "$(as to1 GET $USERS)"
check_eq "tenant_operator reads a user of its tenant: 403" 403 "$(as to1 GET "$USERS/$UTA1")"
check_eq "tenant_auditor lists the users of its tenant only" \
    "$(db_sql "SELECT GROUP_CONCAT(id ORDER BY id SEPARATOR ' ') FROM users WHERE tenant_id = $TID1")" \
    "$(as tau1 GET "$USERS?limit=500" >/dev/null; jbody '[.items[].id]|join(" ")')"
check_eq "tenant_admin reads a user of another tenant: 404" 404 "$(as ta1 GET "$USERS/$UTA2")"
check_eq "tenant_admin reads the admin: 404" 404 "$(as ta1 GET "$USERS/1")"
check_eq "tenant_admin updates a user of another tenant: 404" 404 \
    "$(as ta1 PUT "$USERS/$UTA2" '{"full_name": "x"}' -H 'If-Match: *')"
check_eq "tenant_admin moves a user to another tenant: 404" 404 \
    "$(as ta1 PUT "$USERS/$UBYTA" "$(jq -nc --argjson t "$TID2" '{role: "tenant_admin", tenant_id: $t, org_id: null}')" -H 'If-Match: *')"
check_eq "tenant_admin promotes a user to admin: 403" 403 \
    "$(as ta1 PUT "$USERS/$UBYTA" '{"role": "admin", "tenant_id": null, "org_id": null}' -H 'If-Match: *')"
check_eq "tenant_admin deletes a user of another tenant: 404" 404 \
    "$(as ta1 DELETE "$USERS/$UTA2" -H 'If-Match: *')"
check_eq "tenant_admin resets the password of another tenant's user: 404" 404 \
    "$(as ta1 POST "$USERS/$UTA2/password" '{"new_password": "nopenope1"}')"
check_eq "user refusals: audited as denied" 1 \
    "$(audits user update "$UTA2" denied)"
check_eq "user refusals: no user added" "$n" "$(nusers)"
check_eq "user refusals: the user is unchanged" "$before" "$(snap admin "$USERS/$UTA2")"
check_eq "tenant_auditor's refused create: audited" 1 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE entity = 'user' AND action = 'create'
	AND outcome = 'denied' AND actor_id = $UTAU1")"

# --- user updates ------------------------------------------------------------------
as ta1 GET "$USERS/$UBYTA" >/dev/null
tag=$(etag)
check_eq "user update without If-Match: 428" 428 \
    "$(as ta1 PUT "$USERS/$UBYTA" '{"full_name": "New Name"}')"
check_eq "user update with a password: 422" 422 \
    "$(as ta1 PUT "$USERS/$UBYTA" '{"password": "something1"}' -H "If-Match: $tag")"
check_eq "user moved to an inactive org: 422" 422 \
    "$(as admin POST "$ORGS/$OID1/deactivate" >/dev/null; as ta1 PUT "$USERS/$UBYTA" "{\"org_id\": $OID1}" -H "If-Match: $tag")"
check_eq "user created in an inactive org: 422" 422 "$(mkuser x12 org_operator "$TID1" "$OID1")"
check_eq "user created in an inactive org: field org_id" org_id "$(jbody .error.field)"
as admin POST "$ORGS/$OID1/activate" >/dev/null
check_eq "user update: 200" 200 \
    "$(as ta1 PUT "$USERS/$UBYTA" '{"full_name": "New Name", "email": "new@example.com", "role": "tenant_operator", "org_id": null}' -H "If-Match: $tag")"
check_eq "user update: changed" "New Name|new@example.com|tenant_operator|null" \
    "$(jbody '.full_name + "|" + .email + "|" + .role + "|" + (.org_id|tostring)')"
check_eq "user update: audited" 1 "$(audits user update "$UBYTA")"
check_match "user update: before and after" '"before":\{.*"role":"org_operator".*"after":\{.*"role":"tenant_operator"' \
    "$(db_sql "SELECT details FROM audit_log WHERE entity = 'user' AND action = 'update' AND entity_id = $UBYTA AND outcome = 'success'")"
check_eq "user update: stale ETag now 412" 412 \
    "$(as ta1 PUT "$USERS/$UBYTA" '{"full_name": "Other"}' -H "If-Match: $tag")"
check_eq "user filters: role and tenant" "$UBYTA" \
    "$(as admin GET "$USERS?tenant_id=$TID1&role=tenant_operator&username_contains=byta" >/dev/null; jbody '[.items[].id]|join(" ")')"
check_eq "user filters: org_id" "$UOO1" \
    "$(as admin GET "$USERS?org_id=$OID1" >/dev/null; jbody '[.items[].id]|join(" ")')"
check_eq "user filters: a bad role is 400" 400 "$(as admin GET "$USERS?role=root")"

# --- passwords ------------------------------------------------------------------
check_eq "own password without the current one: 422" 422 \
    "$(as tau1 POST "$USERS/$UTAU1/password" '{"new_password": "another-pass-1"}')"
check_eq "own password with a wrong current one: 403" 403 \
    "$(as tau1 POST "$USERS/$UTAU1/password" '{"current_password": "wrong", "new_password": "another-pass-1"}')"
check_eq "wrong current password: audited" 1 "$(audits user password "$UTAU1" denied)"
check_eq "wrong current password: the old one still works" 200 \
    "$(session tau1b "tau1-$RUN" "$PW")"
check_eq "own password: 200 (any role may)" 200 \
    "$(as tau1 POST "$USERS/$UTAU1/password" "$(jq -nc --arg c "$PW" '{current_password: $c, new_password: "another-pass-1"}')")"
check_eq "own password: the new one works" 200 "$(session tau1 "tau1-$RUN" another-pass-1)"
check_eq "own password: the old one does not" 401 "$(session tau1x "tau1-$RUN" "$PW")"
check_eq "own password: audited as changed only" '{"after":{"password":"changed"}}' \
    "$(db_sql "SELECT details FROM audit_log WHERE entity = 'user' AND action = 'password' AND entity_id = $UTAU1 AND outcome = 'success'")"
check_eq "org_operator changes its own password: 200" 200 \
    "$(as oo1 POST "$USERS/$UOO1/password" "$(jq -nc --arg c "$PW" '{current_password: $c, new_password: "oo1-new-pass"}')")"
check_eq "reset by tenant_admin: 200 with a generated password" 200 \
    "$(as ta1 POST "$USERS/$UOO1/password")"
NEWPW=$(jbody .password)
check_match "reset: generated" '^[A-Za-z0-9_-]{22,}$' "$NEWPW"
check_eq "reset: the generated password works" 200 "$(session oo1 "oo1-$RUN" "$NEWPW")"
check_eq "reset with current_password: 422" 422 \
    "$(as ta1 POST "$USERS/$UOO1/password" '{"current_password": "x", "new_password": "whatever-1"}')"
check_eq "reset by tenant_auditor: 403" 403 \
    "$(as tau1 POST "$USERS/$UOO1/password" '{"new_password": "whatever-1"}')"
check_eq "no password in any audit row" 0 \
    "$(db_sql "SELECT COUNT(*) FROM audit_log WHERE details LIKE '%another-pass-1%' OR details LIKE '%${NEWPW:-another-pass-1}%'")"

# --- certificate binding -------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T_TMP/u.key" -out "$T_TMP/u.pem" -subj "/CN=user-$RUN" \
    -days 1 2>/dev/null
fp=$(openssl x509 -in "$T_TMP/u.pem" -outform DER | sha256sum | cut -c1-64)
check_eq "bind a certificate: 200" 200 \
    "$(as ta1 PUT "$USERS/$UBYTA/certificate" "$(jq -nc --rawfile c "$T_TMP/u.pem" '{certificate: $c}')")"
check_eq "bind: the fingerprint is stored" "$fp" "$(jbody .cert_fingerprint)"
check_eq "bind: strong_auth" true "$(jbody .strong_auth)"
check_eq "bind: audited" 1 "$(audits user bind_certificate "$UBYTA")"
check_eq "bind the same certificate to another user: 409" 409 \
    "$(as admin PUT "$USERS/$UTA2/certificate" "$(jq -nc --rawfile c "$T_TMP/u.pem" '{certificate: $c}')")"
check_eq "bind garbage: 422" 422 \
    "$(as ta1 PUT "$USERS/$UBYTA/certificate" '{"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}')"
check_eq "bind by tenant_auditor: 403" 403 \
    "$(as tau1 PUT "$USERS/$UBYTA/certificate" "$(jq -nc --rawfile c "$T_TMP/u.pem" '{certificate: $c}')")"
check_eq "unbind: 204" 204 "$(as ta1 DELETE "$USERS/$UBYTA/certificate")"
check_eq "unbind: gone" false "$(as ta1 GET "$USERS/$UBYTA" >/dev/null; jbody .strong_auth)"
check_eq "unbind: audited" 1 "$(audits user unbind_certificate "$UBYTA")"

# --- user state and delete ------------------------------------------------------------
check_eq "deactivate a user: 200" 200 "$(as ta1 POST "$USERS/$UBYTA/deactivate")"
check_eq "deactivate a user: inactive" false "$(jbody .active)"
check_eq "deactivate oneself: 409" 409 "$(as ta1 POST "$USERS/$UTA1/deactivate")"
check_eq "delete oneself: 409" 409 "$(as ta1 DELETE "$USERS/$UTA1" -H 'If-Match: *')"
check_eq "activate a user: 200" 200 "$(as ta1 POST "$USERS/$UBYTA/activate")"
check_eq "user state changes: audited" 2 \
    "$(($(audits user deactivate "$UBYTA") + $(audits user activate "$UBYTA")))"
check_eq "delete a user without If-Match: 428" 428 "$(as ta1 DELETE "$USERS/$UBYTA")"
as ta1 GET "$USERS/$UBYTA" >/dev/null
check_eq "delete a user: 204" 204 "$(as ta1 DELETE "$USERS/$UBYTA" -H "If-Match: $(etag)")"
check_eq "delete a user: gone" 404 "$(as ta1 GET "$USERS/$UBYTA")"
check_eq "delete a user: audited" 1 "$(audits user delete "$UBYTA")"

# --- deletes refused while rows refer to a tenant or organization ---------------------------
n=$(ntenants)
check_eq "delete an org with users: 409" 409 "$(as admin DELETE "$ORGS/$OID1" -H 'If-Match: *')"
check_eq "delete a tenant with organizations: 409" 409 \
    "$(as admin DELETE "$TEN/$TID1" -H 'If-Match: *')"
check_eq "refused deletes: nothing removed" "$n" "$(ntenants)"
check_eq "refused deletes: the org is still there" 200 "$(as admin GET "$ORGS/$OID1")"
check_eq "delete an org without If-Match: 428" 428 "$(as ta1 DELETE "$ORGS/$OIDT")"
as ta1 GET "$ORGS/$OIDT" >/dev/null
check_eq "tenant_admin deletes an empty org: 204" 204 \
    "$(as ta1 DELETE "$ORGS/$OIDT" -H "If-Match: $(etag)")"
check_eq "delete an org: audited" 1 "$(audits organization delete "$OIDT")"
as admin GET "$TEN/$TID128" >/dev/null
check_eq "delete an empty tenant: 204" 204 \
    "$(as admin DELETE "$TEN/$TID128" -H "If-Match: $(etag)")"
check_eq "delete a tenant: gone" 404 "$(as admin GET "$TEN/$TID128")"
check_eq "delete a tenant: audited" 1 "$(audits tenant delete "$TID128")"

# --- deactivating a tenant ends the selection of it ---------------------------------------
check_eq "deactivate a tenant with users: 200" 200 "$(as admin POST "$TEN/$TIDM/deactivate")"
check_eq "a user in an inactive tenant: 422" 422 "$(mkuser x13 tenant_operator "$TIDM")"
check_eq "a user in an inactive tenant: field tenant_id" tenant_id "$(jbody .error.field)"

# The audit rows as the tenant's auditor reads them through the API.
code=$(as tau1 GET "/api/v1/audit-logs?entity=organization&entity_id=$OIDT&action=update")
check_eq "audit API: the tenant auditor reads its tenant's rows" 200 "$code"
check_eq "audit API: the org update by the tenant admin" "ta1-$RUN|success" \
    "$(jbody '.items[0].actor_name + "|" + .items[0].outcome')"
check_eq "audit API: another tenant's rows are not in it" 0 \
    "$(as tau1 GET "/api/v1/audit-logs?entity=tenant&entity_id=$TID2" >/dev/null; jbody '.items|length')"
check_eq "audit API: the admin sees the tenant's creation" 1 \
    "$(as admin GET "/api/v1/audit-logs?entity=tenant&entity_id=$TID2&action=create" >/dev/null; jbody '.items|length')"

check_eq "the audit chain verifies" 0 \
    "$("$ESTUARY_CTL" -c "$ESTUARY_CONF" audit verify >/dev/null 2>&1; echo $?)"

finish
