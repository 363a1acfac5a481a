/*
 * The audit log (audit.h): appending to the hash chain under the head
 * row's lock, verifying the chain, the filtered query behind the log's API
 * and its CSV export.
 *
 * Why the head row makes concurrent appenders safe.  An appender locks
 * the head with SELECT ... FOR UPDATE, a locking read, which waits for any
 * other appender's transaction to end and then sees the latest committed
 * head, whatever snapshot the caller's transaction had already taken; it
 * links the new row to that head and moves the head in the same
 * transaction (both in one call of the procedure audit_append_row,
 * db/011_audit_append.sql, which only stores what this file computed).
 * So each row links to the row committed just before it, in every
 * process, and a rolled-back append takes the head move back with it.
 * The rows get their AUTO_INCREMENT ids while the lock is held, so id
 * order is chain order; ids lost to rollbacks leave gaps that the links do
 * not care about.
 *
 * Why the head may be writable.  The application account can change the
 * head but not a row of audit_log.  A head set to another value makes the
 * next row link to something that is not the last row: verification walks
 * the rows alone, so it reports the break at that row.  Verification reads
 * the head only to compare it with the log's end, which is what reveals
 * rows deleted from the end.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>
#include <json.h>
#include <openssl/evp.h>

#include "audit.h"
#include "buf.h"
#include "db.h"
#include "dbconn.h"
#include "dbpriv.h"
#include "err.h"
#include "jsonval.h"
#include "log.h"

/* Domain separation of the row hash (audit.h). */
#define AUDIT_TAG "estuary-audit-v1"
/* Rows per verification batch: bounds memory, not the log's size. */
#define AUDIT_WALK_BATCH 256
/* The hashed fields, in hash order (audit.h), ts first. */
#define AUDIT_NFIELDS 14

/*
 * The hashed columns in hash order; the walk reads ts in the exact text
 * the appender hashed.
 */
#define AUDIT_FIELD_COLUMNS                                                    \
	"actor_type, actor_id, actor_name, tenant_id, org_id, entity,"         \
	" entity_id, entity_name, action, outcome, reason, source_addr,"       \
	" details"

static const struct db_stmt_def audit_stmts[] = {
#define AS_HEAD_LOCK 0
	{"audit_head_lock",
	 "SELECT last_id, last_hash, nrows FROM audit_head WHERE id = 1"
	 " FOR UPDATE",
	 0},
#define AS_APPEND 1
	/*
	 * Inserts the row and moves the head to it (db/011_audit_append.sql):
	 * the parameters are the columns of audit_log in AUDIT_FIELD_COLUMNS
	 * order between ts and the two hashes.
	 */
	{"audit_append_row",
	 "CALL audit_append_row(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	 " ?)",
	 16},
#define AS_HEAD_GET 2
	{"audit_head_get",
	 "SELECT last_id, last_hash, nrows FROM audit_head WHERE id = 1", 0},
#define AS_WALK 3
	{"audit_walk",
	 "SELECT id, DATE_FORMAT(ts, '%Y-%m-%d "
	 "%H:%i:%s.%f'), " AUDIT_FIELD_COLUMNS
	 ", prev_hash, row_hash FROM audit_log"
	 " WHERE id > ? ORDER BY id LIMIT ?",
	 2},
#define AS_ISOLATION 4
	{"audit_isolation", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
	 0},
#define AS_SNAPSHOT 5
	{"audit_snapshot",
	 "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", 0},
#define AS_QUERY 6
	/*
	 * Each optional filter is a pair of parameters, (? IS NULL OR
	 * col = ?): NULL in the first switches it off.
	 */
	{"audit_query",
	 "SELECT id, DATE_FORMAT(ts, "
	 "'%Y-%m-%dT%H:%i:%s.%fZ'), " AUDIT_FIELD_COLUMNS " FROM audit_log"
	 " WHERE (? IS NULL OR id < ?)"
	 " AND (? IS NULL OR ts >= ?)"
	 " AND (? IS NULL OR ts < ?)"
	 " AND (? IS NULL OR actor_type = ?)"
	 " AND (? IS NULL OR actor_id = ?)"
	 " AND (? IS NULL OR actor_name = ?)"
	 " AND (? IS NULL OR tenant_id = ?)"
	 " AND (? IS NULL OR org_id = ?)"
	 " AND (? IS NULL OR entity = ?)"
	 " AND (? IS NULL OR entity_id = ?)"
	 " AND (? IS NULL OR action = ?)"
	 " AND (? IS NULL OR outcome = ?)"
	 " ORDER BY id DESC LIMIT ?",
	 25},
