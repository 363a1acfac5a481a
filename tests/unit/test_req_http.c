/*
 * Media types, the router, responses and the dispatcher of the FastCGI
 * programs, run with route tables of the tests' own (no database, no
 * signer).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <json-c/json.h>

#include "buf.h"
#include "ctx.h"
#include "dispatch.h"
#include "err.h"
#include "harness.h"
#include "mtype.h"
#include "req.h"
#include "resp.h"
#include "route.h"
#include "test_req.h"

/* --- media types --- */

static void
test_mtype_exact(void)
{
	struct mtype *mt = NULL;

	CU_ASSERT_EQUAL_FATAL(mtype_parse("application/pkcs10", &mt), 0);
	CU_ASSERT_TRUE(mtype_is(mt, "application/pkcs10"));
	CU_ASSERT_FALSE(mtype_is(mt, "application/pkcs1"));
	CU_ASSERT_FALSE(mtype_is(mt, "application/pkcs10x"));
	CU_ASSERT_FALSE(mtype_is(mt, "application"));
	CU_ASSERT_FALSE(mtype_is(mt, "app/pkcs10"));
	CU_ASSERT_EQUAL(mt->nparams, 0);
	mtype_free(mt);
	/* Type and subtype are case-insensitive (RFC 9110 8.3.1). */
	CU_ASSERT_EQUAL_FATAL(mtype_parse("Application/PKCS10", &mt), 0);
	CU_ASSERT_TRUE(mtype_is(mt, "application/pkcs10"));
	CU_ASSERT_STRING_EQUAL(mt->type, "application");
	mtype_free(mt);
	/* A longer subtype is another type, not a match by prefix. */
	CU_ASSERT_EQUAL_FATAL(mtype_parse("application/pkcs10x", &mt), 0);
	CU_ASSERT_FALSE(mtype_is(mt, "application/pkcs10"));
	mtype_free(mt);
	CU_ASSERT_EQUAL_FATAL(mtype_parse("application/pkcs10-bad", &mt), 0);
	CU_ASSERT_FALSE(mtype_is(mt, "application/pkcs10"));
	mtype_free(mt);
	CU_ASSERT_EQUAL_FATAL(mtype_parse("application/pkcs1", &mt), 0);
	CU_ASSERT_FALSE(mtype_is(mt, "application/pkcs10"));
	mtype_free(mt);
}

static void
test_mtype_params(void)
{
	struct mtype *mt = NULL;

	CU_ASSERT_EQUAL_FATAL(
		mtype_parse("application/pkcs7-mime; smime-type=certs-only",
			    &mt),
		0);
	CU_ASSERT_TRUE(mtype_is(mt, "application/pkcs7-mime"));
	CU_ASSERT_STRING_EQUAL(mtype_param(mt, "smime-type"), "certs-only");
	CU_ASSERT_STRING_EQUAL(mtype_param(mt, "SMIME-Type"), "certs-only");
	mtype_free(mt);
	CU_ASSERT_EQUAL_FATAL(
		mtype_parse("text/plain ;Charset=UTF-8;  x=\"a;b\\\"c\" ;",
			    &mt),
		0);
	CU_ASSERT_TRUE(mtype_is(mt, "text/plain"));
	CU_ASSERT_EQUAL(mt->nparams, 2);
	CU_ASSERT_STRING_EQUAL(mtype_param(mt, "charset"), "UTF-8");
	CU_ASSERT_STRING_EQUAL(mtype_param(mt, "x"), "a;b\"c");
	CU_ASSERT_PTR_NULL(mtype_param(mt, "y"));
	mtype_free(mt);
}

