/*
 * The in-memory device type: freeing it, the names of its enums, the
 * check of an attribute value, and the mapping it lends a template for
 * subject resolution.  Nothing here reads the database.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devtype.h"
#include "err.h"
#include "jsonval.h"
#include "tmpl.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const factory_names[] = {
	[DEVTYPE_FACTORY_NONE] = "none",
	[DEVTYPE_FACTORY_INTERNAL] = "internal",
	[DEVTYPE_FACTORY_EXTERNAL] = "external",
};

static const char *const attr_type_names[] = {
	[DEVTYPE_ATTR_STRING] = "string",
	[DEVTYPE_ATTR_INTEGER] = "integer",
	[DEVTYPE_ATTR_BOOLEAN] = "boolean",
	[DEVTYPE_ATTR_DATE] = "date",
};

static const char *const prop_names[] = {
	[SUBJ_PROP_SERIAL_NUMBER] = "serial_number",
	[SUBJ_PROP_MODEL] = "model",
	[SUBJ_PROP_HARDWARE_VERSION] = "hardware_version",
	[SUBJ_PROP_MANUFACTURER] = "manufacturer",
	[SUBJ_PROP_DEVICE_CLASS] = "device_class",
	[SUBJ_PROP_FIRMWARE] = "firmware",
	[SUBJ_PROP_DESCRIPTIVE_LOCATION] = "descriptive_location",
};

static const char *const source_names[] = {
	[SUBJ_TARGET_NONE] = NULL,
	[SUBJ_TARGET_NAME] = "device_name",
	[SUBJ_TARGET_PROPERTY] = "property",
	[SUBJ_TARGET_ATTRIBUTE] = "attribute",
};

static const char *
name_of(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? names[v] : NULL;
}

static int
value_of(const char *const *names, size_t n, const char *s, int *v)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0) {
			*v = (int)i;
			return 0;
		}
	return EST_E_INVAL;
}

const char *
devtype_factory_name(enum devtype_factory f)
{
	return name_of(factory_names, NELEM(factory_names), (int)f);
}

int
devtype_factory_value(const char *s, enum devtype_factory *v)
{
	int i, r;

	if ((r = value_of(factory_names, NELEM(factory_names), s, &i)) == 0)
		*v = (enum devtype_factory)i;
	return r;
}

const char *
devtype_attr_type_name(enum devtype_attr_type t)
{
	return name_of(attr_type_names, NELEM(attr_type_names), (int)t);
}

int
devtype_attr_type_value(const char *s, enum devtype_attr_type *v)
{
	int i, r;

	if ((r = value_of(attr_type_names, NELEM(attr_type_names), s, &i)) == 0)
		*v = (enum devtype_attr_type)i;
	return r;
}

const char *
devtype_prop_name(enum subj_prop p)
{
	return name_of(prop_names, NELEM(prop_names), (int)p);
}

int
devtype_prop_value(const char *s, enum subj_prop *v)
{
	int i, r;

	if ((r = value_of(prop_names, NELEM(prop_names), s, &i)) == 0)
		*v = (enum subj_prop)i;
	return r;
}

const char *
devtype_source_name(enum subj_target t)
{
	return name_of(source_names, NELEM(source_names), (int)t);
}

int
devtype_source_value(const char *s, enum subj_target *v)
{
	int i, r;

	if ((r = value_of(source_names, NELEM(source_names), s, &i)) == 0)
		*v = (enum subj_target)i;
	return r;
}

struct devtype *
devtype_new(void)
{
	struct devtype *dt;

	if ((dt = calloc(1, sizeof(*dt))) == NULL)
		return NULL;
	dt->op_renewal_hours = -1;
	dt->factory_renewal_hours = -1;
	dt->password_retention_hours = 1;
	dt->active = 1;
	return dt;
}

void
devtype_free(struct devtype *dt)
{
	size_t i;

	if (dt == NULL)
		return;
	free(dt->name);
	free(dt->description);
	free(dt->scope);
	free(dt->created_at);
	free(dt->updated_at);
	free(dt->op_templates);
	for (i = 0; i < SUBJ_PROP_COUNT; i++)
		free(dt->props[i].default_value);
	for (i = 0; i < dt->nattrs; i++) {
		free(dt->attrs[i].name);
		free(dt->attrs[i].default_value);
	}
	free(dt->attrs);
	for (i = 0; i < dt->nmaps; i++) {
		free(dt->maps[i].attr_name);
		free(dt->maps[i].default_value);
	}
	free(dt->maps);
	free(dt);
}

/* Characters of valid UTF-8 without control characters, or -1. */
static long
utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;
	uint32_t cp;
	long count = 0;

	while (n > 0) {
		if ((k = jsonval_utf8_next(p, n, &cp)) == 0 || cp < 0x20 ||
		    (cp >= 0x7f && cp < 0xa0))
			return -1;
		p += k;
		n -= k;
		count++;
	}
	return count;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal, optional '-', no leading zeros, within 64 bits. */
