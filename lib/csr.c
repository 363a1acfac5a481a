/*
 * Certification request intake (see csr.h).  The order of the checks is
 * chosen so that a hostile request costs as little as possible: size caps
 * and a walk over the DER (counting attributes and extensions) come before
 * OpenSSL decodes anything, and the signature, the one expensive step, is
 * verified last.  The subject's values, the challengePassword and the
 * requested extensions are read in csr_ext.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "csr.h"
#include "err.h"
#include "sigproto.h"
#include "util.h"
#include "x509.h"

/* DER of the extensionRequest attribute type, 1.2.840.113549.1.9.14. */
static const uint8_t oid_extreq[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
				     0x0d, 0x01, 0x09, 0x0e};

/* Where prescan() found the parts of the request (TLVs inside c->der). */
struct csr_layout {
	const uint8_t *info, *version, *subject, *alg, *sig;
	size_t infolen, versionlen, subjectlen, alglen, siglen;
	const uint8_t *attrs; /* contents of [0], NULL when absent */
	size_t attrslen;
};

/* What decode() made of them; freed (the challenge wiped) by parts_free. */
struct csr_parts {
	X509_PUBKEY *xpk; /* only for a key that took OpenSSL's decoder */
	STACK_OF(X509_ATTRIBUTE) * attrs;
	X509_ALGOR *alg;
	ASN1_BIT_STRING *sig;
};

