/*
 * What a certification request carries (csr.h), once csr.c has decoded it:
 * the subject's values as UTF-8, the challengePassword, and the
 * extensionRequest attribute, of which subjectAltName, extendedKeyUsage
 * and keyUsage are decoded and every other extension is only listed.  Each
 * extension value must be exactly one structure, and duplicates are
 * refused (RFC 5280 4.2).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "csr.h"
#include "err.h"
#include "jsonval.h"

/* d2i of a whole extension value: nothing may follow the structure. */
#define EXT_D2I(type, d2i, os, outp)                                           \
	do {                                                                   \
		const unsigned char *p_ = ASN1_STRING_get0_data(os);           \
		long l_ = ASN1_STRING_length(os);                              \
		(outp) = d2i(NULL, &p_, l_);                                   \
		if ((outp) != NULL && p_ != ASN1_STRING_get0_data(os) + l_) {  \
			type##_free(outp);                                     \
			(outp) = NULL;                                         \
		}                                                              \
	} while (0)

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

static int
csr_oid_text(const ASN1_OBJECT *obj, char oid[CSR_OID_MAX], const char *field,
	     struct csr_error *err)
{
	int n = OBJ_obj2txt(oid, CSR_OID_MAX, obj, 1);

	if (n <= 0 || n >= CSR_OID_MAX)
		return csr_fail(err, EST_E_UNPROCESSABLE, field,
				"OID too long");
	return 0;
}

/*
 * An IA5String name (DNS, URI, email) as a C string: printable ASCII
 * only, so that no NUL or control character reaches a certificate.
 */
static int
ia5_value(const ASN1_STRING *s, const char *field, char **out,
	  struct csr_error *err)
{
	const uint8_t *d = ASN1_STRING_get0_data(s);
	int i, n = ASN1_STRING_length(s);

	if (ASN1_STRING_type(s) != V_ASN1_IA5STRING)
		return csr_fail(err, EST_E_BADASN1, field, "malformed name");
	if (n == 0 || n > CSR_VALUE_MAX)
		return csr_fail(err, EST_E_UNPROCESSABLE, field,
				"empty or too long name");
	for (i = 0; i < n; i++)
		if (d[i] < 0x20 || d[i] > 0x7e)
			return csr_fail(err, EST_E_UNPROCESSABLE, field,
					"character not allowed in name");
	if ((*out = strndup((const char *)d, (size_t)n)) == NULL)
		return csr_fail(err, EST_E_NOMEM, field, "out of memory");
	return 0;
}

static int
get_one_san(struct csr_san *s, GENERAL_NAME *g, const char *field,
	    struct csr_error *err)
{
	ASN1_OBJECT *oid;
	ASN1_TYPE *val;
	char ip[INET6_ADDRSTRLEN];
	unsigned char *der = NULL;
	int n;

	switch (g->type) {
	case GEN_DNS:
		s->type = CSR_SAN_DNS;
		return ia5_value(g->d.dNSName, field, &s->value, err);
	case GEN_URI:
		s->type = CSR_SAN_URI;
		return ia5_value(g->d.uniformResourceIdentifier, field,
				 &s->value, err);
	case GEN_EMAIL:
		s->type = CSR_SAN_EMAIL;
		return ia5_value(g->d.rfc822Name, field, &s->value, err);
	case GEN_IPADD:
		s->type = CSR_SAN_IP;
		n = ASN1_STRING_length(g->d.iPAddress);
		if (n != 4 && n != 16)
			return csr_fail(err, EST_E_BADASN1, field,
					"malformed IP address");
		s->iplen = (size_t)n;
		memcpy(s->ip, ASN1_STRING_get0_data(g->d.iPAddress), s->iplen);
		if (inet_ntop(n == 4 ? AF_INET : AF_INET6, s->ip, ip,
			      sizeof(ip)) == NULL ||
		    (s->value = strdup(ip)) == NULL)
			return csr_fail(err, EST_E_NOMEM, field,
					"out of memory");
		return 0;
	case GEN_OTHERNAME:
		s->type = CSR_SAN_OTHER;
		if (!GENERAL_NAME_get0_otherName(g, &oid, &val) || val == NULL)
			return csr_fail(err, EST_E_BADASN1, field,
					"malformed otherName");
		if ((n = csr_oid_text(oid, s->oid, field, err)) != 0)
			return n;
		if ((n = i2d_ASN1_TYPE(val, &der)) <= 0)
			return csr_fail(err, EST_E_BADASN1, field,
					"malformed otherName");
		s->der = der;
		s->derlen = (size_t)n;
		return 0;
	}
	return csr_fail(err, EST_E_UNPROCESSABLE, field,
			"unsupported subjectAltName type");
}

