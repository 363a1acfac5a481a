/*
 * bench_est: EST enrollments per second and their latency (p50, p99),
 * against the demo EST server est01 of a running stack, in one run:
 *
 *	(a) baseline: this process issues the certificate that EST issued
 *	    for a fixed EC P-256 CSR again and again: it parses and checks
 *	    the CSR, builds the certificate (the same issuer, subject,
 *	    lifetime and extensions, a new serial) and signs it with C_Sign
 *	    on the same CA key in the same SoftHSM token as the signer,
 *	    after its own login to the token;
 *	(a) est: POST /.well-known/est/simpleenroll with that CSR, -c
 *	    keep-alive connections, as the demo's factory application
 *	    (HTTP Basic AppID:AppKey; with -A its application certificate
 *	    as the TLS client certificate): TLS, FastCGI, authentication,
 *	    routing, CSR intake, the signature through estuary-signerd, the
 *	    certificate row and its records;
 *	(b) handshakes: new TLS connections to the same web server, each
 *	    presenting a factory certificate as the EST clients do, and
 *	    closed once the server has processed it;
 *	(b) zero-touch: -n never-seen devices, each with its own factory
 *	    certificate from the demo's external factory CA, each enrolling
 *	    once with a new TLS connection on the label ESTUARY_EXT_LABEL
 *	    (DAR: the device is created with its certificate);
 *	(b) floor: GET cacerts of the same label, a new TLS connection per
 *	    request with the pool's factory certificates, for as long as the
 *	    other timed phases: the handshake, one HTTP exchange through
 *	    FastCGI and the route's one statement, all that a zero-touch
 *	    enrollment does but the enrollment itself.  Its ratio to the
 *	    handshakes bounds what any enrollment over a new connection can
 *	    reach against them on this machine; it has no goal.
 *
 * Ratios and goals: (a) est / baseline >= 0.5, (b) zero-touch /
 * handshakes >= 0.6.  With -P count the devices table is then filled up
 * to count devices of the label's device type through the data layer
 * (db_device_insert_many()) and (b) is measured again (goal: >= 0.9 of the
 * first measurement).
 *
 *	bench_est [-A] [-c connections] [-d seconds] [-n devices] [-p a|b|ab]
 *		  [-P count]
 *
 * -c is the number of connections (threads) of every phase, 8 by default
 * (as bench_issue).  -p runs only the phases of (a) or of (b) (default
 * both); -P implies (b).  Each phase prints the CPU time per operation of the instance's
 * web server, estuary-est, signer and MariaDB, and of this process.
 *
 * Environment: the instance's demo.env (ESTUARY_EST_PORT,
 * ESTUARY_EST_EC_HOST, ESTUARY_TLS_CA, ESTUARY_APP_ID, ESTUARY_APP_KEY,
 * ESTUARY_APP_CERT, ESTUARY_APP_CERT_KEY, ESTUARY_EXT_LABEL,
 * ESTUARY_EXT_FACTORY_CA_CERT, ESTUARY_EXT_FACTORY_CA_KEY, ESTUARY_CONF,
 * ESTUARY_VAR).  It connects to 127.0.0.1 only.  Speed is shown, never
 * asserted: see bench/README.md.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "cpu_sample.h"
#include "est_bench.h"
#include "estload.h"
#include "https.h"

#define BENCH_CONN_MAX 64
#define EST_PATH "/.well-known/est"
#define WARM_DEVICES 100 /* never-seen devices of the warm-up */
#define die(...) https_die(PROG, __VA_ARGS__)

static struct {
	double duration;
	int nconn;
	size_t ndev;
	int appcert;
	int a, b; /* the phases to run (-p) */
} cfg = {.duration = 5.0,
	 .nconn = 8,
	 .ndev = 2000,
	 .appcert = 0,
	 .a = 1,
	 .b = 1};

enum bkind { B_BASE, B_EST_A, B_HS, B_ZT, B_FLOOR };

struct lat {
	double *v;
	size_t n, cap;
};

/* A phase's outcome; latencies in ms. */
struct bres {
	double rate, secs, p50, p99;
	double cpu[CPU_N]; /* CPU microseconds per operation */
	unsigned long long ok, bad, reconnects;
	char why[160];
};

/* A device of (b)'s pool with its request. */
struct bdev {
	struct estload_dev dev;
	char *req;
	size_t reqlen;
};

