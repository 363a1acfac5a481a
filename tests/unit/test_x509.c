/*
 * lib/x509 and lib/passwd without a signer: DN parsing, key type names,
 * serials, CA certificates built from a DER SubjectPublicKeyInfo (signed
 * here with a software key, as the signer would sign them), PEM/DER, and
 * argon2id hashes.  Signing through the signer is covered by
 * tests/integration/test_ctl.sh against a real one.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "harness.h"
#include "passwd.h"
#include "util.h"
#include "x509.h"

/* ----- helpers ----- */

/* The value of the i-th entry of a name (in encoding order), borrowed. */
static const char *
entry_value(X509_NAME *n, int i, int *type)
{
	ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));

	if (type != NULL)
		*type = ASN1_STRING_type(s);
	return (const char *)ASN1_STRING_get0_data(s);
}

static int
entry_nid(X509_NAME *n, int i)
{
	return OBJ_obj2nid(
		X509_NAME_ENTRY_get_object(X509_NAME_get_entry(n, i)));
}

static int
entry_set(X509_NAME *n, int i)
{
	return X509_NAME_ENTRY_set(X509_NAME_get_entry(n, i));
}

/* Parses text and prints it back; NULL when parsing fails. */
static char *
roundtrip(const char *text)
{
	X509_NAME *n = NULL;
	char *s = NULL;

	if (x509_name_parse(text, &n) == 0 && x509_name_text(n, &s) != 0)
		s = NULL;
	X509_NAME_free(n);
	return s;
}

/* ----- names ----- */

static void
test_name_order_and_types(void)
{
	X509_NAME *n = NULL, *ref;
	uint8_t *der = NULL, *refder = NULL;
	size_t len = 0;
	int type, reflen;

	CU_ASSERT_FATAL(
		x509_name_parse("CN=Estuary Root CA,O=Estuary,C=CH", &n) == 0);
	CU_ASSERT_EQUAL(X509_NAME_entry_count(n), 3);
	/* The leftmost RDN is the most specific: encoded last. */
	CU_ASSERT_EQUAL(entry_nid(n, 0), NID_countryName);
	CU_ASSERT_STRING_EQUAL(entry_value(n, 0, &type), "CH");
	CU_ASSERT_EQUAL(type, V_ASN1_PRINTABLESTRING);
	CU_ASSERT_EQUAL(entry_nid(n, 1), NID_organizationName);
	CU_ASSERT_EQUAL(entry_nid(n, 2), NID_commonName);
	CU_ASSERT_STRING_EQUAL(entry_value(n, 2, &type), "Estuary Root CA");
	CU_ASSERT_EQUAL(type, V_ASN1_UTF8STRING);

	/* The same name made the OpenSSL way encodes to the same DER. */
	ref = X509_NAME_new();
	X509_NAME_add_entry_by_NID(ref, NID_countryName, V_ASN1_PRINTABLESTRING,
				   (const unsigned char *)"CH", -1, -1, 0);
	X509_NAME_add_entry_by_NID(ref, NID_organizationName, V_ASN1_UTF8STRING,
				   (const unsigned char *)"Estuary", -1, -1, 0);
	X509_NAME_add_entry_by_NID(ref, NID_commonName, V_ASN1_UTF8STRING,
				   (const unsigned char *)"Estuary Root CA", -1,
				   -1, 0);
	CU_ASSERT_FATAL(x509_name_der(n, &der, &len) == 0);
	reflen = i2d_X509_NAME(ref, &refder);
	CU_ASSERT_EQUAL((int)len, reflen);
	CU_ASSERT(reflen > 0 && memcmp(der, refder, len) == 0);
	free(der);
	OPENSSL_free(refder);
	X509_NAME_free(ref);
	X509_NAME_free(n);
}

