/* Custom extensions (the custom_extensions table). */
#include "config.h"

#include <string.h>

#include "db.h"
#include "err.h"
#include "template.h"

/* The columns of enum db_custext_col. */
#define CUSTEXT_COLUMNS                                                        \
	"id, name, description, oid, critical, value_type, value, value_der,"  \
	" scope, tenant_id, org_id, active,"                                   \
	" DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f'),"                    \
	" DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f')"

#define CUSTEXT_SET_COLUMNS                                                    \
	"name = ?, description = ?, oid = ?, critical = ?, value_type = ?,"    \
	" value = ?, value_der = ?, scope = ?, tenant_id = ?, org_id = ?"
#define W_NCOLS 10

static const struct db_stmt_def custext_stmts[] = {
#define X_GET 0
	{"custext_get",
	 "SELECT " CUSTEXT_COLUMNS " FROM custom_extensions WHERE id = ?", 1},
#define X_GET_LOCK 1
	{"custext_get_lock",
	 "SELECT " CUSTEXT_COLUMNS " FROM custom_extensions WHERE id = ?"
	 " FOR UPDATE",
	 1},
#define X_LIST 2
	{"custext_list",
	 "SELECT " CUSTEXT_COLUMNS " FROM custom_extensions WHERE id > ?"
	 " AND (? = 0 OR (tenant_id = ? AND (? = 0 OR org_id = ?))"
	 "  OR (? AND tenant_id = ? AND scope = 'tenant')"
	 "  OR (? AND scope = 'global'))"
	 " AND (? IS NULL OR name = ?)"
	 " AND (? IS NULL OR LOCATE(?, name) > 0)"
	 " AND (? IS NULL OR oid = ?)"
	 " AND (? IS NULL OR scope = ?)"
	 " AND (? = 0 OR tenant_id = ?)"
	 " AND (? = 0 OR org_id = ?)"
	 " AND (? < 0 OR active = ?)"
	 " ORDER BY id LIMIT ?",
	 23},
#define X_INSERT 3
	{"custext_insert",
	 "INSERT INTO custom_extensions SET " CUSTEXT_SET_COLUMNS
	 ", created_by_user_id = ?",
	 W_NCOLS + 1},
#define X_UPDATE 4
	{"custext_update",
	 "UPDATE custom_extensions SET " CUSTEXT_SET_COLUMNS " WHERE id = ?",
	 W_NCOLS + 1},
#define X_SET_ACTIVE 5
	{"custext_set_active",
	 "UPDATE custom_extensions SET active = ? WHERE id = ?", 2},
#define X_IN_USE 6
	{"custext_in_use",
	 "SELECT COUNT(*) FROM cert_template_extensions"
	 " WHERE extension_id = ?",
	 1},
#define X_DELETE 7
	{"custext_delete", "DELETE FROM custom_extensions WHERE id = ?", 1},
};

int
db_custext_get(struct db *db, int64_t id, int lock, struct db_result **out)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return db_query_one(db, &custext_stmts[lock ? X_GET_LOCK : X_GET], p, 1,
			    out);
}

int
db_custext_list(struct db *db, const struct db_custext_filter *f,
		int64_t after_id, size_t limit, struct db_result **out)
{
	struct db_param p[23];

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
	p[12] = p[13] = DB_STR(f->oid);
	p[14] = p[15] = DB_STR(f->scope);
	p[16] = p[17] = DB_I64(f->tenant_id);
	p[18] = p[19] = DB_I64(f->org_id);
	p[20] = p[21] = DB_I64(f->active);
	p[22] = DB_I64(limit);
	return db_query(db, &custext_stmts[X_LIST], p, 23, out);
}

static int
write_params(const struct db_custext_rec *x, struct db_param *p)
{
	if (x->name == NULL || x->oid == NULL || x->value_type == NULL ||
	    x->value == NULL || x->der == NULL || x->derlen == 0 ||
	    x->scope == NULL || x->tenant_id < 0 || x->org_id < 0)
		return EST_E_INVAL;
	p[0] = DB_STR(x->name);
	p[1] = DB_STR(x->description);
	p[2] = DB_STR(x->oid);
	p[3] = DB_I64(x->critical != 0);
	p[4] = DB_STR(x->value_type);
	p[5] = DB_STR(x->value);
	p[6] = DB_BLOB(x->der, x->derlen);
	p[7] = DB_STR(x->scope);
	p[8] = x->tenant_id > 0 ? DB_I64(x->tenant_id) : DB_NULL;
	p[9] = x->org_id > 0 ? DB_I64(x->org_id) : DB_NULL;
	return 0;
}

int
db_custext_insert(struct db *db, const struct db_custext_rec *x,
		  int64_t created_by, int64_t *id)
{
	struct db_param p[W_NCOLS + 1];
	uint64_t newid = 0;
	int r;

	if ((r = write_params(x, p)) != 0)
		return r;
	p[W_NCOLS] = created_by > 0 ? DB_I64(created_by) : DB_NULL;
	if ((r = db_exec(db, &custext_stmts[X_INSERT], p, W_NCOLS + 1, NULL,
			 &newid)) != 0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

/* An UPDATE or DELETE of one row by id: EST_E_NOTFOUND when none. */
static int
exec_one(struct db *db, const struct db_stmt_def *def, const struct db_param *p,
	 size_t n)
{
	uint64_t affected = 0;
	int r;

	if ((r = db_exec(db, def, p, n, &affected, NULL)) != 0)
		return r;
	return affected == 0 ? EST_E_NOTFOUND : 0;
}

int
db_custext_update(struct db *db, int64_t id, const struct db_custext_rec *x)
{
	struct db_param p[W_NCOLS + 1];
	int r;

	if ((r = write_params(x, p)) != 0)
		return r;
	p[W_NCOLS] = DB_I64(id);
	return exec_one(db, &custext_stmts[X_UPDATE], p, W_NCOLS + 1);
}

int
db_custext_set_active(struct db *db, int64_t id, int active)
{
	struct db_param p[2];

	p[0] = DB_I64(active != 0);
	p[1] = DB_I64(id);
	return exec_one(db, &custext_stmts[X_SET_ACTIVE], p, 2);
}

int
db_custext_in_use(struct db *db, int64_t id, int64_t *n)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	int r;

	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &custext_stmts[X_IN_USE], p, 1, &res)) != 0)
		return r;
	*n = db_result_i64(res, 0, 0);
	db_result_free(res);
	return 0;
}

int
db_custext_delete(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return exec_one(db, &custext_stmts[X_DELETE], p, 1);
}
