/*
 * Certificate templates: the row of cert_templates, its subject and SAN
 * fields and its attached custom extensions, read into and written from a
 * struct tmpl (lib/tmpl.h).
 *
 * Sets and enumerations cross the boundary as numbers where the two sides
 * number them alike: key_types + 0 is the SET's bit mask, whose member k
 * (1-based) is key type k, so CSR_KEYBIT(k) is that mask shifted left by
 * one; key_usage + 0 has the bit numbers of CSR_KU_*.  The ENUM columns
 * are read and written by name through tmpl_name()/tmpl_value().
 *
 * An update rewrites the fields in place by position (an upsert on
 * (template_id, position), then the positions beyond the new count are
 * deleted), so a field that stays keeps its row id and the device-type
 * mappings that name it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "db.h"
#include "err.h"
#include "template.h"
#include "tmpl.h"

/* Key types 1..5 are bits 1..5 of CSR_KEYBIT; the SET's bits 0..4. */
#define KEYTYPE_BITS 0x3eu
#define KU_BITS 0x1ffu
#define NCHILD_MAX 1024 /* sanity bound on stored children */

#define TMPL_COLUMNS                                                           \
	"t.id, t.name, t.description, t.type, t.scope, t.tenant_id,"           \
	" t.org_id, t.ca_id, t.validity_days, t.key_types + 0,"                \
	" t.server_keygen, t.keygen_key_type, t.digest, t.key_usage + 0,"      \
	" t.key_usage_critical, t.eku, t.eku_critical, t.basic_constraints,"   \
	" t.basic_ca, t.basic_pathlen, t.basic_critical, t.san_critical,"      \
	" t.crl_dp, t.ocsp_aia, t.ca_issuers_aia, t.key_retention_days,"       \
	" t.active, DATE_FORMAT(t.created_at, '%Y-%m-%d %H:%i:%s.%f'),"        \
	" DATE_FORMAT(t.updated_at, '%Y-%m-%d %H:%i:%s.%f')"

enum {
	C_ID,
	C_NAME,
	C_DESCRIPTION,
	C_TYPE,
	C_SCOPE,
	C_TENANT_ID,
	C_ORG_ID,
	C_CA_ID,
	C_VALIDITY,
	C_KEY_TYPES,
	C_SERVER_KEYGEN,
	C_KEYGEN_TYPE,
	C_DIGEST,
	C_KU,
	C_KU_CRITICAL,
	C_EKU,
	C_EKU_CRITICAL,
	C_BASIC,
	C_BASIC_CA,
	C_BASIC_PATHLEN,
	C_BASIC_CRITICAL,
	C_SAN_CRITICAL,
	C_CRL_DP,
	C_OCSP_AIA,
	C_CA_ISSUERS_AIA,
	C_KEY_RETENTION,
	C_ACTIVE,
	C_CREATED_AT,
	C_UPDATED_AT,
};

/* The settings every write sets, in this order (W_NCOLS parameters). */
#define TMPL_SET_COLUMNS                                                       \
	"name = ?, description = ?, type = ?, scope = ?, tenant_id = ?,"       \
	" org_id = ?, ca_id = ?, validity_days = ?, key_types = ?,"            \
	" server_keygen = ?, keygen_key_type = ?, digest = ?,"                 \
	" key_usage = ?, key_usage_critical = ?, eku = ?, eku_critical = ?,"   \
	" basic_constraints = ?, basic_ca = ?, basic_pathlen = ?,"             \
	" basic_critical = ?, san_critical = ?, crl_dp = ?, ocsp_aia = ?,"     \
	" ca_issuers_aia = ?, key_retention_days = ?"
#define W_NCOLS 25

#define STAMP_FROM                                                             \
	" FROM cert_templates t JOIN cas c ON c.id = t.ca_id WHERE t.id = ?"

