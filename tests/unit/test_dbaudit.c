/*
 * Tests of the hash-chained audit log (db/audit.c): appends in the
 * caller's transaction or their own, the chain's documented format,
 * verification against rows changed, deleted, inserted and cut off by the
 * database's administrator, and two processes appending at once.  The
 * query and the CSV export are tested in test_dbauditq.c.  Part of
 * unit/test_db; see test_db.c for the environment.  Tampering uses the admin account:
 * test_dbgrants.c shows that the application account cannot.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "harness.h"
#include "test_db.h"

static const struct db_stmt_def a_stmts[] = {
#define A_LOG_CLEAR 0
	{"a_log_clear", "DELETE FROM audit_log", 0},
#define A_HEAD_CLEAR 1
	{"a_head_clear", "DELETE FROM audit_head", 0},
#define A_HEAD_INIT 2
	{"a_head_init",
	 "INSERT INTO audit_head (id, last_id, last_hash, nrows)"
	 " VALUES (1, 0, ?, 0)",
	 1},
#define A_HEAD 3
	{"a_head", "SELECT last_id, last_hash, nrows FROM audit_head", 0},
#define A_COUNT 4
	{"a_count", "SELECT COUNT(*) FROM audit_log", 0},
#define A_ROW 5
	{"a_row",
	 "SELECT DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f'), prev_hash, row_hash"
	 " FROM audit_log WHERE id = ?",
	 1},
#define A_SET_REASON 6
	{"a_set_reason", "UPDATE audit_log SET reason = ? WHERE id = ?", 2},
#define A_DELETE 7
	{"a_delete", "DELETE FROM audit_log WHERE id = ?", 1},
#define A_DELETE_FROM 8
	{"a_delete_from", "DELETE FROM audit_log WHERE id >= ?", 1},
#define A_INSERT_RAW 9
	{"a_insert_raw",
	 "INSERT INTO audit_log (id, ts, actor_type, entity, action, outcome,"
	 " prev_hash, row_hash)"
	 " VALUES (?, ?, 'system', 'tenant', 'create', 'success', ?, ?)",
	 4},
#define A_HEAD_SET_HASH 10
	{"a_head_set_hash", "UPDATE audit_head SET last_hash = ? WHERE id = 1",
	 1},
#define A_TENANT_COUNT 11
	{"a_tenant_count", "SELECT COUNT(*) FROM tenants WHERE name = ?", 1},
};

static const uint8_t zero_hash[AUDIT_HASH_LEN];

/* --- Helpers --- */

static int64_t
count_of(struct db *db, const struct db_stmt_def *def, const struct db_param *p,
	 size_t np)
{
	struct db_result *res = NULL;
	int64_t n;

	if (db_query_one(db, def, p, np, &res) != 0)
		return -1;
	n = db_result_i64(res, 0, 0);
	db_result_free(res);
	return n;
}

static int64_t
log_rows(void)
{
	return count_of(tdb_admin, &a_stmts[A_COUNT], NULL, 0);
}

/* The head: last id, and its hash into hash when not NULL. */
uint64_t
tdb_audit_head(uint8_t *hash)
{
	struct db_result *res = NULL;
	const char *s;
	size_t len = 0;
	uint64_t id;

	if (db_query_one(tdb_admin, &a_stmts[A_HEAD], NULL, 0, &res) != 0)
		return UINT64_MAX;
	id = (uint64_t)db_result_i64(res, 0, 0);
	s = db_result_str(res, 0, 1, &len);
	if (hash != NULL && s != NULL && len == AUDIT_HASH_LEN)
		memcpy(hash, s, len);
	db_result_free(res);
	return id;
}

/* Empties the log and resets its head, as a new installation has them. */
int
tdb_audit_reset(void)
{
	struct db_param p[1];

	p[0] = DB_BLOB(zero_hash, sizeof(zero_hash));
	return tdb_exec(tdb_admin, &a_stmts[A_LOG_CLEAR]) != 0 ||
			       tdb_exec(tdb_admin, &a_stmts[A_HEAD_CLEAR]) !=
				       0 ||
			       db_exec(tdb_admin, &a_stmts[A_HEAD_INIT], p, 1,
				       NULL, NULL) != 0
		       ? -1
		       : 0;
}

