/*
 * Tests of the data layer's multi-row statements, which group commit
 * uses: the definitions of db_multi_def(), the copies of db_result_row(),
 * and several certificate rows in one INSERT ... RETURNING
 * (db_cert_insert_rows); test_dbaudit_many.c has the audit rows' side.
 * Part of unit/test_db; see test_db.c for the environment.
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
#include "cert.h"
#include "db.h"
#include "dbpriv.h"
#include "dbq.h"
#include "err.h"
#include "harness.h"
#include "sigproto.h"
#include "test_db.h"

static const struct db_stmt_def m_stmts[] = {
#define M_CREATE 0
	{"m_create",
	 "CREATE TEMPORARY TABLE t_multi ("
	 " id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,"
	 " i BIGINT NULL, s VARCHAR(64) NULL, b BLOB NULL)"
	 " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	 0},
#define M_CLEAR 1
	{"m_clear", "DELETE FROM t_multi", 0},
#define M_ALL 2
	{"m_all", "SELECT id, i, s, b FROM t_multi ORDER BY id", 0},
#define M_SERIAL_COUNT 3
	{"m_serial_count", "SELECT COUNT(*) FROM certificates WHERE serial = ?",
	 1},
};

/* A multi-row statement of the test's own, on its temporary table. */
static struct db_multi t_insert = {"t_multi_insert",
				   "INSERT INTO t_multi (i, s, b) VALUES ",
				   "(?, ?, ?)",
				   " RETURNING id",
				   3,
				   {{0}}};

int64_t
tdb_count(const struct db_stmt_def *def, const struct db_param *p, size_t np)
{
	struct db_result *res = NULL;
	int64_t n;

	if (db_query_one(tdb_admin, def, p, np, &res) != 0)
		return -1;
	n = db_result_i64(res, 0, 0);
	db_result_free(res);
	return n;
}

/*
 * A pointer that no function under test returns: out-parameters set to it
 * show whether a refusal touched them.
 */
static max_align_t junk;
#define MARK ((struct db_result *)(void *)&junk)

