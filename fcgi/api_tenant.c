/*
 * Tenants (guide §1): the top of the hierarchy.  Only an Admin changes
 * them; every role may read its own tenant's record (lib/perm.c).
 *
 * A tenant is changed with PATCH: the members sent replace the stored
 * ones, null clears the description.  Changes and deletes need If-Match
 * with the tenant's ETag; activate and deactivate set a state and check
 * If-Match only when it is sent.  Deleting a tenant that still has
 * organizations, users or any other row is refused with 409.
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

#define TENANT_BASE "/api/v1/tenants"
#define TENANT_NAME_MAX 128 /* tenants.name */
#define TENANT_DESC_MAX 1024

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct rest_col tenant_cols[] = {
	[DB_TENANT_ID] = {"id", REST_C_ID},
	[DB_TENANT_NAME] = {"name", REST_C_STR},
	[DB_TENANT_DESCRIPTION] = {"description", REST_C_STR},
	[DB_TENANT_ACTIVE] = {"active", REST_C_BOOL},
	[DB_TENANT_CREATED_AT] = {"created_at", REST_C_TIME},
	[DB_TENANT_UPDATED_AT] = {"updated_at", REST_C_TIME},
};

static const struct jsonval_field tenant_create_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = TENANT_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = TENANT_DESC_MAX},
};

static const struct jsonval_field tenant_update_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .min_len = 1,
	 .max_len = TENANT_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = TENANT_DESC_MAX},
};

static const struct rest_qfield tenant_query[] = {
	{.name = "name", .type = REST_Q_STRING, .max_len = TENANT_NAME_MAX},
	{.name = "name_prefix",
	 .type = REST_Q_STRING,
	 .max_len = TENANT_NAME_MAX},
	{.name = "name_contains",
	 .type = REST_Q_STRING,
	 .max_len = TENANT_NAME_MAX},
	{.name = "active", .type = REST_Q_BOOL},
};

static void
tenant_what(struct rest_what *w, const char *action, int64_t id,
	    const char *name)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_TENANT;
	w->action = action;
	w->id = id;
	w->name = name;
	w->tenant_id = id;
}

static int
tenant_etag(const struct db_result *res, char etag[REST_ETAG_MAX])
{
	return rest_etag("tenant", db_result_i64(res, 0, DB_TENANT_ID),
			 db_result_str(res, 0, DB_TENANT_UPDATED_AT, NULL),
			 etag);
}

/* Answers status (200 or 201) with tenant id as it is now. */
static int
tenant_send(struct db *db, int64_t id, int status, struct resp *rs)
{
	struct db_result *res = NULL;
	struct json_object *o = NULL;
	char etag[REST_ETAG_MAX];
	int r;

	if ((r = db_tenant_get(db, id, 0, &res)) != 0 ||
	    (r = rest_row_json(res, 0, tenant_cols, NELEM(tenant_cols), &o)) !=
		    0 ||
	    (r = tenant_etag(res, etag)) != 0)
		goto out;
	if (status == 201)
		r = rest_created(rs, TENANT_BASE, id, o, etag);
	else
		r = rest_send(rs, status, o, etag);
out:
	json_object_put(o);
	db_result_free(res);
	return r;
}

/*
 * Reads tenant id and asks whether p may act on it: 404 for a tenant
 * that does not exist or that p may not know of.
 */
static int
tenant_access(struct db *db, const struct principal *p,
	      const struct request *req, int64_t id, enum perm_action act,
	      const char *action, struct jsonval_error *e)
{
	struct perm_object o = {id, 0, PERM_SCOPE_NONE};
	struct db_result *res = NULL;
	struct rest_what w;
	int r;

	if ((r = db_tenant_get(db, id, 0, &res)) == EST_E_NOTFOUND)
		return rest_fail(e, r, NULL);
	if (r != 0)
		return r;
	tenant_what(&w, action, id,
		    db_result_str(res, 0, DB_TENANT_NAME, NULL));
	r = rest_perm(db, p, req, act, &o, &w, e);
	db_result_free(res);
	return r;
}

