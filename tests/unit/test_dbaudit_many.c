/*
 * db_audit_append_many() (db/audit.c) against a real server: several rows
 * in one statement chain as single appends do, alone or mixed with them,
 * rolled back, refused, and from two processes at once.  Part of
 * unit/test_db; see test_db.c for the environment.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "harness.h"
#include "test_db.h"

static const struct db_stmt_def m_stmts[] = {
#define M_HEAD 0
	{"m_head",
	 "SELECT last_id, last_hash, nrows FROM audit_head WHERE id = 1", 0},
#define M_LAST_ROW 1
	{"m_last_row",
	 "SELECT id, row_hash FROM audit_log ORDER BY id DESC LIMIT 1", 0},
#define M_LOG_COUNT 2
	{"m_log_count", "SELECT COUNT(*) FROM audit_log", 0},
#define M_ENTITIES 3
	{"m_entities",
	 "SELECT entity_id FROM audit_log WHERE id > ? ORDER BY id", 1},
#define M_ACTOR_COUNT 4
	{"m_actor_count", "SELECT COUNT(*) FROM audit_log WHERE actor_name = ?",
	 1},
};

/* --- db_audit_append_many --- */

struct head {
	uint64_t last_id, nrows;
	uint8_t hash[AUDIT_HASH_LEN];
};

static int
head_read(struct head *h)
{
	struct db_result *res = NULL;
	const char *s;
	size_t len = 0;

	memset(h, 0, sizeof(*h));
	if (db_query_one(tdb_admin, &m_stmts[M_HEAD], NULL, 0, &res) != 0)
		return -1;
	h->last_id = (uint64_t)db_result_i64(res, 0, 0);
	h->nrows = (uint64_t)db_result_i64(res, 0, 2);
	s = db_result_str(res, 0, 1, &len);
	if (s != NULL && len == AUDIT_HASH_LEN)
		memcpy(h->hash, s, len);
	db_result_free(res);
	return s != NULL && len == AUDIT_HASH_LEN ? 0 : -1;
}

static int
head_same(const struct head *a, const struct head *b)
{
	return a->last_id == b->last_id && a->nrows == b->nrows &&
	       memcmp(a->hash, b->hash, AUDIT_HASH_LEN) == 0;
}

static int64_t
log_rows(void)
{
	return tdb_count(&m_stmts[M_LOG_COUNT], NULL, 0);
}

/*
 * The chain verifies with nrows rows, the head counts them, and the last
 * row is the head's: its id and its hash.
 */
static int
chain_ok(uint64_t nrows)
{
	struct audit_verify v;
	struct db_result *res = NULL;
	struct head h;
	int ok;

	memset(&v, 0xff, sizeof(v));
	if (db_audit_verify_full(tdb_app, &v) != 0 || head_read(&h) != 0 ||
	    db_query_one(tdb_admin, &m_stmts[M_LAST_ROW], NULL, 0, &res) != 0)
		return 0;
	ok = v.status == AUDIT_INTACT && v.nrows == nrows && h.nrows == nrows &&
	     v.last_id == h.last_id &&
	     memcmp(v.last_hash, h.hash, AUDIT_HASH_LEN) == 0 &&
	     (uint64_t)db_result_i64(res, 0, 0) == h.last_id &&
	     tdb_col_is(res, 1, h.hash, AUDIT_HASH_LEN) &&
	     log_rows() == (int64_t)nrows;
	db_result_free(res);
	return ok;
}

/* Event e: entity_id e + 1, so that the rows' order can be read back. */
static void
ev_init(struct audit_event *ev, const char *actor, int e)
{
	memset(ev, 0, sizeof(*ev));
	ev->actor_type = AUDIT_ACTOR_APPLICATION;
	ev->actor_id = 5;
	ev->actor_name = actor;
	ev->tenant_id = 3;
	ev->entity = "certificate";
	ev->entity_id = e + 1;
	ev->entity_name = "CN=multi";
	ev->action = "issue";
	ev->outcome = AUDIT_SUCCESS;
	ev->source_addr = e % 2 ? "2001:db8::7" : "192.0.2.7";
	ev->details = "{\"after\":{\"serial\":\"4d00\"}}";
}

/* Events first .. first + n - 1 into ev, pointed at by evp. */
static void
evs_init(struct audit_event *ev, const struct audit_event **evp,
	 const char *actor, int first, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ev_init(&ev[i], actor, first + (int)i);
		evp[i] = &ev[i];
	}
}

