/* Management queries of API applications and their certificates. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apiapp_admin.h"
#include "audit.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "util.h"
#include "x509.h"

/* The columns of info_from_row(), in its order. */
#define INFO_COLUMNS                                                           \
	"a.id, a.app_id, a.name, a.description, a.role, a.tenant_id, t.name,"  \
	" a.org_id, o.name, a.active, a.revoked_at IS NOT NULL,"               \
	" a.expires_at IS NOT NULL AND a.expires_at <= UTC_TIMESTAMP(6),"      \
	" a.expires_at, a.revoked_at, a.rotated_at, a.last_used_at,"           \
	" a.created_at, a.updated_at, a.created_by_user_id, a.certificate_id," \
	" a.cert_fingerprint, c.not_before, c.not_after,"                      \
	" c.wrapped_key IS NOT NULL, a.pfx_downloaded_at"
#define INFO_FROM                                                              \
	" FROM api_applications a JOIN tenants t ON t.id = a.tenant_id"        \
	" LEFT JOIN organizations o ON o.id = a.org_id"                        \
	" LEFT JOIN certificates c ON c.id = a.certificate_id"

enum {
	C_ID = 0,
	C_APP_ID,
	C_NAME,
	C_DESC,
	C_ROLE,
	C_TENANT_ID,
	C_TENANT_NAME,
	C_ORG_ID,
	C_ORG_NAME,
	C_ACTIVE,
	C_REVOKED,
	C_EXPIRED,
	C_EXPIRES_AT,
	C_REVOKED_AT,
	C_ROTATED_AT,
	C_LAST_USED_AT,
	C_CREATED_AT,
	C_UPDATED_AT,
	C_CREATED_BY,
	C_CERT_ID,
	C_CERT_FP,
	C_CERT_NOT_BEFORE,
	C_CERT_NOT_AFTER,
	C_PFX_PENDING,
	C_PFX_DOWNLOADED_AT,
};

