# Assertions for the integration tests (bash).  Each test script sources
# this file, calls the check functions, and ends with `finish`, which prints
# "<script>: N passed, N failed" (the line ./devstack test adds up) and
# exits non-zero when anything failed.
#
# The environment of a test instance is in the variables of var/demo.env
# (ESTUARY_URL, ESTUARY_TLS_CA, ...) plus ESTUARY_CONF (the instance's
# estuary.conf), ESTUARY_CTL (the estuaryctl binary), ESTUARY_VAR (the
# instance directory) and ESTUARY_SRCDIR (the source tree).

T_PASSED=0
T_FAILED=0
T_NAME=$(basename "${0%.sh}")
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/estuary-it.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT

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

# check_match DESCRIPTION REGEX ACTUAL (extended regular expression)
check_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then
		t_pass "$1"
	else
		t_fail "$1" "'$3' does not match /$2/"
	fi
}

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
	awk -v n="$(printf '%s' "$1" | tr 'A-Z' 'a-z')" -F': ' '
		{ k = tolower($1) }
		k == n { sub(/\r$/, "", $2); print $2; exit }' "$T_TMP/headers"
}

finish() {
	printf '%s: %d passed, %d failed\n' "$T_NAME" "$T_PASSED" "$T_FAILED"
	[ "$T_FAILED" -eq 0 ]
}
