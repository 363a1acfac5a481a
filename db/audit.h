/*
 * The audit log: one row per login, change, certificate operation or
 * enrollment, hash-chained so that a changed, deleted or inserted row is
 * detected.  The application's database account may only INSERT and
 * SELECT audit_log; the chain's head (table audit_head) is a lock and a
 * cache that verification does not trust.
 *
 * The chain.  Each row stores prev_hash, the row_hash of the row before it
 * in id order (32 zero bytes for the first), and
 *
 *	row_hash = SHA-256(tag || prev_hash || F(ts) || F(actor_type) ||
 *	    F(actor_id) || F(actor_name) || F(tenant_id) || F(org_id) ||
 *	    F(entity) || F(entity_id) || F(entity_name) || F(action) ||
 *	    F(outcome) || F(reason) || F(source_addr) || F(details))
 *
 * where tag is the 16 bytes "estuary-audit-v1", and F(NULL) is the byte
 * 0x00 and F(v) is the byte 0x01, v's length as a 32-bit big-endian
 * integer, then v's bytes.  Every value is taken as text: ids in decimal
 * without leading zeros, ts as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC, six
 * digits of microseconds: the appender chooses it and writes it, so the
 * hash input is known), the others as stored (UTF-8).  The id is not
 * hashed: the order of the rows is what the prev_hash links prove, and the
 * id only locates a row (AUTO_INCREMENT leaves gaps after rollbacks).
 *
 * What the chain proves.  Without a key, anyone who may write audit_log can
 * recompute the hashes of a rewritten tail; the application account cannot
 * write it, so against that account the chain is complete protection.
 * Against someone with the database's administrative rights it shows
 * every edit short of a rewrite of the whole tail including the head; an
 * operator who notes the head hash that "estuaryctl audit verify" prints
 * catches that too.
 */
#ifndef ESTUARY_AUDIT_H
#define ESTUARY_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct db_result;

#define AUDIT_HASH_LEN 32

/* actor_type */
#define AUDIT_ACTOR_USER "user"
#define AUDIT_ACTOR_APPLICATION "application"
#define AUDIT_ACTOR_DEVICE "device"
#define AUDIT_ACTOR_SYSTEM "system"

/* outcome */
#define AUDIT_SUCCESS "success"
#define AUDIT_FAILURE "failure"
#define AUDIT_DENIED "denied"

/* Limits of db/001_identity.sql, in characters (bytes for ASCII fields). */
#define AUDIT_NAME_MAX 255	       /* actor_name, entity_name, reason */
#define AUDIT_IDENT_MAX 32	       /* entity, action: [a-z][a-z0-9_]* */
#define AUDIT_DETAILS_MAX (64u * 1024) /* bytes */

/*
 * One event.  Strings may be NULL where the column is NULL-able; ids are 0
 * for none.  entity and action are lower-case identifiers ("tenant",
 * "create", "set_factory_mode").  details is the caller's compact JSON
 * object of what changed, {"before": {...}, "after": {...}}, and never holds
 * a secret (password, key, PIN, token).
 */
struct audit_event {
	const char *actor_type; /* AUDIT_ACTOR_*; required */
	int64_t actor_id;	/* users.id, api_applications.id, devices.id */
	const char *actor_name; /* as it was at the time */
	int64_t tenant_id;
	int64_t org_id;
	const char *entity; /* required */
	int64_t entity_id;
	const char *entity_name;
	const char *action;	 /* required */
	const char *outcome;	 /* AUDIT_SUCCESS, ...; required */
	const char *reason;	 /* why a failure or denial; free text */
	const char *source_addr; /* IPv4 or IPv6 address text */
	const char *details;	 /* JSON object text */
};

/*
 * Appends ev to the log.  Inside the caller's transaction (db_begin), the
 * row commits or rolls back with the caller's change, and on failure the
 * caller must roll back, so that no audited change commits without its
 * row.  Outside a transaction, the append runs in a transaction of its
 * own.  Append last in a transaction: the chain's head stays locked until
 * the commit, and a lock taken after it could deadlock with another
 * appender.  Returns 0, EST_E_INVAL for an event that breaks the rules
 * above (nothing is written), or a database error; EST_E_INTERNAL when the
 * chain's head is missing.
 */
int db_audit_append(struct db *db, const struct audit_event *ev);
/*
 * Appends n events (up to DB_MULTI_MAX) in this order, as n calls of
 * db_audit_append() would, with one statement for the rows and one for
 * the head.  Only inside the caller's transaction (EST_E_INVAL outside
 * one); a failure leaves the transaction to roll back.
 */
