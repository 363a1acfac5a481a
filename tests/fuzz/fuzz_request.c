/*
 * Fuzz target for the request module of the FastCGI programs: the input is
 * a list of NUL-terminated "KEY=value" parameters, as the web server would
 * pass them, ended by an empty entry (two NULs in a row); whatever follows
 * is the request body.  Each input goes through the dispatcher with route
 * tables shaped like those of estuary-api and estuary-est, whose handlers
 * read every validated field, and the response is serialized.  No database
 * or signer is involved.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <openssl/x509.h>

#include "ctx.h"
#include "dispatch.h"
#include "err.h"
#include "log.h"
#include "mtype.h"
#include "req.h"
#include "resp.h"
#include "route.h"

#define FUZZ_ENV_MAX 64
#define FUZZ_MAX_BODY 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

struct body {
	const uint8_t *p;
	size_t len, off;
};

static ssize_t
body_read(void *arg, void *p, size_t len)
{
	struct body *b = arg;
	size_t n = b->len - b->off;

	/* Short reads, as FCGX_GetStr may give them. */
	if (n > len)
		n = len;
	if (n > 7)
		n = 7;
	memcpy(p, b->p + b->off, n);
	b->off += n;
	return (ssize_t)n;
}

static int
discard(void *arg, const void *p, size_t len)
{
	size_t *total = arg;

	(void)p;
	*total += len;
	return 0;
}

/* Reads every field a handler may see, so a bad value would show. */
static int
h_fields(struct hctx *c, const struct request *req, struct resp *rs)
{
	const char *id, *label;
	char line[512];
	size_t i, n = 0;
	int len;

	id = route_cap(c->match, "id");
	label = route_cap(c->match, "label");
	for (i = 0; i < req->nquery; i++)
		n += strlen(req->query[i].name) + strlen(req->query[i].value);
	if (req->client_cert != NULL &&
	    X509_get_subject_name(req->client_cert) == NULL)
		return EST_E_INTERNAL;
	len = snprintf(line, sizeof(line), "%s %s %s %u %s %s %s %s %d %zu\n",
		       req->path, id ? id : "-", label ? label : "-", req->port,
		       req->host ? req->host : "-",
		       req->auth_user ? req->auth_user : "-",
		       req->remote ? req->remote->text : "-",
		       req->verify_reason ? req->verify_reason : "-",
		       req->verify, n);
	if (len < 0)
		return EST_E_INTERNAL;
	return resp_body(rs, 200, "text/plain", line,
			 (size_t)len < sizeof(line) ? (size_t)len
						    : sizeof(line) - 1);
}

/* Like an EST enrollment: the media type decides, the body is echoed. */
static int
h_enroll(struct hctx *c, const struct request *req, struct resp *rs)
{
	(void)c;
	if (!mtype_is(req->content_type, "application/pkcs10"))
		return EST_E_MEDIATYPE;
	if (mtype_param(req->content_type, "charset") != NULL)
		return EST_E_INVAL;
	if (req->auth_user == NULL)
		return EST_E_UNAUTH;
	return resp_body(rs, 200, "application/pkcs7-mime", req->body,
			 req->bodylen);
}

static const struct route fuzz_routes[] = {
	{REQ_M_GET, "/api/v1/health", h_fields},
	{REQ_M_GET | REQ_M_POST, "/api/v1/tenants", h_fields},
	{REQ_M_GET | REQ_M_PUT | REQ_M_PATCH | REQ_M_DELETE,
	 "/api/v1/tenants/{id}", h_fields},
	{REQ_M_GET, "/.well-known/est/cacerts", h_fields},
	{REQ_M_POST, "/.well-known/est/simpleenroll", h_enroll},
	{REQ_M_GET, "/.well-known/est/{label}/cacerts", h_fields},
	{REQ_M_POST, "/.well-known/est/{label}/simpleenroll", h_enroll},
};

static const struct app fuzz_apps[] = {
	{.name = "fuzz-api",
	 .socket_key = "api_socket",
	 .kind = RESP_API,
	 .routes = fuzz_routes,
	 .nroutes = sizeof(fuzz_routes) / sizeof(fuzz_routes[0])},
	{.name = "fuzz-est",
	 .socket_key = "est_socket",
	 .kind = RESP_EST,
	 .routes = fuzz_routes,
	 .nroutes = sizeof(fuzz_routes) / sizeof(fuzz_routes[0])},
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Rejections are logged; the fuzzer makes millions of them. */
	log_init("fuzz_request", 0, LOG_LVL_ERR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req_limits lim = {.max_body = FUZZ_MAX_BODY};
	char *copy, *env[FUZZ_ENV_MAX + 1];
	struct hctx ctx;
	struct body b;
	struct resp *rs;
	size_t i = 0, n = 0, total = 0;
	int herr, r;

	/* A NUL-terminated copy, so the last entry ends too. */
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	while (i < size && n < FUZZ_ENV_MAX) {
		if (copy[i] == '\0') {
			i++;
			break;
		}
		env[n++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	env[n] = NULL;
	b.p = data + (i < size ? i : size);
	b.len = size - (i < size ? i : size);
	b.off = 0;
	for (size_t k = 0; k < sizeof(fuzz_apps) / sizeof(fuzz_apps[0]); k++) {
		memset(&ctx, 0, sizeof(ctx));
		b.off = 0;
		if ((rs = resp_new(fuzz_apps[k].kind)) == NULL)
			break;
		r = dispatch(&fuzz_apps[k], &ctx, env, &lim, body_read, &b, rs,
			     &herr);
		if (r == 0 && resp_write(rs, discard, &total) != 0)
			abort();
		/* Every answer has a status the response table knows. */
		if (r == 0 &&
		    strcmp(resp_reason(resp_status(rs)), "Unknown") == 0)
			abort();
		resp_free(rs);
	}
	free(copy);
	return 0;
}
