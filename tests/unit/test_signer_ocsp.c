/*
 * OCSP responses signed by estuary-signerd (SIGNER_SIGN_OCSP) and checked
 * with OpenSSL: a CA key answers about its own certificates, a delegated
 * responder key (usage OCSP) about any, each naming only itself as
 * responder; what the policy refuses; and that the responder key's usage
 * survives a restart (read back from the token by a second signer
 * instance).  The ResponseData comes from pki/ocsp_build.c, so this also
 * proves that the signer accepts what the responder builds.  The signer
 * and the CA keys are those of test_signer.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "harness.h"
#include "ocsp.h"
#include "profile.h"
#include "signer.h"
#include "test_signer.h"
#include "x509.h"

static uint8_t ocsp_id[16];
static X509 *responder_cert;

/* A CertID of serial under issuer, in pki's form (der owned by caller). */
static void
certid(const EVP_MD *md, X509 *issuer, long serial, struct ocsp_certid *id)
{
	ASN1_INTEGER *sn = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	OCSP_CERTID *cid;
	int n;

	memset(id, 0, sizeof(*id));
	ASN1_INTEGER_set(sn, serial);
	cid = OCSP_cert_id_new(md, X509_get_subject_name(issuer),
			       X509_get0_pubkey_bitstr(issuer), sn);
	CU_ASSERT_FATAL(cid != NULL);
	n = i2d_OCSP_CERTID(cid, &der);
	CU_ASSERT_FATAL(n > 0);
	id->der = der;
	id->derlen = (size_t)n;
	OCSP_CERTID_free(cid);
	ASN1_INTEGER_free(sn);
}

/* SHA-1 of the subjectPublicKey bits of a certificate: its KeyHash. */
static void
keyhash_of(X509 *x, uint8_t out[20])
{
	const ASN1_BIT_STRING *bs = X509_get0_pubkey_bitstr(x);

	CU_ASSERT(EVP_Digest(ASN1_STRING_get0_data(bs),
			     (size_t)ASN1_STRING_length(bs), out, NULL,
			     EVP_sha1(), NULL) == 1);
}

/* A ResponseData from pki/ocsp_build.c: one answer about id. */
static uint8_t *
respdata(const uint8_t keyhash[20], const struct ocsp_certid *id, int status,
	 size_t *len)
{
	struct ocsp_single s = {id, status, 0, -1};
	time_t now = time(NULL);
	uint8_t *der = NULL;

	if (status == OCSP_CERT_REVOKED) {
		s.revoked_at = now - 3600;
		s.reason = 1; /* keyCompromise */
	}
	CU_ASSERT_FATAL(ocsp_respdata_der(keyhash, now, now + 3600, &s, 1, NULL,
					  0, &der, len) == 0);
	return der;
}

/*
 * The same ResponseData with responderID byName name: the byKey element
 * A2 16 04 14 <20 octets> (24 octets) follows the outer header.
 */
static uint8_t *
by_name(const uint8_t *rd, size_t len, X509_NAME *name, size_t *outlen)
{
	unsigned char *nd = NULL, *out, *q;
	size_t hdr = rd[1] < 0x80 ? 2 : 2 + (size_t)(rd[1] & 0x7f);
	size_t rest = len - hdr - 24, inner;
	int nlen = i2d_X509_NAME(name, &nd);

	CU_ASSERT_FATAL(nlen > 0 && rd[hdr] == 0xa2);
	inner = (size_t)ASN1_object_size(1, nlen, 1) + rest;
	out = q = malloc((size_t)ASN1_object_size(1, (int)inner, 16));
	ASN1_put_object(&q, 1, (int)inner, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	ASN1_put_object(&q, 1, nlen, 1, V_ASN1_CONTEXT_SPECIFIC);
	memcpy(q, nd, (size_t)nlen);
	q += nlen;
	memcpy(q, rd + hdr + 24, rest);
	q += rest;
	*outlen = (size_t)(q - out);
	OPENSSL_free(nd);
	return out;
}

/*
 * Signs rd with key id through x509_ocsp_sign (with cert in certs when not
 * NULL) and returns the decoded BasicOCSPResponse, or NULL and *err.
 */
static OCSP_BASICRESP *
sign_ocsp(const uint8_t id[16], int keytype, const uint8_t *rd, size_t len,
	  X509 *cert, int *err)
{
	struct sigclient *c = client();
	unsigned char *certder = NULL;
	uint8_t *basic = NULL, *resp = NULL;
	size_t basiclen = 0, resplen = 0;
	const unsigned char *p;
	OCSP_RESPONSE * or = NULL;
	OCSP_BASICRESP *bs = NULL;
	int certlen = cert != NULL ? i2d_X509(cert, &certder) : 0;

	*err = x509_ocsp_sign(c, id, keytype, rd, len, certder, (size_t)certlen,
			      &basic, &basiclen);
	if (*err == 0) {
		atomic_fetch_add(&nsigned, 1);
		CU_ASSERT(ocsp_response_der(OCSP_ST_SUCCESSFUL, basic, basiclen,
					    &resp, &resplen) == 0);
		p = resp;
		or = d2i_OCSP_RESPONSE(NULL, &p, (long)resplen);
		CU_ASSERT(or != NULL && p == resp + resplen);
		CU_ASSERT(or
			  != NULL && OCSP_response_status(or) ==
					     OCSP_RESPONSE_STATUS_SUCCESSFUL);
		if (or != NULL)
			bs = OCSP_response_get1_basic(or);
		CU_ASSERT(bs != NULL);
	}
	OCSP_RESPONSE_free(or);
	free(resp);
	free(basic);
	OPENSSL_free(certder);
	sigclient_free(c);
	return bs;
}

/* OCSP_basic_verify against root_cert as the one trust anchor. */
static int
verify(OCSP_BASICRESP *bs, X509 *signer)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *certs = sk_X509_new_null();
	int ok;

	X509_STORE_add_cert(store, root_cert);
	if (signer != NULL)
		sk_X509_push(certs, signer);
	ok = OCSP_basic_verify(bs, certs, store, 0);
	sk_X509_free(certs);
	X509_STORE_free(store);
	return ok;
}

