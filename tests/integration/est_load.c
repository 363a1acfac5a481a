/*
 * est_load: the driver of test_est_load.sh, built under tests/ and not
 * installed.  It mints simulated devices with the external factory CA of
 * the demo configuration and enrolls them by zero-touch provisioning
 * (estload.h) from parallel clients, one new TLS connection per request.
 *
 *	est_load mint -n devices -o file
 *		mints the devices (factory certificate with CN and
 *		serialNumber "load-<run>-<index>", EC P-256 key) and writes
 *		them to file (PEM, mode 0600);
 *	est_load enroll -i file -c clients -x copies -o results.tsv
 *		enrolls every device of file copies times.  With -x 1 the
 *		clients take devices one after the other; with -x 2 the
 *		clients work in pairs, both of a pair on the same device
 *		at the same moment: each opens its TLS connection, they
 *		wait for each other, then both send their request.
 *
 * results.tsv has one line per request: device index, factory
 * certificate fingerprint, HTTP status (0: no answer), the issued
 * certificate's fingerprint ("-" unless a 200 that checked: a certs-only
 * PKCS#7 holding the CSR's key) and the reason of a failure.  The last
 * line on stdout counts them; the exit status is 1 when a request got no
 * usable answer.  The test script compares the results with the database.
 *
 * Environment (the instance's demo.env): ESTUARY_EST_PORT,
 * ESTUARY_EST_EC_HOST, ESTUARY_EXT_LABEL, ESTUARY_TLS_CA,
 * ESTUARY_EXT_FACTORY_CA_CERT, ESTUARY_EXT_FACTORY_CA_KEY.  It connects to
 * 127.0.0.1 only, under the EST host's name (SNI and Host).
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "estload.h"
#include "https.h"

#define PROG "est_load"
#define CLIENTS_MAX 64
#define die(...) https_die(PROG, __VA_ARGS__)

struct result {
	int status;
	char issued[65];
	char reason[120];
};

/* A pair of clients racing on one device (-x 2). */
struct pair {
	pthread_barrier_t bar;
	atomic_size_t next;
	size_t cur;
	int done;
};

struct client {
	pthread_t tid;
	int id;
	struct pair *pair; /* NULL with -x 1 */
};

static struct estload_dev *devs;
static size_t ndevs;
static int copies = 1;
static struct result *results; /* ndevs * copies */
static atomic_size_t next_dev;
static atomic_ulong nfailed;
static char path[128];

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0')
		die("%s is not set (source the instance's demo.env)", name);
	return v;
}

/* The target: 127.0.0.1 at the EST port, under the EC server's name. */
static void
target(void)
{
	char url[64];
	const char *port = env("ESTUARY_EST_PORT"), *label;
	char *end;
	long pn = strtol(port, &end, 10);

	if (*end != '\0' || pn < 1 || pn > 65535)
		die("bad ESTUARY_EST_PORT: %s", port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%ld", pn);
	https_init(PROG, url, env("ESTUARY_TLS_CA"));
	https_set_name(env("ESTUARY_EST_EC_HOST"));
	label = env("ESTUARY_EXT_LABEL");
	if (strlen(label) > 24 || strspn(label, "abcdefghijklmnopqrstuvwxyz"
						"0123456789") != strlen(label))
		die("bad ESTUARY_EXT_LABEL: %s", label);
	snprintf(path, sizeof(path), "/.well-known/est/%s/simpleenroll", label);
}

static void
one(size_t dev, size_t copy, void (*sync)(void *), void *arg)
{
	struct result *res = &results[dev * (size_t)copies + copy];
	char *p;

	if (estload_enroll(path, &devs[dev], sync, arg, &res->status,
			   res->issued, res->reason, sizeof(res->reason)) != 0)
		atomic_fetch_add(&nfailed, 1);
	for (p = res->reason; *p != '\0'; p++)
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
}

static void
pair_sync(void *arg)
{
	pthread_barrier_wait(&((struct pair *)arg)->bar);
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	struct pair *p = c->pair;
	size_t i;

	if (p == NULL) {
		while ((i = atomic_fetch_add(&next_dev, 1)) < ndevs)
			one(i, 0, NULL, NULL);
		return NULL;
	}
	for (;;) {
		/* The pair's first client picks the device for both. */
		if (c->id % 2 == 0) {
			p->cur = atomic_fetch_add(&next_dev, 1);
			p->done = p->cur >= ndevs;
		}
		pthread_barrier_wait(&p->bar);
		if (p->done)
			break;
		i = p->cur;
		one(i, (size_t)(c->id % 2), pair_sync, p);
		/* Both are done with i before the next one is picked. */
		pthread_barrier_wait(&p->bar);
	}
	return NULL;
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: est_load mint -n devices -o file\n"
			"       est_load enroll -i file -c clients -x copies "
			"-o results.tsv\n");
	exit(2);
}

static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end != '\0' || end == s || v < lo || v > hi)
		usage();
	return v;
}

