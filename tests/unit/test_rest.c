/*
 * Unit tests of the REST helpers (fcgi/rest.c): pagination cursors, the
 * If-Match header, query parameters against a filter table, entity tags,
 * bodies, pages, times and error answers.  Requests are built by the real
 * request module (req_parse) from FastCGI parameters.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "err.h"
#include "harness.h"
#include "req.h"
#include "resp.h"
#include "rest.h"

static const struct req_limits lim = {.max_body = 65536};

/* A request of method for uri with optional extra parameters. */
static struct request *
mkreq(const char *method, const char *uri, const char *extra1,
      const char *extra2)
{
	char m[64], u[2200];
	char *envp[6] = {m, u, NULL, NULL, NULL, NULL};
	struct request *req = NULL;
	size_t n = 2;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
	if (extra1 != NULL)
		envp[n++] = (char *)extra1;
	if (extra2 != NULL)
		envp[n++] = (char *)extra2;
	if (req_parse(envp, &lim, &req) != 0)
		return NULL;
	return req;
}

/* --- cursors --- */

static void
test_cursor_round_trip(void)
{
	static const int64_t ids[] = {
		1, 2, 255, 256, 65536, 1234567890123, INT64_MAX};
	char c[REST_CURSOR_LEN + 1];
	int64_t back;
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(rest_cursor_encode(ids[i], c), 0);
		CU_ASSERT_EQUAL(strlen(c), REST_CURSOR_LEN);
		CU_ASSERT_EQUAL(
			strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_"),
			REST_CURSOR_LEN);
		back = 0;
		CU_ASSERT_EQUAL(rest_cursor_decode(c, &back), 0);
		CU_ASSERT_EQUAL(back, ids[i]);
	}
}

static void
test_cursor_is_opaque_but_versioned(void)
{
	char c[REST_CURSOR_LEN + 1];

	/* Version byte 1, then the id big-endian: "AQ" starts every one. */
	CU_ASSERT_EQUAL(rest_cursor_encode(1, c), 0);
	CU_ASSERT_STRING_EQUAL(c, "AQAAAAAAAAAB");
	CU_ASSERT_EQUAL(rest_cursor_encode(0, c), EST_E_INVAL);
	CU_ASSERT_EQUAL(rest_cursor_encode(-5, c), EST_E_INVAL);
}

static void
test_cursor_refuses_bad_input(void)
{
	static const char *const bad[] = {
		"",		      /* empty */
		"AQAAAAAAAAA",	      /* too short */
		"AQAAAAAAAAABA",      /* too long */
		"AgAAAAAAAAAB",	      /* version 2 */
		"AAAAAAAAAAAB",	      /* version 0 */
		"AQAAAAAAAAAA",	      /* id 0 */
		"AYAAAAAAAAAA",	      /* id with the top bit: negative */
		"AQAAAAAAAA+B",	      /* standard base64, not base64url */
		"AQAAAAAAAA=B",	      /* padding */
		"AQAAAAAAAA B",	      /* space */
		"AQAAAAAAAA\xc3\xa9", /* UTF-8 */
	};
	int64_t id = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(rest_cursor_decode(bad[i], &id), EST_E_INVAL);
		CU_ASSERT_EQUAL(id, 42);
	}
	CU_ASSERT_EQUAL(rest_cursor_decode(NULL, &id), EST_E_INVAL);
}

/* --- If-Match --- */

static void
test_if_match_header_parsing(void)
{
	const char *tag = "\"abc\"";

	CU_ASSERT_EQUAL(rest_if_match_header("\"abc\"", tag), 1);
	CU_ASSERT_EQUAL(rest_if_match_header("  \"abc\"  ", tag), 1);
	CU_ASSERT_EQUAL(rest_if_match_header("*", tag), 1);
	CU_ASSERT_EQUAL(rest_if_match_header(" * ", tag), 1);
	CU_ASSERT_EQUAL(rest_if_match_header("\"x\", \"abc\"", tag), 1);
	CU_ASSERT_EQUAL(rest_if_match_header("\"x\",\t\"abc\",", tag), 1);
	CU_ASSERT_EQUAL(rest_if_match_header(", ,\"abc\"", tag), 1);
	CU_ASSERT_EQUAL(rest_if_match_header("\"x\", \"y\"", tag), 0);
	CU_ASSERT_EQUAL(rest_if_match_header("\"abcd\"", tag), 0);
	CU_ASSERT_EQUAL(rest_if_match_header("\"ab\"", tag), 0);
	/* Strong comparison: a weak tag never matches. */
	CU_ASSERT_EQUAL(rest_if_match_header("W/\"abc\"", tag), 0);
	CU_ASSERT_EQUAL(rest_if_match_header("W/\"x\", \"abc\"", tag), 1);
	CU_ASSERT_EQUAL(rest_if_match_header("\"\"", "\"\""), 1);
}

