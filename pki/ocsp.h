/*
 * The OCSP responder of the internal CAs (RFC 6960, with the nonce of
 * RFC 8954), served by estuary-est at /pki/ocsp/{id} (fcgi/pki_ocsp.c).
 *
 * A request (OCSPRequest, DER, at most OCSP_REQ_MAX octets) asks about at
 * most OCSP_REQ_CERTS_MAX certificates, each named by a CertID whose hash
 * algorithm is SHA-1 or SHA-256.  A signed request is accepted and its
 * signature ignored (the answers are public).  Each CertID must name the
 * CA of the URL (issuerNameHash and issuerKeyHash of its certificate's
 * subject and public key) and is answered by one indexed lookup of its
 * serial (db/dbocsp.h): good, revoked (time and reason), or unknown for a
 * serial the CA never issued.  The response is signed by the CA's key, or
 * by its delegated responder key while the responder's certificate is
 * valid (and then carries that certificate), always through the signer;
 * responderID is byKey.  producedAt and thisUpdate are now; nextUpdate is
 * the CA's next CRL update when that is later, else now + OCSP_NEXT_UPDATE.
 * A nonce extension (1..32 octets) is echoed.
 *
 * Errors are answers too (OCSPResponseStatus, RFC 6960 2.3):
 *	malformedRequest  a request that does not parse, is too large, asks
 *			  about no certificate or too many, or has a bad
 *			  nonce;
 *	unauthorized	  a CA that does not exist, is inactive or has no
 *			  certificate yet, or a CertID of another issuer or
 *			  hash algorithm: this responder cannot answer it
 *			  authoritatively (RFC 5019 2.2.3);
 *	tryLater	  the database or the signer is down;
 *	internalError	  anything else.
 */
#ifndef ESTUARY_PKI_OCSP_H
#define ESTUARY_PKI_OCSP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct db;
struct sigclient;

#define OCSP_REQ_MAX 65536
#define OCSP_REQ_CERTS_MAX 16
#define OCSP_NONCE_MIN 1
#define OCSP_NONCE_MAX 32
#define OCSP_NEXT_UPDATE 3600 /* seconds, without a CRL schedule */

#define OCSP_REQUEST_TYPE "application/ocsp-request"
#define OCSP_RESPONSE_TYPE "application/ocsp-response"

/* OCSPResponseStatus. */
enum ocsp_resp_status {
	OCSP_ST_SUCCESSFUL = 0,
	OCSP_ST_MALFORMED = 1,
	OCSP_ST_INTERNAL = 2,
	OCSP_ST_TRYLATER = 3,
	OCSP_ST_SIGREQUIRED = 5,
	OCSP_ST_UNAUTHORIZED = 6,
};

/* CertStatus. */
enum ocsp_cert_status {
	OCSP_CERT_GOOD = 0,
	OCSP_CERT_REVOKED = 1,
	OCSP_CERT_UNKNOWN = 2,
};

/* The hash algorithms of a CertID that this responder answers. */
enum ocsp_hash {
	OCSP_HASH_OTHER = 0, /* well-formed, but not one we answer */
	OCSP_HASH_SHA1,
	OCSP_HASH_SHA256,
};

struct ocsp_certid {
	enum ocsp_hash hash;
	uint8_t namehash[32]; /* hashlen octets */
	uint8_t keyhash[32];
	size_t hashlen;
	/* The serial's magnitude; negative serials are never ours. */
	uint8_t serial[20];
	size_t serial_len;
	int serial_negative;
	/* The CertID in DER, echoed in the answer (RFC 6960 4.2.1). */
	uint8_t *der;
	size_t derlen;
};

struct ocsp_request {
	struct ocsp_certid ids[OCSP_REQ_CERTS_MAX];
	size_t n;
	/* The nonce extension's extnValue (a DER OCTET STRING), or NULL. */
	uint8_t *nonce;
	size_t noncelen;
};

/*
 * Parses a DER OCSPRequest (the whole input).  EST_E_BADASN1 for anything
 * that is not one, EST_E_TOOBIG over OCSP_REQ_MAX, EST_E_INVAL for a
 * request about no certificate, more than OCSP_REQ_CERTS_MAX, a serial of
 * more than 20 octets, or a nonce that is not an OCTET STRING of
 * OCSP_NONCE_MIN..OCSP_NONCE_MAX octets (or given twice).  A CertID of a
 * hash algorithm we do not answer is parsed (hash OCSP_HASH_OTHER).
 */
int ocsp_request_parse(const uint8_t *der, size_t len,
		       struct ocsp_request **out);
void ocsp_request_free(struct ocsp_request *rq);

/* One SingleResponse of a ResponseData being built. */
struct ocsp_single {
	const struct ocsp_certid *id;
	enum ocsp_cert_status status;
	time_t revoked_at; /* OCSP_CERT_REVOKED */
	int reason;	   /* CRLReason, or -1 to leave it out */
};

