/*
 * The JSON of a device type that the API gives out: the answer of a GET
 * and the before/after details of its audit rows.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "api_devtype.h"
#include "devtype.h"
#include "err.h"
#include "rest.h"
#include "util.h"

/* An audit value longer than this is recorded by its digest. */
#define DIFF_VALUE_MAX 2048

/* ------------------------------------------------------------------ */
/* Answers */

/* An optional number: null when v is below 0 (hours) or 0 (max_length). */
static int
put_opt(struct json_object *o, const char *key, int64_t v, int64_t none)
{
	if (v <= none)
		return rest_put_obj(o, key, NULL);
	return rest_put_int(o, key, v);
}

static int
ops_json(const struct devtype *dt, struct json_object **out)
{
	struct json_object *a, *item;
	size_t i;
	int r;

	if ((a = json_object_new_array()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < dt->nop_templates; i++) {
		if ((item = json_object_new_object()) == NULL) {
			r = EST_E_NOMEM;
			goto fail;
		}
		if ((r = rest_put_id(item, "template_id",
				     dt->op_templates[i].template_id)) != 0 ||
		    (r = rest_put_bool(item, "default",
				       dt->op_templates[i].is_default)) != 0 ||
		    json_object_array_add(a, item) != 0) {
			json_object_put(item);
			r = r != 0 ? r : EST_E_NOMEM;
			goto fail;
		}
	}
	*out = a;
	return 0;
fail:
	json_object_put(a);
	return r;
}

/* The setting of one property as a new object. */
static int
prop_json(const struct devtype_prop *pr, struct json_object **out)
{
	struct json_object *o;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_str(o, "default_value", pr->default_value)) != 0 ||
	    (r = rest_put_bool(o, "required", pr->required)) != 0 ||
	    (r = rest_put_bool(o, "fixed", pr->fixed)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

static int
props_json(const struct devtype *dt, struct json_object **out)
{
	struct json_object *o, *po = NULL;
	int i, r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < SUBJ_PROP_COUNT; i++) {
		/* rest_put_obj() takes po, also when it fails. */
		if ((r = prop_json(&dt->props[i], &po)) != 0 ||
		    (r = rest_put_obj(o, devtype_prop_name((enum subj_prop)i),
				      po)) != 0) {
			json_object_put(o);
			return r;
		}
	}
	*out = o;
	return 0;
}

static int
attr_json(const struct devtype_attr *a, struct json_object **out)
{
	struct json_object *o;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_str(o, "name", a->name)) != 0 ||
	    (r = rest_put_str(o, "type", devtype_attr_type_name(a->type))) !=
		    0 ||
	    (r = rest_put_str(o, "default_value", a->default_value)) != 0 ||
	    (r = rest_put_bool(o, "required", a->required)) != 0 ||
	    (r = rest_put_bool(o, "fixed", a->fixed)) != 0 ||
	    (r = rest_put_int(o, "max_length", (int64_t)a->max_len)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

static int
map_json(const struct devtype_map *m, struct json_object **out)
{
	struct json_object *o;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_id(o, "subject_field_id",
			     m->kind == SUBJ_ATTR ? m->field_id : 0)) != 0 ||
	    (r = rest_put_id(o, "san_field_id",
			     m->kind == SUBJ_SAN ? m->field_id : 0)) != 0 ||
	    (r = rest_put_str(o, "source",
			      devtype_source_name(m->to.target))) != 0 ||
	    (r = rest_put_str(o, "property",
			      m->to.target == SUBJ_TARGET_PROPERTY
				      ? devtype_prop_name(m->to.prop)
				      : NULL)) != 0 ||
	    (r = rest_put_str(o, "attribute", m->attr_name)) != 0 ||
	    (r = put_opt(o, "max_length", (int64_t)m->max_len, 0)) != 0 ||
	    (r = rest_put_str(o, "default_value", m->default_value)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

/* The array of attributes (maps unset) or mappings (maps set). */
static int
list_json(const struct devtype *dt, int maps, struct json_object **out)
{
	struct json_object *a, *item = NULL;
	size_t i, n = maps ? dt->nmaps : dt->nattrs;
	int r;

	if ((a = json_object_new_array()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++) {
		r = maps ? map_json(&dt->maps[i], &item)
			 : attr_json(&dt->attrs[i], &item);
		if (r != 0 || json_object_array_add(a, item) != 0) {
			if (r == 0)
				json_object_put(item);
			json_object_put(a);
			return r != 0 ? r : EST_E_NOMEM;
		}
	}
	*out = a;
	return 0;
}

/* The members that describe what dt is (no id, state or times). */
static int
settings_json(const struct devtype *dt, int full, struct json_object *o)
{
	struct json_object *v = NULL;
	int r;

	if ((r = rest_put_str(o, "name", dt->name)) != 0 ||
	    (r = rest_put_str(o, "description", dt->description)) != 0 ||
	    (r = rest_put_str(o, "scope", dt->scope)) != 0 ||
	    (r = rest_put_id(o, "tenant_id", dt->tenant_id)) != 0 ||
	    (r = rest_put_id(o, "org_id", dt->org_id)) != 0 ||
	    (r = rest_put_bool(o, "enforce_factory_mode",
			       dt->enforce_factory_mode)) != 0 ||
	    (r = rest_put_bool(o, "dar", dt->dar)) != 0 ||
	    (r = rest_put_bool(o, "use_cert_mapping", dt->use_cert_mapping)) !=
		    0 ||
	    (r = ops_json(dt, &v)) != 0 ||
	    (r = rest_put_obj(o, "operational_templates", v)) != 0 ||
	    (r = rest_put_id(o, "default_template_id",
			     dt->default_template_id)) != 0 ||
	    (r = rest_put_str(o, "factory_source",
			      devtype_factory_name(dt->factory_source))) != 0 ||
	    (r = rest_put_id(o, "factory_template_id",
			     dt->factory_template_id)) != 0 ||
	    (r = rest_put_id(o, "external_ca_id", dt->external_ca_id)) != 0 ||
	    (r = put_opt(o, "op_renewal_hours", dt->op_renewal_hours, -1)) !=
		    0 ||
	    (r = put_opt(o, "factory_renewal_hours", dt->factory_renewal_hours,
			 -1)) != 0 ||
	    (r = rest_put_bool(o, "device_password_enabled",
			       dt->device_password_enabled)) != 0 ||
	    (r = rest_put_int(o, "password_retention_hours",
			      dt->password_retention_hours)) != 0)
		return r;
	if (!full)
		return 0;
	v = NULL;
	if ((r = props_json(dt, &v)) != 0 ||
	    (r = rest_put_obj(o, "properties", v)) != 0 ||
	    (r = list_json(dt, 0, &v)) != 0 ||
	    (r = rest_put_obj(o, "attributes", v)) != 0 ||
	    (r = list_json(dt, 1, &v)) != 0 ||
	    (r = rest_put_obj(o, "mappings", v)) != 0)
		return r;
	return 0;
}

int
devtype_json(const struct devtype *dt, int full, struct json_object **out)
{
	struct json_object *o;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_id(o, "id", dt->id)) != 0 ||
	    (r = settings_json(dt, full, o)) != 0 ||
	    (r = rest_put_bool(o, "active", dt->active)) != 0 ||
	    (r = rest_put_id(o, "created_by_user_id", dt->created_by)) != 0 ||
	    (r = rest_put_time(o, "created_at", dt->created_at)) != 0 ||
	    (r = rest_put_time(o, "updated_at", dt->updated_at)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Audit details */

static const char *
text_of(struct json_object *v)
{
	return v == NULL ? "null"
			 : json_object_to_json_string_ext(
				   v, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

/*
 * A copy of v for an audit row: v itself when its text is short, else
 * {"sha256": <hex of its text>}.
 */
static int
audit_value(struct json_object *v, struct json_object **out)
{
	const char *s = text_of(v);
	uint8_t md[32];
	char hex[65];
	unsigned int mdlen = 0;
	struct json_object *o;
	int r;

	if (s == NULL)
		return EST_E_NOMEM;
	if (strlen(s) <= DIFF_VALUE_MAX) {
		*out = json_object_get(v);
		return 0;
	}
	if (EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md))
		return EST_E_CRYPTO;
	hex_encode(md, sizeof(md), hex);
	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_str(o, "sha256", hex)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

/* Adds v (a reference taken) under key of *side. */
static int
side_put(struct json_object **side, const char *key, struct json_object *v)
{
	struct json_object *a = NULL;
	int r;

	if (*side == NULL && (*side = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = audit_value(v, &a)) != 0)
		return r;
	return rest_put_obj(*side, key, a);
}

int
devtype_diff(struct rest_diff *d, const struct devtype *old,
	     const struct devtype *new_)
{
	struct json_object *a = NULL, *b = NULL, *va, *vb;
	struct json_object_iterator it, end;
	const char *key;
	int r = EST_E_NOMEM;

	if ((old != NULL && (a = json_object_new_object()) == NULL) ||
	    (new_ != NULL && (b = json_object_new_object()) == NULL))
		goto out;
	if ((a != NULL && (r = settings_json(old, 1, a)) != 0) ||
	    (b != NULL && (r = settings_json(new_, 1, b)) != 0))
		goto out;
	r = 0;
	/* Both carry the same members, in the same order. */
	it = json_object_iter_begin(b != NULL ? b : a);
	end = json_object_iter_end(b != NULL ? b : a);
	for (; r == 0 && !json_object_iter_equal(&it, &end);
	     json_object_iter_next(&it)) {
		key = json_object_iter_peek_name(&it);
		va = a != NULL ? json_object_object_get(a, key) : NULL;
		vb = b != NULL ? json_object_object_get(b, key) : NULL;
		if (a != NULL && b != NULL) {
			const char *sa = text_of(va), *sb = text_of(vb);

			if (sa == NULL || sb == NULL) {
				r = EST_E_NOMEM;
				break;
			}
			if (strcmp(sa, sb) == 0)
				continue;
		}
		if (a != NULL)
			r = side_put(&d->before, key, va);
		if (r == 0 && b != NULL)
			r = side_put(&d->after, key, vb);
	}
out:
	json_object_put(a);
	json_object_put(b);
	return r;
}
