/*
 * lib/extcert: which certificates may be registered as external CAs, how
 * their PEM is read, and what proves possession of their key.  The
 * certificates are made here with throwaway keys, so that each rule is
 * met or broken by exactly one property.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "extcert.h"
#include "harness.h"
#include "jsonval.h"

/* What make_cert() builds. */
struct spec {
	EVP_PKEY *key;	  /* the subject's key */
	EVP_PKEY *signer; /* NULL: self-signed with key */
	X509 *issuer;	  /* NULL: self-signed */
	const char *cn;
	const char *cn2; /* a second CN, or NULL */
	const char *bc;	 /* basicConstraints value, or NULL for none */
	const char *ku;	 /* keyUsage value, or NULL for none */
	long nb_off;	 /* notBefore, seconds from now */
	long na_off;	 /* notAfter, seconds from now */
	const EVP_MD *md;
};

static EVP_PKEY *ec256, *ec256b, *rsa2048;

static int
keys_init(void)
{
	ec256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec256b = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	return ec256 == NULL || ec256b == NULL || rsa2048 == NULL;
}

static int
keys_fini(void)
{
	EVP_PKEY_free(ec256);
	EVP_PKEY_free(ec256b);
	EVP_PKEY_free(rsa2048);
	return 0;
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static X509 *
make_cert(const struct spec *s)
{
	EVP_PKEY *signer = s->signer != NULL ? s->signer : s->key;
	const EVP_MD *md = s->md != NULL ? s->md : EVP_sha256();
	X509_NAME *name = NULL;
	X509 *x;
	int ok;

	/* EdDSA signs the message itself: no digest. */
	if (EVP_PKEY_is_a(signer, "ED25519"))
		md = NULL;

	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL)
		goto fail;
	ok = X509_set_version(x, 2) &&
	     ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)s->cn, -1, -1,
					0) &&
	     (s->cn2 == NULL ||
	      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					 (const unsigned char *)s->cn2, -1, -1,
					 0)) &&
	     X509_set_subject_name(x, name) &&
	     X509_set_issuer_name(x, s->issuer != NULL
					     ? X509_get_subject_name(s->issuer)
					     : name) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), s->nb_off) != NULL &&
	     X509_gmtime_adj(X509_getm_notAfter(x), s->na_off) != NULL &&
	     X509_set_pubkey(x, s->key) &&
	     add_ext(x, s->issuer, NID_subject_key_identifier, "hash") &&
	     (s->bc == NULL ||
	      add_ext(x, s->issuer, NID_basic_constraints, s->bc)) &&
	     (s->ku == NULL || add_ext(x, s->issuer, NID_key_usage, s->ku)) &&
	     X509_sign(x, signer, md) > 0;
	X509_NAME_free(name);
	if (ok)
		return x;
fail:
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}

/* A valid CA: self-signed P-256, CA:TRUE, keyCertSign, a year long. */
static struct spec
ca_spec(void)
{
	struct spec s;

	memset(&s, 0, sizeof(s));
	s.key = ec256;
	s.cn = "Factory CA";
	s.bc = "critical,CA:TRUE";
	s.ku = "critical,keyCertSign,cRLSign";
	s.nb_off = -60;
	s.na_off = 365L * 86400;
	return s;
}

/* extcert_check_ca() of a certificate made from s; the message in e. */
static int
check(const struct spec *s, struct jsonval_error *e)
{
	X509 *x = make_cert(s);
	int r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	memset(e, 0, sizeof(*e));
	r = extcert_check_ca(x, time(NULL), "certificate", e);
	X509_free(x);
	return r;
}

/* Refused with 422 on "certificate" and a message that holds what. */
static void
assert_refused(const struct spec *s, const char *what)
{
	struct jsonval_error e;

	CU_ASSERT_EQUAL(check(s, &e), EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(e.field, "certificate");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, what));
}

static char *
to_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s = NULL;
	long n;

	if (b != NULL && PEM_write_bio_X509(b, x) == 1 &&
	    (n = BIO_get_mem_data(b, &p)) > 0 && (s = malloc(n + 1)) != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	BIO_free(b);
	return s;
}

/* ----- the CA certificate ----- */

static void
test_accepts_ec_root(void)
{
	struct spec s = ca_spec();
	struct jsonval_error e;

	CU_ASSERT_EQUAL(check(&s, &e), 0);
}

