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
 *   EST_E_DB       connection or server failure (the caller answers 503)
 */
#ifndef ESTUARY_DB_H
#define ESTUARY_DB_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct db;
struct db_result;

enum db_role {
	DB_ROLE_APP = 1,	/* db_user: DML only, audit log INSERT/SELECT */
	DB_ROLE_ADMIN = 2,	/* db_admin_user: migrations */
};

struct db_stmt_def {
	const char *name;	/* for logs: "ca_insert" */
	const char *sql;	/* with ? placeholders */
	unsigned nparams;	/* checked against the prepared statement */
};

enum db_ptype { DB_T_NULL = 0, DB_T_I64, DB_T_STR, DB_T_BLOB };

struct db_param {
	enum db_ptype type;
	int64_t i;
	const void *p;
	size_t len;
};

#define DB_NULL ((struct db_param){ .type = DB_T_NULL })
#define DB_I64(v) ((struct db_param){ .type = DB_T_I64, .i = (int64_t)(v) })
#define DB_STR(s)                                                          \
	((struct db_param){ .type = (s) ? DB_T_STR : DB_T_NULL,            \
	    .p = (s), .len = (s) ? strlen(s) : 0 })
#define DB_BLOB(b, n)                                                      \
	((struct db_param){ .type = DB_T_BLOB, .p = (b), .len = (n) })

/* Connects over db_socket as the account of role; sets *out on success. */
int db_connect(const struct conf *c, enum db_role role, struct db **out);
void db_close(struct db *db);
/* Checks that the server answers (mysql_ping); reconnects if it can. */
int db_ping(struct db *db);

int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/* Runs a statement without a result set. affected/insert_id may be NULL. */
int db_exec(struct db *db, const struct db_stmt_def *def,
    const struct db_param *params, size_t nparams, uint64_t *affected,
    uint64_t *insert_id);

/* Runs a query and buffers its whole result; sets *out on success. */
int db_query(struct db *db, const struct db_stmt_def *def,
    const struct db_param *params, size_t nparams, struct db_result **out);
/* Like db_query, but exactly one row is expected: EST_E_NOTFOUND for none. */
int db_query_one(struct db *db, const struct db_stmt_def *def,
    const struct db_param *params, size_t nparams, struct db_result **out);

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
 * a recorded migration whose file changed is an error.  *applied counts the
 * new ones.  Needs the admin role.
 */
int db_migrate(struct db *db, const char *dir, int *applied);
/* The highest applied migration number, 0 for none. */
int db_schema_version(struct db *db, int *version);

#endif
