/*
 * The parts of authentication that need no database (fcgi/auth.h,
 * db/apiapp.h): cookie parsing, session and CSRF tokens and their digests,
 * the throttling arithmetic, the session expiry decision, the throttling
 * key of an address, client certificates, the request module's Cookie and
 * X-CSRF-Token fields, the answers auth_require() gives before it needs
 * the database, and the AppKey hash.  The database-backed paths (login,
 * sessions, applications) are covered over HTTPS by
 * tests/integration/test_auth.sh.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "apiapp.h"
#include "auth.h"
#include "conf.h"
#include "ctx.h"
#include "err.h"
#include "harness.h"
#include "req.h"
#include "resp.h"
#include "util.h"

#define US INT64_C(1000000)

/* --- helpers --- */

static struct request *
parse(char **env)
{
	struct req_limits lim = {.max_body = 4096};
	struct request *req = NULL;

	CU_ASSERT_FATAL(req_parse(env, &lim, &req) == 0);
	CU_ASSERT_FATAL(req != NULL);
	return req;
}

/* A GET or POST request with up to three extra "KEY=value" entries. */
static struct request *
request3(const char *method, const char *e1, const char *e2, const char *e3)
{
	char m[64];
	char *env[8] = {NULL};
	size_t n = 0;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	env[n++] = m;
	env[n++] = (char *)"REQUEST_URI=/api/v1/auth/me";
	env[n++] = (char *)"REMOTE_ADDR=192.0.2.7";
	if (strcmp(method, "POST") == 0)
		env[n++] = (char *)"CONTENT_LENGTH=0";
	if (e1 != NULL)
		env[n++] = (char *)(uintptr_t)e1;
	if (e2 != NULL)
		env[n++] = (char *)(uintptr_t)e2;
	if (e3 != NULL)
		env[n++] = (char *)(uintptr_t)e3;
	return parse(env);
}

/* A self-signed EC certificate valid from now + from to now + to seconds. */
static X509 *
make_cert(long from, long to)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n;

	CU_ASSERT_FATAL(k != NULL && x != NULL);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)"client", -1, -1, 0);
	X509_set_issuer_name(x, n);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, k);
	CU_ASSERT_FATAL(X509_sign(x, k, EVP_sha256()) > 0);
	EVP_PKEY_free(k);
	return x;
}

/* "SSL_CLIENT_CERT=<PEM>" of x, in a new string. */
static char *
cert_env(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out;
	long len;

	CU_ASSERT_FATAL(b != NULL && PEM_write_bio_X509(b, x) == 1);
	len = BIO_get_mem_data(b, &p);
	out = malloc((size_t)len + 17);
	CU_ASSERT_FATAL(out != NULL);
	memcpy(out, "SSL_CLIENT_CERT=", 16);
	memcpy(out + 16, p, (size_t)len);
	out[16 + len] = '\0';
	BIO_free(b);
	return out;
}

/* --- cookies --- */

static void
test_cookie_found_among_others(void)
{
	char v[64];

	CU_ASSERT(auth_cookie_value("a=1; estuary_session=tok; b=2",
				    AUTH_COOKIE, v, sizeof(v)) == 0);
	CU_ASSERT_STRING_EQUAL(v, "tok");
	CU_ASSERT(auth_cookie_value("estuary_session=first", AUTH_COOKIE, v,
				    sizeof(v)) == 0);
	CU_ASSERT_STRING_EQUAL(v, "first");
	/* No space after ';', trailing blanks, a quoted value. */
	CU_ASSERT(auth_cookie_value("x=y;estuary_session=\"q\"  ", AUTH_COOKIE,
				    v, sizeof(v)) == 0);
	CU_ASSERT_STRING_EQUAL(v, "q");
	CU_ASSERT(auth_cookie_value("estuary_session=", AUTH_COOKIE, v,
				    sizeof(v)) == 0);
	CU_ASSERT_STRING_EQUAL(v, "");
}

