# shellcheck shell=bash
#
# The web server of an instance: lighttpd (the default), Apache httpd 2.4
# or nginx.  ESTUARY_WEB=lighttpd|apache|nginx in the environment of
# "./devstack up", "test" or "itest" chooses it when the instance is made
# or brought up; the choice is kept in DIR/etc/instance.env (I_WEB), so
# that start, stop and status need no variable.  Whichever it is, it is
# the component "web" (its own name is accepted too: "./devstack restart
# lighttpd" on a lighttpd instance), with the same listeners (HTTPS on
# 127.0.0.1 and [::1] at I_PORT, plain HTTP for /pki/ only at
# I_PKI_PORT), the same TLS files and FastCGI sockets, and the same client
# certificate policy: requested, never required, passed to the application
# with any verification result.
#
# lighttpd is started as root and drops to www-data by itself.  Apache and
# nginx are started as www-data (the ports are above 1024), master process
# included, so that under the privilege split no part of any of the three
# runs as root; they read the TLS key as www-data, which holds it in
# memory anyway.  Without the split all three run as the invoking user,
# except Apache as root, which Apache refuses (it will not serve as root).
#
# Apache's and nginx's configurations are conf/apache-estuary.conf and
# conf/nginx-estuary.conf, the reference configurations for deployments,
# with a global part in front and their example paths, names and ports
# replaced by the instance's (tools/web-apache.sh, tools/web-nginx.sh).
# Every replaced value must be found, and none may be left, so a change to
# a reference configuration that the generator does not follow stops the
# web server from starting instead of going unnoticed; the integration
# tests that "./devstack test" runs behind each server (TEST_WEB_SCRIPTS
# in devstack) then exercise those files.  lighttpd's template is
# conf/lighttpd.conf.example (inst_write_httpd_conf in instance-create.sh,
# inst_start_lighttpd in instance.sh).
#
# Sourced by tools/instance.sh.

# shellcheck source=tools/web-apache.sh
. "$SRCDIR/tools/web-apache.sh"
# shellcheck source=tools/web-nginx.sh
. "$SRCDIR/tools/web-nginx.sh"

INST_WEB_SERVERS=(lighttpd apache nginx)
INST_WEB_DEFAULT=lighttpd

# inst_web_valid NAME: is NAME one of the web servers?
inst_web_valid() {
	case " ${INST_WEB_SERVERS[*]} " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# inst_web_choose: the web server for an instance being made or brought
# up: ESTUARY_WEB when set, else the one the instance has, else the
# default.  Switching an existing instance stops the server it ran first
# (start and stop find a server by the recorded choice).  Sets I_WEB; the
# caller records it with inst_write_env.
inst_web_choose() {
	local want=${ESTUARY_WEB:-${I_WEB:-$INST_WEB_DEFAULT}}

	if ! inst_web_valid "$want"; then
		inst_err "ESTUARY_WEB=$want: not one of ${INST_WEB_SERVERS[*]}"
		return 1
	fi
	[ "$want" != apache ] || inst_apache_usable || return 1
	if [ -r "$I_ENV" ] && [ "$want" != "${I_WEB:-$INST_WEB_DEFAULT}" ]; then
		inst_say "web server: ${I_WEB:-$INST_WEB_DEFAULT} -> $want"
		inst_stop_one web || return 1
	fi
	I_WEB=$want
}

# inst_web_component NAME: prints "web" when NAME is the component "web"
# or the name of this instance's web server; fails otherwise.
inst_web_component() {
	case $1 in
	web) ;;
	"${I_WEB:-$INST_WEB_DEFAULT}") ;;
	*) return 1 ;;
	esac
	echo web
}

inst_web_conf() {
	case ${I_WEB:-$INST_WEB_DEFAULT} in
	lighttpd) echo "$I_HTTPD_CONF" ;;
	apache) echo "$I_ETC/apache.conf" ;;
	nginx) echo "$I_ETC/nginx.conf" ;;
	esac
}

inst_web_pidfile() {
	case ${I_WEB:-$INST_WEB_DEFAULT} in
	lighttpd) echo "$I_RUN/lighttpd.pid" ;;
	apache) echo "$I_RUN/apache/apache.pid" ;;
	nginx) echo "$I_RUN/nginx/nginx.pid" ;;
	esac
}

inst_web_exe() {
	case ${I_WEB:-$INST_WEB_DEFAULT} in
	lighttpd) readlink -f "$(command -v lighttpd)" ;;
	apache) readlink -f "$(command -v apache2)" ;;
	nginx) readlink -f "$(command -v nginx)" ;;
	esac
}

