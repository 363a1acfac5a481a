#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"

#define CONF_LINE_MAX 4096
#define CONF_VALUE_MAX 1024

struct conf {
	const struct conf_def *defs;
	size_t ndefs;
	char **values; /* parallel to defs; NULL when unset */
};

int
conf_valid_path(const char *v)
{
	return (v[0] == '/' && strlen(v) < PATH_MAX) ? 0 : EST_E_INVAL;
}

int
conf_valid_uint(const char *v)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)v[0]))
		return EST_E_INVAL;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > INT_MAX)
		return EST_E_INVAL;
	return 0;
}

int
conf_valid_bool(const char *v)
{
	return (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) ? 0
							       : EST_E_INVAL;
}

int
conf_valid_name(const char *v)
{
	const char *p;

	if (*v == '\0')
		return EST_E_INVAL;
	for (p = v; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' &&
		    *p != '-')
			return EST_E_INVAL;
	return 0;
}

static int
conf_index(const struct conf *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->ndefs; i++)
		if (strcmp(c->defs[i].key, key) == 0)
			return (int)i;
	return -1;
}

int
conf_defaults(const struct conf_def *defs, size_t ndefs, struct conf **out)
{
	struct conf *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->values = calloc(ndefs ? ndefs : 1, sizeof(char *))) == NULL) {
		free(c);
		return EST_E_NOMEM;
	}
	c->defs = defs;
	c->ndefs = ndefs;
	*out = c;
	return 0;
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ndefs; i++)
		free(c->values[i]);
	free(c->values);
	free(c);
}

int
conf_set(struct conf *c, const char *key, const char *value)
{
	char *copy;
	int i;

	if ((i = conf_index(c, key)) < 0)
		return EST_E_NOTFOUND;
	if (strlen(value) > CONF_VALUE_MAX)
		return EST_E_TOOBIG;
	if (c->defs[i].validate != NULL && c->defs[i].validate(value) != 0)
		return EST_E_INVAL;
	if ((copy = strdup(value)) == NULL)
		return EST_E_NOMEM;
	free(c->values[i]);
	c->values[i] = copy;
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
conf_load(const char *path, const struct conf_def *defs, size_t ndefs,
	  struct conf **out, char *err, size_t errlen)
{
	struct conf *c = NULL;
	char line[CONF_LINE_MAX + 2], *key, *val, *eq;
	unsigned lineno = 0;
	FILE *fp = NULL;
	int r, i;

	if ((r = conf_defaults(defs, ndefs, &c)) != 0)
		return r;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		r = EST_E_CONFIG;
		goto out;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s:%u: line too long", path,
				 lineno);
			r = EST_E_CONFIG;
			goto out;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "%s:%u: expected key = value",
				 path, lineno);
			r = EST_E_CONFIG;
			goto out;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if ((i = conf_index(c, key)) < 0) {
			snprintf(err, errlen, "%s:%u: unknown key \"%.64s\"",
				 path, lineno, key);
			r = EST_E_CONFIG;
			goto out;
		}
		if (c->values[i] != NULL) {
			snprintf(err, errlen, "%s:%u: \"%s\" set twice", path,
				 lineno, key);
			r = EST_E_CONFIG;
			goto out;
		}
		if ((r = conf_set(c, key, val)) != 0) {
			snprintf(err, errlen, "%s:%u: invalid value for \"%s\"",
				 path, lineno, key);
			r = EST_E_CONFIG;
			goto out;
		}
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		r = EST_E_CONFIG;
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
out:
	if (fp != NULL)
		fclose(fp);
	conf_free(c);
	return r;
}

const char *
conf_get(const struct conf *c, const char *key)
{
	int i;

	if ((i = conf_index(c, key)) < 0)
		return NULL;
	return c->values[i] != NULL ? c->values[i] : c->defs[i].defval;
}

int
conf_get_int(const struct conf *c, const char *key, int *v)
{
	const char *s = conf_get(c, key);

	if (s == NULL || conf_valid_uint(s) != 0)
		return EST_E_CONFIG;
	*v = (int)strtol(s, NULL, 10);
	return 0;
}

int
conf_get_bool(const struct conf *c, const char *key)
{
	const char *s = conf_get(c, key);

	return s != NULL && strcmp(s, "yes") == 0;
}
