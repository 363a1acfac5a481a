/*
 * Principal resolution for estuary-api: sessions, API applications by
 * HTTP Basic or by certificate, CSRF, and the helpers the login handlers
 * share (fcgi/auth.h explains the rules).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "apiapp.h"
#include "audit.h"
#include "auth.h"
#include "conf.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "passwd.h"
#include "resp.h"
#include "session.h"
#include "util.h"

#define US_PER_S INT64_C(1000000)

/* --- Start-up --- */

int
auth_init(const struct conf *c, void **state)
{
	struct auth_state *st = NULL;
	char *pw = NULL;
	int idle = 0, absolute = 0, r;

	if (conf_get_int(c, "session_idle_timeout", &idle) != 0 ||
	    conf_get_int(c, "session_absolute_timeout", &absolute) != 0 ||
	    idle < AUTH_IDLE_MIN || absolute < idle ||
	    absolute > AUTH_ABSOLUTE_MAX) {
		log_err("session_idle_timeout must be at least %d seconds and "
			"at most session_absolute_timeout, which must be at "
			"most %d seconds",
			AUTH_IDLE_MIN, AUTH_ABSOLUTE_MAX);
		return EST_E_CONFIG;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return EST_E_NOMEM;
	st->idle_timeout = idle;
	st->absolute_timeout = absolute;
	/* Nobody knows this password: it only makes time pass. */
	if ((r = passwd_generate(AUTH_TOKEN_BYTES, &pw)) != 0 ||
	    (r = passwd_hash(pw, &st->dummy_hash)) != 0) {
		log_err("cannot prepare the login checks: %s", est_strerror(r));
		freezero_str(pw);
		auth_fini(st);
		return r;
	}
	freezero_str(pw);
	*state = st;
	return 0;
}

void
auth_fini(void *state)
{
	struct auth_state *st = state;

	if (st == NULL)
		return;
	free(st->dummy_hash);
	free(st);
}

/* --- The pure parts --- */

static int
is_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

int
auth_cookie_value(const char *header, const char *name, char *out,
		  size_t outlen)
{
	const char *p, *end, *eq, *v, *ve;
	size_t nlen = strlen(name), vlen;
	int found = 0;

	if (header == NULL)
		return EST_E_NOTFOUND;
	for (p = header; *p != '\0'; p = *end == ';' ? end + 1 : end) {
		if ((end = strchr(p, ';')) == NULL)
			end = p + strlen(p);
		while (p < end && is_ows(*p))
			p++;
		if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL)
			continue;
		/* The name is compared exactly: no prefix, no case folding. */
		if ((size_t)(eq - p) != nlen || memcmp(p, name, nlen) != 0)
			continue;
		/* Two cookies of one name: which would be the session? */
		if (found++)
			return EST_E_INVAL;
		for (v = eq + 1, ve = end; ve > v && is_ows(ve[-1]); ve--)
			;
		if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
			v++;
			ve--;
		}
		if ((vlen = (size_t)(ve - v)) >= outlen)
			return EST_E_INVAL;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
	}
	return found ? 0 : EST_E_NOTFOUND;
}

static int
sha256(const void *p, size_t len, uint8_t md[AUTH_HASH_LEN])
{
	unsigned int mdlen = 0;

	if (EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != AUTH_HASH_LEN)
		return EST_E_CRYPTO;
	return 0;
}

int
auth_token_hash(const char *tok, uint8_t hash[AUTH_HASH_LEN])
{
	size_t i;

	for (i = 0; tok[i] != '\0'; i++) {
		if (i == AUTH_TOKEN_LEN)
			return EST_E_INVAL;
		if (!((tok[i] >= 'A' && tok[i] <= 'Z') ||
		      (tok[i] >= 'a' && tok[i] <= 'z') ||
		      (tok[i] >= '0' && tok[i] <= '9') || tok[i] == '-' ||
		      tok[i] == '_'))
			return EST_E_INVAL;
	}
	if (i != AUTH_TOKEN_LEN)
		return EST_E_INVAL;
	return sha256(tok, i, hash);
}

int
auth_token_new(char tok[AUTH_TOKEN_LEN + 1], uint8_t hash[AUTH_HASH_LEN])
{
	char *s = NULL;
	int r;

	/* passwd_generate() writes unpadded base64url, as a token is. */
	if ((r = passwd_generate(AUTH_TOKEN_BYTES, &s)) != 0)
		return r;
	if (strlen(s) != AUTH_TOKEN_LEN) {
		freezero_str(s);
		return EST_E_INTERNAL;
	}
	memcpy(tok, s, AUTH_TOKEN_LEN + 1);
	freezero_str(s);
	return auth_token_hash(tok, hash);
}