/* What the phases use. */
static char *req_a; /* (a)'s request, with the fixed CSR */
static size_t req_alen;
static char req_floor[512]; /* (b) floor's request */
static size_t req_floorlen;
static X509 *app_cert;
static EVP_PKEY *app_key;
static struct bdev *pool; /* (b)'s devices */
static size_t npool;
static atomic_size_t next_dev;
static atomic_int go, stop;

/* --- Latencies --- */

static void
lat_add(struct lat *l, double v)
{
	double *nv;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 4096 : 2 * l->cap;
		if ((nv = realloc(l->v, l->cap * sizeof(*nv))) == NULL)
			die("out of memory");
		l->v = nv;
	}
	l->v[l->n++] = v;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* --- Workers --- */

struct worker {
	pthread_t tid;
	pthread_barrier_t *ready;
	enum bkind kind;
	struct lat lat;
	unsigned long long ok, bad, reconnects;
	int failed;
	char why[160];
};

/* (a) est: requests over one keep-alive connection. */
static void
run_est_a(struct worker *w)
{
	struct https_conn cn = {.fd = -1, .ssl = NULL, .len = 0};
	struct https_resp r;
	unsigned long long opens = 0;
	double t0;

	while (!atomic_load(&stop)) {
		if (cn.ssl == NULL) {
			if (https_open_cert(&cn, app_cert, app_key) != 0) {
				w->failed = 1;
				snprintf(w->why, sizeof(w->why),
					 "cannot connect");
				break;
			}
			if (opens++ > 0)
				w->reconnects++;
		}
		t0 = https_now();
		if (https_write(&cn, req_a, req_alen) != 0 ||
		    https_response(&cn, &r, 0) != 0) {
			https_close(&cn);
			continue;
		}
		lat_add(&w->lat, https_now() - t0);
		if (r.status == 200)
			w->ok++;
		else
			w->bad++;
		if (r.closing)
			https_close(&cn);
	}
	if (cn.ssl != NULL)
		https_close(&cn);
}

/* (b) handshakes: the pool's factory certificates in turn. */
static void
run_hs(struct worker *w)
{
	size_t i;
	double t0;

	while (!atomic_load(&stop)) {
		i = atomic_fetch_add(&next_dev, 1) % npool;
		t0 = https_now();
		if (https_handshake_only(pool[i].dev.factory,
					 pool[i].dev.fkey) != 0) {
			w->bad++;
			continue;
		}
		lat_add(&w->lat, https_now() - t0);
		w->ok++;
	}
}

/*
 * One request on a new connection with device i's factory certificate,
 * counted in w: a 200 is a success.
 */
static void
new_conn_request(struct worker *w, size_t i, const char *req, size_t len)
{
	struct https_conn cn;
	struct https_resp r;
	double t0 = https_now();

	if (https_open_cert(&cn, pool[i].dev.factory, pool[i].dev.fkey) != 0) {
		w->bad++;
		return;
	}
	if (https_write(&cn, req, len) != 0 ||
	    https_response(&cn, &r, 0) != 0) {
		w->bad++;
		https_close(&cn);
		return;
	}
	https_close(&cn);
	lat_add(&w->lat, https_now() - t0);
	if (r.status == 200) {
		w->ok++;
	} else {
		w->bad++;
		snprintf(w->why, sizeof(w->why), "status %d", r.status);
	}
}

/* (b) zero-touch: each device of the pool once, a new connection each. */
static void
run_zt(struct worker *w)
{
	size_t i;

	while ((i = atomic_fetch_add(&next_dev, 1)) < npool)
		new_conn_request(w, i, pool[i].req, pool[i].reqlen);
}

/* (b) floor: cacerts, the pool's factory certificates in turn. */
static void
run_floor(struct worker *w)
{
	while (!atomic_load(&stop))
		new_conn_request(w, atomic_fetch_add(&next_dev, 1) % npool,
				 req_floor, req_floorlen);
}

