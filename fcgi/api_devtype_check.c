/*
 * The rules of a device type (guide §2.1, issue 5), checked on the whole
 * object before it is written, and where it may live.
 *
 * Decisions where the guide is vague:
 * - Accessibility is tenant or organization only: the guide offers no
 *   global device type.  A Tenant Admin's tenant is implied.
 * - Templates offered are the global ones, the tenant-wide ones of the
 *   device type's tenant and, for organization access, that
 *   organization's: exactly what every organization that can see the
 *   device type can also see.  Operational templates must be of type
 *   operational and the factory template of type factory, both active.
 * - The mapping table may name fields of the factory template and of the
 *   operational templates: DESIGN.md's subject rule applies to every
 *   certificate issued for a device of the type, and the reverse mapping
 *   of auto-registration reads the factory template's entries only.  A
 *   fixed field takes the template's value, so it cannot be mapped (the
 *   guide: "only available for optional/required subject").  A mapping's
 *   max_length may narrow the template field's bound, never widen it; its
 *   default must itself be a valid value of the field.
 * - With DAR on, the factory CA (the factory template's CA, or the
 *   external CA) must not be the CA of any operational template; for an
 *   external CA "the same CA" means the same certificate (fingerprint).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "api_devtype.h"
#include "db.h"
#include "dbq.h"
#include "devtype.h"
#include "err.h"
#include "rest.h"
#include "subject.h"
#include "template.h"
#include "tmpl.h"

/* ------------------------------------------------------------------ */
/* Placement */

int
devtype_place_read(struct json_object *body, const struct principal *p,
		   struct devtype_place *pl, struct jsonval_error *e)
{
	enum jv_presence tp = jsonval_presence(body, "tenant_id");
	enum jv_presence op = jsonval_presence(body, "org_id");
	const char *scope = jsonval_get_string(body, "scope");
	struct devtype_place n = *pl;
	int64_t v;

	if (p->tenant_id != 0) {
		/* A tenant role acts in its own tenant unless it names one. */
		n.tenant_id = p->tenant_id;
		if (tp == JV_PRESENT &&
		    jsonval_get_int(body, "tenant_id", &v) == 0)
			n.tenant_id = v;
	} else if (tp == JV_PRESENT &&
		   jsonval_get_int(body, "tenant_id", &v) == 0) {
		n.tenant_id = v;
	} else if (tp == JV_NULL || op == JV_PRESENT) {
		/* Taken from the organization (devtype_place_check()). */
		n.tenant_id = 0;
	}
	if (op == JV_PRESENT && jsonval_get_int(body, "org_id", &v) == 0)
		n.org_id = v;
	else if (op == JV_NULL)
		n.org_id = 0;
	if (scope != NULL)
		n.scope = strcmp(scope, SCOPE_ORG) == 0 ? PERM_SCOPE_ORG
							: PERM_SCOPE_TENANT;
	else if (op != JV_ABSENT)
		n.scope = op == JV_PRESENT ? PERM_SCOPE_ORG : PERM_SCOPE_TENANT;
	else if (n.scope == PERM_SCOPE_NONE)
		n.scope = n.org_id != 0 ? PERM_SCOPE_ORG : PERM_SCOPE_TENANT;
	if (n.scope == PERM_SCOPE_TENANT) {
		if (op == JV_PRESENT)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "org_id",
				"tenant access has no organization");
		n.org_id = 0;
	} else if (n.org_id == 0) {
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "org_id",
					 "organization access needs an "
					 "organization");
	}
	if (n.tenant_id == 0 && n.org_id == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "tenant_id",
					 "tenant access needs a tenant");
	*pl = n;
	return 0;
}

int
devtype_place_check(struct db *db, struct devtype_place *pl, int need_active,
		    int lock, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	int64_t tenant;
	int r;

	if (pl->org_id != 0) {
		/* One answer whether it does not exist or is elsewhere. */
		if ((r = db_org_get(db, pl->org_id, lock, &res)) ==
		    EST_E_NOTFOUND)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "org_id",
				"no such organization in the tenant");
		if (r != 0)
			return r;
		tenant = db_result_i64(res, 0, DB_ORG_TENANT_ID);
		if (pl->tenant_id != 0 && pl->tenant_id != tenant)
			r = jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "org_id",
				"no such organization in the tenant");
		else if (need_active && !db_result_i64(res, 0, DB_ORG_ACTIVE))
			r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "org_id",
					      "the organization is inactive");
		db_result_free(res);
		res = NULL;
		if (r != 0)
			return r;
		pl->tenant_id = tenant;
	}
	if ((r = db_tenant_get(db, pl->tenant_id, lock, &res)) ==
	    EST_E_NOTFOUND)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "tenant_id",
					 "no such tenant");
	if (r != 0)
		return r;
	if (need_active && !db_result_i64(res, 0, DB_TENANT_ACTIVE))
		r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "tenant_id",
				      "the tenant is inactive");
	db_result_free(res);
	return r;
}