int64_t
auth_throttle_wait(const int64_t *ts, size_t n, size_t limit, int64_t window,
		   int64_t now_us)
{
	int64_t left;

	if (limit == 0 || n < limit)
		return 0;
	/*
	 * The count falls below the limit when the limit-th newest failure
	 * leaves the window.
	 */
	left = ts[limit - 1] + window * US_PER_S - now_us;
	if (left <= 0)
		return 0;
	return (left + US_PER_S - 1) / US_PER_S;
}

/*
 * Seconds to wait (0: go ahead) from the failures of account and of the
 * address key addr within the window, attempt left out; *which: the count
 * that decided.
 */
static int
throttle(struct db *db, const char *account, const char *addr, int64_t attempt,
	 int64_t *wait, enum auth_throttled *which)
{
	int64_t ts[AUTH_THROTTLE_ADDR], now = 0, w;
	size_t n = 0;
	int r;

	*wait = 0;
	*which = AUTH_THROTTLED_NONE;
	if ((r = db_attempt_failures(db, DB_ATTEMPT_ACCOUNT, account,
				     AUTH_THROTTLE_WINDOW, attempt, ts,
				     AUTH_THROTTLE_ACCOUNT, &n, &now)) != 0)
		return r;
	if ((w = auth_throttle_wait(ts, n, AUTH_THROTTLE_ACCOUNT,
				    AUTH_THROTTLE_WINDOW, now)) > 0) {
		*wait = w;
		*which = AUTH_THROTTLED_ACCOUNT;
	}
	if ((r = db_attempt_failures(db, DB_ATTEMPT_ADDR, addr,
				     AUTH_THROTTLE_WINDOW, attempt, ts,
				     AUTH_THROTTLE_ADDR, &n, &now)) != 0)
		return r;
	if ((w = auth_throttle_wait(ts, n, AUTH_THROTTLE_ADDR,
				    AUTH_THROTTLE_WINDOW, now)) > *wait) {
		*wait = w;
		*which = AUTH_THROTTLED_ADDR;
	}
	return 0;
}

int
auth_attempt_start(struct db *db, const char *account, const char *addr,
		   int64_t *attempt, int64_t *wait, enum auth_throttled *which)
{
	int r;

	/* Old rows go first, a batch at a time, so the table stays small. */
	if ((r = db_attempt_sweep(db, AUTH_THROTTLE_WINDOW)) != 0 ||
	    (r = db_attempt_add(db, account, addr, attempt)) != 0 ||
	    (r = throttle(db, account, addr, *attempt, wait, which)) != 0)
		return r;
	if (*wait == 0)
		return 0;
	if ((r = db_attempt_delete(db, *attempt)) != 0)
		return r;
	*attempt = 0;
	return 0;
}

int
auth_device_account(int64_t tenant_id, const char *name, char *out)
{
	uint8_t md[AUTH_HASH_LEN];
	char hex[33];
	int n, r;

	if ((r = sha256(name, strlen(name), md)) != 0)
		return r;
	hex_encode(md, 16, hex);
	n = snprintf(out, SESSION_USERNAME_MAX + 1, "est:%lld:%s",
		     (long long)tenant_id, hex);
	return n > 0 && n <= SESSION_USERNAME_MAX ? 0 : EST_E_INTERNAL;
}

int
auth_session_live(int64_t now_us, int64_t last_seen_us, int64_t expires_us,
		  int64_t idle)
{
	return now_us < expires_us && now_us - last_seen_us < idle * US_PER_S;
}

int
auth_addr_key(const struct req_addr *a, char *out, size_t outlen)
{
	uint8_t prefix[16];
	char text[INET6_ADDRSTRLEN];
	int n;

	if (a == NULL)
		n = snprintf(out, outlen, "unknown");
	else if (a->af == AF_INET)
		n = snprintf(out, outlen, "%s", a->text);
	else {
		memcpy(prefix, a->addr, 8);
		memset(prefix + 8, 0, 8);
		if (inet_ntop(AF_INET6, prefix, text, sizeof(text)) == NULL)
			return EST_E_INVAL;
		n = snprintf(out, outlen, "%s/64", text);
	}
	if (n < 0 || (size_t)n >= outlen)
		return EST_E_TOOBIG;
	return 0;
}