/* The status OpenSSL finds in bs for serial under issuer. */
static int
status_of(OCSP_BASICRESP *bs, const EVP_MD *md, X509 *issuer, long serial,
	  int *reason)
{
	ASN1_INTEGER *sn = ASN1_INTEGER_new();
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	OCSP_CERTID *cid;
	int status = -1;

	ASN1_INTEGER_set(sn, serial);
	cid = OCSP_cert_id_new(md, X509_get_subject_name(issuer),
			       X509_get0_pubkey_bitstr(issuer), sn);
	if (OCSP_resp_find_status(bs, cid, &status, reason, &rev, &thisupd,
				  &nextupd) != 1)
		status = -1;
	else if (OCSP_check_validity(thisupd, nextupd, 300, -1) != 1)
		status = -2;
	OCSP_CERTID_free(cid);
	ASN1_INTEGER_free(sn);
	return status;
}

static void
make_responder(void)
{
	X509_NAME *name = make_name("Test OCSP Responder");
	struct sigclient *c = client();
	uint8_t *sub = NULL, *spki = NULL, id[16];
	size_t spkilen = 0;
	int sublen = name_der(name, &sub), err;
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	EVP_PKEY *key;
	X509 *x;

	CU_ASSERT_FATAL(sigclient_genkey(c, "ocsp-test", SIGNER_KEY_EC_P256,
					 SIGNER_USAGE_OCSP, sub, (size_t)sublen,
					 ocsp_id, &spki, &spkilen) == 0);
	/* A responder key needs the subject it will be certified with. */
	CU_ASSERT(sigclient_genkey(c, "ocsp-nosubject", SIGNER_KEY_EC_P256,
				   SIGNER_USAGE_OCSP, NULL, 0, id, &spki,
				   &spkilen) == EST_E_BADASN1);
	key = spki_key(spki, spkilen);
	CU_ASSERT_FATAL(key != NULL);
	x = make_tbs(name, root_name, key, 0, NID_ecdsa_with_SHA256, 40);
	X509V3_set_ctx(&ctx, root_cert, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, "OCSPSigning");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_id_pkix_OCSP_noCheck,
				  "ignored");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	responder_cert = sign_cert(x, root_id, NID_ecdsa_with_SHA256, &err);
	CU_ASSERT_FATAL(err == 0 && responder_cert != NULL);
	X509_free(x);
	EVP_PKEY_free(key);
	free(spki);
	OPENSSL_free(sub);
	X509_NAME_free(name);
	sigclient_free(c);
}

