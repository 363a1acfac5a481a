/* Batch jobs, their items, and the worker's sweeps; see dbbatch.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbbatch.h"
#include "db.h"
#include "err.h"

#define TS "'%Y-%m-%d %H:%i:%s'"
#define TS6 "'%Y-%m-%d %H:%i:%s.%f'"
#define NOW6 "UTC_TIMESTAMP(6)"

/*
 * Every UPDATE of a job names it by id and must lock it through the
 * primary key alone.  Left to itself the optimizer may read a small table
 * through batch_jobs_status when the WHERE clause also tests status: then
 * the worker (primary key, then that index for its progress) and the
 * API's cancellation (that index, then the primary key) lock in opposite
 * orders and deadlock.
 */
#define BY_ID "FORCE INDEX (PRIMARY)"

/* The statuses in which a job still wants a worker. */
#define LIVE "('queued', 'running', 'cancelling')"

#define JOB_COLUMNS                                                            \
	"id, name, template_id, tenant_id, org_id, source, total, done,"       \
	" failed, status, key_type, passphrase_mode, subject_values,"          \
	" DATE_FORMAT(valid_from, " TS "), validity_days, archive_path,"       \
	" DATE_FORMAT(archive_expires_at, " TS6 "),"                           \
	" DATE_FORMAT(key_retention_until, " TS6 "), error, worker,"           \
	" DATE_FORMAT(heartbeat_at, " TS6 "), created_by_type,"                \
	" created_by_user_id, created_by_app_id,"                              \
	" DATE_FORMAT(created_at, " TS6 "),"                                   \
	" DATE_FORMAT(started_at, " TS6 "),"                                   \
	" DATE_FORMAT(finished_at, " TS6 "),"                                  \
	" DATE_FORMAT(updated_at, " TS6 "),"                                   \
	" (archive_path IS NOT NULL AND archive_expires_at > " NOW6 "),"       \
	" (archive_expires_at IS NOT NULL AND archive_expires_at <= " NOW6 ")"

/*
 * Multi-row INSERTs of items: 1000, 100, 10 and 1 rows, so that any count
 * is written in few statements (2,345 items: 2 + 3 + 4 + 5), each
 * prepared once per connection.
 */
#define ROW1 "(?, ?, ?)"
#define ROW10                                                                  \
	ROW1 "," ROW1 "," ROW1 "," ROW1 "," ROW1 "," ROW1 "," ROW1 "," ROW1    \
	     "," ROW1 "," ROW1
#define ROW100                                                                 \
	ROW10 "," ROW10 "," ROW10 "," ROW10 "," ROW10 "," ROW10 "," ROW10      \
	      "," ROW10 "," ROW10 "," ROW10
#define ROW1000                                                                \
	ROW100 "," ROW100 "," ROW100 "," ROW100 "," ROW100 "," ROW100          \
	       "," ROW100 "," ROW100 "," ROW100 "," ROW100
#define ITEMS_INSERT                                                           \
	"INSERT INTO batch_items (job_id, idx, subject_values) VALUES "
#define ITEM_PARAMS 3

static const struct db_stmt_def items_insert[] = {
	{"batch_items_insert_1000", ITEMS_INSERT ROW1000, 3 * 1000},
	{"batch_items_insert_100", ITEMS_INSERT ROW100, 3 * 100},
	{"batch_items_insert_10", ITEMS_INSERT ROW10, 3 * 10},
	{"batch_items_insert_1", ITEMS_INSERT ROW1, 3},
};
static const size_t items_chunk[] = {1000, 100, 10, 1};

