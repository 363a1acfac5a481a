/*
 * Distinguished names: parsing the RFC 4514 text operators write, and
 * printing names back as RFC 2253 text (see x509.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "err.h"
#include "x509.h"

enum name_strtype { STR_UTF8, STR_PRINTABLE, STR_IA5 };

/*
 * The attributes a DN may name.  Upper bounds are RFC 5280's (in
 * characters); where it sets none (ub-name is 32768) a generous 128 keeps
 * names sane.  The first name of each attribute is OpenSSL's short name,
 * which x509_name_text() prints, so that text round-trips.
 */
static const struct name_attr {
	const char *name;
	int nid;
	enum name_strtype type;
	size_t ub;
} name_attrs[] = {
	{"CN", NID_commonName, STR_UTF8, 64},
	{"commonName", NID_commonName, STR_UTF8, 64},
	{"C", NID_countryName, STR_PRINTABLE, 2},
	{"countryName", NID_countryName, STR_PRINTABLE, 2},
	{"L", NID_localityName, STR_UTF8, 128},
	{"localityName", NID_localityName, STR_UTF8, 128},
	{"ST", NID_stateOrProvinceName, STR_UTF8, 128},
	{"stateOrProvinceName", NID_stateOrProvinceName, STR_UTF8, 128},
	{"O", NID_organizationName, STR_UTF8, 64},
	{"organizationName", NID_organizationName, STR_UTF8, 64},
	{"OU", NID_organizationalUnitName, STR_UTF8, 64},
	{"organizationalUnitName", NID_organizationalUnitName, STR_UTF8, 64},
	{"street", NID_streetAddress, STR_UTF8, 128},
	{"serialNumber", NID_serialNumber, STR_PRINTABLE, 64},
	{"title", NID_title, STR_UTF8, 64},
	{"SN", NID_surname, STR_UTF8, 128},
	{"surname", NID_surname, STR_UTF8, 128},
	{"GN", NID_givenName, STR_UTF8, 128},
	{"givenName", NID_givenName, STR_UTF8, 128},
	{"initials", NID_initials, STR_UTF8, 128},
	{"generationQualifier", NID_generationQualifier, STR_UTF8, 128},
	{"pseudonym", NID_pseudonym, STR_UTF8, 128},
	{"dnQualifier", NID_dnQualifier, STR_PRINTABLE, 64},
	{"DC", NID_domainComponent, STR_IA5, 63},
	{"domainComponent", NID_domainComponent, STR_IA5, 63},
	{"UID", NID_userId, STR_UTF8, 128},
	{"emailAddress", NID_pkcs9_emailAddress, STR_IA5, 255},
	{"postalCode", NID_postalCode, STR_UTF8, 40},
	{"organizationIdentifier", NID_organizationIdentifier, STR_UTF8, 64},
	{"businessCategory", NID_businessCategory, STR_UTF8, 128},
};
#define NNAME_ATTRS (sizeof(name_attrs) / sizeof(name_attrs[0]))

/* Attribute-value pairs a DN may hold, all RDNs together. */
#define NAME_AVA_MAX 64

struct name_ava {
	const struct name_attr *attr;
	size_t rdn; /* index of its RDN in the text, left to right */
	char *value;
	size_t len;
	int asn1type; /* V_ASN1_*STRING, set by name_value_check() */
};

/*
 * Counts the characters of a UTF-8 string, refusing malformed sequences,
 * overlong forms, surrogates, code points above U+10FFFF and control
 * characters (C0, DEL and C1), none of which belongs in a name.
 */
static int
utf8_count(const uint8_t *s, size_t len, size_t *nchars)
{
	size_t i = 0, n = 0, k, need;
	uint32_t cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			if (s[i] < 0x20 || s[i] == 0x7f)
				return EST_E_INVAL;
			i++;
			n++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else {
			return EST_E_INVAL;
		}
		if (len - i <= need)
			return EST_E_INVAL;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return EST_E_INVAL;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return EST_E_INVAL;
		i += need + 1;
		n++;
	}
	*nchars = n;
	return 0;
}

