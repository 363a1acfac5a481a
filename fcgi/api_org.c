/*
 * Organizations (guide §1): each belongs to one tenant, for good (its
 * tenant cannot be changed).  Admin manages all of them, a Tenant Admin
 * those of its tenant; the tenant roles read them and an Organization
 * Operator reads its own (lib/perm.c).
 *
 * Only active tenants are offered for selection, so an organization is
 * created only under an active tenant (422 on tenant_id otherwise).  As
 * for tenants: PATCH changes, If-Match on changes and deletes (optional
 * on activate and deactivate), 409 when a deleted organization still has
 * users or other rows.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "api_admin.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "resp.h"
#include "rest.h"

#define ORG_BASE "/api/v1/organizations"
#define ORG_NAME_MAX 128 /* organizations.name */
#define ORG_DESC_MAX 1024

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct rest_col org_cols[] = {
	[DB_ORG_ID] = {"id", REST_C_ID},
	[DB_ORG_TENANT_ID] = {"tenant_id", REST_C_ID},
	[DB_ORG_NAME] = {"name", REST_C_STR},
	[DB_ORG_DESCRIPTION] = {"description", REST_C_STR},
	[DB_ORG_ACTIVE] = {"active", REST_C_BOOL},
	[DB_ORG_CREATED_AT] = {"created_at", REST_C_TIME},
	[DB_ORG_UPDATED_AT] = {"updated_at", REST_C_TIME},
	[DB_ORG_TENANT_ACTIVE] = {NULL, REST_C_SKIP},
};

static const struct jsonval_field org_create_fields[] = {
	{.name = "tenant_id",
	 .type = JV_INT,
	 .required = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "name",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = ORG_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = ORG_DESC_MAX},
};

static const struct jsonval_field org_update_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .min_len = 1,
	 .max_len = ORG_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = ORG_DESC_MAX},
};

static const struct rest_qfield org_query[] = {
	{.name = "tenant_id", .type = REST_Q_ID},
	{.name = "name", .type = REST_Q_STRING, .max_len = ORG_NAME_MAX},
	{.name = "name_prefix", .type = REST_Q_STRING, .max_len = ORG_NAME_MAX},
	{.name = "name_contains",
	 .type = REST_Q_STRING,
	 .max_len = ORG_NAME_MAX},
	{.name = "active", .type = REST_Q_BOOL},
};

static void
org_what(struct rest_what *w, const char *action, int64_t id, const char *name,
	 int64_t tenant_id)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_ORGANIZATION;
	w->action = action;
	w->id = id;
	w->name = name;
	w->tenant_id = tenant_id;
	w->org_id = id;
}

static int
org_etag(const struct db_result *res, char etag[REST_ETAG_MAX])
{
	return rest_etag("organization", db_result_i64(res, 0, DB_ORG_ID),
			 db_result_str(res, 0, DB_ORG_UPDATED_AT, NULL), etag);
}

/* Answers status (200 or 201) with organization id as it is now. */
static int
org_send(struct db *db, int64_t id, int status, struct resp *rs)
{
	struct db_result *res = NULL;
	struct json_object *o = NULL;
	char etag[REST_ETAG_MAX];
	int r;

	if ((r = db_org_get(db, id, 0, &res)) != 0 ||
	    (r = rest_row_json(res, 0, org_cols, NELEM(org_cols), &o)) != 0 ||
	    (r = org_etag(res, etag)) != 0)
		goto out;
	if (status == 201)
		r = rest_created(rs, ORG_BASE, id, o, etag);
	else
		r = rest_send(rs, status, o, etag);
out:
	json_object_put(o);
	db_result_free(res);
	return r;
}

/*
 * Reads organization id and asks whether p may act on it: 404 for one
 * that does not exist or that p may not know of.
 */
static int
org_access(struct db *db, const struct principal *p, const struct request *req,
	   int64_t id, enum perm_action act, const char *action,
	   struct jsonval_error *e)
{
	struct perm_object o = {0, id, PERM_SCOPE_NONE};
	struct db_result *res = NULL;
	struct rest_what w;
	int r;

