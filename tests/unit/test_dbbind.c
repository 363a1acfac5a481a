/*
 * Tests of value binding and results, transactions and result-shape
 * errors, on a temporary table of the admin connection.  Part of
 * unit/test_db; see test_db.c for the environment.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "harness.h"
#include "test_db.h"

static const struct db_stmt_def q_stmts[] = {
#define Q_BIND_CREATE 0
	{"q_bind_create",
	 "CREATE TEMPORARY TABLE t_bind ("
	 " id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,"
	 " i BIGINT NULL, s VARCHAR(255) NULL, b BLOB NULL,"
	 " d DATETIME(6) NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	 0},
#define Q_BIND_INSERT 1
	{"q_bind_insert", "INSERT INTO t_bind (i, s, b, d) VALUES (?, ?, ?, ?)",
	 4},
#define Q_BIND_GET 2
	{"q_bind_get", "SELECT id, i, s, b, d FROM t_bind WHERE id = ?", 1},
#define Q_BIND_COUNT 3
	{"q_bind_count", "SELECT COUNT(*) FROM t_bind", 0},
#define Q_BIND_ALL 4
	{"q_bind_all", "SELECT id FROM t_bind", 0},
#define Q_BIND_TOUCH 5
	{"q_bind_touch", "UPDATE t_bind SET i = i WHERE id = ?", 1},
#define Q_BIND_WRONG 6
	/* Declares one parameter where the SQL has two. */
	{"q_bind_wrong", "SELECT id FROM t_bind WHERE id = ? OR id = ?", 1},
#define Q_SESSION 7
	{"q_session", "SELECT @@session.time_zone, @@session.sql_mode", 0},
};

/* --- Binding and results --- */

static int
bind_init(void)
{
	return tdb_admin != NULL &&
			       tdb_exec(tdb_admin, &q_stmts[Q_BIND_CREATE]) == 0
		       ? 0
		       : 1;
}

/* Inserts one row and reads it back. */
static struct db_result *
roundtrip(struct db_param i, struct db_param s, struct db_param b,
	  struct db_param d)
{
	struct db_result *res = NULL;
	struct db_param p[4] = {i, s, b, d};
	uint64_t id = 0, n = 0;

	if (db_exec(tdb_admin, &q_stmts[Q_BIND_INSERT], p, 4, &n, &id) != 0 ||
	    n != 1 || id == 0)
		return NULL;
	p[0] = DB_I64(id);
	if (db_query_one(tdb_admin, &q_stmts[Q_BIND_GET], p, 1, &res) != 0)
		return NULL;
	return res;
}

/* A string that is NULL at run time: DB_STR makes it SQL NULL. */
static const char *no_string;

static void
test_bind_null(void)
{
	struct db_result *r;
	size_t len = 99, col;

	r = roundtrip(DB_NULL, DB_STR(no_string), DB_NULL, DB_NULL);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(db_result_cols(r), 5);
	for (col = 1; col < 5; col++) {
		CU_ASSERT(db_result_isnull(r, 0, col));
		CU_ASSERT_PTR_NULL(db_result_str(r, 0, col, &len));
		CU_ASSERT_EQUAL(len, 0);
	}
	CU_ASSERT_EQUAL(db_result_i64(r, 0, 1), 0);
	/* Out of range reads are NULL, not crashes. */
	CU_ASSERT(db_result_isnull(r, 1, 0));
	CU_ASSERT(db_result_isnull(r, 0, 5));
	db_result_free(r);
}

static void
test_bind_integers(void)
{
	static const int64_t v[] = {0, -1, 1, INT64_MIN, INT64_MAX};
	struct db_result *r;
	size_t k;

	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		r = roundtrip(DB_I64(v[k]), DB_NULL, DB_NULL, DB_NULL);
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT(!db_result_isnull(r, 0, 1));
		CU_ASSERT(db_result_i64(r, 0, 1) == v[k]);
		db_result_free(r);
	}
}

static void
test_bind_strings_verbatim(void)
{
	static const char *const v[] = {
		"'; DROP TABLE x; --",
		"\\\"%_\\0 \t\n",
		"",
		"caf\xc3\xa9 \xf0\x9f\x94\x90",
	};
	struct db_result *r;
	const char *s;
	size_t k, len;

	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		r = roundtrip(DB_NULL, DB_STR(v[k]), DB_NULL, DB_NULL);
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT(!db_result_isnull(r, 0, 2));
		s = db_result_str(r, 0, 2, &len);
		CU_ASSERT(s != NULL && len == strlen(v[k]) &&
			  strcmp(s, v[k]) == 0);
		/* Not an integer: 0. */
		CU_ASSERT_EQUAL(db_result_i64(r, 0, 2), 0);
		db_result_free(r);
	}
}

static void
test_bind_blob_with_nul_bytes(void)
{
	struct db_result *r;
	uint8_t blob[256];
	const char *s;
	size_t k, len = 0;

	for (k = 0; k < sizeof(blob); k++)
		blob[k] = (uint8_t)k;
	r = roundtrip(DB_NULL, DB_NULL, DB_BLOB(blob, sizeof(blob)), DB_NULL);
	CU_ASSERT_FATAL(r != NULL);
	s = db_result_str(r, 0, 3, &len);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(len, sizeof(blob));
	CU_ASSERT(memcmp(s, blob, sizeof(blob)) == 0);
	CU_ASSERT_EQUAL(s[len], '\0');
	db_result_free(r);
	/* An empty blob is not NULL. */
	r = roundtrip(DB_NULL, DB_NULL, DB_BLOB(NULL, 0), DB_NULL);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(!db_result_isnull(r, 0, 3));
	CU_ASSERT(db_result_str(r, 0, 3, &len) != NULL && len == 0);
	db_result_free(r);
}

