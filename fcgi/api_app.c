/*
 * API applications: list, create, read, change, delete (fcgi/api_app.h),
 * and what the other api_app files share.
 *
 * Every handler validates the whole request first (query, body), then asks
 * the permission table (rest_perm, which audits a refusal), then changes
 * the row inside one transaction that also appends the audit row, with the
 * row locked so that If-Match and the state checks see what is written.
 * An application never moves to another tenant: tenant_id is accepted on
 * create only.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "api_app.h"
#include "apiapp.h"
#include "apiapp_admin.h"
#include "auth.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "jsonval.h"
#include "perm.h"
#include "resp.h"
#include "rest.h"
#include "util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Roles an application may have (api_applications.role). */
static const char *const app_roles[] = {
	ROLE_TENANT_ADMIN,
	ROLE_TENANT_AUDITOR,
	ROLE_TENANT_OPERATOR,
	ROLE_ORG_OPERATOR,
	NULL,
};

/* ----- expiry times ----- */

/*
 * expires_at of a request as the database's "YYYY-MM-DD HH:MM:SS" (UTC),
 * which must lie in the future and before the year 10000.
 */
static int
expiry_dbtime(const char *s, char out[APIAPP_DBTIME_LEN],
	      struct jsonval_error *e)
{
	struct tm tm;
	int64_t t;
	time_t tt;

	if (rest_time_parse(s, &t) != 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "expires_at",
					 "not an RFC 3339 date-time");
	if (t <= (int64_t)time(NULL))
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "expires_at",
					 "must lie in the future");
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    strftime(out, APIAPP_DBTIME_LEN, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "expires_at",
					 "out of range");
	return 0;
}

/* ----- field tables ----- */

static const struct jsonval_field create_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = APIAPP_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = APIAPP_DESC_MAX},
	{.name = "tenant_id", .type = JV_INT, .min = 1, .max = INT64_MAX},
	{.name = "org_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "role",
	 .type = JV_ENUM,
	 .required = 1,
	 .enum_values = app_roles},
	{.name = "expires_at",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = REST_TIME_MIN_LEN,
	 .max_len = REST_TIME_MAX_LEN,
	 .check = rest_time_check},
};

/* PUT: every field optional; an absent one keeps its value. */
static const struct jsonval_field update_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .min_len = 1,
	 .max_len = APIAPP_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = APIAPP_DESC_MAX},
	{.name = "org_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "role", .type = JV_ENUM, .enum_values = app_roles},
	{.name = "expires_at",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = REST_TIME_MIN_LEN,
	 .max_len = REST_TIME_MAX_LEN,
	 .check = rest_time_check},
};

static const struct rest_qfield list_query[] = {
	{.name = "tenant_id", .type = REST_Q_ID},
	{.name = "org_id", .type = REST_Q_ID},
	{.name = "role", .type = REST_Q_ENUM, .enum_values = app_roles},
	{.name = "active", .type = REST_Q_BOOL},
	{.name = "revoked", .type = REST_Q_BOOL},
	{.name = "name", .type = REST_Q_STRING, .max_len = APIAPP_NAME_MAX},
};

/* ----- shared helpers ----- */

/* A time column, "" meaning NULL. */
static int
put_time(struct json_object *o, const char *key, const char *v)
{
	return rest_put_time(o, key, v[0] != '\0' ? v : NULL);
}

static const char *
app_status(const struct db_apiapp_info *a)
{
	if (a->revoked)
		return "revoked";
	if (a->expired)
		return "expired";
	return a->active ? "active" : "inactive";
}