static int
get_san(struct csr *c, const ASN1_OCTET_STRING *os, struct csr_error *err)
{
	GENERAL_NAMES *gens;
	char field[32];
	size_t i, n;
	int r = 0;

	EXT_D2I(GENERAL_NAMES, d2i_GENERAL_NAMES, os, gens);
	if (gens == NULL || (n = (size_t)sk_GENERAL_NAME_num(gens)) == 0) {
		GENERAL_NAMES_free(gens);
		return csr_fail(err, EST_E_BADASN1, "san",
				"malformed subjectAltName");
	}
	if (n > CSR_SAN_MAX) {
		r = csr_fail(err, EST_E_TOOBIG, "san",
			     "more than %d subjectAltName entries",
			     CSR_SAN_MAX);
		goto out;
	}
	if ((c->san = calloc(n, sizeof(*c->san))) == NULL) {
		r = csr_fail(err, EST_E_NOMEM, "san", "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "san[%zu]", i);
		c->nsan = i + 1;
		if ((r = get_one_san(&c->san[i],
				     sk_GENERAL_NAME_value(gens, (int)i), field,
				     err)) != 0)
			goto out;
	}
	c->has_san = 1;
out:
	GENERAL_NAMES_free(gens);
	return r;
}

static int
get_eku(struct csr *c, const ASN1_OCTET_STRING *os, struct csr_error *err)
{
	EXTENDED_KEY_USAGE *eku;
	char field[32];
	size_t i, n;
	int r = 0;

	EXT_D2I(EXTENDED_KEY_USAGE, d2i_EXTENDED_KEY_USAGE, os, eku);
	if (eku == NULL || (n = (size_t)sk_ASN1_OBJECT_num(eku)) == 0) {
		EXTENDED_KEY_USAGE_free(eku);
		return csr_fail(err, EST_E_BADASN1, "eku",
				"malformed extendedKeyUsage");
	}
	if (n > CSR_EKU_MAX) {
		r = csr_fail(err, EST_E_TOOBIG, "eku",
			     "more than %d extended key usages", CSR_EKU_MAX);
		goto out;
	}
	if ((c->eku = calloc(n, sizeof(*c->eku))) == NULL) {
		r = csr_fail(err, EST_E_NOMEM, "eku", "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "eku[%zu]", i);
		if ((r = csr_oid_text(sk_ASN1_OBJECT_value(eku, (int)i),
				      c->eku[i], field, err)) != 0)
			goto out;
		c->neku = i + 1;
	}
	c->has_eku = 1;
out:
	EXTENDED_KEY_USAGE_free(eku);
	return r;
}

static int
get_ku(struct csr *c, const ASN1_OCTET_STRING *os, struct csr_error *err)
{
	ASN1_BIT_STRING *bs;
	int i;

	EXT_D2I(ASN1_BIT_STRING, d2i_ASN1_BIT_STRING, os, bs);
	if (bs == NULL)
		return csr_fail(err, EST_E_BADASN1, "keyUsage",
				"malformed keyUsage");
	for (i = 0; i <= 8; i++)
		if (ASN1_BIT_STRING_get_bit(bs, i))
			c->ku |= 1u << i;
	ASN1_BIT_STRING_free(bs);
	c->has_ku = 1;
	return 0;
}

static int
get_extensions(struct csr *c, const ASN1_TYPE *t, struct csr_error *err)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const ASN1_OCTET_STRING *os;
	const unsigned char *p;
	X509_EXTENSION *x;
	char field[32];
	size_t i, k, n;
	int r = 0, nid;
	long len;

	if (t->type != V_ASN1_SEQUENCE)
		return csr_fail(err, EST_E_BADASN1, "extensions",
				"malformed extension request");
	p = ASN1_STRING_get0_data(t->value.sequence);
	len = ASN1_STRING_length(t->value.sequence);
	if ((exts = d2i_X509_EXTENSIONS(NULL, &p, len)) == NULL ||
	    p != ASN1_STRING_get0_data(t->value.sequence) + len) {
		r = csr_fail(err, EST_E_BADASN1, "extensions",
			     "malformed extension request");
		goto out;
	}
	if ((n = (size_t)sk_X509_EXTENSION_num(exts)) > CSR_EXT_MAX) {
		r = csr_fail(err, EST_E_TOOBIG, "extensions",
			     "more than %d extensions", CSR_EXT_MAX);
		goto out;
	}
	if (n > 0 && (c->ext = calloc(n, sizeof(*c->ext))) == NULL) {
		r = csr_fail(err, EST_E_NOMEM, "extensions", "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "extensions[%zu]", i);
		x = sk_X509_EXTENSION_value(exts, (int)i);
		if ((r = csr_oid_text(X509_EXTENSION_get_object(x),
				      c->ext[i].oid, field, err)) != 0)
			goto out;
		c->next = i + 1;
		for (k = 0; k < i; k++)
			if (strcmp(c->ext[k].oid, c->ext[i].oid) == 0) {
				r = csr_fail(err, EST_E_BADASN1, field,
					     "duplicate extension");
				goto out;
			}
		c->ext[i].critical = X509_EXTENSION_get_critical(x) > 0;
		os = X509_EXTENSION_get_data(x);
		nid = OBJ_obj2nid(X509_EXTENSION_get_object(x));
		if (nid == NID_subject_alt_name) {
			c->san_critical = c->ext[i].critical;
			r = get_san(c, os, err);
		} else if (nid == NID_ext_key_usage)
			r = get_eku(c, os, err);
		else if (nid == NID_key_usage)
			r = get_ku(c, os, err);
		else
			continue;
		if (r != 0)
			goto out;
		c->ext[i].known = 1;
	}
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return r;
}

/* ----- subject ----- */

int
csr_get_subject(struct csr *c, struct csr_error *err)
{
	const X509_NAME *nm = c->name;
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
int
csr_get_attributes(struct csr *c, const STACK_OF(X509_ATTRIBUTE) * attrs,
		   struct csr_error *err)
{
	const X509_ATTRIBUTE *a, *b;
	const ASN1_TYPE *t;
	int i, k, n = sk_X509_ATTRIBUTE_num(attrs), nid, r;

	if (n > CSR_ATTR_MAX)
		return csr_fail(err, EST_E_TOOBIG, "attributes",
				"more than %d attributes", CSR_ATTR_MAX);
	for (i = 0; i < n; i++) {
		a = sk_X509_ATTRIBUTE_value(attrs, i);
		for (k = 0; k < i; k++) {
			b = sk_X509_ATTRIBUTE_value(attrs, k);
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
			r = get_extensions(c, t, err);
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