static void
run_base(struct worker *w)
{
	CK_SESSION_HANDLE s;
	double t0;

	if (baseline_session(&s) != 0) {
		w->failed = 1;
		snprintf(w->why, sizeof(w->why), "no PKCS#11 session");
		return;
	}
	while (!atomic_load(&stop)) {
		t0 = https_now();
		if (baseline_issue(s, NULL, NULL) != 0) {
			w->bad++;
			continue;
		}
		lat_add(&w->lat, https_now() - t0);
		w->ok++;
	}
	baseline_session_close(s);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->ready);
	while (!atomic_load(&go))
		;
	switch (w->kind) {
	case B_BASE:
		run_base(w);
		break;
	case B_EST_A:
		run_est_a(w);
		break;
	case B_HS:
		run_hs(w);
		break;
	case B_ZT:
		run_zt(w);
		break;
	case B_FLOOR:
		run_floor(w);
		break;
	}
	return NULL;
}

/*
 * Runs one phase on cfg.nconn threads: for cfg.duration seconds, or, for
 * the zero-touch phase, until the pool is used up.
 */
static struct bres
run_phase(enum bkind kind)
{
	struct worker w[BENCH_CONN_MAX];
	pthread_barrier_t ready;
	struct timespec ts;
	struct bres res;
	struct lat all = {NULL, 0, 0};
	double t0, t1, c0[CPU_N], c1[CPU_N];
	size_t k;
	int i;

	memset(w, 0, sizeof(w));
	memset(&res, 0, sizeof(res));
	atomic_store(&go, 0);
	atomic_store(&stop, 0);
	atomic_store(&next_dev, 0);
	pthread_barrier_init(&ready, NULL, (unsigned)cfg.nconn + 1);
	for (i = 0; i < cfg.nconn; i++) {
		w[i].kind = kind;
		w[i].ready = &ready;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
			die("cannot start a thread");
	}
	pthread_barrier_wait(&ready);
	cpu_sample(c0);
	t0 = https_now();
	atomic_store(&go, 1);
	if (kind != B_ZT) {
		ts.tv_sec = (time_t)cfg.duration;
		ts.tv_nsec = (long)((cfg.duration - (double)ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		atomic_store(&stop, 1);
	}
	for (i = 0; i < cfg.nconn; i++)
		pthread_join(w[i].tid, NULL);
	t1 = https_now();
	pthread_barrier_destroy(&ready);
	for (i = 0; i < cfg.nconn; i++) {
		if (w[i].failed)
			die("phase %d: %s", (int)kind, w[i].why);
		if (w[i].why[0] != '\0' && res.why[0] == '\0')
			snprintf(res.why, sizeof(res.why), "%s", w[i].why);
		res.ok += w[i].ok;
		res.bad += w[i].bad;
		res.reconnects += w[i].reconnects;
		for (k = 0; k < w[i].lat.n; k++)
			lat_add(&all, w[i].lat.v[k]);
		free(w[i].lat.v);
	}
	cpu_sample(c1);
	for (i = 0; i < CPU_N && res.ok > 0; i++)
		res.cpu[i] = (c1[i] - c0[i]) * 1e6 / (double)res.ok;
	res.secs = t1 - t0;
	res.rate = (double)res.ok / res.secs;
	if (all.n > 0) {
		qsort(all.v, all.n, sizeof(double), dbl_cmp);
		res.p50 = all.v[all.n / 2] * 1e3;
		res.p99 = all.v[(all.n * 99) / 100] * 1e3;
	}
	free(all.v);
	return res;
}

static void
print_res(const char *name, const char *what, const char *unit,
	  const struct bres *r)
{
	printf("  %-14s %-44s %8.1f %-6s p50 %6.2f ms  p99 %6.2f ms", name,
	       what, r->rate, unit, r->p50, r->p99);
	if (r->bad > 0 || r->reconnects > 0)
		printf("  (%llu failed%s%s, %llu reconnects)", r->bad,
		       r->why[0] != '\0' ? ": " : "", r->why, r->reconnects);
	printf("\n%17sCPU us/op: web %.0f, est %.0f, signer %.0f, "
	       "mariadbd %.0f, bench %.0f\n",
	       "", r->cpu[CPU_WEB], r->cpu[CPU_EST], r->cpu[CPU_SIGNER],
	       r->cpu[CPU_DB], r->cpu[CPU_SELF]);
	fflush(stdout);
}

/* A ratio against its goal; a goal < 0 is a bound with no goal. */
static void
print_ratio(const char *what, double a, double b, double goal)
{
	double q = b > 0 ? a / b : 0.0;

	if (goal < 0)
		printf("  ratio %-53s %6.3f  (a bound, no goal)\n", what, q);
	else
		printf("  ratio %-53s %6.3f  goal >= %.1f: %s\n", what, q, goal,
		       q >= goal ? "met" : "NOT met");
	fflush(stdout);
}

static void
loadavg(char *out, size_t len)
{
	FILE *fp = fopen("/proc/loadavg", "r");
	double a = 0, b = 0, c = 0;

	if (fp == NULL || fscanf(fp, "%lf %lf %lf", &a, &b, &c) != 3)
		snprintf(out, len, "?");
	else
		snprintf(out, len, "%.2f %.2f %.2f", a, b, c);
	if (fp != NULL)
		fclose(fp);
}

/* --- Setup --- */

const char *
bench_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0')
		die("%s is not set (source the instance's demo.env)", name);
	return v;
}

static void
read_pem_pair(const char *certfile, const char *keyfile, X509 **x, EVP_PKEY **k)
{
	FILE *fp;

	*x = NULL;
	*k = NULL;
	if ((fp = fopen(certfile, "r")) != NULL) {
		*x = PEM_read_X509(fp, NULL, NULL, NULL);
		fclose(fp);
	}
	if ((fp = fopen(keyfile, "r")) != NULL) {
		*k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
		fclose(fp);
	}
	if (*x == NULL || *k == NULL || X509_check_private_key(*x, *k) != 1)
		die("cannot read the certificate %s with its key", certfile);
}

/* (a)'s request: the fixed CSR, HTTP Basic unless -A. */
static void
setup_a(EVP_PKEY **csrkey, unsigned char **csrder, int *csrderlen)
{
	char cred[600], auth[900], *b64 = NULL, *cb64;
	unsigned char *der;
	const unsigned char *p;
	X509_REQ *req;
	size_t b64len, clen;

	if (estload_csr("bench-est-fixed", csrkey, &b64, &b64len) != 0)
		die("cannot make the CSR");
	auth[0] = '\0';
	if (cfg.appcert) {
		read_pem_pair(bench_env("ESTUARY_APP_CERT"),
			      bench_env("ESTUARY_APP_CERT_KEY"), &app_cert,
			      &app_key);
	} else {
		snprintf(cred, sizeof(cred), "%s:%s",
			 bench_env("ESTUARY_APP_ID"),
			 bench_env("ESTUARY_APP_KEY"));
		if ((cb64 = estload_b64((unsigned char *)cred, strlen(cred),
					&clen)) == NULL)
			die("out of memory");
		snprintf(auth, sizeof(auth), "Authorization: Basic %s\r\n",
			 cb64);
		free(cb64);
		OPENSSL_cleanse(cred, sizeof(cred));
	}
	if ((req_a = estload_request(EST_PATH "/simpleenroll", auth, b64,
				     b64len, 0, &req_alen)) == NULL)
		die("out of memory");
	OPENSSL_cleanse(auth, sizeof(auth));
	/* The baseline parses the same DER. */
	if ((der = malloc(b64len)) == NULL ||
	    (*csrderlen = EVP_DecodeBlock(der, (unsigned char *)b64,
					  (int)b64len)) <= 0)
		die("cannot decode the CSR");
	p = der;
	if ((req = d2i_X509_REQ(NULL, &p, *csrderlen)) == NULL)
		die("cannot decode the CSR");
	*csrderlen = (int)(p - der);
	X509_REQ_free(req);
	*csrder = der;
	free(b64);
}

/* One request on a fresh connection; the answer with its body. */
static void
one_request(const char *req, size_t len, X509 *cert, EVP_PKEY *key,
	    struct https_resp *r)
{
	struct https_conn cn;

	if (https_open_cert(&cn, cert, key) != 0)
		die("cannot connect to %s", https_hosthdr);
	if (https_write(&cn, req, len) != 0 || https_response(&cn, r, 1) != 0)
		die("no answer from %s", https_hosthdr);
	https_close(&cn);
}

/* The certificate EST issues for the fixed CSR, and its CA's. */
static void
first_enroll(EVP_PKEY *csrkey, X509 **issued, X509 **ca)
{
	struct https_resp r;
	STACK_OF(X509) *chain = NULL;
	char err[200], get[512];
	int i, n;

	one_request(req_a, req_alen, app_cert, app_key, &r);
	if (r.status != 200)
		die("simpleenroll as the demo application: status %d: %s",
		    r.status, r.body != NULL ? r.body : "");
	if (estload_check(r.body, r.bodylen, csrkey, issued, err,
			  sizeof(err)) != 0)
		die("simpleenroll: %s", err);
	free(r.body);
	n = snprintf(get, sizeof(get),
		     "GET " EST_PATH "/cacerts HTTP/1.1\r\nHost: %s\r\n\r\n",
		     https_hosthdr);
	one_request(get, (size_t)n, NULL, NULL, &r);
	if (r.status != 200 || estload_p7_certs(r.body, r.bodylen, &chain) != 0)
		die("cacerts: status %d", r.status);
	free(r.body);
	*ca = NULL;
	for (i = 0; i < sk_X509_num(chain) && *ca == NULL; i++) {
		X509 *x = sk_X509_value(chain, i);

		if (X509_NAME_cmp(X509_get_subject_name(x),
				  X509_get_issuer_name(*issued)) == 0 &&
		    X509_verify(*issued, X509_get0_pubkey(x)) == 1 &&
		    X509_up_ref(x) == 1)
			*ca = x;
	}
	sk_X509_pop_free(chain, X509_free);
	if (*ca == NULL)
		die("cacerts holds no CA that signed the issued certificate");
}

/* (b)'s pool: n new devices, each with its CSR request ready. */
static void
make_pool(const struct estload_ca *fca, size_t n)
{
	unsigned char rnd[4];
	char name[65], path[128], *b64;
	EVP_PKEY *k;
	size_t i, b64len;

	for (i = 0; i < npool; i++) {
		estload_dev_clear(&pool[i].dev);
		free(pool[i].req);
	}
	free(pool);
	if ((pool = calloc(n, sizeof(*pool))) == NULL ||
	    RAND_bytes(rnd, sizeof(rnd)) != 1)
		die("out of memory");
	snprintf(path, sizeof(path), EST_PATH "/%s/simpleenroll",
		 bench_env("ESTUARY_EXT_LABEL"));
	if (snprintf(req_floor, sizeof(req_floor),
		     "GET " EST_PATH "/%s/cacerts HTTP/1.1\r\nHost: %s\r\n"
		     "Connection: close\r\n\r\n",
		     bench_env("ESTUARY_EXT_LABEL"),
		     https_hosthdr) >= (int)sizeof(req_floor))
		die("label too long");
	req_floorlen = strlen(req_floor);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "bench-%02x%02x%02x%02x-%zu",
			 rnd[0], rnd[1], rnd[2], rnd[3], i);
		if (estload_dev_mint(fca, name, &pool[i].dev) != 0 ||
		    estload_csr(pool[i].dev.fphex, &k, &b64, &b64len) != 0 ||
		    (pool[i].req = estload_request(path, NULL, b64, b64len, 1,
						   &pool[i].reqlen)) == NULL)
			die("cannot make device %zu", i);
		EVP_PKEY_free(k);
		free(b64);
	}
	npool = n;
}

