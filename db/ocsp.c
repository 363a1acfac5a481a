/* The OCSP responder's queries and the delegated responder (db/dbocsp.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "err.h"
#include "log.h"
#include "dbocsp.h"

#define OCSP_CA_COLUMNS                                                        \
	"id, active, key_id, key_type, cert_der, ocsp_key_id, ocsp_cert_der,"  \
	" crl_next_update, name, scope, tenant_id, org_id, updated_at"

enum {
	C_ID = 0,
	C_ACTIVE,
	C_KEY_ID,
	C_KEY_TYPE,
	C_CERT,
	C_OCSP_KEY_ID,
	C_OCSP_CERT,
	C_CRL_NEXT,
	C_NAME,
	C_SCOPE,
	C_TENANT,
	C_ORG,
	C_UPDATED,
};

static const struct db_stmt_def ocsp_stmts[] = {
#define OCSP_CA_GET 0
	{"ocsp_ca_get", "SELECT " OCSP_CA_COLUMNS " FROM cas WHERE id = ?", 1},
#define OCSP_CA_LOCK 1
	{"ocsp_ca_lock",
	 "SELECT " OCSP_CA_COLUMNS " FROM cas WHERE id = ? FOR UPDATE", 1},
#define OCSP_STATUS 2
	{"ocsp_status",
	 "SELECT status, revocation_reason, revoked_at FROM certificates"
	 " WHERE ca_id = ? AND serial = ?",
	 2},
#define OCSP_CA_CHILD 3
	{"ocsp_ca_child",
	 "SELECT id FROM cas WHERE parent_id = ? AND serial = ? LIMIT 1", 2},
#define OCSP_SET_RESPONDER 4
	{"ocsp_set_responder",
	 "UPDATE cas SET ocsp_key_id = ?, ocsp_cert_der = ? WHERE id = ?", 3},
#define OCSP_CERT_INSERT 5
	{"ocsp_cert_insert",
	 "INSERT INTO certificates (ca_id, serial, fingerprint, subject,"
	 " subject_cn, not_before, not_after, kind, key_type, key_source,"
	 " cert_der, issued_via, created_by_type, created_by_user_id,"
	 " created_by_app_id, tenant_id, org_id)"
	 " VALUES (?, ?, ?, ?, ?, ?, ?, 'other', ?, 'server', ?, 'api', ?, ?,"
	 " ?, ?, ?)",
	 14},
#define OCSP_CERT_REVOKE 6
	{"ocsp_cert_revoke",
	 "UPDATE certificates SET status = 'revoked', revocation_reason = ?,"
	 " revoked_at = UTC_TIMESTAMP(6), revoked_by_user_id = ?"
	 " WHERE ca_id = ? AND fingerprint = ? AND status <> 'revoked'",
	 4},
};

/* "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) to UNIX time; 0 for NULL. */
static int64_t
ocsp_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, se;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h,
				&mi, &se) != 6)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	return (int64_t)timegm(&tm);
}

/* A blob column into a new buffer; NULL stays NULL. */
static int
blob_copy(const struct db_result *res, size_t col, uint8_t **out,
	  size_t *outlen)
{
	const char *s;
	size_t len = 0;

	if ((s = db_result_str(res, 0, col, &len)) == NULL || len == 0)
		return 0;
	if ((*out = malloc(len)) == NULL)
		return EST_E_NOMEM;
	memcpy(*out, s, len);
	*outlen = len;
	return 0;
}

static int
str_copy(const struct db_result *res, size_t col, char **out)
{
	const char *s = db_result_str(res, 0, col, NULL);

	if (s == NULL)
		return 0;
	return (*out = strdup(s)) != NULL ? 0 : EST_E_NOMEM;
}

/* A 16-octet key id column; 0 when NULL, 1 when set. */
static int
key_id(const struct db_result *res, size_t col, uint8_t out[16], int *set)
{
	const char *s;
	size_t len = 0;

	*set = 0;
	if ((s = db_result_str(res, 0, col, &len)) == NULL)
		return 0;
	if (len != 16)
		return EST_E_INTERNAL;
	memcpy(out, s, 16);
	*set = 1;
	return 0;
}

void
db_ocsp_ca_free(struct db_ocsp_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->cert_der);
	free(ca->ocsp_cert_der);
	free(ca->name);
	free(ca->scope);
	free(ca->updated_at);
	free(ca);
}

