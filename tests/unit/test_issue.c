/*
 * Certificate issuance (pki/issue.c) with the real components: a private
 * MariaDB that run-issue-tests.sh starts (migrated and granted here), a
 * real estuary-signerd on a private SoftHSM token, CAs whose keys live in
 * that token, templates stored and loaded through db/template.c.  Every
 * issued certificate is parsed with OpenSSL, its extensions are checked
 * one by one and its chain is verified.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "conf.h"
#include "csr.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "harness.h"
#include "issue.h"
#include "sigclient.h"
#include "template.h"
#include "test_issue.h"
#include "tmpl.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct db *ti_db;
struct sigclient *ti_sig;
struct db_ca *ti_root, *ti_issuing, *ti_rsa_issuing;
X509 *ti_root_cert, *ti_issuing_cert, *ti_rsa_issuing_cert;

static struct conf *conf;
static struct db *admin;
static char dir[256], sockpath[300];
static pid_t signerd = -1;
int64_t ti_custom_ext_id;

static const struct db_stmt_def t_stmts[] = {
#define T_COUNT 0
	{"t_count", "SELECT COUNT(*) FROM certificates", 0},
};

/* --- the signer ------------------------------------------------------ */

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

static int
write_file(const char *path, const char *text)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

/* Starts estuary-signerd on a new token in dir; polls until it answers. */
static int
signer_start(void)
{
	char cmd[2048], conf_path[300], log[300], text[2048];
	uint32_t v;
	int i, fd, st;

	snprintf(cmd, sizeof(cmd),
		 "bash -c '. \"%s/tools/softhsm.sh\" && softhsm_init_token "
		 "\"%s/hsm\" estuary-test \"%s/pin\" \"%s/sopin\"'",
		 SRCDIR, dir, dir, dir);
	if (run(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/hsm/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", cmd, 1);
	snprintf(sockpath, sizeof(sockpath), "%s/signer.sock", dir);
	snprintf(conf_path, sizeof(conf_path), "%s/signer.conf", dir);
	snprintf(log, sizeof(log), "%s/signer.log", dir);
	snprintf(text, sizeof(text),
		 "signer_socket = %s\nsigner_journal = %s/journal\n"
		 "signer_allowed_users = %lu\n"
		 "hsm_profile = %s/hsm-profiles/softhsm2.conf\n"
		 "hsm_token_label = estuary-test\nhsm_pin_file = %s/pin\n"
		 "signer_max_clients = 16\nlog_level = info\n",
		 sockpath, dir, (unsigned long)getuid(), SRCDIR, dir);
	if (write_file(conf_path, text) != 0)
		return -1;
	if ((signerd = fork()) < 0)
		return -1;
	if (signerd == 0) {
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) >=
		    0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl(SIGNERD_PATH, "estuary-signerd", "-d", "-c", conf_path,
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 3000; i++) {
		if (sigclient_connect(sockpath, &ti_sig) == 0) {
			if (sigclient_ping(ti_sig, &v, NULL) == 0)
				return 0;
			sigclient_free(ti_sig);
			ti_sig = NULL;
		}
		if (waitpid(signerd, &st, WNOHANG) == signerd) {
			signerd = -1;
			return -1;
		}
		sleep_ms(5);
	}
	return -1;
}

static void
signer_stop(void)
{
	int i, st;

	sigclient_free(ti_sig);
	ti_sig = NULL;
	if (signerd <= 0)
		return;
	kill(signerd, SIGTERM);
	for (i = 0; i < 3000; i++) {
		if (waitpid(signerd, &st, WNOHANG) == signerd) {
			signerd = -1;
			return;
		}
		sleep_ms(10);
	}
	kill(signerd, SIGKILL);
	waitpid(signerd, &st, 0);
	signerd = -1;
}

/* --- CAs and templates ------------------------------------------------ */

/*
 * A CA with its key in the token: self-signed (parent NULL) or signed by
 * parent, stored with its publication URLs.
 */
static int
make_ca(const char *name, int keytype, const struct db_ca *parent,
	X509 *parent_cert, int days, struct db_ca **out, X509 **cert)
{
	struct x509_ca_spec spec;
	struct db_ca row;
	X509_NAME *subject = NULL;
	X509 *x = NULL;
	uint8_t *sder = NULL, *spki = NULL, *der = NULL;
	size_t slen = 0, spkilen = 0, derlen = 0;
	char dn[128], label[64], url[3][256];
	int64_t id = 0;
	int r;

	memset(&row, 0, sizeof(row));
	snprintf(dn, sizeof(dn), "CN=%s,O=Estuary Tests,C=CH", name);
	snprintf(label, sizeof(label), "ca-%s", name);
	if ((r = x509_name_parse(dn, &subject)) != 0 ||
	    (r = x509_name_der(subject, &sder, &slen)) != 0 ||
	    (r = sigclient_genkey(ti_sig, label, (uint8_t)keytype,
				  SIGNER_USAGE_CA, sder, slen, row.key_id,
				  &spki, &spkilen)) != 0)
		goto out;
	memset(&spec, 0, sizeof(spec));
	spec.subject = subject;
	spec.spki = spki;
	spec.spkilen = spkilen;
	spec.days = days;
	spec.pathlen = parent == NULL ? -1 : 0;
	spec.issuer = parent_cert;
	if ((r = x509_ca_build(&spec, &x)) != 0 ||
	    (r = x509_sign(ti_sig, parent ? parent->key_id : row.key_id,
			   parent ? parent->keytype : keytype, &x)) != 0 ||
	    (r = x509_cert_der(x, &der, &derlen)) != 0)
		goto out;
	row.name = (char *)name;
	row.parent_id = parent ? parent->id : 0;
	row.keytype = keytype;
	row.subject = dn;
	row.cert_der = der;
	row.cert_len = derlen;
	row.scope = (char *)SCOPE_GLOBAL;
	row.active = 1;
	row.path_len = -1;
	if ((r = db_ca_insert(ti_db, &row, &id)) != 0)
		goto out;
	snprintf(url[0], sizeof(url[0]), TI_BASE_URL "/pki/crl/%lld.crl",
		 (long long)id);
	snprintf(url[1], sizeof(url[1]), TI_BASE_URL "/pki/ocsp/%lld",
		 (long long)id);
	snprintf(url[2], sizeof(url[2]), TI_BASE_URL "/pki/ca/%lld.crt",
		 (long long)id);
	if ((r = db_ca_set_urls(ti_db, id, url[0], url[1], url[2])) != 0 ||
	    (r = db_ca_get(ti_db, id, out)) != 0)
		goto out;
	*cert = x;
	x = NULL;
out:
	free(der);
	free(spki);
	free(sder);
	X509_free(x);
	X509_NAME_free(subject);
	return r;
}

struct tmpl *
ti_template(const char *name, const struct db_ca *ca,
	    const struct ti_field *fields, size_t nfields)
{
	struct tmpl *t;
	size_t i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->name = strdup(name);
	t->type = TMPL_GENERAL;
	t->scope = strdup(SCOPE_GLOBAL);
	t->active = 1;
	t->ca_id = ca->id;
	t->validity_days = 30;
	t->key_types = CSR_KEYBIT(SIGNER_KEY_EC_P256) |
		       CSR_KEYBIT(SIGNER_KEY_RSA_2048);
	t->server_keygen = 1;
	t->keygen_key_type = SIGNER_KEY_EC_P256;
	t->digest = TMPL_DIGEST_SHA256;
	t->ku = CSR_KU_DIGITAL_SIGNATURE | CSR_KU_KEY_AGREEMENT;
	t->ku_critical = 1;
	t->neku = 2;
	t->eku = calloc(2, sizeof(*t->eku));
	t->eku[0] = strdup("1.3.6.1.5.5.7.3.2");
	t->eku[1] = strdup(TI_OID_WISUN_EKU);
	t->basic_constraints = 1;
	t->basic_pathlen = -1;
	t->basic_critical = 1;
	t->crl_dp = 1;
	t->ocsp_aia = 1;
	t->ca_issuers_aia = 1;
	t->key_retention_days = 2;
	t->fields = calloc(nfields, sizeof(*t->fields));
	t->nfields = nfields;
	for (i = 0; i < nfields; i++) {
		struct subj_field *f = &t->fields[i];

		f->kind = fields[i].san ? SUBJ_SAN : SUBJ_ATTR;
		f->oid = fields[i].oid ? strdup(fields[i].oid) : NULL;
		f->short_name = fields[i].name ? strdup(fields[i].name) : NULL;
		f->san_type = fields[i].san_type;
		f->onenc = fields[i].onenc;
		f->rule = fields[i].rule;
		f->max_len = fields[i].max_len;
		f->default_value = fields[i].def ? strdup(fields[i].def) : NULL;
	}
	return t;
}

struct tmpl *
ti_store(struct tmpl *t)
{
	struct tmpl *loaded = NULL;
	int64_t id = 0;

	if (db_begin(ti_db) != 0)
		goto out;
	if (db_template_insert(ti_db, t, 0, &id) != 0) {
		db_rollback(ti_db);
		goto out;
	}
	if (db_commit(ti_db) != 0 || db_template_load(ti_db, id, &loaded) != 0)
		loaded = NULL;
out:
	tmpl_free(t);
	return loaded;
}

/* --- CSRs and checks ---------------------------------------------------- */

EVP_PKEY *
ti_key(const char *alg)
{
	if (strcmp(alg, "rsa") == 0)
		return EVP_RSA_gen(2048);
	if (strcmp(alg, "rsa3072") == 0)
		return EVP_RSA_gen(3072);
	return EVP_EC_gen(alg);
}

struct csr *
ti_csr_der(const uint8_t *der, size_t len)
{
	struct csr_error ce;
	struct csr *c = NULL;

	if (csr_parse(der, len, CSR_FORM_DER, &c, &ce) != 0)
		return NULL;
	return c;
}

struct csr *
ti_csr(EVP_PKEY *key, const char *const *subject, const char *const *dns)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_REQ_get_subject_name(req);
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	unsigned char *der = NULL;
	struct csr *c = NULL;
	int len, i;

	for (i = 0; subject != NULL && subject[i] != NULL; i += 2)
		X509_NAME_add_entry_by_txt(
			n, subject[i], MBSTRING_UTF8,
			(const unsigned char *)subject[i + 1], -1, -1, 0);
	if (dns != NULL) {
		gens = sk_GENERAL_NAME_new_null();
		for (i = 0; dns[i] != NULL; i++) {
			GENERAL_NAME *g = GENERAL_NAME_new();
			ASN1_IA5STRING *s = ASN1_IA5STRING_new();

			ASN1_STRING_set(s, dns[i], -1);
			GENERAL_NAME_set0_value(g, GEN_DNS, s);
			sk_GENERAL_NAME_push(gens, g);
		}
		exts = sk_X509_EXTENSION_new_null();
		X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, 0);
		X509_REQ_add_extensions(req, exts);
	}
	X509_REQ_set_pubkey(req, key);
	if (X509_REQ_sign(req, key, EVP_sha256()) > 0 &&
	    (len = i2d_X509_REQ(req, &der)) > 0)
		c = ti_csr_der(der, (size_t)len);
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_REQ_free(req);
	return c;
}

