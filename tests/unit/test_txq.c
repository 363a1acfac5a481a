/*
 * Tests of the writer thread (fcgi/txq.c) against the real MariaDB that
 * run-txq-tests.sh starts (through run-db-tests.sh).  The jobs are fakes
 * whose writes are real: each inserts a tenant of a name of its own, as
 * the application's account, on the connection the queue gives it, so
 * that what was committed, rolled back or written twice shows in the
 * table (tenant names are unique: a second write of a committed row
 * fails).  Their ops record every call; their answers carry their
 * number in a header, so that the delivery callback can tell that each
 * response reached its own connection.
 *
 * Nothing waits by sleeping: the delivery callback signals a condition
 * that the tests wait on with a deadline, and a "gate" job holds the
 * writer inside its write until the test has queued what it wants the
 * writer to find at once, which makes the groups deterministic.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "conf.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "harness.h"
#include "resp.h"
#include "txq.h"

#define NSLOTS 64
#define WAIT_SECONDS 30
#define LOG_MAX 128
/* The error of a job that always fails, and the status it answers. */
#define FAIL_ERR EST_E_UNPROCESSABLE
#define FAIL_STATUS 422

static struct conf *conf;
static struct db *admin, *db;

/* What the queue did with one job; conn of its submission. */
struct slot {
	size_t no;
	int delivered; /* deliver() calls with this conn */
	int status;    /* of the response delivered */
	int header_ok; /* 1: the response carried this job's number */
	int answered;  /* answer() calls */
	int answer_r;  /* the r answer() was given */
	int freed;     /* free() calls */
};

enum fmode {
	J_OK,	       /* writes its row */
	J_FAIL_SHARED, /* fails in a shared transaction, not alone */
	J_FAIL_ALWAYS, /* writes its row, then fails */
	J_GATE,	       /* waits for the gate, then writes its row */
};

struct fjob {
	struct txjob j; /* first */
	struct slot *s;
	enum fmode mode;
	char name[32];
};

/*
 * Everything the threads share, under mtx: the slots, the calls of write()
 * made (calls[]: n > 1 for n jobs at once, 0 for one job with alone 0, -1
 * for one with alone 1, -2 for several jobs of ops without many: never
 * right), the gate.
 */
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct slot slots[NSLOTS];
static int ndelivered;
static int calls[LOG_MAX];
static size_t ncalls;
static int gate_entered, gate_open;
/* The cases' names are numbered on from this: "txqNN-MMM". */
static int case_no;

static struct timespec
deadline(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_SECONDS;
	return ts;
}

/* Waits (bounded) under mtx until *flag reaches want; 1 when it did. */
static int
wait_for(const int *flag, int want)
{
	struct timespec ts = deadline();
	int r = 0, ok;

	pthread_mutex_lock(&mtx);
	while (*flag < want && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&cv, &mtx, &ts);
	ok = *flag >= want;
	pthread_mutex_unlock(&mtx);
	return ok;
}

static void
record_call(int what)
{
	pthread_mutex_lock(&mtx);
	if (ncalls < LOG_MAX)
		calls[ncalls] = what;
	ncalls++;
	pthread_mutex_unlock(&mtx);
}

static void
gate_release(void)
{
	pthread_mutex_lock(&mtx);
	gate_open = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mtx);
}

/* Holds the writer until the test opens the gate (bounded). */
static void
gate_pass(void)
{
	struct timespec ts = deadline();
	int r = 0;

	pthread_mutex_lock(&mtx);
	gate_entered = 1;
	pthread_cond_broadcast(&cv);
	while (!gate_open && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&cv, &mtx, &ts);
	pthread_mutex_unlock(&mtx);
}

/* A new case: fresh slots, calls, gate and names. */
static void
reset(void)
{
	size_t i;

	pthread_mutex_lock(&mtx);
	memset(slots, 0, sizeof(slots));
	for (i = 0; i < NSLOTS; i++)
		slots[i].no = i;
	ndelivered = 0;
	ncalls = 0;
	gate_entered = gate_open = 0;
	case_no++;
	pthread_mutex_unlock(&mtx);
}

/* --- the fake jobs -------------------------------------------------------- */

static int
insert_row(struct fjob *f, struct hctx *c)
{
	struct db *d;
	int64_t id;
	int r;

	if ((r = ctx_db(c, &d)) != 0)
		return r;
	return db_tenant_create(d, f->name, NULL, &id);
}

