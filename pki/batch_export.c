/*
 * PKCS#12 files of batch items (batch_int.h), and the threads that make
 * them while the next items are issued.
 *
 * Why threads.  An item costs two things of about the same size: its
 * issuance (key pair, signature, the transaction) and its PKCS#12, whose
 * three PBKDF2 runs of 10,000 iterations (signer/wrap.c) take about 4 ms
 * of the signer's CPU and some more of waiting.  Issuing the next items
 * while the signer builds the PKCS#12 of the last ones, on connections
 * of their own, keeps both cores of a small machine busy: on the 2-vCPU
 * development machine, a job of 1,000 EC keys took about 10 s with the
 * files made in line and 6.5 to 8 s this way.  The threads only talk to the
 * signer and write files; the database stays with the runner, which
 * holds the connection.  Files are written after the item's commit
 * either way, so whatever the queue holds when the worker dies is made
 * again on resume (batch_repair()).
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "batch_int.h"
#include "cert.h"
#include "err.h"
#include "log.h"
#include "sigclient.h"
#include "util.h"

/* Items waiting for their PKCS#12: enough to ride out a slow one. */
#define QUEUE 32
/* Threads making PKCS#12 files, each with its own signer connection. */
#define THREADS 2

struct export_item {
	uint32_t idx;
	uint8_t *der;
	size_t derlen;
	uint8_t *wrapped;
	size_t wrappedlen;
};

struct batch_exporter;

struct export_thread {
	struct batch_exporter *ex;
	struct sigclient *sc;
	pthread_t tid;
	int started;
};

struct batch_exporter {
	struct batch_job *job;
	struct export_thread t[THREADS];
	pthread_mutex_t mtx;
	pthread_cond_t can_put, can_get;
	struct export_item q[QUEUE];
	size_t head, n;
	int closing;
	int err; /* the thread's first error; it stops then */
};

static int
export_with(struct batch_job *job, struct sigclient *sc, uint32_t idx,
	    const uint8_t *der, size_t derlen, const uint8_t *wrapped,
	    size_t wrappedlen, char **name_out)
{
	char name[BATCH_NAME_MAX];
	uint8_t *p12 = NULL;
	size_t p12len = 0;
	const char *pass;
	int r;

	if (idx == 0 || idx > job->total ||
	    (pass = batch_secrets_get(job->sec, idx)) == NULL)
		return EST_E_INTERNAL;
	if ((r = batch_p12_name(idx, der, derlen, name)) != 0 ||
	    (r = sigclient_export_wrapped(
		     sc, wrapped, wrappedlen, SIGNER_EXPORT_PKCS12, pass, der,
		     derlen, (const uint8_t *const *)job->chain.der,
		     job->chain.len, job->chain.n, &p12, &p12len)) != 0 ||
	    (r = batch_file_write(job->dir, name, p12, p12len)) != 0)
		goto out;
	if ((*name_out = strdup(name)) == NULL)
		r = EST_E_NOMEM;
out:
	freezero(p12, p12len);
	return r;
}

static void
set_name(struct batch_job *job, uint32_t idx, char *name)
{
	free(job->names[idx]);
	job->names[idx] = name;
}

int
batch_export(struct batch_job *job, uint32_t idx, int64_t cert_id,
	     const uint8_t *der, size_t derlen, const uint8_t *wrapped,
	     size_t wrappedlen)
{
	uint8_t *w = NULL;
	size_t wl = 0;
	char *name = NULL;
	int r;

	if (wrapped == NULL) {
		r = db_cert_wrapped_key(job->br->db, cert_id, &w, &wl);
		if (r == EST_E_NOTFOUND)
			return EST_E_GONE;
		if (r != 0)
			return r;
		wrapped = w;
		wrappedlen = wl;
	}
	r = export_with(job, job->br->sc, idx, der, derlen, wrapped, wrappedlen,
			&name);
	if (r == 0)
		set_name(job, idx, name);
	freezero(w, wl);
	return r;
}

/* ----- the thread ----- */

static void
item_clear(struct export_item *it)
{
	free(it->der);
	freezero(it->wrapped, it->wrappedlen);
	memset(it, 0, sizeof(*it));
}