/* Reads the tenant locked for a change and checks If-Match. */
static int
tenant_lock(struct db *db, const struct request *req, int64_t id,
	    int need_match, struct db_result **out, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	char etag[REST_ETAG_MAX];
	int r;

	if ((r = db_tenant_get(db, id, 1, &res)) == EST_E_NOTFOUND)
		return rest_fail(e, r, NULL);
	if (r != 0)
		return r;
	if ((r = tenant_etag(res, etag)) != 0 ||
	    ((need_match || req->if_match != NULL) &&
	     (r = rest_if_match(req, etag, e)) != 0)) {
		db_result_free(res);
		return r;
	}
	*out = res;
	return 0;
}

static int
h_tenant_list(struct hctx *c, const struct request *req,
	      const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_tenant_filter f = {0};
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

	tenant_what(&w, "list", 0, NULL);
	if ((r = rest_query_parse(req, tenant_query, NELEM(tenant_query), &q,
				  &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_LIST, NULL, &w, &e)) != 0)
		goto out;
	if (auth_actor(p, &a) != 0 ||
	    perm_list_filter(&a, PERM_ENT_TENANT, &pf) != 0 ||
	    pf.kind == PERM_FILTER_NONE) {
		r = EST_E_INTERNAL;
		goto out;
	}
	if (pf.kind != PERM_FILTER_ALL)
		f.scope_id = pf.tenant_id;
	f.name = rest_q_str(&q, "name");
	f.name_prefix = rest_q_str(&q, "name_prefix");
	f.name_contains = rest_q_str(&q, "name_contains");
	f.active = rest_q_int(&q, "active", &v) == 0 ? (int)v : -1;
	if ((r = db_tenant_list(db, &f, q.after_id, rest_page_fetch(&q),
				&res)) != 0 ||
	    (r = rest_page_init(&pg, &q)) != 0)
		goto out;
	for (i = 0; i < db_result_rows(res); i++) {
		if ((r = rest_row_json(res, i, tenant_cols, NELEM(tenant_cols),
				       &item)) != 0 ||
		    (r = rest_page_add(&pg, db_result_i64(res, i, DB_TENANT_ID),
				       item)) != 0)
			goto out;
	}
	r = rest_page_send(&pg, rs);
out:
	rest_page_clear(&pg);
	db_result_free(res);
	return rest_answer(rs, r, &e);
}

static int
tenant_create_tx(struct db *db, const struct principal *p,
		 const struct request *req, struct json_object *body,
		 int64_t *id, struct jsonval_error *e)
{
	const char *name = jsonval_get_string(body, "name");
	const char *desc = jsonval_get_string(body, "description");
	struct rest_diff d;
	struct rest_what w;
	int64_t newid = 0;
	int r;

	rest_diff_create(&d);
	if ((r = db_tenant_create(db, name, desc, &newid)) == EST_E_EXISTS)
		return rest_fail(e, r, "name");
	if (r != 0)
		return r;
	tenant_what(&w, "create", newid, name);
	if ((r = rest_diff_str(&d, "name", NULL, name)) == 0 &&
	    (r = rest_diff_str(&d, "description", NULL, desc)) == 0 &&
	    (r = rest_diff_bool(&d, "active", 0, 1)) == 0 &&
	    (r = rest_audit(db, p, req, &w, &d)) == 0)
		*id = newid;
	rest_diff_clear(&d);
	return r;
}

static int
h_tenant_create(struct hctx *c, const struct request *req,
		const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct rest_what w;
	struct db *db;
	int64_t id = 0;
	int r;

	tenant_what(&w, "create", 0, NULL);
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_CREATE, NULL, &w, &e)) != 0 ||
	    (r = rest_body(req, tenant_create_fields,
			   NELEM(tenant_create_fields), &body, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = tenant_create_tx(db, p, req, body, &id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = tenant_send(db, id, 201, rs);
out:
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

static int
h_tenant_get(struct hctx *c, const struct request *req,
	     const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = tenant_access(db, p, req, id, PERM_ACT_READ, "read", &e)) != 0)
		goto out;
	r = tenant_send(db, id, 200, rs);
out:
	return rest_answer(rs, r, &e);
}

static int
tenant_update_tx(struct db *db, const struct principal *p,
		 const struct request *req, int64_t id,
		 struct json_object *body, struct jsonval_error *e)
{
	const char *name, *desc, *oname, *odesc;
	struct db_result *res = NULL;
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = tenant_lock(db, req, id, 1, &res, e)) != 0)
		return r;
	oname = db_result_str(res, 0, DB_TENANT_NAME, NULL);
	odesc = db_result_str(res, 0, DB_TENANT_DESCRIPTION, NULL);
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
	if ((r = db_tenant_update(db, id, name, desc)) == EST_E_EXISTS) {
		r = rest_fail(e, r, "name");
		goto out;
	}
	tenant_what(&w, "update", id, name);
	if (r == 0)
		r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