/* Occurrences of needle in s. */
static size_t
occurrences(const char *s, const char *needle)
{
	size_t n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* --- db_multi_def --- */

static void
test_multi_def_shapes(void)
{
	static const size_t ns[] = {1, 2, DB_MULTI_MAX};
	const struct db_stmt_def *d, *seen[3];
	const char *sql;
	char want[1024];
	size_t k, i, n;

	for (k = 0; k < 3; k++) {
		n = ns[k];
		CU_ASSERT_PTR_NOT_NULL_FATAL(d = db_multi_def(&t_insert, n));
		snprintf(want, sizeof(want), "%s", t_insert.head);
		for (i = 0; i < n; i++) {
			if (i > 0)
				strcat(want, ", ");
			strcat(want, t_insert.row);
		}
		strcat(want, t_insert.tail);
		CU_ASSERT_STRING_EQUAL(d->sql, want);
		CU_ASSERT_EQUAL(occurrences(d->sql, "(?, ?, ?)"), n);
		CU_ASSERT_EQUAL(occurrences(d->sql, "?"), 3 * n);
		CU_ASSERT_EQUAL(d->nparams, 3 * n);
		CU_ASSERT_PTR_EQUAL(d->name, t_insert.name);
		/*
		 * Made once: the statement cache is keyed by the pointer,
		 * and the text is not made again.
		 */
		sql = d->sql;
		CU_ASSERT_PTR_EQUAL(db_multi_def(&t_insert, n), d);
		CU_ASSERT_PTR_EQUAL(d->sql, sql);
		seen[k] = d;
	}
	CU_ASSERT(seen[0] != seen[1] && seen[1] != seen[2]);
	CU_ASSERT_PTR_NULL(db_multi_def(&t_insert, 0));
	CU_ASSERT_PTR_NULL(db_multi_def(&t_insert, DB_MULTI_MAX + 1));
}

/* The server agrees on the parameters and writes every row, in order. */
static void
test_multi_def_runs(void)
{
	static const size_t ns[] = {1, 2, DB_MULTI_MAX};
	struct db_param p[3 * DB_MULTI_MAX];
	struct db_result *res = NULL;
	const struct db_stmt_def *d;
	char s[DB_MULTI_MAX][48], want[48];
	uint8_t b[DB_MULTI_MAX][2];
	size_t k, i, n, row = 0, len;
	const char *v;

	CU_ASSERT_EQUAL_FATAL(tdb_exec(tdb_admin, &m_stmts[M_CLEAR]), 0);
	for (k = 0; k < 3; k++) {
		n = ns[k];
		CU_ASSERT_PTR_NOT_NULL_FATAL(d = db_multi_def(&t_insert, n));
		for (i = 0; i < n; i++) {
			snprintf(s[i], sizeof(s[i]), "n%zu-r%zu", n, i);
			b[i][0] = 0;
			b[i][1] = (uint8_t)i;
			p[3 * i] = DB_I64(i);
			p[3 * i + 1] = DB_STR(s[i]);
			p[3 * i + 2] = DB_BLOB(b[i], 2);
		}
		CU_ASSERT_EQUAL_FATAL(db_query(tdb_admin, d, p, 3 * n, &res),
				      0);
		CU_ASSERT_EQUAL(db_result_rows(res), n);
		for (i = 1; i < db_result_rows(res); i++)
			CU_ASSERT(db_result_i64(res, i, 0) >
				  db_result_i64(res, i - 1, 0));
		db_result_free(res);
		res = NULL;
	}
	CU_ASSERT_EQUAL_FATAL(
		db_query(tdb_admin, &m_stmts[M_ALL], NULL, 0, &res), 0);
	CU_ASSERT_EQUAL_FATAL(db_result_rows(res), 1 + 2 + DB_MULTI_MAX);
	for (k = 0; k < 3; k++)
		for (i = 0; i < ns[k]; i++, row++) {
			snprintf(want, sizeof(want), "n%zu-r%zu", ns[k], i);
			CU_ASSERT_EQUAL(db_result_i64(res, row, 1), (int64_t)i);
			CU_ASSERT_STRING_EQUAL(db_result_str(res, row, 2, NULL),
					       want);
			v = db_result_str(res, row, 3, &len);
			CU_ASSERT(v != NULL && len == 2 && v[0] == 0 &&
				  (uint8_t)v[1] == i);
		}
	db_result_free(res);
}

/* --- db_result_row --- */

static const uint8_t blob0[] = {0x00, 'a', 0x00, 'b'};
static const uint8_t blob2[] = {0x00};

/* Row 0 of copy holds what row i of r holds, in storage of its own. */
static void
check_copy(const struct db_result *copy, const struct db_result *r, size_t i)
{
	const char *a, *b;
	size_t c, alen, blen;

	CU_ASSERT_EQUAL(db_result_rows(copy), 1);
	CU_ASSERT_EQUAL_FATAL(db_result_cols(copy), db_result_cols(r));
	for (c = 0; c < db_result_cols(r); c++) {
		a = db_result_str(copy, 0, c, &alen);
		b = db_result_str(r, i, c, &blen);
		CU_ASSERT_EQUAL(db_result_isnull(copy, 0, c),
				db_result_isnull(r, i, c));
		if (a == NULL || b == NULL)
			continue;
		CU_ASSERT(a != b);
		CU_ASSERT_EQUAL(alen, blen);
		CU_ASSERT(alen == blen && memcmp(a, b, alen) == 0);
		CU_ASSERT_EQUAL(a[alen], '\0');
	}
}

static void
test_result_row_copies(void)
{
	struct db_param p[9];
	struct db_result *ret = NULL, *all = NULL, *cp[3] = {NULL, NULL, NULL};
	struct db_result *out = MARK;
	const struct db_stmt_def *d;
	const char *v;
	size_t i, len = 99;
	int64_t ids[3];

	CU_ASSERT_EQUAL_FATAL(tdb_exec(tdb_admin, &m_stmts[M_CLEAR]), 0);
	/* Values, NULLs, an empty string and bytes around NULs. */
	p[0] = DB_I64(7);
	p[1] = DB_STR("seven");
	p[2] = DB_BLOB(blob0, sizeof(blob0));
	p[3] = DB_NULL;
	p[4] = DB_STRN("", 0);
	p[5] = DB_NULL;
	p[6] = DB_I64(-9);
	p[7] = DB_NULL;
	p[8] = DB_BLOB(blob2, sizeof(blob2));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d = db_multi_def(&t_insert, 3));
	CU_ASSERT_EQUAL_FATAL(db_query(tdb_admin, d, p, 9, &ret), 0);
	CU_ASSERT_EQUAL_FATAL(db_result_rows(ret), 3);
	for (i = 0; i < 3; i++)
		ids[i] = db_result_i64(ret, i, 0);
	db_result_free(ret);
	CU_ASSERT_EQUAL_FATAL(
		db_query(tdb_admin, &m_stmts[M_ALL], NULL, 0, &all), 0);
	CU_ASSERT_EQUAL_FATAL(db_result_rows(all), 3);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL_FATAL(db_result_row(all, i, &cp[i]), 0);
		check_copy(cp[i], all, i);
	}
	/* Out of range: refused, and *out is left alone. */
	CU_ASSERT_EQUAL(db_result_row(all, 3, &out), EST_E_INVAL);
	CU_ASSERT_EQUAL(db_result_row(all, SIZE_MAX, &out), EST_E_INVAL);
	CU_ASSERT_EQUAL(db_result_row(NULL, 0, &out), EST_E_INVAL);
	CU_ASSERT_PTR_EQUAL(out, MARK);
	/*
	 * The original is wiped as it is freed (freezero), so a copy that
	 * shared its storage would read zeros here.
	 */
	db_result_free(all);
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(db_result_i64(cp[i], 0, 0), ids[i]);
	CU_ASSERT_EQUAL(db_result_i64(cp[0], 0, 1), 7);
	CU_ASSERT_STRING_EQUAL(db_result_str(cp[0], 0, 2, NULL), "seven");
	v = db_result_str(cp[0], 0, 3, &len);
	CU_ASSERT(v != NULL && len == sizeof(blob0) &&
		  memcmp(v, blob0, len) == 0);
	CU_ASSERT(db_result_isnull(cp[1], 0, 1));
	v = db_result_str(cp[1], 0, 2, &len);
	CU_ASSERT(v != NULL && len == 0);
	CU_ASSERT(db_result_isnull(cp[1], 0, 3));
	CU_ASSERT_EQUAL(db_result_i64(cp[2], 0, 1), -9);
	CU_ASSERT(db_result_isnull(cp[2], 0, 2));
	v = db_result_str(cp[2], 0, 3, &len);
	CU_ASSERT(v != NULL && len == 1 && v[0] == 0);
	/* A copy holds one row only. */
	CU_ASSERT_PTR_NULL(db_result_str(cp[0], 1, 0, NULL));
	for (i = 0; i < 3; i++)
		db_result_free(cp[i]);
}

