/*
 * EST server bodies: the field tables, applying a body to a struct
 * estsrv, the rules a whole server must satisfy against the database, and
 * the answers and audit details.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_devtype.h"
#include "api_estsrv.h"
#include "db.h"
#include "err.h"
#include "estsrv.h"
#include "ipallow.h"
#include "rest.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const kinds[] = {"dps", "cms", NULL};

static const struct jsonval_field tmpl_fields[] = {
	{.name = "template_id",
	 .type = JV_INT,
	 .required = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "default", .type = JV_BOOL},
};

static const struct jsonval_field app_fields[] = {
	{.name = "id",
	 .type = JV_INT,
	 .required = 1,
	 .min = 1,
	 .max = INT64_MAX},
};

static const struct jsonval_field auth_fields[] = {
	{.name = "device_password", .type = JV_BOOL},
	{.name = "factory_cert", .type = JV_BOOL},
	{.name = "app_key", .type = JV_BOOL},
	{.name = "app_cert", .type = JV_BOOL},
};

#define ID_FIELD(n, null)                                                      \
	{                                                                      \
		.name = (n), .type = JV_INT, .nullable = (null), .min = 1,     \
		.max = INT64_MAX                                               \
	}

#define DESC_FIELD                                                             \
	{                                                                      \
		.name = "description", .type = JV_STRING, .nullable = 1,       \
		.multiline = 1, .max_len = ESTSRV_DESC_MAX                     \
	}

#define TEMPLATES_FIELD                                                        \
	{                                                                      \
		.name = "templates", .type = JV_OBJECT_ARRAY,                  \
		.max_items = ESTSRV_TEMPLATES_MAX, .fields = tmpl_fields,      \
		.nfields = NELEM(tmpl_fields)                                  \
	}

#define APPS_FIELD                                                             \
	{                                                                      \
		.name = "applications", .type = JV_OBJECT_ARRAY,               \
		.max_items = ESTSRV_APPS_MAX, .fields = app_fields,            \
		.nfields = NELEM(app_fields)                                   \
	}

/* Nothing is required here: a create checks domain and org_id itself. */
const struct jsonval_field estsrv_fields[] = {
	{.name = "domain",
	 .type = JV_STRING,
	 .min_len = 1,
	 .max_len = ESTSRV_DOMAIN_MAX,
	 .check = jsonval_check_domain},
	DESC_FIELD,
	ID_FIELD("tenant_id", 1),
	ID_FIELD("org_id", 0),
	{.name = "kind", .type = JV_ENUM, .enum_values = kinds},
	ID_FIELD("device_type_id", 1),
	TEMPLATES_FIELD,
	APPS_FIELD,
	{.name = "server_keygen", .type = JV_BOOL},
	{.name = "auth",
	 .type = JV_OBJECT,
	 .fields = auth_fields,
	 .nfields = NELEM(auth_fields)},
	{.name = "ip_allow",
	 .type = JV_STRING_ARRAY,
	 .min_len = 1,
	 .max_len = IPALLOW_ENTRY_MAX,
	 .max_items = ESTSRV_IP_ALLOW_MAX},
	{.name = "active", .type = JV_BOOL},
};
const size_t estsrv_nfields = NELEM(estsrv_fields);

/*
 * A clone keeps everything but the organization; what the new
 * organization cannot use (an organization's device type or template)
 * is replaced in the same request.
 */
const struct jsonval_field estsrv_clone_fields[] = {
	{.name = "org_id",
	 .type = JV_INT,
	 .required = 1,
	 .min = 1,
	 .max = INT64_MAX},
	DESC_FIELD,
	ID_FIELD("device_type_id", 1),
	TEMPLATES_FIELD,
	APPS_FIELD,
};
const size_t estsrv_clone_nfields = NELEM(estsrv_clone_fields);

const struct jsonval_field estsrv_label_fields[] = {
	{.name = "label",
	 .type = JV_STRING,
	 .min_len = ESTSRV_LABEL_MIN,
	 .max_len = ESTSRV_LABEL_MAX,
	 .check = jsonval_check_label},
	ID_FIELD("device_type_id", 1),
	ID_FIELD("template_id", 1),
};
const size_t estsrv_label_nfields = NELEM(estsrv_label_fields);

/* ------------------------------------------------------------------ */
/* Applying a body */

static int
apply_ip_allow(struct estsrv *s, struct json_object *body,
	       struct jsonval_error *e)
{
	size_t n = jsonval_get_count(body, "ip_allow"), i, j;
	struct estsrv_ip *ips = NULL;
	const char *why = NULL;
	char field[32];

