/*
 * Running batch jobs in estuary-worker (pki/batch_run.c).
 *
 * A worker claims a job that needs one (queued; running or cancelling but
 * held by no live worker: its heartbeat is older than 30 seconds, or it
 * names a process of this host that no longer exists) by an atomic UPDATE,
 * then issues the pending items in idx order, each in one transaction:
 * issue_cert() with the certificate's audit row, the item marked issued
 * with its certificate, and the job's progress and heartbeat.  Only after
 * the commit is the item's PKCS#12 exported by the signer and written to
 * the job directory; a crash in between is repaired when the job is next
 * claimed (batch_int.h, batch_repair()).  So an item is issued at most
 * once, and its file exists in the end.
 *
 * An item the template refuses (a value out of bounds: 422) fails alone,
 * with its error; a job whose template or CA can no longer issue (409)
 * fails as a whole; anything else (database, signer, disk) gives the job
 * back and is tried again later.  A job that is being cancelled stops
 * before its next item and ends "cancelled".  When no item is pending,
 * the archive is built and the job ends "completed".
 */
#ifndef ESTUARY_PKI_BATCH_RUN_H
#define ESTUARY_PKI_BATCH_RUN_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

struct db;
struct sigclient;

#define BATCH_WORKER_ID_MAX 64

struct batch_runner {
	struct db *db;
	struct sigclient *sc;
	const char *signer_socket; /* for the exporter's own connection */
	const char *batch_dir;
	char me[BATCH_WORKER_ID_MAX + 1]; /* batch_worker_id() */
	/* Set by a signal: finish the current item, give the job back. */
	volatile sig_atomic_t *stop;
	time_t last_beat;
};

/*
 * This process's name in batch_jobs.worker: "<host>:<pid>:<start time>",
 * so that a later process on the same host can tell that it is gone.
 */
int batch_worker_id(char out[BATCH_WORKER_ID_MAX + 1]);

/*
 * 1 when worker (a batch_worker_id() value) is a process of this host
 * that no longer runs, else 0.
 */
int batch_worker_gone(const char *worker);

/*
 * Claims the next job that needs a worker and runs it until it ends, the
 * runner is stopped, or a component fails.  *ran is set when a job was
 * claimed.  Returns 0, or the error of the component that failed (the
 * job is given back first).
 */
int batch_run_next(struct batch_runner *br, int *ran);

#endif
