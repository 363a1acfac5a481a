/*
 * Subject input for issuance (issue.h): the values a CSR carries and the
 * values a user typed, as lib/subject.h's struct subj_input.  Every entry
 * owns copies of its strings, so that the input outlives the request or
 * JSON body it came from and subject_input_free() frees it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509v3.h>

#include "csr.h"
#include "err.h"
#include "issue.h"
#include "subject.h"
#include "tmpl.h"

struct input_build {
	struct subj_input_entry *e;
	size_t n, cap;
};

/* Appends an entry with copies of oid (may be NULL) and value. */
static int
input_add(struct input_build *b, enum subj_kind kind, enum subj_san_type st,
	  const char *oid, const char *value)
{
	struct subj_input_entry *e;
	char *o = NULL, *v = NULL;

	if (b->n == b->cap) {
		if ((e = reallocarray(b->e, b->cap * 2 + 8, sizeof(*e))) ==
		    NULL)
			return EST_E_NOMEM;
		b->e = e;
		b->cap = b->cap * 2 + 8;
	}
	if ((oid != NULL && (o = strdup(oid)) == NULL) ||
	    (v = strdup(value != NULL ? value : "")) == NULL) {
		free(o);
		return EST_E_NOMEM;
	}
	e = &b->e[b->n++];
	e->kind = kind;
	e->san_type = st;
	e->oid = o;
	e->value = v;
	return 0;
}

/* Hands the entries over to a new struct subj_input, or frees them. */
static int
input_finish(struct input_build *b, int r, struct subj_input **out)
{
	struct subj_input *in;
	size_t i;

	if (r == 0 && (in = calloc(1, sizeof(*in))) != NULL) {
		in->entries = b->e;
		in->nentries = b->n;
		*out = in;
		return 0;
	}
	for (i = 0; i < b->n; i++) {
		free((char *)(uintptr_t)b->e[i].oid);
		free((char *)(uintptr_t)b->e[i].value);
	}
	free(b->e);
	return r != 0 ? r : EST_E_NOMEM;
}

/*
 * The otherName entries of a request, in their text forms.  lib/subject
 * owns those forms (subject_input_from_cert()), so the values are put back
 * into GENERAL_NAMEs and read through it rather than formatted twice.
 */
static int
input_othernames(const struct csr *csr, struct input_build *b)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *g = NULL;
	struct subj_input *tmp = NULL;
	ASN1_OBJECT *oid = NULL;
	ASN1_TYPE *val = NULL;
	const unsigned char *p;
	size_t i;
	int r = EST_E_NOMEM;

	if ((gens = sk_GENERAL_NAME_new_null()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < csr->nsan; i++) {
		const struct csr_san *s = &csr->san[i];

		if (s->type != CSR_SAN_OTHER)
			continue;
		p = s->der;
		if ((oid = OBJ_txt2obj(s->oid, 1)) == NULL ||
		    (val = d2i_ASN1_TYPE(NULL, &p, (long)s->derlen)) == NULL) {
			r = EST_E_BADASN1;
			goto out;
		}
		if ((g = GENERAL_NAME_new()) == NULL ||
		    !GENERAL_NAME_set0_othername(g, oid, val))
			goto out;
		oid = NULL;
		val = NULL;
		if (!sk_GENERAL_NAME_push(gens, g))
			goto out;
		g = NULL;
	}
	if ((r = subject_input_from_cert(NULL, gens, &tmp)) != 0)
		goto out;
	for (i = 0; i < tmp->nentries; i++)
		if ((r = input_add(b, SUBJ_SAN, SUBJ_SAN_OTHERNAME,
				   tmp->entries[i].oid,
				   tmp->entries[i].value)) != 0)
			goto out;
	r = 0;
out:
	subject_input_free(tmp);
	GENERAL_NAME_free(g);
	ASN1_TYPE_free(val);
	ASN1_OBJECT_free(oid);
	GENERAL_NAMES_free(gens);
	return r;
}

int
issue_input_from_csr(const struct csr *csr, struct subj_input **out)
{
	struct input_build b = {0};
	size_t i, nother = 0;
	int r = 0;

	if (csr == NULL || out == NULL)
		return EST_E_INVAL;
	for (i = 0; r == 0 && i < csr->nsubject; i++)
		r = input_add(&b, SUBJ_ATTR, SUBJ_SAN_DNS, csr->subject[i].oid,
			      csr->subject[i].value);
	for (i = 0; r == 0 && i < csr->nsan; i++) {
		const struct csr_san *s = &csr->san[i];

		switch (s->type) {
		case CSR_SAN_DNS:
			r = input_add(&b, SUBJ_SAN, SUBJ_SAN_DNS, NULL,
				      s->value);
			break;
		case CSR_SAN_IP:
			r = input_add(&b, SUBJ_SAN, SUBJ_SAN_IP, NULL,
				      s->value);
			break;
		case CSR_SAN_URI:
			r = input_add(&b, SUBJ_SAN, SUBJ_SAN_URI, NULL,
				      s->value);
			break;
		case CSR_SAN_EMAIL:
			r = input_add(&b, SUBJ_SAN, SUBJ_SAN_EMAIL, NULL,
				      s->value);
			break;
		case CSR_SAN_OTHER:
			nother++;
			break;
		}
	}
	/* Rare (Wi-SUN devices): only then is the extra conversion paid. */
	if (r == 0 && nother > 0)
		r = input_othernames(csr, &b);
	return input_finish(&b, r, out);
}

