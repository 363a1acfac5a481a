/*
 * The signer's DER walker and key policy (signer/der.c, signer/tbs.c) on
 * structures built by OpenSSL and on hand-made broken ones.  No token is
 * needed: this is the code that decides what the signer will sign.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "der.h"
#include "err.h"
#include "harness.h"
#include "sigproto.h"
#include "sign.h"
#include "tbs.h"

static EVP_PKEY *cakey, *leafkey;
static X509_NAME *caname, *leafname;
static uint8_t *cert_tbs, *crl_tbs, *cri_tbs;
static int cert_len, crl_len, cri_len;
static uint8_t *caname_der, *leafname_der, *leafspki, *caspki;
static int caname_len, leafname_len, leafspki_len, caspki_len;

static X509_NAME *
make_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
				   (const unsigned char *)"DE", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	return n;
}

static void
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

/*
 * OpenSSL writes the inner signature algorithm only when it signs, so
 * each structure is signed with a software key and its TBS kept.
 */
static int
suite_init(void)
{
	X509 *x = X509_new();
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *rev = X509_REVOKED_new();
	X509_REQ *req = X509_REQ_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	ASN1_TIME *t = ASN1_TIME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509V3_CTX ctx;

	cakey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	leafkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	caname = make_name("TBS Test CA");
	leafname = make_name("leaf");
	if (cakey == NULL || leafkey == NULL)
		return -1;
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567);
	X509_set_issuer_name(x, caname);
	X509_set_subject_name(x, leafname);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, leafkey);
	add_ext(x, NID_basic_constraints, "critical,CA:FALSE");
	add_ext(x, NID_subject_key_identifier, "hash");
	add_ext(x, NID_subject_alt_name, "DNS:leaf.example");
	X509_sign(x, cakey, EVP_sha256());
	cert_len = i2d_re_X509_tbs(x, &cert_tbs);

	X509_CRL_set_version(crl, X509_CRL_VERSION_2);
	X509_CRL_set_issuer_name(crl, caname);
	X509_gmtime_adj(t, 0);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 3600);
	X509_CRL_set1_nextUpdate(crl, t);
	ASN1_INTEGER_set(serial, 42);
	X509_REVOKED_set_serialNumber(rev, serial);
	X509_REVOKED_set_revocationDate(rev, t);
	X509_CRL_add0_revoked(crl, rev);
	X509_CRL_add1_ext_i2d(crl, NID_crl_number, serial, 0, 0);
	X509_CRL_sign(crl, cakey, EVP_sha256());
	crl_len = i2d_re_X509_CRL_tbs(crl, &crl_tbs);

	X509_REQ_set_version(req, X509_REQ_VERSION_1);
	X509_REQ_set_subject_name(req, leafname);
	X509_REQ_set_pubkey(req, leafkey);
	X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, &ctx,
							 NID_subject_alt_name,
							 "DNS:leaf.example"));
	X509_REQ_add_extensions(req, exts);
	cri_len = i2d_re_X509_REQ_tbs(req, &cri_tbs);

	caname_len = i2d_X509_NAME(caname, &caname_der);
	leafname_len = i2d_X509_NAME(leafname, &leafname_der);
	leafspki_len = i2d_PUBKEY(leafkey, &leafspki);
	caspki_len = i2d_PUBKEY(cakey, &caspki);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(serial);
	X509_REQ_free(req);
	X509_CRL_free(crl);
	X509_free(x);
	return (cert_len > 0 && crl_len > 0 && cri_len > 0) ? 0 : -1;
}

static int
suite_clean(void)
{
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(leafkey);
	X509_NAME_free(caname);
	X509_NAME_free(leafname);
	OPENSSL_free(cert_tbs);
	OPENSSL_free(crl_tbs);
	OPENSSL_free(cri_tbs);
	OPENSSL_free(caname_der);
	OPENSSL_free(leafname_der);
	OPENSSL_free(leafspki);
	OPENSSL_free(caspki);
	return 0;
}

