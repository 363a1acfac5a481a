/*
 * Device types: reading one with its children, lists, and the questions
 * the API asks before a change (usage, placement, the factory CA).  The
 * writers are in devtype_write.c.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "dbq.h"
#include "devtype.h"
#include "err.h"

/* The columns of a device type row, in the order dt_from_row reads. */
#define DT_COLUMNS                                                             \
	"d.id, d.name, d.description, d.scope, d.tenant_id, d.org_id,"         \
	" d.enforce_factory_mode, d.dar, d.use_cert_mapping,"                  \
	" d.factory_source, d.factory_template_id, d.external_ca_id,"          \
	" d.op_renewal_hours, d.factory_renewal_hours,"                        \
	" d.device_password_enabled, d.password_retention_hours, d.active,"    \
	" d.created_by_user_id,"                                               \
	" DATE_FORMAT(d.created_at, '%Y-%m-%d %H:%i:%s.%f'),"                  \
	" DATE_FORMAT(d.updated_at, '%Y-%m-%d %H:%i:%s.%f')"

enum dt_col {
	C_ID = 0,
	C_NAME,
	C_DESC,
	C_SCOPE,
	C_TENANT,
	C_ORG,
	C_EFM,
	C_DAR,
	C_MAPPING,
	C_FSOURCE,
	C_FTEMPLATE,
	C_EXTCA,
	C_OPHOURS,
	C_FHOURS,
	C_PWENABLED,
	C_RETENTION,
	C_ACTIVE,
	C_CREATOR,
	C_CREATED,
	C_UPDATED,
};

/* The list's filters, in the order db_devtype_list binds them. */
#define DT_LIST_WHERE                                                          \
	" WHERE d.id > ?"                                                      \
	" AND (? = 0 OR (? = 1 AND d.scope = 'global')"                        \
	" OR (d.tenant_id = ? AND (? = 0 OR d.org_id = ?"                      \
	" OR (? = 1 AND d.scope = 'tenant'))))"                                \
	" AND (? IS NULL OR d.name = ?)"                                       \
	" AND (? IS NULL OR LOCATE(?, d.name) > 0)"                            \
	" AND (? IS NULL OR d.scope = ?)"                                      \
	" AND (? = 0 OR d.tenant_id = ?)"                                      \
	" AND (? = 0 OR d.org_id = ?)"                                         \
	" AND (? < 0 OR d.active = ?)"                                         \
	" AND (? < 0 OR d.dar = ?)"                                            \
	" AND (? IS NULL OR d.factory_source = ?)"                             \
	" AND (? = 0 OR d.factory_template_id = ? OR EXISTS (SELECT 1"         \
	" FROM device_type_op_templates x WHERE x.device_type_id = d.id"       \
	" AND x.template_id = ?))"                                             \
	" AND (? = 0 OR d.external_ca_id = ?)"
#define DT_LIST_NPARAMS 28

/*
 * Who is outside a placement: rows that are not in tenant ? and, unless
 * the organization is 0, in organization ?; of devices (v) and EST
 * servers (s).
 */
#define OUTSIDE_V " NOT (v.tenant_id = ? AND (? = 0 OR v.org_id = ?))"
#define OUTSIDE_S " NOT (s.tenant_id = ? AND (? = 0 OR s.org_id = ?))"

