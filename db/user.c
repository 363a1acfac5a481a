/* Portal users. */
#include "config.h"

#include <string.h>

#include "db.h"
#include "dbq.h"
#include "err.h"

/* The columns of enum db_user_col: never the password hash. */
#define USER_COLUMNS                                                           \
	"id, username, full_name, email, role, tenant_id, org_id, active,"     \
	" cert_fingerprint,"                                                   \
	" DATE_FORMAT(last_login_at, '%Y-%m-%d %H:%i:%s.%f'),"                 \
	" DATE_FORMAT(password_changed_at, '%Y-%m-%d %H:%i:%s.%f'),"           \
	" DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f'),"                    \
	" DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f')"

static const struct db_stmt_def user_stmts[] = {
#define USER_INSERT 0
	{"user_insert",
	 "INSERT INTO users (username, password_hash, role, tenant_id,"
	 " org_id) VALUES (?, ?, ?, ?, ?)",
	 5},
#define USER_FIND 1
	{"user_find", "SELECT id FROM users WHERE username = ?", 1},
#define USER_GET 2
	{"user_get", "SELECT " USER_COLUMNS " FROM users WHERE id = ?", 1},
#define USER_GET_LOCK 3
	{"user_get_lock",
	 "SELECT " USER_COLUMNS " FROM users WHERE id = ? FOR UPDATE", 1},
#define USER_LIST 4
	{"user_list",
	 "SELECT " USER_COLUMNS " FROM users WHERE id > ?"
	 " AND (? = 0 OR tenant_id = ?)"
	 " AND (? = 0 OR org_id = ?)"
	 " AND (? = 0 OR tenant_id = ?)"
	 " AND (? = 0 OR org_id = ?)"
	 " AND (? IS NULL OR role = ?)"
	 " AND (? IS NULL OR username = ?)"
	 " AND (? IS NULL OR LOCATE(?, username) > 0)"
	 " AND (? < 0 OR active = ?)"
	 " ORDER BY id LIMIT ?",
	 18},
#define USER_INSERT_FULL 5
	{"user_insert_full",
	 "INSERT INTO users (username, full_name, email, password_hash, role,"
	 " tenant_id, org_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
	 7},
#define USER_UPDATE 6
	{"user_update",
	 "UPDATE users SET username = ?, full_name = ?, email = ?, role = ?,"
	 " tenant_id = ?, org_id = ? WHERE id = ?",
	 7},
#define USER_PWHASH 7
	{"user_pwhash",
	 "SELECT password_hash FROM users WHERE id = ? FOR UPDATE", 1},
#define USER_SET_PASSWORD 8
	{"user_set_password",
	 "UPDATE users SET password_hash = ?,"
	 " password_changed_at = UTC_TIMESTAMP(6), failed_logins = 0,"
	 " locked_until = NULL WHERE id = ?",
	 2},
#define USER_SET_ACTIVE 9
	{"user_set_active", "UPDATE users SET active = ? WHERE id = ?", 2},
#define USER_SET_CERT 10
	{"user_set_cert", "UPDATE users SET cert_fingerprint = ? WHERE id = ?",
	 2},
#define USER_DELETE 11
	{"user_delete", "DELETE FROM users WHERE id = ?", 1},
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

int
db_user_get(struct db *db, int64_t id, int lock, struct db_result **out)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return db_query_one(db, &user_stmts[lock ? USER_GET_LOCK : USER_GET], p,
			    1, out);
}

int
db_user_list(struct db *db, const struct db_user_filter *f, int64_t after_id,
	     size_t limit, struct db_result **out)
{
	struct db_param p[18];

	if (limit == 0 || after_id < 0 || f->scope_tenant < 0 ||
	    f->scope_org < 0 || f->tenant_id < 0 || f->org_id < 0 ||
	    (f->role != NULL && !user_role_valid(f->role)))
		return EST_E_INVAL;
	p[0] = DB_I64(after_id);
	p[1] = p[2] = DB_I64(f->scope_tenant);
	p[3] = p[4] = DB_I64(f->scope_org);
	p[5] = p[6] = DB_I64(f->tenant_id);
	p[7] = p[8] = DB_I64(f->org_id);
	p[9] = p[10] = DB_STR(f->role);
	p[11] = p[12] = DB_STR(f->username);
	p[13] = p[14] = DB_STR(f->username_contains);
	p[15] = p[16] = DB_I64(f->active);
	p[17] = DB_I64(limit);
	return db_query(db, &user_stmts[USER_LIST], p, 18, out);
}

/* The six parameters of a user record, in statement order. */
static int
rec_params(const struct db_user_rec *u, struct db_param *p)
{
	if (u->username == NULL || u->role == NULL ||
	    !user_role_valid(u->role) || u->tenant_id < 0 || u->org_id < 0)
		return EST_E_INVAL;
	p[0] = DB_STR(u->username);
	p[1] = DB_STR(u->full_name);
	p[2] = DB_STR(u->email);
	p[3] = DB_STR(u->role);
	p[4] = u->tenant_id > 0 ? DB_I64(u->tenant_id) : DB_NULL;
	p[5] = u->org_id > 0 ? DB_I64(u->org_id) : DB_NULL;
	return 0;
}

int
db_user_insert(struct db *db, const struct db_user_rec *u, const char *pwhash,
	       int64_t *id)
{
	struct db_param rp[6], p[7];
	uint64_t newid = 0;
	int r;

	if (pwhash == NULL)
		return EST_E_INVAL;
	if ((r = rec_params(u, rp)) != 0)
		return r;
	p[0] = rp[0];
	p[1] = rp[1];
	p[2] = rp[2];
	p[3] = DB_STR(pwhash);
	p[4] = rp[3];
	p[5] = rp[4];
	p[6] = rp[5];
	if ((r = db_exec(db, &user_stmts[USER_INSERT_FULL], p, 7, NULL,
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
db_user_update(struct db *db, int64_t id, const struct db_user_rec *u)
{
	struct db_param p[7];
	int r;

	if ((r = rec_params(u, p)) != 0)
		return r;
	p[6] = DB_I64(id);
	return exec_one(db, &user_stmts[USER_UPDATE], p, 7);
}

int
db_user_password_hash(struct db *db, int64_t id, char **out)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	const char *h;
	char *copy;
	int r;

	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &user_stmts[USER_PWHASH], p, 1, &res)) != 0)
		return r;
	h = db_result_str(res, 0, 0, NULL);
	copy = h != NULL ? strdup(h) : NULL;
	db_result_free(res);
	if (copy == NULL)
		return h != NULL ? EST_E_NOMEM : EST_E_INTERNAL;
	*out = copy;
	return 0;
}

int
db_user_set_password(struct db *db, int64_t id, const char *pwhash)
{
	struct db_param p[2];

	if (pwhash == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(pwhash);
	p[1] = DB_I64(id);
	return exec_one(db, &user_stmts[USER_SET_PASSWORD], p, 2);
}

int
db_user_set_active(struct db *db, int64_t id, int active)
{
	struct db_param p[2];

	p[0] = DB_I64(active != 0);
	p[1] = DB_I64(id);
	return exec_one(db, &user_stmts[USER_SET_ACTIVE], p, 2);
}

int
db_user_set_cert(struct db *db, int64_t id, const uint8_t *fp)
{
	struct db_param p[2];

	p[0] = fp != NULL ? DB_BLOB(fp, 32) : DB_NULL;
	p[1] = DB_I64(id);
	return exec_one(db, &user_stmts[USER_SET_CERT], p, 2);
}

int
db_user_delete(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return exec_one(db, &user_stmts[USER_DELETE], p, 1);
}
