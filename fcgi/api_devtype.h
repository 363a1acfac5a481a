/*
 * The device-type endpoints of estuary-api (guide §2.1): fcgi/api_devtype.c
 * holds the handlers, api_devtype_body.c reads request bodies,
 * api_devtype_json.c writes answers and audit details, and
 * api_devtype_check.c holds the rules a device type must satisfy before it
 * is written.
 *
 *	GET    /api/v1/device-types			list (filters)
 *	POST   /api/v1/device-types			create
 *	GET    /api/v1/device-types/{id}		read
 *	PUT    /api/v1/device-types/{id}		change (If-Match; PATCH too)
 *	DELETE /api/v1/device-types/{id}		delete when inactive
 *	POST   /api/v1/device-types/{id}/activate
 *	POST   /api/v1/device-types/{id}/deactivate
 *	POST   /api/v1/device-types/{id}/clone		a copy with a new name
 *
 * PUT and PATCH do the same, as for the other entities: the members sent
 * replace the stored ones (a list or the properties object is replaced
 * whole), absent members keep their values, null clears a value that may
 * be empty.  The whole device type that results is validated again.
 */
#ifndef ESTUARY_API_DEVTYPE_H
#define ESTUARY_API_DEVTYPE_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "jsonval.h"
#include "perm.h"
#include "route.h"

struct db;
struct devtype;
struct json_object;
struct rest_diff;

/* Route handlers: each runs its handler through auth_require(). */
int api_devtype_r_list(struct hctx *c, const struct request *req,
		       struct resp *rs);
int api_devtype_r_create(struct hctx *c, const struct request *req,
			 struct resp *rs);
int api_devtype_r_get(struct hctx *c, const struct request *req,
		      struct resp *rs);
int api_devtype_r_update(struct hctx *c, const struct request *req,
			 struct resp *rs);
int api_devtype_r_delete(struct hctx *c, const struct request *req,
			 struct resp *rs);
int api_devtype_r_activate(struct hctx *c, const struct request *req,
			   struct resp *rs);
int api_devtype_r_deactivate(struct hctx *c, const struct request *req,
			     struct resp *rs);
int api_devtype_r_clone(struct hctx *c, const struct request *req,
			struct resp *rs);

/* The rows of estuary-api's route table (fcgi/api_routes.c). */
#define API_DEVTYPE_BASE "/api/v1/device-types"
#define API_DEVTYPE_ROUTES                                                     \
	{REQ_M_GET, API_DEVTYPE_BASE, api_devtype_r_list},                     \
		{REQ_M_POST, API_DEVTYPE_BASE, api_devtype_r_create},          \
		{REQ_M_GET, API_DEVTYPE_BASE "/{id}", api_devtype_r_get},      \
		{REQ_M_PUT | REQ_M_PATCH, API_DEVTYPE_BASE "/{id}",            \
		 api_devtype_r_update},                                        \
		{REQ_M_DELETE, API_DEVTYPE_BASE "/{id}",                       \
		 api_devtype_r_delete},                                        \
		{REQ_M_POST, API_DEVTYPE_BASE "/{id}/activate",                \
		 api_devtype_r_activate},                                      \
		{REQ_M_POST, API_DEVTYPE_BASE "/{id}/deactivate",              \
		 api_devtype_r_deactivate},                                    \
	{                                                                      \
		REQ_M_POST, API_DEVTYPE_BASE "/{id}/clone",                    \
			api_devtype_r_clone                                    \
	}

/* --- Shared by the api_devtype files --- */

/* Bodies (api_devtype_body.c) and answers (api_devtype_json.c). */
extern const struct jsonval_field devtype_fields[];
extern const size_t devtype_nfields;
extern const struct jsonval_field devtype_clone_fields[];
extern const size_t devtype_clone_nfields;

/*
 * Applies the members of body (validated against devtype_fields) but
 * scope, tenant_id and org_id to dt: each member sent replaces what dt
 * holds; null clears; the lists and the properties object are replaced
 * whole.  Changing factory_source drops the factory template or external
 * CA that the new source does not use, unless the body names it too.
 * Refusals are 422 naming the member ("attributes[2].name").
 */
int devtype_body_apply(struct devtype *dt, struct json_object *body,
		       struct jsonval_error *e);
/*
 * The JSON of dt as a GET answers it; with full unset, properties,
 * attributes and mappings are left out (list items).
 */
int devtype_json(const struct devtype *dt, int full, struct json_object **out);
/*
 * The audit details of a change from old to new_ (either NULL for a
 * create or a delete) into d, which the caller set up with
 * rest_diff_init(), rest_diff_create() or rest_diff_delete().  Long
 * values (a list of attributes...) are recorded by their SHA-256 so that
 * an audit row stays small.
 */
int devtype_diff(struct rest_diff *d, const struct devtype *old,
		 const struct devtype *new_);

/* Where a device type lives (api_devtype_check.c). */
struct devtype_place {
	enum perm_scope scope; /* PERM_SCOPE_TENANT or PERM_SCOPE_ORG */
	int64_t tenant_id;     /* 0: taken from the organization */
	int64_t org_id;
};

/*
 * The members scope, tenant_id and org_id over *pl (the stored placement,
 * or zeroed for a new device type): a Tenant Admin's own tenant is the
 * default, an organization sent without a scope means organization
 * access, and tenant access drops the organization.  Only tenant and
 * organization access exist for device types (the guide's
 * "Accessibility"): "global" is refused by the table.
 */
int devtype_place_read(struct json_object *body, const struct principal *p,
		       struct devtype_place *pl, struct jsonval_error *e);
/*
 * Completes *pl from the database: the tenant of the organization when
 * the tenant is 0, and checks that the organization is in the tenant and,
 * with need_active set, that both are active (422 naming the member).
 * The rows are locked until the transaction ends when lock is set.
 */
int devtype_place_check(struct db *db, struct devtype_place *pl,
			int need_active, int lock, struct jsonval_error *e);
void devtype_place_object(const struct devtype_place *pl,
			  struct perm_object *o);
/* Writes pl into dt's scope, tenant_id and org_id. */
int devtype_place_set(struct devtype *dt, const struct devtype_place *pl);

/*
 * Every rule of a whole device type, the database's included (its
 * templates, its external CA, its mapping table against the templates'
 * fields), read in the caller's transaction with the templates and the
 * external CA locked.  422 naming the member that breaks a rule.
 */
int devtype_validate(struct db *db, const struct devtype *dt,
		     struct jsonval_error *e);

#endif