	if ((r = db_org_get(db, id, 0, &res)) == EST_E_NOTFOUND)
		return rest_fail(e, r, NULL);
	if (r != 0)
		return r;
	o.tenant_id = db_result_i64(res, 0, DB_ORG_TENANT_ID);
	org_what(&w, action, id, db_result_str(res, 0, DB_ORG_NAME, NULL),
		 o.tenant_id);
	r = rest_perm(db, p, req, act, &o, &w, e);
	db_result_free(res);
	return r;
}

/* Reads the organization locked for a change and checks If-Match. */
static int
org_lock(struct db *db, const struct request *req, int64_t id, int need_match,
	 struct db_result **out, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	char etag[REST_ETAG_MAX];
	int r;

	if ((r = db_org_get(db, id, 1, &res)) == EST_E_NOTFOUND)
		return rest_fail(e, r, NULL);
	if (r != 0)
		return r;
	if ((r = org_etag(res, etag)) != 0 ||
	    ((need_match || req->if_match != NULL) &&
	     (r = rest_if_match(req, etag, e)) != 0)) {
		db_result_free(res);
		return r;
	}
	*out = res;
	return 0;
}

static int
h_org_list(struct hctx *c, const struct request *req, const struct principal *p,
	   struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_org_filter f = {0};
	struct rest_page pg = {0};
	struct db_result *res = NULL;
	struct json_object *item;
	struct perm_filter pf;
	struct perm_actor a;
	struct rest_query q;
	struct rest_what w;
	struct db *db;
	int64_t v;
	size_t i;
	int r;

	org_what(&w, "list", 0, NULL, 0);
	if ((r = rest_query_parse(req, org_query, NELEM(org_query), &q, &e)) !=
		    0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_LIST, NULL, &w, &e)) != 0)
		goto out;
	if (auth_actor(p, &a) != 0 ||
	    perm_list_filter(&a, PERM_ENT_ORGANIZATION, &pf) != 0 ||
	    pf.kind == PERM_FILTER_NONE) {
		r = EST_E_INTERNAL;
		goto out;
	}
	if (pf.kind != PERM_FILTER_ALL)
		f.scope_tenant = pf.tenant_id;
	if (pf.kind == PERM_FILTER_ORG)
		f.scope_org = pf.org_id;
	if (rest_q_int(&q, "tenant_id", &v) == 0)
		f.tenant_id = v;
	f.name = rest_q_str(&q, "name");
	f.name_prefix = rest_q_str(&q, "name_prefix");
	f.name_contains = rest_q_str(&q, "name_contains");
	f.active = rest_q_int(&q, "active", &v) == 0 ? (int)v : -1;
	if ((r = db_org_list(db, &f, q.after_id, rest_page_fetch(&q), &res)) !=
		    0 ||
	    (r = rest_page_init(&pg, &q)) != 0)
		goto out;
	for (i = 0; i < db_result_rows(res); i++) {
		if ((r = rest_row_json(res, i, org_cols, NELEM(org_cols),
				       &item)) != 0 ||
		    (r = rest_page_add(&pg, db_result_i64(res, i, DB_ORG_ID),
				       item)) != 0)
			goto out;
	}
	r = rest_page_send(&pg, rs);
out:
	rest_page_clear(&pg);
	db_result_free(res);
	return rest_answer(rs, r, &e);
}

/*
 * Only an active tenant takes new organizations; its row is locked so
 * that it cannot be deactivated or deleted before the insert commits.
 */
static int
org_tenant_usable(struct db *db, int64_t tenant_id, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	int r;

	if ((r = db_tenant_get(db, tenant_id, 1, &res)) == EST_E_NOTFOUND)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "tenant_id",
					 "no such tenant");
	if (r != 0)
		return r;
	if (db_result_i64(res, 0, DB_TENANT_ACTIVE) == 0)
		r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "tenant_id",
				      "the tenant is inactive");
	db_result_free(res);
	return r;
}