static struct tbs_key
ca_key(void)
{
	struct tbs_key k = {
		SIGNER_KEY_EC_P256, SIGNER_USAGE_CA, caname_der,
		(size_t)caname_len, caspki,	     (size_t)caspki_len};

	return k;
}

static struct tbs_key
leaf_key(uint8_t usage)
{
	struct tbs_key k = {SIGNER_KEY_EC_P256,
			    usage,
			    usage == SIGNER_USAGE_CA ? leafname_der : NULL,
			    usage == SIGNER_USAGE_CA ? (size_t)leafname_len : 0,
			    leafspki,
			    (size_t)leafspki_len};

	return k;
}

static void
test_valid(void)
{
	struct tbs_info t;
	struct tbs_key k = ca_key();
	int alg = 0;

	CU_ASSERT_FATAL(tbs_parse(SIGNER_SIGN_TBSCERT, cert_tbs,
				  (size_t)cert_len, &t) == 0);
	CU_ASSERT(t.alg == TBS_ALG_ECDSA_SHA256);
	CU_ASSERT(t.issuerlen == (size_t)caname_len &&
		  memcmp(t.issuer, caname_der, t.issuerlen) == 0);
	CU_ASSERT(t.subjectlen == (size_t)leafname_len &&
		  memcmp(t.subject, leafname_der, t.subjectlen) == 0);
	CU_ASSERT(t.spkilen == (size_t)leafspki_len &&
		  memcmp(t.spki, leafspki, t.spkilen) == 0);
	CU_ASSERT(tbs_policy(&t, &k, 0, &alg) == 0);
	CU_ASSERT(alg == TBS_ALG_ECDSA_SHA256);

	CU_ASSERT_FATAL(tbs_parse(SIGNER_SIGN_TBSCRL, crl_tbs, (size_t)crl_len,
				  &t) == 0);
	CU_ASSERT(t.alg == TBS_ALG_ECDSA_SHA256);
	CU_ASSERT(t.issuerlen == (size_t)caname_len &&
		  memcmp(t.issuer, caname_der, t.issuerlen) == 0);
	CU_ASSERT(tbs_policy(&t, &k, 0, &alg) == 0);

	CU_ASSERT_FATAL(
		tbs_parse(SIGNER_SIGN_CRI, cri_tbs, (size_t)cri_len, &t) == 0);
	CU_ASSERT(t.alg == TBS_ALG_NONE);
	CU_ASSERT(t.subjectlen == (size_t)leafname_len &&
		  memcmp(t.subject, leafname_der, t.subjectlen) == 0);
	CU_ASSERT(t.spkilen == (size_t)leafspki_len &&
		  memcmp(t.spki, leafspki, t.spkilen) == 0);
}

/* Every proper prefix of a valid structure is refused. */
static void
test_truncated(void)
{
	const struct {
		uint8_t kind;
		const uint8_t *p;
		int len;
	} all[] = {{SIGNER_SIGN_TBSCERT, cert_tbs, cert_len},
		   {SIGNER_SIGN_TBSCRL, crl_tbs, crl_len},
		   {SIGNER_SIGN_CRI, cri_tbs, cri_len}};
	struct tbs_info t;
	size_t i;
	int n, bad = 0;

	for (i = 0; i < 3; i++)
		for (n = 0; n < all[i].len; n++)
			if (tbs_parse(all[i].kind, all[i].p, (size_t)n, &t) !=
			    EST_E_BADASN1)
				bad++;
	CU_ASSERT(bad == 0);
}