static void
event_init(struct audit_event *ev, int i)
{
	memset(ev, 0, sizeof(*ev));
	ev->actor_type = AUDIT_ACTOR_USER;
	ev->actor_id = 42;
	ev->actor_name = "alice";
	ev->tenant_id = 7;
	ev->entity = "tenant";
	ev->entity_id = i + 1;
	ev->entity_name = "Zürich Ost";
	ev->action = "update";
	ev->outcome = AUDIT_SUCCESS;
	ev->source_addr = i % 2 ? "2001:db8::1" : "192.0.2.10";
	ev->details = "{\"before\":{\"active\":true},\"after\":{\"active\":"
		      "false}}";
}

/*
 * A new chain of n rows; ids[] gets their ids.  A rolled-back append
 * between rows gap and gap + 1 (gap < n) leaves a hole in the ids.
 */
static int
chain_make(size_t n, size_t gap, uint64_t *ids)
{
	struct audit_event ev;
	size_t i;

	if (tdb_audit_reset() != 0)
		return -1;
	for (i = 0; i < n; i++) {
		event_init(&ev, (int)i);
		if (i == gap && (db_begin(tdb_app) != 0 ||
				 db_audit_append(tdb_app, &ev) != 0 ||
				 db_rollback(tdb_app) != 0))
			return -1;
		if (db_audit_append(tdb_app, &ev) != 0)
			return -1;
		ids[i] = tdb_audit_head(NULL);
	}
	return 0;
}

static int
verify(struct audit_verify *v)
{
	memset(v, 0xff, sizeof(*v));
	return db_audit_verify_full(tdb_app, v);
}

/* --- Appending --- */

static int
audit_init(void)
{
	return tdb_app != NULL && tdb_admin != NULL && tdb_audit_reset() == 0
		       ? 0
		       : 1;
}

static void
test_empty_log_verifies(void)
{
	struct audit_verify v;
	uint64_t n = 99, bad = 99;

	CU_ASSERT_EQUAL_FATAL(tdb_audit_reset(), 0);
	CU_ASSERT_EQUAL(verify(&v), 0);
	CU_ASSERT_EQUAL(v.status, AUDIT_INTACT);
	CU_ASSERT_EQUAL(v.nrows, 0);
	CU_ASSERT_EQUAL(v.last_id, 0);
	CU_ASSERT_EQUAL(db_audit_verify(tdb_app, &n, &bad), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_chain_of_rows_verifies(void)
{
	struct audit_event ev;
	struct audit_verify v;
	uint64_t ids[5];
	uint8_t hash[AUDIT_HASH_LEN];
	size_t i;

	CU_ASSERT_EQUAL_FATAL(chain_make(5, 5, ids), 0);
	for (i = 1; i < 5; i++)
		CU_ASSERT(ids[i] > ids[i - 1]);
	/* An event with every optional field absent. */
	memset(&ev, 0, sizeof(ev));
	ev.actor_type = AUDIT_ACTOR_SYSTEM;
	ev.entity = "ca";
	ev.action = "create";
	ev.outcome = AUDIT_FAILURE;
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), 0);
	CU_ASSERT_EQUAL(log_rows(), 6);
	CU_ASSERT_EQUAL(verify(&v), 0);
	CU_ASSERT_EQUAL(v.status, AUDIT_INTACT);
	CU_ASSERT_EQUAL(v.nrows, 6);
	CU_ASSERT_EQUAL(v.bad_id, 0);
	CU_ASSERT_EQUAL(v.last_id, tdb_audit_head(hash));
	CU_ASSERT(memcmp(v.last_hash, hash, AUDIT_HASH_LEN) == 0);
}

/* The encoding of audit.h, written out independently of db/audit.c. */
static void
spec_field(EVP_MD_CTX *ctx, const char *v)
{
	uint8_t hdr[5] = {0};
	size_t len;

	if (v == NULL) {
		EVP_DigestUpdate(ctx, hdr, 1);
		return;
	}
	len = strlen(v);
	hdr[0] = 1;
	hdr[4] = (uint8_t)len; /* the test's values are short */
	hdr[3] = (uint8_t)(len >> 8);
	EVP_DigestUpdate(ctx, hdr, 5);
	EVP_DigestUpdate(ctx, v, len);
}

/* row_hash of fields[0..13] (ts first) linked to prev, per audit.h. */
static void
spec_hash(const void *prev, const char *const *fields, uint8_t md[32])
{
	EVP_MD_CTX *ctx;
	size_t i;

	CU_ASSERT_FATAL((ctx = EVP_MD_CTX_new()) != NULL);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, "estuary-audit-v1", 16);
	EVP_DigestUpdate(ctx, prev, 32);
	for (i = 0; i < 14; i++)
		spec_field(ctx, fields[i]);
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
}

