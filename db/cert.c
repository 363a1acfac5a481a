/* Issued certificates (the certificates table); see cert.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "db.h"
#include "dbpriv.h"
#include "err.h"

#define TS "'%Y-%m-%d %H:%i:%s'"
#define TS6 "'%Y-%m-%d %H:%i:%s.%f'"

/*
 * The effective status: the sweep that stores 'expired' may not have run
 * yet, and a certificate past its notAfter is expired whatever the row
 * says (unless it was revoked, which a CRL still has to tell until then).
 * P is the table's name or alias with its dot.
 */
#define CERT_STATUS_OF(P)                                                      \
	"IF(" P "status = 'active' AND " P "not_after <= UTC_TIMESTAMP(),"     \
	" 'expired', " P "status)"
#define CERT_STATUS CERT_STATUS_OF("c.")

/*
 * The columns of enum db_cert_col before the issuer's subject (ISSUER is
 * the CA's subject; DER or NULL follows).  P is the table's name or alias
 * with its dot.
 */
/* clang-format off */
#define CERT_ROW_COLUMNS(P)						\
	P "id, " P "ca_id, " P "serial, " P "fingerprint, "		\
	P "subject, " P "subject_cn, "					\
	"DATE_FORMAT(" P "not_before, " TS "), "			\
	"DATE_FORMAT(" P "not_after, " TS "), "				\
	CERT_STATUS_OF(P) ", "						\
	P "revocation_reason, "						\
	"DATE_FORMAT(" P "revoked_at, " TS6 "), "			\
	"DATE_FORMAT(" P "invalidity_date, " TS "), "			\
	P "revoked_by_user_id, " P "template_id, " P "device_id, "	\
	P "kind, " P "key_type, " P "key_source, "			\
	"DATE_FORMAT(" P "key_retention_until, " TS6 "), "		\
	"DATE_FORMAT(" P "key_destroyed_at, " TS6 "), "			\
	"(" P "wrapped_key IS NOT NULL AND "				\
	P "key_destroyed_at IS NULL AND "				\
	P "key_retention_until > UTC_TIMESTAMP(6)), "			\
	P "renewed_from_id, " P "issued_via, " P "created_by_type, "	\
	P "created_by_user_id, " P "created_by_app_id, "		\
	P "tenant_id, " P "org_id, "					\
	"DATE_FORMAT(" P "created_at, " TS6 "), "			\
	"DATE_FORMAT(" P "updated_at, " TS6 ")"
/* clang-format on */
#define CERT_COLUMNS CERT_ROW_COLUMNS("c.") ", a.subject"
#define CERT_FROM " FROM certificates c JOIN cas a ON a.id = c.ca_id"

