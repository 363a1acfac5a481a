/* API applications: credentials and the api_applications table. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "apiapp.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "passwd.h"
#include "util.h"

#define APIAPP_FROM                                                            \
	" FROM api_applications a JOIN tenants t ON t.id = a.tenant_id"        \
	" LEFT JOIN organizations o ON o.id = a.org_id"

static const struct db_stmt_def apiapp_stmts[] = {
#define APIAPP_INSERT 0
	{"apiapp_insert",
	 "INSERT INTO api_applications (app_id, name, description, key_hash,"
	 " tenant_id, org_id, role, expires_at, created_by_user_id)"
	 " VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6) + INTERVAL ? DAY, ?)",
	 9},
#define APIAPP_GET_BY_APP_ID 1
	{"apiapp_get_by_app_id",
	 "SELECT " APIAPP_COLUMNS APIAPP_FROM " WHERE a.app_id = ?", 1},
#define APIAPP_GET_BY_CERT 2
	{"apiapp_get_by_cert",
	 "SELECT " APIAPP_COLUMNS APIAPP_FROM " WHERE a.cert_fingerprint = ?",
	 1},
#define APIAPP_TOUCH 3
	{"apiapp_touch",
	 "UPDATE api_applications SET last_used_at = UTC_TIMESTAMP(6),"
	 " updated_at = updated_at WHERE id = ? AND (last_used_at IS NULL"
	 " OR last_used_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND)",
	 2},
};

/* Roles an application may have (api_applications.role). */
static const char *const apiapp_roles[] = {
	ROLE_TENANT_ADMIN,
	ROLE_TENANT_AUDITOR,
	ROLE_TENANT_OPERATOR,
	ROLE_ORG_OPERATOR,
};

static int
key_digest(const char *key, uint8_t md[32])
{
	unsigned int mdlen = 0;

	if (EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return EST_E_CRYPTO;
	return 0;
}

int
apiapp_key_hash(const char *key, char out[APIAPP_KEY_HASH_LEN + 1])
{
	const size_t plen = sizeof(APIAPP_KEY_HASH_PREFIX) - 1;
	uint8_t md[32];
	int r;

	if (key == NULL || key[0] == '\0')
		return EST_E_INVAL;
	if ((r = key_digest(key, md)) != 0)
		return r;
	memcpy(out, APIAPP_KEY_HASH_PREFIX, plen);
	hex_encode(md, sizeof(md), out + plen);
	explicit_bzero(md, sizeof(md));
	return 0;
}

int
apiapp_key_check(const char *key, const char *stored)
{
	const size_t plen = sizeof(APIAPP_KEY_HASH_PREFIX) - 1;
	uint8_t want[32], got[32];
	int r = EST_E_DENIED;

	if (key == NULL || stored == NULL ||
	    strlen(stored) != APIAPP_KEY_HASH_LEN ||
	    memcmp(stored, APIAPP_KEY_HASH_PREFIX, plen) != 0 ||
	    hex_decode(stored + plen, want, sizeof(want)) != 0)
		return EST_E_DENIED;
	if (key_digest(key, got) == 0 &&
	    timingsafe_memcmp(want, got, sizeof(got)) == 0)
		r = 0;
	explicit_bzero(got, sizeof(got));
	return r;
}

int
apiapp_id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == APIAPP_ID_LEN;
}

int
apiapp_credentials_new(char app_id[APIAPP_ID_LEN + 1], char **key,
		       char key_hash[APIAPP_KEY_HASH_LEN + 1])
{
	uint8_t id[APIAPP_ID_BYTES];
	char *k = NULL;
	int r;

	if ((r = random_bytes(id, sizeof(id))) != 0 ||
	    (r = passwd_generate(APIAPP_KEY_BYTES, &k)) != 0 ||
	    (r = apiapp_key_hash(k, key_hash)) != 0) {
		freezero_str(k);
		return r;
	}
	hex_encode(id, sizeof(id), app_id);
	*key = k;
	return 0;
}

static int
role_valid(const char *role)
{
	size_t i;

	for (i = 0; i < sizeof(apiapp_roles) / sizeof(apiapp_roles[0]); i++)
		if (strcmp(role, apiapp_roles[i]) == 0)
			return 1;
	return 0;
}