static const struct db_stmt_def batch_stmts[] = {
#define JOB_INSERT 0
	{"batch_job_insert",
	 "INSERT INTO batch_jobs (name, template_id, tenant_id, org_id, source,"
	 " total, key_type, passphrase_mode, subject_values, valid_from,"
	 " validity_days, key_retention_until, created_by_type,"
	 " created_by_user_id, created_by_app_id)"
	 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	 " " NOW6 " + INTERVAL ? DAY, ?, ?, ?)",
	 15},
#define JOB_GET 1
	{"batch_job_get", "SELECT " JOB_COLUMNS " FROM batch_jobs WHERE id = ?",
	 1},
#define JOB_GET_LOCK 2
	{"batch_job_get_lock",
	 "SELECT " JOB_COLUMNS " FROM batch_jobs WHERE id = ? FOR UPDATE", 1},
#define JOB_LIST 3
	{"batch_job_list",
	 "SELECT " JOB_COLUMNS " FROM batch_jobs WHERE id > ?"
	 " AND (? = 0 OR tenant_id = ?) AND (? = 0 OR org_id = ?)"
	 " AND (? IS NULL OR status = ?) AND (? = 0 OR template_id = ?)"
	 " AND (? = 0 OR tenant_id = ?) AND (? = 0 OR org_id = ?)"
	 " ORDER BY id LIMIT ?",
	 14},
#define JOB_CANCEL 4
	/*
	 * finished_at before status: MariaDB assigns from left to right, so
	 * the condition still reads the old status.
	 */
	{"batch_job_cancel",
	 "UPDATE batch_jobs " BY_ID " SET"
	 " finished_at = IF(status = 'queued', " NOW6 ", finished_at),"
	 " status = IF(status = 'queued', 'cancelled', 'cancelling')"
	 " WHERE id = ? AND status = ?",
	 2},
#define ITEMS_LIST 5
	{"batch_items_list",
	 "SELECT i.id, i.idx, i.status, i.certificate_id, i.error,"
	 " DATE_FORMAT(i.updated_at, " TS6 "), c.serial"
	 " FROM batch_items i LEFT JOIN certificates c"
	 " ON c.id = i.certificate_id"
	 " WHERE i.job_id = ? AND i.id > ? AND (? IS NULL OR i.status = ?)"
	 " ORDER BY i.id LIMIT ?",
	 5},
#define CANDIDATES 6
	{"batch_candidates",
	 "SELECT id, worker, heartbeat_at IS NULL OR heartbeat_at < " NOW6
	 " - INTERVAL ? SECOND, DATE_FORMAT(heartbeat_at, " TS6 ")"
	 " FROM batch_jobs WHERE status IN " LIVE " ORDER BY id LIMIT ?",
	 2},
#define CLAIM 7
	{"batch_claim",
	 "UPDATE batch_jobs " BY_ID " SET worker = ?, heartbeat_at = " NOW6 ","
	 " status = IF(status = 'queued', 'running', status),"
	 " started_at = COALESCE(started_at, " NOW6 ")"
	 " WHERE id = ? AND status IN " LIVE " AND worker <=> ?"
	 " AND DATE_FORMAT(heartbeat_at, " TS6 ") <=> ?",
	 4},
#define RELEASE 8
	{"batch_release",
	 "UPDATE batch_jobs " BY_ID " SET worker = NULL, heartbeat_at = NULL"
	 " WHERE id = ? AND worker = ?",
	 2},
#define HEARTBEAT 9
	{"batch_heartbeat",
	 "UPDATE batch_jobs " BY_ID " SET heartbeat_at = " NOW6
	 " WHERE id = ? AND worker = ?",
	 2},
#define COUNT_DONE 10
	{"batch_count_done",
	 "UPDATE batch_jobs " BY_ID " SET done = done + 1, heartbeat_at = " NOW6
	 " WHERE id = ? AND worker = ? AND status = 'running'",
	 2},
#define COUNT_FAILED 11
	{"batch_count_failed",
	 "UPDATE batch_jobs " BY_ID
	 " SET failed = failed + 1, heartbeat_at = " NOW6
	 " WHERE id = ? AND worker = ? AND status = 'running'",
	 2},
#define ITEM_ISSUED 12
	{"batch_item_issued",
	 "UPDATE batch_items SET status = 'issued', certificate_id = ?,"
	 " error = NULL WHERE id = ? AND status = 'pending'",
	 2},
#define ITEM_FAILED 13
	{"batch_item_failed",
	 "UPDATE batch_items SET status = 'failed', error = ?"
	 " WHERE id = ? AND status = 'pending'",
	 2},
#define PENDING 14
	{"batch_pending",
	 "SELECT id, idx, subject_values FROM batch_items"
	 " WHERE job_id = ? AND status = 'pending' AND idx > ?"
	 " ORDER BY idx LIMIT ?",
	 3},
#define ITEMS_PAGE 15
	{"batch_items_page",
	 "SELECT i.idx, i.status, i.certificate_id, i.error, c.serial,"
	 " c.cert_der FROM batch_items i LEFT JOIN certificates c"
	 " ON c.id = i.certificate_id WHERE i.job_id = ? AND i.idx > ?"
	 " ORDER BY i.idx LIMIT ?",
	 3},
#define FINISH 16
	{"batch_finish",
	 "UPDATE batch_jobs " BY_ID " SET status = ?, finished_at = " NOW6 ","
	 " archive_path = ?,"
	 " archive_expires_at = IF(? IS NULL, NULL, key_retention_until),"
	 " error = ?, worker = NULL, heartbeat_at = NULL"
	 " WHERE id = ? AND worker = ?",
	 6},
#define ARCHIVES_DUE 17
	{"batch_archives_due",
	 "SELECT id FROM batch_jobs WHERE archive_path IS NOT NULL"
	 " AND archive_expires_at <= " NOW6 " ORDER BY id LIMIT ?",
	 1},
#define ARCHIVE_CLEAR 18
	{"batch_archive_clear",
	 "UPDATE batch_jobs " BY_ID " SET archive_path = NULL"
	 " WHERE id = ? AND archive_path IS NOT NULL",
	 1},
#define DIR_STATE 19
	{"batch_dir_state",
	 "SELECT status IN " LIVE " OR archive_path IS NOT NULL"
	 " FROM batch_jobs WHERE id = ?",
	 1},
#define KEYS_DUE 20
	{"batch_keys_due",
	 "SELECT id, subject, tenant_id, org_id FROM certificates"
	 " WHERE key_destroyed_at IS NULL AND key_retention_until <= " NOW6
	 " AND wrapped_key IS NOT NULL ORDER BY key_retention_until, id"
	 " LIMIT ? FOR UPDATE",
	 1},
#define DESTROY_KEY 21
	{"batch_destroy_key",
	 "UPDATE certificates SET wrapped_key = NULL,"
	 " key_destroyed_at = " NOW6 " WHERE id = ? AND wrapped_key IS NOT NULL"
	 " AND key_retention_until <= " NOW6,
	 1},
#define EXPIRE_CERTS 22
	{"batch_expire_certs",
	 "UPDATE certificates SET status = 'expired' WHERE status = 'active'"
	 " AND not_after <= UTC_TIMESTAMP() LIMIT ?",
	 1},
};

