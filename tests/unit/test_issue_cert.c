/*
 * Certificates issued through pki/issue.c with the signer, the database
 * and the CAs that test_issue.c sets up: each is parsed with OpenSSL, its
 * extensions checked one by one and its chain verified.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "csr.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "harness.h"
#include "issue.h"
#include "sigclient.h"
#include "test_issue.h"
#include "tmpl.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The usual fields: CN required, O fixed, DNS SAN optional. */
static const struct ti_field dev_fields[] = {
	{0, "2.5.4.3", "CN", 0, 0, SUBJ_REQUIRED, 64, NULL},
	{0, "2.5.4.10", "O", 0, 0, SUBJ_FIXED, 64, "Estuary Devices"},
	{1, NULL, NULL, SUBJ_SAN_DNS, 0, SUBJ_OPTIONAL, 253, NULL},
};

/* The value of the first attribute nid of x's subject, or "". */
static const char *
subject_value(X509 *x, int nid, char *buf, size_t len)
{
	buf[0] = '\0';
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), nid, buf, (int)len);
	return buf;
}

static int
ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	return i < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

/* The one URI of an AIA of method nid. */
static int
aia_has(X509 *x, int nid, const char *url)
{
	AUTHORITY_INFO_ACCESS *aia =
		X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	int i, found = 0;

	for (i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

		if (OBJ_obj2nid(ad->method) == nid &&
		    ad->location->type == GEN_URI &&
		    strcmp((const char *)ASN1_STRING_get0_data(
				   ad->location->d.uniformResourceIdentifier),
			   url) == 0)
			found = 1;
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	return found;
}

/* --- tests ------------------------------------------------------------ */

static struct tmpl *
device_template(const char *name)
{
	struct tmpl *t =
		ti_template(name, ti_issuing, dev_fields, NELEM(dev_fields));

	if (t == NULL)
		return NULL;
	/* A non-critical custom extension, so that the chain verifies. */
	t->exts = calloc(1, sizeof(*t->exts));
	t->nexts = 1;
	t->exts[0].id = ti_custom_ext_id;
	return ti_store(t);
}

static void
test_ec_csr_every_extension(void)
{
	static const char *const subj[] = {
		"CN", "dev-ec-1", "O", "Other Org", "OU", "not in the template",
		NULL};
	static const char *const dns[] = {"dev-ec-1.example.com", NULL};
	struct tmpl *t = device_template("t-ec");
	EVP_PKEY *key = ti_key("P-256");
	struct csr *csr = ti_csr(key, subj, dns);
	struct issue_result *res = NULL;
	struct issue_error err = {0};
	struct db_result *row = NULL;
	const ASN1_INTEGER *sn;
	ASN1_BIT_STRING *ku;
	EXTENDED_KEY_USAGE *eku;
	BASIC_CONSTRAINTS *bc;
	GENERAL_NAMES *san;
	CRL_DIST_POINTS *dps;
	AUTHORITY_KEYID *aki;
	const ASN1_OCTET_STRING *ski;
	X509_EXTENSION *ce;
	X509 *x;
	char buf[128], url[256];
	unsigned char *pub = NULL;
	int publen, i;

	CU_ASSERT_FATAL(t != NULL && csr != NULL);
	CU_ASSERT_EQUAL_FATAL(
		ti_issue(t, ti_issuing, csr, 0, NULL, 0, 0, &res, &err), 0);
	CU_ASSERT_FATAL((x = ti_x509(res)) != NULL);
	CU_ASSERT_EQUAL(X509_get_version(x), X509_VERSION_3);
	/* 16 octets, positive, first octet 01xxxxxx. */
	sn = X509_get0_serialNumber(x);
	CU_ASSERT_EQUAL(ASN1_STRING_length(sn), 16);
	CU_ASSERT_EQUAL(ASN1_STRING_get0_data(sn)[0] & 0xc0, 0x40);
	CU_ASSERT_EQUAL(res->serial_len, 16);
	CU_ASSERT(memcmp(res->serial, ASN1_STRING_get0_data(sn), 16) == 0);
	CU_ASSERT_EQUAL(X509_NAME_cmp(X509_get_issuer_name(x),
				      X509_get_subject_name(ti_issuing_cert)),
			0);
	/* Template rules: fixed O wins, OU not in the template dropped. */
	CU_ASSERT_STRING_EQUAL(
		subject_value(x, NID_commonName, buf, sizeof(buf)), "dev-ec-1");
	CU_ASSERT_STRING_EQUAL(
		subject_value(x, NID_organizationName, buf, sizeof(buf)),
		"Estuary Devices");
	CU_ASSERT_EQUAL(X509_NAME_get_index_by_NID(X509_get_subject_name(x),
						   NID_organizationalUnitName,
						   -1),
			-1);
	/* Validity: 30 days from now. */
	CU_ASSERT_EQUAL(res->not_after - res->not_before, 30 * 86400);
	CU_ASSERT(labs((long)(res->not_before - time(NULL))) < 60);
	/* The CSR's key, as it was. */
	publen = i2d_PUBKEY(key, &pub);
	CU_ASSERT(publen == (int)csr->spkilen &&
		  memcmp(pub, csr->spki, csr->spkilen) == 0);
	CU_ASSERT_EQUAL(EVP_PKEY_eq(X509_get0_pubkey(x), key), 1);
	/* basicConstraints critical CA:FALSE. */
	CU_ASSERT_EQUAL(ext_critical(x, NID_basic_constraints), 1);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	CU_ASSERT(bc != NULL && !bc->ca && bc->pathlen == NULL);
	BASIC_CONSTRAINTS_free(bc);
	/* keyUsage critical digitalSignature, keyAgreement. */
	CU_ASSERT_EQUAL(ext_critical(x, NID_key_usage), 1);
	ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
	CU_ASSERT(ku != NULL && ASN1_BIT_STRING_get_bit(ku, 0) &&
		  ASN1_BIT_STRING_get_bit(ku, 4) &&
		  !ASN1_BIT_STRING_get_bit(ku, 2) &&
		  !ASN1_BIT_STRING_get_bit(ku, 5));
	ASN1_BIT_STRING_free(ku);
	/* extendedKeyUsage: clientAuth and the Wi-SUN OID, not critical. */
	CU_ASSERT_EQUAL(ext_critical(x, NID_ext_key_usage), 0);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	CU_ASSERT_FATAL(eku != NULL && sk_ASN1_OBJECT_num(eku) == 2);
	CU_ASSERT_EQUAL(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)),
			NID_client_auth);
	OBJ_obj2txt(buf, sizeof(buf), sk_ASN1_OBJECT_value(eku, 1), 1);
	CU_ASSERT_STRING_EQUAL(buf, TI_OID_WISUN_EKU);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	/* SKI of the key, AKI = the issuing CA's SKI. */
	ski = X509_get0_subject_key_id(x);
	CU_ASSERT(ski != NULL && ASN1_STRING_length(ski) == 20);
	aki = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
	CU_ASSERT(aki != NULL && aki->keyid != NULL &&
		  ASN1_OCTET_STRING_cmp(
			  aki->keyid,
			  X509_get0_subject_key_id(ti_issuing_cert)) == 0);
	AUTHORITY_KEYID_free(aki);
	/* SAN: the DNS name, not critical (the subject is not empty). */
	CU_ASSERT_EQUAL(ext_critical(x, NID_subject_alt_name), 0);
	san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	CU_ASSERT(san != NULL && sk_GENERAL_NAME_num(san) == 1 &&
		  sk_GENERAL_NAME_value(san, 0)->type == GEN_DNS &&
		  strcmp((const char *)ASN1_STRING_get0_data(
				 sk_GENERAL_NAME_value(san, 0)->d.dNSName),
			 "dev-ec-1.example.com") == 0);
	GENERAL_NAMES_free(san);
	/* CRL distribution point, OCSP and caIssuers of the CA. */
	dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	CU_ASSERT(dps != NULL && sk_DIST_POINT_num(dps) == 1);
	if (dps != NULL && sk_DIST_POINT_num(dps) == 1) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, 0);
		GENERAL_NAME *g =
			sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);

		CU_ASSERT(g->type == GEN_URI &&
			  strcmp((const char *)ASN1_STRING_get0_data(
					 g->d.uniformResourceIdentifier),
				 ti_issuing->crl_url) == 0);
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	CU_ASSERT(aia_has(x, NID_ad_OCSP, ti_issuing->ocsp_url));
	snprintf(url, sizeof(url), TI_BASE_URL "/pki/ca/%lld.crt",
		 (long long)ti_issuing->id);
	CU_ASSERT(aia_has(x, NID_ad_ca_issuers, url));
	/* The custom extension: its OID, criticality and value as stored. */
	for (i = 0, ce = NULL; i < X509_get_ext_count(x); i++) {
		OBJ_obj2txt(buf, sizeof(buf),
			    X509_EXTENSION_get_object(X509_get_ext(x, i)), 1);
		if (strcmp(buf, TI_OID_CUSTOM) == 0)
			ce = X509_get_ext(x, i);
	}
	CU_ASSERT_FATAL(ce != NULL);
	CU_ASSERT_EQUAL(X509_EXTENSION_get_critical(ce), 0);
	CU_ASSERT(ASN1_STRING_length(X509_EXTENSION_get_data(ce)) == 7 &&
		  memcmp(ASN1_STRING_get0_data(X509_EXTENSION_get_data(ce)),
			 "\x0c\x05hello", 7) == 0);
	/* The chain verifies; the row says what the certificate says. */
	CU_ASSERT(ti_verify(x, ti_issuing_cert));
	CU_ASSERT_EQUAL_FATAL(db_cert_get(ti_db, res->id, 0, &row), 0);
	CU_ASSERT_STRING_EQUAL(db_result_str(row, 0, DB_CERT_STATUS, NULL),
			       "active");
	CU_ASSERT_STRING_EQUAL(db_result_str(row, 0, DB_CERT_SUBJECT_CN, NULL),
			       "dev-ec-1");
	CU_ASSERT_STRING_EQUAL(db_result_str(row, 0, DB_CERT_SUBJECT, NULL),
			       "O=Estuary Devices,CN=dev-ec-1");
	CU_ASSERT_STRING_EQUAL(db_result_str(row, 0, DB_CERT_KEY_SOURCE, NULL),
			       "csr");
	CU_ASSERT_EQUAL(db_result_i64(row, 0, DB_CERT_KEY_TYPE),
			SIGNER_KEY_EC_P256);
	CU_ASSERT_EQUAL(db_result_i64(row, 0, DB_CERT_TEMPLATE_ID), t->id);
	CU_ASSERT_EQUAL(
		db_cert_time(db_result_str(row, 0, DB_CERT_NOT_AFTER, NULL)),
		res->not_after);
	CU_ASSERT(memcmp(db_result_str(row, 0, DB_CERT_FINGERPRINT, NULL),
			 res->fingerprint, 32) == 0);
	CU_ASSERT(memcmp(db_result_str(row, 0, DB_CERT_DER, NULL), res->der,
			 res->derlen) == 0);
	CU_ASSERT_EQUAL(res->wrapped, NULL);
	db_result_free(row);
	OPENSSL_free(pub);
	X509_free(x);
	issue_result_free(res);
	csr_free(csr);
	EVP_PKEY_free(key);
	tmpl_free(t);
}

