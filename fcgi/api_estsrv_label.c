/*
 * The labels of an EST server (guide §2.3.4 "Arbitrary Label"): requests
 * to /.well-known/est/<label>/... of the server's domain are served with
 * the label's device type (dps) or template (cms).  A label is 3-24
 * lowercase letters and digits, unique per domain (409 when another
 * server of the domain has it), and names something active that the
 * server's organization can use.  Reading needs read access to the
 * server; adding, rebinding and deleting need update access, and each
 * change is audited on the server (actions label_create, label_update,
 * label_delete) and moves the server's ETag.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "api_estsrv.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "estsrv.h"
#include "resp.h"
#include "rest.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Base path of a server's labels, for Location. */
#define LABELS_PATH_MAX 64

static int
label_send(const struct estsrv_label *l, int status, struct resp *rs)
{
	struct json_object *o = NULL;
	char base[LABELS_PATH_MAX];
	int r;

	if ((r = estsrv_label_json(l, &o)) != 0)
		return r;
	if (status == 201) {
		snprintf(base, sizeof(base), API_ESTSRV_BASE "/%lld/labels",
			 (long long)l->server_id);
		r = rest_created(rs, base, l->id, o, NULL);
	} else {
		r = rest_send(rs, status, o, NULL);
	}
	json_object_put(o);
	return r;
}

static int
label_audit(struct db *db, const struct principal *p, const struct request *req,
	    const char *action, const struct estsrv *s,
	    const struct estsrv_label *old, const struct estsrv_label *new_)
{
	struct rest_diff d;
	struct rest_what w;
	const struct estsrv_label *l = new_ != NULL ? new_ : old;
	int r;

	rest_diff_init(&d);
	if (old == NULL)
		rest_diff_create(&d);
	else if (new_ == NULL)
		rest_diff_delete(&d);
	estsrv_what(&w, action, s);
	if ((r = rest_diff_int(&d, "label_id", l->id, l->id, 1)) != 0 ||
	    (r = rest_diff_str(&d, "label", old ? old->label : NULL,
			       new_ ? new_->label : NULL)) != 0 ||
	    (r = rest_diff_int(&d, "device_type_id",
			       old ? old->device_type_id : 0,
			       new_ ? new_->device_type_id : 0, 1)) != 0 ||
	    (r = rest_diff_int(&d, "template_id", old ? old->template_id : 0,
			       new_ ? new_->template_id : 0, 1)) != 0)
		goto out;
	/* An update that names the same target changes nothing. */
	if (old != NULL && new_ != NULL &&
	    old->device_type_id == new_->device_type_id &&
	    old->template_id == new_->template_id)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	return r;
}

static int
h_labels(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct estsrv_label *l = NULL;
	struct json_object *o = NULL, *items = NULL, *x;
	struct db *db;
	size_t n = 0, i;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = estsrv_load(db, p, req, id, PERM_ACT_READ, "read", NULL,
			     &e)) != 0 ||
	    (r = db_estsrv_labels(db, id, &l, &n)) != 0)
		goto out;
	if ((o = json_object_new_object()) == NULL ||
	    (items = json_object_new_array()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = estsrv_label_json(&l[i], &x)) != 0)
			goto out;
		if (json_object_array_add(items, x) != 0) {
			json_object_put(x);
			r = EST_E_NOMEM;
			goto out;
		}
	}
	r = rest_put_obj(o, "items", items);
	items = NULL;
	if (r == 0 && (r = rest_put_obj(o, "next_cursor", NULL)) == 0)
		r = rest_send(rs, 200, o, NULL);
out:
	json_object_put(items);
	json_object_put(o);
	db_estsrv_labels_free(l, n);
	return rest_answer(rs, r, &e);
}

static int
add_tx(struct db *db, const struct principal *p, const struct request *req,
       int64_t id, struct json_object *body, struct estsrv_label *l,
       struct jsonval_error *e)
{
	struct estsrv *s = NULL;
	int r;

	if ((r = estsrv_lock(db, req, id, 0, &s, e)) != 0)
		return r;
	if (s->nlabels >= ESTSRV_LABELS_MAX) {
		r = jsonval_error_set(e, EST_E_CONFLICT, "label",
				      "the server has %d labels already",
				      ESTSRV_LABELS_MAX);
		goto out;
	}
	l->server_id = id;
	if ((r = estsrv_label_target(db, s, body, l, e)) != 0)
		goto out;
	if ((r = db_estsrv_label_insert(db, l, &l->id)) == EST_E_EXISTS) {
		r = jsonval_error_set(e, r, "label",
				      "the domain already has this label");
		goto out;
	}
	if (r == 0)
		r = label_audit(db, p, req, "label_create", s, NULL, l);
out:
	estsrv_free(s);
	return r;
}

static int
h_label_add(struct hctx *c, const struct request *req,
	    const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct estsrv_label l, got;
	struct db *db;
	int64_t id;
	const char *name;
	int r;

	memset(&l, 0, sizeof(l));
	memset(&got, 0, sizeof(got));
	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = estsrv_load(db, p, req, id, PERM_ACT_UPDATE, "label_create",
			     NULL, &e)) != 0 ||
	    (r = rest_body(req, estsrv_label_fields, estsrv_label_nfields,
			   &body, &e)) != 0)
		goto out;
	if ((name = jsonval_get_string(body, "label")) == NULL) {
		r = jsonval_error_set(&e, EST_E_UNPROCESSABLE, "label",
				      "required");
		goto out;
	}
	memcpy(l.label, name, strlen(name) + 1);
	if ((r = db_begin(db)) != 0)
		goto out;
	r = add_tx(db, p, req, id, body, &l, &e);
	if ((r = rest_tx_end(db, r)) != 0 ||
	    (r = db_estsrv_label_get(db, id, l.id, &got)) != 0)
		goto out;
	r = label_send(&got, 201, rs);
