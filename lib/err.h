/*
 * Error codes shared by every Estuary program.  Functions return 0 on
 * success or one of the negative EST_E_* values below.  The list is an
 * X-macro so that the enum, the message strings and the HTTP status map are
 * generated from one table and cannot drift apart.
 */
#ifndef ESTUARY_ERR_H
#define ESTUARY_ERR_H

/* X(name, http status, message) */
#define EST_ERRORS(X)                                                          \
	X(OK, 200, "success")                                                  \
	X(NOMEM, 500, "out of memory")                                         \
	X(INVAL, 400, "invalid argument")                                      \
	X(TRUNCATED, 400, "message truncated")                                 \
	X(TOOBIG, 413, "message too large")                                    \
	X(TRAILING, 400, "trailing bytes after message")                       \
	X(BADTYPE, 400, "unknown message type")                                \
	X(BADVERSION, 400, "unsupported protocol version")                     \
	X(IO, 503, "input/output error")                                       \
	X(EOF, 503, "connection closed")                                       \
	X(NOTFOUND, 404, "not found")                                          \
	X(EXISTS, 409, "already exists")                                       \
	X(DENIED, 403, "permission denied")                                    \
	X(POLICY, 403, "request refused by key policy")                        \
	X(UNAUTH, 401, "authentication required")                              \
	X(CONFIG, 500, "configuration error")                                  \
	X(HSM, 503, "HSM error")                                               \
	X(PIN, 503, "HSM login failed")                                        \
	X(NOTOKEN, 503, "HSM token not found")                                 \
	X(CRYPTO, 500, "cryptographic operation failed")                       \
	X(DB, 503, "database error")                                           \
	X(SIGNER, 503, "signer unavailable")                                   \
	X(BADASN1, 400, "malformed ASN.1")                                     \
	X(BADALG, 400, "unsupported algorithm")                                \
	X(METHOD, 405, "method not allowed")                                   \
	X(MEDIATYPE, 415, "unsupported media type")                            \
	X(UNPROCESSABLE, 422, "validation failed")                             \
	X(CONFLICT, 409, "conflict")                                           \
	X(GONE, 410, "gone")                                                   \
	X(INTERNAL, 500, "internal error")                                     \
	X(PRECONDITION, 412, "precondition failed")                            \
	X(PRECONDREQ, 428, "precondition required")                            \
	X(TOOMANY, 429, "too many requests")

#define EST_ERR_ENUM(name, status, msg) EST_E_##name##_IDX,
enum est_err_index { EST_ERRORS(EST_ERR_ENUM) EST_E_COUNT_IDX };
#undef EST_ERR_ENUM

#define EST_ERR_CONST(name, status, msg)                                       \
	EST_E_##name = -(int)EST_E_##name##_IDX,
enum est_err { EST_ERRORS(EST_ERR_CONST) };
#undef EST_ERR_CONST

/* Message for an error code; never NULL. */
const char *est_strerror(int err);

/* The one place an error becomes an HTTP status. */
int est_err_http_status(int err);
/*
 * The other way, for code that decides an HTTP status first (EST and the
 * provisioning core) and returns an error code too: the code that answers
 * status; EST_E_INVAL for another 4xx, EST_E_INTERNAL for anything else.
 */
int est_err_from_status(int status);

/* Stable symbolic name ("NOTFOUND") for logs and JSON error codes. */
const char *est_err_name(int err);

#endif
