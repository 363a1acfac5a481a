/*
 * Login, logout and "who am I" (fcgi/api_auth.h).
 *
 * Every failed login answers the same 401 with the same message, whatever
 * the reason (unknown user, wrong password, inactive user, tenant or
 * organization, missing or wrong client certificate), and takes the same
 * time: an unknown user's password is verified against a dummy argon2id
 * hash, and an inactive user's against the real one.  Only the audit log
 * records the true reason.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "api_auth.h"
#include "audit.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "jsonval.h"
#include "log.h"
#include "passwd.h"
#include "resp.h"
#include "session.h"
#include "util.h"

#define LOGIN_USERNAME_MAX 255 /* characters */
#define LOGIN_FAILED_MESSAGE "invalid username or password"

static const struct jsonval_field login_fields[] = {
	{.name = "username",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = LOGIN_USERNAME_MAX},
	{.name = "password",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = PASSWD_MAX},
};

/* One login as it goes along. */
struct login {
	const char *username; /* as typed */
	const char *password;
	const char *source; /* REMOTE_ADDR, for the audit log and the session */
	char addr_key[64];  /* the throttling key of the source */
	int64_t attempt;    /* login_attempts.id */
	struct db_login_user *user;
	const char *reason; /* why it failed, for the audit log */
	int strong;	    /* a client certificate was checked */
};

/* application/json, with no charset or UTF-8 (RFC 8259 section 8.1). */
static int
json_body(const struct request *req)
{
	const char *cs;

	if (req->content_type == NULL ||
	    !mtype_is(req->content_type, "application/json"))
		return 0;
	cs = mtype_param(req->content_type, "charset");
	return cs == NULL || strcasecmp(cs, "utf-8") == 0;
}

/* Answers a body that did not validate in the API's error shape. */
static int
body_error(struct resp *rs, const struct jsonval_error *err)
{
	return resp_error_reason(rs, 0, err->code,
				 err->field[0] != '\0' ? err->field : NULL,
				 err->message[0] != '\0' ? err->message : NULL);
}

static int
login_audit(struct db *db, const struct login *lg, const char *outcome)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.actor_type = AUDIT_ACTOR_USER;
	ev.entity = perm_entity_name(PERM_ENT_USER);
	ev.action = "login";
	ev.outcome = outcome;
	ev.reason = lg->reason;
	ev.source_addr = lg->source;
	if (lg->user != NULL) {
		ev.actor_id = ev.entity_id = lg->user->id;
		ev.actor_name = ev.entity_name = lg->user->username;
		ev.tenant_id = lg->user->tenant_id;
		ev.org_id = lg->user->org_id;
	} else {
		ev.actor_name = ev.entity_name = lg->username;
	}
	return db_audit_append(db, &ev);
}

/*
 * Strong authentication: the client certificate must be the one bound to
 * the user, presented and not refused by the web server.
 */
static const char *
login_cert_problem(const struct request *req, const struct db_login_user *u)
{
	if (!u->has_cert)
		return NULL;
	if (!auth_cert_usable(req))
		return "client certificate required";
	if (timingsafe_memcmp(req->client_fp, u->cert_fp,
			      sizeof(req->client_fp)) != 0)
		return "client certificate does not match";
	return NULL;
}

/*
 * Checks the password and the rest; 0 when the user may log in, else
 * lg->reason says why not.  Only a database failure is an error.
 */
static int
login_check(struct hctx *c, struct db *db, const struct request *req,
	    struct login *lg)
{
	const struct auth_state *st = c->state;
	const char *hash;
	int r, pw_ok;

	r = db_login_user_get(db, lg->username, &lg->user);
	if (r != 0 && r != EST_E_NOTFOUND)
		return r;
	/* An unknown user costs the same argon2id work as a known one. */
	hash = lg->user != NULL ? lg->user->password_hash : st->dummy_hash;
	if ((r = passwd_verify(lg->password, hash)) == EST_E_NOMEM)
		return r;
	pw_ok = r == 0 && lg->user != NULL;
	if (lg->user == NULL)
		lg->reason = "unknown user";
	else if (!pw_ok)
		lg->reason = "wrong password";
	else if (!lg->user->active)
		lg->reason = "user inactive";
	else if (!lg->user->tenant_active)
		lg->reason = "tenant inactive";
	else if (!lg->user->org_active)
		lg->reason = "organization inactive";
	else if ((lg->reason = login_cert_problem(req, lg->user)) == NULL)
		lg->strong = lg->user->has_cert;
	return 0;
}