static void
test_trailing(void)
{
	uint8_t *p = malloc((size_t)cert_len + 2);
	struct tbs_info t;

	memcpy(p, cert_tbs, (size_t)cert_len);
	p[cert_len] = 0x05;
	p[cert_len + 1] = 0x00; /* a whole NULL element after it */
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, p, (size_t)cert_len + 2, &t) ==
		  EST_E_BADASN1);
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, p, (size_t)cert_len + 1, &t) ==
		  EST_E_BADASN1);
	/* The right structure under the wrong kind. */
	CU_ASSERT(tbs_parse(SIGNER_SIGN_CRI, cert_tbs, (size_t)cert_len, &t) ==
		  EST_E_BADASN1);
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCRL, cert_tbs, (size_t)cert_len,
			    &t) == EST_E_BADASN1);
	CU_ASSERT(tbs_parse(9, cert_tbs, (size_t)cert_len, &t) == EST_E_INVAL);
	free(p);
}

static void
test_policy(void)
{
	struct tbs_key k = ca_key(), other = leaf_key(SIGNER_USAGE_OTHER),
		       leafca = leaf_key(SIGNER_USAGE_CA);
	struct tbs_info t;
	int alg = 0;

	CU_ASSERT_FATAL(tbs_parse(SIGNER_SIGN_TBSCERT, cert_tbs,
				  (size_t)cert_len, &t) == 0);
	/* Wrong issuer: a CA key whose subject is another name. */
	CU_ASSERT(tbs_policy(&t, &leafca, 0, &alg) == EST_E_POLICY);
	/* A key of usage other never signs certificates. */
	CU_ASSERT(tbs_policy(&t, &other, 0, &alg) == EST_E_POLICY);
	/* An RSA key with an ECDSA algorithm, and the other way round. */
	k.keytype = SIGNER_KEY_RSA_2048;
	CU_ASSERT(tbs_policy(&t, &k, 0, &alg) == EST_E_BADALG);
	k.keytype = SIGNER_KEY_EC_P256;
	t.alg = TBS_ALG_RSA_SHA256;
	CU_ASSERT(tbs_policy(&t, &k, 0, &alg) == EST_E_BADALG);
	t.alg = TBS_ALG_UNKNOWN;
	CU_ASSERT(tbs_policy(&t, &k, 0, &alg) == EST_E_BADALG);
	t.alg = TBS_ALG_ECDSA_SHA256;
	/* A certificate names its own digest. */
	CU_ASSERT(tbs_policy(&t, &k, SIGNER_DIGEST_SHA256, &alg) ==
		  EST_E_POLICY);
	CU_ASSERT(tbs_policy(&t, &k, 4, &alg) == EST_E_INVAL);

	CU_ASSERT_FATAL(
		tbs_parse(SIGNER_SIGN_CRI, cri_tbs, (size_t)cri_len, &t) == 0);
	CU_ASSERT(tbs_policy(&t, &other, SIGNER_DIGEST_SHA384, &alg) == 0);
	CU_ASSERT(alg == TBS_ALG_ECDSA_SHA384);
	CU_ASSERT(tbs_policy(&t, &other, SIGNER_DIGEST_NONE, &alg) ==
		  EST_E_POLICY);
	/* A CA key signs a request only with its own subject ... */
	CU_ASSERT(tbs_policy(&t, &leafca, SIGNER_DIGEST_SHA256, &alg) == 0);
	CU_ASSERT(tbs_policy(&t, &k, SIGNER_DIGEST_SHA256, &alg) ==
		  EST_E_POLICY);
	/* ... and any key only for its own public key. */
	other.spki = caspki;
	other.spkilen = (size_t)caspki_len;
	CU_ASSERT(tbs_policy(&t, &other, SIGNER_DIGEST_SHA256, &alg) ==
		  EST_E_POLICY);
	other.keytype = SIGNER_KEY_RSA_3072;
	other.spki = leafspki;
	other.spkilen = (size_t)leafspki_len;
	CU_ASSERT(tbs_policy(&t, &other, SIGNER_DIGEST_SHA512, &alg) == 0);
	CU_ASSERT(alg == TBS_ALG_RSA_SHA512);
}

