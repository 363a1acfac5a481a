/*
 * The permission table and the one function that reads it.  The grants
 * below are the whole access policy of Estuary; docs/permissions.md says
 * why each one is what it is, and shows the matrix perm_dump_markdown()
 * renders from them.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "perm.h"

/*
 * How far a grant reaches.  DENY is 0 so that anything the table does not
 * mention is refused.
 */
enum perm_rule {
	RULE_DENY = 0,
	RULE_ALL,    /* any object in the system */
	RULE_TENANT, /* objects of the actor's tenant, at any level */
	RULE_TORGS,  /* objects of one of the organizations of its tenant */
	RULE_ORG     /* objects of the actor's organization */
};

#define B(act) (1u << PERM_ACT_##act)
#define LR (B(LIST) | B(READ))
#define MANAGE                                                                 \
	(LR | B(CREATE) | B(UPDATE) | B(DELETE) | B(ACTIVATE) | B(DEACTIVATE))
/* Every action the entity has (grants are cut down to perm_exists). */
#define EVERY 0xffffffffu

/*
 * Which actions each entity has at all.  A public certificate download is
 * a read; "download" is for secrets (see perm.h).  Custom extensions and
 * certificates have no status of their own: an extension is retired by
 * taking it off its templates, a certificate by revoking it.
 */
static const uint32_t perm_exists[PERM_ENT_COUNT] = {
	[PERM_ENT_TENANT] = MANAGE,
	[PERM_ENT_ORGANIZATION] = MANAGE,
	[PERM_ENT_USER] = MANAGE,
	[PERM_ENT_API_APPLICATION] =
		MANAGE | B(ROTATE_KEY) | B(REVOKE_KEY) | B(ISSUE) | B(DOWNLOAD),
	[PERM_ENT_AUDIT_LOG] = LR | B(EXPORT),
	[PERM_ENT_REPORT] = LR | B(EXPORT),
	[PERM_ENT_CA] = MANAGE,
	[PERM_ENT_CUSTOM_EXTENSION] = LR | B(CREATE) | B(UPDATE) | B(DELETE),
	[PERM_ENT_CERT_TEMPLATE] = MANAGE,
	[PERM_ENT_CERTIFICATE] = LR | B(ISSUE) | B(REVOKE) | B(DOWNLOAD),
	[PERM_ENT_BATCH_JOB] = LR | B(CREATE) | B(CANCEL) | B(DOWNLOAD),
	[PERM_ENT_DEVICE_TYPE] = MANAGE | B(CLONE),
	[PERM_ENT_DEVICE] = LR | B(CREATE) | B(UPDATE) | B(DELETE) |
			    B(SET_FACTORY_MODE) | B(DISABLE) | B(ENABLE) |
			    B(DOWNLOAD),
	[PERM_ENT_EXTERNAL_CA] = MANAGE | B(VERIFY),
	[PERM_ENT_EST_SERVER] = MANAGE | B(CLONE) | B(TEST_CONNECTION),
};

/*
 * Actions that may be asked about the collection, without a target.
 * Issuing a certificate creates it; running a report reads the actor's
 * share of the data, so both are collection actions.
 */
static const uint32_t perm_collection[PERM_ENT_COUNT] = {
	[PERM_ENT_TENANT] = B(LIST) | B(CREATE),
	[PERM_ENT_ORGANIZATION] = B(LIST) | B(CREATE),
	[PERM_ENT_USER] = B(LIST) | B(CREATE),
	[PERM_ENT_API_APPLICATION] = B(LIST) | B(CREATE),
	[PERM_ENT_AUDIT_LOG] = B(LIST) | B(EXPORT),
	[PERM_ENT_REPORT] = B(LIST) | B(READ) | B(EXPORT),
	[PERM_ENT_CA] = B(LIST) | B(CREATE),
	[PERM_ENT_CUSTOM_EXTENSION] = B(LIST) | B(CREATE),
	[PERM_ENT_CERT_TEMPLATE] = B(LIST) | B(CREATE),
	[PERM_ENT_CERTIFICATE] = B(LIST) | B(ISSUE),
	[PERM_ENT_BATCH_JOB] = B(LIST) | B(CREATE),
	[PERM_ENT_DEVICE_TYPE] = B(LIST) | B(CREATE),
	[PERM_ENT_DEVICE] = B(LIST) | B(CREATE),
	[PERM_ENT_EXTERNAL_CA] = B(LIST) | B(CREATE),
	[PERM_ENT_EST_SERVER] = B(LIST) | B(CREATE),
};