int db_audit_append_many(struct db *db, const struct audit_event *const *evs,
			 size_t n);

/* Why a chain does not verify. */
enum audit_break {
	AUDIT_INTACT = 0,
	AUDIT_BREAK_HASH,   /* a row's content does not match its row_hash */
	AUDIT_BREAK_LINK,   /* a row's prev_hash is not the row before it */
	AUDIT_BREAK_TAIL,   /* the log ends before the row the head names */
	AUDIT_BREAK_EXTRA,  /* rows follow the row the head names */
	AUDIT_BREAK_HEAD,   /* the head names the last row, but not its hash
			       or the number of rows */
	AUDIT_BREAK_NOHEAD, /* the head row is missing */
};

struct audit_verify {
	enum audit_break status;
	uint64_t nrows;	 /* rows verified (before the break, if any) */
	uint64_t bad_id; /* the row at fault; 0 when no row is */
	/* The last verified row: the value to note down as an anchor. */
	uint64_t last_id;
	uint8_t last_hash[AUDIT_HASH_LEN];
};

/*
 * Walks the whole log in id order, in batches (constant memory), and
 * recomputes every row's hash and link; then compares the last row with
 * the head.  A consistent snapshot is used (a read-only transaction of its
 * own, or the caller's), so concurrent appenders do not disturb it; the
 * read-only application account suffices.  Returns 0 when the chain is
 * intact, EST_E_INVAL when it is not, or a database error; *v is filled
 * for 0 and EST_E_INVAL.
 */
int db_audit_verify_full(struct db *db, struct audit_verify *v);
/* db_audit_verify_full() reduced to the row count and the bad row. */
int db_audit_verify(struct db *db, uint64_t *nrows, uint64_t *bad_id);
/* One sentence on b for messages ("a row was changed ..."); never NULL. */
const char *audit_break_reason(enum audit_break b);

/*
 * Filters of db_audit_query(); a zero or NULL member does not filter.
 * Strings match exactly (names case-insensitively, as the column's
 * collation compares them).  Times are UNIX seconds: since inclusive,
 * until exclusive.
 */
struct audit_filter {
	int64_t since;
	int64_t until;
	const char *actor_type;
	int64_t actor_id;
	const char *actor_name;
	int64_t tenant_id;
	int64_t org_id;
	const char *entity;
	int64_t entity_id;
	const char *action;
	const char *outcome;
};

/* Columns of a db_audit_query() result, in order. */
enum audit_col {
	AUDIT_COL_ID = 0,
	AUDIT_COL_TS, /* "YYYY-MM-DDTHH:MM:SS.ffffffZ" */
	AUDIT_COL_ACTOR_TYPE,
	AUDIT_COL_ACTOR_ID,
	AUDIT_COL_ACTOR_NAME,
	AUDIT_COL_TENANT_ID,
	AUDIT_COL_ORG_ID,
	AUDIT_COL_ENTITY,
	AUDIT_COL_ENTITY_ID,
	AUDIT_COL_ENTITY_NAME,
	AUDIT_COL_ACTION,
	AUDIT_COL_OUTCOME,
	AUDIT_COL_REASON,
	AUDIT_COL_SOURCE_ADDR,
	AUDIT_COL_DETAILS,
	AUDIT_NCOLS
};

/* The largest page db_audit_query() returns. */
#define AUDIT_QUERY_MAX 1000

/*
 * The newest rows that match f (NULL: all), newest first, at most limit
 * (1..AUDIT_QUERY_MAX) of them, with ids below after_id (0: from the
 * newest).  The next page starts after the last id of this one (keyset
 * pagination: stable while rows are appended).  Sets *out, columns as in
 * enum audit_col; EST_E_INVAL for a bad filter or limit.
 */
int db_audit_query(struct db *db, const struct audit_filter *f,
		   uint64_t after_id, size_t limit, struct db_result **out);

/* The CSV header line of db_audit_csv_row()'s rows, CRLF included. */
const char *db_audit_csv_header(void);
/*
 * Row row of a db_audit_query() result as one CSV record (RFC 4180: fields
 * with a comma, quote, CR or LF are quoted, quotes doubled; CRLF at the
 * end), in a new NUL-terminated string; *len may be NULL.  A cell that a
 * spreadsheet would take for a formula (its first character is = + - @,
 * TAB or CR) gets a leading apostrophe.
 */
int db_audit_csv_row(const struct db_result *res, size_t row, char **out,
		     size_t *len);

#endif
