#!/bin/bash
#
# The stack's moving parts: the health endpoint follows the signer going
# down and coming back (stopped and started by ./devstack, the way it
# manages every daemon), the signer's journal verifies, the application's
# database account is as weak as it should be, and every daemon runs as
# the user of the privilege split.  Runs against the instance described by
# the ESTUARY_* variables (see lib.sh); it stops and restarts the signer of
# that instance.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

DEVSTACK=$ESTUARY_SRCDIR/devstack
export ESTUARY_VAR

# health_until CODE: polls the health endpoint until it answers CODE
# (bounded); prints the last status code.
health_until() {
	local i code=

	for ((i = 0; i < 100; i++)); do
		code=$(http GET /api/v1/health)
		[ "$code" = "$1" ] && break
		sleep 0.1
	done
	echo "$code"
}

# db_app SQL: runs SQL as the application's database account.
db_app() {
	sql_as "$(conf db_user)" "$(conf db_password_file)" "$1"
}

# pid_of COMPONENT: the pid "./devstack status" reports.
pid_of() {
	"$DEVSTACK" status | sed -n "s/^$1: *running (pid \([0-9]*\))$/\1/p"
}

# --- the signer goes away and comes back ------------------------------------------
check_eq "health 200 before" 200 "$(http GET /api/v1/health)"
check "devstack stop signer" "$DEVSTACK" stop signer
check_match "status says the signer stopped" '^signer: +stopped$' \
    "$("$DEVSTACK" status | grep '^signer:')"
check_eq "signer down: health 503" 503 "$(http GET /api/v1/health)"
check_eq "signer down: signer unavailable" unavailable "$(jbody .signer)"
check_eq "signer down: database still ok" ok "$(jbody .database)"
check "devstack start signer" "$DEVSTACK" start signer
check_eq "signer back: health 200" 200 "$(health_until 200)"
check_eq "signer back: signer ok" ok "$(jbody .signer)"

# --- the journal --------------------------------------------------------------------
check "estuaryctl journal verify" ctl journal verify
check_match "journal lists the CA signatures" 'journal OK: ([2-9]|[1-9][0-9]+) entries' \
    "$(ctl journal verify 2>&1)"

# --- the application's database account ----------------------------------------
check "app account can SELECT audit_log" db_app 'SELECT COUNT(*) FROM audit_log'
check_fails "app account cannot UPDATE audit_log" \
    db_app 'UPDATE audit_log SET id = id'
check_match "UPDATE refused by privileges" 'command denied' \
    "$(db_app 'UPDATE audit_log SET id = id' 2>&1)"
check_fails "app account cannot DELETE from audit_log" \
    db_app 'DELETE FROM audit_log'
check_fails "app account cannot CREATE TABLE" \
    db_app 'CREATE TABLE estuary_probe (id INT)'
check_match "CREATE TABLE refused by privileges" 'command denied' \
    "$(db_app 'CREATE TABLE estuary_probe (id INT)' 2>&1)"
check_fails "app account cannot DROP a table" db_app 'DROP TABLE audit_log'
check "app account can read tenants" db_app 'SELECT COUNT(*) FROM tenants'

# --- who runs what ----------------------------------------------------------------
declare -A want
if [ "${ESTUARY_PRIVSEP:-no}" = yes ]; then
	want=([mariadb]=mysql [signer]=estuary-signer [api]=estuary
	    [est]=estuary [lighttpd]=www-data)
else
	me=$(id -un)
	printf 'note %s\n' "no privilege split: every daemon runs as $me"
	want=([mariadb]=$me [signer]=$me [api]=$me [est]=$me [lighttpd]=$me)
fi
for comp in mariadb signer api est lighttpd; do
	pid=$(pid_of "$comp")
	check_match "$comp runs" '^[0-9]+$' "$pid"
	check_eq "$comp runs as ${want[$comp]}" "${want[$comp]}" \
	    "$(ps -o user:32= -p "${pid:-0}" 2>/dev/null | tr -d ' ')"
done
if [ "${ESTUARY_PRIVSEP:-no}" = yes ]; then
	check_eq "FastCGI sockets: mode 0660, group www-data" "660 www-data" \
	    "$(stat -c '%a %G' "$(conf api_socket)")"
	# The signer reads it as root, before dropping privileges.
	check_eq "HSM PIN file: root's alone" "400 root" \
	    "$(stat -c '%a %U' "$(conf hsm_pin_file)")"
	check_fails "the signer's user cannot read the PIN file" \
	    runuser -u estuary-signer -- head -c 1 "$(conf hsm_pin_file)"
	check "the signer's user can read the token store" \
	    runuser -u estuary-signer -- test -r "$ESTUARY_VAR/hsm/softhsm2.conf"
	check_fails "the FastCGI user cannot reach the token store" \
	    runuser -u estuary -- test -r "$ESTUARY_VAR/hsm/softhsm2.conf"
	check_fails "the web server's user cannot read the database password" \
	    runuser -u www-data -- head -c 1 "$(conf db_password_file)"
	check "the FastCGI user can read the database password" \
	    runuser -u estuary -- head -c 1 "$(conf db_password_file)"
fi

# The demo configuration: the Wi-SUN FAN template (TC-12) in the demo
# tenant, made by the bootstrap through the API.
check_eq "demo: admin login" 200 \
    "$(session admin "$ESTUARY_ADMIN_USER" "$ESTUARY_ADMIN_PASSWORD")"
check_eq "demo: tenant" 200 "$(as admin GET "/api/v1/tenants?name=$(jq -rn \
    --arg n "$ESTUARY_DEMO_TENANT" '$n|@uri')")"
DEMO_TENANT=$(jbody '.items[0].id')
WISUN=$(jq -r .name "$ESTUARY_SRCDIR/docs/templates/wisun-fan.json")
check_eq "demo: the Wi-SUN template is listed" 200 \
    "$(as admin GET "/api/v1/cert-templates?name=$(jq -rn --arg n "$WISUN" \
	'$n|@uri')&tenant_id=$DEMO_TENANT")"
WISUN_ID=$(jbody '.items[0].id // empty')
check "demo: the Wi-SUN template exists" test -n "$WISUN_ID"
check_eq "demo: Wi-SUN template read" 200 \
    "$(as admin GET "/api/v1/cert-templates/$WISUN_ID")"
check_eq "demo: Wi-SUN: empty subject, one required hardwareModuleName" \
    "0 1.3.6.1.5.5.7.8.4 hardware_module_name required true" \
    "$(jbody '"\(.subject_fields | length) \(.san_fields[0].othername_oid) \(.san_fields[0].othername_encoding) \(.san_fields[0].rule) \(.san_critical)"')"
check_eq "demo: Wi-SUN: EKU" "clientAuth 1.3.6.1.4.1.45605.1" \
    "$(jbody '.extended_key_usage | join(" ")')"

finish
