/*
 * Devices: values under the type's rules, modes, certificates and the
 * external factory certificate (pki/devmgmt.h).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "db.h"
#include "dbq.h"
#include "device.h"
#include "devmgmt.h"
#include "devtype.h"
#include "err.h"
#include "extca.h"
#include "issue.h"
#include "issue_cache.h"
#include "jsonval.h"
#include "template.h"
#include "tmpl.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Values */

int
device_vals_init(struct device_vals *v, const struct devtype *dt,
		 const struct device *cur)
{
	size_t i, j;

	memset(v, 0, sizeof(*v));
	if (dt == NULL)
		return EST_E_INVAL;
	v->nattrs = dt->nattrs;
	if (v->nattrs > 0 &&
	    ((v->attrs = calloc(v->nattrs, sizeof(*v->attrs))) == NULL ||
	     (v->attr_set = calloc(v->nattrs, sizeof(*v->attr_set))) == NULL ||
	     (v->sav = calloc(v->nattrs, sizeof(*v->sav))) == NULL)) {
		device_vals_clear(v);
		return EST_E_NOMEM;
	}
	if (cur == NULL)
		return 0;
	for (i = 0; i < SUBJ_PROP_COUNT; i++)
		if (cur->props[i] != NULL &&
		    (v->props[i] = strdup(cur->props[i])) == NULL)
			goto nomem;
	for (i = 0; i < v->nattrs; i++)
		for (j = 0; j < cur->nattrs; j++)
			if (cur->attrs[j].attribute_id == dt->attrs[i].id &&
			    cur->attrs[j].value != NULL &&
			    (v->attrs[i] = strdup(cur->attrs[j].value)) == NULL)
				goto nomem;
	return 0;
nomem:
	device_vals_clear(v);
	return EST_E_NOMEM;
}

void
device_vals_clear(struct device_vals *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < SUBJ_PROP_COUNT; i++)
		free(v->props[i]);
	for (i = 0; v->attrs != NULL && i < v->nattrs; i++)
		free(v->attrs[i]);
	free(v->attrs);
	free(v->attr_set);
	free(v->sav);
	memset(v, 0, sizeof(*v));
}

/* *slot becomes a copy of value; NULL and "" are no value. */
static int
slot_set(char **slot, const char *value)
{
	char *s = NULL;

	if (value != NULL && *value != '\0' && (s = strdup(value)) == NULL)
		return EST_E_NOMEM;
	free(*slot);
	*slot = s;
	return 0;
}

int
device_vals_set_prop(struct device_vals *v, enum subj_prop p, const char *value)
{
	if ((unsigned)p >= SUBJ_PROP_COUNT)
		return EST_E_INVAL;
	v->set[p] = 1;
	return slot_set(&v->props[p], value);
}

int
device_vals_set_attr(struct device_vals *v, size_t i, const char *value)
{
	if (i >= v->nattrs)
		return EST_E_INVAL;
	v->attr_set[i] = 1;
	return slot_set(&v->attrs[i], value);
}

/* Unicode characters of UTF-8 text s (already validated). */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
prop_fail(struct jsonval_error *e, enum subj_prop p, const char *why)
{
	char field[64];

	snprintf(field, sizeof(field), "properties.%s", devtype_prop_name(p));
	return jsonval_error_set(e, EST_E_UNPROCESSABLE, field, "%s", why);
}

static int
attr_fail(struct jsonval_error *e, const struct devtype_attr *a,
	  const char *why)
{
	char field[96];

	snprintf(field, sizeof(field), "attributes.%.64s", a->name);
	return jsonval_error_set(e, EST_E_UNPROCESSABLE, field, "%s", why);
}

/* The type's value of a fixed member against what the client sent. */
static int
fixed_differs(const char *sent, const char *fixed)
{
	return sent != NULL && (fixed == NULL || strcmp(sent, fixed) != 0);
}

/*
 * One property after its value is chosen: required (or SUBJ_UNDEFINED
 * with undefined set), and the length of the devices column.
 */
static int
prop_check(struct device_vals *v, const struct devtype *dt, enum subj_prop p,
	   int undefined, struct jsonval_error *e)
{
	const struct devtype_prop *st = &dt->props[p];
	int r;

	if (v->props[p] == NULL && st->required) {
		if (!undefined)
			return prop_fail(e, p, "required by the device type");
		if ((r = slot_set(&v->props[p], SUBJ_UNDEFINED)) != 0)
			return r;
	}
	if (v->props[p] != NULL && chars(v->props[p]) > DEVTYPE_PROP_MAX)
		return prop_fail(e, p, "longer than 255 characters");
	return 0;
}

