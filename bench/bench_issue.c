/*
 * bench_issue: certificates per second, in one run, for
 *
 *	1. baseline: this process parses a fixed EC P-256 CSR (decode and
 *	   verify its self-signature), builds the certificate the template
 *	   describes (serial, names, validity, basicConstraints, keyUsage,
 *	   extendedKeyUsage, SKI, AKI, CRL distribution point, OCSP AIA) and
 *	   signs it with a software EC P-256 key, in -c threads;
 *	2. api: POST /api/v1/certificates with the same CSR through the web
 *	   server of a running stack, -c keep-alive connections: TLS,
 *	   FastCGI, authentication, the permission check, the template, CSR
 *	   intake, subject resolution, the signature by the CA key in SoftHSM
 *	   through estuary-signerd, the certificate row and its audit row;
 *	3. keygen: POST /api/v1/certificates/generate, the key pair made by
 *	   the signer and kept wrapped;
 *	4. batch: one batch job of -n server-generated EC P-256 keys, timed
 *	   from the POST until the job reports completed, as a rate and as a
 *	   ratio to the single keygen issuance of phase 3.
 *
 * Each rate is printed with its ratio to the baseline (goal for phase 2:
 * at least 0.5).  The bench makes its own root and issuing CA (EC P-256,
 * keys in the stack's HSM) and template through the API, as the admin.
 *
 *	bench_issue [-c connections] [-d seconds] [-n batch size]
 *
 * -c is the number of connections of the API phases and of threads of
 * the baseline, 8 by default: the rate of a service is its rate under
 * concurrent load.  With 2 the API's figure is the latency of one
 * request's chain of processes (bench/README.md).
 *
 * Environment (var/demo.env has them): ESTUARY_URL, ESTUARY_TLS_CA,
 * ESTUARY_ADMIN_USER, ESTUARY_ADMIN_PASSWORD.  Loopback targets only
 * (https.h).  Speed is shown, never asserted: see bench/README.md.
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

#include <json-c/json.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cpu_sample.h"
#include "https.h"

#define PROG "bench_issue"
#define CONN_MAX 64
#define die(...) https_die(PROG, __VA_ARGS__)

static double duration = 5.0;
static int nconn = 8;
static atomic_int go, stop;

/* What the API phases send: the session and the prepared request. */
static char cookie[256], csrf[256];
static char *request;
static size_t reqlen;

/* The fixed CSR, DER and PEM, and the baseline's software CA. */
static unsigned char *csr_der;
static int csr_derlen;
static char *csr_pem;
static EVP_PKEY *ca_key;
static X509 *ca_cert;

struct worker {
	pthread_t tid;
	pthread_barrier_t *ready;
	int api; /* 1: HTTP requests, 0: the in-process baseline */
	int expect;
	unsigned long long ok, bad, reconnects;
	int failed;
};

/* --- Setup through the API --- */

static struct json_object *
api_json(const char *method, const char *path, const char *body, int expect)
{
	struct https_resp r;
	struct json_object *o;
	char headers[700];

	snprintf(headers, sizeof(headers),
		 "Cookie: " HTTPS_COOKIE_NAME "=%s\r\nX-CSRF-Token: %s\r\n",
		 cookie, csrf);
	https_call(PROG, method, path, headers, body, &r);
	if (r.status != expect)
		die("%s %s: status %d, expected %d: %s", method, path, r.status,
		    expect, r.body != NULL ? r.body : "");
	o = json_tokener_parse(r.body);
	free(r.body);
	if (o == NULL)
		die("%s %s: the answer is not JSON", method, path);
	return o;
}

static int64_t
json_id(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		die("no \"%s\" in an answer", key);
	return json_object_get_int64(v);
}