static void
test_if_match_header_refuses_malformed(void)
{
	static const char *const bad[] = {
		"",	     "   ",	    ",",	  "abc",
		"\"abc",     "abc\"",	    "\"a\"b\"",	  "\"abc\" x",
		"* , \"a\"", "\"a\" *",	    "w/\"abc\"",  "W/abc",
		"W/",	     "\"a\" \"b\"", "\"a\\\"b\"", "**",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rest_if_match_header(bad[i], "\"abc\"") != EST_E_INVAL)
			printf("accepted '%s'\n", bad[i]);
		CU_ASSERT_EQUAL(rest_if_match_header(bad[i], "\"abc\""),
				EST_E_INVAL);
	}
}

static void
test_if_match_request(void)
{
	struct jsonval_error e;
	struct request *req;

	/* Absent: 428, so that no change is made blind. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(req = mkreq("DELETE", "/x", NULL, NULL));
	CU_ASSERT_EQUAL(rest_if_match(req, "\"t\"", &e), EST_E_PRECONDREQ);
	CU_ASSERT_STRING_EQUAL(e.field, "if_match");
	CU_ASSERT_EQUAL(est_err_http_status(EST_E_PRECONDREQ), 428);
	req_free(req);

	CU_ASSERT_PTR_NOT_NULL_FATAL(
		req = mkreq("DELETE", "/x", "HTTP_IF_MATCH=\"old\"", NULL));
	CU_ASSERT_STRING_EQUAL(req->if_match, "\"old\"");
	CU_ASSERT_EQUAL(rest_if_match(req, "\"t\"", &e), EST_E_PRECONDITION);
	CU_ASSERT_EQUAL(est_err_http_status(EST_E_PRECONDITION), 412);
	CU_ASSERT_EQUAL(rest_if_match(req, "\"old\"", &e), 0);
	req_free(req);

	CU_ASSERT_PTR_NOT_NULL_FATAL(
		req = mkreq("DELETE", "/x", "HTTP_IF_MATCH=nope", NULL));
	CU_ASSERT_EQUAL(rest_if_match(req, "\"t\"", &e), EST_E_INVAL);
	CU_ASSERT_STRING_EQUAL(e.field, "if_match");
	req_free(req);

	/* The request module refuses control characters outright. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(
		req = mkreq("DELETE", "/x", "HTTP_IF_MATCH=\"a\x01\"", NULL));
	CU_ASSERT_EQUAL(req->status, 400);
	CU_ASSERT_STRING_EQUAL(req->field, "if_match");
	CU_ASSERT_PTR_NULL(req->if_match);
	req_free(req);
}

/* --- entity tags --- */

static void
test_etag_strong_and_distinct(void)
{
	char a[REST_ETAG_MAX], b[REST_ETAG_MAX];
	const char *v1 = "2024-05-01 12:00:00.123456";
	const char *v2 = "2024-05-01 12:00:00.123457";

	CU_ASSERT_EQUAL_FATAL(rest_etag("tenant", 7, v1, a), 0);
	CU_ASSERT_EQUAL(strlen(a), REST_ETAG_MAX - 1);
	CU_ASSERT_EQUAL(a[0], '"');
	CU_ASSERT_EQUAL(a[REST_ETAG_MAX - 2], '"');
	CU_ASSERT_EQUAL(rest_if_match_header(a, a), 1);
	/* The same inputs give the same tag. */
	CU_ASSERT_EQUAL(rest_etag("tenant", 7, v1, b), 0);
	CU_ASSERT_STRING_EQUAL(a, b);
	/* Any part that differs gives another one. */
	CU_ASSERT_EQUAL(rest_etag("tenant", 7, v2, b), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	CU_ASSERT_EQUAL(rest_etag("tenant", 8, v1, b), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	CU_ASSERT_EQUAL(rest_etag("user", 7, v1, b), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	/* "tenant" 71 and "tenant7" 1 must not collide. */
	CU_ASSERT_EQUAL(rest_etag("tenant", 71, v1, a), 0);
	CU_ASSERT_EQUAL(rest_etag("tenant7", 1, v1, b), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	CU_ASSERT_EQUAL(rest_etag("tenant", 0, v1, b), EST_E_INVAL);
	CU_ASSERT_EQUAL(rest_etag(NULL, 1, v1, b), EST_E_INVAL);
	CU_ASSERT_EQUAL(rest_etag("tenant", 1, NULL, b), EST_E_INVAL);
}

/* --- query parameters --- */

static const char *const colours[] = {"red", "green", NULL};

static const struct rest_qfield qtab[] = {
	{.name = "name", .type = REST_Q_STRING, .max_len = 5},
	{.name = "tenant_id", .type = REST_Q_ID},
	{.name = "active", .type = REST_Q_BOOL},
	{.name = "colour", .type = REST_Q_ENUM, .enum_values = colours},
	{.name = "days", .type = REST_Q_INT, .min = -3, .max = 30},
};
#define NQ (sizeof(qtab) / sizeof(qtab[0]))

/* Parses uri's query against qtab: the code, with e and q filled. */
static int
parse_q(const char *uri, struct rest_query *q, struct jsonval_error *e)
{
	struct request *req;
	int r;

	memset(e, 0, sizeof(*e));
	if ((req = mkreq("GET", uri, NULL, NULL)) == NULL)
		return EST_E_NOMEM;
	if (req->status != 0)
		r = -1000 - req->status;
	else
		r = rest_query_parse(req, qtab, NQ, q, e);
	/* Strings point into req: copy what the tests look at. */
	req_free(req);
	return r;
}

static void
test_query_defaults(void)
{
	struct jsonval_error e;
	struct rest_query q;
	int64_t v;

	CU_ASSERT_EQUAL_FATAL(parse_q("/x", &q, &e), 0);
	CU_ASSERT_EQUAL(q.limit, REST_LIMIT_DEFAULT);
	CU_ASSERT_EQUAL(q.after_id, 0);
	CU_ASSERT_EQUAL(rest_page_fetch(&q), REST_LIMIT_DEFAULT + 1);
	CU_ASSERT_PTR_NULL(rest_q_str(&q, "name"));
	CU_ASSERT_EQUAL(rest_q_int(&q, "tenant_id", &v), EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(rest_q_int(&q, "nothing", &v), EST_E_NOTFOUND);
}

static void
test_query_reads_filters(void)
{
	struct jsonval_error e;
	struct request *req;
	struct rest_query q;
	char c[REST_CURSOR_LEN + 1], uri[256];
	int64_t v = 0;

	CU_ASSERT_EQUAL_FATAL(rest_cursor_encode(99, c), 0);
	snprintf(uri, sizeof(uri),
		 "/x?limit=500&cursor=%s&name=%%C3%%A9t%%C3%%A9&tenant_id=12"
		 "&active=false&colour=green&days=-3",
		 c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req = mkreq("GET", uri, NULL, NULL));
	CU_ASSERT_EQUAL_FATAL(rest_query_parse(req, qtab, NQ, &q, &e), 0);
	CU_ASSERT_EQUAL(q.limit, 500);
	CU_ASSERT_EQUAL(q.after_id, 99);
	CU_ASSERT_STRING_EQUAL(rest_q_str(&q, "name"), "\xc3\xa9t\xc3\xa9");
	CU_ASSERT_EQUAL(rest_q_int(&q, "tenant_id", &v), 0);
	CU_ASSERT_EQUAL(v, 12);
	CU_ASSERT_EQUAL(rest_q_int(&q, "active", &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_STRING_EQUAL(rest_q_str(&q, "colour"), "green");
	CU_ASSERT_EQUAL(rest_q_int(&q, "days", &v), 0);
	CU_ASSERT_EQUAL(v, -3);
	/* A number is not a string and the other way round. */
	CU_ASSERT_PTR_NULL(rest_q_str(&q, "tenant_id"));
	CU_ASSERT_EQUAL(rest_q_int(&q, "name", &v), EST_E_NOTFOUND);
	req_free(req);
}

static void
test_query_refuses_bad_parameters(void)
{
	static const struct {
		const char *uri;
		const char *field;
	} bad[] = {
		{"/x?colour=blue", "colour"},
		{"/x?color=red", "color"},
		{"/x?limit=0", "limit"},
		{"/x?limit=501", "limit"},
		{"/x?limit=-1", "limit"},
		{"/x?limit=05", "limit"},
		{"/x?limit=ten", "limit"},
		{"/x?limit=", "limit"},
		{"/x?cursor=AQAAAAAAAAAA", "cursor"},
		{"/x?cursor=junk", "cursor"},
		{"/x?name=abcdef", "name"},
		{"/x?name=", "name"},
		{"/x?name=%C2%85", "name"},
		{"/x?tenant_id=0", "tenant_id"},
		{"/x?tenant_id=-1", "tenant_id"},
		{"/x?tenant_id=012", "tenant_id"},
		{"/x?tenant_id=1234567890123456789", "tenant_id"},
		{"/x?tenant_id=1e3", "tenant_id"},
		{"/x?active=1", "active"},
		{"/x?active=TRUE", "active"},
		{"/x?days=31", "days"},
		{"/x?days=-4", "days"},
		{"/x?days=-0", "days"},
		{"/x?days=%2B5", "days"},
		{"/x?Colour=red", "Colour"},
	};
	struct jsonval_error e;
	struct rest_query q;
	size_t i;
	int r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = parse_q(bad[i].uri, &q, &e);
		if (r != EST_E_INVAL || strcmp(e.field, bad[i].field) != 0)
			printf("%s: %d '%s'\n", bad[i].uri, r, e.field);
		CU_ASSERT_EQUAL(r, EST_E_INVAL);
		CU_ASSERT_STRING_EQUAL(e.field, bad[i].field);
	}
	/* SQL metacharacters are only characters. */
	CU_ASSERT_EQUAL(parse_q("/x?name=%27%3B--", &q, &e), 0);
	/* A name repeated is refused by the request module already. */
	CU_ASSERT_EQUAL(parse_q("/x?name=a&name=b", &q, &e), -1000 - 400);
}

static void
test_query_none(void)
{
	struct jsonval_error e;
	struct request *req;

	CU_ASSERT_PTR_NOT_NULL_FATAL(req = mkreq("GET", "/x", NULL, NULL));
	CU_ASSERT_EQUAL(rest_query_none(req, &e), 0);
	req_free(req);
	CU_ASSERT_PTR_NOT_NULL_FATAL(
		req = mkreq("GET", "/x?limit=5", NULL, NULL));
	CU_ASSERT_EQUAL(rest_query_none(req, &e), EST_E_INVAL);
	CU_ASSERT_STRING_EQUAL(e.field, "limit");
	req_free(req);
}

static void
test_query_table_too_big(void)
{
	struct rest_qfield big[REST_QFIELDS_MAX + 1];
	struct jsonval_error e;
	struct request *req;
	struct rest_query q;

	memset(big, 0, sizeof(big));
	CU_ASSERT_PTR_NOT_NULL_FATAL(req = mkreq("GET", "/x", NULL, NULL));
	CU_ASSERT_EQUAL(
		rest_query_parse(req, big, REST_QFIELDS_MAX + 1, &q, &e),
		EST_E_INTERNAL);
	req_free(req);
}

/* --- bodies --- */

static const struct jsonval_field btab[] = {
	{.name = "name", .type = JV_STRING, .required = 1, .max_len = 10},
};

/* A POST request with body of content type ct. */
static struct request *
post(const char *ct, const char *body)
{
	char cl[64], ctype[128];
	struct request *req;
	size_t n = strlen(body);

	snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", n);
	snprintf(ctype, sizeof(ctype), "CONTENT_TYPE=%s", ct != NULL ? ct : "");
	if ((req = mkreq("POST", "/x", cl, ct != NULL ? ctype : NULL)) == NULL)
		return NULL;
	req->body = (uint8_t *)strdup(body);
	req->bodylen = n;
	return req;
}

static int
body_code(const char *ct, const char *body, struct jsonval_error *e)
{
	struct json_object *o = NULL;
	struct request *req;
	int r;

	if ((req = post(ct, body)) == NULL)
		return EST_E_NOMEM;
	r = rest_body(req, btab, 1, &o, e);
	json_object_put(o);
	req_free(req);
	return r;
}

static void
test_body_media_type_and_parsing(void)
{
	struct jsonval_error e;

	CU_ASSERT_EQUAL(body_code("application/json", "{\"name\":\"a\"}", &e),
			0);
	CU_ASSERT_EQUAL(body_code("application/json; charset=UTF-8",
				  "{\"name\":\"a\"}", &e),
			0);
	CU_ASSERT_EQUAL(body_code("text/plain", "{\"name\":\"a\"}", &e),
			EST_E_MEDIATYPE);
	CU_ASSERT_STRING_EQUAL(e.field, "content_type");
	CU_ASSERT_EQUAL(body_code(NULL, "{\"name\":\"a\"}", &e),
			EST_E_MEDIATYPE);
	CU_ASSERT_EQUAL(body_code("application/json; charset=latin1",
				  "{\"name\":\"a\"}", &e),
			EST_E_MEDIATYPE);
	CU_ASSERT_EQUAL(body_code("application/jsonx", "{\"name\":\"a\"}", &e),
			EST_E_MEDIATYPE);
	CU_ASSERT_EQUAL(body_code("application/json", "{\"name\":\"a\",}", &e),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(body_code("application/json", "", &e), EST_E_INVAL);
	CU_ASSERT_EQUAL(body_code("application/json", "{\"name\":1}", &e),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(e.field, "name");
	CU_ASSERT_EQUAL(
		body_code("application/json", "{\"name\":\"a\",\"x\":1}", &e),
		EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(e.field, "x");
}

static void
test_body_optional_and_none(void)
{
	struct json_object *o = (struct json_object *)&o;
	struct jsonval_error e;
	struct request *req;

	CU_ASSERT_PTR_NOT_NULL_FATAL(req = post(NULL, ""));
	CU_ASSERT_EQUAL(rest_body_optional(req, btab, 1, &o, &e), 0);
	CU_ASSERT_PTR_NULL(o);
	CU_ASSERT_EQUAL(rest_body_none(req, &e), 0);
	req_free(req);

	CU_ASSERT_PTR_NOT_NULL_FATAL(req = post("application/json", "{}"));
	CU_ASSERT_EQUAL(rest_body_optional(req, btab, 1, &o, &e),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(rest_body_none(req, &e), EST_E_INVAL);
	CU_ASSERT_STRING_EQUAL(e.field, "body");
	req_free(req);
}

static void
test_body_parse_without_table(void)
{
	struct json_object *o = NULL;
	struct jsonval_error e;
	struct request *req;

	/* Any member passes: the caller checks the object itself. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(
		req = post("application/json", "{\"subject\":{\"CN\":\"a\"}}"));
	CU_ASSERT_EQUAL(rest_body_parse(req, &o, &e), 0);
	CU_ASSERT_TRUE(json_object_is_type(o, json_type_object));
	CU_ASSERT_TRUE(json_object_object_get_ex(o, "subject", NULL));
	json_object_put(o);
	o = NULL;
	req_free(req);

	CU_ASSERT_PTR_NOT_NULL_FATAL(req = post("text/json", "{}"));
	CU_ASSERT_EQUAL(rest_body_parse(req, &o, &e), EST_E_MEDIATYPE);
	CU_ASSERT_STRING_EQUAL(e.field, "content_type");
	CU_ASSERT_PTR_NULL(o);
	req_free(req);

	CU_ASSERT_PTR_NOT_NULL_FATAL(
		req = post("application/json; charset=utf-8", "[1]"));
	CU_ASSERT_EQUAL(rest_body_parse(req, &o, &e), EST_E_INVAL);
	CU_ASSERT_PTR_NULL(o);
	req_free(req);
}

static int
time_of(const char *s, int64_t *t)
{
	*t = -1;
	return rest_time_parse(s, t);
}

static void
test_time_parse(void)
{
	int64_t t;

	CU_ASSERT_EQUAL(time_of("1970-01-01T00:00:00Z", &t), 0);
	CU_ASSERT_EQUAL(t, 0);
	CU_ASSERT_EQUAL(time_of("2030-01-31T12:00:00Z", &t), 0);
	CU_ASSERT_EQUAL(t, 1896091200);
	/* Lower case, a fraction dropped, an offset applied. */
	CU_ASSERT_EQUAL(time_of("2030-01-31t14:00:00.123456789+02:00", &t), 0);
	CU_ASSERT_EQUAL(t, 1896091200);
	CU_ASSERT_EQUAL(time_of("2030-01-31T11:30:00-00:30", &t), 0);
	CU_ASSERT_EQUAL(t, 1896091200);
	CU_ASSERT_EQUAL(time_of("2024-02-29T00:00:00z", &t), 0);
	CU_ASSERT_EQUAL(t, 1709164800);
	/* A leap second is the second after :59. */
	CU_ASSERT_EQUAL(time_of("2016-12-31T23:59:60Z", &t), 0);
	CU_ASSERT_EQUAL(t, 1483228800);
	CU_ASSERT_EQUAL(rest_time_check("9999-12-31T23:59:59Z"), 0);
}

static void
test_time_refuses(void)
{
	static const char *const bad[] = {
		"",
		"2030-01-31",
		"2030-01-31 12:00:00Z",
		"2030-01-31T12:00:00",
		"2030-01-31T12:00:00+0200",
		"2030-01-31T12:00:00.Z",
		"2030-01-31T12:00:00Zjunk",
		"2030-01-31T12:00:00+24:00",
		"2030-02-29T00:00:00Z",
		"2030-13-01T00:00:00Z",
		"2030-01-32T00:00:00Z",
		"2030-01-31T24:00:00Z",
		"2030-01-31T12:60:00Z",
		"2030-01-31T12:00:61Z",
		"1969-12-31T23:59:59Z",
		"1970-01-01T00:30:00+01:00",
		"2030-01-31T12:00:00.1234567890123+02:00",
		"+030-01-31T12:00:00Z",
	};
	int64_t t = 7;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(rest_time_parse(bad[i], &t), EST_E_INVAL);
		CU_ASSERT_NOT_EQUAL(rest_time_check(bad[i]), 0);
	}
	CU_ASSERT_EQUAL(t, 7);
	CU_ASSERT_EQUAL(rest_time_parse(NULL, &t), EST_E_INVAL);
}

/* --- pages, JSON builders, answers --- */

static void
test_page_envelope(void)
{
	struct jsonval_error e;
	struct rest_query q;
	struct rest_page pg;
	struct json_object *top = NULL, *v;
	struct resp *rs;
	const uint8_t *body;
	size_t len, i;
	int64_t id;

	CU_ASSERT_EQUAL_FATAL(parse_q("/x?limit=2", &q, &e), 0);
	CU_ASSERT_EQUAL(rest_page_fetch(&q), 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs = resp_new(RESP_API));
	CU_ASSERT_EQUAL_FATAL(rest_page_init(&pg, &q), 0);
	/* Three rows fetched for a page of two: the third says "more". */
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(rest_page_add(&pg, (int64_t)(10 + i),
					      json_object_new_int64(10 + i)),
				0);
	CU_ASSERT_EQUAL(pg.n, 2);
	CU_ASSERT_EQUAL(pg.more, 1);
	CU_ASSERT_EQUAL(rest_page_send(&pg, rs), 0);
	rest_page_clear(&pg);
	CU_ASSERT_EQUAL(resp_status(rs), 200);
	body = resp_get_body(rs, &len);
	top = json_tokener_parse((const char *)body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(top);
	CU_ASSERT_TRUE(json_object_object_get_ex(top, "items", &v));
	CU_ASSERT_EQUAL(json_object_array_length(v), 2);
	CU_ASSERT_TRUE(json_object_object_get_ex(top, "next_cursor", &v));
	CU_ASSERT_EQUAL(rest_cursor_decode(json_object_get_string(v), &id), 0);
	CU_ASSERT_EQUAL(id, 11);
	json_object_put(top);

	/* A short page has no next cursor. */
	resp_reset(rs);
	CU_ASSERT_EQUAL_FATAL(rest_page_init(&pg, &q), 0);
	CU_ASSERT_EQUAL(rest_page_add(&pg, 5, json_object_new_int64(5)), 0);
	CU_ASSERT_EQUAL(rest_page_send(&pg, rs), 0);
	rest_page_clear(&pg);
	body = resp_get_body(rs, &len);
	top = json_tokener_parse((const char *)body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(top);
	CU_ASSERT_TRUE(json_object_object_get_ex(top, "next_cursor", &v));
	CU_ASSERT_PTR_NULL(v);
	json_object_put(top);
	resp_free(rs);
}

static void
test_put_time(void)
{
	struct json_object *o = json_object_new_object(), *v;

	CU_ASSERT_EQUAL(rest_put_time(o, "a", "2024-05-01 12:34:56.123456"), 0);
	CU_ASSERT_EQUAL(rest_put_time(o, "b", "2024-05-01 12:34:56"), 0);
	CU_ASSERT_EQUAL(rest_put_time(o, "c", "2024-05-01 12:34:56.5"), 0);
	CU_ASSERT_EQUAL(rest_put_time(o, "d", NULL), 0);
	CU_ASSERT_EQUAL(rest_put_time(o, "e", "2024-05-01"), EST_E_INTERNAL);
	CU_ASSERT_EQUAL(rest_put_time(o, "f", "2024-05-01 12:34:56."),
			EST_E_INTERNAL);
	CU_ASSERT_EQUAL(rest_put_time(o, "g", "2024-05-01 12:34:56.1234567"),
			EST_E_INTERNAL);
	json_object_object_get_ex(o, "a", &v);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v),
			       "2024-05-01T12:34:56.123456Z");
	json_object_object_get_ex(o, "b", &v);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v),
			       "2024-05-01T12:34:56.000000Z");
	json_object_object_get_ex(o, "c", &v);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v),
			       "2024-05-01T12:34:56.500000Z");
	CU_ASSERT_TRUE(json_object_object_get_ex(o, "d", &v));
	CU_ASSERT_PTR_NULL(v);
	json_object_put(o);
}

static void
test_answer_shapes(void)
{
	struct jsonval_error e;
	struct resp *rs;
	const uint8_t *body;
	size_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs = resp_new(RESP_API));
	CU_ASSERT_EQUAL(rest_answer(rs, 0, NULL), 0);
	/* A client error is answered here, with its field. */
	rest_fail(&e, EST_E_EXISTS, "name");
	CU_ASSERT_EQUAL(rest_answer(rs, EST_E_EXISTS, &e), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 409);
	body = resp_get_body(rs, &len);
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)body, "\"field\":\"name\""));
	/* A field of another error is not shown. */
	CU_ASSERT_EQUAL(rest_answer(rs, EST_E_NOTFOUND, &e), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 404);
	body = resp_get_body(rs, &len);
	CU_ASSERT_PTR_NULL(strstr((const char *)body, "\"name\""));
	/* A server error goes back to the dispatcher. */
	CU_ASSERT_EQUAL(rest_answer(rs, EST_E_DB, &e), EST_E_DB);
	resp_free(rs);
}

static void
test_created_location(void)
{
	struct json_object *o = json_object_new_object();
	struct resp *rs;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs = resp_new(RESP_API));
	CU_ASSERT_EQUAL(rest_created(rs, "/api/v1/tenants", 42, o, "\"t\""), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 201);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "Location"),
			       "/api/v1/tenants/42");
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "ETag"), "\"t\"");
	resp_free(rs);
	json_object_put(o);
}

