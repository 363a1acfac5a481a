/*
 * The handlers every entity has in the same shape: list, read, change,
 * delete, activate and deactivate one object named by the route's {id}
 * capture, and the transactions of those changes.  The entity gives its
 * access check, its change and its answer (struct rest_entity_ops), or
 * the hooks of its rows from which the generic ones here are made; the
 * order of the checks and the transaction are here once, so that every
 * entity answers the same way.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "resp.h"
#include "rest.h"

/* ------------------------------------------------------------------ */
/* Rows */

/* The hooks, or what ops->res says of a struct db_result. */
static void
row_free(const struct rest_entity_ops *ops, void *row)
{
	if (ops->free != NULL)
		ops->free(row);
	else
		db_result_free(row);
}

int
rest_row_etag(const struct rest_entity_ops *ops, const void *row,
	      char etag[REST_ETAG_MAX])
{
	const struct rest_result *c = ops->res;

	if (ops->etag != NULL)
		return ops->etag(row, etag);
	return rest_etag(c->entity, db_result_i64(row, 0, c->id),
			 db_result_str(row, 0, c->updated_at, NULL), etag);
}

static int
row_json(const struct rest_entity_ops *ops, const void *row,
	 struct json_object **out)
{
	if (ops->json != NULL)
		return ops->json(row, out);
	return rest_row_json(row, 0, ops->res->cols, ops->res->ncols, out);
}

static int
row_active(const struct rest_entity_ops *ops, const void *row)
{
	if (ops->active != NULL)
		return ops->active(row) != 0;
	return db_result_i64(row, 0, ops->res->active) != 0;
}

static void
row_names(const struct rest_entity_ops *ops, const void *row, const char **name,
	  const char **desc)
{
	if (ops->names != NULL) {
		ops->names(row, name, desc);
		return;
	}
	*name = db_result_str(row, 0, ops->res->name, NULL);
	*desc = db_result_str(row, 0, ops->res->description, NULL);
}

int
rest_lock_row(struct db *db, const struct request *req,
	      const struct rest_entity_ops *ops, int64_t id, int need_match,
	      void **out, struct jsonval_error *e)
{
	char etag[REST_ETAG_MAX];
	void *row = NULL;
	int r;

	if ((r = ops->get(db, id, 1, &row)) == EST_E_NOTFOUND)
		return rest_fail(e, r, ops->missing_field);
	if (r != 0)
		return r;
	if ((r = rest_row_etag(ops, row, etag)) != 0 ||
	    ((need_match || req->if_match != NULL) &&
	     (r = rest_if_match(req, etag, e)) != 0)) {
		row_free(ops, row);
		return r;
	}
	*out = row;
	return 0;
}

int
rest_load_row(struct db *db, const struct principal *p,
	      const struct request *req, const struct rest_entity_ops *ops,
	      int64_t id, enum perm_action act, const char *action, void **out,
	      struct jsonval_error *e)
{
	struct perm_object o;
	struct rest_what w;
	void *row = NULL;
	int r;

	if ((r = ops->get(db, id, 0, &row)) == EST_E_NOTFOUND)
		return rest_fail(e, r, ops->missing_field);
	if (r != 0)
		return r;
	if ((r = ops->what(&w, action, row)) != 0 ||
	    (r = ops->object(row, &o)) != 0 ||
	    (r = rest_perm(db, p, req, act, &o, &w, e)) != 0) {
		row_free(ops, row);
		return r;
	}
	if (out != NULL)
		*out = row;
	else
		row_free(ops, row);
	return 0;
}

int
rest_send_row(struct db *db, const struct rest_entity_ops *ops, int64_t id,
	      int status, struct resp *rs)
{
	struct json_object *o = NULL;
	char etag[REST_ETAG_MAX];
	void *row = NULL;
	int r;

	if ((r = ops->get(db, id, 0, &row)) != 0 ||
	    (r = row_json(ops, row, &o)) != 0 ||
	    (r = rest_row_etag(ops, row, etag)) != 0)
		goto out;
	if (status == 201)
		r = rest_created(rs, ops->base, id, o, etag);
	else
		r = rest_send(rs, status, o, etag);
out:
	json_object_put(o);
	if (row != NULL)
		row_free(ops, row);
	return r;
}

