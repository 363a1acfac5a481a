/*
 * Certificate templates (guide §1, Certificate Management Service): what
 * a certificate issued from them looks like (api_template_body.c reads
 * and checks the settings) and which CA signs it.
 *
 * The CA must exist, be one the creator may read, be usable from the
 * template's scope (a global template takes a global CA; a tenant's or an
 * organization's template a global CA or one of its tenant, an
 * organization's CA only for that organization), and, when it is chosen,
 * be active with its certificate.  Custom extensions follow the same
 * scope rule, must be active when attached and may not repeat an OID.
 * A template is deleted only when inactive and when no certificate, batch
 * job, device type or EST server names it (409 otherwise).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_pki.h"
#include "api_template.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "resp.h"
#include "rest.h"
#include "template.h"
#include "tmpl.h"

#define TMPL_BASE "/api/v1/cert-templates"
#define TMPL_ENTITY "cert_template"
/* Audit details above this size name the field lists instead. */
#define TMPL_AUDIT_MAX (32 * 1024)

static const char *const type_enum[] = {"factory", "operational", "general",
					NULL};

static const struct rest_qfield tmpl_query[] = {
	{.name = "name", .type = REST_Q_STRING, .max_len = TMPL_NAME_MAX},
	{.name = "name_contains",
	 .type = REST_Q_STRING,
	 .max_len = TMPL_NAME_MAX},
	{.name = "type", .type = REST_Q_ENUM, .enum_values = type_enum},
	{.name = "ca_id", .type = REST_Q_ID},
	{.name = "scope", .type = REST_Q_ENUM, .enum_values = pki_scope_names},
	{.name = "tenant_id", .type = REST_Q_ID},
	{.name = "org_id", .type = REST_Q_ID},
	{.name = "active", .type = REST_Q_BOOL},
};

static int
tmpl_scope(const struct tmpl *t, struct pki_scope *s)
{
	return pki_scope_from_row(t->scope, t->tenant_id, t->org_id, s);
}

static int
tmpl_set_scope(struct tmpl *t, const struct pki_scope *s)
{
	char *n;

	if ((n = strdup(perm_scope_name(s->scope))) == NULL)
		return EST_E_NOMEM;
	free(t->scope);
	t->scope = n;
	t->tenant_id = s->tenant_id;
	t->org_id = s->org_id;
	return 0;
}

static void
tmpl_what(struct rest_what *w, const char *action, int64_t id, const char *name,
	  const struct pki_scope *s)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_CERT_TEMPLATE;
	w->action = action;
	w->id = id;
	w->name = name;
	if (s != NULL) {
		w->tenant_id = s->tenant_id;
		w->org_id = s->org_id;
	}
}

/* The row hooks of tmpl_ops: a row is a struct tmpl. */
REST_ROW_GET(tmpl_get, struct tmpl, db_template_get)

static int
tmpl_etag(const void *row, char etag[REST_ETAG_MAX])
{
	const struct tmpl *t = row;

	return rest_etag(TMPL_ENTITY, t->id, t->updated_at, etag);
}

static void
tmpl_row_free(void *row)
{
	tmpl_free(row);
}

static int
tmpl_row_what(struct rest_what *w, const char *action, const void *row)
{
	const struct tmpl *t = row;
	struct pki_scope s;
	int r;

	if ((r = tmpl_scope(t, &s)) != 0)
		return r;
	tmpl_what(w, action, t->id, t->name, &s);
	return 0;
}

static int
tmpl_object(const void *row, struct perm_object *o)
{
	struct pki_scope s;
	int r;

	if ((r = tmpl_scope(row, &s)) != 0)
		return r;
	pki_scope_object(&s, o);
	return 0;
}

static int
tmpl_json(const void *row, struct json_object **out)
{
	return tmpl_body_json(row, TMPL_JSON_FULL, out);
}

static int
tmpl_active(const void *row)
{
	return ((const struct tmpl *)row)->active;
}