static int
login_failed(struct db *db, struct login *lg, struct resp *rs)
{
	int r;

	if ((r = db_begin(db)) != 0)
		return r;
	if ((lg->user == NULL ||
	     (r = db_login_user_failed(db, lg->user->id)) == 0) &&
	    (r = login_audit(db, lg, AUDIT_FAILURE)) == 0 &&
	    (r = db_commit(db)) == 0)
		return auth_error(rs, 401, est_err_name(EST_E_UNAUTH),
				  LOGIN_FAILED_MESSAGE, NULL, 0);
	db_rollback(db);
	return r;
}

static int
login_throttled(struct db *db, struct login *lg, int64_t wait, struct resp *rs)
{
	char secs[24];
	int r;

	if ((r = login_audit(db, lg, AUDIT_DENIED)) != 0)
		return r;
	snprintf(secs, sizeof(secs), "%lld", (long long)wait);
	if ((r = resp_error_reason(rs, 0, EST_E_TOOMANY, NULL,
				   "too many failed logins; try again "
				   "later")) != 0)
		return r;
	return resp_header(rs, "Retry-After", secs);
}

/* The 200 answer of a login: the user, the CSRF token and the cookie. */
static int
login_answer(const struct login *lg, int64_t session_id, const char *token,
	     const char *csrf, struct resp *rs)
{
	struct json_object *o = NULL, *u = NULL, *s = NULL;
	struct principal p;
	int r;

	memset(&p, 0, sizeof(p));
	p.kind = PRINCIPAL_USER;
	p.method = AUTH_SESSION;
	p.id = lg->user->id;
	p.tenant_id = lg->user->tenant_id;
	p.org_id = lg->user->org_id;
	p.session_id = session_id;
	p.strong = lg->strong;
	if (strlen(lg->user->username) > AUTH_NAME_MAX ||
	    perm_role_from_name(lg->user->role, &p.role) != 0)
		return EST_E_INTERNAL;
	memcpy(p.name, lg->user->username, strlen(lg->user->username) + 1);
	if ((r = auth_principal_json(&p, &u)) != 0)
		return r;
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(u);
		return EST_E_NOMEM;
	}
	if (json_object_object_add(o, "user", u) != 0) {
		json_object_put(u);
		r = EST_E_NOMEM;
		goto out;
	}
	if ((s = json_object_new_string(csrf)) == NULL ||
	    json_object_object_add(o, "csrf_token", s) != 0) {
		json_object_put(s);
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = resp_json(rs, 200, o)) == 0)
		r = auth_cookie_set(rs, token);
out:
	json_object_put(o);
	return r;
}

static int
login_succeeded(struct hctx *c, struct db *db, struct login *lg,
		struct resp *rs)
{
	const struct auth_state *st = c->state;
	char token[AUTH_TOKEN_LEN + 1], csrf[AUTH_TOKEN_LEN + 1];
	uint8_t th[AUTH_HASH_LEN], ch[AUTH_HASH_LEN];
	char *rehash = NULL;
	int64_t sid = 0;
	int r;