/*
 * The DER ResponseData: responderID byKey (keyhash, the SHA-1 of the
 * responder's subjectPublicKey bits), producedAt and every thisUpdate
 * "now", nextUpdate next (0: none), the answers, and the nonce extension
 * when nonce is not NULL (its extnValue, as ocsp_request_parse() kept it).
 */
int ocsp_respdata_der(const uint8_t keyhash[20], time_t now, time_t next,
		      const struct ocsp_single *s, size_t n,
		      const uint8_t *nonce, size_t noncelen, uint8_t **der,
		      size_t *len);

/*
 * The DER OCSPResponse of status with, for OCSP_ST_SUCCESSFUL, the DER
 * BasicOCSPResponse basic as its id-pkix-ocsp-basic responseBytes (basic
 * NULL for the other statuses, which carry none).
 */
int ocsp_response_der(enum ocsp_resp_status status, const uint8_t *basic,
		      size_t basiclen, uint8_t **der, size_t *len);

/* The OCSPResponseStatus that answers an error of ocsp_respond(). */
enum ocsp_resp_status ocsp_status_of(int err);

/*
 * Answers a DER OCSPRequest for CA ca_id at time now: 0 and *der, *len
 * (a successful OCSPResponse) and *next_update (the responses' nextUpdate,
 * for HTTP caching); otherwise an error whose ocsp_status_of() is the
 * status to answer: EST_E_BADASN1, EST_E_TOOBIG or EST_E_INVAL
 * (malformedRequest), EST_E_NOTFOUND (unauthorized), EST_E_DB,
 * EST_E_SIGNER, EST_E_HSM (tryLater), EST_E_INTERNAL.
 */
int ocsp_respond(struct db *db, struct sigclient *sc, int64_t ca_id,
		 const uint8_t *req, size_t reqlen, time_t now, uint8_t **der,
		 size_t *len, time_t *next_update);

/*
 * The delegated responder of a CA (pki/ocsp_responder.c): a key of usage
 * OCSP generated in the HSM by the signer (subject: the CA's, with the
 * common name "<CA CN> OCSP Responder"), certified by the CA for
 * OCSP_RESPONDER_DAYS by default, never beyond the CA's own notAfter:
 * extendedKeyUsage id-kp-OCSPSigning, id-pkix-ocsp-nocheck (RFC 6960
 * 4.2.2.2.1: relying parties do not ask about the responder itself, which
 * is why its life is short), keyUsage critical digitalSignature,
 * basicConstraints critical CA:FALSE, subject and authority key
 * identifiers.  The certificate is recorded in certificates like any the
 * CA issued, and stored with the CA (cas.ocsp_key_id, ocsp_cert_der).
 *
 * Both calls run in the caller's open transaction (db_begin()) and lock
 * the CA row first.  Replacing or removing a responder marks its
 * certificate revoked (superseded, or cessationOfOperation) and makes a
 * new CRL (pki/crl.h).  The old key stays in the HSM: the signer protocol
 * has no way to delete a key, and a key that signs nothing is harmless.
 */
#define OCSP_RESPONDER_DAYS 30
#define OCSP_RESPONDER_DAYS_MAX 365

struct ocsp_responder_req {
	int64_t ca_id;
	int keytype;	 /* enum signer_keytype; 0: the CA's */
	int days;	 /* 1..OCSP_RESPONDER_DAYS_MAX; 0: the default */
	int by_app;	 /* made by an API application, not a user */
	int64_t creator; /* users.id or api_applications.id */
	time_t now;
};

/* A responder certificate, as the API shows it. */
struct ocsp_responder {
	int keytype;
	char *subject; /* RFC 2253 text */
	uint8_t serial[20];
	size_t serial_len;
	time_t not_before;
	time_t not_after;
	uint8_t fingerprint[32]; /* SHA-256 of der */
	uint8_t *der;
	size_t derlen;
	int64_t cert_id; /* its certificates.id; 0 when not known */
};

/*
 * Makes the CA's delegated responder, replacing any it had; *out says
 * what was made and *replaced whether another was replaced.
 * EST_E_NOTFOUND when the CA does not exist, EST_E_CONFLICT when it is
 * inactive, still without its certificate or expired, EST_E_BADALG for a
 * key type the HSM profile does not allow, EST_E_INVAL for bad arguments.
 */
int ocsp_responder_set(struct db *db, struct sigclient *sc,
		       const struct ocsp_responder_req *rq,
		       struct ocsp_responder **out, int *replaced);
/*
 * Back to responses signed by the CA; EST_E_NOTFOUND when the CA does not
 * exist or has no delegated responder.  *old (may be NULL) receives the
 * responder that was removed.
 */
int ocsp_responder_clear(struct db *db, struct sigclient *sc, int64_t ca_id,
			 int64_t user_id, struct ocsp_responder **old);
/* The description of a responder certificate (DER). */
int ocsp_responder_parse(const uint8_t *der, size_t len,
			 struct ocsp_responder **out);
void ocsp_responder_free(struct ocsp_responder *r);

#endif
