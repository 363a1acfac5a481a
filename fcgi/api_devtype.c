/*
 * Device types (guide §2.1): list, create, read, change, delete, activate,
 * deactivate and clone (fcgi/api_devtype.h).  Admin manages all of them,
 * a Tenant Admin those of its tenant, the auditors read them and the
 * operators read the ones they may use to create devices (lib/perm.c).
 *
 * Every handler validates the request (query, body) and asks the
 * permission table (rest_perm, which audits a refusal) before it opens the
 * transaction that validates the whole device type against the database
 * (api_devtype_check.c), writes it with its children and appends the
 * audit row, so a refusal writes nothing.  Changes and deletes need
 * If-Match (428 without, 412 when stale); activate and deactivate check
 * it when it is sent.  A device type is deleted only when inactive and
 * unused by devices and EST servers (409); deleting cannot be undone.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "api_devtype.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "devtype.h"
#include "err.h"
#include "resp.h"
#include "rest.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const list_scopes[] = {SCOPE_GLOBAL, SCOPE_TENANT, SCOPE_ORG,
					  NULL};
static const char *const list_sources[] = {"none", "internal", "external",
					   NULL};

static const struct rest_qfield list_query[] = {
	{.name = "name", .type = REST_Q_STRING, .max_len = DEVTYPE_NAME_MAX},
	{.name = "name_contains",
	 .type = REST_Q_STRING,
	 .max_len = DEVTYPE_NAME_MAX},
	{.name = "scope", .type = REST_Q_ENUM, .enum_values = list_scopes},
	{.name = "tenant_id", .type = REST_Q_ID},
	{.name = "org_id", .type = REST_Q_ID},
	{.name = "active", .type = REST_Q_BOOL},
	{.name = "dar", .type = REST_Q_BOOL},
	{.name = "factory_source",
	 .type = REST_Q_ENUM,
	 .enum_values = list_sources},
	{.name = "template_id", .type = REST_Q_ID},
	{.name = "external_ca_id", .type = REST_Q_ID},
};

static void
dt_what(struct rest_what *w, const char *action, const struct devtype *dt)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_DEVICE_TYPE;
	w->action = action;
	if (dt != NULL) {
		w->id = dt->id;
		w->name = dt->name;
		w->tenant_id = dt->tenant_id;
		w->org_id = dt->org_id;
	}
}

/* Where dt lives, as a placement; EST_E_INTERNAL for a global one. */
static int
dt_place(const struct devtype *dt, struct devtype_place *pl)
{
	enum perm_scope s;

	memset(pl, 0, sizeof(*pl));
	if (perm_scope_from_name(dt->scope, &s) != 0)
		return EST_E_INTERNAL;
	pl->scope = s;
	pl->tenant_id = dt->tenant_id;
	pl->org_id = dt->org_id;
	return 0;
}

/* The row hooks of dt_ops: a row is a struct devtype. */
REST_ROW_GET(dt_get, struct devtype, db_devtype_get)

static int
dt_object(const void *row, struct perm_object *o)
{
	const struct devtype *dt = row;

	memset(o, 0, sizeof(*o));
	if (perm_scope_from_name(dt->scope, &o->scope) != 0)
		return EST_E_INTERNAL;
	o->tenant_id = dt->tenant_id;
	o->org_id = dt->org_id;
	return 0;
}

static int
dt_etag(const void *row, char etag[REST_ETAG_MAX])
{
	const struct devtype *dt = row;

	return rest_etag(perm_entity_name(PERM_ENT_DEVICE_TYPE), dt->id,
			 dt->updated_at, etag);
}

static void
dt_free(void *row)
{
	devtype_free(row);
}

static int
dt_row_what(struct rest_what *w, const char *action, const void *row)
{
	dt_what(w, action, row);
	return 0;
}

static int
dt_json(const void *row, struct json_object **out)
{
	return devtype_json(row, 1, out);
}

static int
dt_active(const void *row)
{
	return ((const struct devtype *)row)->active;
}

static const struct rest_entity_ops dt_ops;

static int
same_place(const struct devtype_place *a, const struct devtype_place *b)
{
	return a->scope == b->scope && a->tenant_id == b->tenant_id &&
	       a->org_id == b->org_id;
}

/*
 * Reads device type id and asks whether p may act on it: 404 for one that
 * does not exist or that p may not know of.  *out receives the device
 * type.
 */
REST_ROW_LOAD(static, dt_load, struct devtype, dt_ops)

/* The device type locked for a change, with If-Match checked. */
REST_ROW_LOCK(static, dt_lock, struct devtype, dt_ops)