int
db_apiapp_create(struct db *db, const struct db_apiapp_new *n, int64_t *id)
{
	struct db_param p[9];
	uint64_t newid = 0;
	int r;

	if (n == NULL || n->app_id == NULL || !apiapp_id_valid(n->app_id) ||
	    n->name == NULL || n->key_hash == NULL ||
	    strlen(n->key_hash) != APIAPP_KEY_HASH_LEN || n->role == NULL ||
	    !role_valid(n->role) || n->tenant_id <= 0 || n->org_id < 0 ||
	    (strcmp(n->role, ROLE_ORG_OPERATOR) == 0) != (n->org_id > 0) ||
	    n->expires_days < 0 || n->created_by < 0)
		return EST_E_INVAL;
	p[0] = DB_STR(n->app_id);
	p[1] = DB_STR(n->name);
	p[2] = DB_STR(n->description);
	p[3] = DB_STR(n->key_hash);
	p[4] = DB_I64(n->tenant_id);
	p[5] = n->org_id > 0 ? DB_I64(n->org_id) : DB_NULL;
	p[6] = DB_STR(n->role);
	/* NULL + INTERVAL is NULL: no expiry. */
	p[7] = n->expires_days > 0 ? DB_I64(n->expires_days) : DB_NULL;
	p[8] = n->created_by > 0 ? DB_I64(n->created_by) : DB_NULL;
	if ((r = db_exec(db, &apiapp_stmts[APIAPP_INSERT], p, 9, NULL,
			 &newid)) != 0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

void
db_apiapp_free(struct db_apiapp *a)
{
	if (a == NULL)
		return;
	free(a->app_id);
	free(a->name);
	free(a->key_hash);
	free(a->role);
	free(a);
}

static int
dup_col(const struct db_result *res, size_t col, char **out)
{
	const char *s = db_result_str(res, 0, col, NULL);

	if (s == NULL)
		return EST_E_INTERNAL;
	if ((*out = strdup(s)) == NULL)
		return EST_E_NOMEM;
	return 0;
}

int
db_apiapp_from_row(const struct db_result *res, size_t c,
		   struct db_apiapp **out)
{
	struct db_apiapp *a = NULL;
	const char *fp;
	size_t fplen = 0;
	int r;

	if (db_result_cols(res) < c + APIAPP_NCOLS)
		return EST_E_INTERNAL;
	if (db_result_isnull(res, 0, c))
		return EST_E_NOTFOUND;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return EST_E_NOMEM;
	a->id = db_result_i64(res, 0, c);
	if ((r = dup_col(res, c + 1, &a->app_id)) != 0 ||
	    (r = dup_col(res, c + 2, &a->name)) != 0 ||
	    (r = dup_col(res, c + 3, &a->key_hash)) != 0 ||
	    (r = dup_col(res, c + 4, &a->role)) != 0)
		goto out;
	a->tenant_id = db_result_i64(res, 0, c + 5);
	a->org_id = db_result_i64(res, 0, c + 6);
	a->active = db_result_i64(res, 0, c + 7) != 0;
	a->revoked = db_result_i64(res, 0, c + 8) != 0;
	a->expired = db_result_i64(res, 0, c + 9) != 0;
	a->tenant_active = db_result_i64(res, 0, c + 10) != 0;
	a->org_active = db_result_i64(res, 0, c + 11) != 0;
	if ((fp = db_result_str(res, 0, c + 12, &fplen)) != NULL) {
		if (fplen != sizeof(a->cert_fp)) {
			r = EST_E_INTERNAL;
			goto out;
		}
		memcpy(a->cert_fp, fp, fplen);
		a->has_cert = 1;
	}
	a->touch_due = db_result_i64(res, 0, c + 13) != 0;
	*out = a;
	a = NULL;
out:
	db_apiapp_free(a);
	return r;
}

static int
apiapp_get(struct db *db, const struct db_stmt_def *def,
	   const struct db_param *p, struct db_apiapp **out)
{
	struct db_result *res = NULL;
	int r;

	if ((r = db_query_one(db, def, p, 1, &res)) != 0)
		return r;
	/* The row exists: its id is never NULL. */
	if ((r = db_apiapp_from_row(res, 0, out)) == EST_E_NOTFOUND)
		r = EST_E_INTERNAL;
	db_result_free(res);
	return r;
}

int
db_apiapp_get_by_app_id(struct db *db, const char *app_id,
			struct db_apiapp **out)
{
	struct db_param p[1];

	if (app_id == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(app_id);
	return apiapp_get(db, &apiapp_stmts[APIAPP_GET_BY_APP_ID], p, out);
}

int
db_apiapp_get_by_cert(struct db *db, const uint8_t *fp, struct db_apiapp **out)
{
	struct db_param p[1];

	if (fp == NULL)
		return EST_E_INVAL;
	p[0] = DB_BLOB(fp, 32);
	return apiapp_get(db, &apiapp_stmts[APIAPP_GET_BY_CERT], p, out);
}

int
db_apiapp_touch(struct db *db, int64_t id)
{
	struct db_param p[2];

	p[0] = DB_I64(id);
	p[1] = DB_I64(APIAPP_TOUCH_INTERVAL);
	return db_exec(db, &apiapp_stmts[APIAPP_TOUCH], p, 2, NULL, NULL);
}