static int
cert_json(const struct db_apiapp_info *a, struct json_object **out)
{
	struct json_object *o;
	int r;

	*out = NULL;
	if (a->certificate_id == 0)
		return 0;
	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_id(o, "id", a->certificate_id)) != 0 ||
	    (r = rest_put_hex(o, "fingerprint_sha256", a->cert_fp,
			      sizeof(a->cert_fp))) != 0 ||
	    (r = put_time(o, "not_before", a->cert_not_before)) != 0 ||
	    (r = put_time(o, "not_after", a->cert_not_after)) != 0 ||
	    (r = rest_put_bool(o, "pfx_available", a->pfx_pending)) != 0 ||
	    (r = put_time(o, "pfx_downloaded_at", a->pfx_downloaded_at)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

int
api_app_json(const struct db_apiapp_info *a, struct json_object **out)
{
	struct json_object *o, *cert = NULL;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_id(o, "id", a->id)) != 0 ||
	    (r = rest_put_str(o, "app_id", a->app_id)) != 0 ||
	    (r = rest_put_str(o, "name", a->name)) != 0 ||
	    (r = rest_put_str(o, "description", a->description)) != 0 ||
	    (r = rest_put_str(o, "role", a->role)) != 0 ||
	    (r = rest_put_id(o, "tenant_id", a->tenant_id)) != 0 ||
	    (r = rest_put_str(o, "tenant_name", a->tenant_name)) != 0 ||
	    (r = rest_put_id(o, "org_id", a->org_id)) != 0 ||
	    (r = rest_put_str(o, "org_name", a->org_name)) != 0 ||
	    (r = rest_put_str(o, "status", app_status(a))) != 0 ||
	    (r = rest_put_bool(o, "active", a->active)) != 0 ||
	    (r = rest_put_bool(o, "revoked", a->revoked)) != 0 ||
	    (r = rest_put_bool(o, "expired", a->expired)) != 0 ||
	    (r = put_time(o, "expires_at", a->expires_at)) != 0 ||
	    (r = put_time(o, "revoked_at", a->revoked_at)) != 0 ||
	    (r = put_time(o, "rotated_at", a->rotated_at)) != 0 ||
	    (r = put_time(o, "last_used_at", a->last_used_at)) != 0 ||
	    (r = rest_put_id(o, "created_by_user_id", a->created_by)) != 0 ||
	    (r = put_time(o, "created_at", a->created_at)) != 0 ||
	    (r = put_time(o, "updated_at", a->updated_at)) != 0 ||
	    (r = cert_json(a, &cert)) != 0 ||
	    (r = rest_put_obj(o, "certificate", cert)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

int
api_app_etag(const struct db_apiapp_info *a, char out[REST_ETAG_MAX])
{
	return rest_etag(perm_entity_name(PERM_ENT_API_APPLICATION), a->id,
			 a->updated_at, out);
}

void
api_app_what(const struct db_apiapp_info *a, const char *action,
	     struct rest_what *w)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_API_APPLICATION;
	w->action = action;
	if (a != NULL) {
		w->id = a->id;
		w->name = a->name;
		w->tenant_id = a->tenant_id;
		w->org_id = a->org_id;
	}
}

static void
app_object(const struct db_apiapp_info *a, struct perm_object *o)
{
	memset(o, 0, sizeof(*o));
	o->tenant_id = a->tenant_id;
	o->org_id = a->org_id;
	o->scope = PERM_SCOPE_NONE;
}

int
api_app_load(struct hctx *c, struct db *db, const struct request *req,
	     const struct principal *p, enum perm_action act,
	     const char *action, struct db_apiapp_info **out,
	     struct jsonval_error *e)
{
	struct db_apiapp_info *a = NULL;
	struct perm_object o;
	struct rest_what w;
	int64_t id = 0;
	int r;

	if ((r = rest_cap_id(c, "id", &id, e)) != 0)
		return r;
	if ((r = db_apiapp_info_get(db, id, 0, &a)) != 0)
		return r == EST_E_NOTFOUND ? rest_fail(e, r, "id") : r;
	app_object(a, &o);
	api_app_what(a, action, &w);
	if ((r = rest_perm(db, p, req, act, &o, &w, e)) != 0) {
		db_apiapp_info_free(a);
		return r;
	}
	*out = a;
	return 0;
}

int
api_app_relock(struct db *db, const struct request *req, int64_t id,
	       int ifmatch, struct db_apiapp_info **out,
	       struct jsonval_error *e)
{
	struct db_apiapp_info *a = NULL;
	char etag[REST_ETAG_MAX];
	int r;

	if ((r = db_apiapp_info_get(db, id, 1, &a)) != 0)
		return r == EST_E_NOTFOUND ? rest_fail(e, r, "id") : r;
	if (ifmatch && ((r = api_app_etag(a, etag)) != 0 ||
			(r = rest_if_match(req, etag, e)) != 0)) {
		db_apiapp_info_free(a);
		return r;
	}
	*out = a;
	return 0;
}

int
api_app_send(struct resp *rs, int status, const struct db_apiapp_info *a,
	     const char *key)
{
	struct json_object *o = NULL;
	char etag[REST_ETAG_MAX];
	int r;

	if ((r = api_app_etag(a, etag)) != 0 || (r = api_app_json(a, &o)) != 0)
		return r;
	if (key != NULL && (r = rest_put_str(o, "app_key", key)) != 0)
		goto out;
	if (status == 201)
		r = rest_created(rs, API_APP_BASE, a->id, o, etag);
	else
		r = rest_send(rs, status, o, etag);
out:
	/* The response holds its own copy; this one is wiped. */
	if (key != NULL) {
		struct json_object *k = json_object_object_get(o, "app_key");

		if (k != NULL)
			explicit_bzero(
				(char *)(uintptr_t)json_object_get_string(k),
				(size_t)json_object_get_string_len(k));
	}
	json_object_put(o);
	return r;
}

/*
 * Checks the tenant, organization and role of an application: the
 * organization must be one of the tenant's, both active, and the role one
 * the actor may grant there (perm_may_assign_role, with ids from the
 * database rows as it requires).
 */
static int
check_placement(struct db *db, const struct principal *p, int64_t tenant_id,
		int64_t org_id, const char *role, int new_tenant,
		struct jsonval_error *e)
{
	struct perm_actor actor;
	enum perm_role pr;
	char *tname = NULL;
	int64_t otenant = 0;
	int active = 0, r;

	if (new_tenant) {
		r = db_apiapp_tenant(db, tenant_id, &tname, &active);
		free(tname);
		if (r == EST_E_NOTFOUND)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "tenant_id", "no such tenant");
		if (r != 0)
			return r;
		if (!active)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "tenant_id",
						 "the tenant is inactive");
	}
	if (org_id > 0) {
		r = db_apiapp_org(db, org_id, &otenant, &active);
		if (r == EST_E_NOTFOUND || (r == 0 && otenant != tenant_id))
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "org_id",
				"no such organization in the tenant");
		if (r != 0)
			return r;
		if (!active)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "org_id",
				"the organization is inactive");
	}
	if (auth_actor(p, &actor) != 0 || perm_role_from_name(role, &pr) != 0)
		return rest_fail(e, EST_E_INTERNAL, NULL);
	r = perm_may_assign_role(&actor, pr, tenant_id, org_id);
	if (r == EST_E_UNPROCESSABLE)
		return jsonval_error_set(
			e, r, org_id > 0 ? "org_id" : "role",
			"only an org_operator application belongs to an "
			"organization, and it must");
	if (r == EST_E_INVAL)
		return rest_fail(e, EST_E_INTERNAL, NULL);
	return r != 0 ? rest_fail(e, r, "role") : 0;
}

