/*
 * The permission table: (role, entity, action) -> rule.  This is the only
 * place Estuary decides who may do what; every REST handler asks
 * perm_check() before it touches an object and perm_list_filter() before it
 * lists, so that a list and a single-object request can never disagree.
 * docs/permissions.md explains the decisions and carries the matrix that
 * perm_dump_markdown() renders from the table (a unit test compares them).
 *
 * Role and scope names are the strings stored in the database (db/dbq.h
 * ROLE_* and SCOPE_*).  Every enum starts at 1 so that a zero-initialised
 * actor or object is refused as invalid instead of being read as an Admin.
 */
#ifndef ESTUARY_PERM_H
#define ESTUARY_PERM_H

#include <stdint.h>
#include <stdio.h>

enum perm_role {
	PERM_ROLE_NONE = 0,
	PERM_ROLE_ADMIN,
	PERM_ROLE_AUDITOR,
	PERM_ROLE_TENANT_ADMIN,
	PERM_ROLE_TENANT_AUDITOR,
	PERM_ROLE_TENANT_OPERATOR,
	PERM_ROLE_ORG_OPERATOR,
	PERM_ROLE_COUNT
};

enum perm_entity {
	PERM_ENT_NONE = 0,
	PERM_ENT_TENANT,
	PERM_ENT_ORGANIZATION,
	PERM_ENT_USER,
	PERM_ENT_API_APPLICATION,
	PERM_ENT_AUDIT_LOG,
	PERM_ENT_REPORT,
	PERM_ENT_CA,
	PERM_ENT_CUSTOM_EXTENSION,
	PERM_ENT_CERT_TEMPLATE,
	PERM_ENT_CERTIFICATE,
	PERM_ENT_BATCH_JOB,
	PERM_ENT_DEVICE_TYPE,
	PERM_ENT_DEVICE,
	PERM_ENT_EXTERNAL_CA,
	PERM_ENT_EST_SERVER,
	PERM_ENT_COUNT
};

/*
 * "read" includes downloading public data (a certificate or a CA chain as
 * PEM, DER or PKCS#7).  "download" is reserved for secrets: a PKCS#12 with a
 * private key, a device's credential file, a batch job's archive, an API
 * application's PFX.  Some of those can be downloaded only once, so a
 * download changes state and no read-only role has it.
 */
enum perm_action {
	PERM_ACT_NONE = 0,
	PERM_ACT_LIST,
	PERM_ACT_READ,
	PERM_ACT_CREATE,
	PERM_ACT_UPDATE,
	PERM_ACT_DELETE,
	PERM_ACT_ACTIVATE,
	PERM_ACT_DEACTIVATE,
	PERM_ACT_ISSUE,
	PERM_ACT_REVOKE,
	PERM_ACT_DOWNLOAD,
	PERM_ACT_CLONE,
	PERM_ACT_VERIFY,
	PERM_ACT_SET_FACTORY_MODE,
	PERM_ACT_DISABLE,
	PERM_ACT_ENABLE,
	PERM_ACT_ROTATE_KEY,
	PERM_ACT_REVOKE_KEY,
	PERM_ACT_CANCEL,
	PERM_ACT_EXPORT,
	PERM_ACT_TEST_CONNECTION,
	PERM_ACT_COUNT
};

/* Accessibility scope of a shareable entity (CA, template, device type...). */
enum perm_scope {
	PERM_SCOPE_NONE = 0,
	PERM_SCOPE_GLOBAL,
	PERM_SCOPE_TENANT,
	PERM_SCOPE_ORG,
	PERM_SCOPE_COUNT
};

/*
 * Who asks.  Admin and Auditor have tenant_id = org_id = 0; the tenant
 * roles have a tenant and org_id = 0; an Organization Operator has both.
 * Any other combination is refused with EST_E_INVAL.
 */
struct perm_actor {
	enum perm_role role;
	int64_t tenant_id;
	int64_t org_id;
};

/*
 * The object acted on, described by where it lives.  tenant_id and org_id
 * are 0 for "none".  For a tenant, tenant_id is the tenant's own id (org_id
 * 0); for an organization, tenant_id is its tenant and org_id its own id.
 *
 * For a shareable entity (ca, custom_extension, cert_template, device_type,
 * external_ca, est_server) scope must agree with the ids: global has
 * neither, tenant has only tenant_id, organization has both.  For every
 * other entity scope is ignored and the ids alone say where the object
 * lives (an Admin user or a system audit row has neither).
 *
 * For create, the object is the one about to be created; for list and
 * export with an object, it names the part of the system being listed.
 */
