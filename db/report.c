/*
 * Reports (report.h): one prepared statement per report over its view.
 *
 * Every statement takes the tenant as a pair of parameters, (? IS NULL OR
 * tenant_id = ?), like the audit log's filters: NULL reports every tenant.
 * The views group by tenant, so summing their rows over the tenants in
 * scope gives the same figures as a query over the tables, and the
 * auditor who runs docs/reports.md's SQL with the read-only account gets
 * the numbers the API shows.  Sums are cast to integers: MariaDB's SUM()
 * of integers is a DECIMAL.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "err.h"
#include "report.h"

/*
 * Each statement's tenant filter is the pair of parameters described
 * above; the certificate and enrollment sums split one count column by
 * the value of another.
 */
static const struct db_stmt_def report_stmts[] = {
#define RS_BY_STATUS 0
	{"report_by_status",
	 "SELECT status, CAST(SUM(certificates) AS SIGNED)"
	 " FROM report_certificates_by_status"
	 " WHERE (? IS NULL OR tenant_id = ?)"
	 " GROUP BY status"
	 " ORDER BY FIELD(status, 'active', 'expired', 'revoked'), status",
	 2},
#define RS_BY_CA 1
	{"report_by_ca",
	 "SELECT ca_id, ca_name,"
	 " CAST(SUM(IF(status = 'active', certificates, 0)) AS SIGNED),"
	 " CAST(SUM(IF(status = 'expired', certificates, 0)) AS SIGNED),"
	 " CAST(SUM(IF(status = 'revoked', certificates, 0)) AS SIGNED),"
	 " CAST(SUM(certificates) AS SIGNED)"
	 " FROM report_certificates_by_ca"
	 " WHERE (? IS NULL OR tenant_id = ?)"
	 " GROUP BY ca_id, ca_name"
	 " ORDER BY ca_name, ca_id",
	 2},
#define RS_EXPIRING 2
	{"report_expiring",
	 "SELECT certificate_id, serial, subject, kind, ca_id, ca_name,"
	 " DATE_FORMAT(not_before, '%Y-%m-%dT%H:%i:%sZ'),"
	 " DATE_FORMAT(not_after, '%Y-%m-%dT%H:%i:%sZ'), days_left,"
	 " template_id, template_name, device_id, device_name,"
	 " tenant_id, tenant_name, org_id, org_name"
	 " FROM report_certificates_expiring"
	 " WHERE not_after < UTC_TIMESTAMP() + INTERVAL ? DAY"
	 " AND (? IS NULL OR tenant_id = ?)"
	 " ORDER BY not_after, certificate_id LIMIT ?",
	 4},
#define RS_EXPIRING_COUNT 3
	{"report_expiring_count",
	 "SELECT COUNT(*) FROM report_certificates_expiring"
	 " WHERE not_after < UTC_TIMESTAMP() + INTERVAL ? DAY"
	 " AND (? IS NULL OR tenant_id = ?)",
	 3},
#define RS_BY_MODE 4
	{"report_by_mode",
	 "SELECT mode, CAST(SUM(devices) AS SIGNED)"
	 " FROM report_devices_by_mode"
	 " WHERE (? IS NULL OR tenant_id = ?)"
	 " GROUP BY mode"
	 " ORDER BY FIELD(mode, 'NEW', 'FACTORY', 'OPERATIONAL', 'DISABLED'),"
	 " mode",
	 2},
#define RS_BY_TYPE 5
	{"report_by_type",
	 "SELECT device_type_id, device_type_name,"
	 " CAST(SUM(devices) AS SIGNED), CAST(SUM(devices_new) AS SIGNED),"
	 " CAST(SUM(devices_factory) AS SIGNED),"
	 " CAST(SUM(devices_operational) AS SIGNED),"
	 " CAST(SUM(devices_disabled) AS SIGNED)"
	 " FROM report_devices_by_type"
	 " WHERE (? IS NULL OR tenant_id = ?)"
	 " GROUP BY device_type_id, device_type_name"
	 " ORDER BY device_type_name, device_type_id",
	 2},
#define RS_PER_DAY 6
	{"report_per_day",
	 "SELECT DATE_FORMAT(day, '%Y-%m-%d'),"
	 " CAST(SUM(enrollments) AS SIGNED),"
	 " CAST(SUM(IF(outcome = 'success', enrollments, 0)) AS SIGNED),"
	 " CAST(SUM(IF(outcome = 'failure', enrollments, 0)) AS SIGNED),"
	 " CAST(SUM(IF(outcome = 'denied', enrollments, 0)) AS SIGNED),"
	 " CAST(SUM(devices_created) AS SIGNED)"
	 " FROM report_enrollments_per_day"
	 " WHERE day >= ? AND day <= ? AND (? IS NULL OR tenant_id = ?)"
	 " GROUP BY day"
	 " ORDER BY day",
	 4},
};

