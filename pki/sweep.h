/*
 * The periodic tasks of estuary-worker besides batch jobs (pki/sweep.c):
 *
 *	CRLs		every CA's CRL made again before its nextUpdate
 *			(crl_refresh_due(), SWEEP_CRL_MARGIN ahead)
 *	keys		server-generated keys past their retention date:
 *			wrapped_key cleared, key_destroyed_at set
 *	archives	batch archives past archive_expires_at: the job
 *			directory removed from disk, archive_path cleared
 *	directories	job directories that belong to no job (a creating
 *			request that failed before its commit) or to a job
 *			that ended without an archive
 *	expiry		active certificates past notAfter marked expired
 *
 * Every key and archive destroyed gets an audit row (actor "system",
 * "estuary-worker"), in the transaction that records it; expiries get one
 * row per batch of certificates.  Each task runs in bounded transactions,
 * so a sweep never holds locks for long, and goes on until nothing is due.
 */
#ifndef ESTUARY_PKI_SWEEP_H
#define ESTUARY_PKI_SWEEP_H

#include <stdint.h>

struct db;
struct sigclient;

/* CRLs are made again this long before their nextUpdate. */
#define SWEEP_CRL_MARGIN 900
/* A directory of no job is removed this long after it last changed. */
#define SWEEP_DIR_GRACE 600

struct sweep_counts {
	uint64_t crls;
	uint64_t keys;
	uint64_t archives;
	uint64_t dirs;
	uint64_t expired;
};

/*
 * Runs every task once.  A task that fails is logged and the others still
 * run; the first error is returned.
 */
int sweep_run(struct db *db, struct sigclient *sc, const char *batch_dir,
	      struct sweep_counts *c);

int sweep_keys(struct db *db, uint64_t *n);
int sweep_archives(struct db *db, const char *batch_dir, uint64_t *n);
int sweep_dirs(struct db *db, const char *batch_dir, uint64_t *n);
int sweep_expired(struct db *db, uint64_t *n);

#endif
