/*
 * A device's certificates and its credential files (db/device.h).  The
 * credential column holds only what pki/devmgmt_cred.c sealed; nothing
 * here sees a secret in clear.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "device.h"
#include "err.h"
#include "util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define TS "'%Y-%m-%d %H:%i:%s'"
#define TS6 "'%Y-%m-%d %H:%i:%s.%f'"

/* As db/cert.c: past notAfter is expired, whatever the row says yet. */
#define CERT_LIVE "(c.status = 'active' AND c.not_after > UTC_TIMESTAMP())"

/* The state of a credential row, as enum db_cred_state. */
#define CRED_COLUMNS                                                           \
	"id, CASE WHEN credential IS NOT NULL AND"                             \
	" expires_at > UTC_TIMESTAMP(6) THEN 1"                                \
	" WHEN credential IS NOT NULL THEN 2"                                  \
	" WHEN downloaded_at IS NOT NULL THEN 3 ELSE 4 END,"                   \
	" DATE_FORMAT(expires_at, " TS6 "),"                                   \
	" DATE_FORMAT(downloaded_at, " TS6 "),"                                \
	" DATE_FORMAT(destroyed_at, " TS6 ")"

static const struct db_stmt_def cred_stmts[] = {
#define C_CERTS 0
	{"device_certs",
	 "SELECT c.id, c.kind,"
	 " IF(c.status = 'active' AND c.not_after <= UTC_TIMESTAMP(),"
	 " 'expired', c.status), c.serial, c.subject,"
	 " DATE_FORMAT(c.not_before, " TS "), DATE_FORMAT(c.not_after, " TS "),"
	 " c.template_id, c.ca_id, c.key_source,"
	 " (c.wrapped_key IS NOT NULL AND c.key_destroyed_at IS NULL AND"
	 " c.key_retention_until > UTC_TIMESTAMP(6)), c.fingerprint"
	 " FROM certificates c FORCE INDEX (certificates_device)"
	 " WHERE c.device_id = ? ORDER BY c.id DESC LIMIT ?",
	 2},
#define C_COUNTS 1
	{"device_cert_counts",
	 "SELECT COALESCE(SUM(c.kind = 'operational' AND " CERT_LIVE "), 0),"
	 " COALESCE(SUM(c.kind = 'factory' AND " CERT_LIVE "), 0)"
	 " FROM certificates c WHERE c.device_id = ?",
	 1},
#define C_ACTIVE 2
	{"device_active_certs",
	 "SELECT c.id, c.ca_id FROM certificates c"
	 " WHERE c.device_id = ? AND " CERT_LIVE " ORDER BY c.id LIMIT ?",
	 2},
#define C_INSERT 3
	{"device_cred_insert",
	 "INSERT INTO device_credentials (device_id, credential, expires_at)"
	 " VALUES (?, ?, DATE_ADD(UTC_TIMESTAMP(6), INTERVAL ? HOUR))",
	 3},
#define C_STATE 4
	{"device_cred_state",
	 "SELECT " CRED_COLUMNS ", NULL FROM device_credentials"
	 " WHERE device_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
	 1},
#define C_TAKE 5
	{"device_cred_take",
	 "SELECT " CRED_COLUMNS ", credential FROM device_credentials"
	 " WHERE device_id = ? ORDER BY created_at DESC, id DESC LIMIT 1"
	 " FOR UPDATE",
	 1},
#define C_DOWNLOADED 6
	{"device_cred_downloaded",
	 "UPDATE device_credentials SET credential = NULL,"
	 " downloaded_at = UTC_TIMESTAMP(6) WHERE id = ?",
	 1},
#define C_DESTROYED 7
	{"device_cred_destroyed",
	 "UPDATE device_credentials SET credential = NULL,"
	 " destroyed_at = UTC_TIMESTAMP(6) WHERE id = ?",
	 1},
#define C_EXPIRED 8
	{"device_cred_expired",
	 "SELECT c.id, c.device_id, d.name, d.tenant_id, d.org_id"
	 " FROM device_credentials c LEFT JOIN devices d ON d.id = c.device_id"
	 " WHERE c.expires_at <= UTC_TIMESTAMP(6)"
	 " AND c.credential IS NOT NULL ORDER BY c.expires_at LIMIT ?"
	 " FOR UPDATE",
	 1},
};

