/*
 * CAs as objects (fcgi/api_ca.h): list, create, read, change, delete,
 * activate and deactivate.  Creation goes through pki_ca_create(), as
 * estuaryctl's does; the key is made in the HSM by the signer.
 *
 * Who may do what is the permission table's entity "ca": Admin manages
 * every CA, a Tenant Admin those of its tenant (tenant or organization
 * scope) and reads the global ones; the other tenant roles read what their
 * scope reaches.  An issuing CA's parent must be a CA the creator may
 * read, and the new CA's scope must lie within its parent's.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/x509.h>

#include "api_ca.h"
#include "api_template.h"
#include "ca.h"
#include "conf.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "log.h"
#include "resp.h"
#include "rest.h"
#include "sigclient.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const ca_kinds[] = {"root", "issuing", "external", NULL};
static const char *const ca_key_types[] = {
	"ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", NULL,
};
static const char *const ca_statuses[] = {"pending", "active", "inactive",
					  NULL};

static const struct jsonval_field ca_create_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = PKI_CA_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = PKI_CA_DESC_MAX},
	{.name = "kind",
	 .type = JV_ENUM,
	 .required = 1,
	 .enum_values = ca_kinds},
	{.name = "parent_id", .type = JV_INT, .min = 1, .max = INT64_MAX},
	{.name = "key_type",
	 .type = JV_ENUM,
	 .required = 1,
	 .enum_values = ca_key_types},
	{.name = "subject",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = 1024},
	{.name = "validity_days",
	 .type = JV_INT,
	 .min = 1,
	 .max = X509_DAYS_MAX},
	{.name = "path_len",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 0,
	 .max = PKI_CA_PATHLEN_MAX},
	{.name = "key_usage",
	 .type = JV_STRING_ARRAY,
	 .unique = 1,
	 .min_items = 1,
	 .max_items = 9,
	 .enum_values = api_ca_ku_names},
	PKI_SCOPE_FIELDS,
	{.name = "crl_period_hours",
	 .type = JV_INT,
	 .min = 1,
	 .max = DB_CA_CRL_PERIOD_MAX},
};

static const struct jsonval_field ca_update_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .min_len = 1,
	 .max_len = PKI_CA_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = PKI_CA_DESC_MAX},
	{.name = "crl_period_hours",
	 .type = JV_INT,
	 .min = 1,
	 .max = DB_CA_CRL_PERIOD_MAX},
};

static const struct rest_qfield ca_query[] = {
	{.name = "name", .type = REST_Q_STRING, .max_len = PKI_CA_NAME_MAX},
	{.name = "name_contains",
	 .type = REST_Q_STRING,
	 .max_len = PKI_CA_NAME_MAX},
	{.name = "scope", .type = REST_Q_ENUM, .enum_values = pki_scope_names},
	{.name = "tenant_id", .type = REST_Q_ID},
	{.name = "org_id", .type = REST_Q_ID},
	{.name = "parent_id", .type = REST_Q_ID},
	{.name = "root", .type = REST_Q_BOOL},
	{.name = "active", .type = REST_Q_BOOL},
	{.name = "status", .type = REST_Q_ENUM, .enum_values = ca_statuses},
};

/* ----- list ----- */

