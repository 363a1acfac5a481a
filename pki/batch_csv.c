/*
 * The CSV upload of a batch job (batch.h): RFC 4180 records into cells,
 * then the header matched against the template and every row turned into
 * the item's values.  Everything here runs inside the creating request,
 * before anything is written, so a refusal names the row and column.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "batch.h"
#include "err.h"
#include "jsonval.h"
#include "subject.h"
#include "tmpl.h"

#define COLS_MAX (BATCH_SUBJECT_MAX + BATCH_SAN_MAX)
#define SAN_PREFIX "san."
#define OTHERNAME_PREFIX "othername."

static int cfail(struct batch_error *err, const char *field, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));

static int
cfail(struct batch_error *err, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		snprintf(err->field, sizeof(err->field), "%s", field);
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return EST_E_UNPROCESSABLE;
}

/* ------------------------------------------------------------------ */
/* Records */

struct cbuf {
	char *p;
	size_t n, cap;
};

static int
cbuf_put(struct cbuf *b, char c)
{
	char *p;

	if (b->n + 1 >= b->cap) {
		size_t cap = b->cap * 2 + 64;

		if ((p = realloc(b->p, cap)) == NULL)
			return EST_E_NOMEM;
		b->p = p;
		b->cap = cap;
	}
	b->p[b->n++] = c;
	b->p[b->n] = '\0';
	return 0;
}

struct parse {
	const char *s;
	size_t len, pos, line;
	char **cells;
	size_t ncells, cap;
	size_t *lines;
	size_t nrecords, reccap;
	struct cbuf field;
};

static int
add_cell(struct parse *ps)
{
	char **c;
	char *v;

	if (ps->ncells == ps->cap) {
		size_t cap = ps->cap * 2 + 256;

		if ((c = reallocarray(ps->cells, cap, sizeof(*c))) == NULL)
			return EST_E_NOMEM;
		ps->cells = c;
		ps->cap = cap;
	}
	if ((v = strdup(ps->field.p != NULL ? ps->field.p : "")) == NULL)
		return EST_E_NOMEM;
	ps->cells[ps->ncells++] = v;
	ps->field.n = 0;
	if (ps->field.p != NULL)
		ps->field.p[0] = '\0';
	return 0;
}

/* One field at ps->pos: quoted or not. */
static int
read_field(struct parse *ps, struct batch_error *err)
{
	const char *s = ps->s;
	int r;

	if (ps->pos < ps->len && s[ps->pos] == '"') {
		for (ps->pos++;; ps->pos++) {
			if (ps->pos == ps->len)
				return cfail(err, "csv",
					     "a quoted field opened on line "
					     "%zu is not closed",
					     ps->line);
			if (s[ps->pos] == '"') {
				if (ps->pos + 1 < ps->len &&
				    s[ps->pos + 1] == '"') {
					ps->pos++;
				} else {
					ps->pos++;
					break;
				}
			} else if (s[ps->pos] == '\n') {
				ps->line++;
			}
			if ((r = cbuf_put(&ps->field, s[ps->pos])) != 0)
				return r;
		}
		if (ps->pos < ps->len && s[ps->pos] != ',' &&
		    s[ps->pos] != '\r' && s[ps->pos] != '\n')
			return cfail(err, "csv",
				     "line %zu: text after a closing quote",
				     ps->line);
		return 0;
	}
	for (; ps->pos < ps->len; ps->pos++) {
		char c = s[ps->pos];

		if (c == ',' || c == '\n' ||
		    (c == '\r' && ps->pos + 1 < ps->len &&
		     s[ps->pos + 1] == '\n'))
			break;
		if (c == '"' || c == '\r')
			return cfail(err, "csv",
				     "line %zu: a quote or carriage return "
				     "in an unquoted field",
				     ps->line);
		if ((r = cbuf_put(&ps->field, c)) != 0)
			return r;
	}
	return 0;
}

/*
 * One record; *empty is set for a line with nothing on it (skipped).
 * Leaves pos after the record's line break.
 */
static int
read_record(struct parse *ps, size_t *nfields, int *empty,
	    struct batch_error *err)
{
	const char *s = ps->s;
	size_t first = ps->ncells, start = ps->pos;
	int r;

