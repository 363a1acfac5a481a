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
# response's body and headers), the set-up most scripts share (tenants,
# users of every role, CAs, templates, external CAs, row counts, refusals)
# and certificates (some made by openssl).  A helper that only one script
# uses stays in that script.

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

# --- set-up: tenants, users, CAs, templates -------------------------------------

# admin_session: the session "admin" (for as) of the instance's Admin; a
# check, "setup: admin logs in".
admin_session() {
	check_eq "setup: admin logs in" 200 \
	    "$(session admin "$ESTUARY_ADMIN_USER" "$ESTUARY_ADMIN_PASSWORD")"
}

# tenant_add TENANT [ORGANIZATION...]: creates the tenant and its
# organizations with estuaryctl; the script ends ("setup failed") when
# one cannot be made.
tenant_add() {
	local t=$1 o

	shift
	ctl tenant add "$t" >/dev/null || { echo "setup failed"; exit 1; }
	for o in "$@"; do
		ctl org add --tenant "$t" "$o" >/dev/null ||
		    { echo "setup failed"; exit 1; }
	done
}

# tid_of TENANT, oid_of ORGANIZATION: the id of the one named so.
tid_of() {
	db_sql "SELECT id FROM tenants WHERE name = $(sqlstr "$1")"
}

oid_of() {
	db_sql "SELECT id FROM organizations WHERE name = $(sqlstr "$1")"
}

# users_add PASSWORD PREFIX WHO:ROLE[:TENANT[:ORGANIZATION]]...: creates
# each user PREFIXWHO-$RUN with estuaryctl, with ROLE in the tenant and
# the organization named (if any) and PASSWORD (left in $T_TMP/pw), and
# opens its session WHO: a check each, "setup: WHO logs in".  The script
# ends when a user cannot be made.
users_add() {
	local pw=$1 prefix=$2 u who role tenant org

	shift 2
	printf '%s\n' "$pw" >"$T_TMP/pw"
	for u in "$@"; do
		IFS=: read -r who role tenant org <<<"$u"
		ctl user add --username "$prefix$who-$RUN" --role "$role" \
		    ${tenant:+--tenant "$tenant"} ${org:+--org "$org"} \
		    --password-file "$T_TMP/pw" >/dev/null ||
		    { echo "cannot create user $who"; exit 1; }
		check_eq "setup: $who logs in" 200 \
		    "$(session "$who" "$prefix$who-$RUN" "$pw")"
	done
}

# tenant_post WHO NAME, org_post WHO NAME TENANT-ID: a tenant, an
# organization of the tenant, created through the API with WHO's
# session; print the status (the answer's id: jbody .id).
tenant_post() {
	as "$1" POST /api/v1/tenants "$(jq -nc --arg n "$2" '{name: $n}')"
}

org_post() {
	as "$1" POST /api/v1/organizations "$(jq -nc --arg n "$2" \
	    --argjson t "$3" '{tenant_id: $t, name: $n}')"
}

# user_post USERNAME PASSWORD ROLE TENANT-ID [ORG-ID]: a user created
# through the API by the admin session; prints the status.
user_post() {
	as admin POST /api/v1/users "$(jq -nc --arg u "$1" --arg p "$2" \
	    --arg r "$3" --argjson t "$4" --argjson o "${5:-null}" \
	    '{username: $u, password: $p, role: $r, tenant_id: $t, org_id: $o}')"
}

# app_rowid APP: the row id (api_applications.id) of the API application
# APP, "AppID<TAB>AppKey" as app_add prints it.
app_rowid() {
	db_sql "SELECT id FROM api_applications
	    WHERE app_id = $(sqlstr "${1%%	*}")"
}

# ca_add NAME FILE [KEY-TYPE [DAYS [PARENT]]]: a CA in the HSM made with
# estuaryctl: subject "CN=NAME", EC P-256 and 3650 days by default, a
# root unless PARENT names its issuer; its certificate goes to FILE.
# Prints its id.
ca_add() {
	ctl ca create --name "$1" --subject "CN=$1" --key-type "${3:-ec-p256}" \
	    --days "${4:-3650}" ${5:+--parent "$5"} --out "$2" 2>/dev/null
}

