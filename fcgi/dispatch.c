#include "config.h"

#include <stddef.h>

#include "ctx.h"
#include "dispatch.h"
#include "err.h"
#include "log.h"
#include "txq.h"

/* Sets the Allow header of a 405 or an OPTIONS answer. */
static int
set_allow(struct resp *rs, unsigned allow)
{
	char list[128];
	int r;

	if ((r = req_method_list(allow, list, sizeof(list))) != 0)
		return r;
	return resp_header(rs, "Allow", list);
}

static int
route_request(const struct app *app, struct hctx *c, struct request *req,
	      req_read_fn rd, void *rdarg, struct resp *rs, int *herr)
{
	struct route_match m;
	unsigned allow = 0;
	int r;

	r = route_match(app->routes, app->nroutes, req->path, req->method, &m,
			&allow);
	if (r == EST_E_NOTFOUND)
		return resp_error(rs, 0, r, "path");
	if (r == EST_E_METHOD) {
		/* OPTIONS on a known path lists what it allows. */
		if (req->method == REQ_M_OPTIONS) {
			if ((r = resp_empty(rs, 204)) != 0)
				return r;
		} else if ((r = resp_error(rs, 0, r, "method")) != 0) {
			return r;
		}
		return set_allow(rs, allow);
	}
	if (r != 0)
		return resp_error(rs, 0, r, NULL);
	if (req_method_has_body(req->method) &&
	    (r = req_read_body(req, rd, rdarg)) != 0)
		return resp_error(rs, 0, r, "body");
	c->match = &m;
	r = m.route->handler(c, req, rs);
	c->match = NULL;
	/* A job is handed on only with the handler's success. */
	if (c->job != NULL && r != 0) {
		c->job->ops->free(c->job);
		c->job = NULL;
	}
	if (r != 0) {
		*herr = r;
		/* The handler's partial response is discarded. */
		return resp_error(rs, 0, r, NULL);
	}
	return 0;
}

int
dispatch(const struct app *app, struct hctx *c, char *const *envp,
	 const struct req_limits *lim, req_read_fn rd, void *rdarg,
	 struct resp *rs, int *herr)
{
	struct request *req = NULL;
	int r;

	*herr = 0;
	if ((r = req_parse(envp, lim, &req)) != 0)
		return resp_error(rs, 0, r, NULL);
	resp_set_head_only(rs, req->method == REQ_M_HEAD);
	if (req->status != 0)
		r = resp_error(rs, req->status, req->err, req->field);
	else
		r = route_request(app, c, req, rd, rdarg, rs, herr);
	/* 501 is the client's unknown method, not a failure of ours. */
	if (c->job != NULL)
		log_debug("%s %s: to the writer", req->method_name, req->path);
	else if (resp_status(rs) >= 500 && resp_status(rs) != 501)
		log_warn("%s %s: %d%s%s", req->method_name,
			 req->path != NULL ? req->path : "-", resp_status(rs),
			 *herr != 0 ? " " : "",
			 *herr != 0 ? est_err_name(*herr) : "");
	else
		log_debug("%s %s: %d", req->method_name,
			  req->path != NULL ? req->path : "-", resp_status(rs));
	req_free(req);
	return r;
}
