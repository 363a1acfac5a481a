/*
 * The audit log through the API (api_audit.h): filtered keyset pages and
 * the CSV export, over db_audit_query().
 *
 * Who sees what is the permission table's decision alone: perm_check()
 * through rest_perm() for the request (list or export, and the tenant
 * named by a tenant_id filter), perm_list_filter() for the rows.  A
 * Tenant Admin or Tenant Auditor gets the rows whose tenant_id is its
 * tenant, whatever filters it sends; a tenant_id filter naming another
 * tenant is 404, as for any object outside its view.
 *
 * Times.  from and to are RFC 3339 date-times ("2026-05-01T00:00:00Z",
 * any offset); from is inclusive, to exclusive; fractions of a second are
 * ignored, since the filter works in whole seconds.
 *
 * The export.  The rows are read in keyset batches (newest first, the
 * list's order) and the CSV is assembled in memory, because a response is
 * written whole (fcgi/resp.h), so one export holds at most
 * API_AUDIT_EXPORT_ROWS rows and API_AUDIT_EXPORT_BYTES bytes.  When more
 * rows match, the response carries X-Next-Cursor: the same request with
 * cursor=<that value> continues where this one stopped.  The export is
 * audited after the rows are read, so it never lists its own row, and is
 * refused (503) if that row cannot be written: the log's content does not
 * leave unrecorded.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "api_audit.h"
#include "audit.h"
#include "buf.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "perm.h"
#include "resp.h"
#include "rest.h"

static int check_ident(const char *s);

static const char *const actor_types[] = {
	AUDIT_ACTOR_USER, AUDIT_ACTOR_APPLICATION, AUDIT_ACTOR_DEVICE,
	AUDIT_ACTOR_SYSTEM, NULL};
static const char *const outcomes[] = {AUDIT_SUCCESS, AUDIT_FAILURE,
				       AUDIT_DENIED, NULL};

/* The filters of both endpoints; their order is the export's details. */
static const struct rest_qfield audit_q[] = {
	{"from", REST_Q_STRING, REST_TIME_MAX_LEN, 0, 0, NULL, rest_time_check},
	{"to", REST_Q_STRING, REST_TIME_MAX_LEN, 0, 0, NULL, rest_time_check},
	{"actor_type", REST_Q_ENUM, 0, 0, 0, actor_types, NULL},
	{"actor_id", REST_Q_ID, 0, 0, 0, NULL, NULL},
	{"actor_name", REST_Q_STRING, AUDIT_NAME_MAX, 0, 0, NULL, NULL},
	{"tenant_id", REST_Q_ID, 0, 0, 0, NULL, NULL},
	{"org_id", REST_Q_ID, 0, 0, 0, NULL, NULL},
	{"entity", REST_Q_STRING, AUDIT_IDENT_MAX, 0, 0, NULL, check_ident},
	{"entity_id", REST_Q_ID, 0, 0, 0, NULL, NULL},
	{"action", REST_Q_STRING, AUDIT_IDENT_MAX, 0, 0, NULL, check_ident},
	{"outcome", REST_Q_ENUM, 0, 0, 0, outcomes, NULL},
};
#define AUDIT_NQ (sizeof(audit_q) / sizeof(audit_q[0]))

/* A row as the list shows it; details is added parsed. */
static const struct rest_col audit_cols[AUDIT_NCOLS] = {
	[AUDIT_COL_ID] = {"id", REST_C_INT},
	[AUDIT_COL_TS] = {"ts", REST_C_STR},
	[AUDIT_COL_ACTOR_TYPE] = {"actor_type", REST_C_STR},
	[AUDIT_COL_ACTOR_ID] = {"actor_id", REST_C_ID},
	[AUDIT_COL_ACTOR_NAME] = {"actor_name", REST_C_STR},
	[AUDIT_COL_TENANT_ID] = {"tenant_id", REST_C_ID},
	[AUDIT_COL_ORG_ID] = {"org_id", REST_C_ID},
	[AUDIT_COL_ENTITY] = {"entity", REST_C_STR},
	[AUDIT_COL_ENTITY_ID] = {"entity_id", REST_C_ID},
	[AUDIT_COL_ENTITY_NAME] = {"entity_name", REST_C_STR},
	[AUDIT_COL_ACTION] = {"action", REST_C_STR},
	[AUDIT_COL_OUTCOME] = {"outcome", REST_C_STR},
	[AUDIT_COL_REASON] = {"reason", REST_C_STR},
	[AUDIT_COL_SOURCE_ADDR] = {"source_addr", REST_C_STR},
	[AUDIT_COL_DETAILS] = {"details", REST_C_SKIP},
};

