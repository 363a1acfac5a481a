/*
 * The strict YAML-subset reader of docs/openapi.yaml (openapi_yaml.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openapi_yaml.h"
#include "req.h"

#define DOC_MAX (4u * 1024 * 1024)

enum ykind { Y_NULL, Y_SCALAR, Y_FLOW, Y_ALIAS, Y_BLOCK, Y_MAP, Y_SEQ };

struct ynode {
	enum ykind kind;
	size_t line; /* 1-based */
	const char *key;
	const char *text;	    /* scalar, flow text or alias name */
	const struct ynode *target; /* of an alias */
	struct ynode *child, *last, *next;
	struct ynode *all; /* every node, for freeing */
};

struct yanchor {
	const char *name;
	const struct ynode *node;
	struct yanchor *next;
};

static const struct {
	const char *name;
	unsigned bit;
} methods[] = {
	{"get", REQ_M_GET},	{"post", REQ_M_POST},	  {"put", REQ_M_PUT},
	{"patch", REQ_M_PATCH}, {"delete", REQ_M_DELETE},
};

/*
 * The fixed fields of an OpenAPI 3.0 path item and operation object;
 * extensions ("x-...") are allowed besides.
 */
static const char *const item_keys[] = {"summary", "description", "servers",
					"parameters", NULL};
static const char *const op_keys[] = {
	"tags",	       "summary",    "description", "externalDocs",
	"operationId", "parameters", "requestBody", "responses",
	"callbacks",   "deprecated", "security",    "servers",
	NULL};