static const struct db_stmt_def cert_stmts[] = {
#define CERT_INSERT_HEAD                                                       \
	"INSERT INTO certificates (ca_id, serial, fingerprint, subject,"       \
	" subject_cn, not_before, not_after, template_id, device_id, kind,"    \
	" key_type, key_source, cert_der, wrapped_key, key_retention_until,"   \
	" renewed_from_id, issued_via, created_by_type, created_by_user_id,"   \
	" created_by_app_id, tenant_id, org_id) VALUES "
#define CERT_INSERT_VALUES                                                     \
	"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define CERT_INSERT_SQL CERT_INSERT_HEAD CERT_INSERT_VALUES
#define CERT_INSERT 0
	{"cert_insert", CERT_INSERT_SQL, 22},
#define CERT_GET 1
	{"cert_get",
	 "SELECT " CERT_COLUMNS ", c.cert_der" CERT_FROM " WHERE c.id = ?", 1},
#define CERT_GET_LOCK 2
	{"cert_get_lock",
	 "SELECT " CERT_COLUMNS ", c.cert_der" CERT_FROM
	 " WHERE c.id = ? FOR UPDATE",
	 1},
#define CERT_GET_SERIAL 3
	{"cert_get_serial",
	 "SELECT " CERT_COLUMNS ", c.cert_der" CERT_FROM
	 " WHERE c.ca_id = ? AND c.serial = ?",
	 2},
#define CERT_GET_FP 4
	{"cert_get_fp",
	 "SELECT " CERT_COLUMNS ", c.cert_der" CERT_FROM
	 " WHERE c.fingerprint = ?",
	 1},
#define CERT_LIST 5
	{"cert_list",
	 "SELECT " CERT_COLUMNS ", NULL" CERT_FROM " WHERE c.id > ?"
	 " AND (? = 0 OR c.tenant_id = ?)"
	 " AND (? = 0 OR c.org_id = ?)"
	 " AND (? = 0 OR c.ca_id = ?)"
	 " AND (? = 0 OR c.template_id = ?)"
	 " AND (? = 0 OR c.device_id = ?)"
	 " AND (? = 0 OR c.tenant_id = ?)"
	 " AND (? = 0 OR c.org_id = ?)"
	 " AND (? IS NULL OR " CERT_STATUS " = ?)"
	 " AND (? IS NULL OR c.kind = ?)"
	 " AND (? IS NULL OR LOCATE(?, c.subject) > 0)"
	 " AND (? IS NULL OR c.subject_cn = ?)"
	 " AND (? IS NULL OR c.serial = ?)"
	 " AND (? IS NULL OR c.not_after < ?)"
	 " ORDER BY c.id LIMIT ?",
	 28},
#define CERT_REVOKE 6
	{"cert_revoke",
	 "UPDATE certificates SET status = 'revoked', revocation_reason = ?,"
	 " revoked_at = UTC_TIMESTAMP(6), invalidity_date = ?,"
	 " revoked_by_user_id = ? WHERE id = ? AND status = 'active'",
	 4},
#define CERT_WRAPPED 7
	{"cert_wrapped",
	 "SELECT wrapped_key FROM certificates WHERE id = ?"
	 " AND key_source = 'server' AND wrapped_key IS NOT NULL"
	 " AND key_destroyed_at IS NULL"
	 " AND key_retention_until > UTC_TIMESTAMP(6)",
	 1},
#define CERT_DESTROY_KEYS 8
	/*
	 * A stored key is never marked destroyed; the test of
	 * key_destroyed_at lets the sweep read certificates_key_sweep.
	 */
	{"cert_destroy_keys",
	 "UPDATE certificates SET wrapped_key = NULL,"
	 " key_destroyed_at = UTC_TIMESTAMP(6)"
	 " WHERE wrapped_key IS NOT NULL AND key_destroyed_at IS NULL"
	 " AND key_retention_until <= UTC_TIMESTAMP(6)"
	 " AND (? = 0 OR id = ?) LIMIT ?",
	 3},
#define CERT_REVOKED_LIST 9
	{"cert_revoked_list",
	 "SELECT id, serial, DATE_FORMAT(revoked_at, " TS "),"
	 " revocation_reason, DATE_FORMAT(invalidity_date, " TS ")"
	 " FROM certificates WHERE ca_id = ? AND status = 'revoked'"
	 " AND not_after > UTC_TIMESTAMP() AND id > ? ORDER BY id LIMIT ?",
	 3},
#define CERT_INSERT_ROW 10
	/*
	 * The insert that answers with the new row as CERT_GET reads it, so
	 * that the issuer needs no second round trip for it.  The CA's
	 * subject comes as the last parameter (the caller has the CA row)
	 * rather than from a subquery that the server would plan again for
	 * every certificate.
	 */
	{"cert_insert_row",
	 CERT_INSERT_SQL " RETURNING " CERT_ROW_COLUMNS(
		 "certificates.") ", CAST(? AS CHAR), certificates.cert_der",
	 23},
};

/*
 * A UNIX time as a DATETIME value.  FROM_UNIXTIME() stops at 2038 in
 * MariaDB 10.11, and certificates reach 9999 (unlimited expiration).
 */
