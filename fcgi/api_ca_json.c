/*
 * The CA as the API shows it, and what the CA handlers share
 * (fcgi/api_ca.h): the audit and permission descriptions of a CA, loading
 * one with its access check, the answer with its ETag, and the web
 * server's client-CA file after a change.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "api_ca.h"
#include "ca.h"
#include "conf.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "log.h"
#include "resp.h"
#include "rest.h"
#include "x509.h"

/* RFC 5280 KeyUsage bit n is api_ca_ku_names[n] (DB_CA_KU_*). */
const char *const api_ca_ku_names[] = {
	"digitalSignature", "nonRepudiation",
	"keyEncipherment",  "dataEncipherment",
	"keyAgreement",	    "keyCertSign",
	"cRLSign",	    "encipherOnly",
	"decipherOnly",	    NULL,
};
/* ----- shared helpers ----- */

void
api_ca_what(const struct db_ca *ca, const char *action, struct rest_what *w)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_CA;
	w->action = action;
	if (ca != NULL) {
		w->id = ca->id;
		w->name = ca->name;
		w->tenant_id = ca->tenant_id;
		w->org_id = ca->org_id;
	}
}

int
api_ca_object(const struct db_ca *ca, struct perm_object *o)
{
	memset(o, 0, sizeof(*o));
	if (perm_scope_from_name(ca->scope, &o->scope) != 0)
		return EST_E_INTERNAL;
	o->tenant_id = ca->tenant_id;
	o->org_id = ca->org_id;
	return 0;
}

int
api_ca_load(struct hctx *c, struct db *db, const struct request *req,
	    const struct principal *p, enum perm_action act, const char *action,
	    struct db_ca **out, struct jsonval_error *e)
{
	void *row = NULL;
	int64_t id = 0;
	int r;

	if ((r = rest_cap_id(c, "id", &id, e)) != 0 ||
	    (r = rest_load_row(db, p, req, &api_ca_rows, id, act, action, &row,
			       e)) != 0)
		return r;
	*out = row;
	return 0;
}

int
api_ca_etag(const struct db_ca *ca, char etag[REST_ETAG_MAX])
{
	return rest_etag(perm_entity_name(PERM_ENT_CA), ca->id, ca->updated_at,
			 etag);
}

/* A UNIX time as RFC 3339, null for 0. */
static int
put_unix_time(struct json_object *o, const char *key, int64_t t)
{
	char buf[32];
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0)
		return rest_put_time(o, key, NULL);
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return EST_E_INTERNAL;
	return rest_put_time(o, key, buf);
}

static int
put_key_usage(struct json_object *o, unsigned ku)
{
	struct json_object *a, *s;
	int i;

	if ((a = json_object_new_array()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; api_ca_ku_names[i] != NULL; i++) {
		if ((ku & (1u << i)) == 0)
			continue;
		if ((s = json_object_new_string(api_ca_ku_names[i])) == NULL ||
		    json_object_array_add(a, s) != 0) {
			json_object_put(s);
			json_object_put(a);
			return EST_E_NOMEM;
		}
	}
	return rest_put_obj(o, "key_usage", a);
}

const char *
api_ca_status(const struct db_ca *ca)
{
	if (!ca->active)
		return "inactive";
	return ca->cert_der == NULL ? "pending" : "active";
}

/*
 * What the certificate says beyond the row: its issuer, and whether it
 * is self-issued (a root).  A CA without a certificate has neither.
 */
static int
put_cert_info(struct json_object *o, const struct db_ca *ca, int full)
{
	X509 *x = NULL;
	char *issuer = NULL, *pem = NULL;
	const char *kind;
	int r;

	if (ca->cert_der != NULL &&
	    x509_cert_from_der(ca->cert_der, ca->cert_len, &x) != 0)
		return EST_E_INTERNAL;
	if (ca->parent_id != 0)
		kind = "issuing";
	else if (x != NULL && X509_check_issued(x, x) == X509_V_OK)
		kind = "root";
	else
		kind = "external";
	if (x != NULL &&
	    (r = x509_name_text(X509_get_issuer_name(x), &issuer)) != 0)
		goto out;
	if (full && ca->cert_der != NULL &&
	    (r = x509_der_to_pem(ca->cert_der, ca->cert_len, &pem, NULL)) != 0)
		goto out;
	if ((r = rest_put_str(o, "kind", kind)) != 0 ||
	    (r = rest_put_str(o, "issuer", issuer)) != 0 ||
	    (full && (r = rest_put_str(o, "pem", pem)) != 0))
		goto out;
out:
	free(pem);
	free(issuer);
	X509_free(x);
	return r;
}

int
api_ca_json(const struct db_ca *ca, int full, struct json_object **out)
{
	struct json_object *o;
	const char *kt = x509_keytype_name(ca->keytype);
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_id(o, "id", ca->id)) != 0 ||
	    (r = rest_put_str(o, "name", ca->name)) != 0 ||
	    (r = rest_put_str(o, "description", ca->description)) != 0 ||
	    (r = rest_put_str(o, "status", api_ca_status(ca))) != 0 ||
	    (r = rest_put_bool(o, "active", ca->active)) != 0 ||
	    (r = put_cert_info(o, ca, full)) != 0 ||
	    (r = rest_put_id(o, "parent_id", ca->parent_id)) != 0 ||
	    (r = rest_put_str(o, "subject", ca->subject)) != 0 ||
	    (r = rest_put_hex(o, "serial", ca->serial_len ? ca->serial : NULL,
			      ca->serial_len)) != 0 ||
	    (r = put_unix_time(o, "not_before", ca->not_before)) != 0 ||
	    (r = put_unix_time(o, "not_after", ca->not_after)) != 0 ||
	    (r = rest_put_str(o, "key_type", kt != NULL ? kt : "unknown")) !=
		    0 ||
	    (r = rest_put_hex(o, "fingerprint",
			      ca->cert_der != NULL ? ca->fingerprint : NULL,
			      sizeof(ca->fingerprint))) != 0)
		goto out;
	if ((r = ca->path_len >= 0 ? rest_put_int(o, "path_len", ca->path_len)
				   : rest_put_obj(o, "path_len", NULL)) != 0 ||
	    (r = put_key_usage(o, ca->key_usage)) != 0 ||
	    (r = rest_put_str(o, "scope", ca->scope)) != 0 ||
	    (r = rest_put_id(o, "tenant_id", ca->tenant_id)) != 0 ||
	    (r = rest_put_id(o, "org_id", ca->org_id)) != 0 ||
	    (r = rest_put_int(o, "crl_period_hours", ca->crl_period_hours)) !=
		    0 ||
	    (r = rest_put_int(o, "crl_number", ca->crl_number)) != 0 ||
	    (r = put_unix_time(o, "crl_this_update", ca->crl_this_update)) !=
		    0 ||
	    (r = put_unix_time(o, "crl_next_update", ca->crl_next_update)) !=
		    0 ||
	    (r = rest_put_str(o, "crl_url", ca->crl_url)) != 0 ||
	    (r = rest_put_str(o, "ocsp_url", ca->ocsp_url)) != 0 ||
	    (r = rest_put_str(o, "ca_issuers_url", ca->ca_issuers_url)) != 0 ||
	    (r = rest_put_bool(o, "has_request", ca->csr_der != NULL)) != 0 ||
	    (r = rest_put_bool(o, "has_chain", ca->chain_pem != NULL)) != 0 ||
	    (r = rest_put_time(o, "created_at", ca->created_at)) != 0 ||
	    (r = rest_put_time(o, "updated_at", ca->updated_at)) != 0)
		goto out;
	*out = o;
	o = NULL;