#define AS_HEAD_MOVE 7
	/*
	 * The head after several rows of one statement (audit_insert_rows),
	 * under its lock: the last of them is the log's largest id.
	 */
	{"audit_head_move",
	 "UPDATE audit_head SET last_id = (SELECT MAX(id) FROM audit_log),"
	 " last_hash = ?, nrows = nrows + ? WHERE id = 1",
	 2},
};

/* Walk columns: id, the hashed fields, prev_hash, row_hash. */
#define WALK_ID 0
#define WALK_FIELDS 1
#define WALK_PREV (WALK_FIELDS + AUDIT_NFIELDS)
#define WALK_HASH (WALK_PREV + 1)

static const char *const audit_actor_types[] = {
	AUDIT_ACTOR_USER, AUDIT_ACTOR_APPLICATION, AUDIT_ACTOR_DEVICE,
	AUDIT_ACTOR_SYSTEM, NULL};
static const char *const audit_outcomes[] = {AUDIT_SUCCESS, AUDIT_FAILURE,
					     AUDIT_DENIED, NULL};

/* One row's hashed values as text; NULL for SQL NULL. */
struct audit_fields {
	const char *v[AUDIT_NFIELDS];
	size_t len[AUDIT_NFIELDS];
};

/* --- Validation --- */

/*
 * The enumerations compare exactly: the columns' collation would take
 * "System" for "system" and store "system", and the hash would then
 * cover a value that is not the one stored.
 */
static int
audit_in_list(const char *s, const char *const *list)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* entity and action: [a-z][a-z0-9_]*, 1..AUDIT_IDENT_MAX bytes. */
static int
audit_ident_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return i <= AUDIT_IDENT_MAX;
}

/*
 * Names and reasons: 1..max characters of well-formed UTF-8 without
 * control characters, which would let a name forge lines in a log or
 * escape sequences on an operator's terminal.  Absent is NULL, never "".
 */
static int
audit_text_ok(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, left, chars = 0;
	uint32_t cp;

	if (s == NULL)
		return 1;
	for (left = strlen(s); left > 0; left -= n, p += n) {
		if ((n = jsonval_utf8_next(p, left, &cp)) == 0 || cp < 0x20 ||
		    (cp >= 0x7f && cp <= 0x9f))
			return 0;
		chars++;
	}
	return chars >= 1 && chars <= max;
}

/* details: one RFC 8259 object (jsonval's strict parser), bounded. */
static int
audit_details_ok(const char *s)
{
	struct json_object *obj = NULL;
	struct jsonval_error err;
	size_t len;

	if (s == NULL)
		return 1;
	if ((len = strlen(s)) > AUDIT_DETAILS_MAX ||
	    jsonval_parse(s, len, &obj, &err) != 0)
		return 0;
	json_object_put(obj);
	return 1;
}

static int
audit_event_check(const struct audit_event *ev)
{
	if (ev == NULL || !audit_in_list(ev->actor_type, audit_actor_types) ||
	    !audit_in_list(ev->outcome, audit_outcomes) ||
	    !audit_ident_ok(ev->entity) || !audit_ident_ok(ev->action) ||
	    ev->actor_id < 0 || ev->tenant_id < 0 || ev->org_id < 0 ||
	    ev->entity_id < 0 ||
	    !audit_text_ok(ev->actor_name, AUDIT_NAME_MAX) ||
	    !audit_text_ok(ev->entity_name, AUDIT_NAME_MAX) ||
	    !audit_text_ok(ev->reason, AUDIT_NAME_MAX) ||
	    (ev->source_addr != NULL &&
	     jsonval_check_ip(ev->source_addr) != 0) ||
	    !audit_details_ok(ev->details))
		return EST_E_INVAL;
	return 0;
}