static void
test_cookie_name_is_exact(void)
{
	char v[64];

	CU_ASSERT(auth_cookie_value("xestuary_session=a", AUTH_COOKIE, v,
				    sizeof(v)) == EST_E_NOTFOUND);
	CU_ASSERT(auth_cookie_value("estuary_session2=a", AUTH_COOKIE, v,
				    sizeof(v)) == EST_E_NOTFOUND);
	CU_ASSERT(auth_cookie_value("Estuary_Session=a", AUTH_COOKIE, v,
				    sizeof(v)) == EST_E_NOTFOUND);
	CU_ASSERT(auth_cookie_value("a=estuary_session=b", AUTH_COOKIE, v,
				    sizeof(v)) == EST_E_NOTFOUND);
	CU_ASSERT(auth_cookie_value("estuary_session", AUTH_COOKIE, v,
				    sizeof(v)) == EST_E_NOTFOUND);
	CU_ASSERT(auth_cookie_value(NULL, AUTH_COOKIE, v, sizeof(v)) ==
		  EST_E_NOTFOUND);
	CU_ASSERT(auth_cookie_value("", AUTH_COOKIE, v, sizeof(v)) ==
		  EST_E_NOTFOUND);
}

static void
test_cookie_twice_or_too_long_refused(void)
{
	char v[8];

	CU_ASSERT(auth_cookie_value("estuary_session=a; estuary_session=b",
				    AUTH_COOKIE, v, sizeof(v)) == EST_E_INVAL);
	CU_ASSERT(auth_cookie_value("estuary_session=12345678", AUTH_COOKIE, v,
				    sizeof(v)) == EST_E_INVAL);
	CU_ASSERT(auth_cookie_value("estuary_session=1234567", AUTH_COOKIE, v,
				    sizeof(v)) == 0);
}

/* --- tokens --- */

static void
test_token_new_is_base64url_and_hashed(void)
{
	char t1[AUTH_TOKEN_LEN + 1], t2[AUTH_TOKEN_LEN + 1];
	uint8_t h1[AUTH_HASH_LEN], h2[AUTH_HASH_LEN], md[AUTH_HASH_LEN];
	unsigned int mdlen = 0;
	size_t i;

	CU_ASSERT_FATAL(auth_token_new(t1, h1) == 0);
	CU_ASSERT_FATAL(auth_token_new(t2, h2) == 0);
	CU_ASSERT_EQUAL(strlen(t1), AUTH_TOKEN_LEN);
	CU_ASSERT(strcmp(t1, t2) != 0);
	CU_ASSERT(memcmp(h1, h2, sizeof(h1)) != 0);
	for (i = 0; i < AUTH_TOKEN_LEN; i++)
		CU_ASSERT(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
				 "tuvwxyz0123456789-_",
				 t1[i]) != NULL);
	/* The digest is SHA-256 of the token as the client sends it. */
	CU_ASSERT_FATAL(EVP_Digest(t1, strlen(t1), md, &mdlen, EVP_sha256(),
				   NULL) == 1);
	CU_ASSERT(memcmp(md, h1, sizeof(md)) == 0);
	CU_ASSERT(auth_token_hash(t1, h2) == 0);
	CU_ASSERT(memcmp(h1, h2, sizeof(h1)) == 0);
}

static void
test_token_hash_refuses_other_shapes(void)
{
	char tok[AUTH_TOKEN_LEN + 2];
	uint8_t h[AUTH_HASH_LEN];

	memset(tok, 'A', sizeof(tok));
	tok[AUTH_TOKEN_LEN] = '\0';
	CU_ASSERT(auth_token_hash(tok, h) == 0);
	tok[AUTH_TOKEN_LEN - 1] = '\0';
	CU_ASSERT(auth_token_hash(tok, h) == EST_E_INVAL);
	tok[AUTH_TOKEN_LEN - 1] = 'A';
	tok[AUTH_TOKEN_LEN] = 'A';
	tok[AUTH_TOKEN_LEN + 1] = '\0';
	CU_ASSERT(auth_token_hash(tok, h) == EST_E_INVAL);
	tok[AUTH_TOKEN_LEN] = '\0';
	tok[5] = '+';
	CU_ASSERT(auth_token_hash(tok, h) == EST_E_INVAL);
	tok[5] = '=';
	CU_ASSERT(auth_token_hash(tok, h) == EST_E_INVAL);
	CU_ASSERT(auth_token_hash("", h) == EST_E_INVAL);
}

/* --- throttling and expiry --- */

