/*
 * Conversion of resolved subjects to OpenSSL's X509_NAME and GENERAL_NAMES,
 * and of a certificate's name and SANs back into resolution input (for
 * reverse mapping and the CSR path).  The rules themselves are in
 * subject.c.
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

int
subject_to_x509_name(const struct subj_result *r, X509_NAME **out)
{
	const struct subj_value *v;
	ASN1_OBJECT *obj = NULL;
	X509_NAME *name = NULL;
	size_t i;
	int type, ret = EST_E_NOMEM;

	if (r == NULL || out == NULL)
		return EST_E_INVAL;
	if ((name = X509_NAME_new()) == NULL)
		goto out;
	for (i = 0; i < r->nvalues; i++) {
		v = &r->values[i];
		if (v->kind != SUBJ_ATTR)
			continue;
		if (v->oid == NULL || (obj = OBJ_txt2obj(v->oid, 1)) == NULL) {
			ret = EST_E_INVAL;
			goto out;
		}
		/*
		 * The result may not come from subject_resolve(), so the
		 * string rules are checked again where the encoding is made.
		 */
		switch (subj_attr_strtype(v->oid, v->strtype)) {
		case SUBJ_STR_PRINTABLE:
			type = V_ASN1_PRINTABLESTRING;
			if (!subj_is_printable_str(v->value) ||
			    (OBJ_obj2nid(obj) == NID_countryName &&
			     (strlen(v->value) != 2 ||
			      !subj_is_upper(v->value[0]) ||
			      !subj_is_upper(v->value[1])))) {
				ret = EST_E_UNPROCESSABLE;
				goto out;
			}
			break;
		case SUBJ_STR_IA5:
			type = V_ASN1_IA5STRING;
			if (!subj_is_ascii_str(v->value)) {
				ret = EST_E_UNPROCESSABLE;
				goto out;
			}
			break;
		default:
			type = V_ASN1_UTF8STRING;
			if (subj_utf8_chars(v->value) < 0) {
				ret = EST_E_UNPROCESSABLE;
				goto out;
			}
			break;
		}
		if (!X509_NAME_add_entry_by_OBJ(name, obj, type,
						(const unsigned char *)v->value,
						(int)strlen(v->value), -1, 0))
			goto out;
		ASN1_OBJECT_free(obj);
		obj = NULL;
	}
	*out = name;
	name = NULL;
	ret = 0;
out:
	ASN1_OBJECT_free(obj);
	X509_NAME_free(name);
	return ret;
}

