/*
 * "Test connection" of an EST server (guide §2.3.4): estuary-api performs
 * the cacerts request a client would, over HTTPS against this
 * installation's own web server, and reports what came back:
 *
 *	POST /api/v1/est-servers/{id}/test-connection
 *	200 {"ok": bool, "server_id": N, "domain": "...",
 *	     "results": [{"path": "/.well-known/est/cacerts", "ok": bool,
 *	                  "status": N, "certificates": N, "error": "..."},
 *	                 ... one per label ...]}
 *
 * The address connected to is est_self_url from estuary.conf(5) (the
 * loopback address unless an operator configured another), never
 * anything taken from the request; the server's domain is sent as SNI
 * and Host, and the web server's certificate is verified for that name
 * against est_self_ca (or the system's trust store).  Each exchange is
 * bounded in time and size, and the whole test by TEST_DEADLINE.  The
 * test is audited (action test_connection) with its outcome.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "api_estsrv.h"
#include "b64.h"
#include "conf.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "estsrv.h"
#include "log.h"
#include "resp.h"
#include "rest.h"

#define IO_TIMEOUT_MS 3000 /* connect, and each read or write */
#define TEST_DEADLINE 15   /* seconds for all the paths together */
#define RESPONSE_MAX (256u * 1024)
#define PATH_MAX_LEN 64

struct self_url {
	char host[256]; /* without brackets */
	char port[6];
};

struct test_result {
	int ok;
	int status; /* HTTP status, 0 when none came */
	int certificates;
	char error[160];
};

static int
parse_self_url(const char *url, struct self_url *u)
{
	const char *h, *end;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (url == NULL || strncmp(url, "https://", 8) != 0)
		return EST_E_CONFIG;
	h = url + 8;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL)
			return EST_E_CONFIG;
		n = (size_t)(end - h - 1);
		h++;
		end++;
	} else {
		end = h + strcspn(h, ":");
		n = (size_t)(end - h);
	}
	if (n == 0 || n >= sizeof(u->host))
		return EST_E_CONFIG;
	memcpy(u->host, h, n);
	if (*end == ':') {
		if (strlen(end + 1) >= sizeof(u->port) || end[1] == '\0')
			return EST_E_CONFIG;
		strcpy(u->port, end + 1);
	} else if (*end == '\0') {
		strcpy(u->port, "443");
	} else {
		return EST_E_CONFIG;
	}
	return 0;
}

static int
wait_fd(int fd, short events)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int r;

	do
		r = poll(&pfd, 1, IO_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	return r == 1 ? 0 : -1;
}

