/*
 * The request module of the FastCGI programs (fcgi/req*.c) without libfcgi:
 * requests are built from envp arrays as the web server would pass them.
 * test_req_tls.c covers client certificates, test_req_http.c media types,
 * the router and the dispatcher.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/CUnit.h>

#include "b64.h"
#include "err.h"
#include "harness.h"
#include "log.h"
#include "req.h"
#include "test_req.h"

/* Parses a NULL-terminated env list; never NULL (asserts instead). */
struct request *
parse_env(char **env)
{
	struct req_limits lim = {.max_body = MAX_BODY};
	struct request *req = NULL;

	CU_ASSERT_FATAL(req_parse(env, &lim, &req) == 0);
	CU_ASSERT_FATAL(req != NULL);
	return req;
}

/* A request with method, uri and up to two more "KEY=value" entries. */
struct request *
parse3(const char *method, const char *uri, const char *e1, const char *e2)
{
	char m[256], u[4096];
	char *env[5] = {NULL};
	size_t n = 0;

	if (method != NULL) {
		snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
		env[n++] = m;
	}
	if (uri != NULL) {
		snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
		env[n++] = u;
	}
	if (e1 != NULL)
		env[n++] = (char *)(uintptr_t)e1;
	if (e2 != NULL)
		env[n++] = (char *)(uintptr_t)e2;
	return parse_env(env);
}

/* The status a request with one extra variable gets. */
int
status_with(const char *method, const char *entry)
{
	struct request *req = parse3(method, "/x", entry, NULL);
	int st = req->status;

	req_free(req);
	return st;
}

