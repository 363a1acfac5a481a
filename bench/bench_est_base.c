/*
 * bench_est's in-process side (est_bench.h): (a)'s baseline, which issues
 * the certificate EST issued for the fixed CSR again with the same CA key
 * on the instance's SoftHSM token, and the fill of the devices table
 * through the data layer.  bench_est.c has the phases over HTTPS.
 *
 * The baseline logs in to the token itself (the PIN file and token label
 * of the instance's estuary.conf, as the signer does; bench_signer does
 * the same on a throwaway token), finds the CA's private key by the key id
 * the database holds for the CA that issued EST's certificate, and per
 * certificate: decodes the CSR and checks its signature, builds the
 * certificate with OpenSSL (issuer, subject, lifetime and every extension
 * of EST's certificate, a new random serial, the CSR's key), hashes the
 * TBSCertificate and signs it with C_Sign (CKM_ECDSA for an EC CA, whose
 * r||s becomes an ECDSA-Sig-Value; CKM_SHA256_RSA_PKCS for an RSA CA)
 * and assembles the DER certificate.  The first one is decoded and its
 * signature verified with the CA certificate from cacerts.
 *
 * cpu_sample() reads the CPU time of the instance's daemons from /proc,
 * so that each phase can say what one operation costs each of them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "est_bench.h"
#include "conf.h"
#include "db.h"
#include "device.h"
#include "err.h"
#include "https.h"
#include "profile.h"
#include "util.h"

#define FILL_TXN 10000 /* devices per transaction of the fill */
#define die(...) https_die(PROG, __VA_ARGS__)

/* --- The database: the CA's key id, and the fill --- */

static struct conf *conf;
static struct db *db;

void
bench_db_open(void)
{
	char err[256];
	int r;

	if (estuary_conf_load(bench_env("ESTUARY_CONF"), &conf, err,
			      sizeof(err)) != 0)
		die("%s", err);
	if ((r = db_connect(conf, DB_ROLE_APP, &db)) != 0)
		die("cannot connect to the database: %s", est_strerror(r));
}

void
bench_db_close(void)
{
	db_close(db);
	conf_free(conf);
}

static const struct db_stmt_def q_ca_key = {
	"bench_ca_key",
	"SELECT a.key_id FROM certificates c JOIN cas a ON a.id = c.ca_id"
	" WHERE c.fingerprint = ?",
	1};
static const struct db_stmt_def q_scope = {
	"bench_scope",
	"SELECT s.tenant_id, s.org_id, l.device_type_id FROM est_labels l"
	" JOIN est_servers s ON s.id = l.server_id"
	" WHERE l.domain = ? AND l.label = ?",
	2};
static const struct db_stmt_def q_count = {
	"bench_count", "SELECT COUNT(*) FROM devices WHERE device_type_id = ?",
	1};

/*
 * Fills the devices table up to want devices of the type of the label
 * ESTUARY_EXT_LABEL (FACTORY mode, a random factory fingerprint each),
 * FILL_TXN per transaction; returns how many the type has.  A second run
 * adds only what is missing.
 */
