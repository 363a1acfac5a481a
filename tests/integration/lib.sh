# shellcheck shell=bash
#
# Assertions and shared helpers for the integration tests (bash).  Each
# test script sources this file, calls the check functions, and ends with
# `finish`, which prints "<script>: N passed, N failed" (the line
# ./devstack test adds up) and exits non-zero when anything failed.
#
# The environment of a test instance is in the variables of var/demo.env
# (ESTUARY_URL, ESTUARY_TLS_CA, ...) plus ESTUARY_CONF (the instance's
# estuary.conf), ESTUARY_CTL (the estuaryctl binary), ESTUARY_VAR (the
# instance directory) and ESTUARY_SRCDIR (the source tree).
#
# Besides the checks, this file holds every helper that more than one
# script needs, each defined once: the instance (ctl, conf, the database
# accounts), the REST API (login, sessions, API applications, the last
# response's body and headers) and certificates.  A helper that only one
# script uses stays in that script.

T_PASSED=0
T_FAILED=0
T_NAME=$(basename "${0%.sh}")
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/estuary-it.XXXXXX")
T_AT_EXIT=()
trap 't_exit' EXIT

# A suffix for the names a script creates, so that it can run again on the
# same instance.
# shellcheck disable=SC2034
RUN=$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')

# at_exit FUNCTION: runs FUNCTION when the script exits, however it exits
# (in the order the calls were made), before the temporary directory goes:
# a script that changes the instance undoes it there.
at_exit() {
	T_AT_EXIT+=("$1")
}

t_exit() {
	local f

	for f in "${T_AT_EXIT[@]}"; do
		"$f"
	done
	rm -rf "$T_TMP"
}

t_pass() {
	T_PASSED=$((T_PASSED + 1))
	printf 'ok   %s\n' "$1"
}

t_fail() {
	T_FAILED=$((T_FAILED + 1))
	printf 'FAIL %s%s\n' "$1" "${2:+: $2}"
}

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0.
check() {
	local desc=$1
	shift
	if "$@" >"$T_TMP/out" 2>&1; then
		t_pass "$desc"
	else
		t_fail "$desc" "$(tail -n 3 "$T_TMP/out" | tr '\n' ' ')"
	fi
}

# check_fails DESCRIPTION COMMAND...: passes when COMMAND exits non-zero.
check_fails() {
	local desc=$1
	shift
	if "$@" >"$T_TMP/out" 2>&1; then
		t_fail "$desc" "command succeeded"
	else
		t_pass "$desc"
	fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		t_pass "$1"
	else
		t_fail "$1" "expected '$2', got '$3'"
	fi
}

# check_within DESC N CMD...: passes once CMD succeeds, trying once a
# second at most N times: for what a daemon does on its own schedule (the
# client-CA file that "estuaryctl tls client-ca --follow" rewrites).
check_within() {
	local desc=$1 n=$2 i

	shift 2
	for ((i = 0; i < n; i++)); do
		if "$@" >/dev/null 2>&1; then
			t_pass "$desc"
			return 0
		fi
		sleep 1
	done
	t_fail "$desc (not within $n s)"
	return 1
}

# check_match DESCRIPTION REGEX ACTUAL (extended regular expression)
check_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then
		t_pass "$1"
	else
		t_fail "$1" "'$3' does not match /$2/"
	fi
}

# --- the REST API ---------------------------------------------------------------

# http METHOD PATH [curl options...]: prints the status code; the body is
# left in $T_TMP/body and the headers in $T_TMP/headers.
http() {
	local method=$1 path=$2
	shift 2
	curl -sS -o "$T_TMP/body" -D "$T_TMP/headers" -w '%{http_code}' \
		--cacert "$ESTUARY_TLS_CA" -X "$method" "$@" \
		"$ESTUARY_URL$path"
}

# header NAME: the value of a response header of the last http call.
header() {
	awk -v n="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" -F': ' '
		{ k = tolower($1) }
		k == n { sub(/\r$/, "", $2); print $2; exit }' "$T_TMP/headers"
}

# jbody FILTER: the raw value of a jq filter on the body of the last http
# call, "" when the body is not JSON.
jbody() {
	jq -r "$1" "$T_TMP/body" 2>/dev/null
}

# etag: the ETag of the last http call.
etag() {
	header ETag
}

# login USER PASSWORD [curl options...]: POST /auth/login; prints the
# status.
login() {
	local body

	body=$(jq -nc --arg u "$1" --arg p "$2" '{username: $u, password: $p}')
	shift 2
	http POST /api/v1/auth/login -H 'Content-Type: application/json' \
	    --data-binary "$body" "$@"
}

# session WHO USERNAME PASSWORD: logs in; the cookie goes to WHO.jar and
# the CSRF token to WHO.csrf (in $T_TMP), for as.  Prints the status.
session() {
	local code

	code=$(login "$2" "$3" -c "$T_TMP/$1.jar")
	jbody .csrf_token >"$T_TMP/$1.csrf"
	printf '%s' "$code"
}

