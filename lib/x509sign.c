/*
 * Signing certificates, CRLs, certification requests and OCSP responses
 * through the signer (see x509.h).
 *
 * OpenSSL 3 has no public setter for the signature algorithm inside a
 * TBSCertificate or TBSCertList, nor for the signature of an X509 or
 * X509_CRL, and a fresh X509 cannot even be encoded before one is set.
 * So the TBS structure is encoded here, field by field, with OpenSSL's
 * public encoders and our AlgorithmIdentifier in place; the signer signs
 * exactly those bytes, and the signed structure is assembled around them
 * and decoded back.  Only the signer's policy decides what is signed:
 * nothing here needs a private key.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "err.h"
#include "sigclient.h"
#include "x509.h"

/*
 * AlgorithmIdentifier DER for each signature algorithm we produce:
 * ECDSA without parameters (RFC 5758 3.2), RSA with a NULL parameter
 * (RFC 4055 5).
 */
static const uint8_t alg_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
					   0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t alg_ecdsa_sha384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
					   0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t alg_ecdsa_sha512[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
					   0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
static const uint8_t alg_rsa_sha256[] = {0x30, 0x0d, 0x06, 0x09, 0x2a,
					 0x86, 0x48, 0x86, 0xf7, 0x0d,
					 0x01, 0x01, 0x0b, 0x05, 0x00};
static const uint8_t alg_rsa_sha384[] = {0x30, 0x0d, 0x06, 0x09, 0x2a,
					 0x86, 0x48, 0x86, 0xf7, 0x0d,
					 0x01, 0x01, 0x0c, 0x05, 0x00};
static const uint8_t alg_rsa_sha512[] = {0x30, 0x0d, 0x06, 0x09, 0x2a,
					 0x86, 0x48, 0x86, 0xf7, 0x0d,
					 0x01, 0x01, 0x0d, 0x05, 0x00};

struct sigalg {
	const uint8_t *der;
	size_t len;
};
#define SIGALG(a) ((struct sigalg){(a), sizeof(a)})

/*
 * The signature algorithm for a key type and digest; SIGNER_DIGEST_NONE
 * picks the digest that matches the key's strength (SHA-384 for P-384,
 * SHA-256 otherwise).
 */
static int
sigalg_for(int keytype, int digest, struct sigalg *alg)
{
	int ec;

	switch (keytype) {
	case SIGNER_KEY_EC_P256:
	case SIGNER_KEY_EC_P384:
		ec = 1;
		break;
	case SIGNER_KEY_RSA_2048:
	case SIGNER_KEY_RSA_3072:
	case SIGNER_KEY_RSA_4096:
		ec = 0;
		break;
	default:
		return EST_E_BADALG;
	}
	if (digest == SIGNER_DIGEST_NONE)
		digest = keytype == SIGNER_KEY_EC_P384 ? SIGNER_DIGEST_SHA384
						       : SIGNER_DIGEST_SHA256;
	switch (digest) {
	case SIGNER_DIGEST_SHA256:
		*alg = ec ? SIGALG(alg_ecdsa_sha256) : SIGALG(alg_rsa_sha256);
		return 0;
	case SIGNER_DIGEST_SHA384:
		*alg = ec ? SIGALG(alg_ecdsa_sha384) : SIGALG(alg_rsa_sha384);
		return 0;
	case SIGNER_DIGEST_SHA512:
		*alg = ec ? SIGALG(alg_ecdsa_sha512) : SIGALG(alg_rsa_sha512);
		return 0;
	}
	return EST_E_BADALG;
}

/* Writes a DER header for content of len bytes at p; returns its size. */
static size_t
der_header(uint8_t *p, int constructed, size_t len, int tag)
{
	unsigned char *q = p;

	ASN1_put_object(&q, constructed, (int)len, tag, V_ASN1_UNIVERSAL);
	return (size_t)(q - p);
}

static size_t
der_size(size_t len, int tag)
{
	int n = ASN1_object_size(1, (int)len, tag);

	return n < 0 ? 0 : (size_t)n;
}

/*
 * A DER structure assembled from parts: encodings made by OpenSSL (freed
 * with OPENSSL_free), by us (free) or borrowed bytes that outlive the
 * builder.  After the first error, parts are freed as they come and
 * build_end() reports the error.
 */
enum part_owner { PART_BORROWED, PART_OPENSSL, PART_MALLOC };

struct der_part {
	const uint8_t *p;
	size_t len;
	enum part_owner owner;
};

struct der_build {
	struct der_part *parts;
	size_t n, cap;
	size_t len;
	int err;
};

static void
part_free(const uint8_t *p, enum part_owner owner)
{
	/* The casts drop the const of a part this builder owns. */
	if (owner == PART_OPENSSL)
		OPENSSL_free((void *)(uintptr_t)p);
	else if (owner == PART_MALLOC)
		free((void *)(uintptr_t)p);
}

static void
build_add(struct der_build *b, const uint8_t *p, size_t len,
	  enum part_owner owner)
{
	struct der_part *np;
	size_t ncap;

	if (b->err == 0 && b->n == b->cap) {
		ncap = b->cap == 0 ? 8 : 2 * b->cap;
		if ((np = reallocarray(b->parts, ncap, sizeof(*np))) == NULL)
			b->err = EST_E_NOMEM;
		else {
			b->parts = np;
			b->cap = ncap;
		}
	}
	if (b->err == 0 && len > INT_MAX - b->len)
		b->err = EST_E_TOOBIG;
	if (b->err != 0) {
		part_free(p, owner);
		return;
	}
	b->parts[b->n].p = p;
	b->parts[b->n].len = len;
	b->parts[b->n].owner = owner;
	b->n++;
	b->len += len;
}

/* Adds what an OpenSSL i2d function returned: its length and buffer. */
static void
build_i2d(struct der_build *b, int len, unsigned char *p)
{
	if (len <= 0 || p == NULL) {
		OPENSSL_free(p);
		if (b->err == 0)
			b->err = EST_E_CRYPTO;
		return;
	}
	build_add(b, p, (size_t)len, PART_OPENSSL);
}

/* The arguments of build_i2d() must be evaluated in this order. */
#define BUILD_I2D(b, i2d, obj)                                                 \
	do {                                                                   \
		unsigned char *p_ = NULL;                                      \
		int n_ = i2d((obj), &p_);                                      \
		build_i2d((b), n_, p_);                                        \
	} while (0)

/*
 * Wraps the parts in one constructed element of tag and class; frees the
 * parts whatever happens.
 */
static int
build_end(struct der_build *b, int tag, int cls, uint8_t **out, size_t *outlen)
{
	unsigned char *d = NULL, *q;
	size_t i, off;
	int n, r = b->err;

	if (r == 0 && (n = ASN1_object_size(1, (int)b->len, tag)) <= 0)
		r = EST_E_TOOBIG;
	if (r == 0 && (d = malloc((size_t)n)) == NULL)
		r = EST_E_NOMEM;
	if (r == 0) {
		q = d;
		ASN1_put_object(&q, 1, (int)b->len, tag, cls);
		off = (size_t)(q - d);
		for (i = 0; i < b->n; i++) {
			memcpy(d + off, b->parts[i].p, b->parts[i].len);
			off += b->parts[i].len;
		}
		*out = d;
		*outlen = off;
	}
	for (i = 0; i < b->n; i++)
		part_free(b->parts[i].p, b->parts[i].owner);
	free(b->parts);
	memset(b, 0, sizeof(*b));
	return r;
}

/* Ends the inner builder and adds the result to the outer one. */
static void
build_nest(struct der_build *outer, struct der_build *inner, int tag, int cls)
{
	uint8_t *d = NULL;
	size_t len = 0;
	int r;

	if ((r = build_end(inner, tag, cls, &d, &len)) != 0) {
		if (outer->err == 0)
			outer->err = r;
		return;
	}
	build_add(outer, d, len, PART_MALLOC);
}

/*
 * TBSCertificate (RFC 5280 4.1) of x with alg as its signature algorithm.
 * Unique identifiers are refused: RFC 5280 forbids CAs to generate them.
 */
static int
tbs_cert(X509 *x, const struct sigalg *alg, uint8_t **out, size_t *outlen)
{
	struct der_build b, v, e;
	const ASN1_BIT_STRING *iuid = NULL, *suid = NULL;
	const STACK_OF(X509_EXTENSION) * exts;
	long version = X509_get_version(x);
	uint8_t ver[5] = {0xa0, 0x03, 0x02, 0x01, 0x00};

	X509_get0_uids(x, &iuid, &suid);
	if (iuid != NULL || suid != NULL || version < 0 ||
	    version > X509_VERSION_3)
		return EST_E_INVAL;
	memset(&b, 0, sizeof(b));
	memset(&v, 0, sizeof(v));
	memset(&e, 0, sizeof(e));
	/* version [0] EXPLICIT, absent for the DEFAULT v1. */
	if (version != X509_VERSION_1) {
		ver[4] = (uint8_t)version;
		build_add(&b, ver, sizeof(ver), PART_BORROWED);
	}
	BUILD_I2D(&b, i2d_ASN1_INTEGER, X509_get0_serialNumber(x));
	build_add(&b, alg->der, alg->len, PART_BORROWED);
	BUILD_I2D(&b, i2d_X509_NAME, X509_get_issuer_name(x));
	BUILD_I2D(&v, i2d_ASN1_TIME, X509_get0_notBefore(x));
	BUILD_I2D(&v, i2d_ASN1_TIME, X509_get0_notAfter(x));
	build_nest(&b, &v, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	BUILD_I2D(&b, i2d_X509_NAME, X509_get_subject_name(x));
	BUILD_I2D(&b, i2d_X509_PUBKEY, X509_get_X509_PUBKEY(x));
	exts = X509_get0_extensions(x);
	if (exts != NULL && sk_X509_EXTENSION_num(exts) > 0) {
		/* extensions [3] EXPLICIT */
		BUILD_I2D(&e, i2d_X509_EXTENSIONS, exts);
		build_nest(&b, &e, 3, V_ASN1_CONTEXT_SPECIFIC);
	}
	return build_end(&b, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, out, outlen);
}

/* TBSCertList (RFC 5280 5.1) of crl with alg as its signature algorithm. */
static int
tbs_crl(X509_CRL *crl, const struct sigalg *alg, uint8_t **out, size_t *outlen)
{
	struct der_build b, rv, e;
	const STACK_OF(X509_EXTENSION) * exts;
	STACK_OF(X509_REVOKED) * revoked;
	long version = X509_CRL_get_version(crl);
	static const uint8_t v2[3] = {0x02, 0x01, 0x01};
	int i;

	if (version < 0 || version > 1 || X509_CRL_get0_lastUpdate(crl) == NULL)
		return EST_E_INVAL;
	memset(&b, 0, sizeof(b));
	memset(&rv, 0, sizeof(rv));
	memset(&e, 0, sizeof(e));
	/* version is OPTIONAL: present (v2) whenever extensions are. */
	if (version == 1)
		build_add(&b, v2, sizeof(v2), PART_BORROWED);
	build_add(&b, alg->der, alg->len, PART_BORROWED);
	BUILD_I2D(&b, i2d_X509_NAME, X509_CRL_get_issuer(crl));
	BUILD_I2D(&b, i2d_ASN1_TIME, X509_CRL_get0_lastUpdate(crl));
	if (X509_CRL_get0_nextUpdate(crl) != NULL)
		BUILD_I2D(&b, i2d_ASN1_TIME, X509_CRL_get0_nextUpdate(crl));
	revoked = X509_CRL_get_REVOKED(crl);
	if (revoked != NULL && sk_X509_REVOKED_num(revoked) > 0) {
		for (i = 0; i < sk_X509_REVOKED_num(revoked); i++)
			BUILD_I2D(&rv, i2d_X509_REVOKED,
				  sk_X509_REVOKED_value(revoked, i));
		build_nest(&b, &rv, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	}
	exts = X509_CRL_get0_extensions(crl);
	if (exts != NULL && sk_X509_EXTENSION_num(exts) > 0) {
		/* crlExtensions [0] EXPLICIT */
		BUILD_I2D(&e, i2d_X509_EXTENSIONS, exts);
		build_nest(&b, &e, 0, V_ASN1_CONTEXT_SPECIFIC);
	}
	return build_end(&b, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, out, outlen);
}

/*
 * SEQUENCE { tbs, alg, BIT STRING sig }: the outer shape shared by
 * Certificate, CertificateList and CertificationRequest.  With tbs NULL
 * only the BIT STRING is written (for X509_REQ, which takes it alone).
 */
static int
der_signed(const uint8_t *tbs, size_t tbslen, const struct sigalg *alg,
	   const uint8_t *sig, size_t siglen, uint8_t **out, size_t *outlen)
{
	size_t bitlen, bitsize, content, n, off;
	uint8_t *d;

	if (siglen > INT_MAX - 1 || tbslen > INT_MAX)
		return EST_E_TOOBIG;
	bitlen = siglen + 1;
	bitsize = (size_t)ASN1_object_size(0, (int)bitlen, V_ASN1_BIT_STRING);
	content = tbslen + (tbs != NULL ? alg->len : 0) + bitsize;
	if (content > INT_MAX)
		return EST_E_TOOBIG;
	n = tbs != NULL ? der_size(content, V_ASN1_SEQUENCE) : bitsize;
	if (n == 0)
		return EST_E_TOOBIG;
	if ((d = malloc(n)) == NULL)
		return EST_E_NOMEM;
	off = 0;
	if (tbs != NULL) {
		off = der_header(d, 1, content, V_ASN1_SEQUENCE);
		memcpy(d + off, tbs, tbslen);
		off += tbslen;
		memcpy(d + off, alg->der, alg->len);
		off += alg->len;
	}
	off += der_header(d + off, 0, bitlen, V_ASN1_BIT_STRING);
	/* No unused bits: a signature is whole octets. */
	d[off++] = 0;
	memcpy(d + off, sig, siglen);
	*out = d;
	*outlen = n;
	return 0;
}

/*
 * Has the signer sign tbs (of SIGNER_SIGN_TBSCERT or _TBSCRL) and
 * assembles the signed structure.
 */
static int
sign_tbs(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
	 uint8_t kind, const uint8_t *tbs, size_t tbslen,
	 const struct sigalg *alg, uint8_t **der, size_t *derlen)
{
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r;

	if ((r = sigclient_sign(c, keyid, kind, SIGNER_DIGEST_NONE, tbs, tbslen,
				&sig, &siglen)) == 0)
		r = der_signed(tbs, tbslen, alg, sig, siglen, der, derlen);
	free(sig);
	return r;
}

int
x509_sign_der(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
	      int keytype, X509 *x, uint8_t **der, size_t *derlen)
{
	return x509_sign_der_md(c, keyid, keytype, SIGNER_DIGEST_NONE, x, der,
				derlen);
}

int
x509_sign_der_md(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
		 int keytype, int digest, X509 *x, uint8_t **der,
		 size_t *derlen)
{
	struct sigalg alg;
	uint8_t *tbs = NULL;
	size_t tbslen = 0;
	int r;

	if ((r = sigalg_for(keytype, digest, &alg)) != 0 ||
	    (r = tbs_cert(x, &alg, &tbs, &tbslen)) != 0)
		return r;
	r = sign_tbs(c, keyid, SIGNER_SIGN_TBSCERT, tbs, tbslen, &alg, der,
		     derlen);
	free(tbs);
	return r;
}

int
x509_sign(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
	  int keytype, X509 **xp)
{
	uint8_t *der = NULL;
	size_t len = 0;
	X509 *x = NULL;
	int r;

	if ((r = x509_sign_der(c, keyid, keytype, *xp, &der, &len)) != 0 ||
	    (r = x509_cert_from_der(der, len, &x)) != 0)
		goto out;
	X509_free(*xp);
	*xp = x;
out:
	free(der);
	return r;
}

int
x509_crl_sign(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
	      int keytype, X509_CRL **crlp)
{
	struct sigalg alg;
	const unsigned char *p;
	uint8_t *tbs = NULL, *der = NULL;
	size_t tbslen = 0, len = 0;
	X509_CRL *crl = NULL;
	int r;

	if ((r = sigalg_for(keytype, SIGNER_DIGEST_NONE, &alg)) != 0 ||
	    (r = tbs_crl(*crlp, &alg, &tbs, &tbslen)) != 0 ||
	    (r = sign_tbs(c, keyid, SIGNER_SIGN_TBSCRL, tbs, tbslen, &alg, &der,
			  &len)) != 0)
		goto out;
	p = der;
	if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		X509_CRL_free(crl);
		r = EST_E_CRYPTO;
		goto out;
	}
	X509_CRL_free(*crlp);
	*crlp = crl;
out:
	free(der);
	free(tbs);
	return r;
}

int
x509_ocsp_sign(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
	       int keytype, const uint8_t *respdata, size_t len,
	       const uint8_t *cert, size_t certlen, uint8_t **basic,
	       size_t *basiclen)
{
	struct der_build b, certs, seq;
	struct sigalg alg;
	uint8_t *sig = NULL, *bits = NULL;
	size_t siglen = 0, bitslen = 0;
	int r;

	if ((r = sigalg_for(keytype, SIGNER_DIGEST_NONE, &alg)) != 0 ||
	    (r = sigclient_sign(c, keyid, SIGNER_SIGN_OCSP, SIGNER_DIGEST_NONE,
				respdata, len, &sig, &siglen)) != 0 ||
	    (r = der_signed(NULL, 0, &alg, sig, siglen, &bits, &bitslen)) != 0)
		goto out;
	memset(&b, 0, sizeof(b));
	memset(&certs, 0, sizeof(certs));
	memset(&seq, 0, sizeof(seq));
	build_add(&b, respdata, len, PART_BORROWED);
	build_add(&b, alg.der, alg.len, PART_BORROWED);
	build_add(&b, bits, bitslen, PART_MALLOC);
	bits = NULL;
	if (cert != NULL) {
		/* certs [0] EXPLICIT SEQUENCE OF Certificate */
		build_add(&seq, cert, certlen, PART_BORROWED);
		build_nest(&certs, &seq, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
		build_nest(&b, &certs, 0, V_ASN1_CONTEXT_SPECIFIC);
	}
	r = build_end(&b, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, basic, basiclen);
out:
	free(bits);
	free(sig);
	return r;
}

int
x509_req_sign(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
	      int keytype, int digest, X509_REQ *req)
{
	struct sigalg alg;
	unsigned char *cri = NULL;
	const unsigned char *p;
	uint8_t *sig = NULL, *bits = NULL;
	size_t siglen = 0, bitslen = 0;
	X509_ALGOR *algor = NULL;
	ASN1_BIT_STRING *bs = NULL;
	int crilen, r;

	if (digest == SIGNER_DIGEST_NONE)
		return EST_E_BADALG;
	if ((r = sigalg_for(keytype, digest, &alg)) != 0)
		return r;
	/*
	 * The CertificationRequestInfo carries no algorithm, so it can be
	 * encoded as it is; the setters below mark it for re-encoding.
	 */
	if ((crilen = i2d_re_X509_REQ_tbs(req, &cri)) <= 0) {
		r = EST_E_CRYPTO;
		goto out;
	}
	if ((r = sigclient_sign(c, keyid, SIGNER_SIGN_CRI, (uint8_t)digest, cri,
				(size_t)crilen, &sig, &siglen)) != 0 ||
	    (r = der_signed(NULL, 0, &alg, sig, siglen, &bits, &bitslen)) != 0)
		goto out;
	/* Decoding sets the BIT STRING's "no unused bits" state properly. */
	p = alg.der;
	if ((algor = d2i_X509_ALGOR(NULL, &p, (long)alg.len)) == NULL) {
		r = EST_E_CRYPTO;
		goto out;
	}
	p = bits;
	if ((bs = d2i_ASN1_BIT_STRING(NULL, &p, (long)bitslen)) == NULL) {
		r = EST_E_CRYPTO;
		goto out;
	}
	if (!X509_REQ_set1_signature_algo(req, algor)) {
		r = EST_E_NOMEM;
		goto out;
	}
	X509_REQ_set0_signature(req, bs);
	bs = NULL;
out:
	ASN1_BIT_STRING_free(bs);
	X509_ALGOR_free(algor);
	free(bits);
	free(sig);
	OPENSSL_free(cri);
	return r;
}