static int
attr_check(struct device_vals *v, const struct devtype *dt, size_t i,
	   int undefined, struct jsonval_error *e)
{
	const struct devtype_attr *a = &dt->attrs[i];
	int r;

	if (v->attrs[i] == NULL && a->required) {
		if (!undefined)
			return attr_fail(e, a, "required by the device type");
		/* A placeholder, not a value of the attribute's type. */
		return slot_set(&v->attrs[i], SUBJ_UNDEFINED);
	}
	if (v->attrs[i] != NULL &&
	    (r = devtype_attr_check(a, v->attrs[i])) != 0)
		return attr_fail(e, a,
				 r == EST_E_UNPROCESSABLE
					 ? "not a value of the attribute's "
					   "type and length"
					 : "cannot be checked");
	return 0;
}

/* The reverse-mapped value of attribute name, or NULL. */
static const char *
rev_attr(const struct subj_device_values *rev, const char *name)
{
	size_t i;

	for (i = 0; rev != NULL && i < rev->nattrs; i++)
		if (rev->attrs[i].name != NULL &&
		    strcmp(rev->attrs[i].name, name) == 0)
			return rev->attrs[i].value;
	return NULL;
}

int
device_vals_complete(struct device_vals *v, const struct devtype *dt,
		     const struct subj_device_values *rev, int undefined,
		     struct jsonval_error *e)
{
	const char *from;
	size_t i;
	int r;

	for (i = 0; i < SUBJ_PROP_COUNT; i++) {
		const struct devtype_prop *st = &dt->props[i];

		if (st->fixed) {
			if (fixed_differs(v->props[i], st->default_value))
				return prop_fail(e, (enum subj_prop)i,
						 "fixed by the device type");
			from = st->default_value;
		} else if (v->props[i] != NULL) {
			continue;
		} else if (rev != NULL && rev->props[i] != NULL &&
			   *rev->props[i] != '\0') {
			from = rev->props[i];
		} else {
			from = st->default_value;
		}
		if ((r = slot_set(&v->props[i], from)) != 0)
			return r;
	}
	for (i = 0; i < SUBJ_PROP_COUNT; i++)
		if ((r = prop_check(v, dt, (enum subj_prop)i, undefined, e)) !=
		    0)
			return r;
	for (i = 0; i < v->nattrs; i++) {
		const struct devtype_attr *a = &dt->attrs[i];

		if (a->fixed) {
			if (fixed_differs(v->attrs[i], a->default_value))
				return attr_fail(e, a,
						 "fixed by the device type");
			from = a->default_value;
		} else if (v->attrs[i] != NULL) {
			continue;
		} else if ((from = rev_attr(rev, a->name)) == NULL ||
			   *from == '\0') {
			from = a->default_value;
		}
		if ((r = slot_set(&v->attrs[i], from)) != 0)
			return r;
	}
	for (i = 0; i < v->nattrs; i++)
		if ((r = attr_check(v, dt, i, undefined, e)) != 0)
			return r;
	return 0;
}

int
device_vals_check_changes(struct device_vals *v, const struct devtype *dt,
			  struct jsonval_error *e)
{
	size_t i;
	int r;

	for (i = 0; i < SUBJ_PROP_COUNT; i++) {
		if (!v->set[i])
			continue;
		/* Clearing a fixed value changes it as much as replacing. */
		if (dt->props[i].fixed &&
		    (v->props[i] == NULL ||
		     fixed_differs(v->props[i], dt->props[i].default_value)))
			return prop_fail(e, (enum subj_prop)i,
					 "fixed by the device type");
		if ((r = prop_check(v, dt, (enum subj_prop)i, 0, e)) != 0)
			return r;
	}
	for (i = 0; i < v->nattrs; i++) {
		if (!v->attr_set[i])
			continue;
		if (dt->attrs[i].fixed &&
		    (v->attrs[i] == NULL ||
		     fixed_differs(v->attrs[i], dt->attrs[i].default_value)))
			return attr_fail(e, &dt->attrs[i],
					 "fixed by the device type");
		if ((r = attr_check(v, dt, i, 0, e)) != 0)
			return r;
	}
	return 0;
}