/* One job's writes, shared (alone 0) or not. */
static int
fj_write_one(struct fjob *f, struct hctx *c, int alone)
{
	int r;

	if (f->mode == J_GATE)
		gate_pass();
	if (f->mode == J_FAIL_SHARED && !alone)
		return EST_E_EXISTS;
	if ((r = insert_row(f, c)) != 0)
		return r;
	return f->mode == J_FAIL_ALWAYS ? FAIL_ERR : 0;
}

static int
fj_write(struct txjob **jobs, size_t n, struct hctx *c, int alone)
{
	size_t i;
	int r = 0;

	if (n > 1 && !jobs[0]->ops->many)
		record_call(-2);
	else
		record_call(alone ? -1 : n > 1 ? (int)n : 0);
	for (i = 0; i < n && r == 0; i++)
		r = fj_write_one((struct fjob *)jobs[i], c, alone);
	return r;
}

static int
fj_answer(struct txjob *j, int r, struct resp *rs)
{
	struct fjob *f = (struct fjob *)j;
	char no[24];

	pthread_mutex_lock(&mtx);
	f->s->answered++;
	f->s->answer_r = r;
	pthread_mutex_unlock(&mtx);
	if (r != 0)
		return r;
	snprintf(no, sizeof(no), "%zu", f->s->no);
	if ((r = resp_header(rs, "X-Job", no)) != 0)
		return r;
	return resp_empty(rs, 204);
}

static void
fj_free(struct txjob *j)
{
	struct fjob *f = (struct fjob *)j;

	pthread_mutex_lock(&mtx);
	f->s->freed++;
	pthread_mutex_unlock(&mtx);
	free(f);
}

static const struct txjob_ops ops_many = {fj_write, 1, fj_answer, fj_free};
static const struct txjob_ops ops_single = {fj_write, 0, fj_answer, fj_free};

static struct fjob *
fjob_new(size_t no, const struct txjob_ops *ops, enum fmode mode)
{
	struct fjob *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->j.ops = ops;
	f->s = &slots[no];
	f->mode = mode;
	snprintf(f->name, sizeof(f->name), "txq%02d-%03zu", case_no, no);
	return f;
}

/* The delivery callback: records what reached conn (a slot). */
static void
deliver(void *conn, struct resp *rs)
{
	struct slot *s = conn;
	const char *h = resp_get_header(rs, "X-Job");
	char no[24];

	snprintf(no, sizeof(no), "%zu", s->no);
	pthread_mutex_lock(&mtx);
	s->delivered++;
	s->status = resp_status(rs);
	s->header_ok = h != NULL && strcmp(h, no) == 0;
	ndelivered++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mtx);
	resp_free(rs);
}

/* Submits job no of ops and mode to q; 0 when it could be made. */
static int
submit(struct txq *q, size_t no, const struct txjob_ops *ops, enum fmode mode)
{
	struct fjob *f;
	struct resp *rs;

	if ((f = fjob_new(no, ops, mode)) == NULL)
		return -1;
	if ((rs = resp_new(RESP_API)) == NULL) {
		free(f);
		return -1;
	}
	txq_submit(q, &f->j, rs, &slots[no]);
	return 0;
}

/* Submits the gate job as slot 0 and waits until the writer holds it. */
static int
submit_gate(struct txq *q)
{
	return submit(q, 0, &ops_many, J_GATE) == 0 &&
	       wait_for(&gate_entered, 1);
}

/* --- what the database holds ---------------------------------------------- */

static const struct db_stmt_def count_def = {
	"txq_count", "SELECT COUNT(*) FROM tenants WHERE name LIKE ?", 1};

/* The rows this case wrote; -1 on error. */
static int64_t
count_rows(void)
{
	struct db_result *res = NULL;
	struct db_param p;
	char like[16];
	int64_t n = -1;

	snprintf(like, sizeof(like), "txq%02d-%%", case_no);
	p = DB_STRN(like, strlen(like));
	if (db_query_one(db, &count_def, &p, 1, &res) == 0)
		n = db_result_i64(res, 0, 0);
	db_result_free(res);
	return n;
}

/* 1 when the row of job no of this case is there. */
static int
row_exists(size_t no)
{
	char name[32];
	int64_t id;

	snprintf(name, sizeof(name), "txq%02d-%03zu", case_no, no);
	return db_tenant_find(db, name, &id) == 0;
}

