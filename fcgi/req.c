/*
 * Assembles a struct request from the FastCGI parameters.  One table lists
 * every variable the programs read, with its validator; a variable not in
 * the table is never looked at.  Later work adds rows (cookies, If-Match,
 * ...) rather than new parsing code elsewhere.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "reqparse.h"
#include "util.h"

#define REQ_METHOD_MAX 15
#define REQ_LENGTH_DIGITS 19 /* fits in a 64-bit size_t */
#define REQ_PROTO_MAX 16

struct req_field {
	const char *env;   /* FastCGI parameter name */
	const char *field; /* name reported in errors */
	int (*parse)(struct request *, const char *, const struct req_limits *);
};

static const struct {
	const char *name;
	unsigned bit;
} req_methods[] = {
	{"GET", REQ_M_GET},	    {"HEAD", REQ_M_HEAD},
	{"POST", REQ_M_POST},	    {"PUT", REQ_M_PUT},
	{"PATCH", REQ_M_PATCH},	    {"DELETE", REQ_M_DELETE},
	{"OPTIONS", REQ_M_OPTIONS},
};
#define REQ_NMETHODS (sizeof(req_methods) / sizeof(req_methods[0]))

/*
 * Methods defined by RFC 9110 that no route serves: known, so 405 with
 * Allow rather than 501.
 */
static const char *const req_methods_unserved[] = {"CONNECT", "TRACE"};

void
req_fail(struct request *req, int status, int err, const char *field)
{
	if (req->status != 0)
		return;
	req->status = status != 0 ? status : est_err_http_status(err);
	req->err = err;
	req->field = field;
}

static int
is_tchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static int
parse_method(struct request *req, const char *v, const struct req_limits *lim)
{
	size_t i, len = strlen(v);

	(void)lim;
	if (len == 0 || len > REQ_METHOD_MAX)
		return EST_E_INVAL;
	for (i = 0; i < len; i++)
		if (!is_tchar((unsigned char)v[i]))
			return EST_E_INVAL;
	memcpy(req->method_name, v, len + 1);
	/* Methods are case-sensitive (RFC 9110 section 9.1). */
	for (i = 0; i < REQ_NMETHODS; i++) {
		if (strcmp(v, req_methods[i].name) == 0) {
			req->method = req_methods[i].bit;
			return 0;
		}
	}
	for (i = 0;
	     i < sizeof(req_methods_unserved) / sizeof(req_methods_unserved[0]);
	     i++)
		if (strcmp(v, req_methods_unserved[i]) == 0)
			return 0;
	/* A well-formed method that this server does not implement. */
	req_fail(req, 501, EST_E_METHOD, "method");
	return 0;
}

static int
parse_uri(struct request *req, const char *v, const struct req_limits *lim)
{
	(void)lim;
	return reqp_uri(v, &req->path, req->query, &req->nquery);
}

static int
parse_host(struct request *req, const char *v, const struct req_limits *lim)
{
	(void)lim;
	return reqp_host(v, &req->host, &req->port, &req->host_is_ip);
}

static int
parse_length(struct request *req, const char *v, const struct req_limits *lim)
{
	size_t i, n = 0;

	/* 1*DIGIT (RFC 9110 section 8.6): no sign, no space, no hex. */
	if (v[0] == '\0')
		return EST_E_INVAL;
	for (i = 0; v[i] != '\0'; i++)
		if (!isdigit((unsigned char)v[i]))
			return EST_E_INVAL;
	/* More digits than a size_t holds is over any cap. */
	if (i > REQ_LENGTH_DIGITS)
		return EST_E_TOOBIG;
	for (i = 0; v[i] != '\0'; i++)
		n = n * 10 + (size_t)(v[i] - '0');
	/* The cap applies before a single byte of the body is read. */
	if (n > lim->max_body)
		return EST_E_TOOBIG;
	req->has_length = 1;
	req->content_length = n;
	return 0;
}

static int
parse_ctype(struct request *req, const char *v, const struct req_limits *lim)
{
	(void)lim;
	return mtype_parse(v, &req->content_type);
}

static int
parse_auth(struct request *req, const char *v, const struct req_limits *lim)
{
	(void)lim;
	return reqp_basic(v, &req->auth_user, &req->auth_pass);
}

/*
 * Cookie and X-CSRF-Token carry session credentials; fcgi/auth.c checks
 * the values it uses exactly.  Control characters are refused in both.
 * Other sites on the same host may set cookies that are not RFC 6265
 * cookie-octets (UTF-8, say), so the Cookie header accepts bytes above
 * 0x7f rather than failing every request of such a browser; the CSRF
 * token is printable ASCII.
 */
