/*
 * Tests of the audit log's query (db_audit_query: filters, keyset
 * pagination) and CSV export, on rows appended through db_audit_append.
 * Part of unit/test_db; see test_db.c for the environment.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audit.h"
#include "db.h"
#include "err.h"
#include "harness.h"
#include "test_db.h"

static const struct db_stmt_def q_stmts[] = {
#define Q_SET_TS 0
	{"q_audit_set_ts", "UPDATE audit_log SET ts = ? WHERE id <= ?", 2},
};

#define QROWS 12
/* Rows 0-3 are dated 2020-01-01; the others now. */
#define QOLD 4
#define QTIME_2020 INT64_C(1577836800)

/* The pattern of the query tests' rows, by index. */
static void
qevent(struct audit_event *ev, int i)
{
	static const char *const types[] = {
		AUDIT_ACTOR_USER, AUDIT_ACTOR_APPLICATION, AUDIT_ACTOR_DEVICE};

	memset(ev, 0, sizeof(*ev));
	ev->actor_type = types[i % 3];
	ev->actor_id = 100 + i % 2;
	ev->actor_name = i % 2 ? "bob" : "alice";
	ev->tenant_id = i < 6 ? 7 : 8;
	ev->org_id = i % 5 ? 0 : 3;
	ev->entity = i % 2 ? "user" : "tenant";
	ev->entity_id = i;
	ev->action = i % 3 ? "update" : "create";
	ev->outcome = i % 4 == 3 ? AUDIT_DENIED : AUDIT_SUCCESS;
}

static int
qmatch(const struct audit_filter *f, int i, int old)
{
	struct audit_event ev;
	int64_t t = old ? QTIME_2020 : (int64_t)time(NULL);

	qevent(&ev, i);
	return (f->actor_type == NULL ||
		strcmp(f->actor_type, ev.actor_type) == 0) &&
	       (f->actor_id == 0 || f->actor_id == ev.actor_id) &&
	       (f->actor_name == NULL ||
		strcasecmp(f->actor_name, ev.actor_name) == 0) &&
	       (f->tenant_id == 0 || f->tenant_id == ev.tenant_id) &&
	       (f->org_id == 0 || f->org_id == ev.org_id) &&
	       (f->entity == NULL || strcmp(f->entity, ev.entity) == 0) &&
	       (f->entity_id == 0 || f->entity_id == ev.entity_id) &&
	       (f->action == NULL || strcmp(f->action, ev.action) == 0) &&
	       (f->outcome == NULL || strcmp(f->outcome, ev.outcome) == 0) &&
	       (f->since == 0 || t >= f->since) &&
	       (f->until == 0 || t < f->until);
}

static uint64_t qids[QROWS];

/*
 * The rows of the pattern; the old ones are back-dated by the admin,
 * which breaks the chain, but nothing here verifies it.
 */
static int
query_init(void)
{
	struct audit_event ev;
	struct db_param p[2];
	int i;

	if (tdb_audit_reset() != 0)
		return 1;
	for (i = 0; i < QROWS; i++) {
		qevent(&ev, i);
		if (db_audit_append(tdb_app, &ev) != 0)
			return 1;
		qids[i] = tdb_audit_head(NULL);
	}
	p[0] = DB_STR("2020-01-01 00:00:00.000000");
	p[1] = DB_I64(qids[QOLD - 1]);
	return db_exec(tdb_admin, &q_stmts[Q_SET_TS], p, 2, NULL, NULL) != 0;
}