static const struct db_stmt_def tmpl_stmts[] = {
#define T_GET 0
	{"template_get",
	 "SELECT " TMPL_COLUMNS " FROM cert_templates t WHERE t.id = ?", 1},
#define T_GET_LOCK 1
	{"template_get_lock",
	 "SELECT " TMPL_COLUMNS " FROM cert_templates t WHERE t.id = ?"
	 " FOR UPDATE",
	 1},
#define T_SUBJECT 2
	{"template_subject_fields",
	 "SELECT id, oid, short_name, rule, max_length, default_value,"
	 " string_type FROM cert_template_subject_fields"
	 " WHERE template_id = ? ORDER BY position",
	 1},
#define T_SAN 3
	{"template_san_fields",
	 "SELECT id, type, othername_oid, othername_encoding, rule,"
	 " max_length, default_value FROM cert_template_san_fields"
	 " WHERE template_id = ? ORDER BY position",
	 1},
#define T_EXTS 4
	{"template_extensions",
	 "SELECT e.id, e.oid, e.critical, e.value_der"
	 " FROM cert_template_extensions te"
	 " JOIN custom_extensions e ON e.id = te.extension_id"
	 " WHERE te.template_id = ? ORDER BY e.id",
	 1},
#define T_LIST 5
	{"template_list",
	 "SELECT " TMPL_COLUMNS " FROM cert_templates t WHERE t.id > ?"
	 " AND (? = 0 OR (t.tenant_id = ? AND (? = 0 OR t.org_id = ?))"
	 "  OR (? AND t.tenant_id = ? AND t.scope = 'tenant')"
	 "  OR (? AND t.scope = 'global'))"
	 " AND (? IS NULL OR t.name = ?)"
	 " AND (? IS NULL OR LOCATE(?, t.name) > 0)"
	 " AND (? IS NULL OR t.type = ?)"
	 " AND (? IS NULL OR t.scope = ?)"
	 " AND (? = 0 OR t.ca_id = ?)"
	 " AND (? = 0 OR t.tenant_id = ?)"
	 " AND (? = 0 OR t.org_id = ?)"
	 " AND (? < 0 OR t.active = ?)"
	 " ORDER BY t.id LIMIT ?",
	 25},
#define T_INSERT 6
	{"template_insert",
	 "INSERT INTO cert_templates SET " TMPL_SET_COLUMNS
	 ", created_by_user_id = ?",
	 W_NCOLS + 1},
#define T_UPDATE 7
	/*
	 * updated_at moves forward on every rewrite, even one that changes
	 * only child rows (which ON UPDATE does not see) or that lands in
	 * the microsecond of the last one: it is the version behind the
	 * ETag and behind the issuing cache (T_STAMP).
	 */
	{"template_update",
	 "UPDATE cert_templates SET " TMPL_SET_COLUMNS ", updated_at ="
	 " GREATEST(UTC_TIMESTAMP(6), updated_at + INTERVAL 1 MICROSECOND)"
	 " WHERE id = ?",
	 W_NCOLS + 1},
#define T_SUBJECT_PUT 8
	{"template_subject_put",
	 "INSERT INTO cert_template_subject_fields (template_id, position,"
	 " oid, short_name, rule, max_length, default_value, string_type)"
	 " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE"
	 " oid = VALUES(oid), short_name = VALUES(short_name),"
	 " rule = VALUES(rule), max_length = VALUES(max_length),"
	 " default_value = VALUES(default_value),"
	 " string_type = VALUES(string_type)",
	 8},
#define T_SUBJECT_TRIM 9
	{"template_subject_trim",
	 "DELETE FROM cert_template_subject_fields"
	 " WHERE template_id = ? AND position >= ?",
	 2},
#define T_SAN_PUT 10
	{"template_san_put",
	 "INSERT INTO cert_template_san_fields (template_id, position, type,"
	 " othername_oid, othername_encoding, rule, max_length,"
	 " default_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	 " ON DUPLICATE KEY UPDATE type = VALUES(type),"
	 " othername_oid = VALUES(othername_oid),"
	 " othername_encoding = VALUES(othername_encoding),"
	 " rule = VALUES(rule), max_length = VALUES(max_length),"
	 " default_value = VALUES(default_value)",
	 8},
#define T_SAN_TRIM 11
	{"template_san_trim",
	 "DELETE FROM cert_template_san_fields"
	 " WHERE template_id = ? AND position >= ?",
	 2},
#define T_EXT_CLEAR 12
	{"template_ext_clear",
	 "DELETE FROM cert_template_extensions WHERE template_id = ?", 1},
#define T_EXT_ADD 13
	{"template_ext_add",
	 "INSERT INTO cert_template_extensions (template_id, extension_id)"
	 " VALUES (?, ?)",
	 2},
#define T_SET_ACTIVE 14
	{"template_set_active",
	 "UPDATE cert_templates SET active = ? WHERE id = ?", 2},
#define T_USAGE 15
	{"template_usage",
	 "SELECT (SELECT COUNT(*) FROM certificates WHERE template_id = ?),"
	 " (SELECT COUNT(*) FROM batch_jobs WHERE template_id = ?)"
	 " + (SELECT COUNT(*) FROM device_types"
	 "    WHERE factory_template_id = ?)"
	 " + (SELECT COUNT(*) FROM device_type_op_templates"
	 "    WHERE template_id = ?)"
	 " + (SELECT COUNT(*) FROM est_server_templates"
	 "    WHERE template_id = ?)"
	 " + (SELECT COUNT(*) FROM est_labels WHERE template_id = ?)",
	 6},
#define T_DELETE 16
	{"template_delete", "DELETE FROM cert_templates WHERE id = ?", 1},
#define T_STAMP 17
	/*
	 * The versions of everything a loaded template and its CA hold:
	 * the template row (whose updated_at T_UPDATE moves for child rows
	 * too) and the CA row, with the live active flags; T_STAMP_EXTS adds
	 * the attached custom extensions (a count and the sum of their
	 * updated_at as numbers, which any single change moves).
	 */
	{"template_stamp", "SELECT" TMPL_STAMP_BASE(t, c) STAMP_FROM, 1},
#define T_STAMP_EXTS 18
	{"template_stamp_exts", "SELECT" TMPL_STAMP_COLUMNS(t, c) STAMP_FROM,
	 1},
#define T_MAPPED 19
	/*
	 * The fields of a template that device-type mappings name (0 for a
	 * subject field, 1 for a SAN field), with one device type that maps
	 * each: field ids of the two tables may be equal, hence the kind.
	 */
	{"template_mapped",
	 "SELECT 0, f.id, MIN(m.device_type_id) FROM device_type_mappings m"
	 " JOIN cert_template_subject_fields f ON f.id = m.subject_field_id"
	 " WHERE f.template_id = ? GROUP BY f.id"
	 " UNION ALL"
	 " SELECT 1, f.id, MIN(m.device_type_id) FROM device_type_mappings m"
	 " JOIN cert_template_san_fields f ON f.id = m.san_field_id"
	 " WHERE f.template_id = ? GROUP BY f.id",
	 2},
};