/*
 * A row as the database's administrator could forge it, with a valid
 * hash: prev is the hash it links to.  Its id is id.
 */
static int
forge_row(uint64_t id, const uint8_t prev[32])
{
	const char *fields[14] = {"2024-01-01 00:00:00.000000",
				  "system",
				  NULL,
				  NULL,
				  NULL,
				  NULL,
				  "tenant",
				  NULL,
				  NULL,
				  "create",
				  "success",
				  NULL,
				  NULL,
				  NULL};
	struct db_param p[4];
	uint8_t md[32];

	spec_hash(prev, fields, md);
	p[0] = DB_I64(id);
	p[1] = DB_STR(fields[0]);
	p[2] = DB_BLOB(prev, 32);
	p[3] = DB_BLOB(md, sizeof(md));
	return db_exec(tdb_admin, &a_stmts[A_INSERT_RAW], p, 4, NULL, NULL);
}

/* The row_hash of row id, into out. */
static int
row_hash_of(uint64_t id, uint8_t out[32])
{
	struct db_result *res = NULL;
	struct db_param p[1];
	const char *s;
	size_t len = 0;

	p[0] = DB_I64(id);
	if (db_query_one(tdb_admin, &a_stmts[A_ROW], p, 1, &res) != 0)
		return -1;
	s = db_result_str(res, 0, 2, &len);
	if (s != NULL && len == 32)
		memcpy(out, s, 32);
	db_result_free(res);
	return s != NULL && len == 32 ? 0 : -1;
}

static void
test_row_hash_follows_documented_format(void)
{
	const char *fields[14];
	struct audit_event ev;
	struct db_result *res = NULL;
	struct db_param p[1];
	uint64_t ids[2];
	uint8_t md[32], prev[32], first[32];
	const char *s, *stored;
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(chain_make(2, 2, ids), 0);
	event_init(&ev, 1);
	p[0] = DB_I64(ids[1]);
	CU_ASSERT_EQUAL_FATAL(
		db_query_one(tdb_admin, &a_stmts[A_ROW], p, 1, &res), 0);
	fields[0] = db_result_str(res, 0, 0, NULL);
	CU_ASSERT_EQUAL(strlen(fields[0]), 26);
	fields[1] = "user";
	fields[2] = "42";
	fields[3] = "alice";
	fields[4] = "7";
	fields[5] = NULL;
	fields[6] = "tenant";
	fields[7] = "2";
	fields[8] = "Zürich Ost";
	fields[9] = "update";
	fields[10] = "success";
	fields[11] = NULL;
	fields[12] = "2001:db8::1";
	fields[13] = ev.details;
	s = db_result_str(res, 0, 1, &len);
	CU_ASSERT_EQUAL_FATAL(len, 32);
	memcpy(prev, s, 32);
	stored = db_result_str(res, 0, 2, &len);
	CU_ASSERT_EQUAL_FATAL(len, 32);
	spec_hash(prev, fields, md);
	CU_ASSERT(memcmp(md, stored, 32) == 0);
	db_result_free(res);
	/* The second row links to the first. */
	CU_ASSERT_EQUAL_FATAL(row_hash_of(ids[0], first), 0);
	CU_ASSERT(memcmp(prev, zero_hash, 32) != 0);
	CU_ASSERT(memcmp(first, prev, 32) == 0);
}

static void
test_append_refuses_bad_events(void)
{
	struct audit_event ev;
	char longname[AUDIT_NAME_MAX + 2];
	int64_t before;

	CU_ASSERT_EQUAL_FATAL(tdb_audit_reset(), 0);
	before = log_rows();
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
#define REFUSED(field, value)                                                  \
	do {                                                                   \
		event_init(&ev, 0);                                            \
		ev.field = value;                                              \
		CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), EST_E_INVAL);   \
	} while (0)
	/* Enumerations compare exactly: the column would fold case. */
	REFUSED(actor_type, "User");
	REFUSED(actor_type, NULL);
	REFUSED(outcome, "ok");
	REFUSED(entity, "Tenant");
	REFUSED(entity, "");
	REFUSED(entity, "x_entity_name_that_is_over_32_bytes");
	REFUSED(action, "delete all");
	REFUSED(action, NULL);
	REFUSED(actor_id, -1);
	REFUSED(tenant_id, -5);
	REFUSED(actor_name, longname);
	REFUSED(actor_name, "");
	REFUSED(entity_name, "line\nbreak");
	REFUSED(reason, "\x1b[31mred");
	REFUSED(reason, "bad \xc3\x28 utf-8");
	REFUSED(source_addr, "localhost");
	REFUSED(source_addr, "192.168.001.1");
	REFUSED(details, "{not json");
	REFUSED(details, "[1,2]");
	REFUSED(details, "{\"a\":1,\"a\":2}");