static void
test_mtype_bad(void)
{
	static const char *const bad[] = {
		"application",
		"application/",
		"/pkcs10",
		"application/pkcs10,text/plain",
		"application/pkcs10\r\nX: y",
		"application/pkcs10 x",
		"application/pkcs10;a",
		"application/pkcs10;a=",
		"application/pkcs10;a=b;A=c", /* repeated parameter */
		"application/pkcs10;a=\"unterminated",
		"application/pkcs10;a=\"bad\x01\"",
		"application /pkcs10",
		"appli(cation/pkcs10",
		"application/pkcs10;a=b;c=d;e=f;g=h;i=j;k=l;m=n;o=p;q=r",
		"",
	};
	struct mtype *mt = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(mtype_parse(bad[i], &mt), EST_E_INVAL);
		CU_ASSERT_PTR_NULL(mt);
	}
	/* Through the request: an invalid Content-Type is a 400. */
	CU_ASSERT_EQUAL(status_with("GET", "CONTENT_TYPE=text/"), 400);
}

static void
test_mtype_request(void)
{
	struct request *req;

	req = parse3("POST", "/x", "CONTENT_LENGTH=0",
		     "CONTENT_TYPE=application/pkcs10");
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_TRUE(mtype_is(req->content_type, "application/pkcs10"));
	req_free(req);
	req = parse3("POST", "/x", "CONTENT_LENGTH=0", NULL);
	CU_ASSERT_PTR_NULL(req->content_type);
	CU_ASSERT_FALSE(mtype_is(req->content_type, "application/pkcs10"));
	req_free(req);
}

/* --- router --- */

static int
h_dummy(struct hctx *c, const struct request *req, struct resp *rs)
{
	(void)c;
	(void)req;
	return resp_body(rs, 200, "text/plain", "ok\n", 3);
}

static const struct route test_routes[] = {
	{REQ_M_GET, "/api/v1/health", h_dummy},
	{REQ_M_GET | REQ_M_POST, "/api/v1/tenants", h_dummy},
	{REQ_M_GET | REQ_M_PUT | REQ_M_DELETE, "/api/v1/tenants/{id}", h_dummy},
	{REQ_M_GET, "/api/v1/tenants/{id}/orgs/{label}", h_dummy},
	{REQ_M_GET, "/.well-known/est/cacerts", h_dummy},
	{REQ_M_POST, "/.well-known/est/simpleenroll", h_dummy},
	{REQ_M_GET, "/.well-known/est/{label}/cacerts", h_dummy},
	{REQ_M_POST, "/.well-known/est/{label}/simpleenroll", h_dummy},
};
#define NTEST_ROUTES (sizeof(test_routes) / sizeof(test_routes[0]))

static int
match(const char *path, unsigned method, struct route_match *m, unsigned *allow)
{
	return route_match(test_routes, NTEST_ROUTES, path, method, m, allow);
}

static void
test_route_match(void)
{
	struct route_match m;
	unsigned allow = 0;

	CU_ASSERT_EQUAL(match("/api/v1/health", REQ_M_GET, &m, &allow), 0);
	CU_ASSERT_PTR_EQUAL(m.route, &test_routes[0]);
	CU_ASSERT_EQUAL(m.ncaps, 0);
	CU_ASSERT_EQUAL(match("/api/v1/tenants/42", REQ_M_PUT, &m, &allow), 0);
	CU_ASSERT_PTR_EQUAL(m.route, &test_routes[2]);
	CU_ASSERT_STRING_EQUAL(route_cap(&m, "id"), "42");
	CU_ASSERT_PTR_NULL(route_cap(&m, "label"));
	CU_ASSERT_EQUAL(
		match("/api/v1/tenants/7/orgs/abc123", REQ_M_GET, &m, &allow),
		0);
	CU_ASSERT_STRING_EQUAL(route_cap(&m, "id"), "7");
	CU_ASSERT_STRING_EQUAL(route_cap(&m, "label"), "abc123");
	CU_ASSERT_EQUAL(
		match("/.well-known/est/ext/cacerts", REQ_M_GET, &m, &allow),
		0);
	CU_ASSERT_PTR_EQUAL(m.route, &test_routes[6]);
	CU_ASSERT_STRING_EQUAL(route_cap(&m, "label"), "ext");
	/* The literal route comes first. */
	CU_ASSERT_EQUAL(
		match("/.well-known/est/cacerts", REQ_M_GET, &m, &allow), 0);
	CU_ASSERT_PTR_EQUAL(m.route, &test_routes[4]);
}

