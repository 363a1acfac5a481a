# shellcheck shell=bash
#
# Creating an Estuary instance: the service users, the development TLS CA
# and server certificate, the SoftHSMv2 token, the MariaDB data directory,
# the generated estuary.conf and lighttpd.conf (Apache's and nginx's are
# in tools/web-*.sh), the database setup, the demo objects and demo.env.  Every step keeps what a previous run made.
# Sourced by tools/instance.sh, which documents the variables (I_*) that
# inst_use sets and the functions that run an instance.

# shellcheck source=tools/demo-est.sh
. "$SRCDIR/tools/demo-est.sh"

# --- creation ----------------------------------------------------------------

# inst_users: creates the service users of the privilege split if missing.
inst_users() {
	local u

	for u in "$INST_SIGNER_USER" "$INST_FCGI_USER"; do
		getent passwd "$u" >/dev/null && continue
		useradd --system --user-group --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin "$u" || {
			inst_err "cannot create user $u"
			return 1
		}
	done
}

# inst_can_split: can every service user reach the instance and read the
# parts of the source tree it needs?
inst_can_split() {
	local u

	[ "$(id -u)" -eq 0 ] || return 1
	for u in "$INST_SIGNER_USER" "$INST_FCGI_USER" "$INST_WEB_USER" \
	    "$INST_DB_USER"; do
		getent passwd "$u" >/dev/null || return 1
		runuser -u "$u" -- test -x "$INST" || return 1
	done
	runuser -u "$INST_WEB_USER" -- test -r "$SRCDIR/www/index.html" ||
	    return 1
	runuser -u "$INST_SIGNER_USER" -- test -r \
	    "$SRCDIR/hsm-profiles/softhsm2.conf" || return 1
}

# inst_has_ipv6: is ::1 configured (lighttpd must not bind it otherwise)?
inst_has_ipv6() {
	[ -r /proc/net/if_inet6 ] &&
	    grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

# inst_free_port: a TCP port nothing listens on, other than the instance's
# HTTPS port and 8443 (./devstack up's).
inst_free_port() {
	local i p

	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 40000))
		[ "$p" -eq 8443 ] || [ "$p" -eq "${I_PORT:-0}" ] && continue
		if [ -z "$(ss -Hltn "( sport = :$p )" 2>/dev/null)" ]; then
			echo "$p"
			return 0
		fi
	done
	inst_err "no free TCP port for the plain-HTTP /pki/ listener"
	return 1
}

# inst_write_env: DIR/etc/instance.env from the I_* settings.
inst_write_env() {
	local tmp=$I_ENV.tmp

	{
		echo "# Settings of this instance, chosen when ./devstack created it."
		echo "I_PORT=$I_PORT"
		echo "I_PKI_PORT=$I_PKI_PORT"
		echo "I_PRIVSEP=$I_PRIVSEP"
		echo "I_IPV6=$I_IPV6"
		echo "I_DEMO_DOMAIN=${I_DEMO_DOMAIN:-}"
		echo "I_WEB=$I_WEB"
		printf 'I_SRCDIR=%q\n' "$SRCDIR"
	} >"$tmp" && mv -f "$tmp" "$I_ENV"
}

# inst_setenv: records the settings chosen at creation.
inst_setenv() {
	local port=$1

	I_PORT=$port
	# Plain HTTP for /pki/ (CRLs, OCSP), chosen once like the HTTPS port.
	I_PKI_PORT=$(inst_free_port) || return 1
	if [ "$(id -u)" -eq 0 ]; then
		inst_users || return 1
	fi
	if inst_can_split; then
		I_PRIVSEP=yes
	else
		I_PRIVSEP=no
		if [ "$(id -u)" -eq 0 ]; then
			inst_say "note: the service users cannot reach $INST" \
			    "(e.g. a tree under /root): every daemon runs as root"
		fi
	fi
	if inst_has_ipv6; then
		I_IPV6=yes
	else
		I_IPV6=no
	fi
	inst_web_choose && inst_write_env
}