#undef REFUSED
	CU_ASSERT_EQUAL(log_rows(), before);
	CU_ASSERT_EQUAL(tdb_audit_head(NULL), 0);
	/* The longest name fits. */
	longname[AUDIT_NAME_MAX] = '\0';
	event_init(&ev, 0);
	ev.actor_name = longname;
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), 0);
}

static void
test_rollback_leaves_no_row(void)
{
	struct audit_event ev;
	struct audit_verify v;
	struct db_param p[1];
	uint8_t h0[AUDIT_HASH_LEN], h1[AUDIT_HASH_LEN];
	int64_t tid = 0, before;
	uint64_t id0;

	CU_ASSERT_EQUAL_FATAL(chain_make(1, 1, &id0), 0);
	before = log_rows();
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	CU_ASSERT_EQUAL(db_tenant_create(tdb_app, "audit-rollback", NULL, &tid),
			0);
	event_init(&ev, 0);
	ev.entity_id = tid;
	ev.action = "create";
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), 0);
	/* An invalid event leaves the caller's transaction open. */
	ev.outcome = "maybe";
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), EST_E_INVAL);
	(void)tdb_audit_head(h0);
	CU_ASSERT_EQUAL(db_rollback(tdb_app), 0);
	/* Both the change and its row are gone; the head is back. */
	p[0] = DB_STR("audit-rollback");
	CU_ASSERT_EQUAL(count_of(tdb_admin, &a_stmts[A_TENANT_COUNT], p, 1), 0);
	CU_ASSERT_EQUAL(log_rows(), before);
	CU_ASSERT_EQUAL(tdb_audit_head(h1), id0);
	CU_ASSERT_EQUAL(verify(&v), 0);
	CU_ASSERT_EQUAL(v.nrows, 1);
	/* Committed, both stay. */
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	CU_ASSERT_EQUAL(db_tenant_create(tdb_app, "audit-commit", NULL, &tid),
			0);
	event_init(&ev, 0);
	ev.entity_id = tid;
	ev.action = "create";
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), 0);
	CU_ASSERT_EQUAL(db_commit(tdb_app), 0);
	p[0] = DB_STR("audit-commit");
	CU_ASSERT_EQUAL(count_of(tdb_admin, &a_stmts[A_TENANT_COUNT], p, 1), 1);
	CU_ASSERT_EQUAL(log_rows(), before + 1);
	CU_ASSERT_EQUAL(verify(&v), 0);
	CU_ASSERT_EQUAL(v.nrows, 2);
}

static void
test_append_alone_commits(void)
{
	struct audit_event ev;
	uint64_t id0;

	CU_ASSERT_EQUAL_FATAL(chain_make(1, 1, &id0), 0);
	event_init(&ev, 3);
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), 0);
	/* Visible to another connection at once: it was committed. */
	CU_ASSERT_EQUAL(log_rows(), 2);
	CU_ASSERT(tdb_audit_head(NULL) > id0);
}

/* --- Verification finds tampering --- */

static void
test_changed_row_detected(void)
{
	struct audit_verify v;
	struct db_param p[2];
	uint64_t ids[6];

	CU_ASSERT_EQUAL_FATAL(chain_make(6, 6, ids), 0);
	p[0] = DB_STR("edited by the DBA");
	p[1] = DB_I64(ids[3]);
	CU_ASSERT_EQUAL_FATAL(
		db_exec(tdb_admin, &a_stmts[A_SET_REASON], p, 2, NULL, NULL),
		0);
	CU_ASSERT_EQUAL(verify(&v), EST_E_INVAL);
	CU_ASSERT_EQUAL(v.status, AUDIT_BREAK_HASH);
	CU_ASSERT_EQUAL(v.bad_id, ids[3]);
	CU_ASSERT_EQUAL(v.nrows, 3);
	/* Put back, the row verifies again. */
	p[0] = DB_NULL;
	CU_ASSERT_EQUAL_FATAL(
		db_exec(tdb_admin, &a_stmts[A_SET_REASON], p, 2, NULL, NULL),
		0);
	CU_ASSERT_EQUAL(verify(&v), 0);
	CU_ASSERT_EQUAL(v.nrows, 6);
}

