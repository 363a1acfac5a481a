/*
 * Authentication of estuary-api requests: who asks, as a struct principal,
 * from which every permission decision (lib/perm.h) starts.
 *
 * Credentials, and the order in which they are looked at:
 *  1. A request that carries both the session cookie and HTTP Basic
 *     credentials is refused with 400: they may name two principals, and
 *     a request acts for exactly one.
 *  2. HTTP Basic "AppID:AppKey": an API application (db/apiapp.h).
 *  3. The cookie AUTH_COOKIE: a portal user's session.
 *  4. A TLS client certificate that the web server reports as SUCCESS
 *     (verified) or GENEROUS (Apache's optional_no_ca: not verified, but
 *     the web server proved that the client holds its key), within its
 *     validity, whose SHA-256 fingerprint is that of an API application's
 *     certificate.  FAILED, NONE or no status at all never authenticate.
 * Anything else is 401.  A client certificate beside a cookie or Basic
 * credentials is no competing claim (a browser presents the certificate of
 * a strong-authentication user on every connection) and is ignored, except
 * that a session opened with strong authentication accepts only requests
 * that present the user's certificate again.
 *
 * 401 carries WWW-Authenticate: Basic realm="estuary-api" only when the
 * request tried HTTP Basic: a browser that receives that challenge in
 * answer to a cookie request would pop up a password dialog of its own.
 *
 * Sessions.  The session token and the CSRF token are AUTH_TOKEN_BYTES
 * random bytes in unpadded base64url; the database keeps only their
 * SHA-256 digests, so a copy of the sessions table lets nobody in.  A
 * session ends after session_idle_timeout seconds without a request, after
 * session_absolute_timeout seconds in all (estuary.conf(5)), at logout,
 * when the user, its tenant or its organization is deactivated, and when
 * the user's password changes.
 *
 * CSRF.  A state-changing request (POST, PUT, PATCH, DELETE) authenticated
 * by the cookie must carry the header X-CSRF-Token with the token the
 * login returned, or it is refused with 403 and the code "CSRF"; the
 * digests are compared in constant time.  Requests authenticated by Basic
 * or by a certificate need no token: a browser does not attach Basic
 * credentials it was never challenged for, and the only requests another
 * site can make a browser send without a CORS preflight (which this API
 * never grants) are GET, HEAD and POST with a form or text body, which no
 * state-changing endpoint accepts (they take application/json).
 *
 * Throttling of logins: AUTH_THROTTLE_ACCOUNT failures of one username or
 * AUTH_THROTTLE_ADDR failures from one source (an IPv4 address or an IPv6
 * /64, which one client usually holds whole) within AUTH_THROTTLE_WINDOW
 * seconds make further logins answer 429 with Retry-After until the oldest
 * of those failures leaves the window.  The check runs before the password
 * is verified, so a throttled guess learns nothing; a successful login
 * clears its account's count (not the address's, or one valid account
 * would reset the count of an attacker guessing others).
 */
#ifndef ESTUARY_AUTH_H
#define ESTUARY_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "perm.h"
#include "req.h"

struct audit_event;
struct db;
struct conf;
struct hctx;
struct json_object;
struct resp;

#define AUTH_COOKIE "estuary_session"
#define AUTH_REALM "estuary-api"
#define AUTH_CSRF_HEADER "X-CSRF-Token"

#define AUTH_TOKEN_BYTES 32 /* 256 bits */
#define AUTH_TOKEN_LEN 43   /* unpadded base64url of 32 bytes */
#define AUTH_HASH_LEN 32    /* SHA-256 */

#define AUTH_THROTTLE_WINDOW (15 * 60) /* seconds */
#define AUTH_THROTTLE_ACCOUNT 5	       /* failures per username */
#define AUTH_THROTTLE_ADDR 20	       /* failures per source */

/* Bounds of the estuary.conf(5) session timeouts, in seconds. */
#define AUTH_IDLE_MIN 60
#define AUTH_ABSOLUTE_MAX (30 * 24 * 3600)
/*
 * A session's last activity is written at most this often (seconds), so
 * that a burst of requests does not become a burst of database writes; the
 * idle timeout is that much less exact.
 */
#define AUTH_TOUCH_INTERVAL 10

/* The estuary-api state that authentication needs (app->init). */
struct auth_state {
	int64_t idle_timeout;	  /* seconds */
	int64_t absolute_timeout; /* seconds */
	/*
	 * An argon2id hash of a random password, verified when a login names
	 * no user, so that an unknown user takes as long as a wrong password.
	 */
	char *dummy_hash;
};

