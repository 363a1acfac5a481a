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

#include <openssl/evp.h>

#include "https.h"

#define CONN_MAX 64
#define REQ_MAX 4096
#define LIST_PATH "/api/v1/audit-logs?limit=50"
#define LOGIN_PATH "/api/v1/auth/login"

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

#define die(...) https_die("bench_api", __VA_ARGS__)

/* --- Phases --- */

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct https_conn cn;
	struct https_resp r;
	int connected;

	connected = https_open(&cn) == 0;
	pthread_barrier_wait(w->ready);
	if (!connected) {
		w->failed = 1;
		return NULL;
	}
	while (!atomic_load(&go))
		;
	while (!atomic_load(&stop)) {
		if (cn.ssl == NULL) {
			if (https_open(&cn) != 0) {
				w->failed = 1;
				break;
			}
			w->reconnects++;
		}
		if (https_write(&cn, w->ph->request, w->ph->reqlen) != 0 ||
		    https_response(&cn, &r, 0) != 0) {
			https_close(&cn);
			continue;
		}
		if (r.status == 200)
			w->ok++;
		else
			w->bad++;
		if (r.closing)
			https_close(&cn);
	}
	https_close(&cn);
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
	t0 = https_now();
	atomic_store(&go, 1);
	ts.tv_sec = (time_t)duration;
	ts.tv_nsec = (long)((duration - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	atomic_store(&stop, 1);
	for (i = 0; i < nconn; i++)
		pthread_join(w[i].tid, NULL);
	t1 = https_now();
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

static void
login_request(struct phase *ph, const char *user, const char *pass)
{
	char ju[512], jp[1024], body[1600];
	int n;

	if (user == NULL || pass == NULL)
		die("ESTUARY_ADMIN_USER and ESTUARY_ADMIN_PASSWORD must be "
		    "set");
	if (https_json_str(user, ju, sizeof(ju)) != 0 ||
	    https_json_str(pass, jp, sizeof(jp)) != 0)
		die("unusable credentials");
	n = snprintf(body, sizeof(body),
		     "{\"username\":\"%s\",\"password\":\"%s\"}", ju, jp);
	if (n < 0 || (size_t)n >= sizeof(body))
		die("credentials too long");
	n = snprintf(ph->request, sizeof(ph->request),
		     "POST " LOGIN_PATH " HTTP/1.1\r\nHost: %s\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     https_hosthdr, strlen(body), body);
	if (n < 0 || (size_t)n >= sizeof(ph->request))
		die("credentials too long");
	ph->reqlen = (size_t)n;
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
	https_init("bench_api", getenv("ESTUARY_URL"),
		   getenv("ESTUARY_TLS_CA"));

	memset(ph, 0, sizeof(ph));
	ph[0].name = "static";
	ph[0].what = "GET / (www/index.html)";
	n = snprintf(ph[0].request, REQ_MAX,
		     "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", https_hosthdr);
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
		https_login("bench_api", getenv("ESTUARY_ADMIN_USER"),
			    getenv("ESTUARY_ADMIN_PASSWORD"), cookie,
			    sizeof(cookie), NULL, 0);
		ph[1].what = "GET " LIST_PATH " (session cookie)";
		auth = "Cookie: " HTTPS_COOKIE_NAME "=";
	}
	n = snprintf(ph[1].request, REQ_MAX,
		     "GET " LIST_PATH " HTTP/1.1\r\nHost: %s\r\n%s%s\r\n\r\n",
		     https_hosthdr, auth, basic_auth ? basic : cookie);
	ph[1].reqlen = (size_t)n;

	printf("bench_api: https://%s, %d connection%s, %.1f s each\n",
	       https_hosthdr, nconn, nconn == 1 ? "" : "s", duration);
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
	https_fini();
	return 0;
}
