/*
 * bench_api: requests per second through the web server, over HTTPS with
 * keep-alive, for
 *
 *	1. a static file (GET /, www/index.html): the baseline, what the web
 *	   server alone costs per request;
 *	2. an authenticated list endpoint (GET /api/v1/audit-logs?limit=50
 *	   with the session cookie of a login, or with -b HTTP Basic
 *	   AppID:AppKey);
 *	3. a login (POST /api/v1/auth/login), which verifies an argon2id
 *	   password hash and creates a session;
 *
 * in one run, each for the same duration with the same number of
 * connections, printed with its ratio to the baseline.
 *
 *	bench_api [-b] [-c connections] [-d seconds]
 *
 * Environment (var/demo.env has them): ESTUARY_URL, ESTUARY_TLS_CA,
 * ESTUARY_ADMIN_USER, ESTUARY_ADMIN_PASSWORD; with -b, ESTUARY_APP_ID and
 * ESTUARY_APP_KEY.  Only a loopback target is accepted (127.0.0.1, ::1 or
 * localhost, checked again after the name is resolved): the bench loads
 * the server it talks to, so it refuses to point at someone else's.
 * Speed is shown, never asserted: see bench/README.md.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define CONN_MAX 64
#define REQ_MAX 4096
#define HEAD_MAX 16384
#define COOKIE_NAME "estuary_session"
#define LIST_PATH "/api/v1/audit-logs?limit=50"
#define LOGIN_PATH "/api/v1/auth/login"

/* The target, from ESTUARY_URL. */
static char host[256]; /* as in the URL, without brackets */
static char port[8];
static char hosthdr[300]; /* the Host header */
static int host_is_ip;
static struct sockaddr_storage addr;
static socklen_t addrlen;
static SSL_CTX *ctx;

static double duration = 5.0;
static int nconn = 2;
static atomic_int go, stop;

/* One phase: a request that every connection sends over and over. */
struct phase {
	const char *name;
	const char *what;
	char request[REQ_MAX];
	size_t reqlen;
	double rate;
	unsigned long long ok, bad, reconnects;
};

struct worker {
	pthread_t tid;
	struct phase *ph;
	pthread_barrier_t *ready;
	unsigned long long ok, bad, reconnects;
	int failed;
};

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench_api: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- Target --- */

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
		snprintf(hosthdr, sizeof(hosthdr), "[%s]:%s", host, port);
	else
		snprintf(hosthdr, sizeof(hosthdr), "%s:%s", host, port);
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

struct conn {
	int fd;
	SSL *ssl;
	char buf[HEAD_MAX];
	size_t len; /* bytes in buf */
};

static void
conn_close(struct conn *cn)
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
static int
conn_open(struct conn *cn)
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
	if (host_is_ip) {
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
	conn_close(cn);
	return -1;
}

static int
conn_write(struct conn *cn, const char *p, size_t len)
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
conn_fill(struct conn *cn, char *dst, size_t room)
{
	int n = SSL_read(cn->ssl, dst, (int)room);

	return n > 0 ? n : -1;
}

/* The value of header name in the head at h (NUL-terminated), or NULL. */
static const char *
head_value(const char *h, const char *name, size_t *vlen)
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

/*
 * Reads one response: its status, and the head into head (for the
 * Set-Cookie of a login) when head is not NULL.  The body is read and
 * dropped.  *closing is set when the server will close the connection.
 * 0 or -1 (the connection is then unusable).
 */
static int
conn_response(struct conn *cn, int *status, int *closing, char *head,
	      size_t headlen)
{
	char *end, scratch[16384];
	const char *v;
	size_t hlen, vlen, body, have;
	int n;

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
	if (sscanf(cn->buf, "HTTP/1.%*d %d", status) != 1)
		return -1;
	if ((v = head_value(cn->buf, "Content-Length", &vlen)) == NULL)
		return -1; /* every response here has a length */
	body = (size_t)strtoull(v, NULL, 10);
	v = head_value(cn->buf, "Connection", &vlen);
	*closing = v != NULL && vlen == 5 && strncasecmp(v, "close", 5) == 0;
	if (head != NULL)
		snprintf(head, headlen, "%s", cn->buf);
	have = cn->len - hlen;
	if (have >= body) {
		/* No pipelining: nothing may follow, but keep it if it does. */
		memmove(cn->buf, cn->buf + hlen + body, have - body);
		cn->len = have - body;
		return 0;
	}
	cn->len = 0;
	for (body -= have; body > 0; body -= (size_t)n)
		if ((n = conn_fill(cn, scratch,
				   body < sizeof(scratch) ? body
							  : sizeof(scratch))) <
		    0)
			return -1;
	return 0;
}