/* --- db_cert_insert_rows --- */

static int64_t ca_one, ca_two;
static const char *const subj_one = "CN=Multi One,O=Estuary Test";
static const char *const subj_two = "CN=Multi Two,O=Estuary Test";

/* A pending CA (no certificate yet) may be referred to by rows. */
static int
ca_make(const char *name, const char *subject, uint8_t k, int64_t *id)
{
	struct db_ca ca;

	memset(&ca, 0, sizeof(ca));
	ca.name = (char *)name;
	ca.subject = (char *)subject;
	ca.keytype = SIGNER_KEY_EC_P256;
	ca.scope = (char *)SCOPE_GLOBAL;
	ca.active = 1;
	ca.path_len = -1;
	memset(ca.key_id, 0x4d, sizeof(ca.key_id));
	ca.key_id[15] = k;
	return db_ca_insert(tdb_app, &ca, id);
}

static int
multi_init(void)
{
	if (tdb_app == NULL || tdb_admin == NULL ||
	    tdb_exec(tdb_admin, &m_stmts[M_CREATE]) != 0 ||
	    ca_make("Multi One", subj_one, 1, &ca_one) != 0 ||
	    ca_make("Multi Two", subj_two, 2, &ca_two) != 0)
		return 1;
	return 0;
}

/* A certificate row and the storage behind it. */
struct tcert {
	struct db_cert_new n;
	uint8_t serial[4];
	uint8_t fp[32];
	uint8_t der[6];
	char subject[48];
	char cn[24];
};

