/*
 * The request module: every FastCGI request of estuary-api and estuary-est
 * becomes a struct request here, and nowhere else.  The parameters the web
 * server passes (an envp-style array of "KEY=value" strings) are checked
 * against one table of known variables, each with its validator, in the
 * manner of kcgi: a handler sees only fields that validated, and a field that
 * is absent or invalid is NULL (or 0).  The first invalid field gives the
 * request an error status, which the dispatcher answers before any handler
 * runs.  Unknown variables are ignored; an empty value counts as absent
 * (nginx passes unset variables as empty strings).
 *
 * Nothing here depends on libfcgi, so the module is tested and fuzzed
 * directly; the body is read through a callback (FCGX_GetStr in production).
 */
#ifndef ESTUARY_REQ_H
#define ESTUARY_REQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/x509.h>

#include "mtype.h"

/* Methods, as bits of a mask (routes allow a set of them). */
#define REQ_M_GET 0x01u
#define REQ_M_HEAD 0x02u
#define REQ_M_POST 0x04u
#define REQ_M_PUT 0x08u
#define REQ_M_PATCH 0x10u
#define REQ_M_DELETE 0x20u
#define REQ_M_OPTIONS 0x40u
#define REQ_M_ALL 0x7fu

/* Caps, checked before anything is copied. */
#define REQ_ENV_MAX 512	  /* parameters from the web server */
#define REQ_URI_MAX 2048  /* REQUEST_URI, path and query */
#define REQ_PATH_MAX 1024 /* decoded path */
#define REQ_QUERY_MAX 32  /* query parameters */
#define REQ_QNAME_MAX 64
#define REQ_QVALUE_MAX 1024
#define REQ_HOST_MAX 262  /* 253-byte name, ':' and a port, or [IPv6]:port */
#define REQ_AUTH_MAX 1024 /* the Authorization header */
#define REQ_USER_MAX 255
#define REQ_PASS_MAX 255
#define REQ_CERT_MAX 32768  /* SSL_CLIENT_CERT, PEM or URL-encoded PEM */
#define REQ_REASON_MAX 256  /* reason of SSL_CLIENT_VERIFY=FAILED:... */
#define REQ_COOKIE_MAX 4096 /* the Cookie header */
#define REQ_CSRF_MAX 128    /* the X-CSRF-Token header */

/* The If-Match header: a list of entity tags. */
#define REQ_IF_MATCH_MAX 1024

/* SSL_CLIENT_VERIFY as the web server reports it. */
enum req_verify {
	REQ_VERIFY_ABSENT = 0, /* no TLS or not exported */
	REQ_VERIFY_NONE,       /* no client certificate */
	REQ_VERIFY_SUCCESS,    /* verified by the web server */
	REQ_VERIFY_GENEROUS,   /* Apache optional_no_ca: not verified */
	REQ_VERIFY_FAILED,     /* presented but not verified */
};

struct req_param {
	char *name;
	char *value;
};

/* A peer address from REMOTE_ADDR; IPv4-mapped IPv6 becomes IPv4. */
struct req_addr {
	int af;		  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; 4 bytes used for AF_INET */
	char text[46];	  /* canonical text form */
};

struct request {
	/* REQUEST_METHOD: one REQ_M_* bit; 0 for CONNECT or TRACE. */
	unsigned method;
	char method_name[16]; /* for logs; "" when invalid */

	/* REQUEST_URI, percent-decoded, without dot-segments. */
	char *path;
	struct req_param query[REQ_QUERY_MAX];
	size_t nquery;

	/* HTTP_HOST, else SERVER_NAME: lower case, without port or []. */
	char *host;
	unsigned port; /* 0 when the Host had none */
	int host_is_ip;

	/* CONTENT_LENGTH (capped by max_body) and CONTENT_TYPE. */
	int has_length;
	size_t content_length;
	struct mtype *content_type;

	/* The body, once req_read_body() has run; always NUL-terminated. */
	uint8_t *body;
	size_t bodylen;

	/* HTTP_AUTHORIZATION: Basic user-id and password (wiped on free). */
	char *auth_user;
	char *auth_pass;

	/*
	 * HTTP_COOKIE as sent (fcgi/auth.c picks its cookie out) and
	 * HTTP_X_CSRF_TOKEN, without control characters (the token also
	 * ASCII only).  Both are credentials, wiped on free.
	 */
	char *cookie;
	char *csrf_token;

	/*
	 * HTTP_IF_MATCH, visible ASCII and spaces; fcgi/rest.c parses the
	 * list of entity tags.
	 */
	char *if_match;

	/* REMOTE_ADDR. */
	const struct req_addr *remote;

	/* TLS, from the web server. */
	int https;		/* HTTPS=on */
	char *tls_protocol;	/* SSL_PROTOCOL: "TLSv1.3" */
	X509 *client_cert;	/* SSL_CLIENT_CERT */
	uint8_t client_fp[32];	/* its SHA-256 fingerprint (of the DER) */
	enum req_verify verify; /* SSL_CLIENT_VERIFY */
	char *verify_reason;	/* the text after "FAILED:", if any */

	/*
	 * The first failure: HTTP status, the EST_E_* code behind it and the
	 * name of the field ("host", "content_length", ...).  status is 0
	 * for a valid request.
	 */
	int status;
	int err;
	const char *field;

	/* Storage behind remote. */
	struct req_addr remote_store;
};

struct req_limits {
	size_t max_body; /* max_body of estuary.conf */
};

/*
 * Reads at most len bytes of the body into p: the count read, 0 at the end
 * of the body, negative on error.
 */
typedef ssize_t (*req_read_fn)(void *arg, void *p, size_t len);

/*
 * Builds a request from envp (NULL-terminated "KEY=value" strings).  The
 * result is returned even when a field is invalid (check ->status); only a
 * failed allocation returns an error.  Does not read the body.
 */
int req_parse(char *const *envp, const struct req_limits *lim,
	      struct request **out);

/*
 * Reads exactly content_length bytes of body through fn.  A short body is
 * EST_E_TRUNCATED.  The request's length was capped by req_parse, so this
 * never allocates more than max_body.
 */
int req_read_body(struct request *req, req_read_fn fn, void *arg);

/* Frees req, wiping credentials and the body; req_free(NULL) is a no-op. */
void req_free(struct request *req);

/* The value of query parameter name, or NULL. */
const char *req_query(const struct request *req, const char *name);

/* 1 for methods that carry a body (POST, PUT, PATCH). */
int req_method_has_body(unsigned method);

/* Names of the methods in mask, in table order, as in an Allow header. */
int req_method_list(unsigned mask, char *out, size_t outlen);

/* Records a failure on req unless one is already recorded. */
void req_fail(struct request *req, int status, int err, const char *field);

#endif