int
auth_cert_fingerprint(X509 *x, uint8_t fp[32])
{
	unsigned int len = 0;

	if (X509_digest(x, EVP_sha256(), fp, &len) != 1 || len != 32)
		return EST_E_CRYPTO;
	return 0;
}

int
auth_cert_usable(const struct request *req)
{
	X509 *x = req->client_cert;

	if (x == NULL || (req->verify != REQ_VERIFY_SUCCESS &&
			  req->verify != REQ_VERIFY_GENEROUS))
		return 0;
	/* GENEROUS means nobody checked the dates. */
	return X509_cmp_current_time(X509_get0_notBefore(x)) < 0 &&
	       X509_cmp_current_time(X509_get0_notAfter(x)) > 0;
}

/* --- Responses --- */

static int
json_add(struct json_object *o, const char *key, struct json_object *v)
{
	if (v == NULL)
		return EST_E_NOMEM;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return EST_E_NOMEM;
	}
	return 0;
}

int
auth_error(struct resp *rs, int status, const char *code, const char *message,
	   const char *field, int challenge)
{
	struct json_object *top = NULL, *e = NULL;
	int r;

	resp_reset(rs);
	if ((top = json_object_new_object()) == NULL ||
	    (e = json_object_new_object()) == NULL) {
		json_object_put(top);
		return EST_E_NOMEM;
	}
	if ((r = json_add(top, "error", e)) != 0 ||
	    (r = json_add(e, "code", json_object_new_string(code))) != 0 ||
	    (r = json_add(e, "message", json_object_new_string(message))) !=
		    0 ||
	    (field != NULL &&
	     (r = json_add(e, "field", json_object_new_string(field))) != 0) ||
	    (r = resp_json(rs, status, top)) != 0)
		goto out;
	if (challenge)
		r = resp_header(rs, "WWW-Authenticate",
				"Basic realm=\"" AUTH_REALM "\"");
out:
	json_object_put(top);
	return r;
}

#define COOKIE_ATTRS "; Path=/; Secure; HttpOnly; SameSite=Strict"

int
auth_cookie_set(struct resp *rs, const char *token)
{
	char v[sizeof(AUTH_COOKIE) + AUTH_TOKEN_LEN + sizeof(COOKIE_ATTRS)];
	int n, r;

	/* No Max-Age or Expires: the browser forgets it when it closes. */
	n = snprintf(v, sizeof(v), "%s=%s%s", AUTH_COOKIE, token, COOKIE_ATTRS);
	if (n < 0 || (size_t)n >= sizeof(v))
		return EST_E_INTERNAL;
	r = resp_header(rs, "Set-Cookie", v);
	explicit_bzero(v, sizeof(v));
	return r;
}

int
auth_cookie_clear(struct resp *rs)
{
	return resp_header(rs, "Set-Cookie",
			   AUTH_COOKIE "=; Max-Age=0" COOKIE_ATTRS);
}

int64_t
auth_user_id(const struct principal *p)
{
	return p->kind == PRINCIPAL_USER ? p->id : 0;
}

int
auth_actor(const struct principal *p, struct perm_actor *a)
{
	if (p->role <= PERM_ROLE_NONE || p->role >= PERM_ROLE_COUNT)
		return EST_E_INVAL;
	a->role = p->role;
	a->tenant_id = p->tenant_id;
	a->org_id = p->org_id;
	return 0;
}

void
auth_audit_actor(const struct principal *p, const struct request *req,
		 struct audit_event *ev)
{
	auth_audit_actor_at(p, req->remote != NULL ? req->remote->text : NULL,
			    ev);
}

void
auth_audit_actor_at(const struct principal *p, const char *addr,
		    struct audit_event *ev)
{
	ev->actor_type = p->kind == PRINCIPAL_USER ? AUDIT_ACTOR_USER
						   : AUDIT_ACTOR_APPLICATION;
	ev->actor_id = p->id;
	ev->actor_name = p->name;
	ev->tenant_id = p->tenant_id;
	ev->org_id = p->org_id;
	ev->source_addr = addr;
}

static struct json_object *
json_id(int64_t id)
{
	/* 0 means none: JSON null (json_add then adds null, not NOMEM). */
	return id > 0 ? json_object_new_int64(id) : NULL;
}