int
api_app_diff(struct rest_diff *d, const struct db_apiapp_info *a,
	     const struct db_apiapp_info *b)
{
	int r;

	if ((r = rest_diff_str(d, "name", a->name, b->name)) != 0 ||
	    (r = rest_diff_str(d, "description", a->description,
			       b->description)) != 0 ||
	    (r = rest_diff_str(d, "role", a->role, b->role)) != 0 ||
	    (r = rest_diff_int(d, "tenant_id", a->tenant_id, b->tenant_id,
			       1)) != 0 ||
	    (r = rest_diff_int(d, "org_id", a->org_id, b->org_id, 1)) != 0 ||
	    (r = rest_diff_str(d, "expires_at",
			       a->expires_at[0] ? a->expires_at : NULL,
			       b->expires_at[0] ? b->expires_at : NULL)) != 0 ||
	    (r = rest_diff_bool(d, "active", a->active, b->active)) != 0 ||
	    (r = rest_diff_bool(d, "revoked", a->revoked, b->revoked)) != 0)
		return r;
	return 0;
}

/* ----- handlers ----- */

static int
h_list(struct hctx *c, const struct request *req, const struct principal *p,
       struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_apiapp_info **list = NULL;
	struct db_apiapp_filter f;
	struct rest_query q;
	struct rest_page pg = {0};
	struct perm_filter pf;
	struct json_object *o;
	struct db *db = NULL;
	size_t n = 0, i;
	int r;

	if ((r = rest_list_begin(c, req, p, PERM_ENT_API_APPLICATION,
				 list_query, NELEM(list_query), &q, &db, &pf,
				 &e)) != 0)
		goto out;
	memset(&f, 0, sizeof(f));
	f.tenant_id = rest_q_int_or(&q, "tenant_id", 0);
	f.org_id = rest_q_int_or(&q, "org_id", 0);
	f.active = (int)rest_q_int_or(&q, "active", -1);
	f.revoked = (int)rest_q_int_or(&q, "revoked", -1);
	f.role = rest_q_str(&q, "role");
	f.name = rest_q_str(&q, "name");
	if ((r = rest_page_init(&pg, &q)) != 0)
		goto out;
	/* No row is visible: an empty page. */
	if (pf.kind == PERM_FILTER_NONE) {
		r = rest_page_send(&pg, rs);
		goto out;
	}
	if ((r = rest_list_scope(&pf, &f.scope_tenant_id, &f.scope_org_id)) !=
	    0)
		goto out;
	if ((r = db_apiapp_info_list(db, &f, q.after_id, rest_page_fetch(&q),
				     &list, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = api_app_json(list[i], &o)) != 0 ||
		    (r = rest_page_add(&pg, list[i]->id, o)) != 0)
			goto out;
	}
	r = rest_page_send(&pg, rs);
out:
	rest_page_clear(&pg);
	db_apiapp_info_list_free(list, n);
	return rest_answer(rs, r, &e);
}

