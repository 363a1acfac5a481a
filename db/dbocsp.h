/*
 * The OCSP responder's queries (pki/ocsp.c) and the delegated responder's
 * writes (fcgi/api_ocsp.c).  A response needs one read of the CA and one
 * indexed read per CertID (certificates_serial: ca_id, serial); nothing
 * here reads a CRL.
 */
#ifndef ESTUARY_DB_OCSP_H
#define ESTUARY_DB_OCSP_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* What the responder needs of a CA (the cas row). */
struct db_ocsp_ca {
	int64_t id;
	int active;
	uint8_t key_id[16];
	int keytype;	   /* enum signer_keytype */
	uint8_t *cert_der; /* NULL while the certificate is pending */
	size_t cert_len;
	/* The delegated responder, when there is one. */
	int has_ocsp_key;
	uint8_t ocsp_key_id[16];
	uint8_t *ocsp_cert_der;
	size_t ocsp_cert_len;
	int64_t crl_next_update; /* UNIX time; 0 when no CRL was made */
	/* For the API: where the CA lives, and its row's version. */
	char *name;
	char *scope; /* SCOPE_* */
	int64_t tenant_id;
	int64_t org_id;
	char *updated_at; /* "YYYY-MM-DD HH:MM:SS.ffffff" */
};

/*
 * CA id; with lock, FOR UPDATE (inside a transaction).  EST_E_NOTFOUND
 * when there is none.
 */
int db_ocsp_ca_get(struct db *db, int64_t id, int lock,
		   struct db_ocsp_ca **out);
void db_ocsp_ca_free(struct db_ocsp_ca *ca);

/* The status of a certificate as OCSP tells it. */
enum db_ocsp_status {
	DB_OCSP_UNKNOWN = 0, /* the CA issued no certificate of that serial */
	DB_OCSP_GOOD,
	DB_OCSP_REVOKED,
};

struct db_ocsp_cert {
	enum db_ocsp_status status;
	int64_t revoked_at; /* UNIX time, DB_OCSP_REVOKED */
	int reason;	    /* RFC 5280 CRLReason, DB_OCSP_REVOKED */
};

/*
 * The status of the certificate with serial (the positive INTEGER's
 * magnitude, 1..20 octets) issued by CA ca_id: a row of certificates, or
 * of cas for a CA certificate it issued (good: CAs are not revoked).  An
 * expired certificate that was not revoked is good (RFC 6960 does not make
 * a responder forget expired certificates).
 */
int db_ocsp_status(struct db *db, int64_t ca_id, const uint8_t *serial,
		   size_t serial_len, struct db_ocsp_cert *out);

/*
 * The delegated responder of CA ca_id: key_id (16 octets) and its
 * certificate, or key_id NULL to go back to responses signed by the CA.
 */
int db_ocsp_set_responder(struct db *db, int64_t ca_id, const uint8_t *key_id,
			  const uint8_t *cert, size_t certlen);

/* The row of a responder certificate in certificates. */
struct db_ocsp_cert_row {
	int64_t ca_id;
	const uint8_t *serial; /* magnitude, 1..20 octets */
	size_t serial_len;
	const uint8_t *fingerprint; /* 32 octets, SHA-256 of der */
	const char *subject;	    /* RFC 2253 text */
	const char *subject_cn;	    /* NULL for none */
	const char *not_before;	    /* "YYYY-MM-DD HH:MM:SS" */
	const char *not_after;
	int keytype;
	const uint8_t *der;
	size_t derlen;
	int by_app;	 /* created by an API application, not a user */
	int64_t creator; /* users.id or api_applications.id */
	int64_t tenant_id;
	int64_t org_id;
};

/*
 * Inserts the responder certificate; EST_E_EXISTS when the CA already
 * issued that serial (the caller draws another).
 */
int db_ocsp_cert_insert(struct db *db, const struct db_ocsp_cert_row *c,
			int64_t *id);

/*
 * Marks the certificate of CA ca_id with SHA-256 fingerprint fp revoked
 * with reason (the responder it certified is replaced or removed), unless
 * it already is; *changed tells whether it was.
 */
int db_ocsp_cert_revoke(struct db *db, int64_t ca_id, const uint8_t fp[32],
			int reason, int64_t user_id, int *changed);

#endif