static void
test_throttle_below_limit_waits_not(void)
{
	int64_t now = 1700000000 * US, ts[5];
	size_t i;

	for (i = 0; i < 5; i++)
		ts[i] = now - (int64_t)(i + 1) * 10 * US;
	CU_ASSERT_EQUAL(auth_throttle_wait(ts, 0, 5, 900, now), 0);
	CU_ASSERT_EQUAL(auth_throttle_wait(ts, 4, 5, 900, now), 0);
}

static void
test_throttle_at_limit_waits_for_oldest_counted(void)
{
	int64_t now = 1700000000 * US, ts[5];
	size_t i;

	/* Failures 10, 20, ..., 50 s ago; the fifth newest is 50 s old. */
	for (i = 0; i < 5; i++)
		ts[i] = now - (int64_t)(i + 1) * 10 * US;
	CU_ASSERT_EQUAL(auth_throttle_wait(ts, 5, 5, 900, now), 850);
	/* With a limit of 3, the third newest (30 s old) decides. */
	CU_ASSERT_EQUAL(auth_throttle_wait(ts, 5, 3, 900, now), 870);
	/* Part of a second counts as a whole one. */
	ts[4] = now - 50 * US - 1;
	CU_ASSERT_EQUAL(auth_throttle_wait(ts, 5, 5, 900, now), 850);
	ts[4] = now - 50 * US + 1;
	CU_ASSERT_EQUAL(auth_throttle_wait(ts, 5, 5, 900, now), 851);
	/* The last microsecond still waits a second. */
	ts[4] = now - 900 * US + 1;
	CU_ASSERT_EQUAL(auth_throttle_wait(ts, 5, 5, 900, now), 1);
	/* Already out of the window: no wait. */
	ts[4] = now - 900 * US;
	CU_ASSERT_EQUAL(auth_throttle_wait(ts, 5, 5, 900, now), 0);
}

static void
test_session_idle_and_absolute_timeouts(void)
{
	int64_t now = 1700000000 * US;

	CU_ASSERT(auth_session_live(now, now - 10 * US, now + 3600 * US, 1800));
	/* Idle for exactly the timeout: over. */
	CU_ASSERT(!auth_session_live(now, now - 1800 * US, now + 3600 * US,
				     1800));
	CU_ASSERT(auth_session_live(now, now - 1800 * US + 1, now + 3600 * US,
				    1800));
	/* Past the absolute timeout, however recent the last request. */
	CU_ASSERT(!auth_session_live(now, now, now, 1800));
	CU_ASSERT(!auth_session_live(now, now, now - 1, 1800));
	CU_ASSERT(auth_session_live(now, now, now + 1, 1800));
}

static void
test_addr_key_ipv4_and_ipv6_prefix(void)
{
	char *env4[] = {(char *)"REQUEST_METHOD=GET", (char *)"REQUEST_URI=/",
			(char *)"REMOTE_ADDR=198.51.100.23", NULL};
	char *env6[] = {(char *)"REQUEST_METHOD=GET", (char *)"REQUEST_URI=/",
			(char *)"REMOTE_ADDR=2001:db8:1:2:aaaa:bbbb:cccc:dddd",
			NULL};
	char *envm[] = {(char *)"REQUEST_METHOD=GET", (char *)"REQUEST_URI=/",
			(char *)"REMOTE_ADDR=::ffff:192.0.2.1", NULL};
	struct request *req;
	char key[64], small[8];

	req = parse(env4);
	CU_ASSERT(auth_addr_key(req->remote, key, sizeof(key)) == 0);
	CU_ASSERT_STRING_EQUAL(key, "198.51.100.23");
	CU_ASSERT(auth_addr_key(req->remote, small, sizeof(small)) ==
		  EST_E_TOOBIG);
	req_free(req);
	req = parse(env6);
	CU_ASSERT(auth_addr_key(req->remote, key, sizeof(key)) == 0);
	CU_ASSERT_STRING_EQUAL(key, "2001:db8:1:2::/64");
	req_free(req);
	req = parse(envm);
	CU_ASSERT(auth_addr_key(req->remote, key, sizeof(key)) == 0);
	CU_ASSERT_STRING_EQUAL(key, "192.0.2.1");
	req_free(req);
	CU_ASSERT(auth_addr_key(NULL, key, sizeof(key)) == 0);
	CU_ASSERT_STRING_EQUAL(key, "unknown");
}

/* --- client certificates --- */

