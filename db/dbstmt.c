/*
 * Statements on a connection: each named statement is prepared once per
 * connection and kept in a hash keyed by its definition; parameters are
 * bound from struct db_param; results are copied out whole, so the caller
 * holds no server resources while it reads them.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "db.h"
#include "dbconn.h"
#include "dbpriv.h"
#include "err.h"
#include "log.h"
#include "util.h"

struct db_cell {
	char *p; /* NULL for SQL NULL; NUL-terminated */
	size_t len;
};

struct db_result {
	size_t rows;
	size_t cols;
	struct db_cell *cells; /* rows * cols, row-major */
};

/* Runs a statement once, outside the cache; see dbpriv.h. */
int
db_exec_text(struct db *db, const char *name, const char *sql, size_t len)
{
	MYSQL_STMT *st = NULL;
	int r = 0;

	if (db->my == NULL || db->lost)
		return EST_E_DB;
	/* A statement of a migration may end a transaction implicitly. */
	db->audit_head_held = 0;
	if ((st = mysql_stmt_init(db->my)) == NULL)
		return EST_E_NOMEM;
	if (mysql_stmt_prepare(st, sql, len) != 0 ||
	    mysql_stmt_execute(st) != 0) {
		r = db_fail(db, st, name);
		goto out;
	}
	/* Drain a result set (SELECT or SHOW in a migration) unread. */
	if (mysql_stmt_field_count(st) > 0 &&
	    (mysql_stmt_store_result(st) != 0 ||
	     mysql_stmt_free_result(st) != 0)) {
		r = db_fail(db, st, name);
		goto out;
	}
out:
	mysql_stmt_close(st);
	return r;
}

/* --- Multi-row statements --- */

static pthread_mutex_t multi_mtx = PTHREAD_MUTEX_INITIALIZER;

const struct db_stmt_def *
db_multi_def(struct db_multi *m, size_t n)
{
	struct db_stmt_def *d;
	size_t hl, rl, tl, len, i;
	char *sql, *p;

	if (n < 1 || n > DB_MULTI_MAX)
		return NULL;
	pthread_mutex_lock(&multi_mtx);
	d = &m->defs[n];
	if (d->sql == NULL) {
		hl = strlen(m->head);
		rl = strlen(m->row);
		tl = strlen(m->tail);
		len = hl + n * (rl + 2) + tl + 1;
		if ((sql = malloc(len)) != NULL) {
			p = sql;
			memcpy(p, m->head, hl);
			p += hl;
			for (i = 0; i < n; i++) {
				if (i > 0) {
					memcpy(p, ", ", 2);
					p += 2;
				}
				memcpy(p, m->row, rl);
				p += rl;
			}
			memcpy(p, m->tail, tl + 1);
			d->name = m->name;
			d->nparams = (unsigned)n * m->row_params;
			d->sql = sql;
		}
	}
	pthread_mutex_unlock(&multi_mtx);
	return d->sql != NULL ? d : NULL;
}

int
db_result_row(const struct db_result *r, size_t i, struct db_result **out)
{
	struct db_result *res;
	const struct db_cell *src;
	size_t c;

	if (r == NULL || i >= r->rows)
		return EST_E_INVAL;
	if ((res = calloc(1, sizeof(*res))) == NULL ||
	    (res->cells = calloc(r->cols, sizeof(*res->cells))) == NULL) {
		free(res);
		return EST_E_NOMEM;
	}
	res->rows = 1;
	res->cols = r->cols;
	for (c = 0; c < r->cols; c++) {
		src = &r->cells[i * r->cols + c];
		if (src->p == NULL)
			continue;
		if ((res->cells[c].p = malloc(src->len + 1)) == NULL) {
			db_result_free(res);
			return EST_E_NOMEM;
		}
		memcpy(res->cells[c].p, src->p, src->len + 1);
		res->cells[c].len = src->len;
	}
	*out = res;
	return 0;
}

/* --- Statement cache --- */