static const struct report_col by_status_cols[] = {
	{"status", REPORT_C_TEXT},
	{"certificates", REPORT_C_NUM},
};

static const struct report_col by_ca_cols[] = {
	{"ca_id", REPORT_C_ID},	   {"ca_name", REPORT_C_TEXT},
	{"active", REPORT_C_NUM},  {"expired", REPORT_C_NUM},
	{"revoked", REPORT_C_NUM}, {"total", REPORT_C_NUM},
};

static const struct report_col expiring_cols[] = {
	{"certificate_id", REPORT_C_ID},  {"serial", REPORT_C_TEXT},
	{"subject", REPORT_C_TEXT},	  {"kind", REPORT_C_TEXT},
	{"ca_id", REPORT_C_ID},		  {"ca_name", REPORT_C_TEXT},
	{"not_before", REPORT_C_TEXT},	  {"not_after", REPORT_C_TEXT},
	{"days_left", REPORT_C_NUM},	  {"template_id", REPORT_C_ID},
	{"template_name", REPORT_C_TEXT}, {"device_id", REPORT_C_ID},
	{"device_name", REPORT_C_TEXT},	  {"tenant_id", REPORT_C_ID},
	{"tenant_name", REPORT_C_TEXT},	  {"org_id", REPORT_C_ID},
	{"org_name", REPORT_C_TEXT},
};

static const struct report_col by_mode_cols[] = {
	{"mode", REPORT_C_TEXT},
	{"devices", REPORT_C_NUM},
};

static const struct report_col by_type_cols[] = {
	{"device_type_id", REPORT_C_ID},
	{"device_type_name", REPORT_C_TEXT},
	{"devices", REPORT_C_NUM},
	{"devices_new", REPORT_C_NUM},
	{"devices_factory", REPORT_C_NUM},
	{"devices_operational", REPORT_C_NUM},
	{"devices_disabled", REPORT_C_NUM},
};

static const struct report_col per_day_cols[] = {
	{"day", REPORT_C_TEXT},	   {"enrollments", REPORT_C_NUM},
	{"success", REPORT_C_NUM}, {"failure", REPORT_C_NUM},
	{"denied", REPORT_C_NUM},  {"devices_created", REPORT_C_NUM},
};

#define COLS(a) (a), sizeof(a) / sizeof((a)[0])

static const struct report_def report_defs[] = {
	{REPORT_CERTS_BY_STATUS, "certificates-by-status",
	 "report_certificates_by_status", COLS(by_status_cols)},
	{REPORT_CERTS_BY_CA, "certificates-by-ca", "report_certificates_by_ca",
	 COLS(by_ca_cols)},
	{REPORT_CERTS_EXPIRING, "certificates-expiring",
	 "report_certificates_expiring", COLS(expiring_cols)},
	{REPORT_DEVICES_BY_MODE, "devices-by-mode", "report_devices_by_mode",
	 COLS(by_mode_cols)},
	{REPORT_DEVICES_BY_TYPE, "devices-by-type", "report_devices_by_type",
	 COLS(by_type_cols)},
	{REPORT_ENROLLMENTS_PER_DAY, "enrollments-per-day",
	 "report_enrollments_per_day", COLS(per_day_cols)},
};

#define NDEFS (sizeof(report_defs) / sizeof(report_defs[0]))

const struct report_def *
db_report_def(enum report_kind k)
{
	size_t i;

	for (i = 0; i < NDEFS; i++)
		if (report_defs[i].kind == k)
			return &report_defs[i];
	return NULL;
}

/* --- Days --- */

/*
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), for the length of a range.
 */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Parses "YYYY-MM-DD" (years 1000..9999, DATE's range) into *days. */
static int
day_parse(const char *s, int64_t *days)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};
	unsigned y = 0, m, d, i;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return EST_E_INVAL;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return EST_E_INVAL;
	for (i = 0; i < 4; i++)
		y = y * 10 + (unsigned)(s[i] - '0');
	m = (unsigned)(s[5] - '0') * 10 + (unsigned)(s[6] - '0');
	d = (unsigned)(s[8] - '0') * 10 + (unsigned)(s[9] - '0');
	if (y < 1000 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] + (m == 2 && leap(y)))
		return EST_E_INVAL;
	*days = days_from_civil(y, m, d);
	return 0;
}

int
db_report_day_valid(const char *s)
{
	int64_t days;

	return day_parse(s, &days) == 0;
}

/* --- Queries --- */

static struct db_param
tenant_param(int64_t tenant_id)
{
	return tenant_id > 0 ? DB_I64(tenant_id) : DB_NULL;
}