int
db_ocsp_ca_get(struct db *db, int64_t id, int lock, struct db_ocsp_ca **out)
{
	struct db_param p[1] = {DB_I64(id)};
	struct db_result *res = NULL;
	struct db_ocsp_ca *ca = NULL;
	int r, set;

	if ((r = db_query_one(db,
			      &ocsp_stmts[lock ? OCSP_CA_LOCK : OCSP_CA_GET], p,
			      1, &res)) != 0)
		return r;
	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	ca->id = db_result_i64(res, 0, C_ID);
	ca->active = db_result_i64(res, 0, C_ACTIVE) != 0;
	ca->keytype = (int)db_result_i64(res, 0, C_KEY_TYPE);
	ca->crl_next_update =
		ocsp_time(db_result_str(res, 0, C_CRL_NEXT, NULL));
	ca->tenant_id = db_result_i64(res, 0, C_TENANT);
	ca->org_id = db_result_i64(res, 0, C_ORG);
	if ((r = key_id(res, C_KEY_ID, ca->key_id, &set)) != 0 ||
	    (r = key_id(res, C_OCSP_KEY_ID, ca->ocsp_key_id,
			&ca->has_ocsp_key)) != 0 ||
	    (r = blob_copy(res, C_CERT, &ca->cert_der, &ca->cert_len)) != 0 ||
	    (r = blob_copy(res, C_OCSP_CERT, &ca->ocsp_cert_der,
			   &ca->ocsp_cert_len)) != 0 ||
	    (r = str_copy(res, C_NAME, &ca->name)) != 0 ||
	    (r = str_copy(res, C_SCOPE, &ca->scope)) != 0 ||
	    (r = str_copy(res, C_UPDATED, &ca->updated_at)) != 0)
		goto out;
	/* A responder key without its certificate cannot be used. */
	if (!set || ca->name == NULL || ca->scope == NULL ||
	    (ca->has_ocsp_key && ca->ocsp_cert_der == NULL)) {
		log_err("db: CA %lld: inconsistent row", (long long)id);
		r = EST_E_INTERNAL;
		goto out;
	}
	*out = ca;
	ca = NULL;
out:
	db_ocsp_ca_free(ca);
	db_result_free(res);
	return r;
}

int
db_ocsp_status(struct db *db, int64_t ca_id, const uint8_t *serial,
	       size_t serial_len, struct db_ocsp_cert *out)
{
	struct db_param p[2] = {DB_I64(ca_id), DB_BLOB(serial, serial_len)};
	struct db_result *res = NULL;
	const char *status;
	int r;

	if (serial_len == 0 || serial_len > 20)
		return EST_E_INVAL;
	memset(out, 0, sizeof(*out));
	if ((r = db_query(db, &ocsp_stmts[OCSP_STATUS], p, 2, &res)) != 0)
		return r;
	if (db_result_rows(res) == 1) {
		status = db_result_str(res, 0, 0, NULL);
		if (status != NULL && strcmp(status, "revoked") == 0) {
			out->status = DB_OCSP_REVOKED;
			out->reason = (int)db_result_i64(res, 0, 1);
			out->revoked_at =
				ocsp_time(db_result_str(res, 0, 2, NULL));
		} else
			out->status = DB_OCSP_GOOD;
		goto out;
	}
	db_result_free(res);
	res = NULL;
	/* A CA certificate this CA issued lives in cas, not certificates. */
	if ((r = db_query(db, &ocsp_stmts[OCSP_CA_CHILD], p, 2, &res)) != 0)
		return r;
	out->status = db_result_rows(res) > 0 ? DB_OCSP_GOOD : DB_OCSP_UNKNOWN;
out:
	db_result_free(res);
	return 0;
}

int
db_ocsp_set_responder(struct db *db, int64_t ca_id, const uint8_t *key_id,
		      const uint8_t *cert, size_t certlen)
{
	struct db_param p[3];
	uint64_t n = 0;
	int r;

	if (key_id != NULL && (cert == NULL || certlen == 0))
		return EST_E_INVAL;
	p[0] = key_id != NULL ? DB_BLOB(key_id, 16) : DB_NULL;
	p[1] = key_id != NULL ? DB_BLOB(cert, certlen) : DB_NULL;
	p[2] = DB_I64(ca_id);
	if ((r = db_exec(db, &ocsp_stmts[OCSP_SET_RESPONDER], p, 3, &n,
			 NULL)) != 0)
		return r;
	return n == 1 ? 0 : EST_E_NOTFOUND;
}

int
db_ocsp_cert_insert(struct db *db, const struct db_ocsp_cert_row *c,
		    int64_t *id)
{
	struct db_param p[14];
	uint64_t newid = 0;
	int r;

	if (c->serial_len == 0 || c->serial_len > 20 || c->creator <= 0)
		return EST_E_INVAL;
	p[0] = DB_I64(c->ca_id);
	p[1] = DB_BLOB(c->serial, c->serial_len);
	p[2] = DB_BLOB(c->fingerprint, 32);
	p[3] = DB_STR(c->subject);
	p[4] = DB_STR(c->subject_cn);
	p[5] = DB_STR(c->not_before);
	p[6] = DB_STR(c->not_after);
	p[7] = DB_I64(c->keytype);
	p[8] = DB_BLOB(c->der, c->derlen);
	p[9] = DB_STR(c->by_app ? "application" : "user");
	p[10] = c->by_app ? DB_NULL : DB_I64(c->creator);
	p[11] = c->by_app ? DB_I64(c->creator) : DB_NULL;
	p[12] = c->tenant_id > 0 ? DB_I64(c->tenant_id) : DB_NULL;
	p[13] = c->org_id > 0 ? DB_I64(c->org_id) : DB_NULL;
	if ((r = db_exec(db, &ocsp_stmts[OCSP_CERT_INSERT], p, 14, NULL,
			 &newid)) != 0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

int
db_ocsp_cert_revoke(struct db *db, int64_t ca_id, const uint8_t fp[32],
		    int reason, int64_t user_id, int *changed)
{
	struct db_param p[4] = {DB_I64(reason),
				user_id > 0 ? DB_I64(user_id) : DB_NULL,
				DB_I64(ca_id), DB_BLOB(fp, 32)};
	uint64_t n = 0;
	int r;

	if ((r = db_exec(db, &ocsp_stmts[OCSP_CERT_REVOKE], p, 4, &n, NULL)) !=
	    0)
		return r;
	*changed = n > 0;
	return 0;
}
