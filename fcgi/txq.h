/*
 * Group commit for the FastCGI programs: a request whose handler has done
 * all its work but its writes hands them over as a job, and the program's
 * writer thread commits the jobs of several requests in one transaction,
 * then answers each request.  The request threads go on to their next
 * request meanwhile, so none waits for another's writes, and the fixed
 * costs of a transaction (START, the audit chain's head lock, COMMIT with
 * its log flush) are shared by the group.
 *
 * A job is the writes of one request and its answer:
 *
 *   write()   the statements of jobs[0..n-1], inside a transaction
 *             that other jobs of the group share (alone 0) or that one
 *             job (n 1) has to itself (alone 1).  With many set, n jobs
 *             of these ops that follow each other in a group come at
 *             once (up to TXQ_GROUP_MAX, for multi-row statements);
 *             otherwise n is always 1.  A failure rolls the whole group
 *             back and every job of it runs again alone, so that one
 *             request's failure (a serial number collision, a lost
 *             connection, a deadlock) is nobody else's; a job may
 *             answer an error in a group that it would handle alone
 *             (EST_E_EXISTS: sign again).  write() runs once per
 *             transaction a job is part of and must leave nothing
 *             behind that a rollback would make wrong.
 *   answer()  its response after the commit (r 0) or the failure r: 0,
 *             or an error that becomes the program's error response
 *             (5xx) as a handler's would.
 *   free()    frees it; called once, after answer().
 *
 * A job holds copies of everything it needs: the request, the principal,
 * the thread's caches and connections are gone or reused when it runs.
 *
 * A handler hands its job over with txq_defer() and returns 0 without a
 * response; dispatch() leaves the job in the hctx.  Where the caller
 * cannot pass the request on (a web server that keeps its FastCGI
 * connection for the next request, group commit turned off), it runs the
 * job at once on the thread's own connection with txq_run(), so handlers
 * need not know which happens.
 */
#ifndef ESTUARY_TXQ_H
#define ESTUARY_TXQ_H

#include <stddef.h>

struct conf;
struct hctx;
struct resp;
struct txjob;

struct txjob_ops {
	int (*write)(struct txjob **jobs, size_t n, struct hctx *c, int alone);
	int many;
	int (*answer)(struct txjob *j, int r, struct resp *rs);
	void (*free)(struct txjob *j);
};

/* The first member of a job; the rest is the handler's. */
struct txjob {
	const struct txjob_ops *ops;
	/* The queue's, from txq_submit() on. */
	struct txjob *next;
	struct resp *rs;
	void *conn;
	int result; /* of its transaction */
};

/* The most jobs committed in one transaction. */
#define TXQ_GROUP_MAX 16 /* DB_MULTI_MAX of db/db.h */

/* A handler's hand-over: j is c's until dispatch() returns. */
void txq_defer(struct hctx *c, struct txjob *j);

/*
 * Runs j in a transaction of its own on c's database connection, leaves
 * its answer in rs (an error response when it failed) and frees j.  A
 * write that failed has dropped the connection at fault already; the
 * result is the error of the answer itself (the handler's error for
 * dispatch()), 0 when j answered.
 */
int txq_run(struct hctx *c, struct txjob *j, struct resp *rs);

/*
 * The writer thread of a program, and the thread that answers what it
 * committed (so that the writer's next group need not wait for the
 * answers of the last).  deliver(conn, rs) sends a finished response on
 * the connection a job was submitted with; it owns rs.  At
 * most max_queued jobs wait: txq_submit() blocks the submitting thread
 * while the queue is full.
 */
struct txq;
typedef void (*txq_deliver_fn)(void *conn, struct resp *rs);
int txq_start(const struct conf *conf, void *state, txq_deliver_fn deliver,
	      size_t max_queued, struct txq **out);
/* Queues j, whose answer goes into rs and then to deliver(conn, rs). */
void txq_submit(struct txq *q, struct txjob *j, struct resp *rs, void *conn);
/* Commits and answers what is queued, stops the thread, frees q. */
void txq_stop(struct txq *q);

#endif