static int
cmd_mint(long n, const char *out)
{
	struct estload_ca ca;
	struct estload_dev *v;
	unsigned char rnd[4];
	char err[200], name[65];
	FILE *fp;
	long i;

	if (estload_ca_load(env("ESTUARY_EXT_FACTORY_CA_CERT"),
			    env("ESTUARY_EXT_FACTORY_CA_KEY"), &ca, err,
			    sizeof(err)) != 0)
		die("%s", err);
	if ((v = calloc((size_t)n, sizeof(*v))) == NULL ||
	    RAND_bytes(rnd, sizeof(rnd)) != 1)
		die("out of memory");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "load-%02x%02x%02x%02x-%ld",
			 rnd[0], rnd[1], rnd[2], rnd[3], i);
		if (estload_dev_mint(&ca, name, &v[i]) != 0)
			die("cannot mint device %ld", i);
	}
	umask(077);
	if ((fp = fopen(out, "w")) == NULL ||
	    estload_devs_write(fp, v, (size_t)n) != 0 || fclose(fp) != 0)
		die("cannot write %s", out);
	for (i = 0; i < n; i++)
		estload_dev_clear(&v[i]);
	free(v);
	estload_ca_clear(&ca);
	printf("%s: %ld devices minted\n", PROG, n);
	return 0;
}

static int
cmd_enroll(const char *in, int nclients, const char *out)
{
	struct client cl[CLIENTS_MAX];
	struct pair pairs[CLIENTS_MAX / 2];
	unsigned long ok = 0, other = 0;
	double t0, t1;
	FILE *fp;
	size_t i, j;
	int k;

	if ((fp = fopen(in, "r")) == NULL ||
	    estload_devs_read(fp, &devs, &ndevs) != 0)
		die("cannot read the devices in %s", in);
	fclose(fp);
	if (copies == 2 && nclients % 2 != 0)
		die("-x 2 needs an even number of clients");
	if ((results = calloc(ndevs * (size_t)copies, sizeof(*results))) ==
	    NULL)
		die("out of memory");
	target();
	memset(cl, 0, sizeof(cl));
	for (k = 0; copies == 2 && k < nclients / 2; k++) {
		pthread_barrier_init(&pairs[k].bar, NULL, 2);
		pairs[k].done = 0;
	}
	t0 = https_now();
	for (k = 0; k < nclients; k++) {
		cl[k].id = k;
		cl[k].pair = copies == 2 ? &pairs[k / 2] : NULL;
		if (pthread_create(&cl[k].tid, NULL, client_main, &cl[k]) != 0)
			die("cannot start a client thread");
	}
	for (k = 0; k < nclients; k++)
		pthread_join(cl[k].tid, NULL);
	t1 = https_now();
	umask(077);
	if ((fp = fopen(out, "w")) == NULL)
		die("cannot write %s", out);
	for (i = 0; i < ndevs; i++) {
		for (j = 0; j < (size_t)copies; j++) {
			const struct result *r =
				&results[i * (size_t)copies + j];

			fprintf(fp, "%zu\t%s\t%d\t%s\t%s\n", i, devs[i].fphex,
				r->status,
				r->issued[0] != '\0' ? r->issued : "-",
				r->reason[0] != '\0' ? r->reason : "-");
			if (r->status == 200 && r->issued[0] != '\0')
				ok++;
			else
				other++;
		}
	}
	if (fclose(fp) != 0)
		die("cannot write %s", out);
	for (k = 0; copies == 2 && k < nclients / 2; k++)
		pthread_barrier_destroy(&pairs[k].bar);
	printf("%s: %zu requests from %d clients in %.1f s (%.0f/s): "
	       "%lu x 200 checked, %lu other, %lu without a usable answer\n",
	       PROG, ndevs * (size_t)copies, nclients, t1 - t0,
	       (double)(ndevs * (size_t)copies) / (t1 - t0), ok, other,
	       atomic_load(&nfailed));
	for (i = 0; i < ndevs; i++)
		estload_dev_clear(&devs[i]);
	free(devs);
	free(results);
	https_fini();
	return atomic_load(&nfailed) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *cmd;
	long n = 0;
	int ch, nclients = 16;

	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	while ((ch = getopt(argc, argv, "c:i:n:o:x:")) != -1) {
		switch (ch) {
		case 'c':
			nclients = (int)num(optarg, 1, CLIENTS_MAX);
			break;
		case 'i':
			in = optarg;
			break;
		case 'n':
			n = num(optarg, 1, 1000000);
			break;
		case 'o':
			out = optarg;
			break;
		case 'x':
			copies = (int)num(optarg, 1, 2);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || out == NULL)
		usage();
	if (strcmp(cmd, "mint") == 0 && n > 0)
		return cmd_mint(n, out);
	if (strcmp(cmd, "enroll") == 0 && in != NULL)
		return cmd_enroll(in, nclients, out);
	usage();
}