long
bench_prefill(long want)
{
	static const char *const noprops[SUBJ_PROP_COUNT];
	struct db_device_new *rows;
	struct db_result *res = NULL;
	unsigned char rnd[4], *fps;
	char *names;
	int64_t tenant, org, type;
	long have, added = 0;
	double t0;
	size_t i, n;
	int r;

	if ((r = db_query_one(db, &q_scope,
			      (struct db_param[]){
				      DB_STR(bench_env("ESTUARY_EST_EC_HOST")),
				      DB_STR(bench_env("ESTUARY_EXT_LABEL"))},
			      2, &res)) != 0)
		die("the label's device type: %s", est_strerror(r));
	tenant = db_result_i64(res, 0, 0);
	org = db_result_i64(res, 0, 1);
	type = db_result_i64(res, 0, 2);
	db_result_free(res);
	if ((r = db_query_one(db, &q_count, (struct db_param[]){DB_I64(type)},
			      1, &res)) != 0)
		die("counting devices: %s", est_strerror(r));
	have = (long)db_result_i64(res, 0, 0);
	db_result_free(res);
	rows = calloc(FILL_TXN, sizeof(*rows));
	names = calloc(FILL_TXN, 48);
	fps = calloc(FILL_TXN, 32);
	if (rows == NULL || names == NULL || fps == NULL ||
	    RAND_bytes(rnd, sizeof(rnd)) != 1)
		die("out of memory");
	printf("  fill: %ld devices of the type, filling up to %ld\n", have,
	       want);
	fflush(stdout);
	t0 = https_now();
	while (have < want) {
		n = (size_t)(want - have < FILL_TXN ? want - have : FILL_TXN);
		if (RAND_bytes(fps, (int)(32 * n)) != 1)
			die("no random bytes");
		for (i = 0; i < n; i++) {
			snprintf(names + 48 * i, 48,
				 "bench-fill-%02x%02x%02x%02x-%ld", rnd[0],
				 rnd[1], rnd[2], rnd[3], added + (long)i);
			memset(&rows[i], 0, sizeof(rows[i]));
			rows[i].name = names + 48 * i;
			rows[i].tenant_id = tenant;
			rows[i].org_id = org;
			rows[i].device_type_id = type;
			rows[i].mode = DEVICE_MODE_FACTORY;
			rows[i].props = noprops;
			rows[i].factory_fp = fps + 32 * i;
			rows[i].created_via = "api";
		}
		if ((r = db_begin(db)) != 0 ||
		    (r = db_device_insert_many(db, rows, n)) != 0 ||
		    (r = db_commit(db)) != 0) {
			db_rollback(db);
			die("the fill: %s", est_strerror(r));
		}
		have += (long)n;
		added += (long)n;
		if (added % 100000 == 0) {
			printf("  fill: %ld devices (%.0f/s)\n", have,
			       (double)added / (https_now() - t0));
			fflush(stdout);
		}
	}
	if (added > 0)
		printf("  fill: %ld devices added in %.0f s (%.0f/s)\n", added,
		       https_now() - t0, (double)added / (https_now() - t0));
	free(rows);
	free(names);
	free(fps);
	return have;
}

/* --- (a)'s baseline: the same certificate, the same key in SoftHSM --- */

static struct p11 *p11;
static CK_OBJECT_HANDLE ca_priv;
static int ca_ec;      /* EC: CKM_ECDSA on SHA-256; RSA: CKM_SHA256_RSA_PKCS */
static size_t ec_half; /* bytes of r and of s */
static X509 *tmpl;     /* what EST issued for the fixed CSR */
static unsigned char *b_csr, *b_alg;
static int b_csrlen, b_alglen;
static int b_life; /* seconds */

/* The length octets of a DER length n into p (NULL: only counts). */
static size_t
der_len(unsigned char *p, size_t n)
{
	size_t k = 0, m;

	if (n < 0x80) {
		if (p != NULL)
			p[0] = (unsigned char)n;
		return 1;
	}
	for (m = n; m > 0; m >>= 8)
		k++;
	if (p != NULL) {
		p[0] = (unsigned char)(0x80 | k);
		for (m = 0; m < k; m++)
			p[1 + m] = (unsigned char)(n >> (8 * (k - 1 - m)));
	}
	return 1 + k;
}

/* Certificate ::= SEQUENCE { tbs, algorithm, BIT STRING signature }. */
static unsigned char *
der_cert(const unsigned char *tbs, size_t tbslen, const unsigned char *sig,
	 size_t siglen, size_t *outlen)
{
	size_t bits = 1 + siglen, body, total, o = 0;
	unsigned char *out;

	body = tbslen + (size_t)b_alglen + 1 + der_len(NULL, bits) + bits;
	total = 1 + der_len(NULL, body) + body;
	if ((out = malloc(total)) == NULL)
		return NULL;
	out[o++] = 0x30;
	o += der_len(out + o, body);
	memcpy(out + o, tbs, tbslen);
	o += tbslen;
	memcpy(out + o, b_alg, (size_t)b_alglen);
	o += (size_t)b_alglen;
	out[o++] = 0x03;
	o += der_len(out + o, bits);
	out[o++] = 0x00;
	memcpy(out + o, sig, siglen);
	*outlen = total;
	return out;
}