static int
json_add_id(struct json_object *o, const char *key, int64_t id)
{
	struct json_object *v = json_id(id);

	if (id > 0 && v == NULL)
		return EST_E_NOMEM;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return EST_E_NOMEM;
	}
	return 0;
}

int
auth_principal_json(const struct principal *p, struct json_object **out)
{
	static const char *const methods[] = {
		[AUTH_SESSION] = "session",
		[AUTH_BASIC] = "basic",
		[AUTH_CERT] = "certificate",
	};
	struct json_object *o = NULL;
	const char *role = perm_role_name(p->role);
	int r;

	if (role == NULL || p->method < AUTH_SESSION || p->method > AUTH_CERT)
		return EST_E_INVAL;
	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = json_add(o, "type",
			  json_object_new_string(p->kind == PRINCIPAL_USER
							 ? "user"
							 : "application"))) !=
		    0 ||
	    (r = json_add(o, "id", json_object_new_int64(p->id))) != 0 ||
	    (r = json_add(o, "name", json_object_new_string(p->name))) != 0 ||
	    (r = json_add(o, "role", json_object_new_string(role))) != 0 ||
	    (r = json_add_id(o, "tenant_id", p->tenant_id)) != 0 ||
	    (r = json_add_id(o, "org_id", p->org_id)) != 0 ||
	    (r = json_add(o, "auth_method",
			  json_object_new_string(methods[p->method]))) != 0)
		goto out;
	if (p->kind == PRINCIPAL_USER)
		r = json_add(o, "strong_auth",
			     json_object_new_boolean(p->strong));
	else
		r = json_add(o, "app_id", json_object_new_string(p->app_id));
	if (r != 0)
		goto out;
	*out = o;
	o = NULL;
out:
	json_object_put(o);
	return r;
}

/* --- Resolution --- */

static int
set_name(struct principal *p, const char *name)
{
	size_t len = strlen(name);

	if (len > AUTH_NAME_MAX)
		return EST_E_INTERNAL;
	memcpy(p->name, name, len + 1);
	return 0;
}

/*
 * Audits a failed application authentication and answers EST_E_UNAUTH
 * (or the audit's own failure).  a is NULL when the AppID named nothing;
 * typed is then what the client sent.
 */
static int
app_failed(struct db *db, const struct request *req, const struct db_apiapp *a,
	   const char *typed, const char *reason)
{
	struct audit_event ev;
	int r;

	memset(&ev, 0, sizeof(ev));
	ev.actor_type = AUDIT_ACTOR_APPLICATION;
	ev.actor_id = a != NULL ? a->id : 0;
	ev.actor_name = a != NULL ? a->name : typed;
	ev.tenant_id = a != NULL ? a->tenant_id : 0;
	ev.org_id = a != NULL ? a->org_id : 0;
	ev.entity = perm_entity_name(PERM_ENT_API_APPLICATION);
	ev.entity_id = ev.actor_id;
	ev.entity_name = ev.actor_name;
	ev.action = "authenticate";
	ev.outcome = AUDIT_FAILURE;
	ev.reason = reason;
	ev.source_addr = req->remote != NULL ? req->remote->text : NULL;
	if ((r = db_audit_append(db, &ev)) != 0)
		return r;
	return EST_E_UNAUTH;
}

/* Why an application may not authenticate now, or NULL. */
static const char *
app_unusable(const struct db_apiapp *a)
{
	if (a->revoked)
		return "application revoked";
	if (!a->active)
		return "application inactive";
	if (a->expired)
		return "application expired";
	if (!a->tenant_active)
		return "tenant inactive";
	if (!a->org_active)
		return "organization inactive";
	return NULL;
}

static int
app_principal(struct db *db, const struct db_apiapp *a, enum auth_method m,
	      struct principal *p)
{
	memset(p, 0, sizeof(*p));
	if (perm_role_from_name(a->role, &p->role) != 0 ||
	    strlen(a->app_id) >= sizeof(p->app_id) || set_name(p, a->name) != 0)
		return EST_E_INTERNAL;
	p->kind = PRINCIPAL_APPLICATION;
	p->method = m;
	p->id = a->id;
	memcpy(p->app_id, a->app_id, strlen(a->app_id) + 1);
	p->tenant_id = a->tenant_id;
	p->org_id = a->org_id;
	return a->touch_due ? db_apiapp_touch(db, a->id) : 0;
}

/* AppID:AppKey against the row a of the AppID (NULL: none). */
static int
basic_check(struct db *db, const struct request *req, const struct db_apiapp *a,
	    struct principal *p)
{
	const char *why;