	if ((r = auth_token_new(token, th)) != 0 ||
	    (r = auth_token_new(csrf, ch)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	if ((r = db_attempt_succeeded(db, lg->attempt)) != 0 ||
	    (r = db_session_create(db, th, ch, lg->user->id,
				   st->absolute_timeout, lg->source, lg->strong,
				   &sid)) != 0 ||
	    (r = db_login_user_succeeded(db, lg->user->id, lg->source)) != 0 ||
	    (r = login_audit(db, lg, AUDIT_SUCCESS)) != 0 ||
	    (r = db_commit(db)) != 0) {
		db_rollback(db);
		goto out;
	}
	/*
	 * The password is at hand only now: a hash made with weaker
	 * parameters than today's is replaced.  The login stands whatever
	 * happens here.
	 */
	if (passwd_needs_rehash(lg->user->password_hash) &&
	    (passwd_hash(lg->password, &rehash) != 0 ||
	     db_login_user_rehash(db, lg->user->id, lg->user->password_hash,
				  rehash) != 0))
		log_warn("login: could not strengthen the password hash of "
			 "user %lld",
			 (long long)lg->user->id);
	r = login_answer(lg, sid, token, csrf, rs);
out:
	freezero_str(rehash);
	explicit_bzero(token, sizeof(token));
	explicit_bzero(csrf, sizeof(csrf));
	explicit_bzero(th, sizeof(th));
	explicit_bzero(ch, sizeof(ch));
	return r;
}

int
api_auth_login(struct hctx *c, const struct request *req, struct resp *rs)
{
	const struct auth_state *st = c->state;
	struct json_object *body = NULL;
	struct jsonval_error err;
	struct login lg;
	struct db *db;
	enum auth_throttled which;
	int64_t wait = 0;
	int r;

	memset(&lg, 0, sizeof(lg));
	if (st == NULL)
		return EST_E_CONFIG;
	if (!json_body(req))
		return resp_error(rs, 0, EST_E_MEDIATYPE, "content_type");
	if ((r = jsonval_parse_check(
		     (const char *)req->body, req->bodylen, login_fields,
		     sizeof(login_fields) / sizeof(login_fields[0]), &body,
		     &err)) != 0) {
		r = body_error(rs, &err);
		goto out;
	}
	lg.username = jsonval_get_string(body, "username");
	lg.password = jsonval_get_string(body, "password");
	lg.source = req->remote != NULL ? req->remote->text : NULL;
	if ((r = auth_addr_key(req->remote, lg.addr_key,
			       sizeof(lg.addr_key))) != 0 ||
	    (r = ctx_db(c, &db)) != 0)
		goto out;
	/* Old sessions go first, a batch at a time (attempts: there). */
	if ((r = db_session_sweep(db, st->idle_timeout)) != 0 ||
	    (r = auth_attempt_start(db, lg.username, lg.addr_key, &lg.attempt,
				    &wait, &which)) != 0)
		goto out;
	if (wait > 0) {
		lg.reason = which == AUTH_THROTTLED_ACCOUNT
				    ? "throttled: too many failures for this "
				      "account"
				    : "throttled: too many failures from this "
				      "address";
		r = login_throttled(db, &lg, wait, rs);
		goto out;
	}
	if ((r = login_check(c, db, req, &lg)) != 0)
		goto out;
	if (lg.reason != NULL)
		r = login_failed(db, &lg, rs);
	else
		r = login_succeeded(c, db, &lg, rs);
out:
	db_login_user_free(lg.user);
	/* The body holds the password: json-c's copy is wiped too. */
	if (lg.password != NULL)
		explicit_bzero((char *)(uintptr_t)lg.password,
			       strlen(lg.password));
	json_object_put(body);
	return r;
}

int
api_auth_logout(struct hctx *c, const struct request *req,
		const struct principal *p, struct resp *rs)
{
	struct audit_event ev;
	struct db *db;
	int r;

	if (p->method != AUTH_SESSION)
		return resp_error_reason(rs, 400, EST_E_INVAL, "authorization",
					 "only a session can log out");
	if ((r = ctx_db(c, &db)) != 0)
		return r;
	memset(&ev, 0, sizeof(ev));
	auth_audit_actor(p, req, &ev);
	ev.entity = perm_entity_name(PERM_ENT_USER);
	ev.entity_id = p->id;
	ev.entity_name = p->name;
	ev.action = "logout";
	ev.outcome = AUDIT_SUCCESS;
	if ((r = db_begin(db)) != 0)
		return r;
	if ((r = db_session_delete(db, p->session_id)) != 0 ||
	    (r = db_audit_append(db, &ev)) != 0 || (r = db_commit(db)) != 0) {
		db_rollback(db);
		return r;
	}
	if ((r = resp_empty(rs, 204)) != 0)
		return r;
	return auth_cookie_clear(rs);
}

int
api_auth_me(struct hctx *c, const struct request *req,
	    const struct principal *p, struct resp *rs)
{
	struct json_object *o = NULL;
	int r;

	(void)c;
	(void)req;
	if ((r = auth_principal_json(p, &o)) != 0)
		return r;
	r = resp_json(rs, 200, o);
	json_object_put(o);
	return r;
}