/* ------------------------------------------------------------------ */
/* List, read */

static int
h_list(struct hctx *c, const struct request *req, const struct principal *p,
       struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_devtype_filter f;
	struct devtype **list = NULL;
	struct rest_page pg = {0};
	struct json_object *item;
	struct perm_filter pf;
	struct rest_query q;
	struct db *db;
	size_t n = 0, i;
	int r;

	memset(&f, 0, sizeof(f));
	if ((r = rest_list_begin(c, req, p, PERM_ENT_DEVICE_TYPE, list_query,
				 NELEM(list_query), &q, &db, &pf, &e)) != 0 ||
	    (r = rest_list_scope(&pf, &f.scope_tenant, &f.scope_org)) != 0)
		goto out;
	f.scope_shared = pf.shared;
	f.name = rest_q_str(&q, "name");
	f.name_contains = rest_q_str(&q, "name_contains");
	f.scope = rest_q_str(&q, "scope");
	f.factory_source = rest_q_str(&q, "factory_source");
	f.tenant_id = rest_q_int_or(&q, "tenant_id", 0);
	f.org_id = rest_q_int_or(&q, "org_id", 0);
	f.template_id = rest_q_int_or(&q, "template_id", 0);
	f.external_ca_id = rest_q_int_or(&q, "external_ca_id", 0);
	f.active = (int)rest_q_int_or(&q, "active", -1);
	f.dar = (int)rest_q_int_or(&q, "dar", -1);
	if ((r = db_devtype_list(db, &f, q.after_id, rest_page_fetch(&q), &list,
				 &n)) != 0 ||
	    (r = rest_page_init(&pg, &q)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = devtype_json(list[i], 0, &item)) != 0 ||
		    (r = rest_page_add(&pg, list[i]->id, item)) != 0)
			goto out;
	r = rest_page_send(&pg, rs);
out:
	rest_page_clear(&pg);
	db_devtype_list_free(list, n);
	return rest_answer(rs, r, &e);
}

/* ------------------------------------------------------------------ */
/* Create, clone */

/*
 * Writes the new device type dt at pl (checked again, locked, and it
 * must be active) with its audit row: action "create", or "clone" with
 * the source's id.
 */