int
ti_issue(const struct tmpl *t, const struct db_ca *ca, const struct csr *csr,
	 int keygen, const struct subj_input *user, time_t not_before, int days,
	 struct issue_result **out, struct issue_error *err)
{
	struct issue_req rq;
	struct subj_input *in = NULL;
	int r;

	memset(&rq, 0, sizeof(rq));
	rq.tmpl = t;
	rq.ca = ca;
	rq.csr = csr;
	rq.keygen_type = keygen;
	rq.src = csr != NULL ? SUBJ_SRC_CSR : SUBJ_SRC_USER;
	rq.input = user;
	rq.not_before = not_before;
	rq.days = days;
	rq.kind = ISSUE_KIND_OTHER;
	rq.via = ISSUE_VIA_API;
	rq.creator = ISSUE_BY_SYSTEM;
	if (csr != NULL && user == NULL) {
		if ((r = issue_input_from_csr(csr, &in)) != 0)
			return r;
		rq.input = in;
	}
	if ((r = db_begin(ti_db)) == 0) {
		r = issue_cert(ti_db, ti_sig, &rq, out, err);
		if (r == 0)
			r = db_commit(ti_db);
		else
			db_rollback(ti_db);
	}
	subject_input_free(in);
	return r;
}

int64_t
ti_count(void)
{
	struct db_result *res = NULL;
	int64_t n = -1;

	if (db_query_one(ti_db, &t_stmts[T_COUNT], NULL, 0, &res) == 0)
		n = db_result_i64(res, 0, 0);
	db_result_free(res);
	return n;
}