int
db_device_certs(struct db *db, int64_t id, size_t limit, struct db_result **out)
{
	struct db_param p[2];

	p[0] = DB_I64(id);
	p[1] = DB_I64(limit);
	return db_query(db, &cred_stmts[C_CERTS], p, NELEM(p), out);
}

int
db_device_cert_counts(struct db *db, int64_t id, int64_t *operational,
		      int64_t *factory)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	int r;

	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &cred_stmts[C_COUNTS], p, 1, &res)) != 0)
		return r;
	*operational = db_result_i64(res, 0, 0);
	*factory = db_result_i64(res, 0, 1);
	db_result_free(res);
	return 0;
}

int
db_device_active_certs(struct db *db, int64_t id, size_t limit,
		       struct db_result **out)
{
	struct db_param p[2];

	p[0] = DB_I64(id);
	p[1] = DB_I64(limit);
	return db_query(db, &cred_stmts[C_ACTIVE], p, NELEM(p), out);
}

int
db_device_cred_insert(struct db *db, int64_t id, const uint8_t *blob,
		      size_t len, int retention_hours, int64_t *cred_id)
{
	struct db_param p[3];
	uint64_t newid = 0;
	int r;

	if (blob == NULL || len == 0 || retention_hours <= 0)
		return EST_E_INVAL;
	p[0] = DB_I64(id);
	p[1] = DB_BLOB(blob, len);
	p[2] = DB_I64(retention_hours);
	if ((r = db_exec(db, &cred_stmts[C_INSERT], p, NELEM(p), NULL,
			 &newid)) != 0)
		return r;
	*cred_id = (int64_t)newid;
	return 0;
}

void
db_cred_clear(struct db_cred *c)
{
	if (c == NULL)
		return;
	free(c->expires_at);
	free(c->downloaded_at);
	free(c->destroyed_at);
	freezero(c->blob, c->len);
	memset(c, 0, sizeof(*c));
}

static char *
col_dup(const struct db_result *res, size_t col, int *nomem)
{
	const char *s = db_result_str(res, 0, col, NULL);
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*nomem = 1;
	return d;
}

static int
cred_read(struct db *db, int stmt, int64_t id, struct db_cred *out)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	struct db_cred c;
	const char *b;
	size_t len = 0;
	int64_t st;
	int nomem = 0, r;

	memset(&c, 0, sizeof(c));
	p[0] = DB_I64(id);
	r = db_query_one(db, &cred_stmts[stmt], p, 1, &res);
	if (r == EST_E_NOTFOUND) {
		*out = c;
		return 0;
	}
	if (r != 0)
		return r;
	c.id = db_result_i64(res, 0, 0);
	st = db_result_i64(res, 0, 1);
	c.state = st >= DB_CRED_AVAILABLE && st <= DB_CRED_DESTROYED
			  ? (enum db_cred_state)st
			  : DB_CRED_DESTROYED;
	c.expires_at = col_dup(res, 2, &nomem);
	c.downloaded_at = col_dup(res, 3, &nomem);
	c.destroyed_at = col_dup(res, 4, &nomem);
	if (c.state == DB_CRED_AVAILABLE &&
	    (b = db_result_str(res, 0, 5, &len)) != NULL && len > 0) {
		if ((c.blob = malloc(len)) == NULL)
			nomem = 1;
		else
			memcpy(c.blob, b, len);
		c.len = len;
	}
	db_result_free(res);
	if (nomem) {
		db_cred_clear(&c);
		return EST_E_NOMEM;
	}
	*out = c;
	return 0;
}

int
db_device_cred_state(struct db *db, int64_t id, struct db_cred *out)
{
	return cred_read(db, C_STATE, id, out);
}

int
db_device_cred_take(struct db *db, int64_t id, struct db_cred *out)
{
	return cred_read(db, C_TAKE, id, out);
}

int
db_device_cred_destroy(struct db *db, int64_t cred_id, int downloaded)
{
	struct db_param p[1];
	uint64_t affected = 0;
	int r;

	p[0] = DB_I64(cred_id);
	if ((r = db_exec(db,
			 &cred_stmts[downloaded ? C_DOWNLOADED : C_DESTROYED],
			 p, 1, &affected, NULL)) != 0)
		return r;
	return affected > 0 ? 0 : EST_E_NOTFOUND;
}

int
db_device_cred_expired(struct db *db, size_t limit, struct db_result **out)
{
	struct db_param p[1];

	p[0] = DB_I64(limit);
	return db_query(db, &cred_stmts[C_EXPIRED], p, 1, out);
}