static int
h_ca_list(struct hctx *c, const struct request *req, const struct principal *p,
	  struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_ca_filter f;
	struct rest_page pg = {0};
	struct db_ca **list = NULL;
	struct json_object *item;
	struct perm_filter pf;
	struct rest_query q;
	const char *status;
	struct db *db;
	size_t n = 0, i;
	int64_t v;
	int r;

	memset(&f, 0, sizeof(f));
	if ((r = rest_list_begin(c, req, p, PERM_ENT_CA, ca_query,
				 NELEM(ca_query), &q, &db, &pf, &e)) != 0 ||
	    (r = rest_page_init(&pg, &q)) != 0)
		goto out;
	/* No row is visible: an empty page. */
	if (pf.kind == PERM_FILTER_NONE) {
		r = rest_page_send(&pg, rs);
		goto out;
	}
	if ((r = rest_list_scope(&pf, &f.scope_tenant, &f.scope_org)) != 0)
		goto out;
	f.name = rest_q_str(&q, "name");
	f.name_contains = rest_q_str(&q, "name_contains");
	f.scope = rest_q_str(&q, "scope");
	f.tenant_id = rest_q_int_or(&q, "tenant_id", 0);
	f.org_id = rest_q_int_or(&q, "org_id", 0);
	f.parent_id = rest_q_int_or(&q, "parent_id", 0);
	f.root = rest_q_int(&q, "root", &v) == 0 && v == 1;
	f.active = (int)rest_q_int_or(&q, "active", -1);
	status = rest_q_str(&q, "status");
	f.status = status == NULL		    ? DB_CA_STATUS_ANY
		   : strcmp(status, "pending") == 0 ? DB_CA_STATUS_PENDING
		   : strcmp(status, "active") == 0  ? DB_CA_STATUS_ACTIVE
						    : DB_CA_STATUS_INACTIVE;
	if ((r = db_ca_list(db, &f, q.after_id, rest_page_fetch(&q), &list,
			    &n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = api_ca_json(list[i], 0, &item)) != 0 ||
		    (r = rest_page_add(&pg, list[i]->id, item)) != 0)
			goto out;
	}
	r = rest_page_send(&pg, rs);
out:
	db_ca_list_free(list, n);
	rest_page_clear(&pg);
	return rest_answer(rs, r, &e);
}

/* ----- create ----- */

/* A pki_ca_create() or pki_ca_upload() error as the API answers it. */
static int
ca_error(const struct pki_ca_error *pe, int r, struct jsonval_error *e)
{
	if (est_err_http_status(r) >= 500)
		return r;
	return jsonval_error_set(e, r, pe->field[0] != '\0' ? pe->field : NULL,
				 "%s", pe->message);
}

/* The tenant and organization of a new CA exist and are active. */
static int
ca_placement(struct db *db, const struct pki_scope *s, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	int r, active;

	if ((r = pki_scope_check(db, s, e)) != 0)
		return r;
	if (s->tenant_id != 0) {
		if ((r = db_tenant_get(db, s->tenant_id, 0, &res)) != 0)
			return r;
		active = db_result_i64(res, 0, DB_TENANT_ACTIVE) != 0;
		db_result_free(res);
		if (!active)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "tenant_id",
						 "the tenant is inactive");
	}
	if (s->org_id != 0) {
		if ((r = db_org_get(db, s->org_id, 0, &res)) != 0)
			return r;
		active = db_result_i64(res, 0, DB_ORG_ACTIVE) != 0;
		db_result_free(res);
		if (!active)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "org_id",
				"the organization is inactive");
	}
	return 0;
}

/*
 * An issuing CA's parent must be a CA that p may read; one that p may not
 * know of is as absent as one that does not exist.
 */
static int
ca_parent_visible(struct db *db, const struct principal *p, int64_t id,
		  struct jsonval_error *e)
{
	struct db_ca *ca = NULL;
	struct perm_object o;
	struct perm_actor a;
	int r;

	if ((r = db_ca_get(db, id, &ca)) != 0 && r != EST_E_NOTFOUND)
		return r;
	if (r == 0 &&
	    ((r = api_ca_object(ca, &o)) != 0 || (r = auth_actor(p, &a)) != 0))
		r = EST_E_INTERNAL;
	else if (r == 0)
		r = perm_check(&a, PERM_ENT_CA, PERM_ACT_READ, &o);
	db_ca_free(ca);
	if (r == EST_E_INTERNAL)
		return r;
	if (r != 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "parent_id",
					 "no such CA");
	return 0;
}

