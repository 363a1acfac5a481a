/*
 * The values of batch items (batch.h): the request's common values, their
 * stored form, placeholders, and the per-item input and check that both
 * estuary-api (before it writes the job) and estuary-worker (when it
 * issues) use, so that an item that passed the check at creation is the
 * item that is issued.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "batch.h"
#include "err.h"
#include "issue.h"
#include "jsonval.h"
#include "subject.h"
#include "tmpl.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define WIDTH_MAX 9

static int
bfail(struct batch_error *err, int code, const char *field, const char *msg)
{
	if (err != NULL) {
		snprintf(err->field, sizeof(err->field), "%s", field);
		snprintf(err->message, sizeof(err->message), "%s", msg);
	}
	return code;
}

/* ------------------------------------------------------------------ */
/* Values */

static int
add_subject(struct batch_values *v, const char *name, const char *value)
{
	struct issue_user_value *a;
	char *n, *s;

	if ((a = reallocarray(v->subject, v->nsubject + 1, sizeof(*a))) == NULL)
		return EST_E_NOMEM;
	v->subject = a;
	if ((n = strdup(name)) == NULL)
		return EST_E_NOMEM;
	if ((s = strdup(value)) == NULL) {
		free(n);
		return EST_E_NOMEM;
	}
	a[v->nsubject].name = n;
	a[v->nsubject].value = s;
	v->nsubject++;
	return 0;
}

static int
add_san(struct batch_values *v, enum subj_san_type type, const char *oid,
	const char *value)
{
	struct issue_user_san *a;
	char *o = NULL, *s;

	if ((a = reallocarray(v->san, v->nsan + 1, sizeof(*a))) == NULL)
		return EST_E_NOMEM;
	v->san = a;
	if (oid != NULL && (o = strdup(oid)) == NULL)
		return EST_E_NOMEM;
	if ((s = strdup(value)) == NULL) {
		free(o);
		return EST_E_NOMEM;
	}
	a[v->nsan].type = type;
	a[v->nsan].oid = o;
	a[v->nsan].value = s;
	v->nsan++;
	return 0;
}

void
batch_values_free(struct batch_values *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nsubject; i++) {
		free((char *)(uintptr_t)v->subject[i].name);
		free((char *)(uintptr_t)v->subject[i].value);
	}
	for (i = 0; i < v->nsan; i++) {
		free((char *)(uintptr_t)v->san[i].oid);
		free((char *)(uintptr_t)v->san[i].value);
	}
	free(v->subject);
	free(v->san);
	free(v);
}

/* Characters (code points) of a valid UTF-8 string. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* A template subject field called name ("CN" in any case, or its OID). */
static int
subject_field_exists(const struct tmpl *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nfields; i++) {
		const struct subj_field *f = &t->fields[i];

		if (f->kind == SUBJ_ATTR &&
		    ((f->short_name != NULL &&
		      strcasecmp(f->short_name, name) == 0) ||
		     (f->oid != NULL && strcmp(f->oid, name) == 0)))
			return 1;
	}
	return 0;
}

/* One common or CSV value: its length and its placeholders. */
static int
value_check(const char *v, int placeholders, const char *field,
	    struct batch_error *err)
{
	if (utf8_chars(v) > BATCH_VALUE_MAX)
		return bfail(err, EST_E_UNPROCESSABLE, field,
			     "longer than 1024 characters");
	if (placeholders && batch_placeholder_check(v) != 0)
		return bfail(
			err, EST_E_UNPROCESSABLE, field,
			"a brace that is not {index}, {index:W}, {{ or }}");
	return 0;
}

int
batch_values_from_request(const struct tmpl *t, struct json_object *subject,
			  struct json_object *body, struct batch_values **out,
			  struct batch_error *err)
{
	struct json_object_iterator it, end;
	struct batch_values *v;
	char field[128];
	size_t i, n;
	int r = 0, st;

