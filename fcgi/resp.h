/*
 * Responses of the FastCGI programs.  A struct resp collects the status,
 * headers and body of one response and is then written in CGI form
 * ("Status:" header, blank line, body) through a callback (FCGX_PutStr in
 * production).  Every response carries an exact Content-Type, a
 * Content-Length and X-Content-Type-Options: nosniff; API responses also
 * carry Cache-Control: no-store and a restrictive Content-Security-Policy.
 *
 * Errors have one shape per program: for the REST API the JSON object
 * {"error":{"code":"...","message":"...","field":"..."}}, for EST a one-line
 * text/plain reason.  Neither ever carries internal detail: the code and
 * message come from the error table, never from a caller's string.
 */
#ifndef ESTUARY_RESP_H
#define ESTUARY_RESP_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct resp;

enum resp_kind {
	RESP_API = 1, /* JSON errors, Cache-Control: no-store */
	RESP_EST = 2, /* text/plain errors */
};

#define RESP_HEADERS_MAX 16
#define RESP_HEADER_VALUE_MAX 1024
#define RESP_RETRY_AFTER "30" /* seconds, on every 503 */

/* Writes len bytes at p; 0 or a negative EST_E_* code. */
typedef int (*resp_write_fn)(void *arg, const void *p, size_t len);

struct resp *resp_new(enum resp_kind kind);
void resp_free(struct resp *rs);
/* Forgets everything set so far (a handler failed half-way). */
void resp_reset(struct resp *rs);

/*
 * Adds a header.  The name must be a token and not one resp manages
 * (Status, Content-Type, Content-Length); the value must be printable ASCII
 * without CR or LF.
 */
int resp_header(struct resp *rs, const char *name, const char *value);

/* A body of content type ctype (copied exactly) with status. */
int resp_body(struct resp *rs, int status, const char *ctype, const void *p,
	      size_t len);
/*
 * A body of len bytes read from the start of file fd when the response is
 * written (resp_write), in pieces: a download of any size costs no more
 * memory than one piece.  rs owns fd from here on, also on failure, and
 * closes it; the file must not change meanwhile (a shorter file ends the
 * response with EST_E_IO after its headers went out).  resp_get_body()
 * gives NULL and len for it.
 */
int resp_body_fd(struct resp *rs, int status, const char *ctype, int fd,
		 size_t len);
/* Status without a body (204, 304). */
int resp_empty(struct resp *rs, int status);
/* A JSON body of obj (not freed) as application/json. */
int resp_json(struct resp *rs, int status, struct json_object *obj);

/*
 * The error response for err (an EST_E_* code): status 0 takes the status
 * from est_err_http_status(); field names the input at fault (API only;
 * may be NULL).  503 adds Retry-After and 401 adds WWW-Authenticate.
 */
int resp_error(struct resp *rs, int status, int err, const char *field);
/*
 * Like resp_error with a fixed reason instead of the table's message;
 * reason must be a constant chosen by the program, never request data.
 */
int resp_error_reason(struct resp *rs, int status, int err, const char *field,
		      const char *reason);

/* HEAD: write the headers of the response but not its body. */
void resp_set_head_only(struct resp *rs, int on);

int resp_status(const struct resp *rs);
const uint8_t *resp_get_body(const struct resp *rs, size_t *len);
/* The value of a header set on rs (case-insensitive name), or NULL. */
const char *resp_get_header(const struct resp *rs, const char *name);

/* Writes the whole response in CGI form. */
int resp_write(const struct resp *rs, resp_write_fn fn, void *arg);

/* Reason phrase of an HTTP status ("Not Found"). */
const char *resp_reason(int status);

#endif
