/*
 * The record of enrollments (db/enroll.h).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "db.h"
#include "dbpriv.h"
#include "enroll.h"
#include "err.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define INSERT_HEAD                                                            \
	"INSERT INTO est_enrollments (tenant_id, org_id, server_id, domain, "  \
	"label, operation, auth_method, outcome, reason, device_id, "          \
	"device_created, app_id, certificate_id, source_addr) VALUES "
#define INSERT_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

static const struct db_stmt_def insert_stmt = {"enrollment_insert",
					       INSERT_HEAD INSERT_ROW, 14};
/* Several rows, answered with their ids in VALUES order (checked). */
static struct db_multi insert_rows = {
	"enrollment_insert_rows",	 INSERT_HEAD, INSERT_ROW,
	" RETURNING id, certificate_id", 14,	      {{0}}};

static const char *const operations[] = {"simpleenroll", "simplereenroll",
					 "serverkeygen", "rest", NULL};
static const char *const methods[] = {"none",
				      "device_password",
				      "factory_cert",
				      "operational_cert",
				      "app_key",
				      "app_cert",
				      NULL};
static const char *const outcomes[] = {DB_ENROLL_SUCCESS, DB_ENROLL_FAILURE,
				       DB_ENROLL_DENIED, NULL};

static int
one_of(const char *s, const char *const *set)
{
	size_t i;

	for (i = 0; s != NULL && set[i] != NULL; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

static struct db_param
id_or_null(int64_t id)
{
	return id > 0 ? DB_I64(id) : DB_NULL;
}

/* 1 when s is printable ASCII without spaces, at most max bytes. */
static int
ascii_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || (unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* The bytes of the first max characters of UTF-8 text s. */
static size_t
utf8_prefix(const char *s, size_t max)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n++ == max)
			break;
	}
	return i;
}

/* The 14 parameters of a row of e; EST_E_INVAL as db_enrollment_record. */
static int
row_params(const struct db_enrollment *e, struct db_param *p)
{
	const char *domain = e->domain != NULL ? e->domain : "";

	if (!one_of(e->operation, operations) ||
	    !one_of(e->auth_method, methods) || !one_of(e->outcome, outcomes))
		return EST_E_INVAL;
	/* What a client sent is kept only in the form the columns take. */
	if (!ascii_ok(domain, DB_ENROLL_DOMAIN_MAX))
		domain = "";
	p[0] = id_or_null(e->tenant_id);
	p[1] = id_or_null(e->org_id);
	p[2] = id_or_null(e->server_id);
	p[3] = DB_STR(domain);
	p[4] = e->label != NULL && ascii_ok(e->label, DB_ENROLL_LABEL_MAX)
		       ? DB_STR(e->label)
		       : DB_NULL;
	p[5] = DB_STR(e->operation);
	p[6] = DB_STR(e->auth_method);
	p[7] = DB_STR(e->outcome);
	p[8] = e->reason != NULL
		       ? DB_STRN(e->reason,
				 utf8_prefix(e->reason, DB_ENROLL_REASON_MAX))
		       : DB_NULL;
	p[9] = id_or_null(e->device_id);
	p[10] = DB_I64(e->device_created ? 1 : 0);
	p[11] = id_or_null(e->app_id);
	p[12] = id_or_null(e->certificate_id);
	p[13] = e->source_addr != NULL &&
				ascii_ok(e->source_addr, DB_ENROLL_ADDR_MAX)
			? DB_STR(e->source_addr)
			: DB_NULL;
	return 0;
}

int
db_enrollment_record(struct db *db, const struct db_enrollment *e, int64_t *id)
{
	struct db_param p[14];
	uint64_t newid = 0;
	int r;

	if ((r = row_params(e, p)) != 0 ||
	    (r = db_exec(db, &insert_stmt, p, NELEM(p), NULL, &newid)) != 0)
		return r;
	if (id != NULL)
		*id = (int64_t)newid;
	return 0;
}

int
db_enrollment_record_many(struct db *db, const struct db_enrollment *const *e,
			  size_t n, int64_t *ids)
{
	struct db_param p[DB_MULTI_MAX * 14];
	const struct db_stmt_def *def;
	struct db_result *res = NULL;
	size_t i;
	int r;

	if (n == 1)
		return db_enrollment_record(db, e[0], &ids[0]);
	if (n == 0 || n > DB_MULTI_MAX)
		return EST_E_INVAL;
	if ((def = db_multi_def(&insert_rows, n)) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++)
		if ((r = row_params(e[i], p + i * 14)) != 0)
			return r;
	if ((r = db_query(db, def, p, n * 14, &res)) != 0)
		return r;
	if (db_result_rows(res) != n) {
		r = EST_E_INTERNAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (db_result_i64(res, i, 1) != e[i]->certificate_id) {
			r = EST_E_INTERNAL;
			goto out;
		}
		ids[i] = db_result_i64(res, i, 0);
	}
out:
	db_result_free(res);
	return r;
}
