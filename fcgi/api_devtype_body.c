/*
 * Device-type bodies: the field table of a request and applying a body
 * to a struct devtype.  The answers are in api_devtype_json.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_devtype.h"
#include "devtype.h"
#include "err.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const place_scopes[] = {"tenant", "organization", NULL};
static const char *const factory_sources[] = {"none", "internal", "external",
					      NULL};
static const char *const attr_types[] = {"string", "integer", "boolean", "date",
					 NULL};
static const char *const map_sources[] = {"device_name", "property",
					  "attribute", NULL};
static const char *const prop_names[] = {
	"serial_number", "model",    "hardware_version",     "manufacturer",
	"device_class",	 "firmware", "descriptive_location", NULL};

static const struct jsonval_field optmpl_fields[] = {
	{.name = "template_id",
	 .type = JV_INT,
	 .required = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "default", .type = JV_BOOL},
};

static const struct jsonval_field prop_fields[] = {
	{.name = "default_value",
	 .type = JV_STRING,
	 .nullable = 1,
	 .max_len = DEVTYPE_PROP_MAX},
	{.name = "required", .type = JV_BOOL},
	{.name = "fixed", .type = JV_BOOL},
};

#define PROP_FIELD(n)                                                          \
	{                                                                      \
		.name = (n), .type = JV_OBJECT, .fields = prop_fields,         \
		.nfields = NELEM(prop_fields)                                  \
	}

static const struct jsonval_field props_fields[] = {
	PROP_FIELD("serial_number"),	    PROP_FIELD("model"),
	PROP_FIELD("hardware_version"),	    PROP_FIELD("manufacturer"),
	PROP_FIELD("device_class"),	    PROP_FIELD("firmware"),
	PROP_FIELD("descriptive_location"),
};

static const struct jsonval_field attr_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = DEVTYPE_ATTR_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "type", .type = JV_ENUM, .enum_values = attr_types},
	{.name = "default_value",
	 .type = JV_STRING,
	 .nullable = 1,
	 .max_len = DEVTYPE_ATTR_VALUE_MAX},
	{.name = "required", .type = JV_BOOL},
	{.name = "fixed", .type = JV_BOOL},
	{.name = "max_length",
	 .type = JV_INT,
	 .min = 1,
	 .max = DEVTYPE_ATTR_VALUE_MAX},
};

static const struct jsonval_field map_fields[] = {
	{.name = "subject_field_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "san_field_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "source",
	 .type = JV_ENUM,
	 .required = 1,
	 .enum_values = map_sources},
	{.name = "property",
	 .type = JV_ENUM,
	 .nullable = 1,
	 .enum_values = prop_names},
	{.name = "attribute",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = 1,
	 .max_len = DEVTYPE_ATTR_NAME_MAX},
	{.name = "max_length",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = DEVTYPE_MAP_DEFAULT_MAX},
	{.name = "default_value",
	 .type = JV_STRING,
	 .nullable = 1,
	 .max_len = DEVTYPE_MAP_DEFAULT_MAX},
};

#define HOURS_FIELD(n)                                                         \
	{                                                                      \
		.name = (n), .type = JV_INT, .nullable = 1, .min = 1,          \
		.max = DEVTYPE_HOURS_MAX                                       \
	}

/* Nothing is required here: a create checks "name" itself. */
const struct jsonval_field devtype_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .min_len = 1,
	 .max_len = DEVTYPE_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = DEVTYPE_DESC_MAX},
	{.name = "scope", .type = JV_ENUM, .enum_values = place_scopes},
	{.name = "tenant_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "org_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "enforce_factory_mode", .type = JV_BOOL},
	{.name = "dar", .type = JV_BOOL},
	{.name = "use_cert_mapping", .type = JV_BOOL},
	{.name = "operational_templates",
	 .type = JV_OBJECT_ARRAY,
	 .max_items = DEVTYPE_OP_TEMPLATES_MAX,
	 .fields = optmpl_fields,
	 .nfields = NELEM(optmpl_fields)},
	{.name = "factory_source",
	 .type = JV_ENUM,
	 .enum_values = factory_sources},
	{.name = "factory_template_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "external_ca_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "mappings",
	 .type = JV_OBJECT_ARRAY,
	 .max_items = DEVTYPE_MAPS_MAX,
	 .fields = map_fields,
	 .nfields = NELEM(map_fields)},
	HOURS_FIELD("op_renewal_hours"),
	HOURS_FIELD("factory_renewal_hours"),
	{.name = "device_password_enabled", .type = JV_BOOL},
	{.name = "password_retention_hours",
	 .type = JV_INT,
	 .min = 1,
	 .max = DEVTYPE_RETENTION_MAX},
	{.name = "properties",
	 .type = JV_OBJECT,
	 .fields = props_fields,
	 .nfields = NELEM(props_fields)},
	{.name = "attributes",
	 .type = JV_OBJECT_ARRAY,
	 .max_items = DEVTYPE_ATTRS_MAX,
	 .fields = attr_fields,
	 .nfields = NELEM(attr_fields)},
};
const size_t devtype_nfields = NELEM(devtype_fields);

