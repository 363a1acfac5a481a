/*
 * REST helpers without database or authentication: errors, bodies, query
 * parameters, cursors and pages, ETag and If-Match, JSON builders.  The
 * audit parts are in rest_audit.c, so that unit tests link this file
 * alone.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "ctx.h"
#include "db.h"
#include "err.h"
#include "req.h"
#include "resp.h"
#include "rest.h"
#include "route.h"
#include "util.h"

#define REST_ID_DIGITS 18 /* below 2^63 */
#define REST_CURSOR_BYTES 9
#define REST_ETAG_BYTES 16
#define REST_LOCATION_MAX 256

/* ------------------------------------------------------------------ */
/* Errors */

int
rest_fail(struct jsonval_error *e, int code, const char *field)
{
	if (e != NULL) {
		memset(e, 0, sizeof(*e));
		e->code = code;
		if (field != NULL)
			snprintf(e->field, sizeof(e->field), "%s", field);
	}
	return code;
}

int
rest_answer(struct resp *rs, int r, const struct jsonval_error *e)
{
	const char *field = NULL, *msg = NULL;

	if (r == 0)
		return 0;
	if (est_err_http_status(r) >= 500)
		return r;
	if (e != NULL && e->code == r) {
		if (e->field[0] != '\0')
			field = e->field;
		if (e->message[0] != '\0')
			msg = e->message;
	}
	resp_reset(rs);
	/* The message comes from a validator's table, never from input. */
	return resp_error_reason(rs, 0, r, field, msg);
}

/* ------------------------------------------------------------------ */
/* Bodies */

static int
json_ctype_ok(const struct mtype *mt)
{
	const char *cs;

	if (mt == NULL || !mtype_is(mt, "application/json"))
		return 0;
	if (mt->nparams == 0)
		return 1;
	cs = mtype_param(mt, "charset");
	return mt->nparams == 1 && cs != NULL && strcasecmp(cs, "utf-8") == 0;
}

int
rest_body(const struct request *req, const struct jsonval_field *fields,
	  size_t n, struct json_object **out, struct jsonval_error *e)
{
	struct json_object *obj = NULL;
	int r;

	if ((r = rest_body_parse(req, &obj, e)) != 0 ||
	    (r = jsonval_check(obj, fields, n, e)) != 0) {
		json_object_put(obj);
		return r;
	}
	*out = obj;
	return 0;
}

int
rest_body_parse(const struct request *req, struct json_object **out,
		struct jsonval_error *e)
{
	const char *body = req->body != NULL ? (const char *)req->body : "";

	if (!json_ctype_ok(req->content_type))
		return rest_fail(e, EST_E_MEDIATYPE, "content_type");
	if (req->bodylen > JSONVAL_MAX_LEN)
		return rest_fail(e, EST_E_TOOBIG, "body");
	return jsonval_parse(body, req->bodylen, out, e);
}

int
rest_body_optional(const struct request *req,
		   const struct jsonval_field *fields, size_t n,
		   struct json_object **out, struct jsonval_error *e)
{
	if (req->bodylen == 0 && req->content_type == NULL) {
		*out = NULL;
		return 0;
	}
	return rest_body(req, fields, n, out, e);
}