void
devtype_place_object(const struct devtype_place *pl, struct perm_object *o)
{
	o->scope = pl->scope;
	o->tenant_id = pl->tenant_id;
	o->org_id = pl->scope == PERM_SCOPE_ORG ? pl->org_id : 0;
}

int
devtype_place_set(struct devtype *dt, const struct devtype_place *pl)
{
	char *s =
		strdup(pl->scope == PERM_SCOPE_ORG ? SCOPE_ORG : SCOPE_TENANT);

	if (s == NULL)
		return EST_E_NOMEM;
	free(dt->scope);
	dt->scope = s;
	dt->tenant_id = pl->tenant_id;
	dt->org_id = pl->scope == PERM_SCOPE_ORG ? pl->org_id : 0;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rules that need no database */

/* 422 naming member sub of item i of list ("mappings[2].attribute"). */
static int
fail_at(struct jsonval_error *e, const char *list, size_t i, const char *sub,
	const char *msg)
{
	char field[96];

	snprintf(field, sizeof(field), "%s[%zu]%s", list, i, sub);
	return jsonval_error_set(e, EST_E_UNPROCESSABLE, field, "%s", msg);
}

static int
check_props(const struct devtype *dt, struct jsonval_error *e)
{
	const struct devtype_prop *pr;
	char field[64];
	int i;

	for (i = 0; i < SUBJ_PROP_COUNT; i++) {
		pr = &dt->props[i];
		snprintf(field, sizeof(field), "properties.%s.default_value",
			 devtype_prop_name((enum subj_prop)i));
		if (pr->fixed && pr->default_value == NULL)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE, field,
						 "a fixed property needs a "
						 "default value");
	}
	return 0;
}

static int
check_attrs(const struct devtype *dt, struct jsonval_error *e)
{
	const struct devtype_attr *a;
	size_t i, j;

	for (i = 0; i < dt->nattrs; i++) {
		a = &dt->attrs[i];
		/* The column's collation ignores case; so does this. */
		for (j = 0; j < i; j++)
			if (strcasecmp(dt->attrs[j].name, a->name) == 0)
				return fail_at(e, "attributes", i, ".name",
					       "two attributes have this name");
		if (a->fixed && a->default_value == NULL)
			return fail_at(e, "attributes", i, ".default_value",
				       "a fixed attribute needs a default "
				       "value");
		if (a->default_value != NULL &&
		    devtype_attr_check(a, a->default_value) != 0)
			return fail_at(e, "attributes", i, ".default_value",
				       "not a value of the attribute's type "
				       "and length");
	}
	return 0;
}

static int
check_shape(const struct devtype *dt, struct jsonval_error *e)
{
	size_t i, j;
	int r;

	if ((r = check_props(dt, e)) != 0 || (r = check_attrs(dt, e)) != 0)
		return r;
	for (i = 0; i < dt->nop_templates; i++)
		for (j = 0; j < i; j++)
			if (dt->op_templates[j].template_id ==
			    dt->op_templates[i].template_id)
				return fail_at(e, "operational_templates", i,
					       ".template_id",
					       "the template is listed twice");
	if ((dt->factory_source == DEVTYPE_FACTORY_INTERNAL) !=
	    (dt->factory_template_id != 0))
		return jsonval_error_set(
			e, EST_E_UNPROCESSABLE, "factory_template_id",
			"a factory template goes with factory_source "
			"internal, and only with it");
	if ((dt->factory_source == DEVTYPE_FACTORY_EXTERNAL) !=
	    (dt->external_ca_id != 0))
		return jsonval_error_set(
			e, EST_E_UNPROCESSABLE, "external_ca_id",
			"an external CA goes with factory_source external, "
			"and only with it");
	if (dt->dar && dt->factory_source == DEVTYPE_FACTORY_NONE)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "factory_source",
					 "auto-registration needs a factory "
					 "certificate source");
	if (dt->dar && dt->nop_templates == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "operational_templates",
					 "auto-registration needs an "
					 "operational template");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rules that read the database */