/*
 * Slots 0..n-1 each delivered, answered and freed exactly once; failed
 * (or n when none) answered FAIL_STATUS, the others 204 with their own
 * number.  The number of slots that do not match.
 */
static size_t
slots_wrong(size_t n, size_t failed)
{
	size_t i, wrong = 0;
	struct slot *s;

	pthread_mutex_lock(&mtx);
	for (i = 0; i < NSLOTS; i++) {
		s = &slots[i];
		if (i >= n) {
			wrong += s->delivered != 0 || s->freed != 0;
			continue;
		}
		if (s->delivered != 1 || s->answered != 1 || s->freed != 1)
			wrong++;
		else if (i == failed)
			wrong += s->status != FAIL_STATUS ||
				 s->answer_r != FAIL_ERR || s->header_ok;
		else
			wrong += s->status != 204 || s->answer_r != 0 ||
				 !s->header_ok;
	}
	pthread_mutex_unlock(&mtx);
	return wrong;
}

/* The calls made since call number from, as a string ("-1 16 0"). */
static void
calls_str(size_t from, char *out, size_t len)
{
	size_t i, o = 0;

	out[0] = '\0';
	pthread_mutex_lock(&mtx);
	for (i = from; i < ncalls && i < LOG_MAX && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%d",
				      i > from ? " " : "", calls[i]);
	pthread_mutex_unlock(&mtx);
}

/* --- submitting threads --------------------------------------------------- */

struct submitter {
	pthread_t tid;
	struct txq *q;
	const struct txjob_ops *ops;
	size_t first, n;
	int failed;
};

static void *
submitter_main(void *arg)
{
	struct submitter *sb = arg;
	size_t i;

	for (i = 0; i < sb->n; i++)
		if (submit(sb->q, sb->first + i, sb->ops, J_OK) != 0)
			sb->failed++;
	return NULL;
}

/*
 * 4 threads submit 10 jobs each, as slots first..first+39, of ops (NULL:
 * threads 0 and 2 ops_many, 1 and 3 ops_single); 0 when all were made.
 */
static int
submit_four(struct txq *q, const struct txjob_ops *ops, size_t first)
{
	struct submitter sb[4];
	size_t i;
	int started = 0, bad = 0;

	for (i = 0; i < 4; i++) {
		sb[i].q = q;
		sb[i].ops = ops != NULL ? ops : i % 2 ? &ops_single : &ops_many;
		sb[i].first = first + 10 * i;
		sb[i].n = 10;
		sb[i].failed = 0;
		if (pthread_create(&sb[i].tid, NULL, submitter_main, &sb[i]) !=
		    0)
			break;
		started++;
	}
	for (i = 0; i < (size_t)started; i++) {
		pthread_join(sb[i].tid, NULL);
		bad += sb[i].failed;
	}
	return started == 4 && bad == 0 ? 0 : -1;
}

/* --- tests ---------------------------------------------------------------- */

/*
 * 40 jobs from 4 threads while the writer is held: it then finds them
 * all queued, so it commits them in groups (of at most TXQ_GROUP_MAX);
 * every job is written once, in a shared transaction, and delivered once
 * to its own connection.
 */
static void
burst(const struct txjob_ops *ops)
{
	struct txq *q = NULL;
	size_t i, shared = 0, alone = 0, many = 0, in_many = 0;
	int max = 0;

	reset();
	CU_ASSERT_EQUAL_FATAL(txq_start(conf, NULL, deliver, 64, &q), 0);
	CU_ASSERT_FATAL(submit_gate(q));
	CU_ASSERT_EQUAL(submit_four(q, ops, 1), 0);
	gate_release();
	CU_ASSERT(wait_for(&ndelivered, 41));
	txq_stop(q);
	CU_ASSERT_EQUAL(slots_wrong(41, NSLOTS), 0);
	CU_ASSERT_EQUAL(count_rows(), 41);
	pthread_mutex_lock(&mtx);
	for (i = 0; i < ncalls && i < LOG_MAX; i++) {
		if (calls[i] > 0) {
			many++;
			in_many += (size_t)calls[i];
			max = calls[i] > max ? calls[i] : max;
		}
		shared += calls[i] == 0;
		alone += calls[i] == -1;
	}
	pthread_mutex_unlock(&mtx);
	/* Only the gate job, taken on its own, ran alone. */
	CU_ASSERT_EQUAL(alone, 1);
	if (ops == &ops_many) {
		CU_ASSERT(max > 1 && max <= TXQ_GROUP_MAX);
		CU_ASSERT(many >= (40 + TXQ_GROUP_MAX - 1) / TXQ_GROUP_MAX);
		CU_ASSERT_EQUAL(in_many, 40);
		CU_ASSERT_EQUAL(shared, 0);
	} else {
		CU_ASSERT_EQUAL(many, 0);
		CU_ASSERT_EQUAL(shared, 40);
	}
}

