/*
 * Subject and SAN resolution by the template's and the device type's rules
 * (see subject.h for the order and the decisions behind it).
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

#include "err.h"
#include "subject.h"
#include "subject_int.h"
#include "util.h"

/* Longest hex DER an otherName takes, in bytes once decoded. */
#define ONAME_DER_MAX 1024

static const char *const san_names[] = {
	[SUBJ_SAN_DNS] = "DNS",
	[SUBJ_SAN_IP] = "IP",
	[SUBJ_SAN_URI] = "URI",
	[SUBJ_SAN_EMAIL] = "email",
	[SUBJ_SAN_OTHERNAME] = "otherName",
};

/*
 * ASCII classes that do not depend on the locale: a byte of a UTF-8
 * sequence must never pass for a letter.
 */
static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alnum(int c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

int
subj_is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static int
is_empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* Names field i as the user knows it: "CN", "1.2.3.4", "SAN 2 (DNS)". */
static void
set_error(struct subj_error *err, const struct subj_template *t, long i,
	  const char *reason)
{
	const struct subj_field *f;

	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	err->field = i;
	snprintf(err->reason, sizeof(err->reason), "%s", reason);
	if (i < 0 || t == NULL || (size_t)i >= t->nfields)
		return;
	f = &t->fields[i];
	if (f->kind == SUBJ_ATTR)
		snprintf(err->name, sizeof(err->name), "%s",
			 f->short_name != NULL ? f->short_name
			 : f->oid != NULL      ? f->oid
					       : "?");
	else if ((unsigned)f->san_type <= SUBJ_SAN_OTHERNAME)
		snprintf(err->name, sizeof(err->name), "SAN %ld (%s%s%s)",
			 i + 1, san_names[f->san_type],
			 f->san_type == SUBJ_SAN_OTHERNAME ? " " : "",
			 f->san_type == SUBJ_SAN_OTHERNAME && f->oid ? f->oid
								     : "");
}

/*
 * Number of characters of strict UTF-8 text (no overlong forms, no
 * surrogates, nothing past U+10FFFF, no C0/C1 control character or DEL);
 * -1 when the text is none of that.
 */
long
subj_utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp, min;
	long n = 0;
	int more;

	while (*p != '\0') {
		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return -1;
			p++;
			n++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			cp = *p & 0x1f;
			more = 1;
			min = 0x80;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			cp = *p & 0x0f;
			more = 2;
			min = 0x800;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			cp = *p & 0x07;
			more = 3;
			min = 0x10000;
		} else
			return -1;
		p++;
		while (more-- > 0) {
			if ((*p & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (*p++ & 0x3f);
		}
		if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) ||
		    cp > 0x10ffff || cp <= 0x9f)
			return -1;
		n++;
	}
	return n;
}

/* RFC 5280 PrintableString characters. */
int
subj_is_printable_str(const char *s)
{
	for (; *s != '\0'; s++)
		if (!is_alnum(*s) && *s != ' ' &&
		    strchr("'()+,-./:=?", *s) == NULL)
			return 0;
	return 1;
}

