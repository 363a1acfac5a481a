/*
 * Tests of the data layer against a real MariaDB server, which
 * run-db-tests.sh starts and describes in the environment:
 *
 *	ESTUARY_CONF		estuary.conf naming the socket and accounts
 *	ESTUARY_MIGRATIONS	the db/ directory (migrations, grant scripts)
 *	ESTUARY_TEST_DB_REPORT_PW  password file of estuary_report
 *	ESTUARY_TEST_DB_GRANT	command that applies the grants and views
 *	ESTUARY_TEST_DB_STOP, ESTUARY_TEST_DB_START  stop / start the server
 *
 * The suites run in order on one database: the migrations first (from an
 * empty database), then the grants, the domain queries, the binding of
 * values, and last the reconnection after a server restart.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "db.h"
#include "dbpriv.h"
#include "dbq.h"
#include "err.h"
#include "harness.h"
#include "test_db.h"

struct conf *tdb_conf;
struct db *tdb_admin;
struct db *tdb_app;
const char *tdb_migrations;
static int top_version;	     /* highest NNN of db/, from the file names */
static int nfiles;	     /* number of migration files in db/ */
static char first_file[256]; /* the lowest-numbered one, and the highest */
static char top_file[256];

/* Statements that only the migration tests run. */
static const struct db_stmt_def t_stmts[] = {
#define T_DROP_MIGTEST 0
	{"t_drop_migtest", "DROP TABLE t_migrate", 0},
#define T_FORGET_MIGTEST 1
	{"t_forget_migtest",
	 "DELETE FROM schema_migrations WHERE version = 900", 0},
#define T_MIGTEST_INSERT 2
	{"t_migtest_insert", "INSERT INTO t_migrate (x) VALUES (5)", 0},
#define T_MIGTEST_SELECT 3
	{"t_migtest_select", "SELECT x FROM t_migrate", 0},
};

int
tdb_exec(struct db *db, const struct db_stmt_def *def)
{
	return db_exec(db, def, NULL, 0, NULL, NULL);
}

/* --- The statement splitter (no server needed) --- */

struct split_log {
	unsigned n;
	char stmt[4][256];
	int fail_at;
};

static int
split_cb(void *arg, const char *stmt, size_t len, unsigned n)
{
	struct split_log *l = arg;

	if (n < 4 && len < sizeof(l->stmt[0]))
		memcpy(l->stmt[n - 1], stmt, len + 1);
	l->n = n;
	return (int)n == l->fail_at ? 7 : 0;
}

static int
split(const char *text, struct split_log *l)
{
	memset(l, 0, sizeof(*l));
	return db_sql_split(text, strlen(text), split_cb, l);
}

static void
test_split_statements_end_at_line_end(void)
{
	struct split_log l;

	CU_ASSERT_EQUAL(split("CREATE TABLE a (\n\tx INT\n);\n"
			      "-- a comment;\n"
			      "INSERT INTO a VALUES (';');  \r\n",
			      &l),
			0);
	CU_ASSERT_EQUAL(l.n, 2);
	CU_ASSERT_STRING_EQUAL(l.stmt[0], "CREATE TABLE a (\n\tx INT\n)");
	CU_ASSERT_STRING_EQUAL(l.stmt[1], "INSERT INTO a VALUES (';')");
}

static void
test_split_drops_comment_lines(void)
{
	struct split_log l;

	CU_ASSERT_EQUAL(
		split("SELECT 1,\n  -- not this;\n# nor this;\n2;\n", &l), 0);
	CU_ASSERT_EQUAL(l.n, 1);
	CU_ASSERT_STRING_EQUAL(l.stmt[0], "SELECT 1,\n2");
}

static void
test_split_refuses_missing_terminator(void)
{
	struct split_log l;

	CU_ASSERT_EQUAL(split("SELECT 1;\nSELECT 2\n", &l), EST_E_INVAL);
	CU_ASSERT_EQUAL(split("SELECT 1; SELECT 2", &l), EST_E_INVAL);
	CU_ASSERT_EQUAL(split("  \n-- only a comment\n\n", &l), 0);
	CU_ASSERT_EQUAL(l.n, 0);
}

