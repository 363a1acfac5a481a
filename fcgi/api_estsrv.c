/*
 * EST servers (guide §2.3): list, create, read, change, delete, activate,
 * deactivate and clone (fcgi/api_estsrv.h).
 *
 * Every handler validates the request (query, body) and asks the
 * permission table (rest_perm, which audits a refusal) before it opens the
 * transaction that checks the whole server against the database
 * (estsrv_validate), writes it with its children and appends the audit
 * row, so a refusal writes nothing.  The domain rule (one tenant per
 * domain) is checked by the data layer under the domain's lock
 * (db/estsrv.h) and answered 409 naming "domain".  Changes and deletes
 * need If-Match (428 without, 412 when stale); activate and deactivate
 * check it when it is sent.  A server is deleted only when inactive.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_devtype.h"
#include "api_estsrv.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "estsrv.h"
#include "resp.h"
#include "rest.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const list_kinds[] = {"dps", "cms", NULL};

static const struct rest_qfield list_query[] = {
	{.name = "tenant_id", .type = REST_Q_ID},
	{.name = "org_id", .type = REST_Q_ID},
	{.name = "kind", .type = REST_Q_ENUM, .enum_values = list_kinds},
	{.name = "active", .type = REST_Q_BOOL},
	{.name = "domain",
	 .type = REST_Q_STRING,
	 .max_len = ESTSRV_DOMAIN_MAX,
	 .check = jsonval_check_domain},
	{.name = "device_type_id", .type = REST_Q_ID},
};

void
estsrv_what(struct rest_what *w, const char *action, const struct estsrv *s)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_EST_SERVER;
	w->action = action;
	if (s != NULL) {
		w->id = s->id;
		w->name = s->domain;
		w->tenant_id = s->tenant_id;
		w->org_id = s->org_id;
	}
}

static void
place_object(int64_t tenant_id, int64_t org_id, struct perm_object *o)
{
	memset(o, 0, sizeof(*o));
	o->scope = PERM_SCOPE_ORG;
	o->tenant_id = tenant_id;
	o->org_id = org_id;
}

int
estsrv_etag(const struct estsrv *s, char *etag)
{
	return rest_etag(perm_entity_name(PERM_ENT_EST_SERVER), s->id,
			 s->updated_at, etag);
}

/* The row hooks of srv_ops: a row is a struct estsrv. */
REST_ROW_GET(srv_get, struct estsrv, db_estsrv_get)

static int
srv_etag(const void *row, char etag[REST_ETAG_MAX])
{
	return estsrv_etag(row, etag);
}

static void
srv_free(void *row)
{
	estsrv_free(row);
}

static int
srv_what(struct rest_what *w, const char *action, const void *row)
{
	estsrv_what(w, action, row);
	return 0;
}

static int
srv_object(const void *row, struct perm_object *o)
{
	const struct estsrv *s = row;

	place_object(s->tenant_id, s->org_id, o);
	return 0;
}

static int
srv_json(const void *row, struct json_object **out)
{
	return estsrv_json(row, out);
}

static int
srv_active(const void *row)
{
	return ((const struct estsrv *)row)->active;
}

static const struct rest_entity_ops srv_ops;

REST_ROW_LOAD(, estsrv_load, struct estsrv, srv_ops)

REST_ROW_LOCK(, estsrv_lock, struct estsrv, srv_ops)

/* The answers of the data layer's refusals of a write. */
static int
write_refusal(int r, struct jsonval_error *e)
{
	if (r == EST_E_CONFLICT)
		return jsonval_error_set(e, r, "domain",
					 "the domain belongs to another "
					 "tenant");
	if (r == EST_E_EXISTS)
		return jsonval_error_set(e, r, "domain",
					 "the organization already has a "
					 "server for this domain, or a label "
					 "is taken there");
	return r;
}

/* ------------------------------------------------------------------ */
/* List */

static int
h_list(struct hctx *c, const struct request *req, const struct principal *p,
       struct resp *rs)
{
	char domain[ESTSRV_DOMAIN_MAX + 1];
	struct jsonval_error e = {0};
	struct db_estsrv_filter f;
	struct estsrv **list = NULL;
	struct rest_page pg = {0};
	struct json_object *item;
	struct perm_filter pf;
	struct rest_query q;
	const char *v;
	struct db *db;
	size_t n = 0, i;
	int r;