	if (t == NULL || out == NULL)
		return EST_E_INVAL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return EST_E_NOMEM;
	if (subject != NULL) {
		if (json_object_object_length(subject) > BATCH_SUBJECT_MAX) {
			r = bfail(err, EST_E_UNPROCESSABLE, "subject",
				  "too many values");
			goto out;
		}
		it = json_object_iter_begin(subject);
		end = json_object_iter_end(subject);
		for (; !json_object_iter_equal(&it, &end);
		     json_object_iter_next(&it)) {
			const char *name = json_object_iter_peek_name(&it);
			struct json_object *o =
				json_object_iter_peek_value(&it);

			snprintf(field, sizeof(field), "subject.%.64s", name);
			if (o == NULL)
				continue;
			if (!json_object_is_type(o, json_type_string)) {
				r = bfail(err, EST_E_UNPROCESSABLE, field,
					  "must be a string or null");
				goto out;
			}
			if (!subject_field_exists(t, name)) {
				r = bfail(err, EST_E_UNPROCESSABLE, field,
					  "the template has no such subject "
					  "field");
				goto out;
			}
			if ((r = value_check(json_object_get_string(o), 1,
					     field, err)) != 0 ||
			    (r = add_subject(v, name,
					     json_object_get_string(o))) != 0)
				goto out;
		}
	}
	n = body != NULL ? jsonval_get_count(body, "san") : 0;
	for (i = 0; i < n; i++) {
		struct json_object *o = jsonval_get_object_at(body, "san", i);
		const char *val = jsonval_get_string(o, "value");

		snprintf(field, sizeof(field), "san[%zu]", i);
		if (val == NULL ||
		    tmpl_value(TMPL_N_SANTYPE, jsonval_get_string(o, "type"),
			       &st) != 0) {
			r = EST_E_INTERNAL;
			goto out;
		}
		if ((r = value_check(val, 1, field, err)) != 0 ||
		    (r = add_san(v, (enum subj_san_type)st,
				 jsonval_get_string(o, "oid"), val)) != 0)
			goto out;
	}
out:
	if (r != 0) {
		batch_values_free(v);
		return r;
	}
	*out = v;
	return 0;
}

/* ----- the stored form ----- */

static int
put_str(struct json_object *o, const char *k, const char *v)
{
	struct json_object *s;

	if (v == NULL)
		return 0;
	if ((s = json_object_new_string(v)) == NULL)
		return EST_E_NOMEM;
	if (json_object_object_add(o, k, s) != 0) {
		json_object_put(s);
		return EST_E_NOMEM;
	}
	return 0;
}

static int
push(struct json_object *a, struct json_object *o)
{
	if (o == NULL)
		return EST_E_NOMEM;
	if (json_object_array_add(a, o) != 0) {
		json_object_put(o);
		return EST_E_NOMEM;
	}
	return 0;
}