static int
org_create_tx(struct db *db, const struct principal *p,
	      const struct request *req, struct json_object *body,
	      int64_t tenant_id, int64_t *id, struct jsonval_error *e)
{
	const char *name = jsonval_get_string(body, "name");
	const char *desc = jsonval_get_string(body, "description");
	struct rest_diff d;
	struct rest_what w;
	int64_t newid = 0;
	int r;

	rest_diff_create(&d);
	if ((r = org_tenant_usable(db, tenant_id, e)) != 0)
		return r;
	if ((r = db_org_create(db, tenant_id, name, desc, &newid)) ==
	    EST_E_EXISTS)
		return rest_fail(e, r, "name");
	if (r != 0)
		return r;
	org_what(&w, "create", newid, name, tenant_id);
	if ((r = rest_diff_int(&d, "tenant_id", 0, tenant_id, 1)) == 0 &&
	    (r = rest_diff_str(&d, "name", NULL, name)) == 0 &&
	    (r = rest_diff_str(&d, "description", NULL, desc)) == 0 &&
	    (r = rest_diff_bool(&d, "active", 0, 1)) == 0 &&
	    (r = rest_audit(db, p, req, &w, &d)) == 0)
		*id = newid;
	rest_diff_clear(&d);
	return r;
}

static int
h_org_create(struct hctx *c, const struct request *req,
	     const struct principal *p, struct resp *rs)
{
	/* An organization about to be created is known by its tenant. */
	struct perm_object o = {0, 0, PERM_SCOPE_NONE};
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct rest_what w;
	struct db *db;
	int64_t id = 0, tenant_id = 0;
	int r;

	org_what(&w, "create", 0, NULL, 0);
	w.org_id = 0;
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_CREATE, NULL, &w, &e)) != 0 ||
	    (r = rest_body(req, org_create_fields, NELEM(org_create_fields),
			   &body, &e)) != 0 ||
	    (r = jsonval_get_int(body, "tenant_id", &tenant_id)) != 0)
		goto out;
	/* Another tenant is 404, whether it exists or not. */
	o.tenant_id = tenant_id;
	w.tenant_id = tenant_id;
	w.name = jsonval_get_string(body, "name");
	if ((r = rest_perm(db, p, req, PERM_ACT_CREATE, &o, &w, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = org_create_tx(db, p, req, body, tenant_id, &id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = org_send(db, id, 201, rs);
out:
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

static int
h_org_get(struct hctx *c, const struct request *req, const struct principal *p,
	  struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = org_access(db, p, req, id, PERM_ACT_READ, "read", &e)) != 0)
		goto out;
	r = org_send(db, id, 200, rs);
out:
	return rest_answer(rs, r, &e);
}

static int
org_update_tx(struct db *db, const struct principal *p,
	      const struct request *req, int64_t id, struct json_object *body,
	      struct jsonval_error *e)
{
	const char *name, *desc, *oname, *odesc;
	struct db_result *res = NULL;
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = org_lock(db, req, id, 1, &res, e)) != 0)
		return r;
	oname = db_result_str(res, 0, DB_ORG_NAME, NULL);
	odesc = db_result_str(res, 0, DB_ORG_DESCRIPTION, NULL);
	name = jsonval_presence(body, "name") == JV_PRESENT
		       ? jsonval_get_string(body, "name")
		       : oname;
	desc = jsonval_presence(body, "description") == JV_ABSENT
		       ? odesc
		       : jsonval_get_string(body, "description");
	if ((r = rest_diff_str(&d, "name", oname, name)) != 0 ||
	    (r = rest_diff_str(&d, "description", odesc, desc)) != 0 ||
	    rest_diff_empty(&d))
		goto out;
	if ((r = db_org_update(db, id, name, desc)) == EST_E_EXISTS) {
		r = rest_fail(e, r, "name");
		goto out;
	}
	org_what(&w, "update", id, name,
		 db_result_i64(res, 0, DB_ORG_TENANT_ID));
	if (r == 0)
		r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

static int
h_org_update(struct hctx *c, const struct request *req,
	     const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = org_access(db, p, req, id, PERM_ACT_UPDATE, "update", &e)) !=
		    0 ||
	    (r = rest_body(req, org_update_fields, NELEM(org_update_fields),
			   &body, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = org_update_tx(db, p, req, id, body, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = org_send(db, id, 200, rs);
out:
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

static int
org_delete_tx(struct db *db, const struct principal *p,
	      const struct request *req, int64_t id, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	const char *name;
	struct rest_diff d;
	struct rest_what w;
	int64_t tenant_id;
	int r;

	rest_diff_delete(&d);
	if ((r = org_lock(db, req, id, 1, &res, e)) != 0)
		return r;
	name = db_result_str(res, 0, DB_ORG_NAME, NULL);
	tenant_id = db_result_i64(res, 0, DB_ORG_TENANT_ID);
	/* The foreign keys refuse while anything still belongs to it. */
	if ((r = db_org_delete(db, id)) == EST_E_CONFLICT) {
		r = rest_fail(e, r, NULL);
		goto out;
	}
	org_what(&w, "delete", id, name, tenant_id);
	if (r != 0 ||
	    (r = rest_diff_int(&d, "tenant_id", tenant_id, 0, 1)) != 0 ||
	    (r = rest_diff_str(&d, "name", name, NULL)) != 0 ||
	    (r = rest_diff_str(&d, "description",
			       db_result_str(res, 0, DB_ORG_DESCRIPTION, NULL),
			       NULL)) != 0 ||
	    (r = rest_diff_bool(&d, "active",
				(int)db_result_i64(res, 0, DB_ORG_ACTIVE),
				0)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

static int
org_state_tx(struct db *db, const struct principal *p,
	     const struct request *req, int64_t id, int active,
	     struct jsonval_error *e)
{
	struct db_result *res = NULL;
	struct rest_diff d;
	struct rest_what w;
	int r, old;

	rest_diff_init(&d);
	if ((r = org_lock(db, req, id, 0, &res, e)) != 0)
		return r;
	old = db_result_i64(res, 0, DB_ORG_ACTIVE) != 0;
	/* Setting the state it already has changes nothing. */
	if (old == active)
		goto out;
	org_what(&w, active ? "activate" : "deactivate", id,
		 db_result_str(res, 0, DB_ORG_NAME, NULL),
		 db_result_i64(res, 0, DB_ORG_TENANT_ID));
	if ((r = db_org_set_active(db, id, active)) != 0 ||
	    (r = rest_diff_bool(&d, "active", old, active)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

static const struct rest_entity_ops org_ops = {
	.access = org_access,
	.delete_tx = org_delete_tx,
	.state_tx = org_state_tx,
	.send = org_send,
};

static int
h_org_delete(struct hctx *c, const struct request *req,
	     const struct principal *p, struct resp *rs)
{
	return rest_delete(c, req, p, rs, &org_ops);
}

static int
h_org_activate(struct hctx *c, const struct request *req,
	       const struct principal *p, struct resp *rs)
{
	return rest_set_active(c, req, p, rs, &org_ops, 1);
}

static int
h_org_deactivate(struct hctx *c, const struct request *req,
		 const struct principal *p, struct resp *rs)
{
	return rest_set_active(c, req, p, rs, &org_ops, 0);
}

API_ADMIN_ROUTE(api_org_list, h_org_list)
API_ADMIN_ROUTE(api_org_create, h_org_create)
API_ADMIN_ROUTE(api_org_get, h_org_get)
API_ADMIN_ROUTE(api_org_update, h_org_update)
API_ADMIN_ROUTE(api_org_delete, h_org_delete)
API_ADMIN_ROUTE(api_org_activate, h_org_activate)
API_ADMIN_ROUTE(api_org_deactivate, h_org_deactivate)