# ca_post NAME KIND KEY-TYPE DAYS [PARENT-ID]: a global CA ("root" or
# "issuing") created through the API by the admin session, named
# "NAME $RUN" with the subject "CN=NAME $RUN,O=Estuary Tests"; prints
# the status.
ca_post() {
	as admin POST /api/v1/cas "$(jq -nc --arg n "$1 $RUN" --arg k "$2" \
	    --arg kt "$3" --arg s "CN=$1 $RUN,O=Estuary Tests" --argjson d "$4" \
	    --argjson p "${5:-null}" \
	    '{name: $n, kind: $k, key_type: $kt, subject: $s, validity_days: $d,
	      scope: "global"} + (if $p then {parent_id: $p} else {} end)')"
}

# tpl_add NAME TYPE CA-ID SUBJECT-FIELDS [JSON]: a certificate template
# created through the API by the admin session: 365 days, EC P-256 keys,
# digitalSignature and clientAuth, the subject fields (a JSON array),
# then the members of the object JSON (scope, key generation...) over
# those.  Prints its id; the answer stays in $T_TMP/body.
tpl_add() {
	local more=${5:-}

	[ -n "$more" ] || more='{}'
	as admin POST /api/v1/cert-templates "$(jq -nc --arg n "$1" \
	    --arg t "$2" --argjson ca "$3" --argjson f "$4" --argjson m "$more" \
	    '{name: $n, type: $t, ca_id: $ca, validity_days: 365,
	      key_types: ["ec-p256"], key_usage: ["digitalSignature"],
	      extended_key_usage: ["clientAuth"], subject_fields: $f} + $m')" \
	    >/dev/null
	jbody .id
}

# field_id FILE ATTRIBUTE: the id of the subject field for ATTRIBUTE of
# the template in FILE (as the API gives it).
field_id() {
	jq ".subject_fields[] | select(.attribute == \"$2\") | .id" "$1"
}

# extca_add NAME FILE TENANT-ID [ORG-ID [VERIFIED]]: registers the CA
# certificate in FILE as an external CA of the tenant (of the
# organization when ORG-ID is not empty), verified unless VERIFIED is
# false, with the admin session; prints the status.
extca_add() {
	as admin POST /api/v1/external-cas "$(jq -nc --arg n "$1" \
	    --rawfile c "$2" --argjson t "$3" --arg o "${4:-}" \
	    --argjson v "${5:-true}" '{name: $n, certificate: $c,
	    tenant_id: $t, verified: $v} +
	    (if $o == "" then {} else {org_id: ($o | tonumber)} end)')"
}

# devtype_ext NAME EXTCA-ID OP-TEMPLATE-ID JSON: a device type whose
# factory certificates come from the external CA, with one operational
# template, then the members of the object JSON (where it belongs:
# tenant_id or org_id; dar...) over those, created by the admin session;
# prints the status.
devtype_ext() {
	as admin POST /api/v1/device-types "$(jq -nc --arg n "$1" \
	    --argjson x "$2" --argjson ot "$3" --argjson m "$4" \
	    '{name: $n, factory_source: "external", external_ca_id: $x,
	      operational_templates: [{template_id: $ot}]} + $m')"
}

# cert_pem TEMPLATE-ID CSR-FILE PEM-FILE: a certificate of the template
# for the CSR in CSR-FILE, issued through the API by the admin session,
# into PEM-FILE.
cert_pem() {
	as admin POST /api/v1/certificates "$(jq -nc --argjson t "$1" \
	    --rawfile c "$2" '{template_id: $t, csr: $c}')" >/dev/null &&
	    jbody .pem >"$3"
}

# nrows TABLE...: how many rows each TABLE holds, one string with a space
# between the numbers; a TABLE may carry a condition ("certificates
# WHERE device_id IS NOT NULL").  Taken before and after a refusal, it
# shows that nothing was written.
nrows() {
	local t q=

	for t in "$@"; do
		q+="${q:+, }(SELECT COUNT(*) FROM $t)"
	done
	db_sql "SELECT CONCAT_WS(' ', $q)"
}