/*
 * A short untimed run of the server phases first: the server's
 * per-thread caches, prepared statements and database pages are warm when
 * the first measurement starts, as they are for the measurement after the
 * fill.
 */
static void
warm_up(const struct estload_ca *fca, int a, int b)
{
	double d = cfg.duration;

	if (a) {
		cfg.duration = 0.5;
		run_phase(B_EST_A);
		cfg.duration = d;
	}
	if (b) {
		make_pool(fca, WARM_DEVICES);
		run_phase(B_ZT);
	}
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: bench_est [-A] [-c connections] "
			"[-d seconds] [-n devices] [-p a|b|ab] [-P count]\n");
	exit(2);
}

static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi)
		usage();
	return v;
}

int
main(int argc, char **argv)
{
	struct estload_ca fca;
	struct bres base, esta, hs, zt, fl, hs2, zt2;
	EVP_PKEY *csrkey = NULL;
	X509 *issued = NULL, *ca = NULL;
	unsigned char *csrder = NULL;
	char url[64], err[200], la0[64], la1[64];
	const char *port;
	int ch, csrderlen = 0;
	long prefill = 0, have = 0;
	char *end;

	while ((ch = getopt(argc, argv, "Ac:d:n:p:P:")) != -1) {
		switch (ch) {
		case 'A':
			cfg.appcert = 1;
			break;
		case 'c':
			cfg.nconn = (int)num(optarg, 1, BENCH_CONN_MAX);
			break;
		case 'd':
			cfg.duration = strtod(optarg, &end);
			if (*end != '\0' || cfg.duration < 0.5 ||
			    cfg.duration > 3600)
				usage();
			break;
		case 'n':
			cfg.ndev = (size_t)num(optarg, 10, 1000000);
			break;
		case 'p':
			cfg.a = strchr(optarg, 'a') != NULL;
			cfg.b = strchr(optarg, 'b') != NULL;
			if (strspn(optarg, "ab") != strlen(optarg) ||
			    !(cfg.a || cfg.b))
				usage();
			break;
		case 'P':
			prefill = num(optarg, 1, 100000000);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	port = bench_env("ESTUARY_EST_PORT");
	snprintf(url, sizeof(url), "https://127.0.0.1:%ld",
		 num(port, 1, 65535));
	https_init(PROG, url, bench_env("ESTUARY_TLS_CA"));
	https_set_name(bench_env("ESTUARY_EST_EC_HOST"));
	if (estload_ca_load(bench_env("ESTUARY_EXT_FACTORY_CA_CERT"),
			    bench_env("ESTUARY_EXT_FACTORY_CA_KEY"), &fca, err,
			    sizeof(err)) != 0)
		die("%s", err);
	bench_db_open();
	if (cfg.a) {
		setup_a(&csrkey, &csrder, &csrderlen);
		first_enroll(csrkey, &issued, &ca);
		baseline_init(issued, ca, csrder, csrderlen);
	}
	if (prefill > 0)
		cfg.b = 1;
	warm_up(&fca, cfg.a, cfg.b);
	if (cfg.b)
		make_pool(&fca, cfg.ndev);

	loadavg(la0, sizeof(la0));
	printf("bench_est: %s via 127.0.0.1, %d connection%s/thread%s, "
	       "%.1f s per timed phase, %zu devices per zero-touch phase, "
	       "load average %s\n",
	       https_hosthdr, cfg.nconn, cfg.nconn == 1 ? "" : "s",
	       cfg.nconn == 1 ? "" : "s", cfg.duration, cfg.ndev, la0);
	if (cfg.a) {
		base = run_phase(B_BASE);
		print_res("(a) baseline",
			  "in-process issuance, CA key in SoftHSM", "cert/s",
			  &base);
		esta = run_phase(B_EST_A);
		print_res("(a) est",
			  cfg.appcert
				  ? "simpleenroll keep-alive, app certificate"
				  : "simpleenroll keep-alive, AppID:AppKey",
			  "cert/s", &esta);
		print_ratio("(a) est / baseline", esta.rate, base.rate, 0.5);
	}
	if (cfg.b) {
		hs = run_phase(B_HS);
		print_res("(b) handshake", "TLS handshake, factory client cert",
			  "hs/s", &hs);
		zt = run_phase(B_ZT);
		print_res("(b) zero-touch",
			  "never-seen device, new connection, DAR", "dev/s",
			  &zt);
		print_ratio("(b) zero-touch / handshakes", zt.rate, hs.rate,
			    0.6);
		fl = run_phase(B_FLOOR);
		print_res("(b) floor", "cacerts, new connection, factory cert",
			  "req/s", &fl);
		print_ratio("(b) floor / handshakes", fl.rate, hs.rate, -1);
	}

	if (prefill > 0) {
		have = bench_prefill(prefill);
		make_pool(&fca, cfg.ndev);
		hs2 = run_phase(B_HS);
		print_res("(b) handshake", "again, after the fill", "hs/s",
			  &hs2);
		zt2 = run_phase(B_ZT);
		printf("  at %ld devices of the type:\n", have);
		print_res("(b) zero-touch", "never-seen device, at the fill",
			  "dev/s", &zt2);
		print_ratio("(b) zero-touch at the fill / before", zt2.rate,
			    zt.rate, 0.9);
	}
	loadavg(la1, sizeof(la1));
	printf("  load average at the end: %s\n", la1);

	make_pool(&fca, 0);
	if (cfg.a)
		baseline_fini();
	bench_db_close();
	free(req_a);
	free(csrder);
	EVP_PKEY_free(csrkey);
	X509_free(issued);
	X509_free(ca);
	X509_free(app_cert);
	EVP_PKEY_free(app_key);
	estload_ca_clear(&fca);
	https_fini();
	return 0;
}
