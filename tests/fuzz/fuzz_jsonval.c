/*
 * Fuzz target for lib/jsonval: any byte string goes through
 * jsonval_parse(); what parses is checked against a table that uses every
 * field type, read back through the accessors, serialized by json-c and
 * parsed again (what we accept, json-c writes back in a form we accept),
 * and the input also goes through every string validator.  Built as a
 * check_PROGRAM with replay.c, or with -fsanitize=fuzzer for libFuzzer.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "err.h"
#include "jsonval.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kinds[] = {"dns", "ip", "email", "uri", NULL};

static const struct jsonval_field item_fields[] = {
	{.name = "type", .type = JV_ENUM, .required = 1, .enum_values = kinds},
	{.name = "value",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = 64},
	{.name = "critical", .type = JV_BOOL},
};

static const struct jsonval_field sub_fields[] = {
	{.name = "cn",
	 .type = JV_STRING,
	 .max_len = 64,
	 .check = jsonval_check_name},
	{.name = "o", .type = JV_STRING, .nullable = 1, .max_len = 64},
	{.name = "oid",
	 .type = JV_STRING,
	 .max_len = 128,
	 .check = jsonval_check_oid},
};

static const struct jsonval_field fields[] = {
	{.name = "name", .type = JV_STRING, .min_len = 1, .max_len = 32},
	{.name = "label",
	 .type = JV_STRING,
	 .max_len = 24,
	 .check = jsonval_check_label},
	{.name = "host",
	 .type = JV_STRING,
	 .max_len = 253,
	 .check = jsonval_check_hostname},
	{.name = "email",
	 .type = JV_STRING,
	 .max_len = 254,
	 .check = jsonval_check_email},
	{.name = "addr",
	 .type = JV_STRING,
	 .max_len = 45,
	 .check = jsonval_check_ip},
	{.name = "note",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = 1024},
	{.name = "days", .type = JV_INT, .min = -1, .max = 36500},
	{.name = "big", .type = JV_INT, .min = INT64_MIN, .max = INT64_MAX},
	{.name = "on", .type = JV_BOOL, .nullable = 1},
	{.name = "kind", .type = JV_ENUM, .enum_values = kinds},
	{.name = "tags",
	 .type = JV_STRING_ARRAY,
	 .unique = 1,
	 .max_len = 16,
	 .max_items = 8},
	{.name = "kinds",
	 .type = JV_STRING_ARRAY,
	 .enum_values = kinds,
	 .max_items = 4},
	{.name = "subject",
	 .type = JV_OBJECT,
	 .fields = sub_fields,
	 .nfields = NELEM(sub_fields)},
	{.name = "sans",
	 .type = JV_OBJECT_ARRAY,
	 .unique = 1,
	 .max_items = 8,
	 .fields = item_fields,
	 .nfields = NELEM(item_fields)},
};

/* Reads every field back; a validated string must be NUL-free UTF-8. */
static void
read_back(struct json_object *obj)
{
	struct json_object *o;
	const char *s;
	uint32_t cp;
	int64_t v;
	size_t i, n, k, len;
	int b;

	for (i = 0; i < NELEM(fields); i++) {
		if ((s = jsonval_get_string(obj, fields[i].name)) != NULL) {
			len = strlen(s);
			for (k = 0; k < len; k += n)
				if ((n = jsonval_utf8_next(
					     (const unsigned char *)s + k,
					     len - k, &cp)) == 0)
					abort();
		}
		(void)jsonval_get_int(obj, fields[i].name, &v);
		(void)jsonval_get_bool(obj, fields[i].name, &b);
		(void)jsonval_presence(obj, fields[i].name);
		n = jsonval_get_count(obj, fields[i].name);
		for (k = 0; k <= n; k++) {
			(void)jsonval_get_string_at(obj, fields[i].name, k);
			if ((o = jsonval_get_object_at(obj, fields[i].name,
						       k)) != NULL &&
			    jsonval_get_string(o, "type") == NULL)
				abort();
		}
	}
	if ((o = jsonval_get_object(obj, "subject")) != NULL)
		(void)jsonval_get_string(o, "cn");
}

/* What we accepted must survive json-c's serializer and our parser. */
static void
round_trip(struct json_object *obj)
{
	struct json_object *again = NULL;
	struct jsonval_error err;
	const char *text;
	size_t len;

	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	if (len > JSONVAL_MAX_LEN)
		return;
	if (jsonval_parse(text, len, &again, &err) != 0 ||
	    !json_object_equal(obj, again))
		abort();
	json_object_put(again);
}

static void
validators(const uint8_t *data, size_t size)
{
	char s[512];

	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)jsonval_check_hostname(s);
	(void)jsonval_check_domain(s);
	(void)jsonval_check_ipv4(s);
	(void)jsonval_check_ipv6(s);
	(void)jsonval_check_ip(s);
	(void)jsonval_check_oid(s);
	(void)jsonval_check_label(s);
	(void)jsonval_check_name(s);
	(void)jsonval_check_email(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *obj = NULL;
	struct jsonval_error err;
	int r;

	validators(data, size);
	r = jsonval_parse((const char *)data, size, &obj, &err);
	if (r != 0) {
		/* Every refusal says why, in a string that is terminated. */
		if (r != err.code || err.message[0] == '\0' ||
		    memchr(err.message, '\0', sizeof(err.message)) == NULL)
			abort();
		return 0;
	}
	round_trip(obj);
	r = jsonval_check(obj, fields, NELEM(fields), &err);
	if (r != 0 && r != EST_E_UNPROCESSABLE && r != EST_E_NOMEM)
		abort();
	if (r == 0)
		read_back(obj);
	else if (jsonval_get_string(obj, "name") != NULL)
		abort();
	json_object_put(obj);
	return 0;
}
