/*
 * bench_signer: EC P-256 signatures per second through estuary-signerd's
 * socket against direct PKCS#11 C_Sign on the same SoftHSM token, in one
 * run, with the same number of client threads, printed with their ratio.
 * Both sides hash the same TBSCertificate with SHA-256 and sign it with
 * CKM_ECDSA; the signer also parses it, checks its policy and journals it.
 *
 *	bench_signer [-d seconds] [-t threads] [-k dir] [-S signerd]
 *
 * -k keeps (or reuses) the token and journal in dir instead of a
 * throwaway directory.  Speed is shown, never asserted: see bench/README.md.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"
#include "log.h"
#include "p11.h"
#include "profile.h"
#include "sigclient.h"
#include "util.h"

static char dir[256], sockpath[300];
static uint8_t key_id[16];
static uint8_t *tbs;
static size_t tbslen;
static double duration = 5.0;
static struct p11 *p11;
static CK_OBJECT_HANDLE privkey;
static atomic_int go;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "bench_signer: %s\n", what);
	exit(1);
}

static int
run(const char *cmd)
{
	int st = system(cmd);

	return (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
}

/* The token and a configuration for a signer in dir. */
static void
setup_dir(const char *keep)
{
	char cmd[2048], path[300];
	FILE *fp;

	if (keep != NULL) {
		snprintf(dir, sizeof(dir), "%s", keep);
		mkdir(dir, 0700);
	} else {
		snprintf(dir, sizeof(dir), "%s/estuary-bench.XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (mkdtemp(dir) == NULL)
			die("mkdtemp");
	}
	snprintf(cmd, sizeof(cmd),
		 "bash -c '. \"%s/tools/softhsm.sh\" && softhsm_init_token "
		 "\"%s/hsm\" bench \"%s/pin\" \"%s/sopin\"'",
		 SRCDIR, dir, dir, dir);
	if (run(cmd) != 0)
		die("cannot make the SoftHSM token");
	snprintf(path, sizeof(path), "%s/hsm/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", path, 1);
	snprintf(sockpath, sizeof(sockpath), "%s/signer.sock", dir);
	snprintf(path, sizeof(path), "%s/estuary.conf", dir);
	if ((fp = fopen(path, "w")) == NULL)
		die("cannot write estuary.conf");
	fprintf(fp,
		"signer_socket = %s\nsigner_journal = %s/journal\n"
		"signer_allowed_users = %lu\nhsm_profile = %s/hsm-profiles/"
		"softhsm2.conf\nhsm_token_label = bench\nhsm_pin_file = "
		"%s/pin\n"
		"log_level = warn\n",
		sockpath, dir, (unsigned long)getuid(), SRCDIR, dir);
	fclose(fp);
}

static pid_t
start_signer(const char *signerd)
{
	char conf[300], log[300];
	struct sigclient *c;
	uint32_t v;
	pid_t pid;
	int i, fd, st;

	snprintf(conf, sizeof(conf), "%s/estuary.conf", dir);
	snprintf(log, sizeof(log), "%s/signer.log", dir);
	if ((pid = fork()) == 0) {
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) >=
		    0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl(signerd, "estuary-signerd", "-d", "-c", conf,
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 2000; i++) {
		if (sigclient_connect(sockpath, &c) == 0) {
			st = sigclient_ping(c, &v, NULL);
			sigclient_free(c);
			if (st == 0)
				return pid;
		}
		if (waitpid(pid, &st, WNOHANG) == pid)
			die("the signer exited; see signer.log");
		sleep_ms(5);
	}
	die("the signer did not start");
	return -1;
}

/* An EC P-256 CA key in the token and a TBSCertificate it may sign. */
static void
make_key_and_tbs(void)
{
	X509_NAME *ca = X509_NAME_new(), *leafname = X509_NAME_new();
	EVP_PKEY *leaf = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *tmp = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct sigclient *c;
	uint8_t *sub = NULL, *spki = NULL, *der = NULL;
	size_t spkilen = 0;
	char label[64];
	X509 *x = X509_new();
	int sublen, len;

	X509_NAME_add_entry_by_txt(ca, "CN", MBSTRING_ASC,
				   (const unsigned char *)"Bench CA", -1, -1,
				   0);
	X509_NAME_add_entry_by_txt(leafname, "CN", MBSTRING_ASC,
				   (const unsigned char *)"bench-device-0001",
				   -1, -1, 0);
	sublen = i2d_X509_NAME(ca, &sub);
	snprintf(label, sizeof(label), "bench-ca-%ld-%ld", (long)getpid(),
		 (long)time(NULL));
	if (sigclient_connect(sockpath, &c) != 0 ||
	    sigclient_genkey(c, label, SIGNER_KEY_EC_P256, SIGNER_USAGE_CA, sub,
			     (size_t)sublen, key_id, &spki, &spkilen) != 0)
		die("cannot generate the CA key");
	sigclient_free(c);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x5eed);
	X509_set_issuer_name(x, ca);
	X509_set_subject_name(x, leafname);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400 * 365);
	X509_set_pubkey(x, leaf);
	/* Signing with a software key sets the inner algorithm. */
	X509_sign(x, tmp, EVP_sha256());
	if ((len = i2d_re_X509_tbs(x, &der)) <= 0)
		die("cannot build the TBSCertificate");
	tbs = der;
	tbslen = (size_t)len;
	X509_free(x);
	EVP_PKEY_free(tmp);
	EVP_PKEY_free(leaf);
	X509_NAME_free(ca);
	X509_NAME_free(leafname);
	OPENSSL_free(sub);
	free(spki);
}

