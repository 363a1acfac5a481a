# shellcheck shell=bash
#
# The lifecycle of one Estuary instance: a directory that holds the
# configuration, keys, database, token, sockets, pid files and logs of a
# whole stack (MariaDB, estuary-signerd, estuary-api, estuary-est,
# estuary-worker and the web server: lighttpd, Apache or nginx, see
# tools/web.sh).  ./devstack uses it for the instance
# under ./var and for the throwaway instances of "./devstack test";
# integration tests use it through "./devstack start|stop|restart
# COMPONENT".
#
#	SRCDIR=/path/to/built/tree
#	. "$SRCDIR/tools/instance.sh"
#	inst_use DIR		select (and load) the instance in DIR
#	inst_create PORT	create what is missing (idempotent)
#	inst_start [COMPONENT...]	start what is not running
#	inst_db_setup		database accounts, migrations, grants
#	inst_bootstrap		demo CAs, client CA file, users, demo.env
#	inst_stop [COMPONENT...]	stop by pid, in reverse order
#	inst_status		one line per component
#
# Components, in start order: mariadb signer api est worker web (the web
# server; its own name, such as lighttpd, is accepted for it).  Every
# daemon runs in the background with a pid file under DIR/run and its log
# under DIR/log.  A daemon counts as running only when its pid file names
# a live process whose executable and command line are this instance's, so
# a recycled pid or another instance's daemon is never mistaken for ours.
#
# Privilege split: as root, when the service users can reach DIR, MariaDB
# runs as mysql, the signer as estuary-signer, the FastCGI programs as
# estuary and the web server as www-data.  Otherwise (say, a tree under /root)
# everything runs as the invoking user; the choice is made once, when the
# instance is created, and kept in DIR/etc/instance.env.
#
# Functions print progress on stdout, reasons on stderr, and return
# non-zero on failure.  The functions that create an instance are in
# tools/instance-create.sh.

# shellcheck source=tools/mariadb.sh disable=SC2153
. "$SRCDIR/tools/mariadb.sh"
# shellcheck source=tools/softhsm.sh
. "$SRCDIR/tools/softhsm.sh"
# shellcheck source=tools/instance-create.sh
. "$SRCDIR/tools/instance-create.sh"
# shellcheck source=tools/web.sh
. "$SRCDIR/tools/web.sh"

INST_COMPONENTS=(mariadb signer api est worker web)

# The service users of the privilege split.
INST_SIGNER_USER=estuary-signer
INST_FCGI_USER=estuary
INST_WEB_USER=www-data
INST_DB_USER=mysql

# Readiness and shutdown are polled every _INST_STEP seconds, at most
# _INST_TRIES times (30 seconds).
_INST_STEP=0.1
_INST_TRIES=300

# Names of the demo objects that inst_bootstrap creates.
INST_ROOT_CA="Estuary Demo Root CA"
INST_ISSUING_CA="Estuary Demo Issuing CA"
INST_TENANT="Demo Tenant"
INST_ORG="Demo Organization"
INST_ADMIN='admin'
INST_TOKEN_LABEL=estuary
# The largest request body (max_body); lighttpd enforces it too.
INST_MAX_BODY=1048576

# bash 5.2 would otherwise expand "&" in ${var//pattern/replacement}.
shopt -u patsub_replacement 2>/dev/null || true

inst_say() {
	printf '%s\n' "$*"
}

inst_err() {
	printf '%s\n' "$*" >&2
}

# inst_use DIR: selects the instance in DIR (an absolute path) and loads
# its settings if it exists.
inst_use() {
	INST=$1
	I_ETC=$INST/etc
	I_CONF=$I_ETC/estuary.conf
	I_ENV=$I_ETC/instance.env
	I_RUN=$INST/run
	I_LOG=$INST/log
	I_TLS=$INST/tls
	I_CA=$INST/ca
	I_HSM=$INST/hsm
	I_DB=$INST/db
	I_JOURNAL_DIR=$INST/signer
	I_DB_SOCK=$I_RUN/mysqld/mysqld.sock
	I_SIGNER_SOCK=$I_RUN/signer/signer.sock
	I_API_SOCK=$I_RUN/fcgi/api.sock
	I_EST_SOCK=$I_RUN/fcgi/est.sock
	I_HTTPD_CONF=$I_ETC/lighttpd.conf
	I_CLIENT_CA=$I_ETC/client-ca.pem
	I_BATCH=$INST/batch
	I_CTL=$SRCDIR/ctl/estuaryctl
	I_PORT=
	I_PKI_PORT=
	I_PRIVSEP=
	I_IPV6=
	I_WEB=
	I_SRCDIR=
	if [ -r "$I_ENV" ]; then
		# shellcheck source=/dev/null
		. "$I_ENV"
	fi
}