/* X.680 PrintableString: letters, digits, space and '()+,-./:=? */
static int
is_printable(const uint8_t *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    strchr(" '()+,-./:=?", s[i]) != NULL)
			continue;
		return 0;
	}
	return 1;
}

static int
name_value_check(const struct name_attr *a, const char *v, size_t len,
		 int *asn1type)
{
	const uint8_t *u = (const uint8_t *)v;
	size_t nchars, i;
	int r;

	if (len == 0)
		return EST_E_INVAL;
	if ((r = utf8_count(u, len, &nchars)) != 0)
		return r;
	if (nchars > a->ub)
		return EST_E_INVAL;
	switch (a->type) {
	case STR_PRINTABLE:
		if (!is_printable(u, len))
			return EST_E_INVAL;
		/* ISO 3166 alpha-2 codes are two capital letters. */
		if (a->nid == NID_countryName &&
		    (len != 2 || u[0] < 'A' || u[0] > 'Z' || u[1] < 'A' ||
		     u[1] > 'Z'))
			return EST_E_INVAL;
		*asn1type = V_ASN1_PRINTABLESTRING;
		return 0;
	case STR_IA5:
		for (i = 0; i < len; i++)
			if (u[i] >= 0x80)
				return EST_E_INVAL;
		*asn1type = V_ASN1_IA5STRING;
		return 0;
	case STR_UTF8:
		*asn1type = V_ASN1_UTF8STRING;
		return 0;
	}
	return EST_E_INTERNAL;
}

static const struct name_attr *
name_attr_find(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < NNAME_ATTRS; i++)
		if (strlen(name_attrs[i].name) == len &&
		    strncasecmp(name_attrs[i].name, s, len) == 0)
			return &name_attrs[i];
	return NULL;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Reads one attribute value at *pp up to an unescaped ',' or '+' or the
 * end, undoing escapes, into a new NUL-terminated string.
 */
static int
name_value_read(const char **pp, char **out, size_t *outlen)
{
	const char *p = *pp;
	char *v;
	size_t n = 0, keep = 0;
	int hi, lo;

	/* Unescaping never makes a value longer than its text. */
	if ((v = malloc(strlen(p) + 1)) == NULL)
		return EST_E_NOMEM;
	while (*p == ' ')
		p++;
	if (*p == '#')
		goto bad; /* hex-encoded BER values are not accepted */
	while (*p != '\0' && *p != ',' && *p != '+') {
		if (*p == '\\') {
			p++;
			if ((hi = hexval(p[0])) >= 0 &&
			    (lo = hexval(p[1])) >= 0) {
				v[n++] = (char)(hi << 4 | lo);
				p += 2;
			} else if (*p != '\0' && strchr(",+\"\\<>;=# ", *p)) {
				v[n++] = *p++;
			} else {
				goto bad;
			}
			keep = n;
			continue;
		}
		if (strchr("\"<>;", *p) != NULL)
			goto bad;
		v[n++] = *p++;
		if (v[n - 1] != ' ')
			keep = n;
	}
	/* Unescaped trailing spaces are not part of the value. */
	n = keep;
	v[n] = '\0';
	/* A NUL byte written as \00 would cut the C string short. */
	if (memchr(v, '\0', n) != NULL)
		goto bad;
	*pp = p;
	*out = v;
	*outlen = n;
	return 0;
bad:
	free(v);
	return EST_E_INVAL;
}

static void
name_avas_free(struct name_ava *avas, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(avas[i].value);
}

