/* Helpers of the user endpoints (fcgi/api_user.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_user.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "passwd.h"
#include "resp.h"
#include "rest.h"
#include "util.h"

static const struct rest_col user_cols[] = {
	[DB_USER_ID] = {"id", REST_C_ID},
	[DB_USER_USERNAME] = {"username", REST_C_STR},
	[DB_USER_FULL_NAME] = {"full_name", REST_C_STR},
	[DB_USER_EMAIL] = {"email", REST_C_STR},
	[DB_USER_ROLE] = {"role", REST_C_STR},
	[DB_USER_TENANT_ID] = {"tenant_id", REST_C_ID},
	[DB_USER_ORG_ID] = {"org_id", REST_C_ID},
	[DB_USER_ACTIVE] = {"active", REST_C_BOOL},
	[DB_USER_CERT_FINGERPRINT] = {"cert_fingerprint", REST_C_HEX},
	[DB_USER_LAST_LOGIN_AT] = {"last_login_at", REST_C_TIME},
	[DB_USER_PASSWORD_CHANGED_AT] = {"password_changed_at", REST_C_TIME},
	[DB_USER_CREATED_AT] = {"created_at", REST_C_TIME},
	[DB_USER_UPDATED_AT] = {"updated_at", REST_C_TIME},
};

void
user_what(struct rest_what *w, const char *action, int64_t id, const char *name,
	  int64_t tenant_id, int64_t org_id)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_USER;
	w->action = action;
	w->id = id;
	w->name = name;
	w->tenant_id = tenant_id;
	w->org_id = org_id;
}

int
user_json(const struct db_result *res, size_t row, struct json_object **out)
{
	struct json_object *o = NULL;
	int r;

	if ((r = rest_row_json(res, row, user_cols,
			       sizeof(user_cols) / sizeof(user_cols[0]), &o)) !=
	    0)
		return r;
	if ((r = rest_put_bool(
		     o, "strong_auth",
		     !db_result_isnull(res, row, DB_USER_CERT_FINGERPRINT))) !=
	    0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

/* The row hooks of user_rows: a row is a struct db_result. */
REST_ROW_GET(user_get, struct db_result, db_user_get)

int
user_send(struct db *db, int64_t id, int status, const char *password,
	  struct resp *rs)
{
	struct db_result *res = NULL;
	struct json_object *o = NULL;
	char etag[REST_ETAG_MAX];
	int r;

	if ((r = db_user_get(db, id, 0, &res)) != 0 ||
	    (r = user_json(res, 0, &o)) != 0 ||
	    (r = rest_row_etag(&user_rows, res, etag)) != 0)
		goto out;
	if (password != NULL &&
	    (r = rest_put_str(o, "password", password)) != 0)
		goto out;
	if (status == 201)
		r = rest_created(rs, USER_BASE, id, o, etag);
	else
		r = rest_send(rs, status, o, etag);
out:
	json_object_put(o);
	db_result_free(res);
	return r;
}

void
user_rec(const struct db_result *res, struct db_user_rec *u)
{
	memset(u, 0, sizeof(*u));
	u->username = db_result_str(res, 0, DB_USER_USERNAME, NULL);
	u->full_name = db_result_str(res, 0, DB_USER_FULL_NAME, NULL);
	u->email = db_result_str(res, 0, DB_USER_EMAIL, NULL);
	u->role = db_result_str(res, 0, DB_USER_ROLE, NULL);
	u->tenant_id = db_result_i64(res, 0, DB_USER_TENANT_ID);
	u->org_id = db_result_i64(res, 0, DB_USER_ORG_ID);
}

static int
user_row_what(struct rest_what *w, const char *action, const void *res)
{
	struct db_user_rec u;

	user_rec(res, &u);
	user_what(w, action, db_result_i64(res, 0, DB_USER_ID), u.username,
		  u.tenant_id, u.org_id);
	return 0;
}

static int
user_object(const void *res, struct perm_object *o)
{
	memset(o, 0, sizeof(*o));
	o->tenant_id = db_result_i64(res, 0, DB_USER_TENANT_ID);
	o->org_id = db_result_i64(res, 0, DB_USER_ORG_ID);
	o->scope = PERM_SCOPE_NONE;
	return 0;
}

static const struct rest_result user_res = {
	.entity = "user",
	.id = DB_USER_ID,
	.updated_at = DB_USER_UPDATED_AT,
	.active = DB_USER_ACTIVE,
};

/* What the audit row of a delete keeps of the user. */
static int
user_delete_diff(struct rest_diff *d, const void *res)
{
	struct db_user_rec old;

	user_rec(res, &old);
	return user_diff(d, &old, NULL);
}

const struct rest_entity_ops user_rows = {
	.get = user_get,
	.what = user_row_what,
	.object = user_object,
	.set_active = db_user_set_active,
	.res = &user_res,
	.remove = db_user_delete,
	.delete_diff = user_delete_diff,
};