# --- components --------------------------------------------------------------

inst_pidfile() {
	case $1 in
	mariadb) echo "$I_RUN/mysqld/mysqld.pid" ;;
	signer) echo "$I_RUN/signer/signerd.pid" ;;
	api) echo "$I_RUN/fcgi/api.pid" ;;
	est) echo "$I_RUN/fcgi/est.pid" ;;
	worker) echo "$I_RUN/fcgi/worker.pid" ;;
	web) inst_web_pidfile ;;
	*) return 1 ;;
	esac
}

# The executable a component's process must be running.
inst_exe() {
	case $1 in
	mariadb) readlink -f "$(command -v mariadbd)" ;;
	signer) echo "$SRCDIR/signer/estuary-signerd" ;;
	api) echo "$SRCDIR/fcgi/estuary-api" ;;
	est) echo "$SRCDIR/fcgi/estuary-est" ;;
	worker) echo "$SRCDIR/pki/estuary-worker" ;;
	web) inst_web_exe ;;
	*) return 1 ;;
	esac
}

# The argument that ties a component's process to this instance.
inst_marker() {
	case $1 in
	mariadb) echo "--datadir=$I_DB" ;;
	web) inst_web_marker ;;
	*) echo "$I_CONF" ;;
	esac
}

# inst_label COMPONENT: its name in messages; the web component goes by
# its server's name (lighttpd, apache or nginx).
inst_label() {
	if [ "$1" = web ]; then
		echo "${I_WEB:-$INST_WEB_DEFAULT}"
	else
		echo "$1"
	fi
}

# inst_alive PID: the process exists and is not a zombie.
inst_alive() {
	local state

	kill -0 "$1" 2>/dev/null || return 1
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$state" != Z ]
}

# inst_pid COMPONENT: prints the pid of the component when it runs (see the
# header for what "runs" means); fails otherwise.
inst_pid() {
	local comp=$1 f pid exe

	f=$(inst_pidfile "$comp") || return 1
	[ -s "$f" ] || return 1
	IFS= read -r pid <"$f" || [ -n "$pid" ] || return 1
	case $pid in
	'' | *[!0-9]*) return 1 ;;
	esac
	inst_alive "$pid" || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	# A rebuilt binary shows as "PATH (deleted)"; it is still ours.
	exe=${exe% (deleted)}
	[ "$exe" = "$(inst_exe "$comp")" ] || return 1
	tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null |
	    grep -qxF -- "$(inst_marker "$comp")" || return 1
	echo "$pid"
}

# inst_wait_gone PID: polls until the process has exited.
inst_wait_gone() {
	local i

	for ((i = 0; i < _INST_TRIES; i++)); do
		inst_alive "$1" || return 0
		sleep "$_INST_STEP"
	done
	return 1
}

