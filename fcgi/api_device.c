/*
 * Devices (guide §2.2): list, read, change, delete, and the mode changes
 * Set as Factory Mode, Disable and Enable (fcgi/api_device.h).
 *
 * Every handler validates the request and asks the permission table
 * (rest_perm, which audits a refusal) before it opens the transaction
 * that locks the device, checks If-Match, writes and appends the audit
 * row; a refusal writes nothing.  Changes and deletes need If-Match (428
 * without, 412 when stale); the mode changes check it when it is sent.
 *
 * Delete.  The guide lets the roles that manage devices delete them
 * (CRUD) and says nothing of their certificates.  A deleted device must
 * not keep working through credentials that outlive its record, so its
 * active certificates are revoked (reason cessationOfOperation) and the
 * CRLs of their CAs made again in the same transaction; the certificate
 * rows stay for CRLs, OCSP and the audit trail, without the binding.  Its
 * attribute values and credential file go with it.  A disabled device
 * can be deleted: retiring a device usually starts by disabling it.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_cert.h"
#include "api_device.h"
#include "cert.h"
#include "crl.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "devtype.h"
#include "err.h"
#include "resp.h"
#include "rest.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* CRLReason cessationOfOperation (RFC 5280 section 5.3.1). */
#define REASON_CESSATION 5
/* Certificates a delete revokes at most; a device has a handful. */
#define DELETE_CERTS_MAX 1000

static const char *const modes[] = {"NEW", "FACTORY", "OPERATIONAL", "DISABLED",
				    NULL};

static const struct rest_qfield list_query[] = {
	{.name = "name", .type = REST_Q_STRING, .max_len = DEVICE_NAME_MAX},
	{.name = "name_contains",
	 .type = REST_Q_STRING,
	 .max_len = DEVICE_NAME_MAX},
	{.name = "tenant_id", .type = REST_Q_ID},
	{.name = "org_id", .type = REST_Q_ID},
	{.name = "device_type_id", .type = REST_Q_ID},
	{.name = "mode", .type = REST_Q_ENUM, .enum_values = modes},
	{.name = "serial_number",
	 .type = REST_Q_STRING,
	 .max_len = DEVTYPE_PROP_MAX},
};

#define PROP_FIELD(n)                                                          \
	{                                                                      \
		.name = n, .type = JV_STRING, .nullable = 1,                   \
		.max_len = DEVTYPE_PROP_MAX                                    \
	}

/* The seven properties, by their API names. */
const struct jsonval_field api_device_prop_fields[DEVICE_NPROPS] = {
	PROP_FIELD("serial_number"),	    PROP_FIELD("model"),
	PROP_FIELD("hardware_version"),	    PROP_FIELD("manufacturer"),
	PROP_FIELD("device_class"),	    PROP_FIELD("firmware"),
	PROP_FIELD("descriptive_location"),
};

static const struct jsonval_field update_fields[] = {
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .max_len = DEVICE_DESC_MAX},
	{.name = "properties",
	 .type = JV_OBJECT,
	 .fields = api_device_prop_fields,
	 .nfields = NELEM(api_device_prop_fields)},
};

/* ------------------------------------------------------------------ */
/* Shared */

int
api_device_parse(const struct request *req, struct json_object **out,
		 struct jsonval_error *e)
{
	if (req->bodylen > DEVICE_BODY_MAX)
		return rest_fail(e, EST_E_TOOBIG, "body");
	return rest_body_parse(req, out, e);
}

void
api_device_what(struct rest_what *w, const char *action, const struct device *d)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_DEVICE;
	w->action = action;
	if (d != NULL) {
		w->id = d->id;
		w->name = d->name;
		w->tenant_id = d->tenant_id;
		w->org_id = d->org_id;
	}
}

void
api_device_object(const struct device *d, struct perm_object *o)
{
	memset(o, 0, sizeof(*o));
	o->tenant_id = d->tenant_id;
	o->org_id = d->org_id;
	o->scope = PERM_SCOPE_NONE;
}

int
api_device_etag(const struct device *d, char etag[REST_ETAG_MAX])
{
	return rest_etag(perm_entity_name(PERM_ENT_DEVICE), d->id,
			 d->updated_at, etag);
}

static int
disabled(struct jsonval_error *e)
{
	return jsonval_error_set(e, EST_E_DENIED, "mode",
				 "the device is disabled");
}

/* The row hooks of device_rows: a row is a struct device. */
REST_ROW_GET(dev_get, struct device, db_device_get)