int
rest_state_tx(struct db *db, const struct principal *p,
	      const struct request *req, const struct rest_entity_ops *ops,
	      int64_t id, int active, struct jsonval_error *e)
{
	struct rest_diff d;
	struct rest_what w;
	void *row = NULL;
	int r, old;

	rest_diff_init(&d);
	if ((r = rest_lock_row(db, req, ops, id, 0, &row, e)) != 0)
		return r;
	old = row_active(ops, row);
	/* Setting the state it already has changes nothing. */
	if ((r = ops->what(&w, active ? "activate" : "deactivate", row)) != 0 ||
	    old == active)
		goto out;
	if ((r = ops->set_active(db, id, active)) != 0 ||
	    (r = rest_diff_bool(&d, "active", old, active)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	row_free(ops, row);
	return r;
}

int
rest_delete_tx(struct db *db, const struct principal *p,
	       const struct request *req, const struct rest_entity_ops *ops,
	       int64_t id, struct jsonval_error *e)
{
	struct rest_diff d;
	struct rest_what w;
	void *row = NULL;
	int r;

	rest_diff_delete(&d);
	if ((r = rest_lock_row(db, req, ops, id, 1, &row, e)) != 0)
		return r;
	if (ops->may_delete != NULL && (r = ops->may_delete(db, row, e)) != 0)
		goto out;
	/* The foreign keys refuse while anything still refers to it. */
	if ((r = ops->remove(db, id)) == EST_E_CONFLICT) {
		r = rest_fail(e, r, NULL);
		goto out;
	}
	if (r != 0 || (r = ops->what(&w, "delete", row)) != 0 ||
	    (r = ops->delete_diff(&d, row)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	row_free(ops, row);
	return r;
}

int
rest_rename_tx(struct db *db, const struct principal *p,
	       const struct request *req, const struct rest_entity_ops *ops,
	       int64_t id, struct json_object *body, struct jsonval_error *e)
{
	const char *name, *desc, *oname, *odesc;
	struct rest_diff d;
	struct rest_what w;
	void *row = NULL;
	int r;

	rest_diff_init(&d);
	if ((r = rest_lock_row(db, req, ops, id, 1, &row, e)) != 0)
		return r;
	row_names(ops, row, &oname, &odesc);
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
	if ((r = ops->rename(db, id, name, desc)) == EST_E_EXISTS) {
		r = ops->name_taken != NULL
			    ? jsonval_error_set(e, r, "name", "%s",
						ops->name_taken)
			    : rest_fail(e, r, "name");
		goto out;
	}
	if (r != 0 || (r = ops->what(&w, "update", row)) != 0)
		goto out;
	w.name = name;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	row_free(ops, row);
	return r;
}

static int
do_access(struct db *db, const struct principal *p, const struct request *req,
	  const struct rest_entity_ops *ops, int64_t id, enum perm_action act,
	  const char *action, struct jsonval_error *e)
{
	if (ops->access != NULL)
		return ops->access(db, p, req, id, act, action, e);
	return rest_load_row(db, p, req, ops, id, act, action, NULL, e);
}

static int
do_send(struct db *db, const struct rest_entity_ops *ops, int64_t id,
	int status, struct resp *rs)
{
	if (ops->send != NULL)
		return ops->send(db, id, status, rs);
	return rest_send_row(db, ops, id, status, rs);
}

/* ------------------------------------------------------------------ */
/* Lists */

int
rest_list_begin(struct hctx *c, const struct request *req,
		const struct principal *p, enum perm_entity entity,
		const struct rest_qfield *tab, size_t n, struct rest_query *q,
		struct db **db, struct perm_filter *pf, struct jsonval_error *e)
{
	struct perm_actor a;
	struct rest_what w;
	int r;

	memset(&w, 0, sizeof(w));
	w.entity = entity;
	w.action = "list";
	if ((r = rest_query_parse(req, tab, n, q, e)) != 0 ||
	    (r = ctx_db(c, db)) != 0 ||
	    (r = rest_perm(*db, p, req, PERM_ACT_LIST, NULL, &w, e)) != 0)
		return r;
	if (auth_actor(p, &a) != 0 || perm_list_filter(&a, entity, pf) != 0)
		return EST_E_INTERNAL;
	return 0;
}

int
rest_list_scope(const struct perm_filter *pf, int64_t *tenant_id,
		int64_t *org_id)
{
	if (pf->kind == PERM_FILTER_NONE)
		return EST_E_INTERNAL;
	if (tenant_id != NULL)
		*tenant_id = pf->kind != PERM_FILTER_ALL ? pf->tenant_id : 0;
	if (org_id != NULL)
		*org_id = pf->kind == PERM_FILTER_ORG ? pf->org_id : 0;
	return 0;
}

int
rest_page_add_rows(struct rest_page *pg, const struct db_result *res,
		   size_t id_col,
		   int (*json)(const struct db_result *res, size_t row,
			       struct json_object **out),
		   const struct rest_col *cols, size_t ncols)
{
	struct json_object *item;
	size_t i;
	int r;

	for (i = 0; res != NULL && i < db_result_rows(res); i++)
		if ((r = json != NULL ? json(res, i, &item)
				      : rest_row_json(res, i, cols, ncols,
						      &item)) != 0 ||
		    (r = rest_page_add(pg, db_result_i64(res, i, id_col),
				       item)) != 0)
			return r;
	return 0;
}

int
rest_list(struct hctx *c, const struct request *req, const struct principal *p,
	  struct resp *rs, const struct rest_list_def *def)
{
	struct jsonval_error e = {0};
	struct rest_page pg = {0};
	struct db_result *res = NULL;
	struct perm_filter pf;
	struct rest_query q;
	struct db *db;
	int r;

	if ((r = rest_list_begin(c, req, p, def->entity, def->query,
				 def->nquery, &q, &db, &pf, &e)) != 0 ||
	    (r = def->fetch(db, &q, &pf, &res)) != 0 ||
	    (r = rest_page_init(&pg, &q)) != 0 ||
	    (r = rest_page_add_rows(&pg, res, def->id_col, def->json, def->cols,
				    def->ncols)) != 0)
		goto out;
	r = rest_page_send(&pg, rs);
out:
	rest_page_clear(&pg);
	db_result_free(res);
	return rest_answer(rs, r, &e);
}

/* ------------------------------------------------------------------ */
/* Drivers */

enum change_kind {
	CHANGE_UPDATE,
	CHANGE_DELETE,
	CHANGE_ACTIVATE,
	CHANGE_DEACTIVATE,
};

static const struct {
	enum perm_action act;
	const char *action;
	int refuse; /* asks ops->refuse() */
} change_kinds[] = {
	[CHANGE_UPDATE] = {PERM_ACT_UPDATE, "update", 0},
	[CHANGE_DELETE] = {PERM_ACT_DELETE, "delete", 1},
	[CHANGE_ACTIVATE] = {PERM_ACT_ACTIVATE, "activate", 0},
	[CHANGE_DEACTIVATE] = {PERM_ACT_DEACTIVATE, "deactivate", 1},
};

/* The change k of row id with its audit row, inside the transaction. */
static int
change_tx(struct db *db, const struct principal *p, const struct request *req,
	  const struct rest_entity_ops *ops, enum change_kind k, int64_t id,
	  struct json_object *body, struct jsonval_error *e)
{
	int active = k == CHANGE_ACTIVATE;

	switch (k) {
	case CHANGE_UPDATE:
		if (ops->update_tx != NULL)
			return ops->update_tx(db, p, req, id, body, e);
		return rest_rename_tx(db, p, req, ops, id, body, e);
	case CHANGE_DELETE:
		if (ops->delete_tx != NULL)
			return ops->delete_tx(db, p, req, id, e);
		return rest_delete_tx(db, p, req, ops, id, e);
	case CHANGE_ACTIVATE:
	case CHANGE_DEACTIVATE:
		break;
	}
	if (ops->state_tx != NULL)
		return ops->state_tx(db, p, req, id, active, e);
	return rest_state_tx(db, p, req, ops, id, active, e);
}

/*
 * A change of the object of the route's {id}: no query, a body only for
 * an update (checked after access, so that a refusal does not depend on
 * it), a valid id, access(), refuse(); then the change in a transaction
 * and the answer: 204 for a delete, else the object.
 */
static int
change(struct hctx *c, const struct request *req, const struct principal *p,
       struct resp *rs, const struct rest_entity_ops *ops, enum change_kind k)
{
	const char *action = change_kinds[k].action;
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db *db = NULL;
	int64_t id = 0;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (k != CHANGE_UPDATE && (r = rest_body_none(req, &e)) != 0) ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = do_access(db, p, req, ops, id, change_kinds[k].act, action,
			   &e)) != 0 ||
	    (change_kinds[k].refuse && ops->refuse != NULL &&
	     (r = ops->refuse(p, id, action, &e)) != 0) ||
	    (k == CHANGE_UPDATE &&
	     (r = rest_body(req, ops->update_fields, ops->update_nfields, &body,
			    &e)) != 0) ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = change_tx(db, p, req, ops, k, id, body, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	if (k == CHANGE_DELETE)
		r = resp_empty(rs, 204);
	else
		r = do_send(db, ops, id, 200, rs);
out:
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

int
rest_get(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs, const struct rest_entity_ops *ops)
{
	struct jsonval_error e = {0};
	struct db *db = NULL;
	int64_t id = 0;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = do_access(db, p, req, ops, id, PERM_ACT_READ, "read", &e)) !=
		    0)
		goto out;
	r = do_send(db, ops, id, 200, rs);
out:
	return rest_answer(rs, r, &e);
}

int
rest_update(struct hctx *c, const struct request *req,
	    const struct principal *p, struct resp *rs,
	    const struct rest_entity_ops *ops)
{
	return change(c, req, p, rs, ops, CHANGE_UPDATE);
}

int
rest_delete(struct hctx *c, const struct request *req,
	    const struct principal *p, struct resp *rs,
	    const struct rest_entity_ops *ops)
{
	return change(c, req, p, rs, ops, CHANGE_DELETE);
}

int
rest_set_active(struct hctx *c, const struct request *req,
		const struct principal *p, struct resp *rs,
		const struct rest_entity_ops *ops, int active)
{
	return change(c, req, p, rs, ops,
		      active ? CHANGE_ACTIVATE : CHANGE_DEACTIVATE);
}
