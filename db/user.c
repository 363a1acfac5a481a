/* Portal users. */
#include "config.h"

#include <string.h>

#include "db.h"
#include "dbq.h"
#include "err.h"

static const struct db_stmt_def user_stmts[] = {
#define USER_INSERT 0
	{"user_insert",
	 "INSERT INTO users (username, password_hash, role, tenant_id,"
	 " org_id) VALUES (?, ?, ?, ?, ?)",
	 5},
#define USER_FIND 1
	{"user_find", "SELECT id FROM users WHERE username = ?", 1},
};

/* The roles users.role accepts; anything else is refused before SQL. */
static const char *const user_roles[] = {
	ROLE_ADMIN,	     ROLE_AUDITOR,	   ROLE_TENANT_ADMIN,
	ROLE_TENANT_AUDITOR, ROLE_TENANT_OPERATOR, ROLE_ORG_OPERATOR,
};

static int
user_role_valid(const char *role)
{
	size_t i;

	for (i = 0; i < sizeof(user_roles) / sizeof(user_roles[0]); i++)
		if (strcmp(role, user_roles[i]) == 0)
			return 1;
	return 0;
}

int
db_user_create(struct db *db, const char *username, const char *pwhash,
	       const char *role, int64_t tenant_id, int64_t org_id, int64_t *id)
{
	struct db_param p[5];
	uint64_t newid = 0;
	int r;

	if (username == NULL || pwhash == NULL || role == NULL ||
	    !user_role_valid(role) || tenant_id < 0 || org_id < 0)
		return EST_E_INVAL;
	p[0] = DB_STR(username);
	p[1] = DB_STR(pwhash);
	p[2] = DB_STR(role);
	p[3] = tenant_id > 0 ? DB_I64(tenant_id) : DB_NULL;
	p[4] = org_id > 0 ? DB_I64(org_id) : DB_NULL;
	if ((r = db_exec(db, &user_stmts[USER_INSERT], p, 5, NULL, &newid)) !=
	    0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

int
db_user_find(struct db *db, const char *username, int64_t *id)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	int r;

	if (username == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(username);
	if ((r = db_query_one(db, &user_stmts[USER_FIND], p, 1, &res)) != 0)
		return r;
	*id = db_result_i64(res, 0, 0);
	db_result_free(res);
	return 0;
}
