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
	/*
	 * Added for the CA endpoints (fcgi/api_ca.c, pki/ca.c).  path_len and
	 * key_usage are derived from cert_der by db_ca_insert when there is a
	 * certificate, and taken from here for a pending CA (what its request
	 * asked for).  key_usage holds RFC 5280 KeyUsage bit n as 1 << n
	 * (DB_CA_KU_*); 0 for a pending CA means the default
	 * digitalSignature, keyCertSign and cRLSign.
	 */
	char *description; /* NULL for none */
	int path_len;	   /* pathLenConstraint; -1 for none */
	unsigned key_usage;
	int crl_period_hours;	 /* 0: the default (24) */
	int64_t crl_number;	 /* of the last CRL; 0 before the first */
	int64_t crl_this_update; /* UNIX time; 0 before the first CRL */
	int64_t crl_next_update;
	char *ca_issuers_url; /* caIssuers of issued certificates, or NULL */
	uint8_t *csr_der;     /* the request of an externally signed CA */
	size_t csr_len;
	char *chain_pem;    /* the chain above an externally signed CA */
	uint8_t serial[20]; /* of cert_der; serial_len 0 while pending */
	size_t serial_len;
	int64_t created_by_user_id; /* 0 for none */
	char created_at[32];	    /* "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) */
	char updated_at[32];	    /* the version behind the ETag */
};

#define DB_CA_KU_DIGITAL_SIGNATURE (1u << 0)
#define DB_CA_KU_NON_REPUDIATION (1u << 1)
#define DB_CA_KU_KEY_ENCIPHERMENT (1u << 2)
#define DB_CA_KU_DATA_ENCIPHERMENT (1u << 3)
#define DB_CA_KU_KEY_AGREEMENT (1u << 4)
#define DB_CA_KU_KEY_CERT_SIGN (1u << 5)
#define DB_CA_KU_CRL_SIGN (1u << 6)
#define DB_CA_KU_ENCIPHER_ONLY (1u << 7)
#define DB_CA_KU_DECIPHER_ONLY (1u << 8)
#define DB_CA_KU_ALL 0x1ffu
#define DB_CA_KU_DEFAULT                                                       \
	(DB_CA_KU_DIGITAL_SIGNATURE | DB_CA_KU_KEY_CERT_SIGN |                 \
	 DB_CA_KU_CRL_SIGN)
#define DB_CA_CRL_PERIOD_DEFAULT 24 /* hours */
#define DB_CA_CRL_PERIOD_MAX 8760   /* a year */

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
/* db_ca_get() with the row locked FOR UPDATE (inside a transaction). */
int db_ca_get_lock(struct db *db, int64_t id, struct db_ca **out);
/* Every active CA that has a certificate, for the web server's CA file. */
int db_ca_list_active(struct db *db, struct db_ca ***out, size_t *n);
void db_ca_free(struct db_ca *ca);
void db_ca_list_free(struct db_ca **list, size_t n);

/*
 * The CA endpoints (db/ca_admin.c).  Lists return at most limit CAs with
 * ids above after_id, in id order.  Filters: 0, NULL or -1 do not filter.
 */
enum db_ca_status {
	DB_CA_STATUS_ANY = 0,
	DB_CA_STATUS_PENDING, /* active, waiting for its certificate */
	DB_CA_STATUS_ACTIVE,  /* active, with its certificate */
	DB_CA_STATUS_INACTIVE,
};

struct db_ca_filter {
	/*
	 * perm_list_filter() of a shareable entity: scope_tenant 0 shows
	 * every row; otherwise the tenant's rows and global ones, and with
	 * scope_org also set only that organization's rows, the tenant-wide
	 * rows of the tenant and global ones.
	 */
	int64_t scope_tenant;
	int64_t scope_org;
	const char *name;	   /* exact, case-insensitive as the column */
	const char *name_contains; /* substring */
	const char *scope;	   /* SCOPE_* */
	int64_t tenant_id;
	int64_t org_id;
	int64_t parent_id;
	int root; /* 1: only CAs without a parent; 0: any */
	int active;
	enum db_ca_status status;
};

int db_ca_list(struct db *db, const struct db_ca_filter *f, int64_t after_id,
	       size_t limit, struct db_ca ***out, size_t *n);
/* What may change of a CA: never its key, subject or scope. */
int db_ca_update(struct db *db, int64_t id, const char *name,
		 const char *description, int crl_period_hours);
int db_ca_set_active(struct db *db, int64_t id, int active);
/*
 * Sets the CA's publication URLs (each NULL for none); EST_E_NOTFOUND when
 * there is no such CA.
 */
int db_ca_set_urls(struct db *db, int64_t id, const char *crl_url,
		   const char *ocsp_url, const char *ca_issuers_url);
/*
 * Stores the certificate of a pending CA, signed elsewhere, with the chain
 * above it (PEM, or NULL); the derived columns are computed from der as
 * db_ca_insert does.  EST_E_CONFLICT when the CA has a certificate already.
 */
int db_ca_set_cert(struct db *db, int64_t id, const uint8_t *der, size_t len,
		   const char *chain_pem);
/*
 * Deletes the CA.  EST_E_CONFLICT while certificates, templates or child
 * CAs refer to it (the foreign keys decide); EST_E_NOTFOUND when none.
 */
int db_ca_delete(struct db *db, int64_t id);

/*
 * CRLs (db/ca_crl.c).  Times are UNIX seconds.  db_ca_crl_store() records
 * the CRL a CA has just signed (its number, thisUpdate, nextUpdate and DER).
 */
int db_ca_crl_store(struct db *db, int64_t id, int64_t number,
		    int64_t this_update, int64_t next_update,
		    const uint8_t *der, size_t len);
/*
 * The stored CRL of a CA in a new buffer (*der, freed with free(3)) with
 * its thisUpdate and nextUpdate; EST_E_NOTFOUND when the CA does not exist
 * or has no CRL yet.
 */
int db_ca_crl_get(struct db *db, int64_t id, uint8_t **der, size_t *len,
		  int64_t *this_update, int64_t *next_update);
/*
 * Ids of the CAs (active or not) that have a certificate and whose CRL is
 * missing or has a nextUpdate at or before t, at most max of them, oldest
 * nextUpdate first; *ids is freed with free(3).
 */
int db_ca_crl_due(struct db *db, int64_t t, size_t max, int64_t **ids,
		  size_t *n);

/* One revoked certificate, as a CRL lists it. */
struct db_revoked {
	int64_t id; /* certificates.id: the page's position */
	uint8_t serial[20];
	size_t serial_len;
	int64_t revoked_at;	 /* UNIX time */
	int reason;		 /* RFC 5280 CRLReason */
	int64_t invalidity_date; /* 0 for none */
};

/*
 * A page of the revoked certificates of CA ca_id whose notAfter is after
 * not_after_min: at most max entries with ids above after_id, in id order,
 * into out (room for max); *n is how many.  Call again with the last id
 * until *n < max.
 */
int db_ca_revoked_page(struct db *db, int64_t ca_id, int64_t not_after_min,
		       int64_t after_id, size_t max, struct db_revoked *out,
		       size_t *n);

#endif
