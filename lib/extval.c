/*
 * Custom extension values: text in, DER out (see extval.h).  Values are
 * encoded here, by a small TLV writer, rather than through OpenSSL's
 * string types, so that what a user typed maps to exactly the bytes the
 * unit tests spell out; OpenSSL only converts the big numbers (INTEGER
 * and OID arcs), which it does exactly.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/objects.h>

#include "err.h"
#include "extval.h"
#include "jsonval.h"
#include "util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Nesting of constructed values the der walk follows. */
#define DER_DEPTH_MAX 32

/* Universal tags. */
#define T_BOOLEAN 1
#define T_INTEGER 2
#define T_BITSTRING 3
#define T_OCTETSTRING 4
#define T_NULL 5
#define T_OID 6
#define T_ENUMERATED 10
#define T_UTF8STRING 12
#define T_RELATIVE_OID 13
#define T_SEQUENCE 16
#define T_SET 17
#define T_PRINTABLESTRING 19
#define T_IA5STRING 22
#define T_UTCTIME 23
#define T_GENERALIZEDTIME 24

static const char *const type_names[] = {
	[EXTVAL_UTF8] = "utf8string", [EXTVAL_PRINTABLE] = "printablestring",
	[EXTVAL_IA5] = "ia5string",   [EXTVAL_OCTET] = "octetstring",
	[EXTVAL_INTEGER] = "integer", [EXTVAL_BOOLEAN] = "boolean",
	[EXTVAL_OID] = "oid",	      [EXTVAL_DER] = "der",
};

/*
 * Extensions the issuer writes itself (from the template or the CA) or
 * that do not belong in a certificate: a custom extension carrying one of
 * them would duplicate or contradict what the issuer decides.
 */
static const char *const reserved_oids[] = {
	"2.5.29.14",		   /* subjectKeyIdentifier */
	"2.5.29.15",		   /* keyUsage */
	"2.5.29.17",		   /* subjectAltName */
	"2.5.29.18",		   /* issuerAltName */
	"2.5.29.19",		   /* basicConstraints */
	"2.5.29.20",		   /* cRLNumber */
	"2.5.29.21",		   /* reasonCode */
	"2.5.29.23",		   /* holdInstructionCode */
	"2.5.29.24",		   /* invalidityDate */
	"2.5.29.27",		   /* deltaCRLIndicator */
	"2.5.29.28",		   /* issuingDistributionPoint */
	"2.5.29.29",		   /* certificateIssuer */
	"2.5.29.30",		   /* nameConstraints */
	"2.5.29.31",		   /* cRLDistributionPoints */
	"2.5.29.33",		   /* policyMappings */
	"2.5.29.35",		   /* authorityKeyIdentifier */
	"2.5.29.36",		   /* policyConstraints */
	"2.5.29.37",		   /* extKeyUsage */
	"2.5.29.46",		   /* freshestCRL */
	"2.5.29.54",		   /* inhibitAnyPolicy */
	"1.3.6.1.5.5.7.1.1",	   /* authorityInfoAccess */
	"1.3.6.1.4.1.11129.2.4.3", /* CT precertificate poison */
};

const char *
extval_type_name(enum extval_type t)
{
	if ((size_t)t >= NELEM(type_names))
		return NULL;
	return type_names[t];
}

int
extval_type_parse(const char *name, enum extval_type *t)
{
	size_t i;

	if (name == NULL)
		return EST_E_INVAL;
	for (i = 1; i < NELEM(type_names); i++) {
		if (strcmp(type_names[i], name) == 0) {
			*t = (enum extval_type)i;
			return 0;
		}
	}
	return EST_E_INVAL;
}

int
extval_oid_check(const char *oid)
{
	size_t arcs = 1;
	const char *p;

	if (oid == NULL || strlen(oid) > EXTVAL_OID_MAX)
		return EST_E_UNPROCESSABLE;
	for (p = oid; *p != '\0'; p++)
		if (*p == '.')
			arcs++;
	if (arcs > EXTVAL_OID_ARCS_MAX)
		return EST_E_UNPROCESSABLE;
	return jsonval_check_oid(oid) == 0 ? 0 : EST_E_UNPROCESSABLE;
}

