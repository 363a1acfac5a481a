/*
 * REST helpers shared by every estuary-api handler: reading a JSON body,
 * reading query parameters against a table, keyset pagination, ETag and
 * If-Match, JSON row builders, Location on 201, before/after details and
 * the audit rows of changes and refusals.  They exist so that every
 * endpoint answers the same way; a handler that needs one of these
 * behaviours uses the helper instead of its own copy.
 *
 * Errors.  Every helper that can fail on client input fills a struct
 * jsonval_error (code, field, message) and returns its code, so that a
 * handler chains them and answers once at its end:
 *
 *	static int
 *	h_tenant_get(struct hctx *c, const struct request *req,
 *	    const struct principal *p, struct resp *rs)
 *	{
 *		struct jsonval_error e = {0};
 *		...
 *		if ((r = rest_query_none(req, &e)) != 0 ||
 *		    (r = rest_cap_id(c, "id", &id, &e)) != 0 || ...)
 *			goto out;
 *		r = rest_send(rs, 200, obj, etag);
 *	out:
 *		json_object_put(obj);
 *		return rest_answer(rs, r, &e);
 *	}
 *
 * rest_answer() turns a client error (a 4xx code) into the API's one error
 * shape, naming e.field when e.code is that code, and returns 0; a server
 * error (5xx) is returned for the dispatcher to answer, so that it drops the
 * thread's connections (ctx_after_error) and logs it.
 *
 * Status codes used here: 400 EST_E_INVAL (malformed JSON, a bad query
 * parameter, an unknown query parameter, a bad cursor or If-Match), 412
 * EST_E_PRECONDITION, 413 EST_E_TOOBIG, 415 EST_E_MEDIATYPE, 422
 * EST_E_UNPROCESSABLE (a body that breaks its field table), 428
 * EST_E_PRECONDREQ.
 */
#ifndef ESTUARY_REST_H
#define ESTUARY_REST_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "jsonval.h"
#include "perm.h"

struct db;
struct db_result;
struct hctx;
struct json_object;
struct principal;
struct request;
struct resp;

/* ------------------------------------------------------------------ */
/* Errors */

/*
 * Sets e to code and field (NULL: none) with the error table's message
 * (e->message left empty) and returns code: for a handler's own checks,
 * "if (exists) { r = rest_fail(&e, EST_E_EXISTS, "name"); goto out; }".
 */
int rest_fail(struct jsonval_error *e, int code, const char *field);

/*
 * The end of a handler.  r == 0: returns 0 (the response is already in
 * rs).  r with a status below 500 (est_err_http_status): discards whatever
 * rs holds, answers the error (with e's field and message when e->code ==
 * r, else the table's message and no field) and returns 0.  Otherwise
 * returns r, which the dispatcher answers.  e may be NULL.
 */
int rest_answer(struct resp *rs, int r, const struct jsonval_error *e);

/* ------------------------------------------------------------------ */
/* Times (rest_time.c) */

/*
 * An RFC 3339 date-time ("2030-01-31T12:00:00Z", "2030-01-31t14:00:00.5
 * +02:00" without the space) as UNIX time from 1970 to 9999: a fraction
 * of a second is dropped, an offset applied, a leap second (:60) counts
 * as the second after :59.  0 or EST_E_INVAL.  rest_time_check() is the
 * same as a jsonval and rest_qfield validator.
 */
#define REST_TIME_MIN_LEN 20 /* "2030-01-31T12:00:00Z" */
#define REST_TIME_MAX_LEN 35 /* nine digits of fraction and an offset */
int rest_time_parse(const char *s, int64_t *out);
int rest_time_check(const char *s);

/* ------------------------------------------------------------------ */
/* Request bodies */

/*
 * Reads req's body as JSON against fields[0..n): Content-Type must be
 * exactly application/json (a charset parameter of "utf-8", any case, is
 * the only parameter accepted), else EST_E_MEDIATYPE (field
 * "content_type"); then jsonval_parse_check() (400 malformed, 413 over
 * JSONVAL_MAX_LEN, 422 against the table).  *out is set on success and
 * released by the caller with json_object_put().
 */
int rest_body(const struct request *req, const struct jsonval_field *fields,
	      size_t n, struct json_object **out, struct jsonval_error *e);

