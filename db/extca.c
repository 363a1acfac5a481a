/* External CAs: the external_cas table (see extca.h). */
#include "config.h"

#include <string.h>

#include "db.h"
#include "err.h"
#include "extca.h"
#include "extcert.h"

/* The columns of enum db_extca_col; cert and code are the variable ones. */
#define EXTCA_COLUMNS(cert, code)                                              \
	"e.id, e.name, e.description, e.tenant_id, e.org_id, " cert ","        \
	" e.subject, e.subject_hash, e.ski, e.fingerprint,"                    \
	" DATE_FORMAT(e.not_before, '%Y-%m-%d %H:%i:%s'),"                     \
	" DATE_FORMAT(e.not_after, '%Y-%m-%d %H:%i:%s'),"                      \
	" e.status, e.active, " code ","                                       \
	" DATE_FORMAT(e.verification_expires_at, '%Y-%m-%d %H:%i:%s.%f'),"     \
	" IFNULL(e.verification_expires_at > UTC_TIMESTAMP(6), 0),"            \
	" DATE_FORMAT(e.verified_at, '%Y-%m-%d %H:%i:%s.%f'),"                 \
	" e.verified_by_user_id, e.created_by_user_id,"                        \
	" DATE_FORMAT(e.created_at, '%Y-%m-%d %H:%i:%s.%f'),"                  \
	" DATE_FORMAT(e.updated_at, '%Y-%m-%d %H:%i:%s.%f')"                   \
	" FROM external_cas e"
#define EXTCA_ROW EXTCA_COLUMNS("e.cert_der", "e.verification_code")
/* Lists leave out what only the single object shows. */
#define EXTCA_LIST_ROW EXTCA_COLUMNS("NULL", "NULL")
/* What the EST code may trust. */
#define EXTCA_TRUSTED " e.status = 'verified' AND e.active"
#define EXTCA_IN_TENANT                                                        \
	" e.tenant_id = ? AND (? = 0 OR e.org_id IS NULL OR e.org_id = ?)"

static const struct db_stmt_def extca_stmts[] = {
#define EXTCA_INSERT 0
	{"extca_insert",
	 "INSERT INTO external_cas (name, description, tenant_id, org_id,"
	 " cert_der, subject, subject_hash, ski, fingerprint, not_before,"
	 " not_after, status, verified_at, verified_by_user_id,"
	 " created_by_user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	 " IF(? <> 0, UTC_TIMESTAMP(6), NULL), ?, ?)",
	 15},
#define EXTCA_GET 1
	{"extca_get", "SELECT " EXTCA_ROW " WHERE e.id = ?", 1},
#define EXTCA_GET_LOCK 2
	{"extca_get_lock", "SELECT " EXTCA_ROW " WHERE e.id = ? FOR UPDATE", 1},
#define EXTCA_FIND_CERT 3
	{"extca_find_cert",
	 "SELECT id FROM external_cas WHERE tenant_id = ? AND fingerprint = ?",
	 2},
#define EXTCA_LIST 4
	{"extca_list",
	 "SELECT " EXTCA_LIST_ROW " WHERE e.id > ?"
	 " AND (? = 0 OR e.tenant_id = ?)"
	 " AND (? = 0 OR e.org_id = ? OR (? <> 0 AND e.org_id IS NULL))"
	 " AND (? = 0 OR e.tenant_id = ?)"
	 " AND (? = 0 OR e.org_id = ?)"
	 " AND (? IS NULL OR (? = 'organization') = (e.org_id IS NOT NULL))"
	 " AND (? IS NULL OR e.name = ?)"
	 " AND (? IS NULL OR LEFT(e.name, CHAR_LENGTH(?)) = ?)"
	 " AND (? IS NULL OR LOCATE(?, e.name) > 0)"
	 " AND (? IS NULL OR e.status = ?)"
	 " AND (? < 0 OR e.active = ?)"
	 " ORDER BY e.id LIMIT ?",
	 24},
#define EXTCA_UPDATE 5
	{"extca_update",
	 "UPDATE external_cas SET name = ?, description = ? WHERE id = ?", 3},
#define EXTCA_SET_ACTIVE 6
	{"extca_set_active", "UPDATE external_cas SET active = ? WHERE id = ?",
	 2},
#define EXTCA_SET_CODE 7
	{"extca_set_code",
	 "UPDATE external_cas SET verification_code = ?,"
	 " verification_expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND"
	 " WHERE id = ?",
	 3},
