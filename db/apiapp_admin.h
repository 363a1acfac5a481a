/*
 * Management of API applications (fcgi/api_app.c): the queries behind
 * listing, creating, changing, rotating, revoking and deleting them, and
 * behind the TLS client certificate an application may have.  db/apiapp.h
 * holds what authentication needs (the credentials and the lookups by
 * AppID and by certificate); this module adds the rest and uses its
 * credential functions, so that a key made here is checked there by the
 * same code.
 *
 * Times are UTC, as the database writes them: "YYYY-MM-DD HH:MM:SS" with
 * ".ffffff" for the DATETIME(6) columns (fcgi/rest.h rest_put_time() shows
 * them, rest_etag() takes updated_at), "" for none.  Setters take
 * "YYYY-MM-DD HH:MM:SS" text (APIAPP_DBTIME_LEN).
 *
 * The certificate of an application is a row of the certificates table,
 * linked from the application by certificate_id and found by
 * authentication through cert_fingerprint.  Its private key was made by
 * the signer and is kept only wrapped (certificates.wrapped_key) until the
 * PKCS#12 is downloaded once; then it is destroyed.
 */
#ifndef ESTUARY_APIAPP_ADMIN_H
#define ESTUARY_APIAPP_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "apiapp.h"

struct db;

#define APIAPP_TIME_LEN 32   /* room for a DATETIME(6) as text */
#define APIAPP_DBTIME_LEN 20 /* "YYYY-MM-DD HH:MM:SS" and NUL */
#define APIAPP_DESC_MAX 1024 /* characters, api_applications.description */
#define APIAPP_ROLE_MAX 24

/* RFC 5280 CRLReason codes this module writes. */
#define APIAPP_REASON_SUPERSEDED 4
#define APIAPP_REASON_CESSATION 5

/* An application as the management API shows it. */
struct db_apiapp_info {
	int64_t id;
	char app_id[APIAPP_ID_LEN + 1];
	char *name;
	char *description; /* NULL for none */
	char role[APIAPP_ROLE_MAX];
	int64_t tenant_id;
	char *tenant_name;
	int64_t org_id; /* 0 for none */
	char *org_name; /* NULL for none */
	int active;
	int revoked;
	int expired;
	char expires_at[APIAPP_TIME_LEN]; /* "" for never */
	char revoked_at[APIAPP_TIME_LEN];
	char rotated_at[APIAPP_TIME_LEN];
	char last_used_at[APIAPP_TIME_LEN];
	char created_at[APIAPP_TIME_LEN];
	char updated_at[APIAPP_TIME_LEN]; /* the version of the row */
	int64_t created_by;		  /* users.id, 0 for none */
	/* The TLS client certificate; certificate_id 0 for none. */
	int64_t certificate_id;
	uint8_t cert_fp[32];
	char cert_not_before[APIAPP_TIME_LEN];
	char cert_not_after[APIAPP_TIME_LEN];
	int pfx_pending; /* the wrapped key waits for its one download */
	char pfx_downloaded_at[APIAPP_TIME_LEN];
};

void db_apiapp_info_free(struct db_apiapp_info *a);
void db_apiapp_info_list_free(struct db_apiapp_info **list, size_t n);

/*
 * The application with id; with lock set the row is locked (FOR UPDATE)
 * until the caller's transaction ends.  EST_E_NOTFOUND when there is none.
 */
int db_apiapp_info_get(struct db *db, int64_t id, int lock,
		       struct db_apiapp_info **out);

/*
 * Which applications a list returns.  The scope (the permission table's
 * filter: 0 ids for all, a tenant, or a tenant and an organization) and
 * the client's filters (0 / NULL / -1 for "any") are both applied.
 */
struct db_apiapp_filter {
	int64_t scope_tenant_id;
	int64_t scope_org_id;
	int64_t tenant_id;
	int64_t org_id;
	const char *role;
	int active;	  /* -1 any, 0, 1 */
	int revoked;	  /* -1 any, 0, 1 */
	const char *name; /* prefix, compared as the column's collation */
};

/* Most rows one list returns. */
#define APIAPP_LIST_MAX 1000

