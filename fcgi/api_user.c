/*
 * Portal users (guide §1.1): list, create, read, change, delete, activate
 * and deactivate.  Passwords and certificate bindings are in
 * api_user_cred.c.
 *
 * Who may give which role is perm_may_assign_role()'s decision: only an
 * Admin makes Admins and Auditors, a Tenant Admin makes the tenant roles
 * in its own tenant.  A user is created only in an active tenant and, for
 * an Organization Operator, an active organization of that tenant (422
 * otherwise), since only active ones are offered for selection.  No
 * response ever carries a password hash; a generated password is
 * returned once, in the response that made it.
 *
 * Nobody deletes or deactivates their own account (409): the last Admin
 * could otherwise lock everyone out.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "api_user.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "passwd.h"
#include "resp.h"
#include "rest.h"
#include "util.h"

static const char *const user_roles[] = {
	ROLE_ADMIN,
	ROLE_AUDITOR,
	ROLE_TENANT_ADMIN,
	ROLE_TENANT_AUDITOR,
	ROLE_TENANT_OPERATOR,
	ROLE_ORG_OPERATOR,
	NULL,
};

static const struct jsonval_field user_create_fields[] = {
	{.name = "username",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = USER_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "full_name",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = 1,
	 .max_len = USER_FULL_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "email",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = 3,
	 .max_len = USER_EMAIL_MAX,
	 .check = jsonval_check_email},
	{.name = "password",
	 .type = JV_STRING,
	 .min_len = USER_PASSWORD_MIN,
	 .max_len = PASSWD_MAX},
	{.name = "role",
	 .type = JV_ENUM,
	 .required = 1,
	 .enum_values = user_roles},
	{.name = "tenant_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "org_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
};

/* The same without the password: it has an endpoint of its own. */
static const struct jsonval_field user_update_fields[] = {
	{.name = "username",
	 .type = JV_STRING,
	 .min_len = 1,
	 .max_len = USER_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "full_name",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = 1,
	 .max_len = USER_FULL_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "email",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = 3,
	 .max_len = USER_EMAIL_MAX,
	 .check = jsonval_check_email},
	{.name = "role", .type = JV_ENUM, .enum_values = user_roles},
	{.name = "tenant_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "org_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
};

static const struct rest_qfield user_query[] = {
	{.name = "tenant_id", .type = REST_Q_ID},
	{.name = "org_id", .type = REST_Q_ID},
	{.name = "role", .type = REST_Q_ENUM, .enum_values = user_roles},
	{.name = "active", .type = REST_Q_BOOL},
	{.name = "username", .type = REST_Q_STRING, .max_len = USER_NAME_MAX},
	{.name = "username_contains",
	 .type = REST_Q_STRING,
	 .max_len = USER_NAME_MAX},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The users of page q that pf lets the caller see. */
static int
user_fetch(struct db *db, const struct rest_query *q,
	   const struct perm_filter *pf, struct db_result **res)
{
	struct db_user_filter f = {0};
	int r;

	if ((r = rest_list_scope(pf, &f.scope_tenant, &f.scope_org)) != 0)
		return r;
	f.tenant_id = rest_q_int_or(q, "tenant_id", 0);
	f.org_id = rest_q_int_or(q, "org_id", 0);
	f.role = rest_q_str(q, "role");
	f.username = rest_q_str(q, "username");
	f.username_contains = rest_q_str(q, "username_contains");
	f.active = (int)rest_q_int_or(q, "active", -1);
	return db_user_list(db, &f, q->after_id, rest_page_fetch(q), res);
}

static const struct rest_list_def user_list = {
	.entity = PERM_ENT_USER,
	.query = user_query,
	.nquery = NELEM(user_query),
	.fetch = user_fetch,
	.id_col = DB_USER_ID,
	.json = user_json,
};

/* The optional id member key of body: 0 when absent or null. */
static int64_t
body_id(struct json_object *body, const char *key, int64_t dflt)
{
	int64_t v;

	if (jsonval_presence(body, key) == JV_ABSENT)
		return dflt;
	return jsonval_get_int(body, key, &v) == 0 ? v : 0;
}

static int
user_create_tx(struct db *db, const struct principal *p,
	       const struct request *req, const struct db_user_rec *u,
	       const char *pwhash, int64_t *id, struct jsonval_error *e)
{
	struct rest_diff d;
	struct rest_what w;
	int64_t newid = 0;
	int r;

	rest_diff_create(&d);
	if ((r = user_place_usable(db, u->tenant_id, u->org_id, e)) != 0)
		return r;
	if ((r = db_user_insert(db, u, pwhash, &newid)) == EST_E_EXISTS)
		return rest_fail(e, r, "username");
	if (r != 0)
		return r;
	user_what(&w, "create", newid, u->username, u->tenant_id, u->org_id);
	if ((r = user_diff(&d, NULL, u)) == 0 &&
	    (r = rest_diff_bool(&d, "active", 0, 1)) == 0 &&
	    (r = rest_diff_note(&d, "password", "set")) == 0 &&
	    (r = rest_audit(db, p, req, &w, &d)) == 0)
		*id = newid;
	rest_diff_clear(&d);
	return r;
}

static int
h_user_create(struct hctx *c, const struct request *req,
	      const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db_user_rec u = {0};
	char *pw = NULL, *hash = NULL;
	const char *given;
	struct rest_what w;
	struct db *db;
	int64_t id = 0;
	int r;

	user_what(&w, "create", 0, NULL, 0, 0);
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_CREATE, NULL, &w, &e)) != 0 ||
	    (r = rest_body(req, user_create_fields, NELEM(user_create_fields),
			   &body, &e)) != 0)
		goto out;
	u.username = jsonval_get_string(body, "username");
	u.full_name = jsonval_get_string(body, "full_name");
	u.email = jsonval_get_string(body, "email");
	u.role = jsonval_get_string(body, "role");
	u.tenant_id = body_id(body, "tenant_id", 0);
	u.org_id = body_id(body, "org_id", 0);
	user_what(&w, "create", 0, u.username, u.tenant_id, u.org_id);
	given = jsonval_get_string(body, "password");
	if ((r = user_may_assign(db, p, req, &w, &u, &e)) != 0 ||
	    (r = user_password_new(given, "password", &pw, &hash, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = user_create_tx(db, p, req, &u, hash, &id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	/* A password the client did not choose is shown this once. */
	r = user_send(db, id, 201, given == NULL ? pw : NULL, rs);
out:
	freezero_str(pw);
	freezero_str(hash);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* The user id as it is (unlocked), with the body's changes applied. */
static int
user_merge(struct db_result *res, struct json_object *body,
	   struct db_user_rec *u)
{
	user_rec(res, u);
	if (jsonval_presence(body, "username") == JV_PRESENT)
		u->username = jsonval_get_string(body, "username");
	if (jsonval_presence(body, "full_name") != JV_ABSENT)
		u->full_name = jsonval_get_string(body, "full_name");
	if (jsonval_presence(body, "email") != JV_ABSENT)
		u->email = jsonval_get_string(body, "email");
	if (jsonval_presence(body, "role") == JV_PRESENT)
		u->role = jsonval_get_string(body, "role");
	u->tenant_id = body_id(body, "tenant_id", u->tenant_id);
	u->org_id = body_id(body, "org_id", u->org_id);
	return 0;
}

static int
user_update_tx(struct db *db, const struct principal *p,
	       const struct request *req, int64_t id, struct json_object *body,
	       struct jsonval_error *e)
{
	struct db_user_rec old, u;
	struct db_result *res = NULL;
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = user_lock(db, req, id, 1, &res, e)) != 0)
		return r;
	user_rec(res, &old);
	user_merge(res, body, &u);
	if ((r = user_diff(&d, &old, &u)) != 0 || rest_diff_empty(&d))
		goto out;
	/* Moving a user needs an active place, as creating one does. */
	if ((u.tenant_id != old.tenant_id || u.org_id != old.org_id) &&
	    (r = user_place_usable(db, u.tenant_id, u.org_id, e)) != 0)
		goto out;
	if ((r = db_user_update(db, id, &u)) == EST_E_EXISTS) {
		r = rest_fail(e, r, "username");
		goto out;
	}
	user_what(&w, "update", id, u.username, u.tenant_id, u.org_id);
	if (r == 0)
		r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

static int
h_user_update(struct hctx *c, const struct request *req,
	      const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db_result *res = NULL;
	struct db_user_rec old, u;
	struct rest_what w;
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = user_access(db, p, req, id, PERM_ACT_UPDATE, "update", &e)) !=
		    0 ||
	    (r = rest_body(req, user_update_fields, NELEM(user_update_fields),
			   &body, &e)) != 0 ||
	    (r = db_user_get(db, id, 0, &res)) != 0)
		goto out;
	/*
	 * A new role or place is checked as a grant now; the transaction's
	 * If-Match then proves that the row did not change in between.
	 */
	user_rec(res, &old);
	user_merge(res, body, &u);
	if (strcmp(u.role, old.role) != 0 || u.tenant_id != old.tenant_id ||
	    u.org_id != old.org_id) {
		user_what(&w, "update", id, old.username, u.tenant_id,
			  u.org_id);
		if ((r = user_may_assign(db, p, req, &w, &u, &e)) != 0)
			goto out;
	}
	if ((r = db_begin(db)) != 0)
		goto out;
	r = user_update_tx(db, p, req, id, body, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = user_send(db, id, 200, NULL, rs);
out:
	db_result_free(res);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* Refuses a change of the actor's own account (delete, deactivate). */
static int
user_not_self(const struct principal *p, int64_t id, const char *what,
	      struct jsonval_error *e)
{
	if (p->kind == PRINCIPAL_USER && p->id == id)
		return jsonval_error_set(e, EST_E_CONFLICT, NULL,
					 "cannot %s one's own account", what);
	return 0;
}

static int
user_delete_tx(struct db *db, const struct principal *p,
	       const struct request *req, int64_t id, struct jsonval_error *e)
{
	return rest_delete_tx(db, p, req, &user_rows, id, e);
}

static int
user_state_tx(struct db *db, const struct principal *p,
	      const struct request *req, int64_t id, int active,
	      struct jsonval_error *e)
{
	return rest_state_tx(db, p, req, &user_rows, id, active, e);
}

/* A user as the state changes answer it: never with a password. */
static int
user_send_object(struct db *db, int64_t id, int status, struct resp *rs)
{
	return user_send(db, id, status, NULL, rs);
}

static const struct rest_entity_ops user_ops = {
	.access = user_access,
	.refuse = user_not_self,
	.delete_tx = user_delete_tx,
	.state_tx = user_state_tx,
	.send = user_send_object,
};

REST_ROUTE_LIST(api_user_list, user_list)
AUTH_ROUTE_PUBLIC(api_user_create, h_user_create)
REST_ROUTE_GET(api_user_get, user_ops)
AUTH_ROUTE_PUBLIC(api_user_update, h_user_update)
REST_ROUTE_DELETE(api_user_delete, user_ops)
REST_ROUTE_ACTIVATE(api_user_activate, user_ops)
REST_ROUTE_DEACTIVATE(api_user_deactivate, user_ops)