	memset(&f, 0, sizeof(f));
	if ((r = rest_list_begin(c, req, p, PERM_ENT_EST_SERVER, list_query,
				 NELEM(list_query), &q, &db, &pf, &e)) != 0 ||
	    (r = rest_list_scope(&pf, &f.scope_tenant, &f.scope_org)) != 0)
		goto out;
	f.tenant_id = rest_q_int_or(&q, "tenant_id", 0);
	f.org_id = rest_q_int_or(&q, "org_id", 0);
	f.device_type_id = rest_q_int_or(&q, "device_type_id", 0);
	f.active = (int)rest_q_int_or(&q, "active", -1);
	if ((v = rest_q_str(&q, "kind")) != NULL) {
		enum estsrv_kind k;

		if (estsrv_kind_value(v, &k) != 0) {
			r = EST_E_INTERNAL;
			goto out;
		}
		f.kind = (int)k;
	}
	if ((v = rest_q_str(&q, "domain")) != NULL) {
		if (estsrv_domain_check(v, domain) != 0) {
			r = rest_fail(&e, EST_E_INVAL, "domain");
			goto out;
		}
		f.domain = domain;
	}
	if ((r = db_estsrv_list(db, &f, q.after_id, rest_page_fetch(&q), &list,
				&n)) != 0 ||
	    (r = rest_page_init(&pg, &q)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = estsrv_json(list[i], &item)) != 0 ||
		    (r = rest_page_add(&pg, list[i]->id, item)) != 0)
			goto out;
	r = rest_page_send(&pg, rs);
out:
	rest_page_clear(&pg);
	db_estsrv_list_free(list, n);
	return rest_answer(rs, r, &e);
}

/* ------------------------------------------------------------------ */
/* Create, clone */

/*
 * Writes the new server s with its audit row: action "create", or
 * "clone" with the source's id.  Validated again here, inside the
 * transaction, with what it refers to locked.
 */
static int
insert_tx(struct db *db, const struct principal *p, const struct request *req,
	  struct estsrv *s, int64_t cloned_from, int64_t *id,
	  struct jsonval_error *e)
{
	struct rest_diff d;
	struct rest_what w;
	int64_t newid = 0;
	int r;

