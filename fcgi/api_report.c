/*
 * Reports through the API (api_report.h), over db/report.h.
 *
 * Format.  JSON unless the query says format=csv: a query parameter rather
 * than an Accept header, so that a report is a plain link a browser can
 * download and a log line shows which one was served.  The JSON object
 * names the report and its parameters beside the rows ("items"); the CSV
 * is the same rows under a header line, as an attachment.
 *
 * Access.  Running a report is "read" on the report entity, downloading
 * its CSV "export" (lib/perm.h).  Whose figures are counted is the
 * permission table's list filter: an Admin or Auditor counts every tenant
 * unless tenant_id narrows it to one, a Tenant Admin or Tenant Auditor
 * counts its own tenant (and gets 404 for another tenant's id).
 *
 * A report is not a list: it is not paged, so limit and cursor are
 * refused (400) rather than ignored.  certificates-expiring is the one
 * report with a row per object: it shows the REPORT_EXPIRING_MAX that
 * expire first, with the count of all in "total" (X-Total-Count in CSV).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "api_report.h"
#include "buf.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "perm.h"
#include "report.h"
#include "resp.h"
#include "rest.h"

#define DAY_SECONDS 86400

static int check_day(const char *s);

static const char *const formats[] = {"json", "csv", NULL};

/* Every report takes tenant_id and format; two reports add their own. */
static const struct rest_qfield plain_q[] = {
	{"tenant_id", REST_Q_ID, 0, 0, 0, NULL, NULL},
	{"format", REST_Q_ENUM, 0, 0, 0, formats, NULL},
};
static const struct rest_qfield expiring_q[] = {
	{"tenant_id", REST_Q_ID, 0, 0, 0, NULL, NULL},
	{"format", REST_Q_ENUM, 0, 0, 0, formats, NULL},
	{"days", REST_Q_INT, 0, REPORT_DAYS_MIN, REPORT_DAYS_MAX, NULL, NULL},
};
static const struct rest_qfield per_day_q[] = {
	{"tenant_id", REST_Q_ID, 0, 0, 0, NULL, NULL},
	{"format", REST_Q_ENUM, 0, 0, 0, formats, NULL},
	{"from", REST_Q_STRING, 10, 0, 0, NULL, check_day},
	{"to", REST_Q_STRING, 10, 0, 0, NULL, check_day},
};

#define NQ(a) (sizeof(a) / sizeof((a)[0]))

static int
check_day(const char *s)
{
	return db_report_day_valid(s) ? 0 : EST_E_INVAL;
}

/* A valid day (check_day) as the UNIX time of its midnight, UTC. */
static time_t
day_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
		     (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
	tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
	return timegm(&tm);
}

static void
day_text(time_t t, char out[11])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* A report's request, once validated. */
struct report_req {
	const struct report_def *def;
	struct rest_query q;
	struct report_params params;
	int csv;
	char from[11], to[11];
};

/*
 * enrollments-per-day's range: to defaults to today (UTC), from to the
 * API_REPORT_DAYS_DEFAULT days that end at to.
 */
static int
range_params(struct report_req *rr, struct jsonval_error *e)
{
	const char *from = rest_q_str(&rr->q, "from");
	const char *to = rest_q_str(&rr->q, "to");
	time_t tt, tf;

	tt = to != NULL ? day_time(to) : time(NULL) / DAY_SECONDS * DAY_SECONDS;
	tf = from != NULL ? day_time(from)
			  : tt - (API_REPORT_DAYS_DEFAULT - 1) * DAY_SECONDS;
	if (tf > tt)
		return rest_fail(e, EST_E_INVAL, from != NULL ? "from" : "to");
	if ((tt - tf) / DAY_SECONDS + 1 > REPORT_RANGE_MAX)
		return rest_fail(e, EST_E_INVAL, "from");
	day_text(tf, rr->from);
	day_text(tt, rr->to);
	rr->params.from = rr->from;
	rr->params.to = rr->to;
	return 0;
}

static int
report_parse(const struct request *req, struct report_req *rr,
	     struct jsonval_error *e)
{
	const struct rest_qfield *tab = plain_q;
	const char *fmt;
	size_t n = NQ(plain_q);
	int64_t v;
	int r;

