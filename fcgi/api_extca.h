/*
 * The external CA endpoints of estuary-api (guide §2.4): fcgi/api_extca.c
 * registers, lists, reads and changes external CAs, fcgi/api_extca_state.c
 * deletes, activates and deactivates them and verifies them by proof of
 * possession or by hand.  docs/openapi.yaml describes requests and
 * responses; lib/extcert.h the certificate checks.
 *
 *	GET    /api/v1/external-cas			list (filters)
 *	POST   /api/v1/external-cas			register
 *	GET    /api/v1/external-cas/{id}		read, with the PEM
 *	PUT, PATCH /api/v1/external-cas/{id}		name, description
 *	DELETE /api/v1/external-cas/{id}		only when inactive
 *	POST   /api/v1/external-cas/{id}/activate
 *	POST   /api/v1/external-cas/{id}/deactivate
 *	POST   /api/v1/external-cas/{id}/verification-code
 *	POST   /api/v1/external-cas/{id}/verify	proof, or manual
 *
 * Access is the permission table's (entity external_ca): Admin for any
 * tenant; a Tenant Admin registers, changes, verifies and deletes the
 * external CAs of the organizations of its tenant and activates or
 * deactivates any of its tenant's; Auditor and Tenant Auditor read; other
 * roles have no access.  The certificate, tenant and organization of an
 * external CA never change: register another one instead.
 */
#ifndef ESTUARY_API_EXTCA_H
#define ESTUARY_API_EXTCA_H

#include <stdint.h>

#include "auth.h"
#include "perm.h"
#include "rest.h"
#include "route.h"

struct db;
struct db_result;

/* Route handlers: each runs its handler through auth_require(). */
int api_extca_r_list(struct hctx *c, const struct request *req,
		     struct resp *rs);
int api_extca_r_create(struct hctx *c, const struct request *req,
		       struct resp *rs);
int api_extca_r_get(struct hctx *c, const struct request *req, struct resp *rs);
int api_extca_r_update(struct hctx *c, const struct request *req,
		       struct resp *rs);
int api_extca_r_delete(struct hctx *c, const struct request *req,
		       struct resp *rs);
int api_extca_r_activate(struct hctx *c, const struct request *req,
			 struct resp *rs);
int api_extca_r_deactivate(struct hctx *c, const struct request *req,
			   struct resp *rs);
int api_extca_r_code(struct hctx *c, const struct request *req,
		     struct resp *rs);
int api_extca_r_verify(struct hctx *c, const struct request *req,
		       struct resp *rs);

/* The rows of estuary-api's route table (fcgi/api_routes.c). */
#define API_EXTCA_BASE "/api/v1/external-cas"
#define API_EXTCA_ROUTES                                                       \
	{REQ_M_GET, API_EXTCA_BASE, api_extca_r_list},                         \
		{REQ_M_POST, API_EXTCA_BASE, api_extca_r_create},              \
		{REQ_M_GET, API_EXTCA_BASE "/{id}", api_extca_r_get},          \
		{REQ_M_PUT | REQ_M_PATCH, API_EXTCA_BASE "/{id}",              \
		 api_extca_r_update},                                          \
		{REQ_M_DELETE, API_EXTCA_BASE "/{id}", api_extca_r_delete},    \
		{REQ_M_POST, API_EXTCA_BASE "/{id}/activate",                  \
		 api_extca_r_activate},                                        \
		{REQ_M_POST, API_EXTCA_BASE "/{id}/deactivate",                \
		 api_extca_r_deactivate},                                      \
		{REQ_M_POST, API_EXTCA_BASE "/{id}/verification-code",         \
		 api_extca_r_code},                                            \
	{                                                                      \
		REQ_M_POST, API_EXTCA_BASE "/{id}/verify", api_extca_r_verify  \
	}

/* --- Shared by api_extca.c and api_extca_state.c --- */

/* What an audit row about row 0 of res (db/extca.h columns) names. */
void api_extca_what(struct rest_what *w, const char *action,
		    const struct db_result *res);

/*
 * Reads external CA id and asks the permission table whether p may
 * perform act on it (a refusal is audited as action): 404 for one that
 * does not exist or that p may not know of.  With out set, the row is
 * returned there on success; the signature of access in struct
 * rest_entity_ops is api_extca_access().
 */
int api_extca_load(struct db *db, const struct principal *p,
		   const struct request *req, int64_t id, enum perm_action act,
		   const char *action, struct db_result **out,
		   struct jsonval_error *e);
int api_extca_access(struct db *db, const struct principal *p,
		     const struct request *req, int64_t id,
		     enum perm_action act, const char *action,
		     struct jsonval_error *e);

/*
 * Reads external CA id locked for a change (inside the transaction) and
 * checks If-Match against it: always when need_match, else only when the
 * request sends one.
 */
int api_extca_lock(struct db *db, const struct request *req, int64_t id,
		   int need_match, struct db_result **out,
		   struct jsonval_error *e);

/*
 * The row hooks of an external CA (struct rest_entity_ops; a row is a
 * struct db_result): read, ETag, audit names, place, JSON, state.
 */
extern const struct rest_entity_ops api_extca_rows;

/*
 * Answers status (200, or 201 with Location) with external CA id as it
 * is now, its certificate's details and its ETag.
 */
int api_extca_send(struct db *db, int64_t id, int status, struct resp *rs);

#endif