int
device_vals_subj(struct device_vals *v, const struct devtype *dt,
		 const char *name, struct subj_device *out)
{
	size_t i, k = 0;

	if (v->nattrs != dt->nattrs)
		return EST_E_INVAL;
	memset(out, 0, sizeof(*out));
	out->name = name;
	for (i = 0; i < SUBJ_PROP_COUNT; i++)
		out->props[i] = v->props[i];
	for (i = 0; i < v->nattrs; i++) {
		if (v->attrs[i] == NULL)
			continue;
		v->sav[k].name = dt->attrs[i].name;
		v->sav[k].value = v->attrs[i];
		k++;
	}
	out->attrs = k > 0 ? v->sav : NULL;
	out->nattrs = k;
	return 0;
}

static int
attrs_write(struct db *db, int64_t id, const struct devtype *dt,
	    const struct device_vals *v, int all)
{
	size_t i;
	int r;

	if (v->nattrs != dt->nattrs)
		return EST_E_INVAL;
	for (i = 0; i < v->nattrs; i++) {
		if (!all && v->attrs[i] == NULL)
			continue;
		if ((r = db_device_set_attr(db, id, dt->attrs[i].id,
					    v->attrs[i])) != 0)
			return r;
	}
	return 0;
}

int
device_insert(struct db *db, const struct db_device_new *n,
	      const struct devtype *dt, const struct device_vals *v,
	      int64_t *id)
{
	struct db_device_new nn = *n;
	int64_t newid = 0;
	int r;

	nn.props = (const char *const *)v->props;
	if ((r = db_device_insert(db, &nn, &newid)) != 0 ||
	    (r = attrs_write(db, newid, dt, v, 0)) != 0)
		return r;
	*id = newid;
	return 0;
}

int
device_update(struct db *db, int64_t id, const char *description,
	      const struct devtype *dt, const struct device_vals *v)
{
	int r;

	if ((r = db_device_update(db, id, description,
				  (const char *const *)v->props)) != 0)
		return r;
	return attrs_write(db, id, dt, v, 1);
}

const char *
device_name_problem(const struct devtype *dt, const char *name)
{
	if (name == NULL || chars(name) > DEVICE_NAME_MAX ||
	    jsonval_check_name(name) != 0)
		return "not a device name";
	if (dt->device_password_enabled && strchr(name, ':') != NULL)
		return "a device ID cannot contain ':'";
	return NULL;
}

int
device_reverse_map(const struct devtype *dt, const struct tmpl *ft,
		   const struct subj_input *in, struct subj_device_values **out,
		   struct subj_error *se)
{
	struct subj_mapping map = {NULL, 0};
	struct subj_template st;
	int r;

	memset(se, 0, sizeof(*se));
	tmpl_subject(ft, &st);
	if ((r = devtype_mapping(dt, ft, &map)) != 0)
		return r;
	r = subject_reverse_map(&st, &map, in, NULL, 0, out, se);
	devtype_mapping_free(&map);
	return r;
}

/* ------------------------------------------------------------------ */
/* Modes */

int
device_mode_implied(struct db *db, const struct device *d,
		    enum device_mode *out)
{
	int64_t op = 0, fac = 0;
	int r;

	if ((r = db_device_cert_counts(db, d->id, &op, &fac)) != 0)
		return r;
	/* An external factory certificate lives in the device row. */
	if (d->has_factory_fp && d->factory_cert_der != NULL)
		fac++;
	if (op > 0)
		*out = DEVICE_MODE_OPERATIONAL;
	else if (fac > 0 || d->has_password)
		*out = DEVICE_MODE_FACTORY;
	else
		*out = DEVICE_MODE_NEW;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Certificates */

static int
in_op_templates(const struct devtype *dt, int64_t id)
{
	size_t i;

	for (i = 0; i < dt->nop_templates; i++)
		if (dt->op_templates[i].template_id == id)
			return 1;
	return 0;
}

/*
 * The template that kind (and template_id, 0 for the default) names for
 * dt into *id; the field names of its refusals into *field and f.
 */
static int
template_pick(const struct devtype *dt, enum issue_kind kind,
	      int64_t template_id, const char **field, char *f, size_t fsz,
	      int64_t *id, struct jsonval_error *e)
{
	/* A request at the top of a body is named by its kind. */
	if ((*field)[0] == '\0') {
		snprintf(f, fsz, "template_id");
		*field = "kind";
	} else {
		snprintf(f, fsz, "%s.template_id", *field);
	}
	if (kind == ISSUE_KIND_FACTORY) {
		if (dt->factory_source == DEVTYPE_FACTORY_EXTERNAL)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, *field,
				"the device type's factory certificates come "
				"from an external CA");
		if (dt->factory_source != DEVTYPE_FACTORY_INTERNAL ||
		    dt->factory_template_id == 0)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, *field,
				"the device type has no factory template");
		if (template_id != 0 && template_id != dt->factory_template_id)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, f,
				"not the device type's factory template");
		*id = dt->factory_template_id;
	} else if (kind == ISSUE_KIND_OPERATIONAL) {
		*id = template_id != 0 ? template_id : dt->default_template_id;
		if (*id == 0)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, *field,
				"the device type has no operational template");
		if (!in_op_templates(dt, *id))
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, f,
				"not an operational template of the device "
				"type");
	} else {
		return EST_E_INVAL;
	}
	return 0;
}