static void
test_burst_many(void)
{
	burst(&ops_many);
}

static void
test_burst_single(void)
{
	burst(&ops_single);
}

/*
 * 40 jobs of both kinds from 4 threads through a queue of 2: the
 * submitters block while it is full and every job still arrives once.
 */
static void
test_backpressure(void)
{
	struct txq *q = NULL;

	reset();
	CU_ASSERT_EQUAL_FATAL(txq_start(conf, NULL, deliver, 2, &q), 0);
	CU_ASSERT_EQUAL(submit_four(q, NULL, 0), 0);
	CU_ASSERT(wait_for(&ndelivered, 40));
	txq_stop(q);
	CU_ASSERT_EQUAL(slots_wrong(40, NSLOTS), 0);
	CU_ASSERT_EQUAL(count_rows(), 40);
}

/*
 * One group of jobs of two kinds in turn: each run of jobs of the kind
 * with many is written by one write() of the run, and the jobs of the
 * kind without it one write() each (alone 0), in order.
 */
static void
test_runs_of_kinds(void)
{
	static const int many[] = {1, 1, 1, 0, 0, 1, 1, 0, 1};
	char got[128];
	struct txq *q = NULL;
	size_t i;
	int bad = 0;

	reset();
	CU_ASSERT_EQUAL_FATAL(txq_start(conf, NULL, deliver, 64, &q), 0);
	CU_ASSERT_FATAL(submit_gate(q));
	for (i = 0; i < sizeof(many) / sizeof(many[0]); i++)
		bad += submit(q, i + 1, many[i] ? &ops_many : &ops_single,
			      J_OK) != 0;
	CU_ASSERT_EQUAL(bad, 0);
	gate_release();
	CU_ASSERT(wait_for(&ndelivered, 10));
	txq_stop(q);
	CU_ASSERT_EQUAL(slots_wrong(10, NSLOTS), 0);
	CU_ASSERT_EQUAL(count_rows(), 10);
	calls_str(0, got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, "-1 3 0 0 2 0 0");
}

/*
 * Six jobs in one group behind the gate, job fail (1..6) of mode: each
 * job answered and freed once, fail with its error when it fails alone
 * too and the others 204; the rows of the jobs that succeeded, once
 * each (a second write of a committed row would have failed, and the
 * count is exact), and not the failed one's; the calls the writer makes
 * after the gate's are want.
 */
static void
group_case(const struct txjob_ops *ops, size_t fail, enum fmode mode,
	   const char *want)
{
	int always = mode == J_FAIL_ALWAYS, bad = 0;
	struct txq *q = NULL;
	char got[128];
	size_t i;

	reset();
	CU_ASSERT_EQUAL_FATAL(txq_start(conf, NULL, deliver, 64, &q), 0);
	CU_ASSERT_FATAL(submit_gate(q));
	for (i = 1; i <= 6; i++)
		bad += submit(q, i, ops, i == fail ? mode : J_OK) != 0;
	CU_ASSERT_EQUAL(bad, 0);
	gate_release();
	CU_ASSERT(wait_for(&ndelivered, 7));
	txq_stop(q);
	CU_ASSERT_EQUAL(slots_wrong(7, always ? fail : NSLOTS), 0);
	CU_ASSERT_EQUAL(count_rows(), always ? 6 : 7);
	bad = 0;
	for (i = 1; i <= 6; i++)
		bad += row_exists(i) != !(always && i == fail);
	CU_ASSERT_EQUAL(bad, 0);
	calls_str(1, got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, want);
}

