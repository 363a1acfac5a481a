/*
 * The EST server endpoints of estuary-api (guide §2.3): api_estsrv.c holds
 * the handlers of the servers themselves, api_estsrv_body.c reads and
 * checks request bodies and writes answers, api_estsrv_label.c the
 * labels, api_estsrv_test.c "test connection".
 *
 *	GET    /api/v1/est-servers			list (filters)
 *	POST   /api/v1/est-servers			create
 *	GET    /api/v1/est-servers/{id}			read
 *	PUT    /api/v1/est-servers/{id}			change (If-Match; PATCH too)
 *	DELETE /api/v1/est-servers/{id}			delete when inactive
 *	POST   /api/v1/est-servers/{id}/activate
 *	POST   /api/v1/est-servers/{id}/deactivate
 *	POST   /api/v1/est-servers/{id}/clone		a copy for another
 *							organization of the
 *							same tenant
 *	POST   /api/v1/est-servers/{id}/test-connection	cacerts against itself
 *	GET    /api/v1/est-servers/{id}/labels		its labels
 *	POST   /api/v1/est-servers/{id}/labels		add one
 *	GET    /api/v1/est-servers/{id}/labels/{label_id}
 *	PUT    /api/v1/est-servers/{id}/labels/{label_id}	rebind (PATCH too)
 *	DELETE /api/v1/est-servers/{id}/labels/{label_id}
 *
 * Admin manages every server, a Tenant Admin those of its tenant, the
 * auditors read them (lib/perm.c); everyone else is refused (403, or 404
 * for what lies outside their view).
 */
#ifndef ESTUARY_API_ESTSRV_H
#define ESTUARY_API_ESTSRV_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "jsonval.h"
#include "perm.h"
#include "route.h"

struct db;
struct estsrv;
struct estsrv_label;
struct json_object;
struct rest_diff;
struct rest_what;

int api_estsrv_r_list(struct hctx *c, const struct request *req,
		      struct resp *rs);
int api_estsrv_r_create(struct hctx *c, const struct request *req,
			struct resp *rs);
int api_estsrv_r_get(struct hctx *c, const struct request *req,
		     struct resp *rs);
int api_estsrv_r_update(struct hctx *c, const struct request *req,
			struct resp *rs);
int api_estsrv_r_delete(struct hctx *c, const struct request *req,
			struct resp *rs);
int api_estsrv_r_activate(struct hctx *c, const struct request *req,
			  struct resp *rs);
int api_estsrv_r_deactivate(struct hctx *c, const struct request *req,
			    struct resp *rs);
int api_estsrv_r_clone(struct hctx *c, const struct request *req,
		       struct resp *rs);
int api_estsrv_r_test(struct hctx *c, const struct request *req,
		      struct resp *rs);
int api_estsrv_r_labels(struct hctx *c, const struct request *req,
			struct resp *rs);
int api_estsrv_r_label_add(struct hctx *c, const struct request *req,
			   struct resp *rs);
int api_estsrv_r_label_get(struct hctx *c, const struct request *req,
			   struct resp *rs);
int api_estsrv_r_label_update(struct hctx *c, const struct request *req,
			      struct resp *rs);
int api_estsrv_r_label_delete(struct hctx *c, const struct request *req,
			      struct resp *rs);

