/*
 * The JSON of a device that the API gives out, and the before/after
 * details of its audit rows (fcgi/api_device.h).  Never a secret: a
 * password is "password_set", a credential file is its state.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_device.h"
#include "b64.h"
#include "db.h"
#include "devtype.h"
#include "err.h"
#include "extcert.h"
#include "resp.h"
#include "rest.h"
#include "util.h"
#include "x509.h"

static const char *const cred_states[] = {
	[DB_CRED_NONE] = "none",	   [DB_CRED_AVAILABLE] = "available",
	[DB_CRED_EXPIRED] = "expired",	   [DB_CRED_DOWNLOADED] = "downloaded",
	[DB_CRED_DESTROYED] = "destroyed",
};

static int
props_json(const struct device *d, struct json_object *o)
{
	struct json_object *p;
	size_t i;
	int r;

	if ((p = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < SUBJ_PROP_COUNT; i++)
		if ((r = rest_put_str(p, devtype_prop_name((enum subj_prop)i),
				      d->props[i])) != 0) {
			json_object_put(p);
			return r;
		}
	return rest_put_obj(o, "properties", p);
}

static int
attrs_json(const struct device *d, struct json_object *o)
{
	struct json_object *a;
	size_t i;
	int r;

	if ((a = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < d->nattrs; i++)
		if ((r = rest_put_str(a, d->attrs[i].name,
				      d->attrs[i].value)) != 0) {
			json_object_put(a);
			return r;
		}
	return rest_put_obj(o, "attributes", a);
}

/* The issued certificate of this request with id, or NULL. */
static struct devcert *
issued_find(struct devcert *const *issued, size_t n, int64_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (issued[i]->res != NULL && issued[i]->res->id == id)
			return issued[i];
	return NULL;
}

/* What only the request that issued a certificate gives: PEM, PKCS#12. */
static int
issued_json(const struct devcert *dc, struct json_object *o)
{
	char *pem = NULL, *b64 = NULL;
	size_t len = 0;
	int r;

	if ((r = x509_der_to_pem(dc->res->der, dc->res->derlen, &pem, &len)) !=
		    0 ||
	    (r = rest_put_str(o, "pem", pem)) != 0)
		goto out;
	if (dc->p12 != NULL &&
	    ((r = b64_encode(dc->p12, dc->p12len, 0, &b64, &len)) != 0 ||
	     (r = rest_put_str(o, "pkcs12", b64)) != 0))
		goto out;
out:
	free(pem);
	if (b64 != NULL)
		freezero_str(b64);
	return r;
}

static int
cert_json(const struct db_result *res, size_t i, struct devcert *const *issued,
	  size_t nissued, struct json_object **out)
{
	struct json_object *o;
	const struct devcert *dc;
	const char *s;
	size_t len = 0;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	s = db_result_str(res, i, DB_DEVCERT_SERIAL, &len);
	if ((r = rest_put_id(o, "id", db_result_i64(res, i, DB_DEVCERT_ID))) !=
		    0 ||
	    (r = rest_put_str(o, "kind",
			      db_result_str(res, i, DB_DEVCERT_KIND, NULL))) !=
		    0 ||
	    (r = rest_put_str(
		     o, "status",
		     db_result_str(res, i, DB_DEVCERT_STATUS, NULL))) != 0 ||
	    (r = rest_put_hex(o, "serial", (const uint8_t *)s, len)) != 0 ||
	    (r = rest_put_str(
		     o, "subject",
		     db_result_str(res, i, DB_DEVCERT_SUBJECT, NULL))) != 0 ||
	    (r = rest_put_time(o, "not_before",
			       db_result_str(res, i, DB_DEVCERT_NOT_BEFORE,
					     NULL))) != 0 ||
	    (r = rest_put_time(
		     o, "not_after",
		     db_result_str(res, i, DB_DEVCERT_NOT_AFTER, NULL))) != 0 ||
	    (r = rest_put_id(o, "template_id",
			     db_result_i64(res, i, DB_DEVCERT_TEMPLATE_ID))) !=
		    0 ||
	    (r = rest_put_id(o, "ca_id",
			     db_result_i64(res, i, DB_DEVCERT_CA_ID))) != 0 ||
	    (r = rest_put_str(o, "key_source",
			      db_result_str(res, i, DB_DEVCERT_KEY_SOURCE,
					    NULL))) != 0 ||
	    (r = rest_put_bool(
		     o, "key_available",
		     db_result_i64(res, i, DB_DEVCERT_KEY_AVAILABLE))) != 0)
		goto fail;
	s = db_result_str(res, i, DB_DEVCERT_FINGERPRINT, &len);
	if ((r = rest_put_hex(o, "fingerprint", (const uint8_t *)s, len)) != 0)
		goto fail;
	if ((dc = issued_find(issued, nissued,
			      db_result_i64(res, i, DB_DEVCERT_ID))) != NULL &&
	    (r = issued_json(dc, o)) != 0)
		goto fail;
	*out = o;
	return 0;
fail:
	json_object_put(o);
	return r;
}