/* --- The row hash --- */

static int
audit_hash_field(EVP_MD_CTX *ctx, const char *v, size_t len)
{
	uint8_t hdr[5];

	if (v == NULL) {
		hdr[0] = 0;
		return EVP_DigestUpdate(ctx, hdr, 1) == 1;
	}
	if (len > UINT32_MAX)
		return 0;
	hdr[0] = 1;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
	return EVP_DigestUpdate(ctx, hdr, sizeof(hdr)) == 1 &&
	       EVP_DigestUpdate(ctx, v, len) == 1;
}

/* row_hash of f linked to prev, as audit.h defines it. */
static int
audit_hash(const uint8_t prev[AUDIT_HASH_LEN], const struct audit_fields *f,
	   uint8_t out[AUDIT_HASH_LEN])
{
	EVP_MD_CTX *ctx = NULL;
	unsigned int mdlen = 0;
	size_t i;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return EST_E_NOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, AUDIT_TAG, strlen(AUDIT_TAG)) == 1 &&
	     EVP_DigestUpdate(ctx, prev, AUDIT_HASH_LEN) == 1;
	for (i = 0; ok && i < AUDIT_NFIELDS; i++)
		ok = audit_hash_field(ctx, f->v[i], f->len[i]);
	ok = ok && EVP_DigestFinal_ex(ctx, out, &mdlen) == 1 &&
	     mdlen == AUDIT_HASH_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : EST_E_CRYPTO;
}

static void
audit_field_set(struct audit_fields *f, size_t i, const char *s)
{
	f->v[i] = s;
	f->len[i] = s != NULL ? strlen(s) : 0;
}

/* An id as the database returns it: decimal, NULL for 0. */
static const char *
audit_id_text(int64_t id, char buf[24])
{
	if (id == 0)
		return NULL;
	snprintf(buf, 24, "%" PRId64, id);
	return buf;
}

/* The event's fields, in hash order, with ts; ids are written into ids. */
static void
audit_event_fields(const struct audit_event *ev, const char *ts,
		   char ids[4][24], struct audit_fields *f)
{
	audit_field_set(f, 0, ts);
	audit_field_set(f, 1, ev->actor_type);
	audit_field_set(f, 2, audit_id_text(ev->actor_id, ids[0]));
	audit_field_set(f, 3, ev->actor_name);
	audit_field_set(f, 4, audit_id_text(ev->tenant_id, ids[1]));
	audit_field_set(f, 5, audit_id_text(ev->org_id, ids[2]));
	audit_field_set(f, 6, ev->entity);
	audit_field_set(f, 7, audit_id_text(ev->entity_id, ids[3]));
	audit_field_set(f, 8, ev->entity_name);
	audit_field_set(f, 9, ev->action);
	audit_field_set(f, 10, ev->outcome);
	audit_field_set(f, 11, ev->reason);
	audit_field_set(f, 12, ev->source_addr);
	audit_field_set(f, 13, ev->details);
}

/*
 * The current UTC time with microseconds, as DATETIME(6) text: chosen
 * here rather than by the column's DEFAULT, so that the hashed text is the
 * stored one.
 */
static int
audit_now(char ts[64])
{
	struct timespec now;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
	    gmtime_r(&now.tv_sec, &tm) == NULL || tm.tm_year + 1900 < 1000 ||
	    tm.tm_year + 1900 > 9999)
		return EST_E_INTERNAL;
	snprintf(ts, 64, "%04d-%02d-%02d %02d:%02d:%02d.%06ld",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (long)(now.tv_nsec / 1000));
	return 0;
}

/* --- Appending --- */

/*
 * Is a transaction open on db?  The server reports it in the status of
 * every reply; the client library keeps the last one.
 */