/* --- Parameters --- */

/* entity and action as the log stores them: [a-z][a-z0-9_]*. */
static int
check_ident(const char *s)
{
	size_t i;

	if (s[0] < 'a' || s[0] > 'z')
		return EST_E_INVAL;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return EST_E_INVAL;
	return 0;
}

static int64_t
q_id(const struct rest_query *q, const char *name)
{
	int64_t v = 0;

	return rest_q_int(q, name, &v) == 0 ? v : 0;
}

/*
 * The filter of a request: the client's filters within the actor's
 * scope.  *empty is set when the time range can match nothing (to at or
 * before from, or at the epoch, which the filter would read as "none").
 */
static int
audit_filter_build(const struct principal *p, const struct rest_query *q,
		   struct audit_filter *f, int *empty, struct jsonval_error *e)
{
	struct perm_actor a;
	struct perm_filter pf;
	const char *from = rest_q_str(q, "from"), *to = rest_q_str(q, "to");

	memset(f, 0, sizeof(*f));
	*empty = 0;
	if (from != NULL && rest_time_parse(from, &f->since) != 0)
		return rest_fail(e, EST_E_INVAL, "from");
	if (to != NULL && rest_time_parse(to, &f->until) != 0)
		return rest_fail(e, EST_E_INVAL, "to");
	if (to != NULL && (f->until == 0 || f->until <= f->since))
		*empty = 1;
	f->actor_type = rest_q_str(q, "actor_type");
	f->actor_id = q_id(q, "actor_id");
	/*
	 * Users, applications and devices are numbered apart: an id alone
	 * would mix the rows of user 4 with those of application 4.
	 */
	if (f->actor_id != 0 && f->actor_type == NULL)
		return jsonval_error_set(e, EST_E_INVAL, "actor_id",
					 "actor_id needs actor_type");
	f->actor_name = rest_q_str(q, "actor_name");
	f->tenant_id = q_id(q, "tenant_id");
	f->org_id = q_id(q, "org_id");
	f->entity = rest_q_str(q, "entity");
	f->entity_id = q_id(q, "entity_id");
	f->action = rest_q_str(q, "action");
	f->outcome = rest_q_str(q, "outcome");
	if (auth_actor(p, &a) != 0 ||
	    perm_list_filter(&a, PERM_ENT_AUDIT_LOG, &pf) != 0)
		return rest_fail(e, EST_E_INTERNAL, NULL);
	switch (pf.kind) {
	case PERM_FILTER_ALL:
		break;
	case PERM_FILTER_ORG:
		if (f->org_id != 0 && f->org_id != pf.org_id)
			return rest_fail(e, EST_E_NOTFOUND, NULL);
		f->org_id = pf.org_id;
		/* FALLTHROUGH */
	case PERM_FILTER_TENANT:
		/* rest_perm() already refused another tenant's id. */
		if (f->tenant_id != 0 && f->tenant_id != pf.tenant_id)
			return rest_fail(e, EST_E_NOTFOUND, NULL);
		f->tenant_id = pf.tenant_id;
		break;
	default:
		return rest_fail(e, EST_E_DENIED, NULL);
	}
	return 0;
}

/*
 * Parses the query and asks the permission table about act: on the
 * collection, and on the tenant a tenant_id filter names.
 */
static int
audit_request(struct db *db, const struct request *req,
	      const struct principal *p, enum perm_action act,
	      struct rest_query *q, struct audit_filter *f, int *empty,
	      struct jsonval_error *e)
{
	struct rest_what w;
	struct perm_object o;
	int64_t tenant_id = 0;
	int r;