/* The request of pki_ca_create() from the body. */
static int
ca_request(struct json_object *body, const struct pki_scope *s,
	   struct pki_ca_req *rq, struct jsonval_error *e)
{
	const char *kind = jsonval_get_string(body, "kind");
	int64_t v = 0;
	size_t i, j;

	memset(rq, 0, sizeof(*rq));
	rq->kind = strcmp(kind, "root") == 0	  ? PKI_CA_ROOT
		   : strcmp(kind, "issuing") == 0 ? PKI_CA_ISSUING
						  : PKI_CA_EXTERNAL;
	rq->name = jsonval_get_string(body, "name");
	rq->description = jsonval_get_string(body, "description");
	rq->subject = jsonval_get_string(body, "subject");
	if (x509_keytype_parse(jsonval_get_string(body, "key_type"),
			       &rq->keytype) != 0)
		return rest_fail(e, EST_E_UNPROCESSABLE, "key_type");
	if (jsonval_get_int(body, "validity_days", &v) == 0) {
		if (rq->kind == PKI_CA_EXTERNAL)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "validity_days",
				"the CA that signs an external CA decides "
				"its validity");
		rq->days = (int)v;
	} else if (rq->kind != PKI_CA_EXTERNAL) {
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "validity_days", "required");
	}
	rq->path_len = jsonval_get_int(body, "path_len", &v) == 0 ? (int)v : -1;
	for (i = 0; i < jsonval_get_count(body, "key_usage"); i++)
		for (j = 0; api_ca_ku_names[j] != NULL; j++)
			if (strcmp(jsonval_get_string_at(body, "key_usage", i),
				   api_ca_ku_names[j]) == 0)
				rq->key_usage |= 1u << j;
	if (jsonval_get_int(body, "parent_id", &v) == 0)
		rq->parent_id = v;
	if (jsonval_get_int(body, "crl_period_hours", &v) == 0)
		rq->crl_period_hours = (int)v;
	rq->scope = perm_scope_name(s->scope);
	rq->tenant_id = s->tenant_id;
	rq->org_id = s->org_id;
	return 0;
}

static int
ca_create_tx(struct db *db, struct sigclient *sc, const struct principal *p,
	     const struct request *req, struct pki_ca_req *rq, int64_t *id,
	     struct jsonval_error *e)
{
	struct pki_ca_error pe;
	struct db_ca *ca = NULL;
	struct rest_diff d;
	struct rest_what w;
	int64_t newid = 0;
	int r;