static void
test_deleted_row_detected(void)
{
	struct audit_verify v;
	struct db_param p[1];
	uint64_t ids[6], n = 0, bad = 0;

	CU_ASSERT_EQUAL_FATAL(chain_make(6, 6, ids), 0);
	p[0] = DB_I64(ids[2]);
	CU_ASSERT_EQUAL_FATAL(
		db_exec(tdb_admin, &a_stmts[A_DELETE], p, 1, NULL, NULL), 0);
	CU_ASSERT_EQUAL(verify(&v), EST_E_INVAL);
	CU_ASSERT_EQUAL(v.status, AUDIT_BREAK_LINK);
	CU_ASSERT_EQUAL(v.bad_id, ids[3]);
	CU_ASSERT_EQUAL(db_audit_verify(tdb_app, &n, &bad), EST_E_INVAL);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(bad, ids[3]);
}

/*
 * A gap left by a rollback is no break; a row forged into it, even with a
 * valid hash, is: the row after it does not link to it.
 */
static void
test_inserted_row_detected(void)
{
	struct audit_verify v;
	uint64_t ids[5];
	uint8_t prev[AUDIT_HASH_LEN];

	CU_ASSERT_EQUAL_FATAL(chain_make(5, 2, ids), 0);
	CU_ASSERT_FATAL(ids[2] == ids[1] + 2);
	CU_ASSERT_EQUAL(verify(&v), 0);
	CU_ASSERT_EQUAL_FATAL(row_hash_of(ids[1], prev), 0);
	CU_ASSERT_EQUAL_FATAL(forge_row(ids[1] + 1, prev), 0);
	CU_ASSERT_EQUAL(verify(&v), EST_E_INVAL);
	CU_ASSERT_EQUAL(v.status, AUDIT_BREAK_LINK);
	CU_ASSERT_EQUAL(v.bad_id, ids[2]);
	CU_ASSERT_EQUAL(v.nrows, 3);
}

static void
test_truncated_tail_detected(void)
{
	struct audit_verify v;
	struct db_param p[1];
	uint64_t ids[6];

	CU_ASSERT_EQUAL_FATAL(chain_make(6, 6, ids), 0);
	p[0] = DB_I64(ids[4]);
	CU_ASSERT_EQUAL_FATAL(
		db_exec(tdb_admin, &a_stmts[A_DELETE_FROM], p, 1, NULL, NULL),
		0);
	/* Every remaining row is intact; only the head knows. */
	CU_ASSERT_EQUAL(verify(&v), EST_E_INVAL);
	CU_ASSERT_EQUAL(v.status, AUDIT_BREAK_TAIL);
	CU_ASSERT_EQUAL(v.bad_id, ids[5]);
	CU_ASSERT_EQUAL(v.nrows, 4);
	CU_ASSERT_EQUAL(v.last_id, ids[3]);
	CU_ASSERT_STRING_NOT_EQUAL(audit_break_reason(AUDIT_BREAK_TAIL),
				   audit_break_reason(AUDIT_BREAK_LINK));
	/* The next append links to the lost row: the break stays visible. */
	{
		struct audit_event ev;

		event_init(&ev, 9);
		CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), 0);
	}
	CU_ASSERT_EQUAL(verify(&v), EST_E_INVAL);
	CU_ASSERT_EQUAL(v.status, AUDIT_BREAK_LINK);
	CU_ASSERT_EQUAL(v.bad_id, tdb_audit_head(NULL));
}

/*
 * A valid row forged at the end links correctly; the head, which the
 * forger did not move, shows it.  With a wrong hash the row is named.
 */
