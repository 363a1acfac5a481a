/*
 * Which EST server a request is for (fcgi/est.h): the request's host
 * (struct request already refused a Host that is not a DNS name or an IP
 * literal, with 400, and lower-cased it without its port), the path's
 * label, db_est_route() (db/estsrv.h: the label's server, else the one
 * active server of the domain), then the client's address against the
 * server's allow list.  The route's children and what hangs off its
 * device type come from the thread's cache (est_cache.c), checked by the
 * versions that the route's one statement reads.
 *
 * A host that no active EST server has is 404 "unknown EST domain": the
 * foundation's est_default_ca, which served cacerts for any host, is gone,
 * because a CA chain handed to a host we do not serve would tell a client
 * to trust a CA that will never enroll it.
 */
#include "config.h"

#include <string.h>

#include "apiapp.h"
#include "auth.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "est.h"
#include "est_body.h"
#include "est_cache.h"
#include "est_resp.h"
#include "estsrv.h"
#include "issue_cache.h"
#include "log.h"
#include "req.h"
#include "route.h"

static const char *
remote_text(const struct request *req)
{
	return req->remote != NULL ? req->remote->text : NULL;
}

int
est_fail_code(struct prov_error *e, int r)
{
	switch (est_err_http_status(r)) {
	case 503:
		return est_fail(e, 503, PROV_R_UNAVAILABLE,
				"service temporarily unavailable");
	case 413:
		return est_fail(e, 413, PROV_R_BAD_REQUEST,
				"request too large");
	default:
		log_err("EST request failed: %s", est_strerror(r));
		return est_fail(e, 500, PROV_R_INTERNAL, "internal error");
	}
}

int
est_call_start(struct est_call *ec, struct hctx *c, const struct request *req,
	       enum prov_channel channel, int enroll, struct prov_error *e)
{
	struct est_route_app key = {NULL, NULL};
	struct issue_cache *ic = NULL;
	const char *label = NULL;
	struct est_route *rt = NULL;
	int r;

	memset(ec, 0, sizeof(*ec));
	ec->c = c;
	ec->req = req;
	ec->enroll = enroll;
	ec->scope.channel = channel;
	ec->scope.source_addr = remote_text(req);
	ec->scope.domain = req->host != NULL ? req->host : "";
	if (c->match != NULL)
		label = route_cap(c->match, "label");
	/* The router checked its syntax; this keeps the record honest. */
	if (label != NULL && !est_label_valid(label))
		return est_fail(e, 404, PROV_R_UNKNOWN_TYPE,
				"unknown EST label");
	ec->scope.label = label;
	if ((r = ctx_db(c, &ec->db)) != 0)
		return est_fail_code(e, r);
	if ((ec->cache = est_cache_get()) == NULL)
		return est_fail_code(e, EST_E_NOMEM);
	if (req->host == NULL || req->host_is_ip)
		return est_fail(e, 404, PROV_R_UNKNOWN_TYPE,
				"unknown EST domain");
	/* A certificate is tried first (est_auth.c): its application. */
	if (auth_cert_usable(req)) {
		key.cert_fp = req->client_fp;
		ec->app_by = EST_APP_BY_CERT;
	} else if (req->auth_user != NULL && apiapp_id_valid(req->auth_user)) {
		key.app_id = req->auth_user;
		ec->app_by = EST_APP_BY_ID;
	}
	r = est_cache_route(ec->cache, ec->db, req->host, label, &key, &rt,
			    &ec->stamp, &ec->app);
	if (r != 0)
		ec->app_by = EST_APP_NONE;
	if (r == EST_E_NOTFOUND)
		return est_fail(e, 404, PROV_R_UNKNOWN_TYPE,
				label != NULL ? "unknown EST label"
					      : "unknown EST domain");
	if (r == EST_E_CONFLICT)
		return est_fail(e, 404, PROV_R_UNKNOWN_TYPE,
				"ambiguous EST domain, use a label");
	if (r != 0)
		return est_fail_code(e, r);
	ec->route = rt;
	ec->scope.server_id = rt->server_id;
	ec->scope.tenant_id = rt->tenant_id;
	ec->scope.org_id = rt->org_id;
	ec->scope.device_type_id = rt->device_type_id;
	/* The default template's stamp came with the route: no re-read. */
	if (ec->stamp.tmpl_id != 0) {
		if ((r = est_icache(ec, &ic)) != 0)
			return est_fail_code(e, r);
		issue_cache_prime(ic, ec->stamp.tmpl_id, &ec->stamp.tmpl);
	}
	if (!est_route_ip_allowed(
		    rt, remote_text(req) != NULL ? remote_text(req) : ""))
		return est_fail(e, 403, PROV_R_WRONG_TYPE,
				"client address not allowed");
	return 0;
}

int
est_route_devtype(struct est_call *ec, const struct devtype **out)
{
	return est_cache_devtype(ec->cache, ec->db, ec->route->device_type_id,
				 &ec->stamp, out);
}

int
est_icache(struct est_call *ec, struct issue_cache **out)
{
	struct hctx *c = ec->c;

	if (c->icache == NULL) {
		if ((c->icache = issue_cache_new()) == NULL)
			return EST_E_NOMEM;
		c->icache_free = issue_cache_free;
	}
	*out = c->icache;
	return 0;
}

void
est_call_clear(struct est_call *ec)
{
	est_route_free(ec->route);
	ec->route = NULL;
	db_apiapp_free(ec->app);
	ec->app = NULL;
	ec->app_by = EST_APP_NONE;
	/* A stamp not taken is this request's only. */
	if (ec->c != NULL)
		issue_cache_prime(ec->c->icache, 0, NULL);
}

int
est_refuse(struct est_call *ec, struct resp *rs, enum prov_method m,
	   int64_t device_id, const struct prov_error *e)
{
	int r;

	if (ec->enroll && ec->db != NULL && e->status != 503) {
		r = prov_record_refusal(ec->db, &ec->scope, m, device_id, e);
		if (r != 0) {
			/*
			 * Every refusal is recorded, so one that cannot be
			 * is not answered as if it had been.
			 */
			ctx_after_error(ec->c, r);
			if (est_err_http_status(r) == 503) {
				struct prov_error e2;

				est_fail_code(&e2, r);
				return est_resp_error(rs, &e2);
			}
		}
	}
	return est_resp_error(rs, e);
}