/* Splits text into attribute-value pairs, each tagged with its RDN. */
static int
name_split(const char *text, struct name_ava *avas, size_t *navas)
{
	const char *p = text, *start;
	size_t n = 0, rdn = 0;
	int r;

	for (;;) {
		if (n == NAME_AVA_MAX)
			return EST_E_INVAL;
		while (*p == ' ')
			p++;
		start = p;
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		       (*p >= '0' && *p <= '9') || *p == '-')
			p++;
		if ((avas[n].attr = name_attr_find(start, p - start)) == NULL)
			return EST_E_INVAL;
		while (*p == ' ')
			p++;
		if (*p++ != '=')
			return EST_E_INVAL;
		if ((r = name_value_read(&p, &avas[n].value, &avas[n].len)) !=
		    0)
			return r;
		avas[n].rdn = rdn;
		*navas = ++n;
		if (*p == '\0')
			return 0;
		if (*p++ == ',')
			rdn++;
	}
}

int
x509_name_parse(const char *text, X509_NAME **out)
{
	struct name_ava avas[NAME_AVA_MAX];
	X509_NAME *name = NULL;
	size_t navas = 0, i, j;
	int r, first;

	if (strnlen(text, X509_NAME_TEXT_MAX + 1) > X509_NAME_TEXT_MAX)
		return EST_E_INVAL;
	if ((r = name_split(text, avas, &navas)) != 0)
		goto out;
	for (i = 0; i < navas; i++)
		if ((r = name_value_check(avas[i].attr, avas[i].value,
					  avas[i].len, &avas[i].asn1type)) != 0)
			goto out;
	if ((name = X509_NAME_new()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	/*
	 * The text lists RDNs from the most specific to the least, the
	 * encoding the other way round: walk the text from the right, and
	 * join the attributes of one RDN into one SET (set -1 adds to the
	 * RDN just appended).  The DER of a SET is sorted anyway; adding an
	 * RDN's attributes right to left too makes the RFC 2253 printer,
	 * which reverses the entry order, give back the same text.
	 */
	for (j = avas[navas - 1].rdn + 1; j-- > 0;) {
		first = 1;
		for (i = navas; i-- > 0;) {
			if (avas[i].rdn != j)
				continue;
			if (!X509_NAME_add_entry_by_NID(
				    name, avas[i].attr->nid, avas[i].asn1type,
				    (const unsigned char *)avas[i].value,
				    (int)avas[i].len, -1, first ? 0 : -1)) {
				r = EST_E_CRYPTO;
				goto out;
			}
			first = 0;
		}
	}
	*out = name;
	name = NULL;
	r = 0;
out:
	X509_NAME_free(name);
	name_avas_free(avas, navas);
	return r;
}

/* Copies a memory BIO's contents into a new NUL-terminated string. */
static int
bio_to_string(BIO *bio, char **out)
{
	char *data, *s;
	long n;

	if ((n = BIO_get_mem_data(bio, &data)) < 0)
		return EST_E_CRYPTO;
	if ((s = malloc((size_t)n + 1)) == NULL)
		return EST_E_NOMEM;
	/* An empty name leaves the BIO without a buffer (data NULL). */
	if (n > 0)
		memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*out = s;
	return 0;
}

int
x509_name_text(const X509_NAME *name, char **out)
{
	BIO *bio;
	int r;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return EST_E_NOMEM;
	/* RFC 2253 escaping, but UTF-8 stays readable rather than \XX. */
	if (X509_NAME_print_ex(bio, name, 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		r = EST_E_CRYPTO;
	else
		r = bio_to_string(bio, out);
	BIO_free(bio);
	return r;
}

int
x509_name_der(const X509_NAME *name, uint8_t **der, size_t *len)
{
	unsigned char *d, *p;
	int n;

	if ((n = i2d_X509_NAME(name, NULL)) <= 0)
		return EST_E_CRYPTO;
	if ((d = malloc((size_t)n)) == NULL)
		return EST_E_NOMEM;
	p = d;
	if (i2d_X509_NAME(name, &p) != n) {
		free(d);
		return EST_E_CRYPTO;
	}
	*der = d;
	*len = (size_t)n;
	return 0;
}