/* The subject field of t that name designates, or NULL. */
static const struct subj_field *
field_named(const struct tmpl *t, const char *name)
{
	const struct subj_field *f;
	size_t i;

	for (i = 0; i < t->nfields; i++) {
		f = &t->fields[i];
		if (f->kind != SUBJ_ATTR)
			continue;
		if ((f->short_name != NULL &&
		     strcasecmp(f->short_name, name) == 0) ||
		    (f->oid != NULL && strcmp(f->oid, name) == 0))
			return f;
	}
	return NULL;
}

/*
 * Fields of t with the key of entry (kind, type, oid), and how many of
 * the first n entries of b have that key too: a value beyond the fields
 * would be dropped without a word.
 */
static int
input_has_room(const struct tmpl *t, const struct input_build *b,
	       enum subj_kind kind, enum subj_san_type st, const char *oid)
{
	size_t i, fields = 0, used = 0;

	for (i = 0; i < t->nfields; i++) {
		const struct subj_field *f = &t->fields[i];

		if (f->kind != kind || (kind == SUBJ_SAN && f->san_type != st))
			continue;
		if ((kind == SUBJ_ATTR || st == SUBJ_SAN_OTHERNAME) &&
		    (f->oid == NULL || oid == NULL || strcmp(f->oid, oid) != 0))
			continue;
		fields++;
	}
	for (i = 0; i < b->n; i++) {
		const struct subj_input_entry *e = &b->e[i];

		if (e->kind != kind || (kind == SUBJ_SAN && e->san_type != st))
			continue;
		if ((kind == SUBJ_ATTR || st == SUBJ_SAN_OTHERNAME) &&
		    strcmp(e->oid, oid) != 0)
			continue;
		used++;
	}
	return used < fields;
}

static int
user_fail(struct issue_error *err, int code, const char *field,
	  const char *message)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		err->code = code;
		snprintf(err->field, sizeof(err->field), "%s", field);
		snprintf(err->message, sizeof(err->message), "%s", message);
	}
	return code;
}

int
issue_input_from_user(const struct tmpl *t,
		      const struct issue_user_value *subject, size_t nsubject,
		      const struct issue_user_san *san, size_t nsan,
		      struct subj_input **out, struct issue_error *err)
{
	const struct subj_field *f;
	struct input_build b = {0};
	char field[80];
	size_t i;
	int r = 0;

	if (t == NULL || out == NULL || (nsubject > 0 && subject == NULL) ||
	    (nsan > 0 && san == NULL))
		return EST_E_INVAL;
	for (i = 0; r == 0 && i < nsubject; i++) {
		if (subject[i].name == NULL ||
		    (f = field_named(t, subject[i].name)) == NULL) {
			snprintf(field, sizeof(field), "subject.%.64s",
				 subject[i].name != NULL ? subject[i].name
							 : "");
			r = user_fail(err, EST_E_UNPROCESSABLE, field,
				      "the template has no such subject "
				      "field");
			break;
		}
		if (!input_has_room(t, &b, SUBJ_ATTR, SUBJ_SAN_DNS, f->oid)) {
			snprintf(field, sizeof(field), "subject.%.64s",
				 subject[i].name);
			r = user_fail(err, EST_E_UNPROCESSABLE, field,
				      "the field is given twice");
			break;
		}
		r = input_add(&b, SUBJ_ATTR, SUBJ_SAN_DNS, f->oid,
			      subject[i].value);
	}
	for (i = 0; r == 0 && i < nsan; i++) {
		if ((san[i].type == SUBJ_SAN_OTHERNAME) !=
			    (san[i].oid != NULL) ||
		    (unsigned)san[i].type > SUBJ_SAN_OTHERNAME) {
			snprintf(field, sizeof(field), "san[%zu]", i);
			r = user_fail(err, EST_E_UNPROCESSABLE, field,
				      "an otherName, and only an otherName, "
				      "needs an oid");
			break;
		}
		if (!input_has_room(t, &b, SUBJ_SAN, san[i].type, san[i].oid)) {
			snprintf(field, sizeof(field), "san[%zu]", i);
			r = user_fail(err, EST_E_UNPROCESSABLE, field,
				      "the template has no more subject "
				      "alternative names of this type");
			break;
		}
		r = input_add(&b, SUBJ_SAN, san[i].type, san[i].oid,
			      san[i].value);
	}
	return input_finish(&b, r, out);
}
