/*
 * EST responses (fcgi/est_resp.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include "b64.h"
#include "csr.h"
#include "err.h"
#include "est_body.h"
#include "est_resp.h"
#include "p7.h"
#include "resp.h"
#include "sigproto.h"
#include "subject.h"
#include "util.h"

#define CTE "Content-Transfer-Encoding"
#define OID_SAN "2.5.29.17"
#define OID_EC_PUBKEY "1.2.840.10045.2.1"
#define OID_P256 "1.2.840.10045.3.1.7"
#define OID_P384 "1.3.132.0.34"
/* Subject attributes and SAN entries a template may have, at most. */
#define CSRATTRS_MAX 80

/* Base64 lines of a certs-only answer, as p7.c writes them. */
#define P7_LINE 64

/* The DER header of a tag and length len into h; its size. */
static size_t
der_head(uint8_t h[6], uint8_t tag, size_t len)
{
	size_t n = 0, i;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
		return n;
	}
	for (i = 4; i > 0 && ((len >> (8 * (i - 1))) & 0xff) == 0; i--)
		;
	h[n++] = (uint8_t)(0x80 | i);
	for (; i > 0; i--)
		h[n++] = (uint8_t)(len >> (8 * (i - 1)));
	return n;
}

/*
 * The certs-only SignedData of p7.c around n DER certificates that this
 * program issued, without parsing them: p7_certs_only_b64() decodes each
 * certificate (OpenSSL 3 sets up a key decoder for it, about a tenth of
 * an enrollment's CPU in estuary-est) only to encode it again unchanged.
 * The bytes are those that p7.c writes: ContentInfo { signedData,
 * [0] SignedData { 1, {}, { data }, [0] certificates, {} } }.
 */
