/*
 * Field tables: the walk of a parsed body against its table, the mark that
 * records a successful walk, and the accessors that read only marked
 * objects.  See jsonval.h for the rules.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "err.h"
#include "jsonval.h"

/* Tells our validation mark apart from anything else in userdata. */
#define JV_MARK_MAGIC 0x4a564d4bu

struct jv_mark {
	uint32_t magic;
	const struct jsonval_field *fields;
	size_t n;
};

int
jsonval_error_set(struct jsonval_error *err, int code, const char *field,
		  const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

/* ------------------------------------------------------------------ */
/* Field tables                                                        */
/* ------------------------------------------------------------------ */

static const struct jsonval_field *
find_field(const struct jsonval_field *fields, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

/*
 * Refuses an inconsistent table before any input is judged by it, so that
 * a typo in a table is a 500 in the first test rather than a rule that is
 * silently not enforced.  Nested tables are walked to the depth that input
 * can reach, which also stops a table that refers to itself.
 */
static int
table_ok(const struct jsonval_field *fields, size_t n, int depth)
{
	const struct jsonval_field *f;
	size_t i, j;

	if (n > 0 && fields == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		f = &fields[i];
		if (f->name == NULL)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(fields[j].name, f->name) == 0)
				return -1;
		switch (f->type) {
		case JV_ENUM:
			if (f->enum_values == NULL)
				return -1;
			break;
		case JV_STRING:
			break;
		case JV_STRING_ARRAY:
			if (f->min_items > f->max_items)
				return -1;
			break;
		case JV_INT:
			if (f->min > f->max)
				return -1;
			break;
		case JV_BOOL:
			break;
		case JV_OBJECT_ARRAY:
			if (f->min_items > f->max_items)
				return -1;
			/* FALLTHROUGH */
		case JV_OBJECT:
			if (depth < JSONVAL_MAX_DEPTH &&
			    table_ok(f->fields, f->nfields, depth + 1) != 0)
				return -1;
			break;
		default:
			return -1;
		}
		if (f->min_len > f->max_len && f->enum_values == NULL &&
		    (f->type == JV_STRING || f->type == JV_STRING_ARRAY))
			return -1;
	}
	return 0;
}

/*
 * Field paths are cut at the size of err->field; a cut path still names
 * the field well enough, and only a table nested absurdly deep makes one.
 */
static void set_path(char *dst, size_t dstlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_path(char *dst, size_t dstlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, dstlen, fmt, ap);
	va_end(ap);
}

/* "parent.name", or "name" at the top. */
static void
join_path(char *dst, size_t dstlen, const char *path, const char *name)
{
	if (path[0] != '\0')
		set_path(dst, dstlen, "%s.%s", path, name);
	else
		set_path(dst, dstlen, "%s", name);
}

/* A key the client sent, shown back only when it is plain ASCII. */
static int
printable_key(const char *key)
{
	size_t n = 0;

	for (; *key != '\0'; key++, n++)
		if (*key < 0x21 || *key > 0x7e || n >= 63)
			return 0;
	return n > 0;
}

/* C0 (but TAB, LF and CR in a multi-line field), DEL and C1. */
static int
is_control(uint32_t cp, int multiline)
{
	if (multiline && (cp == '\t' || cp == '\n' || cp == '\r'))
		return 0;
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/*
 * Counts the characters of s[0..len) and refuses what no string field may
 * hold: invalid UTF-8, NUL and control characters.  Returns NULL or the
 * reason.
 */
static const char *
string_scan(const char *s, size_t len, int multiline, size_t *nchars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, n = 0;
	uint32_t cp;

	while (i < len) {
		if ((k = jsonval_utf8_next(p + i, len - i, &cp)) == 0)
			return "invalid UTF-8";
		if (cp == 0)
			return "NUL character not allowed";
		if (is_control(cp, multiline))
			return "control characters not allowed";
		i += k;
		n++;
	}
	*nchars = n;
	return NULL;
}

static int
check_string(const struct jsonval_field *f, struct json_object *val,
	     const char *field, struct jsonval_error *err)
{
	const char *s, *why;
	size_t nchars, i;

	if (!json_object_is_type(val, json_type_string))
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, field,
					 "must be a string");
	s = json_object_get_string(val);
	why = string_scan(s, (size_t)json_object_get_string_len(val),
			  f->multiline, &nchars);
	if (why != NULL)
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, field, "%s",
					 why);
	if (f->enum_values != NULL) {
		for (i = 0; f->enum_values[i] != NULL; i++)
			if (strcmp(f->enum_values[i], s) == 0)
				break;
		if (f->enum_values[i] == NULL)
			return jsonval_error_set(
				err, EST_E_UNPROCESSABLE, field,
				"not one of the allowed values");
	} else if (nchars < f->min_len)
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, field,
					 "too short (at least %zu characters)",
					 f->min_len);
	else if (nchars > f->max_len)
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, field,
					 "too long (at most %zu characters)",
					 f->max_len);
	if (f->check != NULL && f->check(s) != 0)
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, field,
					 "invalid format");
	return 0;
}