ssize_t
mem_read(void *arg, void *p, size_t len)
{
	struct membody *m = arg;
	size_t n = m->len - m->off;

	if (n > len)
		n = len;
	if (m->chunk != 0 && n > m->chunk)
		n = m->chunk;
	memcpy(p, m->p + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

/* --- methods --- */

static void
test_method_table(void)
{
	static const struct {
		const char *name;
		unsigned bit;
	} ok[] = {
		{"GET", REQ_M_GET},	    {"HEAD", REQ_M_HEAD},
		{"POST", REQ_M_POST},	    {"PUT", REQ_M_PUT},
		{"PATCH", REQ_M_PATCH},	    {"DELETE", REQ_M_DELETE},
		{"OPTIONS", REQ_M_OPTIONS},
	};
	struct request *req;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		req = parse3(ok[i].name, "/x", "CONTENT_LENGTH=0", NULL);
		CU_ASSERT_EQUAL(req->status, 0);
		CU_ASSERT_EQUAL(req->method, ok[i].bit);
		CU_ASSERT_STRING_EQUAL(req->method_name, ok[i].name);
		req_free(req);
	}
}

static void
test_method_unknown(void)
{
	struct request *req;

	/* Known to HTTP, served by no route: the router answers 405. */
	req = parse3("TRACE", "/x", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_EQUAL(req->method, 0);
	req_free(req);
	/* Methods are case-sensitive: "get" is an unknown method. */
	req = parse3("get", "/x", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 501);
	req_free(req);
	req = parse3("BREW", "/x", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 501);
	req_free(req);
	/* Not even a token. */
	req = parse3("GE T", "/x", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
	req = parse3("GET\r\nX", "/x", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
	req = parse3(NULL, "/x", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	CU_ASSERT_STRING_EQUAL(req->field, "method");
	req_free(req);
}

static void
test_method_list(void)
{
	char buf[64];

	CU_ASSERT_EQUAL(req_method_list(REQ_M_GET | REQ_M_HEAD | REQ_M_OPTIONS,
					buf, sizeof(buf)),
			0);
	CU_ASSERT_STRING_EQUAL(buf, "GET, HEAD, OPTIONS");
	CU_ASSERT_EQUAL(req_method_list(REQ_M_ALL, buf, 10), EST_E_TOOBIG);
}

/* --- REQUEST_URI --- */

static void
test_uri_good(void)
{
	struct request *req;

	req = parse3("GET", "/api/v1/health", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_STRING_EQUAL(req->path, "/api/v1/health");
	CU_ASSERT_EQUAL(req->nquery, 0);
	req_free(req);
	req = parse3("GET", "/%41b%63/x~y", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_STRING_EQUAL(req->path, "/Abc/x~y");
	req_free(req);
	/* Dots inside a segment are not dot-segments. */
	req = parse3("GET", "/.well-known/est/a..b", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_STRING_EQUAL(req->path, "/.well-known/est/a..b");
	req_free(req);
	/*
	 * An encoded '/' and an encoded '%' stay encoded (upper case), so
	 * that the segments are the client's and a path has one spelling.
	 */
	req = parse3("GET", "/a%2fb%2F%252F%41", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_STRING_EQUAL(req->path, "/a%2Fb%2F%252FA");
	req_free(req);
}

static void
test_uri_bad(void)
{
	static const char *const bad[] = {
		"/a%00b",  /* NUL */
		"/a%zzb",  /* not hex */
		"/a%4",	   /* truncated escape */
		"/a%",	   /* truncated escape */
		"/a/../b", /* dot-segment */
		"/..",
		"/a/./b",
		"/a/.",
		"/%2e%2e/etc", /* encoded dot-segment */
		"/a/%2E/b",
		"/a%0d%0aX", /* encoded CR LF */
		"/a%20b",    /* encoded space */
		"/a%7f",     /* DEL */
		"/a b",	     /* raw space */
		"/a<b>",     /* not a pchar */
		"/a\"b",
		"/a\\b",
		"/caf\xc3\xa9", /* raw non-ASCII */
		"relative",
		"http://example.com/x",
		"*",
	};
	struct request *req;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req = parse3("GET", bad[i], NULL, NULL);
		CU_ASSERT_EQUAL(req->status, 400);
		CU_ASSERT_PTR_NULL(req->path);
		if (req->status != 400)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		req_free(req);
	}
	/* Missing or empty REQUEST_URI. */
	req = parse3("GET", NULL, NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
	req = parse3("GET", "", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
}

static void
test_uri_overlong(void)
{
	char uri[REQ_URI_MAX + 2];
	struct request *req;

	memset(uri, 'a', sizeof(uri) - 1);
	uri[0] = '/';
	uri[REQ_URI_MAX] = '\0';
	/* REQ_URI_MAX is fine as a URI but too long as a path. */
	req = parse3("GET", uri, NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
	uri[REQ_PATH_MAX] = '\0';
	req = parse3("GET", uri, NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	req_free(req);
	memset(uri, 'a', sizeof(uri) - 1);
	uri[0] = '/';
	uri[10] = '?';
	uri[REQ_URI_MAX + 1] = '\0';
	req = parse3("GET", uri, NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
}

/* --- query --- */

static void
test_query_good(void)
{
	struct request *req;

	req = parse3("GET", "/x?a=1&b=two+words&c=%41%2F&&d&e=", NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(req->status, 0);
	CU_ASSERT_STRING_EQUAL(req->path, "/x");
	CU_ASSERT_EQUAL(req->nquery, 5);
	CU_ASSERT_STRING_EQUAL(req_query(req, "a"), "1");
	CU_ASSERT_STRING_EQUAL(req_query(req, "b"), "two words");
	CU_ASSERT_STRING_EQUAL(req_query(req, "c"), "A/");
	CU_ASSERT_STRING_EQUAL(req_query(req, "d"), "");
	CU_ASSERT_STRING_EQUAL(req_query(req, "e"), "");
	CU_ASSERT_PTR_NULL(req_query(req, "f"));
	req_free(req);
	/* UTF-8 in a value is fine when it is well-formed. */
	req = parse3("GET", "/x?name=caf%C3%A9&cursor=a/b?c", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_STRING_EQUAL(req_query(req, "name"), "caf\xc3\xa9");
	CU_ASSERT_STRING_EQUAL(req_query(req, "cursor"), "a/b?c");
	req_free(req);
	req = parse3("GET", "/x?", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_EQUAL(req->nquery, 0);
	req_free(req);
}

static void
test_query_bad(void)
{
	static const char *const bad[] = {
		"/x?a=1&a=2",		      /* repeated name */
		"/x?a=%00",		      /* NUL */
		"/x?a=%01",		      /* control character */
		"/x?a=%0d%0a",	  "/x?a=%C3", /* truncated UTF-8 */
		"/x?a=%C0%AF",		      /* overlong UTF-8 */
		"/x?a=%ED%A0%80",	      /* surrogate */
		"/x?a%20b=1",		      /* name outside [A-Za-z0-9_.-] */
		"/x?=1",		      /* empty name */
		"/x?a=%zz",	  "/x?a=b c", "/x?a=<b>",
	};
	char uri[1024];
	struct request *req;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req = parse3("GET", bad[i], NULL, NULL);
		CU_ASSERT_EQUAL(req->status, 400);
		if (req->status != 400)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		req_free(req);
	}
	/* One parameter more than the cap. */
	n = (size_t)snprintf(uri, sizeof(uri), "/x?");
	for (i = 0; i <= REQ_QUERY_MAX; i++)
		n += (size_t)snprintf(uri + n, sizeof(uri) - n, "p%zu=1&", i);
	req = parse3("GET", uri, NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
	/* A name over REQ_QNAME_MAX. */
	memset(uri, 'n', sizeof(uri));
	memcpy(uri, "/x?", 3);
	uri[3 + REQ_QNAME_MAX + 1] = '\0';
	req = parse3("GET", uri, NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
}

/* --- Host --- */

static void
check_host(const char *entry, const char *host, unsigned port, int is_ip)
{
	struct request *req = parse3("GET", "/x", entry, NULL);

	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req->host);
	CU_ASSERT_STRING_EQUAL(req->host, host);
	CU_ASSERT_EQUAL(req->port, port);
	CU_ASSERT_EQUAL(req->host_is_ip, is_ip);
	req_free(req);
}

static void
test_host_good(void)
{
	check_host("HTTP_HOST=est01.Example.COM", "est01.example.com", 0, 0);
	check_host("HTTP_HOST=est01.example.com:8443", "est01.example.com",
		   8443, 0);
	check_host("HTTP_HOST=example.com.", "example.com", 0, 0);
	check_host("HTTP_HOST=localhost:1", "localhost", 1, 0);
	check_host("HTTP_HOST=127.0.0.1:8443", "127.0.0.1", 8443, 1);
	check_host("HTTP_HOST=[::1]:8443", "::1", 8443, 1);
	check_host("HTTP_HOST=[2001:DB8::1]", "2001:db8::1", 0, 1);
	check_host("HTTP_HOST=a-b.x1.io:65535", "a-b.x1.io", 65535, 0);
	/* Without a Host header the web server's name is used. */
	check_host("SERVER_NAME=Srv.example.org", "srv.example.org", 0, 0);
}

static void
test_host_bad(void)
{
	static const char *const bad[] = {
		"HTTP_HOST=evil.com\r\nX-Injected: 1", /* CR LF */
		"HTTP_HOST=evil.com\n",
		"HTTP_HOST=a b.com",	      /* space */
		"HTTP_HOST=user@example.com", /* userinfo */
		"HTTP_HOST=example.com/path", /* slash */
		"HTTP_HOST=example.com:",     /* empty port */
		"HTTP_HOST=example.com:0",
		"HTTP_HOST=example.com:65536",
		"HTTP_HOST=example.com:080",
		"HTTP_HOST=example.com:+80",
		"HTTP_HOST=example.com:80:81",
		"HTTP_HOST=-example.com", /* bad label */
		"HTTP_HOST=example-.com",
		"HTTP_HOST=a..b", /* empty label */
		"HTTP_HOST=.",
		"HTTP_HOST=exa_mple.com",
		"HTTP_HOST=999.1.1.1", /* not IPv4 */
		"HTTP_HOST=1.2.3",
		"HTTP_HOST=::1", /* IPv6 needs [] */
		"HTTP_HOST=[::1",
		"HTTP_HOST=[::1]x",
		"HTTP_HOST=[fe80::1%25eth0]", /* zone id */
		"HTTP_HOST=[not-an-address]",
		"HTTP_HOST=caf\xc3\xa9.com",
	};
	struct request *req;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req = parse3("GET", "/x", bad[i], NULL);
		CU_ASSERT_EQUAL(req->status, 400);
		CU_ASSERT_PTR_NULL(req->host);
		if (req->status != 400)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		req_free(req);
	}
	/* A bad Host is not rescued by a good SERVER_NAME. */
	req = parse3("GET", "/x", "HTTP_HOST=a b", "SERVER_NAME=good.example");
	CU_ASSERT_EQUAL(req->status, 400);
	CU_ASSERT_STRING_EQUAL(req->field, "host");
	CU_ASSERT_PTR_NULL(req->host);
	req_free(req);
}

static void
test_host_overlong(void)
{
	char entry[600];
	struct request *req;

	/* 64-character label. */
	snprintf(entry, sizeof(entry), "HTTP_HOST=%064d.com", 0);
	memset(entry + 10, 'a', 64);
	req = parse3("GET", "/x", entry, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
	/* 63 is fine. */
	snprintf(entry, sizeof(entry), "HTTP_HOST=%063d.com", 0);
	memset(entry + 10, 'a', 63);
	req = parse3("GET", "/x", entry, NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	req_free(req);
	/* A name over 253 bytes. */
	memset(entry, 'a', sizeof(entry));
	memcpy(entry, "HTTP_HOST=", 10);
	for (size_t i = 10 + 50; i < 10 + 300; i += 51)
		entry[i] = '.';
	entry[10 + 300] = '\0';
	req = parse3("GET", "/x", entry, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
}

/* --- CONTENT_LENGTH --- */

static void
test_length(void)
{
	struct request *req;

	/* A body-carrying method must state its length. */
	req = parse3("POST", "/x", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 411);
	CU_ASSERT_STRING_EQUAL(req->field, "content_length");
	req_free(req);
	/* nginx passes an absent header as an empty value. */
	CU_ASSERT_EQUAL(status_with("PUT", "CONTENT_LENGTH="), 411);
	CU_ASSERT_EQUAL(status_with("GET", "CONTENT_LENGTH="), 0);
	CU_ASSERT_EQUAL(status_with("GET", NULL), 0);
	CU_ASSERT_EQUAL(status_with("DELETE", NULL), 0);
	CU_ASSERT_EQUAL(status_with("POST", "CONTENT_LENGTH=-1"), 400);
	CU_ASSERT_EQUAL(status_with("POST", "CONTENT_LENGTH=+5"), 400);
	CU_ASSERT_EQUAL(status_with("POST", "CONTENT_LENGTH= 5"), 400);
	CU_ASSERT_EQUAL(status_with("POST", "CONTENT_LENGTH=5 "), 400);
	CU_ASSERT_EQUAL(status_with("POST", "CONTENT_LENGTH=12a"), 400);
	CU_ASSERT_EQUAL(status_with("POST", "CONTENT_LENGTH=0x10"), 400);
	CU_ASSERT_EQUAL(status_with("POST", "CONTENT_LENGTH=1e3"), 400);
	/* Huge values are over the cap however they would overflow. */
	CU_ASSERT_EQUAL(
		status_with("POST", "CONTENT_LENGTH=18446744073709551616"),
		413);
	CU_ASSERT_EQUAL(
		status_with("POST",
			    "CONTENT_LENGTH=99999999999999999999999999999"),
		413);
	CU_ASSERT_EQUAL(status_with("POST", "CONTENT_LENGTH=101"), 413);
	req = parse3("POST", "/x", "CONTENT_LENGTH=101", NULL);
	CU_ASSERT_EQUAL(req->err, EST_E_TOOBIG);
	CU_ASSERT_EQUAL(req->has_length, 0);
	req_free(req);
	req = parse3("POST", "/x", "CONTENT_LENGTH=100", NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_EQUAL(req->has_length, 1);
	CU_ASSERT_EQUAL(req->content_length, 100);
	req_free(req);
	CU_ASSERT_EQUAL(status_with("POST", "CONTENT_LENGTH=0"), 0);
	CU_ASSERT_EQUAL(status_with("POST", "CONTENT_LENGTH=007"), 0);
}

static void
test_body(void)
{
	struct membody mb = {"hello world", 11, 0, 3};
	struct request *req;

	req = parse3("POST", "/x", "CONTENT_LENGTH=5", NULL);
	CU_ASSERT_EQUAL(req_read_body(req, mem_read, &mb), 0);
	CU_ASSERT_EQUAL(req->bodylen, 5);
	CU_ASSERT_STRING_EQUAL((char *)req->body, "hello");
	/* Nothing beyond the stated length was consumed. */
	CU_ASSERT_EQUAL(mb.off, 5);
	req_free(req);
	/* A body shorter than its length. */
	mb.off = 0;
	req = parse3("POST", "/x", "CONTENT_LENGTH=20", NULL);
	CU_ASSERT_EQUAL(req_read_body(req, mem_read, &mb), EST_E_TRUNCATED);
	CU_ASSERT_PTR_NULL(req->body);
	req_free(req);
}

/* --- Basic credentials --- */

static char *
basic_entry(const char *cred, size_t len)
{
	char *b64 = NULL, *entry;
	size_t blen;

	CU_ASSERT_FATAL(
		b64_encode((const uint8_t *)cred, len, 0, &b64, &blen) == 0);
	b64[blen - 1] = '\0'; /* the newline */
	CU_ASSERT_FATAL(asprintf(&entry, "HTTP_AUTHORIZATION=Basic %s", b64) >
			0);
	free(b64);
	return entry;
}

static void
test_basic_good(void)
{
	struct request *req;
	char *e;

	/* "user:pass" */
	req = parse3("GET", "/x", "HTTP_AUTHORIZATION=Basic dXNlcjpwYXNz",
		     NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_STRING_EQUAL(req->auth_user, "user");
	CU_ASSERT_STRING_EQUAL(req->auth_pass, "pass");
	req_free(req);
	/* The scheme is case-insensitive. */
	req = parse3("GET", "/x", "HTTP_AUTHORIZATION=bAsIc dXNlcjpwYXNz",
		     NULL);
	CU_ASSERT_STRING_EQUAL(req->auth_user, "user");
	req_free(req);
	/* The password may contain ':' and be empty. */
	e = basic_entry("app:k:e:y", 9);
	req = parse3("GET", "/x", e, NULL);
	CU_ASSERT_STRING_EQUAL(req->auth_user, "app");
	CU_ASSERT_STRING_EQUAL(req->auth_pass, "k:e:y");
	req_free(req);
	free(e);
	e = basic_entry("dev01:", 6);
	req = parse3("GET", "/x", e, NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_STRING_EQUAL(req->auth_pass, "");
	req_free(req);
	free(e);
	/* Another scheme is left to the handler. */
	req = parse3("GET", "/x", "HTTP_AUTHORIZATION=Bearer abc.def", NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_PTR_NULL(req->auth_user);
	CU_ASSERT_PTR_NULL(req->auth_pass);
	req_free(req);
}

static void
test_basic_bad(void)
{
	char user[REQ_USER_MAX + 3];
	struct request *req;
	char *e;

	CU_ASSERT_EQUAL(status_with("GET", "HTTP_AUTHORIZATION=Basic !!!!"),
			400);
	/* Padding missing, or data after it. */
	CU_ASSERT_EQUAL(
		status_with("GET", "HTTP_AUTHORIZATION=Basic dXNlcjpwYQ"), 400);
	CU_ASSERT_EQUAL(
		status_with("GET", "HTTP_AUTHORIZATION=Basic dXNlcjpwYQ==dXNl"),
		400);
	CU_ASSERT_EQUAL(
		status_with("GET", "HTTP_AUTHORIZATION=Basic dXNl cjpwYXNz"),
		400);
	CU_ASSERT_EQUAL(status_with("GET", "HTTP_AUTHORIZATION=Basic "), 400);
	/* No colon. */
	e = basic_entry("nocolon", 7);
	CU_ASSERT_EQUAL(status_with("GET", e), 400);
	free(e);
	/* An empty user-id. */
	e = basic_entry(":pass", 5);
	CU_ASSERT_EQUAL(status_with("GET", e), 400);
	free(e);
	/* A NUL would cut the C string short of what was sent. */
	e = basic_entry("us\0er:pass", 10);
	CU_ASSERT_EQUAL(status_with("GET", e), 400);
	free(e);
	e = basic_entry("user:pa\0ss", 10);
	CU_ASSERT_EQUAL(status_with("GET", e), 400);
	free(e);
	/* Control characters. */
	e = basic_entry("user:pa\nss", 10);
	CU_ASSERT_EQUAL(status_with("GET", e), 400);
	free(e);
	/* A user-id over the cap. */
	memset(user, 'u', sizeof(user));
	user[REQ_USER_MAX + 1] = ':';
	e = basic_entry(user, sizeof(user) - 1);
	req = parse3("GET", "/x", e, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	CU_ASSERT_STRING_EQUAL(req->field, "authorization");
	CU_ASSERT_PTR_NULL(req->auth_user);
	req_free(req);
	free(e);
}

/* --- base64 --- */

static void
test_b64(void)
{
	static const char ws[] = "aGVs\r\nbG8g\n d29y bGQ=\n";
	uint8_t *out = NULL;
	char *enc = NULL;
	uint8_t data[100];
	size_t n, i;

	CU_ASSERT_EQUAL(b64_decode(ws, strlen(ws), B64_SKIP_WS, &out, &n), 0);
	CU_ASSERT_EQUAL(n, 11);
	CU_ASSERT_NSTRING_EQUAL(out, "hello world", 11);
	free(out);
	CU_ASSERT_EQUAL(b64_decode(ws, strlen(ws), 0, &out, &n), EST_E_INVAL);
	CU_ASSERT_EQUAL(b64_decode("aGk=", 4, 0, &out, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	free(out);
	/* Non-zero trailing bits: "aGl=" is not the canonical "aGk=". */
	CU_ASSERT_EQUAL(b64_decode("aGl=", 4, 0, &out, &n), EST_E_INVAL);
	CU_ASSERT_EQUAL(b64_decode("a===", 4, 0, &out, &n), EST_E_INVAL);
	CU_ASSERT_EQUAL(b64_decode("=", 1, 0, &out, &n), EST_E_INVAL);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	for (i = 0; i <= sizeof(data); i++) {
		CU_ASSERT_EQUAL_FATAL(b64_encode(data, i, 64, &enc, &n), 0);
		CU_ASSERT_EQUAL(enc[n - 1], '\n');
		CU_ASSERT_EQUAL_FATAL(b64_decode(enc, n, B64_SKIP_WS, &out, &n),
				      0);
		CU_ASSERT_EQUAL(n, i);
		CU_ASSERT_EQUAL(memcmp(out, data, i), 0);
		free(out);
		free(enc);
	}
}

/* --- REMOTE_ADDR and the environment itself --- */

static void
test_remote(void)
{
	struct request *req;

	req = parse3("GET", "/x", "REMOTE_ADDR=127.0.0.1", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req->remote);
	CU_ASSERT_EQUAL(req->remote->af, AF_INET);
	CU_ASSERT_STRING_EQUAL(req->remote->text, "127.0.0.1");
	req_free(req);
	req = parse3("GET", "/x", "REMOTE_ADDR=::1", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req->remote);
	CU_ASSERT_EQUAL(req->remote->af, AF_INET6);
	CU_ASSERT_STRING_EQUAL(req->remote->text, "::1");
	req_free(req);
	/* An IPv4 client on a dual-stack socket is an IPv4 client. */
	req = parse3("GET", "/x", "REMOTE_ADDR=::ffff:10.1.2.3", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req->remote);
	CU_ASSERT_EQUAL(req->remote->af, AF_INET);
	CU_ASSERT_STRING_EQUAL(req->remote->text, "10.1.2.3");
	req_free(req);
	CU_ASSERT_EQUAL(status_with("GET", "REMOTE_ADDR=1.2.3"), 400);
	CU_ASSERT_EQUAL(status_with("GET", "REMOTE_ADDR=fe80::1%eth0"), 400);
	CU_ASSERT_EQUAL(status_with("GET", "REMOTE_ADDR=localhost"), 400);
}

static void
test_env_dup(void)
{
	char *env[] = {"REQUEST_METHOD=GET",
		       "REQUEST_URI=/x",
		       "HTTP_HOST=a.example",
		       "HTTP_HOST=b.example",
		       "NOEQUALS",
		       "HTTP_X_UNKNOWN=\r\n",
		       NULL};
	struct request *req = parse_env(env);

	/* Two values for one variable: neither is believed. */
	CU_ASSERT_EQUAL(req->status, 400);
	CU_ASSERT_STRING_EQUAL(req->field, "host");
	req_free(req);
	CU_ASSERT_EQUAL(req_parse(NULL, &(struct req_limits){1}, &req), 0);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
	req_free(NULL);
}

int
test_suites(void)
{
	static CU_TestInfo req_tests[] = {
		{"method table", test_method_table},
		{"unknown methods: 405 or 501", test_method_unknown},
		{"method list for Allow", test_method_list},
		{"URI decoding accepts good paths", test_uri_good},
		{"URI decoding refuses NUL, bad escapes, dot-segments",
		 test_uri_bad},
		{"URI length caps", test_uri_overlong},
		{"query parameters", test_query_good},
		{"query refusals and caps", test_query_bad},
		{"Host: names, IPv4, IPv6 with port", test_host_good},
		{"Host: injection, spaces, @, bad names", test_host_bad},
		{"Host: length caps", test_host_overlong},
		{"CONTENT_LENGTH: 411, 413, strict digits", test_length},
		{"body read exactly through the callback", test_body},
		{"REMOTE_ADDR", test_remote},
		{"duplicate and stray variables", test_env_dup},
		{NULL, NULL},
	};
	static CU_TestInfo auth_tests[] = {
		{"Basic credentials", test_basic_good},
		{"Basic refusals", test_basic_bad},
		{"base64", test_b64},
		{NULL, NULL},
	};
	int r;

	/* The dispatcher logs 5xx answers; the tests provoke them. */
	log_init("test_req", 0, LOG_LVL_ERR);
	if ((r = test_add_suite("request", NULL, NULL, req_tests)) != 0 ||
	    (r = test_add_suite("credentials", NULL, NULL, auth_tests)) != 0 ||
	    (r = test_req_tls_suites()) != 0 ||
	    (r = test_req_http_suites()) != 0)
		return r;
	return 0;
}