# inst_own USER[:GROUP] MODE PATH...: ownership and mode for the privilege
# split; without it everything stays the invoking user's.
inst_own() {
	local owner=$1 mode=$2
	shift 2

	chmod "$mode" "$@" || return 1
	if [ "$I_PRIVSEP" = yes ]; then
		chown "$owner" "$@" || return 1
	fi
}

# inst_make_tls: a development CA (ESTUARY_TLS_CA) and the web server's
# certificate for the loopback addresses and the demo EST domains
# (inst_demo_tls_dns).  The CA and the server's key are made once; the
# certificate again whenever the names it should cover change (the web
# server, if it runs, is stopped to be started with it).
inst_make_tls() {
	local cn ext

	[ -s "$I_TLS/ca.pem" ] && [ -s "$I_TLS/server.pem" ] &&
	    [ -s "$I_TLS/server.key" ] && inst_demo_tls_current && return 0
	mkdir -p "$I_TLS" || return 1
	if [ ! -s "$I_TLS/ca.pem" ] || [ ! -s "$I_TLS/ca.key" ]; then
		cn="Estuary Dev TLS CA $(uname -n) $(openssl rand -hex 4)"
		rm -f "$I_TLS/server.key"
		(
			umask 077
			openssl req -x509 -new -newkey ec \
			    -pkeyopt ec_paramgen_curve:P-256 -nodes \
			    -keyout "$I_TLS/ca.key" -out "$I_TLS/ca.pem" \
			    -days 3650 \
			    -subj "/O=Estuary development/CN=$cn" \
			    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
			    -addext "keyUsage=critical,keyCertSign,cRLSign"
		) >"$I_LOG/tls.log" 2>&1 || {
			inst_err "openssl: cannot create the TLS CA:"
			cat "$I_LOG/tls.log" >&2
			return 1
		}
	elif [ -s "$I_TLS/server.pem" ]; then
		inst_say "TLS: the server certificate is made again for" \
		    "$(inst_demo_tls_dns | paste -sd ' ')"
		inst_stop web >/dev/null || return 1
	fi
	(
		umask 077
		if [ ! -s "$I_TLS/server.key" ]; then
			openssl genpkey -algorithm EC \
			    -pkeyopt ec_paramgen_curve:P-256 \
			    -out "$I_TLS/server.key" || exit 1
		fi
		openssl req -new -key "$I_TLS/server.key" \
		    -out "$I_TLS/server.csr" \
		    -subj "/O=Estuary development/CN=localhost"
	) >>"$I_LOG/tls.log" 2>&1 || {
		inst_err "openssl: cannot create the TLS server key or request:"
		cat "$I_LOG/tls.log" >&2
		return 1
	}
	ext=$I_TLS/server.ext
	cat >"$ext" <<-EOF
	basicConstraints = critical, CA:FALSE
	keyUsage = critical, digitalSignature
	extendedKeyUsage = serverAuth
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	subjectAltName = $(inst_demo_tls_san)
	EOF
	openssl x509 -req -in "$I_TLS/server.csr" -CA "$I_TLS/ca.pem" \
	    -CAkey "$I_TLS/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
	    -days 825 -extfile "$ext" -out "$I_TLS/server.pem.tmp" \
	    >>"$I_LOG/tls.log" 2>&1 || {
		inst_err "openssl: cannot issue the server certificate:"
		cat "$I_LOG/tls.log" >&2
		return 1
	}
	# The chain goes into the same file: with client verification on,
	# lighttpd would try to build it from the client CA file and fail
	# every handshake.
	cat "$I_TLS/ca.pem" >>"$I_TLS/server.pem.tmp" &&
	    mv -f "$I_TLS/server.pem.tmp" "$I_TLS/server.pem" || return 1
	rm -f "$I_TLS/server.csr" "$ext" "$I_LOG/tls.log"
	chmod 600 "$I_TLS/ca.key" "$I_TLS/server.key"
	chmod 644 "$I_TLS/ca.pem" "$I_TLS/server.pem"
}

