/*
 * Batch jobs: list, read, items, cancel, archive download
 * (fcgi/api_batch.h), and what the api_batch files share.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api_batch.h"
#include "ctx.h"
#include "db.h"
#include "dbbatch.h"
#include "err.h"
#include "jsonval.h"
#include "log.h"
#include "perm.h"
#include "resp.h"
#include "rest.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define ZIP_TYPE "application/zip"
/* The largest archive served: 100,000 RSA-4096 PKCS#12 files fit. */
#define ARCHIVE_MAX ((size_t)1 << 30)

/* ----- JSON ----- */

int
api_batch_json(const struct db_result *res, size_t row,
	       struct json_object **out)
{
	struct json_object *o;
	int64_t total = db_result_i64(res, row, DB_BATCH_TOTAL);
	int64_t done = db_result_i64(res, row, DB_BATCH_DONE);
	int64_t failed = db_result_i64(res, row, DB_BATCH_FAILED_N);
	int avail = db_result_i64(res, row, DB_BATCH_ARCHIVE_AVAILABLE) != 0;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_id(o, "id", db_result_i64(res, row, DB_BATCH_ID))) !=
		    0 ||
	    (r = rest_put_str(o, "name",
			      db_result_str(res, row, DB_BATCH_NAME, NULL))) !=
		    0 ||
	    (r = rest_put_id(o, "template_id",
			     db_result_i64(res, row, DB_BATCH_TEMPLATE_ID))) !=
		    0 ||
	    (r = rest_put_id(o, "tenant_id",
			     db_result_i64(res, row, DB_BATCH_TENANT_ID))) !=
		    0 ||
	    (r = rest_put_id(o, "org_id",
			     db_result_i64(res, row, DB_BATCH_ORG_ID))) != 0 ||
	    (r = rest_put_str(
		     o, "source",
		     db_result_str(res, row, DB_BATCH_SOURCE, NULL))) != 0 ||
	    (r = rest_put_str(
		     o, "status",
		     db_result_str(res, row, DB_BATCH_STATUS, NULL))) != 0 ||
	    (r = rest_put_int(o, "total", total)) != 0 ||
	    (r = rest_put_int(o, "done", done)) != 0 ||
	    (r = rest_put_int(o, "failed", failed)) != 0 ||
	    (r = rest_put_int(o, "pending", total - done - failed)) != 0 ||
	    (r = rest_put_str(o, "key_type",
			      x509_keytype_name((int)db_result_i64(
				      res, row, DB_BATCH_KEY_TYPE)))) != 0 ||
	    (r = rest_put_str(o, "passphrase_mode",
			      db_result_str(res, row, DB_BATCH_PASSPHRASE_MODE,
					    NULL))) != 0 ||
	    (r = rest_put_time(o, "valid_from",
			       db_result_str(res, row, DB_BATCH_VALID_FROM,
					     NULL))) != 0 ||
	    (r = rest_put_obj(
		     o, "validity_days",
		     db_result_isnull(res, row, DB_BATCH_VALIDITY_DAYS)
			     ? NULL
			     : json_object_new_int64(db_result_i64(
				       res, row, DB_BATCH_VALIDITY_DAYS)))) !=
		    0 ||
	    (r = rest_put_time(o, "key_retention_until",
			       db_result_str(res, row, DB_BATCH_KEY_RETENTION,
					     NULL))) != 0 ||
	    (r = rest_put_bool(o, "archive_available", avail)) != 0 ||
	    (r = rest_put_time(o, "archive_available_until",
			       avail ? db_result_str(res, row,
						     DB_BATCH_ARCHIVE_EXPIRES,
						     NULL)
				     : NULL)) != 0 ||
	    (r = rest_put_str(o, "error",
			      db_result_str(res, row, DB_BATCH_ERROR, NULL))) !=
		    0 ||
	    (r = rest_put_str(o, "created_by_type",
			      db_result_str(res, row, DB_BATCH_CREATED_BY_TYPE,
					    NULL))) != 0 ||
	    (r = rest_put_id(
		     o, "created_by_user_id",
		     db_result_i64(res, row, DB_BATCH_CREATED_BY_USER))) != 0 ||
	    (r = rest_put_id(
		     o, "created_by_app_id",
		     db_result_i64(res, row, DB_BATCH_CREATED_BY_APP))) != 0 ||
	    (r = rest_put_time(o, "created_at",
			       db_result_str(res, row, DB_BATCH_CREATED_AT,
					     NULL))) != 0 ||
	    (r = rest_put_time(o, "started_at",
			       db_result_str(res, row, DB_BATCH_STARTED_AT,
					     NULL))) != 0 ||
	    (r = rest_put_time(o, "finished_at",
			       db_result_str(res, row, DB_BATCH_FINISHED_AT,
					     NULL))) != 0 ||
	    (r = rest_put_time(o, "updated_at",
			       db_result_str(res, row, DB_BATCH_UPDATED_AT,
					     NULL))) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