static int
h_create(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db_apiapp_info *a = NULL;
	struct db_apiapp_create n;
	struct perm_object o;
	struct rest_diff d;
	struct rest_what w;
	struct db *db = NULL;
	char app_id[APIAPP_ID_LEN + 1], hash[APIAPP_KEY_HASH_LEN + 1];
	char expires[APIAPP_DBTIME_LEN];
	const char *s;
	char *key = NULL;
	int64_t tenant_id = p->tenant_id, org_id = 0, id = 0;
	int r, in_tx = 0;

	rest_diff_init(&d);
	rest_diff_create(&d);
	memset(&n, 0, sizeof(n));
	/*
	 * A role without the create right is refused before its body is
	 * read, whatever the target, as for organizations and users.
	 */
	api_app_what(NULL, "create", &w);
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_CREATE, NULL, &w, &e)) != 0 ||
	    (r = rest_body(req, create_fields, NELEM(create_fields), &body,
			   &e)) != 0)
		goto out;
	(void)jsonval_get_int(body, "tenant_id", &tenant_id);
	(void)jsonval_get_int(body, "org_id", &org_id);
	if (tenant_id <= 0) {
		r = jsonval_error_set(&e, EST_E_UNPROCESSABLE, "tenant_id",
				      "required");
		goto out;
	}
	n.name = jsonval_get_string(body, "name");
	n.description = jsonval_get_string(body, "description");
	n.role = jsonval_get_string(body, "role");
	n.tenant_id = tenant_id;
	n.org_id = org_id;
	n.created_by = auth_user_id(p);
	if ((s = jsonval_get_string(body, "expires_at")) != NULL) {
		if ((r = expiry_dbtime(s, expires, &e)) != 0)
			goto out;
		n.expires_at = expires;
	}
	memset(&o, 0, sizeof(o));
	o.tenant_id = tenant_id;
	o.org_id = org_id;
	w.name = n.name;
	w.tenant_id = tenant_id;
	w.org_id = org_id;
	if ((r = rest_perm(db, p, req, PERM_ACT_CREATE, &o, &w, &e)) != 0 ||
	    (r = check_placement(db, p, tenant_id, org_id, n.role, 1, &e)) !=
		    0 ||
	    (r = apiapp_credentials_new(app_id, &key, hash)) != 0)
		goto out;
	n.app_id = app_id;
	n.key_hash = hash;
	if ((r = db_begin(db)) != 0)
		goto out;
	in_tx = 1;
	if ((r = db_apiapp_insert(db, &n, &id)) != 0) {
		if (r == EST_E_EXISTS)
			r = jsonval_error_set(&e, r, "name",
					      "an application of the tenant "
					      "has this name");
		goto out;
	}
	if ((r = db_apiapp_info_get(db, id, 0, &a)) != 0 ||
	    (r = rest_diff_str(&d, "app_id", NULL, a->app_id)) != 0 ||
	    (r = api_app_diff(&d, a, a)) != 0)
		goto out;
	api_app_what(a, "create", &w);
	if ((r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
	in_tx = 0;
	if ((r = rest_tx_end(db, 0)) != 0)
		goto out;
	r = api_app_send(rs, 201, a, key);
out:
	if (in_tx)
		r = rest_tx_end(db, r);
	explicit_bzero(hash, sizeof(hash));
	freezero_str(key);
	rest_diff_clear(&d);
	db_apiapp_info_free(a);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

static int
h_get(struct hctx *c, const struct request *req, const struct principal *p,
      struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_apiapp_info *a = NULL;
	struct db *db = NULL;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = api_app_load(c, db, req, p, PERM_ACT_READ, "read", &a, &e)) !=
		    0)
		goto out;
	r = api_app_send(rs, 200, a, NULL);
out:
	db_apiapp_info_free(a);
	return rest_answer(rs, r, &e);
}