/* The signature of tbs by the CA key, as it goes in a certificate. */
static unsigned char *
p11_sign(CK_SESSION_HANDLE s, const unsigned char *tbs, size_t tbslen,
	 size_t *siglen)
{
	CK_MECHANISM mech = {ca_ec ? CKM_ECDSA : CKM_SHA256_RSA_PKCS, NULL, 0};
	unsigned char raw[1024], h[32], *der = NULL;
	CK_ULONG rawlen = sizeof(raw);
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *ss = NULL;
	int n;

	if (ca_ec) {
		if (EVP_Digest(tbs, tbslen, h, NULL, EVP_sha256(), NULL) != 1 ||
		    p11->f->C_SignInit(s, &mech, ca_priv) != CKR_OK ||
		    p11->f->C_Sign(s, h, sizeof(h), raw, &rawlen) != CKR_OK ||
		    rawlen != 2 * ec_half)
			return NULL;
		if ((es = ECDSA_SIG_new()) == NULL ||
		    (r = BN_bin2bn(raw, (int)ec_half, NULL)) == NULL ||
		    (ss = BN_bin2bn(raw + ec_half, (int)ec_half, NULL)) ==
			    NULL ||
		    ECDSA_SIG_set0(es, r, ss) != 1) {
			BN_free(r);
			BN_free(ss);
			ECDSA_SIG_free(es);
			return NULL;
		}
		n = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		if (n <= 0)
			return NULL;
		*siglen = (size_t)n;
		return der;
	}
	if (p11->f->C_SignInit(s, &mech, ca_priv) != CKR_OK ||
	    p11->f->C_Sign(s, (CK_BYTE_PTR)tbs, (CK_ULONG)tbslen, raw,
			   &rawlen) != CKR_OK ||
	    (der = OPENSSL_malloc(rawlen)) == NULL)
		return NULL;
	memcpy(der, raw, rawlen);
	*siglen = rawlen;
	return der;
}

/*
 * One issuance: what the server does to the fixed CSR, with the CA key
 * on the token; the certificate's DER in *out unless out is NULL.
 */
int
baseline_issue(CK_SESSION_HANDLE s, unsigned char **out, size_t *outlen)
{
	const unsigned char *p = b_csr;
	unsigned char serial[16], *tbs = NULL, *sig = NULL, *cert = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *pub;
	BIGNUM *bn = NULL;
	X509 *x = NULL;
	size_t siglen = 0, certlen = 0;
	int tbslen, i, ok = -1;

	if ((req = d2i_X509_REQ(NULL, &p, b_csrlen)) == NULL ||
	    (pub = X509_REQ_get0_pubkey(req)) == NULL ||
	    X509_REQ_verify(req, pub) != 1 ||
	    RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] = (serial[0] & 0x3f) | 0x40;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    (x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_issuer_name(x, X509_get_issuer_name(tmpl)) != 1 ||
	    X509_set_subject_name(x, X509_get_subject_name(tmpl)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), b_life) == NULL ||
	    X509_set_pubkey(x, pub) != 1)
		goto out;
	for (i = 0; i < X509_get_ext_count(tmpl); i++)
		if (X509_add_ext(x, X509_get_ext(tmpl, i), -1) != 1)
			goto out;
	/* The signature algorithm inside the TBSCertificate: the CA's. */
	if (X509_ALGOR_copy((X509_ALGOR *)X509_get0_tbs_sigalg(x),
			    X509_get0_tbs_sigalg(tmpl)) != 1 ||
	    (tbslen = i2d_re_X509_tbs(x, &tbs)) <= 0 ||
	    (sig = p11_sign(s, tbs, (size_t)tbslen, &siglen)) == NULL ||
	    (cert = der_cert(tbs, (size_t)tbslen, sig, siglen, &certlen)) ==
		    NULL)
		goto out;
	if (out != NULL) {
		*out = cert;
		*outlen = certlen;
		cert = NULL;
	}
	ok = 0;
out:
	free(cert);
	OPENSSL_free(sig);
	OPENSSL_free(tbs);
	X509_free(x);
	BN_free(bn);
	X509_REQ_free(req);
	return ok;
}

int
baseline_session(CK_SESSION_HANDLE *s)
{
	return p11_session_open(p11, s) == 0 ? 0 : -1;
}

void
baseline_session_close(CK_SESSION_HANDLE s)
{
	p11_session_close(p11, s);
}

