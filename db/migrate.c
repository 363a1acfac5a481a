/*
 * Schema migrations: numbered SQL files (NNN_name.sql) applied in order,
 * each recorded in schema_migrations with the SHA-256 of its text, so that
 * running again applies only new files and an edited file is noticed
 * rather than silently ignored.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "db.h"
#include "dbpriv.h"
#include "err.h"
#include "log.h"
#include "util.h"

/* Our biggest migration is a few tens of kilobytes. */
#define MIGRATION_SIZE_MAX (4U * 1024 * 1024)
#define MIGRATION_COUNT_MAX 9999
/* Seconds to wait for another migrator to finish. */
#define MIGRATION_LOCK_WAIT 60

static const struct db_stmt_def migrate_stmts[] = {
#define MIG_CREATE 0
	{"migrations_create",
	 "CREATE TABLE IF NOT EXISTS schema_migrations ("
	 " version INT NOT NULL PRIMARY KEY,"
	 " name VARCHAR(255) NOT NULL,"
	 " sha256 CHAR(64) CHARACTER SET ascii NOT NULL,"
	 " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	 ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	 0},
#define MIG_LIST 1
	{"migrations_list",
	 "SELECT version, name, sha256 FROM schema_migrations"
	 " ORDER BY version",
	 0},
#define MIG_INSERT 2
	{"migrations_insert",
	 "INSERT INTO schema_migrations (version, name, sha256)"
	 " VALUES (?, ?, ?)",
	 3},
/* Server-wide advisory lock, named after the database. */
#define MIG_LOCK 3
	{"migrations_lock",
	 "SELECT GET_LOCK(CONCAT(DATABASE(), '.migrate'), ?)", 1},
#define MIG_UNLOCK 4
	{"migrations_unlock",
	 "SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.migrate'))", 0},
#define MIG_EXISTS 5
	{"migrations_exists",
	 "SELECT COUNT(*) FROM information_schema.tables"
	 " WHERE table_schema = DATABASE()"
	 " AND table_name = 'schema_migrations'",
	 0},
#define MIG_VERSION 6
	{"migrations_version",
	 "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", 0},
};

struct migration {
	int version;
	char *name; /* file name */
	char *path;
};

/* --- Splitting a file into statements --- */

/* Does the line [p, p + n) start, after blanks, with a comment marker? */
static int
split_is_comment(const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	return (n >= 2 && p[0] == '-' && p[1] == '-') || (n >= 1 && *p == '#');
}

/* Is the line "DELIMITER <token>"?  Sets the token's span. */
static int
split_is_delimiter(const char *p, size_t n, const char **tok, size_t *toklen)
{
	static const char kw[] = "DELIMITER";
	size_t i, k = sizeof(kw) - 1;

	if (n <= k || strncasecmp(p, kw, k) != 0 ||
	    (p[k] != ' ' && p[k] != '\t'))
		return 0;
	for (i = k; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	*tok = p + i;
	*toklen = n - i;
	return 1;
}

static int
split_is_blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isspace((unsigned char)p[i]))
			return 0;
	return 1;
}

int
db_sql_split(const char *text, size_t len,
	     int (*cb)(void *arg, const char *stmt, size_t len, unsigned n),
	     void *arg)
{
	char *stmt = NULL, delim[16] = ";";
	const char *line, *nl, *tok;
	size_t dlen = 1, slen = 0, n, toklen, off = 0;
	unsigned count = 0;
	int r = 0;

	/* A statement is never longer than its file. */
	if ((stmt = malloc(len + 1)) == NULL)
		return EST_E_NOMEM;
	while (off < len) {
		line = text + off;
		nl = memchr(line, '\n', len - off);
		n = nl != NULL ? (size_t)(nl - line) : len - off;
		off += n + (nl != NULL);
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			n--;
		if (memchr(line, '\0', n) != NULL) {
			r = EST_E_INVAL;
			goto out;
		}
		if (split_is_comment(line, n))
			continue;
		if (split_is_blank(stmt, slen) &&
		    split_is_delimiter(line, n, &tok, &toklen)) {
			if (toklen == 0 || toklen >= sizeof(delim) ||
			    memchr(tok, ' ', toklen) != NULL ||
			    memchr(tok, '\t', toklen) != NULL) {
				r = EST_E_INVAL;
				goto out;
			}
			memcpy(delim, tok, toklen);
			delim[toklen] = '\0';
			dlen = toklen;
			slen = 0;
			continue;
		}
		memcpy(stmt + slen, line, n);
		slen += n;
		if (n >= dlen && memcmp(line + n - dlen, delim, dlen) == 0) {
			slen -= dlen;
			stmt[slen] = '\0';
			if (!split_is_blank(stmt, slen) &&
			    (r = cb(arg, stmt, slen, ++count)) != 0)
				goto out;
			slen = 0;
		} else
			stmt[slen++] = '\n';
	}
	if (!split_is_blank(stmt, slen))
		r = EST_E_INVAL;
out:
	free(stmt);
	return r;
}

