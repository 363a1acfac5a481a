/*
 * The storage side of CRLs (pki/crl.c builds and signs them): the last
 * CRL of each CA in its cas row, the CAs whose CRL is due, and the revoked
 * certificates of a CA read in pages, so that a CA with a hundred thousand
 * revocations is never one result buffered whole.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ca_int.h"
#include "db.h"
#include "dbq.h"
#include "err.h"

/* A CRL is at most what the signer accepts to sign (lib/frame.h). */
#define CRL_DER_MAX (16U * 1024 * 1024)

static const struct db_stmt_def crl_stmts[] = {
#define CRL_STORE 0
	{"ca_crl_store",
	 "UPDATE cas SET crl_number = ?, crl_this_update = ?,"
	 " crl_next_update = ?, crl_der = ? WHERE id = ?",
	 5},
#define CRL_GET 1
	{"ca_crl_get",
	 "SELECT crl_der, crl_this_update, crl_next_update FROM cas"
	 " WHERE id = ?",
	 1},
#define CRL_DUE 2
	{"ca_crl_due",
	 "SELECT id FROM cas WHERE cert_der IS NOT NULL"
	 " AND (crl_next_update IS NULL OR crl_next_update <= ?)"
	 " ORDER BY crl_next_update, id LIMIT ?",
	 2},
#define CRL_REVOKED 3
	{"ca_revoked_page",
	 "SELECT id, serial, revoked_at, revocation_reason, invalidity_date"
	 " FROM certificates WHERE ca_id = ? AND status = 'revoked'"
	 " AND id > ? AND not_after > ? ORDER BY id LIMIT ?",
	 4},
};

int
db_ca_crl_store(struct db *db, int64_t id, int64_t number, int64_t this_update,
		int64_t next_update, const uint8_t *der, size_t len)
{
	struct db_param p[5];
	char tu[32], nu[32];
	uint64_t affected = 0;
	int r;

	if (der == NULL || len == 0 || len > CRL_DER_MAX || number < 1 ||
	    db_ca_time_text(this_update, tu) != 0 ||
	    db_ca_time_text(next_update, nu) != 0)
		return EST_E_INVAL;
	p[0] = DB_I64(number);
	p[1] = DB_STRN(tu, strlen(tu));
	p[2] = DB_STRN(nu, strlen(nu));
	p[3] = DB_BLOB(der, len);
	p[4] = DB_I64(id);
	if ((r = db_exec(db, &crl_stmts[CRL_STORE], p, 5, &affected, NULL)) !=
	    0)
		return r;
	return affected == 0 ? EST_E_NOTFOUND : 0;
}

int
db_ca_crl_get(struct db *db, int64_t id, uint8_t **der, size_t *len,
	      int64_t *this_update, int64_t *next_update)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	const char *s;
	uint8_t *copy;
	size_t n = 0;
	int r;

	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &crl_stmts[CRL_GET], p, 1, &res)) != 0)
		return r;
	if ((s = db_result_str(res, 0, 0, &n)) == NULL || n == 0) {
		r = EST_E_NOTFOUND;
		goto out;
	}
	if ((copy = malloc(n)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	memcpy(copy, s, n);
	*der = copy;
	*len = n;
	if (this_update != NULL)
		*this_update = db_ca_time_parse(db_result_str(res, 0, 1, NULL));
	if (next_update != NULL)
		*next_update = db_ca_time_parse(db_result_str(res, 0, 2, NULL));
out:
	db_result_free(res);
	return r;
}

int
db_ca_crl_due(struct db *db, int64_t t, size_t max, int64_t **ids, size_t *n)
{
	struct db_result *res = NULL;
	struct db_param p[2];
	int64_t *list = NULL;
	char ts[32];
	size_t rows, i;
	int r;

	if (max == 0 || db_ca_time_text(t, ts) != 0)
		return EST_E_INVAL;
	p[0] = DB_STRN(ts, strlen(ts));
	p[1] = DB_I64(max);
	if ((r = db_query(db, &crl_stmts[CRL_DUE], p, 2, &res)) != 0)
		return r;
	rows = db_result_rows(res);
	if (rows > 0 && (list = calloc(rows, sizeof(*list))) == NULL) {
		db_result_free(res);
		return EST_E_NOMEM;
	}
	for (i = 0; i < rows; i++)
		list[i] = db_result_i64(res, i, 0);
	db_result_free(res);
	*ids = list;
	*n = rows;
	return 0;
}

int
db_ca_revoked_page(struct db *db, int64_t ca_id, int64_t not_after_min,
		   int64_t after_id, size_t max, struct db_revoked *out,
		   size_t *n)
{
	struct db_result *res = NULL;
	struct db_param p[4];
	const char *s;
	char ts[32];
	size_t rows, i, len;
	int r;

	if (max == 0 || after_id < 0 || db_ca_time_text(not_after_min, ts) != 0)
		return EST_E_INVAL;
	p[0] = DB_I64(ca_id);
	p[1] = DB_I64(after_id);
	p[2] = DB_STRN(ts, strlen(ts));
	p[3] = DB_I64(max);
	if ((r = db_query(db, &crl_stmts[CRL_REVOKED], p, 4, &res)) != 0)
		return r;
	rows = db_result_rows(res);
	for (i = 0; i < rows; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].id = db_result_i64(res, i, 0);
		s = db_result_str(res, i, 1, &len);
		if (s == NULL || len == 0 || len > sizeof(out[i].serial)) {
			r = EST_E_INTERNAL;
			goto out;
		}
		memcpy(out[i].serial, s, len);
		out[i].serial_len = len;
		out[i].revoked_at =
			db_ca_time_parse(db_result_str(res, i, 2, NULL));
		out[i].reason = (int)db_result_i64(res, i, 3);
		out[i].invalidity_date =
			db_ca_time_parse(db_result_str(res, i, 4, NULL));
	}
	*n = rows;
out:
	db_result_free(res);
	return r;
}