/* This process's own login to the instance's token (as bench_signer). */
static void
p11_setup(const unsigned char *key_id, size_t idlen)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[2] = {{CKA_CLASS, &cls, sizeof(cls)},
			     {CKA_ID, (void *)key_id, idlen}};
	struct profile *prof = NULL;
	char path[512], err[256];
	char *pin = NULL;
	size_t pinlen = 0;

	if (getenv("SOFTHSM2_CONF") == NULL) {
		snprintf(path, sizeof(path), "%s/hsm/softhsm2.conf",
			 bench_env("ESTUARY_VAR"));
		setenv("SOFTHSM2_CONF", path, 1);
	}
	if (profile_load(conf_get(conf, "hsm_profile"), &prof, err,
			 sizeof(err)) != 0)
		die("%s", err);
	if (profile_override(prof, conf_get(conf, "hsm_token_label"),
			     conf_get(conf, "hsm_pin_file")) != 0 ||
	    profile_apply_env(prof) != 0 ||
	    profile_read_pin(prof, &pin, &pinlen) != 0 ||
	    p11_open(prof->module, &p11) != 0 ||
	    p11_find_token(p11, prof->token_label, 0, 5) != 0 ||
	    p11_login(p11, pin, pinlen) != 0 ||
	    p11_find_one(p11, p11->login_session, t, 2, &ca_priv) != 0)
		die("cannot use the CA key on the token directly");
	freezero(pin, pinlen);
	profile_free(prof);
}

/*
 * Sets the baseline up from the certificate EST issued and its CA: the
 * CA's key on the token (its id from the database), the signature
 * algorithm, then one issuance whose signature must verify.
 */
void
baseline_init(X509 *issued, X509 *ca, unsigned char *csr, int csrlen)
{
	unsigned char fp[32], *der = NULL;
	const unsigned char *p;
	const ASN1_OBJECT *oid;
	struct db_result *res = NULL;
	const char *kid;
	CK_SESSION_HANDLE s;
	size_t kidlen = 0, len = 0;
	unsigned int fplen = 0;
	int days = 0, secs = 0, nid, r;
	X509 *x;

	tmpl = issued;
	b_csr = csr;
	b_csrlen = csrlen;
	if (ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(issued),
			   X509_get0_notAfter(issued)) != 1)
		die("the issued certificate's validity");
	b_life = days * 86400 + secs;
	X509_ALGOR_get0(&oid, NULL, NULL, X509_get0_tbs_sigalg(issued));
	nid = OBJ_obj2nid(oid);
	if (nid != NID_ecdsa_with_SHA256 && nid != NID_sha256WithRSAEncryption)
		die("the baseline signs with SHA-256 only, not %s",
		    OBJ_nid2sn(nid));
	ca_ec = EVP_PKEY_get_base_id(X509_get0_pubkey(ca)) == EVP_PKEY_EC;
	if (ca_ec != (nid == NID_ecdsa_with_SHA256))
		die("the CA's key does not fit its signature algorithm");
	ec_half = (size_t)(EVP_PKEY_get_bits(X509_get0_pubkey(ca)) + 7) / 8;
	if ((b_alglen = i2d_X509_ALGOR(X509_get0_tbs_sigalg(issued), &b_alg)) <=
	    0)
		die("the signature algorithm");
	if (X509_digest(issued, EVP_sha256(), fp, &fplen) != 1 ||
	    (r = db_query_one(db, &q_ca_key,
			      (struct db_param[]){DB_BLOB(fp, sizeof(fp))}, 1,
			      &res)) != 0 ||
	    (kid = db_result_str(res, 0, 0, &kidlen)) == NULL)
		die("the issuing CA's key id is not in the database");
	p11_setup((const unsigned char *)kid, kidlen);
	db_result_free(res);
	if (baseline_session(&s) != 0 || baseline_issue(s, &der, &len) != 0)
		die("the baseline cannot issue");
	baseline_session_close(s);
	p = der;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    X509_verify(x, X509_get0_pubkey(ca)) != 1 ||
	    X509_get_ext_count(x) != X509_get_ext_count(issued))
		die("the baseline's certificate does not verify");
	X509_free(x);
	free(der);
}

void
baseline_fini(void)
{
	p11_close(p11);
	OPENSSL_free(b_alg);
}