static void
test_rsa_csr_and_rsa_ca(void)
{
	static const char *const subj[] = {"CN", "dev-rsa-1", NULL};
	struct tmpl *t = ti_store(ti_template("t-rsa", ti_rsa_issuing,
					      dev_fields, NELEM(dev_fields)));
	EVP_PKEY *key = ti_key("rsa");
	struct csr *csr = ti_csr(key, subj, NULL);
	struct issue_result *res = NULL;
	struct issue_error err = {0};
	X509 *x;

	CU_ASSERT_FATAL(t != NULL && csr != NULL);
	CU_ASSERT_EQUAL_FATAL(
		ti_issue(t, ti_rsa_issuing, csr, 0, NULL, 0, 0, &res, &err), 0);
	CU_ASSERT_FATAL((x = ti_x509(res)) != NULL);
	CU_ASSERT_EQUAL(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
	CU_ASSERT_EQUAL(res->keytype, SIGNER_KEY_RSA_2048);
	CU_ASSERT_EQUAL(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
	CU_ASSERT(ti_verify(x, ti_rsa_issuing_cert));
	/* The EC-issued chain does not verify it: the test can fail. */
	CU_ASSERT(!ti_verify(x, ti_issuing_cert));
	X509_free(x);
	issue_result_free(res);
	csr_free(csr);
	EVP_PKEY_free(key);
	tmpl_free(t);
}

/* A server key pair, kept wrapped; PKCS#12 from the signer. */
static void
test_keygen_kept_and_exported(void)
{
	struct tmpl *t = device_template("t-keygen");
	struct issue_user_value uv[] = {{"cn", "gen-1"}};
	struct issue_user_san us[] = {{SUBJ_SAN_DNS, NULL, "gen-1.example"}};
	struct subj_input *in = NULL;
	struct issue_result *res = NULL;
	struct issue_error err = {0};
	struct db_result *row = NULL;
	const uint8_t *chain[1];
	size_t chainlen[1], p12len = 0, wlen = 0;
	uint8_t *p12 = NULL, *w = NULL;
	const unsigned char *p;
	EVP_PKEY *pkey = NULL;
	X509 *x, *pc = NULL;
	STACK_OF(X509) *cas = NULL;
	PKCS12 *pk = NULL;
	time_t until;

	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_EQUAL_FATAL(issue_input_from_user(t, uv, 1, us, 1, &in, &err),
			      0);
	CU_ASSERT_EQUAL_FATAL(ti_issue(t, ti_issuing, NULL, SIGNER_KEY_EC_P256,
				       in, 0, 0, &res, &err),
			      0);
	CU_ASSERT_FATAL((x = ti_x509(res)) != NULL);
	CU_ASSERT(ti_verify(x, ti_issuing_cert));
	CU_ASSERT(res->wrapped != NULL && res->wrappedlen > 0);
	until = time(NULL) + 2 * 86400;
	CU_ASSERT(labs((long)(res->key_retention_until - until)) < 60);
	CU_ASSERT_EQUAL_FATAL(db_cert_get(ti_db, res->id, 0, &row), 0);
	CU_ASSERT_STRING_EQUAL(db_result_str(row, 0, DB_CERT_KEY_SOURCE, NULL),
			       "server");
	CU_ASSERT_EQUAL(db_result_i64(row, 0, DB_CERT_KEY_AVAILABLE), 1);
	CU_ASSERT(labs((long)(db_cert_time(db_result_str(
				      row, 0, DB_CERT_KEY_RETENTION_UNTIL,
				      NULL)) -
			      until)) < 60);
	db_result_free(row);
	/* The stored key is the one issued, and makes a working PKCS#12. */
	CU_ASSERT_EQUAL_FATAL(db_cert_wrapped_key(ti_db, res->id, &w, &wlen),
			      0);
	CU_ASSERT(wlen == res->wrappedlen &&
		  memcmp(w, res->wrapped, wlen) == 0);
	chain[0] = ti_issuing->cert_der;
	chainlen[0] = ti_issuing->cert_len;
	CU_ASSERT_EQUAL_FATAL(
		sigclient_export_wrapped(ti_sig, w, wlen, SIGNER_EXPORT_PKCS12,
					 "correct horse", res->der, res->derlen,
					 chain, chainlen, 1, &p12, &p12len),
		0);
	p = p12;
	CU_ASSERT_FATAL((pk = d2i_PKCS12(NULL, &p, (long)p12len)) != NULL);
	CU_ASSERT_EQUAL(PKCS12_parse(pk, "wrong horse", &pkey, &pc, &cas), 0);
	CU_ASSERT_EQUAL_FATAL(
		PKCS12_parse(pk, "correct horse", &pkey, &pc, &cas), 1);
	CU_ASSERT_EQUAL(X509_cmp(pc, x), 0);
	CU_ASSERT_EQUAL(X509_check_private_key(x, pkey), 1);
	PKCS12_free(pk);
	EVP_PKEY_free(pkey);
	X509_free(pc);
	sk_X509_pop_free(cas, X509_free);
	freezero(p12, p12len);
	freezero(w, wlen);
	X509_free(x);
	issue_result_free(res);
	subject_input_free(in);
	tmpl_free(t);
}

/* Without retention the key is handed back once and never stored. */
static void
test_keygen_not_kept(void)
{
	struct tmpl *t = ti_template("t-nokeep", ti_issuing, dev_fields,
				     NELEM(dev_fields));
	struct issue_user_value uv[] = {{"CN", "gen-2"}};
	struct subj_input *in = NULL;
	struct issue_result *res = NULL;
	struct issue_error err = {0};
	uint8_t *w = NULL;
	size_t wlen = 0;

	t->key_retention_days = -1;
	t->keygen_key_type = SIGNER_KEY_RSA_2048;
	CU_ASSERT_FATAL((t = ti_store(t)) != NULL);
	CU_ASSERT_EQUAL(t->key_retention_days, -1);
	CU_ASSERT_EQUAL_FATAL(
		issue_input_from_user(t, uv, 1, NULL, 0, &in, &err), 0);
	CU_ASSERT_EQUAL_FATAL(ti_issue(t, ti_issuing, NULL, SIGNER_KEY_RSA_2048,
				       in, 0, 0, &res, &err),
			      0);
	CU_ASSERT(res->wrapped != NULL);
	CU_ASSERT_EQUAL(res->key_retention_until, 0);
	CU_ASSERT_EQUAL(res->keytype, SIGNER_KEY_RSA_2048);
	CU_ASSERT_EQUAL(db_cert_wrapped_key(ti_db, res->id, &w, &wlen),
			EST_E_NOTFOUND);
	issue_result_free(res);
	subject_input_free(in);
	tmpl_free(t);
}

/*
 * The guide's TC-12 Wi-SUN FAN template: empty subject, a required
 * hardwareModuleName otherName in a critical SAN, the Wi-SUN EKU.
 */
static void
test_wisun_empty_subject(void)
{
	static const struct ti_field f[] = {
		{1, TI_OID_HWMODULE, NULL, SUBJ_SAN_OTHERNAME, SUBJ_ON_HWMODULE,
		 SUBJ_REQUIRED, 128, NULL},
	};
	struct tmpl *t = ti_template("t-wisun", ti_issuing, f, NELEM(f));
	/* hwType 1.3.6.1.4.1.45605.1.1, hwSerialNum 0a1b2c3d. */
	static const uint8_t hw[] = {0x30, 0x12, 0x06, 0x0a, 0x2b, 0x06, 0x01,
				     0x04, 0x01, 0x82, 0xe4, 0x25, 0x01, 0x01,
				     0x04, 0x04, 0x0a, 0x1b, 0x2c, 0x3d};
	EVP_PKEY *key = ti_key("P-256");
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *g = GENERAL_NAME_new();
	const unsigned char *p = hw;
	ASN1_TYPE *val = d2i_ASN1_TYPE(NULL, &p, sizeof(hw));
	struct issue_user_san us[] = {
		{SUBJ_SAN_OTHERNAME, TI_OID_HWMODULE,
		 "1.3.6.1.4.1.45605.1.1:0a1b2c3d"},
	};
	struct subj_input *in = NULL;
	struct issue_result *res = NULL;
	struct issue_error err = {0};
	struct csr *csr = NULL;
	unsigned char *der = NULL;
	GENERAL_NAMES *san;
	char buf[128];
	int len;
	X509 *x;

	CU_ASSERT_FATAL(val != NULL);
	t->neku = 1;
	free(t->eku[1]);
	t->eku[1] = NULL;
	free(t->eku[0]);
	t->eku[0] = strdup(TI_OID_WISUN_EKU);
	/* As docs/templates/wisun-fan.json has it. */
	t->san_critical = 1;
	t->validity_days = TMPL_VALIDITY_UNLIMITED;
	t->basic_constraints = 0;
	t->crl_dp = t->ocsp_aia = t->ca_issuers_aia = 0;
	t->key_types = CSR_KEYBIT(SIGNER_KEY_EC_P256);
	CU_ASSERT_FATAL((t = ti_store(t)) != NULL);
	GENERAL_NAME_set0_othername(g, OBJ_txt2obj(TI_OID_HWMODULE, 1), val);
	sk_GENERAL_NAME_push(gens, g);
	X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 1, 0);
	X509_REQ_add_extensions(req, exts);
	X509_REQ_set_pubkey(req, key);
	X509_REQ_sign(req, key, EVP_sha256());
	len = i2d_X509_REQ(req, &der);
	CU_ASSERT_FATAL((csr = ti_csr_der(der, (size_t)len)) != NULL);
	CU_ASSERT_EQUAL_FATAL(
		ti_issue(t, ti_issuing, csr, 0, NULL, 0, 0, &res, &err), 0);
	CU_ASSERT_FATAL((x = ti_x509(res)) != NULL);
	CU_ASSERT_EQUAL(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	CU_ASSERT_EQUAL(ext_critical(x, NID_subject_alt_name), 1);
	san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	CU_ASSERT_FATAL(san != NULL && sk_GENERAL_NAME_num(san) == 1);
	g = sk_GENERAL_NAME_value(san, 0);
	CU_ASSERT_EQUAL_FATAL(g->type, GEN_OTHERNAME);
	OBJ_obj2txt(buf, sizeof(buf), g->d.otherName->type_id, 1);
	CU_ASSERT_STRING_EQUAL(buf, TI_OID_HWMODULE);
	CU_ASSERT_EQUAL(g->d.otherName->value->type, V_ASN1_SEQUENCE);
	CU_ASSERT(ASN1_STRING_length(g->d.otherName->value->value.sequence) ==
			  (int)sizeof(hw) &&
		  memcmp(ASN1_STRING_get0_data(
				 g->d.otherName->value->value.sequence),
			 hw, sizeof(hw)) == 0);
	GENERAL_NAMES_free(san);
	CU_ASSERT(ti_verify(x, ti_issuing_cert));
	X509_free(x);
	x = NULL;
	/* The same from a server key and the value typed by a user. */
	issue_result_free(res);
	res = NULL;
	CU_ASSERT_EQUAL_FATAL(
		issue_input_from_user(t, NULL, 0, us, 1, &in, &err), 0);
	CU_ASSERT_EQUAL_FATAL(ti_issue(t, ti_issuing, NULL, SIGNER_KEY_EC_P256,
				       in, 0, 0, &res, &err),
			      0);
	CU_ASSERT_FATAL((x = ti_x509(res)) != NULL);
	CU_ASSERT(ti_verify(x, ti_issuing_cert));
	subject_input_free(in);
	/* Without the otherName there is nothing to name the device. */
	issue_result_free(res);
	res = NULL;
	csr_free(csr);
	csr = ti_csr(key, NULL, NULL);
	CU_ASSERT_EQUAL(ti_issue(t, ti_issuing, csr, 0, NULL, 0, 0, &res, &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "san[0]");
	X509_free(x);
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_REQ_free(req);
	csr_free(csr);
	EVP_PKEY_free(key);
	tmpl_free(t);
}

/* Unlimited expiration: 99991231235959Z as GeneralizedTime. */
static void
test_unlimited_validity(void)
{
	static const char *const subj[] = {"CN", "forever", NULL};
	struct tmpl *t = ti_template("t-unlimited", ti_issuing, dev_fields,
				     NELEM(dev_fields));
	EVP_PKEY *key = ti_key("P-256");
	struct csr *csr = ti_csr(key, subj, NULL);
	struct issue_result *res = NULL;
	struct issue_error err = {0};
	const ASN1_TIME *na, *nb;
	X509 *x;

	t->validity_days = TMPL_VALIDITY_UNLIMITED;
	CU_ASSERT_FATAL((t = ti_store(t)) != NULL && csr != NULL);
	CU_ASSERT_EQUAL(t->validity_days, TMPL_VALIDITY_UNLIMITED);
	/* A requested period is ignored: the template fixes it. */
	CU_ASSERT_EQUAL_FATAL(
		ti_issue(t, ti_issuing, csr, 0, NULL, 0, 5, &res, &err), 0);
	CU_ASSERT_FATAL((x = ti_x509(res)) != NULL);
	na = X509_get0_notAfter(x);
	nb = X509_get0_notBefore(x);
	CU_ASSERT_EQUAL(ASN1_STRING_type(na), V_ASN1_GENERALIZEDTIME);
	CU_ASSERT(ASN1_STRING_length(na) == 15 &&
		  memcmp(ASN1_STRING_get0_data(na), "99991231235959Z", 15) ==
			  0);
	CU_ASSERT_EQUAL(ASN1_STRING_type(nb), V_ASN1_UTCTIME);
	CU_ASSERT(ti_verify(x, ti_issuing_cert));
	X509_free(x);
	issue_result_free(res);
	csr_free(csr);
	EVP_PKEY_free(key);
	tmpl_free(t);
}

CU_TestInfo ti_issue_tests[] = {
	{"EC CSR: every extension as the template says",
	 test_ec_csr_every_extension},
	{"RSA CSR under an RSA CA", test_rsa_csr_and_rsa_ca},
	{"server key kept wrapped, exported as PKCS#12",
	 test_keygen_kept_and_exported},
	{"server key without retention is not stored", test_keygen_not_kept},
	{"Wi-SUN: empty subject, critical otherName SAN",
	 test_wisun_empty_subject},
	{"unlimited expiration", test_unlimited_validity},
	CU_TEST_INFO_NULL,
};