	if (a == NULL)
		return app_failed(db, req, NULL, req->auth_user,
				  "unknown application");
	if (apiapp_key_check(req->auth_pass, a->key_hash) != 0)
		return app_failed(db, req, a, NULL, "wrong application key");
	if ((why = app_unusable(a)) != NULL)
		return app_failed(db, req, a, NULL, why);
	return app_principal(db, a, AUTH_BASIC, p);
}

static int
resolve_basic(struct db *db, const struct request *req, struct principal *p)
{
	struct db_apiapp *a = NULL;
	int r;

	/* An AppID has one shape; anything else names no application. */
	if (!apiapp_id_valid(req->auth_user))
		return basic_check(db, req, NULL, p);
	r = db_apiapp_get_by_app_id(db, req->auth_user, &a);
	if (r != 0 && r != EST_E_NOTFOUND)
		return r;
	r = basic_check(db, req, a, p);
	db_apiapp_free(a);
	return r;
}

/*
 * The application a whose certificate the request presented.  A
 * certificate that belongs to no application (a NULL) is not audited: a
 * strong-authentication user's browser sends its certificate before the
 * login too.
 */
static int
cert_check(struct db *db, const struct request *req, const struct db_apiapp *a,
	   struct principal *p)
{
	const char *why;

	if (a == NULL)
		return EST_E_UNAUTH;
	if ((why = app_unusable(a)) != NULL)
		return app_failed(db, req, a, NULL, why);
	return app_principal(db, a, AUTH_CERT, p);
}

static int
resolve_cert(struct db *db, const struct request *req, struct principal *p)
{
	struct db_apiapp *a = NULL;
	int r;

	if (!auth_cert_usable(req))
		return EST_E_UNAUTH;
	r = db_apiapp_get_by_cert(db, req->client_fp, &a);
	if (r != 0 && r != EST_E_NOTFOUND)
		return r;
	r = cert_check(db, req, a, p);
	db_apiapp_free(a);
	return r;
}

/*
 * 1 when req presents the certificate whose fingerprint is fp, as strong
 * authentication requires.
 */
static int
cert_matches(const struct request *req, const uint8_t *fp)
{
	return auth_cert_usable(req) &&
	       timingsafe_memcmp(req->client_fp, fp, sizeof(req->client_fp)) ==
		       0;
}

static int
resolve_session(struct hctx *c, struct db *db, const char *token,
		const struct request *req, struct principal *p)
{
	const struct auth_state *st = c->state;
	struct db_session *s = NULL;
	uint8_t h[AUTH_HASH_LEN];
	int r;

	if (st == NULL)
		return EST_E_CONFIG;
	if (auth_token_hash(token, h) != 0)
		return EST_E_UNAUTH;
	if ((r = db_session_get(db, h, &s)) == EST_E_NOTFOUND)
		return EST_E_UNAUTH;
	if (r != 0)
		return r;
	memset(p, 0, sizeof(*p));
	if (!auth_session_live(s->now_us, s->last_seen_us, s->expires_us,
			       st->idle_timeout) ||
	    s->stale || !s->user.active || !s->user.tenant_active ||
	    !s->user.org_active) {
		/* A dead session is never coming back. */
		if ((r = db_session_delete(db, s->id)) == 0)
			r = EST_E_UNAUTH;
		goto out;
	}
	if (s->strong_auth &&
	    (!s->user.has_cert || !cert_matches(req, s->user.cert_fp))) {
		r = EST_E_UNAUTH;
		goto out;
	}
	if (perm_role_from_name(s->user.role, &p->role) != 0 ||
	    set_name(p, s->user.username) != 0) {
		r = EST_E_INTERNAL;
		goto out;
	}
	p->kind = PRINCIPAL_USER;
	p->method = AUTH_SESSION;
	p->id = s->user.id;
	p->tenant_id = s->user.tenant_id;
	p->org_id = s->user.org_id;
	p->session_id = s->id;
	p->strong = s->strong_auth;
	memcpy(p->csrf_hash, s->csrf_hash, sizeof(p->csrf_hash));
	r = 0;
	if (s->now_us - s->last_seen_us >= AUTH_TOUCH_INTERVAL * US_PER_S)
		r = db_session_touch(db, s->id);
out:
	db_session_free(s);
	explicit_bzero(h, sizeof(h));
	return r;
}