static void
test_split_delimiter_for_triggers(void)
{
	struct split_log l;

	CU_ASSERT_EQUAL(split("DELIMITER //\n"
			      "CREATE TRIGGER t BEFORE INSERT ON a\n"
			      "FOR EACH ROW BEGIN\n"
			      "\tSET NEW.x = 1;\n"
			      "END//\n"
			      "DELIMITER ;\n"
			      "SELECT 2;\n",
			      &l),
			0);
	CU_ASSERT_EQUAL(l.n, 2);
	CU_ASSERT_STRING_EQUAL(
		l.stmt[0],
		"CREATE TRIGGER t BEFORE INSERT ON a\nFOR EACH ROW BEGIN\n"
		"\tSET NEW.x = 1;\nEND");
	CU_ASSERT_STRING_EQUAL(l.stmt[1], "SELECT 2");
	/* A delimiter change inside a statement is not one. */
	CU_ASSERT_EQUAL(split("SELECT\nDELIMITER //\n1;\n", &l), 0);
	CU_ASSERT_EQUAL(l.n, 1);
	CU_ASSERT_EQUAL(split("DELIMITER\n", &l), EST_E_INVAL);
}

static void
test_split_callback_error_stops(void)
{
	struct split_log l;

	memset(&l, 0, sizeof(l));
	l.fail_at = 2;
	CU_ASSERT_EQUAL(db_sql_split("SELECT 1;\nSELECT 2;\nSELECT 3;\n", 30,
				     split_cb, &l),
			7);
	CU_ASSERT_EQUAL(l.n, 2);
}

/* --- Migrations --- */

static int
is_migration(const char *name, int *num)
{
	char *end;
	long v;

	v = strtol(name, &end, 10);
	if (end == name || *end != '_' || strlen(name) < 5 ||
	    strcmp(name + strlen(name) - 4, ".sql") != 0)
		return 0;
	*num = (int)v;
	return 1;
}

/* Copies the migrations of db/ into a new directory under TMPDIR. */
static char *
copy_migrations(void)
{
	static char dir[4096];
	char src[8192], dst[8192], buf[8192];
	struct dirent *de;
	const char *tmp = getenv("TMPDIR");
	DIR *d;
	ssize_t n;
	int in, out, num;

	snprintf(dir, sizeof(dir), "%s/migrations.XXXXXX",
		 tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || (d = opendir(tdb_migrations)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (!is_migration(de->d_name, &num))
			continue;
		snprintf(src, sizeof(src), "%s/%s", tdb_migrations, de->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", dir, de->d_name);
		if ((in = open(src, O_RDONLY)) == -1)
			continue;
		if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644)) ==
		    -1) {
			close(in);
			continue;
		}
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				break;
		close(in);
		close(out);
	}
	closedir(d);
	return dir;
}

static void
remove_dir(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int
write_file(const char *dir, const char *name, const char *text, int append)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, append ? "a" : "w")) == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int
migrate_init(void)
{
	char err[256];
	struct dirent *de;
	DIR *d;
	int num, low = 0;

	if ((tdb_migrations = getenv("ESTUARY_MIGRATIONS")) == NULL ||
	    getenv("ESTUARY_CONF") == NULL) {
		fprintf(stderr, "test_db: run me through run-db-tests.sh\n");
		return 1;
	}
	if (estuary_conf_load(getenv("ESTUARY_CONF"), &tdb_conf, err,
			      sizeof(err)) != 0) {
		fprintf(stderr, "test_db: %s\n", err);
		return 1;
	}
	if ((d = opendir(tdb_migrations)) == NULL)
		return 1;
	while ((de = readdir(d)) != NULL) {
		if (!is_migration(de->d_name, &num))
			continue;
		if (nfiles == 0 || num < low) {
			low = num;
			snprintf(first_file, sizeof(first_file), "%s",
				 de->d_name);
		}
		if (num > top_version) {
			top_version = num;
			snprintf(top_file, sizeof(top_file), "%s", de->d_name);
		}
		nfiles++;
	}
	closedir(d);
	return db_connect(tdb_conf, DB_ROLE_ADMIN, &tdb_admin) == 0 ? 0 : 1;
}