static int
parse_secret(const char *v, size_t max, int ascii, char **out)
{
	unsigned char c;
	size_t i;

	for (i = 0; v[i] != '\0'; i++) {
		c = (unsigned char)v[i];
		if (i == max || c < 0x20 || c == 0x7f || (ascii && c > 0x7f))
			return EST_E_INVAL;
	}
	if ((*out = strdup(v)) == NULL)
		return EST_E_NOMEM;
	return 0;
}

static int
parse_cookie(struct request *req, const char *v, const struct req_limits *lim)
{
	(void)lim;
	return parse_secret(v, REQ_COOKIE_MAX, 0, &req->cookie);
}

static int
parse_csrf(struct request *req, const char *v, const struct req_limits *lim)
{
	(void)lim;
	return parse_secret(v, REQ_CSRF_MAX, 1, &req->csrf_token);
}

/* If-Match: field-value of visible ASCII and spaces (RFC 9110 5.5). */
static int
parse_if_match(struct request *req, const char *v, const struct req_limits *lim)
{
	size_t i;

	(void)lim;
	for (i = 0; v[i] != '\0'; i++)
		if (i == REQ_IF_MATCH_MAX || (v[i] < 0x20 && v[i] != '\t') ||
		    (unsigned char)v[i] > 0x7e)
			return EST_E_INVAL;
	if ((req->if_match = strdup(v)) == NULL)
		return EST_E_NOMEM;
	return 0;
}

static int
parse_remote(struct request *req, const char *v, const struct req_limits *lim)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0,    0,
					     0, 0, 0, 0, 0xff, 0xff};
	struct req_addr *a = &req->remote_store;

	(void)lim;
	if (strlen(v) >= sizeof(a->text))
		return EST_E_INVAL;
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, v, a->addr) == 1) {
		a->af = AF_INET;
	} else if (inet_pton(AF_INET6, v, a->addr) == 1) {
		a->af = AF_INET6;
		/* Allow lists compare IPv4 clients as IPv4. */
		if (memcmp(a->addr, v4mapped, sizeof(v4mapped)) == 0) {
			memmove(a->addr, a->addr + 12, 4);
			memset(a->addr + 4, 0, 12);
			a->af = AF_INET;
		}
	} else {
		return EST_E_INVAL;
	}
	if (inet_ntop(a->af, a->addr, a->text, sizeof(a->text)) == NULL)
		return EST_E_INVAL;
	req->remote = a;
	return 0;
}

static int
parse_https(struct request *req, const char *v, const struct req_limits *lim)
{
	(void)lim;
	if (strcasecmp(v, "on") == 0)
		req->https = 1;
	else if (strcasecmp(v, "off") != 0)
		return EST_E_INVAL;
	return 0;
}

static int
parse_proto(struct request *req, const char *v, const struct req_limits *lim)
{
	size_t i;

	(void)lim;
	for (i = 0; v[i] != '\0'; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '.' &&
		    v[i] != '_' && v[i] != '-')
			return EST_E_INVAL;
	if (i > REQ_PROTO_MAX)
		return EST_E_INVAL;
	if ((req->tls_protocol = strdup(v)) == NULL)
		return EST_E_NOMEM;
	return 0;
}

static int
parse_cert(struct request *req, const char *v, const struct req_limits *lim)
{
	(void)lim;
	return reqp_client_cert(v, &req->client_cert, req->client_fp);
}

static int
parse_verify(struct request *req, const char *v, const struct req_limits *lim)
{
	(void)lim;
	return reqp_verify(v, &req->verify, &req->verify_reason);
}

/*
 * Every variable read, in the order the validators run.  HTTP_HOST comes
 * before SERVER_NAME, which is used only when the client sent no Host.
 */
static const struct req_field req_fields[] = {
	{"REQUEST_METHOD", "method", parse_method},
	{"REQUEST_URI", "path", parse_uri},
	{"HTTP_HOST", "host", parse_host},
	{"SERVER_NAME", "host", parse_host},
	{"CONTENT_LENGTH", "content_length", parse_length},
	{"CONTENT_TYPE", "content_type", parse_ctype},
	{"HTTP_AUTHORIZATION", "authorization", parse_auth},
	{"HTTP_COOKIE", "cookie", parse_cookie},
	{"HTTP_X_CSRF_TOKEN", "csrf_token", parse_csrf},
	{"HTTP_IF_MATCH", "if_match", parse_if_match},
	{"REMOTE_ADDR", "remote_addr", parse_remote},
	{"HTTPS", "https", parse_https},
	{"SSL_PROTOCOL", "ssl_protocol", parse_proto},
	{"SSL_CLIENT_CERT", "client_cert", parse_cert},
	{"SSL_CLIENT_VERIFY", "client_verify", parse_verify},
};
#define REQ_NFIELDS (sizeof(req_fields) / sizeof(req_fields[0]))
#define REQ_F_METHOD 0
#define REQ_F_URI 1
#define REQ_F_HOST 2
#define REQ_F_SERVER_NAME 3