int
extval_oid_reserved(const char *oid)
{
	size_t i;

	for (i = 0; i < NELEM(reserved_oids); i++)
		if (strcmp(reserved_oids[i], oid) == 0)
			return 1;
	return 0;
}

static int
fail(const char **reason, const char *why)
{
	if (reason != NULL)
		*reason = why;
	return EST_E_UNPROCESSABLE;
}

/* ------------------------------------------------------------------ */
/* The DER walk */

static int
is_printable_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == ' ' ||
	       (c != '\0' && strchr("'()+,-./:=?", c) != NULL);
}

/* Well-formed UTF-8 (RFC 3629) of n bytes. */
static int
utf8_ok(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t k;

	while (n > 0) {
		if ((k = jsonval_utf8_next(p, n, &cp)) == 0)
			return 0;
		p += k;
		n -= k;
	}
	return 1;
}

static int
digits_ok(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* The content rules DER adds for the universal primitive types. */
static int
der_primitive(unsigned tag, const uint8_t *c, size_t n, const char **reason)
{
	size_t i;

	switch (tag) {
	case T_BOOLEAN:
		if (n != 1 || (c[0] != 0x00 && c[0] != 0xff))
			return fail(reason,
				    "a DER BOOLEAN is one byte 00 or ff");
		return 0;
	case T_INTEGER:
	case T_ENUMERATED:
		if (n == 0 || (n > 1 && ((c[0] == 0x00 && !(c[1] & 0x80)) ||
					 (c[0] == 0xff && (c[1] & 0x80)))))
			return fail(reason, "INTEGER not minimally encoded");
		return 0;
	case T_BITSTRING:
		if (n == 0 || c[0] > 7 || (n == 1 && c[0] != 0) ||
		    (n > 1 && (c[n - 1] & ((1u << c[0]) - 1)) != 0))
			return fail(reason, "bad BIT STRING");
		return 0;
	case T_NULL:
		return n == 0 ? 0 : fail(reason, "NULL with content");
	case T_OID:
	case T_RELATIVE_OID:
		if (n == 0 || (c[n - 1] & 0x80) != 0)
			return fail(reason, "bad OBJECT IDENTIFIER");
		for (i = 0; i < n; i++)
			if (c[i] == 0x80 && (i == 0 || !(c[i - 1] & 0x80)))
				return fail(
					reason,
					"OBJECT IDENTIFIER arc not minimal");
		return 0;
	case T_UTF8STRING:
		return utf8_ok(c, n) ? 0 : fail(reason, "bad UTF8String");
	case T_PRINTABLESTRING:
		for (i = 0; i < n; i++)
			if (!is_printable_char(c[i]))
				return fail(reason, "bad PrintableString");
		return 0;
	case T_IA5STRING:
		for (i = 0; i < n; i++)
			if (c[i] > 0x7f)
				return fail(reason, "bad IA5String");
		return 0;
	case T_UTCTIME:
		if (n != 13 || !digits_ok(c, 12) || c[12] != 'Z')
			return fail(reason, "UTCTime is not YYMMDDHHMMSSZ");
		return 0;
	case T_GENERALIZEDTIME:
		if (n < 15 || !digits_ok(c, 14) || c[n - 1] != 'Z' ||
		    (n > 15 && (c[14] != '.' || n == 16 ||
				!digits_ok(c + 15, n - 16) || c[n - 2] == '0')))
			return fail(reason, "GeneralizedTime not in DER form");
		return 0;
	default:
		return 0;
	}
}

/* Universal types DER encodes in one form only: 1 primitive, 2 both. */
static int
der_universal_form(unsigned tag)
{
	switch (tag) {
	case T_SEQUENCE:
	case T_SET:
		return 0;
	case 8:	 /* EXTERNAL */
	case 11: /* EMBEDDED PDV */
	case 29: /* CHARACTER STRING */
		return 2;
	default:
		return 1;
	}
}

/*
 * Walks one value at p (at most len bytes) and sets *used to its size.
 */
static int
der_walk(const uint8_t *p, size_t len, size_t *used, int depth,
	 const char **reason)
{
	size_t i = 0, clen = 0, nlen, k, sub;
	unsigned cls, tag;
	int constructed, form, r;

	if (depth > DER_DEPTH_MAX)
		return fail(reason, "DER nested too deeply");
	if (len < 2)
		return fail(reason, "truncated DER");
	cls = p[0] >> 6;
	constructed = (p[0] & 0x20) != 0;
	tag = p[0] & 0x1f;
	i = 1;
	if (tag == 0x1f) {
		/* High tag number form: minimal, above 30, at most 3 bytes. */
		tag = 0;
		if (p[i] == 0x80)
			return fail(reason, "DER tag not minimal");
		do {
			if (i >= len || i > 3)
				return fail(reason, "bad DER tag");
			tag = (tag << 7) | (p[i] & 0x7f);
		} while (p[i++] & 0x80);
		if (tag < 31)
			return fail(reason, "DER tag not minimal");
	}
	if (i >= len)
		return fail(reason, "truncated DER");
	if (p[i] < 0x80) {
		clen = p[i++];
	} else {
		nlen = p[i++] & 0x7f;
		if (nlen == 0)
			return fail(reason, "indefinite length in DER");
		if (nlen > 3 || len - i < nlen || p[i] == 0)
			return fail(reason, "bad DER length");
		for (k = 0; k < nlen; k++)
			clen = (clen << 8) | p[i++];
		if (clen < 0x80)
			return fail(reason, "DER length not minimal");
	}
	if (clen > len - i)
		return fail(reason, "truncated DER");
	if (cls == 0) {
		if (tag == 0)
			return fail(reason, "end-of-contents in DER");
		form = der_universal_form(tag);
		if ((form == 0 && !constructed) || (form == 1 && constructed))
			return fail(reason, "wrong DER form for the type");
		if (!constructed &&
		    (r = der_primitive(tag, p + i, clen, reason)) != 0)
			return r;
	}
	if (constructed) {
		for (k = 0; k < clen; k += sub)
			if ((r = der_walk(p + i + k, clen - k, &sub, depth + 1,
					  reason)) != 0)
				return r;
	}
	*used = i + clen;
	return 0;
}

int
extval_der_check(const uint8_t *der, size_t len, const char **reason)
{
	size_t used = 0;
	int r;

	if ((r = der_walk(der, len, &used, 0, reason)) != 0)
		return r;
	if (used != len)
		return fail(reason, "bytes after the DER value");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Encoders */

/* tag, DER length and content into a new buffer. */
static int
tlv(uint8_t tag, const uint8_t *c, size_t n, uint8_t **der, size_t *len,
    const char **reason)
{
	uint8_t *out;
	size_t h = 2;

	if (n > EXTVAL_DER_MAX)
		return fail(reason, "value too long");
	if (n >= 0x100)
		h = 4;
	else if (n >= 0x80)
		h = 3;
	if ((out = malloc(h + n)) == NULL)
		return EST_E_NOMEM;
	out[0] = tag;
	if (h == 2) {
		out[1] = (uint8_t)n;
	} else if (h == 3) {
		out[1] = 0x81;
		out[2] = (uint8_t)n;
	} else {
		out[1] = 0x82;
		out[2] = (uint8_t)(n >> 8);
		out[3] = (uint8_t)n;
	}
	if (n > 0)
		memcpy(out + h, c, n);
	*der = out;
	*len = h + n;
	return 0;
}

/* Hex digits of an even count into a new buffer. */
static int
unhex(const char *text, uint8_t **out, size_t *n, const char **reason)
{
	size_t tl = strlen(text);
	uint8_t *b;

	if (tl % 2 != 0)
		return fail(reason, "an odd number of hex digits");
	if (tl / 2 > EXTVAL_DER_MAX)
		return fail(reason, "value too long");
	if ((b = malloc(tl / 2 + 1)) == NULL)
		return EST_E_NOMEM;
	if (hex_decode(text, b, tl / 2) != 0) {
		free(b);
		return fail(reason, "not hex digits");
	}
	*out = b;
	*n = tl / 2;
	return 0;
}

static int
enc_string(enum extval_type t, const char *text, uint8_t **der, size_t *len,
	   const char **reason)
{
	const uint8_t *p = (const uint8_t *)text;
	size_t n = strlen(text), i, k;
	uint32_t cp;
	uint8_t tag;

	switch (t) {
	case EXTVAL_UTF8:
		tag = T_UTF8STRING;
		for (i = 0; i < n; i += k) {
			if ((k = jsonval_utf8_next(p + i, n - i, &cp)) == 0)
				return fail(reason, "not UTF-8");
			if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
				return fail(reason, "a control character");
		}
		break;
	case EXTVAL_PRINTABLE:
		tag = T_PRINTABLESTRING;
		for (i = 0; i < n; i++)
			if (!is_printable_char(p[i]))
				return fail(
					reason,
					"a character PrintableString lacks");
		break;
	default:
		tag = T_IA5STRING;
		for (i = 0; i < n; i++)
			if (p[i] < 0x20 || p[i] > 0x7e)
				return fail(reason, "not printable ASCII");
		break;
	}
	return tlv(tag, p, n, der, len, reason);
}

static int
enc_integer(const char *text, uint8_t **der, size_t *len, const char **reason)
{
	const char *d = text[0] == '-' ? text + 1 : text;
	ASN1_INTEGER *ai = NULL;
	unsigned char *buf = NULL, *q;
	BIGNUM *bn = NULL;
	int n, r;

	if (*d == '\0' || !digits_ok((const uint8_t *)d, strlen(d)))
		return fail(reason, "not a decimal integer");
	if ((d[0] == '0' && d[1] != '\0') || (d != text && d[0] == '0'))
		return fail(reason, "a leading zero");
	if (strlen(d) > 2 * EXTVAL_DER_MAX)
		return fail(reason, "value too long");
	r = EST_E_NOMEM;
	if (BN_dec2bn(&bn, text) != (int)strlen(text) ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (n = i2d_ASN1_INTEGER(ai, NULL)) <= 0 ||
	    (buf = malloc((size_t)n)) == NULL)
		goto out;
	q = buf;
	if (i2d_ASN1_INTEGER(ai, &q) != n)
		goto out;
	if ((size_t)n > EXTVAL_DER_MAX + 4) {
		r = fail(reason, "value too long");
		goto out;
	}
	*der = buf;
	*len = (size_t)n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

static int
enc_oid(const char *text, uint8_t **der, size_t *len, const char **reason)
{
	ASN1_OBJECT *obj = NULL;
	unsigned char *buf = NULL, *q;
	int n, r = EST_E_NOMEM;

	if (extval_oid_check(text) != 0)
		return fail(reason, "not a dotted-decimal OID");
	if ((obj = OBJ_txt2obj(text, 1)) == NULL ||
	    (n = i2d_ASN1_OBJECT(obj, NULL)) <= 0 ||
	    (buf = malloc((size_t)n)) == NULL)
		goto out;
	q = buf;
	if (i2d_ASN1_OBJECT(obj, &q) != n)
		goto out;
	*der = buf;
	*len = (size_t)n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	ASN1_OBJECT_free(obj);
	return r;
}

int
extval_encode(enum extval_type t, const char *text, uint8_t **der, size_t *len,
	      const char **reason)
{
	static const uint8_t bool_true[] = {0xff}, bool_false[] = {0x00};
	uint8_t *b = NULL;
	size_t n = 0;
	int r;

	if (text == NULL || *text == '\0')
		return fail(reason, "empty value");
	if (strlen(text) > EXTVAL_TEXT_MAX)
		return fail(reason, "value too long");
	switch (t) {
	case EXTVAL_UTF8:
	case EXTVAL_PRINTABLE:
	case EXTVAL_IA5:
		return enc_string(t, text, der, len, reason);
	case EXTVAL_OCTET:
		if ((r = unhex(text, &b, &n, reason)) != 0)
			return r;
		r = tlv(T_OCTETSTRING, b, n, der, len, reason);
		free(b);
		return r;
	case EXTVAL_INTEGER:
		return enc_integer(text, der, len, reason);
	case EXTVAL_BOOLEAN:
		if (strcmp(text, "true") == 0)
			return tlv(T_BOOLEAN, bool_true, 1, der, len, reason);
		if (strcmp(text, "false") == 0)
			return tlv(T_BOOLEAN, bool_false, 1, der, len, reason);
		return fail(reason, "neither true nor false");
	case EXTVAL_OID:
		return enc_oid(text, der, len, reason);
	case EXTVAL_DER:
		if ((r = unhex(text, &b, &n, reason)) != 0)
			return r;
		if ((r = extval_der_check(b, n, reason)) != 0) {
			free(b);
			return r;
		}
		*der = b;
		*len = n;
		return 0;
	default:
		return EST_E_INVAL;
	}
}