static const struct db_stmt_def dt_stmts[] = {
#define DT_GET 0
	{"devtype_get",
	 "SELECT " DT_COLUMNS " FROM device_types d WHERE d.id = ?", 1},
#define DT_GET_LOCK 1
	{"devtype_get_lock",
	 "SELECT " DT_COLUMNS " FROM device_types d WHERE d.id = ? FOR UPDATE",
	 1},
#define DT_LIST 2
	{"devtype_list",
	 "SELECT " DT_COLUMNS " FROM device_types d" DT_LIST_WHERE
	 " ORDER BY d.id LIMIT ?",
	 DT_LIST_NPARAMS + 1},
#define DT_OPS 3
	{"devtype_op_templates",
	 "SELECT device_type_id, template_id, is_default"
	 " FROM device_type_op_templates"
	 " WHERE device_type_id BETWEEN ? AND ?"
	 " ORDER BY device_type_id, position",
	 2},
#define DT_PROPS 4
	{"devtype_properties",
	 "SELECT property, default_value, required, fixed"
	 " FROM device_type_properties WHERE device_type_id = ?",
	 1},
#define DT_ATTRS 5
	{"devtype_attributes",
	 "SELECT id, name, type, default_value, required, fixed, max_length"
	 " FROM device_type_attributes WHERE device_type_id = ?"
	 " ORDER BY position",
	 1},
#define DT_MAPS 6
	{"devtype_mappings",
	 "SELECT m.subject_field_id, m.san_field_id, m.source, m.property,"
	 " a.name, m.max_length, m.default_value"
	 " FROM device_type_mappings m LEFT JOIN device_type_attributes a"
	 " ON a.id = m.attribute_id WHERE m.device_type_id = ? ORDER BY m.id",
	 1},
#define DT_USAGE 7
	{"devtype_usage",
	 "SELECT (SELECT COUNT(*) FROM devices WHERE device_type_id = ?),"
	 " (SELECT COUNT(*) FROM est_servers WHERE device_type_id = ?)"
	 " + (SELECT COUNT(*) FROM est_labels WHERE device_type_id = ?)",
	 3},
#define DT_MISPLACED 8
	{"devtype_misplaced",
	 "SELECT (SELECT COUNT(*) FROM devices v WHERE v.device_type_id = ?"
	 " AND" OUTSIDE_V ")"
	 " + (SELECT COUNT(*) FROM est_servers s WHERE s.device_type_id = ?"
	 " AND" OUTSIDE_S ")"
	 " + (SELECT COUNT(*) FROM est_labels l JOIN est_servers s"
	 " ON s.id = l.server_id WHERE l.device_type_id = ?"
	 " AND" OUTSIDE_S ")",
	 12},
#define DT_ATTR_IN_USE 9
	{"devtype_attr_in_use",
	 "SELECT COUNT(*) FROM device_attributes"
	 " WHERE attribute_id = ? AND value IS NOT NULL AND value <> ''",
	 1},
#define DT_DELETE 10
	{"devtype_delete", "DELETE FROM device_types WHERE id = ?", 1},
#define DT_SET_ACTIVE 11
	{"devtype_set_active",
	 "UPDATE device_types SET active = ? WHERE id = ?", 2},
#define DT_EXTCA 12
	{"devtype_extca",
	 "SELECT tenant_id, org_id, status = 'verified', active, fingerprint"
	 " FROM external_cas WHERE id = ? LOCK IN SHARE MODE",
	 1},
#define DT_CA_FP 13
	{"devtype_ca_fingerprint",
	 "SELECT fingerprint FROM cas WHERE id = ? AND fingerprint IS NOT NULL",
	 1},
};

/* A copy of a column, NULL for SQL NULL; *nomem set when copying failed. */
static char *
col_dup(const struct db_result *res, size_t row, size_t col, int *nomem)
{
	const char *s = db_result_str(res, row, col, NULL);
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*nomem = 1;
	return d;
}

static int
col_bool(const struct db_result *res, size_t row, size_t col)
{
	return db_result_i64(res, row, col) != 0;
}

/* An INT UNSIGNED hours column; NULL is -1. */
static int
col_hours(const struct db_result *res, size_t row, size_t col)
{
	int64_t v;

	if (db_result_isnull(res, row, col))
		return -1;
	v = db_result_i64(res, row, col);
	return v >= 0 && v <= INT_MAX ? (int)v : -1;
}

static int
dt_from_row(const struct db_result *res, size_t row, struct devtype **out)
{
	struct devtype *dt;
	int nomem = 0, r = 0;

	if ((dt = devtype_new()) == NULL)
		return EST_E_NOMEM;
	dt->id = db_result_i64(res, row, C_ID);
	dt->name = col_dup(res, row, C_NAME, &nomem);
	dt->description = col_dup(res, row, C_DESC, &nomem);
	dt->scope = col_dup(res, row, C_SCOPE, &nomem);
	dt->tenant_id = db_result_i64(res, row, C_TENANT);
	dt->org_id = db_result_i64(res, row, C_ORG);
	dt->enforce_factory_mode = col_bool(res, row, C_EFM);
	dt->dar = col_bool(res, row, C_DAR);
	dt->use_cert_mapping = col_bool(res, row, C_MAPPING);
	dt->factory_template_id = db_result_i64(res, row, C_FTEMPLATE);
	dt->external_ca_id = db_result_i64(res, row, C_EXTCA);
	dt->op_renewal_hours = col_hours(res, row, C_OPHOURS);
	dt->factory_renewal_hours = col_hours(res, row, C_FHOURS);
	dt->device_password_enabled = col_bool(res, row, C_PWENABLED);
	dt->password_retention_hours =
		(int)db_result_i64(res, row, C_RETENTION);
	dt->active = col_bool(res, row, C_ACTIVE);
	dt->created_by = db_result_i64(res, row, C_CREATOR);
	dt->created_at = col_dup(res, row, C_CREATED, &nomem);
	dt->updated_at = col_dup(res, row, C_UPDATED, &nomem);
	if (nomem)
		r = EST_E_NOMEM;
	else if (dt->name == NULL || dt->scope == NULL ||
		 dt->updated_at == NULL || dt->created_at == NULL ||
		 devtype_factory_value(db_result_str(res, row, C_FSOURCE, NULL),
				       &dt->factory_source) != 0)
		r = EST_E_INTERNAL;
	if (r != 0) {
		devtype_free(dt);
		return r;
	}
	*out = dt;
	return 0;
}