/*
 * The first half of rest_body(), for a body that no static table can
 * describe until part of it is read (members named by a template): the
 * Content-Type check and jsonval_parse(), without a field table.  The
 * caller runs jsonval_check() on *out itself.
 */
int rest_body_parse(const struct request *req, struct json_object **out,
		    struct jsonval_error *e);

/*
 * Like rest_body() for endpoints whose every member is optional: a request
 * without a body (no Content-Type, Content-Length 0) sets *out to NULL
 * and returns 0, meaning "all members absent".
 */
int rest_body_optional(const struct request *req,
		       const struct jsonval_field *fields, size_t n,
		       struct json_object **out, struct jsonval_error *e);

/*
 * For endpoints that take no body (POST .../activate, DELETE): a request
 * with a non-empty body is EST_E_INVAL (field "body"), so that a client
 * that thinks it is sending parameters learns it is not.
 */
int rest_body_none(const struct request *req, struct jsonval_error *e);

/* ------------------------------------------------------------------ */
/* Route captures */

/*
 * The positive integer capture name of the route ("id"); route.c already
 * checked its syntax.  EST_E_NOTFOUND (field name) when it is absent or
 * does not fit an int64_t.
 */
int rest_cap_id(const struct hctx *c, const char *name, int64_t *id,
		struct jsonval_error *e);

/* ------------------------------------------------------------------ */
/* Query parameters and pagination */

#define REST_LIMIT_DEFAULT 50
#define REST_LIMIT_MAX 500
#define REST_QFIELDS_MAX 16 /* filters of one list endpoint */

enum rest_qtype {
	/* Starts at 1 so that a zeroed table row is a table error. */
	REST_Q_STRING = 1, /* printable UTF-8, 1..max_len characters */
	REST_Q_ID,	   /* positive decimal id, no leading zero */
	REST_Q_BOOL,	   /* exactly "true" or "false" */
	REST_Q_ENUM,	   /* one of enum_values, exactly */
	REST_Q_INT,	   /* decimal integer within [min, max] */
};

/* One accepted query parameter (a filter) of a list endpoint. */
struct rest_qfield {
	const char *name;
	enum rest_qtype type;
	size_t max_len;			/* REST_Q_STRING, in characters */
	int64_t min, max;		/* REST_Q_INT */
	const char *const *enum_values; /* REST_Q_ENUM; NULL-ended */
	int (*check)(const char *s);	/* strings: extra validator, 0 = ok */
};

/*
 * The validated query of a list request.  limit is REST_LIMIT_DEFAULT
 * unless the client sent "limit" (1..REST_LIMIT_MAX); after_id is the id
 * in the client's "cursor" (0 for the first page).  The filter values are
 * read with rest_q_*() by name.  Strings point into req (valid while req
 * is).
 */
struct rest_query {
	size_t limit;
	int64_t after_id;
	const struct rest_qfield *tab;
	size_t n;
	const char *str[REST_QFIELDS_MAX]; /* NULL when absent */
	int64_t num[REST_QFIELDS_MAX];	   /* REST_Q_ID, _BOOL (0/1), _INT */
};

/*
 * Checks every query parameter of req against tab[0..n) plus "limit" and
 * "cursor": an unknown name, a name given twice, an empty or invalid value
 * is EST_E_INVAL with field the parameter's name (the client's own name
 * only when it is printable ASCII of at most 64 bytes, else "query").
 * Fills *q.  n is at most REST_QFIELDS_MAX (EST_E_INTERNAL otherwise).
 */
int rest_query_parse(const struct request *req, const struct rest_qfield *tab,
		     size_t n, struct rest_query *q, struct jsonval_error *e);

/*
 * For endpoints that take no query parameters (single objects, changes):
 * any parameter is EST_E_INVAL with its name as field.
 */
int rest_query_none(const struct request *req, struct jsonval_error *e);

/*
 * Filter values by table name.  rest_q_str: the string of a REST_Q_STRING
 * or REST_Q_ENUM parameter, NULL when absent.  rest_q_int: the value of a
 * REST_Q_ID, REST_Q_BOOL or REST_Q_INT parameter in *v, 0 when present,
 * EST_E_NOTFOUND when absent (then *v is left alone).
 */