	memset(&w, 0, sizeof(w));
	w.entity = PERM_ENT_AUDIT_LOG;
	w.action = perm_action_name(act);
	if ((r = rest_perm(db, p, req, act, NULL, &w, e)) != 0 ||
	    (r = rest_query_parse(req, audit_q, AUDIT_NQ, q, e)) != 0)
		return r;
	if (rest_q_int(q, "tenant_id", &tenant_id) == 0) {
		memset(&o, 0, sizeof(o));
		o.tenant_id = tenant_id;
		w.tenant_id = tenant_id;
		if ((r = rest_perm(db, p, req, act, &o, &w, e)) != 0)
			return r;
	}
	return audit_filter_build(p, q, f, empty, e);
}

/* --- List --- */

/* details as JSON (it was validated when the row was written), or null. */
static int
put_details(struct json_object *item, const struct db_result *res, size_t row)
{
	const char *s = db_result_str(res, row, AUDIT_COL_DETAILS, NULL);
	struct json_object *v = NULL;

	if (s != NULL)
		v = json_tokener_parse(s);
	return rest_put_obj(item, "details", v);
}

/* Row row of res as the list shows it: its columns and details. */
static int
audit_item(const struct db_result *res, size_t row, struct json_object **out)
{
	struct json_object *item = NULL;
	int r;

	if ((r = rest_row_json(res, row, audit_cols, AUDIT_NCOLS, &item)) != 0)
		return r;
	if ((r = put_details(item, res, row)) != 0) {
		json_object_put(item);
		return r;
	}
	*out = item;
	return 0;
}

int
api_audit_list(struct hctx *c, const struct request *req,
	       const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct rest_query q;
	struct rest_page pg;
	struct audit_filter f;
	struct db_result *res = NULL;
	struct db *db;
	int empty = 0, r;

	memset(&pg, 0, sizeof(pg));
	if ((r = ctx_db(c, &db)) != 0 ||
	    (r = audit_request(db, req, p, PERM_ACT_LIST, &q, &f, &empty,
			       &e)) != 0 ||
	    (r = rest_page_init(&pg, &q)) != 0)
		goto out;
	if (!empty && (r = db_audit_query(db, &f, (uint64_t)q.after_id,
					  rest_page_fetch(&q), &res)) != 0)
		goto out;
	if ((r = rest_page_add_rows(&pg, res, AUDIT_COL_ID, audit_item, NULL,
				    0)) != 0)
		goto out;
	r = rest_page_send(&pg, rs);
out:
	rest_page_clear(&pg);
	db_result_free(res);
	return rest_answer(rs, r, &e);
}

/* --- Export --- */

/* The filters that were sent, for the export's audit row. */
static int
export_details(const struct rest_query *q, size_t rows, int truncated,
	       char **out)
{
	struct json_object *o = NULL, *fl = NULL;
	const char *s;
	int64_t v;
	size_t i;
	int r = EST_E_NOMEM;

	if ((o = json_object_new_object()) == NULL ||
	    (fl = json_object_new_object()) == NULL)
		goto out;
	for (i = 0; i < AUDIT_NQ; i++) {
		if ((s = rest_q_str(q, audit_q[i].name)) != NULL)
			r = rest_put_str(fl, audit_q[i].name, s);
		else if (rest_q_int(q, audit_q[i].name, &v) == 0)
			r = rest_put_int(fl, audit_q[i].name, v);
		else
			r = 0;
		if (r != 0)
			goto out;
	}
	if (q->after_id > 0 &&
	    (r = rest_put_int(fl, "cursor_id", q->after_id)) != 0)
		goto out;
	r = rest_put_obj(o, "filters", fl);
	fl = NULL;
	if (r != 0 || (r = rest_put_int(o, "rows", (int64_t)rows)) != 0 ||
	    (r = rest_put_bool(o, "truncated", truncated)) != 0)
		goto out;
	r = EST_E_NOMEM;
	if ((s = json_object_to_json_string_ext(
		     o, JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE)) != NULL &&
	    (*out = strdup(s)) != NULL)
		r = 0;
out:
	json_object_put(fl);
	json_object_put(o);
	return r;
}

