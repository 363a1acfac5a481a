/*
 * Unit tests of the permission table (lib/perm.c).
 *
 * The expected outcomes are written here a second time, in another form:
 * per-role lists of granted actions taken from the guide's "Access rules"
 * and from docs/permissions.md, and explicit sets of the test objects each
 * kind of grant reaches and each role can see.  The walk then compares
 * every (role, entity, action, object) answer of perm_check() with them, so
 * a change to the table that the specification below does not share fails.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbq.h"
#include "err.h"
#include "harness.h"
#include "perm.h"

/* Two tenants; T1 has organizations O1 and O2, T2 has O3. */
#define T1 7
#define O1 71
#define O2 72
#define T2 9
#define O3 93

/* The objects every (role, entity, action) is tried against. */
enum fx {
	FX_OWN_ORG,	 /* in O1, the Organization Operator's organization */
	FX_SIB_ORG,	 /* in O2, another organization of T1 */
	FX_OWN_TENANT,	 /* T1 itself, or tenant-wide in T1 */
	FX_OTHER_ORG,	 /* in O3, an organization of T2 */
	FX_OTHER_TENANT, /* T2 itself, or tenant-wide in T2 */
	FX_GLOBAL,	 /* global scope, or system-wide (an Admin user) */
	FX_COUNT
};

#define F(x) (1u << FX_##x)
#define FX_ALL ((1u << FX_COUNT) - 1)
/* Everything of T1: both its organizations and T1 itself. */
#define FX_T1 (F(OWN_ORG) | F(SIB_ORG) | F(OWN_TENANT))

static const struct {
	const char *name;
	struct perm_object o;
} fixtures[FX_COUNT] = {
	[FX_OWN_ORG] = {"own organization", {T1, O1, PERM_SCOPE_ORG}},
	[FX_SIB_ORG] = {"sibling organization", {T1, O2, PERM_SCOPE_ORG}},
	[FX_OWN_TENANT] = {"own tenant", {T1, 0, PERM_SCOPE_TENANT}},
	[FX_OTHER_ORG] = {"other tenant's organization",
			  {T2, O3, PERM_SCOPE_ORG}},
	[FX_OTHER_TENANT] = {"other tenant", {T2, 0, PERM_SCOPE_TENANT}},
	[FX_GLOBAL] = {"global", {0, 0, PERM_SCOPE_GLOBAL}},
};

static const struct perm_actor actors[PERM_ROLE_COUNT] = {
	[PERM_ROLE_ADMIN] = {PERM_ROLE_ADMIN, 0, 0},
	[PERM_ROLE_AUDITOR] = {PERM_ROLE_AUDITOR, 0, 0},
	[PERM_ROLE_TENANT_ADMIN] = {PERM_ROLE_TENANT_ADMIN, T1, 0},
	[PERM_ROLE_TENANT_AUDITOR] = {PERM_ROLE_TENANT_AUDITOR, T1, 0},
	[PERM_ROLE_TENANT_OPERATOR] = {PERM_ROLE_TENANT_OPERATOR, T1, 0},
	[PERM_ROLE_ORG_OPERATOR] = {PERM_ROLE_ORG_OPERATOR, T1, O1},
};

