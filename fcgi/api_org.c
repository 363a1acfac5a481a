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

/* The row hooks of struct rest_entity_ops: a row is a struct db_result. */
REST_ROW_GET(org_get, struct db_result, db_org_get)

static int
org_row_what(struct rest_what *w, const char *action, const void *res)
{
	org_what(w, action, db_result_i64(res, 0, DB_ORG_ID),
		 db_result_str(res, 0, DB_ORG_NAME, NULL),
		 db_result_i64(res, 0, DB_ORG_TENANT_ID));
	return 0;
}

static int
org_object(const void *res, struct perm_object *o)
{
	memset(o, 0, sizeof(*o));
	o->tenant_id = db_result_i64(res, 0, DB_ORG_TENANT_ID);
	o->org_id = db_result_i64(res, 0, DB_ORG_ID);
	o->scope = PERM_SCOPE_NONE;
	return 0;
}

static const struct rest_result org_res = {
	.entity = "organization",
	.id = DB_ORG_ID,
	.updated_at = DB_ORG_UPDATED_AT,
	.active = DB_ORG_ACTIVE,
	.name = DB_ORG_NAME,
	.description = DB_ORG_DESCRIPTION,
	.cols = org_cols,
	.ncols = NELEM(org_cols),
};

static const struct rest_entity_ops org_ops;

/* The organizations of page q that pf lets the caller see. */
static int
org_fetch(struct db *db, const struct rest_query *q,
	  const struct perm_filter *pf, struct db_result **res)
{
	struct db_org_filter f = {0};
	int r;

	if ((r = rest_list_scope(pf, &f.scope_tenant, &f.scope_org)) != 0)
		return r;
	f.tenant_id = rest_q_int_or(q, "tenant_id", 0);
	f.name = rest_q_str(q, "name");
	f.name_prefix = rest_q_str(q, "name_prefix");
	f.name_contains = rest_q_str(q, "name_contains");
	f.active = (int)rest_q_int_or(q, "active", -1);
	return db_org_list(db, &f, q->after_id, rest_page_fetch(q), res);
}

static const struct rest_list_def org_list = {
	.entity = PERM_ENT_ORGANIZATION,
	.query = org_query,
	.nquery = NELEM(org_query),
	.fetch = org_fetch,
	.id_col = DB_ORG_ID,
	.cols = org_cols,
	.ncols = NELEM(org_cols),
};

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
	r = rest_send_row(db, &org_ops, id, 201, rs);
out:
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* What the audit row of a delete keeps of the organization. */
static int
org_delete_diff(struct rest_diff *d, const void *res)
{
	int r;

	if ((r = rest_diff_int(d, "tenant_id",
			       db_result_i64(res, 0, DB_ORG_TENANT_ID), 0,
			       1)) != 0 ||
	    (r = rest_diff_str(d, "name",
			       db_result_str(res, 0, DB_ORG_NAME, NULL),
			       NULL)) != 0 ||
	    (r = rest_diff_str(d, "description",
			       db_result_str(res, 0, DB_ORG_DESCRIPTION, NULL),
			       NULL)) != 0)
		return r;
	return rest_diff_bool(d, "active",
			      (int)db_result_i64(res, 0, DB_ORG_ACTIVE), 0);
}

static const struct rest_entity_ops org_ops = {
	.get = org_get,
	.what = org_row_what,
	.object = org_object,
	.base = ORG_BASE,
	.set_active = db_org_set_active,
	.remove = db_org_delete,
	.delete_diff = org_delete_diff,
	.res = &org_res,
	.update_fields = org_update_fields,
	.update_nfields = NELEM(org_update_fields),
	.rename = db_org_update,
};

REST_ROUTE_LIST(api_org_list, org_list)
AUTH_ROUTE_PUBLIC(api_org_create, h_org_create)
REST_ROUTE_GET(api_org_get, org_ops)
REST_ROUTE_UPDATE(api_org_update, org_ops)
REST_ROUTE_DELETE(api_org_delete, org_ops)
REST_ROUTE_ACTIVATE(api_org_activate, org_ops)
REST_ROUTE_DEACTIVATE(api_org_deactivate, org_ops)