# inst_web_marker: the line of /proc/PID/cmdline (NULs as newlines) that
# ties the web server's main process to this instance.  nginx replaces its
# command line by a title built from its arguments, which it was started
# with exactly (inst_start_nginx).
inst_web_marker() {
	case ${I_WEB:-$INST_WEB_DEFAULT} in
	nginx) echo "nginx: master process $(inst_web_exe) -c $(inst_web_conf)" ;;
	*) inst_web_conf ;;
	esac
}

inst_start_web() {
	"inst_start_${I_WEB:-$INST_WEB_DEFAULT}"
}

# --- shared by Apache and nginx ----------------------------------------------

# inst_web_as COMMAND...: runs COMMAND as the web server's user: www-data
# under the privilege split, the invoking user otherwise.
inst_web_as() {
	if [ "$I_PRIVSEP" = yes ]; then
		runuser -u "$INST_WEB_USER" -- "$@"
	else
		"$@"
	fi
}

# inst_web_dirs NAME: DIR/run/NAME (pid file, locks, temporary files) and
# DIR/log/NAME, the web server's own; and the TLS key, which it reads as
# itself.
inst_web_dirs() {
	mkdir -p "$I_RUN/$1" "$I_LOG/$1" &&
	inst_own "$INST_WEB_USER:$INST_WEB_USER" 755 "$I_RUN/$1" "$I_LOG/$1" &&
	inst_own "root:$INST_WEB_USER" 640 "$I_TLS/server.key"
}

# inst_web_script_hash: base64 SHA-256 of the landing page's inline
# script, which the Content-Security-Policy allows by this hash only.
inst_web_script_hash() {
	perl -0777 -ne 'print $1 if m{<script>(.*?)</script>}s' \
	    "$SRCDIR/www/index.html" | openssl dgst -sha256 -binary |
	    openssl base64 -A
}

# The reference configuration being turned into the instance's, and its
# name for messages.
_INST_WEB_TPL=
_INST_WEB_REF=

# inst_web_load FILE: loads conf/FILE without its leading comment (the
# deployment instructions), for inst_web_subst.
inst_web_load() {
	_INST_WEB_REF=conf/$1
	if ! _INST_WEB_TPL=$(sed -n '/^[^#]/,$p' "$SRCDIR/conf/$1") ||
	    [ -z "$_INST_WEB_TPL" ]; then
		inst_err "$_INST_WEB_REF: cannot read it"
		return 1
	fi
}

# inst_web_subst FROM TO: replaces every FROM by TO; fails when there is
# none, that is when the reference configuration no longer says what the
# generator expects.
inst_web_subst() {
	if [[ $_INST_WEB_TPL != *"$1"* ]]; then
		inst_err "$_INST_WEB_REF: \"$1\" not found (the file and" \
		    "tools/web-${I_WEB}.sh disagree)"
		return 1
	fi
	_INST_WEB_TPL=${_INST_WEB_TPL//"$1"/$2}
}

# inst_web_csp: checks that the reference's Content-Security-Policy allows
# the landing page's current inline script.
inst_web_csp() {
	local hash

	hash=$(inst_web_script_hash) || return 1
	if [[ $_INST_WEB_TPL != *"script-src 'sha256-$hash'"* ]]; then
		inst_err "$_INST_WEB_REF: its Content-Security-Policy does not" \
		    "allow www/index.html's script; the hash is now 'sha256-$hash'"
		return 1
	fi
}

# inst_web_leftovers STRING...: fails when an example value of the
# reference configuration is still there after the replacements.
inst_web_leftovers() {
	local s

	for s in "$@"; do
		if [[ $_INST_WEB_TPL == *"$s"* ]]; then
			inst_err "$_INST_WEB_REF: \"$s\" is left after the" \
			    "replacements (update tools/web-${I_WEB}.sh)"
			return 1
		fi
	done
}

# inst_web_write FILE HEAD: writes HEAD, then the converted reference
# configuration, to FILE.
inst_web_write() {
	printf '%s\n\n# %s, for this instance.\n%s\n' "$2" "$_INST_WEB_REF" \
	    "$_INST_WEB_TPL" >"$1.tmp" && chmod 644 "$1.tmp" &&
	    mv -f "$1.tmp" "$1"
}

# inst_web_wait NAME LOG: waits until the web server runs and answers on
# the HTTPS port; stops it and shows LOG when it does not.
inst_web_wait() {
	local i code

	for ((i = 0; i < _INST_TRIES; i++)); do
		if inst_pid web >/dev/null; then
			code=$(curl -s -o /dev/null -w '%{http_code}' \
			    --cacert "$I_TLS/ca.pem" "https://127.0.0.1:$I_PORT/") ||
			    code=000
			[ "$code" != 000 ] && return 0
		fi
		sleep "$_INST_STEP"
	done
	inst_err "$1: no answer on https://127.0.0.1:$I_PORT/; end of $2:"
	tail -n 15 "$2" >&2
	# Leave nothing half-working behind.
	inst_stop_one web >/dev/null
	return 1
}
