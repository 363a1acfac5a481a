/* Portal logins: users at login, sessions and login attempts. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "jsonval.h"
#include "session.h"
#include "util.h"

/* The server's clock in UNIX microseconds; every DATETIME is UTC. */
#define SQL_US(col) "CAST(UNIX_TIMESTAMP(" col ") * 1000000 AS SIGNED)"
#define SQL_NOW_US SQL_US("UTC_TIMESTAMP(6)")

/*
 * The user columns both lookups read, in the order user_from_row()
 * expects; a user without a tenant or organization counts them active.
 */
#define USER_COLUMNS                                                           \
	"u.id, u.username, u.role, u.tenant_id, u.org_id, u.active,"           \
	" COALESCE(t.active, TRUE), COALESCE(o.active, TRUE),"                 \
	" u.cert_fingerprint"
#define USER_NCOLS 9
#define USER_JOINS                                                             \
	" LEFT JOIN tenants t ON t.id = u.tenant_id"                           \
	" LEFT JOIN organizations o ON o.id = u.org_id"

/* Batches of the sweeps: a login never waits for a big clean-up. */
#define SWEEP_BATCH 1000

static const struct db_stmt_def session_stmts[] = {
#define LOGIN_USER_GET 0
	{"login_user_get",
	 "SELECT " USER_COLUMNS ", u.password_hash FROM users u" USER_JOINS
	 " WHERE u.username = ?",
	 1},
#define LOGIN_USER_SUCCEEDED 1
	{"login_user_succeeded",
	 "UPDATE users SET last_login_at = UTC_TIMESTAMP(6),"
	 " last_login_addr = ?, failed_logins = 0, updated_at = updated_at"
	 " WHERE id = ?",
	 2},
#define LOGIN_USER_FAILED 2
	{"login_user_failed",
	 "UPDATE users SET failed_logins = LEAST(failed_logins + 1,"
	 " 4294967295), updated_at = updated_at WHERE id = ?",
	 1},
#define LOGIN_USER_REHASH 3
	{"login_user_rehash",
	 "UPDATE users SET password_hash = ?, updated_at = updated_at"
	 " WHERE id = ? AND password_hash = ?",
	 3},
#define SESSION_INSERT 4
	{"session_insert",
	 "INSERT INTO sessions (token_hash, csrf_hash, user_id, created_at,"
	 " last_seen_at, expires_at, source_addr, strong_auth)"
	 " VALUES (?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6),"
	 " UTC_TIMESTAMP(6) + INTERVAL ? SECOND, ?, ?)",
	 6},
#define SESSION_GET 5
	{"session_get",
	 "SELECT " USER_COLUMNS ", s.id, s.csrf_hash, s.strong_auth, " SQL_US(
		 "s.last_seen_at") ", " SQL_US("s.expires_at") ", " SQL_NOW_US
							       ", s.created_at "
							       "< "
							       "u.password_"
							       "changed_at"
							       " FROM sessions "
							       "s"
							       " JOIN users u "
							       "ON u.id = "
							       "s.user_"
							       "id" USER_JOINS
							       " WHERE "
							       "s.token_hash = "
							       "?",
	 1},
#define SESSION_TOUCH 6
	{"session_touch",
	 "UPDATE sessions SET last_seen_at = UTC_TIMESTAMP(6) WHERE id = ?", 1},
#define SESSION_DELETE 7
	{"session_delete", "DELETE FROM sessions WHERE id = ?", 1},
#define SESSION_SWEEP 8
	{"session_sweep",
	 "DELETE FROM sessions WHERE expires_at <= UTC_TIMESTAMP(6)"
	 " OR last_seen_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND LIMIT ?",
	 2},
#define ATTEMPT_INSERT 9
	{"attempt_insert",
	 "INSERT INTO login_attempts (ts, username, source_addr, success)"
	 " VALUES (UTC_TIMESTAMP(6), ?, ?, FALSE)",
	 2},
#define ATTEMPT_SUCCEEDED 10
	{"attempt_succeeded",
	 "UPDATE login_attempts SET success = TRUE WHERE id = ?", 1},
#define ATTEMPT_DELETE 11
	{"attempt_delete", "DELETE FROM login_attempts WHERE id = ?", 1},
#define ATTEMPT_FAILURES_ACCOUNT 12
	{"attempt_failures_account",
	 "SELECT " SQL_US(
		 "a.ts") ", " SQL_NOW_US " FROM login_attempts a"
			 " WHERE a.username = ? AND NOT a.success AND a.id <> ?"
			 " AND a.ts > UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
			 " AND a.ts > COALESCE((SELECT MAX(b.ts) FROM "
			 "login_attempts b"
			 " WHERE b.username = a.username AND b.success),"
			 " '1000-01-01 00:00:00')"
			 " ORDER BY a.ts DESC LIMIT ?",
	 4},
#define ATTEMPT_FAILURES_ADDR 13
	{"attempt_failures_addr",
	 "SELECT " SQL_US(
		 "a.ts") ", " SQL_NOW_US " FROM login_attempts a"
			 " WHERE a.source_addr = ? AND NOT a.success AND a.id "
			 "<> ?"
			 " AND a.ts > UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
			 " ORDER BY a.ts DESC LIMIT ?",
	 4},
#define ATTEMPT_SWEEP 14
	{"attempt_sweep",
	 "DELETE FROM login_attempts"
	 " WHERE ts < UTC_TIMESTAMP(6) - INTERVAL ? SECOND LIMIT ?",
	 2},
};