/* Whether template tp and its CA c can issue now (409 naming f if not). */
static int
template_usable(const struct tmpl *tp, const struct db_ca *c, const char *f,
		struct jsonval_error *e)
{
	if (!tp->active)
		return jsonval_error_set(e, EST_E_CONFLICT, f,
					 "the template is inactive");
	if (!c->active || c->cert_der == NULL)
		return jsonval_error_set(e, EST_E_CONFLICT, f,
					 "the template's CA is inactive");
	return 0;
}

int
device_cert_template(struct db *db, const struct devtype *dt,
		     enum issue_kind kind, int64_t template_id,
		     const char *field, struct tmpl **t, struct db_ca **ca,
		     struct jsonval_error *e)
{
	struct tmpl *tp = NULL;
	struct db_ca *c = NULL;
	char f[96];
	int64_t id = 0;
	int r;

	if ((r = template_pick(dt, kind, template_id, &field, f, sizeof(f), &id,
			       e)) != 0)
		return r;
	if ((r = db_template_load(db, id, &tp)) != 0)
		return r == EST_E_NOTFOUND ? EST_E_INTERNAL : r;
	if (!tp->active) {
		r = jsonval_error_set(e, EST_E_CONFLICT, f,
				      "the template is inactive");
		goto out;
	}
	if ((r = db_ca_get(db, tp->ca_id, &c)) != 0) {
		r = r == EST_E_NOTFOUND ? EST_E_INTERNAL : r;
		goto out;
	}
	if ((r = template_usable(tp, c, f, e)) != 0)
		goto out;
	*t = tp;
	*ca = c;
	return 0;
out:
	db_ca_free(c);
	tmpl_free(tp);
	return r;
}

int
device_cert_template_cached(struct issue_cache *ic, struct db *db,
			    const struct devtype *dt, enum issue_kind kind,
			    int64_t template_id, const char *field,
			    const struct tmpl **t, const struct db_ca **ca,
			    struct jsonval_error *e)
{
	const struct tmpl *tp = NULL;
	const struct db_ca *c = NULL;
	char f[96];
	int64_t id = 0;
	int r;

	if ((r = template_pick(dt, kind, template_id, &field, f, sizeof(f), &id,
			       e)) != 0)
		return r;
	if ((r = issue_cache_get(ic, db, id, &tp, &c)) != 0)
		return r == EST_E_NOTFOUND ? EST_E_INTERNAL : r;
	if ((r = template_usable(tp, c, f, e)) != 0)
		return r;
	*t = tp;
	*ca = c;
	return 0;
}

int
device_cert_issue(struct db *db, struct sigclient *sc, const struct devtype *dt,
		  const struct device *d, struct device_vals *v,
		  const struct device_cert_req *rq, const char *prefix,
		  struct issue_result **out, struct jsonval_error *e)
{
	struct subj_mapping map = {NULL, 0};
	struct issue_error ie;
	struct issue_req ir;
	struct subj_device sd;
	char field[128];
	int r;