/* --- Files --- */

/* Parses "NNN_name.sql" (digits, '_', [A-Za-z0-9_-], ".sql"). */
static int
migration_number(const char *name, int *version)
{
	const char *p = name, *dot;
	long v = 0;

	if (!isdigit((unsigned char)*p))
		return 0;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > MIGRATION_COUNT_MAX)
			return 0;
	}
	if (*p++ != '_' || (dot = strrchr(p, '.')) == NULL ||
	    strcmp(dot, ".sql") != 0 || dot == p || v == 0)
		return 0;
	for (; p < dot; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return 0;
	*version = (int)v;
	return 1;
}

static void
migrations_free(struct migration *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].path);
	}
	free(m);
}

static int
migration_cmp(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* The migration files of dir, sorted by number; duplicates are errors. */
static int
migrations_scan(const char *dir, struct migration **out, size_t *nout)
{
	struct migration *m = NULL, *nm;
	struct dirent *de;
	DIR *d = NULL;
	size_t n = 0, cap = 0, i;
	int version, r = 0;

	if ((d = opendir(dir)) == NULL) {
		log_err("db: cannot open migrations directory %s: %s", dir,
			strerror(errno));
		return EST_E_CONFIG;
	}
	while ((de = readdir(d)) != NULL) {
		if (!migration_number(de->d_name, &version))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nm = reallocarray(m, cap, sizeof(*m))) == NULL) {
				r = EST_E_NOMEM;
				goto out;
			}
			m = nm;
		}
		m[n].version = version;
		m[n].name = strdup(de->d_name);
		m[n].path = NULL;
		n++;
		if (m[n - 1].name == NULL ||
		    asprintf(&m[n - 1].path, "%s/%s", dir, de->d_name) == -1) {
			m[n - 1].path = NULL;
			r = EST_E_NOMEM;
			goto out;
		}
	}
	if (n > 0)
		qsort(m, n, sizeof(*m), migration_cmp);
	for (i = 1; i < n; i++) {
		if (m[i].version == m[i - 1].version) {
			log_err("db: migrations %s and %s share number %d",
				m[i - 1].name, m[i].name, m[i].version);
			r = EST_E_CONFIG;
			goto out;
		}
	}
	*out = m;
	*nout = n;
	m = NULL;
	n = 0;
out:
	migrations_free(m, n);
	closedir(d);
	return r;
}

