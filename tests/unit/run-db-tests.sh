#!/bin/bash
#
# Runs unit/test_db against a throwaway MariaDB server: a fresh data
# directory in a temporary directory, listening on a UNIX socket there,
# bootstrapped with the three Estuary accounts by tools/mariadb.sh, stopped
# and removed on exit.  test_db's output and exit status are ours.
#
# Environment (set by make check): top_srcdir, top_builddir.

set -u

top_srcdir=${top_srcdir:-..}
top_builddir=${top_builddir:-..}
srcdir_abs=$(cd "$top_srcdir" && pwd) || exit 99
test_db=${TEST_DB:-./unit/test_db}

# shellcheck source=tools/mariadb.sh disable=SC1091
. "$srcdir_abs/tools/mariadb.sh" || exit 99

for prog in mariadbd mariadb-install-db mariadb mariadb-admin; do
	if ! command -v "$prog" >/dev/null 2>&1; then
		echo "run-db-tests: $prog not found (install mariadb-server)" >&2
		echo "test_db: 0 passed, 1 failed"
		exit 1
	fi
done

# The socket path must fit in sun_path (108 bytes): fall back to /tmp when
# TMPDIR is deep.
base=${TMPDIR:-/tmp}
if [ ${#base} -gt 60 ]; then
	base=/tmp
fi
tmp=$(mktemp -d "$base/estuary-dbtest.XXXXXX") || exit 99
sock=$tmp/run/mysqld.sock
pidfile=$tmp/run/mariadbd.pid

cleanup() {
	mariadb_stop "$pidfile" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$tmp/run" "$tmp/etc" || exit 99
if [ "$(id -u)" -eq 0 ]; then
	# mariadbd runs as mysql: it must reach the data directory and own
	# the directory of its socket.
	chmod 0755 "$tmp" && chown mysql:mysql "$tmp/run" || exit 99
fi

fail_setup() {
	echo "run-db-tests: $1" >&2
	echo "test_db: 0 passed, 1 failed"
	exit 1
}

mariadb_init "$tmp/data" || fail_setup "mariadb_init failed"
mariadb_start "$tmp/data" "$sock" "$pidfile" ||
	fail_setup "mariadb_start failed"
mariadb_bootstrap "$sock" "$tmp/etc" "$srcdir_abs" ||
	fail_setup "mariadb_bootstrap failed"

conf=$tmp/etc/estuary.conf
cat >"$conf" <<EOF
db_socket = $sock
db_name = $MARIADB_DBNAME
db_user = estuary_app
db_password_file = $tmp/etc/db-app.pw
db_admin_user = estuary_admin
db_admin_password_file = $tmp/etc/db-admin.pw
db_migrations_dir = $srcdir_abs/db
EOF

# test_db applies the grants after migrating, and restarts the server to
# test reconnection, through these commands; they read the paths from the
# environment, so no path is ever re-quoted.
export DBT_LIB=$srcdir_abs/tools/mariadb.sh DBT_SRC=$srcdir_abs
export DBT_SOCK=$sock DBT_PID=$pidfile DBT_DATA=$tmp/data
q="'"
# shellcheck disable=SC2016 # expanded by the inner bash, on purpose
lib='. "$DBT_LIB" &&'
export ESTUARY_TEST_DB_GRANT="bash -c $q$lib \
mariadb_grant \"\$DBT_SOCK\" \"\$DBT_SRC\"$q"
export ESTUARY_TEST_DB_STOP="bash -c $q$lib mariadb_stop \"\$DBT_PID\"$q"
export ESTUARY_TEST_DB_START="bash -c $q$lib \
mariadb_start \"\$DBT_DATA\" \"\$DBT_SOCK\" \"\$DBT_PID\"$q"

ESTUARY_CONF=$conf \
ESTUARY_MIGRATIONS=$srcdir_abs/db \
ESTUARY_TEST_DB_REPORT_PW=$tmp/etc/db-report.pw \
TMPDIR=$tmp \
	"$test_db"