static char *
dup_col(const struct db_result *r, size_t row, size_t col)
{
	const char *s = db_result_str(r, row, col, NULL);

	return s != NULL ? strdup(s) : NULL;
}

/* A string column that must be present, copied into *out. */
static int
need_col(const struct db_result *r, size_t row, size_t col, char **out)
{
	const char *s = db_result_str(r, row, col, NULL);

	if (s == NULL)
		return EST_E_INTERNAL;
	if ((*out = strdup(s)) == NULL)
		return EST_E_NOMEM;
	return 0;
}

static int
enum_col(const struct db_result *r, size_t row, size_t col,
	 enum tmpl_names kind, int *v)
{
	return tmpl_value(kind, db_result_str(r, row, col, NULL), v) == 0
		       ? 0
		       : EST_E_INTERNAL;
}

/* The JSON array of dotted OIDs in the eku column. */
static int
eku_parse(const char *text, struct tmpl *t)
{
	struct json_object *a = NULL, *v;
	size_t i, n;
	int r = EST_E_INTERNAL;

	if (text == NULL)
		return 0;
	if ((a = json_tokener_parse(text)) == NULL ||
	    !json_object_is_type(a, json_type_array))
		goto out;
	if ((n = json_object_array_length(a)) == 0) {
		r = 0;
		goto out;
	}
	if (n > NCHILD_MAX)
		goto out;
	if ((t->eku = calloc(n, sizeof(*t->eku))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string))
			goto out;
		if ((t->eku[i] = strdup(json_object_get_string(v))) == NULL) {
			r = EST_E_NOMEM;
			goto out;
		}
		t->neku = i + 1;
	}
	r = 0;
out:
	json_object_put(a);
	return r;
}