static void
test_name_escapes(void)
{
	X509_NAME *n = NULL;

	CU_ASSERT_FATAL(x509_name_parse("CN=a\\,b\\+c\\\\d\\\"e,O=x", &n) == 0);
	CU_ASSERT_EQUAL(X509_NAME_entry_count(n), 2);
	CU_ASSERT_STRING_EQUAL(entry_value(n, 1, NULL), "a,b+c\\d\"e");
	X509_NAME_free(n);
	n = NULL;

	/* Hex escapes make UTF-8; escaped spaces at the ends are kept. */
	CU_ASSERT_FATAL(x509_name_parse("CN=\\C3\\A9t\\C3\\A9\\ ", &n) == 0);
	CU_ASSERT_STRING_EQUAL(entry_value(n, 0, NULL), "\xc3\xa9t\xc3\xa9 ");
	X509_NAME_free(n);
	n = NULL;

	/* Unescaped spaces around names, '=' and ',' are dropped. */
	CU_ASSERT_FATAL(x509_name_parse(" CN = a b , O = c ", &n) == 0);
	CU_ASSERT_STRING_EQUAL(entry_value(n, 1, NULL), "a b");
	CU_ASSERT_STRING_EQUAL(entry_value(n, 0, NULL), "c");
	X509_NAME_free(n);
	n = NULL;

	/* Attribute names are case-insensitive; long names work. */
	CU_ASSERT_FATAL(x509_name_parse("commonName=x,o=y,c=DE", &n) == 0);
	CU_ASSERT_EQUAL(entry_nid(n, 0), NID_countryName);
	CU_ASSERT_EQUAL(entry_nid(n, 2), NID_commonName);
	X509_NAME_free(n);
}

static void
test_name_multivalued_rdn(void)
{
	X509_NAME *n = NULL;

	CU_ASSERT_FATAL(x509_name_parse("CN=dev1+serialNumber=42,O=Acme", &n) ==
			0);
	CU_ASSERT_EQUAL(X509_NAME_entry_count(n), 3);
	/* O is its own RDN, CN and serialNumber share the next one. */
	CU_ASSERT_EQUAL(entry_nid(n, 0), NID_organizationName);
	CU_ASSERT_NOT_EQUAL(entry_set(n, 0), entry_set(n, 1));
	CU_ASSERT_EQUAL(entry_set(n, 1), entry_set(n, 2));
	X509_NAME_free(n);
}

static void
test_name_utf8_and_string_types(void)
{
	X509_NAME *n = NULL;
	int type;

	CU_ASSERT_FATAL(x509_name_parse("CN=Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba"
					"\xac,emailAddress=ops@example.org,"
					"DC=example,serialNumber=A-1",
					&n) == 0);
	CU_ASSERT_EQUAL(entry_nid(n, 0), NID_serialNumber);
	entry_value(n, 0, &type);
	CU_ASSERT_EQUAL(type, V_ASN1_PRINTABLESTRING);
	entry_value(n, 1, &type);
	CU_ASSERT_EQUAL(type, V_ASN1_IA5STRING);
	entry_value(n, 2, &type);
	CU_ASSERT_EQUAL(type, V_ASN1_IA5STRING);
	CU_ASSERT_STRING_EQUAL(entry_value(n, 3, &type),
			       "Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac");
	CU_ASSERT_EQUAL(type, V_ASN1_UTF8STRING);
	X509_NAME_free(n);
}