const char *rest_q_str(const struct rest_query *q, const char *name);
int rest_q_int(const struct rest_query *q, const char *name, int64_t *v);
/* The value of rest_q_int(), dflt when the parameter is absent. */
int64_t rest_q_int_or(const struct rest_query *q, const char *name,
		      int64_t dflt);

/*
 * Cursors are opaque to clients: unpadded base64url of a version byte
 * (REST_CURSOR_V1) and the last id of the previous page as 8 bytes
 * big-endian.  A list is ordered by id (ascending, or descending for logs
 * read newest first: the endpoint decides, the cursor only remembers where
 * the last page ended), so a page never repeats or skips a row that
 * existed on both requests.  rest_cursor_decode() refuses anything else
 * (wrong length, alphabet, padding, version, id <= 0) with EST_E_INVAL.
 */
#define REST_CURSOR_V1 1
#define REST_CURSOR_LEN 12 /* characters, without the NUL */
int rest_cursor_encode(int64_t last_id, char out[REST_CURSOR_LEN + 1]);
int rest_cursor_decode(const char *s, int64_t *last_id);

/*
 * A page of a list being built.  Ask the database for q->limit + 1 rows
 * (rest_page_fetch()) after q->after_id, and rest_page_add() each row in
 * order: the row beyond the limit is not shown; it only tells that a next
 * page exists, so next_cursor is never a link to an empty page.
 */
struct rest_page {
	struct json_object *items; /* array */
	size_t limit;
	size_t n;
	int64_t last_id; /* of the last item shown */
	int more;
};

/* Rows to fetch for q: limit + 1. */
size_t rest_page_fetch(const struct rest_query *q);
int rest_page_init(struct rest_page *pg, const struct rest_query *q);
/*
 * Appends item (ownership taken, also on failure; NULL only counts) of row
 * id.  A row beyond the limit is freed and sets more.
 */
int rest_page_add(struct rest_page *pg, int64_t id, struct json_object *item);
/* Answers 200 {"items": [...], "next_cursor": "..." or null}. */
int rest_page_send(struct rest_page *pg, struct resp *rs);
void rest_page_clear(struct rest_page *pg);

/* ------------------------------------------------------------------ */
/* ETag and If-Match */

/*
 * A strong entity tag for one row: a quoted base64url of the first 16
 * bytes of SHA-256 over the entity name, the id and version, where
 * version changes whenever the row does: the row's updated_at with its
 * microseconds as the database returns it ("2024-05-01 12:00:00.123456").
 * The hash keeps the tag opaque.  out receives e.g. "\"q1w2...\"" with the
 * quotes (REST_ETAG_MAX bytes with the NUL).
 */
#define REST_ETAG_MAX 25
int rest_etag(const char *entity, int64_t id, const char *version,
	      char out[REST_ETAG_MAX]);

/*
 * Checks If-Match for a change of a row whose current tag is etag (RFC
 * 9110 section 13.1.1, strong comparison: a weak tag W/"..." never
 * matches).  Returns 0 when one of the listed tags is etag or the header
 * is "*"; EST_E_PRECONDREQ (428) when req has no If-Match, so that no
 * update or delete is made blind; EST_E_PRECONDITION (412) when no tag
 * matches (the row changed since the client read it); EST_E_INVAL (400)
 * for a header that is not "*" or a comma-separated list of entity tags.
 * The field is "if_match".  Call it inside the transaction, after
 * locking the row (SELECT ... FOR UPDATE), so that the row cannot change
 * between the check and the write.
 */
int rest_if_match(const struct request *req, const char *etag,
		  struct jsonval_error *e);

/*
 * The pure part (tests/unit/test_rest.c): 1 when header matches etag as
 * above, 0 when not, EST_E_INVAL when header is malformed.
 */
int rest_if_match_header(const char *header, const char *etag);

/* ------------------------------------------------------------------ */
/* Responses */

/*
 * Answers status with obj (not freed) and, unless etag is NULL, an ETag
 * header.
 */
int rest_send(struct resp *rs, int status, struct json_object *obj,
	      const char *etag);

