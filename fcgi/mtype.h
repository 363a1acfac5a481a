/*
 * Media types (RFC 9110 section 8.3.1) as they appear in Content-Type.
 * Type, subtype and parameter names are case-insensitive and are stored in
 * lower case; parameter values keep their case (a quoted-string is stored
 * unquoted).  Comparison is always of the whole type and subtype, never of a
 * prefix: "application/pkcs10x" is not "application/pkcs10".
 */
#ifndef ESTUARY_MTYPE_H
#define ESTUARY_MTYPE_H

#include <stddef.h>

#define MTYPE_MAX 256 /* the whole header value */
#define MTYPE_PARAMS_MAX 8

struct mtype_param {
	char *name;
	char *value;
};

struct mtype {
	char *type;
	char *subtype;
	struct mtype_param params[MTYPE_PARAMS_MAX];
	size_t nparams;
};

/*
 * Parses a Content-Type value.  A repeated parameter, a character outside
 * the grammar or a value over the caps is EST_E_INVAL.
 */
int mtype_parse(const char *s, struct mtype **out);
void mtype_free(struct mtype *mt);

/* 1 when mt is exactly "type/subtype" (case-insensitive), else 0. */
int mtype_is(const struct mtype *mt, const char *type_subtype);

/* The value of parameter name (case-insensitive), or NULL. */
const char *mtype_param(const struct mtype *mt, const char *name);

#endif