static int
audit_in_tx(struct db *db)
{
	unsigned int status = 0;

	if (db->my == NULL || db->lost ||
	    mariadb_get_infov(db->my, MARIADB_CONNECTION_SERVER_STATUS,
			      &status) != 0)
		return 0;
	return (status & SERVER_STATUS_IN_TRANS) != 0;
}

/* Reads a BINARY(32) cell; EST_E_INTERNAL when it is not one. */
static int
audit_hash_cell(const struct db_result *res, size_t row, size_t col,
		uint8_t out[AUDIT_HASH_LEN])
{
	const char *s;
	size_t len = 0;

	if ((s = db_result_str(res, row, col, &len)) == NULL ||
	    len != AUDIT_HASH_LEN)
		return EST_E_INTERNAL;
	memcpy(out, s, AUDIT_HASH_LEN);
	return 0;
}

/*
 * The hash the next row links to: the one this transaction's last append
 * left (audit_head_held), or the head's, read under its lock.
 */
static int
audit_prev(struct db *db, int own, uint8_t prev[AUDIT_HASH_LEN])
{
	struct db_result *head = NULL;
	int r;

	/*
	 * The head stays locked until the transaction ends, so after an
	 * append in this transaction its hash is the one that append wrote.
	 * The server's own word that the transaction is still open (a
	 * deadlock ends it without a ROLLBACK from here) is checked by the
	 * caller.
	 */
	if (!own && db->audit_head_held) {
		memcpy(prev, db->audit_head_hash, AUDIT_HASH_LEN);
		return 0;
	}
	db->audit_head_held = 0;
	if ((r = db_query_one(db, &audit_stmts[AS_HEAD_LOCK], NULL, 0,
			      &head)) != 0) {
		if (r == EST_E_NOTFOUND) {
			log_err("audit: the chain's head row is missing");
			r = EST_E_INTERNAL;
		}
		return r;
	}
	if ((r = audit_hash_cell(head, 0, 1, prev)) != 0)
		log_err("audit: the chain's head is malformed");
	db_result_free(head);
	return r;
}

/*
 * The 16 values of ev's row linked to prev (AS_APPEND's parameters and
 * AS_INSERT_ROWS' per row) into p, and the row's hash into hash.  The
 * time is taken now, under the head's lock, so that ts follows the
 * chain's order as far as the clock does.  ts, ids and the two hashes
 * are the caller's storage behind p.
 */
static int
audit_row_params(const struct audit_event *ev,
		 const uint8_t prev[AUDIT_HASH_LEN], char ts[64],
		 char ids[4][24], uint8_t hash[AUDIT_HASH_LEN],
		 struct db_param *p)
{
	struct audit_fields f;
	size_t i;
	int r;

	if ((r = audit_now(ts)) != 0)
		return r;
	audit_event_fields(ev, ts, ids, &f);
	if ((r = audit_hash(prev, &f, hash)) != 0)
		return r;
	p[0] = DB_STRN(ts, strlen(ts));
	p[1] = DB_STR(ev->actor_type);
	p[2] = ev->actor_id > 0 ? DB_I64(ev->actor_id) : DB_NULL;
	p[3] = DB_STR(ev->actor_name);
	p[4] = ev->tenant_id > 0 ? DB_I64(ev->tenant_id) : DB_NULL;
	p[5] = ev->org_id > 0 ? DB_I64(ev->org_id) : DB_NULL;
	p[6] = DB_STR(ev->entity);
	p[7] = ev->entity_id > 0 ? DB_I64(ev->entity_id) : DB_NULL;
	for (i = 8; i < AUDIT_NFIELDS; i++)
		p[i] = DB_STR(f.v[i]);
	p[14] = DB_BLOB(prev, AUDIT_HASH_LEN);
	p[15] = DB_BLOB(hash, AUDIT_HASH_LEN);
	return 0;
}