static void
test_row_added_at_end_detected(void)
{
	struct audit_verify v;
	struct db_param p[2];
	uint64_t ids[3];
	uint8_t prev[AUDIT_HASH_LEN];

	CU_ASSERT_EQUAL_FATAL(chain_make(3, 3, ids), 0);
	CU_ASSERT_EQUAL_FATAL(row_hash_of(ids[2], prev), 0);
	CU_ASSERT_EQUAL_FATAL(forge_row(ids[2] + 10, prev), 0);
	CU_ASSERT_EQUAL(verify(&v), EST_E_INVAL);
	CU_ASSERT_EQUAL(v.status, AUDIT_BREAK_EXTRA);
	CU_ASSERT_EQUAL(v.bad_id, ids[2] + 10);
	CU_ASSERT_EQUAL(v.nrows, 4);
	p[0] = DB_STR("forged");
	p[1] = DB_I64(ids[2] + 10);
	CU_ASSERT_EQUAL_FATAL(
		db_exec(tdb_admin, &a_stmts[A_SET_REASON], p, 2, NULL, NULL),
		0);
	CU_ASSERT_EQUAL(verify(&v), EST_E_INVAL);
	CU_ASSERT_EQUAL(v.status, AUDIT_BREAK_HASH);
	CU_ASSERT_EQUAL(v.bad_id, ids[2] + 10);
}

static void
test_altered_head_detected(void)
{
	struct audit_event ev;
	struct audit_verify v;
	struct db_param p[1];
	uint64_t ids[3];
	uint8_t junk[AUDIT_HASH_LEN];

	CU_ASSERT_EQUAL_FATAL(chain_make(3, 3, ids), 0);
	/* The application account may write the head, and nothing else. */
	memset(junk, 0x33, sizeof(junk));
	p[0] = DB_BLOB(junk, sizeof(junk));
	CU_ASSERT_EQUAL_FATAL(
		db_exec(tdb_app, &a_stmts[A_HEAD_SET_HASH], p, 1, NULL, NULL),
		0);
	CU_ASSERT_EQUAL(verify(&v), EST_E_INVAL);
	CU_ASSERT_EQUAL(v.status, AUDIT_BREAK_HEAD);
	CU_ASSERT_EQUAL(v.bad_id, ids[2]);
	CU_ASSERT_EQUAL(v.nrows, 3);
	/* A row appended after it links to the junk: named by the walk. */
	event_init(&ev, 4);
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), 0);
	CU_ASSERT_EQUAL(verify(&v), EST_E_INVAL);
	CU_ASSERT_EQUAL(v.status, AUDIT_BREAK_LINK);
	CU_ASSERT_EQUAL(v.bad_id, tdb_audit_head(NULL));
	/* Without a head, verify says so and appends are refused. */
	CU_ASSERT_EQUAL_FATAL(chain_make(1, 1, ids), 0);
	CU_ASSERT_EQUAL_FATAL(tdb_exec(tdb_admin, &a_stmts[A_HEAD_CLEAR]), 0);
	CU_ASSERT_EQUAL(verify(&v), EST_E_INVAL);
	CU_ASSERT_EQUAL(v.status, AUDIT_BREAK_NOHEAD);
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), EST_E_INTERNAL);
	CU_ASSERT_EQUAL(log_rows(), 1);
	CU_ASSERT_EQUAL(tdb_audit_reset(), 0);
}

/* --- Concurrent appenders --- */

#define PER_CHILD 200

/*
 * One appender process: its own connection (a MariaDB connection does
 * not survive fork), started when the parent closes the go pipe, so that
 * both children append at the same time.  The first child appends in
 * transactions of its own, the second three rows at a time inside
 * transactions it opens.
 */
static void
appender(int which, int ready, int go)
{
	struct audit_event ev;
	struct db *db = NULL;
	char name[16], c;
	int i, ok = 1;

	snprintf(name, sizeof(name), "child%d", which);
	if (db_connect(tdb_conf, DB_ROLE_APP, &db) != 0)
		_exit(2);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 0)
		_exit(3);
	for (i = 0; i < PER_CHILD && ok; i++) {
		event_init(&ev, i);
		ev.actor_name = name;
		/*
		 * The second child's transactions hold three rows each:
		 * after the first, the head's lock is held and its hash
		 * known (db/audit.c).
		 */
		if (which == 0)
			ok = db_audit_append(db, &ev) == 0;
		else
			ok = db_begin(db) == 0 &&
			     db_audit_append(db, &ev) == 0 &&
			     db_audit_append(db, &ev) == 0 &&
			     db_audit_append(db, &ev) == 0 &&
			     db_commit(db) == 0;
	}
	db_close(db);
	_exit(ok ? 0 : 1);
}