	if (rr->def->kind == REPORT_CERTS_EXPIRING) {
		tab = expiring_q;
		n = NQ(expiring_q);
	} else if (rr->def->kind == REPORT_ENROLLMENTS_PER_DAY) {
		tab = per_day_q;
		n = NQ(per_day_q);
	}
	if ((r = rest_query_parse(req, tab, n, &rr->q, e)) != 0)
		return r;
	if (req_query(req, "limit") != NULL)
		return rest_fail(e, EST_E_INVAL, "limit");
	if (req_query(req, "cursor") != NULL)
		return rest_fail(e, EST_E_INVAL, "cursor");
	fmt = rest_q_str(&rr->q, "format");
	rr->csv = fmt != NULL && strcmp(fmt, "csv") == 0;
	if (rest_q_int(&rr->q, "tenant_id", &v) == 0)
		rr->params.tenant_id = v;
	rr->params.days = API_REPORT_DAYS_DEFAULT;
	if (rest_q_int(&rr->q, "days", &v) == 0)
		rr->params.days = v;
	if (rr->def->kind == REPORT_ENROLLMENTS_PER_DAY)
		return range_params(rr, e);
	return 0;
}

/*
 * Asks the permission table, then narrows the tenant to the actor's
 * scope: a tenant role always reports its own tenant.
 */
static int
report_scope(struct db *db, const struct request *req,
	     const struct principal *p, struct report_req *rr,
	     struct jsonval_error *e)
{
	enum perm_action act = rr->csv ? PERM_ACT_EXPORT : PERM_ACT_READ;
	struct perm_object o;
	struct perm_actor a;
	struct perm_filter pf;
	struct rest_what w;
	int r;

	memset(&w, 0, sizeof(w));
	memset(&o, 0, sizeof(o));
	w.entity = PERM_ENT_REPORT;
	w.action = perm_action_name(act);
	w.name = rr->def->name;
	w.tenant_id = o.tenant_id = rr->params.tenant_id;
	/*
	 * The collection first: a role without the right is refused with
	 * 403 whatever tenant it names; then the tenant it names.
	 */
	if ((r = rest_perm(db, p, req, act, NULL, &w, e)) != 0 ||
	    (o.tenant_id > 0 &&
	     (r = rest_perm(db, p, req, act, &o, &w, e)) != 0))
		return r;
	if (auth_actor(p, &a) != 0 ||
	    perm_list_filter(&a, PERM_ENT_REPORT, &pf) != 0)
		return rest_fail(e, EST_E_INTERNAL, NULL);
	switch (pf.kind) {
	case PERM_FILTER_ALL:
		return 0;
	case PERM_FILTER_TENANT:
		/* rest_perm() already refused another tenant's id. */
		rr->params.tenant_id = pf.tenant_id;
		return 0;
	default:
		/* No report is defined for an organization's share. */
		return rest_fail(e, EST_E_DENIED, NULL);
	}
}

/* --- JSON --- */