static int
valid_integer(const char *s)
{
	const char *d = s[0] == '-' ? s + 1 : s;
	char *end;

	if (!is_digit(d[0]) || (d[0] == '0' && d[1] != '\0') ||
	    strcmp(s, "-0") == 0 || strspn(d, "0123456789") != strlen(d))
		return 0;
	errno = 0;
	(void)strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* A calendar date YYYY-MM-DD of the years 0001-9999. */
static int
valid_date(const char *s)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int y, m, d, leap;

	if (strlen(s) != 10 || strspn(s, "0123456789") != 4 || s[4] != '-' ||
	    !is_digit(s[5]) || !is_digit(s[6]) || s[7] != '-' ||
	    !is_digit(s[8]) || !is_digit(s[9]))
		return 0;
	y = atoi(s);
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

int
devtype_attr_check(const struct devtype_attr *a, const char *value)
{
	long n;

	if (a == NULL || value == NULL)
		return EST_E_UNPROCESSABLE;
	if ((n = utf8_chars(value)) < 0 || (size_t)n > a->max_len)
		return EST_E_UNPROCESSABLE;
	switch (a->type) {
	case DEVTYPE_ATTR_STRING:
		return 0;
	case DEVTYPE_ATTR_INTEGER:
		return valid_integer(value) ? 0 : EST_E_UNPROCESSABLE;
	case DEVTYPE_ATTR_BOOLEAN:
		return strcmp(value, "true") == 0 || strcmp(value, "false") == 0
			       ? 0
			       : EST_E_UNPROCESSABLE;
	case DEVTYPE_ATTR_DATE:
		return valid_date(value) ? 0 : EST_E_UNPROCESSABLE;
	}
	return EST_E_UNPROCESSABLE;
}

int
devtype_mapping(const struct devtype *dt, const struct tmpl *t,
		struct subj_mapping *out)
{
	struct subj_map_entry *e = NULL;
	const struct devtype_map *m;
	size_t i, j, n = 0;

	if (dt == NULL || t == NULL || out == NULL ||
	    (t->nfields > 0 && t->field_ids == NULL))
		return EST_E_INVAL;
	if (dt->nmaps > 0 && (e = calloc(dt->nmaps, sizeof(*e))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < dt->nmaps; i++) {
		m = &dt->maps[i];
		for (j = 0; j < t->nfields; j++)
			if (t->fields[j].kind == m->kind &&
			    t->field_ids[j] == m->field_id)
				break;
		if (j == t->nfields)
			continue;
		e[n].field = j;
		e[n].to = m->to;
		e[n].to.attr_name = m->attr_name;
		e[n].max_len = m->max_len;
		e[n].default_value = m->default_value;
		n++;
	}
	if (n == 0) {
		free(e);
		e = NULL;
	}
	out->entries = e;
	out->nentries = n;
	return 0;
}

void
devtype_mapping_free(struct subj_mapping *m)
{
	if (m == NULL)
		return;
	free((void *)(uintptr_t)m->entries);
	m->entries = NULL;
	m->nentries = 0;
}
