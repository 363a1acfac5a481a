# shellcheck shell=bash
#
# A private MariaDB server for Estuary: a sourceable bash library used by
# ./devstack and by the database tests.
#
#	mariadb_init DATADIR
#	mariadb_start DATADIR SOCKET PIDFILE
#	mariadb_stop PIDFILE
#	mariadb_bootstrap SOCKET ETCDIR SRCDIR
#	mariadb_grant SOCKET SRCDIR
#
# The server listens on a UNIX socket only (--skip-networking) and reads no
# system option file (--no-defaults), so an instance never collides with
# a system MariaDB or with another instance.  Administration happens as the
# MariaDB root account through socket authentication: the system user who
# runs these functions is the one mariadb-install-db trusted, so no root
# password exists anywhere.
#
# Every server starts with MARIADB_SERVER_OPTS (below), then MARIADB_OPTS.
#
# Environment:
#	MARIADB_DBNAME	database name (default: estuary)
#	MARIADB_OPTS	extra mariadbd options, word-split, after (and so
#			overriding) MARIADB_SERVER_OPTS (default: none)
#
# Every function returns non-zero and writes a reason to stderr on failure.

# The database the grant scripts are applied to (they name no database).
: "${MARIADB_DBNAME:=estuary}"

# The server settings of every instance; README.md ("MariaDB settings")
# gives the reasons and what a production server adds.
#  - Every commit is on disk before the client hears of it: a certificate
#    handed out must never vanish from its CA's records in a crash
#    (innodb_flush_log_at_trx_commit=1, also the default; stated so that
#    nobody "tunes" it away).
#  - A buffer pool that holds the certificates table and its indexes: the
#    default 128 MiB is full after about 100,000 certificates, and each
#    issuance then waits for random index pages (fingerprint, serial) to
#    be read back from disk.  Memory is taken as pages are used, so a
#    small test instance costs no more than before.
#  - No work for features Estuary does not use: the performance schema and
#    the query cache (every statement is prepared and most are writes).
#  - No DNS: the server listens on its UNIX socket only.
MARIADB_SERVER_OPTS=(
	--innodb-flush-log-at-trx-commit=1
	--innodb-buffer-pool-size=1G
	--performance-schema=OFF
	--query-cache-type=OFF --query-cache-size=0
	--skip-name-resolve
)

# Readiness and shutdown are polled in steps of this many seconds, at most
# _MARIADB_TRIES times (about 60 seconds in all).
_MARIADB_STEP=0.1
_MARIADB_TRIES=600

# The MariaDB account that socket authentication maps the caller to.
_mariadb_admin_user() {
	if [ "$(id -u)" -eq 0 ]; then
		echo root
	else
		id -un
	fi
}

# Runs the mariadb client as the MariaDB root over SOCKET; extra arguments
# follow.  SQL comes on stdin so that passwords never show in ps(1).
_mariadb_sql() {
	local sock=$1
	shift
	mariadb --no-defaults --protocol=socket -S "$sock" \
		-u "$(_mariadb_admin_user)" --batch --skip-column-names "$@"
}