/* Replaces the algorithm OID of the certificate's signature field. */
static void
test_algorithms(void)
{
	static const uint8_t ecdsa256[] = {0x2a, 0x86, 0x48, 0xce,
					   0x3d, 0x04, 0x03, 0x02};
	uint8_t *p = malloc((size_t)cert_len), *o;
	struct tbs_info t;

	memcpy(p, cert_tbs, (size_t)cert_len);
	o = memmem(p, (size_t)cert_len, ecdsa256, sizeof(ecdsa256));
	CU_ASSERT_FATAL(o != NULL);
	o[7] = 0x03; /* ecdsa-with-SHA384 */
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, p, (size_t)cert_len, &t) ==
			  0 &&
		  t.alg == TBS_ALG_ECDSA_SHA384);
	o[7] = 0x01; /* ecdsa-with-SHA224: not ours */
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, p, (size_t)cert_len, &t) ==
			  0 &&
		  t.alg == TBS_ALG_UNKNOWN);
	free(p);
}

/* A hand-made TBSCertificate whose lengths the tests below break. */
static const uint8_t handmade[] =
	{
		0x30, 0x51,		      /* TBSCertificate */
		0xa0, 0x03, 0x02, 0x01, 0x02, /* [0] v3 */
		0x02, 0x01, 0x01,	      /* serial 1 */
		0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
		0x04, 0x03, 0x02, /* ecdsa-with-SHA256 */
		0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55,
		0x04, 0x03, 0x0c, 0x01, 0x41, /* issuer CN=A */
		0x30, 0x1e,		      /* validity */
		0x17, 0x0d, '2',  '5',	'0',  '1',  '0',  '1',	'0',
		'0',  '0',  '0',  '0',	'0',  'Z',  0x17, 0x0d, '2',
		'6',  '0',  '1',  '0',	'1',  '0',  '0',  '0',	'0',
		'0',  '0',  'Z',  0x30, 0x00, /* empty subject */
		0x30, 0x0b, 0x30, 0x06, 0x06, 0x04, 0x2a, 0x03, 0x04,
		0x05, 0x03, 0x01, 0x00, /* a dummy key */
};

static void
test_handmade(void)
{
	uint8_t p[sizeof(handmade) + 4];
	struct tbs_info t;

	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, handmade, sizeof(handmade),
			    &t) == 0);
	CU_ASSERT(t.alg == TBS_ALG_ECDSA_SHA256 && t.issuerlen == 14);
	/* Indefinite length on the outer SEQUENCE, with its end octets. */
	memcpy(p, handmade, sizeof(handmade));
	p[1] = 0x80;
	p[sizeof(handmade)] = 0;
	p[sizeof(handmade) + 1] = 0;
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, p, sizeof(handmade) + 2, &t) ==
		  EST_E_BADASN1);
	/* The validity claims more than its parent holds. */
	memcpy(p, handmade, sizeof(handmade));
	p[37] = 0x7f;
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, p, sizeof(handmade), &t) ==
		  EST_E_BADASN1);
	/* An issuer RDN whose length overflows into the next field. */
	memcpy(p, handmade, sizeof(handmade));
	p[25] = 0x0b;
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, p, sizeof(handmade), &t) ==
		  EST_E_BADASN1);
	/* A long-form length where the short form fits. */
	p[0] = 0x30;
	p[1] = 0x81;
	p[2] = 0x51;
	memcpy(p + 3, handmade + 2, sizeof(handmade) - 2);
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, p, sizeof(handmade) + 1, &t) ==
		  EST_E_BADASN1);
	/* Five length octets. */
	p[1] = 0x85;
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, p, sizeof(handmade) + 1, &t) ==
		  EST_E_BADASN1);
	/* A time that is not a time. */
	memcpy(p, handmade, sizeof(handmade));
	p[40] = 'x';
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, p, sizeof(handmade), &t) ==
		  EST_E_BADASN1);
	/* A negative serial. */
	memcpy(p, handmade, sizeof(handmade));
	p[9] = 0x81;
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, p, sizeof(handmade), &t) ==
		  EST_E_BADASN1);
	/* Version 4 does not exist. */
	memcpy(p, handmade, sizeof(handmade));
	p[6] = 0x03;
	CU_ASSERT(tbs_parse(SIGNER_SIGN_TBSCERT, p, sizeof(handmade), &t) ==
		  EST_E_BADASN1);
}