	rest_diff_create(&d);
	if ((r = estsrv_validate(db, s, e)) != 0)
		goto out;
	if ((r = db_estsrv_insert(db, s, auth_user_id(p), &newid)) != 0) {
		r = write_refusal(r, e);
		goto out;
	}
	s->id = newid;
	estsrv_what(&w, cloned_from != 0 ? "clone" : "create", s);
	if ((r = estsrv_diff(&d, NULL, s)) != 0 ||
	    (r = rest_diff_bool(&d, "active", 0, s->active)) != 0 ||
	    (cloned_from != 0 &&
	     (r = rest_diff_int(&d, "cloned_from", 0, cloned_from, 1)) != 0) ||
	    (r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
	*id = newid;
out:
	rest_diff_clear(&d);
	return r;
}

/*
 * The tenant of a new server: the body's, else the caller's own (a Tenant
 * Admin), else the organization's (an Admin naming only the organization).
 */
static int
new_tenant(struct db *db, struct json_object *body, const struct principal *p,
	   int64_t org_id, int64_t *tenant_id, struct jsonval_error *e)
{
	struct devtype_place pl;
	int64_t v;
	int r;

	if (jsonval_get_int(body, "tenant_id", &v) == 0) {
		*tenant_id = v;
		return 0;
	}
	if (p->tenant_id != 0) {
		*tenant_id = p->tenant_id;
		return 0;
	}
	memset(&pl, 0, sizeof(pl));
	pl.scope = PERM_SCOPE_ORG;
	pl.org_id = org_id;
	if ((r = devtype_place_check(db, &pl, 0, 0, e)) != 0)
		return r;
	*tenant_id = pl.tenant_id;
	return 0;
}

static int
h_create(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct estsrv *s = NULL;
	struct perm_object o;
	struct rest_what w;
	struct db *db;
	int64_t id = 0, org = 0;
	int r;

	estsrv_what(&w, "create", NULL);
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_CREATE, NULL, &w, &e)) != 0 ||
	    (r = rest_body(req, estsrv_fields, estsrv_nfields, &body, &e)) != 0)
		goto out;
	if (jsonval_presence(body, "domain") != JV_PRESENT) {
		r = jsonval_error_set(&e, EST_E_UNPROCESSABLE, "domain",
				      "required");
		goto out;
	}
	if (jsonval_get_int(body, "org_id", &org) != 0) {
		r = jsonval_error_set(&e, EST_E_UNPROCESSABLE, "org_id",
				      "required");
		goto out;
	}
	if ((s = estsrv_new()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	s->kind = ESTSRV_KIND_DPS;
	s->active = 1;
	s->org_id = org;
	if ((r = estsrv_body_apply(s, body, &e)) != 0 ||
	    (r = new_tenant(db, body, p, org, &s->tenant_id, &e)) != 0)
		goto out;
	place_object(s->tenant_id, s->org_id, &o);
	w.name = s->domain;
	w.tenant_id = s->tenant_id;
	w.org_id = s->org_id;
	/* Another tenant is 404, whether it exists or not. */
	if ((r = rest_perm(db, p, req, PERM_ACT_CREATE, &o, &w, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = insert_tx(db, p, req, s, 0, &id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = rest_send_row(db, &srv_ops, id, 201, rs);
out:
	estsrv_free(s);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

static int
h_clone(struct hctx *c, const struct request *req, const struct principal *p,
	struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct estsrv *s = NULL;
	struct devtype_place pl;
	struct perm_object o;
	struct rest_what w;
	struct db *db;
	int64_t id = 0, src = 0, org = 0;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &src, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = estsrv_load(db, p, req, src, PERM_ACT_CLONE, "clone", &s,
			     &e)) != 0 ||
	    (r = rest_body(req, estsrv_clone_fields, estsrv_clone_nfields,
			   &body, &e)) != 0)
		goto out;
	/* The copy serves the same domain for another organization. */
	(void)jsonval_get_int(body, "org_id", &org);
	memset(&pl, 0, sizeof(pl));
	pl.scope = PERM_SCOPE_ORG;
	pl.org_id = org;
	if ((r = devtype_place_check(db, &pl, 0, 0, &e)) != 0)
		goto out;
	if (pl.tenant_id != s->tenant_id) {
		r = jsonval_error_set(&e, EST_E_UNPROCESSABLE, "org_id",
				      "not an organization of the server's "
				      "tenant");
		goto out;
	}
	if (org == s->org_id) {
		r = jsonval_error_set(&e, EST_E_CONFLICT, "org_id",
				      "the organization already has this "
				      "server");
		goto out;
	}
	s->org_id = org;
	s->active = 1;
	s->nlabels = 0;
	if ((r = estsrv_body_apply(s, body, &e)) != 0)
		goto out;
	place_object(s->tenant_id, s->org_id, &o);
	estsrv_what(&w, "create", s);
	w.id = 0;
	if ((r = rest_perm(db, p, req, PERM_ACT_CREATE, &o, &w, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = insert_tx(db, p, req, s, src, &id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = rest_send_row(db, &srv_ops, id, 201, rs);
out:
	estsrv_free(s);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* ------------------------------------------------------------------ */
/* Change */

/* Where the body moves server cur: tenant and organization. */
static int
new_place(struct db *db, const struct estsrv *cur, struct json_object *body,
	  int64_t *tenant_id, int64_t *org_id, struct jsonval_error *e)
{
	struct devtype_place pl;
	int64_t t = cur->tenant_id, o = cur->org_id, v;
	int r;

	if (jsonval_get_int(body, "org_id", &v) == 0)
		o = v;
	if (jsonval_get_int(body, "tenant_id", &v) == 0) {
		t = v;
	} else if (o != cur->org_id) {
		/* A bare organization brings its tenant. */
		memset(&pl, 0, sizeof(pl));
		pl.scope = PERM_SCOPE_ORG;
		pl.org_id = o;
		if ((r = devtype_place_check(db, &pl, 0, 0, e)) != 0)
			return r;
		t = pl.tenant_id;
	}
	*tenant_id = t;
	*org_id = o;
	return 0;
}

static int
update_tx(struct db *db, const struct principal *p, const struct request *req,
	  int64_t id, struct json_object *body, int64_t tenant_id,
	  int64_t org_id, const struct estsrv *cur, struct jsonval_error *e)
{
	struct estsrv *old = NULL, *s = NULL;
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = estsrv_lock(db, req, id, 1, &old, e)) != 0)
		goto out;
	/* Moved under us (If-Match: *): the permission check is stale. */
	if (old->tenant_id != cur->tenant_id || old->org_id != cur->org_id) {
		r = rest_fail(e, EST_E_PRECONDITION, NULL);
		goto out;
	}
	if ((r = db_estsrv_get(db, id, 0, &s)) != 0 ||
	    (r = estsrv_body_apply(s, body, e)) != 0)
		goto out;
	s->tenant_id = tenant_id;
	s->org_id = org_id;
	/* A label is bound to what its server's kind and place allow. */
	if (old->nlabels > 0 &&
	    (s->kind != old->kind || s->tenant_id != old->tenant_id ||
	     s->org_id != old->org_id)) {
		r = jsonval_error_set(e, EST_E_CONFLICT,
				      s->kind != old->kind	 ? "kind"
				      : s->org_id != old->org_id ? "org_id"
								 : "tenant_id",
				      "delete the server's labels first");
		goto out;
	}
	if ((r = estsrv_validate(db, s, e)) != 0 ||
	    (r = estsrv_diff(&d, old, s)) != 0 || rest_diff_empty(&d))
		goto out;
	if ((r = db_estsrv_replace(db, id, s)) != 0) {
		r = write_refusal(r, e);
		goto out;
	}
	estsrv_what(&w, "update", s);
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	estsrv_free(old);
	estsrv_free(s);
	return r;
}

static int
h_update(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct estsrv *cur = NULL;
	struct perm_object o;
	struct rest_what w;
	struct db *db;
	int64_t id, t = 0, org = 0;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = estsrv_load(db, p, req, id, PERM_ACT_UPDATE, "update", &cur,
			     &e)) != 0 ||
	    (r = rest_body(req, estsrv_fields, estsrv_nfields, &body, &e)) != 0)
		goto out;
	if (jsonval_presence(body, "active") != JV_ABSENT) {
		r = jsonval_error_set(&e, EST_E_UNPROCESSABLE, "active",
				      "use activate or deactivate");
		goto out;
	}
	if ((r = new_place(db, cur, body, &t, &org, &e)) != 0)
		goto out;
	/* Moving it needs the right to have it where it goes too. */
	if (t != cur->tenant_id || org != cur->org_id) {
		place_object(t, org, &o);
		estsrv_what(&w, "update", cur);
		w.tenant_id = t;
		w.org_id = org;
		if ((r = rest_perm(db, p, req, PERM_ACT_UPDATE, &o, &w, &e)) !=
		    0)
			goto out;
	}
	if ((r = db_begin(db)) != 0)
		goto out;
	r = update_tx(db, p, req, id, body, t, org, cur, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = rest_send_row(db, &srv_ops, id, 200, rs);
out:
	estsrv_free(cur);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* ------------------------------------------------------------------ */
/* Delete, activate, deactivate */

/* Only an inactive server is deleted. */
static int
srv_may_delete(struct db *db, const void *row, struct jsonval_error *e)
{
	(void)db;
	if (((const struct estsrv *)row)->active)
		return jsonval_error_set(e, EST_E_CONFLICT, "active",
					 "only an inactive EST server is "
					 "deleted");
	return 0;
}

static int
srv_delete_diff(struct rest_diff *d, const void *row)
{
	const struct estsrv *old = row;
	int r;

	if ((r = estsrv_diff(d, old, NULL)) != 0)
		return r;
	return rest_diff_int(d, "label_count", (int64_t)old->nlabels, 0, 0);
}

static const struct rest_entity_ops srv_ops = {
	.get = srv_get,
	.etag = srv_etag,
	.free = srv_free,
	.what = srv_what,
	.object = srv_object,
	.json = srv_json,
	.base = API_ESTSRV_BASE,
	.active = srv_active,
	.set_active = db_estsrv_set_active,
	.may_delete = srv_may_delete,
	.remove = db_estsrv_delete,
	.delete_diff = srv_delete_diff,
};

AUTH_ROUTE_PUBLIC(api_estsrv_r_list, h_list)
AUTH_ROUTE_PUBLIC(api_estsrv_r_create, h_create)
REST_ROUTE_GET(api_estsrv_r_get, srv_ops)
AUTH_ROUTE_PUBLIC(api_estsrv_r_update, h_update)
REST_ROUTE_DELETE(api_estsrv_r_delete, srv_ops)
REST_ROUTE_ACTIVATE(api_estsrv_r_activate, srv_ops)
REST_ROUTE_DEACTIVATE(api_estsrv_r_deactivate, srv_ops)
AUTH_ROUTE_PUBLIC(api_estsrv_r_clone, h_clone)