/* The rows of estuary-api's route table (fcgi/api_routes.c). */
#define API_ESTSRV_BASE "/api/v1/est-servers"
#define API_ESTSRV_LABELS API_ESTSRV_BASE "/{id}/labels"
#define API_ESTSRV_ROUTES                                                      \
	{REQ_M_GET, API_ESTSRV_BASE, api_estsrv_r_list},                       \
		{REQ_M_POST, API_ESTSRV_BASE, api_estsrv_r_create},            \
		{REQ_M_GET, API_ESTSRV_BASE "/{id}", api_estsrv_r_get},        \
		{REQ_M_PUT | REQ_M_PATCH, API_ESTSRV_BASE "/{id}",             \
		 api_estsrv_r_update},                                         \
		{REQ_M_DELETE, API_ESTSRV_BASE "/{id}", api_estsrv_r_delete},  \
		{REQ_M_POST, API_ESTSRV_BASE "/{id}/activate",                 \
		 api_estsrv_r_activate},                                       \
		{REQ_M_POST, API_ESTSRV_BASE "/{id}/deactivate",               \
		 api_estsrv_r_deactivate},                                     \
		{REQ_M_POST, API_ESTSRV_BASE "/{id}/clone",                    \
		 api_estsrv_r_clone},                                          \
		{REQ_M_POST, API_ESTSRV_BASE "/{id}/test-connection",          \
		 api_estsrv_r_test},                                           \
		{REQ_M_GET, API_ESTSRV_LABELS, api_estsrv_r_labels},           \
		{REQ_M_POST, API_ESTSRV_LABELS, api_estsrv_r_label_add},       \
		{REQ_M_GET, API_ESTSRV_LABELS "/{label_id}",                   \
		 api_estsrv_r_label_get},                                      \
		{REQ_M_PUT | REQ_M_PATCH, API_ESTSRV_LABELS "/{label_id}",     \
		 api_estsrv_r_label_update},                                   \
	{                                                                      \
		REQ_M_DELETE, API_ESTSRV_LABELS "/{label_id}",                 \
			api_estsrv_r_label_delete                              \
	}

/* --- Shared by the api_estsrv files --- */

/* Request bodies (api_estsrv_body.c). */
extern const struct jsonval_field estsrv_fields[];
extern const size_t estsrv_nfields;
extern const struct jsonval_field estsrv_clone_fields[];
extern const size_t estsrv_clone_nfields;
extern const struct jsonval_field estsrv_label_fields[];
extern const size_t estsrv_label_nfields;

/*
 * Applies the members of body (validated against estsrv_fields or
 * estsrv_clone_fields) to s, all but tenant_id and org_id (the caller
 * places the server): each member sent replaces what s holds, null clears,
 * lists are replaced whole.  The domain is lower-cased; each ip_allow
 * entry is parsed and stored in canonical form.  422 naming the member
 * ("ip_allow[2]") for a value that breaks a rule of its own.
 */
int estsrv_body_apply(struct estsrv *s, struct json_object *body,
		      struct jsonval_error *e);

/*
 * Every rule of a whole server against the database, in the caller's
 * transaction: the organization in the tenant, both active; kind "dps"
 * with an active device type visible to the organization and no
 * templates; kind "cms" with at least one template, exactly one default,
 * each active and visible, and no device type; applications of the
 * tenant (and of the organization when they have one), active; at least
 * one authentication method.  422 naming the member.
 */
int estsrv_validate(struct db *db, const struct estsrv *s,
		    struct jsonval_error *e);

/*
 * A label's target from body (estsrv_label_fields: device_type_id or
 * template_id, exactly one, matching the kind of server s), checked
 * against the database: active and visible to s's organization.
 */
int estsrv_label_target(struct db *db, const struct estsrv *s,
			struct json_object *body, struct estsrv_label *l,
			struct jsonval_error *e);

/* The answers and audit details (api_estsrv_body.c). */
int estsrv_json(const struct estsrv *s, struct json_object **out);
int estsrv_label_json(const struct estsrv_label *l, struct json_object **out);
int estsrv_diff(struct rest_diff *d, const struct estsrv *old,
		const struct estsrv *new_);

/* What an audit row of server s (NULL: none yet) is about. */
void estsrv_what(struct rest_what *w, const char *action,
		 const struct estsrv *s);
/*
 * Reads server id and asks whether p may act on it (rest_perm: a refusal
 * is audited).  404 for a server that does not exist or that p may not
 * know of.  *out (may be NULL) receives the server.
 */
int estsrv_load(struct db *db, const struct principal *p,
		const struct request *req, int64_t id, enum perm_action act,
		const char *action, struct estsrv **out,
		struct jsonval_error *e);
/*
 * Locks server id for a change (FOR UPDATE) and checks If-Match against
 * its ETag (always when need_match, else only when the client sent it).
 */
int estsrv_lock(struct db *db, const struct request *req, int64_t id,
		int need_match, struct estsrv **out, struct jsonval_error *e);
int estsrv_etag(const struct estsrv *s, char *etag);

#endif