/* The templates a device type uses, loaded and locked. */
struct used {
	struct tmpl *factory;
	struct tmpl **ops; /* parallel to dt->op_templates */
	struct db_devtype_extca extca;
};

static void
used_clear(struct used *u, size_t nops)
{
	size_t i;

	tmpl_free(u->factory);
	for (i = 0; u->ops != NULL && i < nops; i++)
		tmpl_free(u->ops[i]);
	free(u->ops);
	memset(u, 0, sizeof(*u));
}

/* Whether an object of scope/tenant/org is offered to device type dt. */
static int
offered(const char *scope, int64_t tenant_id, int64_t org_id,
	const struct devtype *dt)
{
	if (scope == NULL)
		return 0;
	if (strcmp(scope, SCOPE_GLOBAL) == 0)
		return 1;
	if (tenant_id != dt->tenant_id)
		return 0;
	if (strcmp(scope, SCOPE_TENANT) == 0)
		return 1;
	return strcmp(scope, SCOPE_ORG) == 0 && dt->org_id != 0 &&
	       org_id == dt->org_id;
}

/*
 * Loads template id for field (a member name) and checks that dt may use
 * it as a template of type.
 */
static int
load_template(struct db *db, const struct devtype *dt, int64_t id,
	      enum tmpl_type type, const char *field, struct tmpl **out,
	      struct jsonval_error *e)
{
	struct tmpl *t = NULL;
	const char *why = NULL;
	int r;

	if ((r = db_template_get(db, id, 1, &t)) == EST_E_NOTFOUND ||
	    (r == 0 && !offered(t->scope, t->tenant_id, t->org_id, dt)))
		why = "no such template for the device type's tenant or "
		      "organization";
	else if (r != 0)
		return r;
	else if (t->type != type)
		why = type == TMPL_FACTORY ? "not a factory template"
					   : "not an operational template";
	else if (!t->active)
		why = "the template is inactive";
	if (why != NULL) {
		tmpl_free(t);
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, field, "%s",
					 why);
	}
	*out = t;
	return 0;
}

static int
load_used(struct db *db, const struct devtype *dt, struct used *u,
	  struct jsonval_error *e)
{
	char field[64];
	size_t i;
	int r;

	if (dt->nop_templates > 0 &&
	    (u->ops = calloc(dt->nop_templates, sizeof(*u->ops))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < dt->nop_templates; i++) {
		snprintf(field, sizeof(field),
			 "operational_templates[%zu].template_id", i);
		if ((r = load_template(db, dt, dt->op_templates[i].template_id,
				       TMPL_OPERATIONAL, field, &u->ops[i],
				       e)) != 0)
			return r;
	}
	if (dt->factory_source == DEVTYPE_FACTORY_INTERNAL &&
	    (r = load_template(db, dt, dt->factory_template_id, TMPL_FACTORY,
			       "factory_template_id", &u->factory, e)) != 0)
		return r;
	if (dt->factory_source != DEVTYPE_FACTORY_EXTERNAL)
		return 0;
	r = db_devtype_extca(db, dt->external_ca_id, &u->extca);
	if (r == EST_E_NOTFOUND ||
	    (r == 0 &&
	     (u->extca.tenant_id != dt->tenant_id ||
	      (u->extca.org_id != 0 && u->extca.org_id != dt->org_id))))
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "external_ca_id",
					 "no such external CA for the device "
					 "type's tenant or organization");
	if (r != 0)
		return r;
	if (!u->extca.verified)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "external_ca_id",
					 "the external CA is not verified");
	if (!u->extca.active)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "external_ca_id",
					 "the external CA is inactive");
	return 0;
}

#define DAR_SAME_CA                                                            \
	"with auto-registration the factory CA must differ from the "          \
	"operational templates' CA"

static int
check_dar(struct db *db, const struct devtype *dt, const struct used *u,
	  struct jsonval_error *e)
{
	uint8_t fp[32];
	size_t i;
	int r;

	if (!dt->dar)
		return 0;
	for (i = 0; i < dt->nop_templates; i++) {
		if (u->factory != NULL && u->factory->ca_id == u->ops[i]->ca_id)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "factory_template_id", "%s",
						 DAR_SAME_CA);
		if (dt->factory_source != DEVTYPE_FACTORY_EXTERNAL)
			continue;
		r = db_devtype_ca_fingerprint(db, u->ops[i]->ca_id, fp);
		if (r == EST_E_NOTFOUND)
			continue;
		if (r != 0)
			return r;
		if (memcmp(fp, u->extca.fingerprint, sizeof(fp)) == 0)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "external_ca_id", "%s",
						 DAR_SAME_CA);
	}
	return 0;
}