/* Row row of r (TMPL_COLUMNS) into a new struct tmpl without children. */
static int
tmpl_from_row(const struct db_result *r, size_t row, struct tmpl **out)
{
	struct tmpl *t;
	int v, rc;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return EST_E_NOMEM;
	t->id = db_result_i64(r, row, C_ID);
	if ((rc = need_col(r, row, C_NAME, &t->name)) != 0 ||
	    (rc = need_col(r, row, C_SCOPE, &t->scope)) != 0 ||
	    (rc = need_col(r, row, C_CREATED_AT, &t->created_at)) != 0 ||
	    (rc = need_col(r, row, C_UPDATED_AT, &t->updated_at)) != 0)
		goto fail;
	if (!db_result_isnull(r, row, C_DESCRIPTION) &&
	    (t->description = dup_col(r, row, C_DESCRIPTION)) == NULL) {
		rc = EST_E_NOMEM;
		goto fail;
	}
	if ((rc = enum_col(r, row, C_TYPE, TMPL_N_TYPE, &v)) != 0)
		goto fail;
	t->type = (enum tmpl_type)v;
	if ((rc = enum_col(r, row, C_DIGEST, TMPL_N_DIGEST, &v)) != 0)
		goto fail;
	t->digest = (enum tmpl_digest)v;
	t->tenant_id = db_result_i64(r, row, C_TENANT_ID);
	t->org_id = db_result_i64(r, row, C_ORG_ID);
	t->active = db_result_i64(r, row, C_ACTIVE) != 0;
	t->ca_id = db_result_i64(r, row, C_CA_ID);
	t->validity_days = db_result_isnull(r, row, C_VALIDITY)
				   ? TMPL_VALIDITY_UNLIMITED
				   : (int)db_result_i64(r, row, C_VALIDITY);
	t->key_types = ((uint32_t)db_result_i64(r, row, C_KEY_TYPES) << 1) &
		       KEYTYPE_BITS;
	t->server_keygen = db_result_i64(r, row, C_SERVER_KEYGEN) != 0;
	t->keygen_key_type = (int)db_result_i64(r, row, C_KEYGEN_TYPE);
	t->ku = (unsigned)db_result_i64(r, row, C_KU) & KU_BITS;
	t->ku_critical = db_result_i64(r, row, C_KU_CRITICAL) != 0;
	t->eku_critical = db_result_i64(r, row, C_EKU_CRITICAL) != 0;
	t->basic_constraints = db_result_i64(r, row, C_BASIC) != 0;
	t->basic_ca = db_result_i64(r, row, C_BASIC_CA) != 0;
	t->basic_pathlen =
		db_result_isnull(r, row, C_BASIC_PATHLEN)
			? -1
			: (int)db_result_i64(r, row, C_BASIC_PATHLEN);
	t->basic_critical = db_result_i64(r, row, C_BASIC_CRITICAL) != 0;
	t->san_critical = db_result_i64(r, row, C_SAN_CRITICAL) != 0;
	t->crl_dp = db_result_i64(r, row, C_CRL_DP) != 0;
	t->ocsp_aia = db_result_i64(r, row, C_OCSP_AIA) != 0;
	t->ca_issuers_aia = db_result_i64(r, row, C_CA_ISSUERS_AIA) != 0;
	t->key_retention_days =
		db_result_isnull(r, row, C_KEY_RETENTION)
			? -1
			: (int)db_result_i64(r, row, C_KEY_RETENTION);
	if ((rc = eku_parse(db_result_str(r, row, C_EKU, NULL), t)) != 0)
		goto fail;
	*out = t;
	return 0;
fail:
	tmpl_free(t);
	return rc;
}

/* Appends the subject fields (SUBJ_ATTR) of subject result r to t. */
static int
add_subject_fields(struct tmpl *t, const struct db_result *r)
{
	struct subj_field *f;
	size_t i;
	char *s;
	int v, rc;

	for (i = 0; i < db_result_rows(r); i++) {
		f = &t->fields[t->nfields];
		f->kind = SUBJ_ATTR;
		t->field_ids[t->nfields] = db_result_i64(r, i, 0);
		t->nfields++; /* from here on tmpl_free() frees its strings */
		if ((rc = need_col(r, i, 1, &s)) != 0)
			return rc;
		f->oid = s;
		if (!db_result_isnull(r, i, 2) &&
		    (f->short_name = dup_col(r, i, 2)) == NULL)
			return EST_E_NOMEM;
		if ((rc = enum_col(r, i, 3, TMPL_N_RULE, &v)) != 0)
			return rc;
		f->rule = (enum subj_rule)v;
		f->max_len = (size_t)db_result_i64(r, i, 4);
		if (!db_result_isnull(r, i, 5) &&
		    (f->default_value = dup_col(r, i, 5)) == NULL)
			return EST_E_NOMEM;
		if ((rc = enum_col(r, i, 6, TMPL_N_STRTYPE, &v)) != 0)
			return rc;
		f->strtype = (enum subj_strtype)v;
	}
	return 0;
}

