#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "err.h"
#include "resp.h"
#include "util.h"

/*
 * A body is wiped whenever it is dropped: some carry a private key or a
 * passphrase to its owner (a server-generated key, a PKCS#12, a credential
 * file), and that copy must not outlive the request in freed memory.
 * Bodies are small; the wipe costs next to nothing.
 */

struct resp_hdr {
	char *name;
	char *value;
};

struct resp {
	enum resp_kind kind;
	int status;
	char *ctype; /* NULL: no body */
	uint8_t *body;
	size_t bodylen;
	int body_fd; /* -1, or the file the body is read from */
	struct resp_hdr hdrs[RESP_HEADERS_MAX];
	size_t nhdrs;
	int head_only;
};

/*
 * Statuses the programs send.  code and message serve errors whose status
 * is not the error table's own (411, 501).
 */
static const struct {
	int status;
	const char *reason;
	const char *code;
	const char *message;
} resp_statuses[] = {
	{200, "OK", "OK", "success"},
	{201, "Created", "CREATED", "created"},
	{202, "Accepted", "ACCEPTED", "accepted"},
	{204, "No Content", "NO_CONTENT", "no content"},
	{304, "Not Modified", "NOT_MODIFIED", "not modified"},
	{400, "Bad Request", "BAD_REQUEST", "bad request"},
	{401, "Unauthorized", "UNAUTHORIZED", "authentication required"},
	{403, "Forbidden", "FORBIDDEN", "forbidden"},
	{404, "Not Found", "NOT_FOUND", "not found"},
	{405, "Method Not Allowed", "METHOD_NOT_ALLOWED", "method not allowed"},
	{409, "Conflict", "CONFLICT", "conflict"},
	{410, "Gone", "GONE", "gone"},
	{411, "Length Required", "LENGTH_REQUIRED", "length required"},
	{412, "Precondition Failed", "PRECONDITION_FAILED",
	 "precondition failed"},
	{413, "Content Too Large", "TOO_LARGE", "request body too large"},
	{415, "Unsupported Media Type", "MEDIA_TYPE", "unsupported media type"},
	{422, "Unprocessable Content", "UNPROCESSABLE", "validation failed"},
	{428, "Precondition Required", "PRECONDITION_REQUIRED",
	 "precondition required"},
	{429, "Too Many Requests", "TOO_MANY_REQUESTS", "too many requests"},
	{500, "Internal Server Error", "INTERNAL", "internal error"},
	{501, "Not Implemented", "NOT_IMPLEMENTED", "not implemented"},
	{503, "Service Unavailable", "UNAVAILABLE", "service unavailable"},
};
#define RESP_NSTATUSES (sizeof(resp_statuses) / sizeof(resp_statuses[0]))

/*
 * Headers resp writes itself; a caller may not add them.  Cache-Control is
 * resp's only on API answers (always "no-store"); the public answers of
 * estuary-est (CRLs, OCSP responses) say themselves how long they may be
 * cached.
 */
static const char *const resp_managed[] = {
	"Status",
	"Content-Type",
	"Content-Length",
	"X-Content-Type-Options",
	"Content-Security-Policy",
};

static int
status_index(int status)
{
	size_t i;

	for (i = 0; i < RESP_NSTATUSES; i++)
		if (resp_statuses[i].status == status)
			return (int)i;
	return -1;
}

const char *
resp_reason(int status)
{
	int i = status_index(status);

	return i < 0 ? "Unknown" : resp_statuses[i].reason;
}

struct resp *
resp_new(enum resp_kind kind)
{
	struct resp *rs;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	rs->kind = kind;
	rs->status = 500;
	rs->body_fd = -1;
	return rs;
}

/* Drops the body, wiped (see the top of this file). */
static void
body_drop(struct resp *rs)
{
	freezero(rs->body, rs->bodylen);
	if (rs->body_fd >= 0)
		close(rs->body_fd);
	rs->body = NULL;
	rs->bodylen = 0;
	rs->body_fd = -1;
}

void
resp_reset(struct resp *rs)
{
	size_t i;

	for (i = 0; i < rs->nhdrs; i++) {
		free(rs->hdrs[i].name);
		free(rs->hdrs[i].value);
	}
	rs->nhdrs = 0;
	free(rs->ctype);
	rs->ctype = NULL;
	body_drop(rs);
	rs->status = 500;
}

void
resp_free(struct resp *rs)
{
	if (rs == NULL)
		return;
	resp_reset(rs);
	free(rs);
}

static int
valid_token(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("!#$%&'*+-.^_`|~", s[i]) == NULL)
			return 0;
	return i > 0;
}

