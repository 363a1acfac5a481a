/*
 * One FastCGI program: its name, its socket, its error style and its route
 * table; and the dispatcher that turns one request into one response.  The
 * dispatcher does not touch libfcgi, the database or the signer itself, so
 * tests and the fuzz target run it with tables of their own.
 */
#ifndef ESTUARY_DISPATCH_H
#define ESTUARY_DISPATCH_H

#include <stddef.h>

#include "req.h"
#include "resp.h"
#include "route.h"

struct conf;
struct hctx;

struct app {
	const char *name;	/* "estuary-api": logs and usage */
	const char *socket_key; /* estuary.conf key of the socket path */
	enum resp_kind kind;
	const struct route *routes;
	size_t nroutes;
	/* Shared state for every thread (may be NULL). */
	int (*init)(const struct conf *c, void **state);
	void (*fini)(void *state);
};

/*
 * Serves one request: parses envp, answers request errors, routes, reads
 * the body of POST, PUT and PATCH, runs the handler and leaves the response
 * in rs.  *herr receives the handler's error (0 if it succeeded or did not
 * run) so the caller can drop a failed connection.  Returns 0, or
 * EST_E_NOMEM when not even an error response could be built.
 */
int dispatch(const struct app *app, struct hctx *c, char *const *envp,
	     const struct req_limits *lim, req_read_fn rd, void *rdarg,
	     struct resp *rs, int *herr);

#endif