static int
expiring_params_ok(const struct report_params *p)
{
	return p->days >= REPORT_DAYS_MIN && p->days <= REPORT_DAYS_MAX;
}

int
db_report_query(struct db *db, enum report_kind k,
		const struct report_params *p, struct db_result **out)
{
	struct db_param q[4];
	int64_t from, to;
	size_t n = 0, st;

	if (p == NULL || p->tenant_id < 0)
		return EST_E_INVAL;
	switch (k) {
	case REPORT_CERTS_BY_STATUS:
		st = RS_BY_STATUS;
		break;
	case REPORT_CERTS_BY_CA:
		st = RS_BY_CA;
		break;
	case REPORT_CERTS_EXPIRING:
		if (!expiring_params_ok(p))
			return EST_E_INVAL;
		st = RS_EXPIRING;
		q[n++] = DB_I64(p->days);
		break;
	case REPORT_DEVICES_BY_MODE:
		st = RS_BY_MODE;
		break;
	case REPORT_DEVICES_BY_TYPE:
		st = RS_BY_TYPE;
		break;
	case REPORT_ENROLLMENTS_PER_DAY:
		if (day_parse(p->from, &from) != 0 ||
		    day_parse(p->to, &to) != 0 || from > to ||
		    to - from + 1 > REPORT_RANGE_MAX)
			return EST_E_INVAL;
		st = RS_PER_DAY;
		q[n++] = DB_STR(p->from);
		q[n++] = DB_STR(p->to);
		break;
	default:
		return EST_E_INVAL;
	}
	q[n++] = tenant_param(p->tenant_id);
	q[n++] = tenant_param(p->tenant_id);
	if (k == REPORT_CERTS_EXPIRING)
		q[n++] = DB_I64(REPORT_EXPIRING_MAX + 1);
	return db_query(db, &report_stmts[st], q, n, out);
}

int
db_report_expiring_count(struct db *db, const struct report_params *p,
			 int64_t *count)
{
	struct db_result *res = NULL;
	struct db_param q[3];
	int r;

	if (p == NULL || p->tenant_id < 0 || !expiring_params_ok(p))
		return EST_E_INVAL;
	q[0] = DB_I64(p->days);
	q[1] = tenant_param(p->tenant_id);
	q[2] = tenant_param(p->tenant_id);
	if ((r = db_query_one(db, &report_stmts[RS_EXPIRING_COUNT], q, 3,
			      &res)) != 0)
		return r;
	*count = db_result_i64(res, 0, 0);
	db_result_free(res);
	return 0;
}

/* --- CSV --- */

/*
 * One cell.  The apostrophe goes first, so that a spreadsheet shows the
 * text instead of evaluating it (OWASP "CSV injection"), and the quotes
 * around it, so that they cover the apostrophe too.  Numbers never get
 * one: a negative number is a number, not a formula.
 */
static int
csv_cell(struct buf *b, const char *s, size_t len, int text)
{
	static const char formula[] = "=+-@\t\r";
	size_t i;
	int quote = 0, r;

	if (s == NULL || len == 0)
		return 0;
	for (i = 0; i < len && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' ||
			s[i] == '\n';
	if ((quote && (r = buf_put_u8(b, '"')) != 0) ||
	    (text && memchr(formula, s[0], sizeof(formula) - 1) != NULL &&
	     (r = buf_put_u8(b, '\'')) != 0))
		return r;
	for (i = 0; i < len; i++) {
		if (s[i] == '"' && (r = buf_put_u8(b, '"')) != 0)
			return r;
		if ((r = buf_put_u8(b, (uint8_t)s[i])) != 0)
			return r;
	}
	return quote ? buf_put_u8(b, '"') : 0;
}

int
db_report_csv_header(const struct report_def *def, struct buf *b)
{
	size_t i;
	int r = 0;

	for (i = 0; i < def->ncols && r == 0; i++) {
		if (i > 0)
			r = buf_put_u8(b, ',');
		if (r == 0)
			r = csv_cell(b, def->cols[i].name,
				     strlen(def->cols[i].name), 1);
	}
	return r != 0 ? r : buf_put(b, "\r\n", 2);
}

int
db_report_csv_row(const struct report_def *def, const struct db_result *res,
		  size_t row, struct buf *b)
{
	const char *s;
	size_t i, len;
	int r = 0;

	if (row >= db_result_rows(res) || db_result_cols(res) < def->ncols)
		return EST_E_INVAL;
	for (i = 0; i < def->ncols && r == 0; i++) {
		s = db_result_str(res, row, i, &len);
		if (i > 0)
			r = buf_put_u8(b, ',');
		if (r == 0)
			r = csv_cell(b, s, len,
				     def->cols[i].type == REPORT_C_TEXT);
	}
	return r != 0 ? r : buf_put(b, "\r\n", 2);
}
