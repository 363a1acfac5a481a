/*
 * Batch jobs and their items (batch_jobs, batch_items of
 * db/004_certificates.sql), and the sweeps of estuary-worker over
 * certificates: the queries of fcgi/api_batch*.c, pki/batch_run.c and
 * pki/sweep.c.
 *
 * Ownership of a running job.  batch_jobs.worker names the worker that
 * runs the job and heartbeat_at says when it last showed life.  A worker
 * claims a job by a compare-and-swap UPDATE on the (worker, heartbeat_at)
 * pair it read, so two workers never both win; every later write of the
 * worker names itself in its WHERE clause, so a worker that lost the job
 * (its heartbeat went stale and another took over) changes nothing.
 *
 * Times are UTC; getters return "YYYY-MM-DD HH:MM:SS[.ffffff]" text.
 */
#ifndef ESTUARY_DB_DBBATCH_H
#define ESTUARY_DB_DBBATCH_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct db_result;

/* batch_jobs.status */
#define DB_BATCH_QUEUED "queued"
#define DB_BATCH_RUNNING "running"
#define DB_BATCH_CANCELLING "cancelling"
#define DB_BATCH_CANCELLED "cancelled"
#define DB_BATCH_COMPLETED "completed"
#define DB_BATCH_FAILED "failed"

/* A worker whose heartbeat is older than this has lost its jobs. */
#define DB_BATCH_STALE_SECONDS 30

/* What db_batch_job_insert() writes; 0 and NULL members are SQL NULL. */
struct db_batch_job_new {
	const char *name;
	int64_t template_id;
	int64_t tenant_id;
	int64_t org_id;
	const char *source; /* "generated", "csv" */
	uint32_t total;
	int key_type;		     /* enum signer_keytype */
	const char *passphrase_mode; /* "per_batch", "per_certificate" */
	const char *subject_values;  /* batch_values_json() */
	const char *valid_from;	     /* "YYYY-MM-DD HH:MM:SS" or NULL */
	int validity_days;	     /* 0: the template's */
	int key_retention_days;	     /* > 0: key_retention_until from now */
	const char *created_by_type; /* "user", "application" */
	int64_t created_by_user_id;
	int64_t created_by_app_id;
};

int db_batch_job_insert(struct db *db, const struct db_batch_job_new *j,
			int64_t *id);

/*
 * Items first_idx .. first_idx + n - 1 of job job_id, values[i] the
 * stored values of item first_idx + i (values NULL: none for every item),
 * in multi-row INSERTs of up to 1000 rows, prepared once per connection.
 */
int db_batch_items_insert(struct db *db, int64_t job_id, uint32_t first_idx,
			  const char *const *values, size_t n);

enum db_batch_col {
	DB_BATCH_ID = 0,
	DB_BATCH_NAME,
	DB_BATCH_TEMPLATE_ID,
	DB_BATCH_TENANT_ID,
	DB_BATCH_ORG_ID,
	DB_BATCH_SOURCE,
	DB_BATCH_TOTAL,
	DB_BATCH_DONE,
	DB_BATCH_FAILED_N,
	DB_BATCH_STATUS,
	DB_BATCH_KEY_TYPE,
	DB_BATCH_PASSPHRASE_MODE,
	DB_BATCH_SUBJECT_VALUES,
	DB_BATCH_VALID_FROM,
	DB_BATCH_VALIDITY_DAYS,
	DB_BATCH_ARCHIVE_PATH,
	DB_BATCH_ARCHIVE_EXPIRES,
	DB_BATCH_KEY_RETENTION,
	DB_BATCH_ERROR,
	DB_BATCH_WORKER,
	DB_BATCH_HEARTBEAT,
	DB_BATCH_CREATED_BY_TYPE,
	DB_BATCH_CREATED_BY_USER,
	DB_BATCH_CREATED_BY_APP,
	DB_BATCH_CREATED_AT,
	DB_BATCH_STARTED_AT,
	DB_BATCH_FINISHED_AT,
	DB_BATCH_UPDATED_AT,
	/* 1 while the archive exists and has not expired. */
	DB_BATCH_ARCHIVE_AVAILABLE,
	/* 1 once archive_expires_at has passed. */
	DB_BATCH_ARCHIVE_EXPIRED,
	DB_BATCH_NCOLS
};

/* One job; with lock set, FOR UPDATE. */
int db_batch_job_get(struct db *db, int64_t id, int lock,
		     struct db_result **out);

/*
 * List filters; 0 or NULL do not filter.  scope_tenant / scope_org come
 * from perm_list_filter() (jobs are not shared).
 */
struct db_batch_filter {
	int64_t scope_tenant;
	int64_t scope_org;
	const char *status;
	int64_t template_id;
	int64_t tenant_id;
	int64_t org_id;
};

int db_batch_job_list(struct db *db, const struct db_batch_filter *f,
		      int64_t after_id, size_t limit, struct db_result **out);

/*
 * Cancellation (the API, with the row locked): a queued job becomes
 * cancelled at once, a running one cancelling (its worker finishes it).
 * EST_E_CONFLICT when the job is in neither state.
 */
int db_batch_job_cancel(struct db *db, int64_t id, const char *from);

/* Items of a job for the API, by items.id. */
enum db_batch_item_col {
	DB_BATCH_ITEM_ID = 0,
	DB_BATCH_ITEM_IDX,
	DB_BATCH_ITEM_STATUS,
	DB_BATCH_ITEM_CERT_ID,
	DB_BATCH_ITEM_ERROR,
	DB_BATCH_ITEM_UPDATED_AT,
	DB_BATCH_ITEM_SERIAL, /* binary, NULL unless issued */
	DB_BATCH_ITEM_NCOLS
};