/*
 * Answers 201 with obj (not freed), "Location: <base>/<id>" (base is an
 * absolute path such as "/api/v1/tenants") and the ETag unless NULL.
 */
int rest_created(struct resp *rs, const char *base, int64_t id,
		 struct json_object *obj, const char *etag);

/* ------------------------------------------------------------------ */
/* JSON builders */

/* Members of o; each returns 0 or EST_E_NOMEM. */
int rest_put_str(struct json_object *o, const char *key, const char *v);
int rest_put_int(struct json_object *o, const char *key, int64_t v);
/* An id, null when v is 0 (no tenant, no organization). */
int rest_put_id(struct json_object *o, const char *key, int64_t v);
int rest_put_bool(struct json_object *o, const char *key, int v);
/*
 * A database time "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) as RFC 3339
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ"; null for NULL.  A value of another form
 * is EST_E_INTERNAL.
 */
int rest_put_time(struct json_object *o, const char *key, const char *v);
/* Lower-case hex of n bytes; null for NULL. */
int rest_put_hex(struct json_object *o, const char *key, const uint8_t *p,
		 size_t n);
/* Adds v (ownership taken, also on failure; NULL is JSON null). */
int rest_put_obj(struct json_object *o, const char *key, struct json_object *v);

/* How rest_row_json() shows one column of a database row. */
enum rest_ctype {
	REST_C_SKIP = 0, /* not shown (read by the handler itself) */
	REST_C_STR,	 /* string or null */
	REST_C_INT,	 /* integer or null */
	REST_C_ID,	 /* id; NULL or 0 is null */
	REST_C_BOOL,	 /* 0 false, anything else true; NULL is null */
	REST_C_TIME,	 /* DATETIME as rest_put_time() */
	REST_C_HEX,	 /* binary as lower-case hex, or null */
};

struct rest_col {
	const char *key; /* JSON member name */
	enum rest_ctype type;
};

/*
 * Row row of res as a new JSON object: column i of the result is shown as
 * cols[i] says (n must not exceed the result's columns).
 */
int rest_row_json(const struct db_result *res, size_t row,
		  const struct rest_col *cols, size_t n,
		  struct json_object **out);

/* ------------------------------------------------------------------ */
/* Audit */

/*
 * The "details" of an audit row: {"before": {...}, "after": {...}} of the
 * fields that changed (a create has only "after", a delete only
 * "before").  Never put a secret in it: a password change is recorded as
 * rest_diff_note(d, "password", "changed").
 */
struct rest_diff {
	struct json_object *before;
	struct json_object *after;
	int mode; /* 0 update, 1 create, 2 delete */
};

/*
 * rest_diff_init() starts the diff of an update: rest_diff_*() record key
 * in "before" with old and in "after" with new_ only when the two differ.
 * After rest_diff_create() only "after" is written (every key, old
 * ignored), after rest_diff_delete() only "before" (new_ ignored).  NULL
 * strings are JSON null.
 */
void rest_diff_init(struct rest_diff *d);
void rest_diff_create(struct rest_diff *d);
void rest_diff_delete(struct rest_diff *d);
void rest_diff_clear(struct rest_diff *d);
int rest_diff_str(struct rest_diff *d, const char *key, const char *old,
		  const char *new_);
/* Integers; with id set, 0 is shown as null (no tenant, no org). */
int rest_diff_int(struct rest_diff *d, const char *key, int64_t old,
		  int64_t new_, int id);
int rest_diff_bool(struct rest_diff *d, const char *key, int old, int new_);
/* An "after" member with a fixed note: ("password", "changed"). */
int rest_diff_note(struct rest_diff *d, const char *key, const char *note);
/* 1 when nothing was recorded (an update that changes nothing). */
int rest_diff_empty(const struct rest_diff *d);

/* What an audit row is about. */
struct rest_what {
	enum perm_entity entity; /* its name is the row's entity */
	const char *action;	 /* "create", "update", "delete", ... */
	int64_t id;		 /* 0 for none (a refused create) */
	const char *name;	 /* entity_name, cut to AUDIT_NAME_MAX */
	int64_t tenant_id;	 /* 0 for none */
	int64_t org_id;
};

/*
 * Appends the audit row of a successful change by p (actor and source
 * address from auth_audit_actor), with d's before/after (d may be NULL).
 * Call it last inside the change's transaction (db/audit.h).
 */