int
auth_resolve(struct hctx *c, const struct request *req, struct principal *p)
{
	struct principal tmp;
	char token[AUTH_TOKEN_LEN + 1];
	struct db *db;
	int has_cookie, r;

	r = auth_cookie_value(req->cookie, AUTH_COOKIE, token, sizeof(token));
	/* Two of them, or one too long, is a cookie that opens no session. */
	has_cookie = r == 0 || r == EST_E_INVAL;
	if (r != 0)
		token[0] = '\0';
	if (has_cookie && req->auth_user != NULL) {
		r = EST_E_INVAL;
		goto out;
	}
	if (!has_cookie && req->auth_user == NULL && !auth_cert_usable(req)) {
		r = EST_E_UNAUTH;
		goto out;
	}
	if ((r = ctx_db(c, &db)) != 0)
		goto out;
	if (req->auth_user != NULL)
		r = resolve_basic(db, req, &tmp);
	else if (has_cookie)
		r = resolve_session(c, db, token, req, &tmp);
	else
		r = resolve_cert(db, req, &tmp);
	if (r == 0)
		*p = tmp;
	explicit_bzero(&tmp, sizeof(tmp));
out:
	explicit_bzero(token, sizeof(token));
	return r;
}

int
auth_resolve_app(struct hctx *c, const struct request *req, int basic,
		 struct principal *p)
{
	struct principal tmp;
	struct db *db;
	int r;

	if (basic ? req->auth_user == NULL : !auth_cert_usable(req))
		return EST_E_UNAUTH;
	if ((r = ctx_db(c, &db)) != 0)
		return r;
	r = basic ? resolve_basic(db, req, &tmp) : resolve_cert(db, req, &tmp);
	if (r == 0)
		*p = tmp;
	explicit_bzero(&tmp, sizeof(tmp));
	return r;
}

int
auth_resolve_app_row(struct hctx *c, const struct request *req, int basic,
		     const struct db_apiapp *a, struct principal *p)
{
	struct principal tmp;
	struct db *db;
	int r;

	if (basic ? req->auth_user == NULL : !auth_cert_usable(req))
		return EST_E_UNAUTH;
	/* A row that is not the credential's would be another's. */
	if (a != NULL && basic &&
	    (a->app_id == NULL || strcmp(a->app_id, req->auth_user) != 0))
		return EST_E_INTERNAL;
	if (a != NULL && !basic &&
	    (!a->has_cert ||
	     memcmp(a->cert_fp, req->client_fp, sizeof(a->cert_fp)) != 0))
		return EST_E_INTERNAL;
	if ((r = ctx_db(c, &db)) != 0)
		return r;
	r = basic ? basic_check(db, req, a, &tmp)
		  : cert_check(db, req, a, &tmp);
	if (r == 0)
		*p = tmp;
	explicit_bzero(&tmp, sizeof(tmp));
	return r;
}

/* 1 for the methods that change state and need a CSRF token. */
static int
changes_state(unsigned method)
{
	return (method &
		(REQ_M_POST | REQ_M_PUT | REQ_M_PATCH | REQ_M_DELETE)) != 0;
}

static int
csrf_ok(const struct request *req, const struct principal *p)
{
	uint8_t h[AUTH_HASH_LEN];
	int ok;

	if (req->csrf_token == NULL || auth_token_hash(req->csrf_token, h) != 0)
		return 0;
	ok = timingsafe_memcmp(h, p->csrf_hash, sizeof(h)) == 0;
	explicit_bzero(h, sizeof(h));
	return ok;
}

int
auth_require(struct hctx *c, const struct request *req, struct resp *rs,
	     auth_fn fn)
{
	struct principal p;
	int r;

	r = auth_resolve(c, req, &p);
	if (r == EST_E_UNAUTH)
		return auth_error(rs, 401, est_err_name(r), est_strerror(r),
				  NULL, req->auth_user != NULL);
	if (r == EST_E_INVAL)
		return resp_error_reason(rs, 400, r, "authorization",
					 "send a session cookie or HTTP Basic "
					 "credentials, not both");
	if (r != 0)
		return r;
	if (p.method == AUTH_SESSION && changes_state(req->method) &&
	    !csrf_ok(req, &p))
		r = auth_error(rs, 403, "CSRF",
			       "missing or wrong " AUTH_CSRF_HEADER " header",
			       AUTH_CSRF_HEADER, 0);
	else
		r = fn(c, req, &p, rs);
	explicit_bzero(&p, sizeof(p));
	return r;
}