static int
time_text(time_t t, char out[32])
{
	struct tm tm;

	if (t < 0 || gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return EST_E_INVAL;
	return 0;
}

/* An id column: NULL for 0. */
static struct db_param
id_param(int64_t v)
{
	return v > 0 ? DB_I64(v) : DB_NULL;
}

/* The 22 parameters of CERT_INSERT_SQL; times are written into tx. */
static int
insert_params(const struct db_cert_new *c, char tx[3][32], struct db_param *p)
{
	int r;

	if (c == NULL || c->ca_id <= 0 || c->serial == NULL ||
	    c->serial_len == 0 || c->serial_len > 20 ||
	    c->fingerprint == NULL || c->subject == NULL || c->der == NULL ||
	    c->derlen == 0 || c->kind == NULL || c->key_source == NULL ||
	    c->issued_via == NULL || c->created_by_type == NULL ||
	    (c->wrapped != NULL && c->key_retention_until <= 0))
		return EST_E_INVAL;
	if ((r = time_text(c->not_before, tx[0])) != 0 ||
	    (r = time_text(c->not_after, tx[1])) != 0 ||
	    (r = time_text(c->key_retention_until, tx[2])) != 0)
		return r;
	p[0] = DB_I64(c->ca_id);
	p[1] = DB_BLOB(c->serial, c->serial_len);
	p[2] = DB_BLOB(c->fingerprint, 32);
	p[3] = DB_STR(c->subject);
	p[4] = DB_STR(c->subject_cn);
	p[5] = DB_STRN(tx[0], strlen(tx[0]));
	p[6] = DB_STRN(tx[1], strlen(tx[1]));
	p[7] = id_param(c->template_id);
	p[8] = id_param(c->device_id);
	p[9] = DB_STR(c->kind);
	p[10] = c->key_type > 0 ? DB_I64(c->key_type) : DB_NULL;
	p[11] = DB_STR(c->key_source);
	p[12] = DB_BLOB(c->der, c->derlen);
	p[13] = c->wrapped != NULL ? DB_BLOB(c->wrapped, c->wrappedlen)
				   : DB_NULL;
	p[14] = c->wrapped != NULL ? DB_STRN(tx[2], strlen(tx[2])) : DB_NULL;
	p[15] = id_param(c->renewed_from_id);
	p[16] = DB_STR(c->issued_via);
	p[17] = DB_STR(c->created_by_type);
	p[18] = id_param(c->created_by_user_id);
	p[19] = id_param(c->created_by_app_id);
	p[20] = id_param(c->tenant_id);
	p[21] = id_param(c->org_id);
	return 0;
}

int
db_cert_insert(struct db *db, const struct db_cert_new *c, int64_t *id)
{
	struct db_param p[22];
	char tx[3][32];
	uint64_t newid = 0;
	int r;

	if ((r = insert_params(c, tx, p)) != 0 ||
	    (r = db_exec(db, &cert_stmts[CERT_INSERT], p, 22, NULL, &newid)) !=
		    0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

int
db_cert_insert_row(struct db *db, const struct db_cert_new *c,
		   const char *issuer, struct db_result **row)
{
	struct db_param p[23];
	char tx[3][32];
	int r;

	if (issuer == NULL)
		return EST_E_INVAL;
	if ((r = insert_params(c, tx, p)) != 0)
		return r;
	p[22] = DB_STR(issuer);
	return db_query_one(db, &cert_stmts[CERT_INSERT_ROW], p, 23, row);
}

/*
 * Several rows in one statement, each answered as CERT_INSERT_ROW does;
 * the issuer is read per row, as the rows may have different CAs.
 */
static struct db_multi cert_insert_rows = {
	"cert_insert_rows",
	CERT_INSERT_HEAD,
	CERT_INSERT_VALUES,
	" RETURNING " CERT_ROW_COLUMNS(
		"certificates.") ", (SELECT subject FROM cas"
				 " WHERE cas.id = certificates.ca_id),"
				 " certificates.cert_der",
	22,
	{{0}}};

int
db_cert_insert_rows(struct db *db, const struct db_cert_new *const *c, size_t n,
		    struct db_result **rows)
{
	const struct db_stmt_def *def;
	struct db_result *all = NULL;
	struct db_param *p = NULL;
	char(*tx)[3][32] = NULL;
	const char *serial;
	size_t i, len;
	int r = EST_E_NOMEM;

	if (n == 0 || n > DB_MULTI_MAX)
		return EST_E_INVAL;
	if ((def = db_multi_def(&cert_insert_rows, n)) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++)
		rows[i] = NULL;
	if ((p = calloc(n * 22, sizeof(*p))) == NULL ||
	    (tx = calloc(n, sizeof(*tx))) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = insert_params(c[i], tx[i], p + i * 22)) != 0)
			goto out;
	if ((r = db_query(db, def, p, n * 22, &all)) != 0)
		goto out;
	/* The rows come back in the order of VALUES: checked, not assumed. */
	if (db_result_rows(all) != n || db_result_cols(all) != DB_CERT_NCOLS) {
		r = EST_E_INTERNAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		serial = db_result_str(all, i, DB_CERT_SERIAL, &len);
		if (db_result_i64(all, i, DB_CERT_CA_ID) != c[i]->ca_id ||
		    serial == NULL || len != c[i]->serial_len ||
		    memcmp(serial, c[i]->serial, len) != 0) {
			r = EST_E_INTERNAL;
			goto out;
		}
		if ((r = db_result_row(all, i, &rows[i])) != 0)
			goto out;
	}
out:
	if (r != 0)
		for (i = 0; i < n; i++) {
			db_result_free(rows[i]);
			rows[i] = NULL;
		}
	db_result_free(all);
	free(tx);
	free(p);
	return r;
}

int
db_cert_get(struct db *db, int64_t id, int lock, struct db_result **out)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return db_query_one(db, &cert_stmts[lock ? CERT_GET_LOCK : CERT_GET], p,
			    1, out);
}

int
db_cert_get_by_serial(struct db *db, int64_t ca_id, const uint8_t *serial,
		      size_t serial_len, struct db_result **out)
{
	struct db_param p[2];

	if (serial == NULL || serial_len == 0 || serial_len > 20)
		return EST_E_INVAL;
	p[0] = DB_I64(ca_id);
	p[1] = DB_BLOB(serial, serial_len);
	return db_query_one(db, &cert_stmts[CERT_GET_SERIAL], p, 2, out);
}

int
db_cert_get_by_fingerprint(struct db *db, const uint8_t *fp,
			   struct db_result **out)
{
	struct db_param p[1];

	if (fp == NULL)
		return EST_E_INVAL;
	p[0] = DB_BLOB(fp, 32);
	return db_query_one(db, &cert_stmts[CERT_GET_FP], p, 1, out);
}

int
db_cert_list(struct db *db, const struct db_cert_filter *f, int64_t after_id,
	     size_t limit, struct db_result **out)
{
	struct db_param p[28];

	if (f == NULL || limit == 0 || after_id < 0 || f->scope_tenant < 0 ||
	    f->scope_org < 0 || f->ca_id < 0 || f->template_id < 0 ||
	    f->device_id < 0 || f->tenant_id < 0 || f->org_id < 0 ||
	    (f->serial != NULL && (f->serial_len == 0 || f->serial_len > 20)))
		return EST_E_INVAL;
	p[0] = DB_I64(after_id);
	p[1] = p[2] = DB_I64(f->scope_tenant);
	p[3] = p[4] = DB_I64(f->scope_org);
	p[5] = p[6] = DB_I64(f->ca_id);
	p[7] = p[8] = DB_I64(f->template_id);
	p[9] = p[10] = DB_I64(f->device_id);
	p[11] = p[12] = DB_I64(f->tenant_id);
	p[13] = p[14] = DB_I64(f->org_id);
	p[15] = p[16] = DB_STR(f->status);
	p[17] = p[18] = DB_STR(f->kind);
	p[19] = p[20] = DB_STR(f->subject_contains);
	p[21] = p[22] = DB_STR(f->subject_cn);
	p[23] = p[24] =
		f->serial != NULL ? DB_BLOB(f->serial, f->serial_len) : DB_NULL;
	p[25] = p[26] = DB_STR(f->expiring_before);
	p[27] = DB_I64(limit);
	return db_query(db, &cert_stmts[CERT_LIST], p, 28, out);
}

int
db_cert_revoke(struct db *db, int64_t id, int reason, time_t invalidity,
	       int64_t by_user)
{
	struct db_param p[4];
	uint64_t affected = 0;
	char inv[32];
	int r;

	/* removeFromCRL (8) undoes a hold; 7 is not a CRLReason at all. */
	if (reason < 0 || reason > 10 || reason == 7 || reason == 8 ||
	    invalidity < 0)
		return EST_E_INVAL;
	if ((r = time_text(invalidity, inv)) != 0)
		return r;
	p[0] = DB_I64(reason);
	p[1] = invalidity > 0 ? DB_STRN(inv, strlen(inv)) : DB_NULL;
	p[2] = id_param(by_user);
	p[3] = DB_I64(id);
	if ((r = db_exec(db, &cert_stmts[CERT_REVOKE], p, 4, &affected,
			 NULL)) != 0)
		return r;
	return affected == 0 ? EST_E_CONFLICT : 0;
}

int
db_cert_wrapped_key(struct db *db, int64_t id, uint8_t **wrapped, size_t *len)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	const char *s;
	uint8_t *w;
	size_t n = 0;
	int r;

	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &cert_stmts[CERT_WRAPPED], p, 1, &res)) != 0)
		return r;
	if ((s = db_result_str(res, 0, 0, &n)) == NULL || n == 0) {
		r = EST_E_NOTFOUND;
	} else if ((w = malloc(n)) == NULL) {
		r = EST_E_NOMEM;
	} else {
		memcpy(w, s, n);
		*wrapped = w;
		*len = n;
	}
	/* The result buffer held the wrapped key too. */
	if (s != NULL)
		explicit_bzero((char *)(uintptr_t)s, n);
	db_result_free(res);
	return r;
}