/*
 * Attaches the operational templates of res (device_type_id, template_id,
 * is_default rows ordered by type) to the types of list that they name.
 */
static int
attach_ops(struct devtype **list, size_t n, const struct db_result *res)
{
	size_t rows = db_result_rows(res), i, j = 0, k;
	struct devtype *dt;
	int64_t tid;

	for (i = 0; i < n; i++) {
		dt = list[i];
		/* Rows of lower ids belong to types the filter left out. */
		while (j < rows && db_result_i64(res, j, 0) < dt->id)
			j++;
		for (k = j; k < rows && db_result_i64(res, k, 0) == dt->id; k++)
			;
		if (k == j)
			continue;
		if ((dt->op_templates =
			     calloc(k - j, sizeof(*dt->op_templates))) == NULL)
			return EST_E_NOMEM;
		for (; j < k; j++) {
			tid = db_result_i64(res, j, 1);
			dt->op_templates[dt->nop_templates].template_id = tid;
			dt->op_templates[dt->nop_templates].is_default =
				col_bool(res, j, 2);
			if (col_bool(res, j, 2))
				dt->default_template_id = tid;
			dt->nop_templates++;
		}
	}
	return 0;
}

static int
load_ops(struct db *db, struct devtype **list, size_t n)
{
	struct db_result *res = NULL;
	struct db_param p[2];
	int r;

	if (n == 0)
		return 0;
	p[0] = DB_I64(list[0]->id);
	p[1] = DB_I64(list[n - 1]->id);
	if ((r = db_query(db, &dt_stmts[DT_OPS], p, 2, &res)) != 0)
		return r;
	r = attach_ops(list, n, res);
	db_result_free(res);
	return r;
}

static int
load_props(struct db *db, struct devtype *dt)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	enum subj_prop prop;
	size_t i;
	int nomem = 0, r;

	p[0] = DB_I64(dt->id);
	if ((r = db_query(db, &dt_stmts[DT_PROPS], p, 1, &res)) != 0)
		return r;
	for (i = 0; i < db_result_rows(res) && r == 0; i++) {
		if (devtype_prop_value(db_result_str(res, i, 0, NULL), &prop) !=
		    0) {
			r = EST_E_INTERNAL;
			break;
		}
		free(dt->props[prop].default_value);
		dt->props[prop].default_value = col_dup(res, i, 1, &nomem);
		dt->props[prop].required = col_bool(res, i, 2);
		dt->props[prop].fixed = col_bool(res, i, 3);
		if (nomem)
			r = EST_E_NOMEM;
	}
	db_result_free(res);
	return r;
}

static int
load_attrs(struct db *db, struct devtype *dt)
{
	struct db_result *res = NULL;
	struct devtype_attr *a;
	struct db_param p[1];
	size_t i, n;
	int nomem = 0, r;

	p[0] = DB_I64(dt->id);
	if ((r = db_query(db, &dt_stmts[DT_ATTRS], p, 1, &res)) != 0)
		return r;
	if ((n = db_result_rows(res)) > 0 &&
	    (dt->attrs = calloc(n, sizeof(*dt->attrs))) == NULL)
		r = EST_E_NOMEM;
	for (i = 0; i < n && r == 0; i++) {
		a = &dt->attrs[dt->nattrs++];
		a->id = db_result_i64(res, i, 0);
		a->name = col_dup(res, i, 1, &nomem);
		a->default_value = col_dup(res, i, 3, &nomem);
		a->required = col_bool(res, i, 4);
		a->fixed = col_bool(res, i, 5);
		a->max_len = (size_t)db_result_i64(res, i, 6);
		if (nomem)
			r = EST_E_NOMEM;
		else if (a->name == NULL || a->max_len == 0 ||
			 devtype_attr_type_value(db_result_str(res, i, 2, NULL),
						 &a->type) != 0)
			r = EST_E_INTERNAL;
	}
	db_result_free(res);
	return r;
}