# as WHO METHOD PATH [JSON] [curl options...]: a request with WHO's
# session (cookie and CSRF token); JSON, when the argument begins with
# "{" or "[", is the body.  Prints the status.
as() {
	local who=$1 method=$2 path=$3
	local args=(-b "$T_TMP/$who.jar" -H "X-CSRF-Token: $(cat "$T_TMP/$who.csrf")")

	shift 3
	if [ $# -gt 0 ] && { [ "${1:0:1}" = '{' ] || [ "${1:0:1}" = '[' ]; }; then
		args+=(-H 'Content-Type: application/json' --data-binary "$1")
		shift
	elif { [ "$method" = POST ] || [ "$method" = PUT ]; } &&
	    ! printf '%s\n' "$@" | grep -qx -- --data-binary; then
		# No body, as a browser's fetch() sends it.
		args+=(-H 'Content-Length: 0')
	fi
	http "$method" "$path" "${args[@]}" "$@"
}

# as_app APP METHOD PATH [curl options...]: a request with HTTP Basic as
# the API application APP, "AppID<TAB>AppKey" as app_add prints it.
# Prints the status.
as_app() {
	local app=$1 method=$2 path=$3

	shift 3
	http "$method" "$path" -u "${app%%	*}:${app#*	}" "$@"
}

# --- the instance ---------------------------------------------------------------

# ctl ARGS...: estuaryctl with the instance's configuration.
ctl() {
	"$ESTUARY_CTL" -c "$ESTUARY_CONF" "$@"
}

# conf KEY [DEFAULT]: a value from the instance's estuary.conf, DEFAULT
# when the file does not set KEY.
conf() {
	local v

	v=$(awk -v k="$1" -F' *= *' '$1 == k { print $2; exit }' \
	    "$ESTUARY_CONF")
	printf '%s' "${v:-$2}"
}

# db_client ACCOUNT PASSWORD-FILE PROGRAM ARGS...: a MariaDB client program
# (mariadb, mariadb-dump) as the database account ACCOUNT over the
# instance's socket.  The password (the first line of PASSWORD-FILE) goes
# through an option file in $T_TMP, written once per account, not argv.
db_client() {
	local cnf=$T_TMP/$1.cnf prog=$3

	[ -s "$cnf" ] ||
	    (umask 077 && printf '[client]\nuser=%s\npassword=%s\nsocket=%s\n' \
		"$1" "$(head -n 1 "$2")" \
		"$(conf db_socket /run/mysqld/mysqld.sock)" >"$cnf")
	shift 3
	"$prog" --defaults-file="$cnf" --protocol=socket "$@"
}

# sql_as ACCOUNT PASSWORD-FILE SQL: runs SQL as ACCOUNT; prints the rows,
# tab-separated, without column names.
sql_as() {
	db_client "$1" "$2" mariadb --batch --raw --skip-column-names \
	    "$(conf db_name estuary)" -e "$3"
}

# db_admin PROGRAM ARGS...: a MariaDB client program as the instance's
# administrative database account.
db_admin() {
	db_client "$(conf db_admin_user estuary_admin)" \
	    "$(conf db_admin_password_file /nonexistent)" "$@"
}

# db_sql SQL: runs SQL as the instance's administrative database account.
db_sql() {
	db_admin mariadb --batch --raw --skip-column-names \
	    "$(conf db_name estuary)" -e "$1"
}

# sqlstr S: S as an SQL string literal (for names that hold no quote).
sqlstr() {
	printf "'%s'" "$1"
}

# audits ENTITY ACTION ID [OUTCOME]: how many audit rows say that ACTION
# on the ENTITY with id ID had OUTCOME (success by default).
audits() {
	db_sql "SELECT COUNT(*) FROM audit_log WHERE entity = '$1'
	    AND action = '$2' AND entity_id = $3
	    AND outcome = '${4:-success}'"
}

# app_add TENANT ROLE NAME [estuaryctl options...]: creates an API
# application with estuaryctl; prints "AppID<TAB>AppKey", as as_app takes
# it.
app_add() {
	ctl app add --tenant "$1" --role "$2" --name "$3" "${@:4}" 2>/dev/null
}

# --- certificates ---------------------------------------------------------------

# fp FILE [FORMAT]: the SHA-256 fingerprint of the certificate in FILE
# (PEM by default), or a string naming FILE when it holds none (so that
# two missing certificates differ).
fp() {
	openssl x509 -in "$1" -inform "${2:-PEM}" -noout -fingerprint -sha256 \
	    2>/dev/null || echo "no certificate in $1"
}

# finish: prints "<script>: N passed, N failed"; the script's last command,
# so that its exit status says whether anything failed.
finish() {
	printf '%s: %d passed, %d failed\n' "$T_NAME" "$T_PASSED" "$T_FAILED"
	[ "$T_FAILED" -eq 0 ]
}