static void __attribute__((format(printf, 3, 4)))
yerr(struct yparser *p, size_t line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed++)
		return;
	n = snprintf(p->err, sizeof(p->err), "openapi.yaml:%zu: ", line);
	va_start(ap, fmt);
	vsnprintf(p->err + n, sizeof(p->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

static struct ynode *
ynew(struct yparser *p, enum ykind kind, size_t i)
{
	struct ynode *y;

	if ((y = calloc(1, sizeof(*y))) == NULL) {
		yerr(p, i + 1, "out of memory");
		return NULL;
	}
	y->kind = kind;
	y->line = i + 1;
	y->all = p->nodes;
	p->nodes = y;
	return y;
}

static void
yappend(struct ynode *parent, struct ynode *y)
{
	if (parent->last != NULL)
		parent->last->next = y;
	else
		parent->child = y;
	parent->last = y;
}

/* A line with nothing but spaces, or a comment. */
static int
ycontentless(const char *s)
{
	s += strspn(s, " \t");
	return *s == '\0' || *s == '#';
}

/* Indentation in spaces; a tab in it is refused (YAML forbids it). */
static size_t
yindent(struct yparser *p, size_t i)
{
	size_t n = strspn(p->lines[i], " ");

	if (p->lines[i][n] == '\t')
		yerr(p, i + 1, "tab in indentation");
	return n;
}

static size_t
ynext(struct yparser *p)
{
	while (p->pos < p->end && ycontentless(p->lines[p->pos]))
		p->pos++;
	return p->pos;
}

static int
yseqitem(const char *s)
{
	return s[0] == '-' && (s[1] == ' ' || s[1] == '\0');
}

/* Only spaces, or spaces and a comment, may follow a value on its line. */
static int
yrest_empty(const char *s)
{
	size_t n = strspn(s, " ");

	return s[n] == '\0' || (n > 0 && s[n] == '#');
}

/*
 * Ends the quoted scalar at s (s[0] is the quote), unescaping '' in place.
 * A double-quoted escape is kept as written (nothing here needs its value).
 * Returns the character after the closing quote, or NULL when it does not
 * close on this line.
 */
static char *
yquoted(char *s)
{
	char q = s[0], *r = s + 1, *w = s;

	for (; *r != '\0'; r++) {
		if (q == '"' && *r == '\\' && r[1] != '\0') {
			*w++ = *r++;
			*w++ = *r;
			continue;
		}
		if (*r == q) {
			if (q == '\'' && r[1] == '\'') {
				*w++ = *r++;
				continue;
			}
			*w = '\0';
			return r + 1;
		}
		*w++ = *r;
	}
	return NULL;
}

/*
 * Splits "key: rest" or "key:" at s; 1 with *key and *rest, 0 when s is not
 * a mapping key.  s is changed in place, also when it is no key.
 */
static int
ysplit_key(char *s, const char **key, char **rest)
{
	char *c, *e;

	if (s[0] == '\'' || s[0] == '"') {
		if ((c = yquoted(s)) == NULL || c[0] != ':' ||
		    (c[1] != ' ' && c[1] != '\0'))
			return 0;
		*key = s;
		*rest = c + 1 + strspn(c + 1, " ");
		return 1;
	}
	if (strchr("-?:,[]{}#&*!|>%@`", s[0]) != NULL)
		return 0;
	for (c = s; *c != '\0'; c++) {
		if (c[0] == ' ' && c[1] == '#')
			return 0;
		if (c[0] == ':' && (c[1] == ' ' || c[1] == '\0'))
			break;
	}
	if (*c == '\0')
		return 0;
	for (e = c; e > s && e[-1] == ' '; e--)
		;
	*rest = c + 1 + strspn(c + 1, " ");
	*e = '\0';
	*key = s;
	return 1;
}

/*
 * The end of the flow collection at s, which must close on its line.  A
 * quote starts a quoted scalar only where a scalar starts.
 */
static char *
yflow_end(char *s)
{
	int depth = 0, start = 1;
	char *c, q;

	for (c = s; *c != '\0'; c++) {
		if (*c == ' ')
			continue;
		if (start && (*c == '\'' || *c == '"')) {
			for (q = *c++;; c++) {
				if (*c == '\0')
					return NULL;
				if (q == '"' && *c == '\\' && c[1] != '\0')
					c++;
				else if (q == '\'' && *c == q && c[1] == q)
					c++;
				else if (*c == q)
					break;
			}
			start = 0;
		} else if (*c == '{' || *c == '[') {
			depth++;
			start = 1;
		} else if (*c == '}' || *c == ']') {
			if (--depth == 0)
				return c + 1;
			start = 0;
		} else {
			start = *c == ',' || (*c == ':' && c[1] == ' ');
		}
	}
	return NULL;
}

/* 1 when s starts with a mapping key; s is left as it is. */
static int
yis_key(const char *s)
{
	const char *key;
	char *copy, *rest;
	int r;

	if ((copy = strdup(s)) == NULL)
		return 0;
	r = ysplit_key(copy, &key, &rest);
	free(copy);
	return r;
}

static const struct ynode *yresolve(const struct ynode *y);
static struct ynode *yblock(struct yparser *p, size_t pind);
static struct ynode *yseq(struct yparser *p, size_t ind);
static struct ynode *ymap(struct yparser *p, size_t ind, size_t first,
			  char *ftext);

/*
 * The value after "key:" or "- " on line i, whose key or dash is at column
 * pind; compact allows a sequence at the key's own indentation.
 */
static struct ynode *
yvalue(struct yparser *p, size_t i, size_t pind, char *rest, int compact)
{
	struct ynode *y = NULL;
	struct yanchor *a;
	const char *anchor = NULL;
	char *e;
	size_t j;

	p->pos = i + 1;
	if (rest[0] == '&') {
		anchor = ++rest;
		rest += strspn(rest,
			       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
			       "qrstuvwxyz0123456789_-");
		if (rest == anchor || (*rest != ' ' && *rest != '\0')) {
			yerr(p, i + 1, "bad anchor");
			return NULL;
		}
		if (*rest != '\0')
			*rest++ = '\0';
		rest += strspn(rest, " ");
	}
	if (rest[0] == '\0' || rest[0] == '#') {
		j = ynext(p);
		if (j < p->end && yindent(p, j) > pind)
			y = yblock(p, pind);
		else if (compact && j < p->end && yindent(p, j) == pind &&
			 yseqitem(p->lines[j] + pind))
			y = yseq(p, pind);
		else
			y = ynew(p, Y_NULL, i);
		/* A collection is where its key is. */
		if (y != NULL)
			y->line = i + 1;
	} else if (rest[0] == '*') {
		rest++;
		e = rest + strcspn(rest, " ");
		if (!yrest_empty(e) || e == rest || anchor != NULL) {
			yerr(p, i + 1, "alias not understood");
			return NULL;
		}
		*e = '\0';
		for (a = p->anchors; a != NULL; a = a->next)
			if (strcmp(a->name, rest) == 0)
				break;
		if (a == NULL) {
			yerr(p, i + 1, "alias *%s of no anchor before it",
			     rest);
			return NULL;
		}
		if ((y = ynew(p, Y_ALIAS, i)) != NULL) {
			y->text = rest;
			y->target = yresolve(a->node);
		}
	} else if (rest[0] == '|' || rest[0] == '>') {
		e = rest + 1 + strspn(rest + 1, "+-");
		e += isdigit((unsigned char)*e) ? 1 : 0;
		if (e - rest > 3 || !yrest_empty(e)) {
			yerr(p, i + 1, "block scalar header not understood");
			return NULL;
		}
		/* Its lines are blank or indented deeper than its key. */
		while (p->pos < p->end && (strspn(p->lines[p->pos], " ") ==
						   strlen(p->lines[p->pos]) ||
					   yindent(p, p->pos) > pind))
			p->pos++;
		y = ynew(p, Y_BLOCK, i);
	} else if (rest[0] == '{' || rest[0] == '[') {
		if ((e = yflow_end(rest)) == NULL || !yrest_empty(e)) {
			yerr(p, i + 1,
			     "flow collection not closed on its line");
			return NULL;
		}
		*e = '\0';
		if ((y = ynew(p, Y_FLOW, i)) != NULL)
			y->text = rest;
	} else if (rest[0] == '\'' || rest[0] == '"') {
		if ((e = yquoted(rest)) == NULL || !yrest_empty(e)) {
			yerr(p, i + 1, "quoted scalar not understood");
			return NULL;
		}
		if ((y = ynew(p, Y_SCALAR, i)) != NULL)
			y->text = rest;
	} else if (strchr("!%@`,?:]}", rest[0]) != NULL || yseqitem(rest)) {
		yerr(p, i + 1, "value not understood");
		return NULL;
	} else {
		if ((e = strstr(rest, " #")) != NULL)
			*e = '\0';
		for (e = rest + strlen(rest); e > rest && e[-1] == ' '; e--)
			;
		*e = '\0';
		if (strstr(rest, ": ") != NULL || e[-1] == ':') {
			yerr(p, i + 1, "plain scalar with \": \"");
			return NULL;
		}
		if ((y = ynew(p, Y_SCALAR, i)) != NULL)
			y->text = rest;
	}
	if (y != NULL && anchor != NULL) {
		if ((a = calloc(1, sizeof(*a))) == NULL) {
			yerr(p, i + 1, "out of memory");
			return NULL;
		}
		a->name = anchor;
		a->node = y;
		a->next = p->anchors;
		p->anchors = a;
	}
	return y;
}

/* The mapping at column ind; its first key may be ftext, on line first. */
static struct ynode *
ymap(struct yparser *p, size_t ind, size_t first, char *ftext)
{
	struct ynode *m, *v, *o;
	const char *key;
	char *text, *rest;
	size_t i;

	if ((m = ynew(p, Y_MAP, ftext != NULL ? first : ynext(p))) == NULL)
		return NULL;
	while (!p->failed) {
		if (ftext != NULL) {
			i = first;
			text = ftext;
			ftext = NULL;
		} else {
			if ((i = ynext(p)) >= p->end || yindent(p, i) < ind)
				break;
			if (yindent(p, i) > ind) {
				yerr(p, i + 1, "unexpected indentation");
				break;
			}
			text = p->lines[i] + ind;
		}
		if (!ysplit_key(text, &key, &rest)) {
			yerr(p, i + 1, "expected \"key:\" in a mapping");
			break;
		}
		if (strcmp(key, "<<") == 0) {
			yerr(p, i + 1, "merge keys are not understood");
			break;
		}
		for (o = m->child; o != NULL; o = o->next)
			if (strcmp(o->key, key) == 0)
				yerr(p, i + 1, "duplicate key \"%s\"", key);
		if ((v = yvalue(p, i, ind, rest, 1)) == NULL)
			break;
		v->key = key;
		yappend(m, v);
	}
	return p->failed ? NULL : m;
}

/* The block sequence at column ind. */
static struct ynode *
yseq(struct yparser *p, size_t ind)
{
	struct ynode *s, *v;
	char *text;
	size_t i;

	if ((s = ynew(p, Y_SEQ, ynext(p))) == NULL)
		return NULL;
	while (!p->failed) {
		if ((i = ynext(p)) >= p->end || yindent(p, i) != ind)
			break; /* the parent refuses a deeper line */
		text = p->lines[i] + ind;
		if (!yseqitem(text))
			break;
		text += 1 + strspn(text + 1, " ");
		if (yseqitem(text)) {
			yerr(p, i + 1, "nested sequence on one line");
			break;
		}
		if (yis_key(text))
			v = ymap(p, (size_t)(text - p->lines[i]), i, text);
		else
			v = yvalue(p, i, ind, text, 0);
		if (v == NULL)
			break;
		yappend(s, v);
	}
	return p->failed ? NULL : s;
}

/* The block collection that starts on the next line, deeper than pind. */
static struct ynode *
yblock(struct yparser *p, size_t pind)
{
	size_t i = ynext(p), ind;

	if (i >= p->end || (ind = yindent(p, i)) <= pind)
		return ynew(p, Y_NULL, i);
	if (yseqitem(p->lines[i] + ind))
		return yseq(p, ind);
	return ymap(p, ind, 0, NULL);
}

static const struct ynode *
yresolve(const struct ynode *y)
{
	return y != NULL && y->kind == Y_ALIAS ? y->target : y;
}

static const struct ynode *
yget(const struct ynode *m, const char *key)
{
	const struct ynode *y;

	for (y = m->child; y != NULL; y = y->next)
		if (strcmp(y->key, key) == 0)
			return yresolve(y);
	return NULL;
}

/*
 * Parses the top-level section "name:" of the document: its lines run to
 * the next line that starts in column 0.  NULL (with p->err) when it is
 * missing, repeated or not understood.
 */
static const struct ynode *
ysection(struct yparser *p, const char *name)
{
	const struct ynode *y = NULL;
	size_t i, at = p->n, nlen = strlen(name);

	for (i = 0; i < p->n; i++)
		if (strncmp(p->lines[i], name, nlen) == 0 &&
		    p->lines[i][nlen] == ':') {
			if (at != p->n || p->lines[i][nlen + 1] != '\0') {
				yerr(p, i + 1, "\"%s:\" not understood", name);
				return NULL;
			}
			at = i;
		}
	if (at == p->n) {
		yerr(p, 1, "no \"%s:\" section", name);
		return NULL;
	}
	for (p->end = at + 1; p->end < p->n; p->end++)
		if (!ycontentless(p->lines[p->end]) &&
		    p->lines[p->end][0] != ' ' && p->lines[p->end][0] != '\t')
			break;
	p->pos = at + 1;
	y = yblock(p, 0);
	if (!p->failed && ynext(p) != p->end)
		yerr(p, p->pos + 1, "unexpected indentation");
	if (!p->failed && y->kind == Y_NULL)
		yerr(p, at + 1, "empty \"%s:\"", name);
	return p->failed ? NULL : y;
}

static int
in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* A path template: "/" and segments, each a literal or a whole "{name}". */
static int
path_ok(const char *s)
{
	const char *seg = s, *e;

	if (s[0] != '/')
		return 0;
	while (*seg == '/') {
		seg++;
		e = seg + strcspn(seg, "/");
		if (e == seg)
			return 0;
		if (*seg == '{') {
			if (e[-1] != '}' || e - seg < 3 || seg[1] == '_')
				return 0;
			for (seg++; seg < e - 1; seg++)
				if (!islower((unsigned char)*seg) &&
				    *seg != '_')
					return 0;
		} else if (memchr(seg, '{', (size_t)(e - seg)) != NULL ||
			   memchr(seg, '}', (size_t)(e - seg)) != NULL) {
			return 0;
		}
		seg = e;
	}
	return *seg == '\0';
}

static int
status_ok(const char *s)
{
	if (strcmp(s, "default") == 0)
		return 1;
	if (strlen(s) != 3 || s[0] < '1' || s[0] > '5')
		return 0;
	if (strcmp(s + 1, "XX") == 0)
		return 1;
	return isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]);
}