static void
test_migrate_from_empty(void)
{
	int v = -1, applied = -1;

	CU_ASSERT_FATAL(nfiles > 0);
	CU_ASSERT_EQUAL(db_schema_version(tdb_admin, &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(db_migrate(tdb_admin, tdb_migrations, &applied), 0);
	CU_ASSERT_EQUAL(applied, nfiles);
	CU_ASSERT_EQUAL(db_schema_version(tdb_admin, &v), 0);
	CU_ASSERT_EQUAL(v, top_version);
}

static void
test_migrate_again_applies_nothing(void)
{
	int v = -1, applied = -1;

	CU_ASSERT_EQUAL(db_migrate(tdb_admin, tdb_migrations, &applied), 0);
	CU_ASSERT_EQUAL(applied, 0);
	CU_ASSERT_EQUAL(db_schema_version(tdb_admin, &v), 0);
	CU_ASSERT_EQUAL(v, top_version);
}

static void
test_migrate_refuses_changed_file(void)
{
	char *dir = copy_migrations();
	int v = -1, applied = -1;

	CU_ASSERT_FATAL(dir != NULL);
	/* Even a comment changes the file. */
	CU_ASSERT_FATAL(write_file(dir, top_file, "-- edited\n", 1) == 0);
	CU_ASSERT_EQUAL(db_migrate(tdb_admin, dir, &applied), EST_E_CONFLICT);
	CU_ASSERT_EQUAL(applied, -1);
	CU_ASSERT_EQUAL(db_schema_version(tdb_admin, &v), 0);
	CU_ASSERT_EQUAL(v, top_version);
	remove_dir(dir);
}

static void
test_migrate_refuses_missing_file(void)
{
	char *dir = copy_migrations(), path[4200];
	int applied = -1;

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, first_file);
	CU_ASSERT_FATAL(unlink(path) == 0);
	CU_ASSERT_EQUAL(db_migrate(tdb_admin, dir, &applied), EST_E_CONFLICT);
	CU_ASSERT_EQUAL(applied, -1);
	remove_dir(dir);
}

/*
 * A new file with a trigger (DELIMITER convention) is applied on top of
 * the real ones, then removed again so that later suites see the real
 * schema only.
 */
static void
test_migrate_applies_new_file_with_trigger(void)
{
	struct db_result *res = NULL;
	char *dir = copy_migrations();
	int v = -1, applied = -1;

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_FATAL(write_file(dir, "900_trigger.sql",
				   "-- A test migration.\n"
				   "CREATE TABLE t_migrate (x INT NOT NULL);\n"
				   "DELIMITER //\n"
				   "CREATE TRIGGER t_migrate_bi BEFORE INSERT"
				   " ON t_migrate\n"
				   "FOR EACH ROW BEGIN\n"
				   "\tSET NEW.x = NEW.x * 2;\n"
				   "END//\n"
				   "DELIMITER ;\n",
				   0) == 0);
	CU_ASSERT_EQUAL(db_migrate(tdb_admin, dir, &applied), 0);
	CU_ASSERT_EQUAL(applied, 1);
	CU_ASSERT_EQUAL(db_schema_version(tdb_admin, &v), 0);
	CU_ASSERT_EQUAL(v, 900);
	CU_ASSERT_EQUAL(tdb_exec(tdb_admin, &t_stmts[T_MIGTEST_INSERT]), 0);
	CU_ASSERT_EQUAL(db_query_one(tdb_admin, &t_stmts[T_MIGTEST_SELECT],
				     NULL, 0, &res),
			0);
	if (res != NULL)
		CU_ASSERT_EQUAL(db_result_i64(res, 0, 0), 10);
	db_result_free(res);
	/* The real directory now lacks an applied file: refused. */
	CU_ASSERT_EQUAL(db_migrate(tdb_admin, tdb_migrations, &applied),
			EST_E_CONFLICT);
	CU_ASSERT_EQUAL(tdb_exec(tdb_admin, &t_stmts[T_DROP_MIGTEST]), 0);
	CU_ASSERT_EQUAL(tdb_exec(tdb_admin, &t_stmts[T_FORGET_MIGTEST]), 0);
	CU_ASSERT_EQUAL(db_schema_version(tdb_admin, &v), 0);
	CU_ASSERT_EQUAL(v, top_version);
	remove_dir(dir);
}

static void
test_grant_scripts_apply_twice(void)
{
	const char *cmd = getenv("ESTUARY_TEST_DB_GRANT");

	CU_ASSERT_FATAL(cmd != NULL);
	CU_ASSERT_EQUAL(system(cmd), 0);
	/* Idempotent: the second run changes nothing and succeeds. */
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/* --- Reconnection (last: it restarts the server) --- */

static void
test_connect_dead_socket(void)
{
	struct db *db = NULL;

	CU_ASSERT_EQUAL(
		db_connect_as("/nonexistent/estuary/mysqld.sock",
			      conf_get(tdb_conf, "db_name"), "estuary_app",
			      conf_get(tdb_conf, "db_password_file"), &db),
		EST_E_DB);
	CU_ASSERT_PTR_NULL(db);
	CU_ASSERT_EQUAL(db_connect_as(conf_get(tdb_conf, "db_socket"),
				      conf_get(tdb_conf, "db_name"),
				      "estuary_app",
				      "/nonexistent/estuary/db-app.pw", &db),
			EST_E_CONFIG);
	CU_ASSERT_PTR_NULL(db);
	/* The report account's password is not the application's. */
	CU_ASSERT_EQUAL(
		db_connect_as(conf_get(tdb_conf, "db_socket"),
			      conf_get(tdb_conf, "db_name"), "estuary_report",
			      conf_get(tdb_conf, "db_password_file"), &db),
		EST_E_DB);
	CU_ASSERT_PTR_NULL(db);
}

static void
test_ping_live(void)
{
	CU_ASSERT_EQUAL(db_ping(tdb_app), 0);
	CU_ASSERT_EQUAL(db_ping(tdb_app), 0);
}

static int
server(const char *which)
{
	const char *cmd = getenv(which);

	return cmd != NULL ? system(cmd) : -1;
}

static void
test_ping_reconnects_after_restart(void)
{
	int64_t id = 0, id2 = 0;

	/* Prepares tenant_find on this connection. */
	CU_ASSERT_EQUAL_FATAL(db_tenant_find(tdb_app, "Acme", &id), 0);
	CU_ASSERT_EQUAL_FATAL(server("ESTUARY_TEST_DB_STOP"), 0);
	CU_ASSERT_EQUAL(db_ping(tdb_app), EST_E_DB);
	CU_ASSERT_EQUAL(db_tenant_find(tdb_app, "Acme", &id2), EST_E_DB);
	CU_ASSERT_EQUAL(db_ping(tdb_app), EST_E_DB);
	CU_ASSERT_EQUAL_FATAL(server("ESTUARY_TEST_DB_START"), 0);
	CU_ASSERT_EQUAL(db_ping(tdb_app), 0);
	/* The cached statement was prepared again on the new connection. */
	CU_ASSERT_EQUAL(db_tenant_find(tdb_app, "Acme", &id2), 0);
	CU_ASSERT_EQUAL(id2, id);
}

static void
test_statement_after_restart_fails_then_ping(void)
{
	int64_t id = 0, id2 = 0;

	CU_ASSERT_EQUAL_FATAL(db_tenant_find(tdb_app, "Acme", &id), 0);
	CU_ASSERT_EQUAL_FATAL(server("ESTUARY_TEST_DB_STOP"), 0);
	CU_ASSERT_EQUAL_FATAL(server("ESTUARY_TEST_DB_START"), 0);
	/* No silent reconnect: the caller learns the connection went. */
	CU_ASSERT_EQUAL(db_tenant_find(tdb_app, "Acme", &id2), EST_E_DB);
	CU_ASSERT_EQUAL(db_ping(tdb_app), 0);
	CU_ASSERT_EQUAL(db_tenant_find(tdb_app, "Acme", &id2), 0);
	CU_ASSERT_EQUAL(id2, id);
	/* The admin connection recovers the same way. */
	CU_ASSERT_EQUAL(db_ping(tdb_admin), 0);
}

static int
all_cleanup(void)
{
	db_close(tdb_app);
	db_close(tdb_admin);
	conf_free(tdb_conf);
	tdb_app = tdb_admin = NULL;
	tdb_conf = NULL;
	return 0;
}

static CU_TestInfo split_tests[] = {
	{"statements end at line end", test_split_statements_end_at_line_end},
	{"comment lines dropped", test_split_drops_comment_lines},
	{"missing terminator refused", test_split_refuses_missing_terminator},
	{"DELIMITER for triggers", test_split_delimiter_for_triggers},
	{"callback error stops", test_split_callback_error_stops},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo migrate_tests[] = {
	{"migrate from empty", test_migrate_from_empty},
	{"migrate again applies nothing", test_migrate_again_applies_nothing},
	{"changed file refused", test_migrate_refuses_changed_file},
	{"missing file refused", test_migrate_refuses_missing_file},
	{"new file with a trigger applied",
	 test_migrate_applies_new_file_with_trigger},
	{"grant scripts apply twice", test_grant_scripts_apply_twice},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo ping_tests[] = {
	{"connect to a dead socket", test_connect_dead_socket},
	{"ping a live server", test_ping_live},
	{"ping reconnects after a restart", test_ping_reconnects_after_restart},
	{"statement after a restart fails, ping recovers",
	 test_statement_after_restart_fails_then_ping},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	int r;

	if ((r = test_add_suite("sql_split", NULL, NULL, split_tests)) != 0 ||
	    (r = test_add_suite("migrate", migrate_init, NULL,
				migrate_tests)) != 0 ||
	    (r = tdb_grant_suites()) != 0 || (r = tdb_query_suites()) != 0 ||
	    (r = tdb_extca_suites()) != 0 || (r = tdb_audit_suites()) != 0 ||
	    (r = tdb_multi_suites()) != 0 ||
	    (r = tdb_audit_many_suites()) != 0 ||
	    (r = test_add_suite("ping", NULL, all_cleanup, ping_tests)) != 0)
		return r;
	return 0;
}