static const struct db_stmt_def adm_stmts[] = {
#define ADM_GET 0
	{"apiapp_adm_get", "SELECT " INFO_COLUMNS INFO_FROM " WHERE a.id = ?",
	 1},
#define ADM_LOCK 1
	{"apiapp_adm_lock",
	 "SELECT id FROM api_applications WHERE id = ? FOR UPDATE", 1},
/*
	 * Each filter is "(? IS NULL OR test)": one statement serves every
	 * combination, and an absent filter is a NULL parameter.
	 */
#define ADM_LIST 2
	{"apiapp_adm_list",
	 "SELECT " INFO_COLUMNS INFO_FROM " WHERE a.id > ?"
	 " AND (? IS NULL OR a.tenant_id = ?) AND (? IS NULL OR a.org_id = ?)"
	 " AND (? IS NULL OR a.tenant_id = ?) AND (? IS NULL OR a.org_id = ?)"
	 " AND (? IS NULL OR a.role = ?) AND (? IS NULL OR a.active = ?)"
	 " AND (? IS NULL OR (a.revoked_at IS NOT NULL) = ?)"
	 " AND (? IS NULL OR a.name LIKE ?)"
	 " ORDER BY a.id LIMIT ?",
	 18},
#define ADM_INSERT 3
	{"apiapp_adm_insert",
	 "INSERT INTO api_applications (app_id, name, description, key_hash,"
	 " tenant_id, org_id, role, expires_at, created_by_user_id)"
	 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	 9},
#define ADM_UPDATE 4
	{"apiapp_adm_update",
	 "UPDATE api_applications SET name = ?, description = ?, role = ?,"
	 " org_id = ?, expires_at = ? WHERE id = ?",
	 6},
#define ADM_SET_ACTIVE 5
	{"apiapp_adm_set_active",
	 "UPDATE api_applications SET active = ? WHERE id = ?", 2},
#define ADM_REVOKE 6
	{"apiapp_adm_revoke",
	 "UPDATE api_applications SET active = FALSE,"
	 " revoked_at = COALESCE(revoked_at, UTC_TIMESTAMP(6)) WHERE id = ?",
	 1},
#define ADM_ROTATE 7
	{"apiapp_adm_rotate",
	 "UPDATE api_applications SET key_hash = ?,"
	 " rotated_at = UTC_TIMESTAMP(6) WHERE id = ?",
	 2},
#define ADM_DELETE 8
	{"apiapp_adm_delete", "DELETE FROM api_applications WHERE id = ?", 1},
#define ADM_TENANT 9
	{"apiapp_adm_tenant", "SELECT name, active FROM tenants WHERE id = ?",
	 1},
#define ADM_ORG 10
	{"apiapp_adm_org",
	 "SELECT tenant_id, active FROM organizations WHERE id = ?", 1},
#define ADM_CERT_INSERT 11
	{"apiapp_adm_cert_insert",
	 "INSERT INTO certificates (ca_id, serial, fingerprint, subject,"
	 " subject_cn, not_before, not_after, kind, key_type, key_source,"
	 " cert_der, wrapped_key, issued_via, created_by_type,"
	 " created_by_user_id, created_by_app_id, tenant_id, org_id)"
	 " VALUES (?, ?, ?, ?, ?, ?, ?, 'other', ?, 'server', ?, ?, 'api', ?,"
	 " ?, ?, ?, ?)",
	 15},
#define ADM_CERT_OF 12
	{"apiapp_adm_cert_of",
	 "SELECT certificate_id FROM api_applications WHERE id = ?", 1},
#define ADM_CERT_LINK 13
	{"apiapp_adm_cert_link",
	 "UPDATE api_applications SET certificate_id = ?,"
	 " cert_fingerprint = ?, pfx_downloaded_at = NULL WHERE id = ?",
	 3},
/*
	 * MariaDB assigns left to right, each expression seeing the columns
	 * already assigned: the tests on wrapped_key and status come before
	 * the assignments that change them.
	 */
#define ADM_CERT_REVOKE 14
	{"apiapp_adm_cert_revoke",
	 "UPDATE certificates SET key_destroyed_at = IF(wrapped_key IS NULL,"
	 " key_destroyed_at, UTC_TIMESTAMP(6)), wrapped_key = NULL,"
	 " revocation_reason = IF(status = 'active', ?, revocation_reason),"
	 " revoked_at = IF(status = 'active', UTC_TIMESTAMP(6), revoked_at),"
	 " status = IF(status = 'active', 'revoked', status) WHERE id = ?",
	 2},
#define ADM_CERT_GET 15
	{"apiapp_adm_cert_get",
	 "SELECT id, ca_id, cert_der, wrapped_key FROM certificates"
	 " WHERE id = ?",
	 1},
#define ADM_CERT_GET_LOCK 16
	{"apiapp_adm_cert_get_lock",
	 "SELECT id, ca_id, cert_der, wrapped_key FROM certificates"
	 " WHERE id = ? FOR UPDATE",
	 1},
#define ADM_CERT_KEY_DESTROY 17
	{"apiapp_adm_cert_key_destroy",
	 "UPDATE certificates SET key_destroyed_at = UTC_TIMESTAMP(6),"
	 " wrapped_key = NULL WHERE id = ? AND wrapped_key IS NOT NULL",
	 1},
#define ADM_PFX_DOWNLOADED 18
	{"apiapp_adm_pfx_downloaded",
	 "UPDATE api_applications SET pfx_downloaded_at = UTC_TIMESTAMP(6)"
	 " WHERE id = ?",
	 1},
};

#define STMT(k) (&adm_stmts[(k)])

/* ----- reading applications ----- */

void
db_apiapp_info_free(struct db_apiapp_info *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->description);
	free(a->tenant_name);
	free(a->org_name);
	free(a);
}

void
db_apiapp_info_list_free(struct db_apiapp_info **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		db_apiapp_info_free(list[i]);
	free(list);
}

