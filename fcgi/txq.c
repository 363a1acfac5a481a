/*
 * The writer thread and the jobs it commits (txq.h).
 *
 * The writer takes whatever jobs are queued, up to TXQ_GROUP_MAX, and
 * commits them in one transaction; requests that arrive meanwhile make
 * the next group.  It passes the jobs on to the answering thread, which
 * makes and sends their responses while the writer commits the next
 * group.  Nothing waits to fill a group: with one request at a
 * time each is committed at once, as before, and the groups grow with the
 * load.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "resp.h"
#include "txq.h"

/* Jobs in order, with the condition that says some are there. */
struct jobq {
	struct txjob *head, **tail;
	size_t len;
	pthread_cond_t nonempty;
};

struct txq {
	struct hctx ctx; /* the writer's connections */
	txq_deliver_fn deliver;
	size_t max_queued;
	pthread_t writer, answerer;
	int answerer_started, writer_failed;
	pthread_mutex_t mtx; /* guards both queues and stopping */
	pthread_cond_t nonfull;
	struct jobq in;	  /* to commit */
	struct jobq done; /* to answer */
	int stopping;	  /* 1: the writer ends; 2: the answerer too */
};

static void
jobq_init(struct jobq *jq)
{
	jq->head = NULL;
	jq->tail = &jq->head;
	jq->len = 0;
	pthread_cond_init(&jq->nonempty, NULL);
}

static void
jobq_push(struct jobq *jq, struct txjob *j)
{
	j->next = NULL;
	*jq->tail = j;
	jq->tail = &j->next;
	jq->len++;
	pthread_cond_signal(&jq->nonempty);
}

/* Up to max jobs off the front of jq into jobs; their number. */
static size_t
jobq_take(struct jobq *jq, struct txjob **jobs, size_t max)
{
	size_t n;

	for (n = 0; n < max && jq->head != NULL; n++) {
		jobs[n] = jq->head;
		jq->head = jq->head->next;
	}
	if (jq->head == NULL)
		jq->tail = &jq->head;
	jq->len -= n;
	return n;
}

void
txq_defer(struct hctx *c, struct txjob *j)
{
	if (c->job != NULL)
		c->job->ops->free(c->job);
	c->job = j;
}

/* j's answer to r in rs, an error response when it has none. */
static int
answer(struct txjob *j, int r, struct resp *rs)
{
	int ar;

	if ((ar = j->ops->answer(j, r, rs)) != 0) {
		resp_reset(rs);
		if (resp_error(rs, 0, ar, NULL) != 0)
			log_err("no error response for a committed request");
		log_warn("deferred write: %d %s", resp_status(rs),
			 est_err_name(ar));
	}
	j->ops->free(j);
	return ar;
}

/* j's writes in a transaction of their own: 0 when it committed. */
static int
write_alone(struct hctx *c, struct txjob *j, int implicit)
{
	struct db *db;
	int r;

	if ((r = ctx_db(c, &db)) == 0 &&
	    (r = implicit ? db_begin_implicit(db) : db_begin(db)) == 0) {
		if ((r = j->ops->write(&j, 1, c, 1)) == 0)
			r = db_commit(db);
		else
			db_rollback(db);
	}
	ctx_after_error(c, r);
	return r;
}

int
txq_run(struct hctx *c, struct txjob *j, struct resp *rs)
{
	return answer(j, write_alone(c, j, 0), rs);
}

/*
 * The writes of the jobs at the front of jobs (n of them) that have the
 * same ops, k in number, in the open transaction.
 */
static int
write_run(struct hctx *c, struct txjob **jobs, size_t n, size_t *k)
{
	const struct txjob_ops *ops = jobs[0]->ops;
	size_t i;
	int r = 0;

	for (*k = 1; *k < n && jobs[*k]->ops == ops; (*k)++)
		;
	if (ops->many)
		return ops->write(jobs, *k, c, 0);
	for (i = 0; i < *k && r == 0; i++)
		r = ops->write(&jobs[i], 1, c, 0);
	return r;
}

/*
 * The jobs of one group: written in one transaction and answered once it
 * commits.  When a write fails, the group rolls back and each job runs
 * again alone.  When the COMMIT itself fails, whether it took effect is
 * not known, so no job is written again: each answers the error.  A group
 * of one runs alone at once.
 */
