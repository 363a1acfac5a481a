/*
 * Strict JSON input: every REST request body is parsed by jsonval_parse()
 * and walked against a table of fields by jsonval_check() before a handler
 * reads it, and handlers read it only through the jsonval_get_*()
 * accessors, which see nothing that did not validate (the kcgi model).
 *
 * jsonval_parse() accepts exactly one RFC 8259 JSON text whose top level is
 * an object, at most JSONVAL_MAX_LEN bytes and JSONVAL_MAX_DEPTH nested
 * objects or arrays deep.  It refuses, with EST_E_INVAL (400):
 *  - anything json-c's strict mode lets through that RFC 8259 does not:
 *    single-quoted strings, NaN and Infinity, numbers such as "1.", "2.e3"
 *    or "-01", raw control characters inside strings;
 *  - bytes that are not well-formed UTF-8 (RFC 3629: no overlong forms, no
 *    surrogates, nothing above U+10FFFF), a byte-order mark, NUL bytes, the
 *    escape \u0000 and unpaired surrogate escapes;
 *  - a key repeated within one object: json-c would silently keep the last
 *    value, so two parts of the code could disagree on what was sent;
 *  - trailing bytes other than JSON whitespace after the value;
 *  - an empty body, or one whose top level is not an object.
 * A body over JSONVAL_MAX_LEN is EST_E_TOOBIG (413).
 *
 * jsonval_check() answers EST_E_UNPROCESSABLE (422) for a well-formed body
 * that breaks the table: unknown key, missing required key, wrong type
 * (no coercion: "5", 5.0 and true are not integers), null where the field
 * does not allow it, a string too short or too long, a control character,
 * an integer out of range, a value outside its enumeration, an array with
 * too few, too many or repeated items, or a failed extra validator.
 *
 * The API turns a struct jsonval_error into its one error shape:
 *	{"error": {"code": est_err_name(err.code),
 *	           "message": err.message, "field": err.field}}
 * with the status est_err_http_status(err.code).  Both strings are safe to
 * send to the client: the field is a table name (or, for an unknown key, the
 * client's own key when it is printable ASCII) and the message names only
 * the rule that failed.
 */
#ifndef ESTUARY_JSONVAL_H
#define ESTUARY_JSONVAL_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/*
 * Largest body jsonval_parse() accepts, whatever max_body in estuary.conf(5)
 * allows: json-c takes lengths as int, and no request of ours comes near it.
 */
#define JSONVAL_MAX_LEN (8u * 1024 * 1024)
/* Deepest nesting of objects and arrays, the top-level object included. */
#define JSONVAL_MAX_DEPTH 8

struct jsonval_error {
	int code;	  /* EST_E_INVAL, EST_E_UNPROCESSABLE, ... */
	char field[128];  /* "name", "subject.cn", "sans[2]"; "" for all */
	char message[96]; /* short reason in English */
};

enum jv_type {
	/* Starts at 1 so that a zeroed table entry is a table error. */
	JV_STRING = 1,	 /* UTF-8 string */
	JV_INT,		 /* JSON integer within [min, max] */
	JV_BOOL,	 /* true or false */
	JV_ENUM,	 /* string equal to one of enum_values */
	JV_STRING_ARRAY, /* array of strings (never null) like JV_STRING */
	JV_OBJECT,	 /* object checked against fields */
	JV_OBJECT_ARRAY, /* array of objects (never null) against fields */
};

/*
 * One accepted key.  Limits have no defaults: a string field whose max_len
 * is 0 accepts only "", an integer field with min = max = 0 accepts only 0,
 * so a forgotten limit fails closed and shows up in the first test.
 */
struct jsonval_field {
	const char *name;
	enum jv_type type;
	int required;  /* the key must be present (null counts if nullable) */
	int nullable;  /* null is accepted; accessors read it as absent */
	int multiline; /* strings may contain TAB, LF and CR */
	int unique;    /* array items must differ from one another */
	/*
	 * Strings, and each string of a JV_STRING_ARRAY: length in Unicode
	 * characters (code points), not bytes, so that a limit means the
	 * same to a user typing "Zürich" as to one typing "Zurich".  Not
	 * applied when enum_values is set: membership is stricter.
	 */
	size_t min_len, max_len;
	/*
	 * JV_INT: inclusive range.  INT64_MIN and values above INT64_MAX are
	 * always refused: json-c saturates out-of-range numbers to them.
	 */
	int64_t min, max;
	size_t min_items, max_items; /* arrays: inclusive item count */
	/* JV_ENUM (required) and string arrays (optional); NULL-ended. */
	const char *const *enum_values;
	/* Strings: extra validator returning 0 when valid (jsonval_check_*). */
	int (*check)(const char *s);
	/* JV_OBJECT and JV_OBJECT_ARRAY: the table of the nested object. */
	const struct jsonval_field *fields;
	size_t nfields;
};

/*
 * Parses body (len bytes, not necessarily NUL-terminated) as described at
 * the top of this file.  On success sets *out to the new object, which the
 * caller releases with json_object_put().  On failure returns the code
 * that err also holds; *out is left alone.
 */