out:
	json_object_put(o);
	return r;
}

/* The row hooks of api_ca_rows: a row is a struct db_ca. */
static int
ca_get(struct db *db, int64_t id, int lock, void **row)
{
	struct db_ca *ca = NULL;
	int r;

	if ((r = lock ? db_ca_get_lock(db, id, &ca) : db_ca_get(db, id, &ca)) ==
	    0)
		*row = ca;
	return r;
}

static int
ca_etag(const void *row, char etag[REST_ETAG_MAX])
{
	return api_ca_etag(row, etag);
}

static void
ca_free(void *row)
{
	db_ca_free(row);
}

static int
ca_what(struct rest_what *w, const char *action, const void *row)
{
	api_ca_what(row, action, w);
	return 0;
}

static int
ca_object(const void *row, struct perm_object *o)
{
	return api_ca_object(row, o);
}

static int
ca_json(const void *row, struct json_object **out)
{
	return api_ca_json(row, 1, out);
}

static int
ca_active(const void *row)
{
	return ((const struct db_ca *)row)->active;
}

const struct rest_entity_ops api_ca_rows = {
	.get = ca_get,
	.etag = ca_etag,
	.free = ca_free,
	.what = ca_what,
	.object = ca_object,
	.json = ca_json,
	.base = API_CA_BASE,
	.active = ca_active,
	.set_active = db_ca_set_active,
	.missing_field = "id",
};

int
api_ca_send(struct db *db, int64_t id, int status, struct resp *rs)
{
	return rest_send_row(db, &api_ca_rows, id, status, rs);
}

void
api_ca_web_refresh(struct hctx *c)
{
	const char *path = conf_get(c->conf, "tls_client_ca_file");
	const char *cmd = conf_get(c->conf, "web_reload_command");
	struct db *db;
	size_t n = 0;
	int changed = 0, r;

	if ((r = ctx_db(c, &db)) != 0 ||
	    (r = pki_client_ca_write(db, path, &changed, &n)) != 0) {
		if (r == EST_E_DENIED)
			log_warn("%s is not writable by estuary-api: "
				 "\"estuaryctl tls client-ca --reload "
				 "--follow 5\", run as a service, keeps it "
				 "current (see estuaryctl(8))",
				 path);
		else
			log_warn("cannot rewrite %s: %s", path,
				 est_strerror(r));
		return;
	}
	if (!changed)
		return;
	log_info("%s: %zu CA certificate%s", path, n, n == 1 ? "" : "s");
	if (cmd == NULL || cmd[0] == '\0')
		log_warn("no web_reload_command: the web server reads %s "
			 "when it restarts",
			 path);
	else if (pki_reload_start(cmd) == 0)
		log_info("web_reload_command started");
}