/* Creates the CAs and the template; returns the template's id. */
static int64_t
setup_api(void)
{
	struct json_object *o;
	char body[2048], tag[64];
	int64_t root, issuing, tmpl;

	snprintf(tag, sizeof(tag), "bench-%ld-%d", (long)time(NULL),
		 (int)getpid());
	snprintf(body, sizeof(body),
		 "{\"name\":\"%s-root\",\"kind\":\"root\","
		 "\"key_type\":\"ec-p256\",\"subject\":\"CN=%s root\","
		 "\"validity_days\":3650,\"scope\":\"global\"}",
		 tag, tag);
	o = api_json("POST", "/api/v1/cas", body, 201);
	root = json_id(o, "id");
	json_object_put(o);
	snprintf(body, sizeof(body),
		 "{\"name\":\"%s-issuing\",\"kind\":\"issuing\","
		 "\"parent_id\":%lld,\"key_type\":\"ec-p256\","
		 "\"subject\":\"CN=%s issuing\",\"validity_days\":1825,"
		 "\"path_len\":0,\"scope\":\"global\"}",
		 tag, (long long)root, tag);
	o = api_json("POST", "/api/v1/cas", body, 201);
	issuing = json_id(o, "id");
	json_object_put(o);
	snprintf(body, sizeof(body),
		 "{\"name\":\"%s-device\",\"type\":\"general\","
		 "\"scope\":\"global\",\"ca_id\":%lld,\"validity_days\":365,"
		 "\"key_types\":[\"ec-p256\"],\"server_keygen\":true,"
		 "\"keygen_key_type\":\"ec-p256\",\"key_retention_days\":1,"
		 "\"key_usage\":[\"digitalSignature\"],"
		 "\"extended_key_usage\":[\"clientAuth\"],"
		 "\"subject_fields\":[{\"attribute\":\"CN\","
		 "\"rule\":\"required\",\"max_length\":64}]}",
		 tag, (long long)issuing);
	o = api_json("POST", "/api/v1/cert-templates", body, 201);
	tmpl = json_id(o, "id");
	json_object_put(o);
	return tmpl;
}

/* --- The fixed CSR and the baseline's CA --- */

static EVP_PKEY *
ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (k == NULL)
		die("cannot generate an EC key");
	return k;
}

static void
make_csr(void)
{
	X509_REQ *req;
	EVP_PKEY *k = ec_key();
	X509_NAME *n;
	BIO *b;
	BUF_MEM *m;

	if ((req = X509_REQ_new()) == NULL ||
	    (n = X509_REQ_get_subject_name(req)) == NULL ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
				       (const unsigned char *)"bench-device",
				       -1, -1, 0) != 1 ||
	    X509_REQ_set_pubkey(req, k) != 1 ||
	    X509_REQ_sign(req, k, EVP_sha256()) <= 0 ||
	    (csr_derlen = i2d_X509_REQ(req, &csr_der)) <= 0)
		die("cannot make the CSR");
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_REQ(b, req) != 1)
		die("cannot encode the CSR");
	BIO_get_mem_ptr(b, &m);
	if ((csr_pem = strndup(m->data, m->length)) == NULL)
		die("out of memory");
	BIO_free(b);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
}

static void
add_ext(X509 *x, X509V3_CTX *v, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v, nid, value);

	if (e == NULL || X509_add_ext(x, e, -1) != 1)
		die("cannot add extension %d", nid);
	X509_EXTENSION_free(e);
}