/*
 * The device's certificates, newest first, and its factory certificate:
 * the row whose fingerprint the device holds, or the external one.
 */
static int
certs_json(struct db *db, const struct device *d, struct devcert *const *issued,
	   size_t nissued, struct json_object *o)
{
	struct db_result *res = NULL;
	struct json_object *a = NULL, *item = NULL, *factory = NULL;
	struct extcert_info *info = NULL;
	const char *fp;
	size_t i, len = 0;
	int r;

	if ((r = db_device_certs(db, d->id, DEVICE_CERTS_MAX, &res)) != 0)
		return r;
	if ((a = json_object_new_array()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < db_result_rows(res); i++) {
		if ((r = cert_json(res, i, issued, nissued, &item)) != 0)
			goto out;
		fp = db_result_str(res, i, DB_DEVCERT_FINGERPRINT, &len);
		if (factory == NULL && d->has_factory_fp && fp != NULL &&
		    len == DEVICE_FP_LEN &&
		    memcmp(fp, d->factory_fp, DEVICE_FP_LEN) == 0)
			factory = json_object_get(item);
		if (json_object_array_add(a, item) != 0) {
			json_object_put(item);
			r = EST_E_NOMEM;
			goto out;
		}
	}
	if ((r = rest_put_obj(o, "certificates", a)) != 0) {
		a = NULL;
		goto out;
	}
	a = NULL;
	if (factory == NULL && d->factory_cert_der != NULL) {
		if ((r = extcert_info_new(d->factory_cert_der,
					  d->factory_cert_len, &info)) != 0 ||
		    (factory = json_object_new_object()) == NULL ||
		    (r = rest_put_str(factory, "source", "external")) != 0 ||
		    (r = rest_put_hex(factory, "fingerprint", info->fingerprint,
				      sizeof(info->fingerprint))) != 0 ||
		    (r = rest_put_str(factory, "subject", info->subject)) !=
			    0 ||
		    (r = rest_put_str(factory, "issuer", info->issuer)) != 0 ||
		    (r = rest_put_time(factory, "not_before",
				       info->not_before)) != 0 ||
		    (r = rest_put_time(factory, "not_after",
				       info->not_after)) != 0) {
			r = r != 0 ? r : EST_E_NOMEM;
			goto out;
		}
	} else if (factory != NULL) {
		/* A copy, so that the list keeps its own entry whole. */
		struct json_object *c = NULL;

		if (json_object_deep_copy(factory, &c, NULL) != 0 ||
		    (r = rest_put_str(c, "source", "internal")) != 0) {
			json_object_put(c);
			r = r != 0 ? r : EST_E_NOMEM;
			goto out;
		}
		json_object_object_del(c, "pkcs12");
		json_object_put(factory);
		factory = c;
	}
	r = rest_put_obj(o, "factory_certificate", factory);
	factory = NULL;
out:
	extcert_info_free(info);
	json_object_put(factory);
	json_object_put(a);
	db_result_free(res);
	return r;
}

static int
cred_json(struct db *db, const struct device *d, struct json_object *o)
{
	struct json_object *c;
	struct db_cred cr;
	int r;

	if ((r = db_device_cred_state(db, d->id, &cr)) != 0)
		return r;
	if ((c = json_object_new_object()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = rest_put_str(c, "state", cred_states[cr.state])) != 0 ||
	    (r = rest_put_time(c, "expires_at", cr.expires_at)) != 0 ||
	    (r = rest_put_time(c, "downloaded_at", cr.downloaded_at)) != 0 ||
	    (r = rest_put_time(c, "destroyed_at", cr.destroyed_at)) != 0) {
		json_object_put(c);
		goto out;
	}
	r = rest_put_obj(o, "credentials", c);
out:
	db_cred_clear(&cr);
	return r;
}

int
api_device_json(struct db *db, const struct device *d, int full,
		struct devcert *const *issued, size_t nissued,
		struct json_object **out)
{
	struct json_object *o;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_id(o, "id", d->id)) != 0 ||
	    (r = rest_put_str(o, "name", d->name)) != 0 ||
	    (r = rest_put_id(o, "tenant_id", d->tenant_id)) != 0 ||
	    (r = rest_put_id(o, "org_id", d->org_id)) != 0 ||
	    (r = rest_put_id(o, "device_type_id", d->device_type_id)) != 0 ||
	    (r = rest_put_str(o, "description", d->description)) != 0 ||
	    (r = rest_put_str(o, "mode", device_mode_name(d->mode))) != 0 ||
	    (r = rest_put_str(o, "mode_before_disable",
			      d->mode == DEVICE_MODE_DISABLED
				      ? device_mode_name(d->mode_before_disable)
				      : NULL)) != 0 ||
	    (r = props_json(d, o)) != 0 ||
	    (r = rest_put_hex(o, "factory_cert_fingerprint",
			      d->has_factory_fp ? d->factory_fp : NULL,
			      DEVICE_FP_LEN)) != 0 ||
	    (r = rest_put_bool(o, "password_set", d->has_password)) != 0 ||
	    (r = rest_put_time(o, "password_set_at", d->password_set_at)) !=
		    0 ||
	    (r = rest_put_str(o, "created_via", d->created_via)) != 0 ||
	    (r = rest_put_id(o, "created_by_user_id", d->created_by_user)) !=
		    0 ||
	    (r = rest_put_id(o, "created_by_app_id", d->created_by_app)) != 0 ||
	    (r = rest_put_time(o, "last_seen_at", d->last_seen_at)) != 0 ||
	    (r = rest_put_time(o, "created_at", d->created_at)) != 0 ||
	    (r = rest_put_time(o, "updated_at", d->updated_at)) != 0)
		goto fail;
	if (full && ((r = attrs_json(d, o)) != 0 ||
		     (r = certs_json(db, d, issued, nissued, o)) != 0 ||
		     (r = cred_json(db, d, o)) != 0))
		goto fail;
	*out = o;
	return 0;
