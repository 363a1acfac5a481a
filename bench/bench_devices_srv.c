/*
 * bench_devices' servers (bench/devices_bench.h): a throwaway MariaDB per
 * registry, started with tools/mariadb.sh (the server options of every
 * instance) in the bench's directory, its database migrated by
 * db_migrate() as estuaryctl db migrate does and granted as devstack
 * does, and stopped (and removed, unless kept with -k) at exit.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "db.h"
#include "err.h"

#include "devices_bench.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char dir[256];
static int keep_dir;
volatile sig_atomic_t bdv_interrupted;
struct registry bdv_small = {.name = "small"};
struct registry bdv_large = {.name = "large"};

double
bdv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
run(const char *cmd)
{
	int st = system(cmd);

	return (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
}

/*
 * Runs a function of tools/mariadb.sh on the paths of registry g, which
 * reach it in BDV_* variables (never spliced into the command).
 */
static int
mariadb_sh(const struct registry *g, const char *call)
{
	static const char *const sub[][2] = {{"BDV_DATA", "data"},
					     {"BDV_SOCK", "run/mysqld.sock"},
					     {"BDV_PID", "run/mariadbd.pid"},
					     {"BDV_ETC", "etc"}};
	char cmd[512], path[300];
	size_t i;

	for (i = 0; i < NELEM(sub); i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", dir, g->name,
			 sub[i][1]);
		setenv(sub[i][0], path, 1);
	}
	setenv("BDV_SRC", SRCDIR, 1);
	snprintf(cmd, sizeof(cmd),
		 "bash -c '. \"$BDV_SRC/tools/mariadb.sh\" && %s'", call);
	return run(cmd);
}

void
bdv_cleanup(void)
{
	struct registry *g[2] = {&bdv_small, &bdv_large};
	char cmd[300];
	size_t i;

	for (i = 0; i < 2; i++) {
		if (g[i]->db != NULL)
			db_close(g[i]->db);
		g[i]->db = NULL;
		if (g[i]->started &&
		    mariadb_sh(g[i], "mariadb_stop \"$BDV_PID\"") != 0)
			fprintf(stderr, "bench_devices: mariadbd did not "
					"stop\n");
		g[i]->started = 0;
	}
	if (dir[0] != '\0' && !keep_dir) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		run(cmd);
	}
	dir[0] = '\0';
}

void __attribute__((noreturn)) bdv_die(const char *what, int r)
{
	if (r != 0)
		fprintf(stderr, "bench_devices: %s: %s\n", what,
			est_err_name(r));
	else
		fprintf(stderr, "bench_devices: %s\n", what);
	exit(1);
}

static void
on_signal(int sig)
{
	(void)sig;
	bdv_interrupted = 1;
}