/* Copies a column that fits a fixed buffer; "" for NULL. */
static int
col_copy(const struct db_result *res, size_t row, size_t col, char *out,
	 size_t outlen)
{
	size_t len = 0;
	const char *s = db_result_str(res, row, col, &len);

	out[0] = '\0';
	if (s == NULL)
		return 0;
	if (len >= outlen)
		return EST_E_INTERNAL;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* A malloc'ed copy of a column; *out NULL for SQL NULL. */
static int
col_dup(const struct db_result *res, size_t row, size_t col, char **out)
{
	const char *s = db_result_str(res, row, col, NULL);

	*out = NULL;
	if (s != NULL && (*out = strdup(s)) == NULL)
		return EST_E_NOMEM;
	return 0;
}

static int
info_from_row(const struct db_result *res, size_t row,
	      struct db_apiapp_info **out)
{
	struct db_apiapp_info *a;
	const char *fp;
	size_t fplen = 0;
	int r;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return EST_E_NOMEM;
	a->id = db_result_i64(res, row, C_ID);
	a->tenant_id = db_result_i64(res, row, C_TENANT_ID);
	a->org_id = db_result_i64(res, row, C_ORG_ID);
	a->active = db_result_i64(res, row, C_ACTIVE) != 0;
	a->revoked = db_result_i64(res, row, C_REVOKED) != 0;
	a->expired = db_result_i64(res, row, C_EXPIRED) != 0;
	a->created_by = db_result_i64(res, row, C_CREATED_BY);
	a->certificate_id = db_result_i64(res, row, C_CERT_ID);
	a->pfx_pending = db_result_i64(res, row, C_PFX_PENDING) != 0;
	if ((r = col_copy(res, row, C_APP_ID, a->app_id, sizeof(a->app_id))) !=
		    0 ||
	    (r = col_copy(res, row, C_ROLE, a->role, sizeof(a->role))) != 0 ||
	    (r = col_copy(res, row, C_EXPIRES_AT, a->expires_at,
			  sizeof(a->expires_at))) != 0 ||
	    (r = col_copy(res, row, C_REVOKED_AT, a->revoked_at,
			  sizeof(a->revoked_at))) != 0 ||
	    (r = col_copy(res, row, C_ROTATED_AT, a->rotated_at,
			  sizeof(a->rotated_at))) != 0 ||
	    (r = col_copy(res, row, C_LAST_USED_AT, a->last_used_at,
			  sizeof(a->last_used_at))) != 0 ||
	    (r = col_copy(res, row, C_CREATED_AT, a->created_at,
			  sizeof(a->created_at))) != 0 ||
	    (r = col_copy(res, row, C_UPDATED_AT, a->updated_at,
			  sizeof(a->updated_at))) != 0 ||
	    (r = col_copy(res, row, C_CERT_NOT_BEFORE, a->cert_not_before,
			  sizeof(a->cert_not_before))) != 0 ||
	    (r = col_copy(res, row, C_CERT_NOT_AFTER, a->cert_not_after,
			  sizeof(a->cert_not_after))) != 0 ||
	    (r = col_copy(res, row, C_PFX_DOWNLOADED_AT, a->pfx_downloaded_at,
			  sizeof(a->pfx_downloaded_at))) != 0 ||
	    (r = col_dup(res, row, C_NAME, &a->name)) != 0 ||
	    (r = col_dup(res, row, C_DESC, &a->description)) != 0 ||
	    (r = col_dup(res, row, C_TENANT_NAME, &a->tenant_name)) != 0 ||
	    (r = col_dup(res, row, C_ORG_NAME, &a->org_name)) != 0)
		goto out;
	if (a->name == NULL || a->tenant_name == NULL) {
		r = EST_E_INTERNAL;
		goto out;
	}
	if ((fp = db_result_str(res, row, C_CERT_FP, &fplen)) != NULL) {
		if (fplen != sizeof(a->cert_fp)) {
			r = EST_E_INTERNAL;
			goto out;
		}
		memcpy(a->cert_fp, fp, fplen);
	}
	*out = a;
	a = NULL;
out:
	db_apiapp_info_free(a);
	return r;
}

int
db_apiapp_info_get(struct db *db, int64_t id, int lock,
		   struct db_apiapp_info **out)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	int r;

	if (id <= 0)
		return EST_E_NOTFOUND;
	p[0] = DB_I64(id);
	/*
	 * Only the application's own row is locked: the joined tenant,
	 * organization and certificate rows are read, not held.
	 */
	if (lock) {
		if ((r = db_query_one(db, STMT(ADM_LOCK), p, 1, &res)) != 0)
			return r;
		db_result_free(res);
		res = NULL;
	}
	if ((r = db_query_one(db, STMT(ADM_GET), p, 1, &res)) != 0)
		return r;
	r = info_from_row(res, 0, out);
	db_result_free(res);
	return r;
}