const struct jsonval_field devtype_clone_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = DEVTYPE_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = DEVTYPE_DESC_MAX},
};
const size_t devtype_clone_nfields = NELEM(devtype_clone_fields);

/* ------------------------------------------------------------------ */
/* Applying a body */

/*
 * Replaces *dst with a copy of string member name of o when it was sent:
 * null and "" clear it (an empty default is no default, as everywhere in
 * subject resolution).
 */
static int
take_str(struct json_object *o, const char *name, char **dst)
{
	enum jv_presence pr = jsonval_presence(o, name);
	const char *v;
	char *d = NULL;

	if (pr == JV_ABSENT)
		return 0;
	v = jsonval_get_string(o, name);
	if (pr == JV_PRESENT && v != NULL && v[0] != '\0' &&
	    (d = strdup(v)) == NULL)
		return EST_E_NOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

static void
take_bool(struct json_object *o, const char *name, int *dst)
{
	int v;

	if (jsonval_get_bool(o, name, &v) == 0)
		*dst = v;
}

/* An id member: 0 for null. */
static void
take_id(struct json_object *o, const char *name, int64_t *dst)
{
	int64_t v;

	if (jsonval_presence(o, name) == JV_NULL)
		*dst = 0;
	else if (jsonval_get_int(o, name, &v) == 0)
		*dst = v;
}

/* Hours: -1 for null. */
static void
take_hours(struct json_object *o, const char *name, int *dst)
{
	int64_t v;

	if (jsonval_presence(o, name) == JV_NULL)
		*dst = -1;
	else if (jsonval_get_int(o, name, &v) == 0)
		*dst = (int)v;
}

static int
apply_ops(struct devtype *dt, struct json_object *body, struct jsonval_error *e)
{
	size_t n = jsonval_get_count(body, "operational_templates"), i;
	struct devtype_optmpl *ops = NULL;
	struct json_object *item;
	size_t ndefault = 0;
	int64_t v;
	int d;

	if (n > 0 && (ops = calloc(n, sizeof(*ops))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++) {
		item = jsonval_get_object_at(body, "operational_templates", i);
		(void)jsonval_get_int(item, "template_id", &v);
		ops[i].template_id = v;
		if (jsonval_get_bool(item, "default", &d) == 0 && d) {
			ops[i].is_default = 1;
			ndefault++;
		}
	}
	if (ndefault > 1) {
		free(ops);
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "operational_templates",
					 "exactly one template is the default");
	}
	/* The guide: the first one added is the default until another is. */
	if (n > 0 && ndefault == 0)
		ops[0].is_default = 1;
	free(dt->op_templates);
	dt->op_templates = ops;
	dt->nop_templates = n;
	dt->default_template_id = 0;
	for (i = 0; i < n; i++)
		if (ops[i].is_default)
			dt->default_template_id = ops[i].template_id;
	return 0;
}

static int
apply_props(struct devtype *dt, struct json_object *body)
{
	struct json_object *props = jsonval_get_object(body, "properties");
	struct json_object *po;
	struct devtype_prop *pr;
	int i, r;

	for (i = 0; i < SUBJ_PROP_COUNT; i++) {
		pr = &dt->props[i];
		free(pr->default_value);
		memset(pr, 0, sizeof(*pr));
		po = jsonval_get_object(props,
					devtype_prop_name((enum subj_prop)i));
		if (po == NULL)
			continue;
		if ((r = take_str(po, "default_value", &pr->default_value)) !=
		    0)
			return r;
		take_bool(po, "required", &pr->required);
		take_bool(po, "fixed", &pr->fixed);
	}
	return 0;
}

static void
attrs_free(struct devtype_attr *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].default_value);
	}
	free(a);
}