static int
dev_etag(const void *row, char etag[REST_ETAG_MAX])
{
	return api_device_etag(row, etag);
}

static void
dev_free(void *row)
{
	device_free(row);
}

static int
dev_what(struct rest_what *w, const char *action, const void *row)
{
	api_device_what(w, action, row);
	return 0;
}

static int
dev_object(const void *row, struct perm_object *o)
{
	api_device_object(row, o);
	return 0;
}

static const struct rest_entity_ops device_rows = {
	.get = dev_get,
	.etag = dev_etag,
	.free = dev_free,
	.what = dev_what,
	.object = dev_object,
};

int
api_device_access(struct db *db, const struct principal *p,
		  const struct request *req, int64_t id, enum perm_action act,
		  const char *action, int active, struct device **out,
		  struct jsonval_error *e)
{
	struct rest_what w;
	void *row = NULL;
	struct device *d;
	int r;

	if ((r = rest_load_row(db, p, req, &device_rows, id, act, action, &row,
			       e)) != 0)
		return r;
	d = row;
	if (active && d->mode == DEVICE_MODE_DISABLED) {
		api_device_what(&w, action, d);
		if ((r = rest_audit_denied(db, p, req, &w,
					   "the device is disabled")) == 0)
			r = disabled(e);
		goto out;
	}
	if (out != NULL) {
		*out = d;
		d = NULL;
	}
out:
	device_free(d);
	return r;
}

int
api_device_lock(struct db *db, const struct request *req, int64_t id,
		int need_match, int active, struct device **out,
		struct jsonval_error *e)
{
	void *row = NULL;
	int r;

	if ((r = rest_lock_row(db, req, &device_rows, id, need_match, &row,
			       e)) != 0)
		return r;
	/* Disabled since the check before the transaction. */
	if (active && ((struct device *)row)->mode == DEVICE_MODE_DISABLED) {
		device_free(row);
		return disabled(e);
	}
	*out = row;
	return 0;
}

/* ------------------------------------------------------------------ */
/* List, read */

static int
h_list(struct hctx *c, const struct request *req, const struct principal *p,
       struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_device_filter f;
	struct device **list = NULL;
	struct rest_page pg = {0};
	struct json_object *item;
	struct perm_filter pf;
	struct rest_query q;
	enum device_mode m;
	struct db *db;
	const char *s;
	size_t n = 0, i;
	int r;

	memset(&f, 0, sizeof(f));
	if ((r = rest_list_begin(c, req, p, PERM_ENT_DEVICE, list_query,
				 NELEM(list_query), &q, &db, &pf, &e)) != 0 ||
	    (r = rest_list_scope(&pf, &f.scope_tenant, &f.scope_org)) != 0)
		goto out;
	f.name = rest_q_str(&q, "name");
	f.name_contains = rest_q_str(&q, "name_contains");
	f.serial_number = rest_q_str(&q, "serial_number");
	f.tenant_id = rest_q_int_or(&q, "tenant_id", 0);
	f.org_id = rest_q_int_or(&q, "org_id", 0);
	f.device_type_id = rest_q_int_or(&q, "device_type_id", 0);
	f.mode = -1;
	if ((s = rest_q_str(&q, "mode")) != NULL) {
		if (device_mode_value(s, &m) != 0) {
			r = EST_E_INTERNAL;
			goto out;
		}
		f.mode = (int)m;
	}
	if ((r = db_device_list(db, &f, q.after_id, rest_page_fetch(&q), &list,
				&n)) != 0 ||
	    (r = rest_page_init(&pg, &q)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = api_device_json(db, list[i], 0, NULL, 0, &item)) !=
			    0 ||
		    (r = rest_page_add(&pg, list[i]->id, item)) != 0)
			goto out;
	r = rest_page_send(&pg, rs);
out:
	rest_page_clear(&pg);
	db_device_list_free(list, n);
	return rest_answer(rs, r, &e);
}

static int
dev_access(struct db *db, const struct principal *p, const struct request *req,
	   int64_t id, enum perm_action act, const char *action,
	   struct jsonval_error *e)
{
	return api_device_access(db, p, req, id, act, action, 0, NULL, e);
}

static int
dev_send(struct db *db, int64_t id, int status, struct resp *rs)
{
	return api_device_send(db, id, status, NULL, 0, NULL, rs);
}

static const struct rest_entity_ops dev_ops = {
	.access = dev_access,
	.send = dev_send,
};

/* ------------------------------------------------------------------ */
/* Change */

