/*
 * Unit tests of lib/jsonval: strict parsing of request bodies, the walk
 * against field tables, the accessors and the string validators.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "err.h"
#include "harness.h"
#include "jsonval.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Parses a NUL-terminated body; returns the code and frees the result. */
static int
parse_n(const char *body, size_t len, struct jsonval_error *err)
{
	struct json_object *obj = NULL;
	int r;

	r = jsonval_parse(body, len, &obj, err);
	CU_ASSERT((r == 0) == (obj != NULL));
	json_object_put(obj);
	return r;
}

static int
parse_s(const char *body, struct jsonval_error *err)
{
	return parse_n(body, strlen(body), err);
}

/* Asserts that every body of a NULL-terminated list is a 400. */
static void
refuse_all(const char *const *bodies)
{
	struct jsonval_error err;
	size_t i;

	for (i = 0; bodies[i] != NULL; i++) {
		if (parse_s(bodies[i], &err) != EST_E_INVAL)
			fprintf(stderr, "accepted: %s\n", bodies[i]);
		CU_ASSERT_EQUAL(err.code, EST_E_INVAL);
		CU_ASSERT_EQUAL(est_err_http_status(err.code), 400);
		CU_ASSERT_STRING_EQUAL(err.field, "");
		CU_ASSERT(err.message[0] != '\0');
	}
}

static void
accept_all(const char *const *bodies)
{
	struct jsonval_error err;
	size_t i;

	for (i = 0; bodies[i] != NULL; i++) {
		if (parse_s(bodies[i], &err) != 0)
			fprintf(stderr, "refused: %s (%s)\n", bodies[i],
				err.message);
		CU_ASSERT_EQUAL(err.code, 0);
	}
}

/* ------------------------------------------------------------------ */

static void
test_parse_accepts_rfc8259_object(void)
{
	static const char *const good[] = {
		"{}",
		" \t\r\n{ } \t\r\n",
		"{\"a\":\"x\",\"b\":[1,-2,0,3.5,-0.5e-3,1E+2],\"c\":{\"d\":"
		"null}}",
		"{\"t\":true,\"f\":false,\"n\":null,\"z\":-0}",
		"{\"esc\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\"}",
		"{\"colons\":\"a:b:c\",\"k:e:y\":1}",
		"{\"del\":\"\x7f\"}",
		NULL,
	};

	accept_all(good);
}

static void
test_parse_refuses_malformed(void)
{
	static const char *const bad[] = {
		"{\"a\":1",
		"{\"a\":}",
		"{\"a\":1,}",
		"{,}",
		"{\"a\"::1}",
		"{\"a\" 1}",
		"{\"a\":[1,]}",
		"{\"a\":[1 2]}",
		"{'a':1}",
		"{\"a\":'x'}",
		"{a:1}",
		"{\"a\":NaN}",
		"{\"a\":Infinity}",
		"{\"a\":-Infinity}",
		"{\"a\":01}",
		"{\"a\":-01}",
		"{\"a\":1.}",
		"{\"a\":2.e3}",
		"{\"a\":.5}",
		"{\"a\":+1}",
		"{\"a\":-}",
		"{\"a\":1e}",
		"{\"a\":1e+}",
		"{\"a\":0x10}",
		"{\"a\":1-2}",
		"{\"a\":TRUE}",
		"{\"a\":True}",
		"{\"a\":tru}",
		"{\"a\":nul}",
		"{\"a\":true1}",
		"{\"a\":\"\\x41\"}",
		"{\"a\":\"\\u12\"}",
		"{\"a\":\"\\u12G4\"}",
		"{\"a\":\"\\U0041\"}",
		"{\"a\":\"x\ty\"}",
		"{\"a\":\"x\ny\"}",
		"{\"a\":\"\x01\"}",
		"{\"a\":\"unterminated}",
		"{\"a\":\"ends in escape\\",
		"{/* comment */}",
		"{\"a\":1 // comment\n}",
		"{\"a\":1}}",
		"}",
		"   ",
		"\xef\xbb\xbf{}",
		NULL,
	};

	refuse_all(bad);
}

