/*
 * The API application endpoints of estuary-api (the guide's "API access
 * keys"): fcgi/api_app.c manages applications, fcgi/api_app_state.c their
 * state and keys, fcgi/api_app_cert.c their TLS client certificates.
 *
 *	GET    /api/v1/applications			list (filters)
 *	POST   /api/v1/applications			create: AppID, AppKey
 *	GET    /api/v1/applications/{id}		read
 *	PUT    /api/v1/applications/{id}		change (If-Match)
 *	DELETE /api/v1/applications/{id}		delete (If-Match)
 *	POST   /api/v1/applications/{id}/activate
 *	POST   /api/v1/applications/{id}/deactivate
 *	POST   /api/v1/applications/{id}/rotate		a new AppKey
 *	POST   /api/v1/applications/{id}/revoke		for good
 *	POST   /api/v1/applications/{id}/certificate	issue a certificate
 *	GET    /api/v1/applications/{id}/certificate	its PEM
 *	POST   /api/v1/applications/{id}/certificate/pfx
 *						its PKCS#12, once
 *
 * The AppKey is shown only in the answers of create and rotate, and the
 * private key of the certificate only in the one PKCS#12; neither is ever
 * stored in clear, logged or audited.
 *
 * Rotation has no grace period: the old key stops working when the new
 * one is made.  A client rolls over by rotating and then using the key the
 * answer carries; two valid keys at once would double what a leaked key
 * gives an attacker and what authentication has to check.
 */
#ifndef ESTUARY_API_APP_H
#define ESTUARY_API_APP_H

#include <stdint.h>

#include "auth.h"
#include "perm.h"
#include "rest.h"
#include "route.h"

struct db;
struct db_apiapp_info;
struct json_object;

/* Route handlers: each runs its handler through auth_require(). */
int api_app_r_list(struct hctx *c, const struct request *req, struct resp *rs);
int api_app_r_create(struct hctx *c, const struct request *req,
		     struct resp *rs);
int api_app_r_get(struct hctx *c, const struct request *req, struct resp *rs);
int api_app_r_update(struct hctx *c, const struct request *req,
		     struct resp *rs);
int api_app_r_delete(struct hctx *c, const struct request *req,
		     struct resp *rs);
int api_app_r_activate(struct hctx *c, const struct request *req,
		       struct resp *rs);
int api_app_r_deactivate(struct hctx *c, const struct request *req,
			 struct resp *rs);
int api_app_r_rotate(struct hctx *c, const struct request *req,
		     struct resp *rs);
int api_app_r_revoke(struct hctx *c, const struct request *req,
		     struct resp *rs);
int api_app_r_cert_issue(struct hctx *c, const struct request *req,
			 struct resp *rs);
int api_app_r_cert_get(struct hctx *c, const struct request *req,
		       struct resp *rs);
int api_app_r_cert_pfx(struct hctx *c, const struct request *req,
		       struct resp *rs);

/* The rows of estuary-api's route table (fcgi/api.c). */
#define API_APP_BASE "/api/v1/applications"
#define API_APP_ROUTES                                                         \
	{REQ_M_GET, API_APP_BASE, api_app_r_list},                             \
		{REQ_M_POST, API_APP_BASE, api_app_r_create},                  \
		{REQ_M_GET, API_APP_BASE "/{id}", api_app_r_get},              \
		{REQ_M_PUT, API_APP_BASE "/{id}", api_app_r_update},           \
		{REQ_M_DELETE, API_APP_BASE "/{id}", api_app_r_delete},        \
		{REQ_M_POST, API_APP_BASE "/{id}/activate",                    \
		 api_app_r_activate},                                          \
		{REQ_M_POST, API_APP_BASE "/{id}/deactivate",                  \
		 api_app_r_deactivate},                                        \
		{REQ_M_POST, API_APP_BASE "/{id}/rotate", api_app_r_rotate},   \
		{REQ_M_POST, API_APP_BASE "/{id}/revoke", api_app_r_revoke},   \
		{REQ_M_POST, API_APP_BASE "/{id}/certificate",                 \
		 api_app_r_cert_issue},                                        \
		{REQ_M_GET, API_APP_BASE "/{id}/certificate",                  \
		 api_app_r_cert_get},                                          \
	{                                                                      \
		REQ_M_POST, API_APP_BASE "/{id}/certificate/pfx",              \
			api_app_r_cert_pfx                                     \
	}

/* --- Shared by api_app.c and api_app_cert.c --- */

/* The application as the API shows it. */
int api_app_json(const struct db_apiapp_info *a, struct json_object **out);
/* Its entity tag. */
int api_app_etag(const struct db_apiapp_info *a, char out[REST_ETAG_MAX]);
/* What an audit row about it names. */
void api_app_what(const struct db_apiapp_info *a, const char *action,
		  struct rest_what *w);

/*
 * The application id again, locked until the transaction ends, with the
 * If-Match check against it when ifmatch is set (EST_E_NOTFOUND naming
 * "id" when it was deleted meanwhile).
 */
int api_app_relock(struct db *db, const struct request *req, int64_t id,
		   int ifmatch, struct db_apiapp_info **out,
		   struct jsonval_error *e);
/*
 * Answers status (201 adds Location) with a, its ETag, and key as
 * "app_key" unless NULL.
 */
int api_app_send(struct resp *rs, int status, const struct db_apiapp_info *a,
		 const char *key);
/* The audit details of a change from a to b (both read from the rows). */
int api_app_diff(struct rest_diff *d, const struct db_apiapp_info *a,
		 const struct db_apiapp_info *b);

/*
 * Loads the application of the request's {id} capture and asks the
 * permission table whether p may perform act on it (a refusal is audited
 * as action).  EST_E_NOTFOUND (404) when there is none.
 */
int api_app_load(struct hctx *c, struct db *db, const struct request *req,
		 const struct principal *p, enum perm_action act,
		 const char *action, struct db_apiapp_info **out,
		 struct jsonval_error *e);

#endif
