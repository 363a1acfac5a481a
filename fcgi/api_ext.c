/*
 * Custom extensions (guide §1, Certificate Management Service): an OID,
 * a criticality and a typed value that lib/extval.c encodes once, at
 * create or update, into the DER that issuance copies into certificates.
 * They are attached to templates by id (api_template.c).
 *
 * An extension may not carry the OID of an extension the issuer writes
 * itself from the template or the CA (basic constraints, key usage, SAN,
 * key identifiers, CRL and OCSP pointers...): 422 on "oid".  Deleting one
 * that a template uses is 409; so is changing its scope, which could leave
 * a template with an extension it may no longer see.  A deactivated
 * extension can no longer be attached; the templates that have it keep
 * it (it is retired by taking it off them).  The permission table gives
 * custom extensions no activate or deactivate action of their own, so
 * both ask for "update".
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_pki.h"
#include "api_template.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "extval.h"
#include "resp.h"
#include "rest.h"
#include "template.h"

#define EXT_BASE "/api/v1/custom-extensions"
#define EXT_ENTITY "custom_extension"

static const struct rest_col ext_cols[] = {
	[DB_CUSTEXT_ID] = {"id", REST_C_ID},
	[DB_CUSTEXT_NAME] = {"name", REST_C_STR},
	[DB_CUSTEXT_DESCRIPTION] = {"description", REST_C_STR},
	[DB_CUSTEXT_OID] = {"oid", REST_C_STR},
	[DB_CUSTEXT_CRITICAL] = {"critical", REST_C_BOOL},
	[DB_CUSTEXT_VALUE_TYPE] = {"value_type", REST_C_STR},
	[DB_CUSTEXT_VALUE] = {"value", REST_C_STR},
	[DB_CUSTEXT_VALUE_DER] = {"value_der", REST_C_HEX},
	[DB_CUSTEXT_SCOPE] = {"scope", REST_C_STR},
	[DB_CUSTEXT_TENANT_ID] = {"tenant_id", REST_C_ID},
	[DB_CUSTEXT_ORG_ID] = {"org_id", REST_C_ID},
	[DB_CUSTEXT_ACTIVE] = {"active", REST_C_BOOL},
	[DB_CUSTEXT_CREATED_AT] = {"created_at", REST_C_TIME},
	[DB_CUSTEXT_UPDATED_AT] = {"updated_at", REST_C_TIME},
};

static const char *const ext_value_types[] = {
	"utf8string", "printablestring", "ia5string", "octetstring",
	"integer",    "boolean",	 "oid",	      "der",
	NULL};

/* Nothing is required here: a create checks its required members. */
static const struct jsonval_field ext_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .min_len = 1,
	 .max_len = TMPL_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = TMPL_DESC_MAX},
	{.name = "oid", .type = JV_STRING, .min_len = 3, .max_len = 128},
	{.name = "critical", .type = JV_BOOL},
	{.name = "value_type", .type = JV_ENUM, .enum_values = ext_value_types},
	{.name = "value",
	 .type = JV_STRING,
	 .min_len = 1,
	 .max_len = EXTVAL_TEXT_MAX},
	PKI_SCOPE_FIELDS,
};

static const char *const ext_required[] = {"name", "oid", "value_type",
					   "value"};

static const struct rest_qfield ext_query[] = {
	{.name = "name", .type = REST_Q_STRING, .max_len = TMPL_NAME_MAX},
	{.name = "name_contains",
	 .type = REST_Q_STRING,
	 .max_len = TMPL_NAME_MAX},
	{.name = "oid", .type = REST_Q_STRING, .max_len = EXTVAL_OID_MAX},
	{.name = "scope", .type = REST_Q_ENUM, .enum_values = pki_scope_names},
	{.name = "tenant_id", .type = REST_Q_ID},
	{.name = "org_id", .type = REST_Q_ID},
	{.name = "active", .type = REST_Q_BOOL},
};

/* An extension as the handlers change it: strings owned. */
struct ext {
	char *name;
	char *description;
	char *oid;
	int critical;
	char *value_type;
	char *value;
	uint8_t *der;
	size_t derlen;
	struct pki_scope scope;
	int active;
};

static void
ext_clear(struct ext *x)
{
	free(x->name);
	free(x->description);
	free(x->oid);
	free(x->value_type);
	free(x->value);
	free(x->der);
	memset(x, 0, sizeof(*x));
}