/* An id column: NULL for 0. */
static struct db_param
id_param(int64_t v)
{
	return v > 0 ? DB_I64(v) : DB_NULL;
}

/* An UPDATE that must hit exactly its row: EST_E_CONFLICT otherwise. */
static int
exec_one(struct db *db, int stmt, const struct db_param *p, size_t n)
{
	uint64_t affected = 0;
	int r;

	if ((r = db_exec(db, &batch_stmts[stmt], p, n, &affected, NULL)) != 0)
		return r;
	return affected == 1 ? 0 : EST_E_CONFLICT;
}

int
db_batch_job_insert(struct db *db, const struct db_batch_job_new *j,
		    int64_t *id)
{
	struct db_param p[15];
	uint64_t newid = 0;
	int r;

	if (j == NULL || id == NULL || j->template_id <= 0 || j->total == 0 ||
	    j->source == NULL || j->passphrase_mode == NULL ||
	    j->created_by_type == NULL || j->key_retention_days <= 0 ||
	    j->validity_days < 0)
		return EST_E_INVAL;
	p[0] = DB_STR(j->name);
	p[1] = DB_I64(j->template_id);
	p[2] = id_param(j->tenant_id);
	p[3] = id_param(j->org_id);
	p[4] = DB_STR(j->source);
	p[5] = DB_I64(j->total);
	p[6] = DB_I64(j->key_type);
	p[7] = DB_STR(j->passphrase_mode);
	p[8] = DB_STR(j->subject_values);
	p[9] = DB_STR(j->valid_from);
	p[10] = j->validity_days > 0 ? DB_I64(j->validity_days) : DB_NULL;
	p[11] = DB_I64(j->key_retention_days);
	p[12] = DB_STR(j->created_by_type);
	p[13] = id_param(j->created_by_user_id);
	p[14] = id_param(j->created_by_app_id);
	if ((r = db_exec(db, &batch_stmts[JOB_INSERT], p, 15, NULL, &newid)) !=
	    0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

int
db_batch_items_insert(struct db *db, int64_t job_id, uint32_t first_idx,
		      const char *const *values, size_t n)
{
	struct db_param *p;
	size_t done = 0, k, c, i;
	int r = 0;

	if (job_id <= 0 || first_idx == 0)
		return EST_E_INVAL;
	if ((p = calloc(ITEM_PARAMS * items_chunk[0], sizeof(*p))) == NULL)
		return EST_E_NOMEM;
	while (r == 0 && done < n) {
		for (c = 0; items_chunk[c] > n - done; c++)
			;
		k = items_chunk[c];
		for (i = 0; i < k; i++) {
			const char *v =
				values != NULL ? values[done + i] : NULL;

			p[ITEM_PARAMS * i] = DB_I64(job_id);
			p[ITEM_PARAMS * i + 1] = DB_I64(first_idx + done + i);
			p[ITEM_PARAMS * i + 2] = DB_STR(v);
		}
		r = db_exec(db, &items_insert[c], p, ITEM_PARAMS * k, NULL,
			    NULL);
		done += k;
	}
	free(p);
	return r;
}

int
db_batch_job_get(struct db *db, int64_t id, int lock, struct db_result **out)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return db_query_one(db, &batch_stmts[lock ? JOB_GET_LOCK : JOB_GET], p,
			    1, out);
}

int
db_batch_job_list(struct db *db, const struct db_batch_filter *f,
		  int64_t after_id, size_t limit, struct db_result **out)
{
	struct db_param p[14];

	if (f == NULL || limit == 0 || after_id < 0 || f->scope_tenant < 0 ||
	    f->scope_org < 0 || f->template_id < 0 || f->tenant_id < 0 ||
	    f->org_id < 0)
		return EST_E_INVAL;
	p[0] = DB_I64(after_id);
	p[1] = p[2] = DB_I64(f->scope_tenant);
	p[3] = p[4] = DB_I64(f->scope_org);
	p[5] = p[6] = DB_STR(f->status);
	p[7] = p[8] = DB_I64(f->template_id);
	p[9] = p[10] = DB_I64(f->tenant_id);
	p[11] = p[12] = DB_I64(f->org_id);
	p[13] = DB_I64(limit);
	return db_query(db, &batch_stmts[JOB_LIST], p, 14, out);
}

int
db_batch_job_cancel(struct db *db, int64_t id, const char *from)
{
	struct db_param p[2];

	if (from == NULL || (strcmp(from, DB_BATCH_QUEUED) != 0 &&
			     strcmp(from, DB_BATCH_RUNNING) != 0))
		return EST_E_CONFLICT;
	p[0] = DB_I64(id);
	p[1] = DB_STR(from);
	return exec_one(db, JOB_CANCEL, p, 2);
}

int
db_batch_items_list(struct db *db, int64_t job_id, const char *status,
		    int64_t after_id, size_t limit, struct db_result **out)
{
	struct db_param p[5];

	if (limit == 0 || after_id < 0)
		return EST_E_INVAL;
	p[0] = DB_I64(job_id);
	p[1] = DB_I64(after_id);
	p[2] = p[3] = DB_STR(status);
	p[4] = DB_I64(limit);
	return db_query(db, &batch_stmts[ITEMS_LIST], p, 5, out);
}

int
db_batch_candidates(struct db *db, size_t limit, struct db_result **out)
{
	struct db_param p[2];

	p[0] = DB_I64(DB_BATCH_STALE_SECONDS);
	p[1] = DB_I64(limit);
	return db_query(db, &batch_stmts[CANDIDATES], p, 2, out);
}

int
db_batch_claim(struct db *db, int64_t id, const char *me,
	       const char *old_worker, const char *old_heartbeat)
{
	struct db_param p[4];

	if (me == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(me);
	p[1] = DB_I64(id);
	p[2] = DB_STR(old_worker);
	p[3] = DB_STR(old_heartbeat);
	return exec_one(db, CLAIM, p, 4);
}

static int
job_me(struct db *db, int stmt, int64_t id, const char *me)
{
	struct db_param p[2];

	if (me == NULL)
		return EST_E_INVAL;
	p[0] = DB_I64(id);
	p[1] = DB_STR(me);
	return exec_one(db, stmt, p, 2);
}

int
db_batch_release(struct db *db, int64_t id, const char *me)
{
	return job_me(db, RELEASE, id, me);
}

int
db_batch_heartbeat(struct db *db, int64_t id, const char *me)
{
	return job_me(db, HEARTBEAT, id, me);
}

int
db_batch_count_done(struct db *db, int64_t id, const char *me)
{
	return job_me(db, COUNT_DONE, id, me);
}

int
db_batch_count_failed(struct db *db, int64_t id, const char *me)
{
	return job_me(db, COUNT_FAILED, id, me);
}

int
db_batch_item_issued(struct db *db, int64_t item_id, int64_t cert_id)
{
	struct db_param p[2];

	p[0] = DB_I64(cert_id);
	p[1] = DB_I64(item_id);
	return exec_one(db, ITEM_ISSUED, p, 2);
}

int
db_batch_item_failed(struct db *db, int64_t item_id, const char *error)
{
	struct db_param p[2];
	char msg[256];

	/* The column holds 255 characters; messages are ASCII. */
	snprintf(msg, sizeof(msg), "%s", error != NULL ? error : "failed");
	p[0] = DB_STRN(msg, strlen(msg));
	p[1] = DB_I64(item_id);
	return exec_one(db, ITEM_FAILED, p, 2);
}

int
db_batch_pending(struct db *db, int64_t job_id, uint32_t after_idx,
		 size_t limit, struct db_result **out)
{
	struct db_param p[3];

	p[0] = DB_I64(job_id);
	p[1] = DB_I64(after_idx);
	p[2] = DB_I64(limit);
	return db_query(db, &batch_stmts[PENDING], p, 3, out);
}

int
db_batch_items_page(struct db *db, int64_t job_id, uint32_t after_idx,
		    size_t limit, struct db_result **out)
{
	struct db_param p[3];

	p[0] = DB_I64(job_id);
	p[1] = DB_I64(after_idx);
	p[2] = DB_I64(limit);
	return db_query(db, &batch_stmts[ITEMS_PAGE], p, 3, out);
}

int
db_batch_finish(struct db *db, int64_t id, const char *me, const char *status,
		const char *archive_path, const char *error)
{
	struct db_param p[6];
	char msg[256];

	if (me == NULL || status == NULL)
		return EST_E_INVAL;
	if (error != NULL)
		snprintf(msg, sizeof(msg), "%s", error);
	p[0] = DB_STR(status);
	p[1] = p[2] = DB_STR(archive_path);
	p[3] = error != NULL ? DB_STRN(msg, strlen(msg)) : DB_NULL;
	p[4] = DB_I64(id);
	p[5] = DB_STR(me);
	return exec_one(db, FINISH, p, 6);
}

int
db_batch_archives_due(struct db *db, size_t limit, int64_t **ids, size_t *n)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	int64_t *v = NULL;
	size_t i, rows;
	int r;

	p[0] = DB_I64(limit);
	if ((r = db_query(db, &batch_stmts[ARCHIVES_DUE], p, 1, &res)) != 0)
		return r;
	rows = db_result_rows(res);
	if (rows > 0 && (v = calloc(rows, sizeof(*v))) == NULL) {
		db_result_free(res);
		return EST_E_NOMEM;
	}
	for (i = 0; i < rows; i++)
		v[i] = db_result_i64(res, i, 0);
	db_result_free(res);
	*ids = v;
	*n = rows;
	return 0;
}

int
db_batch_archive_clear(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return exec_one(db, ARCHIVE_CLEAR, p, 1);
}

int
db_batch_dir_unused(struct db *db, int64_t id, int *unused)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	int r;

	p[0] = DB_I64(id);
	r = db_query_one(db, &batch_stmts[DIR_STATE], p, 1, &res);
	if (r == EST_E_NOTFOUND) {
		*unused = 1;
		return 0;
	}
	if (r != 0)
		return r;
	*unused = db_result_i64(res, 0, 0) == 0;
	db_result_free(res);
	return 0;
}

int
db_batch_keys_due(struct db *db, size_t limit, struct db_result **out)
{
	struct db_param p[1];

	p[0] = DB_I64(limit);
	return db_query(db, &batch_stmts[KEYS_DUE], p, 1, out);
}

int
db_batch_destroy_key(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return exec_one(db, DESTROY_KEY, p, 1);
}

int
db_batch_expire_certs(struct db *db, size_t limit, uint64_t *n)
{
	struct db_param p[1];

	p[0] = DB_I64(limit);
	return db_exec(db, &batch_stmts[EXPIRE_CERTS], p, 1, n, NULL);
}