/* The rows after id after hold events first, first + 1, ... (n of them). */
static int
rows_in_order(uint64_t after, int first, size_t n)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	size_t i;
	int ok;

	p[0] = DB_I64(after);
	if (db_query(tdb_admin, &m_stmts[M_ENTITIES], p, 1, &res) != 0)
		return 0;
	ok = db_result_rows(res) == n;
	for (i = 0; ok && i < n; i++)
		ok = db_result_i64(res, i, 0) == first + (int64_t)i + 1;
	db_result_free(res);
	return ok;
}

static int
audit_many_init(void)
{
	return tdb_app != NULL && tdb_admin != NULL && tdb_audit_reset() == 0
		       ? 0
		       : 1;
}

static void
test_many_commit(void)
{
	struct audit_event one, ev[5];
	const struct audit_event *evp[5];
	struct head h0, h1;

	CU_ASSERT_EQUAL_FATAL(tdb_audit_reset(), 0);
	ev_init(&one, "alone", 0);
	CU_ASSERT_EQUAL_FATAL(db_audit_append(tdb_app, &one), 0);
	CU_ASSERT_EQUAL_FATAL(head_read(&h0), 0);
	evs_init(ev, evp, "many", 10, 5);
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp, 5), 0);
	CU_ASSERT_EQUAL(db_commit(tdb_app), 0);
	CU_ASSERT_EQUAL_FATAL(head_read(&h1), 0);
	CU_ASSERT_EQUAL(h1.nrows, h0.nrows + 5);
	CU_ASSERT(h1.last_id >= h0.last_id + 5);
	CU_ASSERT(memcmp(h1.hash, h0.hash, AUDIT_HASH_LEN) != 0);
	CU_ASSERT(chain_ok(6));
	CU_ASSERT(rows_in_order(h0.last_id, 10, 5));
}

/* Single appends and several rows, mixed in one transaction. */
static void
test_many_mixed(void)
{
	struct audit_event ev[7];
	const struct audit_event *evp[7];

	CU_ASSERT_EQUAL_FATAL(tdb_audit_reset(), 0);
	evs_init(ev, evp, "mixed", 0, 7);
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, evp[0]), 0);
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp + 1, 3), 0);
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, evp[4]), 0);
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp + 5, 2), 0);
	CU_ASSERT_EQUAL(db_commit(tdb_app), 0);
	CU_ASSERT(chain_ok(7));
	CU_ASSERT(rows_in_order(0, 0, 7));
}

/*
 * A rolled-back transaction leaves the chain and its head as they were,
 * and the hash it cached is not used by the next one.
 */
static void
test_many_rollback(void)
{
	struct audit_event ev[4];
	const struct audit_event *evp[4];
	struct head h0, h1;

	CU_ASSERT_EQUAL_FATAL(tdb_audit_reset(), 0);
	evs_init(ev, evp, "rollback", 0, 4);
	CU_ASSERT_EQUAL_FATAL(db_audit_append(tdb_app, evp[0]), 0);
	CU_ASSERT_EQUAL_FATAL(db_audit_append(tdb_app, evp[1]), 0);
	CU_ASSERT_EQUAL_FATAL(head_read(&h0), 0);
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp, 4), 0);
	CU_ASSERT_EQUAL(db_rollback(tdb_app), 0);
	CU_ASSERT_EQUAL_FATAL(head_read(&h1), 0);
	CU_ASSERT(head_same(&h0, &h1));
	CU_ASSERT(chain_ok(2));
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, evp[2]), 0);
	CU_ASSERT_EQUAL(db_commit(tdb_app), 0);
	CU_ASSERT(chain_ok(3));
	/* After an append and several rows rolled back, several rows. */
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, evp[3]), 0);
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp, 3), 0);
	CU_ASSERT_EQUAL(db_rollback(tdb_app), 0);
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp, 2), 0);
	CU_ASSERT_EQUAL(db_commit(tdb_app), 0);
	CU_ASSERT(chain_ok(5));
}