static int
set_str(char **dst, const char *s)
{
	char *n = NULL;

	if (s != NULL && (n = strdup(s)) == NULL)
		return EST_E_NOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

static int
ext_from_row(const struct db_result *res, struct ext *x)
{
	const char *der;
	size_t len = 0;
	int r;

	memset(x, 0, sizeof(*x));
	x->critical = db_result_i64(res, 0, DB_CUSTEXT_CRITICAL) != 0;
	x->active = db_result_i64(res, 0, DB_CUSTEXT_ACTIVE) != 0;
	if ((r = pki_scope_from_row(
		     db_result_str(res, 0, DB_CUSTEXT_SCOPE, NULL),
		     db_result_i64(res, 0, DB_CUSTEXT_TENANT_ID),
		     db_result_i64(res, 0, DB_CUSTEXT_ORG_ID), &x->scope)) != 0)
		return r;
	der = db_result_str(res, 0, DB_CUSTEXT_VALUE_DER, &len);
	if ((r = set_str(&x->name,
			 db_result_str(res, 0, DB_CUSTEXT_NAME, NULL))) != 0 ||
	    (r = set_str(&x->description,
			 db_result_str(res, 0, DB_CUSTEXT_DESCRIPTION,
				       NULL))) != 0 ||
	    (r = set_str(&x->oid,
			 db_result_str(res, 0, DB_CUSTEXT_OID, NULL))) != 0 ||
	    (r = set_str(&x->value_type,
			 db_result_str(res, 0, DB_CUSTEXT_VALUE_TYPE, NULL))) !=
		    0 ||
	    (r = set_str(&x->value,
			 db_result_str(res, 0, DB_CUSTEXT_VALUE, NULL))) != 0)
		goto fail;
	if (der != NULL && len > 0) {
		if ((x->der = malloc(len)) == NULL) {
			r = EST_E_NOMEM;
			goto fail;
		}
		memcpy(x->der, der, len);
		x->derlen = len;
	}
	return 0;
fail:
	ext_clear(x);
	return r;
}

static int
ext_dup(const struct ext *src, struct ext *dst)
{
	int r;

	memset(dst, 0, sizeof(*dst));
	dst->critical = src->critical;
	dst->scope = src->scope;
	dst->active = src->active;
	if ((r = set_str(&dst->name, src->name)) != 0 ||
	    (r = set_str(&dst->description, src->description)) != 0 ||
	    (r = set_str(&dst->oid, src->oid)) != 0 ||
	    (r = set_str(&dst->value_type, src->value_type)) != 0 ||
	    (r = set_str(&dst->value, src->value)) != 0)
		goto fail;
	if (src->derlen > 0) {
		if ((dst->der = malloc(src->derlen)) == NULL) {
			r = EST_E_NOMEM;
			goto fail;
		}
		memcpy(dst->der, src->der, src->derlen);
		dst->derlen = src->derlen;
	}
	return 0;
fail:
	ext_clear(dst);
	return r;
}

/*
 * The members of body over x, scope excluded (pki_scope_read), then the
 * checks of the whole: the OID and the value encoded by its type.
 */
static int
ext_apply(struct ext *x, struct json_object *body, struct jsonval_error *e)
{
	static const char *const strs[] = {"name", "oid", "value_type",
					   "value"};
	char **dst[] = {&x->name, &x->oid, &x->value_type, &x->value};
	enum extval_type type;
	const char *why = NULL;
	uint8_t *der = NULL;
	size_t i, len = 0;
	int v, r;

	for (i = 0; i < NELEM(strs); i++)
		if (jsonval_presence(body, strs[i]) == JV_PRESENT &&
		    (r = set_str(dst[i], jsonval_get_string(body, strs[i]))) !=
			    0)
			return r;
	if (jsonval_presence(body, "description") != JV_ABSENT &&
	    (r = set_str(&x->description,
			 jsonval_get_string(body, "description"))) != 0)
		return r;
	if (jsonval_get_bool(body, "critical", &v) == 0)
		x->critical = v;
	if (extval_oid_check(x->oid) != 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "oid",
					 "not a dotted-decimal OID");
	if (extval_oid_reserved(x->oid))
		return jsonval_error_set(
			e, EST_E_UNPROCESSABLE, "oid",
			"the issuer sets this extension from the template");
	if (extval_type_parse(x->value_type, &type) != 0)
		return rest_fail(e, EST_E_UNPROCESSABLE, "value_type");
	if ((r = extval_encode(type, x->value, &der, &len, &why)) ==
	    EST_E_UNPROCESSABLE)
		return jsonval_error_set(e, r, "value", "%s",
					 why != NULL ? why : "invalid value");
	if (r != 0)
		return r;
	free(x->der);
	x->der = der;
	x->derlen = len;
	return 0;
}

static void
ext_rec(const struct ext *x, struct db_custext_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->name = x->name;
	rec->description = x->description;
	rec->oid = x->oid;
	rec->critical = x->critical;
	rec->value_type = x->value_type;
	rec->value = x->value;
	rec->der = x->der;
	rec->derlen = x->derlen;
	rec->scope = perm_scope_name(x->scope.scope);
	rec->tenant_id = x->scope.tenant_id;
	rec->org_id = x->scope.org_id;
}

static void
ext_what(struct rest_what *w, const char *action, int64_t id, const char *name,
	 const struct pki_scope *s)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_CUSTOM_EXTENSION;
	w->action = action;
	w->id = id;
	w->name = name;
	if (s != NULL) {
		w->tenant_id = s->tenant_id;
		w->org_id = s->org_id;
	}
}