static void
check_responses(struct yparser *p, const struct ynode *op)
{
	const struct ynode *rs = yget(op, "responses"), *r, *v;

	if (rs == NULL || rs->kind != Y_MAP || rs->child == NULL) {
		yerr(p, rs != NULL ? rs->line : op->line,
		     "an operation needs a block mapping of responses");
		return;
	}
	for (r = rs->child; r != NULL; r = r->next) {
		v = yresolve(r);
		if (!status_ok(r->key))
			yerr(p, r->line, "bad response key \"%s\"", r->key);
		else if (v->kind != Y_MAP &&
			 (v->kind != Y_FLOW || v->text[0] != '{'))
			yerr(p, r->line, "response %s is no mapping", r->key);
	}
}

static void
add_op(struct doc *d, unsigned method, const char *path, const struct ynode *y)
{
	const struct ynode *id = yget(y, "operationId"), *o;
	struct op *ops;
	size_t k;

	for (o = y->child; o != NULL; o = o->next)
		if (!in_list(op_keys, o->key) && strncmp(o->key, "x-", 2) != 0)
			yerr(&d->p, o->line, "unknown operation key \"%s\"",
			     o->key);
	if (id == NULL || id->kind != Y_SCALAR || id->text[0] == '\0') {
		yerr(&d->p, y->line, "operation without operationId");
		return;
	}
	for (k = 0; k < d->nops; k++)
		if (strcmp(d->ops[k].id, id->text) == 0)
			yerr(&d->p, id->line, "operationId %s also on line %zu",
			     id->text, d->ops[k].line);
	check_responses(&d->p, y);
	if ((ops = realloc(d->ops, (d->nops + 1) * sizeof(*ops))) == NULL) {
		yerr(&d->p, y->line, "out of memory");
		return;
	}
	d->ops = ops;
	d->ops[d->nops++] = (struct op){method, path, id->text, id->line};
}

