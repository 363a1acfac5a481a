/* Tenants and organizations. */
#include "config.h"

#include <string.h>

#include "db.h"
#include "dbq.h"
#include "err.h"

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