int
rest_body_none(const struct request *req, struct jsonval_error *e)
{
	if (req->bodylen != 0)
		return rest_fail(e, EST_E_INVAL, "body");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Captures and numbers */

/* A positive decimal of at most 18 digits without a leading zero. */
static int
parse_id(const char *s, int64_t *v)
{
	int64_t n = 0;
	size_t i;

	if (s == NULL || s[0] < '1' || s[0] > '9')
		return EST_E_INVAL;
	for (i = 0; s[i] != '\0'; i++) {
		if (i == REST_ID_DIGITS || s[i] < '0' || s[i] > '9')
			return EST_E_INVAL;
		n = n * 10 + (s[i] - '0');
	}
	*v = n;
	return 0;
}

/* A decimal integer, "-" allowed, no leading zero, no "+", no "-0". */
static int
parse_int(const char *s, int64_t *v)
{
	int64_t n;
	int neg = s[0] == '-';

	if (strcmp(s, "0") == 0) {
		*v = 0;
		return 0;
	}
	if (parse_id(s + neg, &n) != 0)
		return EST_E_INVAL;
	*v = neg ? -n : n;
	return 0;
}

int
rest_cap_id(const struct hctx *c, const char *name, int64_t *id,
	    struct jsonval_error *e)
{
	const char *s = c->match != NULL ? route_cap(c->match, name) : NULL;
	int64_t v;

	if (s == NULL || parse_id(s, &v) != 0)
		return rest_fail(e, EST_E_NOTFOUND, name);
	*id = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Query parameters */

/* Printable UTF-8 of 1..max code points (no C0, DEL or C1 controls). */
static int
qstring_ok(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), off = 0, k, chars = 0;
	uint32_t cp;

	while (off < len) {
		if ((k = jsonval_utf8_next(p + off, len - off, &cp)) == 0)
			return 0;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return 0;
		off += k;
		chars++;
	}
	return chars > 0 && chars <= max;
}

static int
qfield_value(const struct rest_qfield *f, const char *v, const char **str,
	     int64_t *num)
{
	size_t i;

	switch (f->type) {
	case REST_Q_STRING:
		if (!qstring_ok(v, f->max_len) ||
		    (f->check != NULL && f->check(v) != 0))
			return EST_E_INVAL;
		*str = v;
		return 0;
	case REST_Q_ID:
		return parse_id(v, num);
	case REST_Q_BOOL:
		if (strcmp(v, "true") == 0)
			*num = 1;
		else if (strcmp(v, "false") == 0)
			*num = 0;
		else
			return EST_E_INVAL;
		return 0;
	case REST_Q_ENUM:
		for (i = 0; f->enum_values != NULL && f->enum_values[i] != NULL;
		     i++) {
			if (strcmp(v, f->enum_values[i]) == 0) {
				*str = f->enum_values[i];
				return 0;
			}
		}
		return EST_E_INVAL;
	case REST_Q_INT:
		if (parse_int(v, num) != 0 || *num < f->min || *num > f->max)
			return EST_E_INVAL;
		return 0;
	}
	return EST_E_INTERNAL;
}

static int
parse_limit(const char *v, size_t *limit)
{
	int64_t n;

	if (parse_id(v, &n) != 0 || n > REST_LIMIT_MAX)
		return EST_E_INVAL;
	*limit = (size_t)n;
	return 0;
}

int
rest_query_parse(const struct request *req, const struct rest_qfield *tab,
		 size_t n, struct rest_query *q, struct jsonval_error *e)
{
	struct rest_query nq;
	const char *name, *v;
	size_t i, j;
	int r;

	if (n > REST_QFIELDS_MAX || (n > 0 && tab == NULL))
		return rest_fail(e, EST_E_INTERNAL, NULL);
	memset(&nq, 0, sizeof(nq));
	nq.limit = REST_LIMIT_DEFAULT;
	nq.tab = tab;
	nq.n = n;
	for (i = 0; i < req->nquery; i++) {
		name = req->query[i].name;
		v = req->query[i].value;
		/* req_uri.c refused repeated names; empty values are ours. */
		if (v[0] == '\0')
			return rest_fail(e, EST_E_INVAL, name);
		if (strcmp(name, "limit") == 0) {
			if (parse_limit(v, &nq.limit) != 0)
				return rest_fail(e, EST_E_INVAL, name);
			continue;
		}
		if (strcmp(name, "cursor") == 0) {
			if (rest_cursor_decode(v, &nq.after_id) != 0)
				return rest_fail(e, EST_E_INVAL, name);
			continue;
		}
		for (j = 0; j < n; j++)
			if (strcmp(name, tab[j].name) == 0)
				break;
		if (j == n)
			return rest_fail(e, EST_E_INVAL, name);
		if ((r = qfield_value(&tab[j], v, &nq.str[j], &nq.num[j])) != 0)
			return rest_fail(e, r, name);
		/* Strings are read through str; a number only through num. */
		if (tab[j].type != REST_Q_STRING && tab[j].type != REST_Q_ENUM)
			nq.str[j] = v;
	}
	*q = nq;
	return 0;
}

int
rest_query_none(const struct request *req, struct jsonval_error *e)
{
	if (req->nquery > 0)
		return rest_fail(e, EST_E_INVAL, req->query[0].name);
	return 0;
}

static int
qindex(const struct rest_query *q, const char *name)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->tab[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *
rest_q_str(const struct rest_query *q, const char *name)
{
	int i = qindex(q, name);

	if (i < 0 ||
	    (q->tab[i].type != REST_Q_STRING && q->tab[i].type != REST_Q_ENUM))
		return NULL;
	return q->str[i];
}

int
rest_q_int(const struct rest_query *q, const char *name, int64_t *v)
{
	int i = qindex(q, name);

	if (i < 0 || q->tab[i].type == REST_Q_STRING ||
	    q->tab[i].type == REST_Q_ENUM || q->str[i] == NULL)
		return EST_E_NOTFOUND;
	*v = q->num[i];
	return 0;
}

int64_t
rest_q_int_or(const struct rest_query *q, const char *name, int64_t dflt)
{
	int64_t v;

	return rest_q_int(q, name, &v) == 0 ? v : dflt;
}

/* ------------------------------------------------------------------ */
/* base64url without padding, for cursors and entity tags */

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encodes len bytes (a multiple of 3) into 4 * len / 3 characters. */
static void
b64url_encode3(const uint8_t *p, size_t len, char *out)
{
	size_t i, o = 0;
	uint32_t w;

	for (i = 0; i + 3 <= len; i += 3) {
		w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64url[(w >> 18) & 63];
		out[o++] = b64url[(w >> 12) & 63];
		out[o++] = b64url[(w >> 6) & 63];
		out[o++] = b64url[w & 63];
	}
	out[o] = '\0';
}

static int
b64url_value(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64url, c)) == NULL)
		return -1;
	return (int)(p - b64url);
}