static void
test_cert_usable_needs_status_and_validity(void)
{
	X509 *good = make_cert(-60, 3600), *old = make_cert(-7200, -3600);
	X509 *later = make_cert(3600, 7200);
	char *eg = cert_env(good), *eo = cert_env(old), *el = cert_env(later);
	struct request *req;
	uint8_t fp[32], want[32];
	unsigned int len = 0;

	req = request3("GET", eg, "SSL_CLIENT_VERIFY=SUCCESS", NULL);
	CU_ASSERT(auth_cert_usable(req));
	CU_ASSERT(auth_cert_fingerprint(req->client_cert, fp) == 0);
	CU_ASSERT_FATAL(X509_digest(good, EVP_sha256(), want, &len) == 1);
	CU_ASSERT(memcmp(fp, want, sizeof(fp)) == 0);
	req_free(req);
	req = request3("GET", eg, "SSL_CLIENT_VERIFY=GENEROUS", NULL);
	CU_ASSERT(auth_cert_usable(req));
	req_free(req);
	req = request3("GET", eg, "SSL_CLIENT_VERIFY=FAILED:unknown ca", NULL);
	CU_ASSERT(!auth_cert_usable(req));
	req_free(req);
	req = request3("GET", eg, "SSL_CLIENT_VERIFY=NONE", NULL);
	CU_ASSERT(!auth_cert_usable(req));
	req_free(req);
	/* No status at all is not a verification. */
	req = request3("GET", eg, NULL, NULL);
	CU_ASSERT(!auth_cert_usable(req));
	req_free(req);
	req = request3("GET", eo, "SSL_CLIENT_VERIFY=GENEROUS", NULL);
	CU_ASSERT(!auth_cert_usable(req));
	req_free(req);
	req = request3("GET", el, "SSL_CLIENT_VERIFY=GENEROUS", NULL);
	CU_ASSERT(!auth_cert_usable(req));
	req_free(req);
	req = request3("GET", "SSL_CLIENT_VERIFY=SUCCESS", NULL, NULL);
	CU_ASSERT(!auth_cert_usable(req));
	req_free(req);
	free(eg);
	free(eo);
	free(el);
	X509_free(good);
	X509_free(old);
	X509_free(later);
}

/* --- the request module's fields --- */