/* Finds the table row of one "KEY=value" entry; -1 when not ours. */
static int
field_index(const char *entry, const char **value)
{
	const char *eq;
	size_t i, klen;

	if ((eq = strchr(entry, '=')) == NULL)
		return -1;
	klen = (size_t)(eq - entry);
	for (i = 0; i < REQ_NFIELDS; i++) {
		if (strlen(req_fields[i].env) == klen &&
		    memcmp(entry, req_fields[i].env, klen) == 0) {
			*value = eq + 1;
			return (int)i;
		}
	}
	return -1;
}

int
req_parse(char *const *envp, const struct req_limits *lim, struct request **out)
{
	const char *raw[REQ_NFIELDS] = {NULL};
	struct request *req;
	const char *v;
	size_t i;
	int k, r;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; envp != NULL && envp[i] != NULL; i++) {
		if (i == REQ_ENV_MAX) {
			req_fail(req, 0, EST_E_TOOBIG, "environment");
			break;
		}
		if ((k = field_index(envp[i], &v)) < 0)
			continue;
		/* Two values for one variable: which would a handler see? */
		if (raw[k] != NULL) {
			req_fail(req, 0, EST_E_INVAL, req_fields[k].field);
			continue;
		}
		raw[k] = v;
	}
	if (raw[REQ_F_METHOD] == NULL || raw[REQ_F_METHOD][0] == '\0')
		req_fail(req, 0, EST_E_INVAL, "method");
	if (raw[REQ_F_URI] == NULL || raw[REQ_F_URI][0] == '\0')
		req_fail(req, 0, EST_E_INVAL, "path");
	if (raw[REQ_F_HOST] != NULL && raw[REQ_F_HOST][0] != '\0')
		raw[REQ_F_SERVER_NAME] = NULL;
	for (i = 0; i < REQ_NFIELDS; i++) {
		if (raw[i] == NULL || raw[i][0] == '\0')
			continue;
		if ((r = req_fields[i].parse(req, raw[i], lim)) ==
		    EST_E_NOMEM) {
			req_free(req);
			return r;
		}
		if (r != 0)
			req_fail(req, 0, r, req_fields[i].field);
	}
	/*
	 * A body-carrying method must say how long its body is, so that the
	 * cap is known before reading (RFC 9110 section 15.5.12).
	 */
	if (req_method_has_body(req->method) && !req->has_length)
		req_fail(req, 411, EST_E_INVAL, "content_length");
	*out = req;
	return 0;
}

int
req_read_body(struct request *req, req_read_fn fn, void *arg)
{
	uint8_t *body;
	size_t got = 0;
	ssize_t n;

	if (req->body != NULL)
		return 0;
	/* content_length is at most max_body: req_parse checked it. */
	if ((body = malloc(req->content_length + 1)) == NULL)
		return EST_E_NOMEM;
	while (got < req->content_length) {
		n = fn(arg, body + got, req->content_length - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			freezero(body, req->content_length + 1);
			return EST_E_TRUNCATED;
		}
		got += (size_t)n;
	}
	body[got] = '\0';
	req->body = body;
	req->bodylen = got;
	return 0;
}

void
req_free(struct request *req)
{
	size_t i;

	if (req == NULL)
		return;
	free(req->path);
	for (i = 0; i < req->nquery; i++) {
		free(req->query[i].name);
		free(req->query[i].value);
	}
	free(req->host);
	mtype_free(req->content_type);
	/* A body may hold a password or a private key (serverkeygen). */
	if (req->body != NULL)
		freezero(req->body, req->bodylen + 1);
	freezero_str(req->auth_user);
	freezero_str(req->auth_pass);
	freezero_str(req->cookie);
	freezero_str(req->csrf_token);
	free(req->if_match);
	free(req->tls_protocol);
	X509_free(req->client_cert);
	free(req->verify_reason);
	free(req);
}

const char *
req_query(const struct request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].name, name) == 0)
			return req->query[i].value;
	return NULL;
}

int
req_method_has_body(unsigned method)
{
	return (method & (REQ_M_POST | REQ_M_PUT | REQ_M_PATCH)) != 0;
}

int
req_method_list(unsigned mask, char *out, size_t outlen)
{
	size_t i, n = 0, len;

	if (outlen == 0)
		return EST_E_INVAL;
	out[0] = '\0';
	for (i = 0; i < REQ_NMETHODS; i++) {
		if ((mask & req_methods[i].bit) == 0)
			continue;
		len = strlen(req_methods[i].name);
		if (n + len + (n ? 2 : 0) + 1 > outlen)
			return EST_E_TOOBIG;
		if (n != 0) {
			memcpy(out + n, ", ", 2);
			n += 2;
		}
		memcpy(out + n, req_methods[i].name, len + 1);
		n += len;
	}
	return 0;
}