static void
test_bind_datetime_text(void)
{
	struct db_result *r;

	r = roundtrip(DB_NULL, DB_NULL, DB_NULL,
		      DB_STR("2024-02-29 12:34:56.789012"));
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(db_result_str(r, 0, 4, NULL),
			       "2024-02-29 12:34:56.789012");
	db_result_free(r);
	/* Strict mode: an impossible date is an error, not a zero date. */
	CU_ASSERT_PTR_NULL(roundtrip(DB_NULL, DB_NULL, DB_NULL,
				     DB_STR("2023-02-29 00:00:00")));
}

static void
test_session_is_utc_and_strict(void)
{
	struct db_result *r = NULL;

	CU_ASSERT_EQUAL_FATAL(
		db_query_one(tdb_app, &q_stmts[Q_SESSION], NULL, 0, &r), 0);
	CU_ASSERT_STRING_EQUAL(db_result_str(r, 0, 0, NULL), "+00:00");
	CU_ASSERT(strstr(db_result_str(r, 0, 1, NULL), "STRICT_ALL_TABLES") !=
		  NULL);
	db_result_free(r);
}

static void
test_query_one_shapes(void)
{
	struct db_result *r = NULL;
	struct db_param p[2];

	p[0] = DB_I64(INT64_MAX);
	CU_ASSERT_EQUAL(db_query_one(tdb_admin, &q_stmts[Q_BIND_GET], p, 1, &r),
			EST_E_NOTFOUND);
	CU_ASSERT_PTR_NULL(r);
	/* Many rows where one is expected is a bug in the caller. */
	CU_ASSERT_EQUAL(
		db_query_one(tdb_admin, &q_stmts[Q_BIND_ALL], NULL, 0, &r),
		EST_E_INTERNAL);
	CU_ASSERT_PTR_NULL(r);
	/* So is a parameter count that does not match. */
	CU_ASSERT_EQUAL(db_query(tdb_admin, &q_stmts[Q_BIND_GET], p, 0, &r),
			EST_E_INTERNAL);
	p[1] = DB_I64(1);
	CU_ASSERT_EQUAL(db_query(tdb_admin, &q_stmts[Q_BIND_WRONG], p, 1, &r),
			EST_E_INTERNAL);
	CU_ASSERT_PTR_NULL(r);
	/* A query with no rows is an empty result, not an error. */
	CU_ASSERT_EQUAL(db_query(tdb_admin, &q_stmts[Q_BIND_GET], p, 1, &r), 0);
	CU_ASSERT(r != NULL && db_result_rows(r) == 0 &&
		  db_result_cols(r) == 5);
	db_result_free(r);
}

static int64_t
bind_count(void)
{
	struct db_result *r = NULL;
	int64_t n = -1;

	if (db_query_one(tdb_admin, &q_stmts[Q_BIND_COUNT], NULL, 0, &r) == 0)
		n = db_result_i64(r, 0, 0);
	db_result_free(r);
	return n;
}

static void
test_transactions(void)
{
	struct db_param p[4] = {DB_I64(7), DB_NULL, DB_NULL, DB_NULL};
	int64_t before = bind_count();
	uint64_t id = 0, n = 0;

	CU_ASSERT_FATAL(before >= 0);
	CU_ASSERT_EQUAL(db_begin(tdb_admin), 0);
	CU_ASSERT_EQUAL(
		db_exec(tdb_admin, &q_stmts[Q_BIND_INSERT], p, 4, NULL, NULL),
		0);
	CU_ASSERT_EQUAL(bind_count(), before + 1);
	CU_ASSERT_EQUAL(db_rollback(tdb_admin), 0);
	CU_ASSERT_EQUAL(bind_count(), before);
	CU_ASSERT_EQUAL(db_begin(tdb_admin), 0);
	CU_ASSERT_EQUAL(
		db_exec(tdb_admin, &q_stmts[Q_BIND_INSERT], p, 4, NULL, &id),
		0);
	CU_ASSERT_EQUAL(db_commit(tdb_admin), 0);
	CU_ASSERT_EQUAL(bind_count(), before + 1);
	/* An UPDATE that changes nothing still counts its matched row. */
	p[0] = DB_I64(id);
	CU_ASSERT_EQUAL(
		db_exec(tdb_admin, &q_stmts[Q_BIND_TOUCH], p, 1, &n, NULL), 0);
	CU_ASSERT_EQUAL(n, 1);
}

static void
test_statement_reuse(void)
{
	struct db_param p[4];
	int64_t before = bind_count();
	int k, ok = 1;

	for (k = 0; k < 200; k++) {
		p[0] = DB_I64(k);
		p[1] = DB_STR("reuse");
		p[2] = DB_BLOB("x", 1);
		p[3] = DB_NULL;
		if (db_exec(tdb_admin, &q_stmts[Q_BIND_INSERT], p, 4, NULL,
			    NULL) != 0)
			ok = 0;
	}
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(bind_count(), before + 200);
}

static CU_TestInfo bind_tests[] = {
	{"NULL round trip", test_bind_null},
	{"integer round trip", test_bind_integers},
	{"strings stored verbatim", test_bind_strings_verbatim},
	{"blob with NUL bytes", test_bind_blob_with_nul_bytes},
	{"DATETIME(6) as text", test_bind_datetime_text},
	{"session is UTC and strict", test_session_is_utc_and_strict},
	{"query_one: none, many, bad params", test_query_one_shapes},
	{"transactions", test_transactions},
	{"statement reuse", test_statement_reuse},
	CU_TEST_INFO_NULL,
};

int
tdb_bind_suites(void)
{
	return test_add_suite("binding", bind_init, NULL, bind_tests);
}
