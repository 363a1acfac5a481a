/*
 * Certification request intake (see csr.h).  The order of the checks is
 * chosen so that a hostile request costs as little as possible: size caps
 * and a walk over the DER (counting attributes and extensions) come before
 * OpenSSL decodes anything, and the signature, the one expensive step, is
 * verified last.  The requested extensions are decoded in csr_ext.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "csr.h"
#include "err.h"
#include "jsonval.h"
#include "sigproto.h"
#include "util.h"
#include "x509.h"

/* DER of the extensionRequest attribute type, 1.2.840.113549.1.9.14. */
static const uint8_t oid_extreq[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
				     0x0d, 0x01, 0x09, 0x0e};

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
 * Records where the SubjectPublicKeyInfo is.
 */
static int
prescan(struct csr *c, struct csr_error *err)
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
	p += t;
	pl -= t;
	if ((t = der_tlv(p, pl, 0x30, &v, &vl)) == 0 ||
	    !der_exact(p + t, pl - t, 0x03, &v, &vl))
		return csr_fail(err, EST_E_BADASN1, "signature",
				"malformed signature");
	/* Inside the CertificationRequestInfo. */
	if ((t = der_tlv(q, ql, 0x02, &v, &vl)) == 0)
		return csr_fail(err, EST_E_BADASN1, "version",
				"malformed version");
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
	return prescan_attrs(v, vl, err);
}

/* ----- strings ----- */

static size_t
utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int
printable_char(uint8_t ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || strchr(" '()+,-./:=?", ch) != NULL;
}

/*
 * The value of a directory string as NUL-terminated UTF-8.  Each string
 * type is checked against its own character set; a NUL or any other
 * control character is refused whatever the type, since these values end
 * up in certificates, logs and the portal.
 */
static int
str_utf8(const ASN1_STRING *s, const char *field, char **out, size_t *outlen,
	 struct csr_error *err)
{
	const uint8_t *d = ASN1_STRING_get0_data(s);
	size_t n = (size_t)ASN1_STRING_length(s), i, k, o = 0;
	int type = ASN1_STRING_type(s);
	uint32_t cp;
	char *buf;

	if (n > CSR_VALUE_MAX)
		return csr_fail(err, EST_E_UNPROCESSABLE, field,
				"value too long");
	if ((buf = malloc(2 * n + 1)) == NULL)
		return csr_fail(err, EST_E_NOMEM, field, "out of memory");
	for (i = 0; i < n; i += k) {
		k = 1;
		switch (type) {
		case V_ASN1_UTF8STRING:
			if ((k = jsonval_utf8_next(d + i, n - i, &cp)) == 0)
				goto badenc;
			break;
		case V_ASN1_PRINTABLESTRING:
			if (!printable_char(d[i]))
				goto badchar;
			cp = d[i];
			break;
		case V_ASN1_NUMERICSTRING:
			if (!(d[i] >= '0' && d[i] <= '9') && d[i] != ' ')
				goto badchar;
			cp = d[i];
			break;
		case V_ASN1_IA5STRING:
		case V_ASN1_VISIBLESTRING:
			if (d[i] > 0x7e)
				goto badchar;
			cp = d[i];
			break;
		case V_ASN1_BMPSTRING:
			if (n % 2 != 0)
				goto badenc;
			k = 2;
			cp = (uint32_t)d[i] << 8 | d[i + 1];
			if (cp >= 0xd800 && cp <= 0xdfff)
				goto badenc;
			break;
		case V_ASN1_UNIVERSALSTRING:
			if (n % 4 != 0)
				goto badenc;
			k = 4;
			cp = (uint32_t)d[i] << 24 | (uint32_t)d[i + 1] << 16 |
			     (uint32_t)d[i + 2] << 8 | d[i + 3];
			if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
				goto badenc;
			break;
		default:
			free(buf);
			return csr_fail(err, EST_E_UNPROCESSABLE, field,
					"unsupported string type");
		}
		if (cp < 0x20 || cp == 0x7f)
			goto badchar;
		o += utf8_put(buf + o, cp);
	}
	if (o == 0) {
		free(buf);
		return csr_fail(err, EST_E_UNPROCESSABLE, field, "empty value");
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
badenc:
	free(buf);
	return csr_fail(err, EST_E_BADASN1, field, "invalid string encoding");
badchar:
	free(buf);
	return csr_fail(err, EST_E_UNPROCESSABLE, field,
			"character not allowed in value");
}

int
csr_oid_text(const ASN1_OBJECT *obj, char oid[CSR_OID_MAX], const char *field,
	     struct csr_error *err)
{
	int n = OBJ_obj2txt(oid, CSR_OID_MAX, obj, 1);