static void
test_request_cookie_and_csrf_fields(void)
{
	struct request *req;

	req = request3("GET", "HTTP_COOKIE=a=1; estuary_session=x",
		       "HTTP_X_CSRF_TOKEN=abc-_DEF", NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_STRING_EQUAL(req->cookie, "a=1; estuary_session=x");
	CU_ASSERT_STRING_EQUAL(req->csrf_token, "abc-_DEF");
	req_free(req);
	/* Another site's UTF-8 cookie does not break the request. */
	req = request3("GET", "HTTP_COOKIE=lang=Z\xc3\xbcrich", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	req_free(req);
	req = request3("GET", "HTTP_COOKIE=a=1\r\nX: y", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	CU_ASSERT_STRING_EQUAL(req->field, "cookie");
	CU_ASSERT_PTR_NULL(req->cookie);
	req_free(req);
	req = request3("GET", "HTTP_X_CSRF_TOKEN=t\xc3\xbc", NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	CU_ASSERT_STRING_EQUAL(req->field, "csrf_token");
	req_free(req);
	/* Empty means absent (nginx passes unset variables empty). */
	req = request3("GET", "HTTP_COOKIE=", "HTTP_X_CSRF_TOKEN=", NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_PTR_NULL(req->cookie);
	CU_ASSERT_PTR_NULL(req->csrf_token);
	req_free(req);
}

static void
test_request_cookie_cap(void)
{
	size_t n = strlen("HTTP_COOKIE=") + REQ_COOKIE_MAX + 1;
	char *e = malloc(n + 1);
	struct request *req;

	CU_ASSERT_FATAL(e != NULL);
	memcpy(e, "HTTP_COOKIE=", 12);
	memset(e + 12, 'a', n - 12);
	e[n] = '\0';
	req = request3("GET", e, NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
	e[n - 1] = '\0';
	req = request3("GET", e, NULL, NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	req_free(req);
	free(e);
}

/* --- answers without the database --- */

static int handler_ran;

static int
must_not_run(struct hctx *c, const struct request *req,
	     const struct principal *p, struct resp *rs)
{
	(void)c;
	(void)req;
	(void)p;
	handler_ran = 1;
	return resp_empty(rs, 204);
}

/* The error code of a JSON error body. */
static const char *
error_code(struct resp *rs, char *buf, size_t len)
{
	struct json_object *o, *e, *code;
	const uint8_t *body;
	size_t blen;

	buf[0] = '\0';
	body = resp_get_body(rs, &blen);
	if (body == NULL ||
	    (o = json_tokener_parse((const char *)body)) == NULL)
		return buf;
	if (json_object_object_get_ex(o, "error", &e) &&
	    json_object_object_get_ex(e, "code", &code))
		snprintf(buf, len, "%s", json_object_get_string(code));
	json_object_put(o);
	return buf;
}

static void
test_require_no_credentials_401_without_challenge(void)
{
	struct hctx c = {0};
	struct resp *rs = resp_new(RESP_API);
	struct request *req;
	char code[32];

	CU_ASSERT_FATAL(rs != NULL);
	handler_ran = 0;
	/* Other cookies are no credentials either. */
	req = request3("GET", "HTTP_COOKIE=lang=en", NULL, NULL);
	CU_ASSERT(auth_require(&c, req, rs, must_not_run) == 0);
	CU_ASSERT_EQUAL(resp_status(rs), 401);
	CU_ASSERT_STRING_EQUAL(error_code(rs, code, sizeof(code)), "UNAUTH");
	CU_ASSERT_PTR_NULL(resp_get_header(rs, "WWW-Authenticate"));
	CU_ASSERT(!handler_ran);
	/* The database was not needed to say so. */
	CU_ASSERT_PTR_NULL(c.db);
	req_free(req);
	resp_free(rs);
}

static void
test_require_cookie_and_basic_is_400(void)
{
	struct hctx c = {0};
	struct resp *rs = resp_new(RESP_API);
	struct request *req;

	CU_ASSERT_FATAL(rs != NULL);
	handler_ran = 0;
	/* "app:key" in base64. */
	req = request3("GET", "HTTP_COOKIE=estuary_session=abc",
		       "HTTP_AUTHORIZATION=Basic YXBwOmtleQ==", NULL);
	CU_ASSERT_FATAL(req->status == 0);
	CU_ASSERT(auth_require(&c, req, rs, must_not_run) == 0);
	CU_ASSERT_EQUAL(resp_status(rs), 400);
	CU_ASSERT(!handler_ran);
	CU_ASSERT_PTR_NULL(c.db);
	req_free(req);
	resp_free(rs);
}

static void
test_error_challenge_only_when_asked(void)
{
	struct resp *rs = resp_new(RESP_API);
	char code[32];

	CU_ASSERT_FATAL(rs != NULL);
	CU_ASSERT(auth_error(rs, 401, "UNAUTH", "authentication required", NULL,
			     1) == 0);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "WWW-Authenticate"),
			       "Basic realm=\"estuary-api\"");
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "Content-Type"),
			       "application/json");
	CU_ASSERT(auth_error(rs, 403, "CSRF", "missing", AUTH_CSRF_HEADER, 0) ==
		  0);
	CU_ASSERT_EQUAL(resp_status(rs), 403);
	CU_ASSERT_STRING_EQUAL(error_code(rs, code, sizeof(code)), "CSRF");
	/* The earlier answer's header went with it. */
	CU_ASSERT_PTR_NULL(resp_get_header(rs, "WWW-Authenticate"));
	resp_free(rs);
}

static void
test_cookie_headers(void)
{
	struct resp *rs = resp_new(RESP_API);
	const char *v;

	CU_ASSERT_FATAL(rs != NULL);
	CU_ASSERT(auth_cookie_set(rs, "TOKEN") == 0);
	v = resp_get_header(rs, "Set-Cookie");
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_STRING_EQUAL(v, "estuary_session=TOKEN; Path=/; Secure; "
				  "HttpOnly; SameSite=Strict");
	resp_reset(rs);
	CU_ASSERT(auth_cookie_clear(rs) == 0);
	v = resp_get_header(rs, "Set-Cookie");
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT(strncmp(v, "estuary_session=;", 16) == 0);
	CU_ASSERT(strstr(v, "Max-Age=0") != NULL);
	resp_free(rs);
}

/* --- principals --- */

static void
test_principal_json_and_actor(void)
{
	struct principal p;
	struct perm_actor a;
	struct json_object *o = NULL, *v;

	memset(&p, 0, sizeof(p));
	p.kind = PRINCIPAL_APPLICATION;
	p.method = AUTH_BASIC;
	p.id = 7;
	snprintf(p.name, sizeof(p.name), "factory line 1");
	snprintf(p.app_id, sizeof(p.app_id),
		 "0123456789abcdef0123456789abcdef");
	p.role = PERM_ROLE_ORG_OPERATOR;
	p.tenant_id = 3;
	p.org_id = 4;
	CU_ASSERT_FATAL(auth_principal_json(&p, &o) == 0);
	CU_ASSERT(json_object_object_get_ex(o, "type", &v) &&
		  strcmp(json_object_get_string(v), "application") == 0);
	CU_ASSERT(json_object_object_get_ex(o, "role", &v) &&
		  strcmp(json_object_get_string(v), "org_operator") == 0);
	CU_ASSERT(json_object_object_get_ex(o, "auth_method", &v) &&
		  strcmp(json_object_get_string(v), "basic") == 0);
	CU_ASSERT(json_object_object_get_ex(o, "app_id", &v) &&
		  strcmp(json_object_get_string(v), p.app_id) == 0);
	CU_ASSERT(json_object_object_get_ex(o, "org_id", &v) &&
		  json_object_get_int64(v) == 4);
	json_object_put(o);
	CU_ASSERT(auth_actor(&p, &a) == 0);
	CU_ASSERT_EQUAL(a.role, PERM_ROLE_ORG_OPERATOR);
	CU_ASSERT_EQUAL(a.tenant_id, 3);
	CU_ASSERT_EQUAL(a.org_id, 4);

	/* An Admin has no tenant: null, not 0. */
	p.kind = PRINCIPAL_USER;
	p.method = AUTH_SESSION;
	p.role = PERM_ROLE_ADMIN;
	p.tenant_id = p.org_id = 0;
	p.strong = 1;
	CU_ASSERT_FATAL(auth_principal_json(&p, &o) == 0);
	CU_ASSERT(json_object_object_get_ex(o, "tenant_id", &v) && v == NULL);
	CU_ASSERT(json_object_object_get_ex(o, "strong_auth", &v) &&
		  json_object_get_boolean(v));
	CU_ASSERT(!json_object_object_get_ex(o, "app_id", NULL));
	json_object_put(o);

	p.role = PERM_ROLE_NONE;
	CU_ASSERT(auth_actor(&p, &a) == EST_E_INVAL);
	CU_ASSERT(auth_principal_json(&p, &o) == EST_E_INVAL);
}

/* --- start-up --- */

static void
test_init_checks_timeouts(void)
{
	struct conf *c = NULL;
	void *st = NULL;
	const struct auth_state *as;

	CU_ASSERT_FATAL(
		conf_defaults(estuary_conf_defs, estuary_conf_ndefs, &c) == 0);
	CU_ASSERT_FATAL(auth_init(c, &st) == 0);
	as = st;
	CU_ASSERT_EQUAL(as->idle_timeout, 1800);
	CU_ASSERT_EQUAL(as->absolute_timeout, 43200);
	CU_ASSERT(strncmp(as->dummy_hash, "$argon2id$", 10) == 0);
	auth_fini(st);
	st = NULL;
	CU_ASSERT(conf_set(c, "session_idle_timeout", "59") == 0);
	CU_ASSERT(auth_init(c, &st) == EST_E_CONFIG);
	CU_ASSERT(conf_set(c, "session_idle_timeout", "600") == 0);
	CU_ASSERT(conf_set(c, "session_absolute_timeout", "300") == 0);
	CU_ASSERT(auth_init(c, &st) == EST_E_CONFIG);
	CU_ASSERT_PTR_NULL(st);
	auth_fini(NULL);
	conf_free(c);
}

/* --- API application keys --- */

static void
test_app_credentials_and_key_check(void)
{
	char id[APIAPP_ID_LEN + 1], id2[APIAPP_ID_LEN + 1];
	char hash[APIAPP_KEY_HASH_LEN + 1], hash2[APIAPP_KEY_HASH_LEN + 1];
	char *key = NULL, *key2 = NULL;

	CU_ASSERT_FATAL(apiapp_credentials_new(id, &key, hash) == 0);
	CU_ASSERT_FATAL(apiapp_credentials_new(id2, &key2, hash2) == 0);
	CU_ASSERT(apiapp_id_valid(id));
	CU_ASSERT(strcmp(id, id2) != 0);
	/* 256 bits of base64url, and only the hash stored. */
	CU_ASSERT_EQUAL(strlen(key), 43);
	CU_ASSERT(strncmp(hash, "sha256$", 7) == 0);
	CU_ASSERT_EQUAL(strlen(hash), APIAPP_KEY_HASH_LEN);
	CU_ASSERT(strstr(hash, key) == NULL);
	CU_ASSERT(apiapp_key_check(key, hash) == 0);
	CU_ASSERT(apiapp_key_check(key2, hash) == EST_E_DENIED);
	CU_ASSERT(apiapp_key_check(key, hash2) == EST_E_DENIED);
	CU_ASSERT(apiapp_key_check("", hash) == EST_E_DENIED);
	/* A stored form this code does not write never matches. */
	hash[0] = 'S';
	CU_ASSERT(apiapp_key_check(key, hash) == EST_E_DENIED);
	CU_ASSERT(apiapp_key_check(key, "sha256$") == EST_E_DENIED);
	CU_ASSERT(apiapp_key_check(key, NULL) == EST_E_DENIED);
	freezero_str(key);
	freezero_str(key2);
}

static void
test_app_id_shape(void)
{
	CU_ASSERT(apiapp_id_valid("803831697cc94480a6c82a3340dcdfc3"));
	CU_ASSERT(!apiapp_id_valid("803831697CC94480A6C82A3340DCDFC3"));
	CU_ASSERT(!apiapp_id_valid("803831697cc94480a6c82a3340dcdfc"));
	CU_ASSERT(!apiapp_id_valid("803831697cc94480a6c82a3340dcdfc33"));
	CU_ASSERT(!apiapp_id_valid("803831697cc94480a6c82a3340dcdfcg"));
	CU_ASSERT(!apiapp_id_valid(""));
}

int
test_suites(void)
{
	static CU_TestInfo cookies[] = {
		{"found among others", test_cookie_found_among_others},
		{"name is exact", test_cookie_name_is_exact},
		{"twice or too long refused",
		 test_cookie_twice_or_too_long_refused},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo tokens[] = {
		{"new token is base64url and hashed",
		 test_token_new_is_base64url_and_hashed},
		{"hash refuses other shapes",
		 test_token_hash_refuses_other_shapes},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo timing[] = {
		{"below the limit no wait",
		 test_throttle_below_limit_waits_not},
		{"at the limit wait for the oldest counted",
		 test_throttle_at_limit_waits_for_oldest_counted},
		{"idle and absolute timeouts",
		 test_session_idle_and_absolute_timeouts},
		{"address key: IPv4 and IPv6 /64",
		 test_addr_key_ipv4_and_ipv6_prefix},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo requests[] = {
		{"client certificate needs status and validity",
		 test_cert_usable_needs_status_and_validity},
		{"cookie and CSRF fields", test_request_cookie_and_csrf_fields},
		{"cookie cap", test_request_cookie_cap},
		{"no credentials: 401 without challenge",
		 test_require_no_credentials_401_without_challenge},
		{"cookie and Basic: 400", test_require_cookie_and_basic_is_400},
		{"challenge only when asked",
		 test_error_challenge_only_when_asked},
		{"Set-Cookie attributes", test_cookie_headers},
		{"principal JSON and actor", test_principal_json_and_actor},
		{"start-up checks the timeouts", test_init_checks_timeouts},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo apps[] = {
		{"credentials and key check",
		 test_app_credentials_and_key_check},
		{"AppID shape", test_app_id_shape},
		CU_TEST_INFO_NULL,
	};
	int r;

	if ((r = test_add_suite("auth cookies", NULL, NULL, cookies)) != 0 ||
	    (r = test_add_suite("auth tokens", NULL, NULL, tokens)) != 0 ||
	    (r = test_add_suite("auth throttling and expiry", NULL, NULL,
				timing)) != 0 ||
	    (r = test_add_suite("auth requests", NULL, NULL, requests)) != 0 ||
	    (r = test_add_suite("auth application keys", NULL, NULL, apps)) !=
		    0)
		return r;
	return 0;
}