X509 *
ti_x509(const struct issue_result *r)
{
	X509 *x = NULL;

	if (r == NULL || x509_cert_from_der(r->der, r->derlen, &x) != 0)
		return NULL;
	return x;
}

int
ti_verify(X509 *x, X509 *issuing)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int ok;

	X509_STORE_add_cert(st, ti_root_cert);
	sk_X509_push(untrusted, issuing);
	ok = X509_STORE_CTX_init(ctx, st, x, untrusted) == 1 &&
	     X509_verify_cert(ctx) == 1;
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return ok;
}

/* --- suite ---------------------------------------------------------------- */

static int
suite_init(void)
{
	struct db_custext_rec ce;
	const char *tmp = getenv("TMPDIR"), *grant;
	char err[256];
	int applied = 0;

	if (getenv("ESTUARY_CONF") == NULL ||
	    getenv("ESTUARY_MIGRATIONS") == NULL ||
	    (grant = getenv("ESTUARY_TEST_DB_GRANT")) == NULL) {
		fprintf(stderr, "test_issue: run me through "
				"run-issue-tests.sh\n");
		return -1;
	}
	if (estuary_conf_load(getenv("ESTUARY_CONF"), &conf, err,
			      sizeof(err)) != 0 ||
	    db_connect(conf, DB_ROLE_ADMIN, &admin) != 0 ||
	    db_migrate(admin, getenv("ESTUARY_MIGRATIONS"), &applied) != 0 ||
	    run(grant) != 0 || db_connect(conf, DB_ROLE_APP, &ti_db) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/estuary-issue.XXXXXX",
		 tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || signer_start() != 0)
		return -1;
	if (make_ca("root", SIGNER_KEY_EC_P256, NULL, NULL, 3650, &ti_root,
		    &ti_root_cert) != 0 ||
	    make_ca("issuing", SIGNER_KEY_EC_P256, ti_root, ti_root_cert, 1825,
		    &ti_issuing, &ti_issuing_cert) != 0 ||
	    make_ca("rsa-issuing", SIGNER_KEY_RSA_2048, ti_root, ti_root_cert,
		    1825, &ti_rsa_issuing, &ti_rsa_issuing_cert) != 0)
		return -1;
	memset(&ce, 0, sizeof(ce));
	ce.name = "greeting";
	ce.oid = TI_OID_CUSTOM;
	ce.value_type = "utf8string";
	ce.value = "hello";
	ce.der = (const uint8_t *)"\x0c\x05hello";
	ce.derlen = 7;
	ce.scope = SCOPE_GLOBAL;
	return db_custext_insert(ti_db, &ce, 0, &ti_custom_ext_id) == 0 ? 0
									: -1;
}

static int
suite_clean(void)
{
	char cmd[600];

	signer_stop();
	db_ca_free(ti_root);
	db_ca_free(ti_issuing);
	db_ca_free(ti_rsa_issuing);
	X509_free(ti_root_cert);
	X509_free(ti_issuing_cert);
	X509_free(ti_rsa_issuing_cert);
	db_close(ti_db);
	db_close(admin);
	conf_free(conf);
	if (dir[0] != '\0' && getenv("KEEP_TEST_DIR") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		run(cmd);
	}
	return 0;
}

int
test_suites(void)
{
	int r;

	/* One signer and database for both suites; the last one stops them. */
	if ((r = test_add_suite("issue", suite_init, NULL, ti_issue_tests)) !=
	    0)
		return r;
	return test_add_suite("certificates table", NULL, suite_clean,
			      ti_db_tests);
}