static size_t
db_cache_slot(const struct db *db, const struct db_stmt_def *def)
{
	uintptr_t h = (uintptr_t)def;

	/* Definitions are at least pointer-aligned; mix the high bits in. */
	h ^= h >> 17;
	h *= (uintptr_t)0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 7) & (db->cache_cap - 1);
}

void
db_cache_clear(struct db *db)
{
	size_t i;

	for (i = 0; i < db->cache_cap; i++) {
		if (db->cache[i].stmt != NULL)
			mysql_stmt_close(db->cache[i].stmt);
		db->cache[i].def = NULL;
		db->cache[i].stmt = NULL;
	}
	db->cache_len = 0;
}

static int
db_cache_grow(struct db *db)
{
	struct db_cached *old = db->cache, *nc;
	size_t oldcap = db->cache_cap, cap, i, j;

	cap = oldcap == 0 ? 32 : oldcap * 2;
	if ((nc = calloc(cap, sizeof(*nc))) == NULL)
		return EST_E_NOMEM;
	db->cache = nc;
	db->cache_cap = cap;
	for (i = 0; i < oldcap; i++) {
		if (old[i].def == NULL)
			continue;
		for (j = db_cache_slot(db, old[i].def); nc[j].def != NULL;
		     j = (j + 1) & (cap - 1))
			;
		nc[j] = old[i];
	}
	free(old);
	return 0;
}

/* The prepared statement of def on this connection, prepared if new. */
static int
db_stmt_get(struct db *db, const struct db_stmt_def *def, MYSQL_STMT **out)
{
	MYSQL_STMT *st = NULL;
	size_t i;
	int r;

	if (db->my == NULL || db->lost) {
		log_err("db: %s: not connected", def->name);
		return EST_E_DB;
	}
	if (db->cache_cap > 0) {
		for (i = db_cache_slot(db, def); db->cache[i].def != NULL;
		     i = (i + 1) & (db->cache_cap - 1)) {
			if (db->cache[i].def == def) {
				*out = db->cache[i].stmt;
				return 0;
			}
		}
	}
	if ((db->cache_len + 1) * 2 > db->cache_cap &&
	    (r = db_cache_grow(db)) != 0)
		return r;
	if ((st = mysql_stmt_init(db->my)) == NULL)
		return EST_E_NOMEM;
	if (mysql_stmt_prepare(st, def->sql, strlen(def->sql)) != 0) {
		r = db_fail(db, st, def->name);
		mysql_stmt_close(st);
		return r;
	}
	if (mysql_stmt_param_count(st) != def->nparams) {
		log_err("db: %s: statement has %lu parameters, definition %u",
			def->name, mysql_stmt_param_count(st), def->nparams);
		mysql_stmt_close(st);
		return EST_E_INTERNAL;
	}
	for (i = db_cache_slot(db, def); db->cache[i].def != NULL;
	     i = (i + 1) & (db->cache_cap - 1))
		;
	db->cache[i].def = def;
	db->cache[i].stmt = st;
	db->cache_len++;
	*out = st;
	return 0;
}

/* --- Execution --- */

/* Prepares (or finds) def, binds params and executes it. */
static int
db_run(struct db *db, const struct db_stmt_def *def,
       const struct db_param *params, size_t nparams, MYSQL_STMT **out)
{
	static char empty[1];
	MYSQL_STMT *st = NULL;
	MYSQL_BIND *b = NULL;
	size_t i;
	int r;

	if (nparams != def->nparams) {
		log_err("db: %s: %zu parameters given, %u expected", def->name,
			nparams, def->nparams);
		return EST_E_INTERNAL;
	}
	if ((r = db_stmt_get(db, def, &st)) != 0)
		return r;
	if (nparams > 0) {
		if ((b = calloc(nparams, sizeof(*b))) == NULL)
			return EST_E_NOMEM;
		for (i = 0; i < nparams; i++) {
			switch (params[i].type) {
			case DB_T_NULL:
				b[i].buffer_type = MYSQL_TYPE_NULL;
				break;
			case DB_T_I64:
				b[i].buffer_type = MYSQL_TYPE_LONGLONG;
				b[i].buffer = (void *)&params[i].i;
				break;
			case DB_T_STR:
			case DB_T_BLOB:
				b[i].buffer_type = params[i].type == DB_T_STR
							   ? MYSQL_TYPE_STRING
							   : MYSQL_TYPE_BLOB;
				/* A zero-length value still needs a buffer. */
				b[i].buffer = params[i].p != NULL
						      ? (void *)params[i].p
						      : empty;
				b[i].buffer_length =
					params[i].p != NULL
						? (unsigned long)params[i].len
						: 0;
				break;
			default:
				log_err("db: %s: parameter %zu has type %d",
					def->name, i + 1, (int)params[i].type);
				free(b);
				return EST_E_INTERNAL;
			}
		}
		if (mysql_stmt_bind_param(st, b) != 0) {
			r = db_fail(db, st, def->name);
			free(b);
			return r;
		}
	}
	if (mysql_stmt_execute(st) != 0) {
		r = db_fail(db, st, def->name);
		free(b);
		return r;
	}
	free(b);
	*out = st;
	return 0;
}