static const struct rest_entity_ops tmpl_ops;

/*
 * Reads template id and asks whether p may act on it (404 for one that
 * does not exist or that p may not know of); *out, when not NULL, gets
 * the template.
 */
REST_ROW_LOAD(static, tmpl_access_get, struct tmpl, tmpl_ops)

/* Reads the template locked for a change and checks If-Match. */
REST_ROW_LOCK(static, tmpl_lock, struct tmpl, tmpl_ops)

/* ------------------------------------------------------------------ */
/* What a template uses */

/*
 * The CA of t: one that p may read and that t's scope may use; chosen
 * (a new template, or a new ca_id) it must also be active and have its
 * certificate.  A CA p may not see reads as one that does not exist.
 */
static int
check_ca(struct db *db, const struct principal *p, const struct tmpl *t,
	 int chosen, struct jsonval_error *e)
{
	struct pki_scope ts, cs;
	struct db_ca *ca = NULL;
	struct perm_object o;
	struct perm_actor a;
	int r;

	if ((r = tmpl_scope(t, &ts)) != 0)
		return r;
	if ((r = db_ca_get(db, t->ca_id, &ca)) == EST_E_NOTFOUND)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "ca_id",
					 "no such CA");
	if (r != 0)
		return r;
	if ((r = pki_scope_from_row(ca->scope, ca->tenant_id, ca->org_id,
				    &cs)) != 0 ||
	    (r = auth_actor(p, &a)) != 0)
		goto out;
	pki_scope_object(&cs, &o);
	if (perm_check(&a, PERM_ENT_CA, PERM_ACT_READ, &o) != 0)
		r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "ca_id",
				      "no such CA");
	else if (!pki_scope_usable(&ts, &cs))
		r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "ca_id",
				      "the CA is not available in the "
				      "template's scope");
	else if (chosen && !ca->active)
		r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "ca_id",
				      "the CA is inactive");
	else if (chosen && ca->cert_der == NULL)
		r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "ca_id",
				      "the CA has no certificate yet");
out:
	db_ca_free(ca);
	return r;
}

static int
ext_fail(struct jsonval_error *e, size_t i, const char *msg)
{
	char path[48];

	snprintf(path, sizeof(path), "custom_extensions[%zu].id", i);
	return jsonval_error_set(e, EST_E_UNPROCESSABLE, path, "%s", msg);
}

/*
 * The custom extensions of t, filled in with their OID and criticality:
 * each one p may read and t's scope may use, active when attached now
 * (attached set), and no OID twice (RFC 5280 4.2: one instance of an
 * extension per certificate).
 */
static int
check_exts(struct db *db, const struct principal *p, struct tmpl *t,
	   int attached, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	struct pki_scope ts, xs;
	struct perm_object o;
	struct perm_actor a;
	const char *oid;
	size_t i, k;
	int r;

	if ((r = tmpl_scope(t, &ts)) != 0 || (r = auth_actor(p, &a)) != 0)
		return r;
	for (i = 0; i < t->nexts; i++) {
		struct tmpl_ext *x = &t->exts[i];

		if ((r = db_custext_get(db, x->id, 0, &res)) == EST_E_NOTFOUND)
			return ext_fail(e, i, "no such custom extension");
		if (r != 0)
			return r;
		if ((r = pki_scope_from_row(
			     db_result_str(res, 0, DB_CUSTEXT_SCOPE, NULL),
			     db_result_i64(res, 0, DB_CUSTEXT_TENANT_ID),
			     db_result_i64(res, 0, DB_CUSTEXT_ORG_ID), &xs)) !=
		    0)
			goto out;
		pki_scope_object(&xs, &o);
		oid = db_result_str(res, 0, DB_CUSTEXT_OID, NULL);
		if (perm_check(&a, PERM_ENT_CUSTOM_EXTENSION, PERM_ACT_READ,
			       &o) != 0) {
			r = ext_fail(e, i, "no such custom extension");
			goto out;
		}
		if (!pki_scope_usable(&ts, &xs)) {
			r = ext_fail(e, i,
				     "the extension is not available in "
				     "the template's scope");
			goto out;
		}
		if (attached && db_result_i64(res, 0, DB_CUSTEXT_ACTIVE) == 0) {
			r = ext_fail(e, i, "the extension is inactive");
			goto out;
		}
		free(x->oid);
		if (oid == NULL || (x->oid = strdup(oid)) == NULL) {
			r = EST_E_NOMEM;
			goto out;
		}
		x->critical = db_result_i64(res, 0, DB_CUSTEXT_CRITICAL) != 0;
		for (k = 0; k < i; k++) {
			if (t->exts[k].id == x->id ||
			    strcmp(t->exts[k].oid, x->oid) == 0) {
				r = ext_fail(e, i,
					     "an extension OID is repeated");
				goto out;
			}
		}
		db_result_free(res);
		res = NULL;
	}
	return 0;
out:
	db_result_free(res);
	return r;
}