static void
test_accepts_rsa_without_key_usage(void)
{
	struct spec s = ca_spec();
	struct jsonval_error e;

	s.key = rsa2048;
	s.ku = NULL;
	s.bc = "CA:TRUE"; /* not critical */
	CU_ASSERT_EQUAL(check(&s, &e), 0);
}

static void
test_refuses_missing_basic_constraints(void)
{
	struct spec s = ca_spec();

	s.bc = NULL;
	assert_refused(&s, "basicConstraints is missing");
}

static void
test_refuses_ca_false(void)
{
	struct spec s = ca_spec();

	s.bc = "critical,CA:FALSE";
	assert_refused(&s, "CA:FALSE");
}

static void
test_refuses_key_usage_without_cert_sign(void)
{
	struct spec s = ca_spec();

	s.ku = "critical,digitalSignature,cRLSign";
	assert_refused(&s, "keyCertSign");
}

static void
test_refuses_expired_and_future(void)
{
	struct spec s = ca_spec();

	s.nb_off = -7200;
	s.na_off = -3600;
	assert_refused(&s, "expired");
	s = ca_spec();
	s.nb_off = 3600;
	assert_refused(&s, "not valid yet");
}

static void
test_refuses_small_rsa(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	struct spec s = ca_spec();

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	s.key = k;
	assert_refused(&s, "shorter than 2048");
	EVP_PKEY_free(k);
}

static void
test_refuses_other_curve(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	struct spec s = ca_spec();

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	s.key = k;
	assert_refused(&s, "curve other than");
	EVP_PKEY_free(k);
}

static void
test_refuses_other_key_type(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct spec s = ca_spec();

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	s.key = k;
	assert_refused(&s, "key type not accepted");
	EVP_PKEY_free(k);
}

static void
test_refuses_md5(void)
{
	struct spec s = ca_spec();

	s.key = rsa2048;
	s.md = EVP_md5();
	assert_refused(&s, "MD5");
}

static void
test_sha1_only_when_self_signed(void)
{
	struct spec s = ca_spec(), sub;
	struct jsonval_error e;
	X509 *root;

	s.md = EVP_sha1();
	CU_ASSERT_EQUAL(check(&s, &e), 0);
	s.md = NULL;
	root = make_cert(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	sub = ca_spec();
	sub.key = ec256b;
	sub.cn = "Issuing CA";
	sub.signer = ec256;
	sub.issuer = root;
	sub.md = EVP_sha1();
	assert_refused(&sub, "SHA-1");
	sub.md = EVP_sha384();
	CU_ASSERT_EQUAL(check(&sub, &e), 0);
	X509_free(root);
}

/* ----- PEM ----- */

static void
test_pem_one_certificate(void)
{
	struct spec s = ca_spec();
	struct jsonval_error e = {0};
	X509 *x = make_cert(&s), *y = NULL;
	unsigned char *d = NULL;
	uint8_t *der = NULL;
	size_t derlen = 0;
	char *pem = to_pem(x), *text;
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pem);
	/* Text around the block, as "openssl x509 -text" writes it. */
	text = malloc(strlen(pem) + 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	strcpy(text, "Certificate:\n    Data: ...\n");
	strcat(text, pem);
	strcat(text, "\ntrailing words\n");
	CU_ASSERT_EQUAL(extcert_pem(text, strlen(text), "certificate", &y, &der,
				    &derlen, &e),
			0);
	n = i2d_X509(x, &d);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(derlen, (size_t)n);
	CU_ASSERT(der != NULL && memcmp(der, d, derlen) == 0);
	CU_ASSERT_EQUAL(X509_cmp(x, y), 0);
	OPENSSL_free(d);
	free(der);
	free(text);
	free(pem);
	X509_free(x);
	X509_free(y);
}

static void
assert_pem_refused(const char *text, const char *what)
{
	struct jsonval_error e = {0};
	X509 *y = NULL;

	CU_ASSERT_EQUAL(extcert_pem(text, strlen(text), "certificate", &y, NULL,
				    NULL, &e),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_PTR_NULL(y);
	CU_ASSERT_STRING_EQUAL(e.field, "certificate");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, what));
	X509_free(y);
}