/*
 * Every member of old and new_ in d, as its mode says (a create records
 * new_ only, a delete old only).
 */
static int
ext_diff(struct rest_diff *d, const struct ext *old, const struct ext *new_)
{
	int r;

	if ((r = rest_diff_str(d, "name", old->name, new_->name)) != 0 ||
	    (r = rest_diff_str(d, "description", old->description,
			       new_->description)) != 0 ||
	    (r = rest_diff_str(d, "oid", old->oid, new_->oid)) != 0 ||
	    (r = rest_diff_bool(d, "critical", old->critical,
				new_->critical)) != 0 ||
	    (r = rest_diff_str(d, "value_type", old->value_type,
			       new_->value_type)) != 0 ||
	    (r = rest_diff_str(d, "value", old->value, new_->value)) != 0 ||
	    (r = rest_diff_str(d, "scope", perm_scope_name(old->scope.scope),
			       perm_scope_name(new_->scope.scope))) != 0 ||
	    (r = rest_diff_int(d, "tenant_id", old->scope.tenant_id,
			       new_->scope.tenant_id, 1)) != 0 ||
	    (r = rest_diff_int(d, "org_id", old->scope.org_id,
			       new_->scope.org_id, 1)) != 0)
		return r;
	return rest_diff_bool(d, "active", old->active, new_->active);
}

/* The row hooks of ext_ops: a row is a struct db_result. */
REST_ROW_GET(ext_get, struct db_result, db_custext_get)

static const struct rest_result ext_res = {
	.entity = EXT_ENTITY,
	.id = DB_CUSTEXT_ID,
	.updated_at = DB_CUSTEXT_UPDATED_AT,
	.cols = ext_cols,
	.ncols = NELEM(ext_cols),
};

static const struct rest_entity_ops ext_ops;

/*
 * Reads extension id and asks whether p may act on it (404 for one that
 * does not exist or that p may not know of); *out, when not NULL, gets
 * the row.
 */
static int
ext_access_row(struct db *db, const struct principal *p,
	       const struct request *req, int64_t id, enum perm_action act,
	       const char *action, struct ext *out, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	struct perm_object o;
	struct rest_what w;
	struct ext x;
	int r;

	if ((r = db_custext_get(db, id, 0, &res)) == EST_E_NOTFOUND)
		return rest_fail(e, r, NULL);
	if (r != 0)
		return r;
	r = ext_from_row(res, &x);
	db_result_free(res);
	if (r != 0)
		return r;
	/* Activation is an update of an extension (see the top). */
	if (act == PERM_ACT_ACTIVATE || act == PERM_ACT_DEACTIVATE)
		act = PERM_ACT_UPDATE;
	pki_scope_object(&x.scope, &o);
	ext_what(&w, action, id, x.name, &x.scope);
	if ((r = rest_perm(db, p, req, act, &o, &w, e)) == 0 && out != NULL) {
		*out = x;
		return 0;
	}
	ext_clear(&x);
	return r;
}

static int
ext_access(struct db *db, const struct principal *p, const struct request *req,
	   int64_t id, enum perm_action act, const char *action,
	   struct jsonval_error *e)
{
	return ext_access_row(db, p, req, id, act, action, NULL, e);
}

/* Reads the extension locked for a change and checks If-Match. */
static int
ext_lock(struct db *db, const struct request *req, int64_t id, int need_match,
	 struct ext *out, struct jsonval_error *e)
{
	void *res = NULL;
	int r;