static void
test_many_refusals(void)
{
	struct audit_event ev[DB_MULTI_MAX + 1];
	const struct audit_event *evp[DB_MULTI_MAX + 1];
	struct head h0, h1;

	CU_ASSERT_EQUAL_FATAL(tdb_audit_reset(), 0);
	evs_init(ev, evp, "refused", 0, DB_MULTI_MAX + 1);
	CU_ASSERT_EQUAL_FATAL(db_audit_append(tdb_app, evp[0]), 0);
	CU_ASSERT_EQUAL_FATAL(head_read(&h0), 0);
	/* Outside a transaction: refused, and none is left open. */
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp, 3), EST_E_INVAL);
	CU_ASSERT_EQUAL_FATAL(head_read(&h1), 0);
	CU_ASSERT(head_same(&h0, &h1));
	CU_ASSERT(chain_ok(1));
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, evp[1]), 0);
	CU_ASSERT(chain_ok(2));
	/* An invalid event among valid ones, a missing one, bad counts. */
	CU_ASSERT_EQUAL_FATAL(head_read(&h0), 0);
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	ev[2].outcome = "maybe";
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp, 4), EST_E_INVAL);
	ev[2].outcome = AUDIT_SUCCESS;
	ev[3].details = "{\"a\":1,\"a\":2}";
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp, 4), EST_E_INVAL);
	ev[3].details = NULL;
	evp[1] = NULL;
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp, 3), EST_E_INVAL);
	evp[1] = &ev[1];
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp, 0), EST_E_INVAL);
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp, DB_MULTI_MAX + 1),
			EST_E_INVAL);
	/* Nothing was written: the transaction goes on and commits. */
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp + 2, 2), 0);
	CU_ASSERT_EQUAL(db_commit(tdb_app), 0);
	CU_ASSERT_EQUAL_FATAL(head_read(&h1), 0);
	CU_ASSERT_EQUAL(h1.nrows, h0.nrows + 2);
	CU_ASSERT(chain_ok(4));
	CU_ASSERT(rows_in_order(h0.last_id, 2, 2));
}

/* One event is db_audit_append(), which may run alone. */
static void
test_many_one_alone(void)
{
	struct audit_event ev[1];
	const struct audit_event *evp[1];

	CU_ASSERT_EQUAL_FATAL(tdb_audit_reset(), 0);
	evs_init(ev, evp, "one", 0, 1);
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp, 1), 0);
	/* Committed: the admin connection sees it. */
	CU_ASSERT(chain_ok(1));
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	CU_ASSERT_EQUAL(db_audit_append_many(tdb_app, evp, 1), 0);
	CU_ASSERT_EQUAL(db_commit(tdb_app), 0);
	CU_ASSERT(chain_ok(2));
}

/* --- Two processes, several rows and single ones --- */

#define ROUNDS 40

/*
 * One appender process on its own connection, started when the parent
 * closes the go pipe.  Rounds alternate: several rows (3 for the first
 * child, 5 for the second) in a transaction, then one row alone.
 */
static void
many_appender(int which, int ready, int go)
{
	struct audit_event ev[5];
	const struct audit_event *evp[5];
	struct db *db = NULL;
	size_t k = which == 0 ? 3 : 5;
	char c;
	int i, ok = 1;

	evs_init(ev, evp, which == 0 ? "child-a" : "child-b", 0, k);
	if (db_connect(tdb_conf, DB_ROLE_APP, &db) != 0)
		_exit(2);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 0)
		_exit(3);
	for (i = 0; i < ROUNDS && ok; i++)
		if (i % 2 == 0)
			ok = db_begin(db) == 0 &&
			     db_audit_append_many(db, evp, k) == 0 &&
			     db_commit(db) == 0;
		else
			ok = db_audit_append(db, evp[0]) == 0;
	db_close(db);
	_exit(ok ? 0 : 1);
}

static void
test_many_two_processes(void)
{
	struct db_param p[1];

	tdb_audit_race(many_appender);
	CU_ASSERT(chain_ok(ROUNDS / 2 * (3 + 1) + ROUNDS / 2 * (5 + 1)));
	p[0] = DB_STR("child-a");
	CU_ASSERT_EQUAL(tdb_count(&m_stmts[M_ACTOR_COUNT], p, 1),
			ROUNDS / 2 * (3 + 1));
	p[0] = DB_STR("child-b");
	CU_ASSERT_EQUAL(tdb_count(&m_stmts[M_ACTOR_COUNT], p, 1),
			ROUNDS / 2 * (5 + 1));
}

static CU_TestInfo audit_many_tests[] = {
	{"several rows commit", test_many_commit},
	{"several and single rows in one transaction", test_many_mixed},
	{"several rows rolled back", test_many_rollback},
	{"several rows refused", test_many_refusals},
	{"one row alone", test_many_one_alone},
	{"two processes, several and single rows", test_many_two_processes},
	CU_TEST_INFO_NULL,
};

int
tdb_audit_many_suites(void)
{
	return test_add_suite("audit_many", audit_many_init, NULL,
			      audit_many_tests);
}