	if (n > 0 && (ips = calloc(n, sizeof(*ips))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "ip_allow[%zu]", i);
		if (ipallow_parse(jsonval_get_string_at(body, "ip_allow", i),
				  &ips[i].range, NULL, ips[i].entry,
				  &why) != 0) {
			free(ips);
			return jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
						 "%s", why);
		}
		for (j = 0; j < i; j++)
			if (strcmp(ips[j].entry, ips[i].entry) == 0) {
				free(ips);
				return jsonval_error_set(
					e, EST_E_UNPROCESSABLE, field,
					"repeats ip_allow[%zu]", j);
			}
	}
	free(s->ip_allow);
	s->ip_allow = ips;
	s->nip_allow = n;
	return 0;
}

static int
apply_templates(struct estsrv *s, struct json_object *body,
		struct jsonval_error *e)
{
	size_t n = jsonval_get_count(body, "templates"), i, j, ndef = 0;
	struct estsrv_tmpl *t = NULL;
	struct json_object *o;
	char field[48];
	int64_t v;
	int d;

	if (n > 0 && (t = calloc(n, sizeof(*t))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++) {
		o = jsonval_get_object_at(body, "templates", i);
		if (jsonval_get_int(o, "template_id", &v) != 0)
			v = 0;
		t[i].template_id = v;
		if (jsonval_get_bool(o, "default", &d) == 0 && d) {
			t[i].is_default = 1;
			if (++ndef > 1) {
				snprintf(field, sizeof(field),
					 "templates[%zu].default", i);
				free(t);
				return jsonval_error_set(e, EST_E_UNPROCESSABLE,
							 field,
							 "only one default");
			}
		}
		for (j = 0; j < i; j++)
			if (t[j].template_id == v) {
				snprintf(field, sizeof(field),
					 "templates[%zu].template_id", i);
				free(t);
				return jsonval_error_set(e, EST_E_UNPROCESSABLE,
							 field, "repeated");
			}
	}
	/* Without an explicit default, the first template is the default. */
	if (n > 0 && ndef == 0)
		t[0].is_default = 1;
	free(s->templates);
	s->templates = t;
	s->ntemplates = n;
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
apply_apps(struct estsrv *s, struct json_object *body, struct jsonval_error *e)
{
	size_t n = jsonval_get_count(body, "applications"), i, j;
	int64_t *ids = NULL, v;
	char field[40];

	if (n > 0 && (ids = calloc(n, sizeof(*ids))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++) {
		if (jsonval_get_int(
			    jsonval_get_object_at(body, "applications", i),
			    "id", &v) != 0)
			v = 0;
		for (j = 0; j < i; j++)
			if (ids[j] == v) {
				snprintf(field, sizeof(field),
					 "applications[%zu].id", i);
				free(ids);
				return jsonval_error_set(e, EST_E_UNPROCESSABLE,
							 field, "repeated");
			}
		ids[i] = v;
	}
	if (n > 1)
		qsort(ids, n, sizeof(*ids), cmp_id);
	free(s->app_ids);
	s->app_ids = ids;
	s->napps = n;
	return 0;
}

static void
apply_auth(struct estsrv *s, struct json_object *auth)
{
	int v;

	if (jsonval_get_bool(auth, "device_password", &v) == 0)
		s->auth_device_password = v;
	if (jsonval_get_bool(auth, "factory_cert", &v) == 0)
		s->auth_factory_cert = v;
	if (jsonval_get_bool(auth, "app_key", &v) == 0)
		s->auth_app_key = v;
	if (jsonval_get_bool(auth, "app_cert", &v) == 0)
		s->auth_app_cert = v;
}

static int
replace_str(char **dst, const char *v)
{
	char *d = NULL;

	if (v != NULL && (d = strdup(v)) == NULL)
		return EST_E_NOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

int
estsrv_body_apply(struct estsrv *s, struct json_object *body,
		  struct jsonval_error *e)
{
	char domain[ESTSRV_DOMAIN_MAX + 1];
	const char *v;
	int64_t id;
	int b, r;

	if ((v = jsonval_get_string(body, "domain")) != NULL) {
		if (estsrv_domain_check(v, domain) != 0)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "domain", "not a DNS name");
		if ((r = replace_str(&s->domain, domain)) != 0)
			return r;
	}
	if (jsonval_presence(body, "description") != JV_ABSENT &&
	    (r = replace_str(&s->description,
			     jsonval_get_string(body, "description"))) != 0)
		return r;
	if ((v = jsonval_get_string(body, "kind")) != NULL &&
	    estsrv_kind_value(v, &s->kind) != 0)
		return EST_E_INTERNAL;
	switch (jsonval_presence(body, "device_type_id")) {
	case JV_PRESENT:
		if (jsonval_get_int(body, "device_type_id", &id) == 0)
			s->device_type_id = id;
		break;
	case JV_NULL:
		s->device_type_id = 0;
		break;
	default:
		break;
	}
	if (jsonval_get_bool(body, "server_keygen", &b) == 0)
		s->server_keygen = b;
	if (jsonval_presence(body, "auth") == JV_PRESENT)
		apply_auth(s, jsonval_get_object(body, "auth"));
	if (jsonval_presence(body, "ip_allow") == JV_PRESENT &&
	    (r = apply_ip_allow(s, body, e)) != 0)
		return r;
	if (jsonval_presence(body, "templates") == JV_PRESENT &&
	    (r = apply_templates(s, body, e)) != 0)
		return r;
	if (jsonval_presence(body, "applications") == JV_PRESENT &&
	    (r = apply_apps(s, body, e)) != 0)
		return r;
	if (jsonval_get_bool(body, "active", &b) == 0)
		s->active = b;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The rules against the database */

/*
 * Refusals of a reference, in one shape whether it does not exist or
 * lies outside the organization's view, so that the answer does not
 * tell another tenant's rows apart from missing ones.
 */
static int
ref_check(struct db *db, int (*get)(struct db *, int64_t, struct estsrv_ref *),
	  int64_t id, const struct estsrv *s, int app, const char *field,
	  const char *what, struct jsonval_error *e)
{
	struct estsrv_ref ref;
	int r;

	if ((r = get(db, id, &ref)) == EST_E_NOTFOUND)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
					 "no such %s for the organization",
					 what);
	if (r != 0)
		return r;
	/* An application is the tenant's own, or the organization's. */
	if (app ? ref.tenant_id != s->tenant_id ||
			    (ref.org_id != 0 && ref.org_id != s->org_id)
		: !estsrv_ref_visible(&ref, s->tenant_id, s->org_id))
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
					 "no such %s for the organization",
					 what);
	if (!ref.active)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
					 "the %s is not active", what);
	return 0;
}

int
estsrv_validate(struct db *db, const struct estsrv *s, struct jsonval_error *e)
{
	struct devtype_place pl;
	char field[48];
	size_t i;
	int r;

	memset(&pl, 0, sizeof(pl));
	pl.scope = PERM_SCOPE_ORG;
	pl.tenant_id = s->tenant_id;
	pl.org_id = s->org_id;
	if ((r = devtype_place_check(db, &pl, 1, 1, e)) != 0)
		return r;
	if (s->domain == NULL)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "domain",
					 "required");
	if (!s->auth_device_password && !s->auth_factory_cert &&
	    !s->auth_app_key && !s->auth_app_cert)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "auth",
					 "enable at least one method");
	if (s->kind == ESTSRV_KIND_DPS) {
		if (s->device_type_id <= 0)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "device_type_id",
						 "a dps server needs one");
		if (s->ntemplates > 0)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "templates",
						 "only a cms server has "
						 "templates");
		if ((r = ref_check(db, db_estsrv_devtype_ref, s->device_type_id,
				   s, 0, "device_type_id", "device type", e)) !=
		    0)
			return r;
	} else {
		if (s->device_type_id > 0)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "device_type_id",
						 "only a dps server has a "
						 "device type");
		if (s->ntemplates == 0)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "templates",
						 "a cms server needs at least "
						 "one");
	}
	for (i = 0; i < s->ntemplates; i++) {
		snprintf(field, sizeof(field), "templates[%zu].template_id", i);
		if ((r = ref_check(db, db_estsrv_template_ref,
				   s->templates[i].template_id, s, 0, field,
				   "template", e)) != 0)
			return r;
	}
	for (i = 0; i < s->napps; i++) {
		snprintf(field, sizeof(field), "applications[%zu].id", i);
		if ((r = ref_check(db, db_estsrv_app_ref, s->app_ids[i], s, 1,
				   field, "application", e)) != 0)
			return r;
	}
	return 0;
}