static int
load_maps(struct db *db, struct devtype *dt)
{
	struct db_result *res = NULL;
	struct devtype_map *m;
	struct db_param p[1];
	size_t i, n;
	int nomem = 0, r;

	p[0] = DB_I64(dt->id);
	if ((r = db_query(db, &dt_stmts[DT_MAPS], p, 1, &res)) != 0)
		return r;
	if ((n = db_result_rows(res)) > 0 &&
	    (dt->maps = calloc(n, sizeof(*dt->maps))) == NULL)
		r = EST_E_NOMEM;
	for (i = 0; i < n && r == 0; i++) {
		m = &dt->maps[dt->nmaps++];
		m->kind = db_result_isnull(res, i, 0) ? SUBJ_SAN : SUBJ_ATTR;
		m->field_id =
			db_result_i64(res, i, m->kind == SUBJ_ATTR ? 0 : 1);
		m->attr_name = col_dup(res, i, 4, &nomem);
		m->max_len = (size_t)db_result_i64(res, i, 5);
		m->default_value = col_dup(res, i, 6, &nomem);
		if (nomem) {
			r = EST_E_NOMEM;
			break;
		}
		if (devtype_source_value(db_result_str(res, i, 2, NULL),
					 &m->to.target) != 0 ||
		    (m->to.target == SUBJ_TARGET_PROPERTY &&
		     devtype_prop_value(db_result_str(res, i, 3, NULL),
					&m->to.prop) != 0) ||
		    (m->to.target == SUBJ_TARGET_ATTRIBUTE &&
		     m->attr_name == NULL)) {
			r = EST_E_INTERNAL;
			break;
		}
		m->to.attr_name = m->to.target == SUBJ_TARGET_ATTRIBUTE
					  ? m->attr_name
					  : NULL;
	}
	db_result_free(res);
	return r;
}

int
db_devtype_get(struct db *db, int64_t id, int lock, struct devtype **out)
{
	struct db_result *res = NULL;
	struct devtype *dt = NULL;
	struct db_param p[1];
	int r;

	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &dt_stmts[lock ? DT_GET_LOCK : DT_GET], p, 1,
			      &res)) != 0)
		return r;
	r = dt_from_row(res, 0, &dt);
	db_result_free(res);
	if (r != 0 || (r = load_ops(db, &dt, 1)) != 0 ||
	    (r = load_props(db, dt)) != 0 || (r = load_attrs(db, dt)) != 0 ||
	    (r = load_maps(db, dt)) != 0) {
		devtype_free(dt);
		return r;
	}
	*out = dt;
	return 0;
}

int
db_devtype_load(struct db *db, int64_t id, struct devtype **out)
{
	return db_devtype_get(db, id, 0, out);
}

void
db_devtype_list_free(struct devtype **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		devtype_free(list[i]);
	free(list);
}

int
db_devtype_list(struct db *db, const struct db_devtype_filter *f,
		int64_t after_id, size_t limit, struct devtype ***out,
		size_t *n)
{
	struct db_param p[DT_LIST_NPARAMS + 1];
	struct db_result *res = NULL;
	struct devtype **list = NULL;
	size_t rows, i, got = 0;
	int r;

	if (limit == 0 || after_id < 0 || f->scope_tenant < 0 ||
	    f->scope_org < 0 || f->tenant_id < 0 || f->org_id < 0 ||
	    f->template_id < 0 || f->external_ca_id < 0)
		return EST_E_INVAL;
	p[0] = DB_I64(after_id);
	p[1] = DB_I64(f->scope_tenant);
	p[2] = DB_I64(f->scope_shared != 0);
	p[3] = DB_I64(f->scope_tenant);
	p[4] = p[5] = DB_I64(f->scope_org);
	p[6] = DB_I64(f->scope_shared != 0);
	p[7] = p[8] = DB_STR(f->name);
	p[9] = p[10] = DB_STR(f->name_contains);
	p[11] = p[12] = DB_STR(f->scope);
	p[13] = p[14] = DB_I64(f->tenant_id);
	p[15] = p[16] = DB_I64(f->org_id);
	p[17] = p[18] = DB_I64(f->active);
	p[19] = p[20] = DB_I64(f->dar);
	p[21] = p[22] = DB_STR(f->factory_source);
	p[23] = p[24] = p[25] = DB_I64(f->template_id);
	p[26] = p[27] = DB_I64(f->external_ca_id);
	p[28] = DB_I64(limit);
	if ((r = db_query(db, &dt_stmts[DT_LIST], p, DT_LIST_NPARAMS + 1,
			  &res)) != 0)
		return r;
	rows = db_result_rows(res);
	if (rows > 0 && (list = calloc(rows, sizeof(*list))) == NULL)
		r = EST_E_NOMEM;
	for (i = 0; i < rows && r == 0; i++)
		if ((r = dt_from_row(res, i, &list[i])) == 0)
			got++;
	db_result_free(res);
	if (r == 0)
		r = load_ops(db, list, got);
	if (r != 0) {
		db_devtype_list_free(list, got);
		return r;
	}
	*out = list;
	*n = got;
	return 0;
}

