/*
 * jsonval_parse(): a token-level RFC 8259 pass that closes the gaps of
 * json-c's strict mode, then json-c for the structure.  See jsonval.h for
 * what is refused and why.
 */
#include "config.h"

#include <string.h>

#include <json.h>

#include "err.h"
#include "jsonval.h"

/*
 * json-c checks the structure of a document well (separators, brackets)
 * but not its tokens, so this pass checks every token against RFC 8259 and
 * leaves the structure to json-c.  It also counts the name separators: a
 * ':' outside a string occurs once per object member, so a tree with fewer
 * members than that lost some to a repeated key.  And it enforces the
 * depth limit itself, because json-c counts a level for the innermost
 * value and so lets one more level through when that value is empty.
 */
struct lex {
	const unsigned char *p;
	size_t len;
	size_t i;
	size_t members;
	int depth;
	const char *why;
};

static int
lex_fail(struct lex *lx, const char *why)
{
	lx->why = why;
	return -1;
}

static int
lex_hex4(const struct lex *lx, size_t at, uint32_t *out)
{
	uint32_t v = 0;
	size_t k;
	unsigned char c;

	if (at + 4 > lx->len)
		return -1;
	for (k = 0; k < 4; k++) {
		c = lx->p[at + k];
		if (c >= '0' && c <= '9')
			v = (v << 4) | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (v << 4) | (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = (v << 4) | (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* The escape at lx->i (a backslash inside a string). */
static int
lex_escape(struct lex *lx)
{
	uint32_t cp, lo;

	if (lx->i + 1 >= lx->len)
		return lex_fail(lx, "unterminated string");
	switch (lx->p[lx->i + 1]) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		lx->i += 2;
		return 0;
	case 'u':
		break;
	default:
		return lex_fail(lx, "invalid escape in string");
	}
	if (lex_hex4(lx, lx->i + 2, &cp) != 0)
		return lex_fail(lx, "invalid \\u escape");
	lx->i += 6;
	/* json-c would cut a key short at a NUL: refuse it everywhere. */
	if (cp == 0)
		return lex_fail(lx, "\\u0000 is not allowed");
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return lex_fail(lx, "unpaired surrogate escape");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		/* json-c would turn an unpaired one into U+FFFD silently. */
		if (lx->i + 1 >= lx->len || lx->p[lx->i] != '\\' ||
		    lx->p[lx->i + 1] != 'u' ||
		    lex_hex4(lx, lx->i + 2, &lo) != 0 || lo < 0xdc00 ||
		    lo > 0xdfff)
			return lex_fail(lx, "unpaired surrogate escape");
		lx->i += 6;
	}
	return 0;
}

/* The string starting at lx->i (its opening quote). */
static int
lex_string(struct lex *lx)
{
	uint32_t cp;
	size_t k;
	unsigned char c;

	lx->i++;
	while (lx->i < lx->len) {
		c = lx->p[lx->i];
		if (c == '"') {
			lx->i++;
			return 0;
		}
		if (c == '\0')
			return lex_fail(lx, "NUL byte");
		if (c < 0x20)
			return lex_fail(lx, "unescaped control character");
		if (c == '\\') {
			if (lex_escape(lx) != 0)
				return -1;
			continue;
		}
		k = jsonval_utf8_next(lx->p + lx->i, lx->len - lx->i, &cp);
		if (k == 0)
			return lex_fail(lx, "invalid UTF-8");
		lx->i += k;
	}
	return lex_fail(lx, "unterminated string");
}

/*
 * A number or literal must end at white space, a separator or the end;
 * otherwise json-c would read "-01" as -1 or "2.e3" as 200.
 */
static int
lex_delimited(struct lex *lx, const char *why)
{
	if (lx->i == lx->len)
		return 0;
	switch (lx->p[lx->i]) {
	case ' ':
	case '\t':
	case '\n':
	case '\r':
	case ',':
	case ']':
	case '}':
		return 0;
	default:
		return lex_fail(lx, why);
	}
}

static int
lex_digits(struct lex *lx)
{
	size_t start = lx->i;

	while (lx->i < lx->len && lx->p[lx->i] >= '0' && lx->p[lx->i] <= '9')
		lx->i++;
	return lx->i > start ? 0 : -1;
}

/* number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ e [+-] 1*DIGIT ] */
static int
lex_number(struct lex *lx)
{
	if (lx->p[lx->i] == '-')
		lx->i++;
	if (lx->i < lx->len && lx->p[lx->i] == '0')
		lx->i++;
	else if (lex_digits(lx) != 0)
		return lex_fail(lx, "malformed number");
	if (lx->i < lx->len && lx->p[lx->i] == '.') {
		lx->i++;
		if (lex_digits(lx) != 0)
			return lex_fail(lx, "malformed number");
	}
	if (lx->i < lx->len && (lx->p[lx->i] == 'e' || lx->p[lx->i] == 'E')) {
		lx->i++;
		if (lx->i < lx->len &&
		    (lx->p[lx->i] == '+' || lx->p[lx->i] == '-'))
			lx->i++;
		if (lex_digits(lx) != 0)
			return lex_fail(lx, "malformed number");
	}
	return lex_delimited(lx, "malformed number");
}

/* true, false or null, spelt exactly so; NaN and Infinity are not JSON. */
static int
lex_literal(struct lex *lx)
{
	static const char *const words[] = {"true", "false", "null"};
	size_t k, wl;

	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
		wl = strlen(words[k]);
		if (lx->len - lx->i >= wl &&
		    memcmp(lx->p + lx->i, words[k], wl) == 0) {
			lx->i += wl;
			return lex_delimited(lx, "unexpected character");
		}
	}
	return lex_fail(lx, "unexpected character");
}

static int
lex_document(struct lex *lx)
{
	unsigned char c;

	while (lx->i < lx->len) {
		c = lx->p[lx->i];
		switch (c) {
		case '{':
		case '[':
			if (++lx->depth > JSONVAL_MAX_DEPTH)
				return lex_fail(lx, "nesting too deep");
			lx->i++;
			break;
		case '}':
		case ']':
			/* json-c refuses a bracket that closes nothing. */
			if (lx->depth > 0)
				lx->depth--;
			lx->i++;
			break;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
		case ',':
			lx->i++;
			break;
		case ':':
			lx->members++;
			lx->i++;
			break;
		case '"':
			if (lex_string(lx) != 0)
				return -1;
			break;
		case '-':
		case '0':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7':
		case '8':
		case '9':
			if (lex_number(lx) != 0)
				return -1;
			break;
		case '\0':
			return lex_fail(lx, "NUL byte");
		default:
			if (lex_literal(lx) != 0)
				return -1;
			break;
		}
	}
	return 0;
}

/* Members of every object in the tree; depth is bounded by the parser. */
static size_t
count_members(struct json_object *o)
{
	struct json_object_iterator it, end;
	size_t n = 0, i, len;

	if (json_object_is_type(o, json_type_object)) {
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; !json_object_iter_equal(&it, &end);
		     json_object_iter_next(&it))
			n += 1 +
			     count_members(json_object_iter_peek_value(&it));
	} else if (json_object_is_type(o, json_type_array)) {
		len = json_object_array_length(o);
		for (i = 0; i < len; i++)
			n += count_members(json_object_array_get_idx(o, i));
	}
	return n;
}

