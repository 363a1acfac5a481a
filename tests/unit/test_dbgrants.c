/*
 * Tests of the database accounts' rights, after the migrations and the
 * grant scripts ran (suite "migrate" of test_db.c): the application
 * account's table-by-table rights and its append-only audit log, and the
 * report account that sees the report views and nothing else.  Part of
 * unit/test_db; see test_db.c for the environment.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "db.h"
#include "err.h"
#include "harness.h"
#include "test_db.h"

/* Statements that only the grant tests run. */
static const struct db_stmt_def t_stmts[] = {
#define T_TABLES 0
	{"t_tables",
	 "SELECT table_name, table_type FROM information_schema.tables"
	 " WHERE table_schema = DATABASE() ORDER BY table_name",
	 0},
#define T_PRIVS 1
	{"t_privs",
	 "SELECT table_name, privilege_type"
	 " FROM information_schema.table_privileges"
	 " WHERE table_schema = DATABASE()",
	 0},
#define T_AUDIT_INSERT 2
	{"t_audit_insert",
	 "INSERT INTO audit_log (actor_type, actor_name, entity, action,"
	 " outcome, details, prev_hash, row_hash)"
	 " VALUES ('system', 'test', 'tenant', 'create', 'success', ?, ?, ?)",
	 3},
#define T_AUDIT_SELECT 3
	{"t_audit_select", "SELECT details FROM audit_log WHERE id = ?", 1},
#define T_AUDIT_UPDATE 4
	{"t_audit_update",
	 "UPDATE audit_log SET outcome = 'failure' WHERE id = ?", 1},
#define T_AUDIT_DELETE 5
	{"t_audit_delete", "DELETE FROM audit_log WHERE id = ?", 1},
#define T_CREATE 6
	{"t_create", "CREATE TABLE t_app_ddl (x INT)", 0},
#define T_DROP 7
	{"t_drop", "DROP TABLE tenants", 0},
#define T_ALTER 8
	{"t_alter", "ALTER TABLE tenants ADD COLUMN t_x INT", 0},
#define T_TRUNCATE 9
	{"t_truncate", "TRUNCATE TABLE audit_log", 0},
#define T_SELECT_CERTS 10
	{"t_select_certs", "SELECT COUNT(*) FROM certificates", 0},
#define T_SELECT_AUDIT 11
	{"t_select_audit", "SELECT COUNT(*) FROM audit_log", 0},
#define T_SELECT_USERS 12
	{"t_select_users", "SELECT username, password_hash FROM users", 0},
};

/* One query per report view; test_report_views_listed keeps it complete. */
static const struct db_stmt_def t_views[] = {
	{"report_certificates_by_status",
	 "SELECT COUNT(*) FROM report_certificates_by_status", 0},
	{"report_certificates_by_ca",
	 "SELECT COUNT(*) FROM report_certificates_by_ca", 0},
	{"report_certificates_expiring",
	 "SELECT COUNT(*) FROM report_certificates_expiring"
	 " WHERE days_left < 30",
	 0},
	{"report_devices_by_mode",
	 "SELECT COUNT(*) FROM report_devices_by_mode", 0},
	{"report_devices_by_type",
	 "SELECT COUNT(*) FROM report_devices_by_type", 0},
	{"report_enrollments_per_day",
	 "SELECT COUNT(*) FROM report_enrollments_per_day", 0},
};
#define NVIEWS (sizeof(t_views) / sizeof(t_views[0]))

static struct db *report;

/* --- Grants --- */

static int
grants_init(void)
{
	const char *pw = getenv("ESTUARY_TEST_DB_REPORT_PW");

	if (pw == NULL || tdb_conf == NULL)
		return 1;
	if (db_connect(tdb_conf, DB_ROLE_APP, &tdb_app) != 0 ||
	    db_connect_as(conf_get(tdb_conf, "db_socket"),
			  conf_get(tdb_conf, "db_name"), "estuary_report", pw,
			  &report) != 0)
		return 1;
	return 0;
}

static int
grants_cleanup(void)
{
	db_close(report);
	report = NULL;
	return 0;
}