int db_batch_items_list(struct db *db, int64_t job_id, const char *status,
			int64_t after_id, size_t limit, struct db_result **out);

/* ------------------------------------------------------------------ */
/* The worker */

/*
 * Jobs that need a worker (queued, running or cancelling), oldest first:
 * columns of enum db_batch_cand_col.
 */
enum db_batch_cand_col {
	DB_BATCH_CAND_ID = 0,
	DB_BATCH_CAND_WORKER,	 /* NULL when nobody holds it */
	DB_BATCH_CAND_STALE,	 /* 1: heartbeat older than the limit */
	DB_BATCH_CAND_HEARTBEAT, /* text, as db_batch_claim() compares it */
	DB_BATCH_CAND_NCOLS
};
int db_batch_candidates(struct db *db, size_t limit, struct db_result **out);

/*
 * Claims job id for worker me if it is still held by old_worker with
 * heartbeat old_heartbeat (both NULL for a free job): 0 when claimed,
 * EST_E_CONFLICT when someone else changed the job first.  A queued job
 * becomes running.
 */
int db_batch_claim(struct db *db, int64_t id, const char *me,
		   const char *old_worker, const char *old_heartbeat);

/* Gives the job back (worker and heartbeat NULL); its status stays. */
int db_batch_release(struct db *db, int64_t id, const char *me);

/* Shows life; EST_E_CONFLICT when me no longer holds the job. */
int db_batch_heartbeat(struct db *db, int64_t id, const char *me);

/*
 * Inside an item's transaction: counts one more done (or failed) item and
 * locks the job row.  EST_E_CONFLICT when me no longer holds it or it is
 * not running any more (cancelling): the caller rolls back.
 */
int db_batch_count_done(struct db *db, int64_t id, const char *me);
int db_batch_count_failed(struct db *db, int64_t id, const char *me);

/* Item item_id is issued as certificate cert_id, or failed with error. */
int db_batch_item_issued(struct db *db, int64_t item_id, int64_t cert_id);
int db_batch_item_failed(struct db *db, int64_t item_id, const char *error);

/* At most limit pending items with idx above after_idx, in idx order. */
enum db_batch_pend_col {
	DB_BATCH_PEND_ID = 0,
	DB_BATCH_PEND_IDX,
	DB_BATCH_PEND_VALUES, /* NULL for a generated item */
	DB_BATCH_PEND_NCOLS
};
int db_batch_pending(struct db *db, int64_t job_id, uint32_t after_idx,
		     size_t limit, struct db_result **out);

/*
 * Every item with idx above after_idx (at most limit, in idx order) with
 * its certificate's serial and DER when it is issued.
 */
enum db_batch_all_col {
	DB_BATCH_ALL_IDX = 0,
	DB_BATCH_ALL_STATUS,
	DB_BATCH_ALL_CERT_ID,
	DB_BATCH_ALL_ERROR,
	DB_BATCH_ALL_SERIAL, /* binary */
	DB_BATCH_ALL_DER,
	DB_BATCH_ALL_NCOLS
};
int db_batch_items_page(struct db *db, int64_t job_id, uint32_t after_idx,
			size_t limit, struct db_result **out);

/*
 * Ends the job that me holds: status (completed, cancelled, failed),
 * finished_at now, archive_path (NULL: none; then archive_expires_at stays
 * NULL, else it becomes key_retention_until), error (may be NULL), and the
 * worker lets go.  EST_E_CONFLICT when me no longer holds it.
 */
int db_batch_finish(struct db *db, int64_t id, const char *me,
		    const char *status, const char *archive_path,
		    const char *error);

/* ------------------------------------------------------------------ */
/* Sweeps */

/* Jobs whose archive has expired but is still recorded (ids). */
int db_batch_archives_due(struct db *db, size_t limit, int64_t **ids,
			  size_t *n);
/*
 * Forgets the archive of job id (archive_expires_at stays: 410);
 * EST_E_CONFLICT when it was forgotten already (another sweep).
 */
int db_batch_archive_clear(struct db *db, int64_t id);

/*
 * Whether the files of job id may go: 1 when no such job exists, or it
 * has ended without an archive to keep; 0 while it runs or keeps one.
 */
int db_batch_dir_unused(struct db *db, int64_t id, int *unused);

/*
 * Certificates whose stored key has passed its retention, locked FOR
 * UPDATE in the caller's transaction: columns of enum db_key_due_col.
 */
enum db_key_due_col {
	DB_KEY_DUE_ID = 0,
	DB_KEY_DUE_SUBJECT,
	DB_KEY_DUE_TENANT_ID,
	DB_KEY_DUE_ORG_ID,
	DB_KEY_DUE_NCOLS
};
int db_batch_keys_due(struct db *db, size_t limit, struct db_result **out);

/*
 * Destroys the stored key of certificate id, which db_batch_keys_due()
 * locked (by its primary key: db_cert_destroy_keys() looks rows up by
 * their retention date); EST_E_CONFLICT when it is gone already.
 */
int db_batch_destroy_key(struct db *db, int64_t id);

/*
 * Marks at most limit active certificates whose notAfter has passed as
 * expired; *n counts them.
 */
int db_batch_expire_certs(struct db *db, size_t limit, uint64_t *n);

#endif
