/*
 * The OCSP responder (pki/ocsp.h): from a request to a signed response,
 * with one read of the CA and one indexed read per CertID.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dbocsp.h"
#include "err.h"
#include "log.h"
#include "ocsp.h"
#include "x509.h"

/* The CA as CertIDs name it, under each hash we answer. */
struct issuer {
	uint8_t name_sha1[20], key_sha1[20];
	uint8_t name_sha256[32], key_sha256[32];
};

/* Who signs: the CA's key, or its delegated responder's. */
struct responder {
	const uint8_t *key_id;
	int keytype;
	const uint8_t *cert; /* NULL for the CA itself */
	size_t certlen;
	uint8_t keyhash[20]; /* SHA-1 of its public key bits: responderID */
};

enum ocsp_resp_status
ocsp_status_of(int err)
{
	switch (err) {
	case 0:
		return OCSP_ST_SUCCESSFUL;
	case EST_E_BADASN1:
	case EST_E_TOOBIG:
	case EST_E_INVAL:
		return OCSP_ST_MALFORMED;
	case EST_E_NOTFOUND:
		return OCSP_ST_UNAUTHORIZED;
	case EST_E_DB:
	case EST_E_SIGNER:
	case EST_E_EOF:
	case EST_E_IO:
	case EST_E_HSM:
	case EST_E_PIN:
	case EST_E_NOTOKEN:
		return OCSP_ST_TRYLATER;
	default:
		return OCSP_ST_INTERNAL;
	}
}

static int
digest(const EVP_MD *md, const uint8_t *p, size_t len, uint8_t *out,
       size_t outlen)
{
	unsigned int n = 0;

	if (EVP_Digest(p, len, out, &n, md, NULL) != 1 || n != outlen)
		return EST_E_CRYPTO;
	return 0;
}

/* SHA-1 of a certificate's subjectPublicKey bits (RFC 6960 KeyHash). */
static int
key_sha1(X509 *x, uint8_t out[20])
{
	const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);

	if (bits == NULL)
		return EST_E_INTERNAL;
	return digest(EVP_sha1(), ASN1_STRING_get0_data(bits),
		      (size_t)ASN1_STRING_length(bits), out, 20);
}

static int
issuer_of(X509 *x, struct issuer *is)
{
	const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);
	unsigned char *name = NULL;
	int n, r;

	/* The subject as encoded in the certificate: what issuers carry. */
	if (bits == NULL ||
	    (n = i2d_X509_NAME(X509_get_subject_name(x), &name)) <= 0)
		return EST_E_INTERNAL;
	if ((r = digest(EVP_sha1(), name, (size_t)n, is->name_sha1, 20)) != 0 ||
	    (r = digest(EVP_sha256(), name, (size_t)n, is->name_sha256, 32)) !=
		    0 ||
	    (r = digest(EVP_sha1(), ASN1_STRING_get0_data(bits),
			(size_t)ASN1_STRING_length(bits), is->key_sha1, 20)) !=
		    0 ||
	    (r = digest(EVP_sha256(), ASN1_STRING_get0_data(bits),
			(size_t)ASN1_STRING_length(bits), is->key_sha256,
			32)) != 0)
		goto out;
out:
	OPENSSL_free(name);
	return r;
}

/* Whether a CertID names this CA. */
static int
names_issuer(const struct ocsp_certid *id, const struct issuer *is)
{
	switch (id->hash) {
	case OCSP_HASH_SHA1:
		return memcmp(id->namehash, is->name_sha1, 20) == 0 &&
		       memcmp(id->keyhash, is->key_sha1, 20) == 0;
	case OCSP_HASH_SHA256:
		return memcmp(id->namehash, is->name_sha256, 32) == 0 &&
		       memcmp(id->keyhash, is->key_sha256, 32) == 0;
	default:
		return 0;
	}
}