static int
apply_attrs(struct devtype *dt, struct json_object *body)
{
	size_t n = jsonval_get_count(body, "attributes"), i;
	struct devtype_attr *attrs = NULL, *a;
	struct json_object *item;
	int64_t v;
	int r = 0;

	if (n > 0 && (attrs = calloc(n, sizeof(*attrs))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n && r == 0; i++) {
		item = jsonval_get_object_at(body, "attributes", i);
		a = &attrs[i];
		a->max_len = DEVTYPE_ATTR_LEN_DEFAULT;
		if (jsonval_get_int(item, "max_length", &v) == 0)
			a->max_len = (size_t)v;
		if (jsonval_presence(item, "type") == JV_PRESENT &&
		    devtype_attr_type_value(jsonval_get_string(item, "type"),
					    &a->type) != 0)
			r = EST_E_INTERNAL;
		take_bool(item, "required", &a->required);
		take_bool(item, "fixed", &a->fixed);
		if (r == 0 &&
		    (a->name = strdup(jsonval_get_string(item, "name"))) ==
			    NULL)
			r = EST_E_NOMEM;
		if (r == 0)
			r = take_str(item, "default_value", &a->default_value);
	}
	if (r != 0) {
		attrs_free(attrs, n);
		return r;
	}
	attrs_free(dt->attrs, dt->nattrs);
	dt->attrs = attrs;
	dt->nattrs = n;
	return 0;
}

static void
maps_free(struct devtype_map *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(m[i].attr_name);
		free(m[i].default_value);
	}
	free(m);
}

/* Mapping i of the body into *m; 422 for a mapping that names no field. */
static int
apply_map(struct json_object *item, size_t i, struct devtype_map *m,
	  struct jsonval_error *e)
{
	int64_t subj = 0, san = 0, v;
	char field[48];
	int r;

	take_id(item, "subject_field_id", &subj);
	take_id(item, "san_field_id", &san);
	snprintf(field, sizeof(field), "mappings[%zu]", i);
	if ((subj == 0) == (san == 0))
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
					 "name exactly one of subject_field_id"
					 " and san_field_id");
	m->kind = subj != 0 ? SUBJ_ATTR : SUBJ_SAN;
	m->field_id = subj != 0 ? subj : san;
	if (devtype_source_value(jsonval_get_string(item, "source"),
				 &m->to.target) != 0)
		return EST_E_INTERNAL;
	if (jsonval_presence(item, "property") == JV_PRESENT &&
	    devtype_prop_value(jsonval_get_string(item, "property"),
			       &m->to.prop) != 0)
		return EST_E_INTERNAL;
	if (m->to.target != SUBJ_TARGET_PROPERTY &&
	    jsonval_presence(item, "property") == JV_PRESENT) {
		snprintf(field, sizeof(field), "mappings[%zu].property", i);
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
					 "only with source property");
	}
	if (m->to.target == SUBJ_TARGET_PROPERTY &&
	    jsonval_presence(item, "property") != JV_PRESENT) {
		snprintf(field, sizeof(field), "mappings[%zu].property", i);
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
					 "source property needs a property");
	}
	if ((m->to.target == SUBJ_TARGET_ATTRIBUTE) !=
	    (jsonval_presence(item, "attribute") == JV_PRESENT)) {
		snprintf(field, sizeof(field), "mappings[%zu].attribute", i);
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
					 "an attribute goes with source "
					 "attribute, and only with it");
	}
	if (jsonval_get_int(item, "max_length", &v) == 0)
		m->max_len = (size_t)v;
	if ((r = take_str(item, "attribute", &m->attr_name)) != 0 ||
	    (r = take_str(item, "default_value", &m->default_value)) != 0)
		return r;
	m->to.attr_name = m->attr_name;
	return 0;
}

