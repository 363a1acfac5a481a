/*
 * The delegated OCSP responder of a CA in estuary-api (fcgi/api_ocsp.c;
 * pki/ocsp.h says what a responder is).  docs/openapi.yaml describes
 * requests and responses.
 *
 *	GET, POST, DELETE	/api/v1/cas/{id}/ocsp-responder
 *
 * POST makes a new responder (key in the HSM, certificate signed by the
 * CA) and replaces the one the CA had; DELETE goes back to responses
 * signed by the CA itself.  Both are changes of the CA: permission
 * "update" on it, If-Match with the CA's ETag checked when sent, an audit
 * row (set_ocsp_responder, delete_ocsp_responder).  GET needs "read".
 */
#ifndef ESTUARY_API_OCSP_H
#define ESTUARY_API_OCSP_H

#include "route.h"

int api_ocsp_responder_get(struct hctx *c, const struct request *req,
			   struct resp *rs);
int api_ocsp_responder_set(struct hctx *c, const struct request *req,
			   struct resp *rs);
int api_ocsp_responder_delete(struct hctx *c, const struct request *req,
			      struct resp *rs);

/* The rows of estuary-api's route table (fcgi/api_routes.c). */
#define API_OCSP_ROUTES                                                        \
	{REQ_M_GET, "/api/v1/cas/{id}/ocsp-responder",                         \
	 api_ocsp_responder_get},                                              \
		{REQ_M_POST, "/api/v1/cas/{id}/ocsp-responder",                \
		 api_ocsp_responder_set},                                      \
	{                                                                      \
		REQ_M_DELETE, "/api/v1/cas/{id}/ocsp-responder",               \
			api_ocsp_responder_delete                              \
	}

#endif