/* The names, in enum order, as the database and the API spell them. */
static const char *const role_names[] = {
	[PERM_ROLE_ADMIN] = "admin",
	[PERM_ROLE_AUDITOR] = "auditor",
	[PERM_ROLE_TENANT_ADMIN] = "tenant_admin",
	[PERM_ROLE_TENANT_AUDITOR] = "tenant_auditor",
	[PERM_ROLE_TENANT_OPERATOR] = "tenant_operator",
	[PERM_ROLE_ORG_OPERATOR] = "org_operator",
};
static const char *const entity_names[] = {
	[PERM_ENT_TENANT] = "tenant",
	[PERM_ENT_ORGANIZATION] = "organization",
	[PERM_ENT_USER] = "user",
	[PERM_ENT_API_APPLICATION] = "api_application",
	[PERM_ENT_AUDIT_LOG] = "audit_log",
	[PERM_ENT_REPORT] = "report",
	[PERM_ENT_CA] = "ca",
	[PERM_ENT_CUSTOM_EXTENSION] = "custom_extension",
	[PERM_ENT_CERT_TEMPLATE] = "cert_template",
	[PERM_ENT_CERTIFICATE] = "certificate",
	[PERM_ENT_BATCH_JOB] = "batch_job",
	[PERM_ENT_DEVICE_TYPE] = "device_type",
	[PERM_ENT_DEVICE] = "device",
	[PERM_ENT_EXTERNAL_CA] = "external_ca",
	[PERM_ENT_EST_SERVER] = "est_server",
};
static const char *const action_names[] = {
	[PERM_ACT_LIST] = "list",
	[PERM_ACT_READ] = "read",
	[PERM_ACT_CREATE] = "create",
	[PERM_ACT_UPDATE] = "update",
	[PERM_ACT_DELETE] = "delete",
	[PERM_ACT_ACTIVATE] = "activate",
	[PERM_ACT_DEACTIVATE] = "deactivate",
	[PERM_ACT_ISSUE] = "issue",
	[PERM_ACT_REVOKE] = "revoke",
	[PERM_ACT_DOWNLOAD] = "download",
	[PERM_ACT_CLONE] = "clone",
	[PERM_ACT_VERIFY] = "verify",
	[PERM_ACT_SET_FACTORY_MODE] = "set_factory_mode",
	[PERM_ACT_DISABLE] = "disable",
	[PERM_ACT_ENABLE] = "enable",
	[PERM_ACT_ROTATE_KEY] = "rotate_key",
	[PERM_ACT_REVOKE_KEY] = "revoke_key",
	[PERM_ACT_CANCEL] = "cancel",
	[PERM_ACT_EXPORT] = "export",
	[PERM_ACT_TEST_CONNECTION] = "test_connection",
};
static const char *const scope_names[] = {
	[PERM_SCOPE_GLOBAL] = "global",
	[PERM_SCOPE_TENANT] = "tenant",
	[PERM_SCOPE_ORG] = "organization",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* How far a grant reaches, as the specification below spells it. */
enum reach { R_NONE = 0, R_ALL, R_TENANT, R_TORGS, R_ORG };

static const struct {
	const char *word;
	enum reach reach;
	unsigned plain;	 /* objects reached */
	unsigned shared; /* ... by list/read/clone/test_connection of a
			    shareable entity */
} reaches[] = {
	{"all", R_ALL, FX_ALL, FX_ALL},
	{"tenant", R_TENANT, FX_T1, FX_T1 | F(GLOBAL)},
	{"torgs", R_TORGS, F(OWN_ORG) | F(SIB_ORG),
	 F(OWN_ORG) | F(SIB_ORG) | F(GLOBAL)},
	{"org", R_ORG, F(OWN_ORG), F(OWN_ORG) | F(OWN_TENANT) | F(GLOBAL)},
};

/*
 * What each role may know exists (outside it a refusal is a 404), for
 * entities without a scope, for shareable ones, and for tenants.
 */
static const struct {
	unsigned owned;
	unsigned shareable;
	unsigned tenants;
} horizons[PERM_ROLE_COUNT] = {
	[PERM_ROLE_ADMIN] = {FX_ALL, FX_ALL, FX_ALL},
	[PERM_ROLE_AUDITOR] = {FX_ALL, FX_ALL, FX_ALL},
	[PERM_ROLE_TENANT_ADMIN] = {FX_T1, FX_T1 | F(GLOBAL), F(OWN_TENANT)},
	[PERM_ROLE_TENANT_AUDITOR] = {FX_T1, FX_T1 | F(GLOBAL), F(OWN_TENANT)},
	[PERM_ROLE_TENANT_OPERATOR] = {FX_T1, FX_T1 | F(GLOBAL), F(OWN_TENANT)},
	[PERM_ROLE_ORG_OPERATOR] = {F(OWN_ORG),
				    F(OWN_ORG) | F(OWN_TENANT) | F(GLOBAL),
				    F(OWN_TENANT)},
};

/* Entities with an accessibility scope (DESIGN.md "Entities"). */
static const char *const shareable_entities[] = {
	"ca",	       "custom_extension", "cert_template",
	"device_type", "external_ca",	   "est_server",
};

/* Actions that look at an object without changing it. */
static const char *const shared_actions = "list read clone test_connection";

/* Actions that may be asked about the collection, with no object. */
static const struct {
	const char *entity;
	const char *actions;
} collection_spec[] = {
	{"tenant", "list create"},
	{"organization", "list create"},
	{"user", "list create"},
	{"api_application", "list create"},
	{"audit_log", "list export"},
	{"report", "list read export"},
	{"ca", "list create"},
	{"custom_extension", "list create"},
	{"cert_template", "list create"},
	{"certificate", "list issue"},
	{"batch_job", "list create"},
	{"device_type", "list create"},
	{"device", "list create"},
	{"external_ca", "list create"},
	{"est_server", "list create"},
};

struct grant_spec {
	const char *entity;
	const char *actions;
	const char *reach;
};

#define CRUD_STATUS "list read create update delete activate deactivate"

/*
 * Admin manages everything (guide §1.1), so its list is also the list of
 * the actions each entity has.
 */
static const struct grant_spec admin_spec[] = {
	{"tenant", CRUD_STATUS, "all"},
	{"organization", CRUD_STATUS, "all"},
	{"user", CRUD_STATUS, "all"},
	{"api_application", CRUD_STATUS " rotate_key revoke_key issue download",
	 "all"},
	{"audit_log", "list read export", "all"},
	{"report", "list read export", "all"},
	{"ca", CRUD_STATUS, "all"},
	{"custom_extension", "list read create update delete", "all"},
	{"cert_template", CRUD_STATUS, "all"},
	{"certificate", "list read issue revoke download", "all"},
	{"batch_job", "list read create cancel download", "all"},
	{"device_type", CRUD_STATUS " clone", "all"},
	{"device",
	 "list read create update delete set_factory_mode disable enable "
	 "download",
	 "all"},
	{"external_ca", CRUD_STATUS " verify", "all"},
	{"est_server", CRUD_STATUS " clone test_connection", "all"},
	{NULL, NULL, NULL},
};

/* Auditor: read-only on all entities; exports the log and the reports. */
static const struct grant_spec auditor_spec[] = {
	{"tenant", "list read", "all"},
	{"organization", "list read", "all"},
	{"user", "list read", "all"},
	{"api_application", "list read", "all"},
	{"audit_log", "list read export", "all"},
	{"report", "list read export", "all"},
	{"ca", "list read", "all"},
	{"custom_extension", "list read", "all"},
	{"cert_template", "list read", "all"},
	{"certificate", "list read", "all"},
	{"batch_job", "list read", "all"},
	{"device_type", "list read", "all"},
	{"device", "list read", "all"},
	{"external_ca", "list read", "all"},
	{"est_server", "list read", "all"},
	{NULL, NULL, NULL},
};

/*
 * Tenant Admin: its tenant read-only; organizations, users, API
 * credentials, CMS and DPS entities of its tenant; external CAs created,
 * edited, verified and deleted only for an organization of its tenant
 * (§2.4), (de)activated for any of its tenant (§2.4.4); EST servers
 * configured (§2.3); its tenant's audit log and reports.
 */
static const struct grant_spec tenant_admin_spec[] = {
	{"tenant", "list read", "tenant"},
	{"organization", CRUD_STATUS, "tenant"},
	{"user", CRUD_STATUS, "tenant"},
	{"api_application", CRUD_STATUS " rotate_key revoke_key issue download",
	 "tenant"},
	{"audit_log", "list read export", "tenant"},
	{"report", "list read export", "tenant"},
	{"ca", CRUD_STATUS, "tenant"},
	{"custom_extension", "list read create update delete", "tenant"},
	{"cert_template", CRUD_STATUS, "tenant"},
	{"certificate", "list read issue revoke download", "tenant"},
	{"batch_job", "list read create cancel download", "tenant"},
	{"device_type", CRUD_STATUS " clone", "tenant"},
	{"device",
	 "list read create update delete set_factory_mode disable enable "
	 "download",
	 "tenant"},
	{"external_ca", "list read activate deactivate", "tenant"},
	{"external_ca", "create update delete verify", "torgs"},
	{"est_server", CRUD_STATUS " clone test_connection", "tenant"},
	{NULL, NULL, NULL},
};

/* Tenant Auditor: read-only on every entity of its tenant. */
static const struct grant_spec tenant_auditor_spec[] = {
	{"tenant", "list read", "tenant"},
	{"organization", "list read", "tenant"},
	{"user", "list read", "tenant"},
	{"api_application", "list read", "tenant"},
	{"audit_log", "list read export", "tenant"},
	{"report", "list read export", "tenant"},
	{"ca", "list read", "tenant"},
	{"custom_extension", "list read", "tenant"},
	{"cert_template", "list read", "tenant"},
	{"certificate", "list read", "tenant"},
	{"batch_job", "list read", "tenant"},
	{"device_type", "list read", "tenant"},
	{"device", "list read", "tenant"},
	{"external_ca", "list read", "tenant"},
	{"est_server", "list read", "tenant"},
	{NULL, NULL, NULL},
};

/*
 * Tenant Operator: certificates, batch generation and devices of all
 * organizations of its tenant (§1.1, §2.2); uses device types (§2.1),
 * templates and CAs; picks the organization of a new device (§2.2.1).
 */
static const struct grant_spec tenant_operator_spec[] = {
	{"tenant", "list read", "tenant"},
	{"organization", "list read", "tenant"},
	{"ca", "list read", "tenant"},
	{"cert_template", "list read", "tenant"},
	{"certificate", "list read issue revoke download", "tenant"},
	{"batch_job", "list read create cancel download", "tenant"},
	{"device_type", "list read", "tenant"},
	{"device",
	 "list read create update delete set_factory_mode disable enable "
	 "download",
	 "tenant"},
	{NULL, NULL, NULL},
};

/* Organization Operator: the same, for its own organization. */
static const struct grant_spec org_operator_spec[] = {
	{"tenant", "list read", "tenant"},
	{"organization", "list read", "org"},
	{"ca", "list read", "org"},
	{"cert_template", "list read", "org"},
	{"certificate", "list read issue revoke download", "org"},
	{"batch_job", "list read create cancel download", "org"},
	{"device_type", "list read", "org"},
	{"device",
	 "list read create update delete set_factory_mode disable enable "
	 "download",
	 "org"},
	{NULL, NULL, NULL},
};

static const struct grant_spec *const role_specs[PERM_ROLE_COUNT] = {
	[PERM_ROLE_ADMIN] = admin_spec,
	[PERM_ROLE_AUDITOR] = auditor_spec,
	[PERM_ROLE_TENANT_ADMIN] = tenant_admin_spec,
	[PERM_ROLE_TENANT_AUDITOR] = tenant_auditor_spec,
	[PERM_ROLE_TENANT_OPERATOR] = tenant_operator_spec,
	[PERM_ROLE_ORG_OPERATOR] = org_operator_spec,
};

/* The specification above, parsed. */
static struct {
	int reach_idx[PERM_ROLE_COUNT][PERM_ENT_COUNT][PERM_ACT_COUNT];
	int exists[PERM_ENT_COUNT][PERM_ACT_COUNT];
	int collection[PERM_ENT_COUNT][PERM_ACT_COUNT];
	int shareable[PERM_ENT_COUNT];
	int shared_action[PERM_ACT_COUNT];
	int ready;
} spec;

static int
name_lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/*
 * Calls fn(ctx, action index) for each word of a space-separated action
 * list; -1 when a word is not an action.
 */
static int
each_action(const char *list, int (*fn)(void *, int), void *ctx)
{
	char *copy, *word, *save = NULL;
	int r = 0, act;

	if ((copy = strdup(list)) == NULL)
		return -1;
	for (word = strtok_r(copy, " ", &save); word != NULL && r == 0;
	     word = strtok_r(NULL, " ", &save)) {
		act = name_lookup(action_names, NELEM(action_names), word);
		r = act < 0 ? -1 : fn(ctx, act);
	}
	free(copy);
	return r;
}

struct grant_ctx {
	int role, ent, reach;
};

static int
set_grant(void *ctx, int act)
{
	struct grant_ctx *g = ctx;

	/* A role names each (entity, action) once. */
	if (spec.reach_idx[g->role][g->ent][act] != -1)
		return -1;
	spec.reach_idx[g->role][g->ent][act] = g->reach;
	if (g->role == PERM_ROLE_ADMIN)
		spec.exists[g->ent][act] = 1;
	else if (!spec.exists[g->ent][act])
		return -1;
	return 0;
}

static int
set_flag(void *ctx, int act)
{
	((int *)ctx)[act] = 1;
	return 0;
}

static int
parse_role(int role)
{
	const struct grant_spec *g;
	struct grant_ctx ctx;
	size_t i;

	for (g = role_specs[role]; g->entity != NULL; g++) {
		ctx.role = role;
		ctx.ent = name_lookup(entity_names, NELEM(entity_names),
				      g->entity);
		ctx.reach = -1;
		for (i = 0; i < NELEM(reaches); i++)
			if (strcmp(reaches[i].word, g->reach) == 0)
				ctx.reach = (int)i;
		if (ctx.ent < 0 || ctx.reach < 0 ||
		    each_action(g->actions, set_grant, &ctx) != 0) {
			fprintf(stderr, "bad spec line: %s %s\n",
				role_names[role], g->entity);
			return -1;
		}
	}
	return 0;
}

static int
load_spec(void)
{
	size_t i;
	int r, e, act, ent;

	if (spec.ready)
		return 0;
	memset(&spec, 0, sizeof(spec));
	for (r = 0; r < PERM_ROLE_COUNT; r++)
		for (e = 0; e < PERM_ENT_COUNT; e++)
			for (act = 0; act < PERM_ACT_COUNT; act++)
				spec.reach_idx[r][e][act] = -1;
	/* Admin first: its list defines which actions exist. */
	for (r = PERM_ROLE_ADMIN; r < PERM_ROLE_COUNT; r++)
		if (parse_role(r) != 0)
			return -1;
	for (i = 0; i < NELEM(collection_spec); i++) {
		ent = name_lookup(entity_names, NELEM(entity_names),
				  collection_spec[i].entity);
		if (ent < 0 || each_action(collection_spec[i].actions, set_flag,
					   spec.collection[ent]) != 0)
			return -1;
	}
	for (i = 0; i < NELEM(shareable_entities); i++) {
		ent = name_lookup(entity_names, NELEM(entity_names),
				  shareable_entities[i]);
		if (ent < 0)
			return -1;
		spec.shareable[ent] = 1;
	}
	if (each_action(shared_actions, set_flag, spec.shared_action) != 0)
		return -1;
	spec.ready = 1;
	return 0;
}

/*
 * Which fixtures are meaningful objects of entity e for action act.  An
 * organization about to be created has no id yet and is named by its
 * tenant alone.
 */
static unsigned
valid_fixtures(int e, int act)
{
	if (e == PERM_ENT_TENANT)
		return F(OWN_TENANT) | F(OTHER_TENANT);
	if (e == PERM_ENT_ORGANIZATION && act == PERM_ACT_CREATE)
		return F(OWN_ORG) | F(SIB_ORG) | F(OTHER_ORG) | F(OWN_TENANT) |
		       F(OTHER_TENANT);
	if (e == PERM_ENT_ORGANIZATION)
		return F(OWN_ORG) | F(SIB_ORG) | F(OTHER_ORG);
	return FX_ALL;
}

/* The outcome the specification gives for one question. */
static int
expected(int role, int e, int act, int fx)
{
	int ri = spec.reach_idx[role][e][act];
	unsigned reach = 0, horizon;

	if (fx < 0) {
		if (!spec.collection[e][act])
			return EST_E_INVAL;
		return ri >= 0 ? 0 : EST_E_DENIED;
	}
	if ((valid_fixtures(e, act) & (1u << fx)) == 0)
		return EST_E_INVAL;
	if (e == PERM_ENT_TENANT)
		horizon = horizons[role].tenants;
	else if (spec.shareable[e])
		horizon = horizons[role].shareable;
	else
		horizon = horizons[role].owned;
	if (ri >= 0)
		reach = spec.shareable[e] && spec.shared_action[act]
				? reaches[ri].shared
				: reaches[ri].plain;
	if (reach & (1u << fx))
		return 0;
	return (horizon & (1u << fx)) ? EST_E_DENIED : EST_E_NOTFOUND;
}

static void
report_mismatch(int *n, int role, int e, int act, int fx, int want, int got)
{
	if ((*n)++ < 20)
		fprintf(stderr,
			"perm_check(%s, %s, %s, %s) = %s, expected %s\n",
			role_names[role], entity_names[e], action_names[act],
			fx < 0 ? "collection" : fixtures[fx].name,
			est_err_name(got), est_err_name(want));
}

struct walk {
	int mismatches;
	unsigned long cases, allowed;
};

/* Asks every question about one role and entity; counts the answers. */
static void
walk_entity(struct walk *w, int role, int e)
{
	int act, fx, want, got;

	for (act = PERM_ACT_LIST; act < PERM_ACT_COUNT; act++) {
		for (fx = -1; fx < FX_COUNT; fx++) {
			want = expected(role, e, act, fx);
			got = perm_check(&actors[role], e, act,
					 fx < 0 ? NULL : &fixtures[fx].o);
			w->cases++;
			w->allowed += got == 0;
			if (got != want)
				report_mismatch(&w->mismatches, role, e, act,
						fx, want, got);
		}
	}
}

static void
test_walk_whole_table(void)
{
	struct walk w = {0, 0, 0};
	int role, e;

	CU_ASSERT_FATAL(load_spec() == 0);
	for (role = PERM_ROLE_ADMIN; role < PERM_ROLE_COUNT; role++)
		for (e = PERM_ENT_TENANT; e < PERM_ENT_COUNT; e++)
			walk_entity(&w, role, e);
	CU_ASSERT_EQUAL(w.mismatches, 0);
	/* Every combination was asked, and the walk is not all refusals. */
	CU_ASSERT_EQUAL(w.cases, 6UL * 15 * 20 * (FX_COUNT + 1));
	CU_ASSERT(w.allowed > 0);
}

static void
test_actions_exist_as_specified(void)
{
	int e, act, mismatches = 0;

	CU_ASSERT_FATAL(load_spec() == 0);
	for (e = PERM_ENT_TENANT; e < PERM_ENT_COUNT; e++) {
		CU_ASSERT_EQUAL(perm_entity_shareable(e), spec.shareable[e]);
		for (act = PERM_ACT_LIST; act < PERM_ACT_COUNT; act++) {
			if (perm_action_exists(e, act) != spec.exists[e][act] ||
			    perm_collection_action(e, act) !=
				    spec.collection[e][act]) {
				fprintf(stderr, "%s %s: exists/collection\n",
					entity_names[e], action_names[act]);
				mismatches++;
			}
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	CU_ASSERT_EQUAL(perm_action_exists(PERM_ENT_NONE, PERM_ACT_LIST), 0);
	CU_ASSERT_EQUAL(perm_action_exists(PERM_ENT_DEVICE, PERM_ACT_COUNT), 0);
	CU_ASSERT_EQUAL(perm_entity_shareable(PERM_ENT_COUNT), 0);
}

/* The list filter evaluated the way perm.h tells the SQL to. */
static int
filter_admits(const struct perm_filter *f, const struct perm_object *o)
{
	switch (f->kind) {
	case PERM_FILTER_ALL:
		return 1;
	case PERM_FILTER_TENANT:
		return o->tenant_id == f->tenant_id ||
		       (f->shared && o->scope == PERM_SCOPE_GLOBAL);
	case PERM_FILTER_ORG:
		return (o->tenant_id == f->tenant_id &&
			o->org_id == f->org_id) ||
		       (f->shared && o->tenant_id == f->tenant_id &&
			o->scope == PERM_SCOPE_TENANT) ||
		       (f->shared && o->scope == PERM_SCOPE_GLOBAL);
	default:
		return 0;
	}
}

/* The filter the specification's list grant calls for. */
static void
assert_filter(const struct perm_filter *f, int role, int e)
{
	int ri = spec.reach_idx[role][e][PERM_ACT_LIST];

	switch (ri < 0 ? R_NONE : reaches[ri].reach) {
	case R_NONE:
		CU_ASSERT_EQUAL(f->kind, PERM_FILTER_NONE);
		break;
	case R_ALL:
		CU_ASSERT_EQUAL(f->kind, PERM_FILTER_ALL);
		break;
	case R_TENANT:
		CU_ASSERT_EQUAL(f->kind, PERM_FILTER_TENANT);
		CU_ASSERT_EQUAL(f->tenant_id, T1);
		CU_ASSERT_EQUAL(f->shared, spec.shareable[e]);
		break;
	case R_ORG:
		CU_ASSERT_EQUAL(f->kind, PERM_FILTER_ORG);
		CU_ASSERT_EQUAL(f->tenant_id, T1);
		CU_ASSERT_EQUAL(f->org_id, O1);
		CU_ASSERT_EQUAL(f->shared, spec.shareable[e]);
		break;
	default:
		CU_FAIL("a list grant that no filter can express");
	}
}

/* Test objects the filter and perm_check(list) disagree on. */
static int
filter_mismatches(const struct perm_filter *f, int role, int e)
{
	int fx, n = 0;

	for (fx = 0; fx < FX_COUNT; fx++) {
		if ((valid_fixtures(e, PERM_ACT_LIST) & (1u << fx)) == 0)
			continue;
		if (filter_admits(f, &fixtures[fx].o) !=
		    (perm_check(&actors[role], e, PERM_ACT_LIST,
				&fixtures[fx].o) == 0)) {
			fprintf(stderr, "filter %s %s %s\n", role_names[role],
				entity_names[e], fixtures[fx].name);
			n++;
		}
	}
	return n;
}

static void
test_list_filter_matches_checks(void)
{
	struct perm_filter f;
	int role, e, mismatches = 0;

	CU_ASSERT_FATAL(load_spec() == 0);
	for (role = PERM_ROLE_ADMIN; role < PERM_ROLE_COUNT; role++) {
		for (e = PERM_ENT_TENANT; e < PERM_ENT_COUNT; e++) {
			memset(&f, 0xa5, sizeof(f));
			CU_ASSERT_FATAL(
				perm_list_filter(&actors[role], e, &f) == 0);
			assert_filter(&f, role, e);
			/* A row is listed exactly when it may be listed. */
			mismatches += filter_mismatches(&f, role, e);
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);

	/* Bad arguments leave the filter alone. */
	f.kind = PERM_FILTER_ALL;
	CU_ASSERT_EQUAL(perm_list_filter(NULL, PERM_ENT_DEVICE, &f),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(
		perm_list_filter(&actors[PERM_ROLE_ADMIN], PERM_ENT_NONE, &f),
		EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_list_filter(&actors[PERM_ROLE_ADMIN],
					 PERM_ENT_DEVICE, NULL),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(f.kind, PERM_FILTER_ALL);
}

static void
test_bad_arguments_refused(void)
{
	static const struct perm_actor bad_actors[] = {
		{PERM_ROLE_NONE, 0, 0}, /* zero-initialised */
		{PERM_ROLE_COUNT, 0, 0},
		{(enum perm_role) - 1, 0, 0},
		{PERM_ROLE_ADMIN, T1, 0}, /* Admin in a tenant */
		{PERM_ROLE_AUDITOR, 0, O1},
		{PERM_ROLE_TENANT_ADMIN, 0, 0},	  /* no tenant */
		{PERM_ROLE_TENANT_ADMIN, T1, O1}, /* tenant role in an org */
		{PERM_ROLE_TENANT_OPERATOR, -T1, 0},
		{PERM_ROLE_ORG_OPERATOR, T1, 0}, /* no organization */
		{PERM_ROLE_ORG_OPERATOR, 0, O1},
	};
	static const struct perm_object bad_shared[] = {
		{0, 0, PERM_SCOPE_NONE},     {T1, 0, PERM_SCOPE_GLOBAL},
		{T1, O1, PERM_SCOPE_TENANT}, {0, 0, PERM_SCOPE_TENANT},
		{T1, 0, PERM_SCOPE_ORG},     {0, O1, PERM_SCOPE_ORG},
		{T1, O1, PERM_SCOPE_COUNT},  {-T1, 0, PERM_SCOPE_TENANT},
	};
	static const struct perm_object org_without_tenant = {0, O1,
							      PERM_SCOPE_NONE};
	const struct perm_actor *admin = &actors[PERM_ROLE_ADMIN];
	const struct perm_object *own = &fixtures[FX_OWN_ORG].o;
	size_t i;

	for (i = 0; i < NELEM(bad_actors); i++)
		CU_ASSERT_EQUAL(perm_check(&bad_actors[i], PERM_ENT_DEVICE,
					   PERM_ACT_READ, own),
				EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_check(NULL, PERM_ENT_DEVICE, PERM_ACT_LIST, NULL),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_check(admin, PERM_ENT_NONE, PERM_ACT_READ, own),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_check(admin, PERM_ENT_COUNT, PERM_ACT_READ, own),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_check(admin, PERM_ENT_DEVICE, PERM_ACT_NONE, own),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_check(admin, PERM_ENT_DEVICE, PERM_ACT_COUNT, own),
			EST_E_INVAL);
	/* A shareable object must carry a scope that fits its ids. */
	for (i = 0; i < NELEM(bad_shared); i++)
		CU_ASSERT_EQUAL(perm_check(admin, PERM_ENT_CA, PERM_ACT_READ,
					   &bad_shared[i]),
				EST_E_INVAL);
	/* Other objects ignore scope, but an org still needs its tenant. */
	CU_ASSERT_EQUAL(perm_check(admin, PERM_ENT_DEVICE, PERM_ACT_READ,
				   &bad_shared[1]),
			0);
	CU_ASSERT_EQUAL(perm_check(admin, PERM_ENT_DEVICE, PERM_ACT_READ,
				   &org_without_tenant),
			EST_E_INVAL);
	/* An action on one object cannot be asked about the collection. */
	CU_ASSERT_EQUAL(
		perm_check(admin, PERM_ENT_DEVICE, PERM_ACT_UPDATE, NULL),
		EST_E_INVAL);
}

/* The HTTP status a handler answers for a perm_*() result. */
static int
http_status(int r)
{
	return r == 0 ? 200 : est_err_http_status(r);
}

/* A test object by its short name; -1 for "collection", -2 if unknown. */
static int
fixture_by_word(const char *w)
{
	static const char *const words[FX_COUNT] = {
		[FX_OWN_ORG] = "own_org",
		[FX_SIB_ORG] = "sib_org",
		[FX_OWN_TENANT] = "own_tenant",
		[FX_OTHER_ORG] = "other_org",
		[FX_OTHER_TENANT] = "other_tenant",
		[FX_GLOBAL] = "global",
	};
	int fx;

	if (strcmp(w, "collection") == 0)
		return -1;
	for (fx = 0; fx < FX_COUNT; fx++)
		if (strcmp(words[fx], w) == 0)
			return fx;
	return -2;
}

/*
 * Facts the guide states, one per line: role, action, entity, object, and
 * the HTTP status the API must answer.
 */
static const char *const scenarios[] = {
	/* §1.1: only an Admin manages tenants; others see their own. */
	"admin create tenant collection 200",
	"tenant_admin create tenant collection 403",
	"tenant_admin read tenant own_tenant 200",
	"tenant_admin update tenant own_tenant 403",
	"tenant_admin read tenant other_tenant 404",
	/* §1.1: a Tenant Admin views shared (global) CMS entities only. */
	"tenant_admin read ca global 200",
	"tenant_admin update ca global 403",
	"tenant_admin create ca global 403",
	"tenant_admin create ca sib_org 200",
	/* §2.1: Tenant Admin CRUDs its tenant's device types. */
	"tenant_admin delete device_type sib_org 200",
	"tenant_admin clone device_type global 200",
	"tenant_admin update device_type other_tenant 404",
	/* §2.4: external CAs for organizations of its tenant only. */
	"tenant_admin create external_ca sib_org 200",
	"tenant_admin create external_ca own_tenant 403",
	"tenant_admin deactivate external_ca own_tenant 200",
	"tenant_operator read external_ca own_tenant 403",
	"auditor read external_ca other_org 200",
	/* §2.3: only Admin and Tenant Admin configure EST servers. */
	"tenant_operator create est_server collection 403",
	"tenant_admin update est_server own_org 200",
	"auditor read est_server other_org 200",
	"auditor test_connection est_server own_org 403",
	/* §1.1: auditors are read-only; the log is theirs to export. */
	"auditor export audit_log collection 200",
	"auditor read audit_log global 200",
	"tenant_auditor read audit_log global 404",
	"tenant_auditor export audit_log collection 200",
	"auditor download certificate own_org 403",
	/* §2.2: who operates devices, and where. */
	"tenant_auditor read device sib_org 200",
	"tenant_auditor disable device sib_org 403",
	"tenant_operator update device sib_org 200",
	"tenant_operator list organization collection 200",
	"tenant_operator read user own_tenant 403",
	"tenant_operator update device_type own_tenant 403",
	"org_operator revoke certificate own_org 200",
	"org_operator revoke certificate sib_org 404",
	"org_operator read device_type own_tenant 200",
	"org_operator read device_type global 200",
	"org_operator read device_type sib_org 404",
	"org_operator read tenant own_tenant 200",
	"org_operator read organization sib_org 404",
	"org_operator create device own_org 200",
	"org_operator create device own_tenant 404",
	"admin set_factory_mode device other_org 200",
	/* No entity has an action it does not define. */
	"admin export device own_org 403",
};

static void
test_guide_scenarios(void)
{
	char role[32], act[32], ent[32], obj[32];
	enum perm_role r;
	enum perm_action a;
	enum perm_entity e;
	size_t i;
	int fx, want, got;

	for (i = 0; i < NELEM(scenarios); i++) {
		CU_ASSERT_FATAL(sscanf(scenarios[i], "%31s %31s %31s %31s %d",
				       role, act, ent, obj, &want) == 5);
		fx = fixture_by_word(obj);
		CU_ASSERT_FATAL(perm_role_from_name(role, &r) == 0 &&
				perm_action_from_name(act, &a) == 0 &&
				perm_entity_from_name(ent, &e) == 0 && fx > -2);
		got = http_status(perm_check(&actors[r], e, a,
					     fx < 0 ? NULL : &fixtures[fx].o));
		if (got != want)
			fprintf(stderr, "%s: got %d\n", scenarios[i], got);
		CU_ASSERT_EQUAL(got, want);
	}
}

/* An id of the test world by name: T1, O1... or 0. */
static int64_t
id_by_word(const char *w)
{
	static const struct {
		const char *word;
		int64_t id;
	} ids[] = {
		{"T1", T1}, {"O1", O1},	  {"O2", O2},	{"T2", T2},
		{"O3", O3}, {"-T1", -T1}, {"-O1", -O1},
	};
	size_t i;

	for (i = 0; i < NELEM(ids); i++)
		if (strcmp(ids[i].word, w) == 0)
			return ids[i].id;
	return 0;
}

/*
 * Who may give which role where: actor, role granted, tenant, organization
 * (the organization belongs to the tenant given), HTTP status.
 */
static const char *const assignments[] = {
	"admin admin 0 0 200",
	"admin auditor 0 0 200",
	"admin tenant_admin T2 0 200",
	"admin org_operator T2 O3 200",
	/* The role must fit where the user is put. */
	"admin admin T1 0 422",
	"admin tenant_operator T1 O1 422",
	"admin org_operator T1 0 422",
	"admin tenant_auditor 0 0 422",
	/* A Tenant Admin grants the tenant roles in its tenant only. */
	"tenant_admin tenant_admin T1 0 200",
	"tenant_admin tenant_auditor T1 0 200",
	"tenant_admin tenant_operator T1 0 200",
	"tenant_admin org_operator T1 O2 200",
	"tenant_admin admin 0 0 403",
	"tenant_admin auditor 0 0 403",
	"tenant_admin tenant_operator T2 0 404",
	"tenant_admin org_operator T2 O3 404",
	/* Nobody else creates users. */
	"auditor tenant_operator T1 0 403",
	"tenant_auditor tenant_operator T1 0 403",
	"tenant_auditor tenant_operator T2 0 404",
	"tenant_operator org_operator T1 O1 403",
	"org_operator org_operator T1 O1 403",
	"org_operator org_operator T1 O2 404",
	"org_operator admin 0 0 403",
	/* Negative ids are bad arguments. */
	"admin tenant_admin -T1 0 400",
	"admin org_operator T1 -O1 400",
};

static void
test_role_assignment(void)
{
	static const struct perm_actor nobody = {PERM_ROLE_NONE, 0, 0};
	char actor[32], role[32], tenant[8], org[8];
	enum perm_role ar, r;
	size_t i;
	int want, got;

	for (i = 0; i < NELEM(assignments); i++) {
		CU_ASSERT_FATAL(sscanf(assignments[i], "%31s %31s %7s %7s %d",
				       actor, role, tenant, org, &want) == 5);
		CU_ASSERT_FATAL(perm_role_from_name(actor, &ar) == 0 &&
				perm_role_from_name(role, &r) == 0);
		got = http_status(perm_may_assign_role(
			&actors[ar], r, id_by_word(tenant), id_by_word(org)));
		if (got != want)
			fprintf(stderr, "%s: got %d\n", assignments[i], got);
		CU_ASSERT_EQUAL(got, want);
	}
	CU_ASSERT_EQUAL(perm_may_assign_role(&actors[PERM_ROLE_ADMIN],
					     PERM_ROLE_NONE, 0, 0),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_may_assign_role(&actors[PERM_ROLE_ADMIN],
					     PERM_ROLE_COUNT, 0, 0),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_may_assign_role(NULL, PERM_ROLE_ADMIN, 0, 0),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_may_assign_role(&nobody, PERM_ROLE_ADMIN, 0, 0),
			EST_E_INVAL);
}

static void
test_names_round_trip(void)
{
	enum perm_role r;
	enum perm_entity e;
	enum perm_action act;
	enum perm_scope s;
	size_t i;

	CU_ASSERT_EQUAL(NELEM(role_names), PERM_ROLE_COUNT);
	CU_ASSERT_EQUAL(NELEM(entity_names), PERM_ENT_COUNT);
	CU_ASSERT_EQUAL(NELEM(action_names), PERM_ACT_COUNT);
	CU_ASSERT_EQUAL(NELEM(scope_names), PERM_SCOPE_COUNT);
	for (i = 1; i < NELEM(role_names); i++) {
		CU_ASSERT_STRING_EQUAL(perm_role_name(i), role_names[i]);
		CU_ASSERT(perm_role_from_name(role_names[i], &r) == 0 &&
			  r == i);
	}
	for (i = 1; i < NELEM(entity_names); i++) {
		CU_ASSERT_STRING_EQUAL(perm_entity_name(i), entity_names[i]);
		CU_ASSERT(perm_entity_from_name(entity_names[i], &e) == 0 &&
			  e == i);
	}
	for (i = 1; i < NELEM(action_names); i++) {
		CU_ASSERT_STRING_EQUAL(perm_action_name(i), action_names[i]);
		CU_ASSERT(perm_action_from_name(action_names[i], &act) == 0 &&
			  act == i);
	}
	for (i = 1; i < NELEM(scope_names); i++) {
		CU_ASSERT_STRING_EQUAL(perm_scope_name(i), scope_names[i]);
		CU_ASSERT(perm_scope_from_name(scope_names[i], &s) == 0 &&
			  s == i);
	}
	/* The database spells roles and scopes the same way. */
	CU_ASSERT_STRING_EQUAL(perm_role_name(PERM_ROLE_ADMIN), ROLE_ADMIN);
	CU_ASSERT_STRING_EQUAL(perm_role_name(PERM_ROLE_AUDITOR), ROLE_AUDITOR);
	CU_ASSERT_STRING_EQUAL(perm_role_name(PERM_ROLE_TENANT_ADMIN),
			       ROLE_TENANT_ADMIN);
	CU_ASSERT_STRING_EQUAL(perm_role_name(PERM_ROLE_TENANT_AUDITOR),
			       ROLE_TENANT_AUDITOR);
	CU_ASSERT_STRING_EQUAL(perm_role_name(PERM_ROLE_TENANT_OPERATOR),
			       ROLE_TENANT_OPERATOR);
	CU_ASSERT_STRING_EQUAL(perm_role_name(PERM_ROLE_ORG_OPERATOR),
			       ROLE_ORG_OPERATOR);
	CU_ASSERT_STRING_EQUAL(perm_scope_name(PERM_SCOPE_GLOBAL),
			       SCOPE_GLOBAL);
	CU_ASSERT_STRING_EQUAL(perm_scope_name(PERM_SCOPE_TENANT),
			       SCOPE_TENANT);
	CU_ASSERT_STRING_EQUAL(perm_scope_name(PERM_SCOPE_ORG), SCOPE_ORG);

	/* Out-of-range values have no name. */
	CU_ASSERT_PTR_NULL(perm_role_name(PERM_ROLE_NONE));
	CU_ASSERT_PTR_NULL(perm_role_name(PERM_ROLE_COUNT));
	CU_ASSERT_PTR_NULL(perm_role_name((enum perm_role) - 1));
	CU_ASSERT_PTR_NULL(perm_entity_name(PERM_ENT_NONE));
	CU_ASSERT_PTR_NULL(perm_entity_name(PERM_ENT_COUNT));
	CU_ASSERT_PTR_NULL(perm_action_name(PERM_ACT_NONE));
	CU_ASSERT_PTR_NULL(perm_action_name(PERM_ACT_COUNT));
	CU_ASSERT_PTR_NULL(perm_scope_name(PERM_SCOPE_NONE));
	CU_ASSERT_PTR_NULL(perm_scope_name(PERM_SCOPE_COUNT));
}

static void
test_unknown_names_refused(void)
{
	static const char *const bad[] = {
		"",	  "Admin",	  "admin ",
		" admin", "tenant-admin", "organization_operator",
		"list\n", "LIST",	  "devices",
		"none",	  "global\t"};
	enum perm_role r = PERM_ROLE_AUDITOR;
	enum perm_entity e = PERM_ENT_DEVICE;
	enum perm_action act = PERM_ACT_CANCEL;
	enum perm_scope s = PERM_SCOPE_ORG;
	size_t i;

	for (i = 0; i < NELEM(bad); i++) {
		CU_ASSERT_EQUAL(perm_role_from_name(bad[i], &r), EST_E_INVAL);
		CU_ASSERT_EQUAL(perm_entity_from_name(bad[i], &e), EST_E_INVAL);
		CU_ASSERT_EQUAL(perm_action_from_name(bad[i], &act),
				EST_E_INVAL);
		CU_ASSERT_EQUAL(perm_scope_from_name(bad[i], &s), EST_E_INVAL);
	}
	CU_ASSERT_EQUAL(perm_role_from_name(NULL, &r), EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_entity_from_name(NULL, &e), EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_action_from_name(NULL, &act), EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_scope_from_name(NULL, &s), EST_E_INVAL);
	CU_ASSERT_EQUAL(perm_role_from_name("admin", NULL), EST_E_INVAL);
	/* A refused lookup leaves its output alone. */
	CU_ASSERT_EQUAL(r, PERM_ROLE_AUDITOR);
	CU_ASSERT_EQUAL(e, PERM_ENT_DEVICE);
	CU_ASSERT_EQUAL(act, PERM_ACT_CANCEL);
	CU_ASSERT_EQUAL(s, PERM_SCOPE_ORG);
}

#define BEGIN_MARK "<!-- BEGIN perm_dump_markdown -->\n"
#define END_MARK "<!-- END perm_dump_markdown -->"

/* Reads a whole file into a NUL-terminated string; NULL on failure. */
static char *
slurp(const char *path)
{
	FILE *fp;
	char *s = NULL;
	size_t len = 0;
	char chunk[4096];
	size_t n;
	char *t;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if ((t = realloc(s, len + n + 1)) == NULL) {
			free(s);
			fclose(fp);
			return NULL;
		}
		s = t;
		memcpy(s + len, chunk, n);
		len += n;
	}
	if (ferror(fp) || s == NULL) {
		free(s);
		s = NULL;
	} else
		s[len] = '\0';
	fclose(fp);
	return s;
}

/* Prints the first line where the two texts differ. */
static void
show_first_difference(const char *doc, const char *gen)
{
	size_t line = 1, i = 0, start = 0;

	while (doc[i] != '\0' && doc[i] == gen[i]) {
		if (doc[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	fprintf(stderr,
		"docs/permissions.md differs from perm_dump_markdown() at "
		"line %zu of the matrix:\n  doc: %.*s\n  gen: %.*s\n",
		line, (int)strcspn(doc + start, "\n"), doc + start,
		(int)strcspn(gen + start, "\n"), gen + start);
}

static void
test_doc_matrix_matches_table(void)
{
	const char *top = getenv("top_srcdir");
	char *path = NULL, *doc = NULL, *gen = NULL;
	char *begin, *end;
	size_t genlen = 0;
	FILE *mem;
	unsigned long rows = 0;
	int e, act;
	const char *p;

	if (top == NULL || *top == '\0')
		top = "..";
	CU_ASSERT_FATAL(asprintf(&path, "%s/docs/permissions.md", top) > 0);
	doc = slurp(path);
	if (doc == NULL)
		fprintf(stderr, "cannot read %s\n", path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);

	CU_ASSERT_FATAL((mem = open_memstream(&gen, &genlen)) != NULL);
	CU_ASSERT_EQUAL(perm_dump_markdown(mem), 0);
	CU_ASSERT_FATAL(fclose(mem) == 0);

	/* One row per action each entity has, beside the header rows. */
	for (p = gen; (p = strstr(p, "\n| ")) != NULL; p++)
		rows++;
	for (e = PERM_ENT_TENANT; e < PERM_ENT_COUNT; e++)
		for (act = PERM_ACT_LIST; act < PERM_ACT_COUNT; act++)
			rows -= (unsigned long)perm_action_exists(e, act);
	CU_ASSERT_EQUAL(rows, 15);

	begin = strstr(doc, BEGIN_MARK);
	end = begin != NULL ? strstr(begin, END_MARK) : NULL;
	CU_ASSERT_PTR_NOT_NULL(begin);
	CU_ASSERT_PTR_NOT_NULL(end);
	if (begin != NULL && end != NULL) {
		begin += strlen(BEGIN_MARK);
		*end = '\0';
		if (strcmp(begin, gen) != 0) {
			show_first_difference(begin, gen);
			printf("The generated matrix, to paste between the "
			       "markers:\n%s",
			       gen);
		}
		CU_ASSERT_STRING_EQUAL(begin, gen);
	}
	free(path);
	free(doc);
	free(gen);
}

int
test_suites(void)
{
	static CU_TestInfo table_tests[] = {
		{"every role x entity x action x object as specified",
		 test_walk_whole_table},
		{"entities have exactly the specified actions",
		 test_actions_exist_as_specified},
		{"list filters admit exactly the listable rows",
		 test_list_filter_matches_checks},
		{"facts from the guide", test_guide_scenarios},
		{"inconsistent actors and objects are refused",
		 test_bad_arguments_refused},
		{"who may grant which role where", test_role_assignment},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo name_tests[] = {
		{"names round-trip", test_names_round_trip},
		{"unknown names are refused", test_unknown_names_refused},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo doc_tests[] = {
		{"docs/permissions.md shows the table",
		 test_doc_matrix_matches_table},
		CU_TEST_INFO_NULL,
	};
	int r;

	if ((r = test_add_suite("perm", NULL, NULL, table_tests)) != 0 ||
	    (r = test_add_suite("perm names", NULL, NULL, name_tests)) != 0 ||
	    (r = test_add_suite("perm doc", NULL, NULL, doc_tests)) != 0)
		return r;
	return 0;
}
