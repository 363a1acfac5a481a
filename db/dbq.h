/*
 * Domain queries of the foundation: tenants, organizations, users and CAs.
 * Later modules add their own headers beside this one.
 */
#ifndef ESTUARY_DBQ_H
#define ESTUARY_DBQ_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct db_result;

/* Roles, as stored in users.role. */
#define ROLE_ADMIN "admin"
#define ROLE_AUDITOR "auditor"
#define ROLE_TENANT_ADMIN "tenant_admin"
#define ROLE_TENANT_AUDITOR "tenant_auditor"
#define ROLE_TENANT_OPERATOR "tenant_operator"
#define ROLE_ORG_OPERATOR "org_operator"

int db_tenant_create(struct db *db, const char *name, const char *description,
		     int64_t *id);
int db_tenant_find(struct db *db, const char *name, int64_t *id);
int db_org_create(struct db *db, int64_t tenant_id, const char *name,
		  const char *description, int64_t *id);
int db_org_find(struct db *db, int64_t tenant_id, const char *name,
		int64_t *id);

/* tenant_id and org_id are 0 for none (an Admin or Auditor). */
int db_user_create(struct db *db, const char *username, const char *pwhash,
		   const char *role, int64_t tenant_id, int64_t org_id,
		   int64_t *id);
int db_user_find(struct db *db, const char *username, int64_t *id);

/*
 * The administration API's view of tenants, organizations and users
 * (fcgi/api_tenant.c, api_org.c, api_user.c).  Getters and lists return a
 * struct db_result whose columns are those of the enums below; times are
 * "YYYY-MM-DD HH:MM:SS.ffffff" (UTC), and updated_at, which changes with
 * every change of a row, is the version behind the row's ETag.  A getter
 * with lock set reads the row FOR UPDATE (inside a transaction).  Lists
 * return at most limit rows with ids above after_id, in id order.
 * Password hashes never appear in these results.
 */

/* Filters; 0, NULL or -1 (active) do not filter. */
struct db_tenant_filter {
	int64_t scope_id; /* the actor's tenant (perm_list_filter), or 0 */
	const char *name; /* exact, case-insensitive as the column */
	const char *name_prefix;
	const char *name_contains;
	int active; /* -1 any, 0, 1 */
};

enum db_tenant_col {
	DB_TENANT_ID = 0,
	DB_TENANT_NAME,
	DB_TENANT_DESCRIPTION,
	DB_TENANT_ACTIVE,
	DB_TENANT_CREATED_AT,
	DB_TENANT_UPDATED_AT,
	DB_TENANT_NCOLS
};

int db_tenant_get(struct db *db, int64_t id, int lock, struct db_result **out);
int db_tenant_list(struct db *db, const struct db_tenant_filter *f,
		   int64_t after_id, size_t limit, struct db_result **out);
int db_tenant_update(struct db *db, int64_t id, const char *name,
		     const char *description);
int db_tenant_set_active(struct db *db, int64_t id, int active);
/* EST_E_CONFLICT while organizations, users or other rows refer to it. */
int db_tenant_delete(struct db *db, int64_t id);

struct db_org_filter {
	int64_t scope_tenant; /* perm_list_filter: 0 for all */
	int64_t scope_org;    /* perm_list_filter: 0 for all */
	int64_t tenant_id;    /* the client's filter */
	const char *name;
	const char *name_prefix;
	const char *name_contains;
	int active;
};

enum db_org_col {
	DB_ORG_ID = 0,
	DB_ORG_TENANT_ID,
	DB_ORG_NAME,
	DB_ORG_DESCRIPTION,
	DB_ORG_ACTIVE,
	DB_ORG_CREATED_AT,
	DB_ORG_UPDATED_AT,
	DB_ORG_TENANT_ACTIVE, /* the tenant's active flag */
	DB_ORG_NCOLS
};

int db_org_get(struct db *db, int64_t id, int lock, struct db_result **out);
int db_org_list(struct db *db, const struct db_org_filter *f, int64_t after_id,
		size_t limit, struct db_result **out);
int db_org_update(struct db *db, int64_t id, const char *name,
		  const char *description);
int db_org_set_active(struct db *db, int64_t id, int active);
/* EST_E_CONFLICT while users or other rows refer to it. */
int db_org_delete(struct db *db, int64_t id);

struct db_user_filter {
	int64_t scope_tenant; /* perm_list_filter: 0 for all */
	int64_t scope_org;
	int64_t tenant_id;
	int64_t org_id;
	const char *role; /* ROLE_* */
	const char *username;
	const char *username_contains;
	int active;
};