static int
h_tenant_update(struct hctx *c, const struct request *req,
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
	    (r = tenant_access(db, p, req, id, PERM_ACT_UPDATE, "update",
			       &e)) != 0 ||
	    (r = rest_body(req, tenant_update_fields,
			   NELEM(tenant_update_fields), &body, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = tenant_update_tx(db, p, req, id, body, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = tenant_send(db, id, 200, rs);
out:
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

static int
tenant_delete_tx(struct db *db, const struct principal *p,
		 const struct request *req, int64_t id, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	const char *name;
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_delete(&d);
	if ((r = tenant_lock(db, req, id, 1, &res, e)) != 0)
		return r;
	name = db_result_str(res, 0, DB_TENANT_NAME, NULL);
	/* The foreign keys refuse while anything still belongs to it. */
	if ((r = db_tenant_delete(db, id)) == EST_E_CONFLICT) {
		r = rest_fail(e, r, NULL);
		goto out;
	}
	tenant_what(&w, "delete", id, name);
	if (r != 0 || (r = rest_diff_str(&d, "name", name, NULL)) != 0 ||
	    (r = rest_diff_str(
		     &d, "description",
		     db_result_str(res, 0, DB_TENANT_DESCRIPTION, NULL),
		     NULL)) != 0 ||
	    (r = rest_diff_bool(&d, "active",
				(int)db_result_i64(res, 0, DB_TENANT_ACTIVE),
				0)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

static int
tenant_state_tx(struct db *db, const struct principal *p,
		const struct request *req, int64_t id, int active,
		struct jsonval_error *e)
{
	struct db_result *res = NULL;
	struct rest_diff d;
	struct rest_what w;
	int r, old;

	rest_diff_init(&d);
	if ((r = tenant_lock(db, req, id, 0, &res, e)) != 0)
		return r;
	old = db_result_i64(res, 0, DB_TENANT_ACTIVE) != 0;
	/* Setting the state it already has changes nothing. */
	if (old == active)
		goto out;
	tenant_what(&w, active ? "activate" : "deactivate", id,
		    db_result_str(res, 0, DB_TENANT_NAME, NULL));
	if ((r = db_tenant_set_active(db, id, active)) != 0 ||
	    (r = rest_diff_bool(&d, "active", old, active)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

static const struct rest_entity_ops tenant_ops = {
	.access = tenant_access,
	.delete_tx = tenant_delete_tx,
	.state_tx = tenant_state_tx,
	.send = tenant_send,
};

static int
h_tenant_delete(struct hctx *c, const struct request *req,
		const struct principal *p, struct resp *rs)
{
	return rest_delete(c, req, p, rs, &tenant_ops);
}

static int
h_tenant_activate(struct hctx *c, const struct request *req,
		  const struct principal *p, struct resp *rs)
{
	return rest_set_active(c, req, p, rs, &tenant_ops, 1);
}

static int
h_tenant_deactivate(struct hctx *c, const struct request *req,
		    const struct principal *p, struct resp *rs)
{
	return rest_set_active(c, req, p, rs, &tenant_ops, 0);
}

API_ADMIN_ROUTE(api_tenant_list, h_tenant_list)
API_ADMIN_ROUTE(api_tenant_create, h_tenant_create)
API_ADMIN_ROUTE(api_tenant_get, h_tenant_get)
API_ADMIN_ROUTE(api_tenant_update, h_tenant_update)
API_ADMIN_ROUTE(api_tenant_delete, h_tenant_delete)
API_ADMIN_ROUTE(api_tenant_activate, h_tenant_activate)
API_ADMIN_ROUTE(api_tenant_deactivate, h_tenant_deactivate)