/* A TCP connection to u within IO_TIMEOUT_MS, left blocking with timeouts. */
static int
tcp_connect(const struct self_url *u, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = {.tv_sec = IO_TIMEOUT_MS / 1000};
	int fd = -1, soerr, flags;
	socklen_t sl = sizeof(soerr);

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(u->host, u->port, &hints, &res) != 0) {
		snprintf(err, errlen, "cannot resolve est_self_url's host");
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		flags = fcntl(fd, F_GETFL);
		(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		if ((connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		     (errno == EINPROGRESS && wait_fd(fd, POLLOUT) == 0 &&
		      getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
		      soerr == 0)) &&
		    fcntl(fd, F_SETFL, flags) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ==
			    0 &&
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ==
			    0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot connect to est_self_url");
	return fd;
}

static SSL_CTX *
client_ctx(const char *ca_file)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((ca_file != NULL && *ca_file != '\0'
		     ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
		     : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Decodes a chunked body in place; its new length, or -1. */
static long
dechunk(char *b, size_t n)
{
	size_t in = 0, out = 0;

	for (;;) {
		char *end;
		unsigned long len;

		if (in >= n)
			return -1;
		len = strtoul(b + in, &end, 16);
		if (end == b + in || (end = strstr(end, "\r\n")) == NULL)
			return -1;
		in = (size_t)(end - b) + 2;
		if (len == 0)
			return (long)out;
		if (len > n - in || n - in - len < 2)
			return -1;
		memmove(b + out, b + in, len);
		out += len;
		in += len + 2;
	}
}

/* Counts the certificates of a base64 certs-only PKCS#7 body. */
static int
count_certs(const char *body, size_t n)
{
	uint8_t *der = NULL;
	const unsigned char *pp;
	size_t len = 0;
	PKCS7 *p7;
	int count = -1;

	if (b64_decode(body, n, B64_SKIP_WS, &der, &len) != 0)
		return -1;
	pp = der;
	if ((p7 = d2i_PKCS7(NULL, &pp, (long)len)) != NULL && pp == der + len &&
	    PKCS7_type_is_signed(p7) && p7->d.sign != NULL &&
	    p7->d.sign->cert != NULL)
		count = sk_X509_num(p7->d.sign->cert);
	PKCS7_free(p7);
	free(der);
	return count;
}

/* Reads the response to the end (Connection: close) and interprets it. */
static void
read_response(SSL *ssl, struct test_result *res)
{
	char *buf, *hdr_end, *body;
	size_t n = 0;
	long blen;
	int k, status = 0, chunked;

	if ((buf = malloc(RESPONSE_MAX + 1)) == NULL) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return;
	}
	while (n < RESPONSE_MAX &&
	       (k = SSL_read(ssl, buf + n, (int)(RESPONSE_MAX - n))) > 0)
		n += (size_t)k;
	buf[n] = '\0';
	if (sscanf(buf, "HTTP/1.%*1[01] %3d", &status) != 1 ||
	    (hdr_end = strstr(buf, "\r\n\r\n")) == NULL) {
		snprintf(res->error, sizeof(res->error),
			 "no HTTP response came back");
		free(buf);
		return;
	}
	res->status = status;
	*hdr_end = '\0';
	body = hdr_end + 4;
	blen = (long)(buf + n - body);
	chunked = strcasestr(buf, "\r\ntransfer-encoding: chunked") != NULL;
	if (chunked)
		blen = dechunk(body, (size_t)blen);
	if (status != 200) {
		snprintf(res->error, sizeof(res->error), "HTTP status %d",
			 status);
	} else if (blen < 0 ||
		   (res->certificates = count_certs(body, (size_t)blen)) < 0) {
		res->certificates = 0;
		snprintf(res->error, sizeof(res->error),
			 "the body is not a base64 certs-only PKCS#7");
	} else if (res->certificates == 0) {
		snprintf(res->error, sizeof(res->error),
			 "no CA certificate in the answer");
	} else {
		res->ok = 1;
	}
	free(buf);
}

/* One cacerts request for path under domain. */
static void
fetch(SSL_CTX *ctx, const struct self_url *u, const char *domain,
      const char *path, struct test_result *res)
{
	char req[512];
	SSL *ssl = NULL;
	long vr;
	int fd, n;

	memset(res, 0, sizeof(*res));
	if ((fd = tcp_connect(u, res->error, sizeof(res->error))) < 0)
		return;
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: %s%s%s\r\n"
		     "User-Agent: estuary-test-connection\r\n"
		     "Accept: */*\r\nConnection: close\r\n\r\n",
		     path, domain, strcmp(u->port, "443") != 0 ? ":" : "",
		     strcmp(u->port, "443") != 0 ? u->port : "");
	ERR_clear_error();
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    SSL_set_tlsext_host_name(ssl, domain) != 1 ||
	    SSL_set1_host(ssl, domain) != 1) {
		snprintf(res->error, sizeof(res->error), "TLS setup failed");
		goto out;
	}
	if (SSL_connect(ssl) != 1) {
		vr = SSL_get_verify_result(ssl);
		snprintf(res->error, sizeof(res->error), "TLS handshake: %s",
			 vr != X509_V_OK ? X509_verify_cert_error_string(vr)
			 : ERR_reason_error_string(ERR_peek_error()) != NULL
				 ? ERR_reason_error_string(ERR_peek_error())
				 : "failed");
		goto out;
	}
	if (n < 0 || (size_t)n >= sizeof(req) || SSL_write(ssl, req, n) != n) {
		snprintf(res->error, sizeof(res->error),
			 "cannot send the request");
		goto out;
	}
	read_response(ssl, res);
out:
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
}

static int
result_json(const char *path, const struct test_result *t,
	    struct json_object **out)
{
	struct json_object *o;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_str(o, "path", path)) != 0 ||
	    (r = rest_put_bool(o, "ok", t->ok)) != 0 ||
	    (r = rest_put_int(o, "status", t->status)) != 0 ||
	    (r = rest_put_int(o, "certificates", t->certificates)) != 0 ||
	    (r = rest_put_str(o, "error", t->ok ? NULL : t->error)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

/* Runs every path into items; *failed counts the failures. */
static int
run_tests(const struct hctx *c, const struct estsrv *s,
	  const struct estsrv_label *l, size_t nl, struct json_object *items,
	  size_t *failed)
{
	struct self_url u;
	struct test_result t;
	struct json_object *x;
	char path[PATH_MAX_LEN];
	SSL_CTX *ctx = NULL;
	time_t deadline = time(NULL) + TEST_DEADLINE;
	size_t i;
	int r;

	if (parse_self_url(conf_get(c->conf, "est_self_url"), &u) != 0 ||
	    (ctx = client_ctx(conf_get(c->conf, "est_self_ca"))) == NULL) {
		log_err("test connection: est_self_url or est_self_ca "
			"unusable");
		SSL_CTX_free(ctx);
		return EST_E_CONFIG;
	}
	for (i = 0, r = 0; i <= nl && r == 0; i++) {
		if (i == 0)
			snprintf(path, sizeof(path),
				 "/.well-known/est/cacerts");
		else
			snprintf(path, sizeof(path),
				 "/.well-known/est/%s/cacerts", l[i - 1].label);
		if (time(NULL) < deadline) {
			fetch(ctx, &u, s->domain, path, &t);
		} else {
			memset(&t, 0, sizeof(t));
			snprintf(t.error, sizeof(t.error),
				 "not tried: the test ran out of time");
		}
		if (!t.ok)
			(*failed)++;
		if ((r = result_json(path, &t, &x)) != 0)
			break;
		if (json_object_array_add(items, x) != 0) {
			json_object_put(x);
			r = EST_E_NOMEM;
		}
	}
	SSL_CTX_free(ctx);
	return r;
}

static int
h_test(struct hctx *c, const struct request *req, const struct principal *p,
       struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *o = NULL, *items = NULL;
	struct estsrv_label *l = NULL;
	struct estsrv *s = NULL;
	struct rest_diff d;
	struct rest_what w;
	struct db *db;
	size_t nl = 0, failed = 0;
	int64_t id;
	int r;

	rest_diff_create(&d);
	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_body_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = estsrv_load(db, p, req, id, PERM_ACT_TEST_CONNECTION,
			     "test_connection", &s, &e)) != 0 ||
	    (r = db_estsrv_labels(db, id, &l, &nl)) != 0)
		goto out;
	if ((o = json_object_new_object()) == NULL ||
	    (items = json_object_new_array()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = run_tests(c, s, l, nl, items, &failed)) != 0)
		goto out;
	estsrv_what(&w, "test_connection", s);
	if ((r = rest_diff_bool(&d, "ok", 0, failed == 0)) != 0 ||
	    (r = rest_diff_int(&d, "paths", 0, (int64_t)nl + 1, 0)) != 0 ||
	    (r = rest_diff_int(&d, "failed", 0, (int64_t)failed, 0)) != 0 ||
	    (r = rest_audit(db, p, req, &w, &d)) != 0 ||
	    (r = rest_put_bool(o, "ok", failed == 0)) != 0 ||
	    (r = rest_put_id(o, "server_id", s->id)) != 0 ||
	    (r = rest_put_str(o, "domain", s->domain)) != 0)
		goto out;
	r = rest_put_obj(o, "results", items);
	items = NULL;
	if (r == 0)
		r = rest_send(rs, 200, o, NULL);
out:
	rest_diff_clear(&d);
	json_object_put(items);
	json_object_put(o);
	db_estsrv_labels_free(l, nl);
	estsrv_free(s);
	return rest_answer(rs, r, &e);
}

AUTH_ROUTE_PUBLIC(api_estsrv_r_test, h_test)