# check_refused DESC STATUS FIELD ACTUAL: a request answered ACTUAL was
# refused with STATUS naming FIELD: the checks "DESC: STATUS" and "DESC:
# field FIELD" (the second left out when FIELD is "-").
check_refused() {
	check_eq "$1: $2" "$2" "$4"
	[ "$3" = - ] || check_eq "$1: field $3" "$3" "$(jbody .error.field)"
}

# --- certificates ---------------------------------------------------------------

# fp FILE [FORMAT]: the SHA-256 fingerprint of the certificate in FILE
# (PEM by default), or a string naming FILE when it holds none (so that
# two missing certificates differ).
fp() {
	openssl x509 -in "$1" -inform "${2:-PEM}" -noout -fingerprint -sha256 \
	    2>/dev/null || echo "no certificate in $1"
}

# hexfp FILE: the SHA-256 of the DER of the PEM certificate in FILE, in
# lower-case hex (as the database keeps fingerprints).
hexfp() {
	openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

# subject FILE: the subject of the certificate in FILE, RFC 2253.
subject() {
	openssl x509 -in "$1" -noout -subject -nameopt RFC2253 2>/dev/null |
	    sed 's/^subject=//'
}

# ossl_cnf: the path of an openssl configuration for certificates made by
# openssl (written at the first call), with the extension sections ca_ext
# (a CA), leaf_ext (an end entity) and client_ext (an end entity for TLS
# client authentication).
ossl_cnf() {
	local f=$T_TMP/lib-openssl.cnf

	[ -s "$f" ] || cat >"$f" <<-'CNF'
		[req]
		distinguished_name = dn
		[dn]
		[ca_ext]
		basicConstraints = critical,CA:TRUE
		keyUsage = critical,keyCertSign,cRLSign
		subjectKeyIdentifier = hash
		[leaf_ext]
		basicConstraints = critical,CA:FALSE
		keyUsage = critical,digitalSignature
		[client_ext]
		basicConstraints = critical,CA:FALSE
		keyUsage = critical,digitalSignature
		extendedKeyUsage = clientAuth
	CNF
	printf '%s' "$f"
}

# csr_new PREFIX SUBJECT [rsa]: a new key (EC P-256, or RSA 2048) in
# PREFIX.key and a CSR of it for SUBJECT in PREFIX.csr.
csr_new() {
	local opt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)

	[ "${3:-ec}" = rsa ] && opt=(-newkey rsa:2048)
	openssl req -new "${opt[@]}" -nodes -keyout "$1.key" -subj "$2" \
	    -out "$1.csr" 2>/dev/null
}

# x509_ca PREFIX SUBJECT: a self-signed EC P-256 CA made by openssl (an
# external CA), valid 30 days, in PREFIX.pem with its key in PREFIX.key.
x509_ca() {
	openssl req -x509 -new -nodes -newkey ec \
	    -pkeyopt ec_paramgen_curve:P-256 -keyout "$1.key" -out "$1.pem" \
	    -days 30 -subj "$2" -config "$(ossl_cnf)" -extensions ca_ext \
	    2>/dev/null
}

# x509_sign PREFIX CA-PREFIX [SECTION]: PREFIX.csr signed by the CA in
# CA-PREFIX.pem (key CA-PREFIX.key) for 10 days with the extensions of
# SECTION of ossl_cnf (leaf_ext by default), into PREFIX.pem.
x509_sign() {
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
	    -CAcreateserial -days 10 -extfile "$(ossl_cnf)" \
	    -extensions "${3:-leaf_ext}" -out "$1.pem" 2>/dev/null
}

# finish: prints "<script>: N passed, N failed"; the script's last command,
# so that its exit status says whether anything failed.
finish() {
	printf '%s: %d passed, %d failed\n' "$T_NAME" "$T_PASSED" "$T_FAILED"
	[ "$T_FAILED" -eq 0 ]
}