# inst_make_db: a MariaDB data directory.  mariadb_init lets the server run
# as mysql when called as root; without the privilege split, the files
# must belong to root, which it has no option for, so that case is done
# here with the same options.
inst_make_db() {
	[ -d "$I_DB/mysql" ] && return 0
	if [ "$I_PRIVSEP" = yes ] || [ "$(id -u)" -ne 0 ]; then
		mariadb_init "$I_DB"
		return
	fi
	mkdir -p "$I_DB" || return 1
	mariadb-install-db --no-defaults --datadir="$I_DB" --skip-test-db \
	    --auth-root-authentication-method=socket --user=root \
	    >"$I_LOG/mariadb-install.log" 2>&1 || {
		inst_err "mariadb-install-db failed:"
		tail -n 20 "$I_LOG/mariadb-install.log" >&2
		return 1
	}
	rm -f "$I_LOG/mariadb-install.log"
}

# inst_write_conf: estuary.conf(5) for this instance (rewritten each time,
# so that it follows the settings; it holds no secret).
inst_write_conf() {
	local signer_user='' allowed fcgi_user='' group='' me tmp

	me=$(id -un)
	allowed=$me
	if [ "$I_PRIVSEP" = yes ]; then
		signer_user=$INST_SIGNER_USER
		fcgi_user=$INST_FCGI_USER
		group=$INST_WEB_USER
		allowed=$INST_FCGI_USER,$me
	fi
	tmp=$I_CONF.tmp
	cat >"$tmp" <<-EOF || return 1
	# estuary.conf(5) of the instance in $INST.
	# Written by ./devstack; edits are lost when it runs again.
	log_level = info

	signer_socket = $I_SIGNER_SOCK
	signer_user = $signer_user
	signer_allowed_users = $allowed
	signer_journal = $I_JOURNAL_DIR/journal
	hsm_profile = $SRCDIR/hsm-profiles/softhsm2.conf
	hsm_token_label = $INST_TOKEN_LABEL
	hsm_pin_file = $I_ETC/hsm.pin

	db_socket = $I_DB_SOCK
	db_name = estuary
	db_user = estuary_app
	db_password_file = $I_ETC/db-app.pw
	db_admin_user = estuary_admin
	db_admin_password_file = $I_ETC/db-admin.pw
	db_migrations_dir = $SRCDIR/db

	api_socket = $I_API_SOCK
	est_socket = $I_EST_SOCK
	fcgi_user = $fcgi_user
	fcgi_socket_group = $group
	max_body = $INST_MAX_BODY
	app_cert_ca = $INST_ISSUING_CA

	pki_base_url = http://127.0.0.1:$I_PKI_PORT
	batch_dir = $I_BATCH

	est_self_url = https://127.0.0.1:$I_PORT
	est_self_ca = $I_TLS/ca.pem

	tls_client_ca_file = $I_CLIENT_CA
	web_reload_command = ESTUARY_VAR='$INST' '$SRCDIR/devstack' restart web
	EOF
	chmod 644 "$tmp" && mv -f "$tmp" "$I_CONF"
}