/* This process's own login to the same token, as an application would. */
static void
open_direct(void)
{
	char path[300], err[256];
	struct profile *prof = NULL;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &cls, sizeof(cls)},
				{CKA_ID, key_id, sizeof(key_id)}};
	char *pin = NULL;
	size_t pinlen = 0;

	snprintf(path, sizeof(path), "%s/hsm-profiles/softhsm2.conf", SRCDIR);
	if (profile_load(path, &prof, err, sizeof(err)) != 0)
		die(err);
	snprintf(path, sizeof(path), "%s/pin", dir);
	if (profile_override(prof, "bench", path) != 0 ||
	    profile_read_pin(prof, &pin, &pinlen) != 0 ||
	    p11_open(prof->module, &p11) != 0 ||
	    p11_find_token(p11, "bench", 0, 5) != 0 ||
	    p11_login(p11, pin, pinlen) != 0 ||
	    p11_find_one(p11, p11->login_session, tmpl, 2, &privkey) != 0)
		die("cannot use the token directly");
	freezero(pin, pinlen);
	profile_free(prof);
}

struct worker {
	pthread_t t;
	unsigned long n;
	int failed;
};

static void *
direct_worker(void *arg)
{
	struct worker *w = arg;
	CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
	CK_SESSION_HANDLE s;
	uint8_t h[32], sig[128];
	unsigned int hlen;
	CK_ULONG siglen;
	double end;

	if (p11_session_open(p11, &s) != 0) {
		w->failed = 1;
		return NULL;
	}
	while (!atomic_load(&go))
		;
	end = now() + duration;
	while (now() < end) {
		siglen = sizeof(sig);
		if (EVP_Digest(tbs, tbslen, h, &hlen, EVP_sha256(), NULL) !=
			    1 ||
		    p11->f->C_SignInit(s, &mech, privkey) != CKR_OK ||
		    p11->f->C_Sign(s, h, hlen, sig, &siglen) != CKR_OK) {
			w->failed = 1;
			break;
		}
		w->n++;
	}
	p11_session_close(p11, s);
	return NULL;
}

static void *
signer_worker(void *arg)
{
	struct worker *w = arg;
	struct sigclient *c;
	uint8_t *sig;
	size_t siglen;
	double end;

	if (sigclient_connect(sockpath, &c) != 0) {
		w->failed = 1;
		return NULL;
	}
	while (!atomic_load(&go))
		;
	end = now() + duration;
	while (now() < end) {
		if (sigclient_sign(c, key_id, SIGNER_SIGN_TBSCERT,
				   SIGNER_DIGEST_NONE, tbs, tbslen, &sig,
				   &siglen) != 0) {
			w->failed = 1;
			break;
		}
		free(sig);
		w->n++;
	}
	sigclient_free(c);
	return NULL;
}

/* Runs fn on n threads for the duration; signatures per second. */
static double
measure(void *(*fn)(void *), int n)
{
	struct worker *w = calloc((size_t)n, sizeof(*w));
	unsigned long total = 0;
	double start, elapsed;
	int i;

	atomic_store(&go, 0);
	for (i = 0; i < n; i++)
		pthread_create(&w[i].t, NULL, fn, &w[i]);
	start = now();
	atomic_store(&go, 1);
	for (i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		if (w[i].failed)
			die("a signature failed");
		total += w[i].n;
	}
	elapsed = now() - start;
	free(w);
	return (double)total / elapsed;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_signer [-d seconds] [-t threads] "
			"[-k dir] [-S estuary-signerd]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *keep = NULL, *signerd = SIGNERD_PATH;
	double direct, viasigner;
	char cmd[300];
	int ch, threads = 1, st;
	pid_t pid;

	while ((ch = getopt(argc, argv, "d:k:S:t:")) != -1) {
		switch (ch) {
		case 'd':
			duration = atof(optarg);
			break;
		case 'k':
			keep = optarg;
			break;
		case 'S':
			signerd = optarg;
			break;
		case 't':
			threads = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (duration <= 0 || threads < 1 || threads > 64)
		usage();
	log_init("bench_signer", 0, LOG_LVL_ERR);
	setup_dir(keep);
	pid = start_signer(signerd);
	make_key_and_tbs();
	open_direct();
	printf("bench_signer: EC P-256, %zu-byte TBSCertificate, %d thread%s, "
	       "%.1f s each\n",
	       tbslen, threads, threads == 1 ? "" : "s", duration);
	direct = measure(direct_worker, threads);
	printf("  direct PKCS#11 C_Sign (SHA-256 + CKM_ECDSA): %9.0f sig/s\n",
	       direct);
	viasigner = measure(signer_worker, threads);
	printf("  through estuary-signerd (SIGN request):      %9.0f sig/s\n",
	       viasigner);
	printf("  ratio signer/direct: %.2f (goal >= 0.80)\n",
	       viasigner / direct);
	p11_close(p11);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	OPENSSL_free(tbs);
	if (keep == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		run(cmd);
	}
	return 0;
}