static void
test_name_bad(void)
{
	static const char *const bad[] = {
		"",			   /* no attribute at all */
		"CN",			   /* no '=' */
		"CN=",			   /* empty value */
		"CN=  ",		   /* only spaces */
		"XX=a",			   /* unknown attribute */
		"1.2.3=a",		   /* OIDs are not names */
		"CN=a,",		   /* empty RDN at the end */
		",CN=a",		   /* empty RDN at the start */
		"CN=a,,O=b",		   /* empty RDN in the middle */
		"CN=a+",		   /* empty attribute in an RDN */
		"C=CHE",		   /* country codes have two letters */
		"C=ch",			   /* ... in capitals */
		"CN=a\\",		   /* dangling escape */
		"CN=a\\q",		   /* escape of an ordinary character */
		"CN=a\\4",		   /* half a hex escape */
		"CN=#0403616263",	   /* BER values */
		"CN=a\\00b",		   /* NUL byte */
		"CN=\\C3",		   /* truncated UTF-8 */
		"CN=\xff",		   /* invalid UTF-8 */
		"CN=\xc0\xaf",		   /* overlong UTF-8 */
		"CN=\xed\xa0\x80",	   /* surrogate */
		"CN=a\x01",		   /* control character */
		"CN=a\\0Ab",		   /* escaped control character */
		"CN=a;O=b",		   /* ';' is not a separator here */
		"CN=a\"b",		   /* unescaped quote */
		"CN=a<b",		   /* unescaped '<' */
		"emailAddress=\xc3\xa9@x", /* IA5String is ASCII */
		"serialNumber=a_b",	   /* '_' is not PrintableString */
		"CN=a=b=c,O",		   /* second RDN without value */
	};
	X509_NAME *n;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = NULL;
		CU_ASSERT_EQUAL(x509_name_parse(bad[i], &n), EST_E_INVAL);
		CU_ASSERT_PTR_NULL(n);
		if (n != NULL)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		X509_NAME_free(n);
	}
}

static void
test_name_limits(void)
{
	char text[X509_NAME_TEXT_MAX + 16];
	X509_NAME *n = NULL;

	/* ub-common-name is 64 characters, not bytes. */
	memset(text, 0, sizeof(text));
	memcpy(text, "CN=", 3);
	memset(text + 3, 'a', 64);
	CU_ASSERT(x509_name_parse(text, &n) == 0);
	X509_NAME_free(n);
	n = NULL;
	text[3 + 64] = 'a';
	CU_ASSERT_EQUAL(x509_name_parse(text, &n), EST_E_INVAL);
	memset(text, 0, sizeof(text));
	memcpy(text, "CN=", 3);
	memset(text + 3, 0, 64 * 2);
	for (int i = 0; i < 64; i++)
		memcpy(text + 3 + 2 * i, "\xc3\xa9", 2);
	CU_ASSERT(x509_name_parse(text, &n) == 0);
	X509_NAME_free(n);
	n = NULL;

	/* Overlong text is refused before it is read. */
	memset(text, 'a', sizeof(text) - 1);
	memcpy(text, "CN=", 3);
	text[sizeof(text) - 1] = '\0';
	CU_ASSERT_EQUAL(x509_name_parse(text, &n), EST_E_INVAL);
}

static void
test_name_text_roundtrip(void)
{
	static const char *const names[] = {
		"CN=Estuary Root CA,O=Estuary,C=CH",
		"CN=a\\,b,OU=x\\+y,O=q\\\"r",
		"CN=dev1+serialNumber=42,O=Acme",
		"CN=Z\xc3\xbcrich,L=Gen\xc3\xa8ve,ST=GE,C=CH",
		"CN=a\\; b\\<c\\>",
		"CN=\\ lead and trail\\ ",
		"emailAddress=ops@example.org,DC=example,DC=org",
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		s = roundtrip(names[i]);
		CU_ASSERT_PTR_NOT_NULL(s);
		if (s != NULL && strcmp(s, names[i]) != 0)
			fprintf(stderr, "%s -> %s\n", names[i], s);
		CU_ASSERT(s != NULL && strcmp(s, names[i]) == 0);
		free(s);
	}
}

/* ----- key types, serials ----- */

static void
test_keytype_names(void)
{
	static const char *const names[] = {"ec-p256", "ec-p384", "rsa-2048",
					    "rsa-3072", "rsa-4096"};
	size_t i;
	int kt;

	for (i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL_FATAL(x509_keytype_parse(names[i], &kt), 0);
		CU_ASSERT_EQUAL(kt, (int)i + SIGNER_KEY_MIN);
		CU_ASSERT_STRING_EQUAL(x509_keytype_name(kt), names[i]);
	}
	kt = -7;
	CU_ASSERT_EQUAL(x509_keytype_parse("ec-p521", &kt), EST_E_INVAL);
	CU_ASSERT_EQUAL(x509_keytype_parse("EC-P256", &kt), EST_E_INVAL);
	CU_ASSERT_EQUAL(x509_keytype_parse("", &kt), EST_E_INVAL);
	CU_ASSERT_EQUAL(kt, -7);
	CU_ASSERT_PTR_NULL(x509_keytype_name(0));
	CU_ASSERT_PTR_NULL(x509_keytype_name(SIGNER_KEY_MAX + 1));
}