static unsigned next_fp; /* fingerprints are unique across the table */

/*
 * Serial k of CA ca_id (each test uses its own hundred); its magnitude
 * holds a NUL byte.
 */
static void
tcert_init(struct tcert *t, int64_t ca_id, unsigned k)
{
	time_t now = time(NULL);

	memset(t, 0, sizeof(*t));
	t->serial[0] = 0x4d;
	t->serial[1] = 0x00;
	t->serial[2] = (uint8_t)(k >> 8);
	t->serial[3] = (uint8_t)k;
	memset(t->fp, 0xf1, sizeof(t->fp));
	next_fp++;
	memcpy(t->fp, &next_fp, sizeof(next_fp));
	t->der[0] = 0x30;
	t->der[1] = 0x04;
	t->der[3] = (uint8_t)k;
	t->der[4] = (uint8_t)(next_fp >> 8);
	t->der[5] = (uint8_t)next_fp;
	snprintf(t->cn, sizeof(t->cn), "multi-%u", k);
	snprintf(t->subject, sizeof(t->subject), "CN=%s", t->cn);
	t->n.ca_id = ca_id;
	t->n.serial = t->serial;
	t->n.serial_len = sizeof(t->serial);
	t->n.fingerprint = t->fp;
	t->n.subject = t->subject;
	t->n.subject_cn = t->cn;
	t->n.not_before = now - 60;
	t->n.not_after = now + 86400L * 30 + k;
	t->n.kind = DB_CERT_KIND_OPERATIONAL;
	t->n.key_type = SIGNER_KEY_EC_P256;
	t->n.key_source = DB_CERT_SRC_CSR;
	t->n.der = t->der;
	t->n.derlen = sizeof(t->der);
	t->n.issued_via = "api";
	t->n.created_by_type = "system";
}

static int64_t
serial_rows(const struct tcert *t)
{
	struct db_param p[1];

	p[0] = DB_BLOB(t->serial, sizeof(t->serial));
	return tdb_count(&m_stmts[M_SERIAL_COUNT], p, 1);
}

int
tdb_col_is(const struct db_result *r, size_t col, const void *want, size_t len)
{
	const char *v;
	size_t got = 0;

	v = db_result_str(r, 0, col, &got);
	return v != NULL && got == len && memcmp(v, want, len) == 0;
}

/* Every column of row 0 of a and of b holds the same. */
static int
same_row(const struct db_result *a, const struct db_result *b)
{
	const char *x;
	size_t c, len = 0;

	if (db_result_rows(a) != 1 || db_result_rows(b) != 1 ||
	    db_result_cols(a) != db_result_cols(b))
		return 0;
	for (c = 0; c < db_result_cols(a); c++) {
		if (db_result_isnull(a, 0, c) != db_result_isnull(b, 0, c))
			return 0;
		x = db_result_str(b, 0, c, &len);
		if (x != NULL && !tdb_col_is(a, c, x, len))
			return 0;
	}
	return 1;
}

/*
 * rows[i] answers for t[i] (its CA's subject as the issuer) and is what
 * db_cert_get() reads; the ids follow the order of VALUES.
 */