static int
apply_maps(struct devtype *dt, struct json_object *body,
	   struct jsonval_error *e)
{
	size_t n = jsonval_get_count(body, "mappings"), i;
	struct devtype_map *maps = NULL;
	int r = 0;

	if (n > 0 && (maps = calloc(n, sizeof(*maps))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n && r == 0; i++)
		r = apply_map(jsonval_get_object_at(body, "mappings", i), i,
			      &maps[i], e);
	if (r != 0) {
		maps_free(maps, n);
		return r;
	}
	maps_free(dt->maps, dt->nmaps);
	dt->maps = maps;
	dt->nmaps = n;
	return 0;
}

static int
apply_factory(struct devtype *dt, struct json_object *body)
{
	const char *fs = jsonval_get_string(body, "factory_source");

	if (fs != NULL && devtype_factory_value(fs, &dt->factory_source) != 0)
		return EST_E_INTERNAL;
	if (fs != NULL) {
		/* A source that does not use them drops the other's ids. */
		if (dt->factory_source != DEVTYPE_FACTORY_INTERNAL)
			dt->factory_template_id = 0;
		if (dt->factory_source != DEVTYPE_FACTORY_EXTERNAL)
			dt->external_ca_id = 0;
	}
	take_id(body, "factory_template_id", &dt->factory_template_id);
	take_id(body, "external_ca_id", &dt->external_ca_id);
	return 0;
}

int
devtype_body_apply(struct devtype *dt, struct json_object *body,
		   struct jsonval_error *e)
{
	int64_t v;
	int r;

	if (jsonval_presence(body, "name") == JV_PRESENT) {
		char *n = strdup(jsonval_get_string(body, "name"));

		if (n == NULL)
			return EST_E_NOMEM;
		free(dt->name);
		dt->name = n;
	}
	if ((r = take_str(body, "description", &dt->description)) != 0)
		return r;
	take_bool(body, "enforce_factory_mode", &dt->enforce_factory_mode);
	take_bool(body, "dar", &dt->dar);
	take_bool(body, "use_cert_mapping", &dt->use_cert_mapping);
	take_bool(body, "device_password_enabled",
		  &dt->device_password_enabled);
	if (jsonval_get_int(body, "password_retention_hours", &v) == 0)
		dt->password_retention_hours = (int)v;
	take_hours(body, "op_renewal_hours", &dt->op_renewal_hours);
	take_hours(body, "factory_renewal_hours", &dt->factory_renewal_hours);
	if ((r = apply_factory(dt, body)) != 0)
		return r;
	if (jsonval_presence(body, "operational_templates") == JV_PRESENT &&
	    (r = apply_ops(dt, body, e)) != 0)
		return r;
	if (jsonval_presence(body, "properties") == JV_PRESENT &&
	    (r = apply_props(dt, body)) != 0)
		return r;
	if (jsonval_presence(body, "attributes") == JV_PRESENT &&
	    (r = apply_attrs(dt, body)) != 0)
		return r;
	if (jsonval_presence(body, "mappings") == JV_PRESENT &&
	    (r = apply_maps(dt, body, e)) != 0)
		return r;
	return 0;
}
