/*
 * What the worker's job runner (batch_run.c) and the archive builder
 * (batch_archive.c) share about the job being run.  Not for other users:
 * the interface of the worker is batch_run.h.
 */
#ifndef ESTUARY_PKI_BATCH_INT_H
#define ESTUARY_PKI_BATCH_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "batch.h"
#include "batch_run.h"
#include "ca.h"

struct batch_exporter;
struct db_ca;
struct tmpl;

/* One job as its worker holds it. */
struct batch_job {
	struct batch_runner *br;
	int64_t id;
	char status[16];
	uint32_t total;
	int key_type;
	enum batch_mode mode;
	int64_t tenant_id, org_id;
	int creator_app; /* created by an API application */
	int64_t user_id, app_id;
	time_t valid_from; /* 0: when each item is issued */
	int days;	   /* 0: the template's */
	struct batch_values *common;
	struct tmpl *t;
	struct db_ca *ca;
	struct pki_chain chain;
	struct batch_secrets *sec;
	char dir[BATCH_PATH_MAX];
	/*
	 * The PKCS#12 file of each idx, or NULL.  While an exporter runs,
	 * its thread alone writes this.
	 */
	char **names;
	struct batch_exporter *ex;
};

/*
 * Exports item idx's PKCS#12 (certificate der, its wrapped key from the
 * database or given) into the job directory and records its name in
 * job->names, on the runner's signer connection (batch_export.c).
 * EST_E_GONE when the key is no longer kept.
 */
int batch_export(struct batch_job *job, uint32_t idx, int64_t cert_id,
		 const uint8_t *der, size_t derlen, const uint8_t *wrapped,
		 size_t wrappedlen);

/*
 * The same on a thread of its own, with its own signer connection, while
 * the runner issues the next items.  batch_exporter_put() copies what it
 * is given and waits while the queue is full; it returns the thread's
 * first error once there is one (the thread has stopped then).
 * batch_exporter_finish() waits until the queue is empty, stops the
 * thread and returns that error; ex may be NULL.
 */
int batch_exporter_start(struct batch_job *job, const char *signer_socket,
			 struct batch_exporter **out);
int batch_exporter_put(struct batch_exporter *ex, uint32_t idx,
		       const uint8_t *der, size_t derlen,
		       const uint8_t *wrapped, size_t wrappedlen);
int batch_exporter_finish(struct batch_exporter *ex);

/*
 * After a crash: every issued item whose PKCS#12 is missing gets it again
 * (its key is still wrapped in the database).
 */
int batch_repair(struct batch_job *job);

/*
 * Builds <dir>/batch-<id>.zip from the issued items' files with
 * passphrases.txt and index.csv, replacing any earlier one; *path is a new
 * string, or NULL when no item was issued (then nothing is written).
 */
int batch_archive(struct batch_job *job, char **path);

/* Removes what the archive now holds: the PKCS#12 files and passphrases. */
void batch_cleanup(struct batch_job *job, const char *archive);

/* Shows life, at most once a second; EST_E_CONFLICT when the job is lost. */
int batch_alive(struct batch_job *job);

#endif
