# shellcheck shell=bash
#
# Apache httpd 2.4 in front of an instance (ESTUARY_WEB=apache; see
# tools/web.sh).  DIR/etc/apache.conf is a global part written here
# (modules, MPM, pid file, logs, media types) followed by
# conf/apache-estuary.conf with its example values replaced by the
# instance's.  Apache runs as www-data (as the invoking user without the
# privilege split) with its pid file, locks and shared memory in
# DIR/run/apache and its logs in DIR/log/apache.  Sourced by tools/web.sh.

# Debian's apache2-bin: the server and its modules.
INST_APACHE_MODULES=/usr/lib/apache2/modules

# inst_write_apache_conf: DIR/etc/apache.conf for this instance.
inst_write_apache_conf() {
	local head v6='' pki6='' ca m mods=''

	for m in mpm_event authz_core mime dir alias headers rewrite \
	    reqtimeout socache_shmcb ssl proxy proxy_fcgi; do
		if [ ! -r "$INST_APACHE_MODULES/mod_$m.so" ]; then
			inst_err "apache: $INST_APACHE_MODULES/mod_$m.so is missing" \
			    "(apt-get install apache2-bin)"
			return 1
		fi
		printf -v mods '%sLoadModule %s_module %s/mod_%s.so\n' "$mods" \
		    "$m" "$INST_APACHE_MODULES" "$m"
	done
	head=$(
		cat <<-EOF
		# Written by ./devstack (tools/web-apache.sh) for the instance in
		# $INST; edits are lost when it runs again.
		ServerRoot "$I_RUN/apache"
		DefaultRuntimeDir "$I_RUN/apache"
		PidFile "$(inst_web_pidfile)"
		Mutex file:$I_RUN/apache default
		ErrorLog "$I_LOG/apache/error.log"
		LogLevel warn
		LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
		ServerName localhost
		ServerTokens Prod
		ServerSignature Off
		TraceEnable Off
		$mods
		# A small machine: one process to start with, more on demand.
		StartServers 1
		MinSpareThreads 10
		MaxSpareThreads 50
		ThreadsPerChild 25
		MaxRequestWorkers 100

		# What the lighttpd template serves, and nothing from the system's
		# mime.types.
		TypesConfig /dev/null
		AddType "text/html; charset=utf-8" .html
		AddType "text/css; charset=utf-8" .css
		AddType "text/javascript; charset=utf-8" .js
		AddType "text/plain; charset=utf-8" .yaml .md
		AddType application/x-pem-file .pem
		AddType image/svg+xml .svg
		AddType image/png .png
		AddType image/x-icon .ico
		DirectoryIndex index.html

		SSLSessionCache "shmcb:$I_RUN/apache/ssl_scache(512000)"

		# Nothing outside the directories the virtual hosts open.
		<Directory />
			Require all denied
			Options None
			AllowOverride None
		</Directory>
		EOF
	) || return 1
	inst_web_load apache-estuary.conf || return 1
	if [ "$I_IPV6" = yes ]; then
		v6=$'\n'"Listen [::1]:$I_PORT https"
		pki6=$'\n'"Listen [::1]:$I_PKI_PORT http"
	fi
	# Apache refuses an empty CA file: until the first CA exists, the
	# certificate request names none.
	if [ -s "$I_CLIENT_CA" ]; then
		ca="SSLCACertificateFile $I_CLIENT_CA"
	else
		ca='# No client CA yet: the certificate request names no CA.'
	fi
	# shellcheck disable=SC2016 # ${APACHE_LOG_DIR} is replaced as text
	inst_web_csp &&
	inst_web_subst 'Listen 443' "Listen 127.0.0.1:$I_PORT https$v6" &&
	inst_web_subst '<VirtualHost *:443>' "<VirtualHost *:$I_PORT>" &&
	inst_web_subst 'Listen 80' "Listen 127.0.0.1:$I_PKI_PORT http$pki6" &&
	inst_web_subst '<VirtualHost *:80>' "<VirtualHost *:$I_PKI_PORT>" &&
	inst_web_subst '*.estuary.example.org' \
	    "*.${I_DEMO_DOMAIN:-${INST_DEMO_DOMAIN_DEFAULT:-estuary.test}}" &&
	inst_web_subst 'estuary.example.org' localhost &&
	inst_web_subst /usr/local/share/estuary/www "$SRCDIR/www" &&
	inst_web_subst /usr/local/share/estuary/docs "$SRCDIR/docs" &&
	inst_web_subst /etc/estuary/tls/server.pem "$I_TLS/server.pem" &&
	inst_web_subst /etc/estuary/tls/server.key "$I_TLS/server.key" &&
	inst_web_subst 'SSLCACertificateFile /etc/estuary/tls/client-ca.pem' \
	    "$ca" &&
	inst_web_subst /run/estuary/api.sock "$I_API_SOCK" &&
	inst_web_subst /run/estuary/est.sock "$I_EST_SOCK" &&
	inst_web_subst 1048576 "$INST_MAX_BODY" &&
	inst_web_subst '${APACHE_LOG_DIR}' "$I_LOG/apache" &&
	inst_web_leftovers /etc/estuary /run/estuary /usr/local/share \
	    example.org APACHE_LOG_DIR '*:443>' '*:80>' 'Listen 443' \
	    'Listen 80' &&
	inst_web_write "$(inst_web_conf)" "$head"
}

# inst_apache_usable: Apache refuses to serve as root ("Apache has not been
# designed to serve pages while running as root"), and without the
# privilege split root's instance runs everything as root.
inst_apache_usable() {
	if [ "$I_PRIVSEP" != yes ] && [ "$(id -u)" -eq 0 ]; then
		inst_err "apache: will not serve as root, and without the" \
		    "privilege split every daemon of $INST runs as root; put the" \
		    "tree where $INST_WEB_USER can reach it, or use" \
		    "ESTUARY_WEB=lighttpd or nginx"
		return 1
	fi
}

inst_start_apache() {
	local conf log=$I_LOG/apache-check.log

	conf=$(inst_web_conf)
	inst_apache_usable && inst_web_dirs apache &&
	    inst_write_apache_conf || return 1
	rm -f "$(inst_web_pidfile)"
	if ! inst_web_as "$(inst_web_exe)" -t -f "$conf" >"$log" 2>&1; then
		inst_err "apache: configuration refused:"
		cat "$log" >&2
		return 1
	fi
	# apache2 detaches by itself once its configuration is loaded; the
	# detached process writes the pid file, then opens the listeners.
	if ! inst_web_as "$(inst_web_exe)" -f "$conf" >>"$log" 2>&1; then
		inst_err "apache: failed to start:"
		tail -n 15 "$log" "$I_LOG/apache/error.log" >&2
		return 1
	fi
	inst_web_wait apache "$I_LOG/apache/error.log"
}