int auth_init(const struct conf *c, void **state);
void auth_fini(void *state);

enum principal_kind {
	PRINCIPAL_USER = 1,
	PRINCIPAL_APPLICATION,
};

enum auth_method {
	AUTH_SESSION = 1, /* the session cookie */
	AUTH_BASIC,	  /* AppID:AppKey */
	AUTH_CERT,	  /* an application's TLS client certificate */
};

#define AUTH_NAME_MAX 512 /* bytes: 128 characters of UTF-8 */

struct principal {
	enum principal_kind kind;
	enum auth_method method;
	int64_t id;		      /* users.id, api_applications.id */
	char name[AUTH_NAME_MAX + 1]; /* username, application name */
	char app_id[33];	      /* applications: the AppID */
	enum perm_role role;
	int64_t tenant_id;  /* 0 for none */
	int64_t org_id;	    /* 0 for none */
	int64_t session_id; /* AUTH_SESSION */
	int strong;	    /* the session checked a certificate */
	uint8_t csrf_hash[AUTH_HASH_LEN]; /* AUTH_SESSION */
};

/*
 * Finds the principal of req as described above.  0 and *p; EST_E_UNAUTH
 * when the request is not authenticated; EST_E_INVAL for a cookie with
 * Basic credentials; a database error (EST_E_DB...) otherwise.  Failed
 * application credentials are audited here.
 */
int auth_resolve(struct hctx *c, const struct request *req,
		 struct principal *p);

/*
 * An API application only, for another protocol's endpoints (EST): by
 * AppID:AppKey in HTTP Basic (basic 1) or by its TLS client certificate
 * (basic 0), with the same lookup and the same audit of a wrong key as
 * auth_resolve(); sessions are never considered.  EST_E_UNAUTH when the
 * request holds no such credential or it names no active application.
 */
int auth_resolve_app(struct hctx *c, const struct request *req, int basic,
		     struct principal *p);
/*
 * auth_resolve_app() with the application's row already read (a, NULL
 * when no application has that AppID, or that certificate's fingerprint
 * for basic 0): the same checks and the same audit, without the lookup.
 */
struct db_apiapp;
int auth_resolve_app_row(struct hctx *c, const struct request *req, int basic,
			 const struct db_apiapp *a, struct principal *p);

/* The handler of a route that needs authentication. */
typedef int (*auth_fn)(struct hctx *c, const struct request *req,
		       const struct principal *p, struct resp *rs);

/*
 * Authenticates req, checks its CSRF token when it needs one, and runs fn
 * with the principal; otherwise answers 400, 401 or 403 itself (and
 * returns 0).  A database failure is returned for the dispatcher to
 * answer.
 */
int auth_require(struct hctx *c, const struct request *req, struct resp *rs,
		 auth_fn fn);

/*
 * Defines the route handler name, which runs fn through auth_require().
 * Every route of estuary-api other than the few public ones (health,
 * login) is declared with it: a handler of type auth_fn cannot be put in
 * the route table without it, and it cannot run without a principal.
 */
#define AUTH_ROUTE(name, fn)                                                   \
	static int name(struct hctx *c_, const struct request *req_,           \
			struct resp *rs_)                                      \
	{                                                                      \
		return auth_require(c_, req_, rs_, (fn));                      \
	}

/*
 * The same for a route handler with external linkage, declared in an area
 * header (api_*.h) and listed in fcgi/api_routes.c.
 */
#define AUTH_ROUTE_PUBLIC(name, fn)                                            \
	int name(struct hctx *c_, const struct request *req_,                  \
		 struct resp *rs_)                                             \
	{                                                                      \
		return auth_require(c_, req_, rs_, (fn));                      \
	}

/*
 * The user behind p for the "created by" columns, or 0 when p is an
 * application (whose rows name no user).
 */
int64_t auth_user_id(const struct principal *p);

/* The permission-table actor of p; EST_E_INVAL when p is inconsistent. */
int auth_actor(const struct principal *p, struct perm_actor *a);

/* The fields of an audit event that say who acted, and from where. */
void auth_audit_actor(const struct principal *p, const struct request *req,
		      struct audit_event *ev);
/* The same with the source address as text (NULL for none). */
void auth_audit_actor_at(const struct principal *p, const char *addr,
			 struct audit_event *ev);

