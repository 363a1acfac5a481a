/*
 * bench_devices: the device registry at a million devices.  It fills
 * throwaway MariaDB servers (bench_devices_srv.c) through the data layer
 * the API uses, and measures
 *
 *  - the zero-touch lookup of a device by the SHA-256 fingerprint of its
 *    factory certificate (db_device_find_fingerprint(), as EST
 *    provisioning calls it), and
 *  - filtered device list pages as GET /api/v1/devices asks for them
 *    (db_device_list(): a first page and a page deep in the keyset),
 *
 * in a registry of -s devices (default 10,000) and in one of -n (default
 * 1,000,000), and prints p50/p95 of each with the ratio large/small.  The
 * two registries have a server each (same options), filled one after the
 * other; each measurement then alternates its queries between them, so
 * that whatever else runs on the machine meanwhile weighs on both
 * figures alike.
 *
 *	bench_devices [-n total] [-s small] [-q queries] [-k dir]
 *
 * -k keeps (or reuses) the servers' data directories in dir: a second
 * run starts with the devices the first one made (and measures registries
 * of that size when they are larger).  Speed is shown, never asserted:
 * see bench/README.md.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "db.h"
#include "dbq.h"
#include "device.h"
#include "devtype.h"
#include "err.h"
#include "log.h"
#include "util.h"

#include "devices_bench.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Devices per transaction while filling: ten statements of 500 rows. */
#define TX_ROWS (10 * DEVICE_BULK_ROWS)
/* A list page, as the API's default limit. */
#define PAGE 50
/* Untimed queries before each measurement (a running server is warm). */
#define WARMUP 100

/*
 * The registry's shape: a tenant, four organizations of different sizes,
 * three device types whose mix differs between organizations (cameras
 * are 10 % of one organization's devices and 0.2 % of another's), and
 * the modes.  Weights are in thousandths.
 */
static const char *const org_names[NORGS] = {
	"bench-org-north", "bench-org-south", "bench-org-east",
	"bench-org-west"};
static const unsigned org_weights[NORGS] = {400, 300, 200, 100};
static const char *const type_names[NTYPES] = {"bench-sensor", "bench-gateway",
					       "bench-camera"};
/* The type mix of each organization. */
static const unsigned type_mix[NORGS][NTYPES] = {
	{600, 300, 100},
	{700, 270, 30},
	{800, 190, 10},
	{900, 98, 2},
};
/* The device class and model of each type's devices. */
static const char *const type_models[NTYPES] = {"ES-100", "EG-400", "EC-20"};
static const char *const type_classes[NTYPES] = {"sensor", "gateway", "camera"};
/* Modes that a new device can have; DISABLED comes later in life. */
static const enum device_mode modes[] = {DEVICE_MODE_OPERATIONAL,
					 DEVICE_MODE_FACTORY, DEVICE_MODE_NEW};
static const unsigned mode_weights[] = {800, 120, 80};

/* The random bytes behind every fingerprint (kept in dir for -k). */
static uint8_t fp_seed[32];
static uint64_t rng_state;

/* splitmix64: the spread of devices over organizations, types, modes. */
static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* An index into n weights (thousandths), drawn at random. */
static size_t
pick(const unsigned *permille, size_t n)
{
	unsigned v = (unsigned)(rnd() % 1000), acc = 0;
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		acc += permille[i];
		if (v < acc)
			return i;
	}
	return n - 1;
}

/*
 * The factory certificate fingerprint of device number i: SHA-256 over
 * the 32 random bytes of the run's seed and i, so each is as random as a
 * real certificate's and the bench can name any device's without keeping
 * a million of them.
 */
static void
fingerprint(size_t i, uint8_t fp[DEVICE_FP_LEN])
{
	uint8_t in[sizeof(fp_seed) + 8];
	unsigned len = DEVICE_FP_LEN;
	size_t k;

	memcpy(in, fp_seed, sizeof(fp_seed));
	for (k = 0; k < 8; k++)
		in[sizeof(fp_seed) + k] = (uint8_t)((uint64_t)i >> (8 * k));
	if (EVP_Digest(in, sizeof(in), fp, &len, EVP_sha256(), NULL) != 1)
		bdv_die("SHA-256 failed", 0);
}

static void
device_name(size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "bench-dev-%08zu", i);
}