/*
 * No coercion: a double (5.0, 1e2), a string or a boolean is not an
 * integer.  json-c saturates integers beyond 64 bits instead of failing,
 * to INT64_MIN below and to UINT64_MAX above, so INT64_MIN and anything
 * over INT64_MAX count as out of range whatever the table says.
 */
static int
check_int(const struct jsonval_field *f, struct json_object *val,
	  const char *field, struct jsonval_error *err)
{
	int64_t v;

	if (!json_object_is_type(val, json_type_int))
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, field,
					 "must be an integer");
	v = json_object_get_int64(val);
	if ((v == INT64_MAX && json_object_get_uint64(val) > INT64_MAX) ||
	    v == INT64_MIN || v < f->min || v > f->max)
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, field,
					 "out of range (%lld to %lld)",
					 (long long)f->min, (long long)f->max);
	return 0;
}

static void
mark_free(struct json_object *obj, void *mark)
{
	(void)obj;
	free(mark);
}

static int check_object(struct json_object *obj,
			const struct jsonval_field *fields, size_t n,
			const char *path, int depth, struct jsonval_error *err);

static int
check_array(const struct jsonval_field *f, struct json_object *val,
	    const char *field, int depth, struct jsonval_error *err)
{
	struct json_object *item;
	char path[sizeof(err->field)];
	size_t len, i, j;
	int r;

	if (!json_object_is_type(val, json_type_array))
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, field,
					 "must be an array");
	len = json_object_array_length(val);
	if (len < f->min_items)
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, field,
					 "too few items (at least %zu)",
					 f->min_items);
	if (len > f->max_items)
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, field,
					 "too many items (at most %zu)",
					 f->max_items);
	for (i = 0; i < len; i++) {
		item = json_object_array_get_idx(val, i);
		set_path(path, sizeof(path), "%s[%zu]", field, i);
		if (item == NULL)
			return jsonval_error_set(err, EST_E_UNPROCESSABLE, path,
						 "must not be null");
		if (f->type == JV_STRING_ARRAY)
			r = check_string(f, item, path, err);
		else if (!json_object_is_type(item, json_type_object))
			r = jsonval_error_set(err, EST_E_UNPROCESSABLE, path,
					      "must be an object");
		else
			r = check_object(item, f->fields, f->nfields, path,
					 depth + 2, err);
		if (r != 0)
			return r;
		/* Bounded by max_items, which the table sets. */
		for (j = 0; f->unique && j < i; j++)
			if (json_object_equal(
				    item, json_object_array_get_idx(val, j)))
				return jsonval_error_set(
					err, EST_E_UNPROCESSABLE, path,
					"repeats item %zu", j);
	}
	return 0;
}

static int
check_value(const struct jsonval_field *f, struct json_object *val,
	    const char *field, int depth, struct jsonval_error *err)
{
	/* json-c represents null as a NULL object. */
	if (val == NULL && f->nullable)
		return 0;
	if (val == NULL)
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, field,
					 "must not be null");
	switch (f->type) {
	case JV_STRING:
	case JV_ENUM:
		return check_string(f, val, field, err);
	case JV_INT:
		return check_int(f, val, field, err);
	case JV_BOOL:
		if (!json_object_is_type(val, json_type_boolean))
			return jsonval_error_set(err, EST_E_UNPROCESSABLE,
						 field,
						 "must be true or false");
		return 0;
	case JV_STRING_ARRAY:
	case JV_OBJECT_ARRAY:
		return check_array(f, val, field, depth, err);
	case JV_OBJECT:
		if (!json_object_is_type(val, json_type_object))
			return jsonval_error_set(err, EST_E_UNPROCESSABLE,
						 field, "must be an object");
		return check_object(val, f->fields, f->nfields, field,
				    depth + 1, err);
	}
	return jsonval_error_set(err, EST_E_INTERNAL, field, "bad field table");
}

static int
check_object(struct json_object *obj, const struct jsonval_field *fields,
	     size_t n, const char *path, int depth, struct jsonval_error *err)
{
	const struct jsonval_field *f;
	struct json_object_iterator it, end;
	struct json_object *val;
	struct jv_mark *mark;
	char field[sizeof(err->field)];
	const char *key;
	size_t i;
	int r;

	/* A stale mark from an earlier check must not survive a failure. */
	json_object_set_userdata(obj, NULL, NULL);
	if (depth > JSONVAL_MAX_DEPTH)
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, path,
					 "nesting deeper than %d",
					 JSONVAL_MAX_DEPTH);
	/* Unknown keys first, in the order the client sent them. */
	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		key = json_object_iter_peek_name(&it);
		if (find_field(fields, n, key) != NULL)
			continue;
		if (printable_key(key)) {
			join_path(field, sizeof(field), path, key);
			return jsonval_error_set(err, EST_E_UNPROCESSABLE,
						 field, "unknown field");
		}
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, path,
					 "unknown field (name not shown)");
	}
	/* Then the table's fields, in the table's order. */
	for (i = 0; i < n; i++) {
		f = &fields[i];
		join_path(field, sizeof(field), path, f->name);
		if (!json_object_object_get_ex(obj, f->name, &val)) {
			if (f->required)
				return jsonval_error_set(
					err, EST_E_UNPROCESSABLE, field,
					"required field missing");
			continue;
		}
		if ((r = check_value(f, val, field, depth, err)) != 0)
			return r;
	}
	if ((mark = malloc(sizeof(*mark))) == NULL)
		return jsonval_error_set(err, EST_E_NOMEM, "", "out of memory");
	mark->magic = JV_MARK_MAGIC;
	mark->fields = fields;
	mark->n = n;
	json_object_set_userdata(obj, mark, mark_free);
	return 0;
}

