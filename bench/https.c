/*
 * The benchmarks' HTTPS client (https.h).  Moved out of bench_api.c so that
 * every bench that talks to the stack uses the same code.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "https.h"

char https_hosthdr[300];

static const char *progname = "bench";
static char host[256]; /* as in the URL, without brackets */
static char port[8];
static int host_is_ip;
static struct sockaddr_storage addr;
static socklen_t addrlen;
static SSL_CTX *ctx;
static char tlsname[256]; /* https_set_name(); "" for the URL's host */

void
https_die(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog != NULL ? prog : progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

#define die(...) https_die(progname, __VA_ARGS__)

double
https_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	return 0;
}

/*
 * Parses https://HOST[:PORT][/] and resolves it.  HOST must be 127.0.0.1,
 * [::1] or localhost, and what it resolves to a loopback address.
 */
static void
parse_url(const char *url)
{
	struct addrinfo hints, *res = NULL;
	const char *p, *e;
	size_t n;
	char *end;
	long pn;

	if (url == NULL || strncmp(url, "https://", 8) != 0)
		die("ESTUARY_URL must be https://HOST[:PORT]: %s",
		    url != NULL ? url : "(unset)");
	p = url + 8;
	if (*p == '[') {
		if ((e = strchr(p, ']')) == NULL)
			die("bad URL: %s", url);
		n = (size_t)(e - p - 1);
		p++;
		e++;
	} else {
		e = p + strcspn(p, ":/");
		n = (size_t)(e - p);
	}
	if (n == 0 || n >= sizeof(host))
		die("bad URL: %s", url);
	memcpy(host, p, n);
	host[n] = '\0';
	snprintf(port, sizeof(port), "443");
	if (*e == ':') {
		errno = 0;
		pn = strtol(e + 1, &end, 10);
		if (errno != 0 || end == e + 1 || pn < 1 || pn > 65535 ||
		    (*end != '\0' && *end != '/'))
			die("bad port in %s", url);
		snprintf(port, sizeof(port), "%ld", pn);
		e = end;
	}
	if (*e != '\0' && strcmp(e, "/") != 0)
		die("ESTUARY_URL must not have a path: %s", url);
	if (strcmp(host, "127.0.0.1") != 0 && strcmp(host, "::1") != 0 &&
	    strcasecmp(host, "localhost") != 0)
		die("refusing %s: only 127.0.0.1, ::1 and localhost", host);
	host_is_ip = strcasecmp(host, "localhost") != 0;
	if (strchr(host, ':') != NULL)
		snprintf(https_hosthdr, sizeof(https_hosthdr), "[%s]:%s", host,
			 port);
	else
		snprintf(https_hosthdr, sizeof(https_hosthdr), "%s:%s", host,
			 port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = host_is_ip ? AI_NUMERICHOST : 0;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
		die("cannot resolve %s", host);
	if (!is_loopback(res->ai_addr) || res->ai_addrlen > sizeof(addr)) {
		freeaddrinfo(res);
		die("refusing %s: it does not resolve to a loopback address",
		    host);
	}
	memcpy(&addr, res->ai_addr, res->ai_addrlen);
	addrlen = res->ai_addrlen;
	freeaddrinfo(res);
}

static void
tls_init(const char *cafile)
{
	if (cafile == NULL)
		die("ESTUARY_TLS_CA is not set");
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
		die("cannot set up TLS with CA file %s", cafile);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
}

/* --- Connections --- */

void
https_close(struct https_conn *cn)
{
	if (cn->ssl != NULL) {
		SSL_shutdown(cn->ssl);
		SSL_free(cn->ssl);
	}
	if (cn->fd >= 0)
		close(cn->fd);
	cn->ssl = NULL;
	cn->fd = -1;
	cn->len = 0;
}

/* A verified TLS connection to the target; 0 or -1. */
int
https_open(struct https_conn *cn)
{
	return https_open_cert(cn, NULL, NULL);
}

int
https_open_cert(struct https_conn *cn, X509 *cert, EVP_PKEY *key)
{
	int one = 1;

	cn->fd = -1;
	cn->ssl = NULL;
	cn->len = 0;
	if ((cn->fd = socket(addr.ss_family, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(cn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(cn->fd, (struct sockaddr *)&addr, addrlen) != 0 ||
	    (cn->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(cn->ssl, cn->fd) != 1)
		goto fail;
	if (cert != NULL && (SSL_use_certificate(cn->ssl, cert) != 1 ||
			     SSL_use_PrivateKey(cn->ssl, key) != 1))
		goto fail;
	if (tlsname[0] != '\0') {
		if (SSL_set_tlsext_host_name(cn->ssl, tlsname) != 1 ||
		    SSL_set1_host(cn->ssl, tlsname) != 1)
			goto fail;
	} else if (host_is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(cn->ssl),
						  host) != 1)
			goto fail;
	} else if (SSL_set_tlsext_host_name(cn->ssl, host) != 1 ||
		   SSL_set1_host(cn->ssl, host) != 1) {
		goto fail;
	}
	if (SSL_connect(cn->ssl) != 1)
		goto fail;
	return 0;
fail:
	https_close(cn);
	return -1;
}

int
https_write(struct https_conn *cn, const char *p, size_t len)
{
	size_t off = 0;
	int n;

	while (off < len) {
		if ((n = SSL_write(cn->ssl, p + off, (int)(len - off))) <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Reads more bytes into buf (at most room); the count, or -1 at EOF. */
static int
conn_fill(struct https_conn *cn, char *dst, size_t room)
{
	int n = SSL_read(cn->ssl, dst, (int)room);

	return n > 0 ? n : -1;
}

/* The value of header name in the head at h (NUL-terminated), or NULL. */
const char *
https_head_value(const char *h, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *line, *eol;

	for (line = strstr(h, "\r\n"); line != NULL; line = eol) {
		line += 2;
		if ((eol = strstr(line, "\r\n")) == NULL || eol == line)
			return NULL;
		if ((size_t)(eol - line) > nlen + 1 &&
		    strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			line += nlen + 1;
			while (*line == ' ' || *line == '\t')
				line++;
			*vlen = (size_t)(eol - line);
			return line;
		}
	}
	return NULL;
}

/* s as the body of a JSON string (quotes and backslashes escaped). */
int
https_json_str(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20)
			return -1;
		if (o + 3 > outlen)
			return -1;
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o] = '\0';
	return 0;
}

void
https_init(const char *prog, const char *url, const char *cafile)
{
	progname = prog;
	parse_url(url);
	tls_init(cafile);
}

void
https_fini(void)
{
	SSL_CTX_free(ctx);
	ctx = NULL;
}

/*
 * Reads one response.  The head is copied into r->head; the body is kept
 * in r->body when want_body, else read and dropped.  Every response of
 * the stack has a Content-Length.
 */
int
https_response(struct https_conn *cn, struct https_resp *r, int want_body)
{
	char *end, scratch[16384], *dst;
	const char *v;
	size_t hlen, vlen, body, have, take, got = 0;
	int n;

	r->body = NULL;
	r->bodylen = 0;
	for (;;) {
		cn->buf[cn->len] = '\0';
		if ((end = strstr(cn->buf, "\r\n\r\n")) != NULL)
			break;
		if (cn->len + 1 >= sizeof(cn->buf))
			return -1;
		if ((n = conn_fill(cn, cn->buf + cn->len,
				   sizeof(cn->buf) - 1 - cn->len)) < 0)
			return -1;
		cn->len += (size_t)n;
	}
	hlen = (size_t)(end - cn->buf) + 4;
	end[2] = '\0';
	if (sscanf(cn->buf, "HTTP/1.%*d %d", &r->status) != 1)
		return -1;
	if ((v = https_head_value(cn->buf, "Content-Length", &vlen)) == NULL)
		return -1;
	body = (size_t)strtoull(v, NULL, 10);
	v = https_head_value(cn->buf, "Connection", &vlen);
	r->closing = v != NULL && vlen == 5 && strncasecmp(v, "close", 5) == 0;
	snprintf(r->head, sizeof(r->head), "%s", cn->buf);
	if (want_body && (r->body = malloc(body + 1)) == NULL)
		return -1;
	have = cn->len - hlen;
	take = have < body ? have : body;
	if (r->body != NULL)
		memcpy(r->body, cn->buf + hlen, take);
	got = take;
	/* No pipelining: nothing may follow, but keep it if it does. */
	memmove(cn->buf, cn->buf + hlen + take, have - take);
	cn->len = have - take;
	while (got < body) {
		dst = r->body != NULL ? r->body + got : scratch;
		take = body - got;
		if (r->body == NULL && take > sizeof(scratch))
			take = sizeof(scratch);
		if ((n = conn_fill(cn, dst, take)) < 0) {
			free(r->body);
			r->body = NULL;
			return -1;
		}
		got += (size_t)n;
	}
	if (r->body != NULL) {
		r->body[body] = '\0';
		r->bodylen = body;
	}
	return 0;
}

void
https_call(const char *prog, const char *method, const char *path,
	   const char *headers, const char *json, struct https_resp *r)
{
	struct https_conn cn;
	char *req;
	size_t jlen = json != NULL ? strlen(json) : 0;
	size_t cap = strlen(path) + jlen + 1024 +
		     (headers != NULL ? strlen(headers) : 0);
	int n;

	if ((req = malloc(cap)) == NULL)
		https_die(prog, "out of memory");
	if (json != NULL)
		n = snprintf(req, cap,
			     "%s %s HTTP/1.1\r\nHost: %s\r\n%s"
			     "Content-Type: application/json\r\n"
			     "Content-Length: %zu\r\n\r\n%s",
			     method, path, https_hosthdr,
			     headers != NULL ? headers : "", jlen, json);
	else
		n = snprintf(req, cap,
			     "%s %s HTTP/1.1\r\nHost: %s\r\n%s"
			     "Content-Length: 0\r\n\r\n",
			     method, path, https_hosthdr,
			     headers != NULL ? headers : "");
	if (n < 0 || (size_t)n >= cap)
		https_die(prog, "request too long");
	if (https_open(&cn) != 0)
		https_die(prog, "cannot connect to %s", https_hosthdr);
	if (https_write(&cn, req, (size_t)n) != 0 ||
	    https_response(&cn, r, 1) != 0)
		https_die(prog, "%s %s: no answer", method, path);
	https_close(&cn);
	free(req);
}

/* The string value of "key" in a flat JSON object, into out; 0 or -1. */
static int
json_member(const char *json, const char *key, char *out, size_t outlen)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = strstr(json, pat)) == NULL)
		return -1;
	p += strlen(pat);
	if ((e = strchr(p, '"')) == NULL || (size_t)(e - p) >= outlen || e == p)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

void
https_login(const char *prog, const char *user, const char *pass, char *cookie,
	    size_t cookielen, char *csrf, size_t csrflen)
{
	struct https_resp r;
	char ju[512], jp[1024], body[1600];
	const char *v, *h;
	size_t vlen, n;
	int found = 0;

	if (user == NULL || pass == NULL)
		https_die(prog, "ESTUARY_ADMIN_USER and ESTUARY_ADMIN_PASSWORD "
				"must be set");
	if (https_json_str(user, ju, sizeof(ju)) != 0 ||
	    https_json_str(pass, jp, sizeof(jp)) != 0)
		https_die(prog, "unusable credentials");
	snprintf(body, sizeof(body),
		 "{\"username\":\"%s\",\"password\":\"%s\"}", ju, jp);
	https_call(prog, "POST", "/api/v1/auth/login", NULL, body, &r);
	if (r.status != 200)
		https_die(prog,
			  "login refused (status %d): check the credentials",
			  r.status);
	/* Set-Cookie: estuary_session=VALUE; Path=/; ... */
	for (h = r.head; (v = https_head_value(h, "Set-Cookie", &vlen)) != NULL;
	     h = v + vlen) {
		if (strncmp(v, HTTPS_COOKIE_NAME "=",
			    sizeof(HTTPS_COOKIE_NAME)) != 0)
			continue;
		v += sizeof(HTTPS_COOKIE_NAME);
		n = strcspn(v, ";\r");
		if (n == 0 || n >= cookielen)
			break;
		memcpy(cookie, v, n);
		cookie[n] = '\0';
		found = 1;
		break;
	}
	if (!found)
		https_die(prog, "login: no %s cookie in the answer",
			  HTTPS_COOKIE_NAME);
	if (csrf != NULL &&
	    json_member(r.body, "csrf_token", csrf, csrflen) != 0)
		https_die(prog, "login: no csrf_token in the answer");
	free(r.body);
}

/* --- Client certificates and names (EST) --- */

void
https_set_name(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n >= sizeof(tlsname) || name[0] == '.' ||
	    name[0] == '-' || name[n - 1] == '.')
		die("bad server name: %s", name);
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
		      name[i] == '.'))
			die("bad server name: %s", name);
	memcpy(tlsname, name, n + 1);
	snprintf(https_hosthdr, sizeof(https_hosthdr), "%s:%s", tlsname, port);
}

int
https_handshake_only(X509 *cert, EVP_PKEY *key)
{
	struct https_conn cn;
	char b[256];
	int r, ok = -1;

	if (https_open_cert(&cn, cert, key) != 0)
		return -1;
	/*
	 * With TLS 1.3 SSL_connect() returns once the client's Finished is
	 * sent, before the server has checked the client's certificate:
	 * close_notify, then wait for the server's answer or its close.
	 */
	if (SSL_shutdown(cn.ssl) >= 0) {
		do
			r = SSL_read(cn.ssl, b, sizeof(b));
		while (r > 0);
		/* An alert (a refused certificate) is a failed handshake. */
		if (SSL_get_error(cn.ssl, r) != SSL_ERROR_SSL)
			ok = 0;
	}
	SSL_free(cn.ssl);
	cn.ssl = NULL;
	https_close(&cn);
	return ok;
}
