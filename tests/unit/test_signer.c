/*
 * estuary-signerd against a real SoftHSMv2 token: the real daemon binary
 * (SIGNERD_PATH) runs as a child and the tests talk to it through
 * lib/sigclient and over raw sockets.  This file starts and stops signers
 * and tests the protocol, key generation, concurrency and the journal;
 * test_signer_x509.c signs certificates, CRLs and requests through it.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"
#include "frame.h"
#include "harness.h"
#include "journal.h"
#include "profile.h"
#include "sigclient.h"
#include "test_signer.h"
#include "util.h"

char dir[256];
char sockpath[300];
static char confpath[300], logpath[300], jpath[300];
static pid_t signerd = -1;
atomic_uint nsigned; /* signatures the signer returned */

/* Keys made by the tests, by role. */
uint8_t root_id[16], issuing_id[16], rsaroot_id[16], csr_id[16], rsa4096_id[16];
X509_NAME *root_name, *issuing_name, *rsaroot_name;
X509 *root_cert, *issuing_cert;

/* --- process helpers ------------------------------------------------- */

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
run(const char *cmd)
{
	int st = system(cmd);

	return (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
}

static pid_t
spawn(const char *conf, const char *log, const char *flag)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) != 0)
		return pid;
	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	execl(SIGNERD_PATH, "estuary-signerd", flag, "-c", conf, (char *)NULL);
	_exit(127);
}