int
api_batch_etag(const struct db_result *res, char etag[REST_ETAG_MAX])
{
	return rest_etag("batch_job", db_result_i64(res, 0, DB_BATCH_ID),
			 db_result_str(res, 0, DB_BATCH_UPDATED_AT, NULL),
			 etag);
}

void
api_batch_what(const struct db_result *res, const char *action,
	       struct rest_what *w)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_BATCH_JOB;
	w->action = action;
	if (res == NULL)
		return;
	w->id = db_result_i64(res, 0, DB_BATCH_ID);
	w->name = db_result_str(res, 0, DB_BATCH_NAME, NULL);
	w->tenant_id = db_result_i64(res, 0, DB_BATCH_TENANT_ID);
	w->org_id = db_result_i64(res, 0, DB_BATCH_ORG_ID);
}

int
api_batch_send(struct db *db, int64_t id, int status, struct resp *rs)
{
	struct db_result *res = NULL;
	struct json_object *o = NULL;
	char etag[REST_ETAG_MAX], loc[64];
	int r;

	if ((r = db_batch_job_get(db, id, 0, &res)) != 0 ||
	    (r = api_batch_json(res, 0, &o)) != 0 ||
	    (r = api_batch_etag(res, etag)) != 0 ||
	    (r = rest_send(rs, status, o, etag)) != 0)
		goto out;
	if (status == 202) {
		snprintf(loc, sizeof(loc), API_BATCH_BASE "/%lld",
			 (long long)id);
		r = resp_header(rs, "Location", loc);
	}
out:
	json_object_put(o);
	db_result_free(res);
	return r;
}

/* The row hooks of batch_ops: a row is a struct db_result. */
REST_ROW_GET(batch_get, struct db_result, db_batch_job_get)

static int
batch_what(struct rest_what *w, const char *action, const void *res)
{
	api_batch_what(res, action, w);
	return 0;
}

static int
batch_object(const void *res, struct perm_object *o)
{
	memset(o, 0, sizeof(*o));
	o->tenant_id = db_result_i64(res, 0, DB_BATCH_TENANT_ID);
	o->org_id = db_result_i64(res, 0, DB_BATCH_ORG_ID);
	o->scope = PERM_SCOPE_NONE;
	return 0;
}

static const struct rest_entity_ops batch_ops = {
	.send = api_batch_send,
	.get = batch_get,
	.what = batch_what,
	.object = batch_object,
};

/*
 * Reads job id and asks whether p may act on it (404 for a job it may not
 * know of, 403 for one it may see but not act on; refusals audited).
 */
REST_ROW_LOAD(static, batch_access, struct db_result, batch_ops)

/* ----- list ----- */

static const char *const status_names[] = {
	DB_BATCH_QUEUED,
	DB_BATCH_RUNNING,
	DB_BATCH_CANCELLING,
	DB_BATCH_CANCELLED,
	DB_BATCH_COMPLETED,
	DB_BATCH_FAILED,
	NULL,
};

static const struct rest_qfield list_query[] = {
	{.name = "status", .type = REST_Q_ENUM, .enum_values = status_names},
	{.name = "template_id", .type = REST_Q_ID},
	{.name = "tenant_id", .type = REST_Q_ID},
	{.name = "org_id", .type = REST_Q_ID},
};

/* The jobs of page q that pf lets the caller see. */
static int
batch_fetch(struct db *db, const struct rest_query *q,
	    const struct perm_filter *pf, struct db_result **res)
{
	struct db_batch_filter f;
	int r;

	memset(&f, 0, sizeof(f));
	if ((r = rest_list_scope(pf, &f.scope_tenant, &f.scope_org)) != 0)
		return r;
	f.status = rest_q_str(q, "status");
	f.template_id = rest_q_int_or(q, "template_id", 0);
	f.tenant_id = rest_q_int_or(q, "tenant_id", 0);
	f.org_id = rest_q_int_or(q, "org_id", 0);
	return db_batch_job_list(db, &f, q->after_id, rest_page_fetch(q), res);
}