/* Reads a migration file and its SHA-256 (lower-case hex). */
static int
migration_read(const struct migration *m, char **text, size_t *len,
	       char hex[65])
{
	struct stat sb;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd = -1, r = EST_E_CONFIG;

	if ((fd = open(m->path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		log_err("db: cannot read migration %s: %s", m->path,
			strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > MIGRATION_SIZE_MAX) {
		log_err("db: migration %s is not a file of at most %u bytes",
			m->path, MIGRATION_SIZE_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	while (got < (size_t)sb.st_size) {
		n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_err("db: cannot read migration %s", m->path);
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (EVP_Digest(buf, got, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md)) {
		r = EST_E_CRYPTO;
		goto out;
	}
	hex_encode(md, sizeof(md), hex);
	*text = buf;
	*len = got;
	buf = NULL;
	r = 0;
out:
	free(buf);
	if (fd != -1)
		close(fd);
	return r;
}

/* --- Applying --- */

struct apply_ctx {
	struct db *db;
	const struct migration *m;
	int failed; /* a statement failed (not the split) */
};

static int
apply_stmt(void *arg, const char *stmt, size_t len, unsigned n)
{
	struct apply_ctx *ctx = arg;
	char name[64];
	int r;

	snprintf(name, sizeof(name), "migration %d statement %u",
		 ctx->m->version, n);
	if ((r = db_exec_text(ctx->db, name, stmt, len)) != 0) {
		ctx->failed = 1;
		log_err("db: %s failed: statement %u of %s", ctx->m->name, n,
			ctx->m->path);
	}
	return r;
}

static const struct migration *
migration_find(const struct migration *m, size_t n, int version)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i].version == version)
			return &m[i];
	return NULL;
}

static int
recorded(const struct db_result *rec, int version)
{
	size_t i;

	for (i = 0; i < db_result_rows(rec); i++)
		if (db_result_i64(rec, i, 0) == version)
			return 1;
	return 0;
}

/*
 * Checks every recorded migration against its file and decides what to
 * apply: the files numbered above the highest recorded one.  A file below
 * it that was never applied would run out of order: refused.  Sets *first
 * to the index of the first file to apply.
 */
static int
migrations_check(const struct db_result *rec, const struct migration *m,
		 size_t n, size_t *first)
{
	const struct migration *f;
	const char *sha;
	char hex[65], *text = NULL;
	size_t i, len;
	int64_t v, top = 0;
	int r;

	for (i = 0; i < db_result_rows(rec); i++) {
		v = db_result_i64(rec, i, 0);
		sha = db_result_str(rec, i, 2, NULL);
		if ((f = migration_find(m, n, (int)v)) == NULL) {
			log_err("db: migration %lld is applied but its file "
				"is missing",
				(long long)v);
			return EST_E_CONFLICT;
		}
		if ((r = migration_read(f, &text, &len, hex)) != 0)
			return r;
		free(text);
		if (sha == NULL || strcmp(sha, hex) != 0) {
			log_err("db: migration %s changed after it was "
				"applied",
				f->path);
			return EST_E_CONFLICT;
		}
		if (v > top)
			top = v;
	}
	for (i = 0; i < n && m[i].version <= top; i++) {
		if (!recorded(rec, m[i].version)) {
			log_err("db: migration %s is numbered below the "
				"applied version %lld",
				m[i].path, (long long)top);
			return EST_E_CONFLICT;
		}
	}
	*first = i;
	return 0;
}

int
db_migrate(struct db *db, const char *dir, int *applied)
{
	struct migration *m = NULL;
	struct db_result *res = NULL, *rec = NULL;
	struct db_param p[3];
	struct apply_ctx ctx;
	char hex[65], *text = NULL;
	size_t n = 0, first = 0, i, len;
	int locked = 0, count = 0, r;

	if ((r = migrations_scan(dir, &m, &n)) != 0)
		goto out;
	p[0] = DB_I64(MIGRATION_LOCK_WAIT);
	if ((r = db_query_one(db, &migrate_stmts[MIG_LOCK], p, 1, &res)) != 0)
		goto out;
	if (db_result_i64(res, 0, 0) != 1) {
		log_err("db: another migration holds the lock");
		r = EST_E_DB;
		goto out;
	}
	locked = 1;
	if ((r = db_exec(db, &migrate_stmts[MIG_CREATE], NULL, 0, NULL,
			 NULL)) != 0 ||
	    (r = db_query(db, &migrate_stmts[MIG_LIST], NULL, 0, &rec)) != 0 ||
	    (r = migrations_check(rec, m, n, &first)) != 0)
		goto out;
	for (i = first; i < n; i++) {
		if ((r = migration_read(&m[i], &text, &len, hex)) != 0)
			goto out;
		ctx.db = db;
		ctx.m = &m[i];
		ctx.failed = 0;
		if ((r = db_sql_split(text, len, apply_stmt, &ctx)) != 0) {
			if (!ctx.failed)
				log_err("db: %s: malformed: a NUL byte, a bad "
					"DELIMITER line or a statement without "
					"its terminator",
					m[i].path);
			goto out;
		}
		p[0] = DB_I64(m[i].version);
		p[1] = DB_STR(m[i].name);
		p[2] = DB_STRN(hex, 64);
		if ((r = db_exec(db, &migrate_stmts[MIG_INSERT], p, 3, NULL,
				 NULL)) != 0)
			goto out;
		log_info("db: applied migration %s", m[i].name);
		free(text);
		text = NULL;
		count++;
	}
	*applied = count;
	r = 0;
out:
	if (locked) {
		db_result_free(res);
		res = NULL;
		/* Failing to unlock is harmless: the lock dies with us. */
		if (db_query_one(db, &migrate_stmts[MIG_UNLOCK], NULL, 0,
				 &res) != 0)
			log_warn("db: cannot release the migration lock");
	}
	free(text);
	db_result_free(res);
	db_result_free(rec);
	migrations_free(m, n);
	return r;
}

int
db_schema_version(struct db *db, int *version)
{
	struct db_result *res = NULL;
	int r;

	if ((r = db_query_one(db, &migrate_stmts[MIG_EXISTS], NULL, 0, &res)) !=
	    0)
		return r;
	if (db_result_i64(res, 0, 0) == 0) {
		db_result_free(res);
		*version = 0;
		return 0;
	}
	db_result_free(res);
	if ((r = db_query_one(db, &migrate_stmts[MIG_VERSION], NULL, 0,
			      &res)) != 0)
		return r;
	*version = (int)db_result_i64(res, 0, 0);
	db_result_free(res);
	return 0;
}