/* One GENERAL_NAME from a resolved SAN value. */
static int
general_name(const struct subj_value *v, GENERAL_NAME **out)
{
	GENERAL_NAME *gen = NULL;
	ASN1_STRING *str = NULL;
	ASN1_OBJECT *oid = NULL;
	ASN1_TYPE *val = NULL;
	unsigned char ip[16];
	size_t iplen = 0;
	int type, r = EST_E_NOMEM;

	if ((gen = GENERAL_NAME_new()) == NULL)
		goto out;
	switch (v->san_type) {
	case SUBJ_SAN_DNS:
	case SUBJ_SAN_URI:
	case SUBJ_SAN_EMAIL:
		type = v->san_type == SUBJ_SAN_DNS   ? GEN_DNS
		       : v->san_type == SUBJ_SAN_URI ? GEN_URI
						     : GEN_EMAIL;
		if ((v->san_type == SUBJ_SAN_DNS &&
		     !subj_valid_dns(v->value, 1)) ||
		    (v->san_type == SUBJ_SAN_URI &&
		     !subj_valid_uri(v->value)) ||
		    (v->san_type == SUBJ_SAN_EMAIL &&
		     !subj_valid_email(v->value))) {
			r = EST_E_UNPROCESSABLE;
			goto out;
		}
		if ((str = ASN1_IA5STRING_new()) == NULL ||
		    !ASN1_STRING_set(str, v->value, (int)strlen(v->value)))
			goto out;
		GENERAL_NAME_set0_value(gen, type, str);
		str = NULL;
		break;
	case SUBJ_SAN_IP:
		if (!subj_valid_ip(v->value, ip, &iplen)) {
			r = EST_E_UNPROCESSABLE;
			goto out;
		}
		if ((str = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(str, ip, (int)iplen))
			goto out;
		GENERAL_NAME_set0_value(gen, GEN_IPADD, str);
		str = NULL;
		break;
	case SUBJ_SAN_OTHERNAME:
		if (v->oid == NULL || (oid = OBJ_txt2obj(v->oid, 1)) == NULL) {
			r = EST_E_INVAL;
			goto out;
		}
		if ((r = subj_othername_value(v->onenc, v->value, &val)) != 0)
			goto out;
		r = EST_E_NOMEM;
		if (!GENERAL_NAME_set0_othername(gen, oid, val))
			goto out;
		oid = NULL;
		val = NULL;
		break;
	default:
		r = EST_E_INVAL;
		goto out;
	}
	*out = gen;
	gen = NULL;
	r = 0;
out:
	GENERAL_NAME_free(gen);
	ASN1_STRING_free(str);
	ASN1_OBJECT_free(oid);
	ASN1_TYPE_free(val);
	return r;
}

int
subject_to_general_names(const struct subj_result *r, GENERAL_NAMES **out)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gen = NULL;
	size_t i;
	int ret = 0;

	if (r == NULL || out == NULL)
		return EST_E_INVAL;
	for (i = 0; i < r->nvalues; i++) {
		if (r->values[i].kind != SUBJ_SAN)
			continue;
		if (gens == NULL && (gens = GENERAL_NAMES_new()) == NULL) {
			ret = EST_E_NOMEM;
			goto out;
		}
		if ((ret = general_name(&r->values[i], &gen)) != 0)
			goto out;
		if (!sk_GENERAL_NAME_push(gens, gen)) {
			ret = EST_E_NOMEM;
			goto out;
		}
		gen = NULL;
	}
	*out = gens;
	gens = NULL;
out:
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return ret;
}

void
subject_input_free(struct subj_input *in)
{
	size_t i;

	if (in == NULL)
		return;
	for (i = 0; i < in->nentries; i++) {
		free((char *)in->entries[i].oid);
		free((char *)in->entries[i].value);
	}
	free((struct subj_input_entry *)in->entries);
	free(in);
}

static char *
hex_dup(const unsigned char *p, size_t len)
{
	char *s;

	if ((s = malloc(2 * len + 1)) != NULL)
		hex_encode(p, len, s);
	return s;
}

static char *
oid_dup(const ASN1_OBJECT *o)
{
	char buf[128];
	int n = OBJ_obj2txt(buf, sizeof(buf), o, 1);

	if (n <= 0 || (size_t)n >= sizeof(buf))
		return NULL;
	return strdup(buf);
}

/* The text form of an otherName value (see subject.h). */
static char *
othername_text(const ASN1_TYPE *t)
{
	STACK_OF(ASN1_TYPE) *seq = NULL;
	const ASN1_TYPE *a, *b;
	const unsigned char *p;
	unsigned char *der = NULL;
	char *s = NULL, *oid = NULL, *hex = NULL;
	int len;

	switch (t->type) {
	case V_ASN1_UTF8STRING:
	case V_ASN1_IA5STRING:
		return strndup(
			(const char *)ASN1_STRING_get0_data(
				t->value.asn1_string),
			(size_t)ASN1_STRING_length(t->value.asn1_string));
	case V_ASN1_OCTET_STRING:
		return hex_dup(
			ASN1_STRING_get0_data(t->value.octet_string),
			(size_t)ASN1_STRING_length(t->value.octet_string));
	case V_ASN1_SEQUENCE:
		p = ASN1_STRING_get0_data(t->value.sequence);
		len = ASN1_STRING_length(t->value.sequence);
		if ((seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len)) != NULL &&
		    sk_ASN1_TYPE_num(seq) == 2 &&
		    (a = sk_ASN1_TYPE_value(seq, 0))->type == V_ASN1_OBJECT &&
		    (b = sk_ASN1_TYPE_value(seq, 1))->type ==
			    V_ASN1_OCTET_STRING &&
		    (oid = oid_dup(a->value.object)) != NULL &&
		    (hex = hex_dup(ASN1_STRING_get0_data(b->value.octet_string),
				   (size_t)ASN1_STRING_length(
					   b->value.octet_string))) != NULL &&
		    (s = malloc(strlen(oid) + strlen(hex) + 2)) != NULL)
			sprintf(s, "%s:%s", oid, hex);
		sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
		free(oid);
		free(hex);
		if (s != NULL)
			return s;
		break;
	default:
		break;
	}
	if ((len = i2d_ASN1_TYPE(t, &der)) <= 0)
		return NULL;
	s = hex_dup(der, (size_t)len);
	OPENSSL_free(der);
	return s;
}