static int
p7_wrap_b64(const uint8_t *const *ders, const size_t *lens, size_t n,
	    char **out, size_t *outlen)
{
	static const uint8_t oid_signed[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
					     0xf7, 0x0d, 0x01, 0x07, 0x02};
	static const uint8_t sd_start[] = {0x02, 0x01, 0x01, 0x31, 0x00, 0x30,
					   0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48,
					   0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
	static const uint8_t sd_end[] = {0x31, 0x00};
	uint8_t hc[6], hsd[6], hx[6], hci[6], *der, *w;
	size_t certs = 0, sd, x, ci, nc, nsd, nx, nci, i;
	int r;

	if (n == 0 || n > P7_CERTS_MAX)
		return EST_E_INVAL;
	for (i = 0; i < n; i++) {
		if (lens[i] == 0 || lens[i] > 65536)
			return EST_E_BADASN1;
		certs += lens[i];
	}
	nc = der_head(hc, 0xa0, certs);
	sd = sizeof(sd_start) + nc + certs + sizeof(sd_end);
	nsd = der_head(hsd, 0x30, sd);
	x = nsd + sd;
	nx = der_head(hx, 0xa0, x);
	ci = sizeof(oid_signed) + nx + x;
	nci = der_head(hci, 0x30, ci);
	if ((der = malloc(nci + ci)) == NULL)
		return EST_E_NOMEM;
	w = der;
#define PUT(p, l)                                                              \
	do {                                                                   \
		memcpy(w, (p), (l));                                           \
		w += (l);                                                      \
	} while (0)
	PUT(hci, nci);
	PUT(oid_signed, sizeof(oid_signed));
	PUT(hx, nx);
	PUT(hsd, nsd);
	PUT(sd_start, sizeof(sd_start));
	PUT(hc, nc);
	for (i = 0; i < n; i++)
		PUT(ders[i], lens[i]);
	PUT(sd_end, sizeof(sd_end));
#undef PUT
	r = b64_encode(der, nci + ci, P7_LINE, out, outlen);
	free(der);
	return r;
}

int
est_resp_certs(struct resp *rs, const uint8_t *const *ders, const size_t *lens,
	       size_t n)
{
	char *b64 = NULL;
	size_t len = 0;
	int r;

	if ((r = p7_wrap_b64(ders, lens, n, &b64, &len)) == 0 &&
	    (r = resp_body(rs, 200, P7_CERTS_ONLY_TYPE, b64, len)) == 0)
		r = resp_header(rs, CTE, "base64");
	free(b64);
	return r;
}

int
est_boundary_new(char out[EST_BOUNDARY_SIZE])
{
	uint8_t rnd[16];
	int r;

	if ((r = random_bytes(rnd, sizeof(rnd))) != 0)
		return r;
	memcpy(out, "estuary-", 8);
	hex_encode(rnd, sizeof(rnd), out + 8);
	return 0;
}

int
est_multipart_build(const char *boundary, const uint8_t *pkcs8, size_t pkcs8len,
		    const char *p7b64, size_t p7len, char **out, size_t *outlen)
{
	char *key = NULL, *body = NULL;
	size_t keylen = 0, blen = strlen(boundary), cap, n;
	int r, w;

	if (blen == 0 || blen > 70 || pkcs8len == 0 || p7len == 0)
		return EST_E_INVAL;
	if ((r = b64_encode(pkcs8, pkcs8len, 64, &key, &keylen)) != 0)
		return r;
	/* The fixed text is well under 512 bytes. */
	cap = keylen + p7len + 3 * blen + 512;
	if ((body = malloc(cap)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	w = snprintf(body, cap,
		     "--%s\r\nContent-Type: " EST_PKCS8_TYPE "\r\n" CTE
		     ": base64\r\n\r\n",
		     boundary);
	if (w < 0 || (size_t)w >= cap) {
		r = EST_E_INTERNAL;
		goto out;
	}
	n = (size_t)w;
	memcpy(body + n, key, keylen);
	n += keylen;
	w = snprintf(body + n, cap - n,
		     "\r\n--%s\r\nContent-Type: " P7_CERTS_ONLY_TYPE "\r\n" CTE
		     ": base64\r\n\r\n",
		     boundary);
	if (w < 0 || (size_t)w >= cap - n) {
		r = EST_E_INTERNAL;
		goto out;
	}
	n += (size_t)w;
	if (p7len >= cap - n) {
		r = EST_E_INTERNAL;
		goto out;
	}
	memcpy(body + n, p7b64, p7len);
	n += p7len;
	w = snprintf(body + n, cap - n, "\r\n--%s--\r\n", boundary);
	if (w < 0 || (size_t)w >= cap - n) {
		r = EST_E_INTERNAL;
		goto out;
	}
	n += (size_t)w;
	*out = body;
	*outlen = n;
	body = NULL;
	r = 0;
out:
	freezero(key, keylen);
	freezero(body, cap);
	return r;
}

int
est_resp_serverkeygen(struct resp *rs, const uint8_t *pkcs8, size_t pkcs8len,
		      const uint8_t *const *ders, const size_t *lens, size_t n)
{
	char boundary[EST_BOUNDARY_SIZE], ctype[128];
	char *p7 = NULL, *body = NULL;
	size_t p7len = 0, blen = 0;
	int r;

	if ((r = est_boundary_new(boundary)) != 0 ||
	    (r = p7_wrap_b64(ders, lens, n, &p7, &p7len)) != 0 ||
	    (r = est_multipart_build(boundary, pkcs8, pkcs8len, p7, p7len,
				     &body, &blen)) != 0)
		goto out;
	snprintf(ctype, sizeof(ctype), "multipart/mixed; boundary=%s",
		 boundary);
	r = resp_body(rs, 200, ctype, body, blen);
out:
	free(p7);
	freezero(body, blen);
	return r;
}

/* Appends the DER of OID text oid to *p; 0 or an EST_E_* code. */
static int
oid_der(const char *oid, unsigned char **p, int *len)
{
	ASN1_OBJECT *o;

	if ((o = OBJ_txt2obj(oid, 1)) == NULL)
		return EST_E_INVAL;
	*p = NULL;
	*len = i2d_ASN1_OBJECT(o, p);
	ASN1_OBJECT_free(o);
	return *len > 0 ? 0 : EST_E_CRYPTO;
}

/* Appends the DER element (tag, content) to buf at *n (room checked). */
static int
der_put(uint8_t *buf, size_t cap, size_t *n, uint8_t tag, const uint8_t *c,
	size_t clen)
{
	size_t need = 1 + (clen < 128 ? 1 : clen < 256 ? 2 : 3) + clen;

	if (clen > 0xffff || cap - *n < need)
		return EST_E_TOOBIG;
	buf[(*n)++] = tag;
	if (clen < 128) {
		buf[(*n)++] = (uint8_t)clen;
	} else if (clen < 256) {
		buf[(*n)++] = 0x81;
		buf[(*n)++] = (uint8_t)clen;
	} else {
		buf[(*n)++] = 0x82;
		buf[(*n)++] = (uint8_t)(clen >> 8);
		buf[(*n)++] = (uint8_t)clen;
	}
	memcpy(buf + *n, c, clen);
	*n += clen;
	return 0;
}

/* Appends an OID already in DER (tag and length included). */
static int
raw_put(uint8_t *buf, size_t cap, size_t *n, const uint8_t *c, size_t clen)
{
	if (cap - *n < clen)
		return EST_E_TOOBIG;
	memcpy(buf + *n, c, clen);
	*n += clen;
	return 0;
}

/* Whether the OID text o is already among the n texts of seen. */
static int
seen_oid(const char *const *seen, size_t n, const char *o)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(seen[i], o) == 0)
			return 1;
	return 0;
}

/* The curve OID when key_types is exactly one EC curve, else NULL. */
static const char *
only_curve(uint32_t key_types)
{
	if (key_types == CSR_KEYBIT(SIGNER_KEY_EC_P256))
		return OID_P256;
	if (key_types == CSR_KEYBIT(SIGNER_KEY_EC_P384))
		return OID_P384;
	return NULL;
}

int
est_csrattrs_der(const struct subj_field *f, size_t n, uint32_t key_types,
		 uint8_t **out, size_t *len)
{
	const char *seen[CSRATTRS_MAX + 1];
	uint8_t inner[4096], attr[256], set[128], *der = NULL;
	unsigned char *o = NULL;
	const char *curve;
	size_t nseen = 0, ni = 0, na = 0, ns = 0, i, dn = 0;
	int ol = 0, r = 0, want_san = 0;

	for (i = 0; i < n && r == 0; i++) {
		if (f[i].rule != SUBJ_REQUIRED)
			continue;
		if (f[i].kind == SUBJ_SAN) {
			want_san = 1;
			continue;
		}
		if (f[i].oid == NULL || seen_oid(seen, nseen, f[i].oid) ||
		    nseen >= CSRATTRS_MAX)
			continue;
		seen[nseen++] = f[i].oid;
		if ((r = oid_der(f[i].oid, &o, &ol)) == 0)
			r = raw_put(inner, sizeof(inner), &ni, o, (size_t)ol);
		OPENSSL_free(o);
		o = NULL;
	}
	if (r == 0 && want_san) {
		if ((r = oid_der(OID_SAN, &o, &ol)) == 0)
			r = raw_put(inner, sizeof(inner), &ni, o, (size_t)ol);
		OPENSSL_free(o);
		o = NULL;
	}
	/* Attribute ::= SEQUENCE { id-ecPublicKey, SET { curve } } */
	if (r == 0 && (curve = only_curve(key_types)) != NULL) {
		if ((r = oid_der(curve, &o, &ol)) == 0)
			r = der_put(set, sizeof(set), &ns, 0x31, o, (size_t)ol);
		OPENSSL_free(o);
		o = NULL;
		if (r == 0 && (r = oid_der(OID_EC_PUBKEY, &o, &ol)) == 0 &&
		    (r = raw_put(attr, sizeof(attr), &na, o, (size_t)ol)) ==
			    0 &&
		    (r = raw_put(attr, sizeof(attr), &na, set, ns)) == 0)
			r = der_put(inner, sizeof(inner), &ni, 0x30, attr, na);
		OPENSSL_free(o);
		o = NULL;
	}
	if (r != 0)
		return r;
	if (ni == 0) {
		*out = NULL;
		*len = 0;
		return 0;
	}
	if ((der = malloc(ni + 4)) == NULL)
		return EST_E_NOMEM;
	if ((r = der_put(der, ni + 4, &dn, 0x30, inner, ni)) != 0) {
		free(der);
		return r;
	}
	*out = der;
	*len = dn;
	return 0;
}

int
est_resp_csrattrs(struct resp *rs, const uint8_t *der, size_t len)
{
	char *b64 = NULL;
	size_t blen = 0;
	int r;

	if (len == 0)
		return resp_empty(rs, 204);
	if ((r = b64_encode(der, len, 64, &b64, &blen)) == 0 &&
	    (r = resp_body(rs, 200, EST_CSRATTRS_TYPE, b64, blen)) == 0)
		r = resp_header(rs, CTE, "base64");
	free(b64);
	return r;
}

int
est_resp_error(struct resp *rs, const struct prov_error *e)
{
	int status = e->status >= 400 && e->status <= 599 ? e->status : 500;
	char secs[24];
	int r;

	if ((r = resp_error_reason(
		     rs, status, est_err_from_status(status), NULL,
		     e->reason[0] != '\0' ? e->reason : NULL)) != 0 ||
	    e->retry_after <= 0 || status == 503) /* 503 has its own */
		return r;
	snprintf(secs, sizeof(secs), "%lld", e->retry_after);
	return resp_header(rs, "Retry-After", secs);
}
