/*
 * The HTTPS client of the benchmarks that talk to a running stack
 * (bench_api, bench_issue, bench_est; also the EST load test of
 * tests/integration): one loopback target from ESTUARY_URL, verified
 * TLS with ESTUARY_TLS_CA, keep-alive connections, one request at a time.
 * Only a loopback target is accepted (127.0.0.1, ::1 or localhost, checked
 * again after the name is resolved): a bench loads the server it talks to,
 * so it refuses to point at someone else's.
 */
#ifndef ESTUARY_BENCH_HTTPS_H
#define ESTUARY_BENCH_HTTPS_H

#include <stddef.h>

#include <openssl/ssl.h>

#define HTTPS_HEAD_MAX 16384

/* The target, set by https_init(). */
extern char https_hosthdr[300]; /* the Host header value */

struct https_conn {
	int fd;
	SSL *ssl;
	char buf[HTTPS_HEAD_MAX];
	size_t len; /* bytes in buf */
};

/* A response read by https_response(). */
struct https_resp {
	int status;
	int closing; /* the server will close the connection */
	char head[HTTPS_HEAD_MAX];
	char *body; /* NUL-terminated; only when asked for, free() it */
	size_t bodylen;
};

void https_die(const char *prog, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/* Monotonic seconds. */
double https_now(void);

/* Parses and resolves url, sets up TLS with cafile; exits on failure. */
void https_init(const char *prog, const char *url, const char *cafile);
void https_fini(void);

/* A verified TLS connection to the target; 0 or -1. */
int https_open(struct https_conn *cn);
void https_close(struct https_conn *cn);
int https_write(struct https_conn *cn, const char *p, size_t len);
/*
 * Reads one response (Content-Length framed).  With want_body the body is
 * kept in r->body, else read and dropped.  0, or -1 when the connection is
 * unusable.
 */
int https_response(struct https_conn *cn, struct https_resp *r, int want_body);

/* The value of header name in a response head, or NULL; *vlen its length. */
const char *https_head_value(const char *h, const char *name, size_t *vlen);

/* s as the body of a JSON string (quotes, backslashes escaped); 0 or -1. */
int https_json_str(const char *s, char *out, size_t outlen);

/*
 * One request on a fresh connection, for setup steps: method, path, extra
 * header lines (each ending in \r\n, may be NULL), a JSON body (may be
 * NULL).  Fills r (body kept).  Exits when there is no answer.
 */
void https_call(const char *prog, const char *method, const char *path,
		const char *headers, const char *json, struct https_resp *r);

/*
 * Logs in as user and copies the session cookie's value into cookie and,
 * unless csrf is NULL, the CSRF token of the login's answer into csrf.
 * Exits when the login is refused.
 */
#define HTTPS_COOKIE_NAME "estuary_session"
void https_login(const char *prog, const char *user, const char *pass,
		 char *cookie, size_t cookielen, char *csrf, size_t csrflen);

/*
 * Client certificates and names, for EST (bench_est and the EST load test
 * of tests/integration): the connection still goes to the URL's loopback
 * address, but under name, which is sent as SNI and in the Host header
 * (https_hosthdr becomes "name:port") and must be in the server's
 * certificate.  name must be a DNS name; exits otherwise.
 */
void https_set_name(const char *name);

/*
 * https_open() presenting cert and key as the TLS client certificate
 * (both NULL: none), a new connection with a full handshake (no session
 * is resumed); 0 or -1.
 */
int https_open_cert(struct https_conn *cn, X509 *cert, EVP_PKEY *key);

/*
 * A TLS handshake and nothing else: https_open_cert(), then a close_notify
 * sent and the server's close awaited, so that the server has processed
 * the client's certificate and Finished before it returns; 0 or -1.
 */
int https_handshake_only(X509 *cert, EVP_PKEY *key);

#endif