	rest_diff_create(&d);
	if ((r = pki_ca_create(db, sc, rq, &newid, &pe)) != 0)
		return ca_error(&pe, r, e);
	if ((r = db_ca_get(db, newid, &ca)) != 0)
		goto out;
	api_ca_what(ca, "create", &w);
	if ((r = rest_diff_str(&d, "name", NULL, ca->name)) != 0 ||
	    (r = rest_diff_str(&d, "status", NULL, api_ca_status(ca))) != 0 ||
	    (r = rest_diff_str(&d, "subject", NULL, ca->subject)) != 0 ||
	    (r = rest_diff_str(&d, "key_type", NULL,
			       x509_keytype_name(ca->keytype))) != 0 ||
	    (r = rest_diff_int(&d, "parent_id", 0, ca->parent_id, 1)) != 0 ||
	    (r = rest_diff_str(&d, "scope", NULL, ca->scope)) != 0 ||
	    (r = rest_diff_int(&d, "tenant_id", 0, ca->tenant_id, 1)) != 0 ||
	    (r = rest_diff_int(&d, "org_id", 0, ca->org_id, 1)) != 0 ||
	    (r = rest_diff_int(&d, "validity_days", 0, rq->days, 0)) != 0 ||
	    (r = rest_diff_int(&d, "path_len", 0, ca->path_len, 0)) != 0 ||
	    (r = rest_diff_int(&d, "key_usage", 0, ca->key_usage, 0)) != 0 ||
	    (r = rest_diff_str(&d, "crl_url", NULL, ca->crl_url)) != 0 ||
	    (r = rest_diff_bool(&d, "active", 0, 1)) != 0 ||
	    (r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
	*id = newid;
out:
	db_ca_free(ca);
	rest_diff_clear(&d);
	return r;
}

static int
h_ca_create(struct hctx *c, const struct request *req,
	    const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct pki_scope s = {PERM_SCOPE_NONE, 0, 0};
	struct pki_ca_req rq;
	struct perm_object o;
	struct rest_what w;
	struct sigclient *sc;
	struct db *db;
	int64_t id = 0;
	int r;

	api_ca_what(NULL, "create", &w);
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_CREATE, NULL, &w, &e)) != 0 ||
	    (r = rest_body(req, ca_create_fields, NELEM(ca_create_fields),
			   &body, &e)) != 0 ||
	    (r = pki_scope_read(body, &s, &e)) != 0)
		goto out;
	/* Another tenant is 404, whether it exists or not. */
	pki_scope_object(&s, &o);
	w.name = jsonval_get_string(body, "name");
	w.tenant_id = s.tenant_id;
	w.org_id = s.org_id;
	if ((r = rest_perm(db, p, req, PERM_ACT_CREATE, &o, &w, &e)) != 0 ||
	    (r = ca_placement(db, &s, &e)) != 0 ||
	    (r = ca_request(body, &s, &rq, &e)) != 0 ||
	    (rq.parent_id > 0 &&
	     (r = ca_parent_visible(db, p, rq.parent_id, &e)) != 0))
		goto out;
	rq.base_url = conf_get(c->conf, "pki_base_url");
	rq.created_by_user_id = auth_user_id(p);
	if ((r = ctx_signer(c, &sc)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = ca_create_tx(db, sc, p, req, &rq, &id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	if (rq.kind != PKI_CA_EXTERNAL)
		api_ca_web_refresh(c);
	r = api_ca_send(db, id, 201, rs);
out:
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* ----- read, change ----- */

/* The CA locked for a change, with If-Match checked (need: required). */
REST_ROW_LOCK(static, ca_lock, struct db_ca, api_ca_rows)

static int
ca_update_tx(struct db *db, const struct principal *p,
	     const struct request *req, int64_t id, struct json_object *body,
	     struct jsonval_error *e)
{
	struct db_ca *ca = NULL;
	const char *name, *desc;
	struct rest_diff d;
	struct rest_what w;
	int64_t v = 0;
	int period, r;

	rest_diff_init(&d);
	if ((r = ca_lock(db, req, id, 1, &ca, e)) != 0)
		return r;
	name = jsonval_presence(body, "name") == JV_PRESENT
		       ? jsonval_get_string(body, "name")
		       : ca->name;
	desc = jsonval_presence(body, "description") == JV_ABSENT
		       ? ca->description
		       : jsonval_get_string(body, "description");
	period = jsonval_get_int(body, "crl_period_hours", &v) == 0
			 ? (int)v
			 : ca->crl_period_hours;
	if ((r = rest_diff_str(&d, "name", ca->name, name)) != 0 ||
	    (r = rest_diff_str(&d, "description", ca->description, desc)) !=
		    0 ||
	    (r = rest_diff_int(&d, "crl_period_hours", ca->crl_period_hours,
			       period, 0)) != 0 ||
	    rest_diff_empty(&d))
		goto out;
	if ((r = db_ca_update(db, id, name, desc, period)) == EST_E_EXISTS) {
		r = rest_fail(e, r, "name");
		goto out;
	}
	api_ca_what(ca, "update", &w);
	w.name = name;
	if (r == 0)
		r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_ca_free(ca);
	return r;
}

/* ----- delete, activate, deactivate ----- */

static int
ca_access(struct db *db, const struct principal *p, const struct request *req,
	  int64_t id, enum perm_action act, const char *action,
	  struct jsonval_error *e)
{
	return rest_load_row(db, p, req, &api_ca_rows, id, act, action, NULL,
			     e);
}

static int
ca_delete_tx(struct db *db, const struct principal *p,
	     const struct request *req, int64_t id, struct jsonval_error *e)
{
	struct db_ca *ca = NULL;
	char fp[2 * sizeof(ca->fingerprint) + 1];
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_delete(&d);
	if ((r = ca_lock(db, req, id, 1, &ca, e)) != 0)
		return r;
	hex_encode(ca->fingerprint, sizeof(ca->fingerprint), fp);
	if (ca->active) {
		r = jsonval_error_set(e, EST_E_CONFLICT, "active",
				      "deactivate the CA before deleting it");
		goto out;
	}
	/* The foreign keys refuse while anything still refers to it. */
	if ((r = db_ca_delete(db, id)) == EST_E_CONFLICT) {
		r = jsonval_error_set(e, r, NULL,
				      "the CA is in use by certificates, "
				      "templates or CAs");
		goto out;
	}
	api_ca_what(ca, "delete", &w);
	if (r != 0 || (r = rest_diff_str(&d, "name", ca->name, NULL)) != 0 ||
	    (r = rest_diff_str(&d, "subject", ca->subject, NULL)) != 0 ||
	    (r = rest_diff_str(&d, "scope", ca->scope, NULL)) != 0 ||
	    (r = rest_diff_int(&d, "tenant_id", ca->tenant_id, 0, 1)) != 0 ||
	    (r = rest_diff_int(&d, "org_id", ca->org_id, 0, 1)) != 0 ||
	    (r = rest_diff_int(&d, "parent_id", ca->parent_id, 0, 1)) != 0 ||
	    (r = rest_diff_str(&d, "fingerprint",
			       ca->cert_der != NULL ? fp : NULL, NULL)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_ca_free(ca);
	return r;
}

static int
ca_state_tx(struct db *db, const struct principal *p, const struct request *req,
	    int64_t id, int active, struct jsonval_error *e)
{
	return rest_state_tx(db, p, req, &api_ca_rows, id, active, e);
}

static const struct rest_entity_ops ca_ops = {
	.access = ca_access,
	.delete_tx = ca_delete_tx,
	.state_tx = ca_state_tx,
	.send = api_ca_send,
	.update_fields = ca_update_fields,
	.update_nfields = NELEM(ca_update_fields),
	.update_tx = ca_update_tx,
};

/* A state change that succeeded changes the web server's CA list. */
static int
ca_set_active(struct hctx *c, const struct request *req,
	      const struct principal *p, struct resp *rs, int active)
{
	int r;

	if ((r = rest_set_active(c, req, p, rs, &ca_ops, active)) == 0 &&
	    resp_status(rs) == 200)
		api_ca_web_refresh(c);
	return r;
}

static int
h_ca_activate(struct hctx *c, const struct request *req,
	      const struct principal *p, struct resp *rs)
{
	return ca_set_active(c, req, p, rs, 1);
}

static int
h_ca_deactivate(struct hctx *c, const struct request *req,
		const struct principal *p, struct resp *rs)
{
	return ca_set_active(c, req, p, rs, 0);
}

AUTH_ROUTE_PUBLIC(api_ca_list, h_ca_list)
AUTH_ROUTE_PUBLIC(api_ca_create, h_ca_create)
REST_ROUTE_GET(api_ca_get, ca_ops)
REST_ROUTE_UPDATE(api_ca_update, ca_ops)
REST_ROUTE_DELETE(api_ca_delete, ca_ops)
AUTH_ROUTE_PUBLIC(api_ca_activate, h_ca_activate)
AUTH_ROUTE_PUBLIC(api_ca_deactivate, h_ca_deactivate)
