/*
 * API applications (the guide's "API access keys"): an AppID and an AppKey
 * for HTTP Basic on the REST API and on EST, and optionally a TLS client
 * certificate, scoped to a tenant and, for an Organization Operator, an
 * organization, with a role.
 *
 * The AppID is 16 random bytes in lower-case hex (32 characters, like the
 * guide's examples); it names the application and is not secret.  The
 * AppKey is APIAPP_KEY_BYTES random bytes (256 bits) in unpadded base64url,
 * shown once when it is made.  Only "sha256$" and the hex SHA-256 of the
 * key are stored.  A password needs a slow, salted hash (argon2id) because
 * people choose guessable ones and a stolen table would let an attacker try
 * a dictionary against it; a key of 256 random bits is in no dictionary
 * and cannot be found by trying, so one SHA-256 already makes a copy of the
 * table useless, and checking a key on every API request costs
 * microseconds instead of argon2id's tenth of a second and 64 MiB.
 */
#ifndef ESTUARY_APIAPP_H
#define ESTUARY_APIAPP_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define APIAPP_ID_BYTES 16
#define APIAPP_ID_LEN (2 * APIAPP_ID_BYTES)
#define APIAPP_KEY_BYTES 32
#define APIAPP_KEY_HASH_PREFIX "sha256$"
#define APIAPP_KEY_HASH_LEN (sizeof(APIAPP_KEY_HASH_PREFIX) - 1 + 64)
#define APIAPP_NAME_MAX 128 /* characters, api_applications.name */

/*
 * New credentials: an AppID, an AppKey (*key, which the caller wipes and
 * frees with freezero_str) and the stored form of the key.
 */
int apiapp_credentials_new(char app_id[APIAPP_ID_LEN + 1], char **key,
			   char key_hash[APIAPP_KEY_HASH_LEN + 1]);
/* The stored form of key. */
int apiapp_key_hash(const char *key, char out[APIAPP_KEY_HASH_LEN + 1]);
/*
 * 0 when key matches the stored form (compared in constant time),
 * EST_E_DENIED when it does not or stored is not a form this code writes.
 */
int apiapp_key_check(const char *key, const char *stored);
/* 1 when s has the shape of an AppID (32 lower-case hex digits). */
int apiapp_id_valid(const char *s);

/* An application as authentication sees it. */
struct db_apiapp {
	int64_t id;
	char *app_id;
	char *name;
	char *key_hash;
	char *role;	   /* ROLE_* of dbq.h, never admin or auditor */
	int64_t tenant_id; /* never 0 */
	int64_t org_id;	   /* 0 for none */
	int active;
	int revoked; /* revoked_at is set */
	int expired; /* expires_at has passed */
	int tenant_active;
	int org_active; /* 1 when it belongs to no organization */
	int has_cert;
	uint8_t cert_fp[32];
	int touch_due; /* db_apiapp_touch() would record a use */
};

/* What db_apiapp_create() stores; strings are validated by the caller. */
struct db_apiapp_new {
	const char *app_id;
	const char *name;
	const char *description; /* may be NULL */
	const char *key_hash;	 /* apiapp_key_hash() */
	const char *role;	 /* tenant_admin ... org_operator */
	int64_t tenant_id;
	int64_t org_id;	      /* 0 for none; required for org_operator */
	int64_t expires_days; /* 0: never */
	int64_t created_by;   /* users.id, 0 for estuaryctl */
};

/* Inserts an application; EST_E_EXISTS when the name is taken. */
int db_apiapp_create(struct db *db, const struct db_apiapp_new *n, int64_t *id);
/*
 * The columns that db_apiapp_from_row() reads, of api_applications a
 * joined to tenants t and organizations o as APIAPP_JOINS does (another
 * statement may LEFT JOIN them on its own condition: estuary-est's route
 * reads the application of a request's AppID with its server, db/estsrv.h).
 */
#define APIAPP_TOUCH_INTERVAL 60 /* seconds between writes of last_used_at */
#define APIAPP_SQL_INT_(n) #n
#define APIAPP_SQL_INT(n) APIAPP_SQL_INT_(n)
#define APIAPP_COLUMNS                                                         \
	"a.id, a.app_id, a.name, a.key_hash, a.role, a.tenant_id, a.org_id,"   \
	" a.active, a.revoked_at IS NOT NULL,"                                 \
	" a.expires_at IS NOT NULL AND a.expires_at <= UTC_TIMESTAMP(6),"      \
	" t.active, COALESCE(o.active, TRUE), a.cert_fingerprint,"             \
	" a.last_used_at IS NULL OR a.last_used_at < UTC_TIMESTAMP(6)"         \
	" - INTERVAL " APIAPP_SQL_INT(APIAPP_TOUCH_INTERVAL) " SECOND"
#define APIAPP_NCOLS 14
#define APIAPP_LEFT_JOINS                                                      \
	" LEFT JOIN tenants t ON t.id = a.tenant_id"                           \
	" LEFT JOIN organizations o ON o.id = a.org_id"
/*
 * The application in row 0 of res from column c on (APIAPP_COLUMNS);
 * EST_E_NOTFOUND when a LEFT JOIN found none (its id is NULL).
 */
struct db_result;
int db_apiapp_from_row(const struct db_result *res, size_t c,
		       struct db_apiapp **out);

/* The application with this AppID, or with this certificate fingerprint. */
int db_apiapp_get_by_app_id(struct db *db, const char *app_id,
			    struct db_apiapp **out);
int db_apiapp_get_by_cert(struct db *db, const uint8_t *fp,
			  struct db_apiapp **out);
void db_apiapp_free(struct db_apiapp *a);
/*
 * Records that the application was used now.  Writes at most once a
 * minute per application, so that a busy client does not turn every
 * request into a database write.
 */
int db_apiapp_touch(struct db *db, int64_t id);

#endif