/* The field of t that mapping m names, or -1. */
static long
field_in(const struct tmpl *t, const struct devtype_map *m)
{
	size_t j;

	for (j = 0; t != NULL && t->field_ids != NULL && j < t->nfields; j++)
		if (t->fields[j].kind == m->kind &&
		    t->field_ids[j] == m->field_id)
			return (long)j;
	return -1;
}

/*
 * Whether the mapping default v is a value that field f can take within
 * max characters, by subject resolution's own checks: the one-field
 * template whose device name is v.
 */
static int
default_fits(const struct subj_field *f, size_t max, const char *v,
	     struct subj_error *err)
{
	struct subj_field one = *f;
	struct subj_map_entry me;
	struct subj_template st = {&one, 1};
	struct subj_mapping sm = {&me, 1};
	struct subj_device dev;
	struct subj_result *res = NULL;
	int r;

	one.rule = SUBJ_OPTIONAL;
	one.default_value = NULL;
	memset(&me, 0, sizeof(me));
	me.to.target = SUBJ_TARGET_NAME;
	me.max_len = max;
	memset(&dev, 0, sizeof(dev));
	dev.name = v;
	r = subject_resolve(&st, &sm, &dev, NULL, SUBJ_SRC_USER, &res, err);
	subject_result_free(res);
	return r;
}

static int
check_map(const struct devtype *dt, const struct used *u, size_t i,
	  struct jsonval_error *e)
{
	const struct devtype_map *m = &dt->maps[i];
	const char *idf =
		m->kind == SUBJ_ATTR ? ".subject_field_id" : ".san_field_id";
	const struct subj_field *f = NULL;
	struct subj_error err;
	size_t j;
	long k;
	int r;

	if ((k = field_in(u->factory, m)) >= 0)
		f = &u->factory->fields[k];
	for (j = 0; f == NULL && j < dt->nop_templates; j++)
		if ((k = field_in(u->ops[j], m)) >= 0)
			f = &u->ops[j]->fields[k];
	if (f == NULL)
		return fail_at(e, "mappings", i, idf,
			       "not a field of the device type's templates");
	if (f->rule == SUBJ_FIXED)
		return fail_at(e, "mappings", i, idf,
			       "a fixed field takes the template's value");
	for (j = 0; j < i; j++)
		if (dt->maps[j].kind == m->kind &&
		    dt->maps[j].field_id == m->field_id)
			return fail_at(e, "mappings", i, idf,
				       "the field is mapped twice");
	if (m->to.target == SUBJ_TARGET_ATTRIBUTE) {
		for (j = 0; j < dt->nattrs; j++)
			if (strcmp(dt->attrs[j].name, m->attr_name) == 0)
				break;
		if (j == dt->nattrs)
			return fail_at(e, "mappings", i, ".attribute",
				       "no such attribute in the device type");
	}
	if (m->max_len > f->max_len)
		return fail_at(e, "mappings", i, ".max_length",
			       "above the template field's maximum length");
	if (m->default_value == NULL)
		return 0;
	memset(&err, 0, sizeof(err));
	r = default_fits(f, m->max_len > 0 ? m->max_len : f->max_len,
			 m->default_value, &err);
	if (r == EST_E_UNPROCESSABLE)
		return fail_at(e, "mappings", i, ".default_value",
			       err.reason[0] != '\0' ? err.reason
						     : "not a value of the "
						       "field");
	return r == EST_E_INVAL ? EST_E_INTERNAL : r;
}

int
devtype_validate(struct db *db, const struct devtype *dt,
		 struct jsonval_error *e)
{
	struct used u;
	size_t i;
	int r;

	memset(&u, 0, sizeof(u));
	if (dt->name == NULL)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "name",
					 "a device type needs a name");
	if ((r = check_shape(dt, e)) != 0)
		return r;
	if ((r = load_used(db, dt, &u, e)) != 0 ||
	    (r = check_dar(db, dt, &u, e)) != 0)
		goto out;
	for (i = 0; i < dt->nmaps && r == 0; i++)
		r = check_map(dt, &u, i, e);
out:
	used_clear(&u, dt->nop_templates);
	return r;
}