	*nfields = 0;
	*empty = 0;
	for (;;) {
		if ((r = read_field(ps, err)) != 0 || (r = add_cell(ps)) != 0)
			return r;
		(*nfields)++;
		if (*nfields > COLS_MAX)
			return cfail(err, "csv",
				     "line %zu: more than %zu columns",
				     ps->line, (size_t)COLS_MAX);
		if (ps->pos < ps->len && s[ps->pos] == ',') {
			ps->pos++;
			continue;
		}
		break;
	}
	*empty = *nfields == 1 && ps->pos == start;
	if (ps->pos < ps->len && s[ps->pos] == '\r')
		ps->pos++;
	if (ps->pos < ps->len && s[ps->pos] == '\n')
		ps->pos++;
	ps->line++;
	if (*empty) {
		free(ps->cells[first]);
		ps->ncells = first;
	}
	return 0;
}

void
batch_csv_free(struct batch_csv *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < (c->nrows + 1) * c->ncols; i++)
		free(c->cells[i]);
	free(c->cells);
	free(c->line);
	free(c);
}

int
batch_csv_parse(const char *text, size_t len, struct batch_csv **out,
		struct batch_error *err)
{
	struct parse ps;
	struct batch_csv *c = NULL;
	size_t nf, ncols = 0, i, *l;
	int empty, r = 0;

