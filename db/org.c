/* Organizations as the administration API reads and changes them. */
#include "config.h"

#include <string.h>

#include "db.h"
#include "dbq.h"
#include "err.h"

/*
 * The columns of enum db_org_col, the tenant's active flag last: an
 * organization of an inactive tenant is not offered for selection either.
 */
#define ORG_COLUMNS                                                            \
	"o.id, o.tenant_id, o.name, o.description, o.active,"                  \
	" DATE_FORMAT(o.created_at, '%Y-%m-%d %H:%i:%s.%f'),"                  \
	" DATE_FORMAT(o.updated_at, '%Y-%m-%d %H:%i:%s.%f'), t.active"
#define ORG_FROM " FROM organizations o JOIN tenants t ON t.id = o.tenant_id"

static const struct db_stmt_def org_stmts[] = {
#define ORG_GET 0
	{"org_get", "SELECT " ORG_COLUMNS ORG_FROM " WHERE o.id = ?", 1},
#define ORG_GET_LOCK 1
	{"org_get_lock",
	 "SELECT " ORG_COLUMNS ORG_FROM " WHERE o.id = ? FOR UPDATE", 1},
#define ORG_LIST 2
	{"org_list",
	 "SELECT " ORG_COLUMNS ORG_FROM " WHERE o.id > ?"
	 " AND (? = 0 OR o.tenant_id = ?)"
	 " AND (? = 0 OR o.id = ?)"
	 " AND (? = 0 OR o.tenant_id = ?)"
	 " AND (? IS NULL OR o.name = ?)"
	 " AND (? IS NULL OR LEFT(o.name, CHAR_LENGTH(?)) = ?)"
	 " AND (? IS NULL OR LOCATE(?, o.name) > 0)"
	 " AND (? < 0 OR o.active = ?)"
	 " ORDER BY o.id LIMIT ?",
	 17},
#define ORG_UPDATE 3
	{"org_update",
	 "UPDATE organizations SET name = ?, description = ? WHERE id = ?", 3},
#define ORG_SET_ACTIVE 4
	{"org_set_active", "UPDATE organizations SET active = ? WHERE id = ?",
	 2},
#define ORG_DELETE 5
	{"org_delete", "DELETE FROM organizations WHERE id = ?", 1},
};

int
db_org_get(struct db *db, int64_t id, int lock, struct db_result **out)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return db_query_one(db, &org_stmts[lock ? ORG_GET_LOCK : ORG_GET], p, 1,
			    out);
}

int
db_org_list(struct db *db, const struct db_org_filter *f, int64_t after_id,
	    size_t limit, struct db_result **out)
{
	struct db_param p[17];

	if (limit == 0 || after_id < 0 || f->scope_tenant < 0 ||
	    f->scope_org < 0 || f->tenant_id < 0)
		return EST_E_INVAL;
	p[0] = DB_I64(after_id);
	p[1] = p[2] = DB_I64(f->scope_tenant);
	p[3] = p[4] = DB_I64(f->scope_org);
	p[5] = p[6] = DB_I64(f->tenant_id);
	p[7] = p[8] = DB_STR(f->name);
	p[9] = p[10] = p[11] = DB_STR(f->name_prefix);
	p[12] = p[13] = DB_STR(f->name_contains);
	p[14] = p[15] = DB_I64(f->active);
	p[16] = DB_I64(limit);
	return db_query(db, &org_stmts[ORG_LIST], p, 17, out);
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
db_org_update(struct db *db, int64_t id, const char *name,
	      const char *description)
{
	struct db_param p[3];

	if (name == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(name);
	p[1] = DB_STR(description);
	p[2] = DB_I64(id);
	return exec_one(db, &org_stmts[ORG_UPDATE], p, 3);
}

int
db_org_set_active(struct db *db, int64_t id, int active)
{
	struct db_param p[2];

	p[0] = DB_I64(active != 0);
	p[1] = DB_I64(id);
	return exec_one(db, &org_stmts[ORG_SET_ACTIVE], p, 2);
}

int
db_org_delete(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return exec_one(db, &org_stmts[ORG_DELETE], p, 1);
}