# inst_write_httpd_conf: fills conf/lighttpd.conf.example for this instance.
inst_write_httpd_conf() {
	local tpl user='' v6='' pki6='' ca='' hash

	# The template's first paragraph explains the placeholders; it is
	# left out, since they are filled in here.
	tpl=$(sed '1,/^$/d' "$SRCDIR/conf/lighttpd.conf.example") || return 1
	if [ "$I_PRIVSEP" = yes ]; then
		printf -v user 'server.username = "%s"\nserver.groupname = "%s"' \
		    "$INST_WEB_USER" "$INST_WEB_USER"
	fi
	if [ "$I_IPV6" = yes ]; then
		# shellcheck disable=SC2016
		printf -v v6 '$SERVER["socket"] == "[::1]:%s" {\n\tssl.engine = "enable"\n}' \
		    "$I_PORT"
		# The plain-HTTP /pki/ listener's block, on [::1].
		pki6=$(sed -n '/^\$SERVER\["socket"\] == "127\.0\.0\.1:@PKI_PORT@"/,/^}/p' \
		    <<<"$tpl") || return 1
		pki6=${pki6/127.0.0.1:@PKI_PORT@/[::1]:@PKI_PORT@}
	fi
	# lighttpd refuses an empty CA file: until the first CA exists,
	# client certificates are not requested at all.
	if [ -s "$I_CLIENT_CA" ]; then
		printf -v ca '%s\n' \
		    "ssl.verifyclient.ca-file = \"$I_CLIENT_CA\"" \
		    'ssl.verifyclient.activate = "enable"' \
		    'ssl.verifyclient.enforce = "disable"' \
		    'ssl.verifyclient.exportcert = "enable"' \
		    'ssl.verifyclient.depth = 5'
	else
		ca='# No client CA yet: client certificates are not requested.'
	fi
	# The landing page's inline script is allowed by its hash only.
	hash=$(perl -0777 -ne 'print $1 if m{<script>(.*?)</script>}s' \
	    "$SRCDIR/www/index.html" | openssl dgst -sha256 -binary |
	    openssl base64 -A) || return 1
	# First, so that the copied block's placeholders are filled too.
	tpl=${tpl//@PKI_IPV6_LISTEN@/$pki6}
	tpl=${tpl//@PORT@/$I_PORT}
	tpl=${tpl//@WWW_DIR@/$SRCDIR/www}
	tpl=${tpl//@DOCS_DIR@/$SRCDIR/docs}
	tpl=${tpl//@TLS_CERT@/$I_TLS/server.pem}
	tpl=${tpl//@TLS_KEY@/$I_TLS/server.key}
	tpl=${tpl//@API_SOCKET@/$I_API_SOCK}
	tpl=${tpl//@EST_SOCKET@/$I_EST_SOCK}
	tpl=${tpl//@PID_FILE@/$(inst_pidfile web)}
	tpl=${tpl//@ERROR_LOG@/$I_LOG/lighttpd/error.log}
	tpl=${tpl//@ACCESS_LOG@/$I_LOG/lighttpd/access.log}
	tpl=${tpl//@MAX_REQUEST_KB@/$(((INST_MAX_BODY + 1023) / 1024))}
	tpl=${tpl//@SCRIPT_HASH@/$hash}
	tpl=${tpl//@SERVER_USER@/$user}
	tpl=${tpl//@IPV6_LISTEN@/$v6}
	tpl=${tpl//@CLIENT_CA@/$ca}
	tpl=${tpl//@PKI_PORT@/$I_PKI_PORT}
	if [[ $tpl =~ @[A-Z][A-Z_]*@ ]]; then
		inst_err "lighttpd.conf.example: unknown placeholder left"
		return 1
	fi
	printf '# Written by ./devstack from conf/lighttpd.conf.example.\n%s\n' \
	    "$tpl" >"$I_HTTPD_CONF.tmp" && mv -f "$I_HTTPD_CONF.tmp" "$I_HTTPD_CONF"
}

# inst_fix_perms: who may read and write what under the privilege split.
# Secrets are readable only by the one process that needs them: the token
# store by the signer, the application's database password by the FastCGI
# programs; the rest only by root.
inst_fix_perms() {
	mkdir -p "$I_RUN/mysqld" "$I_RUN/signer" "$I_RUN/fcgi" \
	    "$I_LOG/lighttpd" "$I_JOURNAL_DIR" "$I_CA" || return 1
	# MariaDB keeps its log in its data directory.
	ln -sfn ../db/error.log "$I_LOG/mariadb.log" &&
	chmod 755 "$INST" "$I_ETC" "$I_RUN" "$I_LOG" "$I_TLS" "$I_CA" &&
	inst_own "$INST_DB_USER:$INST_DB_USER" 755 "$I_RUN/mysqld" &&
	inst_own "$INST_SIGNER_USER:$INST_SIGNER_USER" 755 "$I_RUN/signer" &&
	inst_own "$INST_FCGI_USER:$INST_WEB_USER" 750 "$I_RUN/fcgi" &&
	# Batch jobs' passphrases and PKCS#12 files (estuary-api, -worker).
	mkdir -p "$I_BATCH" &&
	inst_own "$INST_FCGI_USER:$INST_FCGI_USER" 700 "$I_BATCH" &&
	inst_own "$INST_WEB_USER:$INST_WEB_USER" 755 "$I_LOG/lighttpd" &&
	inst_own "$INST_SIGNER_USER:$INST_SIGNER_USER" 700 "$I_JOURNAL_DIR" \
	    "$I_HSM" &&
	# The signer reads its PIN before it drops privileges: the file stays
	# root's, out of reach of the signer's own user.
	inst_own root:root 400 "$I_ETC/hsm.pin" &&
	chmod 600 "$I_ETC/hsm-so.pin" || return 1
	if [ "$I_PRIVSEP" = yes ]; then
		chown -R "$INST_SIGNER_USER:$INST_SIGNER_USER" "$I_HSM" || return 1
	fi
	if [ -e "$I_ETC/db-app.pw" ]; then
		inst_own "root:$INST_FCGI_USER" 440 "$I_ETC/db-app.pw" ||
		    return 1
	fi
}

# inst_create PORT: creates whatever the instance lacks.  An existing
# instance keeps its port and privilege mode.
inst_create() {
	local port=$1

	case $INST in
	/*) ;;
	*) inst_err "instance directory must be absolute: $INST"; return 1 ;;
	esac
	case $INST$SRCDIR in
	*"'"* | *'"'* | *[[:space:]]*)
		inst_err "paths with quotes or blanks are not supported: $INST"
		return 1
		;;
	esac
	mkdir -p "$I_ETC" "$I_LOG" || return 1
	chmod 755 "$INST"
	if [ ! -r "$I_ENV" ]; then
		inst_setenv "$port" || return 1
		inst_say "creating the instance in $INST (port $I_PORT," \
		    "privilege split: $I_PRIVSEP, web server: $I_WEB)"
	elif [ "${I_SRCDIR:-}" != "$SRCDIR" ]; then
		inst_err "$INST belongs to the tree in ${I_SRCDIR:-?}, not $SRCDIR"
		return 1
	elif [ -z "${I_PKI_PORT:-}" ]; then
		# An instance made before the /pki/ listener existed.
		I_PKI_PORT=$(inst_free_port) && inst_write_env || return 1
	fi
	# ESTUARY_WEB switches an existing instance to another web server.
	if [ -n "${ESTUARY_WEB:-}" ] && [ "$ESTUARY_WEB" != "${I_WEB:-}" ]; then
		inst_web_choose && inst_write_env || return 1
	fi
	inst_demo_domain_init || return 1
	inst_make_tls || return 1
	if [ ! -s "$I_HSM/softhsm2.conf" ]; then
		# Recreating the token store: give it back to us first.
		[ -d "$I_HSM" ] && chown -R "$(id -u):$(id -g)" "$I_HSM"
		softhsm_init_token "$I_HSM" "$INST_TOKEN_LABEL" \
		    "$I_ETC/hsm.pin" "$I_ETC/hsm-so.pin" || return 1
	fi
	inst_make_db || return 1
	inst_write_conf || return 1
	inst_fix_perms
}

# --- bootstrap -----------------------------------------------------------------

# inst_ctl ARGS...: estuaryctl on this instance.
inst_ctl() {
	ESTUARY_CONF=$I_CONF "$I_CTL" -c "$I_CONF" "$@"
}

# inst_ctl_quiet ARGS...: estuaryctl, whose output is shown only when it
# fails (it also reports objects that already exist, which is expected on
# every run but the first).
inst_ctl_quiet() {
	local out

	if ! out=$(inst_ctl "$@" 2>&1); then
		inst_err "estuaryctl $1 $2 failed:"
		printf '%s\n' "$out" >&2
		return 1
	fi
}

# inst_db_setup: the database, its accounts, the schema and the grants.
inst_db_setup() {
	local out

	mariadb_bootstrap "$I_DB_SOCK" "$I_ETC" "$SRCDIR" || return 1
	inst_fix_perms || return 1
	out=$(inst_ctl db migrate 2>&1) || {
		inst_err "estuaryctl db migrate failed:"
		printf '%s\n' "$out" >&2
		return 1
	}
	mariadb_grant "$I_DB_SOCK" "$SRCDIR" || return 1
	inst_say "database: $out"
}

# inst_secret FILE: a random password in FILE, made once.
inst_secret() {
	local pw

	[ -s "$1" ] && return 0
	pw=$(openssl rand -base64 18 | tr '+/' '-_') || return 1
	(umask 077 && printf '%s\n' "$pw" >"$1.tmp") && mv -f "$1.tmp" "$1"
}

# inst_bootstrap: the demo CAs (keys in the token), the web server's client
# CA file, the admin user and the demo tenant and organization.  Every step
# accepts what a previous run created.
inst_bootstrap() {
	inst_ctl_quiet ca create --name "$INST_ROOT_CA" \
	    --subject "CN=$INST_ROOT_CA,O=Estuary" --key-type ec-p256 \
	    --days 3650 --out "$I_CA/root.pem" --exists-ok &&
	inst_ctl_quiet ca create --name "$INST_ISSUING_CA" \
	    --subject "CN=$INST_ISSUING_CA,O=Estuary" --key-type ec-p256 \
	    --days 1825 --parent "$INST_ROOT_CA" --out "$I_CA/issuing.pem" \
	    --exists-ok || return 1
	inst_say "CAs: \"$INST_ROOT_CA\", \"$INST_ISSUING_CA\" (keys in the token)"
	# Writes the file lighttpd verifies client certificates against and
	# restarts lighttpd (web_reload_command) when it changed.
	inst_ctl_quiet tls client-ca --reload || return 1
	inst_secret "$I_ETC/admin.pw" || return 1
	inst_ctl_quiet user add --username "$INST_ADMIN" --admin \
	    --password-file "$I_ETC/admin.pw" --exists-ok &&
	inst_ctl_quiet tenant add "$INST_TENANT" --exists-ok &&
	inst_ctl_quiet org add --tenant "$INST_TENANT" "$INST_ORG" \
	    --exists-ok || return 1
	inst_say "users: $INST_ADMIN (Admin); tenant \"$INST_TENANT\"," \
	    "organization \"$INST_ORG\""
	inst_demo_templates && inst_demo_est && inst_write_demo_env
}

# inst_api METHOD PATH [JSON]: one REST call as the demo admin, with the
# session of inst_demo_templates; prints the body, returns non-zero unless
# the status is 2xx.
inst_api() {
	local code

	code=$(curl -sS -o "$_INST_API_OUT" -w '%{http_code}' \
	    --cacert "$I_TLS/ca.pem" -b "$_INST_API_JAR" -c "$_INST_API_JAR" \
	    -H "X-CSRF-Token: $_INST_API_CSRF" -X "$1" \
	    ${3:+-H 'Content-Type: application/json' --data-binary "$3"} \
	    "https://127.0.0.1:$I_PORT$2") || return 1
	cat "$_INST_API_OUT"
	[ "${code:0:1}" = 2 ] || {
		inst_err "$1 $2: HTTP $code: $(cat "$_INST_API_OUT")"
		return 1
	}
}

# inst_demo_templates: the demo tenant's certificate templates, made once
# through the REST API as the admin: the Wi-SUN FAN device template of the
# guide's TC-12 (docs/templates/wisun-fan.json), issued by the demo
# issuing CA.
inst_demo_templates() {
	local dir pw name tenant ca body rc=1

	dir=$(mktemp -d) || return 1
	_INST_API_JAR=$dir/jar
	_INST_API_OUT=$dir/out
	IFS= read -r pw <"$I_ETC/admin.pw" || return 1
	body=$(jq -nc --arg u "$INST_ADMIN" --arg p "$pw" \
	    '{username: $u, password: $p}')
	_INST_API_CSRF=
	if _INST_API_CSRF=$(inst_api POST /api/v1/auth/login "$body" |
	    jq -er .csrf_token) &&
	    name=$(jq -er .name "$SRCDIR/docs/templates/wisun-fan.json") &&
	    tenant=$(inst_api GET "/api/v1/tenants?name=$(jq -rn \
		--arg n "$INST_TENANT" '$n|@uri')" | jq -er '.items[0].id') &&
	    ca=$(inst_api GET "/api/v1/cas?name=$(jq -rn \
		--arg n "$INST_ISSUING_CA" '$n|@uri')" | jq -er '.items[0].id')
	then
		if inst_api GET "/api/v1/cert-templates?name=$(jq -rn \
		    --arg n "$name" '$n|@uri')&tenant_id=$tenant" |
		    jq -e '.items | length > 0' >/dev/null; then
			rc=0
		elif body=$(jq -c --argjson t "$tenant" --argjson ca "$ca" \
		    '. + {scope: "tenant", tenant_id: $t, ca_id: $ca}' \
		    "$SRCDIR/docs/templates/wisun-fan.json") &&
		    inst_api POST /api/v1/cert-templates "$body" >/dev/null; then
			rc=0
		fi
	fi
	[ "$rc" -eq 0 ] && inst_say "templates: \"$name\" in \"$INST_TENANT\""
	rm -rf "$dir"
	return "$rc"
}

# inst_env_line NAME VALUE: one shell-safe "export NAME='VALUE'" line.
inst_env_line() {
	local v=${2//\'/\'\\\'\'}

	printf "export %s='%s'\n" "$1" "$v"
}

# inst_write_demo_env: DIR/demo.env, for scripts and tests (sh syntax).
# Its content depends only on the instance, so it is the same on every run.
inst_write_demo_env() {
	local f=$INST/demo.env pw

	IFS= read -r pw <"$I_ETC/admin.pw" || return 1
	{
		echo "# The Estuary instance in $INST; source it from sh or bash."
		echo "# Written by ./devstack; holds the admin password (mode 0600)."
		inst_env_line ESTUARY_URL "https://127.0.0.1:$I_PORT"
		inst_env_line ESTUARY_PKI_URL "http://127.0.0.1:$I_PKI_PORT"
		inst_env_line ESTUARY_TLS_CA "$I_TLS/ca.pem"
		inst_env_line ESTUARY_ADMIN_USER "$INST_ADMIN"
		inst_env_line ESTUARY_ADMIN_PASSWORD "$pw"
		inst_env_line ESTUARY_ISSUING_CA_PEM "$I_CA/issuing.pem"
		inst_env_line ESTUARY_ROOT_CA_PEM "$I_CA/root.pem"
		inst_env_line ESTUARY_DEMO_TENANT "$INST_TENANT"
		inst_env_line ESTUARY_DEMO_ORG "$INST_ORG"
		inst_env_line ESTUARY_CONF "$I_CONF"
		inst_env_line ESTUARY_CTL "$I_CTL"
		inst_env_line ESTUARY_VAR "$INST"
		inst_env_line ESTUARY_SRCDIR "$SRCDIR"
		inst_env_line ESTUARY_PRIVSEP "$I_PRIVSEP"
		inst_env_line ESTUARY_IPV6 "$I_IPV6"
		inst_demo_est_env
		inst_env_line ESTUARY_WEB "${I_WEB:-$INST_WEB_DEFAULT}"
	} >"$f.tmp" && chmod 600 "$f.tmp" && mv -f "$f.tmp" "$f"
}