int
rest_cursor_encode(int64_t last_id, char out[REST_CURSOR_LEN + 1])
{
	uint8_t raw[REST_CURSOR_BYTES];
	int i;

	if (last_id <= 0)
		return EST_E_INVAL;
	raw[0] = REST_CURSOR_V1;
	for (i = 0; i < 8; i++)
		raw[1 + i] = (uint8_t)((uint64_t)last_id >> (56 - 8 * i));
	b64url_encode3(raw, sizeof(raw), out);
	return 0;
}

int
rest_cursor_decode(const char *s, int64_t *last_id)
{
	uint8_t raw[REST_CURSOR_BYTES];
	uint64_t id = 0;
	uint32_t w;
	size_t i;
	int k, j;

	if (s == NULL || strlen(s) != REST_CURSOR_LEN)
		return EST_E_INVAL;
	for (i = 0; i < REST_CURSOR_LEN / 4; i++) {
		w = 0;
		for (j = 0; j < 4; j++) {
			if ((k = b64url_value(s[4 * i + (size_t)j])) < 0)
				return EST_E_INVAL;
			w = w << 6 | (uint32_t)k;
		}
		raw[3 * i] = (uint8_t)(w >> 16);
		raw[3 * i + 1] = (uint8_t)(w >> 8);
		raw[3 * i + 2] = (uint8_t)w;
	}
	if (raw[0] != REST_CURSOR_V1)
		return EST_E_INVAL;
	for (i = 1; i < REST_CURSOR_BYTES; i++)
		id = id << 8 | raw[i];
	if (id == 0 || id > INT64_MAX)
		return EST_E_INVAL;
	*last_id = (int64_t)id;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Pages */

size_t
rest_page_fetch(const struct rest_query *q)
{
	return q->limit + 1;
}

int
rest_page_init(struct rest_page *pg, const struct rest_query *q)
{
	memset(pg, 0, sizeof(*pg));
	if ((pg->items = json_object_new_array()) == NULL)
		return EST_E_NOMEM;
	pg->limit = q->limit;
	return 0;
}

int
rest_page_add(struct rest_page *pg, int64_t id, struct json_object *item)
{
	if (item == NULL)
		return EST_E_NOMEM;
	if (pg->n >= pg->limit) {
		pg->more = 1;
		json_object_put(item);
		return 0;
	}
	if (json_object_array_add(pg->items, item) != 0) {
		json_object_put(item);
		return EST_E_NOMEM;
	}
	pg->n++;
	pg->last_id = id;
	return 0;
}

int
rest_page_send(struct rest_page *pg, struct resp *rs)
{
	struct json_object *o = NULL;
	char cur[REST_CURSOR_LEN + 1];
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_obj(o, "items", json_object_get(pg->items))) != 0)
		goto out;
	if (pg->more && pg->n > 0) {
		if ((r = rest_cursor_encode(pg->last_id, cur)) != 0 ||
		    (r = rest_put_str(o, "next_cursor", cur)) != 0)
			goto out;
	} else if ((r = rest_put_str(o, "next_cursor", NULL)) != 0) {
		goto out;
	}
	r = resp_json(rs, 200, o);