	if (n <= 0 || n >= CSR_OID_MAX)
		return csr_fail(err, EST_E_UNPROCESSABLE, field,
				"OID too long");
	return 0;
}

/* ----- key, signature algorithm, signature ----- */

static int
check_key(struct csr *c, struct csr_error *err)
{
	X509_PUBKEY *xpk = X509_REQ_get_X509_PUBKEY(c->req);
	const ASN1_OBJECT *alg = NULL;
	EVP_PKEY *pk;
	char name[CSR_OID_MAX], group[64];

	if ((pk = X509_REQ_get0_pubkey(c->req)) == NULL) {
		if (xpk == NULL ||
		    !X509_PUBKEY_get0_param((ASN1_OBJECT **)&alg, NULL, NULL,
					    NULL, xpk) ||
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
check_sigalg(struct csr *c, struct csr_error *err)
{
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	const ASN1_OBJECT *obj;
	const void *pval;
	int nid, ptype, ec;

	X509_REQ_get0_signature(c->req, &sig, &alg);
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
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

static int
verify(struct csr *c, struct csr_error *err)
{
	if (X509_REQ_verify(c->req, X509_REQ_get0_pubkey(c->req)) != 1)
		return csr_fail(err, EST_E_INVAL, "signature",
				"signature does not verify");
	return 0;
}

/* ----- subject ----- */

static int
get_subject(struct csr *c, struct csr_error *err)
{
	const X509_NAME *nm = X509_REQ_get_subject_name(c->req);
	const X509_NAME_ENTRY *ne;
	struct csr_attr *a;
	char field[32];
	size_t i, n = (size_t)X509_NAME_entry_count(nm), len;
	int r;

	if (n > CSR_SUBJECT_MAX)
		return csr_fail(err, EST_E_TOOBIG, "subject",
				"too many subject attributes");
	if (n == 0)
		return 0;
	if ((c->subject = calloc(n, sizeof(*c->subject))) == NULL)
		return csr_fail(err, EST_E_NOMEM, "subject", "out of memory");
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "subject[%zu]", i);
		ne = X509_NAME_get_entry(nm, (int)i);
		a = &c->subject[i];
		if ((r = csr_oid_text(X509_NAME_ENTRY_get_object(ne), a->oid,
				      field, err)) != 0 ||
		    (r = str_utf8(X509_NAME_ENTRY_get_data(ne), field,
				  &a->value, &len, err)) != 0)
			return r;
		a->nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne));
		c->nsubject = i + 1;
	}
	return 0;
}

/* extensionRequest and challengePassword; other attributes are ignored. */
static int
get_attributes(struct csr *c, struct csr_error *err)
{
	const X509_ATTRIBUTE *a, *b;
	const ASN1_TYPE *t;
	int i, k, n = X509_REQ_get_attr_count(c->req), nid, r;

	if (n > CSR_ATTR_MAX)
		return csr_fail(err, EST_E_TOOBIG, "attributes",
				"more than %d attributes", CSR_ATTR_MAX);
	for (i = 0; i < n; i++) {
		a = X509_REQ_get_attr(c->req, i);
		for (k = 0; k < i; k++) {
			b = X509_REQ_get_attr(c->req, k);
			if (OBJ_cmp(X509_ATTRIBUTE_get0_object(
					    (X509_ATTRIBUTE *)a),
				    X509_ATTRIBUTE_get0_object(
					    (X509_ATTRIBUTE *)b)) == 0)
				return csr_fail(err, EST_E_BADASN1,
						"attributes",
						"duplicate attribute");
		}
		nid = OBJ_obj2nid(
			X509_ATTRIBUTE_get0_object((X509_ATTRIBUTE *)a));
		if (nid != NID_ext_req && nid != NID_pkcs9_challengePassword)
			continue;
		if (X509_ATTRIBUTE_count(a) != 1 ||
		    (t = X509_ATTRIBUTE_get0_type((X509_ATTRIBUTE *)a, 0)) ==
			    NULL)
			return csr_fail(err, EST_E_BADASN1, "attributes",
					"attribute must have one value");
		if (nid == NID_ext_req)
			r = csr_get_extensions(c, t, err);
		else if (t->type == V_ASN1_SEQUENCE || t->type == V_ASN1_SET ||
			 t->type == V_ASN1_OBJECT ||
			 t->type == V_ASN1_BOOLEAN || t->type == V_ASN1_NULL)
			r = csr_fail(err, EST_E_BADASN1, "challengePassword",
				     "malformed challengePassword");
		else
			r = str_utf8(t->value.asn1_string, "challengePassword",
				     &c->challenge, &c->challengelen, err);
		if (r != 0)
			return r;
	}
	return 0;
}

/* ----- the entry points ----- */

static int
decode(struct csr *c, struct csr_error *err)
{
	const unsigned char *p = c->der;

	if ((c->req = d2i_X509_REQ(NULL, &p, (long)c->derlen)) == NULL ||
	    p != c->der + c->derlen)
		return csr_fail(err, EST_E_BADASN1, "csr", "malformed request");
	if (X509_REQ_get_version(c->req) != X509_REQ_VERSION_1)
		return csr_fail(err, EST_E_BADASN1, "version",
				"unsupported version");
	return 0;
}

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
	struct csr *c = NULL;
	int r;

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
	    (r = prescan(c, err)) != 0 || (r = decode(c, err)) != 0 ||
	    (r = check_key(c, err)) != 0 || (r = check_sigalg(c, err)) != 0 ||
	    (r = get_subject(c, err)) != 0 ||
	    (r = get_attributes(c, err)) != 0 || (r = verify(c, err)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	ERR_pop_to_mark();
	csr_free(c);
	return r;
}

static void
wipe_challenge(X509_REQ *req)
{
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	int i;

	if ((i = X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword,
					  -1)) < 0 ||
	    (a = X509_REQ_get_attr(req, i)) == NULL ||
	    (t = X509_ATTRIBUTE_get0_type(a, 0)) == NULL ||
	    t->type == V_ASN1_BOOLEAN || t->type == V_ASN1_OBJECT ||
	    t->value.asn1_string == NULL)
		return;
	OPENSSL_cleanse(t->value.asn1_string->data,
			(size_t)t->value.asn1_string->length);
}

void
csr_free(struct csr *c)
{
	size_t i;

	if (c == NULL)
		return;
	/*
	 * The challengePassword is a secret: wipe our copy, the DER and the
	 * value inside the decoded request.  (OpenSSL's cached encoding of
	 * the CertificationRequestInfo is freed without wiping; it is not
	 * reachable through the public API.)
	 */
	if (c->challenge != NULL) {
		wipe_challenge(c->req);
		freezero(c->challenge, c->challengelen + 1);
		freezero(c->der, c->derlen);
		c->der = NULL;
	}
	X509_REQ_free(c->req);
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