/*
 * The LIKE pattern of a name prefix: the prefix with its wildcards and
 * the escape character escaped, then "%".
 */
static char *
like_prefix(const char *s)
{
	size_t i, n = 0;
	char *p;

	if ((p = malloc(2 * strlen(s) + 2)) == NULL)
		return NULL;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '%' || s[i] == '_' || s[i] == '\\')
			p[n++] = '\\';
		p[n++] = s[i];
	}
	p[n++] = '%';
	p[n] = '\0';
	return p;
}

/* Sets the pair of parameters of one "(? IS NULL OR col = ?)" filter. */
static void
filter_i64(struct db_param *p, int64_t v, int set)
{
	p[0] = set ? DB_I64(v) : DB_NULL;
	p[1] = p[0];
}

int
db_apiapp_info_list(struct db *db, const struct db_apiapp_filter *f,
		    int64_t after_id, size_t limit,
		    struct db_apiapp_info ***out, size_t *n)
{
	struct db_apiapp_info **list = NULL;
	struct db_result *res = NULL;
	struct db_param p[18];
	char *like = NULL;
	size_t i = 0, rows;
	int r;

	if (f == NULL || limit < 1 || limit > APIAPP_LIST_MAX || after_id < 0)
		return EST_E_INVAL;
	if (f->name != NULL && (like = like_prefix(f->name)) == NULL)
		return EST_E_NOMEM;
	p[0] = DB_I64(after_id);
	filter_i64(&p[1], f->scope_tenant_id, f->scope_tenant_id > 0);
	filter_i64(&p[3], f->scope_org_id, f->scope_org_id > 0);
	filter_i64(&p[5], f->tenant_id, f->tenant_id > 0);
	filter_i64(&p[7], f->org_id, f->org_id > 0);
	p[9] = DB_STR(f->role);
	p[10] = p[9];
	filter_i64(&p[11], f->active, f->active >= 0);
	filter_i64(&p[13], f->revoked, f->revoked >= 0);
	p[15] = DB_STR(like);
	p[16] = p[15];
	p[17] = DB_I64(limit);
	if ((r = db_query(db, STMT(ADM_LIST), p, 18, &res)) != 0)
		goto out;
	rows = db_result_rows(res);
	if (rows > 0 && (list = calloc(rows, sizeof(*list))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < rows; i++)
		if ((r = info_from_row(res, i, &list[i])) != 0)
			goto out;
	*out = list;
	*n = rows;
	list = NULL;
out:
	db_apiapp_info_list_free(list, i);
	db_result_free(res);
	free(like);
	return r;
}

/* ----- changing applications ----- */

/* Runs an UPDATE or DELETE of one row: EST_E_NOTFOUND when none matched. */
static int
exec_one(struct db *db, int k, const struct db_param *p, size_t np)
{
	uint64_t affected = 0;
	int r;

	if ((r = db_exec(db, STMT(k), p, np, &affected, NULL)) != 0)
		return r;
	return affected == 0 ? EST_E_NOTFOUND : 0;
}

int
db_apiapp_insert(struct db *db, const struct db_apiapp_create *n, int64_t *id)
{
	struct db_param p[9];
	uint64_t newid = 0;
	int r;

	if (n == NULL || n->app_id == NULL || !apiapp_id_valid(n->app_id) ||
	    n->key_hash == NULL || strlen(n->key_hash) != APIAPP_KEY_HASH_LEN ||
	    n->name == NULL || n->role == NULL || n->tenant_id <= 0 ||
	    n->org_id < 0 || n->created_by < 0)
		return EST_E_INVAL;
	p[0] = DB_STR(n->app_id);
	p[1] = DB_STR(n->name);
	p[2] = DB_STR(n->description);
	p[3] = DB_STR(n->key_hash);
	p[4] = DB_I64(n->tenant_id);
	p[5] = n->org_id > 0 ? DB_I64(n->org_id) : DB_NULL;
	p[6] = DB_STR(n->role);
	p[7] = DB_STR(n->expires_at);
	p[8] = n->created_by > 0 ? DB_I64(n->created_by) : DB_NULL;
	if ((r = db_exec(db, STMT(ADM_INSERT), p, 9, NULL, &newid)) != 0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

int
db_apiapp_update(struct db *db, int64_t id, const struct db_apiapp_update *u)
{
	struct db_param p[6];

	if (u == NULL || u->name == NULL || u->role == NULL || u->org_id < 0)
		return EST_E_INVAL;
	p[0] = DB_STR(u->name);
	p[1] = DB_STR(u->description);
	p[2] = DB_STR(u->role);
	p[3] = u->org_id > 0 ? DB_I64(u->org_id) : DB_NULL;
	p[4] = DB_STR(u->expires_at);
	p[5] = DB_I64(id);
	return exec_one(db, ADM_UPDATE, p, 6);
}

int
db_apiapp_set_active(struct db *db, int64_t id, int active)
{
	struct db_param p[2];

	p[0] = DB_I64(active ? 1 : 0);
	p[1] = DB_I64(id);
	return exec_one(db, ADM_SET_ACTIVE, p, 2);
}

int
db_apiapp_revoke(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return exec_one(db, ADM_REVOKE, p, 1);
}

int
db_apiapp_rotate(struct db *db, int64_t id, const char *key_hash)
{
	struct db_param p[2];

	if (key_hash == NULL || strlen(key_hash) != APIAPP_KEY_HASH_LEN)
		return EST_E_INVAL;
	p[0] = DB_STR(key_hash);
	p[1] = DB_I64(id);
	return exec_one(db, ADM_ROTATE, p, 2);
}

int
db_apiapp_delete(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return exec_one(db, ADM_DELETE, p, 1);
}

int
db_apiapp_tenant(struct db *db, int64_t tenant_id, char **name, int *active)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	char *s = NULL;
	int r;

	if (tenant_id <= 0)
		return EST_E_NOTFOUND;
	p[0] = DB_I64(tenant_id);
	if ((r = db_query_one(db, STMT(ADM_TENANT), p, 1, &res)) != 0)
		return r;
	if ((r = col_dup(res, 0, 0, &s)) == 0 && s == NULL)
		r = EST_E_INTERNAL;
	if (r == 0) {
		*active = db_result_i64(res, 0, 1) != 0;
		*name = s;
		s = NULL;
	}
	free(s);
	db_result_free(res);
	return r;
}

int
db_apiapp_org(struct db *db, int64_t org_id, int64_t *tenant_id, int *active)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	int r;

	if (org_id <= 0)
		return EST_E_NOTFOUND;
	p[0] = DB_I64(org_id);
	if ((r = db_query_one(db, STMT(ADM_ORG), p, 1, &res)) != 0)
		return r;
	*tenant_id = db_result_i64(res, 0, 0);
	*active = db_result_i64(res, 0, 1) != 0;
	db_result_free(res);
	return 0;
}

/* ----- certificates ----- */

/* What the certificates row repeats of the certificate itself. */
struct cert_facts {
	uint8_t fingerprint[32];
	uint8_t serial[20];
	size_t serial_len;
	char not_before[APIAPP_DBTIME_LEN];
	char not_after[APIAPP_DBTIME_LEN];
	char *subject; /* RFC 2253 text */
	char *cn;      /* NULL when the subject has no CN */
};

static void
cert_facts_clear(struct cert_facts *f)
{
	free(f->subject);
	free(f->cn);
	memset(f, 0, sizeof(*f));
}

static int
dbtime(const ASN1_TIME *t, char out[APIAPP_DBTIME_LEN])
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    tm.tm_year + 1900 > 9999 ||
	    strftime(out, APIAPP_DBTIME_LEN, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return EST_E_BADASN1;
	return 0;
}

static int
cert_facts_get(const uint8_t *der, size_t len, struct cert_facts *f)
{
	const unsigned char *p = der;
	const X509_NAME_ENTRY *e;
	const ASN1_STRING *v;
	unsigned char *u = NULL;
	unsigned int mdlen = 0;
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	int i, n, r = EST_E_BADASN1;

	memset(f, 0, sizeof(*f));
	if (len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != der + len)
		goto out;
	if (EVP_Digest(der, len, f->fingerprint, &mdlen, EVP_sha256(), NULL) !=
	    1) {
		r = EST_E_CRYPTO;
		goto out;
	}
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
		    NULL ||
	    (n = BN_num_bytes(bn)) > (int)sizeof(f->serial) || n < 1)
		goto out;
	f->serial_len = (size_t)BN_bn2bin(bn, f->serial);
	if ((r = dbtime(X509_get0_notBefore(x), f->not_before)) != 0 ||
	    (r = dbtime(X509_get0_notAfter(x), f->not_after)) != 0 ||
	    (r = x509_name_text(X509_get_subject_name(x), &f->subject)) != 0)
		goto out;
	i = X509_NAME_get_index_by_NID(X509_get_subject_name(x), NID_commonName,
				       -1);
	if (i >= 0 &&
	    (e = X509_NAME_get_entry(X509_get_subject_name(x), i)) != NULL &&
	    (v = X509_NAME_ENTRY_get_data(e)) != NULL &&
	    (n = ASN1_STRING_to_UTF8(&u, v)) >= 0) {
		if ((f->cn = strndup((const char *)u, (size_t)n)) == NULL) {
			r = EST_E_NOMEM;
			goto out;
		}
	}
	r = 0;
out:
	if (r != 0)
		cert_facts_clear(f);
	OPENSSL_free(u);
	BN_free(bn);
	X509_free(x);
	return r;
}