#define EXTCA_SET_VERIFIED 8
	{"extca_set_verified",
	 "UPDATE external_cas SET status = 'verified',"
	 " verified_at = UTC_TIMESTAMP(6), verified_by_user_id = ?,"
	 " verification_code = NULL, verification_expires_at = NULL"
	 " WHERE id = ?",
	 2},
#define EXTCA_USERS 9
	{"extca_users",
	 "SELECT COUNT(*) FROM device_types WHERE external_ca_id = ?", 1},
#define EXTCA_DELETE 10
	{"extca_delete", "DELETE FROM external_cas WHERE id = ? AND NOT active",
	 1},
#define EXTCA_BY_SUBJECT 11
	{"extca_by_subject",
	 "SELECT " EXTCA_ROW " WHERE e.subject_hash = ? AND" EXTCA_IN_TENANT
	 " AND" EXTCA_TRUSTED " ORDER BY e.id",
	 4},
#define EXTCA_BY_SKI 12
	{"extca_by_ski",
	 "SELECT " EXTCA_ROW " WHERE e.ski = ? AND" EXTCA_IN_TENANT
	 " AND" EXTCA_TRUSTED " ORDER BY e.id",
	 4},
#define EXTCA_TRUSTED_ALL 13
	{"extca_trusted",
	 "SELECT " EXTCA_ROW " WHERE" EXTCA_TRUSTED " ORDER BY e.id", 0},
};