int
db_audit_append(struct db *db, const struct audit_event *ev)
{
	struct db_param p[16];
	uint8_t prev[AUDIT_HASH_LEN], hash[AUDIT_HASH_LEN];
	char ts[64], ids[4][24];
	int own = 0, r;

	if ((r = audit_event_check(ev)) != 0)
		return r;
	if (!audit_in_tx(db)) {
		if ((r = db_begin(db)) != 0)
			return r;
		own = 1;
	}
	if ((r = audit_prev(db, own, prev)) != 0 ||
	    (r = audit_row_params(ev, prev, ts, ids, hash, p)) != 0)
		goto out;
	/* The row and the head's move, in one round trip under the lock. */
	db->audit_head_held = 0;
	if ((r = db_exec(db, &audit_stmts[AS_APPEND], p, 16, NULL, NULL)) != 0)
		goto out;
	memcpy(db->audit_head_hash, hash, AUDIT_HASH_LEN);
	db->audit_head_held = 1;
	if (own && (r = db_commit(db)) != 0)
		goto out;
	own = 0;
out:
	if (own)
		db_rollback(db);
	return r;
}

/* The storage behind one row's parameters (audit_row_params). */
struct audit_row_buf {
	char ts[64];
	char ids[4][24];
	uint8_t prev[AUDIT_HASH_LEN];
	uint8_t hash[AUDIT_HASH_LEN];
};

static struct db_multi audit_insert_rows = {
	"audit_insert_rows",
	"INSERT INTO audit_log (ts, " AUDIT_FIELD_COLUMNS
	", prev_hash, row_hash) VALUES ",
	"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	"",
	16,
	{{0}}};