static void
test_route_404(void)
{
	static const char *const miss[] = {
		"/api/v1/healthz",
		"/api/v1/health/",
		"/api/v1/health/x",
		"/api/v1/healt",
		"/api/v1",
		"/api/v1/",
		"/",
		"/API/v1/health",
		"/api/v1//health",
		"/api/v1/tenants/0",   /* ids start at 1 */
		"/api/v1/tenants/012", /* one spelling per id */
		"/api/v1/tenants/-1",
		"/api/v1/tenants/1x",
		"/api/v1/tenants/1234567890123456789",
		"/api/v1/tenants/",
		"/.well-known/est/ab/cacerts", /* label too short */
		"/.well-known/est/abcdefghijklmnopqrstuvwxy/cacerts",
		"/.well-known/est/Abc/cacerts", /* upper case */
		"/.well-known/est/ab-c/cacerts",
		"/.well-known/est/abc/cacerts/x",
		"/.well-known/est//cacerts",
	};
	struct route_match m;
	unsigned allow = 0;
	size_t i;

	for (i = 0; i < sizeof(miss) / sizeof(miss[0]); i++) {
		CU_ASSERT_EQUAL(match(miss[i], REQ_M_GET, &m, &allow),
				EST_E_NOTFOUND);
		if (match(miss[i], REQ_M_GET, &m, &allow) != EST_E_NOTFOUND)
			fprintf(stderr, "matched: %s\n", miss[i]);
	}
	/* 24 characters is the longest label. */
	CU_ASSERT_EQUAL(
		match("/.well-known/est/abcdefghijklmnopqrstuvwx/cacerts",
		      REQ_M_GET, &m, &allow),
		0);
}

static void
test_route_405(void)
{
	struct route_match m;
	unsigned allow = 0;

	CU_ASSERT_EQUAL(match("/api/v1/health", REQ_M_POST, &m, &allow),
			EST_E_METHOD);
	CU_ASSERT_EQUAL(allow, REQ_M_GET | REQ_M_HEAD | REQ_M_OPTIONS);
	CU_ASSERT_EQUAL(
		match("/.well-known/est/simpleenroll", REQ_M_GET, &m, &allow),
		EST_E_METHOD);
	CU_ASSERT_EQUAL(allow, REQ_M_POST | REQ_M_OPTIONS);
	CU_ASSERT_EQUAL(match("/api/v1/tenants/5", REQ_M_PATCH, &m, &allow),
			EST_E_METHOD);
	CU_ASSERT_EQUAL(allow, REQ_M_GET | REQ_M_HEAD | REQ_M_PUT |
				       REQ_M_DELETE | REQ_M_OPTIONS);
	/* TRACE and CONNECT parse as method 0: allowed nowhere. */
	CU_ASSERT_EQUAL(match("/api/v1/health", 0, &m, &allow), EST_E_METHOD);
}

static void
test_route_head(void)
{
	struct route_match m;
	unsigned allow = 0;

	CU_ASSERT_EQUAL(match("/api/v1/health", REQ_M_HEAD, &m, &allow), 0);
	CU_ASSERT_PTR_EQUAL(m.route, &test_routes[0]);
	CU_ASSERT_EQUAL(
		match("/.well-known/est/simpleenroll", REQ_M_HEAD, &m, &allow),
		EST_E_METHOD);
}

static void
test_route_check(void)
{
	struct route bad[] = {{REQ_M_GET, "/x", h_dummy}};

	CU_ASSERT_EQUAL(route_table_check(test_routes, NTEST_ROUTES), 0);
	bad[0].pattern = "/x/{nosuch}";
	CU_ASSERT_EQUAL(route_table_check(bad, 1), EST_E_CONFIG);
	bad[0].pattern = "x";
	CU_ASSERT_EQUAL(route_table_check(bad, 1), EST_E_CONFIG);
	bad[0].pattern = "/x/";
	CU_ASSERT_EQUAL(route_table_check(bad, 1), EST_E_CONFIG);
	bad[0].pattern = "/x/{id";
	CU_ASSERT_EQUAL(route_table_check(bad, 1), EST_E_CONFIG);
	bad[0].pattern = "/x";
	bad[0].methods = 0;
	CU_ASSERT_EQUAL(route_table_check(bad, 1), EST_E_CONFIG);
	bad[0].methods = REQ_M_GET;
	bad[0].handler = NULL;
	CU_ASSERT_EQUAL(route_table_check(bad, 1), EST_E_CONFIG);
}