static void
test_serial_random(void)
{
	ASN1_INTEGER *a = NULL, *b = NULL;
	BIGNUM *bn;

	CU_ASSERT_FATAL(x509_serial_random(&a) == 0);
	CU_ASSERT_FATAL(x509_serial_random(&b) == 0);
	CU_ASSERT_EQUAL(ASN1_STRING_length(a), X509_SERIAL_LEN);
	CU_ASSERT_NOT_EQUAL(ASN1_INTEGER_cmp(a, b), 0);
	bn = ASN1_INTEGER_to_BN(a, NULL);
	CU_ASSERT(bn != NULL && !BN_is_negative(bn) &&
		  BN_num_bytes(bn) == X509_SERIAL_LEN);
	BN_free(bn);
	ASN1_INTEGER_free(a);
	ASN1_INTEGER_free(b);
}

/* ----- CA certificates from an SPKI ----- */

static EVP_PKEY *
spki_of(EVP_PKEY *key, uint8_t **der, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_PUBKEY(key, &p);

	*der = malloc((size_t)n);
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	return key;
}

static X509 *
build_ca(EVP_PKEY *key, EVP_PKEY *signkey, const char *dn, X509 *issuer,
	 int pathlen)
{
	struct x509_ca_spec spec;
	X509_NAME *name = NULL;
	uint8_t *spki = NULL;
	size_t spkilen = 0;
	X509 *x = NULL;

	CU_ASSERT_FATAL(x509_name_parse(dn, &name) == 0);
	spki_of(key, &spki, &spkilen);
	memset(&spec, 0, sizeof(spec));
	spec.subject = name;
	spec.spki = spki;
	spec.spkilen = spkilen;
	spec.days = 30;
	spec.pathlen = pathlen;
	spec.issuer = issuer;
	CU_ASSERT_FATAL(x509_ca_build(&spec, &x) == 0);
	/*
	 * A software stand-in for the signer; then decode the result, as
	 * x509_sign() does, so that the certificate has its EVP_PKEY.
	 */
	CU_ASSERT_FATAL(X509_sign(x, signkey, EVP_sha256()) > 0);
	free(spki);
	CU_ASSERT_FATAL(x509_cert_der(x, &spki, &spkilen) == 0);
	X509_free(x);
	x = NULL;
	CU_ASSERT_FATAL(x509_cert_from_der(spki, spkilen, &x) == 0);
	free(spki);
	X509_NAME_free(name);
	return x;
}