void
tdb_audit_race(void (*child)(int which, int ready, int go))
{
	int ready[2], go[2], status, which, got = 0;
	pid_t pid[2];
	char c;

	CU_ASSERT_EQUAL_FATAL(tdb_audit_reset(), 0);
	CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(go) == 0);
	fflush(NULL);
	for (which = 0; which < 2; which++) {
		if ((pid[which] = fork()) == 0) {
			close(ready[0]);
			close(go[1]);
			child(which, ready[1], go[0]);
		}
		CU_ASSERT_FATAL(pid[which] > 0);
	}
	close(ready[1]);
	close(go[0]);
	while (got < 2 && read(ready[0], &c, 1) == 1)
		got++;
	CU_ASSERT_EQUAL(got, 2);
	close(go[1]);
	close(ready[0]);
	for (which = 0; which < 2; which++) {
		CU_ASSERT_EQUAL(waitpid(pid[which], &status, 0), pid[which]);
		CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

static void
test_two_processes_append_one_chain(void)
{
	struct audit_filter f;
	struct audit_verify v;
	struct db_result *res = NULL;

	tdb_audit_race(appender);
	CU_ASSERT_EQUAL(verify(&v), 0);
	CU_ASSERT_EQUAL(v.status, AUDIT_INTACT);
	CU_ASSERT_EQUAL(v.nrows, 4 * PER_CHILD);
	CU_ASSERT_EQUAL(log_rows(), 4 * PER_CHILD);
	memset(&f, 0, sizeof(f));
	f.actor_name = "child1";
	CU_ASSERT_EQUAL(db_audit_query(tdb_app, &f, 0, AUDIT_QUERY_MAX, &res),
			0);
	if (res != NULL)
		CU_ASSERT_EQUAL(db_result_rows(res), 3 * PER_CHILD);
	db_result_free(res);
}

/*
 * Several rows in one transaction, after a rolled-back transaction of
 * several rows: the chain runs through the kept ones only.
 */
static void
test_rows_in_one_transaction(void)
{
	struct audit_event ev;
	struct audit_verify v;
	uint64_t id0, head;
	int i;

	CU_ASSERT_EQUAL_FATAL(chain_make(1, 1, &id0), 0);
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	for (i = 0; i < 3; i++) {
		event_init(&ev, i);
		CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), 0);
	}
	CU_ASSERT_EQUAL(db_rollback(tdb_app), 0);
	CU_ASSERT_EQUAL(tdb_audit_head(NULL), id0);
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	for (i = 0; i < 4; i++) {
		event_init(&ev, i);
		CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), 0);
	}
	CU_ASSERT_EQUAL(db_commit(tdb_app), 0);
	/* And one alone after them. */
	event_init(&ev, 9);
	CU_ASSERT_EQUAL(db_audit_append(tdb_app, &ev), 0);
	head = tdb_audit_head(NULL);
	CU_ASSERT(head > id0);
	CU_ASSERT_EQUAL(verify(&v), 0);
	CU_ASSERT_EQUAL(v.status, AUDIT_INTACT);
	CU_ASSERT_EQUAL(v.nrows, 6);
	CU_ASSERT_EQUAL(v.last_id, head);
	CU_ASSERT_EQUAL(log_rows(), 6);
}

static CU_TestInfo audit_tests[] = {
	{"empty log verifies", test_empty_log_verifies},
	{"chain of rows verifies", test_chain_of_rows_verifies},
	{"row hash follows the documented format",
	 test_row_hash_follows_documented_format},
	{"append refuses bad events", test_append_refuses_bad_events},
	{"rollback leaves no row", test_rollback_leaves_no_row},
	{"append alone commits", test_append_alone_commits},
	{"changed row detected", test_changed_row_detected},
	{"deleted row detected", test_deleted_row_detected},
	{"inserted row detected", test_inserted_row_detected},
	{"truncated tail detected", test_truncated_tail_detected},
	{"row added at the end detected", test_row_added_at_end_detected},
	{"altered head detected", test_altered_head_detected},
	{"two processes append one chain", test_two_processes_append_one_chain},
	{"several rows in one transaction", test_rows_in_one_transaction},
	CU_TEST_INFO_NULL,
};

int
tdb_audit_suites(void)
{
	int r;

	if ((r = test_add_suite("audit", audit_init, NULL, audit_tests)) != 0 ||
	    (r = tdb_audit_query_suites()) != 0)
		return r;
	return 0;
}