static int
add_san_fields(struct tmpl *t, const struct db_result *r)
{
	struct subj_field *f;
	size_t i;
	char *s;
	int v, rc;

	for (i = 0; i < db_result_rows(r); i++) {
		f = &t->fields[t->nfields];
		f->kind = SUBJ_SAN;
		t->field_ids[t->nfields] = db_result_i64(r, i, 0);
		t->nfields++;
		if ((rc = enum_col(r, i, 1, TMPL_N_SANTYPE, &v)) != 0)
			return rc;
		f->san_type = (enum subj_san_type)v;
		if (f->san_type == SUBJ_SAN_OTHERNAME) {
			if ((rc = need_col(r, i, 2, &s)) != 0)
				return rc;
			f->oid = s;
			if ((rc = enum_col(r, i, 3, TMPL_N_ONENC, &v)) != 0)
				return rc;
			f->onenc = (enum subj_onenc)v;
		}
		if ((rc = enum_col(r, i, 4, TMPL_N_RULE, &v)) != 0)
			return rc;
		f->rule = (enum subj_rule)v;
		f->max_len = (size_t)db_result_i64(r, i, 5);
		if (!db_result_isnull(r, i, 6) &&
		    (f->default_value = dup_col(r, i, 6)) == NULL)
			return EST_E_NOMEM;
	}
	return 0;
}

static int
add_exts(struct tmpl *t, const struct db_result *r)
{
	struct tmpl_ext *x;
	const char *der;
	size_t i, len;
	int rc;

	if (db_result_rows(r) == 0)
		return 0;
	if ((t->exts = calloc(db_result_rows(r), sizeof(*t->exts))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < db_result_rows(r); i++) {
		x = &t->exts[i];
		t->nexts = i + 1;
		x->id = db_result_i64(r, i, 0);
		x->critical = db_result_i64(r, i, 2) != 0;
		if ((rc = need_col(r, i, 1, &x->oid)) != 0)
			return rc;
		if ((der = db_result_str(r, i, 3, &len)) == NULL || len == 0)
			return EST_E_INTERNAL;
		if ((x->der = malloc(len)) == NULL)
			return EST_E_NOMEM;
		memcpy(x->der, der, len);
		x->derlen = len;
	}
	return 0;
}

static int
load_children(struct db *db, struct tmpl *t)
{
	struct db_result *subj = NULL, *san = NULL, *ext = NULL;
	struct db_param p[1];
	size_t n;
	int r;

	p[0] = DB_I64(t->id);
	if ((r = db_query(db, &tmpl_stmts[T_SUBJECT], p, 1, &subj)) != 0 ||
	    (r = db_query(db, &tmpl_stmts[T_SAN], p, 1, &san)) != 0 ||
	    (r = db_query(db, &tmpl_stmts[T_EXTS], p, 1, &ext)) != 0)
		goto out;
	n = db_result_rows(subj) + db_result_rows(san);
	if (n > NCHILD_MAX || db_result_rows(ext) > NCHILD_MAX) {
		r = EST_E_INTERNAL;
		goto out;
	}
	if (n > 0 &&
	    ((t->fields = calloc(n, sizeof(*t->fields))) == NULL ||
	     (t->field_ids = calloc(n, sizeof(*t->field_ids))) == NULL)) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = add_subject_fields(t, subj)) != 0 ||
	    (r = add_san_fields(t, san)) != 0)
		goto out;
	r = add_exts(t, ext);
out:
	db_result_free(subj);
	db_result_free(san);
	db_result_free(ext);
	return r;
}

int
db_template_get(struct db *db, int64_t id, int lock, struct tmpl **out)
{
	struct db_result *res = NULL;
	struct tmpl *t = NULL;
	struct db_param p[1];
	int r;

	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &tmpl_stmts[lock ? T_GET_LOCK : T_GET], p, 1,
			      &res)) != 0 ||
	    (r = tmpl_from_row(res, 0, &t)) != 0 ||
	    (r = load_children(db, t)) != 0)
		goto out;
	*out = t;
	t = NULL;
out:
	tmpl_free(t);
	db_result_free(res);
	return r;
}

int
db_template_load(struct db *db, int64_t id, struct tmpl **out)
{
	return db_template_get(db, id, 0, out);
}

int
db_template_stamp_from_row(const struct db_result *res, size_t col, int exts,
			   struct db_template_stamp *out)
{
	const char *tv, *cv, *xv = "";

	tv = db_result_str(res, 0, col, NULL);
	cv = db_result_str(res, 0, col + 3, NULL);
	if (exts)
		xv = db_result_str(res, 0, col + 5, NULL);
	if (tv == NULL || cv == NULL || xv == NULL ||
	    strlen(tv) >= sizeof(out->tmpl) || strlen(cv) >= sizeof(out->ca) ||
	    strlen(xv) >= sizeof(out->exts))
		return EST_E_INTERNAL;
	memset(out, 0, sizeof(*out));
	memcpy(out->tmpl, tv, strlen(tv));
	memcpy(out->ca, cv, strlen(cv));
	memcpy(out->exts, xv, strlen(xv));
	out->tmpl_active = db_result_i64(res, 0, col + 1) != 0;
	out->ca_id = db_result_i64(res, 0, col + 2);
	out->ca_active = db_result_i64(res, 0, col + 4) != 0;
	return 0;
}