static void
make_ca(void)
{
	X509V3_CTX v;
	X509_NAME *n;

	ca_key = ec_key();
	if ((ca_cert = X509_new()) == NULL ||
	    X509_set_version(ca_cert, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(ca_cert), 1) != 1 ||
	    (n = X509_get_subject_name(ca_cert)) == NULL ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
				       (const unsigned char *)"bench CA", -1,
				       -1, 0) != 1 ||
	    X509_set_issuer_name(ca_cert, n) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(ca_cert), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(ca_cert), 86400L * 3650) ==
		    NULL ||
	    X509_set_pubkey(ca_cert, ca_key) != 1)
		die("cannot make the baseline CA");
	X509V3_set_ctx(&v, ca_cert, ca_cert, NULL, NULL, 0);
	add_ext(ca_cert, &v, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(ca_cert, &v, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(ca_cert, &v, NID_subject_key_identifier, "hash");
	if (X509_sign(ca_cert, ca_key, EVP_sha256()) <= 0)
		die("cannot sign the baseline CA");
}

/*
 * One baseline issuance: what the API does to the same CSR, with the key
 * in this process.  The CSR's public key is carried over the way the API
 * does it would be cheaper than X509_set_pubkey; the baseline uses
 * OpenSSL's public API as an application would.
 */
static int
baseline_issue(void)
{
	const unsigned char *p = csr_der;
	unsigned char serial[16], *der = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *pub;
	X509 *x = NULL;
	X509V3_CTX v;
	BIGNUM *bn = NULL;
	int len, ok = 0;

	if ((req = d2i_X509_REQ(NULL, &p, csr_derlen)) == NULL ||
	    (pub = X509_REQ_get0_pubkey(req)) == NULL ||
	    X509_REQ_verify(req, pub) != 1)
		goto out;
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] = (serial[0] & 0x3f) | 0x40;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    (x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_issuer_name(x, X509_get_subject_name(ca_cert)) != 1 ||
	    X509_set_subject_name(x, X509_REQ_get_subject_name(req)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) == NULL ||
	    X509_set_pubkey(x, pub) != 1)
		goto out;
	X509V3_set_ctx(&v, ca_cert, x, NULL, NULL, 0);
	add_ext(x, &v, NID_basic_constraints, "critical,CA:FALSE");
	add_ext(x, &v, NID_key_usage, "critical,digitalSignature");
	add_ext(x, &v, NID_ext_key_usage, "clientAuth");
	add_ext(x, &v, NID_subject_key_identifier, "hash");
	add_ext(x, &v, NID_authority_key_identifier, "keyid:always");
	add_ext(x, &v, NID_crl_distribution_points,
		"URI:http://127.0.0.1/pki/crl/2.crl");
	add_ext(x, &v, NID_info_access, "OCSP;URI:http://127.0.0.1/pki/ocsp/2");
	if (X509_sign(x, ca_key, EVP_sha256()) <= 0 ||
	    (len = i2d_X509(x, &der)) <= 0)
		goto out;
	ok = 1;
out:
	OPENSSL_free(der);
	BN_free(bn);
	X509_free(x);
	X509_REQ_free(req);
	return ok;
}

/* --- Phases --- */

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct https_conn cn;
	struct https_resp r;
	int connected = 1;

	cn.ssl = NULL;
	if (w->api)
		connected = https_open(&cn) == 0;
	pthread_barrier_wait(w->ready);
	if (!connected) {
		w->failed = 1;
		return NULL;
	}
	while (!atomic_load(&go))
		;
	while (!atomic_load(&stop)) {
		if (!w->api) {
			if (baseline_issue())
				w->ok++;
			else
				w->bad++;
			continue;
		}
		if (cn.ssl == NULL) {
			if (https_open(&cn) != 0) {
				w->failed = 1;
				break;
			}
			w->reconnects++;
		}
		if (https_write(&cn, request, reqlen) != 0 ||
		    https_response(&cn, &r, 0) != 0) {
			https_close(&cn);
			continue;
		}
		if (r.status == w->expect)
			w->ok++;
		else
			w->bad++;
		if (r.closing)
			https_close(&cn);
	}
	if (w->api)
		https_close(&cn);
	return NULL;
}

struct result {
	double rate;
	unsigned long long ok, bad, reconnects;
	double cpu[CPU_N]; /* CPU microseconds per certificate */
};