int rest_audit(struct db *db, const struct principal *p,
	       const struct request *req, const struct rest_what *w,
	       const struct rest_diff *d);

/*
 * Who made a request, as its audit rows name them: a copy that outlives
 * the request, for a row appended by another thread (txq.h).  rest_audit_by
 * is rest_audit for the request a names.
 */
struct rest_actor {
	struct principal p;
	char addr[46]; /* struct req_addr's text; "" without an address */
};
void rest_actor_copy(const struct principal *p, const struct request *req,
		     struct rest_actor *a);
void rest_actor_clear(struct rest_actor *a);
int rest_audit_by(struct db *db, const struct rest_actor *a,
		  const struct rest_what *w, const struct rest_diff *d);
/*
 * n rows of rest_audit_by (up to DB_MULTI_MAX), in this order, with one
 * statement for the rows (db_audit_append_many): more than one only
 * inside the caller's transaction.
 */
struct rest_audit_row {
	const struct rest_actor *a;
	struct rest_what w;
	const struct rest_diff *d;
};
int rest_audit_by_many(struct db *db, const struct rest_audit_row *rows,
		       size_t n);

/*
 * Appends the audit row of a refused request (outcome "denied", reason a
 * constant such as "permission denied") in a transaction of its own: for
 * refusals decided outside rest_perm(), such as perm_may_assign_role().
 */
int rest_audit_denied(struct db *db, const struct principal *p,
		      const struct request *req, const struct rest_what *w,
		      const char *reason);

/*
 * Asks perm_check(actor of p, w->entity, act, o).  On refusal appends an
 * audit row with outcome "denied" (w names the object: entity, action,
 * id, name, tenant, org) in a transaction of its own, so call it outside
 * the change's transaction, and returns EST_E_DENIED (403) or
 * EST_E_NOTFOUND (404) in e; on success returns 0.  An audit append that
 * fails makes the request fail with that error (5xx): a refusal that
 * cannot be recorded is not answered as if it had been.  An inconsistent
 * actor or object (perm_check's EST_E_INVAL) is EST_E_INTERNAL.
 */
int rest_perm(struct db *db, const struct principal *p,
	      const struct request *req, enum perm_action act,
	      const struct perm_object *o, const struct rest_what *w,
	      struct jsonval_error *e);

/*
 * Ends a transaction: commits when r == 0 (and returns the commit's
 * result), else rolls back and returns r.
 */
int rest_tx_end(struct db *db, int r);

/*
 * The columns of an entity whose row is a struct db_result (its row 0),
 * from which the drivers below read what the hooks etag, json, active and
 * names would give: the ETag of entity over id and updated_at, the JSON of
 * cols[0..ncols) (rest_row_json()), the state and the names.
 */
struct rest_result {
	const char *entity; /* of the ETag: "tenant" */
	size_t id, updated_at, active, name, description;
	const struct rest_col *cols;
	size_t ncols;
};

/*
 * What an entity supplies for the handlers of one object named by the
 * route's {id} capture that every entity has in the same shape: read,
 * delete, activate and deactivate (rest_change.c).  The drivers below
 * check the request, ask access(), then refuse() (may be NULL: an
 * entity's own refusal, such as a user deactivating itself; asked for a
 * delete and a deactivation), run the change with its audit row in one
 * transaction, and answer: 204 for a delete, the object through send()
 * for a state change.
 *
 * An entity whose rows are read one at a time as an opaque row (a struct
 * of its own or a struct db_result) gives the row hooks instead of
 * writing the same functions again: get, etag and free make
 * rest_lock_row(); with what and object, access may be NULL (the row is
 * read and rest_perm() asked); with json and base, send may be NULL; with
 * active and set_active, state_tx may be NULL (the state change of
 * rest_state_tx()); with remove and delete_diff, delete_tx may be NULL
 * (rest_delete_tx()).  Rows that are a struct db_result may name their
 * columns (res) instead of giving etag, json, active, names and free.  An
 * entity with rules of its own keeps its function.
 */
