/*
 * Certificate templates (db/template.c) and custom extensions
 * (db/custext.c) as the API reads and writes them, and the loader that
 * gives the issuing code a template as a struct tmpl (lib/tmpl.h).
 *
 * Writers take the whole object: a template is written with its subject
 * fields, SAN fields and attached extensions in the caller's transaction,
 * and an update rewrites every column and every child row, so that what
 * is stored is always one template that was validated as a whole.  The
 * callers (fcgi/api_template.c, api_ext.c) validate first; the database
 * constraints are the last line.
 */
#ifndef ESTUARY_DB_TEMPLATE_H
#define ESTUARY_DB_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "tmpl.h"

struct db;
struct db_result;

/* ------------------------------------------------------------------ */
/* Certificate templates */

/*
 * Template id with its subject fields then its SAN fields (each in
 * position order), its EKU list and its custom extensions (with their
 * value_der), into a new struct tmpl (free it with tmpl_free()).
 * EST_E_NOTFOUND when there is no such template; EST_E_INTERNAL when a
 * stored value cannot be mapped (a row written by hand).
 */
int db_template_load(struct db *db, int64_t id, struct tmpl **out);
/* Like db_template_load; with lock set the row is read FOR UPDATE. */
int db_template_get(struct db *db, int64_t id, int lock, struct tmpl **out);

/*
 * The version of template id and of everything issuance takes with it
 * (its fields, its CA and, with exts set, its custom extensions), read by
 * one query, for the issuing cache (pki/issue_cache.h): two equal stamps
 * read at different times mean that a template and CA loaded after the
 * first are still current.  Without exts, exts[] is empty: enough for a
 * template that had no extensions when the first stamp was read, since
 * attaching one rewrites the template (db_template_replace), which moves
 * its own version.  The active flags are the rows' own.  EST_E_NOTFOUND
 * when there is no such template.
 */
struct db_template_stamp {
	char tmpl[32]; /* cert_templates.updated_at */
	char ca[32];   /* cas.updated_at */
	char exts[64]; /* the attached custom extensions' count and times */
	int64_t ca_id;
	int tmpl_active;
	int ca_active;
};
int db_template_stamp(struct db *db, int64_t id, int exts,
		      struct db_template_stamp *out);
/*
 * The same stamp read by another statement of db/ (estuary-est's route):
 * its columns, TMPL_STAMP_COLUMNS of template alias t and CA alias c,
 * then db_template_stamp_from_row() from column col of row 0.  The first
 * TMPL_STAMP_NCOLS - 1 columns are the stamp without the extensions.
 */
#define TMPL_STAMP_BASE(t, c)                                                  \
	" " #t ".updated_at, " #t ".active, " #t ".ca_id, " #c                 \
	".updated_at, " #c ".active"
#define TMPL_STAMP_COLUMNS(t, c)                                               \
	TMPL_STAMP_BASE(t, c)                                                  \
	","                                                                    \
	" (SELECT CONCAT(COUNT(*), '/', IFNULL(SUM(e.updated_at + 0), 0))"     \
	" FROM cert_template_extensions te"                                    \
	" JOIN custom_extensions e ON e.id = te.extension_id"                  \
	" WHERE te.template_id = " #t ".id)"
#define TMPL_STAMP_NCOLS 6
struct db_result;
int db_template_stamp_from_row(const struct db_result *res, size_t col,
			       int exts, struct db_template_stamp *out);

/*
 * List filters; 0, NULL or -1 (active) do not filter.  The scope_* members
 * come from perm_list_filter(): with scope_tenant set, rows of that tenant
 * and (scope_shared) the global ones; with scope_org set too, rows of that
 * organization, tenant-wide rows of its tenant and global ones.
 */
struct db_template_filter {
	int64_t scope_tenant;
	int64_t scope_org;
	int scope_shared;
	const char *name; /* exact */
	const char *name_contains;
	const char *type;  /* "factory", "operational", "general" */
	const char *scope; /* SCOPE_* */
	int64_t ca_id;
	int64_t tenant_id;
	int64_t org_id;
	int active; /* -1 any, 0, 1 */
};

/*
 * At most limit templates with ids above after_id, in id order, each in
 * its own struct tmpl without children (no fields, EKU list or
 * extensions: a list shows the template rows).  Free with
 * db_template_list_free().
 */