# inst_spawn COMPONENT SOCKET [NAME=VALUE...]: starts one of our daemons in
# the foreground mode (-d, logging to stderr) as a background process in
# its own session, with its log in DIR/log, and waits until its socket and
# pid file exist (only the pid file when SOCKET is "": the worker listens
# on nothing).
inst_spawn() {
	local comp=$1 sock=$2 bin pidf log child i rc
	shift 2

	bin=$(inst_exe "$comp")
	pidf=$(inst_pidfile "$comp")
	log=$I_LOG/$comp.log
	if [ ! -x "$bin" ]; then
		inst_err "$comp: $bin is missing (build first)"
		return 1
	fi
	# Leftovers of a process that is gone would make the wait below
	# succeed at once.
	rm -f "$pidf" "$sock"
	printf '%s starting %s\n' "$(date -u '+%F %T')" "$comp" >>"$log"
	env "$@" setsid "$bin" -c "$I_CONF" -d -p "$pidf" \
	    </dev/null >>"$log" 2>&1 &
	child=$!
	for ((i = 0; i < _INST_TRIES; i++)); do
		if { [ -z "$sock" ] || [ -S "$sock" ]; } &&
		    inst_pid "$comp" >/dev/null; then
			return 0
		fi
		if ! inst_alive "$child"; then
			rc=0
			wait "$child" || rc=$?
			if [ "$rc" -ne 0 ] || ! inst_pid "$comp" >/dev/null; then
				inst_err "$comp: exited during startup" \
				    "(status $rc); end of $log:"
				tail -n 15 "$log" >&2
				return 1
			fi
		fi
		sleep "$_INST_STEP"
	done
	inst_err "$comp: not ready after $((_INST_TRIES / 10)) s; end of $log:"
	tail -n 15 "$log" >&2
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null
	return 1
}

inst_start_mariadb() {
	local pidf child i

	pidf=$(inst_pidfile mariadb)
	if [ "$I_PRIVSEP" = yes ] || [ "$(id -u)" -ne 0 ]; then
		mariadb_start "$I_DB" "$I_DB_SOCK" "$pidf"
		return
	fi
	# Without the privilege split the server must run as root, which
	# mariadb_start has no option for (it always adds --user=mysql for
	# root); so this case starts it here with the same options.
	# shellcheck disable=SC2086
	mariadbd --no-defaults --datadir="$I_DB" --socket="$I_DB_SOCK" \
	    --pid-file="$pidf" --skip-networking \
	    --log-error="$I_DB/error.log" --user=root \
	    "${MARIADB_SERVER_OPTS[@]}" ${MARIADB_OPTS:-} \
	    </dev/null >/dev/null 2>&1 &
	child=$!
	for ((i = 0; i < 2 * _INST_TRIES; i++)); do
		if [ -s "$pidf" ] && mariadb-admin --no-defaults -S "$I_DB_SOCK" \
		    -u root ping >/dev/null 2>&1; then
			return 0
		fi
		if ! inst_alive "$child"; then
			inst_err "mariadb: mariadbd exited during startup:"
			tail -n 20 "$I_DB/error.log" >&2
			return 1
		fi
		sleep "$_INST_STEP"
	done
	inst_err "mariadb: not ready on $I_DB_SOCK"
	kill -TERM "$child" 2>/dev/null
	return 1
}

inst_start_signer() {
	inst_spawn signer "$I_SIGNER_SOCK" SOFTHSM2_CONF="$I_HSM/softhsm2.conf"
}

inst_start_api() {
	inst_spawn api "$I_API_SOCK"
}

inst_start_est() {
	inst_spawn est "$I_EST_SOCK"
}

inst_start_worker() {
	inst_spawn worker ""
}

inst_start_lighttpd() {
	local i code

	inst_write_httpd_conf || return 1
	rm -f "$(inst_pidfile web)"
	if ! lighttpd -tt -f "$I_HTTPD_CONF" >"$I_LOG/lighttpd-check.log" 2>&1
	then
		inst_err "lighttpd: configuration refused:"
		cat "$I_LOG/lighttpd-check.log" >&2
		return 1
	fi
	# lighttpd detaches by itself and returns once it listens (or has
	# failed); it writes its pid file before dropping privileges.
	if ! lighttpd -f "$I_HTTPD_CONF" >>"$I_LOG/lighttpd-check.log" 2>&1
	then
		inst_err "lighttpd: failed to start:"
		tail -n 15 "$I_LOG/lighttpd-check.log" "$I_LOG/lighttpd/error.log" >&2
		return 1
	fi
	for ((i = 0; i < _INST_TRIES; i++)); do
		if inst_pid web >/dev/null; then
			code=$(curl -s -o /dev/null -w '%{http_code}' \
			    --cacert "$I_TLS/ca.pem" "https://127.0.0.1:$I_PORT/") ||
			    code=000
			[ "$code" != 000 ] && return 0
		fi
		sleep "$_INST_STEP"
	done
	inst_err "lighttpd: no answer on https://127.0.0.1:$I_PORT/; end of" \
	    "$I_LOG/lighttpd/error.log:"
	tail -n 15 "$I_LOG/lighttpd/error.log" >&2
	# Leave nothing half-working behind.
	inst_stop_one web >/dev/null
	return 1
}