/* Appends an entry; takes oid and value (freed on failure). */
static int
input_add(struct subj_input *in, size_t *cap, enum subj_kind kind,
	  enum subj_san_type st, char *oid, char *value)
{
	struct subj_input_entry *e = (struct subj_input_entry *)in->entries;

	if (value == NULL)
		goto nomem;
	if (in->nentries == *cap) {
		if ((e = reallocarray(e, *cap * 2 + 4, sizeof(*e))) == NULL)
			goto nomem;
		in->entries = e;
		*cap = *cap * 2 + 4;
	}
	e[in->nentries].kind = kind;
	e[in->nentries].san_type = st;
	e[in->nentries].oid = oid;
	e[in->nentries].value = value;
	in->nentries++;
	return 0;
nomem:
	free(oid);
	free(value);
	return EST_E_NOMEM;
}

int
subject_input_from_cert(const X509_NAME *name, const GENERAL_NAMES *gens,
			struct subj_input **out)
{
	struct subj_input *in = NULL;
	const X509_NAME_ENTRY *ne;
	const GENERAL_NAME *g;
	const ASN1_STRING *s;
	unsigned char *utf8 = NULL;
	char ipbuf[INET6_ADDRSTRLEN], *oid;
	size_t cap = 0;
	int i, n, r = EST_E_NOMEM;

	if (out == NULL)
		return EST_E_INVAL;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; name != NULL && i < X509_NAME_entry_count(name); i++) {
		ne = X509_NAME_get_entry(name, i);
		if ((oid = oid_dup(X509_NAME_ENTRY_get_object(ne))) == NULL)
			goto out;
		if ((n = ASN1_STRING_to_UTF8(
			     &utf8, X509_NAME_ENTRY_get_data(ne))) < 0) {
			free(oid);
			r = EST_E_BADASN1;
			goto out;
		}
		r = input_add(in, &cap, SUBJ_ATTR, SUBJ_SAN_DNS, oid,
			      strndup((char *)utf8, (size_t)n));
		OPENSSL_free(utf8);
		utf8 = NULL;
		if (r != 0)
			goto out;
		r = EST_E_NOMEM;
	}
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		switch (g->type) {
		case GEN_DNS:
		case GEN_URI:
		case GEN_EMAIL:
			s = g->d.ia5;
			r = input_add(
				in, &cap, SUBJ_SAN,
				g->type == GEN_DNS   ? SUBJ_SAN_DNS
				: g->type == GEN_URI ? SUBJ_SAN_URI
						     : SUBJ_SAN_EMAIL,
				NULL,
				strndup((const char *)ASN1_STRING_get0_data(s),
					(size_t)ASN1_STRING_length(s)));
			break;
		case GEN_IPADD:
			s = g->d.iPAddress;
			if ((ASN1_STRING_length(s) != 4 &&
			     ASN1_STRING_length(s) != 16) ||
			    inet_ntop(ASN1_STRING_length(s) == 4 ? AF_INET
								 : AF_INET6,
				      ASN1_STRING_get0_data(s), ipbuf,
				      sizeof(ipbuf)) == NULL)
				continue;
			r = input_add(in, &cap, SUBJ_SAN, SUBJ_SAN_IP, NULL,
				      strdup(ipbuf));
			break;
		case GEN_OTHERNAME:
			if ((oid = oid_dup(g->d.otherName->type_id)) == NULL)
				goto out;
			r = input_add(in, &cap, SUBJ_SAN, SUBJ_SAN_OTHERNAME,
				      oid,
				      othername_text(g->d.otherName->value));
			break;
		default:
			continue;
		}
		if (r != 0)
			goto out;
		r = EST_E_NOMEM;
	}
	*out = in;
	in = NULL;
	r = 0;
out:
	subject_input_free(in);
	return r;
}