int
db_apiapp_cert_revoke(struct db *db, int64_t cert_id, int reason)
{
	struct db_param p[2];

	p[0] = DB_I64(reason);
	p[1] = DB_I64(cert_id);
	return exec_one(db, ADM_CERT_REVOKE, p, 2);
}

int
db_apiapp_cert_attach(struct db *db, const struct db_apiapp_cert_new *c,
		      int64_t *cert_id)
{
	struct cert_facts f;
	struct db_result *res = NULL;
	struct db_param p[15];
	uint64_t newid = 0;
	int64_t old = 0;
	int user, r;

	if (c == NULL || c->app_id <= 0 || c->ca_id <= 0 ||
	    c->cert_der == NULL || c->cert_len == 0 || c->wrapped_key == NULL ||
	    c->wrapped_len == 0 || c->tenant_id <= 0 || c->org_id < 0 ||
	    c->created_by_type == NULL || c->created_by <= 0)
		return EST_E_INVAL;
	user = strcmp(c->created_by_type, AUDIT_ACTOR_USER) == 0;
	if (!user && strcmp(c->created_by_type, AUDIT_ACTOR_APPLICATION) != 0)
		return EST_E_INVAL;
	if ((r = cert_facts_get(c->cert_der, c->cert_len, &f)) != 0)
		return r;
	p[0] = DB_I64(c->app_id);
	if ((r = db_query_one(db, STMT(ADM_CERT_OF), p, 1, &res)) != 0)
		goto out;
	old = db_result_i64(res, 0, 0);
	p[0] = DB_I64(c->ca_id);
	p[1] = DB_BLOB(f.serial, f.serial_len);
	p[2] = DB_BLOB(f.fingerprint, sizeof(f.fingerprint));
	p[3] = DB_STR(f.subject);
	p[4] = DB_STR(f.cn);
	p[5] = DB_STR(f.not_before);
	p[6] = DB_STR(f.not_after);
	p[7] = c->key_type > 0 ? DB_I64(c->key_type) : DB_NULL;
	p[8] = DB_BLOB(c->cert_der, c->cert_len);
	p[9] = DB_BLOB(c->wrapped_key, c->wrapped_len);
	p[10] = DB_STR(c->created_by_type);
	p[11] = user ? DB_I64(c->created_by) : DB_NULL;
	p[12] = user ? DB_NULL : DB_I64(c->created_by);
	p[13] = DB_I64(c->tenant_id);
	p[14] = c->org_id > 0 ? DB_I64(c->org_id) : DB_NULL;
	if ((r = db_exec(db, STMT(ADM_CERT_INSERT), p, 15, NULL, &newid)) != 0)
		goto out;
	/* The old certificate no longer names the application. */
	if (old > 0 &&
	    (r = db_apiapp_cert_revoke(db, old, APIAPP_REASON_SUPERSEDED)) != 0)
		goto out;
	p[0] = DB_I64(newid);
	p[1] = DB_BLOB(f.fingerprint, sizeof(f.fingerprint));
	p[2] = DB_I64(c->app_id);
	if ((r = exec_one(db, ADM_CERT_LINK, p, 3)) != 0)
		goto out;
	*cert_id = (int64_t)newid;
out:
	db_result_free(res);
	cert_facts_clear(&f);
	return r;
}