struct rest_entity_ops {
	int (*access)(struct db *db, const struct principal *p,
		      const struct request *req, int64_t id,
		      enum perm_action act, const char *action,
		      struct jsonval_error *e);
	int (*refuse)(const struct principal *p, int64_t id, const char *action,
		      struct jsonval_error *e);
	int (*delete_tx)(struct db *db, const struct principal *p,
			 const struct request *req, int64_t id,
			 struct jsonval_error *e);
	int (*state_tx)(struct db *db, const struct principal *p,
			const struct request *req, int64_t id, int active,
			struct jsonval_error *e);
	int (*send)(struct db *db, int64_t id, int status, struct resp *rs);

	/* Row id, read FOR UPDATE when lock; EST_E_NOTFOUND when none. */
	int (*get)(struct db *db, int64_t id, int lock, void **row);
	int (*etag)(const void *row, char etag[REST_ETAG_MAX]);
	void (*free)(void *row); /* NULL: db_result_free() */
	/* What an audit row about row names. */
	int (*what)(struct rest_what *w, const char *action, const void *row);
	/* Where row is, for perm_check(). */
	int (*object)(const void *row, struct perm_object *o);
	int (*json)(const void *row, struct json_object **out);
	const char *base; /* Location of a 201: "/api/v1/tenants" */
	int (*active)(const void *row);
	int (*set_active)(struct db *db, int64_t id, int active);
	const char *missing_field; /* of the 404 of a missing row, or NULL */
	/* Rows that are a struct db_result: the hooks not given. */
	const struct rest_result *res;

	/*
	 * rest_delete_tx(), when delete_tx is NULL: the entity's own rules
	 * (NULL: none), the delete, and the "before" of the audit row.
	 */
	int (*may_delete)(struct db *db, const void *row,
			  struct jsonval_error *e);
	int (*remove)(struct db *db, int64_t id);
	int (*delete_diff)(struct rest_diff *d, const void *row);

	/*
	 * rest_update(): the body's field table and the change.  An entity
	 * whose change is only of its name and description gives names and
	 * rename instead of update_tx (rest_rename_tx()).
	 */
	const struct jsonval_field *update_fields;
	size_t update_nfields;
	int (*update_tx)(struct db *db, const struct principal *p,
			 const struct request *req, int64_t id,
			 struct json_object *body, struct jsonval_error *e);
	void (*names)(const void *row, const char **name, const char **desc);
	int (*rename)(struct db *db, int64_t id, const char *name,
		      const char *desc);
	const char *name_taken; /* message of the 409, or NULL: the table's */
};

/* The ETag of row: ops->etag(), else as ops->res says. */
int rest_row_etag(const struct rest_entity_ops *ops, const void *row,
		  char etag[REST_ETAG_MAX]);

/*
 * Defines the get hook name of rows of type (struct db_result, struct
 * devtype, ...) that getter(db, id, lock, &row) reads.
 */
#define REST_ROW_GET(name, type, getter)                                       \
	static int name(struct db *db_, int64_t id_, int lock_, void **row_)   \
	{                                                                      \
		type *t_ = NULL;                                               \
		int r_;                                                        \
                                                                               \
		if ((r_ = getter(db_, id_, lock_, &t_)) == 0)                  \
			*row_ = t_;                                            \
		return r_;                                                     \
	}

/*
 * Define name(): rest_lock_row() or rest_load_row() of ops with the row
 * typed: "int name(db, req, id, need_match, type **out, e)" and "int
 * name(db, p, req, id, act, action, type **out, e)".  storage is static,
 * or empty for a function declared in a header.
 */
#define REST_ROW_LOCK(storage, name, type, ops)                                \
	storage int name(struct db *db_, const struct request *req_,           \
			 int64_t id_, int need_match_, type **out_,            \
			 struct jsonval_error *e_)                             \
	{                                                                      \
		void *row_ = NULL;                                             \
		int r_;                                                        \
                                                                               \
		if ((r_ = rest_lock_row(db_, req_, &(ops), id_, need_match_,   \
					&row_, e_)) == 0)                      \
			*out_ = row_;                                          \
		return r_;                                                     \
	}
