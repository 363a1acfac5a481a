# shellcheck shell=bash
#
# nginx in front of an instance (ESTUARY_WEB=nginx; see tools/web.sh).
# DIR/etc/nginx.conf is a global part written here (pid file, workers,
# logs, temporary directories, media types) around conf/nginx-estuary.conf
# with its example values replaced by the instance's.  nginx runs as
# www-data (as the invoking user without the privilege split), master
# process included, with its pid file and temporary files in DIR/run/nginx
# and its logs in DIR/log/nginx.  Sourced by tools/web.sh.

# Debian's CGI variables for FastCGI (nginx-common), which the reference
# configuration includes.
INST_NGINX_FASTCGI_PARAMS=/etc/nginx/fastcgi_params

# inst_write_nginx_conf: DIR/etc/nginx.conf for this instance.
inst_write_nginx_conf() {
	local head user='' v6 pki6 ca t=$I_RUN/nginx

	if [ ! -r "$INST_NGINX_FASTCGI_PARAMS" ]; then
		inst_err "nginx: $INST_NGINX_FASTCGI_PARAMS is missing" \
		    "(apt-get install nginx)"
		return 1
	fi
	# As root (no privilege split), the workers would otherwise run as
	# nobody, who cannot reach the instance.
	if [ "$I_PRIVSEP" != yes ] && [ "$(id -u)" -eq 0 ]; then
		user="user $(id -un) $(id -gn);"
	fi
	head=$(
		cat <<-EOF
		# Written by ./devstack (tools/web-nginx.sh) for the instance in
		# $INST; edits are lost when it runs again.
		pid $(inst_web_pidfile);
		error_log $I_LOG/nginx/error.log warn;
		worker_processes 2;
		$user

		events {
			worker_connections 1024;
		}

		http {
		access_log $I_LOG/nginx/access.log;
		server_tokens off;
		client_body_temp_path $t/body;
		fastcgi_temp_path $t/fastcgi;
		proxy_temp_path $t/proxy;
		scgi_temp_path $t/scgi;
		uwsgi_temp_path $t/uwsgi;
		ssl_session_cache shared:SSL:1m;
		# After refusing a body (413), wait 1 s rather than 5 for the
		# client to send more before closing: the answer is out already.
		lingering_timeout 1s;

		# What the lighttpd template serves, and nothing from the system's
		# mime.types.
		types {
			"text/html; charset=utf-8" html;
			"text/css; charset=utf-8" css;
			"text/javascript; charset=utf-8" js;
			"text/plain; charset=utf-8" yaml md;
			application/x-pem-file pem;
			image/svg+xml svg;
			image/png png;
			image/x-icon ico;
		}
		default_type application/octet-stream;
		EOF
	) || return 1
	inst_web_load nginx-estuary.conf || return 1
	if [ "$I_IPV6" = yes ]; then
		v6="listen [::1]:$I_PORT ssl;"
		pki6="listen [::1]:$I_PKI_PORT;"
	else
		v6='# No IPv6 loopback on this host.'
		pki6=$v6
	fi
	# nginx refuses an empty CA file: until the first CA exists, the
	# certificate request names no CA.
	if [ -s "$I_CLIENT_CA" ]; then
		ca="ssl_client_certificate $I_CLIENT_CA;"
	else
		ca='# No client CA yet: the certificate request names no CA.'
	fi
	inst_web_csp &&
	inst_web_subst 'listen [::]:443 ssl;' "$v6" &&
	inst_web_subst 'listen 443 ssl;' "listen 127.0.0.1:$I_PORT ssl;" &&
	inst_web_subst 'listen [::]:80;' "$pki6" &&
	inst_web_subst 'listen 80;' "listen 127.0.0.1:$I_PKI_PORT;" &&
	inst_web_subst '*.estuary.example.org' \
	    "*.${I_DEMO_DOMAIN:-${INST_DEMO_DOMAIN_DEFAULT:-estuary.test}}" &&
	inst_web_subst 'estuary.example.org' localhost &&
	inst_web_subst /usr/local/share/estuary/www "$SRCDIR/www" &&
	inst_web_subst /usr/local/share/estuary/docs "$SRCDIR/docs" &&
	inst_web_subst /etc/estuary/tls/server.pem "$I_TLS/server.pem" &&
	inst_web_subst /etc/estuary/tls/server.key "$I_TLS/server.key" &&
	inst_web_subst 'ssl_client_certificate /etc/estuary/tls/client-ca.pem;' \
	    "$ca" &&
	inst_web_subst /run/estuary/api.sock "$I_API_SOCK" &&
	inst_web_subst /run/estuary/est.sock "$I_EST_SOCK" &&
	inst_web_subst 'include fastcgi_params;' \
	    "include $INST_NGINX_FASTCGI_PARAMS;" &&
	inst_web_subst 'client_max_body_size 1m;' \
	    "client_max_body_size $INST_MAX_BODY;" &&
	inst_web_leftovers /etc/estuary /run/estuary /usr/local/share \
	    example.org ':443 ' ' 80;' ':80;' 'include fastcgi_params' &&
	_INST_WEB_TPL+=$'\n}' &&
	inst_web_write "$(inst_web_conf)" "$head"
}

inst_start_nginx() {
	local conf log=$I_LOG/nginx-check.log

	conf=$(inst_web_conf)
	inst_web_dirs nginx && inst_write_nginx_conf || return 1
	rm -f "$(inst_web_pidfile)"
	if ! inst_web_as "$(inst_web_exe)" -t -c "$conf" >"$log" 2>&1; then
		inst_err "nginx: configuration refused:"
		cat "$log" >&2
		return 1
	fi
	# nginx detaches by itself; the master process writes the pid file.
	# It is started by its full path with "-c FILE" only: its process
	# title, which inst_web_marker expects, is made of these arguments.
	if ! inst_web_as "$(inst_web_exe)" -c "$conf" >>"$log" 2>&1; then
		inst_err "nginx: failed to start:"
		tail -n 15 "$log" "$I_LOG/nginx/error.log" >&2
		return 1
	fi
	inst_web_wait nginx "$I_LOG/nginx/error.log"
}
