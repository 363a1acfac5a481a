/*
 * estuary-api: the REST API under /api/v1.  Its routes and their handlers
 * are in libestapi.a (fcgi/api_routes.c names them all); this file is the
 * program around them.
 */
#include "config.h"

#include "api_routes.h"
#include "auth.h"
#include "daemon.h"
#include "dispatch.h"
#include "resp.h"

int
main(int argc, char **argv)
{
	/* Built here because api_nroutes is not a constant expression. */
	const struct app api_app = {
		.name = "estuary-api",
		.socket_key = "api_socket",
		.kind = RESP_API,
		.routes = api_routes,
		.nroutes = api_nroutes,
		.init = auth_init,
		.fini = auth_fini,
	};

	return daemon_main(&api_app, argc, argv);
}