int
jsonval_parse(const char *body, size_t len, struct json_object **out,
	      struct jsonval_error *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	struct lex lx;
	int r;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (body == NULL || len == 0)
		return jsonval_error_set(err, EST_E_INVAL, "", "empty body");
	if (len > JSONVAL_MAX_LEN)
		return jsonval_error_set(err, EST_E_TOOBIG, "",
					 "body too large");
	memset(&lx, 0, sizeof(lx));
	lx.p = (const unsigned char *)body;
	lx.len = len;
	/* An object starts with '{', and json-c checks how it ends. */
	while (lx.i < len && (body[lx.i] == ' ' || body[lx.i] == '\t' ||
			      body[lx.i] == '\n' || body[lx.i] == '\r'))
		lx.i++;
	if (lx.i == len)
		return jsonval_error_set(err, EST_E_INVAL, "", "empty body");
	if (body[lx.i] != '{')
		return jsonval_error_set(err, EST_E_INVAL, "",
					 "the body must "
					 "be a JSON object");
	if (lex_document(&lx) != 0)
		return jsonval_error_set(err, EST_E_INVAL, "",
					 "malformed JSON: %s at "
					 "offset %zu",
					 lx.why, lx.i);

	/* One more than our limit, which the token pass has enforced. */
	if ((tok = json_tokener_new_ex(JSONVAL_MAX_DEPTH + 1)) == NULL) {
		r = jsonval_error_set(err, EST_E_NOMEM, "", "out of memory");
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		r = jsonval_error_set(err, EST_E_INVAL, "",
				      "malformed JSON: "
				      "unexpected end of data");
		goto out;
	}
	if (jerr != json_tokener_success) {
		r = jsonval_error_set(err, EST_E_INVAL, "",
				      "malformed JSON: %s at "
				      "offset %zu",
				      json_tokener_error_desc(jerr),
				      json_tokener_get_parse_end(tok));
		goto out;
	}
	/* Strict mode already refuses trailing bytes; this says why. */
	if (json_tokener_get_parse_end(tok) != len) {
		r = jsonval_error_set(err, EST_E_INVAL, "",
				      "malformed JSON: trailing "
				      "bytes after the value");
		goto out;
	}
	/* A bare "null" parses to a NULL object. */
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		r = jsonval_error_set(err, EST_E_INVAL, "",
				      "the body must be a JSON "
				      "object");
		goto out;
	}
	if (count_members(obj) != lx.members) {
		r = jsonval_error_set(err, EST_E_INVAL, "",
				      "malformed JSON: repeated "
				      "key in an object");
		goto out;
	}
	*out = obj;
	obj = NULL;
	r = 0;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	return r;
}