static const struct rest_list_def batch_list = {
	.entity = PERM_ENT_BATCH_JOB,
	.query = list_query,
	.nquery = NELEM(list_query),
	.fetch = batch_fetch,
	.id_col = DB_BATCH_ID,
	.json = api_batch_json,
};

/* ----- read ----- */

/* ----- items ----- */

static const char *const item_status_names[] = {"pending", "issued", "failed",
						NULL};

static const struct rest_qfield items_query[] = {
	{.name = "status",
	 .type = REST_Q_ENUM,
	 .enum_values = item_status_names},
};

static int
item_json(const struct db_result *res, size_t i, struct json_object **out)
{
	struct json_object *o;
	const char *sn;
	size_t len = 0;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	sn = db_result_str(res, i, DB_BATCH_ITEM_SERIAL, &len);
	if ((r = rest_put_id(o, "id",
			     db_result_i64(res, i, DB_BATCH_ITEM_ID))) != 0 ||
	    (r = rest_put_int(o, "idx",
			      db_result_i64(res, i, DB_BATCH_ITEM_IDX))) != 0 ||
	    (r = rest_put_str(
		     o, "status",
		     db_result_str(res, i, DB_BATCH_ITEM_STATUS, NULL))) != 0 ||
	    (r = rest_put_id(o, "certificate_id",
			     db_result_i64(res, i, DB_BATCH_ITEM_CERT_ID))) !=
		    0 ||
	    (r = rest_put_hex(o, "serial", (const uint8_t *)sn,
			      sn != NULL ? len : 0)) != 0 ||
	    (r = rest_put_str(
		     o, "error",
		     db_result_str(res, i, DB_BATCH_ITEM_ERROR, NULL))) != 0 ||
	    (r = rest_put_time(o, "updated_at",
			       db_result_str(res, i, DB_BATCH_ITEM_UPDATED_AT,
					     NULL))) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

static int
h_items(struct hctx *c, const struct request *req, const struct principal *p,
	struct resp *rs)
{
	struct jsonval_error e = {0};
	struct rest_page pg = {0};
	struct db_result *job = NULL, *res = NULL;
	struct rest_query q;
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_parse(req, items_query, NELEM(items_query), &q,
				  &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = batch_access(db, p, req, id, PERM_ACT_READ, "read", &job,
			      &e)) != 0 ||
	    (r = db_batch_items_list(db, id, rest_q_str(&q, "status"),
				     q.after_id, rest_page_fetch(&q), &res)) !=
		    0 ||
	    (r = rest_page_init(&pg, &q)) != 0 ||
	    (r = rest_page_add_rows(&pg, res, DB_BATCH_ITEM_ID, item_json, NULL,
				    0)) != 0)
		goto out;
	r = rest_page_send(&pg, rs);
out:
	rest_page_clear(&pg);
	db_result_free(res);
	db_result_free(job);
	return rest_answer(rs, r, &e);
}

/* ----- cancel ----- */

static int
cancel_tx(struct db *db, const struct principal *p, const struct request *req,
	  int64_t id, int *status, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	struct rest_diff d;
	struct rest_what w;
	char from[16];
	const char *st;
	int r;

	rest_diff_init(&d);
	if ((r = db_batch_job_get(db, id, 1, &res)) != 0)
		goto out;
	st = db_result_str(res, 0, DB_BATCH_STATUS, NULL);
	snprintf(from, sizeof(from), "%s", st != NULL ? st : "");
	/* Asking again while the worker stops is not an error. */
	if (strcmp(from, DB_BATCH_CANCELLING) == 0) {
		*status = 202;
		goto out;
	}
	if (strcmp(from, DB_BATCH_QUEUED) != 0 &&
	    strcmp(from, DB_BATCH_RUNNING) != 0) {
		r = jsonval_error_set(e, EST_E_CONFLICT, "id",
				      "the job is %s already", from);
		goto out;
	}
	api_batch_what(res, "cancel", &w);
	*status = strcmp(from, DB_BATCH_QUEUED) == 0 ? 200 : 202;
	if ((r = db_batch_job_cancel(db, id, from)) != 0 ||
	    (r = rest_diff_str(&d, "status", from,
			       *status == 200 ? DB_BATCH_CANCELLED
					      : DB_BATCH_CANCELLING)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

static int
h_cancel(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db_result *res = NULL;
	struct db *db;
	int64_t id;
	int r, status = 200;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = rest_body_optional(req, NULL, 0, &body, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = batch_access(db, p, req, id, PERM_ACT_CANCEL, "cancel", &res,
			      &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = cancel_tx(db, p, req, id, &status, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = api_batch_send(db, id, status, rs);
out:
	json_object_put(body);
	db_result_free(res);
	return rest_answer(rs, r, &e);
}

/* ----- archive ----- */

/*
 * The archive file, opened for the answer (resp_body_fd() streams it):
 * *fd and its size.  Once open it stays readable even if the retention
 * sweep removes it meanwhile.
 */
static int
archive_open(const char *path, int *fd, size_t *len)
{
	struct stat st;
	int f;

	if ((f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? EST_E_GONE : EST_E_IO;
	if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > ARCHIVE_MAX || st.st_size == 0) {
		close(f);
		return EST_E_IO;
	}
	*fd = f;
	*len = (size_t)st.st_size;
	return 0;
}

/* Why job res has no archive to hand out. */
static int
archive_refusal(const struct db_result *res, struct jsonval_error *e)
{
	const char *st = db_result_str(res, 0, DB_BATCH_STATUS, NULL);

	if (db_result_i64(res, 0, DB_BATCH_ARCHIVE_EXPIRED) != 0)
		return jsonval_error_set(e, EST_E_GONE, "id",
					 "the archive is no longer kept (key "
					 "retention)");
	if (st != NULL && (strcmp(st, DB_BATCH_QUEUED) == 0 ||
			   strcmp(st, DB_BATCH_RUNNING) == 0 ||
			   strcmp(st, DB_BATCH_CANCELLING) == 0))
		return jsonval_error_set(e, EST_E_CONFLICT, "id",
					 "the job is %s: no archive yet", st);
	return jsonval_error_set(e, EST_E_CONFLICT, "id",
				 "the job ended without issuing a "
				 "certificate: no archive");
}

static int
h_archive(struct hctx *c, const struct request *req, const struct principal *p,
	  struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db_result *res = NULL;
	struct rest_diff d;
	struct rest_what w;
	const char *path;
	struct db *db;
	size_t len = 0;
	char disp[96];
	int fd = -1;
	int64_t id;
	int r;

	rest_diff_init(&d);
	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = rest_body_optional(req, NULL, 0, &body, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = batch_access(db, p, req, id, PERM_ACT_DOWNLOAD, "download",
			      &res, &e)) != 0)
		goto out;
	path = db_result_str(res, 0, DB_BATCH_ARCHIVE_PATH, NULL);
	if (db_result_i64(res, 0, DB_BATCH_ARCHIVE_AVAILABLE) == 0 ||
	    path == NULL) {
		r = archive_refusal(res, &e);
		goto out;
	}
	if ((r = archive_open(path, &fd, &len)) != 0) {
		log_err("batch job %lld: archive unreadable: %s", (long long)id,
			est_strerror(r));
		if (r == EST_E_GONE)
			r = jsonval_error_set(&e, r, "id",
					      "the archive is no longer kept");
		goto out;
	}
	/* Recorded before it leaves: a download nobody audited never was. */
	api_batch_what(res, "download", &w);
	if ((r = rest_diff_note(&d, "archive", "downloaded")) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	snprintf(disp, sizeof(disp), "attachment; filename=\"batch-%lld.zip\"",
		 (long long)id);
	r = resp_body_fd(rs, 200, ZIP_TYPE, fd, len);
	fd = -1; /* rs has it */
	if (r == 0)
		r = resp_header(rs, "Content-Disposition", disp);
out:
	if (fd >= 0)
		close(fd);
	rest_diff_clear(&d);
	json_object_put(body);
	db_result_free(res);
	return rest_answer(rs, r, &e);
}

REST_ROUTE_LIST(api_batch_r_list, batch_list)
REST_ROUTE_GET(api_batch_r_get, batch_ops)
AUTH_ROUTE_PUBLIC(api_batch_r_items, h_items)
AUTH_ROUTE_PUBLIC(api_batch_r_cancel, h_cancel)
AUTH_ROUTE_PUBLIC(api_batch_r_archive, h_archive)