/* --- responses and the dispatcher --- */

static int
buf_writer(void *arg, const void *p, size_t len)
{
	return buf_put(arg, p, len);
}

/* The response as written, NUL-terminated (the caller frees). */
static char *
written(const struct resp *rs)
{
	struct buf *b = buf_new(0);
	char *s;

	CU_ASSERT_FATAL(resp_write(rs, buf_writer, b) == 0);
	s = strndup((const char *)buf_ptr(b), buf_len(b));
	buf_free(b);
	return s;
}

static int
h_echo(struct hctx *c, const struct request *req, struct resp *rs)
{
	(void)c;
	if (!mtype_is(req->content_type, "application/pkcs10"))
		return EST_E_MEDIATYPE;
	return resp_body(rs, 200, "application/octet-stream", req->body,
			 req->bodylen);
}

static int
h_down(struct hctx *c, const struct request *req, struct resp *rs)
{
	(void)c;
	(void)req;
	/* A half-built response must not leak out. */
	resp_body(rs, 200, "text/plain", "secret\n", 7);
	return EST_E_DB;
}

static int
h_cap(struct hctx *c, const struct request *req, struct resp *rs)
{
	const char *id = route_cap(c->match, "id");

	(void)req;
	return resp_body(rs, 200, "text/plain", id, strlen(id));
}

static const struct route disp_routes[] = {
	{REQ_M_GET, "/api/v1/health", h_dummy},
	{REQ_M_POST, "/api/v1/echo", h_echo},
	{REQ_M_GET, "/api/v1/down", h_down},
	{REQ_M_GET, "/api/v1/things/{id}", h_cap},
};

static const struct app api_app = {
	.name = "test-api",
	.socket_key = "api_socket",
	.kind = RESP_API,
	.routes = disp_routes,
	.nroutes = sizeof(disp_routes) / sizeof(disp_routes[0]),
};

static const struct app est_app = {
	.name = "test-est",
	.socket_key = "est_socket",
	.kind = RESP_EST,
	.routes = disp_routes,
	.nroutes = sizeof(disp_routes) / sizeof(disp_routes[0]),
};

/* Runs one request through the dispatcher; returns the response. */
static struct resp *
run(const struct app *app, char **env, const char *body, int *herr)
{
	struct req_limits lim = {.max_body = MAX_BODY};
	struct membody mb = {body, body ? strlen(body) : 0, 0, 0};
	struct hctx ctx = {0};
	struct resp *rs = resp_new(app->kind);
	int h = 0, r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	r = dispatch(app, &ctx, env, &lim, mem_read, &mb, rs, &h);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	if (herr != NULL)
		*herr = h;
	return rs;
}

/* The "code" of a JSON error body, or NULL (the caller frees). */
static char *
error_code(const struct resp *rs)
{
	struct json_object *o, *e, *code;
	const uint8_t *body;
	char *s = NULL;
	size_t len;

	body = resp_get_body(rs, &len);
	if (body == NULL ||
	    (o = json_tokener_parse((const char *)body)) == NULL)
		return NULL;
	if (json_object_object_get_ex(o, "error", &e) &&
	    json_object_object_get_ex(e, "code", &code))
		s = strdup(json_object_get_string(code));
	json_object_put(o);
	return s;
}

