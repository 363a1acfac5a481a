/*
 * The custom-extension and certificate-template endpoints of estuary-api
 * (fcgi/api_ext.c, api_template.c, api_template_body.c).
 * docs/openapi.yaml describes requests and responses.
 *
 *	GET, POST		/api/v1/custom-extensions
 *	GET, PUT, PATCH, DELETE	/api/v1/custom-extensions/{id}
 *	POST			/api/v1/custom-extensions/{id}/activate,
 *				/deactivate
 *	(the same for /api/v1/cert-templates)
 *
 * As for the administration endpoints: PUT and PATCH do the same (the
 * members sent replace the stored ones, absent members keep theirs, a
 * template's field lists are replaced whole), changes and deletes need
 * If-Match with the object's ETag, activate and deactivate check it only
 * when it is sent.
 */
#ifndef ESTUARY_API_PKI_H
#define ESTUARY_API_PKI_H

#include "auth.h"
#include "route.h"

/*
 * The route handlers (AUTH_ROUTE_PUBLIC, fcgi/auth.h); the auth_fn each
 * runs is static in its file, so that no handler reaches the route table
 * without authentication.
 */
#define API_PKI_DECL(name)                                                     \
	int name(struct hctx *c, const struct request *req, struct resp *rs)

API_PKI_DECL(api_ext_list);
API_PKI_DECL(api_ext_create);
API_PKI_DECL(api_ext_get);
API_PKI_DECL(api_ext_update);
API_PKI_DECL(api_ext_delete);
API_PKI_DECL(api_ext_activate);
API_PKI_DECL(api_ext_deactivate);

API_PKI_DECL(api_template_list);
API_PKI_DECL(api_template_create);
API_PKI_DECL(api_template_get);
API_PKI_DECL(api_template_update);
API_PKI_DECL(api_template_delete);
API_PKI_DECL(api_template_activate);
API_PKI_DECL(api_template_deactivate);

#define API_PKI_PUT (REQ_M_PUT | REQ_M_PATCH)

/* The rows of estuary-api's route table (fcgi/api_routes.c). */
#define API_TEMPLATE_ROUTES                                                    \
	{REQ_M_GET, "/api/v1/custom-extensions", api_ext_list},                \
		{REQ_M_POST, "/api/v1/custom-extensions", api_ext_create},     \
		{REQ_M_GET, "/api/v1/custom-extensions/{id}", api_ext_get},    \
		{API_PKI_PUT, "/api/v1/custom-extensions/{id}",                \
		 api_ext_update},                                              \
		{REQ_M_DELETE, "/api/v1/custom-extensions/{id}",               \
		 api_ext_delete},                                              \
		{REQ_M_POST, "/api/v1/custom-extensions/{id}/activate",        \
		 api_ext_activate},                                            \
		{REQ_M_POST, "/api/v1/custom-extensions/{id}/deactivate",      \
		 api_ext_deactivate},                                          \
		{REQ_M_GET, "/api/v1/cert-templates", api_template_list},      \
		{REQ_M_POST, "/api/v1/cert-templates", api_template_create},   \
		{REQ_M_GET, "/api/v1/cert-templates/{id}", api_template_get},  \
		{API_PKI_PUT, "/api/v1/cert-templates/{id}",                   \
		 api_template_update},                                         \
		{REQ_M_DELETE, "/api/v1/cert-templates/{id}",                  \
		 api_template_delete},                                         \
		{REQ_M_POST, "/api/v1/cert-templates/{id}/activate",           \
		 api_template_activate},                                       \
	{                                                                      \
		REQ_M_POST, "/api/v1/cert-templates/{id}/deactivate",          \
			api_template_deactivate                                \
	}

#endif