int db_template_list(struct db *db, const struct db_template_filter *f,
		     int64_t after_id, size_t limit, struct tmpl ***out,
		     size_t *n);
void db_template_list_free(struct tmpl **list, size_t n);

/*
 * Inserts t (id, active, times and field_ids ignored; a new template is
 * active) with its fields and extensions (by tmpl_ext.id); sets *id.
 * created_by is the creating user, 0 for none.  EST_E_EXISTS for a name
 * already used in the template's tenant (or among global templates).
 */
int db_template_insert(struct db *db, const struct tmpl *t, int64_t created_by,
		       int64_t *id);
/*
 * Rewrites template id from t (its scope, name and every setting) and
 * replaces its fields and extensions.  EST_E_NOTFOUND when there is none.
 */
int db_template_replace(struct db *db, int64_t id, const struct tmpl *t);
int db_template_set_active(struct db *db, int64_t id, int active);
/*
 * Sets *certs to the number of certificates issued from template id and
 * *other to the number of batch jobs and device types that name it:
 * a template that any of them names is in use and is not deleted.
 */
int db_template_usage(struct db *db, int64_t id, int64_t *certs,
		      int64_t *other);
/* EST_E_CONFLICT while rows refer to it; EST_E_NOTFOUND for none. */
int db_template_delete(struct db *db, int64_t id);

/* A field of a template that a device-type mapping names. */
struct db_tmpl_mapped {
	int san;		/* 0: subject field, 1: SAN field */
	int64_t field_id;	/* its row id (struct tmpl's field_ids) */
	int64_t device_type_id; /* one device type that maps it */
};

/*
 * The fields of template id that device-type mappings name; *out (free()
 * it) may be NULL when *n is 0.
 */
int db_template_mapped(struct db *db, int64_t id, struct db_tmpl_mapped **out,
		       size_t *n);

/* ------------------------------------------------------------------ */
/* Custom extensions */

enum db_custext_col {
	DB_CUSTEXT_ID = 0,
	DB_CUSTEXT_NAME,
	DB_CUSTEXT_DESCRIPTION,
	DB_CUSTEXT_OID,
	DB_CUSTEXT_CRITICAL,
	DB_CUSTEXT_VALUE_TYPE,
	DB_CUSTEXT_VALUE,
	DB_CUSTEXT_VALUE_DER,
	DB_CUSTEXT_SCOPE,
	DB_CUSTEXT_TENANT_ID,
	DB_CUSTEXT_ORG_ID,
	DB_CUSTEXT_ACTIVE,
	DB_CUSTEXT_CREATED_AT,
	DB_CUSTEXT_UPDATED_AT,
	DB_CUSTEXT_NCOLS
};

/* A custom extension as the API writes it; tenant_id/org_id 0 for none. */
struct db_custext_rec {
	const char *name;
	const char *description; /* NULL for none */
	const char *oid;
	int critical;
	const char *value_type; /* custom_extensions.value_type */
	const char *value;	/* as the user typed it */
	const uint8_t *der;	/* the encoded extnValue content */
	size_t derlen;
	const char *scope; /* SCOPE_* */
	int64_t tenant_id;
	int64_t org_id;
};

/* Filters as for templates. */
struct db_custext_filter {
	int64_t scope_tenant;
	int64_t scope_org;
	int scope_shared;
	const char *name;
	const char *name_contains;
	const char *oid;
	const char *scope;
	int64_t tenant_id;
	int64_t org_id;
	int active;
};

int db_custext_get(struct db *db, int64_t id, int lock, struct db_result **out);
int db_custext_list(struct db *db, const struct db_custext_filter *f,
		    int64_t after_id, size_t limit, struct db_result **out);
int db_custext_insert(struct db *db, const struct db_custext_rec *x,
		      int64_t created_by, int64_t *id);
/* Rewrites every column of x. */
int db_custext_update(struct db *db, int64_t id,
		      const struct db_custext_rec *x);
int db_custext_set_active(struct db *db, int64_t id, int active);
/* Sets *n to the number of templates extension id is attached to. */
int db_custext_in_use(struct db *db, int64_t id, int64_t *n);
/* EST_E_CONFLICT while a template uses it; EST_E_NOTFOUND for none. */
int db_custext_delete(struct db *db, int64_t id);

#endif
