/*
 * The worker's side of batch jobs (batch_run.h): claiming a job, issuing
 * its items one transaction each, and ending it.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "batch.h"
#include "batch_int.h"
#include "batch_run.h"
#include "cert.h"
#include "db.h"
#include "dbbatch.h"
#include "dbq.h"
#include "err.h"
#include "issue.h"
#include "log.h"
#include "sigclient.h"
#include "template.h"
#include "tmpl.h"
#include "util.h"

#define CANDIDATES 16
#define PAGE 200
#define HOST_MAX 40
#define ACTOR_NAME "estuary-worker"

/* How an item ended, when it did not fail on a component. */
enum item_end {
	ITEM_DONE = 0,	/* issued, or failed alone */
	ITEM_CANCEL,	/* the job is being cancelled */
	ITEM_LOST,	/* another worker holds the job now */
	ITEM_JOB_FAILS, /* the template or CA cannot issue: the job fails */
};

/* ------------------------------------------------------------------ */
/* Worker identity */

/* Field 22 of /proc/<pid>/stat: the process's start, in clock ticks. */
static int
proc_start(long pid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	FILE *fp;
	size_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return errno == ENOENT ? EST_E_NOTFOUND : EST_E_IO;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip past it. */
	if ((p = strrchr(buf, ')')) == NULL)
		return EST_E_IO;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", start) != 1)
		return EST_E_IO;
	return 0;
}

static int
host_name(char out[HOST_MAX + 1])
{
	char h[256];
	size_t i;

	if (gethostname(h, sizeof(h)) != 0)
		return EST_E_IO;
	h[sizeof(h) - 1] = '\0';
	/* ':' separates the parts of the id. */
	for (i = 0; i < HOST_MAX && h[i] != '\0'; i++)
		out[i] = h[i] == ':' ? '_' : h[i];
	out[i] = '\0';
	return 0;
}

int
batch_worker_id(char out[BATCH_WORKER_ID_MAX + 1])
{
	char host[HOST_MAX + 1];
	unsigned long long start = 0;
	int r;

	if ((r = host_name(host)) != 0 ||
	    (r = proc_start((long)getpid(), &start)) != 0)
		return r;
	snprintf(out, BATCH_WORKER_ID_MAX + 1, "%s:%ld:%llu", host,
		 (long)getpid(), start);
	return 0;
}