enum db_user_col {
	DB_USER_ID = 0,
	DB_USER_USERNAME,
	DB_USER_FULL_NAME,
	DB_USER_EMAIL,
	DB_USER_ROLE,
	DB_USER_TENANT_ID,
	DB_USER_ORG_ID,
	DB_USER_ACTIVE,
	DB_USER_CERT_FINGERPRINT, /* 32 bytes or NULL */
	DB_USER_LAST_LOGIN_AT,
	DB_USER_PASSWORD_CHANGED_AT,
	DB_USER_CREATED_AT,
	DB_USER_UPDATED_AT,
	DB_USER_NCOLS
};

/* A user as the API writes it; tenant_id and org_id 0 for none. */
struct db_user_rec {
	const char *username;
	const char *full_name; /* NULL for none */
	const char *email;     /* NULL for none */
	const char *role;      /* ROLE_* */
	int64_t tenant_id;
	int64_t org_id;
};

int db_user_get(struct db *db, int64_t id, int lock, struct db_result **out);
int db_user_list(struct db *db, const struct db_user_filter *f,
		 int64_t after_id, size_t limit, struct db_result **out);
/* Inserts u with the encoded password hash pwhash; sets *id. */
int db_user_insert(struct db *db, const struct db_user_rec *u,
		   const char *pwhash, int64_t *id);
/* Replaces every field of u (not the password). */
int db_user_update(struct db *db, int64_t id, const struct db_user_rec *u);
/*
 * The user's password hash, locked FOR UPDATE, in a new string (*out,
 * which the caller frees with freezero_str).
 */
int db_user_password_hash(struct db *db, int64_t id, char **out);
/*
 * Sets a new password hash: password_changed_at is now (so sessions opened
 * before it end), failed logins and any lock are cleared.
 */
int db_user_set_password(struct db *db, int64_t id, const char *pwhash);
int db_user_set_active(struct db *db, int64_t id, int active);
/* fp: 32 bytes, or NULL to unbind; EST_E_EXISTS when another has it. */
int db_user_set_cert(struct db *db, int64_t id, const uint8_t *fp);
int db_user_delete(struct db *db, int64_t id);

/* Accessibility scope of shareable entities. */
#define SCOPE_GLOBAL "global"
#define SCOPE_TENANT "tenant"
#define SCOPE_ORG "organization"

struct db_ca {
	int64_t id;
	char *name;
	int64_t parent_id;  /* 0 for a root */
	uint8_t key_id[16]; /* the signer's key id */
	int keytype;	    /* enum signer_keytype */
	char *subject;	    /* RFC 2253 text, for display */
	uint8_t *cert_der;  /* NULL while the certificate is pending */
	size_t cert_len;
	char *scope;	   /* SCOPE_* */
	int64_t tenant_id; /* 0 when global */
	int64_t org_id;	   /* 0 unless organization scope */
	int active;
	/*
	 * Derived from cert_der by db_ca_insert (which ignores these) and
	 * returned by the getters; zero while the certificate is pending.
	 */
	uint8_t fingerprint[32]; /* SHA-256 of cert_der */
	int64_t not_before;	 /* UNIX time */
	int64_t not_after;
	/*
	 * Where issued certificates point for revocation status (CRL
	 * distribution point, OCSP in authority information access); NULL
	 * when the CA publishes none.
	 */
	char *crl_url;
	char *ocsp_url;
	/* A delegated OCSP responder key and its certificate, if any. */
	int has_ocsp_key;
	uint8_t ocsp_key_id[16];
	uint8_t *ocsp_cert_der;
	size_t ocsp_cert_len;
};

/*
 * Inserts ca (id and the derived fields ignored); sets *id.  The columns
 * that describe the certificate (fingerprint, serial, validity, subject DER
 * and its hash, subject key identifier) are computed from cert_der here,
 * so they cannot disagree with it: EST_E_BADASN1 when it is not one DER
 * certificate.
 */
int db_ca_insert(struct db *db, const struct db_ca *ca, int64_t *id);
int db_ca_get(struct db *db, int64_t id, struct db_ca **out);
int db_ca_get_by_name(struct db *db, const char *name, struct db_ca **out);
/* Every active CA that has a certificate, for the web server's CA file. */
int db_ca_list_active(struct db *db, struct db_ca ***out, size_t *n);
void db_ca_free(struct db_ca *ca);
void db_ca_list_free(struct db_ca **list, size_t n);

#endif