/* --- Phases --- */

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct conn cn;
	int status, closing, connected;

	connected = conn_open(&cn) == 0;
	pthread_barrier_wait(w->ready);
	if (!connected) {
		w->failed = 1;
		return NULL;
	}
	while (!atomic_load(&go))
		;
	while (!atomic_load(&stop)) {
		if (cn.ssl == NULL) {
			if (conn_open(&cn) != 0) {
				w->failed = 1;
				break;
			}
			w->reconnects++;
		}
		if (conn_write(&cn, w->ph->request, w->ph->reqlen) != 0 ||
		    conn_response(&cn, &status, &closing, NULL, 0) != 0) {
			conn_close(&cn);
			continue;
		}
		if (status == 200)
			w->ok++;
		else
			w->bad++;
		if (closing)
			conn_close(&cn);
	}
	conn_close(&cn);
	return NULL;
}

static void
run_phase(struct phase *ph)
{
	struct worker w[CONN_MAX];
	pthread_barrier_t ready;
	struct timespec ts;
	double t0, t1;
	int i;

	memset(w, 0, sizeof(w));
	atomic_store(&go, 0);
	atomic_store(&stop, 0);
	pthread_barrier_init(&ready, NULL, (unsigned)nconn + 1);
	for (i = 0; i < nconn; i++) {
		w[i].ph = ph;
		w[i].ready = &ready;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
			die("cannot start a thread");
	}
	/* Connections are made before the clock starts. */
	pthread_barrier_wait(&ready);
	t0 = now();
	atomic_store(&go, 1);
	ts.tv_sec = (time_t)duration;
	ts.tv_nsec = (long)((duration - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	atomic_store(&stop, 1);
	for (i = 0; i < nconn; i++)
		pthread_join(w[i].tid, NULL);
	t1 = now();
	pthread_barrier_destroy(&ready);
	for (i = 0; i < nconn; i++) {
		if (w[i].failed)
			die("%s: cannot connect or reconnect", ph->name);
		ph->ok += w[i].ok;
		ph->bad += w[i].bad;
		ph->reconnects += w[i].reconnects;
	}
	ph->rate = (double)ph->ok / (t1 - t0);
}

/* s as the body of a JSON string (quotes and backslashes escaped). */
static int
json_str(const char *s, char *out, size_t outlen)
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

static void
login_request(struct phase *ph, const char *user, const char *pass)
{
	char ju[512], jp[1024], body[1600];
	int n;

	if (user == NULL || pass == NULL)
		die("ESTUARY_ADMIN_USER and ESTUARY_ADMIN_PASSWORD must be "
		    "set");
	if (json_str(user, ju, sizeof(ju)) != 0 ||
	    json_str(pass, jp, sizeof(jp)) != 0)
		die("unusable credentials");
	n = snprintf(body, sizeof(body),
		     "{\"username\":\"%s\",\"password\":\"%s\"}", ju, jp);
	if (n < 0 || (size_t)n >= sizeof(body))
		die("credentials too long");
	n = snprintf(ph->request, sizeof(ph->request),
		     "POST " LOGIN_PATH " HTTP/1.1\r\nHost: %s\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     hosthdr, strlen(body), body);
	if (n < 0 || (size_t)n >= sizeof(ph->request))
		die("credentials too long");
	ph->reqlen = (size_t)n;
}

/* Logs in once and copies the session cookie's value into cookie. */
static void
session_cookie(const struct phase *login, char *cookie, size_t len)
{
	struct conn cn;
	char head[HEAD_MAX];
	const char *v, *h;
	size_t vlen, n;
	int status, closing;

	if (conn_open(&cn) != 0)
		die("cannot connect to %s", hosthdr);
	if (conn_write(&cn, login->request, login->reqlen) != 0 ||
	    conn_response(&cn, &status, &closing, head, sizeof(head)) != 0)
		die("login: no answer from %s", hosthdr);
	conn_close(&cn);
	if (status != 200)
		die("login refused (status %s): check the credentials",
		    status == 429 ? "429, throttled" : "not 200");
	/* Set-Cookie: estuary_session=VALUE; Path=/; ... */
	for (h = head; (v = head_value(h, "Set-Cookie", &vlen)) != NULL;
	     h = v + vlen) {
		if (strncmp(v, COOKIE_NAME "=", sizeof(COOKIE_NAME)) != 0)
			continue;
		v += sizeof(COOKIE_NAME);
		n = strcspn(v, ";\r");
		if (n == 0 || n >= len)
			break;
		memcpy(cookie, v, n);
		cookie[n] = '\0';
		return;
	}
	die("login: no %s cookie in the answer", COOKIE_NAME);
}

/* Base64 of AppID:AppKey for HTTP Basic. */
static void
basic_credentials(char *out, size_t len)
{
	const char *id = getenv("ESTUARY_APP_ID"),
		   *key = getenv("ESTUARY_APP_KEY");
	char pair[512];
	int n;

	if (id == NULL || key == NULL)
		die("-b needs ESTUARY_APP_ID and ESTUARY_APP_KEY");
	n = snprintf(pair, sizeof(pair), "%s:%s", id, key);
	if (n < 0 || (size_t)n >= sizeof(pair) ||
	    len < 4 * ((size_t)n + 2) / 3 + 1)
		die("application credentials too long");
	EVP_EncodeBlock((unsigned char *)out, (unsigned char *)pair, n);
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: bench_api [-b] [-c connections] [-d seconds]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct phase ph[3];
	char cookie[256], basic[700];
	const char *auth;
	char *end;
	int ch, basic_auth = 0, n, i;

	while ((ch = getopt(argc, argv, "bc:d:")) != -1) {
		switch (ch) {
		case 'b':
			basic_auth = 1;
			break;
		case 'c':
			nconn = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || nconn < 1 || nconn > CONN_MAX)
				usage();
			break;
		case 'd':
			duration = strtod(optarg, &end);
			if (*end != '\0' || duration < 0.5 || duration > 3600)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	parse_url(getenv("ESTUARY_URL"));
	tls_init(getenv("ESTUARY_TLS_CA"));

	memset(ph, 0, sizeof(ph));
	ph[0].name = "static";
	ph[0].what = "GET / (www/index.html)";
	n = snprintf(ph[0].request, REQ_MAX,
		     "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", hosthdr);
	ph[0].reqlen = (size_t)n;

	ph[2].name = "login";
	ph[2].what = "POST " LOGIN_PATH;
	login_request(&ph[2], getenv("ESTUARY_ADMIN_USER"),
		      getenv("ESTUARY_ADMIN_PASSWORD"));

	ph[1].name = "list";
	if (basic_auth) {
		basic_credentials(basic, sizeof(basic));
		ph[1].what = "GET " LIST_PATH " (Basic)";
		auth = "Authorization: Basic ";
	} else {
		session_cookie(&ph[2], cookie, sizeof(cookie));
		ph[1].what = "GET " LIST_PATH " (session cookie)";
		auth = "Cookie: " COOKIE_NAME "=";
	}
	n = snprintf(ph[1].request, REQ_MAX,
		     "GET " LIST_PATH " HTTP/1.1\r\nHost: %s\r\n%s%s\r\n\r\n",
		     hosthdr, auth, basic_auth ? basic : cookie);
	ph[1].reqlen = (size_t)n;

	printf("bench_api: https://%s, %d connection%s, %.1f s each\n", hosthdr,
	       nconn, nconn == 1 ? "" : "s", duration);
	for (i = 0; i < 3; i++) {
		run_phase(&ph[i]);
		/* The mean latency follows: connections / rate. */
		printf("  %-7s %-50s %10.1f req/s  %9.3f ms  ratio %.6f",
		       ph[i].name, ph[i].what, ph[i].rate,
		       ph[i].rate > 0 ? 1e3 * nconn / ph[i].rate : 0.0,
		       ph[0].rate > 0 ? ph[i].rate / ph[0].rate : 0.0);
		if (ph[i].bad > 0 || ph[i].reconnects > 0)
			printf("  (%llu not 200, %llu reconnects)", ph[i].bad,
			       ph[i].reconnects);
		printf("\n");
		fflush(stdout);
	}
	SSL_CTX_free(ctx);
	return 0;
}