struct updating {
	struct json_object *body;
	struct json_object *attrs; /* taken out of the body */
	struct jsonval_field *attr_fields;
	struct devtype *dt;
	struct device *old;
	struct device_vals v;
};

static void
update_clear(struct updating *u)
{
	json_object_put(u->body);
	json_object_put(u->attrs);
	free(u->attr_fields);
	devtype_free(u->dt);
	device_free(u->old);
	device_vals_clear(&u->v);
	memset(u, 0, sizeof(*u));
}

/*
 * Takes the member "attributes" out of the raw body: its members are the
 * type's attributes, which only a table made from the type can check.
 */
int
api_device_take_attrs(struct json_object *body, struct json_object **out,
		      struct jsonval_error *e)
{
	struct json_object *a;

	*out = NULL;
	if (body == NULL || !json_object_is_type(body, json_type_object) ||
	    !json_object_object_get_ex(body, "attributes", &a))
		return 0;
	if (!json_object_is_type(a, json_type_object))
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "attributes",
					 "must be an object");
	*out = json_object_get(a);
	json_object_object_del(body, "attributes");
	return 0;
}

int
api_device_apply_attrs(struct json_object *attrs, const struct devtype *dt,
		       struct device_vals *v, struct jsonval_field **tab,
		       struct jsonval_error *e)
{
	struct jsonval_field *f;
	char field[sizeof(e->field)];
	size_t i;
	int r;

	if (attrs == NULL)
		return 0;
	if ((f = calloc(dt->nattrs + 1, sizeof(*f))) == NULL)
		return EST_E_NOMEM;
	*tab = f;
	for (i = 0; i < dt->nattrs; i++) {
		f[i].name = dt->attrs[i].name;
		f[i].type = JV_STRING;
		f[i].nullable = 1;
		f[i].max_len = DEVTYPE_ATTR_VALUE_MAX;
	}
	if ((r = jsonval_check(attrs, f, dt->nattrs, e)) != 0) {
		snprintf(field, sizeof(field), "attributes%s%.100s",
			 e->field[0] != '\0' ? "." : "", e->field);
		memcpy(e->field, field, sizeof(e->field));
		return r;
	}
	for (i = 0; i < dt->nattrs; i++)
		if (jsonval_presence(attrs, f[i].name) != JV_ABSENT &&
		    (r = device_vals_set_attr(
			     v, i, jsonval_get_string(attrs, f[i].name))) != 0)
			return r;
	return 0;
}

int
api_device_apply_props(struct json_object *props, struct device_vals *v)
{
	size_t i;
	int r;

	for (i = 0; props != NULL && i < NELEM(api_device_prop_fields); i++)
		if (jsonval_presence(props, api_device_prop_fields[i].name) !=
			    JV_ABSENT &&
		    (r = device_vals_set_prop(
			     v, (enum subj_prop)i,
			     jsonval_get_string(
				     props, api_device_prop_fields[i].name))) !=
			    0)
			return r;
	return 0;
}

static int
update_tx(struct db *db, const struct principal *p, const struct request *req,
	  int64_t id, struct updating *u, struct jsonval_error *e)
{
	const char *desc;
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = api_device_lock(db, req, id, 1, 1, &u->old, e)) != 0 ||
	    (r = db_device_load_attrs(db, u->old)) != 0 ||
	    (r = device_vals_init(&u->v, u->dt, u->old)) != 0 ||
	    (r = api_device_apply_props(
		     jsonval_get_object(u->body, "properties"), &u->v)) != 0 ||
	    (r = api_device_apply_attrs(u->attrs, u->dt, &u->v, &u->attr_fields,
					e)) != 0 ||
	    (r = device_vals_check_changes(&u->v, u->dt, e)) != 0)
		goto out;
	desc = jsonval_presence(u->body, "description") == JV_ABSENT
		       ? u->old->description
		       : jsonval_get_string(u->body, "description");
	if (desc != NULL && *desc == '\0')
		desc = NULL;
	if ((r = api_device_diff(&d, u->old, desc, u->dt, &u->v)) != 0 ||
	    rest_diff_empty(&d))
		goto out;
	api_device_what(&w, "update", u->old);
	if ((r = device_update(db, id, desc, u->dt, &u->v)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	return r;
}

static int
h_update(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct device *cur = NULL;
	struct updating u;
	struct db *db;
	int64_t id;
	int r;

	memset(&u, 0, sizeof(u));
	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_device_access(db, p, req, id, PERM_ACT_UPDATE, "update", 1,
				   &cur, &e)) != 0 ||
	    (r = api_device_parse(req, &u.body, &e)) != 0 ||
	    (r = api_device_take_attrs(u.body, &u.attrs, &e)) != 0 ||
	    (r = jsonval_check(u.body, update_fields, NELEM(update_fields),
			       &e)) != 0)
		goto out;
	if ((r = db_devtype_load(db, cur->device_type_id, &u.dt)) != 0) {
		r = r == EST_E_NOTFOUND ? EST_E_INTERNAL : r;
		goto out;
	}
	if ((r = db_begin(db)) != 0)
		goto out;
	r = update_tx(db, p, req, id, &u, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = api_device_send(db, id, 200, NULL, 0, NULL, rs);
out:
	device_free(cur);
	update_clear(&u);
	return rest_answer(rs, r, &e);
}