static void
check_rows(struct tcert *t, struct db_result **rows, size_t n)
{
	struct db_result *got = NULL;
	const char *issuer;
	int64_t id, prev = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(rows[i]);
		CU_ASSERT_EQUAL(db_result_rows(rows[i]), 1);
		CU_ASSERT_EQUAL(db_result_cols(rows[i]), DB_CERT_NCOLS);
		id = db_result_i64(rows[i], 0, DB_CERT_ID);
		CU_ASSERT(id > prev);
		prev = id;
		CU_ASSERT_EQUAL(db_result_i64(rows[i], 0, DB_CERT_CA_ID),
				t[i].n.ca_id);
		CU_ASSERT(tdb_col_is(rows[i], DB_CERT_SERIAL, t[i].serial,
				     sizeof(t[i].serial)));
		CU_ASSERT(
			tdb_col_is(rows[i], DB_CERT_FINGERPRINT, t[i].fp, 32));
		CU_ASSERT(tdb_col_is(rows[i], DB_CERT_DER, t[i].der,
				     sizeof(t[i].der)));
		CU_ASSERT_STRING_EQUAL(
			db_result_str(rows[i], 0, DB_CERT_SUBJECT, NULL),
			t[i].subject);
		CU_ASSERT_EQUAL(db_cert_time(db_result_str(
					rows[i], 0, DB_CERT_NOT_AFTER, NULL)),
				(int64_t)t[i].n.not_after);
		issuer = t[i].n.ca_id == ca_one ? subj_one : subj_two;
		CU_ASSERT_STRING_EQUAL(
			db_result_str(rows[i], 0, DB_CERT_ISSUER, NULL),
			issuer);
		CU_ASSERT_EQUAL_FATAL(db_cert_get(tdb_app, id, 0, &got), 0);
		CU_ASSERT(same_row(rows[i], got));
		db_result_free(got);
		got = NULL;
	}
}

static void
rows_free(struct db_result **rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		db_result_free(rows[i]);
		rows[i] = NULL;
	}
}

static void
test_cert_rows_two_cas(void)
{
	struct tcert t[3];
	const struct db_cert_new *c[3];
	struct db_result *rows[3] = {NULL, NULL, NULL};
	size_t i;

	tcert_init(&t[0], ca_one, 101);
	tcert_init(&t[1], ca_two, 102);
	tcert_init(&t[2], ca_one, 103);
	for (i = 0; i < 3; i++)
		c[i] = &t[i].n;
	CU_ASSERT_EQUAL_FATAL(db_cert_insert_rows(tdb_app, c, 3, rows), 0);
	check_rows(t, rows, 3);
	rows_free(rows, 3);
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(serial_rows(&t[i]), 1);
	/* Another CA may use the same serial, in the same statement. */
	tcert_init(&t[0], ca_one, 104);
	tcert_init(&t[1], ca_two, 104);
	CU_ASSERT_EQUAL_FATAL(db_cert_insert_rows(tdb_app, c, 2, rows), 0);
	check_rows(t, rows, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rows[1]);
	CU_ASSERT_EQUAL(db_result_i64(rows[1], 0, DB_CERT_CA_ID), ca_two);
	CU_ASSERT_STRING_EQUAL(db_result_str(rows[1], 0, DB_CERT_ISSUER, NULL),
			       subj_two);
	CU_ASSERT_EQUAL(serial_rows(&t[1]), 2);
	rows_free(rows, 2);
}