/*
 * A job that fails only in a shared transaction (a serial number taken
 * meanwhile): the group rolls back, and every job of it is written again
 * alone and succeeds.  One job a write(): jobs 1 and 2 were written
 * before 3 failed, and rolled back.
 */
static void
test_fails_in_group_many(void)
{
	group_case(&ops_many, 3, J_FAIL_SHARED, "6 -1 -1 -1 -1 -1 -1");
}

static void
test_fails_in_group_single(void)
{
	group_case(&ops_single, 3, J_FAIL_SHARED, "0 0 0 -1 -1 -1 -1 -1 -1");
}

/*
 * A job that always fails: its answer gets its error (422), its row is
 * rolled back, also when a job runs after it on the same connection; the
 * others of its group are committed and answered 204.
 */
static void
test_fails_always_many(void)
{
	group_case(&ops_many, 2, J_FAIL_ALWAYS, "6 -1 -1 -1 -1 -1 -1");
}

static void
test_fails_always_single(void)
{
	group_case(&ops_single, 4, J_FAIL_ALWAYS, "0 0 0 0 -1 -1 -1 -1 -1 -1");
}

/*
 * txq_run(): the job is written alone on the caller's connection,
 * answered into rs and freed; a failure answers its error and leaves no
 * row.  txq_defer() keeps the last job handed over and frees the one it
 * replaces; ctx_close() frees what is left.
 */
static void
test_run_and_defer(void)
{
	struct hctx c;
	struct resp *rs;
	struct fjob *f, *g;
	char got[64];
	int r;

	reset();
	memset(&c, 0, sizeof(c));
	c.conf = conf;
	CU_ASSERT_FATAL((rs = resp_new(RESP_API)) != NULL);
	CU_ASSERT_FATAL((f = fjob_new(1, &ops_many, J_OK)) != NULL);
	CU_ASSERT_EQUAL(txq_run(&c, &f->j, rs), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 204);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "X-Job"), "1");
	resp_free(rs);
	CU_ASSERT(row_exists(1));

	/* Alone, a job that fails only in a group succeeds. */
	CU_ASSERT_FATAL((rs = resp_new(RESP_API)) != NULL);
	CU_ASSERT_FATAL((f = fjob_new(2, &ops_single, J_FAIL_SHARED)) != NULL);
	CU_ASSERT_EQUAL(txq_run(&c, &f->j, rs), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 204);
	resp_free(rs);
	CU_ASSERT(row_exists(2));

	CU_ASSERT_FATAL((rs = resp_new(RESP_API)) != NULL);
	CU_ASSERT_FATAL((f = fjob_new(3, &ops_many, J_FAIL_ALWAYS)) != NULL);
	r = txq_run(&c, &f->j, rs);
	CU_ASSERT_EQUAL(resp_status(rs), FAIL_STATUS);
	CU_ASSERT_PTR_NULL(resp_get_header(rs, "X-Job"));
	resp_free(rs);
	CU_ASSERT_FALSE(row_exists(3));
	/*
	 * Nothing to drop: the connection is kept, and the next job's
	 * transaction on it does not take the failed one's row along.
	 */
	ctx_after_error(&c, r);
	CU_ASSERT_PTR_NOT_NULL(c.db);
	CU_ASSERT_FATAL((rs = resp_new(RESP_API)) != NULL);
	CU_ASSERT_FATAL((f = fjob_new(4, &ops_single, J_OK)) != NULL);
	CU_ASSERT_EQUAL(txq_run(&c, &f->j, rs), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 204);
	resp_free(rs);
	CU_ASSERT(row_exists(4));
	CU_ASSERT_FALSE(row_exists(3));

	CU_ASSERT_FATAL((f = fjob_new(5, &ops_many, J_OK)) != NULL);
	CU_ASSERT_FATAL((g = fjob_new(6, &ops_many, J_OK)) != NULL);
	txq_defer(&c, &f->j);
	CU_ASSERT_PTR_EQUAL(c.job, &f->j);
	txq_defer(&c, &g->j);
	CU_ASSERT_PTR_EQUAL(c.job, &g->j);
	pthread_mutex_lock(&mtx);
	CU_ASSERT_EQUAL(slots[5].freed, 1);
	CU_ASSERT_EQUAL(slots[6].freed, 0);
	pthread_mutex_unlock(&mtx);
	ctx_close(&c);
	CU_ASSERT_PTR_NULL(c.job);
	CU_ASSERT_PTR_NULL(c.db);

	pthread_mutex_lock(&mtx);
	CU_ASSERT(slots[1].answered == 1 && slots[1].freed == 1);
	CU_ASSERT(slots[2].answered == 1 && slots[2].freed == 1);
	CU_ASSERT(slots[3].answered == 1 && slots[3].freed == 1);
	CU_ASSERT_EQUAL(slots[3].answer_r, FAIL_ERR);
	CU_ASSERT(slots[4].answered == 1 && slots[4].freed == 1);
	/* Handed over but never run: freed, not answered. */
	CU_ASSERT(slots[5].answered == 0 && slots[5].freed == 1);
	CU_ASSERT(slots[6].answered == 0 && slots[6].freed == 1);
	CU_ASSERT_EQUAL(ndelivered, 0);
	pthread_mutex_unlock(&mtx);
	CU_ASSERT_EQUAL(count_rows(), 3);
	/* Each ran alone, once. */
	calls_str(0, got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, "-1 -1 -1 -1");
}