static void
test_pem_refusals(void)
{
	struct spec s = ca_spec();
	X509 *x = make_cert(&s);
	char *pem = to_pem(x), *two, *bad;
	BIO *b = BIO_new(BIO_s_mem());
	char *kp = NULL, *withkey;
	long kn;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pem);
	assert_pem_refused("", "no PEM certificate");
	assert_pem_refused("just some garbage\n", "no PEM certificate");

	two = malloc(2 * strlen(pem) + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(two);
	strcpy(two, pem);
	strcat(two, pem);
	assert_pem_refused(two, "more than one certificate");

	CU_ASSERT_FATAL(b != NULL &&
			PEM_write_bio_PrivateKey(b, ec256, NULL, NULL, 0, NULL,
						 NULL) == 1);
	kn = BIO_get_mem_data(b, &kp);
	withkey = malloc(strlen(pem) + (size_t)kn + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(withkey);
	strcpy(withkey, pem);
	memcpy(withkey + strlen(pem), kp, (size_t)kn);
	withkey[strlen(pem) + (size_t)kn] = '\0';
	assert_pem_refused(withkey, "private key");

	assert_pem_refused("-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n"
			   "-----END CERTIFICATE REQUEST-----\n",
			   "not a CERTIFICATE");
	assert_pem_refused("-----BEGIN CERTIFICATE-----\nMAA=\n"
			   "-----END CERTIFICATE-----\n",
			   "not valid DER");
	/* A base64 body that does not decode. */
	bad = strdup(pem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	bad[40] = '*';
	assert_pem_refused(bad, "malformed PEM");

	free(bad);
	free(withkey);
	BIO_free(b);
	free(two);
	free(pem);
	X509_free(x);
}

/* ----- proof of possession ----- */

#define CODE "00112233445566778899aabbccddeeff"

static void
proof_case(X509 *ca, const struct spec *ps, const char *what)
{
	struct jsonval_error e = {0};
	X509 *proof = make_cert(ps);
	int r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(proof);
	r = extcert_check_proof(ca, proof, CODE, "certificate", &e);
	if (what == NULL) {
		CU_ASSERT_EQUAL(r, 0);
	} else {
		CU_ASSERT_EQUAL(r, EST_E_UNPROCESSABLE);
		CU_ASSERT_STRING_EQUAL(e.field, "certificate");
		CU_ASSERT_PTR_NOT_NULL(strstr(e.message, what));
	}
	X509_free(proof);
}

static void
test_proof(void)
{
	struct spec s = ca_spec(), ps, other;
	X509 *ca = make_cert(&s), *impostor;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ca);
	memset(&ps, 0, sizeof(ps));
	ps.key = ec256b;
	ps.signer = ec256;
	ps.issuer = ca;
	ps.cn = CODE;
	ps.nb_off = -60;
	ps.na_off = 86400;
	proof_case(ca, &ps, NULL);

	/* Signed by another key under the CA's name. */
	ps.signer = ec256b;
	proof_case(ca, &ps, "does not verify");
	ps.signer = ec256;

	ps.cn = "00112233445566778899aabbccddeefe";
	proof_case(ca, &ps, "not the current verification code");
	ps.cn = CODE "0";
	proof_case(ca, &ps, "not the current verification code");
	ps.cn = CODE;
	ps.cn2 = CODE;
	proof_case(ca, &ps, "not the current verification code");
	ps.cn2 = NULL;

	/* Another CA's certificate for the same code. */
	other = ca_spec();
	other.key = ec256b;
	other.cn = "Impostor CA";
	impostor = make_cert(&other);
	CU_ASSERT_PTR_NOT_NULL_FATAL(impostor);
	ps.issuer = impostor;
	ps.signer = ec256b;
	proof_case(ca, &ps, "not issued by this CA");
	X509_free(impostor);
	X509_free(ca);

	/* An RSA CA: a proof signed with MD5 proves nothing. */
	s.key = rsa2048;
	ca = make_cert(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ca);
	ps.issuer = ca;
	ps.signer = rsa2048;
	ps.md = EVP_md5();
	proof_case(ca, &ps, "MD5");
	ps.md = EVP_sha256();
	proof_case(ca, &ps, NULL);
	X509_free(ca);
}

static void
test_code_new(void)
{
	char a[EXTCERT_CODE_LEN + 1], b[EXTCERT_CODE_LEN + 1];
	size_t i;

	CU_ASSERT_EQUAL(extcert_code_new(a), 0);
	CU_ASSERT_EQUAL(extcert_code_new(b), 0);
	CU_ASSERT_EQUAL(strlen(a), 32);
	for (i = 0; i < strlen(a); i++)
		CU_ASSERT_PTR_NOT_NULL(strchr("0123456789abcdef", a[i]));
	CU_ASSERT_NOT_EQUAL(strcmp(a, b), 0);
}

/* ----- what is stored ----- */

static void
test_info(void)
{
	struct spec s = ca_spec();
	struct extcert_info *ci = NULL;
	X509 *x = make_cert(&s);
	unsigned char *d = NULL;
	uint8_t md[32];
	unsigned int mdlen = 0;
	int n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	n = i2d_X509(x, &d);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL_FATAL(extcert_info_new(d, (size_t)n, &ci), 0);
	CU_ASSERT(EVP_Digest(d, (size_t)n, md, &mdlen, EVP_sha256(), NULL));
	CU_ASSERT_EQUAL(memcmp(ci->fingerprint, md, 32), 0);
	{
		unsigned char *sd = NULL;
		int sn = i2d_X509_NAME(X509_get_subject_name(x), &sd);

		CU_ASSERT_FATAL(sn > 0);
		CU_ASSERT(EVP_Digest(sd, (size_t)sn, md, &mdlen, EVP_sha256(),
				     NULL));
		CU_ASSERT_EQUAL(memcmp(ci->subject_hash, md, 32), 0);
		OPENSSL_free(sd);
	}
	CU_ASSERT_STRING_EQUAL(ci->subject, "CN=Factory CA");
	CU_ASSERT_STRING_EQUAL(ci->issuer, "CN=Factory CA");
	CU_ASSERT_STRING_EQUAL(ci->serial, "1234");
	CU_ASSERT_STRING_EQUAL(ci->key_type, "ec-p256");
	CU_ASSERT_STRING_EQUAL(ci->signature_alg, "ecdsa-with-SHA256");
	CU_ASSERT_EQUAL(ci->self_signed, 1);
	CU_ASSERT_EQUAL(ci->ski_len, 20);
	CU_ASSERT_EQUAL(strlen(ci->not_before), 19);
	extcert_info_free(ci);
	ci = NULL;
	/* One byte more is not one DER certificate. */
	CU_ASSERT_NOT_EQUAL(extcert_info_new(d, (size_t)n - 1, &ci), 0);
	CU_ASSERT_PTR_NULL(ci);
	extcert_info_free(NULL);
	OPENSSL_free(d);
	X509_free(x);
}

int
test_suites(void)
{
	static CU_TestInfo ca_tests[] = {
		{"accepts an EC P-256 root", test_accepts_ec_root},
		{"accepts RSA-2048 without keyUsage",
		 test_accepts_rsa_without_key_usage},
		{"refuses a missing basicConstraints",
		 test_refuses_missing_basic_constraints},
		{"refuses CA:FALSE", test_refuses_ca_false},
		{"refuses keyUsage without keyCertSign",
		 test_refuses_key_usage_without_cert_sign},
		{"refuses expired and future certificates",
		 test_refuses_expired_and_future},
		{"refuses RSA-1024", test_refuses_small_rsa},
		{"refuses secp256k1", test_refuses_other_curve},
		{"refuses Ed25519", test_refuses_other_key_type},
		{"refuses an MD5 signature", test_refuses_md5},
		{"SHA-1 only on a self-signed root",
		 test_sha1_only_when_self_signed},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo pem_tests[] = {
		{"one certificate with text around it",
		 test_pem_one_certificate},
		{"refusals", test_pem_refusals},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo proof_tests[] = {
		{"proof of possession", test_proof},
		{"verification codes", test_code_new},
		{"stored columns", test_info},
		CU_TEST_INFO_NULL,
	};
	int r;

	if ((r = test_add_suite("extcert CA checks", keys_init, keys_fini,
				ca_tests)) != 0 ||
	    (r = test_add_suite("extcert PEM", keys_init, keys_fini,
				pem_tests)) != 0 ||
	    (r = test_add_suite("extcert proof", keys_init, keys_fini,
				proof_tests)) != 0)
		return r;
	return 0;
}