/* The seed of the fingerprints: new, or the one a kept dir holds. */
static void
load_seed(void)
{
	char path[300];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/fp-seed", bdv_dir());
	if ((fd = open(path, O_RDONLY)) >= 0) {
		n = read(fd, fp_seed, sizeof(fp_seed));
		close(fd);
		if (n != (ssize_t)sizeof(fp_seed))
			bdv_die("fp-seed: short file", 0);
		return;
	}
	if (random_bytes(fp_seed, sizeof(fp_seed)) != 0 ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
	    write(fd, fp_seed, sizeof(fp_seed)) != (ssize_t)sizeof(fp_seed))
		bdv_die("cannot write fp-seed", 0);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* The tenant, organizations and device types */

static int64_t
find_type(struct registry *g, const char *name)
{
	struct db_devtype_filter f;
	struct devtype **list = NULL;
	size_t n = 0;
	int64_t id = 0;
	int r;

	memset(&f, 0, sizeof(f));
	f.name = name;
	f.tenant_id = g->tenant;
	f.active = -1;
	f.dar = -1;
	if ((r = db_devtype_list(g->db, &f, 0, 2, &list, &n)) != 0)
		bdv_die("device type list", r);
	if (n == 1)
		id = list[0]->id;
	db_devtype_list_free(list, n);
	return id;
}

static void
make_type(struct registry *g, size_t i)
{
	struct devtype *dt = devtype_new();
	int r;

	if (dt == NULL || (dt->name = strdup(type_names[i])) == NULL ||
	    (dt->scope = strdup(SCOPE_TENANT)) == NULL ||
	    (dt->props[SUBJ_PROP_MANUFACTURER].default_value =
		     strdup("Demo Manufacturer")) == NULL)
		bdv_die("out of memory", 0);
	dt->tenant_id = g->tenant;
	dt->factory_source = DEVTYPE_FACTORY_NONE;
	dt->props[SUBJ_PROP_SERIAL_NUMBER].required = 1;
	if ((r = db_devtype_insert(g->db, dt, 0, &g->type[i])) != 0)
		bdv_die("device type insert", r);
	devtype_free(dt);
}

/*
 * Makes (or, in a kept dir, finds) the registry's fixed rows, and counts
 * its devices: the sum of each type's.
 */
static void
make_shape(struct registry *g)
{
	int64_t devices, servers;
	size_t i;
	int r;

	if ((r = db_begin(g->db)) != 0)
		bdv_die("begin", r);
	r = db_tenant_find(g->db, "bench", &g->tenant);
	if (r == EST_E_NOTFOUND)
		r = db_tenant_create(g->db, "bench", "bench_devices",
				     &g->tenant);
	if (r != 0)
		bdv_die("tenant", r);
	for (i = 0; i < NORGS; i++) {
		r = db_org_find(g->db, g->tenant, org_names[i], &g->org[i]);
		if (r == EST_E_NOTFOUND)
			r = db_org_create(g->db, g->tenant, org_names[i], NULL,
					  &g->org[i]);
		if (r != 0)
			bdv_die("organization", r);
	}
	for (i = 0; i < NTYPES; i++)
		if ((g->type[i] = find_type(g, type_names[i])) == 0)
			make_type(g, i);
	if ((r = db_commit(g->db)) != 0)
		bdv_die("commit", r);
	g->have = 0;
	for (i = 0; i < NTYPES; i++) {
		if ((r = db_devtype_usage(g->db, g->type[i], &devices,
					  &servers)) != 0)
			bdv_die("device count", r);
		g->have += (size_t)devices;
	}
}

/* ------------------------------------------------------------------ */
/* Filling */

/* The text of one device's properties and name, kept for the insert. */
struct rowtext {
	char name[32], serial[32], hw[16], fw[16], loc[48];
	const char *props[SUBJ_PROP_COUNT];
	uint8_t fp[DEVICE_FP_LEN];
};

static void
make_row(const struct registry *g, size_t i, struct rowtext *t,
	 struct db_device_new *n)
{
	size_t org = pick(org_weights, NORGS);
	size_t type = pick(type_mix[org], NTYPES);
	size_t m = pick(mode_weights, NELEM(mode_weights));

	device_name(i, t->name, sizeof(t->name));
	fingerprint(i, t->fp);
	snprintf(t->serial, sizeof(t->serial), "SN%02X%02X%02X%02X%06zu",
		 t->fp[0], t->fp[1], t->fp[2], t->fp[3], i % 1000000);
	snprintf(t->hw, sizeof(t->hw), "rev %c", (char)('A' + rnd() % 4));
	snprintf(t->fw, sizeof(t->fw), "2.%u.%u", (unsigned)(rnd() % 8),
		 (unsigned)(rnd() % 20));
	snprintf(t->loc, sizeof(t->loc), "Building %u, floor %u, room %u",
		 (unsigned)(rnd() % 40 + 1), (unsigned)(rnd() % 12),
		 (unsigned)(rnd() % 300 + 1));
	t->props[SUBJ_PROP_SERIAL_NUMBER] = t->serial;
	t->props[SUBJ_PROP_MODEL] = type_models[type];
	t->props[SUBJ_PROP_HARDWARE_VERSION] = t->hw;
	t->props[SUBJ_PROP_MANUFACTURER] = "Demo Manufacturer";
	t->props[SUBJ_PROP_DEVICE_CLASS] = type_classes[type];
	t->props[SUBJ_PROP_FIRMWARE] = t->fw;
	t->props[SUBJ_PROP_DESCRIPTIVE_LOCATION] = t->loc;
	memset(n, 0, sizeof(*n));
	n->name = t->name;
	n->tenant_id = g->tenant;
	n->org_id = g->org[org];
	n->device_type_id = g->type[type];
	n->description = i % 10 == 0 ? "installed by the field team" : NULL;
	n->mode = modes[m];
	n->props = t->props;
	n->factory_fp = t->fp;
	n->created_via = DEVICE_VIA_API;
}

/* Adds devices until registry g holds target. */
static void
fill(struct registry *g, size_t target)
{
	static struct rowtext text[TX_ROWS];
	static struct db_device_new rows[TX_ROWS];
	size_t start = g->have, n, i, next_report;
	double t0 = bdv_now(), t;
	int r;

	if (g->have >= target)
		return;
	next_report = (g->have / 100000 + 1) * 100000;
	while (g->have < target) {
		if (bdv_interrupted)
			bdv_die("interrupted", 0);
		n = target - g->have < TX_ROWS ? target - g->have : TX_ROWS;
		for (i = 0; i < n; i++)
			make_row(g, g->have + i, &text[i], &rows[i]);
		if ((r = db_begin(g->db)) != 0 ||
		    (r = db_device_insert_many(g->db, rows, n)) != 0 ||
		    (r = db_commit(g->db)) != 0)
			bdv_die("device insert", r);
		g->have += n;
		if (g->have >= next_report || g->have == target) {
			t = bdv_now() - t0;
			printf("  %8zu devices (%.0f inserted/s, %.1f s)\n",
			       g->have, (double)(g->have - start) / t, t);
			next_report += 100000;
		}
	}
	t = bdv_now() - t0;
	printf("  %s: %zu -> %zu devices in %.1f s (%.0f devices/s, "
	       "%d rows per INSERT, %d per transaction)\n",
	       g->name, start, g->have, t, (double)(g->have - start) / t,
	       DEVICE_BULK_ROWS, TX_ROWS);
}

/* ------------------------------------------------------------------ */
/* Measuring */

struct stats {
	size_t count;
	double mean, p50, p95, max; /* milliseconds */
};

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct stats
summarize(double *ms, size_t n)
{
	struct stats s = {n, 0, 0, 0, 0};
	size_t i;

	for (i = 0; i < n; i++)
		s.mean += ms[i];
	s.mean /= (double)n;
	qsort(ms, n, sizeof(*ms), cmp_double);
	s.p50 = ms[(n - 1) / 2];
	s.p95 = ms[(n * 95 + 99) / 100 - 1];
	s.max = ms[n - 1];
	return s;
}

/*
 * One lookup of a random device of g by fingerprint, in ms; *i is the
 * device's number and *id what the lookup found (check_lookup() checks
 * it after the measurement, so that its reads do not mix with the
 * measured ones).
 */
static double
one_lookup(const struct registry *g, size_t *i, int64_t *id)
{
	uint8_t fp[DEVICE_FP_LEN];
	double t0, t;
	int r;

	*i = (size_t)(rnd() % g->have);
	fingerprint(*i, fp);
	t0 = bdv_now();
	r = db_device_find_fingerprint(g->db, fp, id);
	t = bdv_now() - t0;
	if (r != 0)
		bdv_die("lookup by fingerprint", r);
	return t * 1000;
}

/* Device number i of g is the device id: its name says so. */
static void
check_lookup(const struct registry *g, size_t i, int64_t id)
{
	char name[32];
	int64_t want = 0;
	int r;

	device_name(i, name, sizeof(name));
	if ((r = db_device_find_name(g->db, g->tenant, name, &want)) != 0)
		bdv_die("lookup by name", r);
	if (id != want)
		bdv_die("lookup by fingerprint found the wrong device", 0);
}

/* A list request: which filters, and whether the page is deep. */
struct listcase {
	const char *label;
	size_t org;  /* index into org_names */
	size_t type; /* index into type_names, NTYPES for none */
	int mode;    /* enum device_mode, or ANY_MODE */
	int deep;
};
#define ANY_MODE (-1)

/*
 * An organization with a mode (24 % of the registry: an operator's view
 * of the devices in service), with a device type too (0.16 %: the
 * cameras in service in an organization with few), and with a type alone
 * (0.02 %: the few cameras of the organization with fewest).
 */
static const struct listcase listcases[] = {
	{"org+mode, first page", 1, NTYPES, DEVICE_MODE_OPERATIONAL, 0},
	{"org+mode, deep page", 1, NTYPES, DEVICE_MODE_OPERATIONAL, 1},
	{"org+mode+type, first page", 2, 2, DEVICE_MODE_OPERATIONAL, 0},
	{"org+mode+type, deep page", 2, 2, DEVICE_MODE_OPERATIONAL, 1},
	{"org+type, first page", 3, 2, ANY_MODE, 0},
	{"org+type, deep page", 3, 2, ANY_MODE, 1},
};
#define NCASES NELEM(listcases)

/*
 * The cursor of a deep page: the id of a device between the middle and
 * nine tenths of the registry, as a client that paged that far holds.
 */
static int64_t
deep_cursor(const struct registry *g)
{
	char name[32];
	int64_t id;
	int r;

	device_name(g->have / 2 + (size_t)(rnd() % (g->have * 4 / 10 + 1)),
		    name, sizeof(name));
	if ((r = db_device_find_name(g->db, g->tenant, name, &id)) != 0)
		bdv_die("device by name", r);
	return id;
}

/* One list page of case c, as a tenant's administrator asks; checked. */
static double
one_list(const struct registry *g, const struct listcase *c, int64_t after,
	 size_t *rows)
{
	struct db_device_filter f;
	struct device **list = NULL;
	size_t n = 0, i;
	double t0, t;
	int r;

	memset(&f, 0, sizeof(f));
	f.scope_tenant = g->tenant;
	f.org_id = g->org[c->org];
	f.device_type_id = c->type < NTYPES ? g->type[c->type] : 0;
	f.mode = c->mode;
	t0 = bdv_now();
	r = db_device_list(g->db, &f, after, PAGE, &list, &n);
	t = bdv_now() - t0;
	if (r != 0)
		bdv_die("device list", r);
	for (i = 0; i < n; i++)
		if (list[i]->org_id != f.org_id ||
		    (f.device_type_id != 0 &&
		     list[i]->device_type_id != f.device_type_id) ||
		    (f.mode >= 0 && (int)list[i]->mode != f.mode) ||
		    list[i]->id <= (i > 0 ? list[i - 1]->id : after))
			bdv_die("a list page holds a wrong row", 0);
	db_device_list_free(list, n);
	*rows += n;
	return t * 1000;
}

/* Results: [0] lookup, then one per list case. */
#define NMEAS (1 + NCASES)

struct result {
	struct stats st[NMEAS];
	size_t rows[NMEAS];	/* list rows returned in all */
	long long reads[NMEAS]; /* pages read from disk meanwhile */
	double cpu_us[NMEAS];	/* server CPU per query */
};

/*
 * One line of figures; rows: list rows returned, SIZE_MAX for none;
 * reads: pages the server read from disk during the measurement.
 */
static void
print_stats(const char *label, const struct stats *s, size_t rows,
	    long long reads, double cpu_us)
{
	printf("  %-28s n=%-5zu mean %7.3f  p50 %7.3f  p95 %7.3f  max %8.3f"
	       "  server CPU %5.1f us  disk %lld",
	       label, s->count, s->mean, s->p50, s->p95, s->max, cpu_us, reads);
	if (rows != SIZE_MAX)
		printf("  (%.1f rows/page)", (double)rows / (double)s->count);
	printf("\n");
}

/*
 * Case k (-1: the lookup) on both registries, in blocks of BLOCK queries
 * taking turns (which registry goes first alternates), after WARMUP
 * untimed queries.  Blocks, not single queries: a query that follows
 * one on the other server finds the CPU's caches full of the other's
 * data, and at a million devices that made one lookup in twenty three
 * times slower; blocks of a few milliseconds still share out load from
 * other work on the machine evenly.
 */
#define BLOCK 50
static void
measure_case(struct registry *g[2], int k, size_t q, double *ms[2],
	     int64_t *cursors[2], struct result res[2])
{
	const struct listcase *c = k >= 0 ? &listcases[k] : NULL;
	size_t b, i, j, w, n = q + WARMUP, rows[2] = {0, 0}, untimed = 0;
	long long reads[2], cpu[2];
	struct {
		size_t i;
		int64_t id;
	} * found[2] = {NULL, NULL};

	/* Cursors are found first, so that only the page is timed. */
	for (j = 0; j < 2 && c != NULL; j++)
		for (i = 0; i < n; i++)
			cursors[j][i] = c->deep ? deep_cursor(g[j]) : 0;
	for (j = 0; j < 2 && c == NULL; j++)
		if ((found[j] = calloc(n, sizeof(*found[j]))) == NULL)
			bdv_die("out of memory", 0);
	for (b = 0; b < n; b += BLOCK) {
		if (b == WARMUP)
			for (j = 0; j < 2; j++) {
				reads[j] = bdv_pool_reads(g[j]);
				cpu[j] = bdv_server_cpu_ns(g[j]);
			}
		for (w = 0; w < 2; w++) {
			j = (b / BLOCK + w) % 2;
			for (i = b; i < n && i < b + BLOCK; i++) {
				if (bdv_interrupted)
					bdv_die("interrupted", 0);
				if (c == NULL)
					ms[j][i] =
						one_lookup(g[j], &found[j][i].i,
							   &found[j][i].id);
				else
					ms[j][i] =
						one_list(g[j], c, cursors[j][i],
							 i < WARMUP ? &untimed
								    : &rows[j]);
			}
		}
	}
	for (j = 0; j < 2; j++) {
		res[j].cpu_us[k + 1] =
			(double)(bdv_server_cpu_ns(g[j]) - cpu[j]) / 1e3 /
			(double)q;
		res[j].st[k + 1] = summarize(ms[j] + WARMUP, q);
		res[j].rows[k + 1] = rows[j];
		res[j].reads[k + 1] = bdv_pool_reads(g[j]) - reads[j];
	}
	for (j = 0; j < 2 && c == NULL; j++) {
		for (i = 0; i < n; i++)
			check_lookup(g[j], found[j][i].i, found[j][i].id);
		free(found[j]);
	}
}

static void
measure(struct registry *g[2], size_t q, struct result res[2])
{
	double *ms[2], la0 = -1, la1 = -1;
	int64_t *cursors[2];
	size_t j;
	int k;

	for (j = 0; j < 2; j++)
		if ((ms[j] = calloc(q + WARMUP, sizeof(double))) == NULL ||
		    (cursors[j] = calloc(q + WARMUP, sizeof(int64_t))) == NULL)
			bdv_die("out of memory", 0);
	bdv_settle(g[0]);
	bdv_settle(g[1]);
	bdv_warm_lookup(g[0]);
	bdv_warm_lookup(g[1]);
	getloadavg(&la0, 1);
	for (k = -1; k < (int)NCASES; k++)
		measure_case(g, k, q, ms, cursors, res);
	getloadavg(&la1, 1);
	printf("  measured at load average %.2f (start) to %.2f (end)\n", la0,
	       la1);
	for (j = 0; j < 2; j++) {
		free(ms[j]);
		free(cursors[j]);
	}
}

static void
print_result(const struct registry *g, const struct result *r)
{
	size_t k;

	printf("%zu devices (%s), milliseconds:\n", g->have, g->name);
	print_stats("lookup by fingerprint", &r->st[0], SIZE_MAX, r->reads[0],
		    r->cpu_us[0]);
	for (k = 0; k < NCASES; k++)
		print_stats(listcases[k].label, &r->st[k + 1], r->rows[k + 1],
			    r->reads[k + 1], r->cpu_us[k + 1]);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_devices [-n total] [-s small] "
			"[-q queries] [-k dir] [-a split|one|free]\n");
	exit(2);
}

