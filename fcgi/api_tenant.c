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

/* The row hooks of struct rest_entity_ops: a row is a struct db_result. */
REST_ROW_GET(tenant_get, struct db_result, db_tenant_get)

static int
tenant_row_what(struct rest_what *w, const char *action, const void *res)
{
	tenant_what(w, action, db_result_i64(res, 0, DB_TENANT_ID),
		    db_result_str(res, 0, DB_TENANT_NAME, NULL));
	return 0;
}

static int
tenant_object(const void *res, struct perm_object *o)
{
	memset(o, 0, sizeof(*o));
	o->tenant_id = db_result_i64(res, 0, DB_TENANT_ID);
	o->scope = PERM_SCOPE_NONE;
	return 0;
}

static const struct rest_result tenant_res = {
	.entity = "tenant",
	.id = DB_TENANT_ID,
	.updated_at = DB_TENANT_UPDATED_AT,
	.active = DB_TENANT_ACTIVE,
	.name = DB_TENANT_NAME,
	.description = DB_TENANT_DESCRIPTION,
	.cols = tenant_cols,
	.ncols = NELEM(tenant_cols),
};

static const struct rest_entity_ops tenant_ops;

/* The tenants of page q that pf lets the caller see. */
static int
tenant_fetch(struct db *db, const struct rest_query *q,
	     const struct perm_filter *pf, struct db_result **res)
{
	struct db_tenant_filter f = {0};
	int r;

	if ((r = rest_list_scope(pf, &f.scope_id, NULL)) != 0)
		return r;
	f.name = rest_q_str(q, "name");
	f.name_prefix = rest_q_str(q, "name_prefix");
	f.name_contains = rest_q_str(q, "name_contains");
	f.active = (int)rest_q_int_or(q, "active", -1);
	return db_tenant_list(db, &f, q->after_id, rest_page_fetch(q), res);
}

static const struct rest_list_def tenant_list = {
	.entity = PERM_ENT_TENANT,
	.query = tenant_query,
	.nquery = NELEM(tenant_query),
	.fetch = tenant_fetch,
	.id_col = DB_TENANT_ID,
	.cols = tenant_cols,
	.ncols = NELEM(tenant_cols),
};

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
	r = rest_send_row(db, &tenant_ops, id, 201, rs);
out:
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* What the audit row of a delete keeps of the tenant. */
static int
tenant_delete_diff(struct rest_diff *d, const void *res)
{
	int r;

	if ((r = rest_diff_str(d, "name",
			       db_result_str(res, 0, DB_TENANT_NAME, NULL),
			       NULL)) != 0 ||
	    (r = rest_diff_str(
		     d, "description",
		     db_result_str(res, 0, DB_TENANT_DESCRIPTION, NULL),
		     NULL)) != 0)
		return r;
	return rest_diff_bool(d, "active",
			      (int)db_result_i64(res, 0, DB_TENANT_ACTIVE), 0);
}

static const struct rest_entity_ops tenant_ops = {
	.get = tenant_get,
	.what = tenant_row_what,
	.object = tenant_object,
	.base = TENANT_BASE,
	.set_active = db_tenant_set_active,
	.remove = db_tenant_delete,
	.delete_diff = tenant_delete_diff,
	.res = &tenant_res,
	.update_fields = tenant_update_fields,
	.update_nfields = NELEM(tenant_update_fields),
	.rename = db_tenant_update,
};

REST_ROUTE_LIST(api_tenant_list, tenant_list)
AUTH_ROUTE_PUBLIC(api_tenant_create, h_tenant_create)
REST_ROUTE_GET(api_tenant_get, tenant_ops)
REST_ROUTE_UPDATE(api_tenant_update, tenant_ops)
REST_ROUTE_DELETE(api_tenant_delete, tenant_ops)
REST_ROUTE_ACTIVATE(api_tenant_activate, tenant_ops)
REST_ROUTE_DEACTIVATE(api_tenant_deactivate, tenant_ops)