	if ((r = rest_lock_row(db, req, &ext_ops, id, need_match, &res, e)) !=
	    0)
		return r;
	r = ext_from_row(res, out);
	db_result_free(res);
	return r;
}

/* The extensions of page q that pf lets the caller see. */
static int
ext_fetch(struct db *db, const struct rest_query *q,
	  const struct perm_filter *pf, struct db_result **res)
{
	struct db_custext_filter f = {0};
	int r;

	if ((r = rest_list_scope(pf, &f.scope_tenant, &f.scope_org)) != 0)
		return r;
	if (pf->kind != PERM_FILTER_ALL)
		f.scope_shared = pf->shared;
	f.name = rest_q_str(q, "name");
	f.name_contains = rest_q_str(q, "name_contains");
	f.oid = rest_q_str(q, "oid");
	f.scope = rest_q_str(q, "scope");
	f.tenant_id = rest_q_int_or(q, "tenant_id", 0);
	f.org_id = rest_q_int_or(q, "org_id", 0);
	f.active = (int)rest_q_int_or(q, "active", -1);
	return db_custext_list(db, &f, q->after_id, rest_page_fetch(q), res);
}

static const struct rest_list_def ext_list = {
	.entity = PERM_ENT_CUSTOM_EXTENSION,
	.query = ext_query,
	.nquery = NELEM(ext_query),
	.fetch = ext_fetch,
	.id_col = DB_CUSTEXT_ID,
	.cols = ext_cols,
	.ncols = NELEM(ext_cols),
};

static int
ext_create_tx(struct db *db, const struct principal *p,
	      const struct request *req, struct ext *x, int64_t *id,
	      struct jsonval_error *e)
{
	struct db_custext_rec rec;
	struct ext none = {0};
	struct rest_diff d;
	struct rest_what w;
	int64_t newid = 0;
	int r;