static int
decode_cert(const uint8_t *der, size_t len, X509 **out)
{
	const unsigned char *p = der;
	X509 *x;

	if (len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return EST_E_INTERNAL;
	if (p != der + len) {
		X509_free(x);
		return EST_E_INTERNAL;
	}
	*out = x;
	return 0;
}

/*
 * The delegated responder while its certificate is valid at now, else the
 * CA: a response signed with an expired responder certificate would fail
 * every client's check, one signed by the CA fails none.
 */
static int
responder_of(const struct db_ocsp_ca *ca, X509 *cacert, time_t now,
	     struct responder *rp)
{
	X509 *x = NULL;
	EVP_PKEY *pk;
	time_t t = now;
	int kt, r;

	memset(rp, 0, sizeof(*rp));
	if (ca->has_ocsp_key) {
		if ((r = decode_cert(ca->ocsp_cert_der, ca->ocsp_cert_len,
				     &x)) != 0) {
			log_err("CA %lld: the OCSP responder certificate does "
				"not parse",
				(long long)ca->id);
			return r;
		}
		if (X509_cmp_time(X509_get0_notBefore(x), &t) < 0 &&
		    X509_cmp_time(X509_get0_notAfter(x), &t) > 0 &&
		    (pk = X509_get0_pubkey(x)) != NULL &&
		    x509_pkey_keytype(pk, &kt) == 0 &&
		    (r = key_sha1(x, rp->keyhash)) == 0) {
			rp->key_id = ca->ocsp_key_id;
			rp->keytype = kt;
			rp->cert = ca->ocsp_cert_der;
			rp->certlen = ca->ocsp_cert_len;
			X509_free(x);
			return 0;
		}
		X509_free(x);
		log_warn("CA %lld: the OCSP responder certificate is not "
			 "valid now; the CA signs its responses",
			 (long long)ca->id);
	}
	rp->key_id = ca->key_id;
	rp->keytype = ca->keytype;
	return key_sha1(cacert, rp->keyhash);
}

/* The answer about one CertID that names this CA. */
static int
answer(struct db *db, int64_t ca_id, const struct ocsp_certid *id,
       struct ocsp_single *s)
{
	struct db_ocsp_cert st;
	int r;

	s->id = id;
	s->status = OCSP_CERT_UNKNOWN;
	s->reason = -1;
	/* Our serials are positive and never zero. */
	if (id->serial_negative || id->serial_len == 0)
		return 0;
	if ((r = db_ocsp_status(db, ca_id, id->serial, id->serial_len, &st)) !=
	    0)
		return r;
	if (st.status == DB_OCSP_GOOD)
		s->status = OCSP_CERT_GOOD;
	else if (st.status == DB_OCSP_REVOKED) {
		s->status = OCSP_CERT_REVOKED;
		s->revoked_at = (time_t)st.revoked_at;
		/* RFC 5280 5.3.1: unspecified is better left out. */
		s->reason = st.reason > 0 ? st.reason : -1;
	}
	return 0;
}

/* Signer failures that say the signer is down keep their code. */
static int
sign_error(int64_t ca_id, int r)
{
	switch (r) {
	case EST_E_SIGNER:
	case EST_E_EOF:
	case EST_E_IO:
	case EST_E_HSM:
	case EST_E_PIN:
	case EST_E_NOTOKEN:
	case EST_E_NOMEM:
	case EST_E_BADVERSION:
	case EST_E_BADTYPE:
	case EST_E_TRAILING:
		return r;
	default:
		log_err("CA %lld: the signer refused an OCSP response: %s",
			(long long)ca_id, est_strerror(r));
		return EST_E_INTERNAL;
	}
}

int
ocsp_respond(struct db *db, struct sigclient *sc, int64_t ca_id,
	     const uint8_t *req, size_t reqlen, time_t now, uint8_t **der,
	     size_t *len, time_t *next_update)
{
	struct ocsp_single s[OCSP_REQ_CERTS_MAX];
	struct ocsp_request *rq = NULL;
	struct db_ocsp_ca *ca = NULL;
	struct responder rp;
	struct issuer is;
	uint8_t *rd = NULL, *basic = NULL;
	size_t rdlen = 0, basiclen = 0, i;
	X509 *cacert = NULL;
	time_t next;
	int r;

	if ((r = ocsp_request_parse(req, reqlen, &rq)) != 0 ||
	    (r = db_ocsp_ca_get(db, ca_id, 0, &ca)) != 0)
		goto out;
	if (!ca->active || ca->cert_der == NULL) {
		r = EST_E_NOTFOUND;
		goto out;
	}
	if ((r = decode_cert(ca->cert_der, ca->cert_len, &cacert)) != 0 ||
	    (r = issuer_of(cacert, &is)) != 0)
		goto out;
	/* This responder speaks for this CA only. */
	for (i = 0; i < rq->n; i++)
		if (!names_issuer(&rq->ids[i], &is)) {
			r = EST_E_NOTFOUND;
			goto out;
		}
	for (i = 0; i < rq->n; i++)
		if ((r = answer(db, ca_id, &rq->ids[i], &s[i])) != 0)
			goto out;
	next = ca->crl_next_update > now ? (time_t)ca->crl_next_update
					 : now + OCSP_NEXT_UPDATE;
	if ((r = responder_of(ca, cacert, now, &rp)) != 0 ||
	    (r = ocsp_respdata_der(rp.keyhash, now, next, s, rq->n, rq->nonce,
				   rq->noncelen, &rd, &rdlen)) != 0)
		goto out;
	if ((r = x509_ocsp_sign(sc, rp.key_id, rp.keytype, rd, rdlen, rp.cert,
				rp.certlen, &basic, &basiclen)) != 0) {
		r = sign_error(ca_id, r);
		goto out;
	}
	if ((r = ocsp_response_der(OCSP_ST_SUCCESSFUL, basic, basiclen, der,
				   len)) != 0)
		goto out;
	*next_update = next;
out:
	free(basic);
	free(rd);
	X509_free(cacert);
	db_ocsp_ca_free(ca);
	ocsp_request_free(rq);
	return r;
}