/* The CA key answers about a certificate it issued. */
static void
ca_signed(void)
{
	struct ocsp_certid id1, id256;
	uint8_t kh[20], *rd, *rd2;
	size_t len, len2;
	OCSP_BASICRESP *bs;
	int err, reason = -1;

	keyhash_of(root_cert, kh);
	certid(EVP_sha1(), root_cert, 2, &id1);
	rd = respdata(kh, &id1, OCSP_CERT_GOOD, &len);
	bs = sign_ocsp(root_id, SIGNER_KEY_EC_P256, rd, len, NULL, &err);
	CU_ASSERT(err == 0 && bs != NULL);
	CU_ASSERT(bs != NULL && verify(bs, root_cert) == 1);
	CU_ASSERT(bs != NULL && status_of(bs, EVP_sha1(), root_cert, 2,
					  &reason) == V_OCSP_CERTSTATUS_GOOD);
	OCSP_BASICRESP_free(bs);
	/* A SHA-256 CertID, a revoked answer, responderID byName. */
	certid(EVP_sha256(), root_cert, 3, &id256);
	free(rd);
	rd = respdata(kh, &id256, OCSP_CERT_REVOKED, &len);
	rd2 = by_name(rd, len, root_name, &len2);
	bs = sign_ocsp(root_id, SIGNER_KEY_EC_P256, rd2, len2, NULL, &err);
	CU_ASSERT(err == 0 && bs != NULL);
	CU_ASSERT(bs != NULL && verify(bs, root_cert) == 1);
	CU_ASSERT(bs != NULL &&
		  status_of(bs, EVP_sha256(), root_cert, 3, &reason) ==
			  V_OCSP_CERTSTATUS_REVOKED);
	CU_ASSERT(reason == OCSP_REVOKED_STATUS_KEYCOMPROMISE);
	OCSP_BASICRESP_free(bs);
	free(rd2);
	free(rd);
	OPENSSL_free(id1.der);
	OPENSSL_free(id256.der);
}

/* The delegated responder answers with its certificate in certs. */
static void
delegated(void)
{
	struct ocsp_certid id, foreign;
	uint8_t kh[20], *rd;
	size_t len;
	OCSP_BASICRESP *bs;
	int err, reason = -1;

	keyhash_of(responder_cert, kh);
	certid(EVP_sha1(), root_cert, 2, &id);
	rd = respdata(kh, &id, OCSP_CERT_GOOD, &len);
	bs = sign_ocsp(ocsp_id, SIGNER_KEY_EC_P256, rd, len, responder_cert,
		       &err);
	CU_ASSERT(err == 0 && bs != NULL);
	/* Found in the response's own certs; EKU and issuer checked. */
	CU_ASSERT(bs != NULL && verify(bs, NULL) == 1);
	CU_ASSERT(bs != NULL && status_of(bs, EVP_sha1(), root_cert, 2,
					  &reason) == V_OCSP_CERTSTATUS_GOOD);
	OCSP_BASICRESP_free(bs);
	free(rd);
	/* The signer leaves the issuer to the certificate: any is signed. */
	certid(EVP_sha1(), issuing_cert, 5, &foreign);
	rd = respdata(kh, &foreign, OCSP_CERT_UNKNOWN, &len);
	CU_ASSERT(sign_raw(ocsp_id, SIGNER_SIGN_OCSP, 0, rd, len) == 0);
	free(rd);
	OPENSSL_free(id.der);
	OPENSSL_free(foreign.der);
}

static void
refusals(void)
{
	struct ocsp_certid own, foreign;
	X509_NAME *other = make_name("Someone Else");
	uint8_t rootkh[20], ocspkh[20], *rd, *rd2;
	size_t len, len2;
	uint8_t *tbs = NULL;
	EVP_PKEY *key = pubkey_of(root_id);
	X509_REQ *req;
	X509 *x;
	int n;

	keyhash_of(root_cert, rootkh);
	keyhash_of(responder_cert, ocspkh);
	certid(EVP_sha1(), root_cert, 2, &own);
	certid(EVP_sha256(), issuing_cert, 2, &foreign);
	/* A CA key does not answer about another issuer's certificate. */
	rd = respdata(rootkh, &foreign, OCSP_CERT_GOOD, &len);
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_OCSP, 0, rd, len) ==
		  EST_E_POLICY);
	free(rd);
	/* Nor does it sign in another responder's name, by key or name. */
	rd = respdata(ocspkh, &own, OCSP_CERT_GOOD, &len);
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_OCSP, 0, rd, len) ==
		  EST_E_POLICY);
	rd2 = by_name(rd, len, other, &len2);
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_OCSP, 0, rd2, len2) ==
		  EST_E_POLICY);
	free(rd2);
	/* The responder key does not speak in the CA's name either. */
	rd2 = by_name(rd, len, root_name, &len2);
	CU_ASSERT(sign_raw(ocsp_id, SIGNER_SIGN_OCSP, 0, rd2, len2) ==
		  EST_E_POLICY);
	free(rd2);
	free(rd);
	rd = respdata(rootkh, &own, OCSP_CERT_GOOD, &len);
	CU_ASSERT(sign_raw(ocsp_id, SIGNER_SIGN_OCSP, 0, rd, len) ==
		  EST_E_POLICY);
	/* The signer chooses the digest; a key of usage other never signs. */
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_OCSP, SIGNER_DIGEST_SHA256, rd,
			   len) == EST_E_POLICY);
	CU_ASSERT(sign_raw(csr_id, SIGNER_SIGN_OCSP, 0, rd, len) ==
		  EST_E_POLICY);
	/* Cut short, or with a byte more: not one ResponseData. */
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_OCSP, 0, rd, len - 1) ==
		  EST_E_BADASN1);
	rd2 = malloc(len + 1);
	memcpy(rd2, rd, len);
	rd2[len] = 0;
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_OCSP, 0, rd2, len + 1) ==
		  EST_E_BADASN1);
	free(rd2);
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_OCSP, 0, rd, len) == 0);
	free(rd);
	/* A responder key signs neither certificates nor requests. */
	x = make_tbs(other, other, key, 0, NID_ecdsa_with_SHA256, 41);
	n = i2d_re_X509_tbs(x, &tbs);
	CU_ASSERT(sign_raw(ocsp_id, SIGNER_SIGN_TBSCERT, 0, tbs, (size_t)n) ==
		  EST_E_POLICY);
	OPENSSL_free(tbs);
	tbs = NULL;
	req = X509_REQ_new();
	X509_REQ_set_version(req, X509_REQ_VERSION_1);
	X509_REQ_set_subject_name(req, X509_get_subject_name(responder_cert));
	X509_REQ_set_pubkey(req, X509_get0_pubkey(responder_cert));
	n = i2d_re_X509_REQ_tbs(req, &tbs);
	CU_ASSERT(n > 0 &&
		  sign_raw(ocsp_id, SIGNER_SIGN_CRI, SIGNER_DIGEST_SHA256, tbs,
			   (size_t)n) == EST_E_POLICY);
	OPENSSL_free(tbs);
	X509_REQ_free(req);
	X509_free(x);
	EVP_PKEY_free(key);
	X509_NAME_free(other);
	OPENSSL_free(own.der);
	OPENSSL_free(foreign.der);
}