int
db_template_stamp(struct db *db, int64_t id, int exts,
		  struct db_template_stamp *out)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	int r;

	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &tmpl_stmts[exts ? T_STAMP_EXTS : T_STAMP], p,
			      1, &res)) != 0)
		return r;
	r = db_template_stamp_from_row(res, 0, exts, out);
	db_result_free(res);
	return r;
}

int
db_template_list(struct db *db, const struct db_template_filter *f,
		 int64_t after_id, size_t limit, struct tmpl ***out, size_t *n)
{
	struct db_result *res = NULL;
	struct tmpl **list = NULL;
	struct db_param p[25];
	size_t i, rows = 0;
	int r;

	if (limit == 0 || after_id < 0 || f->scope_tenant < 0 ||
	    f->scope_org < 0)
		return EST_E_INVAL;
	p[0] = DB_I64(after_id);
	p[1] = p[2] = DB_I64(f->scope_tenant);
	p[3] = p[4] = DB_I64(f->scope_org);
	p[5] = DB_I64(f->scope_shared != 0);
	p[6] = DB_I64(f->scope_tenant);
	p[7] = DB_I64(f->scope_shared != 0);
	p[8] = p[9] = DB_STR(f->name);
	p[10] = p[11] = DB_STR(f->name_contains);
	p[12] = p[13] = DB_STR(f->type);
	p[14] = p[15] = DB_STR(f->scope);
	p[16] = p[17] = DB_I64(f->ca_id);
	p[18] = p[19] = DB_I64(f->tenant_id);
	p[20] = p[21] = DB_I64(f->org_id);
	p[22] = p[23] = DB_I64(f->active);
	p[24] = DB_I64(limit);
	if ((r = db_query(db, &tmpl_stmts[T_LIST], p, 25, &res)) != 0)
		return r;
	if (db_result_rows(res) > 0 &&
	    (list = calloc(db_result_rows(res), sizeof(*list))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (rows = 0; rows < db_result_rows(res); rows++)
		if ((r = tmpl_from_row(res, rows, &list[rows])) != 0)
			goto out;
	*out = list;
	*n = rows;
	list = NULL;
out:
	if (list != NULL)
		for (i = 0; i < rows; i++)
			tmpl_free(list[i]);
	free(list);
	db_result_free(res);
	return r;
}

void
db_template_list_free(struct tmpl **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		tmpl_free(list[i]);
	free(list);
}

/* The eku list as the JSON text the column holds; NULL for none. */
static int
eku_text(const struct tmpl *t, char **out)
{
	struct json_object *a = NULL, *s;
	const char *txt;
	size_t i;
	int r = EST_E_NOMEM;

	*out = NULL;
	if (t->neku == 0)
		return 0;
	if ((a = json_object_new_array()) == NULL)
		goto out;
	for (i = 0; i < t->neku; i++) {
		if ((s = json_object_new_string(t->eku[i])) == NULL)
			goto out;
		if (json_object_array_add(a, s) != 0) {
			json_object_put(s);
			goto out;
		}
	}
	if ((txt = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN)) ==
		    NULL ||
	    (*out = strdup(txt)) == NULL)
		goto out;
	r = 0;
out:
	json_object_put(a);
	return r;
}

/*
 * The W_NCOLS parameters of TMPL_SET_COLUMNS for t; eku is the text from
 * eku_text().  EST_E_INVAL for a value no column can hold.
 */
static int
write_params(const struct tmpl *t, const char *eku, struct db_param *p)
{
	const char *type = tmpl_name(TMPL_N_TYPE, (int)t->type);
	const char *digest = tmpl_name(TMPL_N_DIGEST, (int)t->digest);

	if (t->name == NULL || t->scope == NULL || type == NULL ||
	    digest == NULL || t->tenant_id < 0 || t->org_id < 0 ||
	    t->ca_id <= 0 || t->validity_days < 0 ||
	    (t->key_types & ~KEYTYPE_BITS) != 0 || (t->ku & ~KU_BITS) != 0 ||
	    t->keygen_key_type < 0 || t->basic_pathlen < -1 ||
	    t->key_retention_days < -1)
		return EST_E_INVAL;
	p[0] = DB_STR(t->name);
	p[1] = DB_STR(t->description);
	p[2] = DB_STR(type);
	p[3] = DB_STR(t->scope);
	p[4] = t->tenant_id > 0 ? DB_I64(t->tenant_id) : DB_NULL;
	p[5] = t->org_id > 0 ? DB_I64(t->org_id) : DB_NULL;
	p[6] = DB_I64(t->ca_id);
	p[7] = t->validity_days == TMPL_VALIDITY_UNLIMITED
		       ? DB_NULL
		       : DB_I64(t->validity_days);
	p[8] = DB_I64(t->key_types >> 1);
	p[9] = DB_I64(t->server_keygen != 0);
	p[10] = t->keygen_key_type > 0 ? DB_I64(t->keygen_key_type) : DB_NULL;
	p[11] = DB_STR(digest);
	p[12] = DB_I64(t->ku);
	p[13] = DB_I64(t->ku_critical != 0);
	p[14] = DB_STR(eku);
	p[15] = DB_I64(t->eku_critical != 0);
	p[16] = DB_I64(t->basic_constraints != 0);
	p[17] = DB_I64(t->basic_ca != 0);
	p[18] = t->basic_pathlen >= 0 ? DB_I64(t->basic_pathlen) : DB_NULL;
	p[19] = DB_I64(t->basic_critical != 0);
	p[20] = DB_I64(t->san_critical != 0);
	p[21] = DB_I64(t->crl_dp != 0);
	p[22] = DB_I64(t->ocsp_aia != 0);
	p[23] = DB_I64(t->ca_issuers_aia != 0);
	p[24] = t->key_retention_days >= 0 ? DB_I64(t->key_retention_days)
					   : DB_NULL;
	return 0;
}

static int
put_subject_field(struct db *db, int64_t id, size_t pos,
		  const struct subj_field *f)
{
	const char *rule = tmpl_name(TMPL_N_RULE, (int)f->rule);
	const char *st = tmpl_name(TMPL_N_STRTYPE, (int)f->strtype);
	struct db_param p[8];

	if (f->oid == NULL || rule == NULL || st == NULL || f->max_len == 0)
		return EST_E_INVAL;
	p[0] = DB_I64(id);
	p[1] = DB_I64(pos);
	p[2] = DB_STR(f->oid);
	p[3] = DB_STR(f->short_name);
	p[4] = DB_STR(rule);
	p[5] = DB_I64(f->max_len);
	p[6] = DB_STR(f->default_value);
	p[7] = DB_STR(st);
	return db_exec(db, &tmpl_stmts[T_SUBJECT_PUT], p, 8, NULL, NULL);
}

static int
put_san_field(struct db *db, int64_t id, size_t pos, const struct subj_field *f)
{
	const char *type = tmpl_name(TMPL_N_SANTYPE, (int)f->san_type);
	const char *rule = tmpl_name(TMPL_N_RULE, (int)f->rule);
	const char *enc = NULL;
	struct db_param p[8];
	int other = f->san_type == SUBJ_SAN_OTHERNAME;

	if (other && (enc = tmpl_name(TMPL_N_ONENC, (int)f->onenc)) == NULL)
		return EST_E_INVAL;
	if (type == NULL || rule == NULL || f->max_len == 0 ||
	    (other && f->oid == NULL))
		return EST_E_INVAL;
	p[0] = DB_I64(id);
	p[1] = DB_I64(pos);
	p[2] = DB_STR(type);
	p[3] = other ? DB_STR(f->oid) : DB_NULL;
	p[4] = other ? DB_STR(enc) : DB_NULL;
	p[5] = DB_STR(rule);
	p[6] = DB_I64(f->max_len);
	p[7] = DB_STR(f->default_value);
	return db_exec(db, &tmpl_stmts[T_SAN_PUT], p, 8, NULL, NULL);
}

/* Writes t's fields and extensions over whatever template id has. */
static int
write_children(struct db *db, int64_t id, const struct tmpl *t)
{
	struct db_param p[2];
	size_t i, nsubj = 0, nsan = 0;
	int r;

	for (i = 0; i < t->nfields; i++) {
		if (t->fields[i].kind == SUBJ_ATTR)
			r = put_subject_field(db, id, nsubj++, &t->fields[i]);
		else
			r = put_san_field(db, id, nsan++, &t->fields[i]);
		if (r != 0)
			return r;
	}
	p[0] = DB_I64(id);
	p[1] = DB_I64(nsubj);
	if ((r = db_exec(db, &tmpl_stmts[T_SUBJECT_TRIM], p, 2, NULL, NULL)) !=
	    0)
		return r;
	p[1] = DB_I64(nsan);
	if ((r = db_exec(db, &tmpl_stmts[T_SAN_TRIM], p, 2, NULL, NULL)) != 0 ||
	    (r = db_exec(db, &tmpl_stmts[T_EXT_CLEAR], p, 1, NULL, NULL)) != 0)
		return r;
	for (i = 0; i < t->nexts; i++) {
		p[1] = DB_I64(t->exts[i].id);
		if ((r = db_exec(db, &tmpl_stmts[T_EXT_ADD], p, 2, NULL,
				 NULL)) != 0)
			return r;
	}
	return 0;
}

int
db_template_insert(struct db *db, const struct tmpl *t, int64_t created_by,
		   int64_t *id)
{
	struct db_param p[W_NCOLS + 1];
	uint64_t newid = 0;
	char *eku = NULL;
	int r;

	if ((r = eku_text(t, &eku)) != 0 || (r = write_params(t, eku, p)) != 0)
		goto out;
	p[W_NCOLS] = created_by > 0 ? DB_I64(created_by) : DB_NULL;
	if ((r = db_exec(db, &tmpl_stmts[T_INSERT], p, W_NCOLS + 1, NULL,
			 &newid)) != 0 ||
	    (r = write_children(db, (int64_t)newid, t)) != 0)
		goto out;
	*id = (int64_t)newid;
out:
	free(eku);
	return r;
}

int
db_template_replace(struct db *db, int64_t id, const struct tmpl *t)
{
	struct db_param p[W_NCOLS + 1];
	uint64_t affected = 0;
	char *eku = NULL;
	int r;

	if ((r = eku_text(t, &eku)) != 0 || (r = write_params(t, eku, p)) != 0)
		goto out;
	p[W_NCOLS] = DB_I64(id);
	if ((r = db_exec(db, &tmpl_stmts[T_UPDATE], p, W_NCOLS + 1, &affected,
			 NULL)) != 0)
		goto out;
	if (affected == 0) {
		r = EST_E_NOTFOUND;
		goto out;
	}
	r = write_children(db, id, t);
out:
	free(eku);
	return r;
}

int
db_template_set_active(struct db *db, int64_t id, int active)
{
	struct db_param p[2];
	uint64_t affected = 0;
	int r;

	p[0] = DB_I64(active != 0);
	p[1] = DB_I64(id);
	if ((r = db_exec(db, &tmpl_stmts[T_SET_ACTIVE], p, 2, &affected,
			 NULL)) != 0)
		return r;
	return affected == 0 ? EST_E_NOTFOUND : 0;
}

int
db_template_usage(struct db *db, int64_t id, int64_t *certs, int64_t *other)
{
	struct db_result *res = NULL;
	struct db_param p[6];
	size_t i;
	int r;

	for (i = 0; i < 6; i++)
		p[i] = DB_I64(id);
	if ((r = db_query_one(db, &tmpl_stmts[T_USAGE], p, 6, &res)) != 0)
		return r;
	*certs = db_result_i64(res, 0, 0);
	*other = db_result_i64(res, 0, 1);
	db_result_free(res);
	return 0;
}

int
db_template_delete(struct db *db, int64_t id)
{
	struct db_param p[1];
	uint64_t affected = 0;
	int r;

	p[0] = DB_I64(id);
	if ((r = db_exec(db, &tmpl_stmts[T_DELETE], p, 1, &affected, NULL)) !=
	    0)
		return r;
	return affected == 0 ? EST_E_NOTFOUND : 0;
}

int
db_template_mapped(struct db *db, int64_t id, struct db_tmpl_mapped **out,
		   size_t *n)
{
	struct db_result *res = NULL;
	struct db_tmpl_mapped *m = NULL;
	struct db_param p[2];
	size_t rows, i;
	int r;

	p[0] = DB_I64(id);
	p[1] = DB_I64(id);
	if ((r = db_query(db, &tmpl_stmts[T_MAPPED], p, 2, &res)) != 0)
		return r;
	rows = db_result_rows(res);
	if (rows > 0 && (m = calloc(rows, sizeof(*m))) == NULL) {
		db_result_free(res);
		return EST_E_NOMEM;
	}
	for (i = 0; i < rows; i++) {
		m[i].san = db_result_i64(res, i, 0) != 0;
		m[i].field_id = db_result_i64(res, i, 1);
		m[i].device_type_id = db_result_i64(res, i, 2);
	}
	db_result_free(res);
	*out = m;
	*n = rows;
	return 0;
}