static void
read_paths(struct doc *d, const struct ynode *paths)
{
	struct yparser *p = &d->p;
	const struct ynode *item, *k, *v;
	size_t m;

	if (paths->kind != Y_MAP) {
		yerr(p, paths->line, "paths: is not a block mapping");
		return;
	}
	for (item = paths->child; item != NULL && !p->failed;
	     item = item->next) {
		if (!path_ok(item->key)) {
			yerr(p, item->line, "bad path \"%s\"", item->key);
			return;
		}
		if (item->kind != Y_MAP) {
			yerr(p, item->line, "path item is no block mapping");
			return;
		}
		for (k = item->child; k != NULL; k = k->next) {
			for (m = 0; m < sizeof(methods) / sizeof(methods[0]);
			     m++)
				if (strcmp(k->key, methods[m].name) == 0)
					break;
			v = yresolve(k);
			if (m < sizeof(methods) / sizeof(methods[0]) &&
			    v->kind == Y_MAP)
				add_op(d, methods[m].bit, item->key, v);
			else if (m < sizeof(methods) / sizeof(methods[0]))
				yerr(p, k->line, "operation is no mapping");
			else if (!in_list(item_keys, k->key) &&
				 strncmp(k->key, "x-", 2) != 0)
				yerr(p, k->line, "unknown path item key \"%s\"",
				     k->key);
		}
	}
}