int
test_suites(void)
{
	static CU_TestInfo cursor_tests[] = {
		{"round trip", test_cursor_round_trip},
		{"opaque but versioned", test_cursor_is_opaque_but_versioned},
		{"refuses bad input", test_cursor_refuses_bad_input},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo match_tests[] = {
		{"header parsing", test_if_match_header_parsing},
		{"refuses malformed headers",
		 test_if_match_header_refuses_malformed},
		{"request: 428, 412, 400", test_if_match_request},
		{"entity tags strong and distinct",
		 test_etag_strong_and_distinct},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo query_tests[] = {
		{"defaults", test_query_defaults},
		{"reads filters", test_query_reads_filters},
		{"refuses bad parameters", test_query_refuses_bad_parameters},
		{"none", test_query_none},
		{"table too big", test_query_table_too_big},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo out_tests[] = {
		{"body media type and parsing",
		 test_body_media_type_and_parsing},
		{"optional and absent bodies", test_body_optional_and_none},
		{"body parsed without a table", test_body_parse_without_table},
		{"RFC 3339 times", test_time_parse},
		{"refuses bad times", test_time_refuses},
		{"page envelope", test_page_envelope},
		{"times", test_put_time},
		{"error answers", test_answer_shapes},
		{"201 with Location", test_created_location},
		CU_TEST_INFO_NULL,
	};
	int r;

	if ((r = test_add_suite("rest_cursor", NULL, NULL, cursor_tests)) !=
		    0 ||
	    (r = test_add_suite("rest_if_match", NULL, NULL, match_tests)) !=
		    0 ||
	    (r = test_add_suite("rest_query", NULL, NULL, query_tests)) != 0 ||
	    (r = test_add_suite("rest_io", NULL, NULL, out_tests)) != 0)
		return r;
	return 0;
}