fail:
	json_object_put(o);
	return r;
}

int
api_device_send(struct db *db, int64_t id, int status,
		struct devcert *const *issued, size_t nissued,
		const char *location, struct resp *rs)
{
	struct device *d = NULL;
	struct json_object *o = NULL;
	char etag[REST_ETAG_MAX];
	int r;

	if ((r = db_device_get(db, id, 0, &d)) != 0 ||
	    (r = db_device_load_attrs(db, d)) != 0 ||
	    (r = api_device_json(db, d, 1, issued, nissued, &o)) != 0 ||
	    (r = api_device_etag(d, etag)) != 0)
		goto out;
	if (status == 201 && location == NULL)
		r = rest_created(rs, API_DEVICE_BASE, id, o, etag);
	else if ((r = rest_send(rs, status, o, etag)) == 0 && location != NULL)
		r = resp_header(rs, "Location", location);
out:
	json_object_put(o);
	device_free(d);
	return r;
}

/* ------------------------------------------------------------------ */
/* Audit details */

/* The value device old holds for attribute attribute_id, or NULL. */
static const char *
old_attr(const struct device *old, int64_t attribute_id)
{
	size_t i;

	for (i = 0; old != NULL && i < old->nattrs; i++)
		if (old->attrs[i].attribute_id == attribute_id)
			return old->attrs[i].value;
	return NULL;
}

int
api_device_diff(struct rest_diff *d, const struct device *old,
		const char *description, const struct devtype *dt,
		const struct device_vals *v)
{
	char key[96];
	size_t i;
	int r;

	if ((r = rest_diff_str(d, "description",
			       old != NULL ? old->description : NULL,
			       description)) != 0)
		return r;
	for (i = 0; i < SUBJ_PROP_COUNT; i++)
		if ((r = rest_diff_str(d, devtype_prop_name((enum subj_prop)i),
				       old != NULL ? old->props[i] : NULL,
				       v->props[i])) != 0)
			return r;
	for (i = 0; i < dt->nattrs && i < v->nattrs; i++) {
		snprintf(key, sizeof(key), "attributes.%.64s",
			 dt->attrs[i].name);
		if ((r = rest_diff_str(d, key, old_attr(old, dt->attrs[i].id),
				       v->attrs[i])) != 0)
			return r;
	}
	return 0;
}

int
api_device_diff_ident(struct rest_diff *d, const struct device *dev)
{
	int r;

	if ((r = rest_diff_str(d, "name", dev->name, dev->name)) != 0 ||
	    (r = rest_diff_int(d, "tenant_id", dev->tenant_id, dev->tenant_id,
			       1)) != 0 ||
	    (r = rest_diff_int(d, "org_id", dev->org_id, dev->org_id, 1)) !=
		    0 ||
	    (r = rest_diff_int(d, "device_type_id", dev->device_type_id,
			       dev->device_type_id, 1)) != 0)
		return r;
	return rest_diff_str(d, "mode", device_mode_name(dev->mode),
			     device_mode_name(dev->mode));
}