struct perm_object {
	int64_t tenant_id;
	int64_t org_id;
	enum perm_scope scope;
};

/*
 * Decides whether actor a may perform act on entity e.  Returns
 *	0		allowed;
 *	EST_E_DENIED	refused, and the actor may know the object exists
 *			(it is in its tenant or organization, or shared
 *			with it) — HTTP 403;
 *	EST_E_NOTFOUND	refused, and the object lies outside what the actor
 *			can see (another tenant, or for an Organization
 *			Operator another organization) — HTTP 404, so that
 *			its existence does not leak;
 *	EST_E_INVAL	bad arguments: an out-of-range enum, an inconsistent
 *			actor or object, or o == NULL for an action that needs
 *			a target.
 * o == NULL asks about the collection: "may this actor list / create /
 * export / issue any of these at all?".  Only the actions for which
 * perm_collection_action() is true accept NULL.  An action that does not
 * exist for the entity (perm_action_exists() is false) is never allowed.
 */
int perm_check(const struct perm_actor *a, enum perm_entity e,
	       enum perm_action act, const struct perm_object *o);

/* 1 when act is an operation of entity e at all, else 0. */
int perm_action_exists(enum perm_entity e, enum perm_action act);

/* 1 when perm_check() accepts o == NULL for (e, act), else 0. */
int perm_collection_action(enum perm_entity e, enum perm_action act);

/* 1 when e carries an accessibility scope, else 0. */
int perm_entity_shareable(enum perm_entity e);

enum perm_filter_kind {
	PERM_FILTER_NONE = 0, /* no row */
	PERM_FILTER_ALL,      /* every row */
	PERM_FILTER_TENANT,   /* rows of tenant_id */
	PERM_FILTER_ORG	      /* rows of tenant_id and org_id */
};

/*
 * Which rows a list query may return.  With shared = 1 (shareable entities
 * only) the query must also return the shared rows the actor can see:
 *	TENANT:	tenant_id = T OR scope = 'global'
 *	ORG:	(tenant_id = T AND org_id = O)
 *		OR (tenant_id = T AND scope = 'tenant') OR scope = 'global'
 * With shared = 0:
 *	TENANT:	tenant_id = T
 *	ORG:	tenant_id = T AND org_id = O
 * For the tenants table "tenant_id" is the row's id; for organizations,
 * "org_id" is the row's id.  A row matches the filter exactly when
 * perm_check(a, e, PERM_ACT_LIST, row) returns 0.
 */
struct perm_filter {
	enum perm_filter_kind kind;
	int64_t tenant_id;
	int64_t org_id;
	int shared;
};

/* Sets *f for listing e as actor a; 0 or EST_E_INVAL. */
int perm_list_filter(const struct perm_actor *a, enum perm_entity e,
		     struct perm_filter *f);

/*
 * May actor a give a user (or an API application) the role r in tenant_id /
 * org_id?  The ids must come from the database rows of the tenant and the
 * organization (the organization's own tenant), since this function cannot
 * check that an organization belongs to a tenant.  Returns 0, EST_E_INVAL
 * for bad arguments, EST_E_UNPROCESSABLE when the role does not fit the
 * ids (an Admin with a tenant, an Organization Operator without an
 * organization...), EST_E_DENIED when a is not allowed to grant that role
 * (only an Admin grants Admin or Auditor) or to create users there, and
 * EST_E_NOTFOUND when the tenant or organization is outside a's view.
 */
int perm_may_assign_role(const struct perm_actor *a, enum perm_role r,
			 int64_t tenant_id, int64_t org_id);

/* Names (the database and API strings); NULL when out of range. */
const char *perm_role_name(enum perm_role r);
const char *perm_entity_name(enum perm_entity e);
const char *perm_action_name(enum perm_action act);
const char *perm_scope_name(enum perm_scope s);

/* Exact, case-sensitive lookups; 0 and *out set, or EST_E_INVAL. */
int perm_role_from_name(const char *s, enum perm_role *out);
int perm_entity_from_name(const char *s, enum perm_entity *out);
int perm_action_from_name(const char *s, enum perm_action *out);
int perm_scope_from_name(const char *s, enum perm_scope *out);

/*
 * Writes the permission matrix as Markdown (the block between the markers
 * in docs/permissions.md).  Returns 0 or EST_E_IO.
 */
int perm_dump_markdown(FILE *fp);

#endif
