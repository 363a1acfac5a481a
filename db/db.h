/*
 * Data access: the only code that links MariaDB Connector/C.  Callers never
 * see a MYSQL handle.  Every statement is a named, prepared statement kept
 * in a table of struct db_stmt_def in the module that owns it; nothing ever
 * builds SQL from strings.  A connection prepares each statement once and
 * reuses it.  A struct db is used by one thread at a time.
 *
 * Every function returns 0 or a negative EST_E_* code:
 *   EST_E_EXISTS   duplicate key (ER_DUP_ENTRY)
 *   EST_E_CONFLICT foreign-key violation (a row still in use, or a missing
 *                  parent)
 *   EST_E_NOTFOUND db_query_one found no row
 *   EST_E_INVAL    the server refused a value: a CHECK constraint, a NULL
 *                  for a NOT NULL column, a string too long, a bad date
 *                  (callers validate first; this is the last line)
 *   EST_E_DENIED   the account lacks the privilege (a grant is missing, or
 *                  the application tried what only migrations may do)
 *   EST_E_DB       connection or server failure (the caller answers 503)
 *   EST_E_INTERNAL a statement definition does not match its use
 *
 * Logs name the statement and the server's error number, never SQL text,
 * parameter values or the server's message (which may quote a value).
 *
 * Each connection runs with time_zone '+00:00' (every DATETIME is UTC),
 * strict SQL mode and utf8mb4.  A lost connection is not re-established
 * behind the caller's back (a transaction would silently vanish): the
 * statement fails with EST_E_DB and the next db_ping reconnects.
 */
#ifndef ESTUARY_DB_H
#define ESTUARY_DB_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct db;
struct db_result;

enum db_role {
	DB_ROLE_APP = 1,   /* db_user: DML only, audit log INSERT/SELECT */
	DB_ROLE_ADMIN = 2, /* db_admin_user: migrations */
};

struct db_stmt_def {
	const char *name; /* for logs: "ca_insert" */
	const char *sql;  /* with ? placeholders */
	unsigned nparams; /* checked against the prepared statement */
};

/* The most rows of one multi-row statement (db_cert_insert_rows, ...). */
#define DB_MULTI_MAX 16

enum db_ptype { DB_T_NULL = 0, DB_T_I64, DB_T_STR, DB_T_BLOB };

struct db_param {
	enum db_ptype type;
	int64_t i;
	const void *p;
	size_t len;
};

#define DB_NULL ((struct db_param){.type = DB_T_NULL})
#define DB_I64(v) ((struct db_param){.type = DB_T_I64, .i = (int64_t)(v)})
#define DB_STR(s)                                                              \
	((struct db_param){.type = (s) ? DB_T_STR : DB_T_NULL,                 \
			   .p = (s),                                           \
			   .len = (s) ? strlen(s) : 0})
/* A string that is never NULL, of known length (no NUL needed). */
#define DB_STRN(s, n)                                                          \
	((struct db_param){.type = DB_T_STR, .p = (s), .len = (n)})
#define DB_BLOB(b, n)                                                          \
	((struct db_param){.type = DB_T_BLOB, .p = (b), .len = (n)})

/*
 * Connects over db_socket to db_name as the account of role; the password
 * is read from its file (a trailing newline is dropped) and wiped once the
 * server has accepted it.  Sets *out on success.
 */
int db_connect(const struct conf *c, enum db_role role, struct db **out);
/*
 * Like db_connect, for an account that estuary.conf does not name (the
 * read-only report account, tests).
 */
int db_connect_as(const char *socket, const char *dbname, const char *user,
		  const char *password_file, struct db **out);
void db_close(struct db *db);
/*
 * Checks that the server answers (mysql_ping); after a lost connection,
 * connects again (prepared statements are prepared again on first use).
 * 0 when the connection works on return.
 */
int db_ping(struct db *db);

int db_begin(struct db *db);
/*
 * A transaction that the next statement opens, without a round trip of
 * its own: the connection leaves autocommit mode (once; again after a
 * reconnection), so every statement from then on runs in a transaction
 * that only db_commit() or db_rollback() ends.  For a connection that
 * runs nothing but such transactions (the writer thread's, fcgi/txq.h).
 */
int db_begin_implicit(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/*
 * Runs a statement without a result set.  affected/insert_id may be NULL.
 * For an UPDATE, *affected counts the rows that matched (CLIENT_FOUND_ROWS),
 * changed or not, so 0 means "no such row".
 */
int db_exec(struct db *db, const struct db_stmt_def *def,
	    const struct db_param *params, size_t nparams, uint64_t *affected,
	    uint64_t *insert_id);

/* Runs a query and buffers its whole result; sets *out on success. */
int db_query(struct db *db, const struct db_stmt_def *def,
	     const struct db_param *params, size_t nparams,
	     struct db_result **out);
/*
 * Like db_query, but exactly one row is expected: EST_E_NOTFOUND for none,
 * EST_E_INTERNAL for more than one.
 */
int db_query_one(struct db *db, const struct db_stmt_def *def,
		 const struct db_param *params, size_t nparams,
		 struct db_result **out);

size_t db_result_rows(const struct db_result *r);
size_t db_result_cols(const struct db_result *r);
int db_result_isnull(const struct db_result *r, size_t row, size_t col);
/* Borrowed, NUL-terminated (also for blobs); NULL for SQL NULL. */
const char *db_result_str(const struct db_result *r, size_t row, size_t col,
			  size_t *len);
/* 0 for SQL NULL or a value that is not an integer. */
int64_t db_result_i64(const struct db_result *r, size_t row, size_t col);
void db_result_free(struct db_result *r);

/*
 * Applies every numbered migration (NNN_name.sql) of dir that is not yet
 * recorded in schema_migrations, in order, each recorded with its SHA-256;
 * a recorded migration whose file changed or disappeared, or a new file
 * numbered below an applied one, is EST_E_CONFLICT and nothing is applied.
 * *applied counts the new ones.  Needs the admin role.  Concurrent runs are
 * serialized by a server lock.  MariaDB commits DDL implicitly, so a
 * migration that fails half-way stays half-applied (and unrecorded): the
 * error names the file and statement to repair by hand.
 */
int db_migrate(struct db *db, const char *dir, int *applied);
/* The highest applied migration number, 0 for none. */
int db_schema_version(struct db *db, int *version);

#endif