	memset(&ps, 0, sizeof(ps));
	ps.s = text;
	ps.len = len;
	ps.line = 1;
	if (text == NULL || len > BATCH_CSV_MAX)
		return cfail(err, "csv", "larger than %d bytes", BATCH_CSV_MAX);
	while (ps.pos < ps.len) {
		size_t line = ps.line;

		if ((r = read_record(&ps, &nf, &empty, err)) != 0)
			goto out;
		if (empty)
			continue;
		if (ps.nrecords == 0)
			ncols = nf;
		else if (nf != ncols) {
			r = cfail(err, "csv",
				  "line %zu has %zu columns, not as many as "
				  "the header",
				  line, nf);
			goto out;
		}
		if (ps.nrecords > BATCH_COUNT_MAX) {
			r = cfail(err, "csv", "more than %d rows",
				  BATCH_COUNT_MAX);
			goto out;
		}
		if (ps.nrecords == ps.reccap) {
			size_t cap = ps.reccap * 2 + 256;

			if ((l = reallocarray(ps.lines, cap, sizeof(*l))) ==
			    NULL) {
				r = EST_E_NOMEM;
				goto out;
			}
			ps.lines = l;
			ps.reccap = cap;
		}
		ps.lines[ps.nrecords++] = line;
	}
	if (ps.nrecords < 2) {
		r = cfail(err, "csv",
			  "a header row and at least one row are needed");
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	c->cells = ps.cells;
	c->ncols = ncols;
	c->nrows = ps.nrecords - 1;
	/* The data rows' lines, header dropped. */
	memmove(ps.lines, ps.lines + 1, c->nrows * sizeof(*ps.lines));
	c->line = ps.lines;
	ps.cells = NULL;
	ps.ncells = 0;
	ps.lines = NULL;
	*out = c;
out:
	for (i = 0; i < ps.ncells; i++)
		free(ps.cells[i]);
	free(ps.cells);
	free(ps.lines);
	free(ps.field.p);
	return r;
}

/* ------------------------------------------------------------------ */
/* Columns and rows */

struct column {
	int san; /* 0: a subject field */
	enum subj_san_type type;
	const char *oid; /* otherName type-id, inside the header cell */
};

static int
template_has_san(const struct tmpl *t, enum subj_san_type type, const char *oid)
{
	size_t i;

	for (i = 0; i < t->nfields; i++) {
		const struct subj_field *f = &t->fields[i];

		if (f->kind == SUBJ_SAN && f->san_type == type &&
		    (type != SUBJ_SAN_OTHERNAME ||
		     (f->oid != NULL && strcmp(f->oid, oid) == 0)))
			return 1;
	}
	return 0;
}

static int
template_has_attr(const struct tmpl *t, const char *name)
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

static int
column_parse(const struct tmpl *t, const char *name, struct column *col)
{
	const char *rest;
	int v;

	memset(col, 0, sizeof(*col));
	if (strncmp(name, SAN_PREFIX, strlen(SAN_PREFIX)) != 0)
		return template_has_attr(t, name) ? 0 : EST_E_UNPROCESSABLE;
	rest = name + strlen(SAN_PREFIX);
	col->san = 1;
	if (strncmp(rest, OTHERNAME_PREFIX, strlen(OTHERNAME_PREFIX)) == 0) {
		col->type = SUBJ_SAN_OTHERNAME;
		col->oid = rest + strlen(OTHERNAME_PREFIX);
		if (jsonval_check_oid(col->oid) != 0)
			return EST_E_UNPROCESSABLE;
	} else if (tmpl_value(TMPL_N_SANTYPE, rest, &v) == 0 &&
		   v != SUBJ_SAN_OTHERNAME) {
		col->type = (enum subj_san_type)v;
	} else {
		return EST_E_UNPROCESSABLE;
	}
	return template_has_san(t, col->type, col->oid) ? 0
							: EST_E_UNPROCESSABLE;
}

void
batch_rows_free(struct batch_values **rows, size_t n)
{
	size_t i;

	if (rows == NULL)
		return;
	for (i = 0; i < n; i++)
		batch_values_free(rows[i]);
	free(rows);
}

/* Appends a copy of one cell to v (a subject value or a SAN entry). */
static int
row_add(struct batch_values *v, const struct column *col, const char *name,
	const char *value)
{
	if (!col->san) {
		struct issue_user_value *a;

		if ((a = reallocarray(v->subject, v->nsubject + 1,
				      sizeof(*a))) == NULL)
			return EST_E_NOMEM;
		v->subject = a;
		a[v->nsubject].name = strdup(name);
		a[v->nsubject].value = strdup(value);
		v->nsubject++;
		return a[v->nsubject - 1].name != NULL &&
				       a[v->nsubject - 1].value != NULL
			       ? 0
			       : EST_E_NOMEM;
	} else {
		struct issue_user_san *a;

		if ((a = reallocarray(v->san, v->nsan + 1, sizeof(*a))) == NULL)
			return EST_E_NOMEM;
		v->san = a;
		a[v->nsan].type = col->type;
		a[v->nsan].oid = col->oid != NULL ? strdup(col->oid) : NULL;
		a[v->nsan].value = strdup(value);
		v->nsan++;
		return a[v->nsan - 1].value != NULL &&
				       (col->oid == NULL ||
					a[v->nsan - 1].oid != NULL)
			       ? 0
			       : EST_E_NOMEM;
	}
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

int
batch_csv_values(const struct tmpl *t, const struct batch_csv *c,
		 struct batch_values ***rows, struct batch_error *err)
{
	struct batch_values **out = NULL;
	struct column *cols = NULL;
	char field[128];
	size_t i, k;
	int r = 0;

	if ((cols = calloc(c->ncols, sizeof(*cols))) == NULL ||
	    (out = calloc(c->nrows, sizeof(*out))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (k = 0; k < c->ncols; k++) {
		snprintf(field, sizeof(field), "csv.header[%zu]", k);
		if (column_parse(t, c->cells[k], &cols[k]) != 0) {
			r = cfail(err, field,
				  "column %zu names no field of the "
				  "template",
				  k + 1);
			goto out;
		}
	}
	for (i = 0; i < c->nrows; i++) {
		if ((out[i] = calloc(1, sizeof(*out[i]))) == NULL) {
			r = EST_E_NOMEM;
			goto out;
		}
		for (k = 0; k < c->ncols; k++) {
			const char *v = c->cells[(i + 1) * c->ncols + k];

			if (v[0] == '\0')
				continue;
			if (utf8_chars(v) > BATCH_VALUE_MAX) {
				snprintf(field, sizeof(field),
					 "csv.rows[%zu].%.64s", i, c->cells[k]);
				r = cfail(err, field,
					  "row %zu (line %zu): longer than "
					  "1024 characters",
					  i + 1, c->line[i]);
				goto out;
			}
			if ((r = row_add(out[i], &cols[k], c->cells[k], v)) !=
			    0)
				goto out;
		}
	}
	*rows = out;
	out = NULL;
out:
	if (out != NULL)
		batch_rows_free(out, c->nrows);
	free(cols);
	return r;
}