static void
test_parse_refuses_trailing_bytes(void)
{
	static const char *const bad[] = {
		"{\"a\":1}x", "{\"a\":1}{}", "{\"a\":1} 1", "{\"a\":1},",
		"{}\f",	      "{}\v",	     "{}\xc2\xa0",  NULL,
	};
	static const char nul_after[] = "{}\0";
	struct jsonval_error err;

	refuse_all(bad);
	/* json-c on its own stops at a NUL and calls the rest success. */
	CU_ASSERT_EQUAL(parse_n(nul_after, sizeof(nul_after) - 1, &err),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(parse_s("{\"a\":1} \r\n\t ", &err), 0);
}

/* Builds open * depth, inner, close * depth between prefix and suffix. */
static char *
nest(const char *prefix, size_t depth, const char *inner, const char *suffix)
{
	size_t plen = strlen(prefix), ilen = strlen(inner);
	size_t slen = strlen(suffix);
	char *s = malloc(plen + 2 * depth + ilen + slen + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, prefix, plen);
	memset(s + plen, '[', depth);
	memcpy(s + plen + depth, inner, ilen);
	memset(s + plen + depth + ilen, ']', depth);
	memcpy(s + plen + 2 * depth + ilen, suffix, slen + 1);
	return s;
}

static void
test_parse_refuses_depth_bomb(void)
{
	struct jsonval_error err;
	char *s;

	/* The classic bomb: 10,000 nested arrays. */
	CU_ASSERT_FATAL((s = nest("", 10000, "", "")) != NULL);
	CU_ASSERT_EQUAL(parse_s(s, &err), EST_E_INVAL);
	free(s);
	CU_ASSERT_FATAL((s = nest("{\"a\":", 10000, "1", "}")) != NULL);
	CU_ASSERT_EQUAL(parse_s(s, &err), EST_E_INVAL);
	CU_ASSERT(strstr(err.message, "nesting") != NULL);
	free(s);
	/* The object plus 7 arrays is exactly the limit; one more is not. */
	CU_ASSERT_FATAL(
		(s = nest("{\"a\":", JSONVAL_MAX_DEPTH - 1, "1", "}")) != NULL);
	CU_ASSERT_EQUAL(parse_s(s, &err), 0);
	free(s);
	CU_ASSERT_FATAL((s = nest("{\"a\":", JSONVAL_MAX_DEPTH, "1", "}")) !=
			NULL);
	CU_ASSERT_EQUAL(parse_s(s, &err), EST_E_INVAL);
	free(s);
	/* The same limit when the innermost array is empty. */
	CU_ASSERT_FATAL((s = nest("{\"a\":", JSONVAL_MAX_DEPTH - 1, "", "}")) !=
			NULL);
	CU_ASSERT_EQUAL(parse_s(s, &err), 0);
	free(s);
	CU_ASSERT_FATAL((s = nest("{\"a\":", JSONVAL_MAX_DEPTH, "", "}")) !=
			NULL);
	CU_ASSERT_EQUAL(parse_s(s, &err), EST_E_INVAL);
	free(s);
}

static void
test_parse_refuses_invalid_utf8(void)
{
	static const char *const bad[] = {
		"{\"a\":\"\xff\"}",
		"{\"a\":\"\xfe\"}",
		"{\"a\":\"\x80\"}",
		"{\"a\":\"\xc3\"}",
		"{\"a\":\"\xe2\x82\"}",
		"{\"a\":\"\xf0\x9f\x98\"}",
		"{\"a\":\"\xc3(\"}",
		"{\"\xff\":1}",
		"{\"a\":1}\xe2",
		"{\"a\":\xc3\xa9}",
		NULL,
	};

	refuse_all(bad);
}

static void
test_parse_refuses_overlong_and_surrogates(void)
{
	static const char *const bad[] = {
		"{\"a\":\"\xc0\xaf\"}", /* "/" in 2 bytes */
		"{\"a\":\"\xc1\xbf\"}",
		"{\"a\":\"\xe0\x80\xaf\"}", /* "/" in 3 bytes */
		"{\"a\":\"\xe0\x9f\xbf\"}",
		"{\"a\":\"\xf0\x80\x80\xaf\"}", /* "/" in 4 bytes */
		"{\"a\":\"\xf0\x8f\xbf\xbf\"}",
		"{\"a\":\"\xc0\x80\"}",		/* modified-UTF-8 NUL */
		"{\"a\":\"\xed\xa0\x80\"}",	/* U+D800 */
		"{\"a\":\"\xed\xbf\xbf\"}",	/* U+DFFF */
		"{\"a\":\"\xf4\x90\x80\x80\"}", /* U+110000 */
		"{\"a\":\"\xf5\x80\x80\x80\"}",
		"{\"a\":\"\xf8\x88\x80\x80\x80\"}",
		NULL,
	};
	/* The first and last sequence of every length and range. */
	static const char *const good[] = {
		"{\"a\":\"\xc2\x80\xdf\xbf\"}",
		"{\"a\":\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbd\"}",
		"{\"a\":\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}",
		NULL,
	};

	refuse_all(bad);
	accept_all(good);
}

static void
test_parse_refuses_nul(void)
{
	static const char *const bad[] = {
		"{\"a\":\"x\\u0000y\"}",
		"{\"a\\u0000b\":1}",
		"{\"a\":\"\\u0000\"}",
		NULL,
	};
	static const char raw_in_string[] = "{\"a\":\"x\0y\"}";
	static const char raw_outside[] = "{\"a\":1,\0\"b\":2}";
	struct jsonval_error err;

	refuse_all(bad);
	CU_ASSERT_EQUAL(parse_n(raw_in_string, sizeof(raw_in_string) - 1, &err),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(parse_n(raw_outside, sizeof(raw_outside) - 1, &err),
			EST_E_INVAL);
	/* An escaped backslash followed by "u0000" is just text. */
	CU_ASSERT_EQUAL(parse_s("{\"a\":\"\\\\u0000\"}", &err), 0);
}

static void
test_parse_surrogate_escapes(void)
{
	static const char *const bad[] = {
		"{\"a\":\"\\ud800\"}",
		"{\"a\":\"\\udc00\"}",
		"{\"a\":\"\\ud800x\"}",
		"{\"a\":\"\\ud800\\u0041\"}",
		"{\"a\":\"\\ud800\\ud800\"}",
		"{\"a\":\"\\ude00\\ud83d\"}",
		NULL,
	};
	struct json_object *obj = NULL, *v;
	struct jsonval_error err;
	const char *body = "{\"a\":\"\\ud83d\\ude00\"}";

	refuse_all(bad);
	CU_ASSERT_EQUAL_FATAL(jsonval_parse(body, strlen(body), &obj, &err), 0);
	CU_ASSERT_FATAL(json_object_object_get_ex(obj, "a", &v));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "\xf0\x9f\x98\x80");
	json_object_put(obj);
}

static void
test_parse_refuses_repeated_keys(void)
{
	static const char *const bad[] = {
		"{\"a\":1,\"a\":2}",
		"{\"a\":1,\"a\":1}",
		"{\"o\":{\"x\":1,\"x\":1}}",
		"{\"a\":{\"b\":1},\"a\":2}",
		"{\"l\":[{\"k\":1,\"k\":2}]}",
		"{\"\\u0061\":1,\"a\":2}",
		NULL,
	};
	static const char *const good[] = {
		"{\"a\":{\"a\":1},\"b\":{\"a\":2}}",
		"{\"l\":[{\"k\":1},{\"k\":2}]}",
		"{\"a\":\"x:y:z\",\"b\":\":\"}",
		NULL,
	};
	struct jsonval_error err;

	refuse_all(bad);
	accept_all(good);
	CU_ASSERT_EQUAL(parse_s("{\"a\":1,\"a\":2}", &err), EST_E_INVAL);
	CU_ASSERT(strstr(err.message, "repeated key") != NULL);
}

static void
test_parse_refuses_non_object_top(void)
{
	static const char *const bad[] = {
		"[]",	"[{}]", "\"x\"", "1 ", "-1.5 ",
		"null", "true", "false", NULL,
	};
	struct jsonval_error err;

	refuse_all(bad);
	CU_ASSERT_EQUAL(parse_s("null", &err), EST_E_INVAL);
	CU_ASSERT(strstr(err.message, "object") != NULL);
}

static void
test_parse_size_limits(void)
{
	struct json_object *obj = (struct json_object *)&obj;
	struct jsonval_error err;
	char *big;

	CU_ASSERT_EQUAL(jsonval_parse("{}", 0, &obj, &err), EST_E_INVAL);
	CU_ASSERT_EQUAL(jsonval_parse(NULL, 0, &obj, &err), EST_E_INVAL);
	/* Out-parameters are set only on success. */
	CU_ASSERT_PTR_EQUAL(obj, (struct json_object *)&obj);
	CU_ASSERT_FATAL((big = malloc(JSONVAL_MAX_LEN + 1)) != NULL);
	memset(big, ' ', JSONVAL_MAX_LEN + 1);
	big[0] = '{';
	big[JSONVAL_MAX_LEN - 1] = '}';
	CU_ASSERT_EQUAL(jsonval_parse(big, JSONVAL_MAX_LEN + 1, &obj, &err),
			EST_E_TOOBIG);
	CU_ASSERT_EQUAL(est_err_http_status(err.code), 413);
	CU_ASSERT_PTR_EQUAL(obj, (struct json_object *)&obj);
	/* At the limit it is read, white space and all. */
	CU_ASSERT_EQUAL(parse_n(big, JSONVAL_MAX_LEN, &err), 0);
	free(big);
	/* err may be NULL when the caller only wants the code. */
	CU_ASSERT_EQUAL(parse_s("{", NULL), EST_E_INVAL);
}

/* ------------------------------------------------------------------ */

static const char *const colours[] = {"red", "green", "blue", NULL};
static const char *const san_types[] = {"dns", "ip", "email", NULL};

static const struct jsonval_field owner_fields[] = {
	{.name = "id",
	 .type = JV_INT,
	 .required = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "email",
	 .type = JV_STRING,
	 .max_len = 254,
	 .check = jsonval_check_email},
};

static const struct jsonval_field san_fields[] = {
	{.name = "type",
	 .type = JV_ENUM,
	 .required = 1,
	 .enum_values = san_types},
	{.name = "value",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = 32},
};

static const struct jsonval_field fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 3,
	 .max_len = 8,
	 .check = jsonval_check_name},
	{.name = "count", .type = JV_INT, .min = -5, .max = 10},
	{.name = "enabled", .type = JV_BOOL},
	{.name = "colour", .type = JV_ENUM, .enum_values = colours},
	{.name = "tags",
	 .type = JV_STRING_ARRAY,
	 .unique = 1,
	 .min_len = 1,
	 .max_len = 4,
	 .max_items = 3},
	{.name = "colours",
	 .type = JV_STRING_ARRAY,
	 .enum_values = colours,
	 .min_items = 1,
	 .max_items = 3},
	{.name = "note",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = 64},
	{.name = "owner",
	 .type = JV_OBJECT,
	 .fields = owner_fields,
	 .nfields = NELEM(owner_fields)},
	{.name = "sans",
	 .type = JV_OBJECT_ARRAY,
	 .unique = 1,
	 .max_items = 2,
	 .fields = san_fields,
	 .nfields = NELEM(san_fields)},
};