int
db_exec(struct db *db, const struct db_stmt_def *def,
	const struct db_param *params, size_t nparams, uint64_t *affected,
	uint64_t *insert_id)
{
	MYSQL_STMT *st = NULL;
	my_ulonglong n, id;
	int r;

	if ((r = db_run(db, def, params, nparams, &st)) != 0)
		return r;
	n = mysql_stmt_affected_rows(st);
	id = mysql_stmt_insert_id(st);
	if (mysql_stmt_field_count(st) > 0 &&
	    (mysql_stmt_store_result(st) != 0 ||
	     mysql_stmt_free_result(st) != 0))
		return db_fail(db, st, def->name);
	if (affected != NULL)
		*affected = n == (my_ulonglong)-1 ? 0 : (uint64_t)n;
	if (insert_id != NULL)
		*insert_id = (uint64_t)id;
	return 0;
}

void
db_result_free(struct db_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	/* Results may hold hashes and wrapped keys: wipe them. */
	for (i = 0; i < res->rows * res->cols; i++)
		if (res->cells[i].p != NULL)
			freezero(res->cells[i].p, res->cells[i].len + 1);
	free(res->cells);
	free(res);
}

/*
 * Copies every row of the executed statement st into a new result.  Each
 * row is fetched with zero-length buffers to learn the lengths, then each
 * non-NULL column is fetched into a buffer of its size; every column is
 * read as text (the client converts numbers and dates), blobs as bytes.
 */
static int
db_fetch_all(struct db *db, MYSQL_STMT *st, const char *name,
	     struct db_result **out)
{
	struct db_result *res = NULL;
	MYSQL_RES *meta = NULL;
	MYSQL_BIND *b = NULL, one;
	unsigned long *lens = NULL, got;
	my_bool *nulls = NULL, *errs = NULL;
	struct db_cell *cell;
	size_t row, col, cols;
	int fr, r;

