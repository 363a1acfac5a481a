/*
 * External CAs (guide §2.4): the certificate checks behind registering a
 * CA that a tenant runs itself (its factory CA), and behind the proof that
 * the tenant holds that CA's private key.
 *
 * Registration accepts one PEM certificate that is fit to be a trust
 * anchor for device certificates: a CA (basicConstraints CA:TRUE, and
 * keyCertSign when keyUsage is present), valid now, with a key we accept
 * (RSA of at least 2048 bits, or EC on P-256, P-384 or P-521) and a
 * signature that is not made with a broken hash (MD2, MD4, MD5 never;
 * SHA-1 only on a self-signed certificate, whose own signature nobody
 * relies on, which is also what OpenSSL's chain checks do).
 *
 * Proof of possession.  The API hands out a random verification code;
 * the owner has the CA sign a certificate whose subject CN is that code
 * (any key pair will do for its subject key, e.g.
 * "openssl req -new -subj /CN=<code>" then "openssl x509 -req -CA ...")
 * and uploads it.  extcert_check_proof() accepts it when its issuer name is
 * the CA's subject, its only CN is the code, and its signature verifies
 * with the CA's public key.  Nobody but the key's holder can make that
 * certificate, and the code, fresh for each attempt, stops the replay of
 * a certificate made for an earlier one.
 *
 * Every refusal fills a struct jsonval_error with EST_E_UNPROCESSABLE
 * (422), the field given by the caller and a message safe to send to the
 * client (it never quotes the input).
 */
#ifndef ESTUARY_EXTCERT_H
#define ESTUARY_EXTCERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

struct jsonval_error;

/* Largest PEM text accepted for one certificate, in bytes. */
#define EXTCERT_PEM_MAX (64 * 1024)
/* external_cas.subject: VARCHAR(1024), in characters. */
#define EXTCERT_SUBJECT_MAX 1024
/* external_cas.ski: VARBINARY(64); a longer identifier is not stored. */
#define EXTCERT_SKI_MAX 64
/* RSA keys: at least this many bits, and at most the second figure. */
#define EXTCERT_RSA_MIN_BITS 2048
#define EXTCERT_RSA_MAX_BITS 16384

/* Verification codes: 128 random bits as 32 lower-case hex digits. */
#define EXTCERT_CODE_BYTES 16
#define EXTCERT_CODE_LEN (2 * EXTCERT_CODE_BYTES)
/* How long a code stays valid, in seconds. */
#define EXTCERT_CODE_TTL (24 * 3600)

/*
 * Reads the one certificate of PEM text pem (len bytes, no NUL needed):
 * exactly one block labelled CERTIFICATE, without PEM headers, whose
 * content is exactly one DER certificate.  Text outside the block (the
 * dump "openssl x509 -text" writes above it) is allowed, as RFC 7468
 * allows it; any other block is refused, and a private key block is
 * refused with a message that says so.  On success sets *out and, when
 * der is not NULL, *der (malloc'ed) and *derlen to the certificate's DER
 * as the block carried it.
 */
int extcert_pem(const char *pem, size_t len, const char *field, X509 **out,
		uint8_t **der, size_t *derlen, struct jsonval_error *e);

/*
 * Whether x may be registered as an external CA at time now (see the top
 * of this file): 0, or EST_E_UNPROCESSABLE with the reason in e.
 */
int extcert_check_ca(X509 *x, time_t now, const char *field,
		     struct jsonval_error *e);

/*
 * Whether proof proves possession of ca's key for the verification code
 * code (see the top of this file): 0, or EST_E_UNPROCESSABLE with the
 * reason in e.  The proof's own validity period is not looked at: what it
 * proves is that the CA's key signed the code, which was issued after any
 * earlier certificate was made.
 */
int extcert_check_proof(X509 *ca, X509 *proof, const char *code,
			const char *field, struct jsonval_error *e);

/* A new verification code, EXTCERT_CODE_LEN hex digits and a NUL. */
int extcert_code_new(char out[EXTCERT_CODE_LEN + 1]);

/* What Estuary stores and shows of a certificate. */
struct extcert_info {
	uint8_t fingerprint[32];  /* SHA-256 of the DER */
	uint8_t subject_hash[32]; /* SHA-256 of the subject's DER */
	uint8_t ski[EXTCERT_SKI_MAX];
	size_t ski_len;		/* 0: none, or too long to store */
	char *subject;		/* RFC 2253 text */
	char *issuer;		/* RFC 2253 text */
	char *serial;		/* lower-case hex, "-" first if negative */
	char not_before[20];	/* "YYYY-MM-DD HH:MM:SS" (UTC) */
	char not_after[20];	/* idem */
	char key_type[24];	/* "rsa-2048", "ec-p256", ...; "" if other */
	char signature_alg[64]; /* OpenSSL's long name */
	int self_signed;	/* issuer = subject, and AKI/SKI agree */
};

/*
 * Derives *out from the DER certificate der (the whole input, nothing
 * more).  EST_E_BADASN1 when it is not one, or when its validity falls
 * outside the years 1000-9999 (what a DATETIME column holds).
 */
int extcert_info_new(const uint8_t *der, size_t len, struct extcert_info **out);
void extcert_info_free(struct extcert_info *info);

#endif