static int
export_audit(struct db *db, const struct request *req,
	     const struct principal *p, const struct rest_query *q,
	     const struct audit_filter *f, size_t rows, int truncated)
{
	struct audit_event ev;
	char *details = NULL;
	int r;

	if ((r = export_details(q, rows, truncated, &details)) != 0)
		return r;
	memset(&ev, 0, sizeof(ev));
	auth_audit_actor(p, req, &ev);
	/* The row belongs to the tenant whose rows left, when one did. */
	if (f->tenant_id > 0)
		ev.tenant_id = f->tenant_id;
	ev.entity = perm_entity_name(PERM_ENT_AUDIT_LOG);
	ev.action = perm_action_name(PERM_ACT_EXPORT);
	ev.outcome = AUDIT_SUCCESS;
	ev.details = details;
	r = db_audit_append(db, &ev);
	free(details);
	return r;
}

/*
 * Appends the rows of f after *after_id to b, in batches, up to the caps;
 * *n counts them, *after_id ends at the last one, *more tells that rows
 * were left out.
 */
static int
export_rows(struct db *db, const struct audit_filter *f, struct buf *b,
	    int64_t *after_id, size_t *n, int *more)
{
	struct db_result *res = NULL;
	char *line = NULL;
	size_t i, rows, want, len;
	int r = 0;

	*more = 0;
	do {
		/* One row beyond the cap shows whether more are left. */
		want = API_AUDIT_EXPORT_ROWS - *n + 1;
		if (want > AUDIT_QUERY_MAX)
			want = AUDIT_QUERY_MAX;
		if ((r = db_audit_query(db, f, (uint64_t)*after_id, want,
					&res)) != 0)
			goto out;
		rows = db_result_rows(res);
		for (i = 0; i < rows; i++) {
			if (*n == API_AUDIT_EXPORT_ROWS) {
				*more = 1;
				goto out;
			}
			if ((r = db_audit_csv_row(res, i, &line, &len)) != 0)
				goto out;
			if (len > API_AUDIT_EXPORT_BYTES - buf_len(b)) {
				*more = 1;
				goto out;
			}
			if ((r = buf_put(b, line, len)) != 0)
				goto out;
			free(line);
			line = NULL;
			*after_id = db_result_i64(res, i, AUDIT_COL_ID);
			(*n)++;
		}
		db_result_free(res);
		res = NULL;
	} while (rows == want);
out:
	free(line);
	db_result_free(res);
	return r;
}

int
api_audit_export(struct hctx *c, const struct request *req,
		 const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct rest_query q;
	struct audit_filter f;
	struct buf *b = NULL;
	struct db *db;
	const char *hdr;
	char cursor[REST_CURSOR_LEN + 1];
	int64_t after_id;
	size_t n = 0;
	int empty = 0, more = 0, r;

	if ((r = ctx_db(c, &db)) != 0 ||
	    (r = audit_request(db, req, p, PERM_ACT_EXPORT, &q, &f, &empty,
			       &e)) != 0)
		goto out;
	/* An export is not paged: cursor continues a cut export only. */
	if (req_query(req, "limit") != NULL) {
		r = rest_fail(&e, EST_E_INVAL, "limit");
		goto out;
	}
	if ((b = buf_new(API_AUDIT_EXPORT_BYTES)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	after_id = q.after_id;
	hdr = db_audit_csv_header();
	if ((r = buf_put(b, hdr, strlen(hdr))) != 0 ||
	    (!empty &&
	     (r = export_rows(db, &f, b, &after_id, &n, &more)) != 0) ||
	    (r = export_audit(db, req, p, &q, &f, n, more)) != 0 ||
	    (r = resp_body(rs, 200, "text/csv; charset=utf-8", buf_ptr(b),
			   buf_len(b))) != 0 ||
	    (r = resp_header(rs, "Content-Disposition",
			     "attachment; filename=\"audit-log.csv\"")) != 0)
		goto out;
	if (more && ((r = rest_cursor_encode(after_id, cursor)) != 0 ||
		     (r = resp_header(rs, "X-Next-Cursor", cursor)) != 0))
		goto out;
out:
	buf_free(b);
	return rest_answer(rs, r, &e);
}