# Writes a fresh random password to FILE (mode 0600) unless FILE already
# holds one; a reused file must hold only letters and digits, because its
# content is spliced into CREATE USER.
_mariadb_pwfile() {
	local f=$1 pw

	if [ -s "$f" ]; then
		pw=$(head -n 1 "$f")
		case "$pw" in
		*[!A-Za-z0-9]* | "")
			echo "mariadb: $f: password must be letters and digits" >&2
			return 1
			;;
		esac
		chmod 0600 "$f" || return 1
		return 0
	fi
	pw=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n') || return 1
	if [ ${#pw} -ne 48 ]; then
		echo "mariadb: cannot read /dev/urandom" >&2
		return 1
	fi
	(umask 077 && printf '%s\n' "$pw" >"$f") || return 1
	chmod 0600 "$f"
}

# Is the process of PID alive (and not a zombie waiting to be reaped)?
_mariadb_alive() {
	local pid=$1 state

	kill -0 "$pid" 2>/dev/null || return 1
	state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 0
	[ "$state" != Z ]
}

mariadb_init() {
	local datadir=$1
	local -a args

	if [ -z "$datadir" ]; then
		echo "usage: mariadb_init DATADIR" >&2
		return 1
	fi
	if [ -d "$datadir/mysql" ]; then
		return 0
	fi
	mkdir -p "$datadir" || return 1
	args=(--no-defaults --datadir="$datadir" --skip-test-db
		--auth-root-authentication-method=socket)
	if [ "$(id -u)" -eq 0 ]; then
		chown mysql:mysql "$datadir" || return 1
		args+=(--user=mysql)
	else
		args+=(--auth-root-socket-user="$(id -un)")
	fi
	# One retry: on a loaded machine the bootstrap server has been seen to
	# fail once (distcheck, two test programs initialising at the same
	# time) and succeed on the next attempt.  Its own error lines are
	# shown either way, not only the installer's generic advice.
	if ! mariadb-install-db "${args[@]}" >"$datadir.install.log" 2>&1; then
		echo "mariadb: mariadb-install-db failed, retrying once:" >&2
		grep -i -E '\[(ERROR|Warning)\]|error' "$datadir.install.log" |
			head -n 20 >&2
		find "$datadir" -mindepth 1 -delete 2>/dev/null
		if ! mariadb-install-db "${args[@]}" \
			>"$datadir.install.log" 2>&1; then
			echo "mariadb: mariadb-install-db failed:" >&2
			grep -i -E '\[(ERROR|Warning)\]|error' \
				"$datadir.install.log" | head -n 20 >&2
			tail -n 20 "$datadir.install.log" >&2
			return 1
		fi
	fi
	rm -f "$datadir.install.log"
}

mariadb_start() {
	local datadir=$1 sock=$2 pidfile=$3 pid i
	local -a args

	if [ -z "$datadir" ] || [ -z "$sock" ] || [ -z "$pidfile" ]; then
		echo "usage: mariadb_start DATADIR SOCKET PIDFILE" >&2
		return 1
	fi
	if [ -s "$pidfile" ] && _mariadb_alive "$(cat "$pidfile")" &&
		mariadb-admin --no-defaults -S "$sock" \
			-u "$(_mariadb_admin_user)" ping >/dev/null 2>&1; then
		return 0
	fi
	args=(--no-defaults --datadir="$datadir" --socket="$sock"
		--pid-file="$pidfile" --skip-networking
		--log-error="$datadir/error.log")
	if [ "$(id -u)" -eq 0 ]; then
		args+=(--user=mysql)
	fi
	args+=("${MARIADB_SERVER_OPTS[@]}")
	# shellcheck disable=SC2206
	args+=(${MARIADB_OPTS:-})
	# The caller's TMPDIR may be private to it; mariadbd (as mysql) then
	# could not create its temporary files there.
	env -u TMPDIR mariadbd "${args[@]}" </dev/null >/dev/null 2>&1 &
	pid=$!
	for ((i = 0; i < _MARIADB_TRIES; i++)); do
		if mariadb-admin --no-defaults -S "$sock" \
			-u "$(_mariadb_admin_user)" ping >/dev/null 2>&1 &&
			[ -s "$pidfile" ]; then
			return 0
		fi
		if ! _mariadb_alive "$pid"; then
			echo "mariadb: mariadbd exited during startup:" >&2
			tail -n 20 "$datadir/error.log" >&2
			return 1
		fi
		sleep "$_MARIADB_STEP"
	done
	echo "mariadb: mariadbd not ready on $sock; stopping it" >&2
	kill -TERM "$pid" 2>/dev/null
	return 1
}

mariadb_stop() {
	local pidfile=$1 pid i

	if [ -z "$pidfile" ]; then
		echo "usage: mariadb_stop PIDFILE" >&2
		return 1
	fi
	[ -s "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	case "$pid" in
	"" | *[!0-9]*)
		echo "mariadb: $pidfile: not a process id" >&2
		return 1
		;;
	esac
	_mariadb_alive "$pid" || return 0
	kill -TERM "$pid" || return 1
	for ((i = 0; i < _MARIADB_TRIES; i++)); do
		_mariadb_alive "$pid" || return 0
		sleep "$_MARIADB_STEP"
	done
	echo "mariadb: mariadbd (pid $pid) did not exit" >&2
	return 1
}

mariadb_bootstrap() {
	local sock=$1 etcdir=$2 srcdir=$3 acct pw

	if [ -z "$sock" ] || [ -z "$etcdir" ] || [ -z "$srcdir" ]; then
		echo "usage: mariadb_bootstrap SOCKET ETCDIR SRCDIR" >&2
		return 1
	fi
	case "$MARIADB_DBNAME" in
	"" | *[!A-Za-z0-9_]*)
		echo "mariadb: bad database name '$MARIADB_DBNAME'" >&2
		return 1
		;;
	esac
	mkdir -p "$etcdir" || return 1
	for acct in app admin report; do
		_mariadb_pwfile "$etcdir/db-$acct.pw" || return 1
	done
	{
		# shellcheck disable=SC2016 # backquotes quote SQL names
		printf 'CREATE DATABASE IF NOT EXISTS `%s` ' "$MARIADB_DBNAME"
		printf 'CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n'
		for acct in app admin report; do
			pw=$(head -n 1 "$etcdir/db-$acct.pw")
			printf "CREATE USER IF NOT EXISTS 'estuary_%s'@'localhost';\n" \
				"$acct"
			printf "ALTER USER 'estuary_%s'@'localhost' IDENTIFIED BY '%s';\n" \
				"$acct" "$pw"
		done
	} | _mariadb_sql "$sock" || return 1
	_mariadb_sql "$sock" -D "$MARIADB_DBNAME" \
		<"$srcdir/db/grants-admin.sql" || return 1
}

mariadb_grant() {
	local sock=$1 srcdir=$2 f

	if [ -z "$sock" ] || [ -z "$srcdir" ]; then
		echo "usage: mariadb_grant SOCKET SRCDIR" >&2
		return 1
	fi
	# The views come first: the grant scripts name them.
	for f in views-report.sql grants-app.sql grants-report.sql; do
		if ! _mariadb_sql "$sock" -D "$MARIADB_DBNAME" \
			<"$srcdir/db/$f"; then
			echo "mariadb: applying db/$f failed" >&2
			return 1
		fi
	done
}