void
bdv_setup(const char *keep)
{
	const char *tmp = getenv("TMPDIR");

	/* The socket path must fit in sun_path (108 bytes). */
	if (tmp == NULL || strlen(tmp) > 60)
		tmp = "/tmp";
	if (keep != NULL) {
		if (strlen(keep) > 60 || strchr(keep, '\'') != NULL)
			bdv_die("-k: at most 60 characters, no quote", 0);
		snprintf(dir, sizeof(dir), "%s", keep);
		keep_dir = 1;
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			bdv_die("cannot make the -k directory", 0);
	} else {
		snprintf(dir, sizeof(dir), "%s/estuary-bdev.XXXXXX", tmp);
		if (mkdtemp(dir) == NULL)
			bdv_die("mkdtemp failed", 0);
	}
	atexit(bdv_cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* mariadbd as mysql must reach the data directories (below). */
	if (geteuid() == 0 && chmod(dir, 0755) != 0)
		bdv_die("cannot open the directory to the mysql user", 0);
}

const char *
bdv_dir(void)
{
	return dir;
}

/* Starts the server of registry g in dir/g->name. */
void
bdv_start_server(struct registry *g)
{
	static const char *const subdirs[] = {"", "/run", "/etc"};
	char path[300];
	struct passwd *pw;
	size_t i;

	for (i = 0; i < NELEM(subdirs); i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, g->name,
			 subdirs[i]);
		if (mkdir(path, i == 0 ? 0755 : 0700) != 0 && errno != EEXIST)
			bdv_die("cannot make the server's directories", 0);
	}
	/*
	 * As root, mariadbd runs as mysql (it refuses to run as root): it
	 * must own the directory of its socket.
	 */
	if (geteuid() == 0) {
		snprintf(path, sizeof(path), "%s/%s/run", dir, g->name);
		if ((pw = getpwnam("mysql")) == NULL ||
		    chown(path, pw->pw_uid, pw->pw_gid) != 0)
			bdv_die("cannot hand run/ to the mysql user", 0);
	}
	if (mariadb_sh(g, "mariadb_init \"$BDV_DATA\"") != 0)
		bdv_die("mariadb_init failed", 0);
	g->started = 1;
	if (mariadb_sh(g, "mariadb_start \"$BDV_DATA\" \"$BDV_SOCK\" "
			  "\"$BDV_PID\"") != 0)
		bdv_die("mariadb_start failed (see data/error.log)", 0);
}

/*
 * Makes the accounts and the database of registry g, applies the
 * migrations as estuaryctl db migrate does and the grants as devstack
 * does, and connects to it as the application.
 */
void
bdv_open_registry(struct registry *g)
{
	struct conf *conf = NULL;
	struct db *admin = NULL;
	char path[300], err[256];
	int applied = 0, r;
	FILE *fp;

	if (mariadb_sh(g, "mariadb_bootstrap \"$BDV_SOCK\" \"$BDV_ETC\" "
			  "\"$BDV_SRC\"") != 0)
		bdv_die("mariadb_bootstrap failed", 0);
	snprintf(path, sizeof(path), "%s/%s/etc/estuary.conf", dir, g->name);
	if ((fp = fopen(path, "w")) == NULL)
		bdv_die("cannot write estuary.conf", 0);
	fprintf(fp,
		"db_socket = %s/%s/run/mysqld.sock\ndb_name = estuary\n"
		"db_user = estuary_app\n"
		"db_password_file = %s/%s/etc/db-app.pw\n"
		"db_admin_user = estuary_admin\n"
		"db_admin_password_file = %s/%s/etc/db-admin.pw\n"
		"db_migrations_dir = %s/db\nlog_level = warn\n",
		dir, g->name, dir, g->name, dir, g->name, SRCDIR);
	fclose(fp);
	if (estuary_conf_load(path, &conf, err, sizeof(err)) != 0)
		bdv_die(err, 0);
	if ((r = db_connect(conf, DB_ROLE_ADMIN, &admin)) != 0)
		bdv_die("connect as estuary_admin", r);
	if ((r = db_migrate(admin, conf_get(conf, "db_migrations_dir"),
			    &applied)) != 0)
		bdv_die("db migrate", r);
	db_close(admin);
	if (mariadb_sh(g, "mariadb_grant \"$BDV_SOCK\" \"$BDV_SRC\"") != 0)
		bdv_die("mariadb_grant failed", 0);
	if ((r = db_connect(conf, DB_ROLE_APP, &g->db)) != 0)
		bdv_die("connect as estuary_app", r);
	conf_free(conf);
}

/* ------------------------------------------------------------------ */
/* Settling */

/*
 * The server's background work: pages written back so far, and undo
 * history not yet purged.  Status variables are readable by any account.
 */
static const struct db_stmt_def settle_stmt = {
	"bench_settle",
	"SELECT CAST(VARIABLE_VALUE AS INTEGER) FROM"
	" information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN"
	" ('INNODB_BUFFER_POOL_PAGES_FLUSHED', 'INNODB_HISTORY_LIST_LENGTH')"
	" ORDER BY VARIABLE_NAME",
	0};