out:
	json_object_put(o);
	return r;
}

void
rest_page_clear(struct rest_page *pg)
{
	json_object_put(pg->items);
	memset(pg, 0, sizeof(*pg));
}

/* ------------------------------------------------------------------ */
/* ETag and If-Match */

int
rest_etag(const char *entity, int64_t id, const char *version,
	  char out[REST_ETAG_MAX])
{
	uint8_t md[EVP_MAX_MD_SIZE], raw[REST_ETAG_BYTES + 2];
	char idtext[24], enc[REST_ETAG_MAX];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	int r = EST_E_CRYPTO;

	if (entity == NULL || version == NULL || id <= 0)
		return EST_E_INVAL;
	snprintf(idtext, sizeof(idtext), "%" PRId64, id);
	/* NUL bytes separate the parts: none of them contains one. */
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return EST_E_NOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, entity, strlen(entity) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, idtext, strlen(idtext) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, version, strlen(version)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
	    mdlen < REST_ETAG_BYTES + 2)
		goto out;
	/* 18 bytes encode to 24 characters without padding; keep 22. */
	memcpy(raw, md, sizeof(raw));
	b64url_encode3(raw, sizeof(raw), enc);
	out[0] = '"';
	memcpy(out + 1, enc, REST_ETAG_MAX - 3);
	out[REST_ETAG_MAX - 2] = '"';
	out[REST_ETAG_MAX - 1] = '\0';
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* etagc = %x21 / %x23-7E (obs-text is refused: req.c allows only ASCII) */
static int
is_etagc(char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x7e);
}