static void
run_group(struct txq *q, struct txjob **jobs, size_t n)
{
	struct db *db = NULL;
	size_t i, k;
	int r = 0, shared = 0;

	if (n > 1 && (r = ctx_db(&q->ctx, &db)) == 0 &&
	    (r = db_begin_implicit(db)) == 0) {
		for (i = 0; i < n && r == 0; i += k)
			r = write_run(&q->ctx, jobs + i, n - i, &k);
		if (r == 0) {
			shared = 1;
			r = db_commit(db);
		} else {
			db_rollback(db);
		}
		ctx_after_error(&q->ctx, r);
	}
	for (i = 0; i < n; i++)
		jobs[i]->result = shared ? r : write_alone(&q->ctx, jobs[i], 1);
	pthread_mutex_lock(&q->mtx);
	for (i = 0; i < n; i++)
		jobq_push(&q->done, jobs[i]);
	pthread_mutex_unlock(&q->mtx);
}

/*
 * A thread's loop: takes up to max jobs of jq when there are any, runs
 * fn on them; ends when jq is empty and stopping has reached level.
 */
static void
serve_queue(struct txq *q, struct jobq *jq, size_t max, int level,
	    void (*fn)(struct txq *, struct txjob **, size_t))
{
	struct txjob *jobs[TXQ_GROUP_MAX];
	size_t n;

	for (;;) {
		pthread_mutex_lock(&q->mtx);
		while (jq->head == NULL && q->stopping < level)
			pthread_cond_wait(&jq->nonempty, &q->mtx);
		if (jq->head == NULL) {
			pthread_mutex_unlock(&q->mtx);
			break;
		}
		n = jobq_take(jq, jobs, max);
		if (jq == &q->in)
			pthread_cond_broadcast(&q->nonfull);
		pthread_mutex_unlock(&q->mtx);
		fn(q, jobs, n);
	}
}

static void
answer_jobs(struct txq *q, struct txjob **jobs, size_t n)
{
	struct resp *rs;
	void *conn;
	size_t i;

	for (i = 0; i < n; i++) {
		rs = jobs[i]->rs;
		conn = jobs[i]->conn;
		(void)answer(jobs[i], jobs[i]->result, rs);
		q->deliver(conn, rs);
	}
}

static void *
writer_main(void *arg)
{
	struct txq *q = arg;

	serve_queue(q, &q->in, TXQ_GROUP_MAX, 1, run_group);
	return NULL;
}

static void *
answerer_main(void *arg)
{
	struct txq *q = arg;

	serve_queue(q, &q->done, TXQ_GROUP_MAX, 2, answer_jobs);
	return NULL;
}

int
txq_start(const struct conf *conf, void *state, txq_deliver_fn fn,
	  size_t max_queued, struct txq **out)
{
	struct txq *q;
	int r;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return EST_E_NOMEM;
	q->ctx.conf = conf;
	q->ctx.state = state;
	q->deliver = fn;
	q->max_queued = max_queued > 0 ? max_queued : 1;
	pthread_mutex_init(&q->mtx, NULL);
	pthread_cond_init(&q->nonfull, NULL);
	jobq_init(&q->in);
	jobq_init(&q->done);
	if ((r = pthread_create(&q->answerer, NULL, answerer_main, q)) == 0) {
		q->answerer_started = 1;
		r = pthread_create(&q->writer, NULL, writer_main, q);
	}
	if (r != 0) {
		log_err("cannot start the writer threads: %s", strerror(r));
		q->writer_failed = 1;
		txq_stop(q);
		return EST_E_NOMEM;
	}
	*out = q;
	return 0;
}

void
txq_submit(struct txq *q, struct txjob *j, struct resp *rs, void *conn)
{
	j->rs = rs;
	j->conn = conn;
	pthread_mutex_lock(&q->mtx);
	while (q->in.len >= q->max_queued)
		pthread_cond_wait(&q->nonfull, &q->mtx);
	jobq_push(&q->in, j);
	pthread_mutex_unlock(&q->mtx);
}

/* Sets the stop level and wakes the thread that waits on jq. */
static void
stop_level(struct txq *q, struct jobq *jq, int level)
{
	pthread_mutex_lock(&q->mtx);
	q->stopping = level;
	pthread_cond_signal(&jq->nonempty);
	pthread_mutex_unlock(&q->mtx);
}

void
txq_stop(struct txq *q)
{
	if (q == NULL)
		return;
	/* The writer first: what it commits last still needs answers. */
	stop_level(q, &q->in, 1);
	if (!q->writer_failed)
		pthread_join(q->writer, NULL);
	stop_level(q, &q->done, 2);
	if (q->answerer_started)
		pthread_join(q->answerer, NULL);
	ctx_close(&q->ctx);
	pthread_cond_destroy(&q->in.nonempty);
	pthread_cond_destroy(&q->done.nonempty);
	pthread_cond_destroy(&q->nonfull);
	pthread_mutex_destroy(&q->mtx);
	free(q);
}