/*
 * Where the bench and the servers run (-a).  split: the servers on the
 * second CPU, the bench on the first, so that every round trip crosses
 * from one CPU to the other, as between an application and its database
 * on a machine of several cores; one: everything on the first CPU (a
 * round trip is then a switch between processes, and the servers' own
 * work weighs more in each figure); free: where the scheduler puts them,
 * which on a virtual machine decides whether a round trip costs 5 or 65
 * us and can differ between the two servers for a whole run.
 */
enum placement { PLACE_SPLIT, PLACE_ONE, PLACE_FREE };

static void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		bdv_die("cannot choose the CPU (sched_setaffinity)", 0);
}

static size_t
count_arg(const char *s, size_t min, size_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		usage();
	return (size_t)v;
}

int
main(int argc, char **argv)
{
	struct registry *g[2] = {&bdv_small, &bdv_large};
	struct result res[2];
	const char *keep = NULL;
	size_t total = 1000000, nsmall = 10000, q = 1000, k;
	double worst = 0, lookup;
	enum placement place = PLACE_SPLIT;
	static const char *const place_names[] = {"split", "one", "free"};
	int ch;

	while ((ch = getopt(argc, argv, "a:k:n:q:s:")) != -1) {
		switch (ch) {
		case 'a':
			if (strcmp(optarg, "split") == 0)
				place = PLACE_SPLIT;
			else if (strcmp(optarg, "one") == 0)
				place = PLACE_ONE;
			else if (strcmp(optarg, "free") == 0)
				place = PLACE_FREE;
			else
				usage();
			break;
		case 'k':
			keep = optarg;
			break;
		case 'n':
			total = count_arg(optarg, 1000, 100000000);
			break;
		case 'q':
			q = count_arg(optarg, 10, 10000000);
			break;
		case 's':
			nsmall = count_arg(optarg, 1000, 100000000);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || nsmall >= total)
		usage();
	log_init("bench_devices", 0, LOG_LVL_ERR);
	/* Progress shows as it happens, also in a file. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	rng_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	bdv_setup(keep);
	load_seed();
	if (place == PLACE_SPLIT && sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("bench_devices: one CPU: -a one instead of split\n");
		place = PLACE_ONE;
	}
	/* The servers inherit the CPU of the bench when they start. */
	if (place != PLACE_FREE)
		pin(place == PLACE_SPLIT ? 1 : 0);
	bdv_start_server(&bdv_small);
	bdv_start_server(&bdv_large);
	if (place == PLACE_SPLIT)
		pin(0);
	bdv_open_registry(&bdv_small);
	bdv_open_registry(&bdv_large);
	make_shape(&bdv_small);
	make_shape(&bdv_large);
	printf("bench_devices: registries of %zu and %zu devices, %zu "
	       "queries each per measurement, in turns of %d (after %d "
	       "untimed), list pages of %d, CPUs: %s\n",
	       nsmall, total, q, BLOCK, WARMUP, PAGE, place_names[place]);
	fill(&bdv_small, nsmall);
	fill(&bdv_large, total);
	measure(g, q, res);
	print_result(&bdv_small, &res[0]);
	print_result(&bdv_large, &res[1]);
	printf("at %zu / at %zu devices:        p50   mean    p95  server "
	       "CPU\n",
	       bdv_large.have, bdv_small.have);
	for (k = 0; k < NMEAS; k++) {
		printf("  %-28s %5.2f  %5.2f  %5.2f  %5.2f\n",
		       k == 0 ? "lookup by fingerprint"
			      : listcases[k - 1].label,
		       res[1].st[k].p50 / res[0].st[k].p50,
		       res[1].st[k].mean / res[0].st[k].mean,
		       res[1].st[k].p95 / res[0].st[k].p95,
		       res[1].cpu_us[k] / res[0].cpu_us[k]);
		if (k > 0 && res[1].st[k].p95 > worst)
			worst = res[1].st[k].p95;
	}
	lookup = res[1].st[0].p50 / res[0].st[0].p50;
	printf("goal: lookup cost (p50) within 1.2x of the %zu figure: %.2fx "
	       "(%s)\n",
	       bdv_small.have, lookup, lookup <= 1.2 ? "met" : "NOT met");
	lookup = res[1].st[0].p95 / res[0].st[0].p95;
	printf("      lookup p95 within 1.2x of the %zu figure: %.2fx (%s)\n",
	       bdv_small.have, lookup, lookup <= 1.2 ? "met" : "NOT met");
	printf("goal: list page p95 < 20 ms at %zu: worst %.3f ms (%s)\n",
	       bdv_large.have, worst, worst < 20.0 ? "met" : "NOT met");
	bdv_cleanup();
	return 0;
}