int
db_extca_insert(struct db *db, const struct db_extca_new *n, int64_t *id)
{
	struct extcert_info *ci = NULL;
	struct db_param p[15];
	uint64_t newid = 0;
	int r;

	if (n == NULL || n->name == NULL || n->cert_der == NULL ||
	    n->tenant_id <= 0 || n->org_id < 0 || n->user_id < 0)
		return EST_E_INVAL;
	if ((r = extcert_info_new(n->cert_der, n->cert_len, &ci)) != 0)
		return r;
	p[0] = DB_STR(n->name);
	p[1] = DB_STR(n->description);
	p[2] = DB_I64(n->tenant_id);
	p[3] = n->org_id > 0 ? DB_I64(n->org_id) : DB_NULL;
	p[4] = DB_BLOB(n->cert_der, n->cert_len);
	p[5] = DB_STR(ci->subject);
	p[6] = DB_BLOB(ci->subject_hash, sizeof(ci->subject_hash));
	p[7] = ci->ski_len > 0 ? DB_BLOB(ci->ski, ci->ski_len) : DB_NULL;
	p[8] = DB_BLOB(ci->fingerprint, sizeof(ci->fingerprint));
	p[9] = DB_STRN(ci->not_before, strlen(ci->not_before));
	p[10] = DB_STRN(ci->not_after, strlen(ci->not_after));
	p[11] = DB_STR(n->verified ? EXTCA_STATUS_VERIFIED
				   : EXTCA_STATUS_UNVERIFIED);
	p[12] = DB_I64(n->verified != 0);
	p[13] = n->verified && n->user_id > 0 ? DB_I64(n->user_id) : DB_NULL;
	p[14] = n->user_id > 0 ? DB_I64(n->user_id) : DB_NULL;
	r = db_exec(db, &extca_stmts[EXTCA_INSERT], p, 15, NULL, &newid);
	extcert_info_free(ci);
	if (r != 0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

int
db_extca_get(struct db *db, int64_t id, int lock, struct db_result **out)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return db_query_one(db, &extca_stmts[lock ? EXTCA_GET_LOCK : EXTCA_GET],
			    p, 1, out);
}

int
db_extca_find_cert(struct db *db, int64_t tenant_id, const uint8_t fp[32],
		   int64_t *id)
{
	struct db_result *res = NULL;
	struct db_param p[2];
	int r;

	p[0] = DB_I64(tenant_id);
	p[1] = DB_BLOB(fp, 32);
	if ((r = db_query_one(db, &extca_stmts[EXTCA_FIND_CERT], p, 2, &res)) !=
	    0)
		return r;
	*id = db_result_i64(res, 0, 0);
	db_result_free(res);
	return 0;
}

int
db_extca_list(struct db *db, const struct db_extca_filter *f, int64_t after_id,
	      size_t limit, struct db_result **out)
{
	struct db_param p[24];

	if (limit == 0 || after_id < 0 || f->scope_tenant < 0 ||
	    f->scope_org < 0 || f->tenant_id < 0 || f->org_id < 0)
		return EST_E_INVAL;
	p[0] = DB_I64(after_id);
	p[1] = p[2] = DB_I64(f->scope_tenant);
	p[3] = p[4] = DB_I64(f->scope_org);
	p[5] = DB_I64(f->scope_org != 0 && f->scope_shared);
	p[6] = p[7] = DB_I64(f->tenant_id);
	p[8] = p[9] = DB_I64(f->org_id);
	p[10] = p[11] = DB_STR(f->scope);
	p[12] = p[13] = DB_STR(f->name);
	p[14] = p[15] = p[16] = DB_STR(f->name_prefix);
	p[17] = p[18] = DB_STR(f->name_contains);
	p[19] = p[20] = DB_STR(f->status);
	p[21] = p[22] = DB_I64(f->active);
	p[23] = DB_I64(limit);
	return db_query(db, &extca_stmts[EXTCA_LIST], p, 24, out);
}

/* An UPDATE or DELETE of one row by id: EST_E_NOTFOUND when none. */
static int
exec_one(struct db *db, int stmt, const struct db_param *p, size_t n)
{
	uint64_t affected = 0;
	int r;

	if ((r = db_exec(db, &extca_stmts[stmt], p, n, &affected, NULL)) != 0)
		return r;
	return affected == 0 ? EST_E_NOTFOUND : 0;
}

int
db_extca_update(struct db *db, int64_t id, const char *name,
		const char *description)
{
	struct db_param p[3];

	if (name == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(name);
	p[1] = DB_STR(description);
	p[2] = DB_I64(id);
	return exec_one(db, EXTCA_UPDATE, p, 3);
}

int
db_extca_set_active(struct db *db, int64_t id, int active)
{
	struct db_param p[2];

	p[0] = DB_I64(active != 0);
	p[1] = DB_I64(id);
	return exec_one(db, EXTCA_SET_ACTIVE, p, 2);
}

int
db_extca_set_code(struct db *db, int64_t id, const char *code, int64_t ttl)
{
	struct db_param p[3];

	if (code == NULL || ttl <= 0)
		return EST_E_INVAL;
	p[0] = DB_STR(code);
	p[1] = DB_I64(ttl);
	p[2] = DB_I64(id);
	return exec_one(db, EXTCA_SET_CODE, p, 3);
}

int
db_extca_set_verified(struct db *db, int64_t id, int64_t user_id)
{
	struct db_param p[2];

	p[0] = user_id > 0 ? DB_I64(user_id) : DB_NULL;
	p[1] = DB_I64(id);
	return exec_one(db, EXTCA_SET_VERIFIED, p, 2);
}

int
db_extca_users(struct db *db, int64_t id, int64_t *n)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	int r;

	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &extca_stmts[EXTCA_USERS], p, 1, &res)) != 0)
		return r;
	*n = db_result_i64(res, 0, 0);
	db_result_free(res);
	return 0;
}

int
db_extca_delete(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return exec_one(db, EXTCA_DELETE, p, 1);
}

static int
find_trusted(struct db *db, int stmt, int64_t tenant_id, int64_t org_id,
	     const uint8_t *key, size_t len, struct db_result **out)
{
	struct db_param p[4];

	if (tenant_id <= 0 || org_id < 0 || key == NULL || len == 0)
		return EST_E_INVAL;
	p[0] = DB_BLOB(key, len);
	p[1] = DB_I64(tenant_id);
	p[2] = p[3] = DB_I64(org_id);
	return db_query(db, &extca_stmts[stmt], p, 4, out);
}

int
db_extca_find_by_subject(struct db *db, int64_t tenant_id, int64_t org_id,
			 const uint8_t hash[32], struct db_result **out)
{
	return find_trusted(db, EXTCA_BY_SUBJECT, tenant_id, org_id, hash, 32,
			    out);
}

int
db_extca_find_by_ski(struct db *db, int64_t tenant_id, int64_t org_id,
		     const uint8_t *ski, size_t len, struct db_result **out)
{
	return find_trusted(db, EXTCA_BY_SKI, tenant_id, org_id, ski, len, out);
}

int
db_extca_list_trusted(struct db *db, struct db_result **out)
{
	return db_query(db, &extca_stmts[EXTCA_TRUSTED_ALL], NULL, 0, out);
}