static const struct db_stmt_def warm_stmt = {
	"bench_warm_lookup",
	"SELECT COUNT(factory_cert_fingerprint) FROM devices"
	" FORCE INDEX (devices_factory_cert)",
	0};
static const struct db_stmt_def reads_stmt = {
	"bench_pool_reads",
	"SELECT CAST(VARIABLE_VALUE AS INTEGER) FROM"
	" information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME ="
	" 'INNODB_BUFFER_POOL_READS'",
	0};
#define SETTLE_HISTORY 1000 /* undo log records */
#define SETTLE_QUIET 10	    /* polls (of 200 ms) without a page written */
#define SETTLE_MAX_S 600    /* give up waiting after ten minutes */

/*
 * Waits until the server has stopped writing back the pages the fill
 * dirtied (two seconds without a page flushed) and has purged its undo
 * history, so that the measurement sees a server at rest, as the small
 * one is, and not one still busy with a million new rows: that
 * background work tripled p95 of a lookup in a first version.  A few
 * hundred dirty pages may stay: MariaDB does not flush them while idle.
 */
void
bdv_settle(const struct registry *g)
{
	struct db_result *res = NULL;
	struct timespec ts = {0, 200000000L};
	int64_t flushed = -1, last = -1, hist = 0;
	double t0 = bdv_now();
	int quiet = 0, r;

	for (;;) {
		if (bdv_interrupted)
			bdv_die("interrupted", 0);
		if ((r = db_query(g->db, &settle_stmt, NULL, 0, &res)) != 0)
			bdv_die("server status", r);
		if (db_result_rows(res) != 2)
			bdv_die("server status: two rows expected", 0);
		flushed = db_result_i64(res, 0, 0);
		hist = db_result_i64(res, 1, 0);
		db_result_free(res);
		quiet = flushed == last && hist <= SETTLE_HISTORY ? quiet + 1
								  : 0;
		last = flushed;
		if (quiet >= SETTLE_QUIET || bdv_now() - t0 > SETTLE_MAX_S)
			break;
		nanosleep(&ts, NULL);
	}
	printf("  %s: server at rest after %.1f s (history length %lld)\n",
	       g->name, bdv_now() - t0, (long long)hist);
}

long long
bdv_pool_reads(const struct registry *g)
{
	struct db_result *res = NULL;
	long long n;
	int r;

	if ((r = db_query_one(g->db, &reads_stmt, NULL, 0, &res)) != 0)
		bdv_die("server status", r);
	n = (long long)db_result_i64(res, 0, 0);
	db_result_free(res);
	return n;
}

void
bdv_warm_lookup(const struct registry *g)
{
	struct db_result *res = NULL;
	long long before = bdv_pool_reads(g);
	double t0 = bdv_now();
	int r;

	if ((r = db_query_one(g->db, &warm_stmt, NULL, 0, &res)) != 0)
		bdv_die("reading the fingerprint index", r);
	printf("  %s: fingerprint index of %lld devices read in %.1f s"
	       " (%lld pages from disk)\n",
	       g->name, (long long)db_result_i64(res, 0, 0), bdv_now() - t0,
	       bdv_pool_reads(g) - before);
	db_result_free(res);
}

long long
bdv_server_cpu_ns(const struct registry *g)
{
	char path[400], line[128];
	long long pid = 0, sum = 0, ns;
	struct dirent *de;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s/run/mariadbd.pid", dir, g->name);
	if ((f = fopen(path, "r")) == NULL || fscanf(f, "%lld", &pid) != 1 ||
	    pid <= 0)
		bdv_die("the server's pid file", 0);
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%lld/task", pid);
	if ((d = opendir(path)) == NULL)
		bdv_die("the server's threads", 0);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%lld/task/%s/schedstat",
			 pid, de->d_name);
		/* A thread may end meanwhile: then it is not counted. */
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), f) != NULL &&
		    sscanf(line, "%lld", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum;
}
