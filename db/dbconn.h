/*
 * The connection structure, shared by db.c (connecting) and dbstmt.c
 * (statements).  Only db/ includes this header: it is the one that brings
 * in <mysql.h>.
 */
#ifndef ESTUARY_DBCONN_H
#define ESTUARY_DBCONN_H

#include <stddef.h>

#include <mysql.h>

#include "db.h"

/* A prepared statement of this connection, found by its definition. */
struct db_cached {
	const struct db_stmt_def *def;
	MYSQL_STMT *stmt;
};

struct db {
	MYSQL *my; /* NULL while disconnected */
	int lost;  /* the server went away; db_ping reconnects */
	char *socket;
	char *dbname;
	char *user;
	char *pwfile;
	int io_timeouts; /* read/write timeouts (not for migrations) */
	/* Open-addressing hash of prepared statements, keyed by def. */
	struct db_cached *cache;
	size_t cache_cap; /* a power of two, or 0 */
	size_t cache_len;
	/*
	 * The audit chain's head hash after this connection's last append,
	 * while its transaction still holds the head's lock (db/audit.c):
	 * a second append in the same transaction needs no second lock.
	 * Forgotten by db_begin, db_commit and db_rollback.
	 */
	int audit_head_held;
	uint8_t audit_head_hash[32];
	/* Out of autocommit mode (db_begin_implicit); reset on connect. */
	int implicit_tx;
};

/*
 * Maps the error of the last call on db (or on st when given) to an
 * EST_E_* code, logs it by statement name and server error number only,
 * and marks a lost connection.
 */
int db_fail(struct db *db, MYSQL_STMT *st, const char *name);

/* Closes every prepared statement of db (before reconnecting). */
void db_cache_clear(struct db *db);

#endif
