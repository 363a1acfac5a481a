/*
 * OCSPRequest parsing (pki/ocsp.h).  OpenSSL decodes the request; each
 * CertID is then encoded again in DER, which is what the answer echoes and
 * what the signer's strict parser will read, so that a request in some BER
 * freedom OpenSSL tolerates cannot make the responder build a response the
 * signer refuses.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "ocsp.h"

/*
 * The AlgorithmIdentifiers of the hashes we answer, with the NULL
 * parameter and without it (RFC 5754 says absent, most clients send
 * NULL): anything else is a hash we do not answer.
 */
static const struct {
	enum ocsp_hash hash;
	size_t hashlen;
	uint8_t der[15];
	size_t len;
} hash_algs[] = {
	{OCSP_HASH_SHA1,
	 20,
	 {0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00},
	 11},
	{OCSP_HASH_SHA1,
	 20,
	 {0x30, 0x07, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a},
	 9},
	{OCSP_HASH_SHA256,
	 32,
	 {0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
	  0x02, 0x01, 0x05, 0x00},
	 15},
	{OCSP_HASH_SHA256,
	 32,
	 {0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
	  0x02, 0x01},
	 13},
};

void
ocsp_request_free(struct ocsp_request *rq)
{
	size_t i;

	if (rq == NULL)
		return;
	for (i = 0; i < rq->n; i++)
		OPENSSL_free(rq->ids[i].der);
	free(rq->nonce);
	free(rq);
}

/* The hash algorithm of a DER CertID, from the bytes after its header. */
static void
certid_hash(struct ocsp_certid *id)
{
	size_t hdr, i;

	id->hash = OCSP_HASH_OTHER;
	if (id->derlen < 2)
		return;
	hdr = id->der[1] < 0x80 ? 2 : 2 + (size_t)(id->der[1] & 0x7f);
	for (i = 0; i < sizeof(hash_algs) / sizeof(hash_algs[0]); i++)
		if (id->derlen - hdr >= hash_algs[i].len &&
		    memcmp(id->der + hdr, hash_algs[i].der, hash_algs[i].len) ==
			    0) {
			id->hash = hash_algs[i].hash;
			id->hashlen = hash_algs[i].hashlen;
			return;
		}
}

static int
certid_parse(OCSP_CERTID *cid, struct ocsp_certid *id)
{
	ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
	ASN1_INTEGER *serial = NULL;
	unsigned char *der = NULL;
	int n;

	if (OCSP_id_get0_info(&nh, NULL, &kh, &serial, cid) != 1 ||
	    nh == NULL || kh == NULL || serial == NULL)
		return EST_E_BADASN1;
	if ((n = i2d_OCSP_CERTID(cid, &der)) <= 0)
		return EST_E_BADASN1;
	id->der = der;
	id->derlen = (size_t)n;
	certid_hash(id);
	/*
	 * RFC 5280 4.1.2.2: a serial has at most 20 octets, encoded; the
	 * magnitude OpenSSL gives needs one more when its top bit is set.
	 */
	if (ASN1_STRING_length(serial) > (int)sizeof(id->serial) ||
	    (ASN1_STRING_length(serial) == (int)sizeof(id->serial) &&
	     (ASN1_STRING_get0_data(serial)[0] & 0x80)))
		return EST_E_INVAL;
	id->serial_len = (size_t)ASN1_STRING_length(serial);
	memcpy(id->serial, ASN1_STRING_get0_data(serial), id->serial_len);
	id->serial_negative = ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER;
	if (id->hash == OCSP_HASH_OTHER)
		return 0;
	/* Hashes of another length than their algorithm's are nonsense. */
	if ((size_t)ASN1_STRING_length(nh) != id->hashlen ||
	    (size_t)ASN1_STRING_length(kh) != id->hashlen)
		return EST_E_INVAL;
	memcpy(id->namehash, ASN1_STRING_get0_data(nh), id->hashlen);
	memcpy(id->keyhash, ASN1_STRING_get0_data(kh), id->hashlen);
	return 0;
}

/*
 * RFC 8954: the nonce is an OCTET STRING of 1..32 octets; the extension
 * is kept whole to be echoed.
 */
static int
nonce_parse(OCSP_REQUEST *req, struct ocsp_request *rq)
{
	const unsigned char *p, *q;
	ASN1_OCTET_STRING *inner = NULL, *os;
	X509_EXTENSION *ext;
	int idx, len, r = EST_E_INVAL;

	if ((idx = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce,
					       -1)) < 0)
		return 0;
	if (OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, idx) >=
		    0 ||
	    (ext = OCSP_REQUEST_get_ext(req, idx)) == NULL ||
	    (os = X509_EXTENSION_get_data(ext)) == NULL)
		return EST_E_INVAL;
	p = q = ASN1_STRING_get0_data(os);
	len = ASN1_STRING_length(os);
	if (len <= 0 ||
	    (inner = d2i_ASN1_OCTET_STRING(NULL, &q, len)) == NULL ||
	    q != p + len || ASN1_STRING_length(inner) < OCSP_NONCE_MIN ||
	    ASN1_STRING_length(inner) > OCSP_NONCE_MAX)
		goto out;
	if ((rq->nonce = malloc((size_t)len)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	memcpy(rq->nonce, p, (size_t)len);
	rq->noncelen = (size_t)len;
	r = 0;
out:
	ASN1_OCTET_STRING_free(inner);
	return r;
}

int
ocsp_request_parse(const uint8_t *der, size_t len, struct ocsp_request **out)
{
	const unsigned char *p = der;
	struct ocsp_request *rq = NULL;
	OCSP_REQUEST *req = NULL;
	OCSP_ONEREQ *one;
	int n, i, r;

	if (len > OCSP_REQ_MAX)
		return EST_E_TOOBIG;
	if (len == 0 || (req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		OCSP_REQUEST_free(req);
		return EST_E_BADASN1;
	}
	if ((rq = calloc(1, sizeof(*rq))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	n = OCSP_request_onereq_count(req);
	if (n < 1 || n > OCSP_REQ_CERTS_MAX) {
		r = EST_E_INVAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((one = OCSP_request_onereq_get0(req, i)) == NULL) {
			r = EST_E_BADASN1;
			goto out;
		}
		r = certid_parse(OCSP_onereq_get0_id(one), &rq->ids[rq->n]);
		/* What certid_parse() allocated is freed with the rest. */
		if (rq->ids[rq->n].der != NULL)
			rq->n++;
		if (r != 0)
			goto out;
	}
	if ((r = nonce_parse(req, rq)) != 0)
		goto out;
	*out = rq;
	rq = NULL;
out:
	ocsp_request_free(rq);
	OCSP_REQUEST_free(req);
	return r;
}
