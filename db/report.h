/*
 * Reports: plain SQL over the report views of db/views-report.sql, the
 * same views an auditor reads with the read-only account estuary_report
 * (docs/reports.md).  Each report sums its view's rows over the tenants
 * the caller may see: every tenant, or one (tenant_id > 0), so that a
 * Tenant Admin or Tenant Auditor gets its own tenant's figures and an
 * Admin may narrow to one tenant.
 *
 * A report is a table: db_report_def() gives its columns, in result order,
 * with whether each is a number; every other column is text, and NULL
 * stays NULL.  Times are RFC 3339 text ("2026-01-31T12:00:00Z"), days
 * "YYYY-MM-DD", both UTC.
 */
#ifndef ESTUARY_REPORT_H
#define ESTUARY_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct db;
struct db_result;

enum report_kind {
	REPORT_NONE = 0,
	REPORT_CERTS_BY_STATUS,
	REPORT_CERTS_BY_CA,
	REPORT_CERTS_EXPIRING,
	REPORT_DEVICES_BY_MODE,
	REPORT_DEVICES_BY_TYPE,
	REPORT_ENROLLMENTS_PER_DAY,
	REPORT_COUNT
};

/* Bounds of the parameters. */
#define REPORT_DAYS_MIN 1
#define REPORT_DAYS_MAX 3650
/* The longest range of enrollments-per-day, in days, both ends included. */
#define REPORT_RANGE_MAX 3660
/* The most rows certificates-expiring returns (the earliest to expire). */
#define REPORT_EXPIRING_MAX 10000

enum report_ctype {
	REPORT_C_TEXT = 1, /* string or NULL */
	REPORT_C_NUM,	   /* integer or NULL */
	REPORT_C_ID,	   /* positive id or NULL */
};

struct report_col {
	const char *name; /* JSON member and CSV header */
	enum report_ctype type;
};

struct report_def {
	enum report_kind kind;
	const char *name; /* "certificates-by-status": URL and file name */
	const char *view; /* the view it reads */
	const struct report_col *cols;
	size_t ncols;
};

/* The definition of k; NULL for an unknown kind. */
const struct report_def *db_report_def(enum report_kind k);

/*
 * Parameters.  tenant_id 0 reports every tenant.  days is used by
 * certificates-expiring (REPORT_DAYS_MIN..MAX); from and to by
 * enrollments-per-day ("YYYY-MM-DD", UTC, both included, from <= to, at
 * most REPORT_RANGE_MAX days).
 */
struct report_params {
	int64_t tenant_id;
	int64_t days;
	const char *from;
	const char *to;
};

/*
 * Runs report k with p; sets *out with the columns of db_report_def(k).
 * certificates-expiring returns at most REPORT_EXPIRING_MAX + 1 rows: one
 * more than the cap tells that the list was cut.  EST_E_INVAL for a bad
 * kind or parameter.
 */
int db_report_query(struct db *db, enum report_kind k,
		    const struct report_params *p, struct db_result **out);

/*
 * certificates-expiring's count of every matching certificate, beyond the
 * cap too.
 */
int db_report_expiring_count(struct db *db, const struct report_params *p,
			     int64_t *n);

/* 1 when s is a valid day "YYYY-MM-DD" (a real date), else 0. */
int db_report_day_valid(const char *s);

/*
 * CSV (RFC 4180, CRLF line ends) of a report: the header line of def's
 * column names, and one record per row of a db_report_query() result,
 * appended to b.  A text cell that a spreadsheet would take for a formula
 * (it begins with = + - @, TAB or CR) gets a leading apostrophe, as in the
 * audit log's export.
 */
int db_report_csv_header(const struct report_def *def, struct buf *b);
int db_report_csv_row(const struct report_def *def, const struct db_result *res,
		      size_t row, struct buf *b);

#endif
