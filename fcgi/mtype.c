#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "mtype.h"

/* tchar of RFC 9110 section 5.6.2. */
static int
is_tchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* A token at *pp, copied in lower case; advances *pp past it. */
static int
take_token(const char **pp, char **out)
{
	const char *p = *pp, *start = p;
	char *tok;
	size_t i, n;

	while (is_tchar((unsigned char)*p))
		p++;
	if ((n = (size_t)(p - start)) == 0)
		return EST_E_INVAL;
	if ((tok = malloc(n + 1)) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++)
		tok[i] = (char)tolower((unsigned char)start[i]);
	tok[n] = '\0';
	*pp = p;
	*out = tok;
	return 0;
}

/*
 * A parameter value: a token, or a quoted-string whose quoted-pairs are
 * unescaped.  Only visible ASCII, SP and HTAB are accepted inside quotes;
 * obs-text is refused.
 */
static int
take_value(const char **pp, char **out)
{
	const char *p = *pp;
	char *val;
	size_t n = 0;

	if (*p != '"') {
		const char *start = p;

		while (is_tchar((unsigned char)*p))
			p++;
		if (p == start)
			return EST_E_INVAL;
		if ((val = strndup(start, (size_t)(p - start))) == NULL)
			return EST_E_NOMEM;
		*pp = p;
		*out = val;
		return 0;
	}
	/* The unquoted value is never longer than the quoted one. */
	if ((val = malloc(strlen(p) + 1)) == NULL)
		return EST_E_NOMEM;
	for (p++; *p != '"'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\\') {
			c = (unsigned char)*++p;
			if (c != '\t' && (c < 0x20 || c > 0x7e))
				goto bad;
		} else if (c != '\t' && (c < 0x20 || c > 0x7e)) {
			/* Also catches the NUL of an unterminated string. */
			goto bad;
		}
		val[n++] = (char)c;
	}
	val[n] = '\0';
	*pp = p + 1;
	*out = val;
	return 0;
bad:
	free(val);
	return EST_E_INVAL;
}

int
mtype_parse(const char *s, struct mtype **out)
{
	struct mtype *mt = NULL;
	struct mtype_param *pa;
	const char *p = s;
	size_t i;
	int r;

	if (strlen(s) > MTYPE_MAX)
		return EST_E_INVAL;
	if ((mt = calloc(1, sizeof(*mt))) == NULL)
		return EST_E_NOMEM;
	while (is_ows(*p))
		p++;
	if ((r = take_token(&p, &mt->type)) != 0)
		goto out;
	if (*p++ != '/') {
		r = EST_E_INVAL;
		goto out;
	}
	if ((r = take_token(&p, &mt->subtype)) != 0)
		goto out;
	for (;;) {
		while (is_ows(*p))
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ';') {
			r = EST_E_INVAL;
			goto out;
		}
		while (is_ows(*p))
			p++;
		/* RFC 9110 allows an empty parameter: "text/plain;". */
		if (*p == '\0' || *p == ';')
			continue;
		if (mt->nparams == MTYPE_PARAMS_MAX) {
			r = EST_E_INVAL;
			goto out;
		}
		pa = &mt->params[mt->nparams];
		if ((r = take_token(&p, &pa->name)) != 0)
			goto out;
		mt->nparams++;
		if (*p++ != '=') {
			r = EST_E_INVAL;
			goto out;
		}
		if ((r = take_value(&p, &pa->value)) != 0)
			goto out;
		for (i = 0; i + 1 < mt->nparams; i++) {
			if (strcmp(mt->params[i].name, pa->name) == 0) {
				r = EST_E_INVAL;
				goto out;
			}
		}
	}
	*out = mt;
	mt = NULL;
	r = 0;
out:
	mtype_free(mt);
	return r;
}

void
mtype_free(struct mtype *mt)
{
	size_t i;

	if (mt == NULL)
		return;
	for (i = 0; i < mt->nparams; i++) {
		free(mt->params[i].name);
		free(mt->params[i].value);
	}
	free(mt->type);
	free(mt->subtype);
	free(mt);
}

int
mtype_is(const struct mtype *mt, const char *type_subtype)
{
	const char *slash;
	size_t tlen;

	if (mt == NULL || (slash = strchr(type_subtype, '/')) == NULL)
		return 0;
	tlen = (size_t)(slash - type_subtype);
	return strlen(mt->type) == tlen &&
	       strncasecmp(mt->type, type_subtype, tlen) == 0 &&
	       strcasecmp(mt->subtype, slash + 1) == 0;
}

const char *
mtype_param(const struct mtype *mt, const char *name)
{
	size_t i;

	if (mt == NULL)
		return NULL;
	for (i = 0; i < mt->nparams; i++)
		if (strcasecmp(mt->params[i].name, name) == 0)
			return mt->params[i].value;
	return NULL;
}