static void
test_dispatch_ok(void)
{
	char *env[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/api/v1/health",
		       "HTTP_HOST=localhost", NULL};
	struct resp *rs = run(&api_app, env, NULL, NULL);
	char *out;

	CU_ASSERT_EQUAL(resp_status(rs), 200);
	out = written(rs);
	CU_ASSERT_STRING_EQUAL(out,
			       "Status: 200 OK\r\n"
			       "Content-Type: text/plain\r\n"
			       "Content-Length: 3\r\n"
			       "X-Content-Type-Options: nosniff\r\n"
			       "Cache-Control: no-store\r\n"
			       "Content-Security-Policy: default-src 'none'; "
			       "frame-ancestors 'none'\r\n"
			       "\r\n"
			       "ok\n");
	free(out);
	resp_free(rs);
	/* Captures reach the handler. */
	env[1] = "REQUEST_URI=/api/v1/things/99";
	rs = run(&api_app, env, NULL, NULL);
	CU_ASSERT_EQUAL(resp_status(rs), 200);
	CU_ASSERT_NSTRING_EQUAL(resp_get_body(rs, &(size_t){0}), "99", 2);
	resp_free(rs);
}

static void
test_dispatch_errors(void)
{
	char *env[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/nowhere", NULL};
	struct resp *rs;
	char *code, *out;

	rs = run(&api_app, env, NULL, NULL);
	CU_ASSERT_EQUAL(resp_status(rs), 404);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "Content-Type"),
			       "application/json");
	code = error_code(rs);
	CU_ASSERT_STRING_EQUAL(code, "NOTFOUND");
	free(code);
	resp_free(rs);
	/* 405 names what is allowed. */
	env[0] = "REQUEST_METHOD=DELETE";
	env[1] = "REQUEST_URI=/api/v1/health";
	rs = run(&api_app, env, NULL, NULL);
	CU_ASSERT_EQUAL(resp_status(rs), 405);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "Allow"),
			       "GET, HEAD, OPTIONS");
	resp_free(rs);
	/* Unknown method: 501 with its own code. */
	env[0] = "REQUEST_METHOD=BREW";
	rs = run(&api_app, env, NULL, NULL);
	CU_ASSERT_EQUAL(resp_status(rs), 501);
	code = error_code(rs);
	CU_ASSERT_STRING_EQUAL(code, "NOT_IMPLEMENTED");
	free(code);
	resp_free(rs);
	/* A handler's failure replaces whatever it had started. */
	env[0] = "REQUEST_METHOD=GET";
	env[1] = "REQUEST_URI=/api/v1/down";
	rs = run(&api_app, env, NULL, NULL);
	CU_ASSERT_EQUAL(resp_status(rs), 503);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "Retry-After"),
			       RESP_RETRY_AFTER);
	out = written(rs);
	CU_ASSERT_PTR_NULL(strstr(out, "secret"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"code\":\"DB\""));
	free(out);
	resp_free(rs);
}

static void
test_dispatch_body(void)
{
	char *env[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/v1/echo",
		       "CONTENT_TYPE=application/pkcs10", "CONTENT_LENGTH=4",
		       NULL};
	struct resp *rs;
	const uint8_t *body;
	size_t len;
	char *code;

	rs = run(&api_app, env, "MIIBextra", NULL);
	CU_ASSERT_EQUAL(resp_status(rs), 200);
	body = resp_get_body(rs, &len);
	CU_ASSERT_EQUAL(len, 4);
	CU_ASSERT_NSTRING_EQUAL(body, "MIIB", 4);
	resp_free(rs);
	/* A body shorter than announced. */
	rs = run(&api_app, env, "MI", NULL);
	CU_ASSERT_EQUAL(resp_status(rs), 400);
	resp_free(rs);
	/* Wrong media type, through the handler. */
	env[2] = "CONTENT_TYPE=application/pkcs10x";
	rs = run(&api_app, env, "MIIB", NULL);
	CU_ASSERT_EQUAL(resp_status(rs), 415);
	resp_free(rs);
	/* Over the cap: refused before reading. */
	env[2] = "CONTENT_TYPE=application/pkcs10";
	env[3] = "CONTENT_LENGTH=1000";
	rs = run(&api_app, env, "MIIB", NULL);
	CU_ASSERT_EQUAL(resp_status(rs), 413);
	code = error_code(rs);
	CU_ASSERT_STRING_EQUAL(code, "TOOBIG");
	free(code);
	resp_free(rs);
	/* No length at all. */
	env[3] = NULL;
	rs = run(&api_app, env, "MIIB", NULL);
	CU_ASSERT_EQUAL(resp_status(rs), 411);
	code = error_code(rs);
	CU_ASSERT_STRING_EQUAL(code, "LENGTH_REQUIRED");
	free(code);
	resp_free(rs);
}