	rest_diff_create(&d);
	if ((r = pki_scope_check(db, &x->scope, e)) != 0)
		goto out;
	ext_rec(x, &rec);
	if ((r = db_custext_insert(db, &rec, auth_user_id(p), &newid)) ==
	    EST_E_EXISTS) {
		r = rest_fail(e, r, "name");
		goto out;
	}
	if (r != 0)
		goto out;
	ext_what(&w, "create", newid, x->name, &x->scope);
	if ((r = ext_diff(&d, &none, x)) != 0 ||
	    (r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
	*id = newid;
out:
	rest_diff_clear(&d);
	return r;
}

/* A member that a create must have: 422 naming it when absent. */
static int
need_members(struct json_object *body, const char *const *names, size_t n,
	     struct jsonval_error *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (jsonval_presence(body, names[i]) != JV_PRESENT)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 names[i], "required");
	return 0;
}

static int
h_ext_create(struct hctx *c, const struct request *req,
	     const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct ext x = {0};
	struct perm_object o;
	struct rest_what w;
	struct db *db;
	int64_t id = 0;
	int r;

	x.active = 1;
	ext_what(&w, "create", 0, NULL, NULL);
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_CREATE, NULL, &w, &e)) != 0 ||
	    (r = rest_body(req, ext_fields, NELEM(ext_fields), &body, &e)) !=
		    0 ||
	    (r = need_members(body, ext_required, NELEM(ext_required), &e)) !=
		    0 ||
	    (r = pki_scope_read(body, &x.scope, &e)) != 0)
		goto out;
	/* Another tenant is 404, whether it exists or not. */
	pki_scope_object(&x.scope, &o);
	ext_what(&w, "create", 0, jsonval_get_string(body, "name"), &x.scope);
	if ((r = rest_perm(db, p, req, PERM_ACT_CREATE, &o, &w, &e)) != 0 ||
	    (r = ext_apply(&x, body, &e)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = ext_create_tx(db, p, req, &x, &id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = rest_send_row(db, &ext_ops, id, 201, rs);
out:
	ext_clear(&x);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

static int
ext_update_tx(struct db *db, const struct principal *p,
	      const struct request *req, int64_t id, struct json_object *body,
	      const struct pki_scope *scope, struct jsonval_error *e)
{
	struct db_custext_rec rec;
	struct ext old = {0}, x = {0};
	struct rest_diff d;
	struct rest_what w;
	int64_t uses = 0;
	int r;

	rest_diff_init(&d);
	if ((r = ext_lock(db, req, id, 1, &old, e)) != 0 ||
	    (r = ext_dup(&old, &x)) != 0)
		goto out;
	x.scope = *scope;
	if ((r = ext_apply(&x, body, e)) != 0 ||
	    (r = ext_diff(&d, &old, &x)) != 0)
		goto out;
	if (rest_diff_empty(&d))
		goto out;
	if (!pki_scope_same(&old.scope, &x.scope)) {
		if ((r = db_custext_in_use(db, id, &uses)) != 0)
			goto out;
		if (uses > 0) {
			r = jsonval_error_set(e, EST_E_CONFLICT, "scope",
					      "the extension is in use by "
					      "%lld template(s)",
					      (long long)uses);
			goto out;
		}
		if ((r = pki_scope_check(db, &x.scope, e)) != 0)
			goto out;
	}
	ext_rec(&x, &rec);
	if ((r = db_custext_update(db, id, &rec)) == EST_E_EXISTS) {
		r = rest_fail(e, r, "name");
		goto out;
	}
	ext_what(&w, "update", id, x.name, &x.scope);
	if (r == 0)
		r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	ext_clear(&old);
	ext_clear(&x);
	return r;
}

static int
h_ext_update(struct hctx *c, const struct request *req,
	     const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct perm_object o;
	struct ext cur = {0};
	struct rest_what w;
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = ext_access_row(db, p, req, id, PERM_ACT_UPDATE, "update", &cur,
				&e)) != 0 ||
	    (r = rest_body(req, ext_fields, NELEM(ext_fields), &body, &e)) !=
		    0 ||
	    (r = pki_scope_read(body, &cur.scope, &e)) != 0)
		goto out;
	/*
	 * Moving it elsewhere needs the right to change it there too; the
	 * locked row's If-Match check makes sure this is the row checked.
	 */
	pki_scope_object(&cur.scope, &o);
	ext_what(&w, "update", id, cur.name, &cur.scope);
	if ((r = rest_perm(db, p, req, PERM_ACT_UPDATE, &o, &w, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = ext_update_tx(db, p, req, id, body, &cur.scope, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = rest_send_row(db, &ext_ops, id, 200, rs);
out:
	ext_clear(&cur);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

static int
ext_delete_tx(struct db *db, const struct principal *p,
	      const struct request *req, int64_t id, struct jsonval_error *e)
{
	struct ext old = {0}, none = {0};
	struct rest_diff d;
	struct rest_what w;
	int64_t uses = 0;
	int r;

	rest_diff_delete(&d);
	if ((r = ext_lock(db, req, id, 1, &old, e)) != 0 ||
	    (r = db_custext_in_use(db, id, &uses)) != 0)
		goto out;
	if (uses > 0) {
		r = jsonval_error_set(e, EST_E_CONFLICT, "",
				      "the extension is in use by %lld "
				      "template(s)",
				      (long long)uses);
		goto out;
	}
	if ((r = db_custext_delete(db, id)) == EST_E_CONFLICT) {
		r = rest_fail(e, r, NULL);
		goto out;
	}
	ext_what(&w, "delete", id, old.name, &old.scope);
	if (r != 0 || (r = ext_diff(&d, &old, &none)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	ext_clear(&old);
	return r;
}

static int
ext_state_tx(struct db *db, const struct principal *p,
	     const struct request *req, int64_t id, int active,
	     struct jsonval_error *e)
{
	struct ext old = {0};
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = ext_lock(db, req, id, 0, &old, e)) != 0)
		goto out;
	if (old.active == active)
		goto out;
	ext_what(&w, active ? "activate" : "deactivate", id, old.name,
		 &old.scope);
	if ((r = db_custext_set_active(db, id, active)) != 0 ||
	    (r = rest_diff_bool(&d, "active", old.active, active)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	ext_clear(&old);
	return r;
}

static const struct rest_entity_ops ext_ops = {
	.access = ext_access,
	.delete_tx = ext_delete_tx,
	.state_tx = ext_state_tx,
	.get = ext_get,
	.base = EXT_BASE,
	.res = &ext_res,
};

REST_ROUTE_LIST(api_ext_list, ext_list)
AUTH_ROUTE_PUBLIC(api_ext_create, h_ext_create)
REST_ROUTE_GET(api_ext_get, ext_ops)
AUTH_ROUTE_PUBLIC(api_ext_update, h_ext_update)
REST_ROUTE_DELETE(api_ext_delete, ext_ops)
REST_ROUTE_ACTIVATE(api_ext_activate, ext_ops)
REST_ROUTE_DEACTIVATE(api_ext_deactivate, ext_ops)