/*
 * Up to limit (1..APIAPP_LIST_MAX) applications matching f with ids above
 * after_id, in id order (keyset pagination).
 */
int db_apiapp_info_list(struct db *db, const struct db_apiapp_filter *f,
			int64_t after_id, size_t limit,
			struct db_apiapp_info ***out, size_t *n);

/* What db_apiapp_insert() stores; strings are validated by the caller. */
struct db_apiapp_create {
	const char *app_id;   /* apiapp_credentials_new() */
	const char *key_hash; /* apiapp_credentials_new() */
	const char *name;
	const char *description; /* may be NULL */
	const char *role;
	int64_t tenant_id;
	int64_t org_id;		/* 0 for none */
	const char *expires_at; /* APIAPP_DBTIME_LEN text, NULL for never */
	int64_t created_by;	/* users.id, 0 when an application creates */
};

/* Inserts an application; EST_E_EXISTS when its name is taken. */
int db_apiapp_insert(struct db *db, const struct db_apiapp_create *n,
		     int64_t *id);

/* The changeable fields; the caller passes the whole new state. */
struct db_apiapp_update {
	const char *name;
	const char *description; /* NULL clears it */
	const char *role;
	int64_t org_id;		/* 0 for none */
	const char *expires_at; /* NULL for never */
};

int db_apiapp_update(struct db *db, int64_t id,
		     const struct db_apiapp_update *u);
int db_apiapp_set_active(struct db *db, int64_t id, int active);
/* Revokes for good: revoked_at set, inactive. */
int db_apiapp_revoke(struct db *db, int64_t id);
/* A new key_hash (apiapp_key_hash()); rotated_at set. */
int db_apiapp_rotate(struct db *db, int64_t id, const char *key_hash);
/* EST_E_CONFLICT while a row that may not lose it refers to it. */
int db_apiapp_delete(struct db *db, int64_t id);

/* A tenant or organization as creation and role checks need it. */
int db_apiapp_tenant(struct db *db, int64_t tenant_id, char **name,
		     int *active);
int db_apiapp_org(struct db *db, int64_t org_id, int64_t *tenant_id,
		  int *active);

/* A new certificate of an application, issued by ca_id. */
struct db_apiapp_cert_new {
	int64_t app_id; /* api_applications.id */
	int64_t ca_id;
	const uint8_t *cert_der;
	size_t cert_len;
	const uint8_t *wrapped_key;
	size_t wrapped_len;
	int key_type; /* enum signer_keytype */
	int64_t tenant_id;
	int64_t org_id;
	const char *created_by_type; /* AUDIT_ACTOR_USER, _APPLICATION */
	int64_t created_by;	     /* users.id or api_applications.id */
};

/*
 * Stores the certificate (its serial, fingerprint, subject and validity
 * taken from cert_der) and makes it the application's, in the caller's
 * transaction; sets *cert_id.  The application's previous certificate, if
 * any, is revoked as superseded and its wrapped key destroyed.
 */
int db_apiapp_cert_attach(struct db *db, const struct db_apiapp_cert_new *c,
			  int64_t *cert_id);

/* The application's certificate and, until downloaded, its wrapped key. */
struct db_apiapp_cert {
	int64_t id;
	int64_t ca_id;
	uint8_t *cert_der;
	size_t cert_len;
	uint8_t *wrapped_key; /* NULL once downloaded (wiped on free) */
	size_t wrapped_len;
};

/*
 * The certificate cert_id; with lock set the row is locked until the
 * caller's transaction ends.
 */
int db_apiapp_cert_get(struct db *db, int64_t cert_id, int lock,
		       struct db_apiapp_cert **out);
void db_apiapp_cert_free(struct db_apiapp_cert *c);

/*
 * The PKCS#12 was delivered: destroys the wrapped key of cert_id and
 * records the download on the application.
 */
int db_apiapp_cert_downloaded(struct db *db, int64_t app_id, int64_t cert_id);

/*
 * Revokes certificate cert_id (if still active) with an RFC 5280 reason
 * and destroys its wrapped key, if any.
 */
int db_apiapp_cert_revoke(struct db *db, int64_t cert_id, int reason);

#endif
