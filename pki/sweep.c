/* The periodic tasks of estuary-worker; see sweep.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "batch.h"
#include "crl.h"
#include "db.h"
#include "dbbatch.h"
#include "err.h"
#include "log.h"
#include "sweep.h"

#define BATCH 200 /* rows per transaction */
#define EXPIRE_BATCH 1000
#define ACTOR_NAME "estuary-worker"

static void
system_event(struct audit_event *ev, const char *entity, int64_t id,
	     const char *action)
{
	memset(ev, 0, sizeof(*ev));
	ev->actor_type = AUDIT_ACTOR_SYSTEM;
	ev->actor_name = ACTOR_NAME;
	ev->entity = entity;
	ev->entity_id = id;
	ev->action = action;
	ev->outcome = AUDIT_SUCCESS;
}

static int
tx_end(struct db *db, int r)
{
	if (r == 0)
		return db_commit(db);
	db_rollback(db);
	return r;
}

/* One transaction: at most BATCH keys destroyed, each with its row. */
static int
keys_once(struct db *db, uint64_t *n, size_t *rows)
{
	struct db_result *res = NULL;
	struct audit_event ev;
	int64_t id;
	size_t i;
	int r;

	*rows = 0;
	if ((r = db_begin(db)) != 0)
		return r;
	if ((r = db_batch_keys_due(db, BATCH, &res)) != 0)
		return tx_end(db, r);
	*rows = db_result_rows(res);
	for (i = 0; r == 0 && i < *rows; i++) {
		id = db_result_i64(res, i, DB_KEY_DUE_ID);
		/* Locked above; one gone by now is not counted twice. */
		if ((r = db_batch_destroy_key(db, id)) == EST_E_CONFLICT) {
			r = 0;
			continue;
		}
		if (r != 0)
			break;
		system_event(&ev, "certificate", id, "destroy_key");
		ev.entity_name =
			db_result_str(res, i, DB_KEY_DUE_SUBJECT, NULL);
		ev.tenant_id = db_result_i64(res, i, DB_KEY_DUE_TENANT_ID);
		ev.org_id = db_result_i64(res, i, DB_KEY_DUE_ORG_ID);
		ev.reason = "key retention period over";
		ev.details = "{\"after\":{\"private_key\":\"destroyed\"}}";
		if ((r = db_audit_append(db, &ev)) == 0)
			(*n)++;
	}
	db_result_free(res);
	return tx_end(db, r);
}

int
sweep_keys(struct db *db, uint64_t *n)
{
	uint64_t done = 0;
	size_t rows;
	int r;

	do {
		r = keys_once(db, &done, &rows);
	} while (r == 0 && rows == BATCH);
	*n = r == 0 ? done : 0;
	return r;
}

int
sweep_archives(struct db *db, const char *batch_dir, uint64_t *n)
{
	struct db_result *job = NULL;
	struct audit_event ev;
	int64_t *ids = NULL;
	size_t i, k = 0;
	int r, rr;

	*n = 0;
	do {
		free(ids);
		ids = NULL;
		if ((r = db_batch_archives_due(db, BATCH, &ids, &k)) != 0)
			break;
		for (i = 0; r == 0 && i < k; i++) {
			/*
			 * Files first: if the record went first, a crash in
			 * between would leave the secrets on disk unknown.
			 */
			if ((rr = batch_dir_remove(batch_dir, ids[i])) != 0) {
				log_err("batch job %lld: cannot remove its "
					"archive: %s",
					(long long)ids[i], est_strerror(rr));
				r = rr;
				break;
			}
			if ((r = db_batch_job_get(db, ids[i], 0, &job)) != 0)
				break;
			system_event(&ev, "batch_job", ids[i],
				     "destroy_archive");
			ev.tenant_id =
				db_result_i64(job, 0, DB_BATCH_TENANT_ID);
			ev.org_id = db_result_i64(job, 0, DB_BATCH_ORG_ID);
			ev.entity_name =
				db_result_str(job, 0, DB_BATCH_NAME, NULL);
			ev.reason = "archive retention period over";
			ev.details = "{\"after\":{\"archive\":\"destroyed\"}}";
			if ((r = db_begin(db)) == 0) {
				r = db_batch_archive_clear(db, ids[i]);
				if (r == 0)
					r = db_audit_append(db, &ev);
				r = tx_end(db, r);
			}
			db_result_free(job);
			job = NULL;
			/* Another worker's sweep was first: nothing to add. */
			if (r == EST_E_CONFLICT)
				r = 0;
			else if (r == 0)
				(*n)++;
		}
	} while (r == 0 && k == BATCH);
	free(ids);
	return r;
}

int
sweep_dirs(struct db *db, const char *batch_dir, uint64_t *n)
{
	int64_t *ids = NULL;
	size_t i, k = 0;
	int r, unused;

	*n = 0;
	if ((r = batch_dir_list(batch_dir, time(NULL) - SWEEP_DIR_GRACE, &ids,
				&k)) != 0)
		return r;
	for (i = 0; r == 0 && i < k; i++) {
		if ((r = db_batch_dir_unused(db, ids[i], &unused)) != 0 ||
		    !unused)
			continue;
		if ((r = batch_dir_remove(batch_dir, ids[i])) == 0) {
			log_info("removed %s/%lld: it belongs to no job",
				 batch_dir, (long long)ids[i]);
			(*n)++;
		}
	}
	free(ids);
	return r;
}

int
sweep_expired(struct db *db, uint64_t *n)
{
	struct audit_event ev;
	uint64_t k;
	char details[96];
	int r;

	*n = 0;
	do {
		k = 0;
		if ((r = db_begin(db)) != 0)
			break;
		if ((r = db_batch_expire_certs(db, EXPIRE_BATCH, &k)) == 0 &&
		    k > 0) {
			snprintf(details, sizeof(details),
				 "{\"after\":{\"status\":\"expired\","
				 "\"count\":%llu}}",
				 (unsigned long long)k);
			system_event(&ev, "certificate", 0, "expire");
			ev.reason = "notAfter passed";
			ev.details = details;
			r = db_audit_append(db, &ev);
		}
		if ((r = tx_end(db, r)) == 0)
			*n += k;
	} while (r == 0 && k == EXPIRE_BATCH);
	return r;
}

static void
note(int *first, int r, const char *task)
{
	if (r == 0)
		return;
	log_err("%s: %s", task, est_strerror(r));
	if (*first == 0)
		*first = r;
}

int
sweep_run(struct db *db, struct sigclient *sc, const char *batch_dir,
	  struct sweep_counts *c)
{
	int first = 0, r;

	memset(c, 0, sizeof(*c));
	if ((r = crl_refresh_due(db, sc, SWEEP_CRL_MARGIN)) >= 0)
		c->crls = (uint64_t)r;
	else
		note(&first, r, "CRL schedule");
	note(&first, sweep_keys(db, &c->keys), "key retention");
	note(&first, sweep_archives(db, batch_dir, &c->archives),
	     "batch archives");
	note(&first, sweep_dirs(db, batch_dir, &c->dirs), "batch directories");
	note(&first, sweep_expired(db, &c->expired), "certificate expiry");
	if (c->crls + c->keys + c->archives + c->dirs + c->expired > 0)
		log_info("sweep: %llu CRLs, %llu keys destroyed, %llu "
			 "archives removed, %llu directories removed, %llu "
			 "certificates expired",
			 (unsigned long long)c->crls,
			 (unsigned long long)c->keys,
			 (unsigned long long)c->archives,
			 (unsigned long long)c->dirs,
			 (unsigned long long)c->expired);
	return first;
}