static int
insert_tx(struct db *db, const struct principal *p, const struct request *req,
	  struct devtype *dt, struct devtype_place *pl, int64_t cloned_from,
	  int64_t *id, struct jsonval_error *e)
{
	struct rest_diff d;
	struct rest_what w;
	int64_t newid = 0;
	int r;

	rest_diff_create(&d);
	if ((r = devtype_place_check(db, pl, 1, 1, e)) != 0 ||
	    (r = devtype_place_set(dt, pl)) != 0 ||
	    (r = devtype_validate(db, dt, e)) != 0)
		goto out;
	dt->active = 1;
	if ((r = db_devtype_insert(db, dt, auth_user_id(p), &newid)) ==
	    EST_E_EXISTS) {
		r = rest_fail(e, r, "name");
		goto out;
	}
	if (r != 0)
		goto out;
	dt->id = newid;
	dt_what(&w, cloned_from != 0 ? "clone" : "create", dt);
	if ((r = devtype_diff(&d, NULL, dt)) != 0 ||
	    (r = rest_diff_bool(&d, "active", 0, 1)) != 0 ||
	    (cloned_from != 0 &&
	     (r = rest_diff_int(&d, "cloned_from", 0, cloned_from, 1)) != 0) ||
	    (r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
	*id = newid;
out:
	rest_diff_clear(&d);
	return r;
}

static int
h_create(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct devtype *dt = NULL;
	struct devtype_place pl;
	struct perm_object o;
	struct rest_what w;
	struct db *db;
	int64_t id = 0;
	int r;

	memset(&pl, 0, sizeof(pl));
	dt_what(&w, "create", NULL);
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_CREATE, NULL, &w, &e)) != 0 ||
	    (r = rest_body(req, devtype_fields, devtype_nfields, &body, &e)) !=
		    0)
		goto out;
	if (jsonval_presence(body, "name") != JV_PRESENT) {
		r = jsonval_error_set(&e, EST_E_UNPROCESSABLE, "name",
				      "required");
		goto out;
	}
	if ((dt = devtype_new()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = devtype_body_apply(dt, body, &e)) != 0 ||
	    (r = devtype_place_read(body, p, &pl, &e)) != 0 ||
	    /* Only an Admin names an organization without its tenant. */
	    (pl.tenant_id == 0 &&
	     (r = devtype_place_check(db, &pl, 0, 0, &e)) != 0))
		goto out;
	devtype_place_object(&pl, &o);
	w.name = dt->name;
	w.tenant_id = o.tenant_id;
	w.org_id = o.org_id;
	/* Another tenant is 404, whether it exists or not. */
	if ((r = rest_perm(db, p, req, PERM_ACT_CREATE, &o, &w, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = insert_tx(db, p, req, dt, &pl, 0, &id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = rest_send_row(db, &dt_ops, id, 201, rs);
out:
	devtype_free(dt);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

static int
h_clone(struct hctx *c, const struct request *req, const struct principal *p,
	struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct devtype *dt = NULL;
	struct devtype_place pl;
	struct perm_object o;
	struct rest_what w;
	struct db *db;
	int64_t id = 0, src = 0;
	char *name = NULL;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &src, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = dt_load(db, p, req, src, PERM_ACT_CLONE, "clone", &dt, &e)) !=
		    0 ||
	    (r = rest_body(req, devtype_clone_fields, devtype_clone_nfields,
			   &body, &e)) != 0)
		goto out;
	/* The copy lives where the original does, under a new name. */
	if ((name = strdup(jsonval_get_string(body, "name"))) == NULL ||
	    (jsonval_presence(body, "description") != JV_ABSENT &&
	     (r = devtype_body_apply(dt, body, &e)) != 0)) {
		r = r != 0 ? r : EST_E_NOMEM;
		goto out;
	}
	free(dt->name);
	dt->name = name;
	name = NULL;
	if ((r = dt_place(dt, &pl)) != 0)
		goto out;
	devtype_place_object(&pl, &o);
	dt_what(&w, "create", dt);
	w.id = 0;
	if ((r = rest_perm(db, p, req, PERM_ACT_CREATE, &o, &w, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = insert_tx(db, p, req, dt, &pl, src, &id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = rest_send_row(db, &dt_ops, id, 201, rs);
out:
	free(name);
	devtype_free(dt);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* ------------------------------------------------------------------ */
/* Change */

/*
 * Refuses a change of an attribute's type while devices hold values of
 * it: their values would stop being values of the attribute.
 */
static int
attr_types_kept(struct db *db, const struct devtype *old,
		const struct devtype *new_, struct jsonval_error *e)
{
	char field[48];
	int64_t n = 0;
	size_t i, j;
	int r;

	for (i = 0; i < new_->nattrs; i++)
		for (j = 0; j < old->nattrs; j++) {
			if (strcasecmp(old->attrs[j].name,
				       new_->attrs[i].name) != 0 ||
			    old->attrs[j].type == new_->attrs[i].type)
				continue;
			if ((r = db_devtype_attr_in_use(db, old->attrs[j].id,
							&n)) != 0)
				return r;
			if (n > 0) {
				snprintf(field, sizeof(field),
					 "attributes[%zu].type", i);
				return jsonval_error_set(
					e, EST_E_CONFLICT, field,
					"devices hold values of this "
					"attribute");
			}
		}
	return 0;
}

/*
 * The placement the body gives device type dt, with the tenant of a bare
 * organization read from the database.
 */
static int
new_place(struct db *db, const struct devtype *dt, struct json_object *body,
	  const struct principal *p, struct devtype_place *pl,
	  struct jsonval_error *e)
{
	int r;

	if ((r = dt_place(dt, pl)) != 0 ||
	    (r = devtype_place_read(body, p, pl, e)) != 0)
		return r;
	if (pl->tenant_id == 0)
		return devtype_place_check(db, pl, 0, 0, e);
	return 0;
}

static int
update_tx(struct db *db, const struct principal *p, const struct request *req,
	  int64_t id, struct json_object *body,
	  const struct devtype_place *checked, struct jsonval_error *e)
{
	struct devtype *old = NULL, *dt = NULL;
	struct devtype_place pl, opl;
	struct rest_diff d;
	struct rest_what w;
	int64_t n = 0;
	int r;

	rest_diff_init(&d);
	if ((r = dt_lock(db, req, id, 1, &old, e)) != 0 ||
	    (r = dt_place(old, &opl)) != 0 ||
	    (r = new_place(db, old, body, p, &pl, e)) != 0)
		goto out;
	/* Moved under us (If-Match: *): the permission check is stale. */
	if (!same_place(&pl, checked)) {
		r = rest_fail(e, EST_E_PRECONDITION, NULL);
		goto out;
	}
	if (!same_place(&pl, &opl)) {
		if ((r = devtype_place_check(db, &pl, 1, 1, e)) != 0 ||
		    (r = db_devtype_misplaced(
			     db, id, pl.tenant_id,
			     pl.scope == PERM_SCOPE_ORG ? pl.org_id : 0, &n)) !=
			    0)
			goto out;
		if (n > 0) {
			r = jsonval_error_set(
				e, EST_E_CONFLICT,
				pl.tenant_id != opl.tenant_id ? "tenant_id"
							      : "org_id",
				"devices or EST servers elsewhere use it");
			goto out;
		}
	}
	if ((r = db_devtype_get(db, id, 0, &dt)) != 0 ||
	    (r = devtype_body_apply(dt, body, e)) != 0 ||
	    (r = devtype_place_set(dt, &pl)) != 0 ||
	    (r = devtype_validate(db, dt, e)) != 0 ||
	    (r = attr_types_kept(db, old, dt, e)) != 0 ||
	    (r = devtype_diff(&d, old, dt)) != 0 || rest_diff_empty(&d))
		goto out;
	if ((r = db_devtype_replace(db, id, dt)) == EST_E_EXISTS) {
		r = rest_fail(e, r, "name");
		goto out;
	}
	dt_what(&w, "update", dt);
	if (r == 0)
		r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	devtype_free(old);
	devtype_free(dt);
	return r;
}

static int
h_update(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct devtype *cur = NULL;
	struct devtype_place pl, opl;
	struct perm_object o;
	struct rest_what w;
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = dt_load(db, p, req, id, PERM_ACT_UPDATE, "update", &cur,
			 &e)) != 0 ||
	    (r = rest_body(req, devtype_fields, devtype_nfields, &body, &e)) !=
		    0 ||
	    (r = dt_place(cur, &opl)) != 0 ||
	    (r = new_place(db, cur, body, p, &pl, &e)) != 0)
		goto out;
	/* Moving it needs the right to have it where it goes too. */
	if (!same_place(&pl, &opl)) {
		devtype_place_object(&pl, &o);
		dt_what(&w, "update", cur);
		w.tenant_id = o.tenant_id;
		w.org_id = o.org_id;
		if ((r = rest_perm(db, p, req, PERM_ACT_UPDATE, &o, &w, &e)) !=
		    0)
			goto out;
	}
	if ((r = db_begin(db)) != 0)
		goto out;
	r = update_tx(db, p, req, id, body, &pl, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = rest_send_row(db, &dt_ops, id, 200, rs);
out:
	devtype_free(cur);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* ------------------------------------------------------------------ */
/* Delete, activate, deactivate */

/* Only an inactive device type that nothing uses is deleted. */
static int
dt_may_delete(struct db *db, const void *row, struct jsonval_error *e)
{
	const struct devtype *old = row;
	int64_t devices = 0, servers = 0;
	int r;

	if (old->active)
		return jsonval_error_set(e, EST_E_CONFLICT, "active",
					 "only an inactive device type is "
					 "deleted");
	if ((r = db_devtype_usage(db, old->id, &devices, &servers)) != 0)
		return r;
	if (devices > 0 || servers > 0)
		return jsonval_error_set(e, EST_E_CONFLICT, NULL,
					 "devices or EST servers use it");
	return 0;
}

static int
dt_delete_diff(struct rest_diff *d, const void *row)
{
	int r;

	if ((r = devtype_diff(d, row, NULL)) != 0)
		return r;
	return rest_diff_bool(d, "active", 0, 0);
}

static const struct rest_entity_ops dt_ops = {
	.get = dt_get,
	.etag = dt_etag,
	.free = dt_free,
	.what = dt_row_what,
	.object = dt_object,
	.json = dt_json,
	.base = API_DEVTYPE_BASE,
	.active = dt_active,
	.set_active = db_devtype_set_active,
	.may_delete = dt_may_delete,
	.remove = db_devtype_delete,
	.delete_diff = dt_delete_diff,
};

AUTH_ROUTE_PUBLIC(api_devtype_r_list, h_list)
AUTH_ROUTE_PUBLIC(api_devtype_r_create, h_create)
REST_ROUTE_GET(api_devtype_r_get, dt_ops)
AUTH_ROUTE_PUBLIC(api_devtype_r_update, h_update)
REST_ROUTE_DELETE(api_devtype_r_delete, dt_ops)
REST_ROUTE_ACTIVATE(api_devtype_r_activate, dt_ops)
REST_ROUTE_DEACTIVATE(api_devtype_r_deactivate, dt_ops)
AUTH_ROUTE_PUBLIC(api_devtype_r_clone, h_clone)