/* Waits (bounded) for pid to exit; its exit status, or -1. */
static int
wait_exit(pid_t pid, int seconds)
{
	int i, st;

	for (i = 0; i < seconds * 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* Polls (bounded) until the signer answers on path. */
static int
wait_ready(const char *path, pid_t pid)
{
	struct sigclient *c;
	uint32_t v;
	int i, st;

	for (i = 0; i < 3000; i++) {
		if (sigclient_connect(path, &c) == 0) {
			int r = sigclient_ping(c, &v, NULL);

			sigclient_free(c);
			if (r == 0)
				return 0;
		}
		if (waitpid(pid, &st, WNOHANG) == pid)
			return -1;
		sleep_ms(5);
	}
	return -1;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp;
	char *buf;
	long n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	if ((buf = calloc(1, (size_t)n + 1)) != NULL &&
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	if (buf != NULL && len != NULL)
		*len = (size_t)n;
	return buf;
}

static int
count_lines(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

static int
write_file(const char *path, const char *text)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

/* An estuary.conf for a signer in dir with the given variations. */
static int
write_conf(const char *path, const char *sock, const char *journal,
	   const char *allowed, const char *pinfile, const char *profile)
{
	char text[8192];

	snprintf(text, sizeof(text),
		 "signer_socket = %s\nsigner_journal = %s\n"
		 "signer_allowed_users = %s\nhsm_profile = %s\n"
		 "hsm_token_label = estuary-test\nhsm_pin_file = %s\n"
		 "signer_max_clients = 16\nlog_level = info\n",
		 sock, journal, allowed, profile, pinfile);
	return write_file(path, text);
}

struct sigclient *
client(void)
{
	struct sigclient *c = NULL;

	CU_ASSERT_FATAL(sigclient_connect(sockpath, &c) == 0);
	return c;
}

/* --- suite set-up ---------------------------------------------------- */

static int
suite_init(void)
{
	char cmd[1024], profile[300], uid[32];
	const char *tmp = getenv("TMPDIR");

	/*
	 * A signer that refuses a peer closes the connection at once; the
	 * test's request may then be written to a closed socket, which must
	 * be an error (EPIPE) for the test to see, not a fatal signal.
	 * estuary-api and estuary-est ignore SIGPIPE the same way.
	 */
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "%s/estuary-signer.XXXXXX",
		 tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "bash -c '. \"%s/tools/softhsm.sh\" && softhsm_init_token "
		 "\"%s/hsm\" estuary-test \"%s/pin\" \"%s/sopin\"'",
		 SRCDIR, dir, dir, dir);
	if (run(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/hsm/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", cmd, 1);
	snprintf(sockpath, sizeof(sockpath), "%s/signer.sock", dir);
	snprintf(confpath, sizeof(confpath), "%s/estuary.conf", dir);
	snprintf(logpath, sizeof(logpath), "%s/signer.log", dir);
	snprintf(jpath, sizeof(jpath), "%s/journal", dir);
	snprintf(profile, sizeof(profile), "%s/hsm-profiles/softhsm2.conf",
		 SRCDIR);
	snprintf(uid, sizeof(uid), "%lu", (unsigned long)getuid());
	snprintf(cmd, sizeof(cmd), "%s/pin", dir);
	if (write_conf(confpath, sockpath, jpath, uid, cmd, profile) != 0)
		return -1;
	signerd = spawn(confpath, logpath, "-d");
	if (signerd < 0 || wait_ready(sockpath, signerd) != 0)
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	char cmd[600];

	if (signerd > 0) {
		kill(signerd, SIGTERM);
		wait_exit(signerd, 30);
	}
	X509_NAME_free(root_name);
	X509_NAME_free(issuing_name);
	X509_NAME_free(rsaroot_name);
	X509_free(root_cert);
	X509_free(issuing_cert);
	if (dir[0] != '\0' && getenv("KEEP_TEST_DIR") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		run(cmd);
	}
	return 0;
}

/* --- tests ----------------------------------------------------------- */

static void
test_ping(void)
{
	struct sigclient *c = client();
	char *label = NULL;
	uint32_t v = 0;

	CU_ASSERT(sigclient_ping(c, &v, &label) == 0);
	CU_ASSERT(v == SIGNER_PROTO_VERSION);
	CU_ASSERT(label != NULL && strcmp(label, "estuary-test") == 0);
	free(label);
	sigclient_free(c);
}

static void
test_check_mode(void)
{
	char log[320], *text;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/check.log", dir);
	pid = spawn(confpath, log, "-t");
	CU_ASSERT(wait_exit(pid, 60) == 0);
	text = slurp(log, NULL);
	CU_ASSERT(text != NULL && strstr(text, "; OK") != NULL);
	free(text);
}

/* Generates a key and checks its public key's type and size. */
static void
genkey(const char *label, uint8_t type, uint8_t usage, X509_NAME *subject,
       uint8_t id[16], const char *alg, int bits)
{
	struct sigclient *c = client();
	uint8_t *sub = NULL, *spki = NULL, *spki2 = NULL;
	size_t spkilen = 0, spki2len = 0;
	int sublen = subject ? name_der(subject, &sub) : 0;
	EVP_PKEY *k;

	CU_ASSERT_FATAL(sigclient_genkey(c, label, type, usage, sub,
					 (size_t)sublen, id, &spki,
					 &spkilen) == 0);
	k = spki_key(spki, spkilen);
	CU_ASSERT_FATAL(k != NULL);
	CU_ASSERT(EVP_PKEY_is_a(k, alg));
	CU_ASSERT(EVP_PKEY_get_bits(k) == bits);
	/* PUBKEY gives the same bytes back. */
	CU_ASSERT(sigclient_pubkey(c, id, &spki2, &spki2len) == 0);
	CU_ASSERT(spki2len == spkilen && spki2 != NULL &&
		  memcmp(spki, spki2, spkilen) == 0);
	EVP_PKEY_free(k);
	OPENSSL_free(sub);
	free(spki);
	free(spki2);
	sigclient_free(c);
}

static void
test_genkey(void)
{
	root_name = make_name("Test Root CA");
	issuing_name = make_name("Test Issuing CA");
	rsaroot_name = make_name("Test RSA Root CA");
	genkey("root", SIGNER_KEY_EC_P256, SIGNER_USAGE_CA, root_name, root_id,
	       "EC", 256);
	genkey("issuing", SIGNER_KEY_EC_P384, SIGNER_USAGE_CA, issuing_name,
	       issuing_id, "EC", 384);
	genkey("rsaroot", SIGNER_KEY_RSA_2048, SIGNER_USAGE_CA, rsaroot_name,
	       rsaroot_id, "RSA", 2048);
	genkey("device-csr", SIGNER_KEY_EC_P256, SIGNER_USAGE_OTHER, NULL,
	       csr_id, "EC", 256);
	/* The slow one, made once. */
	genkey("rsa4096", SIGNER_KEY_RSA_4096, SIGNER_USAGE_OTHER, NULL,
	       rsa4096_id, "RSA", 4096);
}

static void
test_genkey_refusals(void)
{
	struct sigclient *c = client();
	uint8_t id[16], *spki = NULL, *sub = NULL;
	size_t spkilen = 0;
	int sublen = name_der(root_name, &sub);

	CU_ASSERT(sigclient_genkey(c, "root", SIGNER_KEY_EC_P256,
				   SIGNER_USAGE_CA, sub, (size_t)sublen, id,
				   &spki, &spkilen) == EST_E_EXISTS);
	CU_ASSERT(sigclient_genkey(c, "estuary-wrap", SIGNER_KEY_EC_P256,
				   SIGNER_USAGE_OTHER, NULL, 0, id, &spki,
				   &spkilen) == EST_E_EXISTS);
	CU_ASSERT(sigclient_genkey(c, "bad label", SIGNER_KEY_EC_P256,
				   SIGNER_USAGE_OTHER, NULL, 0, id, &spki,
				   &spkilen) == EST_E_INVAL);
	CU_ASSERT(sigclient_genkey(c, "x", SIGNER_KEY_EC_P256, SIGNER_USAGE_CA,
				   NULL, 0, id, &spki,
				   &spkilen) == EST_E_BADASN1);
	CU_ASSERT(sigclient_genkey(c, "x", SIGNER_KEY_EC_P256,
				   SIGNER_USAGE_OTHER, sub, (size_t)sublen, id,
				   &spki, &spkilen) == EST_E_INVAL);
	CU_ASSERT(sigclient_genkey(c, "x", 9, SIGNER_USAGE_OTHER, NULL, 0, id,
				   &spki, &spkilen) == EST_E_BADALG);
	CU_ASSERT(sigclient_genkey(c, "x", SIGNER_KEY_EC_P256, 7, NULL, 0, id,
				   &spki, &spkilen) == EST_E_INVAL);
	CU_ASSERT(sigclient_genkey(c, "x", SIGNER_KEY_EC_P256, SIGNER_USAGE_CA,
				   (const uint8_t *)"\x30\x03\x02\x01", 4, id,
				   &spki, &spkilen) == EST_E_BADASN1);
	memset(id, 0x42, sizeof(id));
	CU_ASSERT(sigclient_pubkey(c, id, &spki, &spkilen) == EST_E_NOTFOUND);
	CU_ASSERT(spki == NULL);
	OPENSSL_free(sub);
	sigclient_free(c);
}

/* --- concurrency ----------------------------------------------------- */

static atomic_int keygen_state; /* 0 before, 1 during, 2 after */
static atomic_uint during, failures;

static void *
signing_thread(void *arg)
{
	const uint8_t *tbs = ((const uint8_t **)arg)[0];
	size_t len = (size_t)(uintptr_t)((const uint8_t **)arg)[1];
	struct sigclient *c = NULL;
	uint8_t *sig;
	size_t siglen;
	unsigned n;

	if (sigclient_connect(sockpath, &c) != 0) {
		atomic_fetch_add(&failures, 1);
		return NULL;
	}
	for (n = 0; atomic_load(&keygen_state) != 2 || n < 20; n++) {
		sig = NULL;
		if (sigclient_sign(c, root_id, SIGNER_SIGN_TBSCERT, 0, tbs, len,
				   &sig, &siglen) != 0) {
			atomic_fetch_add(&failures, 1);
			break;
		}
		atomic_fetch_add(&nsigned, 1);
		if (atomic_load(&keygen_state) == 1)
			atomic_fetch_add(&during, 1);
		free(sig);
	}
	sigclient_free(c);
	return NULL;
}

static void
test_concurrency(void)
{
	EVP_PKEY *key = pubkey_of(root_id);
	X509_NAME *n = make_name("concurrent");
	struct sigclient *c = client();
	const uint8_t *arg[2];
	uint8_t *tbs = NULL, *spki = NULL, id[16];
	size_t spkilen = 0;
	pthread_t t[4];
	X509 *x;
	int i, len, r;

	x = make_tbs(n, root_name, key, 0, NID_ecdsa_with_SHA256, 12);
	len = i2d_re_X509_tbs(x, &tbs);
	arg[0] = tbs;
	arg[1] = (const uint8_t *)(uintptr_t)len;
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, signing_thread, arg);
	atomic_store(&keygen_state, 1);
	r = sigclient_genkey(c, "concurrent-rsa3072", SIGNER_KEY_RSA_3072,
			     SIGNER_USAGE_OTHER, NULL, 0, id, &spki, &spkilen);
	atomic_store(&keygen_state, 2);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT(r == 0);
	CU_ASSERT(atomic_load(&failures) == 0);
	/* Signatures kept coming while the RSA key was being made. */
	CU_ASSERT(atomic_load(&during) >= 8);
	free(spki);
	sigclient_free(c);
	X509_free(x);
	X509_NAME_free(n);
	OPENSSL_free(tbs);
	EVP_PKEY_free(key);
}

static void
test_listkeys(void)
{
	struct sigclient *c = client();
	struct signer_keyinfo *k = NULL;
	size_t n = 0, i, found = 0;

	CU_ASSERT_FATAL(sigclient_listkeys(c, &k, &n) == 0);
	CU_ASSERT(n == 6);
	for (i = 0; i < n; i++) {
		CU_ASSERT(strcmp(k[i].label, "estuary-wrap") != 0);
		if (memcmp(k[i].id, root_id, 16) == 0) {
			found++;
			CU_ASSERT(strcmp(k[i].label, "root") == 0);
			CU_ASSERT(k[i].keytype == SIGNER_KEY_EC_P256);
			CU_ASSERT(k[i].usage == SIGNER_USAGE_CA);
		}
		if (memcmp(k[i].id, rsa4096_id, 16) == 0) {
			found++;
			CU_ASSERT(k[i].keytype == SIGNER_KEY_RSA_4096);
			CU_ASSERT(k[i].usage == SIGNER_USAGE_OTHER);
		}
		if (strcmp(k[i].label, "concurrent-rsa3072") == 0) {
			found++;
			CU_ASSERT(k[i].keytype == SIGNER_KEY_RSA_3072);
		}
	}
	CU_ASSERT(found == 3);
	free(k);
	sigclient_free(c);
}

/* --- journal --------------------------------------------------------- */

static void
test_journal(void)
{
	char copy[320], *text, *nl, *nl2, saved;
	uint64_t nlines = 0, bad = 0;
	size_t len = 0;
	FILE *fp;

	text = slurp(jpath, &len);
	CU_ASSERT_FATAL(text != NULL);
	CU_ASSERT(count_lines(text, "\n") == (int)atomic_load(&nsigned));
	CU_ASSERT(journal_verify(jpath, &nlines, &bad) == 0);
	CU_ASSERT(nlines == atomic_load(&nsigned) && bad == 0);
	CU_ASSERT(strstr(text, " cert ") && strstr(text, " crl ") &&
		  strstr(text, " csr "));
	/* One changed character in line 2. */
	snprintf(copy, sizeof(copy), "%s/journal.changed", dir);
	nl = strchr(text, '\n');
	CU_ASSERT_FATAL(nl != NULL);
	saved = nl[3];
	nl[3] = saved == '9' ? '8' : '9';
	fp = fopen(copy, "wb");
	fwrite(text, 1, len, fp);
	fclose(fp);
	CU_ASSERT(journal_verify(copy, &nlines, &bad) == EST_E_INVAL);
	CU_ASSERT(bad == 2 && nlines == 1);
	nl[3] = saved;
	/* Line 3 removed. */
	nl = strchr(nl + 1, '\n');
	nl2 = nl ? strchr(nl + 1, '\n') : NULL;
	CU_ASSERT_FATAL(nl2 != NULL);
	snprintf(copy, sizeof(copy), "%s/journal.removed", dir);
	fp = fopen(copy, "wb");
	fwrite(text, 1, (size_t)(nl + 1 - text), fp);
	fwrite(nl2 + 1, 1, len - (size_t)(nl2 + 1 - text), fp);
	fclose(fp);
	CU_ASSERT(journal_verify(copy, &nlines, &bad) == EST_E_INVAL);
	CU_ASSERT(bad == 3 && nlines == 2);
	free(text);
}

/* --- other signers on the same token --------------------------------- */

static void
test_wrong_pin(void)
{
	char conf[320], log[320], pin[320], sock[320], journal[320],
		profile[320], *text;
	pid_t pid;

	snprintf(conf, sizeof(conf), "%s/badpin.conf", dir);
	snprintf(log, sizeof(log), "%s/badpin.log", dir);
	snprintf(pin, sizeof(pin), "%s/badpin", dir);
	snprintf(sock, sizeof(sock), "%s/badpin.sock", dir);
	snprintf(journal, sizeof(journal), "%s/badpin.journal", dir);
	snprintf(profile, sizeof(profile), "%s/hsm-profiles/softhsm2.conf",
		 SRCDIR);
	CU_ASSERT_FATAL(write_file(pin, "not-the-pin\n") == 0);
	chmod(pin, 0600);
	CU_ASSERT_FATAL(write_conf(conf, sock, journal, "root", pin, profile) ==
			0);
	pid = spawn(conf, log, "-d");
	CU_ASSERT(wait_exit(pid, 60) == 4);
	text = slurp(log, NULL);
	CU_ASSERT_FATAL(text != NULL);
	/* One attempt, reported as such, and nothing of the PIN. */
	CU_ASSERT(count_lines(text, "wrong PIN") == 1);
	CU_ASSERT(strstr(text, "not retrying") != NULL);
	CU_ASSERT(strstr(text, "not-the-pin") == NULL);
	CU_ASSERT(access(sock, F_OK) != 0);
	free(text);
}

static void
test_missing_module(void)
{
	char conf[320], log[320], pin[320], profile[320], *text;
	pid_t pid;

	snprintf(conf, sizeof(conf), "%s/nomod.conf", dir);
	snprintf(log, sizeof(log), "%s/nomod.log", dir);
	snprintf(pin, sizeof(pin), "%s/pin", dir);
	snprintf(profile, sizeof(profile), "%s/nomod.profile", dir);
	CU_ASSERT_FATAL(
		write_file(profile,
			   "name = broken\n"
			   "module = /nonexistent/libpkcs11.so\ntoken_label = "
			   "estuary\n"
			   "pin_source = file:/nonexistent\n") == 0);
	CU_ASSERT_FATAL(write_conf(conf, "/nonexistent/x.sock",
				   "/nonexistent/j", "root", pin,
				   profile) == 0);
	pid = spawn(conf, log, "-t");
	CU_ASSERT(wait_exit(pid, 60) == 1);
	text = slurp(log, NULL);
	CU_ASSERT(text != NULL &&
		  strstr(text, "cannot load PKCS#11 module "
			       "/nonexistent/libpkcs11.so") != NULL);
	free(text);
}

static void
test_uid_refused(void)
{
	char conf[320], log[320], pin[320], sock[320], journal[320],
		profile[320], *text;
	uint32_t code;
	pid_t pid;
	int fd = -1, i;
	struct sockaddr_un sun;

	snprintf(conf, sizeof(conf), "%s/refuse.conf", dir);
	snprintf(log, sizeof(log), "%s/refuse.log", dir);
	snprintf(pin, sizeof(pin), "%s/pin", dir);
	snprintf(sock, sizeof(sock), "%s/refuse.sock", dir);
	snprintf(journal, sizeof(journal), "%s/refuse.journal", dir);
	snprintf(profile, sizeof(profile), "%s/hsm-profiles/softhsm2.conf",
		 SRCDIR);
	CU_ASSERT_FATAL(
		write_conf(conf, sock, journal, "65534", pin, profile) == 0);
	pid = spawn(conf, log, "-d");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock);
	/* Ready when "listening" is logged (a ping would be refused). */
	for (i = 0; i < 3000; i++) {
		text = slurp(log, NULL);
		if (text != NULL && strstr(text, "listening on") != NULL) {
			free(text);
			break;
		}
		free(text);
		sleep_ms(5);
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	{
		struct timeval tv = {30, 0};

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	raw_send(fd, 2, 1, SIGNER_PING, NULL, 0);
	/* Closed without a reply. */
	CU_ASSERT(raw_reply(fd, &code) == -1);
	close(fd);
	kill(pid, SIGTERM);
	CU_ASSERT(wait_exit(pid, 30) == 0);
	text = slurp(log, NULL);
	CU_ASSERT(text != NULL &&
		  count_lines(text, "refused a connection from uid") == 1);
	CU_ASSERT(access(sock, F_OK) != 0);
	free(text);
}

/* Every shipped HSM profile parses and says what it is for. */
static void
test_profiles(void)
{
	static const char *const names[] = {"softhsm2", "yubihsm2", "luna",
					    "cloudhsm", "utimaco",  "nshield"};
	char path[300], err[256];
	struct profile *p;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		p = NULL;
		snprintf(path, sizeof(path), "%s/hsm-profiles/%s.conf", SRCDIR,
			 names[i]);
		CU_ASSERT(profile_load(path, &p, err, sizeof(err)) == 0);
		CU_ASSERT(p != NULL && strcmp(p->name, names[i]) == 0);
		CU_ASSERT(p != NULL && p->module[0] == '/' && p->nmechs > 0);
		profile_free(p);
	}
	/* A typo is an error that names the line. */
	snprintf(path, sizeof(path), "%s/typo.profile", dir);
	CU_ASSERT_FATAL(write_file(path,
				   "name = x\nmodule = /x.so\n"
				   "token_label = t\npin_source = "
				   "file:/p\nwrap_mechanism = gcm\n") == 0);
	CU_ASSERT(profile_load(path, &p, err, sizeof(err)) != 0);
	CU_ASSERT(strstr(err, ":5:") != NULL);
	/* Both a slot and a label, or neither, is an error too. */
	CU_ASSERT_FATAL(write_file(path, "name = x\nmodule = /x.so\n"
					 "pin_source = env:PIN\n") == 0);
	CU_ASSERT(profile_load(path, &p, err, sizeof(err)) != 0);
}

static void
test_shutdown(void)
{
	CU_ASSERT_FATAL(signerd > 0);
	kill(signerd, SIGTERM);
	CU_ASSERT(wait_exit(signerd, 30) == 0);
	signerd = -1;
	CU_ASSERT(access(sockpath, F_OK) != 0);
}

static CU_TestInfo tests[] = {
	{"ping", test_ping},
	{"check mode (-t)", test_check_mode},
	{"genkey of every type", test_genkey},
	{"genkey refusals", test_genkey_refusals},
	{"certificate chain verifies", test_cert_chain},
	{"RSA root certificate", test_rsa_root},
	{"CRL", test_crl},
	{"certification requests", test_csr},
	{"policy refusals", test_policy},
	{"raw protocol errors", test_raw_protocol},
	{"concurrent signing during keygen", test_concurrency},
	{"wrapped device keys", test_wrapped},
	{"listkeys", test_listkeys},
	{"OCSP responses", test_ocsp},
	{"journal", test_journal},
	/* After every test that needs the keys. */
	{"destroykey", test_destroy_one},
	{"destroykey refusals", test_destroy_refusals},
	{"destroykey leaves other objects with the id",
	 test_destroy_only_key_pairs},
	{"destroykey while signing", test_destroy_while_signing},
	{"destroying every key pair keeps the wrapping key",
	 test_destroy_all_keeps_wrapping_key},
	{"destroykey journal lines", test_destroy_journal},
	{"wrong PIN exits, no retry", test_wrong_pin},
	{"missing module", test_missing_module},
	{"uid not allowed", test_uid_refused},
	{"shipped HSM profiles", test_profiles},
	{"shutdown on SIGTERM", test_shutdown},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("signer", suite_init, suite_clean, tests);
}