static void
test_app_appends_to_audit_log(void)
{
	struct db_result *res = NULL;
	struct db_param p[3];
	uint8_t prev[32] = {0}, row[32];
	uint64_t id = 0;
	const char *s;

	memset(row, 0xa5, sizeof(row));
	p[0] = DB_STR("{\"name\":\"acme\"}");
	p[1] = DB_BLOB(prev, sizeof(prev));
	p[2] = DB_BLOB(row, sizeof(row));
	CU_ASSERT_EQUAL(
		db_exec(tdb_app, &t_stmts[T_AUDIT_INSERT], p, 3, NULL, &id), 0);
	CU_ASSERT(id > 0);
	p[0] = DB_I64(id);
	CU_ASSERT_EQUAL(
		db_query_one(tdb_app, &t_stmts[T_AUDIT_SELECT], p, 1, &res), 0);
	if (res != NULL) {
		s = db_result_str(res, 0, 0, NULL);
		CU_ASSERT(s != NULL && strcmp(s, "{\"name\":\"acme\"}") == 0);
	}
	db_result_free(res);
	/* The CHECK keeps details JSON. */
	row[0] = 0x5a;
	p[0] = DB_STR("{not json");
	p[1] = DB_BLOB(prev, sizeof(prev));
	p[2] = DB_BLOB(row, sizeof(row));
	CU_ASSERT_EQUAL(
		db_exec(tdb_app, &t_stmts[T_AUDIT_INSERT], p, 3, NULL, NULL),
		EST_E_INVAL);
}

static void
test_app_cannot_change_audit_log(void)
{
	struct db_param p[1];

	p[0] = DB_I64(1);
	CU_ASSERT_EQUAL(
		db_exec(tdb_app, &t_stmts[T_AUDIT_UPDATE], p, 1, NULL, NULL),
		EST_E_DENIED);
	CU_ASSERT_EQUAL(
		db_exec(tdb_app, &t_stmts[T_AUDIT_DELETE], p, 1, NULL, NULL),
		EST_E_DENIED);
	CU_ASSERT_EQUAL(tdb_exec(tdb_app, &t_stmts[T_TRUNCATE]), EST_E_DENIED);
}

static void
test_app_has_no_ddl(void)
{
	int applied = -1;

	CU_ASSERT_EQUAL(tdb_exec(tdb_app, &t_stmts[T_CREATE]), EST_E_DENIED);
	CU_ASSERT_EQUAL(tdb_exec(tdb_app, &t_stmts[T_DROP]), EST_E_DENIED);
	CU_ASSERT_EQUAL(tdb_exec(tdb_app, &t_stmts[T_ALTER]), EST_E_DENIED);
	CU_ASSERT_EQUAL(db_migrate(tdb_app, tdb_migrations, &applied),
			EST_E_DENIED);
	CU_ASSERT_EQUAL(applied, -1);
}

/* Does the grant script name table as "ON table"? */
static int
script_grants(const char *script, const char *table)
{
	const char *p = script;
	size_t n = strlen(table);

	while ((p = strstr(p, " ON ")) != NULL) {
		p += 4;
		if (strncmp(p, table, n) == 0 &&
		    (p[n] == ' ' || p[n] == '\n' || p[n] == '\t'))
			return 1;
	}
	return 0;
}

