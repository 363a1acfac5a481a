/*
 * External CAs (the external_cas table of db/003_devices.sql): the
 * queries of the REST API (fcgi/api_extca*.c), of the device types that
 * choose one as their factory CA, and of the EST code that trusts the
 * factory certificates they issued.
 *
 * Getters and lists return a struct db_result whose columns are those of
 * enum db_extca_col.  Times are "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC);
 * updated_at changes with every change of a row and is the version behind
 * its ETag.  A getter with lock set reads the row FOR UPDATE (inside a
 * transaction).  Lists return at most limit rows with ids above after_id,
 * in id order, and leave the certificate and the verification code out
 * (NULL in those columns).
 */
#ifndef ESTUARY_DB_EXTCA_H
#define ESTUARY_DB_EXTCA_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct db_result;

/* external_cas.status */
#define EXTCA_STATUS_UNVERIFIED "unverified"
#define EXTCA_STATUS_VERIFIED "verified"

enum db_extca_col {
	DB_EXTCA_ID = 0,
	DB_EXTCA_NAME,
	DB_EXTCA_DESCRIPTION,
	DB_EXTCA_TENANT_ID,
	DB_EXTCA_ORG_ID, /* NULL: the CA serves the whole tenant */
	DB_EXTCA_CERT_DER,
	DB_EXTCA_SUBJECT,
	DB_EXTCA_SUBJECT_HASH, /* SHA-256 of the subject's DER */
	DB_EXTCA_SKI,	       /* NULL when the certificate has none */
	DB_EXTCA_FINGERPRINT,  /* SHA-256 of the certificate's DER */
	DB_EXTCA_NOT_BEFORE,
	DB_EXTCA_NOT_AFTER,
	DB_EXTCA_STATUS, /* EXTCA_STATUS_* */
	DB_EXTCA_ACTIVE,
	DB_EXTCA_CODE,		  /* the verification code, or NULL */
	DB_EXTCA_CODE_EXPIRES_AT, /* NULL without a code */
	DB_EXTCA_CODE_LIVE,	  /* 1 while the code has not expired */
	DB_EXTCA_VERIFIED_AT,
	DB_EXTCA_VERIFIED_BY, /* users.id, or NULL */
	DB_EXTCA_CREATED_BY,  /* users.id, or NULL */
	DB_EXTCA_CREATED_AT,
	DB_EXTCA_UPDATED_AT,
	DB_EXTCA_NCOLS
};

/* A new external CA. */
struct db_extca_new {
	const char *name;
	const char *description; /* NULL for none */
	int64_t tenant_id;
	int64_t org_id; /* 0: the whole tenant */
	const uint8_t *cert_der;
	size_t cert_len;
	int verified;	 /* "set to verified on upload" */
	int64_t user_id; /* the creating (and verifying) user, 0 for none */
};

/*
 * Inserts n; sets *id.  The columns that describe the certificate
 * (subject, its hash, subject key identifier, fingerprint, validity) are
 * derived from cert_der here (lib/extca.h), so that they cannot disagree
 * with it: EST_E_BADASN1 when it is not one DER certificate.
 * EST_E_EXISTS when the name is taken, or the tenant has the certificate
 * already; EST_E_CONFLICT when the organization is not one of the tenant.
 */
int db_extca_insert(struct db *db, const struct db_extca_new *n, int64_t *id);

int db_extca_get(struct db *db, int64_t id, int lock, struct db_result **out);
/*
 * The id of the tenant's external CA whose certificate has SHA-256
 * fingerprint fp; EST_E_NOTFOUND when it has none.
 */
int db_extca_find_cert(struct db *db, int64_t tenant_id, const uint8_t fp[32],
		       int64_t *id);

/* Filters of db_extca_list; 0, NULL or -1 (active) do not filter. */
struct db_extca_filter {
	/* From perm_list_filter: 0 for all. */
	int64_t scope_tenant;
	int64_t scope_org;
	int scope_shared; /* with scope_org: also the tenant-wide CAs */
	/* The client's filters. */
	int64_t tenant_id;
	int64_t org_id;
	const char *scope; /* "tenant" (no organization), "organization" */
	const char *name;  /* exact, case-insensitive as the column */
	const char *name_prefix;
	const char *name_contains;
	const char *status; /* EXTCA_STATUS_* */
	int active;	    /* -1 any, 0, 1 */
};

int db_extca_list(struct db *db, const struct db_extca_filter *f,
		  int64_t after_id, size_t limit, struct db_result **out);

int db_extca_update(struct db *db, int64_t id, const char *name,
		    const char *description);
int db_extca_set_active(struct db *db, int64_t id, int active);
/*
 * Stores a new verification code, valid for ttl seconds from now (the
 * database's clock), in place of any earlier one.
 */
int db_extca_set_code(struct db *db, int64_t id, const char *code, int64_t ttl);
/*
 * Marks the CA verified now by user_id (0 for none: an application) and
 * clears the verification code.
 */
int db_extca_set_verified(struct db *db, int64_t id, int64_t user_id);
/* How many device types name the CA as their factory CA. */
int db_extca_users(struct db *db, int64_t id, int64_t *n);
/*
 * Deletes an inactive CA: EST_E_NOTFOUND when there is no inactive CA id
 * (the caller tells "active" from "absent" by the row it locked first),
 * EST_E_CONFLICT while a device type refers to it.
 */
int db_extca_delete(struct db *db, int64_t id);

/*
 * The lookups of the EST code: the verified, active external CAs of
 * tenant_id (and, when org_id is not 0, only those of that organization
 * or of the whole tenant) whose subject has SHA-256 hash (of its DER), or
 * whose subject key identifier is ski.  Several rows may match (a CA
 * renewed under the same name or key); the caller verifies the signature
 * with each.  Columns as db_extca_get's, certificate included.
 */
int db_extca_find_by_subject(struct db *db, int64_t tenant_id, int64_t org_id,
			     const uint8_t hash[32], struct db_result **out);
int db_extca_find_by_ski(struct db *db, int64_t tenant_id, int64_t org_id,
			 const uint8_t *ski, size_t len,
			 struct db_result **out);
/*
 * Every verified, active external CA, certificate included, in id order:
 * for the web server's file of trusted client CAs.
 */
int db_extca_list_trusted(struct db *db, struct db_result **out);

#endif