int
db_audit_append_many(struct db *db, const struct audit_event *const *evs,
		     size_t n)
{
	struct audit_row_buf *b = NULL;
	struct db_param *p = NULL, hp[2];
	const struct db_stmt_def *def;
	uint64_t moved = 0;
	size_t i;
	int r;

	if (n == 1)
		return db_audit_append(db, evs[0]);
	if (n == 0 || n > DB_MULTI_MAX || !audit_in_tx(db))
		return EST_E_INVAL;
	for (i = 0; i < n; i++)
		if ((r = audit_event_check(evs[i])) != 0)
			return r;
	if ((def = db_multi_def(&audit_insert_rows, n)) == NULL ||
	    (b = calloc(n, sizeof(*b))) == NULL ||
	    (p = calloc(n * 16, sizeof(*p))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = audit_prev(db, 0, b[0].prev)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (i > 0)
			memcpy(b[i].prev, b[i - 1].hash, AUDIT_HASH_LEN);
		if ((r = audit_row_params(evs[i], b[i].prev, b[i].ts, b[i].ids,
					  b[i].hash, p + i * 16)) != 0)
			goto out;
	}
	/*
	 * The rows, then the head moved to the last of them: under the
	 * head's lock no other row comes between, so the last id is the
	 * log's largest.
	 */
	db->audit_head_held = 0;
	hp[0] = DB_BLOB(b[n - 1].hash, AUDIT_HASH_LEN);
	hp[1] = DB_I64((int64_t)n);
	if ((r = db_exec(db, def, p, n * 16, NULL, NULL)) != 0 ||
	    (r = db_exec(db, &audit_stmts[AS_HEAD_MOVE], hp, 2, &moved,
			 NULL)) != 0)
		goto out;
	if (moved != 1) {
		log_err("audit: the chain's head row is missing");
		r = EST_E_INTERNAL;
		goto out;
	}
	memcpy(db->audit_head_hash, b[n - 1].hash, AUDIT_HASH_LEN);
	db->audit_head_held = 1;
out:
	free(p);
	free(b);
	return r;
}

/* --- Verification --- */

const char *
audit_break_reason(enum audit_break b)
{
	switch (b) {
	case AUDIT_INTACT:
		return "the chain is intact";
	case AUDIT_BREAK_HASH:
		return "the row's content does not match its hash: the row "
		       "was changed";
	case AUDIT_BREAK_LINK:
		return "the row does not link to the row before it: a row "
		       "before it was deleted, or a row inserted";
	case AUDIT_BREAK_TAIL:
		return "the log ends before the row its head names: rows "
		       "were deleted from the end, or the head was altered";
	case AUDIT_BREAK_EXTRA:
		return "rows follow the row the head names: rows were "
		       "inserted at the end, or the head was altered";
	case AUDIT_BREAK_HEAD:
		return "the head disagrees with the last row's hash or the "
		       "number of rows: the end was rewritten, or the head "
		       "was altered";
	case AUDIT_BREAK_NOHEAD:
		return "the chain's head row is missing";
	}
	return "unknown";
}

/*
 * Checks row i of a walk batch against the expected link; on a break sets
 * v->status and v->bad_id, otherwise advances v.
 */
static int
audit_check_row(const struct db_result *res, size_t i, struct audit_verify *v)
{
	struct audit_fields f;
	uint8_t prev[AUDIT_HASH_LEN], stored[AUDIT_HASH_LEN];
	uint8_t hash[AUDIT_HASH_LEN];
	uint64_t id = (uint64_t)db_result_i64(res, i, WALK_ID);
	size_t k;
	int r;

	for (k = 0; k < AUDIT_NFIELDS; k++)
		f.v[k] = db_result_str(res, i, WALK_FIELDS + k, &f.len[k]);
	if (audit_hash_cell(res, i, WALK_PREV, prev) != 0 ||
	    audit_hash_cell(res, i, WALK_HASH, stored) != 0) {
		v->status = AUDIT_BREAK_HASH;
		v->bad_id = id;
		return 0;
	}
	if ((r = audit_hash(prev, &f, hash)) != 0)
		return r;
	/* Content first: a changed row is named, not the one after it. */
	if (memcmp(hash, stored, AUDIT_HASH_LEN) != 0) {
		v->status = AUDIT_BREAK_HASH;
		v->bad_id = id;
	} else if (memcmp(prev, v->last_hash, AUDIT_HASH_LEN) != 0) {
		v->status = AUDIT_BREAK_LINK;
		v->bad_id = id;
	} else {
		memcpy(v->last_hash, stored, AUDIT_HASH_LEN);
		v->last_id = id;
		v->nrows++;
	}
	return 0;
}

/*
 * Compares the end of an intact chain with the head read in the same
 * snapshot.  first_after is the first row id above the head's, 0 if none.
 */
static void
audit_check_head(const struct db_result *head, uint64_t first_after,
		 struct audit_verify *v)
{
	uint8_t hhash[AUDIT_HASH_LEN];
	uint64_t hid, hn;

	if (head == NULL) {
		v->status = AUDIT_BREAK_NOHEAD;
		return;
	}
	hid = (uint64_t)db_result_i64(head, 0, 0);
	hn = (uint64_t)db_result_i64(head, 0, 2);
	if (audit_hash_cell(head, 0, 1, hhash) != 0) {
		v->status = AUDIT_BREAK_HEAD;
		v->bad_id = hid;
	} else if (hid > v->last_id) {
		v->status = AUDIT_BREAK_TAIL;
		v->bad_id = hid;
	} else if (hid < v->last_id) {
		v->status = AUDIT_BREAK_EXTRA;
		v->bad_id = first_after;
	} else if (memcmp(hhash, v->last_hash, AUDIT_HASH_LEN) != 0 ||
		   hn != v->nrows) {
		v->status = AUDIT_BREAK_HEAD;
		v->bad_id = hid;
	}
}

/* Starts a consistent read-only snapshot unless a transaction is open. */
static int
audit_snapshot(struct db *db, int *own)
{
	int r;

	*own = 0;
	if (audit_in_tx(db))
		return 0;
	db->audit_head_held = 0;
	if ((r = db_exec(db, &audit_stmts[AS_ISOLATION], NULL, 0, NULL,
			 NULL)) != 0 ||
	    (r = db_exec(db, &audit_stmts[AS_SNAPSHOT], NULL, 0, NULL, NULL)) !=
		    0)
		return r;
	*own = 1;
	return 0;
}

int
db_audit_verify_full(struct db *db, struct audit_verify *out)
{
	struct db_result *head = NULL, *batch = NULL;
	struct audit_verify v;
	struct db_param p[2];
	uint64_t hid = 0, id, first_after = 0;
	size_t i, rows;
	int own = 0, r, r2;

	memset(&v, 0, sizeof(v));
	if ((r = audit_snapshot(db, &own)) != 0)
		return r;
	/* The head first: the snapshot then covers it and every row. */
	r = db_query_one(db, &audit_stmts[AS_HEAD_GET], NULL, 0, &head);
	if (r == EST_E_NOTFOUND)
		r = 0;
	else if (r != 0)
		goto out;
	else
		hid = (uint64_t)db_result_i64(head, 0, 0);
	do {
		p[0] = DB_I64(v.last_id);
		p[1] = DB_I64(AUDIT_WALK_BATCH);
		if ((r = db_query(db, &audit_stmts[AS_WALK], p, 2, &batch)) !=
		    0)
			goto out;
		rows = db_result_rows(batch);
		for (i = 0; i < rows && v.status == AUDIT_INTACT; i++) {
			id = (uint64_t)db_result_i64(batch, i, WALK_ID);
			if (first_after == 0 && head != NULL && id > hid)
				first_after = id;
			if ((r = audit_check_row(batch, i, &v)) != 0)
				goto out;
		}
		db_result_free(batch);
		batch = NULL;
	} while (rows == AUDIT_WALK_BATCH && v.status == AUDIT_INTACT);
	if (v.status == AUDIT_INTACT)
		audit_check_head(head, first_after, &v);
	r = v.status == AUDIT_INTACT ? 0 : EST_E_INVAL;
out:
	/* Ends the read-only snapshot; nothing was written. */
	if (own && (r2 = db_rollback(db)) != 0 && (r == 0 || r == EST_E_INVAL))
		r = r2;
	db_result_free(batch);
	db_result_free(head);
	if (r == 0 || r == EST_E_INVAL)
		*out = v;
	return r;
}

int
db_audit_verify(struct db *db, uint64_t *nrows, uint64_t *bad_id)
{
	struct audit_verify v;
	int r;

	if ((r = db_audit_verify_full(db, &v)) == 0 || r == EST_E_INVAL) {
		*nrows = v.nrows;
		*bad_id = v.bad_id;
	}
	return r;
}

/* --- Query --- */

/* UNIX seconds as DATETIME text; EST_E_INVAL beyond DATETIME's range. */
static int
audit_time_text(int64_t t, char out[64])
{
	struct tm tm;
	time_t tt = (time_t)t;

	/* 9999-12-31 23:59:59 UTC, the last DATETIME. */
	if (t < 0 || t > INT64_C(253402300799) || gmtime_r(&tt, &tm) == NULL)
		return EST_E_INVAL;
	snprintf(out, 64, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}

/* Sets the pair of parameters of one optional filter. */
static void
audit_opt(struct db_param *p, struct db_param v)
{
	p[0] = v;
	p[1] = v;
}

static struct db_param
audit_opt_id(int64_t id)
{
	return id > 0 ? DB_I64(id) : DB_NULL;
}

static int
audit_filter_check(const struct audit_filter *f)
{
	if ((f->actor_type != NULL &&
	     !audit_in_list(f->actor_type, audit_actor_types)) ||
	    (f->outcome != NULL &&
	     !audit_in_list(f->outcome, audit_outcomes)) ||
	    (f->entity != NULL && !audit_ident_ok(f->entity)) ||
	    (f->action != NULL && !audit_ident_ok(f->action)) ||
	    !audit_text_ok(f->actor_name, AUDIT_NAME_MAX) || f->since < 0 ||
	    f->until < 0 || f->actor_id < 0 || f->tenant_id < 0 ||
	    f->org_id < 0 || f->entity_id < 0)
		return EST_E_INVAL;
	return 0;
}

int
db_audit_query(struct db *db, const struct audit_filter *f, uint64_t after_id,
	       size_t limit, struct db_result **out)
{
	static const struct audit_filter none;
	struct db_param p[25];
	char since[64], until[64];

	if (f == NULL)
		f = &none;
	if (limit < 1 || limit > AUDIT_QUERY_MAX || after_id > INT64_MAX ||
	    audit_filter_check(f) != 0 ||
	    (f->since > 0 && audit_time_text(f->since, since) != 0) ||
	    (f->until > 0 && audit_time_text(f->until, until) != 0))
		return EST_E_INVAL;
	audit_opt(&p[0], audit_opt_id((int64_t)after_id));
	audit_opt(&p[2],
		  f->since > 0 ? DB_STRN(since, strlen(since)) : DB_NULL);
	audit_opt(&p[4],
		  f->until > 0 ? DB_STRN(until, strlen(until)) : DB_NULL);
	audit_opt(&p[6], DB_STR(f->actor_type));
	audit_opt(&p[8], audit_opt_id(f->actor_id));
	audit_opt(&p[10], DB_STR(f->actor_name));
	audit_opt(&p[12], audit_opt_id(f->tenant_id));
	audit_opt(&p[14], audit_opt_id(f->org_id));
	audit_opt(&p[16], DB_STR(f->entity));
	audit_opt(&p[18], audit_opt_id(f->entity_id));
	audit_opt(&p[20], DB_STR(f->action));
	audit_opt(&p[22], DB_STR(f->outcome));
	p[24] = DB_I64(limit);
	return db_query(db, &audit_stmts[AS_QUERY], p, 25, out);
}

/* --- CSV --- */

const char *
db_audit_csv_header(void)
{
	return "id,ts,actor_type,actor_id,actor_name,tenant_id,org_id,entity,"
	       "entity_id,entity_name,action,outcome,reason,source_addr,"
	       "details\r\n";
}

/*
 * One cell.  The apostrophe comes first, so that a spreadsheet shows the
 * text instead of evaluating it (OWASP "CSV injection"); quoting comes
 * after, so that it covers the apostrophe too.
 */
static int
audit_csv_cell(struct buf *b, const char *s, size_t len)
{
	static const char formula[] = "=+-@\t\r";
	size_t i;
	int quote = 0, r;

	if (s == NULL || len == 0)
		return 0;
	/* By length: a value is not cut short by a NUL byte in it. */
	for (i = 0; i < len && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' ||
			s[i] == '\n';
	if ((quote && (r = buf_put_u8(b, '"')) != 0) ||
	    (memchr(formula, s[0], sizeof(formula) - 1) != NULL &&
	     (r = buf_put_u8(b, '\'')) != 0))
		return r;
	for (i = 0; i < len; i++) {
		if (s[i] == '"' && (r = buf_put_u8(b, '"')) != 0)
			return r;
		if ((r = buf_put_u8(b, (uint8_t)s[i])) != 0)
			return r;
	}
	return quote ? buf_put_u8(b, '"') : 0;
}

int
db_audit_csv_row(const struct db_result *res, size_t row, char **out,
		 size_t *len)
{
	struct buf *b = NULL;
	const char *s;
	char *text = NULL;
	size_t col, n = 0;
	int r = 0;

	if (res == NULL || row >= db_result_rows(res) ||
	    db_result_cols(res) != AUDIT_NCOLS)
		return EST_E_INVAL;
	if ((b = buf_new(0)) == NULL)
		return EST_E_NOMEM;
	for (col = 0; col < AUDIT_NCOLS && r == 0; col++) {
		s = db_result_str(res, row, col, &n);
		if (col > 0)
			r = buf_put_u8(b, ',');
		if (r == 0)
			r = audit_csv_cell(b, s, n);
	}
	if (r == 0)
		r = buf_put(b, "\r\n", 2);
	if (r != 0)
		goto out;
	if ((text = malloc(buf_len(b) + 1)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	memcpy(text, buf_ptr(b), buf_len(b));
	text[buf_len(b)] = '\0';
	if (len != NULL)
		*len = buf_len(b);
	*out = text;
out:
	buf_free(b);
	return r;
}