int
batch_worker_gone(const char *worker)
{
	char host[HOST_MAX + 1], *end;
	const char *p;
	unsigned long long start, now;
	long pid;
	size_t hl;

	if (worker == NULL || host_name(host) != 0 ||
	    (p = strchr(worker, ':')) == NULL)
		return 0;
	hl = (size_t)(p - worker);
	if (hl != strlen(host) || strncmp(worker, host, hl) != 0)
		return 0;
	errno = 0;
	pid = strtol(p + 1, &end, 10);
	if (errno != 0 || *end != ':' || pid <= 0 || pid > INT_MAX)
		return 0;
	start = strtoull(end + 1, &end, 10);
	if (*end != '\0')
		return 0;
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return 1;
	/* Or the pid is another process's now, started at another time. */
	switch (proc_start(pid, &now)) {
	case 0:
		return now != start;
	case EST_E_NOTFOUND:
		return 1;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* The job */

static int
transient(int r)
{
	return r == EST_E_DB || r == EST_E_SIGNER || r == EST_E_EOF ||
	       r == EST_E_IO || r == EST_E_HSM || r == EST_E_PIN ||
	       r == EST_E_NOTOKEN || r == EST_E_NOMEM || r == EST_E_DENIED ||
	       r == EST_E_TOOMANY;
}

static void
job_free(struct batch_job *job)
{
	if (job == NULL)
		return;
	(void)batch_exporter_finish(job->ex);
	batch_values_free(job->common);
	tmpl_free(job->t);
	db_ca_free(job->ca);
	pki_chain_clear(&job->chain);
	batch_secrets_free(job->sec);
	batch_names_free(job->names, job->total);
	free(job);
}

int
batch_alive(struct batch_job *job)
{
	time_t now = time(NULL);
	int r;

	if (now == job->br->last_beat)
		return 0;
	if ((r = db_batch_heartbeat(job->br->db, job->id, job->br->me)) == 0)
		job->br->last_beat = now;
	return r;
}

/*
 * Reads the job row and everything its items need.  *why is set (and 0
 * returned with *job NULL) for a job that can never run: it fails.
 */
static int
job_load(struct batch_runner *br, int64_t id, struct batch_job **out,
	 const char **why)
{
	struct db_result *res = NULL;
	struct batch_job *job;
	const char *s;
	int r;

	*why = NULL;
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return EST_E_NOMEM;
	job->br = br;
	job->id = id;
	if ((r = db_batch_job_get(br->db, id, 0, &res)) != 0)
		goto out;
	snprintf(job->status, sizeof(job->status), "%s",
		 db_result_str(res, 0, DB_BATCH_STATUS, NULL));
	job->total = (uint32_t)db_result_i64(res, 0, DB_BATCH_TOTAL);
	job->key_type = (int)db_result_i64(res, 0, DB_BATCH_KEY_TYPE);
	s = db_result_str(res, 0, DB_BATCH_PASSPHRASE_MODE, NULL);
	job->mode = s != NULL && strcmp(s, "per_batch") == 0
			    ? BATCH_PER_BATCH
			    : BATCH_PER_CERTIFICATE;
	job->tenant_id = db_result_i64(res, 0, DB_BATCH_TENANT_ID);
	job->org_id = db_result_i64(res, 0, DB_BATCH_ORG_ID);
	s = db_result_str(res, 0, DB_BATCH_CREATED_BY_TYPE, NULL);
	job->creator_app = s != NULL && strcmp(s, "application") == 0;
	job->user_id = db_result_i64(res, 0, DB_BATCH_CREATED_BY_USER);
	job->app_id = db_result_i64(res, 0, DB_BATCH_CREATED_BY_APP);
	if ((s = db_result_str(res, 0, DB_BATCH_VALID_FROM, NULL)) != NULL)
		job->valid_from = (time_t)db_cert_time(s);
	job->days = (int)db_result_i64(res, 0, DB_BATCH_VALIDITY_DAYS);
	if ((r = batch_job_dir(br->batch_dir, id, job->dir,
			       sizeof(job->dir))) != 0)
		goto out;
	if (job->total == 0 || job->total > BATCH_COUNT_MAX ||
	    batch_values_parse(
		    db_result_str(res, 0, DB_BATCH_SUBJECT_VALUES, NULL),
		    &job->common) != 0) {
		*why = "the job's stored values cannot be read";
		goto out;
	}
	r = db_template_load(
		br->db, db_result_i64(res, 0, DB_BATCH_TEMPLATE_ID), &job->t);
	if (r == EST_E_NOTFOUND || r == EST_E_INTERNAL) {
		*why = "the template cannot be read";
		r = 0;
		goto out;
	}
	if (r != 0 || (r = db_ca_get(br->db, job->t->ca_id, &job->ca)) != 0)
		goto out;
	if ((r = pki_ca_chain(br->db, job->ca, &job->chain)) ==
	    EST_E_CONFLICT) {
		*why = "the template's CA has no certificate";
		r = 0;
		goto out;
	}
	if (r != 0)
		goto out;
	r = batch_secrets_load(br->batch_dir, id, job->mode, job->total,
			       &job->sec);
	if (r == EST_E_NOTFOUND || r == EST_E_INTERNAL || r == EST_E_INVAL) {
		*why = "the job's passphrases are missing";
		r = 0;
		goto out;
	}
	if (r != 0)
		goto out;
	r = batch_files_scan(job->dir, job->total, &job->names);
out:
	db_result_free(res);
	if (r == 0 && *why == NULL) {
		*out = job;
		return 0;
	}
	/* A job that cannot run still ends, with what it could load. */
	*out = r == 0 ? job : NULL;
	if (r != 0)
		job_free(job);
	return r;
}

/* ------------------------------------------------------------------ */
/* Items */

static enum issue_kind
kind_of(const struct tmpl *t)
{
	switch (t->type) {
	case TMPL_FACTORY:
		return ISSUE_KIND_FACTORY;
	case TMPL_OPERATIONAL:
		return ISSUE_KIND_OPERATIONAL;
	default:
		return ISSUE_KIND_OTHER;
	}
}

static void
system_event(struct audit_event *ev, const struct batch_job *job)
{
	memset(ev, 0, sizeof(*ev));
	ev->actor_type = AUDIT_ACTOR_SYSTEM;
	ev->actor_name = ACTOR_NAME;
	ev->tenant_id = job->tenant_id;
	ev->org_id = job->org_id;
	ev->outcome = AUDIT_SUCCESS;
}

/* The certificate's audit row, in the item's transaction. */
static int
audit_issue(struct batch_job *job, uint32_t idx, const struct issue_result *res)
{
	struct audit_event ev;
	char serial[41], details[320];

	hex_encode(res->serial, res->serial_len, serial);
	snprintf(details, sizeof(details),
		 "{\"after\":{\"serial\":\"%s\",\"ca_id\":%lld,"
		 "\"template_id\":%lld,\"key_source\":\"server\","
		 "\"batch_job_id\":%lld,\"idx\":%u}}",
		 serial, (long long)job->ca->id, (long long)job->t->id,
		 (long long)job->id, (unsigned)idx);
	system_event(&ev, job);
	ev.entity = "certificate";
	ev.entity_id = res->id;
	ev.action = "issue";
	ev.details = details;
	return db_audit_append(job->br->db, &ev);
}

/* Ends a transaction: commit when r is 0, else roll back; returns r. */
static int
tx_end(struct db *db, int r)
{
	if (r == 0)
		return db_commit(db);
	db_rollback(db);
	return r;
}

/* Item item_id fails alone with msg. */
static int
item_fail(struct batch_job *job, int64_t item_id, uint32_t idx,
	  const char *field, const char *msg, enum item_end *end)
{
	struct db *db = job->br->db;
	char text[256];
	int r;

	snprintf(text, sizeof(text), "%s%s%s", field, field[0] ? ": " : "",
		 msg);
	log_info("batch job %lld: item %u failed: %s", (long long)job->id,
		 (unsigned)idx, text);
	if ((r = db_begin(db)) != 0)
		return r;
	r = db_batch_count_failed(db, job->id, job->br->me);
	if (r == 0)
		r = db_batch_item_failed(db, item_id, text);
	if (r == EST_E_CONFLICT) {
		db_rollback(db);
		*end = ITEM_LOST;
		return 0;
	}
	return tx_end(db, r);
}

/*
 * Issues one item.  Returns 0 with *end saying how it went, or the error
 * of a component (the transaction is rolled back).
 */
static int
item_run(struct batch_job *job, int64_t item_id, uint32_t idx,
	 const char *values, enum item_end *end, char *why, size_t whylen)
{
	struct db *db = job->br->db;
	struct batch_values *row = NULL;
	struct subj_input *in = NULL;
	struct issue_result *res = NULL;
	struct issue_error ie;
	struct issue_req rq;
	int r;

	*end = ITEM_DONE;
	memset(&ie, 0, sizeof(ie));
	if (values != NULL && batch_values_parse(values, &row) != 0) {
		r = item_fail(job, item_id, idx, "", "unreadable values", end);
		goto out;
	}
	if ((r = batch_item_input(job->t, job->common, row, idx, &in, &ie)) !=
	    0) {
		if (r == EST_E_UNPROCESSABLE)
			r = item_fail(job, item_id, idx, ie.field, ie.message,
				      end);
		goto out;
	}
	memset(&rq, 0, sizeof(rq));
	rq.tmpl = job->t;
	rq.ca = job->ca;
	rq.keygen_type = job->key_type;
	rq.input = in;
	rq.src = SUBJ_SRC_USER;
	rq.not_before = job->valid_from;
	rq.days = job->days;
	rq.kind = kind_of(job->t);
	rq.via = ISSUE_VIA_BATCH;
	rq.creator = job->creator_app ? ISSUE_BY_APP : ISSUE_BY_USER;
	rq.user_id = job->user_id;
	rq.app_id = job->app_id;
	rq.tenant_id = job->tenant_id;
	rq.org_id = job->org_id;
	if ((r = db_begin(db)) != 0)
		goto out;
	/* Locks the job row: a cancellation waits for this item. */
	if ((r = db_batch_count_done(db, job->id, job->br->me)) != 0) {
		db_rollback(db);
		if (r == EST_E_CONFLICT) {
			*end = ITEM_CANCEL;
			r = 0;
		}
		goto out;
	}
	if ((r = issue_cert(db, job->br->sc, &rq, &res, &ie)) != 0) {
		db_rollback(db);
		if (r == EST_E_UNPROCESSABLE) {
			r = item_fail(job, item_id, idx, ie.field, ie.message,
				      end);
		} else if (!transient(r)) {
			snprintf(why, whylen, "item %u: %s", (unsigned)idx,
				 ie.code == r ? ie.message : est_strerror(r));
			*end = ITEM_JOB_FAILS;
			r = 0;
		}
		goto out;
	}
	if ((r = db_batch_item_issued(db, item_id, res->id)) != 0 ||
	    (r = audit_issue(job, idx, res)) != 0 || (r = db_commit(db)) != 0) {
		db_rollback(db);
		goto out;
	}
	job->br->last_beat = time(NULL);
	/* Committed: a failure from here on is repaired on resume. */
	if (res->wrapped != NULL)
		r = batch_exporter_put(job->ex, idx, res->der, res->derlen,
				       res->wrapped, res->wrappedlen);
out:
	issue_result_free(res);
	subject_input_free(in);
	batch_values_free(row);
	return r;
}

/* ------------------------------------------------------------------ */
/* The end of a job */

/*
 * Ends the job with status: builds the archive (unless with_archive is 0:
 * a job whose passphrases or template are gone has no usable files),
 * records the end with its audit row, then removes what the archive holds.
 */
static int
job_end(struct batch_job *job, const char *status, const char *error,
	int with_archive)
{
	struct db *db = job->br->db;
	struct audit_event ev;
	char *archive = NULL, details[160];
	int r;

	if (with_archive && (r = batch_archive(job, &archive)) != 0) {
		log_err("batch job %lld: cannot build the archive: %s",
			(long long)job->id, est_strerror(r));
		return r;
	}
	snprintf(details, sizeof(details),
		 "{\"after\":{\"status\":\"%s\",\"archive\":%s}}", status,
		 archive != NULL ? "true" : "false");
	system_event(&ev, job);
	ev.entity = "batch_job";
	ev.entity_id = job->id;
	ev.action = strcmp(status, DB_BATCH_COMPLETED) == 0   ? "complete"
		    : strcmp(status, DB_BATCH_CANCELLED) == 0 ? "cancel"
							      : "fail";
	ev.reason = error;
	ev.details = details;
	if ((r = db_begin(db)) == 0) {
		r = db_batch_finish(db, job->id, job->br->me, status, archive,
				    error);
		if (r == 0)
			r = db_audit_append(db, &ev);
		r = tx_end(db, r);
	}
	if (r == 0) {
		log_info("batch job %lld: %s%s%s", (long long)job->id, status,
			 error != NULL ? ": " : "", error != NULL ? error : "");
		batch_cleanup(job, archive);
	}
	free(archive);
	return r;
}

/* A job that cannot run at all: it fails without loading the rest. */
static int
job_fail_early(struct batch_runner *br, int64_t id, const char *why)
{
	struct batch_job job;
	int r;

	memset(&job, 0, sizeof(job));
	job.br = br;
	job.id = id;
	if ((r = batch_job_dir(br->batch_dir, id, job.dir, sizeof(job.dir))) !=
	    0)
		return r;
	log_err("batch job %lld fails: %s", (long long)id, why);
	return job_end(&job, DB_BATCH_FAILED, why, 0);
}

static int
job_items(struct batch_job *job, enum item_end *end, char *why, size_t whylen)
{
	struct batch_runner *br = job->br;
	struct db_result *res = NULL;
	uint32_t after = 0, idx;
	size_t i, n;
	int r = 0;

	*end = ITEM_DONE;
	for (;;) {
		if ((r = db_batch_pending(br->db, job->id, after, PAGE,
					  &res)) != 0)
			return r;
		n = db_result_rows(res);
		for (i = 0; i < n && *end == ITEM_DONE; i++) {
			if (*br->stop)
				break;
			idx = (uint32_t)db_result_i64(res, i,
						      DB_BATCH_PEND_IDX);
			r = item_run(job,
				     db_result_i64(res, i, DB_BATCH_PEND_ID),
				     idx,
				     db_result_str(res, i, DB_BATCH_PEND_VALUES,
						   NULL),
				     end, why, whylen);
			if (r != 0)
				break;
			after = idx;
		}
		db_result_free(res);
		res = NULL;
		if (r != 0 || *end != ITEM_DONE || *br->stop || n < PAGE)
			return r;
	}
}

/*
 * Reads the job's status again into job->status; EST_E_CONFLICT (no
 * error to report) when another worker holds it now.
 */
static int
job_still_mine(struct batch_job *job)
{
	struct db_result *res = NULL;
	const char *w;
	int r;

	if ((r = db_batch_job_get(job->br->db, job->id, 0, &res)) != 0)
		return r;
	w = db_result_str(res, 0, DB_BATCH_WORKER, NULL);
	snprintf(job->status, sizeof(job->status), "%s",
		 db_result_str(res, 0, DB_BATCH_STATUS, NULL));
	r = w != NULL && strcmp(w, job->br->me) == 0 ? 0 : EST_E_CONFLICT;
	db_result_free(res);
	return r;
}

/* Runs job id, which br holds. */
static int
run_job(struct batch_runner *br, int64_t id)
{
	struct batch_job *job = NULL;
	enum item_end end = ITEM_DONE;
	const char *why = NULL;
	char msg[200];
	int r;

	if ((r = job_load(br, id, &job, &why)) != 0)
		goto give_back;
	if (why != NULL) {
		job_free(job);
		return job_fail_early(br, id, why);
	}
	log_info("batch job %lld: %s, %u items", (long long)id, job->status,
		 (unsigned)job->total);
	if ((r = batch_repair(job)) != 0)
		goto give_back;
	if (strcmp(job->status, DB_BATCH_CANCELLING) != 0) {
		if ((r = batch_exporter_start(job, br->signer_socket,
					      &job->ex)) != 0)
			goto give_back;
		r = job_items(job, &end, msg, sizeof(msg));
		/*
		 * The queue's files are written now; one that failed is
		 * made again by the archive, or on resume.
		 */
		(void)batch_exporter_finish(job->ex);
		job->ex = NULL;
		if (r != 0)
			goto give_back;
	}
	if (*br->stop && end == ITEM_DONE) {
		r = 0;
		goto give_back;
	}
	/*
	 * A job that stopped running is being cancelled, unless another
	 * worker took it over (this one stalled for 30 seconds): then its
	 * files are that worker's now, and nothing here touches them.
	 */
	if (end == ITEM_CANCEL || end == ITEM_LOST) {
		if ((r = job_still_mine(job)) != 0)
			goto give_back;
		if (strcmp(job->status, DB_BATCH_CANCELLING) != 0)
			end = ITEM_LOST;
	}
	switch (end) {
	case ITEM_LOST:
		r = EST_E_CONFLICT;
		break;
	case ITEM_JOB_FAILS:
		log_err("batch job %lld fails: %s", (long long)id, msg);
		r = job_end(job, DB_BATCH_FAILED, msg, 1);
		break;
	case ITEM_CANCEL:
	case ITEM_DONE:
		r = job_end(job,
			    strcmp(job->status, DB_BATCH_CANCELLING) == 0
				    ? DB_BATCH_CANCELLED
				    : DB_BATCH_COMPLETED,
			    NULL, 1);
		break;
	}
	if (r != 0)
		goto give_back;
	job_free(job);
	return 0;
give_back:
	job_free(job);
	/* Lost to another worker: nothing to give back, nothing wrong. */
	if (r == EST_E_CONFLICT) {
		log_warn("batch job %lld: taken over by another worker",
			 (long long)id);
		return 0;
	}
	if (r != 0)
		log_err("batch job %lld: %s; given back", (long long)id,
			est_strerror(r));
	/* On a lost database this fails too; the heartbeat then expires. */
	(void)db_batch_release(br->db, id, br->me);
	return r;
}

int
batch_run_next(struct batch_runner *br, int *ran)
{
	struct db_result *res = NULL;
	const char *worker, *beat;
	int64_t id;
	size_t i;
	int r, stale;

	*ran = 0;
	if ((r = db_batch_candidates(br->db, CANDIDATES, &res)) != 0)
		return r;
	for (i = 0; i < db_result_rows(res); i++) {
		id = db_result_i64(res, i, DB_BATCH_CAND_ID);
		worker = db_result_str(res, i, DB_BATCH_CAND_WORKER, NULL);
		beat = db_result_str(res, i, DB_BATCH_CAND_HEARTBEAT, NULL);
		stale = db_result_i64(res, i, DB_BATCH_CAND_STALE) != 0;
		if (worker != NULL && !stale && strcmp(worker, br->me) != 0 &&
		    !batch_worker_gone(worker))
			continue;
		r = db_batch_claim(br->db, id, br->me, worker, beat);
		if (r == EST_E_CONFLICT)
			continue;
		if (r != 0)
			break;
		if (worker != NULL && strcmp(worker, br->me) != 0)
			log_warn("batch job %lld: resumed from %s",
				 (long long)id, worker);
		*ran = 1;
		br->last_beat = time(NULL);
		db_result_free(res);
		return run_job(br, id);
	}
	db_result_free(res);
	return r == EST_E_CONFLICT ? 0 : r;
}