static void
test_dispatch_head_options(void)
{
	char *env[] = {"REQUEST_METHOD=HEAD", "REQUEST_URI=/api/v1/health",
		       NULL};
	struct resp *rs;
	char *out;

	rs = run(&api_app, env, NULL, NULL);
	CU_ASSERT_EQUAL(resp_status(rs), 200);
	out = written(rs);
	/* The GET's length, but no body. */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Content-Length: 3\r\n"));
	CU_ASSERT_EQUAL(strcmp(out + strlen(out) - 4, "\r\n\r\n"), 0);
	free(out);
	resp_free(rs);
	env[0] = "REQUEST_METHOD=OPTIONS";
	rs = run(&api_app, env, NULL, NULL);
	CU_ASSERT_EQUAL(resp_status(rs), 204);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "Allow"),
			       "GET, HEAD, OPTIONS");
	out = written(rs);
	CU_ASSERT_PTR_NULL(strstr(out, "Content-Length"));
	free(out);
	resp_free(rs);
}

static void
test_dispatch_est(void)
{
	char *env[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/api/v1/down", NULL,
		       NULL};
	const uint8_t *body;
	struct resp *rs;
	size_t len;
	char *out;
	int herr = 0;

	rs = run(&est_app, env, NULL, &herr);
	CU_ASSERT_EQUAL(herr, EST_E_DB);
	CU_ASSERT_EQUAL(resp_status(rs), 503);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "Content-Type"),
			       "text/plain");
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "Retry-After"),
			       RESP_RETRY_AFTER);
	body = resp_get_body(rs, &len);
	/* One line. */
	CU_ASSERT_PTR_NOT_NULL(memchr(body, '\n', len));
	CU_ASSERT_PTR_EQUAL(memchr(body, '\n', len), body + len - 1);
	out = written(rs);
	CU_ASSERT_PTR_NULL(strstr(out, "Cache-Control"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "X-Content-Type-Options: nosniff"));
	free(out);
	resp_free(rs);
	/* A header injection attempt through Host never reaches a handler. */
	env[1] = "REQUEST_URI=/api/v1/health";
	env[2] = "HTTP_HOST=est01.example.com\r\nSet-Cookie: x=1";
	rs = run(&est_app, env, NULL, &herr);
	CU_ASSERT_EQUAL(resp_status(rs), 400);
	out = written(rs);
	CU_ASSERT_PTR_NULL(strstr(out, "Set-Cookie"));
	free(out);
	resp_free(rs);
}

static void
test_resp_headers(void)
{
	struct resp *rs = resp_new(RESP_API);

	CU_ASSERT_EQUAL(resp_header(rs, "Location", "/a\r\nX: y"), EST_E_INVAL);
	CU_ASSERT_EQUAL(resp_header(rs, "Bad Name", "x"), EST_E_INVAL);
	CU_ASSERT_EQUAL(resp_header(rs, "content-length", "5"), EST_E_INVAL);
	CU_ASSERT_EQUAL(resp_header(rs, "ETag", "\"abc\""), 0);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "etag"), "\"abc\"");
	CU_ASSERT_EQUAL(resp_body(rs, 200, "text/plain\n", "x", 1),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(resp_body(rs, 299, "text/plain", "x", 1), EST_E_INVAL);
	resp_free(rs);
	resp_free(NULL);
}