int
estsrv_label_target(struct db *db, const struct estsrv *s,
		    struct json_object *body, struct estsrv_label *l,
		    struct jsonval_error *e)
{
	int64_t dt = 0, tid = 0;

	if (jsonval_get_int(body, "device_type_id", &dt) != 0)
		dt = 0;
	if (jsonval_get_int(body, "template_id", &tid) != 0)
		tid = 0;
	if (s->kind == ESTSRV_KIND_DPS) {
		if (tid != 0)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "template_id",
						 "a dps server's label names "
						 "a device type");
		if (dt == 0)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "device_type_id", "required");
		l->device_type_id = dt;
		l->template_id = 0;
		return ref_check(db, db_estsrv_devtype_ref, dt, s, 0,
				 "device_type_id", "device type", e);
	}
	if (dt != 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "device_type_id",
					 "a cms server's label names a "
					 "template");
	if (tid == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "template_id",
					 "required");
	l->template_id = tid;
	l->device_type_id = 0;
	return ref_check(db, db_estsrv_template_ref, tid, s, 0, "template_id",
			 "template", e);
}

/* ------------------------------------------------------------------ */
/* Answers */

static int
auth_json(const struct estsrv *s, struct json_object **out)
{
	struct json_object *o;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_bool(o, "device_password",
			       s->auth_device_password)) != 0 ||
	    (r = rest_put_bool(o, "factory_cert", s->auth_factory_cert)) != 0 ||
	    (r = rest_put_bool(o, "app_key", s->auth_app_key)) != 0 ||
	    (r = rest_put_bool(o, "app_cert", s->auth_app_cert)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

static int
lists_json(const struct estsrv *s, struct json_object *o)
{
	struct json_object *ips = NULL, *tm = NULL, *apps = NULL, *x;
	size_t i;
	int r = EST_E_NOMEM;

	if ((ips = json_object_new_array()) == NULL ||
	    (tm = json_object_new_array()) == NULL ||
	    (apps = json_object_new_array()) == NULL)
		goto fail;
	for (i = 0; i < s->nip_allow; i++) {
		if ((x = json_object_new_string(s->ip_allow[i].entry)) == NULL)
			goto fail;
		if (json_object_array_add(ips, x) != 0) {
			json_object_put(x);
			goto fail;
		}
	}
	for (i = 0; i < s->ntemplates; i++) {
		if ((x = json_object_new_object()) == NULL)
			goto fail;
		if ((r = rest_put_id(x, "template_id",
				     s->templates[i].template_id)) != 0 ||
		    (r = rest_put_bool(x, "default",
				       s->templates[i].is_default)) != 0 ||
		    (r = json_object_array_add(tm, x) != 0 ? EST_E_NOMEM : 0) !=
			    0) {
			json_object_put(x);
			goto fail;
		}
	}
	for (i = 0; i < s->napps; i++) {
		if ((x = json_object_new_object()) == NULL)
			goto fail;
		if ((r = rest_put_id(x, "id", s->app_ids[i])) != 0 ||
		    (r = json_object_array_add(apps, x) != 0 ? EST_E_NOMEM
							     : 0) != 0) {
			json_object_put(x);
			goto fail;
		}
	}
	r = rest_put_obj(o, "ip_allow", ips);
	ips = NULL;
	if (r == 0)
		r = rest_put_obj(o, "templates", tm);
	else
		json_object_put(tm);
	tm = NULL;
	if (r == 0)
		r = rest_put_obj(o, "applications", apps);
	else
		json_object_put(apps);
	return r;
fail:
	json_object_put(ips);
	json_object_put(tm);
	json_object_put(apps);
	return r != 0 ? r : EST_E_NOMEM;
}

int
estsrv_json(const struct estsrv *s, struct json_object **out)
{
	struct json_object *o, *auth = NULL;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_id(o, "id", s->id)) != 0 ||
	    (r = rest_put_str(o, "domain", s->domain)) != 0 ||
	    (r = rest_put_str(o, "description", s->description)) != 0 ||
	    (r = rest_put_id(o, "tenant_id", s->tenant_id)) != 0 ||
	    (r = rest_put_id(o, "org_id", s->org_id)) != 0 ||
	    (r = rest_put_str(o, "kind", estsrv_kind_name(s->kind))) != 0 ||
	    (r = rest_put_id(o, "device_type_id", s->device_type_id)) != 0 ||
	    (r = rest_put_bool(o, "server_keygen", s->server_keygen)) != 0 ||
	    (r = auth_json(s, &auth)) != 0 ||
	    (r = rest_put_obj(o, "auth", auth)) != 0 ||
	    (r = lists_json(s, o)) != 0 ||
	    (r = rest_put_int(o, "label_count", (int64_t)s->nlabels)) != 0 ||
	    (r = rest_put_bool(o, "active", s->active)) != 0 ||
	    (r = rest_put_id(o, "created_by_user_id", s->created_by)) != 0 ||
	    (r = rest_put_time(o, "created_at", s->created_at)) != 0 ||
	    (r = rest_put_time(o, "updated_at", s->updated_at)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

int
estsrv_label_json(const struct estsrv_label *l, struct json_object **out)
{
	struct json_object *o;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_id(o, "id", l->id)) != 0 ||
	    (r = rest_put_id(o, "server_id", l->server_id)) != 0 ||
	    (r = rest_put_str(o, "label", l->label)) != 0 ||
	    (r = rest_put_id(o, "device_type_id", l->device_type_id)) != 0 ||
	    (r = rest_put_id(o, "template_id", l->template_id)) != 0 ||
	    (r = rest_put_time(o, "created_at", l->created_at)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Audit details */

/*
 * A list as one short text for the audit row: "10.0.0.0/8 192.0.2.1",
 * "3* 4" (the default template starred), "7 9".  Bounded by the limits
 * of the lists (64 entries of at most 100 bytes).
 */
static char *
list_text(const struct estsrv *s, int which)
{
	size_t cap = 64 * (IPALLOW_TEXT_SIZE + 1) + 1, len = 0, i, n;
	char *t;

	if (s == NULL || (t = malloc(cap)) == NULL)
		return NULL;
	t[0] = '\0';
	n = which == 0 ? s->nip_allow : which == 1 ? s->ntemplates : s->napps;
	for (i = 0; i < n && len < cap; i++) {
		int w;

		if (which == 0)
			w = snprintf(t + len, cap - len, "%s%s", i ? " " : "",
				     s->ip_allow[i].entry);
		else if (which == 1)
			w = snprintf(t + len, cap - len, "%s%lld%s",
				     i ? " " : "",
				     (long long)s->templates[i].template_id,
				     s->templates[i].is_default ? "*" : "");
		else
			w = snprintf(t + len, cap - len, "%s%lld", i ? " " : "",
				     (long long)s->app_ids[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	return t;
}

static int
diff_lists(struct rest_diff *d, const struct estsrv *old,
	   const struct estsrv *new_)
{
	static const char *const keys[] = {"ip_allow", "templates",
					   "applications"};
	char *a = NULL, *b = NULL;
	int which, r = 0;

	for (which = 0; which < 3 && r == 0; which++) {
		a = list_text(old, which);
		b = list_text(new_, which);
		if ((old != NULL && a == NULL) || (new_ != NULL && b == NULL))
			r = EST_E_NOMEM;
		else
			r = rest_diff_str(d, keys[which], a, b);
		free(a);
		free(b);
	}
	return r;
}

int
estsrv_diff(struct rest_diff *d, const struct estsrv *old,
	    const struct estsrv *new_)
{
	static const struct estsrv none;
	const struct estsrv *o = old != NULL ? old : &none;
	const struct estsrv *n = new_ != NULL ? new_ : &none;
	int r;

	if ((r = rest_diff_str(d, "domain", o->domain, n->domain)) != 0 ||
	    (r = rest_diff_str(d, "description", o->description,
			       n->description)) != 0 ||
	    (r = rest_diff_int(d, "tenant_id", o->tenant_id, n->tenant_id,
			       1)) != 0 ||
	    (r = rest_diff_int(d, "org_id", o->org_id, n->org_id, 1)) != 0 ||
	    (r = rest_diff_str(d, "kind", estsrv_kind_name(o->kind),
			       estsrv_kind_name(n->kind))) != 0 ||
	    (r = rest_diff_int(d, "device_type_id", o->device_type_id,
			       n->device_type_id, 1)) != 0 ||
	    (r = rest_diff_bool(d, "server_keygen", o->server_keygen,
				n->server_keygen)) != 0 ||
	    (r = rest_diff_bool(d, "auth.device_password",
				o->auth_device_password,
				n->auth_device_password)) != 0 ||
	    (r = rest_diff_bool(d, "auth.factory_cert", o->auth_factory_cert,
				n->auth_factory_cert)) != 0 ||
	    (r = rest_diff_bool(d, "auth.app_key", o->auth_app_key,
				n->auth_app_key)) != 0 ||
	    (r = rest_diff_bool(d, "auth.app_cert", o->auth_app_cert,
				n->auth_app_cert)) != 0)
		return r;
	return diff_lists(d, old, new_);
}