static int
h_update(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db_apiapp_info *a = NULL, *cur = NULL, *b = NULL;
	struct db_apiapp_update u;
	struct rest_diff d;
	struct rest_what w;
	struct db *db = NULL;
	char expires[APIAPP_DBTIME_LEN];
	const char *s;
	int64_t org_id;
	int r, in_tx = 0;

	rest_diff_init(&d);
	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_body(req, update_fields, NELEM(update_fields), &body,
			   &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_app_load(c, db, req, p, PERM_ACT_UPDATE, "update", &a,
			      &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	in_tx = 1;
	if ((r = api_app_relock(db, req, a->id, 1, &cur, &e)) != 0)
		goto out;
	/* The new state: what was sent, else what is. */
	u.name = jsonval_get_string(body, "name");
	if (u.name == NULL)
		u.name = cur->name;
	u.description = cur->description;
	if (jsonval_presence(body, "description") != JV_ABSENT)
		u.description = jsonval_get_string(body, "description");
	u.role = jsonval_get_string(body, "role");
	if (u.role == NULL)
		u.role = cur->role;
	u.org_id = cur->org_id;
	if (jsonval_presence(body, "org_id") == JV_NULL)
		u.org_id = 0;
	else if (jsonval_get_int(body, "org_id", &org_id) == 0)
		u.org_id = org_id;
	u.expires_at = cur->expires_at[0] != '\0' ? cur->expires_at : NULL;
	if (jsonval_presence(body, "expires_at") == JV_NULL) {
		u.expires_at = NULL;
	} else if ((s = jsonval_get_string(body, "expires_at")) != NULL) {
		if ((r = expiry_dbtime(s, expires, &e)) != 0)
			goto out;
		u.expires_at = expires;
	}
	if ((r = check_placement(db, p, cur->tenant_id, u.org_id, u.role, 0,
				 &e)) != 0)
		goto out;
	if ((r = db_apiapp_update(db, cur->id, &u)) != 0) {
		if (r == EST_E_EXISTS)
			r = jsonval_error_set(&e, r, "name",
					      "an application of the tenant "
					      "has this name");
		goto out;
	}
	if ((r = db_apiapp_info_get(db, cur->id, 0, &b)) != 0 ||
	    (r = api_app_diff(&d, cur, b)) != 0)
		goto out;
	/* A change that changes nothing leaves no audit row. */
	if (!rest_diff_empty(&d)) {
		api_app_what(b, "update", &w);
		if ((r = rest_audit(db, p, req, &w, &d)) != 0)
			goto out;
	}
	in_tx = 0;
	if ((r = rest_tx_end(db, 0)) != 0)
		goto out;
	r = api_app_send(rs, 200, b, NULL);
out:
	if (in_tx)
		r = rest_tx_end(db, r);
	rest_diff_clear(&d);
	db_apiapp_info_free(a);
	db_apiapp_info_free(cur);
	db_apiapp_info_free(b);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

static int
h_delete(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_apiapp_info *a = NULL, *cur = NULL;
	struct rest_diff d;
	struct rest_what w;
	struct db *db = NULL;
	int r, in_tx = 0;

	rest_diff_init(&d);
	rest_diff_delete(&d);
	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_body_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = api_app_load(c, db, req, p, PERM_ACT_DELETE, "delete", &a,
			      &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	in_tx = 1;
	if ((r = api_app_relock(db, req, a->id, 1, &cur, &e)) != 0 ||
	    (r = rest_diff_str(&d, "app_id", cur->app_id, NULL)) != 0 ||
	    (r = api_app_diff(&d, cur, cur)) != 0)
		goto out;
	/* Its certificate names an application that no longer exists. */
	if (cur->certificate_id > 0 &&
	    (r = db_apiapp_cert_revoke(db, cur->certificate_id,
				       APIAPP_REASON_CESSATION)) != 0)
		goto out;
	if ((r = db_apiapp_delete(db, cur->id)) != 0) {
		if (r == EST_E_CONFLICT)
			r = rest_fail(&e, r, "id");
		goto out;
	}
	api_app_what(cur, "delete", &w);
	if ((r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
	in_tx = 0;
	if ((r = rest_tx_end(db, 0)) != 0)
		goto out;
	r = resp_empty(rs, 204);
out:
	if (in_tx)
		r = rest_tx_end(db, r);
	rest_diff_clear(&d);
	db_apiapp_info_free(a);
	db_apiapp_info_free(cur);
	return rest_answer(rs, r, &e);
}

/* ----- routes ----- */

AUTH_ROUTE_PUBLIC(api_app_r_list, h_list)
AUTH_ROUTE_PUBLIC(api_app_r_create, h_create)
AUTH_ROUTE_PUBLIC(api_app_r_get, h_get)
AUTH_ROUTE_PUBLIC(api_app_r_update, h_update)
AUTH_ROUTE_PUBLIC(api_app_r_delete, h_delete)