	memset(&ie, 0, sizeof(ie));
	memset(&ir, 0, sizeof(ir));
	if ((r = devtype_mapping(dt, rq->tmpl, &map)) != 0 ||
	    (r = device_vals_subj(v, dt, d->name, &sd)) != 0)
		goto out;
	ir.tmpl = rq->tmpl;
	ir.ca = rq->ca;
	ir.csr = rq->csr;
	ir.keygen_type = rq->keygen_type;
	ir.input = rq->input;
	ir.src = rq->csr != NULL ? SUBJ_SRC_CSR : SUBJ_SRC_USER;
	ir.map = &map;
	ir.dev = &sd;
	ir.not_before = rq->not_before;
	ir.days = rq->days;
	ir.kind = rq->kind;
	ir.via = rq->via;
	ir.creator = rq->creator;
	ir.user_id = rq->user_id;
	ir.app_id = rq->app_id;
	ir.device_id = d->id;
	ir.renewed_from_id = rq->renewed_from_id;
	ir.tenant_id = d->tenant_id;
	ir.org_id = d->org_id;
	if ((r = issue_cert(db, sc, &ir, out, &ie)) != 0 && ie.code == r) {
		snprintf(field, sizeof(field), "%s%s%s", prefix,
			 ie.field[0] != '\0' ? "." : "", ie.field);
		r = jsonval_error_set(e, r, field, "%s", ie.message);
	}
out:
	devtype_mapping_free(&map);
	return r;
}

/* ------------------------------------------------------------------ */
/* External factory certificates */

static int
chain_check(X509 *ca, X509 *leaf, const char *field, struct jsonval_error *e)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int r = EST_E_NOMEM;

	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_add_cert(store, ca))
		goto out;
	/*
	 * The registered CA is the anchor, root or not.  No X509_STRICT:
	 * factory CAs in the field issue certificates without the
	 * identifiers it demands, and what matters here is the signature,
	 * the validity and the CA's constraints, which are always checked.
	 */
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (!X509_STORE_CTX_init(ctx, store, leaf, NULL))
		goto out;
	if (X509_verify_cert(ctx) != 1) {
		r = jsonval_error_set(
			e, EST_E_UNPROCESSABLE, field,
			"not issued by the device type's external CA: %s",
			X509_verify_cert_error_string(
				X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	if (X509_check_ca(leaf) != 0) {
		r = jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
				      "a CA certificate, not a device's");
		goto out;
	}
	r = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

int
device_factory_external_with(X509 *ca, X509 *leaf, const char *field,
			     struct jsonval_error *e)
{
	if (ca == NULL || leaf == NULL)
		return EST_E_INVAL;
	return chain_check(ca, leaf, field, e);
}

int
device_factory_external(struct db *db, const struct devtype *dt,
			const uint8_t *der, size_t len, const char *field,
			uint8_t fp[DEVICE_FP_LEN], struct jsonval_error *e)
{
	struct db_devtype_extca x;
	struct db_result *res = NULL;
	const unsigned char *p;
	const char *cader;
	X509 *ca = NULL, *leaf = NULL;
	unsigned int mdlen = 0;
	size_t calen = 0;
	int r;

	if (dt->factory_source != DEVTYPE_FACTORY_EXTERNAL ||
	    dt->external_ca_id == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
					 "the device type has no external "
					 "factory CA");
	/*
	 * Read in share mode: the CA cannot be deactivated or deleted before
	 * the new device commits.
	 */
	if ((r = db_devtype_extca(db, dt->external_ca_id, &x)) != 0)
		return r == EST_E_NOTFOUND ? EST_E_INTERNAL : r;
	if (!x.verified || !x.active)
		return jsonval_error_set(e, EST_E_CONFLICT, field,
					 "the device type's external CA is "
					 "not verified and active");
	if ((r = db_extca_get(db, dt->external_ca_id, 0, &res)) != 0)
		return r == EST_E_NOTFOUND ? EST_E_INTERNAL : r;
	cader = db_result_str(res, 0, DB_EXTCA_CERT_DER, &calen);
	p = (const unsigned char *)cader;
	if (cader == NULL || calen > LONG_MAX ||
	    (ca = d2i_X509(NULL, &p, (long)calen)) == NULL) {
		r = EST_E_INTERNAL;
		goto out;
	}
	p = der;
	if (len == 0 || len > LONG_MAX ||
	    (leaf = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		r = jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
				      "not one DER certificate");
		goto out;
	}
	if ((r = device_factory_external_with(ca, leaf, field, e)) != 0)
		goto out;
	if (EVP_Digest(der, len, fp, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != DEVICE_FP_LEN)
		r = EST_E_CRYPTO;
out:
	X509_free(leaf);
	X509_free(ca);
	db_result_free(res);
	return r;
}