int
csr_fail(struct csr_error *err, int code, const char *field, const char *fmt,
	 ...)
{
	va_list ap;

	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

/* ----- input forms ----- */

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Base64 (RFC 4648 alphabet) with whitespace anywhere, as EST clients send
 * it: 64- or 76-column lines, CRLF or LF, a final newline or none.  Padding
 * may be left out, but the unused bits must be zero so that one DER has
 * one accepted text.
 */
static int
b64_decode(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t *o;
	uint32_t acc = 0;
	size_t i, q = 0, pad = 0, n = 0;
	int v;

	if ((o = malloc(len / 4 * 3 + 3)) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < len; i++) {
		if (is_space(in[i]))
			continue;
		if (in[i] == '=') {
			if (++pad > 2)
				goto bad;
			continue;
		}
		if (pad > 0 || (v = b64_value(in[i])) < 0)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		if (++q == 4) {
			o[n++] = (uint8_t)(acc >> 16);
			o[n++] = (uint8_t)(acc >> 8);
			o[n++] = (uint8_t)acc;
			q = 0;
			acc = 0;
		}
	}
	if (q == 1 || (pad > 0 && q + pad != 4))
		goto bad;
	if (q == 2) {
		if ((acc & 0xf) != 0)
			goto bad;
		o[n++] = (uint8_t)(acc >> 4);
	} else if (q == 3) {
		if ((acc & 0x3) != 0)
			goto bad;
		o[n++] = (uint8_t)(acc >> 10);
		o[n++] = (uint8_t)(acc >> 2);
	}
	*out = o;
	*outlen = n;
	return 0;
bad:
	free(o);
	return EST_E_BADASN1;
}

static int
has_prefix(const uint8_t *p, size_t n, const char *s)
{
	size_t l = strlen(s);

	return n >= l && memcmp(p, s, l) == 0;
}

/*
 * One PEM block labelled CERTIFICATE REQUEST or NEW CERTIFICATE REQUEST,
 * with nothing but whitespace around it and no headers; *body and *blen
 * receive the base64 text between the lines.
 */
static int
pem_body(const uint8_t *in, size_t len, const uint8_t **body, size_t *blen)
{
	static const char *const labels[] = {"CERTIFICATE REQUEST-----",
					     "NEW CERTIFICATE REQUEST-----"};
	char end[64];
	const uint8_t *b;
	size_t i, k, el;

	for (i = 0; i < len && is_space(in[i]); i++)
		;
	if (!has_prefix(in + i, len - i, "-----BEGIN "))
		return EST_E_BADASN1;
	i += strlen("-----BEGIN ");
	for (k = 0; k < 2; k++)
		if (has_prefix(in + i, len - i, labels[k]))
			break;
	if (k == 2)
		return EST_E_BADASN1;
	i += strlen(labels[k]);
	if (i < len && in[i] == '\r')
		i++;
	if (i >= len || in[i] != '\n')
		return EST_E_BADASN1;
	b = in + ++i;
	el = (size_t)snprintf(end, sizeof(end), "-----END %s", labels[k]);
	for (; i < len && in[i] != '-'; i++)
		;
	if (!has_prefix(in + i, len - i, end))
		return EST_E_BADASN1;
	*body = b;
	*blen = (size_t)(in + i - b);
	for (i += el; i < len; i++)
		if (!is_space(in[i]))
			return EST_E_BADASN1;
	return 0;
}

/* ----- the walk over the DER, before anything is decoded ----- */

/*
 * One TLV with a single-octet tag (tag, or any when tag is 0) and a minimal
 * definite length (DER) that fits in n; returns its whole length, or 0.
 */
static size_t
der_tlv(const uint8_t *p, size_t n, uint8_t tag, const uint8_t **c,
	size_t *clen)
{
	size_t hl, l, i, k;

	if (n < 2 || (tag != 0 && p[0] != tag) || (p[0] & 0x1f) == 0x1f)
		return 0;
	if (p[1] < 0x80) {
		l = p[1];
		hl = 2;
	} else {
		k = p[1] & 0x7f;
		if (k == 0 || k > 3 || n < 2 + k || p[2] == 0)
			return 0;
		for (l = 0, i = 0; i < k; i++)
			l = l << 8 | p[2 + i];
		if (l < 0x80)
			return 0;
		hl = 2 + k;
	}
	if (l > n - hl)
		return 0;
	*c = p + hl;
	*clen = l;
	return hl + l;
}

/* One TLV with tag that fills all n > 0 bytes: 1, else 0. */
static int
der_exact(const uint8_t *p, size_t n, uint8_t tag, const uint8_t **c,
	  size_t *clen)
{
	return n > 0 && der_tlv(p, n, tag, c, clen) == n;
}

/* Counts the TLVs with tag in c[0..n); 0 when they do not fill it. */
static size_t
der_count(const uint8_t *c, size_t n, uint8_t tag, size_t *count)
{
	const uint8_t *v;
	size_t t, vl, k = 0;

	while (n > 0) {
		if ((t = der_tlv(c, n, tag, &v, &vl)) == 0)
			return 0;
		c += t;
		n -= t;
		k++;
	}
	*count = k;
	return 1;
}

/* Counts attributes, their values and the requested extensions. */
static int
prescan_attrs(const uint8_t *p, size_t n, struct csr_error *err)
{
	const uint8_t *a, *o, *v, *e;
	size_t t, al, ol, vl, el, nattr = 0, nval, next = 0, k;

	while (n > 0) {
		if ((t = der_tlv(p, n, 0x30, &a, &al)) == 0)
			return csr_fail(err, EST_E_BADASN1, "attributes",
					"malformed attribute");
		if (++nattr > CSR_ATTR_MAX)
			return csr_fail(err, EST_E_TOOBIG, "attributes",
					"more than %d attributes",
					CSR_ATTR_MAX);
		p += t;
		n -= t;
		if ((k = der_tlv(a, al, 0x06, &o, &ol)) == 0 ||
		    !der_exact(a + k, al - k, 0x31, &v, &vl) ||
		    !der_count(v, vl, 0, &nval))
			return csr_fail(err, EST_E_BADASN1, "attributes",
					"malformed attribute");
		if (nval > CSR_ATTR_VALUES_MAX)
			return csr_fail(err, EST_E_TOOBIG, "attributes",
					"more than %d values in an attribute",
					CSR_ATTR_VALUES_MAX);
		if (ol != sizeof(oid_extreq) || memcmp(o, oid_extreq, ol) != 0)
			continue;
		while (vl > 0) {
			if ((t = der_tlv(v, vl, 0x30, &e, &el)) == 0 ||
			    !der_count(e, el, 0x30, &k))
				return csr_fail(err, EST_E_BADASN1,
						"extensions",
						"malformed extension request");
			if ((next += k) > CSR_EXT_MAX)
				return csr_fail(err, EST_E_TOOBIG, "extensions",
						"more than %d extensions",
						CSR_EXT_MAX);
			v += t;
			vl -= t;
		}
	}
	return 0;
}

/*
 * CertificationRequest ::= SEQUENCE { CertificationRequestInfo ::=
 * SEQUENCE { version, subject Name, SubjectPublicKeyInfo, [0] attributes },
 * AlgorithmIdentifier, BIT STRING }, in DER, filling the whole input.
 * Records where each part is, for decode() and verify().
 */
static int
prescan(struct csr *c, struct csr_layout *l, struct csr_error *err)
{
	const uint8_t *p, *q, *r, *v;
	size_t pl, ql, rl, vl, t, k, nrdn, nsub = 0;

	if ((t = der_tlv(c->der, c->derlen, 0x30, &p, &pl)) == 0)
		return csr_fail(err, EST_E_BADASN1, "csr", "malformed request");
	if (t != c->derlen)
		return csr_fail(err, EST_E_BADASN1, "csr",
				"trailing bytes after the request");
	if ((t = der_tlv(p, pl, 0x30, &q, &ql)) == 0)
		return csr_fail(err, EST_E_BADASN1, "csr", "malformed request");
	l->info = p;
	l->infolen = t;
	p += t;
	pl -= t;
	if ((t = der_tlv(p, pl, 0x30, &v, &vl)) == 0 ||
	    !der_exact(p + t, pl - t, 0x03, &v, &vl))
		return csr_fail(err, EST_E_BADASN1, "signature",
				"malformed signature");
	l->alg = p;
	l->alglen = t;
	l->sig = p + t;
	l->siglen = pl - t;
	/* Inside the CertificationRequestInfo. */
	if ((t = der_tlv(q, ql, 0x02, &v, &vl)) == 0)
		return csr_fail(err, EST_E_BADASN1, "version",
				"malformed version");
	l->version = q;
	l->versionlen = t;
	q += t;
	ql -= t;
	if ((t = der_tlv(q, ql, 0x30, &r, &rl)) == 0)
		return csr_fail(err, EST_E_BADASN1, "subject",
				"malformed subject");
	while (rl > 0) {
		if ((k = der_tlv(r, rl, 0x31, &v, &vl)) == 0 ||
		    !der_count(v, vl, 0x30, &nrdn) || nrdn == 0)
			return csr_fail(err, EST_E_BADASN1, "subject",
					"malformed subject");
		if ((nsub += nrdn) > CSR_SUBJECT_MAX)
			return csr_fail(err, EST_E_TOOBIG, "subject",
					"more than %d subject attributes",
					CSR_SUBJECT_MAX);
		r += k;
		rl -= k;
	}
	l->subject = q;
	l->subjectlen = t;
	q += t;
	ql -= t;
	if ((t = der_tlv(q, ql, 0x30, &v, &vl)) == 0)
		return csr_fail(err, EST_E_BADASN1, "key",
				"malformed public key");
	c->spki = q;
	c->spkilen = t;
	q += t;
	ql -= t;
	if (ql == 0)
		return 0;
	if (!der_exact(q, ql, 0xa0, &v, &vl))
		return csr_fail(err, EST_E_BADASN1, "attributes",
				"malformed attributes");
	l->attrs = v;
	l->attrslen = vl;
	return prescan_attrs(v, vl, err);
}

/* ----- decoding the parts ----- */

/*
 * The EC keys we issue for, as the AlgorithmIdentifier of their
 * SubjectPublicKeyInfo (id-ecPublicKey with a named curve) encodes them.
 */
static const uint8_t alg_p256[] = {0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
				   0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
				   0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t alg_p384[] = {0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
				   0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
				   0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const struct ec_spki {
	const char *group;
	size_t fieldlen; /* bytes of a coordinate */
	const uint8_t *alg;
	size_t alglen;
} ec_spkis[] = {
	{"P-256", 32, alg_p256, sizeof(alg_p256)},
	{"P-384", 48, alg_p384, sizeof(alg_p384)},
};

/*
 * An EC P-256 or P-384 key straight from the SubjectPublicKeyInfo, or
 * NULL for anything else.  OpenSSL 3's generic path (d2i_X509_PUBKEY)
 * sets up a decoder for every key it reads, which costs several times
 * what the key itself does; this reads the one shape that nearly every
 * request has and imports the point with EVP_PKEY_fromdata(), which
 * checks that it lies on the curve.  Whatever it does not take goes the
 * generic way, so both paths accept and refuse the same keys.
 */
static EVP_PKEY *
ec_fast_key(const uint8_t *spki, size_t spkilen)
{
	const struct ec_spki *e = NULL;
	const uint8_t *p, *b;
	size_t pl, bl, i, n;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pk = NULL;

	if (!der_exact(spki, spkilen, 0x30, &p, &pl))
		return NULL;
	for (i = 0; i < sizeof(ec_spkis) / sizeof(ec_spkis[0]); i++)
		if (pl > ec_spkis[i].alglen &&
		    memcmp(p, ec_spkis[i].alg, ec_spkis[i].alglen) == 0)
			e = &ec_spkis[i];
	if (e == NULL ||
	    !der_exact(p + e->alglen, pl - e->alglen, 0x03, &b, &bl) ||
	    bl < 2 || b[0] != 0)
		return NULL;
	/* Unused bits 0; an uncompressed or a compressed point. */
	n = bl - 1;
	if (!((b[1] == 0x04 && n == 1 + 2 * e->fieldlen) ||
	      ((b[1] == 0x02 || b[1] == 0x03) && n == 1 + e->fieldlen)))
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)e->group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
						      (void *)(b + 1), n);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/* One whole TLV through an OpenSSL d2i function, or NULL. */
#define PART_D2I(type, d2i, p, len, outp)                                      \
	do {                                                                   \
		const unsigned char *p_ = (p);                                 \
		(outp) = d2i(NULL, &p_, (long)(len));                          \
		if ((outp) != NULL && p_ != (p) + (len)) {                     \
			type##_free(outp);                                     \
			(outp) = NULL;                                         \
		}                                                              \
	} while (0)

/*
 * Decodes the parts of the request that prescan() found, each with the
 * OpenSSL decoder that d2i_X509_REQ() would use for it, so that the same
 * inputs decode; only the public key can take the faster way above.
 * The signature is verified over the CertificationRequestInfo as
 * received (verify()), as X509_REQ_verify() does over its cached
 * encoding.
 */
static int
decode(struct csr *c, const struct csr_layout *l, struct csr_parts *d,
       struct csr_error *err)
{
	ASN1_INTEGER *version = NULL;
	X509_ATTRIBUTE *a;
	const uint8_t *p = l->attrs, *v;
	size_t n = l->attrslen, t, vl;
	long ver = -1;
	int r = 0;

	PART_D2I(ASN1_INTEGER, d2i_ASN1_INTEGER, l->version, l->versionlen,
		 version);
	PART_D2I(X509_NAME, d2i_X509_NAME, l->subject, l->subjectlen, c->name);
	PART_D2I(X509_ALGOR, d2i_X509_ALGOR, l->alg, l->alglen, d->alg);
	PART_D2I(ASN1_BIT_STRING, d2i_ASN1_BIT_STRING, l->sig, l->siglen,
		 d->sig);
	if (version == NULL || c->name == NULL || d->alg == NULL ||
	    d->sig == NULL || (d->attrs = sk_X509_ATTRIBUTE_new_null()) == NULL)
		goto bad;
	ver = ASN1_INTEGER_get(version);
	for (; n > 0; p += t, n -= t) {
		if ((t = der_tlv(p, n, 0x30, &v, &vl)) == 0)
			goto bad;
		PART_D2I(X509_ATTRIBUTE, d2i_X509_ATTRIBUTE, p, t, a);
		if (a == NULL)
			goto bad;
		if (!sk_X509_ATTRIBUTE_push(d->attrs, a)) {
			X509_ATTRIBUTE_free(a);
			goto bad;
		}
	}
	if ((c->pkey = ec_fast_key(c->spki, c->spkilen)) == NULL) {
		PART_D2I(X509_PUBKEY, d2i_X509_PUBKEY, c->spki, c->spkilen,
			 d->xpk);
		if (d->xpk == NULL)
			goto bad;
		/* NULL for a key OpenSSL cannot decode: check_key says so. */
		if ((c->pkey = X509_PUBKEY_get0(d->xpk)) != NULL &&
		    !EVP_PKEY_up_ref(c->pkey))
			c->pkey = NULL;
	}
	if (ver != X509_REQ_VERSION_1)
		r = csr_fail(err, EST_E_BADASN1, "version",
			     "unsupported version");
	ASN1_INTEGER_free(version);
	return r;
bad:
	ASN1_INTEGER_free(version);
	return csr_fail(err, EST_E_BADASN1, "csr", "malformed request");
}

/* Frees the decoded parts, wiping the challengePassword's value first. */
static void
parts_free(struct csr_parts *d)
{
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	int i;

	for (i = 0; i < sk_X509_ATTRIBUTE_num(d->attrs); i++) {
		a = sk_X509_ATTRIBUTE_value(d->attrs, i);
		if (OBJ_obj2nid(X509_ATTRIBUTE_get0_object(a)) !=
			    NID_pkcs9_challengePassword ||
		    X509_ATTRIBUTE_count(a) < 1 ||
		    (t = X509_ATTRIBUTE_get0_type(a, 0)) == NULL ||
		    t->type == V_ASN1_BOOLEAN || t->type == V_ASN1_OBJECT ||
		    t->type == V_ASN1_NULL || t->value.asn1_string == NULL)
			continue;
		OPENSSL_cleanse(t->value.asn1_string->data,
				(size_t)t->value.asn1_string->length);
	}
	sk_X509_ATTRIBUTE_pop_free(d->attrs, X509_ATTRIBUTE_free);
	X509_PUBKEY_free(d->xpk);
	X509_ALGOR_free(d->alg);
	ASN1_BIT_STRING_free(d->sig);
}

/* ----- key, signature algorithm, signature ----- */

static int
check_key(struct csr *c, const struct csr_parts *d, struct csr_error *err)
{
	const ASN1_OBJECT *alg = NULL;
	EVP_PKEY *pk = c->pkey;
	char name[CSR_OID_MAX], group[64];

	if (pk == NULL) {
		if (d->xpk == NULL ||
		    !X509_PUBKEY_get0_param((ASN1_OBJECT **)&alg, NULL, NULL,
					    NULL, d->xpk) ||
		    OBJ_obj2txt(name, sizeof(name), alg, 1) <= 0)
			snprintf(name, sizeof(name), "unknown");
		return csr_fail(err, EST_E_UNPROCESSABLE, "key",
				"unsupported key: %s", name);
	}
	if (x509_pkey_keytype(pk, &c->keytype) == 0)
		return 0;
	if (EVP_PKEY_is_a(pk, "RSA"))
		snprintf(name, sizeof(name), "rsa-%d", EVP_PKEY_get_bits(pk));
	else if (EVP_PKEY_is_a(pk, "EC") &&
		 EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL))
		snprintf(name, sizeof(name), "ec-%s", group);
	else
		snprintf(name, sizeof(name), "%s",
			 EVP_PKEY_get0_type_name(pk) != NULL
				 ? EVP_PKEY_get0_type_name(pk)
				 : "unknown");
	return csr_fail(err, EST_E_UNPROCESSABLE, "key", "unsupported key: %s",
			name);
}

/*
 * The allow list: ECDSA and PKCS#1 v1.5 with SHA-2.  RSASSA-PSS is left
 * out: none of the clients we serve uses it, and its parameters (hash,
 * MGF, salt length) are one more structure to parse and police.
 */
static int
check_sigalg(struct csr *c, const struct csr_parts *d, struct csr_error *err)
{
	const ASN1_OBJECT *obj;
	const void *pval;
	int nid, ptype, ec;

	X509_ALGOR_get0(&obj, &ptype, &pval, d->alg);
	nid = OBJ_obj2nid(obj);
	switch (nid) {
	case NID_ecdsa_with_SHA256:
	case NID_ecdsa_with_SHA384:
	case NID_ecdsa_with_SHA512:
		ec = 1;
		break;
	case NID_sha256WithRSAEncryption:
	case NID_sha384WithRSAEncryption:
	case NID_sha512WithRSAEncryption:
		ec = 0;
		break;
	default:
		return csr_fail(err, EST_E_UNPROCESSABLE, "signatureAlgorithm",
				"signature algorithm not allowed");
	}
	/* RFC 5758 3.2: no parameters; RFC 4055 5: NULL (or absent). */
	if ((ec && ptype != V_ASN1_UNDEF) ||
	    (!ec && ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL))
		return csr_fail(err, EST_E_BADASN1, "signatureAlgorithm",
				"malformed algorithm parameters");
	if (ec != (c->keytype == SIGNER_KEY_EC_P256 ||
		   c->keytype == SIGNER_KEY_EC_P384))
		return csr_fail(err, EST_E_UNPROCESSABLE, "signatureAlgorithm",
				"signature algorithm does not match the key");
	c->sig_nid = nid;
	return 0;
}

/*
 * The self-signature, over the CertificationRequestInfo exactly as
 * received, as X509_REQ_verify() checks it: a signature BIT STRING with
 * unused bits is refused, the digest is the one check_sigalg() allowed.
 */
static int
verify(const struct csr *c, const struct csr_layout *l,
       const struct csr_parts *d, struct csr_error *err)
{
	const EVP_MD *md = EVP_sha256();
	EVP_MD_CTX *ctx;
	int ok;

	if (c->sig_nid == NID_ecdsa_with_SHA384 ||
	    c->sig_nid == NID_sha384WithRSAEncryption)
		md = EVP_sha384();
	else if (c->sig_nid == NID_ecdsa_with_SHA512 ||
		 c->sig_nid == NID_sha512WithRSAEncryption)
		md = EVP_sha512();

	ok = (d->sig->flags & 0x7) == 0 && (ctx = EVP_MD_CTX_new()) != NULL;
	if (ok) {
		ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, c->pkey) == 1 &&
		     EVP_DigestVerify(ctx, ASN1_STRING_get0_data(d->sig),
				      (size_t)ASN1_STRING_length(d->sig),
				      l->info, l->infolen) == 1;
		EVP_MD_CTX_free(ctx);
	}
	if (!ok)
		return csr_fail(err, EST_E_INVAL, "signature",
				"signature does not verify");
	return 0;
}

