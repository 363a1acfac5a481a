/*
 * "key = value" configuration files, checked against a table of known keys.
 * Lines starting with '#' and blank lines are ignored; a key not in the
 * table, a repeated key, a value that fails its validator or a line without
 * '=' is an error that names the file and line.
 */
#ifndef ESTUARY_CONF_H
#define ESTUARY_CONF_H

#include <stddef.h>

struct conf;

struct conf_def {
	const char *key;
	const char *defval; /* NULL: no default */
	/* Returns 0 when the value is acceptable; NULL accepts any text. */
	int (*validate)(const char *value);
};

/* Validators for conf_def tables. */
int conf_valid_path(const char *v); /* absolute path */
int conf_valid_uint(const char *v); /* decimal, fits in int */
int conf_valid_bool(const char *v); /* yes/no */
int conf_valid_name(const char *v); /* [A-Za-z0-9._-]+ */

/*
 * Loads path against defs.  Sets *out on success; on failure writes a one-
 * line reason into err (errlen bytes) and returns a negative EST_E_* code.
 */
int conf_load(const char *path, const struct conf_def *defs, size_t ndefs,
	      struct conf **out, char *err, size_t errlen);
/* An empty configuration holding only the defaults. */
int conf_defaults(const struct conf_def *defs, size_t ndefs, struct conf **out);
void conf_free(struct conf *c);

/*
 * Sets key (which must be in the table) to value, as if it had been in the
 * file; used for command-line overrides.  Validates the value.
 */
int conf_set(struct conf *c, const char *key, const char *value);

/* The value of key, its default, or NULL; key must be in the table. */
const char *conf_get(const struct conf *c, const char *key);
int conf_get_int(const struct conf *c, const char *key, int *v);
int conf_get_bool(const struct conf *c, const char *key);

/* The keys of estuary.conf(5), shared by every program. */
extern const struct conf_def estuary_conf_defs[];
extern const size_t estuary_conf_ndefs;

/* Loads estuary.conf(5) from path. */
int estuary_conf_load(const char *path, struct conf **out, char *err,
		      size_t errlen);

#endif