/* Two counts of one row. */
static int
counts(struct db *db, int stmt, const struct db_param *p, size_t np, int64_t *a,
       int64_t *b)
{
	struct db_result *res = NULL;
	int r;

	if ((r = db_query_one(db, &dt_stmts[stmt], p, np, &res)) != 0)
		return r;
	*a = db_result_i64(res, 0, 0);
	if (b != NULL)
		*b = db_result_i64(res, 0, 1);
	db_result_free(res);
	return 0;
}

int
db_devtype_usage(struct db *db, int64_t id, int64_t *devices, int64_t *servers)
{
	struct db_param p[3];

	p[0] = p[1] = p[2] = DB_I64(id);
	return counts(db, DT_USAGE, p, 3, devices, servers);
}

int
db_devtype_misplaced(struct db *db, int64_t id, int64_t tenant_id,
		     int64_t org_id, int64_t *n)
{
	struct db_param p[12];
	size_t i;

	for (i = 0; i < 12; i += 4) {
		p[i] = DB_I64(id);
		p[i + 1] = DB_I64(tenant_id);
		p[i + 2] = p[i + 3] = DB_I64(org_id);
	}
	return counts(db, DT_MISPLACED, p, 12, n, NULL);
}

int
db_devtype_attr_in_use(struct db *db, int64_t attr_id, int64_t *n)
{
	struct db_param p[1];

	p[0] = DB_I64(attr_id);
	return counts(db, DT_ATTR_IN_USE, p, 1, n, NULL);
}

/* An UPDATE or DELETE of one row by id: EST_E_NOTFOUND when none. */
static int
exec_one(struct db *db, int stmt, const struct db_param *p, size_t n)
{
	uint64_t affected = 0;
	int r;

	if ((r = db_exec(db, &dt_stmts[stmt], p, n, &affected, NULL)) != 0)
		return r;
	return affected == 0 ? EST_E_NOTFOUND : 0;
}

int
db_devtype_set_active(struct db *db, int64_t id, int active)
{
	struct db_param p[2];

	p[0] = DB_I64(active != 0);
	p[1] = DB_I64(id);
	return exec_one(db, DT_SET_ACTIVE, p, 2);
}

int
db_devtype_delete(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return exec_one(db, DT_DELETE, p, 1);
}

int
db_devtype_extca(struct db *db, int64_t id, struct db_devtype_extca *out)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	const char *fp;
	size_t len = 0;
	int r;

	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &dt_stmts[DT_EXTCA], p, 1, &res)) != 0)
		return r;
	fp = db_result_str(res, 0, 4, &len);
	if (fp == NULL || len != sizeof(out->fingerprint)) {
		db_result_free(res);
		return EST_E_INTERNAL;
	}
	out->tenant_id = db_result_i64(res, 0, 0);
	out->org_id = db_result_i64(res, 0, 1);
	out->verified = col_bool(res, 0, 2);
	out->active = col_bool(res, 0, 3);
	memcpy(out->fingerprint, fp, len);
	db_result_free(res);
	return 0;
}

int
db_devtype_ca_fingerprint(struct db *db, int64_t id, uint8_t fp[32])
{
	struct db_result *res = NULL;
	struct db_param p[1];
	const char *v;
	size_t len = 0;
	int r;

	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &dt_stmts[DT_CA_FP], p, 1, &res)) != 0)
		return r;
	if ((v = db_result_str(res, 0, 0, &len)) == NULL || len != 32)
		r = EST_E_INTERNAL;
	else
		memcpy(fp, v, 32);
	db_result_free(res);
	return r;
}