/* ------------------------------------------------------------------ */
/* Delete */

/*
 * Revokes the device's active certificates and makes their CAs' CRLs
 * again; *out lists them (columns id and ca_id) for revoked_audit().
 */
static int
revoke_all(struct db *db, struct sigclient *sig, const struct principal *p,
	   int64_t id, struct db_result **out)
{
	struct db_result *res = NULL;
	int64_t *cas = NULL, ca;
	size_t n, ncas = 0, i, j;
	int r;

	if ((r = db_device_active_certs(db, id, DELETE_CERTS_MAX, &res)) != 0)
		return r;
	n = db_result_rows(res);
	if (n > 0 && (cas = calloc(n, sizeof(*cas))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		ca = db_result_i64(res, i, 1);
		if ((r = db_cert_revoke(db, db_result_i64(res, i, 0),
					REASON_CESSATION, 0,
					auth_user_id(p))) != 0)
			goto out;
		for (j = 0; j < ncas && cas[j] != ca; j++)
			;
		if (j == ncas)
			cas[ncas++] = ca;
	}
	for (j = 0; j < ncas; j++)
		if ((r = crl_regenerate(db, sig, cas[j])) != 0)
			goto out;
	*out = res;
	res = NULL;
out:
	free(cas);
	db_result_free(res);
	return r;
}

/* Each revocation is audited as the certificates API audits one. */
static int
revoked_audit(struct db *db, const struct principal *p,
	      const struct request *req, const struct db_result *revoked)
{
	struct db_result *cert = NULL;
	struct rest_diff d;
	struct rest_what w;
	size_t i;
	int r = 0;

	for (i = 0; i < db_result_rows(revoked) && r == 0; i++) {
		rest_diff_init(&d);
		if ((r = db_cert_get(db, db_result_i64(revoked, i, 0), 0,
				     &cert)) == 0) {
			api_cert_what(cert, "revoke", &w);
			if ((r = rest_diff_str(&d, "status", "active",
					       "revoked")) == 0 &&
			    (r = rest_diff_str(&d, "revocation_reason", NULL,
					       "cessationOfOperation")) == 0)
				r = rest_audit(db, p, req, &w, &d);
		}
		rest_diff_clear(&d);
		db_result_free(cert);
		cert = NULL;
	}
	return r;
}

/*
 * Every write comes before the first audit row, which locks the chain's
 * head until the commit (db/audit.h).
 */
static int
delete_tx(struct db *db, struct sigclient *sig, const struct principal *p,
	  const struct request *req, int64_t id, struct jsonval_error *e)
{
	struct db_result *revoked = NULL;
	struct device *old = NULL;
	struct rest_diff d;
	struct rest_what w;
	char note[24];
	int r;

	rest_diff_delete(&d);
	if ((r = api_device_lock(db, req, id, 1, 0, &old, e)) != 0 ||
	    (r = api_device_diff_ident(&d, old)) != 0 ||
	    (r = revoke_all(db, sig, p, id, &revoked)) != 0 ||
	    (r = db_device_delete(db, id)) != 0 ||
	    (r = revoked_audit(db, p, req, revoked)) != 0)
		goto out;
	snprintf(note, sizeof(note), "%zu", db_result_rows(revoked));
	if (db_result_rows(revoked) > 0 &&
	    (r = rest_diff_note(&d, "revoked_certificates", note)) != 0)
		goto out;
	api_device_what(&w, "delete", old);
	r = rest_audit(db, p, req, &w, &d);
out:
	db_result_free(revoked);
	rest_diff_clear(&d);
	device_free(old);
	return r;
}

static int
h_delete(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct sigclient *sig = NULL;
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_body_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_device_access(db, p, req, id, PERM_ACT_DELETE, "delete", 0,
				   NULL, &e)) != 0 ||
	    (r = ctx_signer(c, &sig)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = delete_tx(db, sig, p, req, id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = resp_empty(rs, 204);
out:
	return rest_answer(rs, r, &e);
}

/* ------------------------------------------------------------------ */
/* Modes */

enum mode_op { OP_FACTORY, OP_DISABLE, OP_ENABLE };

static const struct {
	enum perm_action act;
	const char *action;
} mode_ops[] = {
	[OP_FACTORY] = {PERM_ACT_SET_FACTORY_MODE, "set_factory_mode"},
	[OP_DISABLE] = {PERM_ACT_DISABLE, "disable"},
	[OP_ENABLE] = {PERM_ACT_ENABLE, "enable"},
};

static int
conflict(struct jsonval_error *e, const char *why)
{
	return jsonval_error_set(e, EST_E_CONFLICT, "mode", "%s", why);
}

/* The new mode (and what Disable remembers) of d for op. */
static int
mode_next(struct db *db, const struct device *d, enum mode_op op,
	  enum device_mode *next, struct jsonval_error *e)
{
	enum device_mode implied;
	int r;

	switch (op) {
	case OP_FACTORY:
		if (d->mode == DEVICE_MODE_DISABLED)
			return disabled(e);
		if (d->mode != DEVICE_MODE_OPERATIONAL)
			return conflict(e, "only an OPERATIONAL device is set "
					   "to FACTORY mode");
		*next = DEVICE_MODE_FACTORY;
		return 0;
	case OP_DISABLE:
		if (d->mode == DEVICE_MODE_DISABLED)
			return conflict(e, "the device is disabled already");
		*next = DEVICE_MODE_DISABLED;
		return 0;
	case OP_ENABLE:
		if (d->mode != DEVICE_MODE_DISABLED)
			return conflict(e, "the device is not disabled");
		if ((r = device_mode_implied(db, d, &implied)) != 0)
			return r;
		/* The lower of the two (pki/devmgmt.h). */
		*next = implied < d->mode_before_disable
				? implied
				: d->mode_before_disable;
		return 0;
	}
	return EST_E_INTERNAL;
}

static int
mode_tx(struct db *db, const struct principal *p, const struct request *req,
	int64_t id, enum mode_op op, struct jsonval_error *e)
{
	struct device *d = NULL;
	enum device_mode next = DEVICE_MODE_NEW;
	struct rest_diff df;
	struct rest_what w;
	int r;

	rest_diff_init(&df);
	if ((r = api_device_lock(db, req, id, 0, 0, &d, e)) != 0 ||
	    (r = mode_next(db, d, op, &next, e)) != 0 ||
	    (r = db_device_set_mode(db, id, next, d->mode)) != 0 ||
	    (r = rest_diff_str(&df, "mode", device_mode_name(d->mode),
			       device_mode_name(next))) != 0)
		goto out;
	api_device_what(&w, mode_ops[op].action, d);
	r = rest_audit(db, p, req, &w, &df);
out:
	rest_diff_clear(&df);
	device_free(d);
	return r;
}

static int
mode_change(struct hctx *c, const struct request *req,
	    const struct principal *p, struct resp *rs, enum mode_op op)
{
	struct jsonval_error e = {0};
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_body_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_device_access(db, p, req, id, mode_ops[op].act,
				   mode_ops[op].action, op == OP_FACTORY, NULL,
				   &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = mode_tx(db, p, req, id, op, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = api_device_send(db, id, 200, NULL, 0, NULL, rs);
out:
	return rest_answer(rs, r, &e);
}

static int
h_factory(struct hctx *c, const struct request *req, const struct principal *p,
	  struct resp *rs)
{
	return mode_change(c, req, p, rs, OP_FACTORY);
}

static int
h_disable(struct hctx *c, const struct request *req, const struct principal *p,
	  struct resp *rs)
{
	return mode_change(c, req, p, rs, OP_DISABLE);
}

static int
h_enable(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	return mode_change(c, req, p, rs, OP_ENABLE);
}

AUTH_ROUTE_PUBLIC(api_device_r_list, h_list)
REST_ROUTE_GET(api_device_r_get, dev_ops)
AUTH_ROUTE_PUBLIC(api_device_r_update, h_update)
AUTH_ROUTE_PUBLIC(api_device_r_delete, h_delete)
AUTH_ROUTE_PUBLIC(api_device_r_factory, h_factory)
AUTH_ROUTE_PUBLIC(api_device_r_disable, h_disable)
AUTH_ROUTE_PUBLIC(api_device_r_enable, h_enable)
