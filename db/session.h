/*
 * Portal logins: the users table as a login or a session check sees it,
 * the sessions table and the login_attempts table behind throttling.
 *
 * Tokens never reach this module: callers pass the SHA-256 digests of the
 * session and CSRF tokens, and the table holds nothing else of them.
 *
 * Every time is taken from the database server's clock (UTC_TIMESTAMP(6))
 * and returned in UNIX microseconds, so that a timeout is always measured
 * on one clock, whichever program wrote the row.
 */
#ifndef ESTUARY_SESSION_H
#define ESTUARY_SESSION_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define SESSION_HASH_LEN 32	/* SHA-256 */
#define SESSION_USERNAME_MAX 64 /* users.username, login_attempts.username */

/* A user as a login or a session check needs it. */
struct db_login_user {
	int64_t id;
	char *username;
	char *password_hash; /* NULL in a struct db_session */
	char *role;	     /* ROLE_* of dbq.h */
	int64_t tenant_id;   /* 0 for none */
	int64_t org_id;	     /* 0 for none */
	int active;
	int tenant_active; /* 1 when the user belongs to no tenant */
	int org_active;	   /* 1 when the user belongs to no organization */
	int has_cert;	   /* strong authentication: cert_fp is bound */
	uint8_t cert_fp[32];
};

/*
 * The user named username (compared as users.username's collation does,
 * case-insensitively), with its password hash; EST_E_NOTFOUND when there
 * is none.
 */
int db_login_user_get(struct db *db, const char *username,
		      struct db_login_user **out);
void db_login_user_free(struct db_login_user *u);

/*
 * After a successful login: last_login_at and last_login_addr set,
 * failed_logins back to 0.  After a failed one: failed_logins counts it.
 */
int db_login_user_succeeded(struct db *db, int64_t user_id, const char *addr);
int db_login_user_failed(struct db *db, int64_t user_id);

/*
 * Replaces the password hash of a user with a stronger hash of the same
 * password (passwd_needs_rehash), unless the hash changed since it was
 * read as old: a password changed in the meantime is never overwritten.
 * Not a password change, so password_changed_at stays.
 */
int db_login_user_rehash(struct db *db, int64_t user_id, const char *old,
			 const char *hash);

/* A session with its user, as db_session_get() finds it. */
struct db_session {
	int64_t id;
	uint8_t csrf_hash[SESSION_HASH_LEN];
	int strong_auth;
	int64_t last_seen_us; /* UNIX microseconds */
	int64_t expires_us;   /* the absolute timeout */
	int64_t now_us;	      /* the server's time of the lookup */
	int stale;	      /* created before the last password change */
	struct db_login_user user;
};

/*
 * Creates a session of user_id that expires lifetime seconds from now
 * (the absolute timeout); sets *id.
 */
int db_session_create(struct db *db, const uint8_t *token_hash,
		      const uint8_t *csrf_hash, int64_t user_id,
		      int64_t lifetime, const char *source_addr,
		      int strong_auth, int64_t *id);
/* The session whose token has digest token_hash; EST_E_NOTFOUND if none. */
int db_session_get(struct db *db, const uint8_t *token_hash,
		   struct db_session **out);
void db_session_free(struct db_session *s);
/* Records activity now (the idle timeout starts again). */
int db_session_touch(struct db *db, int64_t id);
/* Deletes one session; 0 also when it was already gone. */
int db_session_delete(struct db *db, int64_t id);
/*
 * Deletes up to a batch of sessions past their absolute timeout or idle
 * for idle_timeout seconds, so that the table does not keep dead ones.
 */
int db_session_sweep(struct db *db, int64_t idle_timeout);

/* What a throttling window counts failures of. */
enum db_attempt_key {
	DB_ATTEMPT_ACCOUNT = 1, /* the username typed */
	DB_ATTEMPT_ADDR,	/* the source address key */
};

/*
 * Records a login attempt as a failure before the password is checked, so
 * that concurrent attempts already count against one another; a success
 * turns it into one with db_attempt_succeeded().  The username is cut to
 * SESSION_USERNAME_MAX characters (no user has a longer one).
 */
int db_attempt_add(struct db *db, const char *username, const char *addr,
		   int64_t *id);
int db_attempt_succeeded(struct db *db, int64_t id);
/* Forgets an attempt that was refused before it was tried (throttled). */
int db_attempt_delete(struct db *db, int64_t id);
/*
 * The times (UNIX microseconds, newest first) of the newest max failures
 * of an account or of an address key within the last window seconds,
 * attempt exclude_id left out; for an account, only failures after its
 * last success count.  *n receives their number and *now_us the server's
 * time (valid when *n > 0).
 */
int db_attempt_failures(struct db *db, enum db_attempt_key kind,
			const char *key, int64_t window, int64_t exclude_id,
			int64_t *ts, size_t max, size_t *n, int64_t *now_us);
/* Deletes up to a batch of attempts older than window seconds. */
int db_attempt_sweep(struct db *db, int64_t window);

#endif
