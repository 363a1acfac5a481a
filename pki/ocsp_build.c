/*
 * DER encoding of what the responder sends (pki/ocsp.h): the ResponseData
 * that the signer signs and the OCSPResponse around a BasicOCSPResponse.
 * OpenSSL cannot help with the first: its ResponseData is opaque and gets
 * its producedAt only while OpenSSL signs it with a key it holds, which
 * never happens here.  So both are written by hand, bottom up, in the one
 * encoding DER allows; the signer parses the ResponseData strictly before
 * it signs, and the tests read the result back with OpenSSL.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "ocsp.h"

#define TAG_ENUMERATED 0x0a
#define TAG_OCTETSTRING 0x04
#define TAG_OID 0x06
#define TAG_GENTIME 0x18
#define TAG_SEQUENCE 0x30
#define TAG_CTX(n) (0x80 | (n))
#define TAG_CTX_CONS(n) (0xa0 | (n))

/* id-pkix-ocsp-nonce and id-pkix-ocsp-basic, with their tag and length. */
static const uint8_t oid_nonce[] = {0x06, 0x09, 0x2b, 0x06, 0x01, 0x05,
				    0x05, 0x07, 0x30, 0x01, 0x02};
static const uint8_t oid_basic[] = {0x06, 0x09, 0x2b, 0x06, 0x01, 0x05,
				    0x05, 0x07, 0x30, 0x01, 0x01};

/* Appends one element: tag, the shortest length, content. */
static int
tlv(struct buf *b, uint8_t tag, const uint8_t *p, size_t len)
{
	uint8_t hdr[6];
	size_t n = 0, k;
	int r;

	hdr[n++] = tag;
	if (len < 0x80) {
		hdr[n++] = (uint8_t)len;
	} else {
		for (k = 0; k < 4 && (len >> (8 * k)) != 0; k++)
			;
		if (k == 4 && (len >> 32) != 0)
			return EST_E_TOOBIG;
		hdr[n++] = (uint8_t)(0x80 | k);
		while (k-- > 0)
			hdr[n++] = (uint8_t)(len >> (8 * k));
	}
	if ((r = buf_put(b, hdr, n)) != 0)
		return r;
	return len > 0 ? buf_put(b, p, len) : 0;
}

/* Appends inner's bytes as the content of one element of tag. */
static int
wrap(struct buf *b, uint8_t tag, const struct buf *inner)
{
	return tlv(b, tag, buf_ptr(inner), buf_len(inner));
}

/* GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 4.1.2.5.2). */
static int
gentime(struct buf *b, time_t t)
{
	char s[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y%m%d%H%M%SZ", &tm) != 15)
		return EST_E_INVAL;
	return tlv(b, TAG_GENTIME, (const uint8_t *)s, 15);
}

/* Hands b's bytes to the caller as a new allocation, and frees b. */
static int
finish(struct buf *b, int r, uint8_t **der, size_t *len)
{
	uint8_t *d;

	if (r == 0 && (d = malloc(buf_len(b) ? buf_len(b) : 1)) == NULL)
		r = EST_E_NOMEM;
	if (r == 0) {
		memcpy(d, buf_ptr(b), buf_len(b));
		*der = d;
		*len = buf_len(b);
	}
	buf_free(b);
	return r;
}

/*
 * CertStatus: good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo
 * { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL },
 * unknown [2] IMPLICIT NULL.
 */
static int
cert_status(struct buf *b, const struct ocsp_single *s)
{
	struct buf *ri = NULL, *rr = NULL;
	uint8_t reason;
	int r;

	switch (s->status) {
	case OCSP_CERT_GOOD:
		return tlv(b, TAG_CTX(0), NULL, 0);
	case OCSP_CERT_UNKNOWN:
		return tlv(b, TAG_CTX(2), NULL, 0);
	case OCSP_CERT_REVOKED:
		break;
	default:
		return EST_E_INVAL;
	}
	if (s->reason > 10 || s->reason == 7)
		return EST_E_INVAL;
	if ((ri = buf_new(0)) == NULL || (rr = buf_new(0)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	reason = (uint8_t)s->reason;
	if ((r = gentime(ri, s->revoked_at)) != 0 ||
	    (s->reason >= 0 &&
	     ((r = tlv(rr, TAG_ENUMERATED, &reason, 1)) != 0 ||
	      (r = wrap(ri, TAG_CTX_CONS(0), rr)) != 0)) ||
	    (r = wrap(b, TAG_CTX_CONS(1), ri)) != 0)
		goto out;
out:
	buf_free(rr);
	buf_free(ri);
	return r;
}

/*
 * SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate,
 * nextUpdate [0] EXPLICIT OPTIONAL }.
 */
static int
single(struct buf *b, const struct ocsp_single *s, time_t now, time_t next)
{
	struct buf *sr = NULL, *nu = NULL;
	int r;

	if ((sr = buf_new(0)) == NULL || (nu = buf_new(0)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = buf_put(sr, s->id->der, s->id->derlen)) != 0 ||
	    (r = cert_status(sr, s)) != 0 || (r = gentime(sr, now)) != 0 ||
	    (next != 0 && ((r = gentime(nu, next)) != 0 ||
			   (r = wrap(sr, TAG_CTX_CONS(0), nu)) != 0)) ||
	    (r = wrap(b, TAG_SEQUENCE, sr)) != 0)
		goto out;
out:
	buf_free(nu);
	buf_free(sr);
	return r;
}

/*
 * responseExtensions [1] EXPLICIT Extensions holding the nonce extension:
 * SEQUENCE { SEQUENCE { id-pkix-ocsp-nonce, OCTET STRING extnValue } }.
 */
static int
nonce_ext(struct buf *b, const uint8_t *nonce, size_t noncelen)
{
	struct buf *ext = NULL, *exts = NULL, *outer = NULL;
	int r;

	if ((ext = buf_new(0)) == NULL || (exts = buf_new(0)) == NULL ||
	    (outer = buf_new(0)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = buf_put(ext, oid_nonce, sizeof(oid_nonce))) != 0 ||
	    (r = tlv(ext, TAG_OCTETSTRING, nonce, noncelen)) != 0 ||
	    (r = wrap(exts, TAG_SEQUENCE, ext)) != 0 ||
	    (r = wrap(outer, TAG_SEQUENCE, exts)) != 0 ||
	    (r = wrap(b, TAG_CTX_CONS(1), outer)) != 0)
		goto out;
out:
	buf_free(outer);
	buf_free(exts);
	buf_free(ext);
	return r;
}

int
ocsp_respdata_der(const uint8_t keyhash[20], time_t now, time_t next,
		  const struct ocsp_single *s, size_t n, const uint8_t *nonce,
		  size_t noncelen, uint8_t **der, size_t *len)
{
	struct buf *rd = NULL, *rid = NULL, *list = NULL, *out = NULL;
	size_t i;
	int r;

	if (n == 0)
		return EST_E_INVAL;
	if ((rd = buf_new(0)) == NULL || (rid = buf_new(0)) == NULL ||
	    (list = buf_new(0)) == NULL || (out = buf_new(0)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	/* responderID byKey [2] EXPLICIT KeyHash; version is the default. */
	if ((r = tlv(rid, TAG_OCTETSTRING, keyhash, 20)) != 0 ||
	    (r = wrap(rd, TAG_CTX_CONS(2), rid)) != 0 ||
	    (r = gentime(rd, now)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = single(list, &s[i], now, next)) != 0)
			goto out;
	if ((r = wrap(rd, TAG_SEQUENCE, list)) != 0 ||
	    (nonce != NULL && (r = nonce_ext(rd, nonce, noncelen)) != 0))
		goto out;
	r = wrap(out, TAG_SEQUENCE, rd);
out:
	buf_free(list);
	buf_free(rid);
	buf_free(rd);
	return finish(out, out == NULL ? EST_E_NOMEM : r, der, len);
}

int
ocsp_response_der(enum ocsp_resp_status status, const uint8_t *basic,
		  size_t basiclen, uint8_t **der, size_t *len)
{
	struct buf *resp = NULL, *rb = NULL, *rbx = NULL, *out = NULL;
	uint8_t st = (uint8_t)status;
	int r;

	if ((status == OCSP_ST_SUCCESSFUL) != (basic != NULL))
		return EST_E_INVAL;
	if ((resp = buf_new(0)) == NULL || (rb = buf_new(0)) == NULL ||
	    (rbx = buf_new(0)) == NULL || (out = buf_new(0)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	/*
	 * OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED,
	 * responseBytes [0] EXPLICIT SEQUENCE { responseType, response
	 * OCTET STRING } OPTIONAL }.
	 */
	if ((r = tlv(resp, TAG_ENUMERATED, &st, 1)) != 0)
		goto out;
	if (basic != NULL &&
	    ((r = buf_put(rb, oid_basic, sizeof(oid_basic))) != 0 ||
	     (r = tlv(rb, TAG_OCTETSTRING, basic, basiclen)) != 0 ||
	     (r = wrap(rbx, TAG_SEQUENCE, rb)) != 0 ||
	     (r = wrap(resp, TAG_CTX_CONS(0), rbx)) != 0))
		goto out;
	r = wrap(out, TAG_SEQUENCE, resp);
out:
	buf_free(rbx);
	buf_free(rb);
	buf_free(resp);
	return finish(out, out == NULL ? EST_E_NOMEM : r, der, len);
}