/*
 * p as the API shows it: {"type", "id", "name", "role", "tenant_id",
 * "org_id", "auth_method"} and "strong_auth" for a user or "app_id" for
 * an application.
 */
int auth_principal_json(const struct principal *p, struct json_object **out);

/*
 * An error in the API's shape with a code of its own: for the statuses
 * whose code the error table cannot give ("CSRF") and for 401, whose
 * WWW-Authenticate header is sent only when challenge is set.
 */
int auth_error(struct resp *rs, int status, const char *code,
	       const char *message, const char *field, int challenge);

/* Set-Cookie for a new session, and to end one. */
int auth_cookie_set(struct resp *rs, const char *token);
int auth_cookie_clear(struct resp *rs);

/* --- The pure parts (tests/unit/test_auth.c) --- */

/*
 * Finds the cookie name in a Cookie header (RFC 6265 section 5.4: pairs
 * separated by ";" and optional spaces; a value may be double-quoted) and
 * copies its value into out.  EST_E_NOTFOUND when it is absent (or the
 * header is NULL); EST_E_INVAL when it appears twice, or its value is
 * longer than outlen - 1 bytes.
 */
int auth_cookie_value(const char *header, const char *name, char *out,
		      size_t outlen);

/* A new random token and its digest. */
int auth_token_new(char tok[AUTH_TOKEN_LEN + 1], uint8_t hash[AUTH_HASH_LEN]);
/*
 * The digest of a token a client sent; EST_E_INVAL when it does not have
 * the form of one (exactly AUTH_TOKEN_LEN base64url characters).
 */
int auth_token_hash(const char *tok, uint8_t hash[AUTH_HASH_LEN]);

/*
 * Throttling: ts holds the times (UNIX microseconds, newest first) of the
 * n newest failures within the window.  Returns 0 when another attempt
 * may go ahead (fewer than limit failures), else the seconds until the
 * limit-th newest leaves the window (at least 1): the Retry-After value.
 */
int64_t auth_throttle_wait(const int64_t *ts, size_t n, size_t limit,
			   int64_t window, int64_t now_us);

/* Which count made auth_attempt_start() ask for a wait. */
enum auth_throttled {
	AUTH_THROTTLED_NONE = 0,
	AUTH_THROTTLED_ACCOUNT, /* AUTH_THROTTLE_ACCOUNT failures of account */
	AUTH_THROTTLED_ADDR,	/* AUTH_THROTTLE_ADDR failures of the address */
};

/*
 * The start of a password check of account from the address key addr,
 * throttled as the top of this file says (login_attempts; portal logins
 * and EST device passwords share it): sweeps attempts older than the
 * window, records this one as a failure (so that concurrent attempts
 * count against one another) in *attempt, and sets *wait to the seconds
 * the client must wait (0: go ahead) and *which to the count that
 * decided.  A throttled attempt is forgotten again (*attempt 0): a
 * refused attempt is not a failure and must not prolong the wait.  After
 * the check, db_attempt_succeeded() turns a success into one.
 */
int auth_attempt_start(struct db *db, const char *account, const char *addr,
		       int64_t *attempt, int64_t *wait,
		       enum auth_throttled *which);

/*
 * The throttling account of EST device ID name in tenant tenant_id, as
 * login_attempts.username holds it: "est:TENANT:" and the first 16 bytes
 * of the name's SHA-256 in hex (a device name may be longer than the
 * column; a username cannot contain ':').  out has room for
 * SESSION_USERNAME_MAX characters and the NUL.
 */
int auth_device_account(int64_t tenant_id, const char *name, char *out);

/*
 * 1 when a session last seen at last_seen_us and expiring at expires_us
 * is still alive at now_us with an idle timeout of idle seconds, else 0.
 */
int auth_session_live(int64_t now_us, int64_t last_seen_us, int64_t expires_us,
		      int64_t idle);

/* The throttling key of a source address: IPv4 text or an IPv6 /64. */
int auth_addr_key(const struct req_addr *a, char *out, size_t outlen);

/* The SHA-256 fingerprint of a certificate's DER encoding. */
int auth_cert_fingerprint(X509 *x, uint8_t fp[32]);
/*
 * 1 when req carries a client certificate that may authenticate: status
 * SUCCESS or GENEROUS, and valid now.
 */
int auth_cert_usable(const struct request *req);

#endif