/* Parses and checks body against fields; returns the code. */
static int
check_s(const char *body, struct jsonval_error *err)
{
	struct json_object *obj = NULL;
	int r;

	r = jsonval_parse_check(body, strlen(body), fields, NELEM(fields), &obj,
				err);
	CU_ASSERT((r == 0) == (obj != NULL));
	json_object_put(obj);
	return r;
}

/* Asserts a 422 naming field. */
static void
expect_422(const char *body, const char *field)
{
	struct jsonval_error err;

	CU_ASSERT_EQUAL(check_s(body, &err), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(est_err_http_status(err.code), 422);
	CU_ASSERT_STRING_EQUAL(err.field, field);
	CU_ASSERT(err.message[0] != '\0');
	if (err.code != EST_E_UNPROCESSABLE || strcmp(err.field, field) != 0)
		fprintf(stderr, "%s: got %d field \"%s\" (%s)\n", body,
			err.code, err.field, err.message);
}

static void
expect_ok(const char *body)
{
	struct jsonval_error err;

	if (check_s(body, &err) != 0)
		fprintf(stderr, "%s: refused: %s %s\n", body, err.field,
			err.message);
	CU_ASSERT_EQUAL(err.code, 0);
}

static void
test_check_accepts_and_reads_full_body(void)
{
	const char *body = "{\"name\":\"Zürich\",\"count\":-5,"
			   "\"enabled\":false,\"colour\":\"blue\","
			   "\"tags\":[\"a\",\"bb\"],\"colours\":[\"red\"],"
			   "\"note\":\"line 1\\nline 2\","
			   "\"owner\":{\"id\":42,\"email\":\"o@example.com\"},"
			   "\"sans\":[{\"type\":\"dns\",\"value\":\"a.b\"},"
			   "{\"type\":\"ip\",\"value\":\"::1\"}]}";
	struct json_object *obj = NULL, *owner, *san;
	struct jsonval_error err;
	int64_t i64;
	int b;

	CU_ASSERT_EQUAL_FATAL(jsonval_parse_check(body, strlen(body), fields,
						  NELEM(fields), &obj, &err),
			      0);
	CU_ASSERT_EQUAL(err.code, 0);
	CU_ASSERT_STRING_EQUAL(jsonval_get_string(obj, "name"), "Zürich");
	CU_ASSERT_EQUAL(jsonval_get_int(obj, "count", &i64), 0);
	CU_ASSERT(i64 == -5);
	CU_ASSERT_EQUAL(jsonval_get_bool(obj, "enabled", &b), 0);
	CU_ASSERT_EQUAL(b, 0);
	CU_ASSERT_STRING_EQUAL(jsonval_get_string(obj, "colour"), "blue");
	CU_ASSERT_EQUAL(jsonval_get_count(obj, "tags"), 2);
	CU_ASSERT_STRING_EQUAL(jsonval_get_string_at(obj, "tags", 1), "bb");
	CU_ASSERT_PTR_NULL(jsonval_get_string_at(obj, "tags", 2));
	CU_ASSERT_STRING_EQUAL(jsonval_get_string(obj, "note"),
			       "line 1\nline 2");
	CU_ASSERT_FATAL((owner = jsonval_get_object(obj, "owner")) != NULL);
	CU_ASSERT_EQUAL(jsonval_get_int(owner, "id", &i64), 0);
	CU_ASSERT(i64 == 42);
	CU_ASSERT_STRING_EQUAL(jsonval_get_string(owner, "email"),
			       "o@example.com");
	CU_ASSERT_EQUAL(jsonval_get_count(obj, "sans"), 2);
	CU_ASSERT_FATAL((san = jsonval_get_object_at(obj, "sans", 1)) != NULL);
	CU_ASSERT_STRING_EQUAL(jsonval_get_string(san, "type"), "ip");
	CU_ASSERT_STRING_EQUAL(jsonval_get_string(san, "value"), "::1");
	CU_ASSERT_PTR_NULL(jsonval_get_object_at(obj, "sans", 2));
	/* The mark does not disturb json-c's own serializer. */
	CU_ASSERT(strstr(json_object_to_json_string(obj), "Z\xc3\xbcrich") !=
		  NULL);
	json_object_put(obj);
}

static void
test_check_refuses_unknown_keys(void)
{
	struct jsonval_error err;

	expect_422("{\"name\":\"abc\",\"admin\":true}", "admin");
	expect_422("{\"name\":\"abc\",\"Name\":\"abc\"}", "Name");
	expect_422("{\"name\":\"abc\",\"owner\":{\"id\":1,\"role\":1}}",
		   "owner.role");
	expect_422("{\"name\":\"abc\",\"sans\":[{\"type\":\"ip\","
		   "\"value\":\"x\",\"extra\":1}]}",
		   "sans[0].extra");
	/* A key that is not plain ASCII is not echoed back. */
	expect_422("{\"name\":\"abc\",\"owner\":{\"id\":1,\"r\xc3\xb4le\":1}}",
		   "owner");
	CU_ASSERT_EQUAL(check_s("{\"name\":\"abc\",\"a b\":1}", &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "");
	CU_ASSERT(strstr(err.message, "unknown field") != NULL);
}

static void
test_check_refuses_type_mismatch(void)
{
	/* No coercion to integers. */
	expect_422("{\"name\":\"abc\",\"count\":\"5\"}", "count");
	expect_422("{\"name\":\"abc\",\"count\":5.0}", "count");
	expect_422("{\"name\":\"abc\",\"count\":1e0}", "count");
	expect_422("{\"name\":\"abc\",\"count\":true}", "count");
	expect_422("{\"name\":\"abc\",\"count\":[5]}", "count");
	expect_422("{\"name\":\"abc\",\"count\":{}}", "count");
	/* Nor to booleans. */
	expect_422("{\"name\":\"abc\",\"enabled\":1}", "enabled");
	expect_422("{\"name\":\"abc\",\"enabled\":\"true\"}", "enabled");
	/* Nor to strings. */
	expect_422("{\"name\":123}", "name");
	expect_422("{\"name\":[\"abc\"]}", "name");
	expect_422("{\"name\":\"abc\",\"colour\":1}", "colour");
	/* Arrays and objects. */
	expect_422("{\"name\":\"abc\",\"tags\":\"a\"}", "tags");
	expect_422("{\"name\":\"abc\",\"tags\":[\"a\",1]}", "tags[1]");
	expect_422("{\"name\":\"abc\",\"tags\":{}}", "tags");
	expect_422("{\"name\":\"abc\",\"owner\":[]}", "owner");
	expect_422("{\"name\":\"abc\",\"owner\":\"x\"}", "owner");
	expect_422("{\"name\":\"abc\",\"sans\":[\"dns\"]}", "sans[0]");
	expect_422("{\"name\":\"abc\",\"sans\":{\"type\":\"dns\"}}", "sans");
}

static void
test_check_string_limits_count_characters(void)
{
	/* min_len 3, max_len 8: at, below and above each boundary. */
	expect_ok("{\"name\":\"abc\"}");
	expect_ok("{\"name\":\"abcdefgh\"}");
	expect_422("{\"name\":\"ab\"}", "name");
	expect_422("{\"name\":\"abcdefghi\"}", "name");
	/* Characters, not bytes: 3 two-byte and 8 four-byte characters. */
	expect_ok("{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}");
	expect_ok("{\"name\":\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		  "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"}");
	expect_422("{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
		   "name");
	/* Escapes count as the character they stand for. */
	expect_ok("{\"name\":\"\\u00e9\\u00e9\\u00e9\"}");
	/* Items of a string array obey the same limits. */
	expect_ok("{\"name\":\"abc\",\"tags\":[\"abcd\"]}");
	expect_422("{\"name\":\"abc\",\"tags\":[\"abcde\"]}", "tags[0]");
	expect_422("{\"name\":\"abc\",\"tags\":[\"\"]}", "tags[0]");
}

static void
test_check_refuses_control_characters(void)
{
	expect_422("{\"name\":\"ab\\nc\"}", "name");
	expect_422("{\"name\":\"ab\\tc\"}", "name");
	/* A multi-line field takes TAB, LF and CR, but no other control. */
	expect_ok("{\"name\":\"abc\",\"note\":\"a\\tb\\r\\nc\"}");
	expect_422("{\"name\":\"abc\",\"note\":\"\\u0001\"}", "note");
	expect_422("{\"name\":\"abc\",\"note\":\"\\u001b[31m\"}", "note");
	expect_422("{\"name\":\"abc\",\"note\":\"\\u007f\"}", "note");
	expect_422("{\"name\":\"abc\",\"note\":\"\x7f\"}", "note");
	expect_422("{\"name\":\"abc\",\"note\":\"\\u0085\"}", "note");
	expect_422("{\"name\":\"abc\",\"note\":\"\\u009f\"}", "note");
	expect_ok("{\"name\":\"abc\",\"note\":\"\\u00a0\"}");
}

static void
test_check_refuses_nul_in_built_objects(void)
{
	struct json_object *obj;
	struct jsonval_error err;

	/* An object not from jsonval_parse() gets the same guarantees. */
	CU_ASSERT_FATAL((obj = json_object_new_object()) != NULL);
	json_object_object_add(obj, "name",
			       json_object_new_string_len("ab\0cd", 5));
	CU_ASSERT_EQUAL(jsonval_check(obj, fields, NELEM(fields), &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "name");
	json_object_object_add(
		obj, "name",
		json_object_new_string("\xc0\xaf\xc0\xaf\xc0\xaf"));
	CU_ASSERT_EQUAL(jsonval_check(obj, fields, NELEM(fields), &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT(strstr(err.message, "UTF-8") != NULL);
	json_object_object_add(obj, "name", json_object_new_double(5.0));
	CU_ASSERT_EQUAL(jsonval_check(obj, fields, NELEM(fields), &err),
			EST_E_UNPROCESSABLE);
	json_object_put(obj);
	CU_ASSERT_EQUAL(jsonval_check(NULL, fields, NELEM(fields), &err),
			EST_E_UNPROCESSABLE);
}

static const struct jsonval_field wide_int[] = {
	{.name = "n", .type = JV_INT, .min = INT64_MIN, .max = INT64_MAX},
};

static int
check_wide(const char *body)
{
	struct json_object *obj = NULL;
	struct jsonval_error err;
	int r;

	r = jsonval_parse_check(body, strlen(body), wide_int, 1, &obj, &err);
	json_object_put(obj);
	return r;
}

static void
test_check_integer_limits(void)
{
	expect_ok("{\"name\":\"abc\",\"count\":-5}");
	expect_ok("{\"name\":\"abc\",\"count\":10}");
	expect_ok("{\"name\":\"abc\",\"count\":-0}");
	expect_422("{\"name\":\"abc\",\"count\":-6}", "count");
	expect_422("{\"name\":\"abc\",\"count\":11}", "count");
	expect_422("{\"name\":\"abc\",\"count\":99999999999999999999}",
		   "count");
	expect_422("{\"name\":\"abc\",\"count\":-99999999999999999999}",
		   "count");
	expect_422("{\"name\":\"abc\",\"owner\":{\"id\":0}}", "owner.id");
	/* The edges of 64 bits, where json-c saturates instead of failing. */
	CU_ASSERT_EQUAL(check_wide("{\"n\":9223372036854775807}"), 0);
	CU_ASSERT_EQUAL(check_wide("{\"n\":-9223372036854775807}"), 0);
	CU_ASSERT_EQUAL(check_wide("{\"n\":9223372036854775808}"),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(check_wide("{\"n\":18446744073709551615}"),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(check_wide("{\"n\":18446744073709551616}"),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(check_wide("{\"n\":-9223372036854775808}"),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(check_wide("{\"n\":-9223372036854775809}"),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(check_wide("{\"n\":1"
				   "000000000000000000000000000000"
				   "0000000000000000000000000000000}"),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(check_wide("{\"n\":1e2}"), EST_E_UNPROCESSABLE);
}

static void
test_check_enum_membership(void)
{
	expect_ok("{\"name\":\"abc\",\"colour\":\"red\"}");
	expect_422("{\"name\":\"abc\",\"colour\":\"Red\"}", "colour");
	expect_422("{\"name\":\"abc\",\"colour\":\"red \"}", "colour");
	expect_422("{\"name\":\"abc\",\"colour\":\"\"}", "colour");
	expect_422("{\"name\":\"abc\",\"colour\":\"purple\"}", "colour");
	expect_ok("{\"name\":\"abc\",\"colours\":[\"red\",\"blue\"]}");
	expect_422("{\"name\":\"abc\",\"colours\":[\"red\",\"pink\"]}",
		   "colours[1]");
	expect_422("{\"name\":\"abc\",\"sans\":[{\"type\":\"URI\","
		   "\"value\":\"x\"}]}",
		   "sans[0].type");
}

static void
test_check_required_fields(void)
{
	struct jsonval_error err;

	expect_422("{}", "name");
	CU_ASSERT_EQUAL(check_s("{\"count\":1}", &err), EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.message, "required field missing");
	expect_422("{\"name\":\"abc\",\"owner\":{}}", "owner.id");
	expect_422("{\"name\":\"abc\",\"sans\":[{\"type\":\"dns\"}]}",
		   "sans[0].value");
	/* Optional fields may be left out. */
	expect_ok("{\"name\":\"abc\",\"owner\":{\"id\":1}}");
}

static void
test_check_null_handling(void)
{
	const char *body = "{\"name\":\"abc\",\"note\":null}";
	struct json_object *obj = NULL;
	struct jsonval_error err;

	CU_ASSERT_EQUAL_FATAL(jsonval_parse_check(body, strlen(body), fields,
						  NELEM(fields), &obj, &err),
			      0);
	CU_ASSERT_EQUAL(jsonval_presence(obj, "note"), JV_NULL);
	CU_ASSERT_PTR_NULL(jsonval_get_string(obj, "note"));
	CU_ASSERT_EQUAL(jsonval_presence(obj, "name"), JV_PRESENT);
	CU_ASSERT_EQUAL(jsonval_presence(obj, "count"), JV_ABSENT);
	json_object_put(obj);
	/* null only where the table says so, and never inside arrays. */
	expect_422("{\"name\":null}", "name");
	expect_422("{\"name\":\"abc\",\"count\":null}", "count");
	expect_422("{\"name\":\"abc\",\"enabled\":null}", "enabled");
	expect_422("{\"name\":\"abc\",\"owner\":null}", "owner");
	expect_422("{\"name\":\"abc\",\"tags\":[null]}", "tags[0]");
	expect_422("{\"name\":\"abc\",\"sans\":[null]}", "sans[0]");
}

static void
test_check_array_counts_and_uniqueness(void)
{
	expect_ok("{\"name\":\"abc\",\"tags\":[]}");
	expect_ok("{\"name\":\"abc\",\"tags\":[\"a\",\"b\",\"c\"]}");
	expect_422("{\"name\":\"abc\",\"tags\":[\"a\",\"b\",\"c\",\"d\"]}",
		   "tags");
	expect_422("{\"name\":\"abc\",\"tags\":[\"a\",\"b\",\"a\"]}",
		   "tags[2]");
	expect_422("{\"name\":\"abc\",\"colours\":[]}", "colours");
	expect_422("{\"name\":\"abc\",\"sans\":[{\"type\":\"ip\",\"value\":"
		   "\"x\"},{\"type\":\"ip\",\"value\":\"x\"}]}",
		   "sans[1]");
	expect_422("{\"name\":\"abc\",\"sans\":[{\"type\":\"ip\",\"value\":"
		   "\"x\"},{\"type\":\"ip\",\"value\":\"y\"},{\"type\":\"ip\","
		   "\"value\":\"z\"}]}",
		   "sans");
}

static const struct jsonval_field free_text[] = {
	{.name = "text", .type = JV_STRING, .required = 1, .max_len = 200},
};

static void
test_check_sql_metacharacters_verbatim(void)
{
	static const char *const bodies[][2] = {
		{"{\"text\":\"'; DROP TABLE users; --\"}",
		 "'; DROP TABLE users; --"},
		{"{\"text\":\"\\\" OR 1=1 -- \"}", "\" OR 1=1 -- "},
		{"{\"text\":\"a\\\\' OR 'x'='x\"}", "a\\' OR 'x'='x"},
		{"{\"text\":\"100%_ /* */ `x` ;\"}", "100%_ /* */ `x` ;"},
		{"{\"text\":\"<script>alert(1)</script>\"}",
		 "<script>alert(1)</script>"},
	};
	struct json_object *obj;
	struct jsonval_error err;
	size_t i;

	for (i = 0; i < NELEM(bodies); i++) {
		obj = NULL;
		CU_ASSERT_EQUAL_FATAL(
			jsonval_parse_check(bodies[i][0], strlen(bodies[i][0]),
					    free_text, 1, &obj, &err),
			0);
		CU_ASSERT_STRING_EQUAL(jsonval_get_string(obj, "text"),
				       bodies[i][1]);
		json_object_put(obj);
	}
}

static void
test_check_refuses_bad_tables(void)
{
	static const struct jsonval_field enum_without_values[] = {
		{.name = "e", .type = JV_ENUM},
	};
	static const struct jsonval_field min_above_max[] = {
		{.name = "i", .type = JV_INT, .min = 2, .max = 1},
	};
	static const struct jsonval_field len_above_max[] = {
		{.name = "s", .type = JV_STRING, .min_len = 2, .max_len = 1},
	};
	static const struct jsonval_field zeroed[] = {
		{.name = "z"},
	};
	static const struct jsonval_field twice[] = {
		{.name = "a", .type = JV_BOOL},
		{.name = "a", .type = JV_INT},
	};
	static const struct jsonval_field nested_bad[] = {
		{.name = "o",
		 .type = JV_OBJECT,
		 .fields = min_above_max,
		 .nfields = 1},
	};
	static const struct {
		const struct jsonval_field *f;
		size_t n;
	} tables[] = {
		{enum_without_values, 1},
		{min_above_max, 1},
		{len_above_max, 1},
		{zeroed, 1},
		{twice, 2},
		{nested_bad, 1},
		{NULL, 1},
	};
	struct json_object *obj;
	struct jsonval_error err;
	size_t i;

	CU_ASSERT_FATAL((obj = json_object_new_object()) != NULL);
	for (i = 0; i < NELEM(tables); i++) {
		CU_ASSERT_EQUAL(
			jsonval_check(obj, tables[i].f, tables[i].n, &err),
			EST_E_INTERNAL);
		CU_ASSERT_EQUAL(est_err_http_status(err.code), 500);
	}
	json_object_put(obj);
}

static void
test_check_limits_fail_closed(void)
{
	static const struct jsonval_field unset[] = {
		{.name = "s", .type = JV_STRING},
		{.name = "i", .type = JV_INT},
		{.name = "a", .type = JV_STRING_ARRAY},
	};
	static const char *const ok[] = {
		"{\"s\":\"\"}",
		"{\"i\":0}",
		"{\"a\":[]}",
	};
	static const char *const bad[] = {
		"{\"s\":\"x\"}",
		"{\"i\":1}",
		"{\"a\":[\"\"]}",
	};
	struct json_object *obj;
	struct jsonval_error err;
	size_t i;

	for (i = 0; i < NELEM(ok); i++) {
		obj = NULL;
		CU_ASSERT_EQUAL(jsonval_parse_check(ok[i], strlen(ok[i]), unset,
						    NELEM(unset), &obj, &err),
				0);
		json_object_put(obj);
		CU_ASSERT_EQUAL(jsonval_parse_check(bad[i], strlen(bad[i]),
						    unset, NELEM(unset), &obj,
						    &err),
				EST_E_UNPROCESSABLE);
	}
}

static void
test_check_runs_extra_validator(void)
{
	static const struct jsonval_field label[] = {
		{.name = "label",
		 .type = JV_STRING,
		 .max_len = 64,
		 .check = jsonval_check_label},
	};
	struct json_object *obj = NULL;
	struct jsonval_error err;
	const char *good = "{\"label\":\"est01\"}";
	const char *bad = "{\"label\":\"EST01\"}";

	CU_ASSERT_EQUAL(
		jsonval_parse_check(good, strlen(good), label, 1, &obj, &err),
		0);
	json_object_put(obj);
	CU_ASSERT_EQUAL(
		jsonval_parse_check(bad, strlen(bad), label, 1, &obj, &err),
		EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "label");
	CU_ASSERT_STRING_EQUAL(err.message, "invalid format");
	expect_422("{\"name\":\" abc\"}", "name");
	expect_422("{\"name\":\"abc\",\"owner\":{\"id\":1,\"email\":\"x\"}}",
		   "owner.email");
}

/* ------------------------------------------------------------------ */

static void
test_accessors_need_a_validated_object(void)
{
	static const struct jsonval_field other[] = {
		{.name = "name", .type = JV_INT, .min = 0, .max = 1},
	};
	const char *body =
		"{\"name\":\"abc\",\"count\":3,\"owner\":{\"id\":7}}";
	struct json_object *obj = NULL, *owner;
	struct jsonval_error err;
	int64_t v = 99;
	int b = 99;

	CU_ASSERT_EQUAL_FATAL(jsonval_parse(body, strlen(body), &obj, &err), 0);
	/* Parsed but not checked: nothing can be read. */
	CU_ASSERT_PTR_NULL(jsonval_get_string(obj, "name"));
	CU_ASSERT_EQUAL(jsonval_get_int(obj, "count", &v), EST_E_NOTFOUND);
	CU_ASSERT(v == 99);
	CU_ASSERT_EQUAL(jsonval_presence(obj, "name"), JV_ABSENT);
	CU_ASSERT_PTR_NULL(jsonval_get_object(obj, "owner"));
	CU_ASSERT_EQUAL(jsonval_check(obj, fields, NELEM(fields), &err), 0);
	CU_ASSERT_STRING_EQUAL(jsonval_get_string(obj, "name"), "abc");
	/* Wrong type for the table, or a name outside it. */
	CU_ASSERT_PTR_NULL(jsonval_get_string(obj, "count"));
	CU_ASSERT_EQUAL(jsonval_get_int(obj, "name", &v), EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(jsonval_get_bool(obj, "count", &b), EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(jsonval_get_bool(obj, "enabled", &b), EST_E_NOTFOUND);
	CU_ASSERT(b == 99);
	CU_ASSERT_PTR_NULL(jsonval_get_string(obj, "nosuchfield"));
	CU_ASSERT_EQUAL(jsonval_get_count(obj, "tags"), 0);
	CU_ASSERT_EQUAL(jsonval_get_count(obj, "name"), 0);
	CU_ASSERT_PTR_NULL(jsonval_get_string_at(obj, "tags", 0));
	CU_ASSERT_PTR_NULL(jsonval_get_string(NULL, "name"));
	CU_ASSERT_FATAL((owner = jsonval_get_object(obj, "owner")) != NULL);
	CU_ASSERT_EQUAL(jsonval_get_int(owner, "id", &v), 0);
	CU_ASSERT(v == 7);
	/* A failed second check takes the first one's mark away. */
	CU_ASSERT_EQUAL(jsonval_check(obj, other, 1, &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_PTR_NULL(jsonval_get_string(obj, "name"));
	CU_ASSERT_EQUAL(jsonval_get_int(obj, "name", &v), EST_E_NOTFOUND);
	json_object_put(obj);
}

static void
test_error_set_for_handlers(void)
{
	struct jsonval_error err;

	CU_ASSERT_EQUAL(
		jsonval_error_set(&err, EST_E_UNPROCESSABLE, "factory_ca",
				  "must differ from the %s CA", "operational"),
		EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(err.code, EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "factory_ca");
	CU_ASSERT_STRING_EQUAL(err.message,
			       "must differ from the operational CA");
	CU_ASSERT_STRING_EQUAL(est_err_name(err.code), "UNPROCESSABLE");
	CU_ASSERT_EQUAL(jsonval_error_set(NULL, EST_E_CONFLICT, "", "x"),
			EST_E_CONFLICT);
}

/* ------------------------------------------------------------------ */

/* Asserts validator v accepts every string of good and none of bad. */
static void
validate(int (*v)(const char *), const char *const *good,
	 const char *const *bad)
{
	size_t i;

	for (i = 0; good[i] != NULL; i++) {
		if (v(good[i]) != 0)
			fprintf(stderr, "refused: \"%s\"\n", good[i]);
		CU_ASSERT_EQUAL(v(good[i]), 0);
	}
	for (i = 0; bad[i] != NULL; i++) {
		if (v(bad[i]) != EST_E_UNPROCESSABLE)
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
		CU_ASSERT_EQUAL(v(bad[i]), EST_E_UNPROCESSABLE);
	}
}

#define L63 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk"

static void
test_valid_hostname_and_domain(void)
{
	static const char *const host_ok[] = {
		"localhost",
		"a",
		"est01.example.com",
		"EST01.Example.COM",
		"a-b.c",
		"xn--bcher-kva.example",
		"1a.example",
		"a.b1",
		L63 ".example",
		NULL,
	};
	static const char *const host_bad[] = {
		"",
		".",
		"-a.com",
		"a-.com",
		"a..b",
		".a",
		"a.",
		"a_b.com",
		"10.0.0.1",
		"example.123",
		"ex ample",
		"\xc3\xa9.com",
		"a.b/c",
		"a:80",
		"*.example.com",
		L63 "x.example",
		NULL,
	};
	static const char *const domain_ok[] = {
		"a.b",
		"est01.example.com",
		NULL,
	};
	static const char *const domain_bad[] = {
		"localhost", "", "a.", "1.2", NULL,
	};

	char longest[256];

	validate(jsonval_check_hostname, host_ok, host_bad);
	/* Three labels of 63, then 61 or 62 characters: 253 and 254. */
	snprintf(longest, sizeof(longest), "%s.%s.%s.%.61s", L63, L63, L63,
		 L63);
	CU_ASSERT_EQUAL(strlen(longest), 253);
	CU_ASSERT_EQUAL(jsonval_check_hostname(longest), 0);
	snprintf(longest, sizeof(longest), "%s.%s.%s.%.62s", L63, L63, L63,
		 L63);
	CU_ASSERT_EQUAL(strlen(longest), 254);
	CU_ASSERT_EQUAL(jsonval_check_hostname(longest), EST_E_UNPROCESSABLE);
	validate(jsonval_check_domain, domain_ok, domain_bad);
}

static void
test_valid_ip_addresses(void)
{
	static const char *const v4_ok[] = {
		"0.0.0.0", "255.255.255.255", "10.0.0.1", "192.168.100.200",
		NULL,
	};
	static const char *const v4_bad[] = {
		"",	      "256.1.1.1",  "01.2.3.4",	  "1.2.3.04",
		"1.2.3",      "1.2.3.4.5",  "1.2.3.4 ",	  " 1.2.3.4",
		"1..2.3",     "a.b.c.d",    "1.2.3.0004", "-1.2.3.4",
		"1.2.3.4/24", "0x7f.0.0.1", "1000.1.1.1", "::1",
		NULL,
	};
	static const char *const v6_ok[] = {
		"::",
		"::1",
		"fe80::1",
		"2001:db8::ff00:42:8329",
		"2001:DB8:0:0:8:800:200C:417A",
		"::ffff:192.0.2.1",
		"1:2:3:4:5:6:7:8",
		NULL,
	};
	static const char *const v6_bad[] = {
		"",	   "fe80::1%eth0", ":::", "1:2:3:4:5:6:7:8:9",
		"12345::", "10.0.0.1",	   "::g", "[::1]",
		"1::2::3", "::1 ",	   NULL,
	};
	static const char *const any_ok[] = {"10.0.0.1", "::1", NULL};
	static const char *const any_bad[] = {"", "localhost", "1.2.3", NULL};

	validate(jsonval_check_ipv4, v4_ok, v4_bad);
	validate(jsonval_check_ipv6, v6_ok, v6_bad);
	validate(jsonval_check_ip, any_ok, any_bad);
}

static void
test_valid_oid(void)
{
	static const char *const ok[] = {
		"2.5.4.3",
		"1.3.6.1.4.1.45605.1",
		"0.0",
		"0.39",
		"1.39",
		"2.999",
		"2.25.329800735698586629295641978511506172918",
		NULL,
	};
	static const char *const bad[] = {
		"",
		"1",
		"3.1",
		"0.40",
		"1.40",
		"1.100",
		"1.3.",
		".1.3",
		"1..3",
		"1.03",
		"01.3",
		"1.3.a",
		"1.3 ",
		"-1.3",
		"1.3.6.1.4.1.+1",
		"2.25.3298007356985866292956419785115061729180",
		NULL,
	};

	validate(jsonval_check_oid, ok, bad);
}

static void
test_valid_label(void)
{
	static const char *const ok[] = {
		"abc", "ext", "a1b2c3", "123", "abcdefghijklmnopqrstuvwx", NULL,
	};
	static const char *const bad[] = {
		"",
		"ab",
		"abcdefghijklmnopqrstuvwxy",
		"ABC",
		"Abc",
		"ab-c",
		"ab_c",
		"ab c",
		"abc/",
		"\xc3\xa9t\xc3\xa9",
		NULL,
	};

	validate(jsonval_check_label, ok, bad);
}

static void
test_valid_name(void)
{
	static const char *const ok[] = {
		"Demo Tenant",
		"Z\xc3\xbcrich GmbH",
		"\xe6\xa0\xaa\xe5\xbc\x8f",
		"O'Brien & Co.",
		"x",
		"\xf0\x9f\x98\x80",
		NULL,
	};
	static const char *const bad[] = {
		"",
		" lead",
		"trail ",
		"\xc2\xa0lead",
		"trail\xe3\x80\x80",
		"a\tb",
		"a\nb",
		"a\x7f",
		"a\xc2\x85",
		"a\xe2\x80\xae"
		"b",
		"a\xe2\x80\xa8"
		"b",
		"\xef\xbb\xbf"
		"a",
		"a\xe2\x81\xa6"
		"b",
		"\xc0\xaf",
		"a\xff",
		"\xed\xa0\x80",
		NULL,
	};

	validate(jsonval_check_name, ok, bad);
}

static void
test_valid_email(void)
{
	static const char *const ok[] = {
		"admin@example.com",
		"first.last+tag@sub.example.org",
		"o'brien@example.ie",
		"a@b.co",
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij"
		"kl"
		"@example.com",
		NULL,
	};
	static const char *const bad[] = {
		"",
		"@example.com",
		"admin@",
		"admin",
		"a@@b.com",
		"a@b@c.com",
		".a@example.com",
		"a.@example.com",
		"a..b@example.com",
		"a b@example.com",
		"admin@localhost",
		"admin@-x.com",
		"\xc3\xbc@example.com",
		"a@[127.0.0.1]",
		"\"a\"@example.com",
		"a@example.com.",
		"a(b)@example.com",
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij"
		"klm"
		"@example.com",
		NULL,
	};

	validate(jsonval_check_email, ok, bad);
}

static void
test_utf8_next(void)
{
	static const unsigned char euro[] = {0xe2, 0x82, 0xac};
	static const unsigned char overlong[] = {0xe0, 0x82, 0xac};
	uint32_t cp = 0;

	CU_ASSERT_EQUAL(jsonval_utf8_next(euro, 3, &cp), 3);
	CU_ASSERT_EQUAL(cp, 0x20ac);
	/* A sequence cut short by the end of the buffer. */
	CU_ASSERT_EQUAL(jsonval_utf8_next(euro, 2, &cp), 0);
	CU_ASSERT_EQUAL(jsonval_utf8_next(overlong, 3, &cp), 0);
	CU_ASSERT_EQUAL(jsonval_utf8_next((const unsigned char *)"A", 1, &cp),
			1);
	CU_ASSERT_EQUAL(cp, 'A');
}

int
test_suites(void)
{
	static CU_TestInfo parse_tests[] = {
		{"accepts RFC 8259 object", test_parse_accepts_rfc8259_object},
		{"refuses malformed JSON", test_parse_refuses_malformed},
		{"refuses trailing bytes", test_parse_refuses_trailing_bytes},
		{"refuses depth bomb", test_parse_refuses_depth_bomb},
		{"refuses invalid UTF-8", test_parse_refuses_invalid_utf8},
		{"refuses overlong UTF-8 and surrogates",
		 test_parse_refuses_overlong_and_surrogates},
		{"refuses NUL", test_parse_refuses_nul},
		{"surrogate escapes", test_parse_surrogate_escapes},
		{"refuses repeated keys", test_parse_refuses_repeated_keys},
		{"refuses non-object top level",
		 test_parse_refuses_non_object_top},
		{"size limits", test_parse_size_limits},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo check_tests[] = {
		{"accepts and reads a full body",
		 test_check_accepts_and_reads_full_body},
		{"refuses unknown keys", test_check_refuses_unknown_keys},
		{"refuses type mismatch", test_check_refuses_type_mismatch},
		{"string limits count characters",
		 test_check_string_limits_count_characters},
		{"refuses control characters",
		 test_check_refuses_control_characters},
		{"refuses NUL in built objects",
		 test_check_refuses_nul_in_built_objects},
		{"integer limits", test_check_integer_limits},
		{"enum membership", test_check_enum_membership},
		{"required fields", test_check_required_fields},
		{"null handling", test_check_null_handling},
		{"array counts and uniqueness",
		 test_check_array_counts_and_uniqueness},
		{"SQL metacharacters kept verbatim",
		 test_check_sql_metacharacters_verbatim},
		{"refuses bad tables", test_check_refuses_bad_tables},
		{"limits fail closed", test_check_limits_fail_closed},
		{"runs extra validator", test_check_runs_extra_validator},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo access_tests[] = {
		{"accessors need a validated object",
		 test_accessors_need_a_validated_object},
		{"error_set for handlers", test_error_set_for_handlers},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo valid_tests[] = {
		{"hostname and domain", test_valid_hostname_and_domain},
		{"IP addresses", test_valid_ip_addresses},
		{"OID", test_valid_oid},
		{"label", test_valid_label},
		{"name", test_valid_name},
		{"email", test_valid_email},
		{"utf8_next", test_utf8_next},
		CU_TEST_INFO_NULL,
	};
	int r;

	if ((r = test_add_suite("jsonval_parse", NULL, NULL, parse_tests)) !=
		    0 ||
	    (r = test_add_suite("jsonval_check", NULL, NULL, check_tests)) !=
		    0 ||
	    (r = test_add_suite("jsonval_access", NULL, NULL, access_tests)) !=
		    0 ||
	    (r = test_add_suite("jsonval_validators", NULL, NULL,
				valid_tests)) != 0)
		return r;
	return 0;
}
