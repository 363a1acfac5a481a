/*
 * Validators of the request module, one per kind of web-server variable.
 * Internal to req*.c: handlers use struct request, never these.  Each
 * returns 0 or a negative EST_E_* code and sets its out-parameters only on
 * success.
 */
#ifndef ESTUARY_REQPARSE_H
#define ESTUARY_REQPARSE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "req.h"

/*
 * Percent-decodes len bytes at s (with plus_space, '+' becomes a space, as
 * in a query).  A '%' without two hex digits and %00 are EST_E_INVAL.
 * *out is NUL-terminated; *outlen excludes the NUL.
 */
int reqp_unescape(const char *s, size_t len, int plus_space, char **out,
		  size_t *outlen);

/* 1 when the len bytes at s are well-formed UTF-8. */
int reqp_utf8_valid(const char *s, size_t len);

/* REQUEST_URI: the decoded path and the query parameters. */
int reqp_uri(const char *raw, char **path, struct req_param *query,
	     size_t *nquery);

/* HTTP_HOST or SERVER_NAME: a DNS name or IP literal, optional port. */
int reqp_host(const char *v, char **host, unsigned *port, int *is_ip);

/*
 * HTTP_AUTHORIZATION: for the Basic scheme, the user-id and password; for
 * any other scheme 0 with both set to NULL (the handler decides).
 */
int reqp_basic(const char *v, char **user, char **pass);

/*
 * SSL_CLIENT_CERT: one PEM certificate, plain or URL-encoded (nginx), and
 * the SHA-256 fingerprint of its DER.
 */
int reqp_client_cert(const char *v, X509 **out, uint8_t fp[32]);

/* SSL_CLIENT_VERIFY: SUCCESS, NONE, GENEROUS, FAILED or FAILED:reason. */
int reqp_verify(const char *v, enum req_verify *verify, char **reason);

#endif
