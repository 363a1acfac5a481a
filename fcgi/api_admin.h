/*
 * The administration endpoints of estuary-api: tenants, organizations and
 * users (fcgi/api_tenant.c, api_org.c, api_user.c, api_user_cred.c).
 * docs/openapi.yaml describes requests and responses.
 *
 *	GET, POST		/api/v1/tenants
 *	GET, PUT, PATCH, DELETE	/api/v1/tenants/{id}
 *	POST			/api/v1/tenants/{id}/activate, /deactivate
 *	(the same for /api/v1/organizations and /api/v1/users)
 *	POST			/api/v1/users/{id}/password
 *	PUT, DELETE		/api/v1/users/{id}/certificate
 *
 * PUT and PATCH of an object do the same: the members sent replace the
 * stored ones, absent members keep their values, null clears a value that
 * may be empty.  Changes and deletes need If-Match with the object's ETag
 * (428 without, 412 when stale); activate, deactivate, password and
 * certificate check If-Match only when it is sent.
 */
#ifndef ESTUARY_API_ADMIN_H
#define ESTUARY_API_ADMIN_H

#include "auth.h"
#include "route.h"

/*
 * The route handlers (AUTH_ROUTE_PUBLIC, fcgi/auth.h): the handlers
 * themselves are static, so that none can reach the route table without
 * authentication.
 */
#define API_ADMIN_DECL(name)                                                   \
	int name(struct hctx *c, const struct request *req, struct resp *rs)

API_ADMIN_DECL(api_tenant_list);
API_ADMIN_DECL(api_tenant_create);
API_ADMIN_DECL(api_tenant_get);
API_ADMIN_DECL(api_tenant_update);
API_ADMIN_DECL(api_tenant_delete);
API_ADMIN_DECL(api_tenant_activate);
API_ADMIN_DECL(api_tenant_deactivate);

API_ADMIN_DECL(api_org_list);
API_ADMIN_DECL(api_org_create);
API_ADMIN_DECL(api_org_get);
API_ADMIN_DECL(api_org_update);
API_ADMIN_DECL(api_org_delete);
API_ADMIN_DECL(api_org_activate);
API_ADMIN_DECL(api_org_deactivate);

API_ADMIN_DECL(api_user_list);
API_ADMIN_DECL(api_user_create);
API_ADMIN_DECL(api_user_get);
API_ADMIN_DECL(api_user_update);
API_ADMIN_DECL(api_user_delete);
API_ADMIN_DECL(api_user_activate);
API_ADMIN_DECL(api_user_deactivate);
API_ADMIN_DECL(api_user_password);
API_ADMIN_DECL(api_user_cert_set);
API_ADMIN_DECL(api_user_cert_delete);

#define API_ADMIN_PUT (REQ_M_PUT | REQ_M_PATCH)

/* The rows of estuary-api's route table (fcgi/api.c). */
#define API_ADMIN_ROUTES                                                       \
	{REQ_M_GET, "/api/v1/tenants", api_tenant_list},                       \
		{REQ_M_POST, "/api/v1/tenants", api_tenant_create},            \
		{REQ_M_GET, "/api/v1/tenants/{id}", api_tenant_get},           \
		{API_ADMIN_PUT, "/api/v1/tenants/{id}", api_tenant_update},    \
		{REQ_M_DELETE, "/api/v1/tenants/{id}", api_tenant_delete},     \
		{REQ_M_POST, "/api/v1/tenants/{id}/activate",                  \
		 api_tenant_activate},                                         \
		{REQ_M_POST, "/api/v1/tenants/{id}/deactivate",                \
		 api_tenant_deactivate},                                       \
		{REQ_M_GET, "/api/v1/organizations", api_org_list},            \
		{REQ_M_POST, "/api/v1/organizations", api_org_create},         \
		{REQ_M_GET, "/api/v1/organizations/{id}", api_org_get},        \
		{API_ADMIN_PUT, "/api/v1/organizations/{id}", api_org_update}, \
		{REQ_M_DELETE, "/api/v1/organizations/{id}", api_org_delete},  \
		{REQ_M_POST, "/api/v1/organizations/{id}/activate",            \
		 api_org_activate},                                            \
		{REQ_M_POST, "/api/v1/organizations/{id}/deactivate",          \
		 api_org_deactivate},                                          \
		{REQ_M_GET, "/api/v1/users", api_user_list},                   \
		{REQ_M_POST, "/api/v1/users", api_user_create},                \
		{REQ_M_GET, "/api/v1/users/{id}", api_user_get},               \
		{API_ADMIN_PUT, "/api/v1/users/{id}", api_user_update},        \
		{REQ_M_DELETE, "/api/v1/users/{id}", api_user_delete},         \
		{REQ_M_POST, "/api/v1/users/{id}/activate",                    \
		 api_user_activate},                                           \
		{REQ_M_POST, "/api/v1/users/{id}/deactivate",                  \
		 api_user_deactivate},                                         \
		{REQ_M_POST, "/api/v1/users/{id}/password",                    \
		 api_user_password},                                           \
		{REQ_M_PUT, "/api/v1/users/{id}/certificate",                  \
		 api_user_cert_set},                                           \
	{                                                                      \
		REQ_M_DELETE, "/api/v1/users/{id}/certificate",                \
			api_user_cert_delete                                   \
	}

#endif