int
subj_is_ascii_str(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x7f || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

/* The string type an attribute gets, SUBJ_STR_DEFAULT resolved. */
enum subj_strtype
subj_attr_strtype(const char *oid, enum subj_strtype st)
{
	if (st != SUBJ_STR_DEFAULT)
		return st;
	if (strcmp(oid, "2.5.4.6") == 0 || strcmp(oid, "2.5.4.5") == 0 ||
	    strcmp(oid, "2.5.4.46") == 0)
		return SUBJ_STR_PRINTABLE;
	if (strcmp(oid, "1.2.840.113549.1.9.1") == 0 ||
	    strcmp(oid, "0.9.2342.19200300.100.1.25") == 0)
		return SUBJ_STR_IA5;
	return SUBJ_STR_UTF8;
}

/* A hostname of LDH labels; a wildcard "*." may lead when allowed. */
int
subj_valid_dns(const char *s, int wildcard)
{
	size_t len = strlen(s), label = 0;
	const char *p;

	if (wildcard && strncmp(s, "*.", 2) == 0) {
		s += 2;
		len -= 2;
	}
	if (len == 0 || len > 253)
		return 0;
	for (p = s; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_alnum(*p) && *p != '-')
			return 0;
		if (*p == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && p[-1] != '-';
}

int
subj_valid_ip(const char *s, unsigned char bin[16], size_t *len)
{
	unsigned char tmp[16];

	if (bin == NULL)
		bin = tmp;
	if (inet_pton(AF_INET, s, bin) == 1) {
		if (len != NULL)
			*len = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, s, bin) == 1) {
		if (len != NULL)
			*len = 16;
		return 1;
	}
	return 0;
}

/*
 * An absolute URI: a scheme, ":", then visible ASCII without the characters
 * RFC 3986 excludes.
 */
int
subj_valid_uri(const char *s)
{
	const char *p = s;

	if (!is_alpha(*p))
		return 0;
	while (is_alnum(*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':' || p[1] == '\0')
		return 0;
	for (p++; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("<>\"{}|\\^`", *p) != NULL)
			return 0;
	return 1;
}

int
subj_valid_email(const char *s)
{
	const char *at = strchr(s, '@'), *p;

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL)
		return 0;
	for (p = s; p < at; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("()<>[]:;,\\\"", *p) != NULL)
			return 0;
	return subj_valid_dns(at + 1, 0);
}

/* Decodes hex digits of any even length up to max bytes. */
static int
hex_to_bytes(const char *hex, size_t max, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(hex);
	unsigned char *b;

	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return EST_E_UNPROCESSABLE;
	if ((b = malloc(n / 2)) == NULL)
		return EST_E_NOMEM;
	if (hex_decode(hex, b, n / 2) != 0) {
		free(b);
		return EST_E_UNPROCESSABLE;
	}
	*out = b;
	*outlen = n / 2;
	return 0;
}

/* "<OID>:<hex>": the OID and the serial number bytes. */
static int
parse_hwmodule(const char *s, ASN1_OBJECT **oid, unsigned char **serial,
	       size_t *seriallen)
{
	const char *colon = strchr(s, ':');
	char oidtxt[128];
	ASN1_OBJECT *o;
	int r;

	if (colon == NULL || colon == s ||
	    (size_t)(colon - s) >= sizeof(oidtxt))
		return EST_E_UNPROCESSABLE;
	memcpy(oidtxt, s, colon - s);
	oidtxt[colon - s] = '\0';
	if (strspn(oidtxt, "0123456789.") != strlen(oidtxt) ||
	    (o = OBJ_txt2obj(oidtxt, 1)) == NULL)
		return EST_E_UNPROCESSABLE;
	if ((r = hex_to_bytes(colon + 1, ONAME_DER_MAX, serial, seriallen)) !=
	    0) {
		ASN1_OBJECT_free(o);
		return r;
	}
	*oid = o;
	return 0;
}

/* The ASN.1 value of an otherName from its text form. */
int
subj_othername_value(enum subj_onenc enc, const char *s, ASN1_TYPE **out)
{
	STACK_OF(ASN1_TYPE) *seq = NULL;
	ASN1_OBJECT *hwtype = NULL;
	ASN1_STRING *str = NULL;
	ASN1_TYPE *t = NULL, *el = NULL;
	unsigned char *bytes = NULL, *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	int derlen, r = EST_E_NOMEM;

	switch (enc) {
	case SUBJ_ON_UTF8:
	case SUBJ_ON_IA5:
		if (enc == SUBJ_ON_IA5 && !subj_is_ascii_str(s))
			return EST_E_UNPROCESSABLE;
		if ((str = ASN1_STRING_type_new(
			     enc == SUBJ_ON_UTF8 ? V_ASN1_UTF8STRING
						 : V_ASN1_IA5STRING)) == NULL ||
		    !ASN1_STRING_set(str, s, (int)strlen(s)) ||
		    (t = ASN1_TYPE_new()) == NULL)
			goto out;
		ASN1_TYPE_set(t, str->type, str);
		str = NULL;
		break;
	case SUBJ_ON_OCTET:
		if ((r = hex_to_bytes(s, ONAME_DER_MAX, &bytes, &len)) != 0)
			goto out;
		r = EST_E_NOMEM;
		if ((str = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(str, bytes, (int)len) ||
		    (t = ASN1_TYPE_new()) == NULL)
			goto out;
		ASN1_TYPE_set(t, V_ASN1_OCTET_STRING, str);
		str = NULL;
		break;
	case SUBJ_ON_DER:
		if ((r = hex_to_bytes(s, ONAME_DER_MAX, &bytes, &len)) != 0)
			goto out;
		p = bytes;
		if ((t = d2i_ASN1_TYPE(NULL, &p, (long)len)) == NULL ||
		    p != bytes + len) {
			r = EST_E_UNPROCESSABLE;
			goto out;
		}
		break;
	case SUBJ_ON_HWMODULE:
		/* RFC 4108: SEQUENCE { hwType OID, hwSerialNum OCTET STR } */
		if ((r = parse_hwmodule(s, &hwtype, &bytes, &len)) != 0)
			goto out;
		r = EST_E_NOMEM;
		if ((seq = sk_ASN1_TYPE_new_null()) == NULL ||
		    (el = ASN1_TYPE_new()) == NULL)
			goto out;
		ASN1_TYPE_set(el, V_ASN1_OBJECT, hwtype);
		hwtype = NULL;
		if (!sk_ASN1_TYPE_push(seq, el))
			goto out;
		el = NULL;
		if ((el = ASN1_TYPE_new()) == NULL ||
		    (str = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(str, bytes, (int)len))
			goto out;
		ASN1_TYPE_set(el, V_ASN1_OCTET_STRING, str);
		str = NULL;
		if (!sk_ASN1_TYPE_push(seq, el))
			goto out;
		el = NULL;
		if ((derlen = i2d_ASN1_SEQUENCE_ANY(seq, &der)) <= 0 ||
		    (str = ASN1_STRING_new()) == NULL ||
		    !ASN1_STRING_set(str, der, derlen) ||
		    (t = ASN1_TYPE_new()) == NULL)
			goto out;
		ASN1_TYPE_set(t, V_ASN1_SEQUENCE, str);
		str = NULL;
		break;
	default:
		r = EST_E_INVAL;
		goto out;
	}
	*out = t;
	t = NULL;
	r = 0;
out:
	ASN1_TYPE_free(t);
	ASN1_TYPE_free(el);
	ASN1_STRING_free(str);
	ASN1_OBJECT_free(hwtype);
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	OPENSSL_free(der);
	free(bytes);
	return r;
}

/*
 * Checks a value against field f and bound max (characters); 0, or
 * EST_E_UNPROCESSABLE with the reason in *why.
 */
static int
check_value(const struct subj_field *f, size_t max, const char *v,
	    const char **why)
{
	ASN1_TYPE *t = NULL;
	long n = subj_utf8_chars(v);
	int r;

	if (n < 0) {
		*why = "invalid UTF-8 or control character";
		return EST_E_UNPROCESSABLE;
	}
	if ((size_t)n > max) {
		*why = "value longer than the maximum length";
		return EST_E_UNPROCESSABLE;
	}
	if (f->kind == SUBJ_ATTR) {
		switch (subj_attr_strtype(f->oid, f->strtype)) {
		case SUBJ_STR_PRINTABLE:
			if (!subj_is_printable_str(v)) {
				*why = "characters not allowed in a "
				       "PrintableString";
				return EST_E_UNPROCESSABLE;
			}
			if (strcmp(f->oid, "2.5.4.6") == 0 &&
			    (strlen(v) != 2 || !subj_is_upper(v[0]) ||
			     !subj_is_upper(v[1]))) {
				*why = "country must be two capital letters";
				return EST_E_UNPROCESSABLE;
			}
			return 0;
		case SUBJ_STR_IA5:
			if (!subj_is_ascii_str(v)) {
				*why = "characters not allowed in an IA5String";
				return EST_E_UNPROCESSABLE;
			}
			return 0;
		default:
			return 0;
		}
	}
	switch (f->san_type) {
	case SUBJ_SAN_DNS:
		if (subj_valid_dns(v, 1))
			return 0;
		*why = "not a DNS name";
		return EST_E_UNPROCESSABLE;
	case SUBJ_SAN_IP:
		if (subj_valid_ip(v, NULL, NULL))
			return 0;
		*why = "not an IPv4 or IPv6 address";
		return EST_E_UNPROCESSABLE;
	case SUBJ_SAN_URI:
		if (subj_valid_uri(v))
			return 0;
		*why = "not an absolute URI";
		return EST_E_UNPROCESSABLE;
	case SUBJ_SAN_EMAIL:
		if (subj_valid_email(v))
			return 0;
		*why = "not an e-mail address";
		return EST_E_UNPROCESSABLE;
	case SUBJ_SAN_OTHERNAME:
		if ((r = subj_othername_value(f->onenc, v, &t)) == 0) {
			ASN1_TYPE_free(t);
			return 0;
		}
		*why = "not a valid otherName value";
		return r == EST_E_NOMEM ? r : EST_E_UNPROCESSABLE;
	}
	*why = "unknown SAN type";
	return EST_E_INVAL;
}

/* Whether two (kind, SAN type, OID) keys are the same. */
static int
same_key(enum subj_kind ka, enum subj_san_type sa, const char *oa,
	 enum subj_kind kb, enum subj_san_type sb, const char *ob)
{
	if (ka != kb)
		return 0;
	if (ka == SUBJ_SAN && sa != sb)
		return 0;
	if (ka == SUBJ_ATTR || sa == SUBJ_SAN_OTHERNAME)
		return oa != NULL && ob != NULL && strcmp(oa, ob) == 0;
	return 1;
}

/*
 * The input value for field i: the k-th input entry of its key when i is
 * the k-th template field of that key.
 */
static const char *
input_value(const struct subj_template *t, size_t i,
	    const struct subj_input *in)
{
	const struct subj_field *f = &t->fields[i], *g;
	const struct subj_input_entry *e;
	size_t j, k = 0;

	if (in == NULL)
		return NULL;
	for (j = 0; j < i; j++) {
		g = &t->fields[j];
		if (same_key(f->kind, f->san_type, f->oid, g->kind, g->san_type,
			     g->oid))
			k++;
	}
	for (j = 0; j < in->nentries; j++) {
		e = &in->entries[j];
		if (same_key(f->kind, f->san_type, f->oid, e->kind, e->san_type,
			     e->oid) &&
		    k-- == 0)
			return e->value;
	}
	return NULL;
}

static const struct subj_map_entry *
mapping_for(const struct subj_mapping *m, size_t i)
{
	size_t j;

	if (m == NULL)
		return NULL;
	for (j = 0; j < m->nentries; j++)
		if (m->entries[j].field == i &&
		    m->entries[j].to.target != SUBJ_TARGET_NONE)
			return &m->entries[j];
	return NULL;
}

static const char *
device_value(const struct subj_device *dev, const struct subj_devfield *to)
{
	size_t j;

	if (dev == NULL)
		return NULL;
	switch (to->target) {
	case SUBJ_TARGET_NAME:
		return dev->name;
	case SUBJ_TARGET_PROPERTY:
		return (unsigned)to->prop < SUBJ_PROP_COUNT
			       ? dev->props[to->prop]
			       : NULL;
	case SUBJ_TARGET_ATTRIBUTE:
		for (j = 0; j < dev->nattrs; j++)
			if (to->attr_name != NULL &&
			    dev->attrs[j].name != NULL &&
			    strcmp(dev->attrs[j].name, to->attr_name) == 0)
				return dev->attrs[j].value;
		return NULL;
	default:
		return NULL;
	}
}

/*
 * Refuses a template or mapping that the administration API should never
 * have stored.
 */
static int
check_definitions(const struct subj_template *t, const struct subj_mapping *m,
		  struct subj_error *err)
{
	const struct subj_field *f;
	ASN1_OBJECT *o;
	size_t i, j;

	for (i = 0; i < t->nfields; i++) {
		f = &t->fields[i];
		if (f->max_len == 0 || (unsigned)f->rule > SUBJ_FIXED ||
		    (f->rule == SUBJ_FIXED && is_empty(f->default_value)) ||
		    (f->kind == SUBJ_SAN &&
		     (unsigned)f->san_type > SUBJ_SAN_OTHERNAME))
			goto bad;
		if (f->kind == SUBJ_ATTR ||
		    (f->kind == SUBJ_SAN &&
		     f->san_type == SUBJ_SAN_OTHERNAME)) {
			if (f->oid == NULL ||
			    strspn(f->oid, "0123456789.") != strlen(f->oid) ||
			    (o = OBJ_txt2obj(f->oid, 1)) == NULL)
				goto bad;
			ASN1_OBJECT_free(o);
		} else if (f->kind != SUBJ_SAN)
			goto bad;
	}
	for (j = 0; m != NULL && j < m->nentries; j++) {
		if (m->entries[j].field >= t->nfields ||
		    (unsigned)m->entries[j].to.target > SUBJ_TARGET_ATTRIBUTE ||
		    (m->entries[j].to.target == SUBJ_TARGET_PROPERTY &&
		     (unsigned)m->entries[j].to.prop >= SUBJ_PROP_COUNT) ||
		    (m->entries[j].to.target == SUBJ_TARGET_ATTRIBUTE &&
		     is_empty(m->entries[j].to.attr_name)))
			goto badmap;
		/* One mapping per field, as the table's unique key says. */
		for (i = 0; i < j; i++)
			if (m->entries[i].field == m->entries[j].field &&
			    m->entries[i].to.target != SUBJ_TARGET_NONE &&
			    m->entries[j].to.target != SUBJ_TARGET_NONE)
				goto badmap;
	}
	return 0;
bad:
	set_error(err, t, (long)i, "malformed template field");
	return EST_E_INVAL;
badmap:
	set_error(err, t, -1, "malformed device-type mapping");
	return EST_E_INVAL;
}

void
subject_result_free(struct subj_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nvalues; i++) {
		free(r->values[i].oid);
		free(r->values[i].value);
	}
	free(r->values);
	free(r);
}

int
subject_resolve(const struct subj_template *t, const struct subj_mapping *m,
		const struct subj_device *dev, const struct subj_input *in,
		enum subj_source src, struct subj_result **out,
		struct subj_error *err)
{
	const struct subj_field *f;
	const struct subj_map_entry *me;
	struct subj_result *res = NULL;
	struct subj_value *v;
	const char *val, *inval, *why = NULL;
	size_t i, max;
	int r;

	if (t == NULL || out == NULL || (t->nfields > 0 && t->fields == NULL) ||
	    (src != SUBJ_SRC_CSR && src != SUBJ_SRC_USER))
		return EST_E_INVAL;
	if ((r = check_definitions(t, m, err)) != 0)
		return r;
	if ((res = calloc(1, sizeof(*res))) == NULL ||
	    (t->nfields > 0 &&
	     (res->values = calloc(t->nfields, sizeof(*res->values))) ==
		     NULL)) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < t->nfields; i++) {
		f = &t->fields[i];
		inval = input_value(t, i, in);
		me = f->rule == SUBJ_FIXED ? NULL : mapping_for(m, i);
		max = f->max_len;
		if (me != NULL && me->max_len > 0 && me->max_len < max)
			max = me->max_len;
		if (f->rule == SUBJ_FIXED) {
			if (src == SUBJ_SRC_USER && !is_empty(inval) &&
			    strcmp(inval, f->default_value) != 0) {
				set_error(err, t, (long)i,
					  "fixed value cannot be changed");
				r = EST_E_UNPROCESSABLE;
				goto out;
			}
			val = f->default_value;
		} else {
			val = NULL;
			if (me != NULL) {
				val = device_value(dev, &me->to);
				if (is_empty(val))
					val = me->default_value;
			}
			if (is_empty(val))
				val = inval;
			if (is_empty(val))
				val = f->default_value;
		}
		if (is_empty(val)) {
			if (f->rule == SUBJ_REQUIRED) {
				set_error(err, t, (long)i,
					  "required field has no value");
				r = EST_E_UNPROCESSABLE;
				goto out;
			}
			continue;
		}
		if ((r = check_value(f, max, val, &why)) != 0) {
			set_error(err, t, (long)i, why);
			goto out;
		}
		v = &res->values[res->nvalues];
		v->field = i;
		v->kind = f->kind;
		v->strtype = f->kind == SUBJ_ATTR
				     ? subj_attr_strtype(f->oid, f->strtype)
				     : SUBJ_STR_DEFAULT;
		v->san_type = f->san_type;
		v->onenc = f->onenc;
		if ((f->oid != NULL && (v->oid = strdup(f->oid)) == NULL) ||
		    (v->value = strdup(val)) == NULL) {
			free(v->oid);
			v->oid = NULL;
			r = EST_E_NOMEM;
			goto out;
		}
		res->nvalues++;
	}
	*out = res;
	res = NULL;
	r = 0;
out:
	subject_result_free(res);
	return r;
}

void
subject_device_values_free(struct subj_device_values *v)
{
	size_t i;

	if (v == NULL)
		return;
	free(v->name);
	for (i = 0; i < SUBJ_PROP_COUNT; i++)
		free(v->props[i]);
	for (i = 0; i < v->nattrs; i++) {
		free(v->attrs[i].name);
		free(v->attrs[i].value);
	}
	free(v->attrs);
	free(v);
}

/* The slot of device field to in v, adding an attribute slot if needed. */
static int
device_slot(struct subj_device_values *v, const struct subj_devfield *to,
	    char ***slot)
{
	struct subj_attr_out *a;
	size_t i;

	switch (to->target) {
	case SUBJ_TARGET_NAME:
		*slot = &v->name;
		return 0;
	case SUBJ_TARGET_PROPERTY:
		if ((unsigned)to->prop >= SUBJ_PROP_COUNT)
			return EST_E_INVAL;
		*slot = &v->props[to->prop];
		return 0;
	case SUBJ_TARGET_ATTRIBUTE:
		if (is_empty(to->attr_name))
			return EST_E_INVAL;
		for (i = 0; i < v->nattrs; i++)
			if (strcmp(v->attrs[i].name, to->attr_name) == 0) {
				*slot = &v->attrs[i].value;
				return 0;
			}
		if ((a = reallocarray(v->attrs, v->nattrs + 1, sizeof(*a))) ==
		    NULL)
			return EST_E_NOMEM;
		v->attrs = a;
		a = &v->attrs[v->nattrs];
		a->value = NULL;
		if ((a->name = strdup(to->attr_name)) == NULL)
			return EST_E_NOMEM;
		v->nattrs++;
		*slot = &a->value;
		return 0;
	default:
		return EST_E_INVAL;
	}
}

int
subject_reverse_map(const struct subj_template *t, const struct subj_mapping *m,
		    const struct subj_input *factory_cert_subject,
		    const struct subj_devfield *required, size_t nrequired,
		    struct subj_device_values **out, struct subj_error *err)
{
	struct subj_device_values *v = NULL;
	const struct subj_map_entry *me;
	const char *val, *why = NULL;
	char **slot;
	size_t i, max;
	int r;

	if (t == NULL || out == NULL || (t->nfields > 0 && t->fields == NULL) ||
	    (nrequired > 0 && required == NULL))
		return EST_E_INVAL;
	if ((r = check_definitions(t, m, err)) != 0)
		return r;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < t->nfields; i++) {
		if ((me = mapping_for(m, i)) == NULL ||
		    t->fields[i].rule == SUBJ_FIXED)
			continue;
		val = input_value(t, i, factory_cert_subject);
		if (is_empty(val))
			continue;
		max = me->max_len > 0 ? me->max_len : t->fields[i].max_len;
		/*
		 * The certificate passed its issuer's checks, but its values
		 * become device fields that have their own bounds and must be
		 * printable text.
		 */
		if (subj_utf8_chars(val) < 0) {
			why = "invalid UTF-8 or control character";
			r = EST_E_UNPROCESSABLE;
		} else if ((size_t)subj_utf8_chars(val) > max) {
			why = "value longer than the maximum length";
			r = EST_E_UNPROCESSABLE;
		} else
			r = device_slot(v, &me->to, &slot);
		if (r != 0) {
			set_error(err, t, (long)i,
				  why != NULL ? why : "malformed mapping");
			goto out;
		}
		if (*slot == NULL && (*slot = strdup(val)) == NULL) {
			r = EST_E_NOMEM;
			goto out;
		}
	}
	for (i = 0; i < nrequired; i++) {
		if ((r = device_slot(v, &required[i], &slot)) != 0) {
			set_error(err, t, -1,
				  "malformed required device field");
			goto out;
		}
		if (*slot == NULL && (*slot = strdup(SUBJ_UNDEFINED)) == NULL) {
			r = EST_E_NOMEM;
			goto out;
		}
	}
	*out = v;
	v = NULL;
	r = 0;
out:
	subject_device_values_free(v);
	return r;
}