/* Printable ASCII and HTAB: no CR or LF can split a header. */
static int
valid_value(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] != '\t' && (s[i] < 0x20 || s[i] > 0x7e))
			return 0;
	return i <= RESP_HEADER_VALUE_MAX;
}

int
resp_header(struct resp *rs, const char *name, const char *value)
{
	char *n, *v;
	size_t i;

	if (!valid_token(name) || !valid_value(value))
		return EST_E_INVAL;
	for (i = 0; i < sizeof(resp_managed) / sizeof(resp_managed[0]); i++)
		if (strcasecmp(name, resp_managed[i]) == 0)
			return EST_E_INVAL;
	if (rs->kind == RESP_API && strcasecmp(name, "Cache-Control") == 0)
		return EST_E_INVAL;
	if (rs->nhdrs == RESP_HEADERS_MAX)
		return EST_E_TOOBIG;
	if ((n = strdup(name)) == NULL || (v = strdup(value)) == NULL) {
		free(n);
		return EST_E_NOMEM;
	}
	rs->hdrs[rs->nhdrs].name = n;
	rs->hdrs[rs->nhdrs].value = v;
	rs->nhdrs++;
	return 0;
}

int
resp_body(struct resp *rs, int status, const char *ctype, const void *p,
	  size_t len)
{
	uint8_t *body;
	char *ct;

	if (status_index(status) < 0 || !valid_value(ctype) || ctype[0] == 0)
		return EST_E_INVAL;
	if ((ct = strdup(ctype)) == NULL)
		return EST_E_NOMEM;
	if ((body = malloc(len + 1)) == NULL) {
		free(ct);
		return EST_E_NOMEM;
	}
	if (len > 0)
		memcpy(body, p, len);
	body[len] = '\0';
	free(rs->ctype);
	body_drop(rs);
	rs->ctype = ct;
	rs->body = body;
	rs->bodylen = len;
	rs->status = status;
	return 0;
}

int
resp_empty(struct resp *rs, int status)
{
	if (status_index(status) < 0)
		return EST_E_INVAL;
	free(rs->ctype);
	rs->ctype = NULL;
	body_drop(rs);
	rs->status = status;
	return 0;
}

int
resp_body_fd(struct resp *rs, int status, const char *ctype, int fd, size_t len)
{
	char *ct;

	if (fd < 0)
		return EST_E_INVAL;
	if (status_index(status) < 0 || !valid_value(ctype) || ctype[0] == 0) {
		close(fd);
		return EST_E_INVAL;
	}
	if ((ct = strdup(ctype)) == NULL) {
		close(fd);
		return EST_E_NOMEM;
	}
	free(rs->ctype);
	body_drop(rs);
	rs->ctype = ct;
	rs->body_fd = fd;
	rs->bodylen = len;
	rs->status = status;
	return 0;
}

/*
 * The body of file fd, len bytes, through fn in pieces of RESP_PIECE
 * bytes; each piece is wiped once written (the file may be an archive
 * that holds passphrases).
 */
#define RESP_PIECE (64 * 1024)
static int
write_file(int fd, size_t len, resp_write_fn fn, void *arg)
{
	uint8_t *piece;
	size_t off = 0, want;
	ssize_t n;
	int r = 0;

	if ((piece = malloc(RESP_PIECE)) == NULL)
		return EST_E_NOMEM;
	while (off < len) {
		want = len - off < RESP_PIECE ? len - off : RESP_PIECE;
		n = pread(fd, piece, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = EST_E_IO;
			break;
		}
		r = fn(arg, piece, (size_t)n);
		explicit_bzero(piece, (size_t)n);
		if (r != 0)
			break;
		off += (size_t)n;
	}
	free(piece);
	return r;
}

int
resp_json(struct resp *rs, int status, struct json_object *obj)
{
	const char *s;
	size_t len;

	if ((s = json_object_to_json_string_length(
		     obj,
		     JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		     &len)) == NULL)
		return EST_E_NOMEM;
	return resp_body(rs, status, "application/json", s, len);
}

static int
add_json_string(struct json_object *o, const char *key, const char *value)
{
	struct json_object *s;

	if ((s = json_object_new_string(value)) == NULL)
		return EST_E_NOMEM;
	if (json_object_object_add(o, key, s) != 0) {
		json_object_put(s);
		return EST_E_NOMEM;
	}
	return 0;
}

static int
error_json(struct resp *rs, int status, const char *code, const char *message,
	   const char *field)
{
	struct json_object *top = NULL, *e = NULL;
	int r;

	if ((top = json_object_new_object()) == NULL ||
	    (e = json_object_new_object()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if (json_object_object_add(top, "error", e) != 0) {
		json_object_put(e);
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = add_json_string(e, "code", code)) != 0 ||
	    (r = add_json_string(e, "message", message)) != 0 ||
	    (field != NULL && (r = add_json_string(e, "field", field)) != 0) ||
	    (r = resp_json(rs, status, top)) != 0)
		goto out;
out:
	json_object_put(top);
	return r;
}

static int
error_text(struct resp *rs, int status, const char *message)
{
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), "%s\n", message);
	if (n < 0 || (size_t)n >= sizeof(line))
		return EST_E_INVAL;
	return resp_body(rs, status, "text/plain", line, (size_t)n);
}