/* The usages as another signer reads them from the token. */
static void
usage_from_token(void)
{
	struct profile *prof = NULL;
	struct signer *s = NULL;
	const struct key **list = NULL;
	char path[600], err[256], *pin = NULL;
	size_t n = 0, pinlen = 0, i, found = 0;

	snprintf(path, sizeof(path), "%s/hsm-profiles/softhsm2.conf", SRCDIR);
	CU_ASSERT_FATAL(profile_load(path, &prof, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/pin", dir);
	CU_ASSERT_FATAL(profile_override(prof, "estuary-test", path) == 0);
	CU_ASSERT_FATAL(profile_read_pin(prof, &pin, &pinlen) == 0);
	CU_ASSERT_FATAL(signer_open(prof, pin, pinlen, NULL, &s) == 0);
	CU_ASSERT_FATAL(keys_scan(s->keys, s->p11->login_session, &list, &n) ==
			0);
	for (i = 0; i < n; i++) {
		if (memcmp(list[i]->id, ocsp_id, 16) == 0) {
			found++;
			CU_ASSERT(list[i]->usage == SIGNER_USAGE_OCSP);
			CU_ASSERT(strcmp(list[i]->label, "ocsp-test") == 0);
		}
		if (memcmp(list[i]->id, root_id, 16) == 0) {
			found++;
			CU_ASSERT(list[i]->usage == SIGNER_USAGE_CA);
		}
		if (memcmp(list[i]->id, csr_id, 16) == 0) {
			found++;
			CU_ASSERT(list[i]->usage == SIGNER_USAGE_OTHER);
		}
	}
	CU_ASSERT(found == 3);
	free(list);
	signer_close(s);
	profile_free(prof);
}

static void
listed_and_journaled(void)
{
	struct sigclient *c = client();
	struct signer_keyinfo *k = NULL;
	char path[300], line[512];
	size_t n = 0, i;
	int found = 0, lines = 0;
	FILE *fp;

	CU_ASSERT_FATAL(sigclient_listkeys(c, &k, &n) == 0);
	for (i = 0; i < n; i++)
		if (memcmp(k[i].id, ocsp_id, 16) == 0)
			found = k[i].usage == SIGNER_USAGE_OCSP;
	CU_ASSERT(found);
	free(k);
	sigclient_free(c);
	snprintf(path, sizeof(path), "%s/journal", dir);
	CU_ASSERT_FATAL((fp = fopen(path, "r")) != NULL);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, " ocsp ") != NULL)
			lines++;
	fclose(fp);
	/* Five responses were signed above. */
	CU_ASSERT(lines == 5);
}

void
test_ocsp(void)
{
	make_responder();
	ca_signed();
	delegated();
	refusals();
	usage_from_token();
	listed_and_journaled();
	X509_free(responder_cert);
	responder_cert = NULL;
}