int
db_cert_destroy_keys(struct db *db, int64_t id, size_t limit, uint64_t *n)
{
	struct db_param p[3];
	uint64_t affected = 0;
	int r;

	if (id < 0 || (id == 0 && limit == 0))
		return EST_E_INVAL;
	p[0] = p[1] = DB_I64(id);
	p[2] = DB_I64(id > 0 ? 1 : limit);
	if ((r = db_exec(db, &cert_stmts[CERT_DESTROY_KEYS], p, 3, &affected,
			 NULL)) != 0)
		return r;
	if (n != NULL)
		*n = affected;
	return 0;
}

int
db_cert_revoked_list(struct db *db, int64_t ca_id, int64_t after_id,
		     size_t limit, struct db_result **out)
{
	struct db_param p[3];

	if (ca_id <= 0 || after_id < 0 || limit == 0)
		return EST_E_INVAL;
	p[0] = DB_I64(ca_id);
	p[1] = DB_I64(after_id);
	p[2] = DB_I64(limit);
	return db_query(db, &cert_stmts[CERT_REVOKED_LIST], p, 3, out);
}

int64_t
db_cert_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, se, n = 0;

	if (s == NULL ||
	    sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se,
		   &n) != 6 ||
	    (s[n] != '\0' && s[n] != '.'))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	return (int64_t)timegm(&tm);
}