/* One bad row of a batch: none of its rows is written. */
static void
test_cert_rows_all_or_none(void)
{
	struct tcert t[3], old;
	const struct db_cert_new *c[3];
	struct db_result *rows[3];
	size_t i;

	tcert_init(&old, ca_one, 201);
	c[0] = &old.n;
	CU_ASSERT_EQUAL_FATAL(db_cert_insert_rows(tdb_app, c, 1, rows), 0);
	rows_free(rows, 1);
	/* The middle row takes the serial of old (same CA). */
	tcert_init(&t[0], ca_two, 202);
	tcert_init(&t[1], ca_one, 201);
	tcert_init(&t[2], ca_one, 203);
	for (i = 0; i < 3; i++) {
		c[i] = &t[i].n;
		rows[i] = MARK;
	}
	CU_ASSERT_EQUAL(db_cert_insert_rows(tdb_app, c, 3, rows), EST_E_EXISTS);
	for (i = 0; i < 3; i++)
		CU_ASSERT_PTR_NULL(rows[i]);
	CU_ASSERT_EQUAL(serial_rows(&t[0]), 0);
	CU_ASSERT_EQUAL(serial_rows(&t[1]), 1);
	CU_ASSERT_EQUAL(serial_rows(&t[2]), 0);
	/* Two rows of the batch with one serial of one CA. */
	tcert_init(&t[0], ca_two, 204);
	tcert_init(&t[1], ca_two, 204);
	CU_ASSERT_EQUAL(db_cert_insert_rows(tdb_app, c, 2, rows), EST_E_EXISTS);
	CU_ASSERT_EQUAL(serial_rows(&t[0]), 0);
	/* Inside a transaction, the rows of an earlier batch stay. */
	CU_ASSERT_EQUAL_FATAL(db_begin(tdb_app), 0);
	tcert_init(&t[0], ca_two, 205);
	CU_ASSERT_EQUAL(db_cert_insert_rows(tdb_app, c, 1, rows), 0);
	rows_free(rows, 1);
	tcert_init(&t[0], ca_two, 206);
	tcert_init(&t[1], ca_two, 205);
	CU_ASSERT_EQUAL(db_cert_insert_rows(tdb_app, c, 2, rows), EST_E_EXISTS);
	CU_ASSERT_EQUAL(db_commit(tdb_app), 0);
	CU_ASSERT_EQUAL(serial_rows(&t[0]), 0);
	CU_ASSERT_EQUAL(serial_rows(&t[1]), 1);
	/* A row that breaks the rules: refused before anything runs. */
	tcert_init(&t[0], ca_one, 207);
	tcert_init(&t[1], ca_one, 208);
	t[1].n.serial_len = 0;
	rows[0] = rows[1] = MARK;
	CU_ASSERT_EQUAL(db_cert_insert_rows(tdb_app, c, 2, rows), EST_E_INVAL);
	CU_ASSERT_EQUAL(serial_rows(&t[0]), 0);
	CU_ASSERT(rows[0] == NULL && rows[1] == NULL);
	rows[0] = MARK;
	CU_ASSERT_EQUAL(db_cert_insert_rows(tdb_app, c, 0, rows), EST_E_INVAL);
}

static void
test_cert_rows_most(void)
{
	struct tcert t[DB_MULTI_MAX];
	const struct db_cert_new *c[DB_MULTI_MAX];
	struct db_result *rows[DB_MULTI_MAX];
	size_t i;

	for (i = 0; i < DB_MULTI_MAX; i++) {
		tcert_init(&t[i], i % 3 ? ca_one : ca_two, 301 + (unsigned)i);
		c[i] = &t[i].n;
	}
	CU_ASSERT_EQUAL_FATAL(
		db_cert_insert_rows(tdb_app, c, DB_MULTI_MAX, rows), 0);
	check_rows(t, rows, DB_MULTI_MAX);
	rows_free(rows, DB_MULTI_MAX);
}

static CU_TestInfo multi_tests[] = {
	{"multi-row definitions", test_multi_def_shapes},
	{"multi-row statements run", test_multi_def_runs},
	{"result row copies", test_result_row_copies},
	{"certificate rows of two CAs", test_cert_rows_two_cas},
	{"certificate rows all or none", test_cert_rows_all_or_none},
	{"most certificate rows", test_cert_rows_most},
	CU_TEST_INFO_NULL,
};

int
tdb_multi_suites(void)
{
	return test_add_suite("multi", multi_init, NULL, multi_tests);
}