static void
test_depth(void)
{
	uint8_t p[2 * 40];
	size_t i;

	/* 40 nested SEQUENCEs, each holding the next. */
	for (i = 0; i < 40; i++) {
		p[2 * i] = 0x30;
		p[2 * i + 1] = (uint8_t)(2 * (39 - i));
	}
	CU_ASSERT(der_check_one(p, sizeof(p)) == EST_E_BADASN1);
	CU_ASSERT(der_check_one(p + 2 * 20, sizeof(p) - 2 * 20) == 0);
}

static void
test_subject(void)
{
	static const uint8_t empty_set[] = {0x30, 0x02, 0x31, 0x00};
	static const uint8_t no_rdn[] = {0x30, 0x00};
	uint8_t *p = malloc((size_t)caname_len + 1);

	CU_ASSERT(tbs_check_subject(caname_der, (size_t)caname_len) == 0);
	CU_ASSERT(tbs_check_subject(no_rdn, sizeof(no_rdn)) == EST_E_BADASN1);
	CU_ASSERT(tbs_check_subject(empty_set, sizeof(empty_set)) ==
		  EST_E_BADASN1);
	memcpy(p, caname_der, (size_t)caname_len);
	p[caname_len] = 0;
	CU_ASSERT(tbs_check_subject(p, (size_t)caname_len + 1) ==
		  EST_E_BADASN1);
	CU_ASSERT(tbs_check_subject(cert_tbs, (size_t)cert_len) ==
		  EST_E_BADASN1);
	free(p);
}

/* The r || s to DER conversion against OpenSSL's encoder. */
static void
test_ecdsa_der(void)
{
	uint8_t raw[64], out[80], *want = NULL;
	size_t outlen = 0;
	int cases, wantlen, bad = 0;
	ECDSA_SIG *sig;

	for (cases = 0; cases < 4; cases++) {
		memset(raw, 0x11, sizeof(raw));
		if (cases & 1)
			raw[0] = 0x80; /* needs a leading zero */
		if (cases & 2)
			memset(raw + 32, 0, 5); /* loses leading zeros */
		sig = ECDSA_SIG_new();
		ECDSA_SIG_set0(sig, BN_bin2bn(raw, 32, NULL),
			       BN_bin2bn(raw + 32, 32, NULL));
		wantlen = i2d_ECDSA_SIG(sig, &want);
		if (sign_ecdsa_der(raw, sizeof(raw), out, sizeof(out),
				   &outlen) != 0 ||
		    outlen != (size_t)wantlen || memcmp(out, want, outlen) != 0)
			bad++;
		OPENSSL_free(want);
		want = NULL;
		ECDSA_SIG_free(sig);
	}
	CU_ASSERT(bad == 0);
	CU_ASSERT(sign_ecdsa_der(raw, 63, out, sizeof(out), &outlen) != 0);
}

static CU_TestInfo tests[] = {
	{"valid TBSCertificate, TBSCertList, CRI", test_valid},
	{"every truncation refused", test_truncated},
	{"trailing bytes and wrong kinds refused", test_trailing},
	{"policy: issuer, usage, algorithm, digest, own key", test_policy},
	{"signature algorithms", test_algorithms},
	{"indefinite, overflowing and non-minimal lengths", test_handmade},
	{"nesting depth limit", test_depth},
	{"CA subject names", test_subject},
	{"ECDSA r||s to DER", test_ecdsa_der},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("tbs", suite_init, suite_clean, tests);
}
