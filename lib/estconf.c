/*
 * The keys of estuary.conf(5).  One table for every program keeps a single
 * file valid for all of them; each program reads only the keys it needs.
 * man/estuary.conf.5 documents every key listed here.
 */
#include "config.h"

#include <string.h>

#include "conf.h"
#include "err.h"

/* Longest pki_base_url: the URLs made from it fit cas.crl_url (512). */
#define PKI_BASE_URL_MAX 400

/*
 * pki_base_url: empty, or an http or https URL without query, fragment,
 * user information, white space or quotes, as it is copied into every
 * certificate's CRL distribution point and OCSP pointer.
 */
static int
valid_base_url(const char *v)
{
	const char *rest;
	size_t n = strlen(v), i;

	if (n == 0)
		return 0;
	if (n > PKI_BASE_URL_MAX)
		return EST_E_INVAL;
	if (strncmp(v, "http://", 7) == 0)
		rest = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		rest = v + 8;
	else
		return EST_E_INVAL;
	if (rest[0] == '\0' || rest[0] == '/')
		return EST_E_INVAL;
	for (i = 0; v[i] != '\0'; i++)
		if (v[i] <= ' ' || v[i] > '~' ||
		    strchr("\"'<>\\^`{|}?#@", v[i]))
			return EST_E_INVAL;
	return 0;
}

/*
 * est_self_url: where estuary-api reaches its own EST endpoints for an EST
 * server's "test connection": https://host[:port] with no path, the host a
 * DNS name, an IPv4 address or a bracketed IPv6 address.  The default is
 * the loopback address; another host is used only when configured here,
 * never taken from a request.
 */
static int
valid_self_url(const char *v)
{
	const char *h = v + 8, *end;
	size_t i;
	long port;

	if (strncmp(v, "https://", 8) != 0 || strlen(v) > 255)
		return EST_E_INVAL;
	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL || end == h + 1)
			return EST_E_INVAL;
		for (i = 1; h + i < end; i++)
			if (!strchr("0123456789abcdefABCDEF:.", h[i]))
				return EST_E_INVAL;
		end++;
	} else {
		end = h + strcspn(h, ":");
		if (end == h)
			return EST_E_INVAL;
		for (i = 0; h + i < end; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-",
				    h[i]))
				return EST_E_INVAL;
	}
	if (*end == '\0')
		return 0;
	if (*end != ':' || end[1] == '\0' || strlen(end + 1) > 5)
		return EST_E_INVAL;
	for (i = 1, port = 0; end[i] != '\0'; i++) {
		if (end[i] < '0' || end[i] > '9')
			return EST_E_INVAL;
		port = port * 10 + (end[i] - '0');
	}
	return port >= 1 && port <= 65535 ? 0 : EST_E_INVAL;
}

/* est_self_ca: empty (the system's trust store) or an absolute path. */
static int
valid_opt_path(const char *v)
{
	return *v == '\0' ? 0 : conf_valid_path(v);
}

const struct conf_def estuary_conf_defs[] = {
	/* Logging. */
	{"log_level", "info", NULL},
	/* estuary-signerd */
	{"signer_socket", "/run/estuary/signer.sock", conf_valid_path},
	{"signer_user", "", NULL},
	{"signer_allowed_users", "root", NULL},
	{"signer_journal", "/var/lib/estuary/signer/journal", conf_valid_path},
	{"signer_max_clients", "64", conf_valid_uint},
	{"hsm_profile", SYSCONFDIR "/estuary/hsm-profiles/softhsm2.conf",
	 conf_valid_path},
	{"hsm_token_label", NULL, NULL},
	{"hsm_pin_file", NULL, conf_valid_path},
	/* Database. */
	{"db_socket", "/run/mysqld/mysqld.sock", conf_valid_path},
	{"db_name", "estuary", conf_valid_name},
	{"db_user", "estuary_app", conf_valid_name},
	{"db_password_file", SYSCONFDIR "/estuary/db-app.pw", conf_valid_path},
	{"db_admin_user", "estuary_admin", conf_valid_name},
	{"db_admin_password_file", SYSCONFDIR "/estuary/db-admin.pw",
	 conf_valid_path},
	{"db_migrations_dir", DATADIR "/estuary/db", conf_valid_path},
	/* FastCGI programs. */
	{"api_socket", "/run/estuary/api.sock", conf_valid_path},
	{"est_socket", "/run/estuary/est.sock", conf_valid_path},
	{"fcgi_user", "", NULL},
	{"fcgi_socket_group", "", NULL},
	{"fcgi_threads", "4", conf_valid_uint},
	{"max_body", "1048576", conf_valid_uint},
	{"group_commit", "yes", conf_valid_bool},
	/* The CA of API applications' TLS client certificates (api_app). */
	{"app_cert_ca", "", NULL},
	/* Portal sessions of estuary-api, in seconds (fcgi/auth.h). */
	{"session_idle_timeout", "1800", conf_valid_uint},
	{"session_absolute_timeout", "43200", conf_valid_uint},
	/* Web server integration (estuaryctl). */
	{"tls_client_ca_file", "/var/lib/estuary/client-ca.pem",
	 conf_valid_path},
	{"web_reload_command", "", NULL},
	/*
	 * Where CRLs, OCSP and CA certificates are published over plain
	 * HTTP (pki/ca.h); empty publishes nothing.
	 */
	{"pki_base_url", "", valid_base_url},
	/*
	 * Batch jobs: passphrases, PKCS#12 files and result archives, one
	 * directory per job (estuary-api and estuary-worker, pki/batch.h).
	 */
	{"batch_dir", "/var/lib/estuary/batch", conf_valid_path},
	/*
	 * EST servers' "test connection" (fcgi/api_estsrv_test.c): the URL
	 * of this installation's own HTTPS listener and the CA file that
	 * verifies its certificate (empty: the system's trust store).
	 */
	{"est_self_url", "https://127.0.0.1:443", valid_self_url},
	{"est_self_ca", "", valid_opt_path},
};

const size_t estuary_conf_ndefs =
	sizeof(estuary_conf_defs) / sizeof(estuary_conf_defs[0]);

int
estuary_conf_load(const char *path, struct conf **out, char *err, size_t errlen)
{
	return conf_load(path, estuary_conf_defs, estuary_conf_ndefs, out, err,
			 errlen);
}