void
db_apiapp_cert_free(struct db_apiapp_cert *c)
{
	if (c == NULL)
		return;
	free(c->cert_der);
	freezero(c->wrapped_key, c->wrapped_len);
	free(c);
}

/* A malloc'ed copy of a blob column; *out NULL for SQL NULL. */
static int
col_blob(const struct db_result *res, size_t col, uint8_t **out, size_t *len)
{
	const char *s = db_result_str(res, 0, col, len);

	*out = NULL;
	if (s == NULL) {
		*len = 0;
		return 0;
	}
	if (*len == 0 || (*out = malloc(*len)) == NULL)
		return *len == 0 ? 0 : EST_E_NOMEM;
	memcpy(*out, s, *len);
	return 0;
}

int
db_apiapp_cert_get(struct db *db, int64_t cert_id, int lock,
		   struct db_apiapp_cert **out)
{
	struct db_apiapp_cert *c = NULL;
	struct db_result *res = NULL;
	struct db_param p[1];
	int r;

	if (cert_id <= 0)
		return EST_E_NOTFOUND;
	p[0] = DB_I64(cert_id);
	if ((r = db_query_one(db, STMT(lock ? ADM_CERT_GET_LOCK : ADM_CERT_GET),
			      p, 1, &res)) != 0)
		return r;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	c->id = db_result_i64(res, 0, 0);
	c->ca_id = db_result_i64(res, 0, 1);
	if ((r = col_blob(res, 2, &c->cert_der, &c->cert_len)) != 0 ||
	    (r = col_blob(res, 3, &c->wrapped_key, &c->wrapped_len)) != 0)
		goto out;
	if (c->cert_der == NULL) {
		r = EST_E_INTERNAL;
		goto out;
	}
	*out = c;
	c = NULL;
out:
	db_apiapp_cert_free(c);
	db_result_free(res);
	return r;
}

int
db_apiapp_cert_downloaded(struct db *db, int64_t app_id, int64_t cert_id)
{
	struct db_param p[1];
	int r;

	p[0] = DB_I64(cert_id);
	/* No row: the key was already taken, by a download that won. */
	if ((r = exec_one(db, ADM_CERT_KEY_DESTROY, p, 1)) != 0)
		return r == EST_E_NOTFOUND ? EST_E_GONE : r;
	p[0] = DB_I64(app_id);
	return exec_one(db, ADM_PFX_DOWNLOADED, p, 1);
}