static struct result
run_phase(const char *name, int api, int expect)
{
	struct worker w[CONN_MAX];
	pthread_barrier_t ready;
	struct timespec ts;
	struct result res;
	double t0, t1, c0[CPU_N], c1[CPU_N];
	int i;

	memset(w, 0, sizeof(w));
	memset(&res, 0, sizeof(res));
	atomic_store(&go, 0);
	atomic_store(&stop, 0);
	pthread_barrier_init(&ready, NULL, (unsigned)nconn + 1);
	for (i = 0; i < nconn; i++) {
		w[i].api = api;
		w[i].expect = expect;
		w[i].ready = &ready;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
			die("cannot start a thread");
	}
	pthread_barrier_wait(&ready);
	cpu_sample(c0);
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
	cpu_sample(c1);
	pthread_barrier_destroy(&ready);
	for (i = 0; i < nconn; i++) {
		if (w[i].failed)
			die("%s: cannot connect or reconnect", name);
		res.ok += w[i].ok;
		res.bad += w[i].bad;
		res.reconnects += w[i].reconnects;
	}
	res.rate = (double)res.ok / (t1 - t0);
	for (i = 0; i < CPU_N && res.ok > 0; i++)
		res.cpu[i] = (c1[i] - c0[i]) * 1e6 / (double)res.ok;
	return res;
}