/* The path of the first server's URL; every server must have the same. */
static void
read_base(struct doc *d, const struct ynode *servers)
{
	const struct ynode *s, *url;
	const char *b;
	size_t n;

	if (servers->kind != Y_SEQ) {
		yerr(&d->p, servers->line, "servers: is not a sequence");
		return;
	}
	for (s = servers->child; s != NULL; s = s->next) {
		url = s->kind == Y_MAP ? yget(s, "url") : NULL;
		if (url == NULL || url->kind != Y_SCALAR) {
			yerr(&d->p, s->line, "server without url");
			return;
		}
		b = strstr(url->text, "://");
		b = b != NULL ? b + 3 + strcspn(b + 3, "/") : url->text;
		n = strlen(b);
		while (n > 0 && b[n - 1] == '/')
			n--;
		if (s == servers->child && n < sizeof(d->base))
			snprintf(d->base, sizeof(d->base), "%.*s", (int)n, b);
		else if (strlen(d->base) != n || strncmp(d->base, b, n) != 0)
			yerr(&d->p, url->line, "servers differ in base path");
	}
}

void
doc_free(struct doc *d)
{
	struct ynode *y;
	struct yanchor *a;

	while ((y = d->p.nodes) != NULL) {
		d->p.nodes = y->all;
		free(y);
	}
	while ((a = d->p.anchors) != NULL) {
		d->p.anchors = a->next;
		free(a);
	}
	free(d->p.lines);
	free(d->ops);
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

int
doc_parse(struct doc *d, char *text)
{
	struct yparser *p = &d->p;
	const struct ynode *y;
	size_t cap = 0;
	char *s, *nl;

	memset(d, 0, sizeof(*d));
	d->buf = text;
	for (s = text; *s != '\0'; s = nl + 1) {
		if (p->n == cap) {
			char **l;

			cap = cap ? cap * 2 : 256;
			if ((l = realloc(p->lines, cap * sizeof(*l))) == NULL) {
				yerr(p, p->n + 1, "out of memory");
				return -1;
			}
			p->lines = l;
		}
		p->lines[p->n++] = s;
		if ((nl = strchr(s, '\n')) == NULL)
			break;
		*nl = '\0';
		if (strchr(s, '\r') != NULL) {
			yerr(p, p->n, "carriage return");
			return -1;
		}
	}
	if ((y = ysection(p, "servers")) != NULL)
		read_base(d, y);
	if (!p->failed && (y = ysection(p, "paths")) != NULL)
		read_paths(d, y);
	return p->failed ? -1 : 0;
}

int
doc_load(struct doc *d, const char *file)
{
	FILE *f;
	char *buf;
	size_t n;

	memset(d, 0, sizeof(*d));
	if ((buf = calloc(1, DOC_MAX + 1)) == NULL)
		return -1;
	if ((f = fopen(file, "r")) == NULL) {
		snprintf(d->p.err, sizeof(d->p.err), "%s", strerror(errno));
		free(buf);
		return -1;
	}
	n = fread(buf, 1, DOC_MAX + 1, f);
	fclose(f);
	if (n > DOC_MAX) {
		snprintf(d->p.err, sizeof(d->p.err), "too large");
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	return doc_parse(d, buf);
}

const char *
openapi_method_name(unsigned bit)
{
	size_t m;

	for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
		if (methods[m].bit == bit)
			return methods[m].name;
	return "?";
}