/* ------------------------------------------------------------------ */
/* Audit details */

/* Big field lists are named, not copied, so the row stays bounded. */
static int
audit_json(const struct tmpl *t, struct json_object **out)
{
	static const char *const lists[] = {"subject_fields", "san_fields"};
	struct json_object *o = NULL, *note;
	size_t i;
	int r;

	if ((r = tmpl_body_json(t, TMPL_JSON_FULL | TMPL_JSON_AUDIT, &o)) != 0)
		return r;
	if (strlen(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) >
	    TMPL_AUDIT_MAX) {
		for (i = 0; i < NELEM(lists); i++) {
			if ((note = json_object_new_string("changed")) ==
				    NULL ||
			    json_object_object_add(o, lists[i], note) != 0) {
				json_object_put(note);
				json_object_put(o);
				return EST_E_NOMEM;
			}
		}
	}
	*out = o;
	return 0;
}

/* Adds member key of src (a reference) to *side. */
static int
side_add(struct json_object **side, const char *key, struct json_object *v)
{
	if (*side == NULL && (*side = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if (json_object_object_add(*side, key, json_object_get(v)) != 0) {
		json_object_put(v);
		return EST_E_NOMEM;
	}
	return 0;
}

/*
 * The before/after of a template change: every setting for a create
 * (old NULL) or a delete (new_ NULL), the settings that differ for an
 * update.
 */
static int
tmpl_diff(struct rest_diff *d, const struct tmpl *old, const struct tmpl *new_)
{
	struct json_object *a = NULL, *b = NULL, *va, *vb;
	int r = 0;

	if ((old != NULL && (r = audit_json(old, &a)) != 0) ||
	    (new_ != NULL && (r = audit_json(new_, &b)) != 0))
		goto out;
	if (a == NULL || b == NULL) {
		if (a != NULL)
			d->before = json_object_get(a);
		else
			d->after = json_object_get(b);
		goto out;
	}
	json_object_object_foreach(b, key, val)
	{
		vb = val;
		va = json_object_object_get(a, key);
		if (json_object_equal(va, vb))
			continue;
		if ((r = side_add(&d->before, key, va)) != 0 ||
		    (r = side_add(&d->after, key, vb)) != 0)
			goto out;
	}
out:
	json_object_put(a);
	json_object_put(b);
	return r;
}

/* ------------------------------------------------------------------ */
/* Handlers */

static int
h_tmpl_list(struct hctx *c, const struct request *req,
	    const struct principal *p, struct resp *rs)
{
	struct db_template_filter f = {0};
	struct jsonval_error e = {0};
	struct rest_page pg = {0};
	struct json_object *item;
	struct tmpl **list = NULL;
	struct perm_filter pf;
	struct rest_query q;
	struct db *db;
	size_t i, n = 0;
	int r;

	if ((r = rest_list_begin(c, req, p, PERM_ENT_CERT_TEMPLATE, tmpl_query,
				 NELEM(tmpl_query), &q, &db, &pf, &e)) != 0 ||
	    (r = rest_list_scope(&pf, &f.scope_tenant, &f.scope_org)) != 0)
		goto out;
	if (pf.kind != PERM_FILTER_ALL)
		f.scope_shared = pf.shared;
	f.name = rest_q_str(&q, "name");
	f.name_contains = rest_q_str(&q, "name_contains");
	f.type = rest_q_str(&q, "type");
	f.scope = rest_q_str(&q, "scope");
	f.ca_id = rest_q_int_or(&q, "ca_id", 0);
	f.tenant_id = rest_q_int_or(&q, "tenant_id", 0);
	f.org_id = rest_q_int_or(&q, "org_id", 0);
	f.active = (int)rest_q_int_or(&q, "active", -1);
	if ((r = db_template_list(db, &f, q.after_id, rest_page_fetch(&q),
				  &list, &n)) != 0 ||
	    (r = rest_page_init(&pg, &q)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = tmpl_body_json(list[i], 0, &item)) != 0 ||
		    (r = rest_page_add(&pg, list[i]->id, item)) != 0)
			goto out;
	}
	r = rest_page_send(&pg, rs);
out:
	db_template_list_free(list, n);
	rest_page_clear(&pg);
	return rest_answer(rs, r, &e);
}

/* A create's required members: 422 naming the first one missing. */
static int
need_members(struct json_object *body, struct jsonval_error *e)
{
	static const char *const names[] = {"name", "type", "ca_id",
					    "key_types"};
	size_t i;

	for (i = 0; i < NELEM(names); i++)
		if (jsonval_presence(body, names[i]) != JV_PRESENT)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 names[i], "required");
	if (jsonval_presence(body, "validity_days") != JV_PRESENT &&
	    jsonval_presence(body, "unlimited") != JV_PRESENT)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "validity_days",
					 "a validity period or unlimited");
	return 0;
}