# inst_start_one COMPONENT: starts it unless it runs already.
inst_start_one() {
	local comp=$1 pid

	if pid=$(inst_pid "$comp"); then
		if [ ! -e "/proc/$pid/exe" ] ||
		    [ "$(readlink "/proc/$pid/exe")" != "$(inst_exe "$comp")" ]
		then
			inst_say "$(inst_label "$comp"): already running (pid $pid)," \
			    "an older build; \"./devstack restart $comp\" loads" \
			    "the new one"
		else
			inst_say "$(inst_label "$comp"): already running (pid $pid)"
		fi
		return 0
	fi
	"inst_start_$comp" || return 1
	inst_say "$(inst_label "$comp"): started (pid $(inst_pid "$comp"))"
}

# inst_stop_one COMPONENT: stops it by pid and waits for it to exit.
inst_stop_one() {
	local comp=$1 pid pidf

	pidf=$(inst_pidfile "$comp")
	if ! pid=$(inst_pid "$comp"); then
		rm -f "$pidf"
		inst_say "$(inst_label "$comp"): not running"
		return 0
	fi
	if [ "$comp" = mariadb ]; then
		mariadb_stop "$pidf" || return 1
	else
		kill -TERM "$pid" 2>/dev/null
		if ! inst_wait_gone "$pid"; then
			inst_err "$(inst_label "$comp"): pid $pid ignored SIGTERM;" \
			    "killing it"
			kill -KILL "$pid" 2>/dev/null
			inst_wait_gone "$pid" || return 1
		fi
	fi
	rm -f "$pidf"
	case $comp in
	signer) rm -f "$I_SIGNER_SOCK" ;;
	api) rm -f "$I_API_SOCK" ;;
	est) rm -f "$I_EST_SOCK" ;;
	esac
	inst_say "$(inst_label "$comp"): stopped (was pid $pid)"
}

# inst_components [COMPONENT...]: checks the names; prints them in start
# order (all of them when none is given).
inst_components() {
	local c known args=()

	if [ $# -eq 0 ]; then
		printf '%s\n' "${INST_COMPONENTS[@]}"
		return 0
	fi
	for c in "$@"; do
		# The web server's own name stands for the component "web".
		inst_web_component "$c" >/dev/null && c=web
		known=no
		case " ${INST_COMPONENTS[*]} " in
		*" $c "*) known=yes ;;
		esac
		if [ $known = no ]; then
			inst_err "unknown component '$c' (one of:" \
			    "${INST_COMPONENTS[*]}; the web server of this" \
			    "instance is ${I_WEB:-$INST_WEB_DEFAULT})"
			return 1
		fi
		args+=("$c")
	done
	for c in "${INST_COMPONENTS[@]}"; do
		case " ${args[*]} " in
		*" $c "*) echo "$c" ;;
		esac
	done
}

inst_start() {
	local comps c

	comps=$(inst_components "$@") || return 1
	[ -r "$I_ENV" ] || {
		inst_err "no instance in $INST (run ./devstack up)"
		return 1
	}
	for c in $comps; do
		inst_start_one "$c" || return 1
	done
}

inst_stop() {
	local comps c rc=0 list=()

	comps=$(inst_components "$@") || return 1
	for c in $comps; do
		list=("$c" "${list[@]}")
	done
	for c in "${list[@]}"; do
		inst_stop_one "$c" || rc=1
	done
	return $rc
}

inst_status() {
	local c pid

	for c in "${INST_COMPONENTS[@]}"; do
		if pid=$(inst_pid "$c"); then
			printf '%-9s running (pid %s)\n' "$(inst_label "$c"):" "$pid"
		else
			printf '%-9s stopped\n' "$(inst_label "$c"):"
		fi
	done
}