	if (mysql_stmt_store_result(st) != 0)
		return db_fail(db, st, name);
	if ((meta = mysql_stmt_result_metadata(st)) == NULL) {
		log_err("db: %s: statement returns no result set", name);
		r = EST_E_INTERNAL;
		goto out;
	}
	cols = mysql_num_fields(meta);
	if ((res = calloc(1, sizeof(*res))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	res->cols = cols;
	res->rows = (size_t)mysql_stmt_num_rows(st);
	if ((res->rows > 0 &&
	     (res->cells = calloc(res->rows * cols, sizeof(*res->cells))) ==
		     NULL) ||
	    (b = calloc(cols, sizeof(*b))) == NULL ||
	    (lens = calloc(cols, sizeof(*lens))) == NULL ||
	    (nulls = calloc(cols, sizeof(*nulls))) == NULL ||
	    (errs = calloc(cols, sizeof(*errs))) == NULL) {
		res->rows = 0;
		r = EST_E_NOMEM;
		goto out;
	}
	for (col = 0; col < cols; col++) {
		b[col].buffer_type = MYSQL_TYPE_STRING;
		b[col].length = &lens[col];
		b[col].is_null = &nulls[col];
		b[col].error = &errs[col];
	}
	if (mysql_stmt_bind_result(st, b) != 0) {
		res->rows = 0;
		r = db_fail(db, st, name);
		goto out;
	}
	for (row = 0; row < res->rows; row++) {
		fr = mysql_stmt_fetch(st);
		if (fr == MYSQL_NO_DATA || fr == 1) {
			/* Cells past this row are still NULL: keep them out. */
			res->rows = row;
			r = fr == 1 ? db_fail(db, st, name) : EST_E_INTERNAL;
			goto out;
		}
		for (col = 0; col < cols; col++) {
			if (nulls[col])
				continue;
			cell = &res->cells[row * cols + col];
			if ((cell->p = malloc(lens[col] + 1)) == NULL) {
				res->rows = row + 1;
				r = EST_E_NOMEM;
				goto out;
			}
			cell->len = lens[col];
			cell->p[cell->len] = '\0';
			if (cell->len == 0)
				continue;
			memset(&one, 0, sizeof(one));
			one.buffer_type = MYSQL_TYPE_STRING;
			one.buffer = cell->p;
			one.buffer_length = lens[col] + 1;
			one.length = &got;
			if (mysql_stmt_fetch_column(st, &one, (unsigned)col,
						    0) != 0) {
				res->rows = row + 1;
				r = db_fail(db, st, name);
				goto out;
			}
			cell->p[cell->len] = '\0';
		}
	}
	*out = res;
	res = NULL;
	r = 0;
out:
	mysql_stmt_free_result(st);
	if (meta != NULL)
		mysql_free_result(meta);
	free(b);
	free(lens);
	free(nulls);
	free(errs);
	db_result_free(res);
	return r;
}

int
db_query(struct db *db, const struct db_stmt_def *def,
	 const struct db_param *params, size_t nparams, struct db_result **out)
{
	MYSQL_STMT *st = NULL;
	int r;

	if ((r = db_run(db, def, params, nparams, &st)) != 0)
		return r;
	return db_fetch_all(db, st, def->name, out);
}

int
db_query_one(struct db *db, const struct db_stmt_def *def,
	     const struct db_param *params, size_t nparams,
	     struct db_result **out)
{
	struct db_result *res = NULL;
	int r;

	if ((r = db_query(db, def, params, nparams, &res)) != 0)
		return r;
	if (res->rows != 1) {
		r = res->rows == 0 ? EST_E_NOTFOUND : EST_E_INTERNAL;
		if (r == EST_E_INTERNAL)
			log_err("db: %s: %zu rows where one was expected",
				def->name, res->rows);
		db_result_free(res);
		return r;
	}
	*out = res;
	return 0;
}

/* --- Results --- */

size_t
db_result_rows(const struct db_result *r)
{
	return r->rows;
}

size_t
db_result_cols(const struct db_result *r)
{
	return r->cols;
}

static const struct db_cell *
db_result_cell(const struct db_result *r, size_t row, size_t col)
{
	if (row >= r->rows || col >= r->cols)
		return NULL;
	return &r->cells[row * r->cols + col];
}

int
db_result_isnull(const struct db_result *r, size_t row, size_t col)
{
	const struct db_cell *c = db_result_cell(r, row, col);

	return c == NULL || c->p == NULL;
}

const char *
db_result_str(const struct db_result *r, size_t row, size_t col, size_t *len)
{
	const struct db_cell *c = db_result_cell(r, row, col);

	if (c == NULL || c->p == NULL) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	if (len != NULL)
		*len = c->len;
	return c->p;
}

int64_t
db_result_i64(const struct db_result *r, size_t row, size_t col)
{
	const struct db_cell *c = db_result_cell(r, row, col);
	char *end;
	long long v;

	if (c == NULL || c->p == NULL || c->len == 0)
		return 0;
	errno = 0;
	v = strtoll(c->p, &end, 10);
	if (errno != 0 || *end != '\0' || end != c->p + c->len)
		return 0;
	return (int64_t)v;
}