/* ----- the entry points ----- */

static int
unwrap(const uint8_t *in, size_t len, enum csr_form form, struct csr *c,
       struct csr_error *err)
{
	const uint8_t *body;
	size_t blen;

	switch (form) {
	case CSR_FORM_DER:
		if ((c->der = malloc(len)) == NULL)
			return csr_fail(err, EST_E_NOMEM, "csr",
					"out of memory");
		memcpy(c->der, in, len);
		c->derlen = len;
		return 0;
	case CSR_FORM_PEM:
		if (pem_body(in, len, &body, &blen) != 0)
			return csr_fail(err, EST_E_BADASN1, "csr",
					"not one PEM certificate request");
		in = body;
		len = blen;
		break;
	case CSR_FORM_BASE64:
		break;
	default:
		return csr_fail(err, EST_E_INVAL, "csr", "unknown input form");
	}
	switch (b64_decode(in, len, &c->der, &c->derlen)) {
	case 0:
		break;
	case EST_E_NOMEM:
		return csr_fail(err, EST_E_NOMEM, "csr", "out of memory");
	default:
		return csr_fail(err, EST_E_BADASN1, "csr", "malformed base64");
	}
	if (c->derlen == 0)
		return csr_fail(err, EST_E_BADASN1, "csr", "empty request");
	return 0;
}