/* A file of n bytes of a pattern, open for reading, already unlinked. */
static int
pattern_file(size_t n)
{
	char path[] = "/tmp/test_resp_XXXXXX";
	uint8_t b[1000];
	size_t i, k;
	int fd;

	if ((fd = mkstemp(path)) < 0)
		return -1;
	unlink(path);
	for (i = 0; i < n; i += k) {
		k = n - i < sizeof(b) ? n - i : sizeof(b);
		for (size_t j = 0; j < k; j++)
			b[j] = (uint8_t)((i + j) * 7 + 3);
		if (write(fd, b, k) != (ssize_t)k) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void
test_resp_file(void)
{
	/* Three pieces and a part of one (resp.c writes 64 KiB at a time). */
	const size_t n = 3 * 65536 + 1234;
	struct resp *rs = resp_new(RESP_API);
	struct buf *b = buf_new(0);
	const uint8_t *body;
	char *head;
	size_t len = 1, i, bad = 0;
	int fd = pattern_file(n);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(resp_body_fd(rs, 200, "application/zip", fd, n), 0);
	CU_ASSERT_PTR_NULL(resp_get_body(rs, &len));
	CU_ASSERT_EQUAL(len, n);
	CU_ASSERT_FATAL(resp_write(rs, buf_writer, b) == 0);
	head = strndup((const char *)buf_ptr(b), buf_len(b));
	CU_ASSERT_PTR_NOT_NULL(strstr(head, "Content-Length: 197842\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(head, "Content-Type: application/zip"));
	body = (const uint8_t *)strstr(head, "\r\n\r\n");
	CU_ASSERT_FATAL(body != NULL);
	body = buf_ptr(b) + ((const char *)body - head) + 4;
	CU_ASSERT_EQUAL((size_t)(buf_ptr(b) + buf_len(b) - body), n);
	for (i = 0; i < n && body + i < buf_ptr(b) + buf_len(b); i++)
		bad += body[i] != (uint8_t)(i * 7 + 3);
	CU_ASSERT_EQUAL(bad, 0);
	free(head);
	/* The response owns the file: a reset closes it. */
	resp_reset(rs);
	CU_ASSERT_EQUAL(fcntl(fd, F_GETFD), -1);
	CU_ASSERT_EQUAL(errno, EBADF);
	/* A file shorter than announced fails after the headers. */
	fd = pattern_file(100);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(resp_body_fd(rs, 200, "application/zip", fd, 200), 0);
	buf_free(b);
	b = buf_new(0);
	CU_ASSERT_EQUAL(resp_write(rs, buf_writer, b), EST_E_IO);
	/* A memory body replaces it and closes it. */
	CU_ASSERT_EQUAL(resp_body(rs, 200, "text/plain", "x", 1), 0);
	CU_ASSERT_EQUAL(fcntl(fd, F_GETFD), -1);
	/* Bad arguments close the file too. */
	fd = pattern_file(10);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(resp_body_fd(rs, 299, "application/zip", fd, 10),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(fcntl(fd, F_GETFD), -1);
	CU_ASSERT_EQUAL(resp_body_fd(rs, 200, "application/zip", -1, 10),
			EST_E_INVAL);
	buf_free(b);
	resp_free(rs);
}

int
test_req_http_suites(void)
{
	static CU_TestInfo mtype_tests[] = {
		{"exact type/subtype, no prefix", test_mtype_exact},
		{"parameters", test_mtype_params},
		{"malformed media types", test_mtype_bad},
		{"Content-Type of a request", test_mtype_request},
		{NULL, NULL},
	};
	static CU_TestInfo route_tests[] = {
		{"exact matches and captures", test_route_match},
		{"404: no prefix, invalid captures", test_route_404},
		{"405 with the allowed methods", test_route_405},
		{"HEAD served by GET routes", test_route_head},
		{"route table check", test_route_check},
		{NULL, NULL},
	};
	static CU_TestInfo disp_tests[] = {
		{"response form", test_dispatch_ok},
		{"error responses", test_dispatch_errors},
		{"request bodies", test_dispatch_body},
		{"HEAD and OPTIONS", test_dispatch_head_options},
		{"EST error style", test_dispatch_est},
		{"header validation", test_resp_headers},
		{"bodies read from a file", test_resp_file},
		{NULL, NULL},
	};
	int r;

	if ((r = test_add_suite("media types", NULL, NULL, mtype_tests)) != 0 ||
	    (r = test_add_suite("router", NULL, NULL, route_tests)) != 0 ||
	    (r = test_add_suite("dispatch", NULL, NULL, disp_tests)) != 0)
		return r;
	return 0;
}