#define REST_ROW_LOAD(storage, name, type, ops)                                \
	storage int name(struct db *db_, const struct principal *p_,           \
			 const struct request *req_, int64_t id_,              \
			 enum perm_action act_, const char *action_,           \
			 type **out_, struct jsonval_error *e_)                \
	{                                                                      \
		void *row_ = NULL;                                             \
		int r_;                                                        \
                                                                               \
		if ((r_ = rest_load_row(db_, p_, req_, &(ops), id_, act_,      \
					action_, out_ != NULL ? &row_ : NULL,  \
					e_)) == 0 &&                           \
		    out_ != NULL)                                              \
			*out_ = row_;                                          \
		return r_;                                                     \
	}

/*
 * Reads row id through ops->get() locked for a change (call it inside the
 * transaction) and checks If-Match against its ETag: always when
 * need_match (an update or a delete), else only when the request sends
 * one (a state change).  A row that does not exist is EST_E_NOTFOUND
 * (404, field ops->missing_field).  *out is set on success and freed with
 * ops->free().
 */
int rest_lock_row(struct db *db, const struct request *req,
		  const struct rest_entity_ops *ops, int64_t id, int need_match,
		  void **out, struct jsonval_error *e);

/*
 * Reads row id (not locked) and asks rest_perm() whether p may act on it:
 * 404 for a row that does not exist or that p may not know of.  *out (may
 * be NULL) receives the row.  The access() of an entity without one.
 */
int rest_load_row(struct db *db, const struct principal *p,
		  const struct request *req, const struct rest_entity_ops *ops,
		  int64_t id, enum perm_action act, const char *action,
		  void **out, struct jsonval_error *e);

/*
 * Answers status (200, or 201 with Location ops->base/id) with row id as
 * it is now and its ETag.  The send() of an entity without one.
 */
int rest_send_row(struct db *db, const struct rest_entity_ops *ops, int64_t id,
		  int status, struct resp *rs);

/*
 * The state change of one row, inside the transaction: lock it (If-Match
 * only when sent), leave it alone when it already has the state, else
 * set_active() and append the audit row "activate" or "deactivate" with
 * the change of "active".  The state_tx() of an entity without one.
 */
int rest_state_tx(struct db *db, const struct principal *p,
		  const struct request *req, const struct rest_entity_ops *ops,
		  int64_t id, int active, struct jsonval_error *e);

/*
 * GET of one object: no query, a valid id, access() for PERM_ACT_READ
 * ("read"), then send() with 200.
 */
int rest_get(struct hctx *c, const struct request *req,
	     const struct principal *p, struct resp *rs,
	     const struct rest_entity_ops *ops);
int rest_delete(struct hctx *c, const struct request *req,
		const struct principal *p, struct resp *rs,
		const struct rest_entity_ops *ops);
int rest_set_active(struct hctx *c, const struct request *req,
		    const struct principal *p, struct resp *rs,
		    const struct rest_entity_ops *ops, int active);

/*
 * The delete of one row, inside the transaction: lock it (If-Match
 * required), may_delete(), remove() (EST_E_CONFLICT, a row that something
 * still refers to, is 409 without a field) and the audit row "delete"
 * with delete_diff().
 */
int rest_delete_tx(struct db *db, const struct principal *p,
		   const struct request *req, const struct rest_entity_ops *ops,
		   int64_t id, struct jsonval_error *e);

/*
 * The change of an entity's name and description, inside the transaction:
 * lock the row (If-Match required), take "name" when sent and
 * "description" when sent (null clears it), and when anything differs
 * rename() it (EST_E_EXISTS is 409 on "name") and append the audit row
 * "update" naming the new name.
 */
int rest_rename_tx(struct db *db, const struct principal *p,
		   const struct request *req, const struct rest_entity_ops *ops,
		   int64_t id, struct json_object *body,
		   struct jsonval_error *e);

/*
 * PATCH of one object: no query, a valid id, access() for
 * PERM_ACT_UPDATE ("update"), the body against ops->update_fields, then
 * update_tx() (or rest_rename_tx()) in a transaction (it locks the row,
 * needs If-Match, changes nothing and writes no audit row when the body
 * changes nothing) and the object through send() with 200.
 */
int rest_update(struct hctx *c, const struct request *req,
		const struct principal *p, struct resp *rs,
		const struct rest_entity_ops *ops);