int
csr_parse(const uint8_t *in, size_t len, enum csr_form form, struct csr **out,
	  struct csr_error *err)
{
	struct csr_layout l;
	struct csr_parts d;
	struct csr *c = NULL;
	int r;

	memset(&l, 0, sizeof(l));
	memset(&d, 0, sizeof(d));
	csr_fail(err, 0, "", "%s", "");
	if (in == NULL || len == 0)
		return csr_fail(err, EST_E_BADASN1, "csr", "empty request");
	if (len > CSR_INPUT_MAX)
		return csr_fail(err, EST_E_TOOBIG, "csr",
				"request larger than %d bytes", CSR_INPUT_MAX);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return csr_fail(err, EST_E_NOMEM, "csr", "out of memory");
	/* OpenSSL's error queue is ours to clean: callers never see it. */
	ERR_set_mark();
	if ((r = unwrap(in, len, form, c, err)) != 0 ||
	    (r = prescan(c, &l, err)) != 0 ||
	    (r = decode(c, &l, &d, err)) != 0 ||
	    (r = check_key(c, &d, err)) != 0 ||
	    (r = check_sigalg(c, &d, err)) != 0 ||
	    (r = csr_get_subject(c, err)) != 0 ||
	    (r = csr_get_attributes(c, d.attrs, err)) != 0 ||
	    (r = verify(c, &l, &d, err)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	parts_free(&d);
	ERR_pop_to_mark();
	csr_free(c);
	return r;
}

void
csr_free(struct csr *c)
{
	size_t i;

	if (c == NULL)
		return;
	/*
	 * The challengePassword is a secret: wipe our copy and the DER (the
	 * decoded attribute was wiped by parts_free() already).
	 */
	if (c->challenge != NULL) {
		freezero(c->challenge, c->challengelen + 1);
		freezero(c->der, c->derlen);
		c->der = NULL;
	}
	X509_NAME_free(c->name);
	EVP_PKEY_free(c->pkey);
	for (i = 0; i < c->nsubject; i++)
		free(c->subject[i].value);
	free(c->subject);
	for (i = 0; i < c->nsan; i++) {
		free(c->san[i].value);
		free(c->san[i].der);
	}
	free(c->san);
	free(c->ext);
	free(c->eku);
	free(c->der);
	free(c);
}

int
csr_key_allowed(const struct csr *c, const struct key_policy *pol,
		struct csr_error *err)
{
	const char *name = x509_keytype_name(c->keytype);

	if (c->keytype < 0 || c->keytype >= 32 ||
	    (pol->allowed & CSR_KEYBIT(c->keytype)) == 0)
		return csr_fail(err, EST_E_UNPROCESSABLE, "key",
				"key type %s not allowed by the template",
				name != NULL ? name : "unknown");
	return 0;
}