int
resp_error_reason(struct resp *rs, int status, int err, const char *field,
		  const char *reason)
{
	const char *code, *message;
	int i, r;

	if (status == 0)
		status = est_err_http_status(err);
	if (status == est_err_http_status(err)) {
		code = est_err_name(err);
		message = est_strerror(err);
	} else {
		/* The table has no error of that status: name the status. */
		if ((i = status_index(status)) < 0)
			return EST_E_INVAL;
		code = resp_statuses[i].code;
		message = resp_statuses[i].message;
	}
	if (reason != NULL)
		message = reason;
	resp_reset(rs);
	if (rs->kind == RESP_API)
		r = error_json(rs, status, code, message, field);
	else
		r = error_text(rs, status, message);
	if (r != 0)
		return r;
	/* Both are MUSTs of RFC 9110 for these statuses. */
	if (status == 503)
		r = resp_header(rs, "Retry-After", RESP_RETRY_AFTER);
	else if (status == 401)
		r = resp_header(rs, "WWW-Authenticate",
				"Basic realm=\"estuary\"");
	return r;
}

int
resp_error(struct resp *rs, int status, int err, const char *field)
{
	return resp_error_reason(rs, status, err, field, NULL);
}

void
resp_set_head_only(struct resp *rs, int on)
{
	rs->head_only = on;
}

int
resp_status(const struct resp *rs)
{
	return rs->status;
}

const uint8_t *
resp_get_body(const struct resp *rs, size_t *len)
{
	*len = rs->bodylen;
	return rs->body_fd >= 0 ? NULL : rs->body;
}

const char *
resp_get_header(const struct resp *rs, const char *name)
{
	size_t i;

	if (strcasecmp(name, "Content-Type") == 0)
		return rs->ctype;
	for (i = 0; i < rs->nhdrs; i++)
		if (strcasecmp(rs->hdrs[i].name, name) == 0)
			return rs->hdrs[i].value;
	return NULL;
}

static int
put_header(struct buf *b, const char *name, const char *value)
{
	int r;

	if ((r = buf_put(b, name, strlen(name))) != 0 ||
	    (r = buf_put(b, ": ", 2)) != 0 ||
	    (r = buf_put(b, value, strlen(value))) != 0 ||
	    (r = buf_put(b, "\r\n", 2)) != 0)
		return r;
	return 0;
}

int
resp_write(const struct resp *rs, resp_write_fn fn, void *arg)
{
	char status[64], length[32];
	struct buf *b = NULL;
	size_t i;
	int r;

	if ((b = buf_new(64 * 1024)) == NULL)
		return EST_E_NOMEM;
	snprintf(status, sizeof(status), "%d %s", rs->status,
		 resp_reason(rs->status));
	snprintf(length, sizeof(length), "%zu", rs->bodylen);
	if ((r = put_header(b, "Status", status)) != 0)
		goto out;
	/* 204 and 304 have neither a body nor a length (RFC 9110 8.6). */
	if (rs->ctype != NULL && rs->status != 204 && rs->status != 304) {
		if ((r = put_header(b, "Content-Type", rs->ctype)) != 0 ||
		    (r = put_header(b, "Content-Length", length)) != 0)
			goto out;
	}
	if ((r = put_header(b, "X-Content-Type-Options", "nosniff")) != 0)
		goto out;
	if (rs->kind == RESP_API &&
	    ((r = put_header(b, "Cache-Control", "no-store")) != 0 ||
	     (r = put_header(b, "Content-Security-Policy",
			     "default-src 'none'; frame-ancestors 'none'")) !=
		     0))
		goto out;
	for (i = 0; i < rs->nhdrs; i++)
		if ((r = put_header(b, rs->hdrs[i].name, rs->hdrs[i].value)) !=
		    0)
			goto out;
	if ((r = buf_put(b, "\r\n", 2)) != 0 ||
	    (r = fn(arg, buf_ptr(b), buf_len(b))) != 0)
		goto out;
	if (!rs->head_only && rs->ctype != NULL && rs->bodylen > 0 &&
	    rs->status != 204 && rs->status != 304)
		r = rs->body_fd >= 0
			    ? write_file(rs->body_fd, rs->bodylen, fn, arg)
			    : fn(arg, rs->body, rs->bodylen);
out:
	buf_free(b);
	return r;
}