out:
	estsrv_label_free(&got);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* The route's server and label ids, with access act to the server. */
static int
label_prepare(struct hctx *c, const struct request *req,
	      const struct principal *p, enum perm_action act,
	      const char *action, struct db **db, int64_t *id, int64_t *lid,
	      struct jsonval_error *e)
{
	int r;

	if ((r = rest_query_none(req, e)) != 0 ||
	    (r = rest_cap_id(c, "id", id, e)) != 0 ||
	    (r = rest_cap_id(c, "label_id", lid, e)) != 0 ||
	    (r = ctx_db(c, db)) != 0 ||
	    (r = estsrv_load(*db, p, req, *id, act, action, NULL, e)) != 0)
		return r;
	return 0;
}

static int
h_label_get(struct hctx *c, const struct request *req,
	    const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct estsrv_label l;
	struct db *db;
	int64_t id, lid;
	int r;

	memset(&l, 0, sizeof(l));
	if ((r = label_prepare(c, req, p, PERM_ACT_READ, "read", &db, &id, &lid,
			       &e)) != 0)
		goto out;
	if ((r = db_estsrv_label_get(db, id, lid, &l)) == EST_E_NOTFOUND) {
		r = rest_fail(&e, r, "label_id");
		goto out;
	}
	if (r == 0)
		r = label_send(&l, 200, rs);
out:
	estsrv_label_free(&l);
	return rest_answer(rs, r, &e);
}

/*
 * The server locked for a change of one of its labels, and the label as
 * it is.  404 naming "label_id" for a label of another server.
 */
static int
label_lock(struct db *db, const struct request *req, int64_t id, int64_t lid,
	   struct estsrv **s, struct estsrv_label *l, struct jsonval_error *e)
{
	int r;

	if ((r = estsrv_lock(db, req, id, 0, s, e)) != 0)
		return r;
	if ((r = db_estsrv_label_get(db, id, lid, l)) == EST_E_NOTFOUND)
		r = rest_fail(e, r, "label_id");
	return r;
}

static int
update_tx(struct db *db, const struct principal *p, const struct request *req,
	  int64_t id, int64_t lid, struct json_object *body,
	  struct jsonval_error *e)
{
	struct estsrv_label old, l;
	struct estsrv *s = NULL;
	const char *name;
	int r;

	memset(&old, 0, sizeof(old));
	if ((r = label_lock(db, req, id, lid, &s, &old, e)) != 0)
		goto out;
	/* The label is the name clients use: it is not renamed. */
	if ((name = jsonval_get_string(body, "label")) != NULL &&
	    strcmp(name, old.label) != 0) {
		r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "label",
				      "a label is not renamed: add another");
		goto out;
	}
	l = old;
	if ((r = estsrv_label_target(db, s, body, &l, e)) != 0)
		goto out;
	if (l.device_type_id == old.device_type_id &&
	    l.template_id == old.template_id)
		goto out;
	if ((r = db_estsrv_label_update(db, id, lid, &l)) == 0)
		r = label_audit(db, p, req, "label_update", s, &old, &l);
out:
	estsrv_label_free(&old);
	estsrv_free(s);
	return r;
}

static int
h_label_update(struct hctx *c, const struct request *req,
	       const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct estsrv_label l;
	struct db *db;
	int64_t id, lid;
	int r;

	memset(&l, 0, sizeof(l));
	if ((r = label_prepare(c, req, p, PERM_ACT_UPDATE, "label_update", &db,
			       &id, &lid, &e)) != 0 ||
	    (r = rest_body(req, estsrv_label_fields, estsrv_label_nfields,
			   &body, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = update_tx(db, p, req, id, lid, body, &e);
	if ((r = rest_tx_end(db, r)) != 0 ||
	    (r = db_estsrv_label_get(db, id, lid, &l)) != 0)
		goto out;
	r = label_send(&l, 200, rs);
out:
	estsrv_label_free(&l);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

static int
delete_tx(struct db *db, const struct principal *p, const struct request *req,
	  int64_t id, int64_t lid, struct jsonval_error *e)
{
	struct estsrv_label old;
	struct estsrv *s = NULL;
	int r;

	memset(&old, 0, sizeof(old));
	if ((r = label_lock(db, req, id, lid, &s, &old, e)) == 0 &&
	    (r = db_estsrv_label_delete(db, id, lid)) == 0)
		r = label_audit(db, p, req, "label_delete", s, &old, NULL);
	estsrv_label_free(&old);
	estsrv_free(s);
	return r;
}

static int
h_label_delete(struct hctx *c, const struct request *req,
	       const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db *db;
	int64_t id, lid;
	int r;

	if ((r = label_prepare(c, req, p, PERM_ACT_UPDATE, "label_delete", &db,
			       &id, &lid, &e)) != 0 ||
	    (r = rest_body_none(req, &e)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = delete_tx(db, p, req, id, lid, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = resp_empty(rs, 204);
out:
	return rest_answer(rs, r, &e);
}

AUTH_ROUTE_PUBLIC(api_estsrv_r_labels, h_labels)
AUTH_ROUTE_PUBLIC(api_estsrv_r_label_add, h_label_add)
AUTH_ROUTE_PUBLIC(api_estsrv_r_label_get, h_label_get)
AUTH_ROUTE_PUBLIC(api_estsrv_r_label_update, h_label_update)
AUTH_ROUTE_PUBLIC(api_estsrv_r_label_delete, h_label_delete)