static int
dup_col(const struct db_result *res, size_t row, size_t col, char **out)
{
	const char *s = db_result_str(res, row, col, NULL);

	if (s == NULL)
		return EST_E_INTERNAL;
	if ((*out = strdup(s)) == NULL)
		return EST_E_NOMEM;
	return 0;
}

/* Fills u from USER_COLUMNS at col0 of row 0 (not the password hash). */
static int
user_from_row(const struct db_result *res, size_t col0, struct db_login_user *u)
{
	const char *fp;
	size_t fplen = 0;
	int r;

	u->id = db_result_i64(res, 0, col0);
	if ((r = dup_col(res, 0, col0 + 1, &u->username)) != 0 ||
	    (r = dup_col(res, 0, col0 + 2, &u->role)) != 0)
		return r;
	u->tenant_id = db_result_i64(res, 0, col0 + 3);
	u->org_id = db_result_i64(res, 0, col0 + 4);
	u->active = db_result_i64(res, 0, col0 + 5) != 0;
	u->tenant_active = db_result_i64(res, 0, col0 + 6) != 0;
	u->org_active = db_result_i64(res, 0, col0 + 7) != 0;
	if ((fp = db_result_str(res, 0, col0 + 8, &fplen)) != NULL) {
		if (fplen != sizeof(u->cert_fp))
			return EST_E_INTERNAL;
		memcpy(u->cert_fp, fp, fplen);
		u->has_cert = 1;
	}
	return 0;
}

static void
user_clear(struct db_login_user *u)
{
	free(u->username);
	free(u->role);
	freezero_str(u->password_hash);
}

void
db_login_user_free(struct db_login_user *u)
{
	if (u == NULL)
		return;
	user_clear(u);
	free(u);
}

int
db_login_user_get(struct db *db, const char *username,
		  struct db_login_user **out)
{
	struct db_login_user *u = NULL;
	struct db_result *res = NULL;
	struct db_param p[1];
	int r;

	if (username == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(username);
	if ((r = db_query_one(db, &session_stmts[LOGIN_USER_GET], p, 1,
			      &res)) != 0)
		return r;
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = user_from_row(res, 0, u)) != 0 ||
	    (r = dup_col(res, 0, USER_NCOLS, &u->password_hash)) != 0)
		goto out;
	*out = u;
	u = NULL;
out:
	db_login_user_free(u);
	db_result_free(res);
	return r;
}

int
db_login_user_succeeded(struct db *db, int64_t user_id, const char *addr)
{
	struct db_param p[2];

	p[0] = DB_STR(addr);
	p[1] = DB_I64(user_id);
	return db_exec(db, &session_stmts[LOGIN_USER_SUCCEEDED], p, 2, NULL,
		       NULL);
}

int
db_login_user_failed(struct db *db, int64_t user_id)
{
	struct db_param p[1];

	p[0] = DB_I64(user_id);
	return db_exec(db, &session_stmts[LOGIN_USER_FAILED], p, 1, NULL, NULL);
}