static char *
read_text(const char *dir, const char *name)
{
	char path[4096], *buf = NULL;
	struct stat sb;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (fstat(fileno(f), &sb) == 0 &&
	    (buf = calloc(1, (size_t)sb.st_size + 1)) != NULL &&
	    fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void
test_every_table_in_app_grant_script(void)
{
	struct db_result *tables = NULL;
	char *script = read_text(tdb_migrations, "grants-app.sql");
	const char *t;
	size_t i;

	CU_ASSERT_FATAL(script != NULL);
	CU_ASSERT_EQUAL_FATAL(
		db_query(tdb_admin, &t_stmts[T_TABLES], NULL, 0, &tables), 0);
	/* 31 tables, the migration record and the report views. */
	CU_ASSERT(db_result_rows(tables) >= 32 + NVIEWS);
	for (i = 0; i < db_result_rows(tables); i++) {
		t = db_result_str(tables, i, 0, NULL);
		if (!script_grants(script, t)) {
			fprintf(stderr, "grants-app.sql lacks table %s\n", t);
			CU_FAIL("a table is missing from grants-app.sql");
		}
	}
	db_result_free(tables);
	free(script);
}

/* The privileges of the caller on table, as a bit set. */
#define P_SELECT 1
#define P_INSERT 2
#define P_UPDATE 4
#define P_DELETE 8
#define P_OTHER 16

static int
privs_of(const struct db_result *privs, const char *table)
{
	const char *t, *p;
	size_t i;
	int bits = 0;

	for (i = 0; i < db_result_rows(privs); i++) {
		t = db_result_str(privs, i, 0, NULL);
		p = db_result_str(privs, i, 1, NULL);
		if (t == NULL || p == NULL || strcmp(t, table) != 0)
			continue;
		if (strcmp(p, "SELECT") == 0)
			bits |= P_SELECT;
		else if (strcmp(p, "INSERT") == 0)
			bits |= P_INSERT;
		else if (strcmp(p, "UPDATE") == 0)
			bits |= P_UPDATE;
		else if (strcmp(p, "DELETE") == 0)
			bits |= P_DELETE;
		else
			bits |= P_OTHER;
	}
	return bits;
}

static void
test_app_granted_every_table(void)
{
	struct db_result *tables = NULL, *privs = NULL;
	const char *t, *type;
	size_t i;
	int want, got;

	CU_ASSERT_EQUAL_FATAL(
		db_query(tdb_admin, &t_stmts[T_TABLES], NULL, 0, &tables), 0);
	CU_ASSERT_EQUAL_FATAL(
		db_query(tdb_app, &t_stmts[T_PRIVS], NULL, 0, &privs), 0);
	for (i = 0; i < db_result_rows(tables); i++) {
		t = db_result_str(tables, i, 0, NULL);
		type = db_result_str(tables, i, 1, NULL);
		if (strcmp(type, "VIEW") == 0 ||
		    strcmp(t, "schema_migrations") == 0)
			want = P_SELECT;
		else if (strcmp(t, "audit_log") == 0)
			want = P_SELECT | P_INSERT;
		else if (strcmp(t, "audit_head") == 0)
			want = P_SELECT | P_UPDATE;
		else
			want = P_SELECT | P_INSERT | P_UPDATE | P_DELETE;
		if ((got = privs_of(privs, t)) != want) {
			fprintf(stderr,
				"estuary_app on %s: rights %#x, want "
				"%#x\n",
				t, (unsigned)got, (unsigned)want);
			CU_FAIL("estuary_app has the wrong rights on a table");
		}
	}
	db_result_free(tables);
	db_result_free(privs);
}

static void
test_report_views_listed(void)
{
	struct db_result *tables = NULL;
	const char *t, *type;
	size_t i, j, nviews = 0;
	int found;

	CU_ASSERT_EQUAL_FATAL(
		db_query(tdb_admin, &t_stmts[T_TABLES], NULL, 0, &tables), 0);
	for (i = 0; i < db_result_rows(tables); i++) {
		t = db_result_str(tables, i, 0, NULL);
		type = db_result_str(tables, i, 1, NULL);
		if (strcmp(type, "VIEW") != 0)
			continue;
		nviews++;
		for (found = 0, j = 0; j < NVIEWS; j++)
			if (strcmp(t_views[j].name, t) == 0)
				found = 1;
		CU_ASSERT(found);
	}
	CU_ASSERT_EQUAL(nviews, NVIEWS);
	db_result_free(tables);
}

static void
test_report_reads_only_views(void)
{
	struct db_result *res = NULL;
	size_t i;

	for (i = 0; i < NVIEWS; i++) {
		CU_ASSERT_EQUAL(
			db_query_one(report, &t_views[i], NULL, 0, &res), 0);
		db_result_free(res);
		res = NULL;
	}
	CU_ASSERT_EQUAL(tdb_exec(report, &t_stmts[T_SELECT_CERTS]),
			EST_E_DENIED);
	CU_ASSERT_EQUAL(tdb_exec(report, &t_stmts[T_SELECT_AUDIT]),
			EST_E_DENIED);
	CU_ASSERT_EQUAL(tdb_exec(report, &t_stmts[T_SELECT_USERS]),
			EST_E_DENIED);
	CU_ASSERT_EQUAL(tdb_exec(report, &t_stmts[T_CREATE]), EST_E_DENIED);
	/* What the account can see of the schema is the views, no more. */
	CU_ASSERT_EQUAL_FATAL(
		db_query(report, &t_stmts[T_TABLES], NULL, 0, &res), 0);
	CU_ASSERT_EQUAL(db_result_rows(res), NVIEWS);
	for (i = 0; i < db_result_rows(res); i++)
		CU_ASSERT_STRING_EQUAL(db_result_str(res, i, 1, NULL), "VIEW");
	db_result_free(res);
}

static CU_TestInfo grant_tests[] = {
	{"app appends to the audit log", test_app_appends_to_audit_log},
	{"app cannot change the audit log", test_app_cannot_change_audit_log},
	{"app has no DDL", test_app_has_no_ddl},
	{"every table in grants-app.sql", test_every_table_in_app_grant_script},
	{"app granted every table", test_app_granted_every_table},
	{"report views listed", test_report_views_listed},
	{"report account reads only views", test_report_reads_only_views},
	CU_TEST_INFO_NULL,
};

int
tdb_grant_suites(void)
{
	return test_add_suite("grants", grants_init, grants_cleanup,
			      grant_tests);
}