int
batch_values_json(const struct batch_values *v, char **out)
{
	struct json_object *root, *subj = NULL, *san = NULL, *o;
	const char *text;
	size_t i;
	int r = EST_E_NOMEM;

	if ((root = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((subj = json_object_new_array()) == NULL ||
	    json_object_object_add(root, "subject", subj) != 0)
		goto out;
	if ((san = json_object_new_array()) == NULL ||
	    json_object_object_add(root, "san", san) != 0) {
		json_object_put(san);
		goto out;
	}
	for (i = 0; i < v->nsubject; i++) {
		if ((r = push(subj, o = json_object_new_object())) != 0 ||
		    (r = put_str(o, "name", v->subject[i].name)) != 0 ||
		    (r = put_str(o, "value", v->subject[i].value)) != 0)
			goto out;
	}
	for (i = 0; i < v->nsan; i++) {
		if ((r = push(san, o = json_object_new_object())) != 0 ||
		    (r = put_str(o, "type",
				 tmpl_name(TMPL_N_SANTYPE,
					   (int)v->san[i].type))) != 0 ||
		    (r = put_str(o, "oid", v->san[i].oid)) != 0 ||
		    (r = put_str(o, "value", v->san[i].value)) != 0)
			goto out;
	}
	r = EST_E_NOMEM;
	if ((text = json_object_to_json_string_ext(
		     root, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL ||
	    (*out = strdup(text)) == NULL)
		goto out;
	r = 0;
out:
	json_object_put(root);
	return r;
}

static const char *
member_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
batch_values_parse(const char *text, struct batch_values **out)
{
	struct json_object *root = NULL, *subj, *san, *o;
	struct batch_values *v;
	const char *name, *val;
	size_t i;
	int r = EST_E_INTERNAL, st;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return EST_E_NOMEM;
	if (text == NULL || (root = json_tokener_parse(text)) == NULL ||
	    !json_object_object_get_ex(root, "subject", &subj) ||
	    !json_object_is_type(subj, json_type_array) ||
	    !json_object_object_get_ex(root, "san", &san) ||
	    !json_object_is_type(san, json_type_array))
		goto out;
	for (i = 0; i < json_object_array_length(subj); i++) {
		o = json_object_array_get_idx(subj, i);
		if ((name = member_str(o, "name")) == NULL ||
		    (val = member_str(o, "value")) == NULL) {
			r = EST_E_INTERNAL;
			goto out;
		}
		if ((r = add_subject(v, name, val)) != 0)
			goto out;
	}
	for (i = 0; i < json_object_array_length(san); i++) {
		o = json_object_array_get_idx(san, i);
		if ((val = member_str(o, "value")) == NULL ||
		    tmpl_value(TMPL_N_SANTYPE, member_str(o, "type"), &st) !=
			    0) {
			r = EST_E_INTERNAL;
			goto out;
		}
		if ((r = add_san(v, (enum subj_san_type)st,
				 member_str(o, "oid"), val)) != 0)
			goto out;
	}
	r = 0;
out:
	json_object_put(root);
	if (r != 0) {
		batch_values_free(v);
		return r;
	}
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Placeholders */

/*
 * The placeholder whose text (between the braces) is p[0..len): its
 * width (0 for none), or -1 when it is not one.
 */
static int
placeholder_width(const char *p, size_t len)
{
	size_t k;
	int w = 0;

	if (len >= 5 && strncmp(p, "index", 5) == 0)
		k = 5;
	else if (len >= 1 && p[0] == 'n')
		k = 1;
	else
		return -1;
	if (k == len)
		return 0;
	if (p[k] != ':' || len - k < 2 || len - k > 3)
		return -1;
	for (k++; k < len; k++) {
		if (p[k] < '0' || p[k] > '9')
			return -1;
		w = w * 10 + (p[k] - '0');
	}
	return w >= 1 && w <= WIDTH_MAX ? w : -1;
}

/*
 * Walks s: with out set, writes the expansion for idx (out has room:
 * see batch_expand()); returns 0 or EST_E_UNPROCESSABLE.
 */
static int
expand(const char *s, uint32_t idx, char *out)
{
	const char *close;
	size_t o = 0;
	int w;

	while (*s != '\0') {
		if ((s[0] == '{' && s[1] == '{') ||
		    (s[0] == '}' && s[1] == '}')) {
			if (out != NULL)
				out[o++] = s[0];
			s += 2;
			continue;
		}
		if (s[0] == '}')
			return EST_E_UNPROCESSABLE;
		if (s[0] != '{') {
			if (out != NULL)
				out[o++] = s[0];
			s++;
			continue;
		}
		if ((close = strchr(s, '}')) == NULL ||
		    (w = placeholder_width(s + 1, (size_t)(close - s - 1))) < 0)
			return EST_E_UNPROCESSABLE;
		if (out != NULL)
			o += (size_t)sprintf(out + o, "%0*u", w, (unsigned)idx);
		s = close + 1;
	}
	if (out != NULL)
		out[o] = '\0';
	return 0;
}

int
batch_placeholder_check(const char *s)
{
	return expand(s, 1, NULL);
}

int
batch_expand(const char *s, uint32_t idx, char **out)
{
	char *b;
	int r;

	/*
	 * A placeholder of k >= 3 characters becomes at most max(10, 9)
	 * digits, so 4 bytes of output per input byte always suffice.
	 */
	if ((b = malloc(strlen(s) * 4 + 16)) == NULL)
		return EST_E_NOMEM;
	if ((r = expand(s, idx, b)) != 0) {
		free(b);
		return r;
	}
	*out = b;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Items */

int
batch_item_input(const struct tmpl *t, const struct batch_values *common,
		 const struct batch_values *row, uint32_t idx,
		 struct subj_input **out, struct issue_error *err)
{
	struct issue_user_value *uv = NULL;
	struct issue_user_san *us = NULL;
	char **owned = NULL;
	size_t nuv, nus, nown = 0, i, k;
	int r = EST_E_NOMEM;

	nuv = common->nsubject + (row != NULL ? row->nsubject : 0);
	nus = common->nsan + (row != NULL ? row->nsan : 0);
	if ((uv = calloc(nuv + 1, sizeof(*uv))) == NULL ||
	    (us = calloc(nus + 1, sizeof(*us))) == NULL ||
	    (owned = calloc(common->nsubject + common->nsan + 1,
			    sizeof(*owned))) == NULL)
		goto out;
	/* Common values first, with their placeholders expanded. */
	for (i = 0; i < common->nsubject; i++) {
		if ((r = batch_expand(common->subject[i].value, idx,
				      &owned[nown])) != 0)
			goto out;
		uv[i].name = common->subject[i].name;
		uv[i].value = owned[nown++];
	}
	for (i = 0; i < common->nsan; i++) {
		if ((r = batch_expand(common->san[i].value, idx,
				      &owned[nown])) != 0)
			goto out;
		us[i] = common->san[i];
		us[i].value = owned[nown++];
	}
	for (k = 0; row != NULL && k < row->nsubject; k++)
		uv[common->nsubject + k] = row->subject[k];
	for (k = 0; row != NULL && k < row->nsan; k++)
		us[common->nsan + k] = row->san[k];
	r = issue_input_from_user(t, uv, nuv, us, nus, out, err);
out:
	for (i = 0; owned != NULL && i < nown; i++)
		free(owned[i]);
	free(owned);
	free(uv);
	free(us);
	return r;
}

/* Names the template field of a subject_resolve() refusal as issue.c does. */
static int
resolve_fail(const struct tmpl *t, const struct subj_error *se,
	     struct issue_error *err)
{
	size_t i, k = 0;

	memset(err, 0, sizeof(*err));
	err->code = EST_E_UNPROCESSABLE;
	if (se->field < 0 || (size_t)se->field >= t->nfields) {
		snprintf(err->field, sizeof(err->field), "subject");
	} else if (t->fields[se->field].kind == SUBJ_ATTR) {
		snprintf(err->field, sizeof(err->field), "subject.%.64s",
			 se->name);
	} else {
		for (i = 0; i < (size_t)se->field; i++)
			if (t->fields[i].kind == SUBJ_SAN)
				k++;
		snprintf(err->field, sizeof(err->field), "san[%zu]", k);
	}
	snprintf(err->message, sizeof(err->message), "%.40s: %.80s", se->name,
		 se->reason);
	return EST_E_UNPROCESSABLE;
}

int
batch_item_check(const struct tmpl *t, const struct batch_values *common,
		 const struct batch_values *row, uint32_t idx,
		 struct issue_error *err)
{
	struct subj_template st;
	struct subj_input *in = NULL;
	struct subj_result *res = NULL;
	struct subj_error se;
	int r;

	if ((r = batch_item_input(t, common, row, idx, &in, err)) != 0)
		return r;
	tmpl_subject(t, &st);
	memset(&se, 0, sizeof(se));
	r = subject_resolve(&st, NULL, NULL, in, SUBJ_SRC_USER, &res, &se);
	if (r == EST_E_UNPROCESSABLE)
		r = resolve_fail(t, &se, err);
	subject_result_free(res);
	subject_input_free(in);
	return r;
}