int
rest_if_match_header(const char *h, const char *etag)
{
	const char *p = h, *start;
	size_t elen = strlen(etag);
	int weak, match = 0, ntags = 0;

	while (is_ows(*p))
		p++;
	if (*p == '*') {
		p++;
		while (is_ows(*p))
			p++;
		return *p == '\0' ? 1 : EST_E_INVAL;
	}
	/* 1#entity-tag, with the empty elements RFC 9110 5.6.1 allows. */
	for (;;) {
		while (is_ows(*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		weak = 0;
		if (p[0] == 'W' && p[1] == '/') {
			weak = 1;
			p += 2;
		}
		if (*p != '"')
			return EST_E_INVAL;
		start = p++;
		while (is_etagc(*p))
			p++;
		if (*p != '"')
			return EST_E_INVAL;
		p++;
		ntags++;
		/* Strong comparison: both strong and character-equal. */
		if (!weak && (size_t)(p - start) == elen &&
		    memcmp(start, etag, elen) == 0)
			match = 1;
		while (is_ows(*p))
			p++;
		if (*p != ',' && *p != '\0')
			return EST_E_INVAL;
	}
	if (ntags == 0)
		return EST_E_INVAL;
	return match;
}

int
rest_if_match(const struct request *req, const char *etag,
	      struct jsonval_error *e)
{
	int r;

	if (req->if_match == NULL)
		return rest_fail(e, EST_E_PRECONDREQ, "if_match");
	if ((r = rest_if_match_header(req->if_match, etag)) < 0)
		return rest_fail(e, EST_E_INVAL, "if_match");
	if (r == 0)
		return rest_fail(e, EST_E_PRECONDITION, "if_match");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Responses */

int
rest_send(struct resp *rs, int status, struct json_object *obj,
	  const char *etag)
{
	int r;

	if ((r = resp_json(rs, status, obj)) != 0)
		return r;
	if (etag != NULL)
		return resp_header(rs, "ETag", etag);
	return 0;
}

int
rest_created(struct resp *rs, const char *base, int64_t id,
	     struct json_object *obj, const char *etag)
{
	char loc[REST_LOCATION_MAX];
	int n, r;

	n = snprintf(loc, sizeof(loc), "%s/%" PRId64, base, id);
	if (n < 0 || (size_t)n >= sizeof(loc))
		return EST_E_INTERNAL;
	if ((r = rest_send(rs, 201, obj, etag)) != 0)
		return r;
	return resp_header(rs, "Location", loc);
}

/* ------------------------------------------------------------------ */
/* JSON builders */

int
rest_put_obj(struct json_object *o, const char *key, struct json_object *v)
{
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return EST_E_NOMEM;
	}
	return 0;
}

/* Adds a new value that the constructor may have failed to make. */
static int
put_new(struct json_object *o, const char *key, struct json_object *v)
{
	if (v == NULL)
		return EST_E_NOMEM;
	return rest_put_obj(o, key, v);
}

int
rest_put_str(struct json_object *o, const char *key, const char *v)
{
	if (v == NULL)
		return rest_put_obj(o, key, NULL);
	return put_new(o, key, json_object_new_string(v));
}

int
rest_put_int(struct json_object *o, const char *key, int64_t v)
{
	return put_new(o, key, json_object_new_int64(v));
}

int
rest_put_id(struct json_object *o, const char *key, int64_t v)
{
	if (v == 0)
		return rest_put_obj(o, key, NULL);
	return rest_put_int(o, key, v);
}

int
rest_put_bool(struct json_object *o, const char *key, int v)
{
	return put_new(o, key, json_object_new_boolean(v != 0));
}

static int
digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
rest_put_time(struct json_object *o, const char *key, const char *v)
{
	char t[32];
	size_t len, frac = 0;

	if (v == NULL)
		return rest_put_obj(o, key, NULL);
	/* "YYYY-MM-DD HH:MM:SS" and an optional ".f" to ".ffffff". */
	len = strlen(v);
	if (len < 19 || !digits(v, 4) || v[4] != '-' || !digits(v + 5, 2) ||
	    v[7] != '-' || !digits(v + 8, 2) ||
	    (v[10] != ' ' && v[10] != 'T') || !digits(v + 11, 2) ||
	    v[13] != ':' || !digits(v + 14, 2) || v[16] != ':' ||
	    !digits(v + 17, 2))
		return EST_E_INTERNAL;
	if (len > 19) {
		frac = len - 20;
		if (v[19] != '.' || frac == 0 || frac > 6 ||
		    !digits(v + 20, frac))
			return EST_E_INTERNAL;
	}
	memcpy(t, v, 19);
	t[10] = 'T';
	t[19] = '.';
	memcpy(t + 20, frac > 0 ? v + 20 : "", frac);
	memset(t + 20 + frac, '0', 6 - frac);
	t[26] = 'Z';
	t[27] = '\0';
	return rest_put_str(o, key, t);
}

int
rest_put_hex(struct json_object *o, const char *key, const uint8_t *p, size_t n)
{
	char *h;
	int r;

	if (p == NULL)
		return rest_put_obj(o, key, NULL);
	if ((h = malloc(2 * n + 1)) == NULL)
		return EST_E_NOMEM;
	hex_encode(p, n, h);
	r = rest_put_str(o, key, h);
	free(h);
	return r;
}

static int
put_col(struct json_object *o, const struct rest_col *c,
	const struct db_result *res, size_t row, size_t col)
{
	const char *s;
	size_t len = 0;
	int64_t v;

	if (c->type == REST_C_SKIP)
		return 0;
	if (db_result_isnull(res, row, col))
		return rest_put_obj(o, c->key, NULL);
	switch (c->type) {
	case REST_C_STR:
		return rest_put_str(o, c->key,
				    db_result_str(res, row, col, NULL));
	case REST_C_INT:
		return rest_put_int(o, c->key, db_result_i64(res, row, col));
	case REST_C_ID:
		return rest_put_id(o, c->key, db_result_i64(res, row, col));
	case REST_C_BOOL:
		v = db_result_i64(res, row, col);
		return rest_put_bool(o, c->key, v != 0);
	case REST_C_TIME:
		return rest_put_time(o, c->key,
				     db_result_str(res, row, col, NULL));
	case REST_C_HEX:
		s = db_result_str(res, row, col, &len);
		return rest_put_hex(o, c->key, (const uint8_t *)s, len);
	case REST_C_SKIP:
		break;
	}
	return 0;
}

int
rest_row_json(const struct db_result *res, size_t row,
	      const struct rest_col *cols, size_t n, struct json_object **out)
{
	struct json_object *o;
	size_t i;
	int r;

	if (n > db_result_cols(res) || row >= db_result_rows(res))
		return EST_E_INTERNAL;
	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++) {
		if ((r = put_col(o, &cols[i], res, row, i)) != 0) {
			json_object_put(o);
			return r;
		}
	}
	*out = o;
	return 0;
}