int jsonval_parse(const char *body, size_t len, struct json_object **out,
		  struct jsonval_error *err);

/*
 * Checks obj against the table fields[0..n) and, on success, marks obj and
 * every nested object as validated (the mark lives in json-c's userdata
 * slot of each object: do not set userdata on these objects yourself, and
 * do not modify them or json_object_deep_copy() them afterwards).  A
 * failed check leaves obj unmarked.  Returns 0, EST_E_UNPROCESSABLE with
 * err filled in, or EST_E_INTERNAL when the table itself is inconsistent
 * (a programming error: min above max, JV_ENUM without values, ...).
 * Strings are also checked for UTF-8 and NUL bytes, so an object that did
 * not come from jsonval_parse() gets the same guarantees.
 */
int jsonval_check(struct json_object *obj, const struct jsonval_field *fields,
		  size_t n, struct jsonval_error *err);

/* Parses then checks: the usual first two lines of a REST handler. */
int jsonval_parse_check(const char *body, size_t len,
			const struct jsonval_field *fields, size_t n,
			struct json_object **out, struct jsonval_error *err);

/*
 * Accessors.  obj must have passed jsonval_check() and name must be in its
 * table with a matching type; otherwise, and when the key is absent or
 * null, they return NULL, 0 or EST_E_NOTFOUND.  Strings contain no NUL
 * byte, so strlen() gives their length; they live as long as obj.
 */
enum jv_presence {
	JV_ABSENT,  /* key not sent (or obj not validated) */
	JV_NULL,    /* key sent with null: "clear this value" */
	JV_PRESENT, /* key sent with a value */
};
enum jv_presence jsonval_presence(struct json_object *obj, const char *name);
/* JV_STRING and JV_ENUM fields. */
const char *jsonval_get_string(struct json_object *obj, const char *name);
/* JV_INT: sets *v and returns 0, or returns EST_E_NOTFOUND. */
int jsonval_get_int(struct json_object *obj, const char *name, int64_t *v);
/* JV_BOOL: sets *v to 0 or 1 and returns 0, or returns EST_E_NOTFOUND. */
int jsonval_get_bool(struct json_object *obj, const char *name, int *v);
/* JV_OBJECT: the nested object, itself validated. */
struct json_object *jsonval_get_object(struct json_object *obj,
				       const char *name);
/* Arrays: the number of items (0 when absent), then item i. */
size_t jsonval_get_count(struct json_object *obj, const char *name);
const char *jsonval_get_string_at(struct json_object *obj, const char *name,
				  size_t i);
struct json_object *jsonval_get_object_at(struct json_object *obj,
					  const char *name, size_t i);

/*
 * Fills err (which may be NULL) and returns code: for the checks a handler
 * makes after the table, such as "a device type with auto-registration
 * needs a factory source", so that they answer in the same shape.
 */
int jsonval_error_set(struct jsonval_error *err, int code, const char *field,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Decodes the UTF-8 sequence at p (n > 0 bytes available) into *cp and
 * returns its length, or 0 when it is not well-formed UTF-8 (RFC 3629:
 * overlong forms, surrogates and code points above U+10FFFF are not).
 */
size_t jsonval_utf8_next(const unsigned char *p, size_t n, uint32_t *cp);

/*
 * Validators for the check member of a field, and for query parameters.
 * Each takes a NUL-terminated string and returns 0 when it is acceptable,
 * EST_E_UNPROCESSABLE when not.
 */
/*
 * RFC 1123 host name: letter-digit-hyphen labels of 1-63 characters, at
 * most 253 in all, no trailing dot, the last label not all digits (so that
 * an IPv4 address is not a host name).
 */
int jsonval_check_hostname(const char *s);
/* A host name of at least two labels ("est01.example.com"). */
int jsonval_check_domain(const char *s);
/* Dotted-quad IPv4: four decimal parts 0-255 without leading zeros. */
int jsonval_check_ipv4(const char *s);
/* IPv6 in RFC 4291 text form, without zone index. */
int jsonval_check_ipv6(const char *s);
/* Either of the two above. */
int jsonval_check_ip(const char *s);
/*
 * Dotted OID of at least two arcs: the first 0-2, the second 0-39 under 0
 * and 1, each arc at most 39 digits without leading zeros.
 */
int jsonval_check_oid(const char *s);
/* EST label: ^[a-z0-9]{3,24}$. */
int jsonval_check_label(const char *s);
/*
 * Display name: non-empty UTF-8 without control characters (C0, DEL, C1),
 * line or paragraph separators, bidirectional controls or byte-order mark,
 * and without leading or trailing white space.
 */
int jsonval_check_name(const char *s);
/*
 * E-mail address as users type it: dot-atom local part (RFC 5322 atext, at
 * most 64 characters) "@" domain (jsonval_check_domain), at most 254
 * characters; no quoted local parts, address literals or UTF-8.
 */
int jsonval_check_email(const char *s);

#endif
