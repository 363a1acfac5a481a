/*
 * Issued certificates (the certificates table): the row that pki/issue.c
 * inserts for every certificate, and the queries of the certificates API,
 * the CRL builder (pki/crl.c) and the renewal reports.
 *
 * Status.  The stored status is 'active', 'revoked' or 'expired', and
 * 'expired' is written by a sweep that may lag behind the clock, so every
 * reader here reports the effective status: an active certificate whose
 * notAfter has passed reads as "expired" (DB_CERT_STATUS), and the status
 * filters compare not_after as well.
 *
 * Times are UTC.  Getters and lists return a struct db_result whose columns
 * are those of enum db_cert_col; times there are "YYYY-MM-DD HH:MM:SS" or,
 * for DATETIME(6) columns, "YYYY-MM-DD HH:MM:SS.ffffff".
 */
#ifndef ESTUARY_DB_CERT_H
#define ESTUARY_DB_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct db;
struct db_result;

/* certificates.kind, .key_source, .issued_via, .created_by_type. */
#define DB_CERT_KIND_FACTORY "factory"
#define DB_CERT_KIND_OPERATIONAL "operational"
#define DB_CERT_KIND_OTHER "other"
#define DB_CERT_SRC_CSR "csr"
#define DB_CERT_SRC_SERVER "server"

/* What db_cert_insert() writes; 0 and NULL members are SQL NULL. */
struct db_cert_new {
	int64_t ca_id;
	const uint8_t *serial; /* the INTEGER's magnitude, 1..20 bytes */
	size_t serial_len;
	const uint8_t *fingerprint; /* SHA-256 of der, 32 bytes */
	const char *subject;	    /* RFC 2253 text, at most 1024 chars */
	const char *subject_cn;	    /* at most 255 characters, or NULL */
	time_t not_before;
	time_t not_after;
	int64_t template_id;
	int64_t device_id;
	const char *kind;	/* DB_CERT_KIND_* */
	int key_type;		/* enum signer_keytype, 0 for another key */
	const char *key_source; /* DB_CERT_SRC_* */
	const uint8_t *der;
	size_t derlen;
	/* A server-generated key, wrapped by the signer; NULL when not kept. */
	const uint8_t *wrapped;
	size_t wrappedlen;
	time_t key_retention_until; /* 0 with no wrapped key */
	int64_t renewed_from_id;
	const char *issued_via;	     /* "portal", "api", "est", ... */
	const char *created_by_type; /* "user", "application", ... */
	int64_t created_by_user_id;
	int64_t created_by_app_id;
	int64_t tenant_id;
	int64_t org_id;
};

/*
 * Inserts c; sets *id.  EST_E_EXISTS when the CA already issued a
 * certificate with this serial number (or, impossibly, one with this
 * fingerprint): the issuer picks another serial and tries again.
 */
int db_cert_insert(struct db *db, const struct db_cert_new *c, int64_t *id);
/*
 * Like db_cert_insert, answering with the new row as db_cert_get() reads
 * it (columns of enum db_cert_col) in the same round trip; issuer is the
 * subject text of the CA (cas.subject), which the row shows as
 * DB_CERT_ISSUER.
 */
int db_cert_insert_row(struct db *db, const struct db_cert_new *c,
		       const char *issuer, struct db_result **row);
/*
 * n rows (up to DB_MULTI_MAX, db/dbpriv.h) in one statement, each answered
 * in rows[i] as db_cert_insert_row() answers (the issuer read from the
 * CA's row).  All or none: EST_E_EXISTS when any serial number is taken,
 * and then no row is written.
 */
int db_cert_insert_rows(struct db *db, const struct db_cert_new *const *c,
			size_t n, struct db_result **rows);

enum db_cert_col {
	DB_CERT_ID = 0,
	DB_CERT_CA_ID,
	DB_CERT_SERIAL, /* binary */
	DB_CERT_FINGERPRINT,
	DB_CERT_SUBJECT,
	DB_CERT_SUBJECT_CN,
	DB_CERT_NOT_BEFORE,
	DB_CERT_NOT_AFTER,
	DB_CERT_STATUS, /* effective: "active", "revoked", "expired" */
	DB_CERT_REVOCATION_REASON,
	DB_CERT_REVOKED_AT,
	DB_CERT_INVALIDITY_DATE,
	DB_CERT_REVOKED_BY,
	DB_CERT_TEMPLATE_ID,
	DB_CERT_DEVICE_ID,
	DB_CERT_KIND,
	DB_CERT_KEY_TYPE,
	DB_CERT_KEY_SOURCE,
	DB_CERT_KEY_RETENTION_UNTIL,
	DB_CERT_KEY_DESTROYED_AT,
	/* 1 while a wrapped key is stored and its retention has not passed. */
	DB_CERT_KEY_AVAILABLE,
	DB_CERT_RENEWED_FROM,
	DB_CERT_ISSUED_VIA,
	DB_CERT_CREATED_BY_TYPE,
	DB_CERT_CREATED_BY_USER,
	DB_CERT_CREATED_BY_APP,
	DB_CERT_TENANT_ID,
	DB_CERT_ORG_ID,
	DB_CERT_CREATED_AT,
	DB_CERT_UPDATED_AT,
	DB_CERT_ISSUER, /* the CA's subject text */
	DB_CERT_DER,	/* NULL in lists: read one certificate for it */
	DB_CERT_NCOLS
};