static int
report_items(const struct report_def *def, const struct db_result *res,
	     size_t rows, struct json_object **out)
{
	struct rest_col cols[32];
	struct json_object *arr, *item;
	size_t i;
	int r;

	if (def->ncols > sizeof(cols) / sizeof(cols[0]))
		return EST_E_INTERNAL;
	for (i = 0; i < def->ncols; i++) {
		cols[i].key = def->cols[i].name;
		cols[i].type = def->cols[i].type == REPORT_C_NUM  ? REST_C_INT
			       : def->cols[i].type == REPORT_C_ID ? REST_C_ID
								  : REST_C_STR;
	}
	if ((arr = json_object_new_array()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < rows; i++) {
		if ((r = rest_row_json(res, i, cols, def->ncols, &item)) != 0)
			goto fail;
		if (json_object_array_add(arr, item) != 0) {
			json_object_put(item);
			r = EST_E_NOMEM;
			goto fail;
		}
	}
	*out = arr;
	return 0;
fail:
	json_object_put(arr);
	return r;
}

static int
report_json(const struct report_req *rr, const struct db_result *res,
	    size_t rows, int64_t total, struct resp *rs)
{
	struct json_object *o = NULL, *items = NULL;
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	int r = EST_E_NOMEM;

	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((o = json_object_new_object()) == NULL)
		goto out;
	if ((r = rest_put_str(o, "report", rr->def->name)) != 0 ||
	    (r = rest_put_str(o, "generated_at", now)) != 0 ||
	    (r = rest_put_id(o, "tenant_id", rr->params.tenant_id)) != 0)
		goto out;
	if (rr->def->kind == REPORT_CERTS_EXPIRING &&
	    ((r = rest_put_int(o, "days", rr->params.days)) != 0 ||
	     (r = rest_put_int(o, "total", total)) != 0 ||
	     (r = rest_put_bool(o, "truncated", total > (int64_t)rows)) != 0))
		goto out;
	if (rr->def->kind == REPORT_ENROLLMENTS_PER_DAY &&
	    ((r = rest_put_str(o, "from", rr->from)) != 0 ||
	     (r = rest_put_str(o, "to", rr->to)) != 0))
		goto out;
	if ((r = report_items(rr->def, res, rows, &items)) != 0 ||
	    (r = rest_put_obj(o, "items", items)) != 0)
		goto out;
	r = resp_json(rs, 200, o);
out:
	json_object_put(o);
	return r;
}

/* --- CSV --- */

static int
report_csv(const struct report_req *rr, const struct db_result *res,
	   size_t rows, int64_t total, struct resp *rs)
{
	struct buf *b = NULL;
	char disp[96], count[24];
	size_t i;
	int r;

	if ((b = buf_new(0)) == NULL)
		return EST_E_NOMEM;
	if ((r = db_report_csv_header(rr->def, b)) != 0)
		goto out;
	for (i = 0; i < rows; i++)
		if ((r = db_report_csv_row(rr->def, res, i, b)) != 0)
			goto out;
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.csv\"",
		 rr->def->name);
	if ((r = resp_body(rs, 200, "text/csv; charset=utf-8", buf_ptr(b),
			   buf_len(b))) != 0 ||
	    (r = resp_header(rs, "Content-Disposition", disp)) != 0)
		goto out;
	if (rr->def->kind == REPORT_CERTS_EXPIRING) {
		snprintf(count, sizeof(count), "%" PRId64, total);
		r = resp_header(rs, "X-Total-Count", count);
	}
out:
	buf_free(b);
	return r;
}

/* --- Handlers --- */

static int
report_run(struct hctx *c, const struct request *req, const struct principal *p,
	   struct resp *rs, enum report_kind k)
{
	struct jsonval_error e = {0};
	struct report_req rr;
	struct db_result *res = NULL;
	struct db *db;
	int64_t total = 0;
	size_t rows;
	int r;

	memset(&rr, 0, sizeof(rr));
	if ((rr.def = db_report_def(k)) == NULL) {
		r = EST_E_INTERNAL;
		goto out;
	}
	if ((r = report_parse(req, &rr, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = report_scope(db, req, p, &rr, &e)) != 0 ||
	    (r = db_report_query(db, k, &rr.params, &res)) != 0)
		goto out;
	rows = db_result_rows(res);
	if (k == REPORT_CERTS_EXPIRING) {
		if (rows > REPORT_EXPIRING_MAX)
			rows = REPORT_EXPIRING_MAX;
		if ((r = db_report_expiring_count(db, &rr.params, &total)) != 0)
			goto out;
	}
	r = rr.csv ? report_csv(&rr, res, rows, total, rs)
		   : report_json(&rr, res, rows, total, rs);
out:
	db_result_free(res);
	return rest_answer(rs, r, &e);
}

int
api_report_certs_by_status(struct hctx *c, const struct request *req,
			   const struct principal *p, struct resp *rs)
{
	return report_run(c, req, p, rs, REPORT_CERTS_BY_STATUS);
}

int
api_report_certs_by_ca(struct hctx *c, const struct request *req,
		       const struct principal *p, struct resp *rs)
{
	return report_run(c, req, p, rs, REPORT_CERTS_BY_CA);
}

int
api_report_certs_expiring(struct hctx *c, const struct request *req,
			  const struct principal *p, struct resp *rs)
{
	return report_run(c, req, p, rs, REPORT_CERTS_EXPIRING);
}

int
api_report_devices_by_mode(struct hctx *c, const struct request *req,
			   const struct principal *p, struct resp *rs)
{
	return report_run(c, req, p, rs, REPORT_DEVICES_BY_MODE);
}

int
api_report_devices_by_type(struct hctx *c, const struct request *req,
			   const struct principal *p, struct resp *rs)
{
	return report_run(c, req, p, rs, REPORT_DEVICES_BY_TYPE);
}

int
api_report_enrollments_per_day(struct hctx *c, const struct request *req,
			       const struct principal *p, struct resp *rs)
{
	return report_run(c, req, p, rs, REPORT_ENROLLMENTS_PER_DAY);
}