/* Pages through f with pages of page rows; compares with the pattern. */
static void
check_query(const struct audit_filter *f, size_t page)
{
	struct db_result *res = NULL;
	uint64_t after = 0, got[QROWS + 1];
	size_t n = 0, i, rows;
	int k, r;

	do {
		r = db_audit_query(tdb_app, f, after, page, &res);
		CU_ASSERT_EQUAL_FATAL(r, 0);
		rows = db_result_rows(res);
		CU_ASSERT(rows <= page);
		CU_ASSERT_EQUAL(db_result_cols(res), AUDIT_NCOLS);
		for (i = 0; i < rows && n <= QROWS; i++)
			got[n++] =
				(uint64_t)db_result_i64(res, i, AUDIT_COL_ID);
		if (rows > 0)
			after = got[n - 1];
		db_result_free(res);
		res = NULL;
	} while (rows == page && n <= QROWS);
	/* Exactly the matching rows, newest first. */
	for (i = 0, k = QROWS - 1; k >= 0; k--) {
		if (!qmatch(f, k, k < QOLD))
			continue;
		CU_ASSERT_FATAL(i < n);
		CU_ASSERT_EQUAL(got[i], qids[k]);
		i++;
	}
	CU_ASSERT_EQUAL(i, n);
}

static void
test_query_filters(void)
{
	struct audit_filter f;

	memset(&f, 0, sizeof(f));
	check_query(&f, AUDIT_QUERY_MAX);
	f.entity = "tenant";
	check_query(&f, AUDIT_QUERY_MAX);
	f.tenant_id = 8;
	check_query(&f, AUDIT_QUERY_MAX);
	memset(&f, 0, sizeof(f));
	f.actor_type = AUDIT_ACTOR_APPLICATION;
	check_query(&f, AUDIT_QUERY_MAX);
	memset(&f, 0, sizeof(f));
	f.actor_name = "ALICE"; /* names compare case-insensitively */
	f.action = "update";
	check_query(&f, AUDIT_QUERY_MAX);
	memset(&f, 0, sizeof(f));
	f.actor_id = 101;
	f.outcome = AUDIT_DENIED;
	check_query(&f, AUDIT_QUERY_MAX);
	memset(&f, 0, sizeof(f));
	f.entity_id = 5;
	check_query(&f, AUDIT_QUERY_MAX);
	memset(&f, 0, sizeof(f));
	f.org_id = 3;
	check_query(&f, AUDIT_QUERY_MAX);
	f.org_id = 4; /* no row has it */
	check_query(&f, AUDIT_QUERY_MAX);
	/* Time range: since inclusive, until exclusive. */
	memset(&f, 0, sizeof(f));
	f.since = QTIME_2020 + 1;
	check_query(&f, AUDIT_QUERY_MAX);
	memset(&f, 0, sizeof(f));
	f.until = QTIME_2020 + 1;
	check_query(&f, AUDIT_QUERY_MAX);
	f.since = QTIME_2020;
	f.entity = "user";
	check_query(&f, AUDIT_QUERY_MAX);
}

static void
test_query_keyset_pages(void)
{
	struct audit_filter f;
	struct audit_event ev;
	struct db_result *res = NULL;
	uint64_t newest;

	memset(&f, 0, sizeof(f));
	check_query(&f, 1);
	check_query(&f, 5);
	f.tenant_id = 7;
	check_query(&f, 2);
	/* A row appended meanwhile does not shift a page that follows. */
	CU_ASSERT_EQUAL_FATAL(db_audit_query(tdb_app, NULL, 0, 3, &res), 0);
	CU_ASSERT_EQUAL_FATAL(db_result_rows(res), 3);
	newest = (uint64_t)db_result_i64(res, 2, AUDIT_COL_ID);
	db_result_free(res);
	qevent(&ev, 0);
	ev.tenant_id = 9;
	CU_ASSERT_EQUAL_FATAL(db_audit_append(tdb_app, &ev), 0);
	CU_ASSERT_EQUAL_FATAL(db_audit_query(tdb_app, NULL, newest, 1, &res),
			      0);
	CU_ASSERT_EQUAL(db_result_rows(res), 1);
	CU_ASSERT_EQUAL((uint64_t)db_result_i64(res, 0, AUDIT_COL_ID),
			qids[QROWS - 4]);
	db_result_free(res);
}

