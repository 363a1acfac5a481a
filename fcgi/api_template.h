/*
 * Internals shared by the custom-extension and certificate-template
 * endpoints (fcgi/api_ext.c, api_template.c, api_template_body.c,
 * api_template_scope.c); the routes are in api_pki.h.
 */
#ifndef ESTUARY_API_TEMPLATE_H
#define ESTUARY_API_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "jsonval.h"
#include "perm.h"

struct db;
struct json_object;
struct tmpl;

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Limits of a template (the API's, below what the tables could hold). */
#define TMPL_NAME_MAX 128
#define TMPL_DESC_MAX 1024
#define TMPL_SUBJECT_MAX 32
#define TMPL_SAN_MAX 32
#define TMPL_EXT_MAX 16
#define TMPL_EKU_MAX 32
#define TMPL_FIELD_LEN_MAX 1024 /* max_length and default_value */
#define TMPL_VALIDITY_MAX 36500
#define TMPL_RETENTION_MAX 3650

/* ------------------------------------------------------------------ */
/* Accessibility scope (api_template_scope.c) */

/* Where a shareable object lives; ids 0 for none. */
struct pki_scope {
	enum perm_scope scope;
	int64_t tenant_id;
	int64_t org_id;
};

/*
 * The body members "scope", "tenant_id" and "org_id" (table entries
 * PKI_SCOPE_FIELDS) over *s: a member sent replaces the stored value, a
 * scope sent without the ids it does not have clears them, and a new
 * object (s->scope PERM_SCOPE_NONE) without "scope" takes the narrowest
 * scope its ids name.  Only the combination is checked (422 naming the
 * member): whether the tenant and organization exist is
 * pki_scope_check()'s business, after the permission check, so that a
 * refusal does not tell what exists in another tenant.
 */
int pki_scope_read(struct json_object *body, struct pki_scope *s,
		   struct jsonval_error *e);
/* The tenant exists and the organization exists in it: else 422. */
int pki_scope_check(struct db *db, const struct pki_scope *s,
		    struct jsonval_error *e);
/* A row's scope column and ids; EST_E_INTERNAL for an unknown scope. */
int pki_scope_from_row(const char *scope, int64_t tenant_id, int64_t org_id,
		       struct pki_scope *out);
/*
 * 1 when an object of scope user (a template) may use one of scope used (a
 * CA, a custom extension): a global one always; a tenant-wide one of the
 * same tenant; an organization's one only for that organization.
 */
int pki_scope_usable(const struct pki_scope *user,
		     const struct pki_scope *used);
/* 1 when a and b name the same place. */
int pki_scope_same(const struct pki_scope *a, const struct pki_scope *b);
void pki_scope_object(const struct pki_scope *s, struct perm_object *o);
int pki_scope_put(struct json_object *o, const struct pki_scope *s);

#define PKI_SCOPE_FIELDS                                                       \
	{.name = "scope", .type = JV_ENUM, .enum_values = pki_scope_names},    \
		{.name = "tenant_id",                                          \
		 .type = JV_INT,                                               \
		 .nullable = 1,                                                \
		 .min = 1,                                                     \
		 .max = INT64_MAX},                                            \
	{                                                                      \
		.name = "org_id", .type = JV_INT, .nullable = 1, .min = 1,     \
		.max = INT64_MAX                                               \
	}

extern const char *const pki_scope_names[];

/* ------------------------------------------------------------------ */
/* Template bodies (api_template_body.c, _check.c, _json.c) */

/* The field table of a template body; nothing is required in it. */
extern const struct jsonval_field tmpl_fields[];
extern const size_t tmpl_nfields;

/* The name of a key purpose OID (serverAuth...); NULL when it has none. */
const char *tmpl_eku_name(const char *oid);
/* A new template with the defaults of a create (a zeroed struct else). */
int tmpl_body_new(struct tmpl **out);
/*
 * Applies the members of body (validated against tmpl_fields) to t:
 * each member sent replaces what t holds; the lists are replaced whole.
 * Custom extensions are recorded by id only (oid and value left NULL).
 * Refusals are 422 naming the member ("subject_fields[2].oid").
 */
int tmpl_body_apply(struct tmpl *t, struct json_object *body,
		    struct jsonval_error *e);
/*
 * The checks of a whole template that need no database: validity, key
 * policy, key usage, basic constraints, every field and its default (by
 * lib/subject's own rules), the empty-subject rule of RFC 5280 4.2.1.6.
 */
int tmpl_body_validate(const struct tmpl *t, struct jsonval_error *e);
/*
 * The JSON of t.  TMPL_JSON_FULL adds the field lists and extensions (a
 * GET answers them; list items leave them out); TMPL_JSON_AUDIT leaves
 * out what is not a setting (ids, times, the active flag), for the
 * before/after of an audit row.
 */
#define TMPL_JSON_FULL 1
#define TMPL_JSON_AUDIT 2
int tmpl_body_json(const struct tmpl *t, int flags, struct json_object **out);

#endif