int
user_access(struct db *db, const struct principal *p, const struct request *req,
	    int64_t id, enum perm_action act, const char *action,
	    struct jsonval_error *e)
{
	return rest_load_row(db, p, req, &user_rows, id, act, action, NULL, e);
}

REST_ROW_LOCK(, user_lock, struct db_result, user_rows)

/* The member that makes role r not fit tenant_id and org_id. */
static const char *
misfit_field(enum perm_role r, int64_t tenant_id)
{
	/* A system role has a tenant too many, a tenant role one too few. */
	if (r == PERM_ROLE_ADMIN || r == PERM_ROLE_AUDITOR)
		return tenant_id != 0 ? "tenant_id" : "org_id";
	return tenant_id == 0 ? "tenant_id" : "org_id";
}

int
user_may_assign(struct db *db, const struct principal *p,
		const struct request *req, const struct rest_what *w,
		const struct db_user_rec *u, struct jsonval_error *e)
{
	struct perm_actor a;
	enum perm_role role;
	int r, ar;

	if (perm_role_from_name(u->role, &role) != 0 || auth_actor(p, &a) != 0)
		return rest_fail(e, EST_E_INTERNAL, NULL);
	r = perm_may_assign_role(&a, role, u->tenant_id, u->org_id);
	switch (r) {
	case 0:
		return 0;
	case EST_E_UNPROCESSABLE:
		return jsonval_error_set(e, r, misfit_field(role, u->tenant_id),
					 "does not fit the role");
	case EST_E_DENIED:
	case EST_E_NOTFOUND:
		if ((ar = rest_audit_denied(db, p, req, w,
					    r == EST_E_DENIED
						    ? "role not grantable"
						    : "outside the actor's "
						      "scope")) != 0)
			return rest_fail(e, ar, NULL);
		return rest_fail(e, r, r == EST_E_DENIED ? "role" : NULL);
	default:
		return rest_fail(e, EST_E_INTERNAL, NULL);
	}
}

int
user_place_usable(struct db *db, int64_t tenant_id, int64_t org_id,
		  struct jsonval_error *e)
{
	struct db_result *res = NULL;
	int r = 0;

	if (tenant_id > 0) {
		if ((r = db_tenant_get(db, tenant_id, 1, &res)) ==
		    EST_E_NOTFOUND)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "tenant_id", "no such tenant");
		if (r != 0)
			return r;
		if (db_result_i64(res, 0, DB_TENANT_ACTIVE) == 0)
			r = jsonval_error_set(e, EST_E_UNPROCESSABLE,
					      "tenant_id",
					      "the tenant is inactive");
		db_result_free(res);
		res = NULL;
		if (r != 0)
			return r;
	}
	if (org_id > 0) {
		r = db_org_get(db, org_id, 1, &res);
		/* Another tenant's organization is as absent as none. */
		if (r == EST_E_NOTFOUND ||
		    (r == 0 &&
		     db_result_i64(res, 0, DB_ORG_TENANT_ID) != tenant_id))
			r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "org_id",
					      "no such organization in the "
					      "tenant");
		else if (r == 0 && db_result_i64(res, 0, DB_ORG_ACTIVE) == 0)
			r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "org_id",
					      "the organization is inactive");
		db_result_free(res);
	}
	return r;
}

int
user_diff(struct rest_diff *d, const struct db_user_rec *old,
	  const struct db_user_rec *u)
{
	static const struct db_user_rec none = {0};
	const struct db_user_rec *a = old != NULL ? old : &none;
	const struct db_user_rec *b = u != NULL ? u : &none;
	int r;

	if ((r = rest_diff_str(d, "username", a->username, b->username)) != 0 ||
	    (r = rest_diff_str(d, "full_name", a->full_name, b->full_name)) !=
		    0 ||
	    (r = rest_diff_str(d, "email", a->email, b->email)) != 0 ||
	    (r = rest_diff_str(d, "role", a->role, b->role)) != 0 ||
	    (r = rest_diff_int(d, "tenant_id", a->tenant_id, b->tenant_id,
			       1)) != 0)
		return r;
	return rest_diff_int(d, "org_id", a->org_id, b->org_id, 1);
}

int
user_password_new(const char *given, const char *field, char **pw, char **hash,
		  struct jsonval_error *e)
{
	char *gen = NULL, *h = NULL;
	int r;

	if (given != NULL && strlen(given) > PASSWD_MAX)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
					 "at most %d bytes", PASSWD_MAX);
	if (given == NULL &&
	    (r = passwd_generate(USER_PASSWORD_GEN_BYTES, &gen)) != 0)
		return r;
	if ((r = passwd_hash(given != NULL ? given : gen, &h)) != 0) {
		freezero_str(gen);
		return r;
	}
	*pw = gen;
	*hash = h;
	return 0;
}