static void
test_query_refuses_bad_filters(void)
{
	struct audit_filter f;
	struct db_result *res = NULL;

	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(db_audit_query(tdb_app, &f, 0, 0, &res), EST_E_INVAL);
	CU_ASSERT_EQUAL(
		db_audit_query(tdb_app, &f, 0, AUDIT_QUERY_MAX + 1, &res),
		EST_E_INVAL);
	f.outcome = "ok";
	CU_ASSERT_EQUAL(db_audit_query(tdb_app, &f, 0, 10, &res), EST_E_INVAL);
	memset(&f, 0, sizeof(f));
	f.entity = "Tenant'--";
	CU_ASSERT_EQUAL(db_audit_query(tdb_app, &f, 0, 10, &res), EST_E_INVAL);
	memset(&f, 0, sizeof(f));
	f.since = -1;
	CU_ASSERT_EQUAL(db_audit_query(tdb_app, &f, 0, 10, &res), EST_E_INVAL);
	memset(&f, 0, sizeof(f));
	f.until = INT64_C(253402300800);
	CU_ASSERT_EQUAL(db_audit_query(tdb_app, &f, 0, 10, &res), EST_E_INVAL);
	CU_ASSERT_PTR_NULL(res);
}

/* --- CSV --- */

static void
test_csv_escapes_and_neutralises_formulas(void)
{
	struct audit_event ev;
	struct db_result *res = NULL;
	char *row = NULL, want[1024];
	size_t len = 0;
	const char *h = db_audit_csv_header();

	CU_ASSERT(strncmp(h, "id,ts,actor_type,", 17) == 0);
	CU_ASSERT(strcmp(h + strlen(h) - 2, "\r\n") == 0);
	memset(&ev, 0, sizeof(ev));
	ev.actor_type = AUDIT_ACTOR_USER;
	ev.actor_id = 5;
	ev.actor_name = "=cmd|' /C calc'!A0";
	ev.entity = "tenant";
	ev.entity_id = 9;
	ev.entity_name = "+a,b \"q\"";
	ev.action = "create";
	ev.outcome = AUDIT_FAILURE;
	ev.reason = "-2+3";
	ev.source_addr = "127.0.0.1";
	ev.details = "{\"a\":\n\"@x\"}";
	CU_ASSERT_EQUAL_FATAL(db_audit_append(tdb_app, &ev), 0);
	CU_ASSERT_EQUAL_FATAL(db_audit_query(tdb_app, NULL, 0, 1, &res), 0);
	CU_ASSERT_EQUAL_FATAL(db_audit_csv_row(res, 0, &row, &len), 0);
	snprintf(want, sizeof(want),
		 "%s,%s,user,5,'=cmd|' /C calc'!A0,,,tenant,9,"
		 "\"'+a,b \"\"q\"\"\",create,failure,'-2+3,127.0.0.1,"
		 "\"{\"\"a\"\":\n\"\"@x\"\"}\"\r\n",
		 db_result_str(res, 0, AUDIT_COL_ID, NULL),
		 db_result_str(res, 0, AUDIT_COL_TS, NULL));
	CU_ASSERT_STRING_EQUAL(row, want);
	CU_ASSERT_EQUAL(len, strlen(want));
	/* The ts column is ISO 8601 UTC with microseconds. */
	CU_ASSERT_EQUAL(strlen(db_result_str(res, 0, AUDIT_COL_TS, NULL)), 27);
	CU_ASSERT_EQUAL(db_result_str(res, 0, AUDIT_COL_TS, NULL)[10], 'T');
	CU_ASSERT_EQUAL(db_audit_csv_row(res, 1, &row, &len), EST_E_INVAL);
	free(row);
	db_result_free(res);
}

static CU_TestInfo audit_query_tests[] = {
	{"filters", test_query_filters},
	{"keyset pages", test_query_keyset_pages},
	{"bad filters refused", test_query_refuses_bad_filters},
	{"CSV escapes and neutralises formulas",
	 test_csv_escapes_and_neutralises_formulas},
	CU_TEST_INFO_NULL,
};

int
tdb_audit_query_suites(void)
{
	return test_add_suite("audit_query", query_init, NULL,
			      audit_query_tests);
}