int
db_login_user_rehash(struct db *db, int64_t user_id, const char *old,
		     const char *hash)
{
	struct db_param p[3];

	if (old == NULL || hash == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(hash);
	p[1] = DB_I64(user_id);
	p[2] = DB_STR(old);
	return db_exec(db, &session_stmts[LOGIN_USER_REHASH], p, 3, NULL, NULL);
}

int
db_session_create(struct db *db, const uint8_t *token_hash,
		  const uint8_t *csrf_hash, int64_t user_id, int64_t lifetime,
		  const char *source_addr, int strong_auth, int64_t *id)
{
	struct db_param p[6];
	uint64_t newid = 0;
	int r;

	if (token_hash == NULL || csrf_hash == NULL || user_id <= 0 ||
	    lifetime <= 0)
		return EST_E_INVAL;
	p[0] = DB_BLOB(token_hash, SESSION_HASH_LEN);
	p[1] = DB_BLOB(csrf_hash, SESSION_HASH_LEN);
	p[2] = DB_I64(user_id);
	p[3] = DB_I64(lifetime);
	p[4] = DB_STR(source_addr);
	p[5] = DB_I64(strong_auth ? 1 : 0);
	if ((r = db_exec(db, &session_stmts[SESSION_INSERT], p, 6, NULL,
			 &newid)) != 0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

void
db_session_free(struct db_session *s)
{
	if (s == NULL)
		return;
	user_clear(&s->user);
	explicit_bzero(s->csrf_hash, sizeof(s->csrf_hash));
	free(s);
}

int
db_session_get(struct db *db, const uint8_t *token_hash,
	       struct db_session **out)
{
	struct db_session *s = NULL;
	struct db_result *res = NULL;
	struct db_param p[1];
	const char *csrf;
	size_t len = 0, c = USER_NCOLS;
	int r;

	if (token_hash == NULL)
		return EST_E_INVAL;
	p[0] = DB_BLOB(token_hash, SESSION_HASH_LEN);
	if ((r = db_query_one(db, &session_stmts[SESSION_GET], p, 1, &res)) !=
	    0)
		return r;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = user_from_row(res, 0, &s->user)) != 0)
		goto out;
	s->id = db_result_i64(res, 0, c);
	if ((csrf = db_result_str(res, 0, c + 1, &len)) == NULL ||
	    len != sizeof(s->csrf_hash)) {
		r = EST_E_INTERNAL;
		goto out;
	}
	memcpy(s->csrf_hash, csrf, len);
	s->strong_auth = db_result_i64(res, 0, c + 2) != 0;
	s->last_seen_us = db_result_i64(res, 0, c + 3);
	s->expires_us = db_result_i64(res, 0, c + 4);
	s->now_us = db_result_i64(res, 0, c + 5);
	s->stale = db_result_i64(res, 0, c + 6) != 0;
	*out = s;
	s = NULL;
out:
	db_session_free(s);
	db_result_free(res);
	return r;
}

int
db_session_touch(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return db_exec(db, &session_stmts[SESSION_TOUCH], p, 1, NULL, NULL);
}

int
db_session_delete(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return db_exec(db, &session_stmts[SESSION_DELETE], p, 1, NULL, NULL);
}

int
db_session_sweep(struct db *db, int64_t idle_timeout)
{
	struct db_param p[2];

	if (idle_timeout <= 0)
		return EST_E_INVAL;
	p[0] = DB_I64(idle_timeout);
	p[1] = DB_I64(SWEEP_BATCH);
	return db_exec(db, &session_stmts[SESSION_SWEEP], p, 2, NULL, NULL);
}

/*
 * The length in bytes of the first max characters of the UTF-8 string s
 * (all of it when shorter).  Input that is not UTF-8 is cut at the first
 * bad byte; the column would refuse it anyway.
 */
static size_t
utf8_prefix(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), off = 0, n, chars;
	uint32_t cp;

	for (chars = 0; chars < max && off < len; chars++) {
		if ((n = jsonval_utf8_next(p + off, len - off, &cp)) == 0)
			break;
		off += n;
	}
	return off;
}

int
db_attempt_add(struct db *db, const char *username, const char *addr,
	       int64_t *id)
{
	struct db_param p[2];
	uint64_t newid = 0;
	int r;

	if (username == NULL || addr == NULL)
		return EST_E_INVAL;
	p[0] = DB_STRN(username, utf8_prefix(username, SESSION_USERNAME_MAX));
	p[1] = DB_STR(addr);
	if ((r = db_exec(db, &session_stmts[ATTEMPT_INSERT], p, 2, NULL,
			 &newid)) != 0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

int
db_attempt_succeeded(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return db_exec(db, &session_stmts[ATTEMPT_SUCCEEDED], p, 1, NULL, NULL);
}

int
db_attempt_delete(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return db_exec(db, &session_stmts[ATTEMPT_DELETE], p, 1, NULL, NULL);
}

int
db_attempt_failures(struct db *db, enum db_attempt_key kind, const char *key,
		    int64_t window, int64_t exclude_id, int64_t *ts, size_t max,
		    size_t *n, int64_t *now_us)
{
	const struct db_stmt_def *def;
	struct db_result *res = NULL;
	struct db_param p[4];
	size_t i, rows;
	int r;

	if (key == NULL || window <= 0 || max == 0 || max > INT32_MAX)
		return EST_E_INVAL;
	if (kind == DB_ATTEMPT_ACCOUNT) {
		def = &session_stmts[ATTEMPT_FAILURES_ACCOUNT];
		p[0] = DB_STRN(key, utf8_prefix(key, SESSION_USERNAME_MAX));
	} else if (kind == DB_ATTEMPT_ADDR) {
		def = &session_stmts[ATTEMPT_FAILURES_ADDR];
		p[0] = DB_STR(key);
	} else {
		return EST_E_INVAL;
	}
	p[1] = DB_I64(exclude_id);
	p[2] = DB_I64(window);
	p[3] = DB_I64(max);
	if ((r = db_query(db, def, p, 4, &res)) != 0)
		return r;
	if ((rows = db_result_rows(res)) > max) {
		db_result_free(res);
		return EST_E_INTERNAL;
	}
	for (i = 0; i < rows; i++)
		ts[i] = db_result_i64(res, i, 0);
	*now_us = rows > 0 ? db_result_i64(res, 0, 1) : 0;
	*n = rows;
	db_result_free(res);
	return 0;
}

int
db_attempt_sweep(struct db *db, int64_t window)
{
	struct db_param p[2];

	if (window <= 0)
		return EST_E_INVAL;
	p[0] = DB_I64(window);
	p[1] = DB_I64(SWEEP_BATCH);
	return db_exec(db, &session_stmts[ATTEMPT_SWEEP], p, 2, NULL, NULL);
}