static int
tmpl_create_tx(struct db *db, const struct principal *p,
	       const struct request *req, struct tmpl *t,
	       const struct pki_scope *s, int64_t *id, struct jsonval_error *e)
{
	struct rest_diff d;
	struct rest_what w;
	int64_t newid = 0;
	int r;

	rest_diff_create(&d);
	if ((r = pki_scope_check(db, s, e)) != 0 ||
	    (r = check_ca(db, p, t, 1, e)) != 0 ||
	    (r = check_exts(db, p, t, 1, e)) != 0)
		goto out;
	if ((r = db_template_insert(db, t, auth_user_id(p), &newid)) ==
	    EST_E_EXISTS) {
		r = rest_fail(e, r, "name");
		goto out;
	}
	if (r != 0)
		goto out;
	tmpl_what(&w, "create", newid, t->name, s);
	if ((r = tmpl_diff(&d, NULL, t)) != 0 ||
	    (r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
	*id = newid;
out:
	rest_diff_clear(&d);
	return r;
}

static int
h_tmpl_create(struct hctx *c, const struct request *req,
	      const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct pki_scope s = {0};
	struct tmpl *t = NULL;
	struct perm_object o;
	struct rest_what w;
	struct db *db;
	int64_t id = 0;
	int r;

	tmpl_what(&w, "create", 0, NULL, NULL);
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_CREATE, NULL, &w, &e)) != 0 ||
	    (r = rest_body(req, tmpl_fields, tmpl_nfields, &body, &e)) != 0 ||
	    (r = need_members(body, &e)) != 0 ||
	    (r = pki_scope_read(body, &s, &e)) != 0)
		goto out;
	/* Another tenant is 404, whether it exists or not. */
	pki_scope_object(&s, &o);
	tmpl_what(&w, "create", 0, jsonval_get_string(body, "name"), &s);
	if ((r = rest_perm(db, p, req, PERM_ACT_CREATE, &o, &w, &e)) != 0 ||
	    (r = tmpl_body_new(&t)) != 0 || (r = tmpl_set_scope(t, &s)) != 0 ||
	    (r = tmpl_body_apply(t, body, &e)) != 0 ||
	    (r = tmpl_body_validate(t, &e)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = tmpl_create_tx(db, p, req, t, &s, &id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = rest_send_row(db, &tmpl_ops, id, 201, rs);
out:
	tmpl_free(t);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* The position of field i among the fields of its kind in t. */
static size_t
kind_pos(const struct tmpl *t, size_t i)
{
	size_t k, pos = 0;

	for (k = 0; k < i; k++)
		if (t->fields[k].kind == t->fields[i].kind)
			pos++;
	return pos;
}

/* The field of kind at position pos in t, or NULL. */
static const struct subj_field *
kind_at(const struct tmpl *t, enum subj_kind kind, size_t pos)
{
	size_t k, n = 0;

	for (k = 0; k < t->nfields; k++)
		if (t->fields[k].kind == kind && n++ == pos)
			return &t->fields[k];
	return NULL;
}

static int
same_oid(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * A device-type mapping names a template field by its row, which an
 * update keeps by position (db/template.c).  Removing a mapped field, or
 * making its position another attribute or SAN type, would silently drop
 * the mapping (ON DELETE CASCADE) or turn it into a mapping of something
 * else: refused with 409 naming the field, so that the mapping is changed
 * first in the device type.
 */
static int
check_mapped(struct db *db, const struct tmpl *old, const struct tmpl *t,
	     struct jsonval_error *e)
{
	struct db_tmpl_mapped *m = NULL;
	const struct subj_field *f, *nf;
	size_t n = 0, i, j, pos;
	int r;

	if ((r = db_template_mapped(db, old->id, &m, &n)) != 0)
		return r;
	for (i = 0; i < n && r == 0; i++) {
		for (j = 0; j < old->nfields; j++) {
			f = &old->fields[j];
			if (old->field_ids[j] == m[i].field_id &&
			    (f->kind == SUBJ_SAN) == (m[i].san != 0))
				break;
		}
		if (j == old->nfields)
			continue;
		pos = kind_pos(old, j);
		nf = kind_at(t, f->kind, pos);
		if (nf != NULL &&
		    (f->kind == SUBJ_ATTR ? same_oid(nf->oid, f->oid)
					  : nf->san_type == f->san_type &&
						    same_oid(nf->oid, f->oid)))
			continue;
		r = rest_fail(e, EST_E_CONFLICT, NULL);
		snprintf(e->field, sizeof(e->field), "%s[%zu]",
			 f->kind == SUBJ_ATTR ? "subject_fields" : "san_fields",
			 pos);
		snprintf(e->message, sizeof(e->message),
			 "mapped by device type %lld: change its mapping first",
			 (long long)m[i].device_type_id);
	}
	free(m);
	return r;
}

static int
tmpl_update_tx(struct db *db, const struct principal *p,
	       const struct request *req, int64_t id, struct json_object *body,
	       const struct pki_scope *s, struct jsonval_error *e)
{
	struct tmpl *old = NULL, *t = NULL;
	struct pki_scope olds;
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = tmpl_lock(db, req, id, 1, &old, e)) != 0 ||
	    (r = db_template_get(db, id, 0, &t)) != 0 ||
	    (r = tmpl_scope(old, &olds)) != 0 ||
	    (r = tmpl_set_scope(t, s)) != 0 ||
	    (r = tmpl_body_apply(t, body, e)) != 0 ||
	    (r = tmpl_body_validate(t, e)) != 0)
		goto out;
	if (!pki_scope_same(&olds, s) && (r = pki_scope_check(db, s, e)) != 0)
		goto out;
	if ((r = check_ca(db, p, t,
			  jsonval_presence(body, "ca_id") == JV_PRESENT &&
				  t->ca_id != old->ca_id,
			  e)) != 0 ||
	    (r = check_exts(db, p, t,
			    jsonval_presence(body, "custom_extensions") ==
				    JV_PRESENT,
			    e)) != 0 ||
	    (r = tmpl_diff(&d, old, t)) != 0 || rest_diff_empty(&d) ||
	    (r = check_mapped(db, old, t, e)) != 0)
		goto out;
	if ((r = db_template_replace(db, id, t)) == EST_E_EXISTS) {
		r = rest_fail(e, r, "name");
		goto out;
	}
	tmpl_what(&w, "update", id, t->name, s);
	if (r == 0)
		r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	tmpl_free(old);
	tmpl_free(t);
	return r;
}

static int
h_tmpl_update(struct hctx *c, const struct request *req,
	      const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct tmpl *cur = NULL;
	struct perm_object o;
	struct pki_scope s;
	struct rest_what w;
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = tmpl_access_get(db, p, req, id, PERM_ACT_UPDATE, "update",
				 &cur, &e)) != 0 ||
	    (r = rest_body(req, tmpl_fields, tmpl_nfields, &body, &e)) != 0 ||
	    (r = tmpl_scope(cur, &s)) != 0 ||
	    (r = pki_scope_read(body, &s, &e)) != 0)
		goto out;
	/*
	 * Moving it elsewhere needs the right to change it there too; the
	 * locked row's If-Match check makes sure it is the row checked.
	 */
	pki_scope_object(&s, &o);
	tmpl_what(&w, "update", id, cur->name, &s);
	if ((r = rest_perm(db, p, req, PERM_ACT_UPDATE, &o, &w, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = tmpl_update_tx(db, p, req, id, body, &s, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = rest_send_row(db, &tmpl_ops, id, 200, rs);
out:
	tmpl_free(cur);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* Only an inactive template that nothing uses is deleted. */
static int
tmpl_may_delete(struct db *db, const void *row, struct jsonval_error *e)
{
	const struct tmpl *old = row;
	int64_t certs = 0, other = 0;
	struct pki_scope s;
	int r;

	if ((r = tmpl_scope(old, &s)) != 0)
		return r;
	if (old->active)
		return jsonval_error_set(e, EST_E_CONFLICT, "active",
					 "deactivate the template first");
	if ((r = db_template_usage(db, old->id, &certs, &other)) != 0)
		return r;
	if (certs > 0 || other > 0)
		return jsonval_error_set(e, EST_E_CONFLICT, "",
					 "in use by %lld certificate(s) and "
					 "%lld other object(s)",
					 (long long)certs, (long long)other);
	return 0;
}

static int
tmpl_delete_diff(struct rest_diff *d, const void *row)
{
	return tmpl_diff(d, row, NULL);
}

static const struct rest_entity_ops tmpl_ops = {
	.get = tmpl_get,
	.etag = tmpl_etag,
	.free = tmpl_row_free,
	.what = tmpl_row_what,
	.object = tmpl_object,
	.json = tmpl_json,
	.base = TMPL_BASE,
	.active = tmpl_active,
	.set_active = db_template_set_active,
	.may_delete = tmpl_may_delete,
	.remove = db_template_delete,
	.delete_diff = tmpl_delete_diff,
};

AUTH_ROUTE_PUBLIC(api_template_list, h_tmpl_list)
AUTH_ROUTE_PUBLIC(api_template_create, h_tmpl_create)
REST_ROUTE_GET(api_template_get, tmpl_ops)
AUTH_ROUTE_PUBLIC(api_template_update, h_tmpl_update)
REST_ROUTE_DELETE(api_template_delete, tmpl_ops)
REST_ROUTE_ACTIVATE(api_template_activate, tmpl_ops)
REST_ROUTE_DEACTIVATE(api_template_deactivate, tmpl_ops)