/* The request every API connection sends, with its JSON body. */
static void
set_request(const char *path, const char *json)
{
	size_t cap = strlen(json) + 2048;
	int n;

	free(request);
	if ((request = malloc(cap)) == NULL)
		die("out of memory");
	n = snprintf(request, cap,
		     "POST %s HTTP/1.1\r\nHost: %s\r\n"
		     "Cookie: " HTTPS_COOKIE_NAME "=%s\r\n"
		     "X-CSRF-Token: %s\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     path, https_hosthdr, cookie, csrf, strlen(json), json);
	if (n < 0 || (size_t)n >= cap)
		die("request too long");
	reqlen = (size_t)n;
}

static void
print_result(const char *name, const char *what, const struct result *r,
	     double base)
{
	printf("  %-9s %-44s %9.1f cert/s  ratio %.3f", name, what, r->rate,
	       base > 0 ? r->rate / base : 0.0);
	if (r->bad > 0 || r->reconnects > 0)
		printf("  (%llu failed, %llu reconnects)", r->bad,
		       r->reconnects);
	/*
	 * What a certificate cost each process of the instance (the
	 * baseline's is this process alone); ESTUARY_VAR names the instance.
	 */
	printf("\n%12sCPU us/cert: web %.0f, api %.0f, signer %.0f, "
	       "mariadbd %.0f, bench %.0f\n",
	       "", r->cpu[CPU_WEB], r->cpu[CPU_API], r->cpu[CPU_SIGNER],
	       r->cpu[CPU_DB], r->cpu[CPU_SELF]);
	fflush(stdout);
}

/* The CSR PEM as the body of a JSON string. */
static char *
csr_json(void)
{
	size_t n = strlen(csr_pem), o = 0, i;
	char *s = malloc(2 * n + 1);

	if (s == NULL)
		die("out of memory");
	for (i = 0; i < n; i++) {
		if (csr_pem[i] == '\n') {
			s[o++] = '\\';
			s[o++] = 'n';
		} else {
			s[o++] = csr_pem[i];
		}
	}
	s[o] = '\0';
	return s;
}

/* Runs one batch job of count keys; returns its certificates per second. */
static double
run_batch(int64_t tmpl, int count, double *secs)
{
	struct json_object *o, *v;
	char body[512], path[128];
	const char *status = "";
	double t0, t1;
	int64_t id;
	struct timespec ts = {0, 200 * 1000 * 1000};

	snprintf(body, sizeof(body),
		 "{\"template_id\":%lld,\"count\":%d,\"key_type\":\"ec-p256\","
		 "\"subject\":{\"CN\":\"bench-batch-{index}\"},"
		 "\"passphrase_mode\":\"per_batch\"}",
		 (long long)tmpl, count);
	t0 = https_now();
	o = api_json("POST", "/api/v1/batch-jobs", body, 202);
	id = json_id(o, "id");
	json_object_put(o);
	snprintf(path, sizeof(path), "/api/v1/batch-jobs/%lld", (long long)id);
	for (;;) {
		nanosleep(&ts, NULL);
		o = api_json("GET", path, NULL, 200);
		if (json_object_object_get_ex(o, "status", &v))
			status = json_object_get_string(v);
		if (strcmp(status, "completed") == 0 ||
		    strcmp(status, "failed") == 0 ||
		    strcmp(status, "cancelled") == 0)
			break;
		json_object_put(o);
	}
	t1 = https_now();
	if (strcmp(status, "completed") != 0)
		die("batch job %lld ended %s", (long long)id, status);
	if (json_object_object_get_ex(o, "failed", &v) &&
	    json_object_get_int(v) != 0)
		die("batch job %lld: %d items failed", (long long)id,
		    json_object_get_int(v));
	json_object_put(o);
	*secs = t1 - t0;
	return (double)count / (t1 - t0);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_issue [-c connections] [-d seconds] "
			"[-n batch size]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct result base, api, keygen;
	char *csrj, *body;
	size_t blen;
	double batch_rate = 0, batch_secs = 0;
	int64_t tmpl;
	char *end;
	int ch, nbatch = 10000;

	while ((ch = getopt(argc, argv, "c:d:n:")) != -1) {
		switch (ch) {
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
		case 'n':
			nbatch = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || nbatch < 0 || nbatch > 100000)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	https_init(PROG, getenv("ESTUARY_URL"), getenv("ESTUARY_TLS_CA"));
	https_login(PROG, getenv("ESTUARY_ADMIN_USER"),
		    getenv("ESTUARY_ADMIN_PASSWORD"), cookie, sizeof(cookie),
		    csrf, sizeof(csrf));
	make_csr();
	make_ca();
	tmpl = setup_api();

	printf("bench_issue: https://%s, %d connection%s/thread%s, %.1f s "
	       "each\n",
	       https_hosthdr, nconn, nconn == 1 ? "" : "s",
	       nconn == 1 ? "" : "s", duration);
	base = run_phase("baseline", 0, 0);
	print_result("baseline", "in-process OpenSSL, software EC key", &base,
		     base.rate);

	csrj = csr_json();
	blen = strlen(csrj) + 128;
	if ((body = malloc(blen)) == NULL)
		die("out of memory");
	snprintf(body, blen, "{\"template_id\":%lld,\"csr\":\"%s\"}",
		 (long long)tmpl, csrj);
	set_request("/api/v1/certificates", body);
	api = run_phase("api", 1, 201);
	print_result("api", "POST /api/v1/certificates (CSR)", &api, base.rate);

	snprintf(body, blen,
		 "{\"template_id\":%lld,\"key_type\":\"ec-p256\","
		 "\"subject\":{\"CN\":\"bench-keygen\"}}",
		 (long long)tmpl);
	set_request("/api/v1/certificates/generate", body);
	keygen = run_phase("keygen", 1, 201);
	print_result("keygen", "POST /api/v1/certificates/generate", &keygen,
		     base.rate);

	if (nbatch > 0) {
		batch_rate = run_batch(tmpl, nbatch, &batch_secs);
		printf("  %-9s %-44s %9.1f cert/s  ratio %.3f\n", "batch",
		       "batch job, server-generated EC P-256", batch_rate,
		       base.rate > 0 ? batch_rate / base.rate : 0.0);
		printf("  batch of %d: %.1f s; %.3f of single keygen "
		       "issuance, %.3f of single CSR issuance\n",
		       nbatch, batch_secs,
		       keygen.rate > 0 ? batch_rate / keygen.rate : 0.0,
		       api.rate > 0 ? batch_rate / api.rate : 0.0);
	}
	free(body);
	free(csrj);
	free(request);
	free(csr_pem);
	OPENSSL_free(csr_der);
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	https_fini();
	return 0;
}