/* One certificate by id; with lock set, FOR UPDATE. */
int db_cert_get(struct db *db, int64_t id, int lock, struct db_result **out);
/* By the CA and the serial's magnitude (OCSP, CRL checks). */
int db_cert_get_by_serial(struct db *db, int64_t ca_id, const uint8_t *serial,
			  size_t serial_len, struct db_result **out);
/* By the SHA-256 fingerprint of the DER certificate (32 bytes). */
int db_cert_get_by_fingerprint(struct db *db, const uint8_t *fp,
			       struct db_result **out);

/*
 * List filters; 0, NULL or -1 do not filter.  scope_tenant / scope_org
 * come from perm_list_filter() (certificates are not shared: with
 * scope_tenant set only rows of that tenant, with scope_org too only rows
 * of that organization).
 */
struct db_cert_filter {
	int64_t scope_tenant;
	int64_t scope_org;
	int64_t ca_id;
	int64_t template_id;
	int64_t device_id;
	int64_t tenant_id;
	int64_t org_id;
	const char *status;	      /* "active", "revoked", "expired" */
	const char *kind;	      /* DB_CERT_KIND_* */
	const char *subject_contains; /* in the subject text */
	const char *subject_cn;	      /* exact */
	const uint8_t *serial;	      /* magnitude */
	size_t serial_len;
	/* not_after before this time (UTC "YYYY-MM-DD HH:MM:SS"). */
	const char *expiring_before;
};

/*
 * At most limit certificates with ids above after_id matching f, in id
 * order (DB_CERT_DER is NULL in each row).
 */
int db_cert_list(struct db *db, const struct db_cert_filter *f,
		 int64_t after_id, size_t limit, struct db_result **out);

/*
 * Revokes certificate id, which the caller has locked with db_cert_get
 * (lock 1) and found active: reason is an RFC 5280 CRLReason code (not 7,
 * removeFromCRL), invalidity 0 for none, by_user 0 for none.
 * EST_E_CONFLICT when the row is not active (any more).
 */
int db_cert_revoke(struct db *db, int64_t id, int reason, time_t invalidity,
		   int64_t by_user);

/*
 * The wrapped private key of certificate id while it may still be handed
 * out: a server-generated key that is stored, not destroyed, and whose
 * retention has not passed.  EST_E_NOTFOUND otherwise.  The caller frees
 * *wrapped with freezero().
 */
int db_cert_wrapped_key(struct db *db, int64_t id, uint8_t **wrapped,
			size_t *len);
/*
 * Destroys the stored keys whose retention has passed: certificate id
 * only when id > 0, else at most limit of them; *n (may be NULL) counts
 * the keys destroyed.
 */
int db_cert_destroy_keys(struct db *db, int64_t id, size_t limit, uint64_t *n);

/*
 * The revoked certificates of CA ca_id that have not expired, for its CRL:
 * at most limit rows with ids above after_id, in id order, so that a CRL of
 * any size is read in pages.  Columns of enum db_cert_revoked_col.
 */
enum db_cert_revoked_col {
	DB_CERT_REV_ID = 0,
	DB_CERT_REV_SERIAL,	/* binary magnitude */
	DB_CERT_REV_REVOKED_AT, /* "YYYY-MM-DD HH:MM:SS" */
	DB_CERT_REV_REASON,	/* CRLReason code */
	DB_CERT_REV_INVALIDITY, /* "YYYY-MM-DD HH:MM:SS" or NULL */
	DB_CERT_REV_NCOLS
};
int db_cert_revoked_list(struct db *db, int64_t ca_id, int64_t after_id,
			 size_t limit, struct db_result **out);

/* UNIX time of a "YYYY-MM-DD HH:MM:SS[.ffffff]" UTC text; -1 if malformed. */
int64_t db_cert_time(const char *s);

#endif
