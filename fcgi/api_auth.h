/*
 * The /api/v1/auth endpoints of estuary-api (fcgi/api_auth.c):
 *
 *	POST /api/v1/auth/login		public: username and password, then a
 *					session cookie and the CSRF token
 *	POST /api/v1/auth/logout	ends the session (cookie and CSRF)
 *	GET  /api/v1/auth/me		the principal of the request
 *
 * fcgi/auth.h describes sessions, CSRF and throttling.
 */
#ifndef ESTUARY_API_AUTH_H
#define ESTUARY_API_AUTH_H

#include "auth.h"
#include "route.h"

int api_auth_login(struct hctx *c, const struct request *req, struct resp *rs);
int api_auth_logout(struct hctx *c, const struct request *req,
		    const struct principal *p, struct resp *rs);
int api_auth_me(struct hctx *c, const struct request *req,
		const struct principal *p, struct resp *rs);

#endif