static void *
releaser_main(void *arg)
{
	(void)arg;
	gate_release();
	return NULL;
}

/*
 * txq_stop() while the writer is held with 30 jobs queued (the gate
 * opens from another thread as the stop begins): when it returns,
 * every job has been committed, answered and delivered.
 */
static void
test_stop_drains(void)
{
	struct txq *q = NULL;
	pthread_t rel;
	size_t i;
	int bad = 0, delivered, started;

	reset();
	CU_ASSERT_EQUAL_FATAL(txq_start(conf, NULL, deliver, 64, &q), 0);
	CU_ASSERT_FATAL(submit_gate(q));
	for (i = 1; i <= 30; i++)
		bad += submit(q, i, i % 3 ? &ops_many : &ops_single, J_OK) != 0;
	CU_ASSERT_EQUAL(bad, 0);
	started = pthread_create(&rel, NULL, releaser_main, NULL) == 0;
	if (!started)
		gate_release();
	txq_stop(q);
	pthread_mutex_lock(&mtx);
	delivered = ndelivered;
	pthread_mutex_unlock(&mtx);
	if (started)
		pthread_join(rel, NULL);
	CU_ASSERT_EQUAL(delivered, 31);
	CU_ASSERT_EQUAL(slots_wrong(31, NSLOTS), 0);
	CU_ASSERT_EQUAL(count_rows(), 31);
	/* An idle queue stops at once; none at all is no error. */
	CU_ASSERT_EQUAL_FATAL(txq_start(conf, NULL, deliver, 1, &q), 0);
	txq_stop(q);
	txq_stop(NULL);
}

/* --- suite ---------------------------------------------------------------- */

static int
run(const char *cmd)
{
	int st = system(cmd);

	return (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
}

static int
suite_init(void)
{
	const char *grant;
	char err[256];
	int applied = 0;

	if (getenv("ESTUARY_CONF") == NULL ||
	    getenv("ESTUARY_MIGRATIONS") == NULL ||
	    (grant = getenv("ESTUARY_TEST_DB_GRANT")) == NULL) {
		fprintf(stderr, "test_txq: run me through run-txq-tests.sh\n");
		return -1;
	}
	if (estuary_conf_load(getenv("ESTUARY_CONF"), &conf, err,
			      sizeof(err)) != 0 ||
	    db_connect(conf, DB_ROLE_ADMIN, &admin) != 0 ||
	    db_migrate(admin, getenv("ESTUARY_MIGRATIONS"), &applied) != 0 ||
	    run(grant) != 0 || db_connect(conf, DB_ROLE_APP, &db) != 0)
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	db_close(db);
	db_close(admin);
	conf_free(conf);
	return 0;
}

static CU_TestInfo tests[] = {
	{"burst, several jobs a write", test_burst_many},
	{"burst, one job a write", test_burst_single},
	{"backpressure", test_backpressure},
	{"runs of two kinds in a group", test_runs_of_kinds},
	{"fails in a group (several a write)", test_fails_in_group_many},
	{"fails in a group (write)", test_fails_in_group_single},
	{"always fails (several a write)", test_fails_always_many},
	{"always fails (write)", test_fails_always_single},
	{"txq_run and txq_defer", test_run_and_defer},
	{"stop drains the queue", test_stop_drains},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("writer thread", suite_init, suite_clean, tests);
}