/*
 * Actions that only look at (or copy from) an object.  On a shareable
 * entity they also reach the shared objects the actor can see, which is how
 * a Tenant Admin sees global CAs read-only while managing its own.
 */
#define SHARED_ACTIONS (LR | B(CLONE) | B(TEST_CONNECTION))

struct perm_grant {
	enum perm_role role;
	enum perm_entity entity;
	uint32_t actions;
	enum perm_rule rule;
};

/* clang-format off */
#define G(role, ent, acts, rule) \
	{ PERM_ROLE_##role, PERM_ENT_##ent, (acts), RULE_##rule }
/* clang-format on */

static const struct perm_grant perm_grants[] = {
	/* Admin manages everything (guide §1.1). */
	G(ADMIN, TENANT, EVERY, ALL),
	G(ADMIN, ORGANIZATION, EVERY, ALL),
	G(ADMIN, USER, EVERY, ALL),
	G(ADMIN, API_APPLICATION, EVERY, ALL),
	G(ADMIN, AUDIT_LOG, EVERY, ALL),
	G(ADMIN, REPORT, EVERY, ALL),
	G(ADMIN, CA, EVERY, ALL),
	G(ADMIN, CUSTOM_EXTENSION, EVERY, ALL),
	G(ADMIN, CERT_TEMPLATE, EVERY, ALL),
	G(ADMIN, CERTIFICATE, EVERY, ALL),
	G(ADMIN, BATCH_JOB, EVERY, ALL),
	G(ADMIN, DEVICE_TYPE, EVERY, ALL),
	G(ADMIN, DEVICE, EVERY, ALL),
	G(ADMIN, EXTERNAL_CA, EVERY, ALL),
	G(ADMIN, EST_SERVER, EVERY, ALL),

	/* Auditor: read-only access to every entity of the system. */
	G(AUDITOR, TENANT, LR, ALL),
	G(AUDITOR, ORGANIZATION, LR, ALL),
	G(AUDITOR, USER, LR, ALL),
	G(AUDITOR, API_APPLICATION, LR, ALL),
	G(AUDITOR, AUDIT_LOG, LR | B(EXPORT), ALL),
	G(AUDITOR, REPORT, LR | B(EXPORT), ALL),
	G(AUDITOR, CA, LR, ALL),
	G(AUDITOR, CUSTOM_EXTENSION, LR, ALL),
	G(AUDITOR, CERT_TEMPLATE, LR, ALL),
	G(AUDITOR, CERTIFICATE, LR, ALL),
	G(AUDITOR, BATCH_JOB, LR, ALL),
	G(AUDITOR, DEVICE_TYPE, LR, ALL),
	G(AUDITOR, DEVICE, LR, ALL),
	G(AUDITOR, EXTERNAL_CA, LR, ALL),
	G(AUDITOR, EST_SERVER, LR, ALL),

	/*
	 * Tenant Admin: everything inside its tenant, its own tenant
	 * read-only, global objects read-only (through SHARED_ACTIONS).
	 * External CAs: the guide lets it create, edit and delete them only
	 * for an organization of its tenant, but (de)activate any of its
	 * tenant's (§2.4, §2.4.4).
	 */
	G(TENANT_ADMIN, TENANT, LR, TENANT),
	G(TENANT_ADMIN, ORGANIZATION, EVERY, TENANT),
	G(TENANT_ADMIN, USER, EVERY, TENANT),
	G(TENANT_ADMIN, API_APPLICATION, EVERY, TENANT),
	G(TENANT_ADMIN, AUDIT_LOG, LR | B(EXPORT), TENANT),
	G(TENANT_ADMIN, REPORT, LR | B(EXPORT), TENANT),
	G(TENANT_ADMIN, CA, EVERY, TENANT),
	G(TENANT_ADMIN, CUSTOM_EXTENSION, EVERY, TENANT),
	G(TENANT_ADMIN, CERT_TEMPLATE, EVERY, TENANT),
	G(TENANT_ADMIN, CERTIFICATE, EVERY, TENANT),
	G(TENANT_ADMIN, BATCH_JOB, EVERY, TENANT),
	G(TENANT_ADMIN, DEVICE_TYPE, EVERY, TENANT),
	G(TENANT_ADMIN, DEVICE, EVERY, TENANT),
	G(TENANT_ADMIN, EXTERNAL_CA, LR | B(ACTIVATE) | B(DEACTIVATE), TENANT),
	G(TENANT_ADMIN, EXTERNAL_CA,
	  B(CREATE) | B(UPDATE) | B(DELETE) | B(VERIFY), TORGS),
	G(TENANT_ADMIN, EST_SERVER, EVERY, TENANT),

	/* Tenant Auditor: read-only access to every entity of its tenant. */
	G(TENANT_AUDITOR, TENANT, LR, TENANT),
	G(TENANT_AUDITOR, ORGANIZATION, LR, TENANT),
	G(TENANT_AUDITOR, USER, LR, TENANT),
	G(TENANT_AUDITOR, API_APPLICATION, LR, TENANT),
	G(TENANT_AUDITOR, AUDIT_LOG, LR | B(EXPORT), TENANT),
	G(TENANT_AUDITOR, REPORT, LR | B(EXPORT), TENANT),
	G(TENANT_AUDITOR, CA, LR, TENANT),
	G(TENANT_AUDITOR, CUSTOM_EXTENSION, LR, TENANT),
	G(TENANT_AUDITOR, CERT_TEMPLATE, LR, TENANT),
	G(TENANT_AUDITOR, CERTIFICATE, LR, TENANT),
	G(TENANT_AUDITOR, BATCH_JOB, LR, TENANT),
	G(TENANT_AUDITOR, DEVICE_TYPE, LR, TENANT),
	G(TENANT_AUDITOR, DEVICE, LR, TENANT),
	G(TENANT_AUDITOR, EXTERNAL_CA, LR, TENANT),
	G(TENANT_AUDITOR, EST_SERVER, LR, TENANT),

	/*
	 * Tenant Operator: certificates, batch jobs and devices of every
	 * organization of its tenant; reads what creating them needs (the
	 * organization picker, device types, templates, CAs).
	 */
	G(TENANT_OPERATOR, TENANT, LR, TENANT),
	G(TENANT_OPERATOR, ORGANIZATION, LR, TENANT),
	G(TENANT_OPERATOR, CA, LR, TENANT),
	G(TENANT_OPERATOR, CERT_TEMPLATE, LR, TENANT),
	G(TENANT_OPERATOR, CERTIFICATE, EVERY, TENANT),
	G(TENANT_OPERATOR, BATCH_JOB, EVERY, TENANT),
	G(TENANT_OPERATOR, DEVICE_TYPE, LR, TENANT),
	G(TENANT_OPERATOR, DEVICE, EVERY, TENANT),

	/*
	 * Organization Operator: the same, for its organization only.  It
	 * reads its own tenant and organization record; shared objects reach
	 * it when global, tenant-wide in its tenant, or assigned to its
	 * organization.
	 */
	G(ORG_OPERATOR, TENANT, LR, TENANT),
	G(ORG_OPERATOR, ORGANIZATION, LR, ORG),
	G(ORG_OPERATOR, CA, LR, ORG),
	G(ORG_OPERATOR, CERT_TEMPLATE, LR, ORG),
	G(ORG_OPERATOR, CERTIFICATE, EVERY, ORG),
	G(ORG_OPERATOR, BATCH_JOB, EVERY, ORG),
	G(ORG_OPERATOR, DEVICE_TYPE, LR, ORG),
	G(ORG_OPERATOR, DEVICE, EVERY, ORG),
};

#undef G

static const char *const perm_role_names[PERM_ROLE_COUNT] = {
	[PERM_ROLE_ADMIN] = "admin",
	[PERM_ROLE_AUDITOR] = "auditor",
	[PERM_ROLE_TENANT_ADMIN] = "tenant_admin",
	[PERM_ROLE_TENANT_AUDITOR] = "tenant_auditor",
	[PERM_ROLE_TENANT_OPERATOR] = "tenant_operator",
	[PERM_ROLE_ORG_OPERATOR] = "org_operator",
};

static const char *const perm_entity_names[PERM_ENT_COUNT] = {
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

static const char *const perm_action_names[PERM_ACT_COUNT] = {
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

/* The same strings as SCOPE_* in db/dbq.h. */
static const char *const perm_scope_names[PERM_SCOPE_COUNT] = {
	[PERM_SCOPE_GLOBAL] = "global",
	[PERM_SCOPE_TENANT] = "tenant",
	[PERM_SCOPE_ORG] = "organization",
};

static int
role_valid(enum perm_role r)
{
	return r > PERM_ROLE_NONE && r < PERM_ROLE_COUNT;
}

static int
entity_valid(enum perm_entity e)
{
	return e > PERM_ENT_NONE && e < PERM_ENT_COUNT;
}

static int
action_valid(enum perm_action act)
{
	return act > PERM_ACT_NONE && act < PERM_ACT_COUNT;
}

/*
 * Whether tenant_id / org_id fit role r: system roles have neither, tenant
 * roles only a tenant, the Organization Operator both.
 */
static int
role_fits(enum perm_role r, int64_t tenant_id, int64_t org_id)
{
	if (tenant_id < 0 || org_id < 0)
		return 0;
	switch (r) {
	case PERM_ROLE_ADMIN:
	case PERM_ROLE_AUDITOR:
		return tenant_id == 0 && org_id == 0;
	case PERM_ROLE_TENANT_ADMIN:
	case PERM_ROLE_TENANT_AUDITOR:
	case PERM_ROLE_TENANT_OPERATOR:
		return tenant_id > 0 && org_id == 0;
	case PERM_ROLE_ORG_OPERATOR:
		return tenant_id > 0 && org_id > 0;
	default:
		return 0;
	}
}

static int
actor_valid(const struct perm_actor *a)
{
	return a != NULL && role_valid(a->role) &&
	       role_fits(a->role, a->tenant_id, a->org_id);
}

/*
 * An object must say consistently where it lives; a mismatch is a bug in
 * the caller (or in the database) and is refused rather than guessed at.
 * An organization about to be created has no id yet: it is described by
 * its tenant alone.
 */
static int
object_valid(enum perm_entity e, enum perm_action act,
	     const struct perm_object *o)
{
	if (o->tenant_id < 0 || o->org_id < 0)
		return 0;
	if (o->org_id != 0 && o->tenant_id == 0)
		return 0;
	if (e == PERM_ENT_TENANT)
		return o->tenant_id > 0 && o->org_id == 0;
	if (e == PERM_ENT_ORGANIZATION)
		return o->tenant_id > 0 &&
		       (o->org_id > 0 ||
			(act == PERM_ACT_CREATE && o->org_id == 0));
	if (!perm_entity_shareable(e))
		return 1;
	switch (o->scope) {
	case PERM_SCOPE_GLOBAL:
		return o->tenant_id == 0;
	case PERM_SCOPE_TENANT:
		return o->tenant_id > 0 && o->org_id == 0;
	case PERM_SCOPE_ORG:
		return o->org_id > 0;
	default:
		return 0;
	}
}

int
perm_entity_shareable(enum perm_entity e)
{
	switch (e) {
	case PERM_ENT_CA:
	case PERM_ENT_CUSTOM_EXTENSION:
	case PERM_ENT_CERT_TEMPLATE:
	case PERM_ENT_DEVICE_TYPE:
	case PERM_ENT_EXTERNAL_CA:
	case PERM_ENT_EST_SERVER:
		return 1;
	default:
		return 0;
	}
}

int
perm_action_exists(enum perm_entity e, enum perm_action act)
{
	if (!entity_valid(e) || !action_valid(act))
		return 0;
	return (perm_exists[e] & (1u << act)) != 0;
}

int
perm_collection_action(enum perm_entity e, enum perm_action act)
{
	if (!perm_action_exists(e, act))
		return 0;
	return (perm_collection[e] & (1u << act)) != 0;
}

/* The rule of (r, e, act): the first grant that covers it, else DENY. */
static enum perm_rule
rule_of(enum perm_role r, enum perm_entity e, enum perm_action act)
{
	size_t i;

	if (!perm_action_exists(e, act))
		return RULE_DENY;
	for (i = 0; i < sizeof(perm_grants) / sizeof(perm_grants[0]); i++) {
		const struct perm_grant *g = &perm_grants[i];

		if (g->role == r && g->entity == e &&
		    (g->actions & (1u << act)) != 0)
			return g->rule;
	}
	return RULE_DENY;
}

static int
shared_with(const struct perm_actor *a, enum perm_entity e,
	    const struct perm_object *o)
{
	if (!perm_entity_shareable(e))
		return 0;
	if (o->scope == PERM_SCOPE_GLOBAL)
		return 1;
	/* Tenant-wide objects reach the organizations of that tenant too. */
	return o->scope == PERM_SCOPE_TENANT && o->tenant_id == a->tenant_id;
}

/*
 * What the actor may know exists: everything for the system roles; its
 * tenant and the shared objects for a tenant role; its organization, its
 * tenant's record and the shared objects for an Organization Operator.
 * Outside this horizon a refusal is a 404.
 */
static int
in_horizon(const struct perm_actor *a, enum perm_entity e,
	   const struct perm_object *o)
{
	if (a->tenant_id == 0)
		return 1;
	if (o->tenant_id == a->tenant_id &&
	    (a->org_id == 0 || e == PERM_ENT_TENANT || o->org_id == a->org_id))
		return 1;
	return shared_with(a, e, o);
}

static int
rule_matches(enum perm_rule rule, const struct perm_actor *a,
	     enum perm_entity e, enum perm_action act,
	     const struct perm_object *o)
{
	int shared =
		(SHARED_ACTIONS & (1u << act)) != 0 && shared_with(a, e, o);

	switch (rule) {
	case RULE_ALL:
		return 1;
	case RULE_TENANT:
		return o->tenant_id == a->tenant_id || shared;
	case RULE_TORGS:
		return (o->tenant_id == a->tenant_id && o->org_id != 0) ||
		       shared;
	case RULE_ORG:
		return (a->org_id != 0 && o->tenant_id == a->tenant_id &&
			o->org_id == a->org_id) ||
		       shared;
	default:
		return 0;
	}
}

int
perm_check(const struct perm_actor *a, enum perm_entity e, enum perm_action act,
	   const struct perm_object *o)
{
	enum perm_rule rule;

	if (!actor_valid(a) || !entity_valid(e) || !action_valid(act))
		return EST_E_INVAL;
	rule = rule_of(a->role, e, act);
	if (o == NULL) {
		if (!perm_collection_action(e, act))
			return EST_E_INVAL;
		return rule != RULE_DENY ? 0 : EST_E_DENIED;
	}
	if (!object_valid(e, act, o))
		return EST_E_INVAL;
	if (!in_horizon(a, e, o))
		return EST_E_NOTFOUND;
	return rule_matches(rule, a, e, act, o) ? 0 : EST_E_DENIED;
}

int
perm_list_filter(const struct perm_actor *a, enum perm_entity e,
		 struct perm_filter *f)
{
	struct perm_filter nf = {PERM_FILTER_NONE, 0, 0, 0};

	if (!actor_valid(a) || !entity_valid(e) || f == NULL)
		return EST_E_INVAL;
	switch (rule_of(a->role, e, PERM_ACT_LIST)) {
	case RULE_DENY:
		break;
	case RULE_ALL:
		nf.kind = PERM_FILTER_ALL;
		break;
	case RULE_TENANT:
		nf.kind = PERM_FILTER_TENANT;
		nf.tenant_id = a->tenant_id;
		nf.shared = perm_entity_shareable(e);
		break;
	case RULE_ORG:
		nf.kind = PERM_FILTER_ORG;
		nf.tenant_id = a->tenant_id;
		nf.org_id = a->org_id;
		nf.shared = perm_entity_shareable(e);
		break;
	default:
		/* No filter expresses "some organizations": a table bug. */
		return EST_E_INTERNAL;
	}
	*f = nf;
	return 0;
}

int
perm_may_assign_role(const struct perm_actor *a, enum perm_role r,
		     int64_t tenant_id, int64_t org_id)
{
	struct perm_object o = {tenant_id, org_id, PERM_SCOPE_NONE};

	if (!actor_valid(a) || !role_valid(r) || tenant_id < 0 || org_id < 0)
		return EST_E_INVAL;
	if (!role_fits(r, tenant_id, org_id))
		return EST_E_UNPROCESSABLE;
	/* System roles are granted by an Admin only (guide §1.1). */
	if ((r == PERM_ROLE_ADMIN || r == PERM_ROLE_AUDITOR) &&
	    a->role != PERM_ROLE_ADMIN)
		return EST_E_DENIED;
	return perm_check(a, PERM_ENT_USER, PERM_ACT_CREATE, &o);
}

const char *
perm_role_name(enum perm_role r)
{
	return role_valid(r) ? perm_role_names[r] : NULL;
}

const char *
perm_entity_name(enum perm_entity e)
{
	return entity_valid(e) ? perm_entity_names[e] : NULL;
}

const char *
perm_action_name(enum perm_action act)
{
	return action_valid(act) ? perm_action_names[act] : NULL;
}

const char *
perm_scope_name(enum perm_scope s)
{
	return s > PERM_SCOPE_NONE && s < PERM_SCOPE_COUNT ? perm_scope_names[s]
							   : NULL;
}

/* Index of s in names[1..n-1]; 0 when absent. */
static int
name_index(const char *const *names, int n, const char *s)
{
	int i;

	if (s == NULL)
		return 0;
	for (i = 1; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return 0;
}

int
perm_role_from_name(const char *s, enum perm_role *out)
{
	int i = name_index(perm_role_names, PERM_ROLE_COUNT, s);

	if (i == 0 || out == NULL)
		return EST_E_INVAL;
	*out = (enum perm_role)i;
	return 0;
}

int
perm_entity_from_name(const char *s, enum perm_entity *out)
{
	int i = name_index(perm_entity_names, PERM_ENT_COUNT, s);

	if (i == 0 || out == NULL)
		return EST_E_INVAL;
	*out = (enum perm_entity)i;
	return 0;
}

int
perm_action_from_name(const char *s, enum perm_action *out)
{
	int i = name_index(perm_action_names, PERM_ACT_COUNT, s);

	if (i == 0 || out == NULL)
		return EST_E_INVAL;
	*out = (enum perm_action)i;
	return 0;
}

int
perm_scope_from_name(const char *s, enum perm_scope *out)
{
	int i = name_index(perm_scope_names, PERM_SCOPE_COUNT, s);

	if (i == 0 || out == NULL)
		return EST_E_INVAL;
	*out = (enum perm_scope)i;
	return 0;
}

/* The words of docs/permissions.md's legend for one cell of the matrix. */
static const char *
cell_text(enum perm_rule rule, enum perm_entity e, enum perm_action act)
{
	int shared =
		perm_entity_shareable(e) && (SHARED_ACTIONS & (1u << act)) != 0;

	switch (rule) {
	case RULE_ALL:
		return "all";
	case RULE_TENANT:
		return shared ? "tenant + global" : "tenant";
	case RULE_TORGS:
		return shared ? "tenant's orgs + global" : "tenant's orgs";
	case RULE_ORG:
		return shared ? "org + tenant-wide + global" : "org";
	default:
		return "-";
	}
}

int
perm_dump_markdown(FILE *fp)
{
	int e, act, r;

	for (e = PERM_ENT_NONE + 1; e < PERM_ENT_COUNT; e++) {
		fprintf(fp, "%s### %s%s\n\n| action |",
			e == PERM_ENT_NONE + 1 ? "" : "\n",
			perm_entity_names[e],
			perm_entity_shareable(e) ? " (shareable)" : "");
		for (r = PERM_ROLE_NONE + 1; r < PERM_ROLE_COUNT; r++)
			fprintf(fp, " %s |", perm_role_names[r]);
		fputs("\n|---|", fp);
		for (r = PERM_ROLE_NONE + 1; r < PERM_ROLE_COUNT; r++)
			fputs("---|", fp);
		fputc('\n', fp);
		for (act = PERM_ACT_NONE + 1; act < PERM_ACT_COUNT; act++) {
			if (!perm_action_exists(e, act))
				continue;
			fprintf(fp, "| %s |", perm_action_names[act]);
			for (r = PERM_ROLE_NONE + 1; r < PERM_ROLE_COUNT; r++)
				fprintf(fp, " %s |",
					cell_text(rule_of(r, e, act), e, act));
			fputc('\n', fp);
		}
	}
	if (fflush(fp) != 0 || ferror(fp))
		return EST_E_IO;
	return 0;
}
