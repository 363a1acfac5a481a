/* Shared by the files of unit/test_db (see test_db.c). */
#ifndef ESTUARY_TEST_DB_H
#define ESTUARY_TEST_DB_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct db;
struct db_param;
struct db_result;
struct db_stmt_def;

/* Set up by the "migrate" and "grants" suites, closed by the last one. */
extern struct conf *tdb_conf;
extern struct db *tdb_admin; /* estuary_admin */
extern struct db *tdb_app;   /* estuary_app */
/* $ESTUARY_MIGRATIONS: the db/ directory of the source tree. */
extern const char *tdb_migrations;

/* db_exec without parameters or results. */
int tdb_exec(struct db *db, const struct db_stmt_def *def);

/* Registers the suite of test_dbgrants.c (the accounts' rights). */
int tdb_grant_suites(void);
/* Registers the suite of test_dbq.c (domain queries, report views). */
int tdb_query_suites(void);
/* Registers the suite of test_dbextca.c (external CAs). */
int tdb_extca_suites(void);
/* Registers the suite of test_dbbind.c (values, results, transactions). */
int tdb_bind_suites(void);
/*
 * Registers the suites of test_dbaudit.c (the hash-chained audit log) and
 * of test_dbauditq.c (its query and CSV export).
 */
int tdb_audit_suites(void);
int tdb_audit_query_suites(void);
/*
 * Registers the suites of test_dbmulti.c (multi-row statements: their
 * definitions, certificate rows, audit rows).
 */
int tdb_multi_suites(void);
int tdb_audit_many_suites(void);
/* Row 0's column col of r holds exactly the len bytes at want. */
int tdb_col_is(const struct db_result *r, size_t col, const void *want,
	       size_t len);
/* A count (the first column of one row) from tdb_admin; -1 on error. */
int64_t tdb_count(const struct db_stmt_def *def, const struct db_param *p,
		  size_t np);
/* Empties the audit log and resets its head (admin account); 0 or -1. */
int tdb_audit_reset(void);
/*
 * Empties the log, then runs child(which, ready, go) in two processes at
 * once: each writes a byte to ready when set up and starts on EOF of go,
 * then _exits 0 on success.  Asserts that both did.
 */
void tdb_audit_race(void (*child)(int which, int ready, int go));
/* The audit head's last id (and hash, when not NULL); UINT64_MAX on error. */
uint64_t tdb_audit_head(uint8_t *hash);

#endif
