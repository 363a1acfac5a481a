/* Tenants and organizations. */
#include "config.h"

#include <string.h>

#include "db.h"
#include "dbq.h"
#include "err.h"

/*
 * The columns of enum db_tenant_col.  Times are formatted here so that
 * their text (the ETag's version) never depends on the client library.
 */
#define TENANT_COLUMNS                                                         \
	"id, name, description, active,"                                       \
	" DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f'),"                    \
	" DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f')"

static const struct db_stmt_def tenant_stmts[] = {
#define TENANT_INSERT 0
	{"tenant_insert",
	 "INSERT INTO tenants (name, description) VALUES (?, ?)", 2},
#define TENANT_FIND 1
	{"tenant_find", "SELECT id FROM tenants WHERE name = ?", 1},
#define ORG_INSERT 2
	{"org_insert",
	 "INSERT INTO organizations (tenant_id, name, description)"
	 " VALUES (?, ?, ?)",
	 3},
#define ORG_FIND 3
	{"org_find",
	 "SELECT id FROM organizations WHERE tenant_id = ? AND name = ?", 2},
#define TENANT_GET 4
	{"tenant_get", "SELECT " TENANT_COLUMNS " FROM tenants WHERE id = ?",
	 1},
#define TENANT_GET_LOCK 5
	{"tenant_get_lock",
	 "SELECT " TENANT_COLUMNS " FROM tenants WHERE id = ? FOR UPDATE", 1},
#define TENANT_LIST 6
	{"tenant_list",
	 "SELECT " TENANT_COLUMNS " FROM tenants WHERE id > ?"
	 " AND (? = 0 OR id = ?)"
	 " AND (? IS NULL OR name = ?)"
	 " AND (? IS NULL OR LEFT(name, CHAR_LENGTH(?)) = ?)"
	 " AND (? IS NULL OR LOCATE(?, name) > 0)"
	 " AND (? < 0 OR active = ?)"
	 " ORDER BY id LIMIT ?",
	 13},
#define TENANT_UPDATE 7
	{"tenant_update",
	 "UPDATE tenants SET name = ?, description = ? WHERE id = ?", 3},
#define TENANT_SET_ACTIVE 8
	{"tenant_set_active", "UPDATE tenants SET active = ? WHERE id = ?", 2},
#define TENANT_DELETE 9
	{"tenant_delete", "DELETE FROM tenants WHERE id = ?", 1},
};

/* Runs a one-column id query; sets *id only on success. */
static int
find_id(struct db *db, const struct db_stmt_def *def, const struct db_param *p,
	size_t n, int64_t *id)
{
	struct db_result *res = NULL;
	int r;

	if ((r = db_query_one(db, def, p, n, &res)) != 0)
		return r;
	*id = db_result_i64(res, 0, 0);
	db_result_free(res);
	return 0;
}

int
db_tenant_create(struct db *db, const char *name, const char *description,
		 int64_t *id)
{
	struct db_param p[2];
	uint64_t newid = 0;
	int r;

	if (name == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(name);
	p[1] = DB_STR(description);
	if ((r = db_exec(db, &tenant_stmts[TENANT_INSERT], p, 2, NULL,
			 &newid)) != 0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

int
db_tenant_find(struct db *db, const char *name, int64_t *id)
{
	struct db_param p[1];

	if (name == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(name);
	return find_id(db, &tenant_stmts[TENANT_FIND], p, 1, id);
}

int
db_org_create(struct db *db, int64_t tenant_id, const char *name,
	      const char *description, int64_t *id)
{
	struct db_param p[3];
	uint64_t newid = 0;
	int r;

	if (name == NULL || tenant_id <= 0)
		return EST_E_INVAL;
	p[0] = DB_I64(tenant_id);
	p[1] = DB_STR(name);
	p[2] = DB_STR(description);
	if ((r = db_exec(db, &tenant_stmts[ORG_INSERT], p, 3, NULL, &newid)) !=
	    0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

int
db_org_find(struct db *db, int64_t tenant_id, const char *name, int64_t *id)
{
	struct db_param p[2];

	if (name == NULL)
		return EST_E_INVAL;
	p[0] = DB_I64(tenant_id);
	p[1] = DB_STR(name);
	return find_id(db, &tenant_stmts[ORG_FIND], p, 2, id);
}

int
db_tenant_get(struct db *db, int64_t id, int lock, struct db_result **out)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return db_query_one(db,
			    &tenant_stmts[lock ? TENANT_GET_LOCK : TENANT_GET],
			    p, 1, out);
}

int
db_tenant_list(struct db *db, const struct db_tenant_filter *f,
	       int64_t after_id, size_t limit, struct db_result **out)
{
	struct db_param p[13];

	if (limit == 0 || f->scope_id < 0 || after_id < 0)
		return EST_E_INVAL;
	p[0] = DB_I64(after_id);
	p[1] = p[2] = DB_I64(f->scope_id);
	p[3] = p[4] = DB_STR(f->name);
	p[5] = p[6] = p[7] = DB_STR(f->name_prefix);
	p[8] = p[9] = DB_STR(f->name_contains);
	p[10] = p[11] = DB_I64(f->active);
	p[12] = DB_I64(limit);
	return db_query(db, &tenant_stmts[TENANT_LIST], p, 13, out);
}

int
db_tenant_update(struct db *db, int64_t id, const char *name,
		 const char *description)
{
	struct db_param p[3];
	uint64_t n = 0;
	int r;

	if (name == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(name);
	p[1] = DB_STR(description);
	p[2] = DB_I64(id);
	if ((r = db_exec(db, &tenant_stmts[TENANT_UPDATE], p, 3, &n, NULL)) !=
	    0)
		return r;
	return n == 0 ? EST_E_NOTFOUND : 0;
}

int
db_tenant_set_active(struct db *db, int64_t id, int active)
{
	struct db_param p[2];
	uint64_t n = 0;
	int r;

	p[0] = DB_I64(active != 0);
	p[1] = DB_I64(id);
	if ((r = db_exec(db, &tenant_stmts[TENANT_SET_ACTIVE], p, 2, &n,
			 NULL)) != 0)
		return r;
	return n == 0 ? EST_E_NOTFOUND : 0;
}

int
db_tenant_delete(struct db *db, int64_t id)
{
	struct db_param p[1];
	uint64_t n = 0;
	int r;

	p[0] = DB_I64(id);
	if ((r = db_exec(db, &tenant_stmts[TENANT_DELETE], p, 1, &n, NULL)) !=
	    0)
		return r;
	return n == 0 ? EST_E_NOTFOUND : 0;
}