/*
 * Route handlers (AUTH_ROUTE_PUBLIC, fcgi/auth.h) named name that run the
 * drivers above for ops: rest_get, rest_update, rest_delete,
 * rest_set_active(1) and rest_set_active(0); and of rest_list() below.
 */
#define REST_ROUTE_DRIVER(name, call)                                          \
	static int name##_fn(struct hctx *c_, const struct request *req_,      \
			     const struct principal *p_, struct resp *rs_)     \
	{                                                                      \
		return call;                                                   \
	}                                                                      \
	AUTH_ROUTE_PUBLIC(name, name##_fn)
#define REST_ROUTE_GET(name, ops)                                              \
	REST_ROUTE_DRIVER(name, rest_get(c_, req_, p_, rs_, &(ops)))
#define REST_ROUTE_LIST(name, def)                                             \
	REST_ROUTE_DRIVER(name, rest_list(c_, req_, p_, rs_, &(def)))
#define REST_ROUTE_UPDATE(name, ops)                                           \
	REST_ROUTE_DRIVER(name, rest_update(c_, req_, p_, rs_, &(ops)))
#define REST_ROUTE_DELETE(name, ops)                                           \
	REST_ROUTE_DRIVER(name, rest_delete(c_, req_, p_, rs_, &(ops)))
#define REST_ROUTE_ACTIVATE(name, ops)                                         \
	REST_ROUTE_DRIVER(name, rest_set_active(c_, req_, p_, rs_, &(ops), 1))
#define REST_ROUTE_DEACTIVATE(name, ops)                                       \
	REST_ROUTE_DRIVER(name, rest_set_active(c_, req_, p_, rs_, &(ops), 0))

/* ------------------------------------------------------------------ */
/* Lists */

/*
 * The start of every list handler: the query checked against
 * tab[0..n) (rest_query_parse), the thread's database, rest_perm() for
 * PERM_ACT_LIST on entity (a refusal audited with action "list"), and
 * perm_list_filter() of p in *pf.  pf->kind may be PERM_FILTER_NONE:
 * rest_list_scope() refuses it, a list that shows an empty page instead
 * checks it first.
 */
int rest_list_begin(struct hctx *c, const struct request *req,
		    const struct principal *p, enum perm_entity entity,
		    const struct rest_qfield *tab, size_t n,
		    struct rest_query *q, struct db **db,
		    struct perm_filter *pf, struct jsonval_error *e);

/*
 * The scope of the rows pf lets a list show, for a data layer filter:
 * *tenant_id is 0 unless the rows are those of one tenant, *org_id 0
 * unless of one organization (both may be NULL when the filter has no
 * such member).  PERM_FILTER_NONE is EST_E_INTERNAL.
 */
int rest_list_scope(const struct perm_filter *pf, int64_t *tenant_id,
		    int64_t *org_id);

/*
 * A list whose data layer answers with a struct db_result: the query table
 * of its filters, fetch() (the data layer filter of q scoped by pf, for
 * rest_page_fetch(q) rows after q->after_id) and how a row is shown, by
 * cols[0..ncols) (rest_row_json()) unless json is set.
 */
struct rest_list_def {
	enum perm_entity entity;
	const struct rest_qfield *query;
	size_t nquery;
	int (*fetch)(struct db *db, const struct rest_query *q,
		     const struct perm_filter *pf, struct db_result **res);
	size_t id_col;
	const struct rest_col *cols;
	size_t ncols;
	int (*json)(const struct db_result *res, size_t row,
		    struct json_object **out);
};

/*
 * Adds every row of res (NULL: none) to pg (rest_page_add), its id read
 * from column id_col, shown by json() or, when json is NULL, as
 * rest_row_json() shows it with cols[0..ncols).
 */
int rest_page_add_rows(struct rest_page *pg, const struct db_result *res,
		       size_t id_col,
		       int (*json)(const struct db_result *res, size_t row,
				   struct json_object **out),
		       const struct rest_col *cols, size_t ncols);

/*
 * GET of such a list: rest_list_begin(), fetch(), then a page of its rows
 * (rest_page_*).
 */
int rest_list(struct hctx *c, const struct request *req,
	      const struct principal *p, struct resp *rs,
	      const struct rest_list_def *def);

#endif