int
jsonval_check(struct json_object *obj, const struct jsonval_field *fields,
	      size_t n, struct jsonval_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (table_ok(fields, n, 1) != 0)
		return jsonval_error_set(err, EST_E_INTERNAL, "",
					 "bad field table");
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return jsonval_error_set(err, EST_E_UNPROCESSABLE, "",
					 "the body must be a JSON object");
	return check_object(obj, fields, n, "", 1, err);
}

int
jsonval_parse_check(const char *body, size_t len,
		    const struct jsonval_field *fields, size_t n,
		    struct json_object **out, struct jsonval_error *err)
{
	struct json_object *obj = NULL;
	int r;

	if ((r = jsonval_parse(body, len, &obj, err)) != 0 ||
	    (r = jsonval_check(obj, fields, n, err)) != 0)
		goto out;
	*out = obj;
	obj = NULL;
out:
	json_object_put(obj);
	return r;
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */
/* ------------------------------------------------------------------ */

/*
 * The table entry of name in a validated obj, or NULL when obj was not
 * validated or name is not in its table: reading either would bypass it.
 */
static const struct jsonval_field *
marked_field(struct json_object *obj, const char *name)
{
	const struct jv_mark *mark;

	if (obj == NULL || name == NULL ||
	    !json_object_is_type(obj, json_type_object))
		return NULL;
	mark = json_object_get_userdata(obj);
	if (mark == NULL || mark->magic != JV_MARK_MAGIC)
		return NULL;
	return find_field(mark->fields, mark->n, name);
}

/* The non-null value of a validated field of type t1 or t2. */
static struct json_object *
marked_value(struct json_object *obj, const char *name, enum jv_type t1,
	     enum jv_type t2)
{
	const struct jsonval_field *f;
	struct json_object *val;

	if ((f = marked_field(obj, name)) == NULL ||
	    (f->type != t1 && f->type != t2) ||
	    !json_object_object_get_ex(obj, name, &val))
		return NULL;
	return val;
}

enum jv_presence
jsonval_presence(struct json_object *obj, const char *name)
{
	struct json_object *val;

	if (marked_field(obj, name) == NULL ||
	    !json_object_object_get_ex(obj, name, &val))
		return JV_ABSENT;
	return val == NULL ? JV_NULL : JV_PRESENT;
}

const char *
jsonval_get_string(struct json_object *obj, const char *name)
{
	struct json_object *val;

	if ((val = marked_value(obj, name, JV_STRING, JV_ENUM)) == NULL)
		return NULL;
	return json_object_get_string(val);
}

int
jsonval_get_int(struct json_object *obj, const char *name, int64_t *v)
{
	struct json_object *val;

	if ((val = marked_value(obj, name, JV_INT, JV_INT)) == NULL)
		return EST_E_NOTFOUND;
	*v = json_object_get_int64(val);
	return 0;
}

int
jsonval_get_bool(struct json_object *obj, const char *name, int *v)
{
	struct json_object *val;

	if ((val = marked_value(obj, name, JV_BOOL, JV_BOOL)) == NULL)
		return EST_E_NOTFOUND;
	*v = json_object_get_boolean(val) ? 1 : 0;
	return 0;
}

struct json_object *
jsonval_get_object(struct json_object *obj, const char *name)
{
	return marked_value(obj, name, JV_OBJECT, JV_OBJECT);
}

size_t
jsonval_get_count(struct json_object *obj, const char *name)
{
	struct json_object *val;

	val = marked_value(obj, name, JV_STRING_ARRAY, JV_OBJECT_ARRAY);
	return val == NULL ? 0 : json_object_array_length(val);
}

const char *
jsonval_get_string_at(struct json_object *obj, const char *name, size_t i)
{
	struct json_object *val;

	val = marked_value(obj, name, JV_STRING_ARRAY, JV_STRING_ARRAY);
	if (val == NULL || i >= json_object_array_length(val))
		return NULL;
	return json_object_get_string(json_object_array_get_idx(val, i));
}

struct json_object *
jsonval_get_object_at(struct json_object *obj, const char *name, size_t i)
{
	struct json_object *val;

	val = marked_value(obj, name, JV_OBJECT_ARRAY, JV_OBJECT_ARRAY);
	if (val == NULL || i >= json_object_array_length(val))
		return NULL;
	return json_object_array_get_idx(val, i);
}