static void
test_ca_build_chain(void)
{
	EVP_PKEY *rk = EVP_EC_gen("P-256"), *ik = EVP_EC_gen("P-384");
	X509 *root, *inter, *back = NULL;
	X509_STORE *store;
	X509_STORE_CTX *ctx;
	const ASN1_OCTET_STRING *rski, *iaki_id;
	AUTHORITY_KEYID *aki;
	BASIC_CONSTRAINTS *bc;
	uint8_t *der = NULL;
	size_t len = 0;
	int kt, crit;

	CU_ASSERT_FATAL(rk != NULL && ik != NULL);
	root = build_ca(rk, rk, "CN=Test Root,O=Estuary,C=CH", NULL, -1);
	inter = build_ca(ik, rk, "CN=Test Issuing,O=Estuary,C=CH", root, 0);

	CU_ASSERT_EQUAL(X509_verify(root, rk), 1);
	CU_ASSERT_EQUAL(X509_verify(inter, rk), 1);
	CU_ASSERT_EQUAL(X509_check_issued(root, inter), X509_V_OK);
	CU_ASSERT(X509_check_ca(root) >= 1);
	CU_ASSERT(X509_check_ca(inter) >= 1);
	CU_ASSERT_EQUAL(X509_get_version(inter), X509_VERSION_3);
	CU_ASSERT_EQUAL(X509_get_key_usage(inter),
			(uint32_t)(KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN |
				   KU_CRL_SIGN));

	/* Critical basicConstraints with the path length asked for. */
	bc = X509_get_ext_d2i(inter, NID_basic_constraints, &crit, NULL);
	CU_ASSERT_FATAL(bc != NULL);
	CU_ASSERT_EQUAL(crit, 1);
	CU_ASSERT(bc->ca != 0);
	CU_ASSERT(bc->pathlen != NULL && ASN1_INTEGER_get(bc->pathlen) == 0);
	BASIC_CONSTRAINTS_free(bc);
	bc = X509_get_ext_d2i(root, NID_basic_constraints, &crit, NULL);
	CU_ASSERT(bc != NULL && bc->pathlen == NULL);
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(
		X509_get_ext_d2i(inter, NID_key_usage, &crit, NULL));
	CU_ASSERT_EQUAL(crit, 1);

	/* The intermediate's AKI is the root's SKI. */
	rski = X509_get0_subject_key_id(root);
	iaki_id = X509_get0_authority_key_id(inter);
	CU_ASSERT_FATAL(rski != NULL && iaki_id != NULL);
	CU_ASSERT_EQUAL(ASN1_OCTET_STRING_cmp(rski, iaki_id), 0);
	aki = X509_get_ext_d2i(root, NID_authority_key_identifier, NULL, NULL);
	CU_ASSERT(aki != NULL && ASN1_OCTET_STRING_cmp(aki->keyid, rski) == 0);
	AUTHORITY_KEYID_free(aki);

	/* The SPKI set without decoding comes back as the same key. */
	CU_ASSERT_FATAL(x509_cert_der(inter, &der, &len) == 0);
	CU_ASSERT_FATAL(x509_cert_from_der(der, len, &back) == 0);
	CU_ASSERT_EQUAL(EVP_PKEY_eq(X509_get0_pubkey(back), ik), 1);
	CU_ASSERT_EQUAL(x509_pkey_keytype(X509_get0_pubkey(back), &kt), 0);
	CU_ASSERT_EQUAL(kt, SIGNER_KEY_EC_P384);
	CU_ASSERT_EQUAL(x509_cert_from_der(der, len - 1, &back), EST_E_BADASN1);
	free(der);

	/* And the chain verifies the way a relying party checks it. */
	store = X509_STORE_new();
	X509_STORE_add_cert(store, root);
	ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, store, inter, NULL);
	CU_ASSERT_EQUAL(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);

	X509_free(back);
	X509_free(inter);
	X509_free(root);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(rk);
}

static void
test_ca_build_refuses(void)
{
	struct x509_ca_spec spec;
	X509_NAME *name = NULL;
	uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	X509 *x = NULL;

	CU_ASSERT_FATAL(x509_name_parse("CN=x", &name) == 0);
	memset(&spec, 0, sizeof(spec));
	spec.subject = name;
	spec.spki = junk;
	spec.spkilen = sizeof(junk);
	spec.days = 10;
	spec.pathlen = -1;
	CU_ASSERT_EQUAL(x509_ca_build(&spec, &x), EST_E_BADASN1);
	spec.days = 0;
	CU_ASSERT_EQUAL(x509_ca_build(&spec, &x), EST_E_INVAL);
	spec.days = X509_DAYS_MAX + 1;
	CU_ASSERT_EQUAL(x509_ca_build(&spec, &x), EST_E_INVAL);
	CU_ASSERT_PTR_NULL(x);
	X509_NAME_free(name);
}