static void *
exporter_main(void *arg)
{
	struct export_thread *th = arg;
	struct batch_exporter *ex = th->ex;
	struct export_item it;
	char *name;
	int r;

	for (;;) {
		pthread_mutex_lock(&ex->mtx);
		while (ex->n == 0 && !ex->closing)
			pthread_cond_wait(&ex->can_get, &ex->mtx);
		if (ex->n == 0 || ex->err != 0) {
			pthread_mutex_unlock(&ex->mtx);
			break;
		}
		it = ex->q[ex->head];
		memset(&ex->q[ex->head], 0, sizeof(ex->q[ex->head]));
		ex->head = (ex->head + 1) % QUEUE;
		ex->n--;
		pthread_cond_signal(&ex->can_put);
		pthread_mutex_unlock(&ex->mtx);

		name = NULL;
		r = export_with(ex->job, th->sc, it.idx, it.der, it.derlen,
				it.wrapped, it.wrappedlen, &name);
		pthread_mutex_lock(&ex->mtx);
		/* names[] is the runner's again only after the join. */
		if (r == 0)
			set_name(ex->job, it.idx, name);
		else if (ex->err == 0)
			ex->err = r;
		pthread_cond_signal(&ex->can_put);
		pthread_mutex_unlock(&ex->mtx);
		item_clear(&it);
	}
	return NULL;
}

static void
exporter_free(struct batch_exporter *ex)
{
	size_t i;

	for (i = 0; i < ex->n; i++)
		item_clear(&ex->q[(ex->head + i) % QUEUE]);
	for (i = 0; i < THREADS; i++)
		sigclient_free(ex->t[i].sc);
	pthread_cond_destroy(&ex->can_get);
	pthread_cond_destroy(&ex->can_put);
	pthread_mutex_destroy(&ex->mtx);
	free(ex);
}

/* Stops and joins the threads that run; the queue is emptied first. */
static void
exporter_stop(struct batch_exporter *ex)
{
	size_t i;

	pthread_mutex_lock(&ex->mtx);
	ex->closing = 1;
	pthread_cond_broadcast(&ex->can_get);
	pthread_mutex_unlock(&ex->mtx);
	for (i = 0; i < THREADS; i++)
		if (ex->t[i].started)
			pthread_join(ex->t[i].tid, NULL);
}

int
batch_exporter_start(struct batch_job *job, const char *signer_socket,
		     struct batch_exporter **out)
{
	struct batch_exporter *ex;
	sigset_t all, old;
	size_t i;
	int r = 0;

	if ((ex = calloc(1, sizeof(*ex))) == NULL)
		return EST_E_NOMEM;
	ex->job = job;
	pthread_mutex_init(&ex->mtx, NULL);
	pthread_cond_init(&ex->can_put, NULL);
	pthread_cond_init(&ex->can_get, NULL);
	for (i = 0; r == 0 && i < THREADS; i++) {
		ex->t[i].ex = ex;
		r = sigclient_connect(signer_socket, &ex->t[i].sc);
	}
	/* Signals stay with the runner's thread, which acts on them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; r == 0 && i < THREADS; i++) {
		if (pthread_create(&ex->t[i].tid, NULL, exporter_main,
				   &ex->t[i]) != 0)
			r = EST_E_NOMEM;
		else
			ex->t[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		exporter_stop(ex);
		exporter_free(ex);
		return r;
	}
	*out = ex;
	return 0;
}

int
batch_exporter_put(struct batch_exporter *ex, uint32_t idx, const uint8_t *der,
		   size_t derlen, const uint8_t *wrapped, size_t wrappedlen)
{
	struct export_item it;
	int r;

	memset(&it, 0, sizeof(it));
	it.idx = idx;
	if ((it.der = malloc(derlen)) == NULL ||
	    (it.wrapped = malloc(wrappedlen)) == NULL) {
		item_clear(&it);
		return EST_E_NOMEM;
	}
	memcpy(it.der, der, derlen);
	it.derlen = derlen;
	memcpy(it.wrapped, wrapped, wrappedlen);
	it.wrappedlen = wrappedlen;
	pthread_mutex_lock(&ex->mtx);
	while (ex->n == QUEUE && ex->err == 0)
		pthread_cond_wait(&ex->can_put, &ex->mtx);
	if ((r = ex->err) == 0) {
		ex->q[(ex->head + ex->n) % QUEUE] = it;
		ex->n++;
		pthread_cond_signal(&ex->can_get);
	}
	pthread_mutex_unlock(&ex->mtx);
	if (r != 0)
		item_clear(&it);
	return r;
}

int
batch_exporter_finish(struct batch_exporter *ex)
{
	int r;

	if (ex == NULL)
		return 0;
	exporter_stop(ex);
	/* After an error the rest of the queue waits for batch_repair(). */
	if ((r = ex->err) != 0)
		log_err("batch job %lld: a PKCS#12 could not be made: %s",
			(long long)ex->job->id, est_strerror(r));
	exporter_free(ex);
	return r;
}