static void
test_rsa_keytype_and_pem(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	X509 *x, *y = NULL;
	uint8_t *der = NULL, *der2 = NULL, *spki = NULL;
	size_t len = 0, len2 = 0, spkilen = 0;
	char *pem = NULL;
	size_t pemlen = 0;
	EVP_PKEY *pk = NULL;
	int kt = 0;

	CU_ASSERT_FATAL(k != NULL);
	x = build_ca(k, k, "CN=RSA Root", NULL, 1);
	CU_ASSERT_EQUAL(X509_verify(x, k), 1);
	spki_of(k, &spki, &spkilen);
	CU_ASSERT_FATAL(x509_spki_to_pkey(spki, spkilen, &pk) == 0);
	CU_ASSERT_EQUAL(x509_pkey_keytype(pk, &kt), 0);
	CU_ASSERT_EQUAL(kt, SIGNER_KEY_RSA_2048);
	CU_ASSERT_EQUAL(x509_spki_to_pkey(spki, spkilen - 1, &pk),
			EST_E_BADASN1);

	CU_ASSERT_FATAL(x509_cert_der(x, &der, &len) == 0);
	CU_ASSERT_FATAL(x509_der_to_pem(der, len, &pem, &pemlen) == 0);
	CU_ASSERT(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
	CU_ASSERT_EQUAL(strlen(pem), pemlen);
	CU_ASSERT_FATAL(x509_cert_from_pem(pem, pemlen, &y) == 0);
	CU_ASSERT_FATAL(x509_cert_der(y, &der2, &len2) == 0);
	CU_ASSERT(len == len2 && memcmp(der, der2, len) == 0);
	CU_ASSERT_EQUAL(x509_cert_from_pem("junk", 4, &y), EST_E_BADASN1);

	free(pem);
	free(der2);
	free(der);
	free(spki);
	EVP_PKEY_free(pk);
	X509_free(y);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* ----- passwords ----- */

static void
test_passwd_hash_verify(void)
{
	char *h = NULL, *h2 = NULL;

	CU_ASSERT_FATAL(passwd_hash("correct horse", &h) == 0);
	CU_ASSERT(strncmp(h, "$argon2id$v=19$m=65536,t=3,p=1$", 31) == 0);
	CU_ASSERT_EQUAL(passwd_verify("correct horse", h), 0);
	CU_ASSERT_EQUAL(passwd_verify("correct hors", h), EST_E_DENIED);
	CU_ASSERT_EQUAL(passwd_verify("Correct horse", h), EST_E_DENIED);
	CU_ASSERT_EQUAL(passwd_needs_rehash(h), 0);
	/* A fresh salt each time: the same password, another string. */
	CU_ASSERT_FATAL(passwd_hash("correct horse", &h2) == 0);
	CU_ASSERT(strcmp(h, h2) != 0);
	free(h2);
	free(h);
}

static void
test_passwd_params_recorded(void)
{
	struct passwd_params weak = {.m_kib = 1024, .t_cost = 1, .lanes = 1};
	struct passwd_params big = {
		.m_kib = PASSWD_M_KIB_MAX + 1, .t_cost = 1, .lanes = 1};
	char *h = NULL;

	CU_ASSERT_FATAL(passwd_hash_params("pw", &weak, &h) == 0);
	CU_ASSERT(strncmp(h, "$argon2id$v=19$m=1024,t=1,p=1$", 30) == 0);
	/* Verification reads the parameters from the string... */
	CU_ASSERT_EQUAL(passwd_verify("pw", h), 0);
	CU_ASSERT_EQUAL(passwd_verify("pw2", h), EST_E_DENIED);
	/* ...and a hash weaker than today's defaults asks to be redone. */
	CU_ASSERT_EQUAL(passwd_needs_rehash(h), 1);
	free(h);
	h = NULL;
	CU_ASSERT_EQUAL(passwd_hash_params("pw", &big, &h), EST_E_INVAL);
	CU_ASSERT_PTR_NULL(h);
}

static void
test_passwd_bad_input(void)
{
	char big[PASSWD_MAX + 2];
	char *h = NULL;

	CU_ASSERT_EQUAL(passwd_hash("", &h), EST_E_INVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(passwd_hash(big, &h), EST_E_INVAL);
	CU_ASSERT_PTR_NULL(h);

	/* Not argon2id, malformed, or asking for absurd resources. */
	CU_ASSERT_EQUAL(passwd_verify("pw", ""), EST_E_DENIED);
	CU_ASSERT_EQUAL(passwd_verify("pw", "plaintext"), EST_E_DENIED);
	CU_ASSERT_EQUAL(passwd_verify("pw", "$argon2i$v=19$m=1024,t=1,p=1$"
					    "c2FsdHNhbHRzYWx0c2FsdA$"
					    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
					    "AAAAAAAAAAA"),
			EST_E_DENIED);
	CU_ASSERT_EQUAL(passwd_verify("pw", "$argon2id$v=19$m=4194304,t=1,"
					    "p=1$c2FsdHNhbHRzYWx0c2FsdA$"
					    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
					    "AAAAAAAAAAA"),
			EST_E_DENIED);
	CU_ASSERT_EQUAL(passwd_verify("pw", "$argon2id$v=19$m=01024,t=1,p=1$"
					    "c2FsdHNhbHRzYWx0c2FsdA$AAAA"),
			EST_E_DENIED);
	CU_ASSERT_EQUAL(passwd_needs_rehash("$argon2i$v=19$m=65536,t=3,p=1$"
					    "c2FsdA$AAAA"),
			1);
	CU_ASSERT_EQUAL(passwd_needs_rehash("garbage"), 1);
	CU_ASSERT_EQUAL(passwd_needs_rehash("$argon2id$v=19$m=65536,t=4,p=1$"
					    "c2FsdA$AAAA"),
			0);
}

static void
test_passwd_generate(void)
{
	char *a = NULL, *b = NULL;
	size_t i;

	CU_ASSERT_FATAL(passwd_generate(16, &a) == 0);
	CU_ASSERT_FATAL(passwd_generate(16, &b) == 0);
	/* 16 bytes are 22 base64url characters without padding. */
	CU_ASSERT_EQUAL(strlen(a), 22);
	CU_ASSERT(strcmp(a, b) != 0);
	for (i = 0; a[i] != '\0'; i++)
		CU_ASSERT(
			strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
			       "uvwxyz0123456789-_",
			       a[i]) != NULL);
	freezero_str(a);
	freezero_str(b);
	a = NULL;
	CU_ASSERT_EQUAL(passwd_generate(15, &a), EST_E_INVAL);
	CU_ASSERT_PTR_NULL(a);
	CU_ASSERT_FATAL(passwd_generate(32, &a) == 0);
	CU_ASSERT_EQUAL(strlen(a), 43);
	freezero_str(a);
}

int
test_suites(void)
{
	static CU_TestInfo names[] = {
		{"order and string types", test_name_order_and_types},
		{"escapes and spaces", test_name_escapes},
		{"multi-valued RDN", test_name_multivalued_rdn},
		{"UTF-8 and per-attribute string types",
		 test_name_utf8_and_string_types},
		{"malformed names are refused", test_name_bad},
		{"length limits", test_name_limits},
		{"text round trip", test_name_text_roundtrip},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo certs[] = {
		{"key type names", test_keytype_names},
		{"random serials", test_serial_random},
		{"root and intermediate from SPKI", test_ca_build_chain},
		{"bad CA specs are refused", test_ca_build_refuses},
		{"RSA key type, PEM and DER", test_rsa_keytype_and_pem},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo pw[] = {
		{"hash and verify", test_passwd_hash_verify},
		{"parameters recorded in the hash",
		 test_passwd_params_recorded},
		{"bad input", test_passwd_bad_input},
		{"generated passwords", test_passwd_generate},
		CU_TEST_INFO_NULL,
	};
	int r;

	if ((r = test_add_suite("x509 names", NULL, NULL, names)) != 0 ||
	    (r = test_add_suite("x509 certificates", NULL, NULL, certs)) != 0 ||
	    (r = test_add_suite("passwd", NULL, NULL, pw)) != 0)
		return r;
	return 0;
}
