/*
 * Certificates, CRLs, certification requests and device keys made through
 * estuary-signerd and checked with OpenSSL: a chain that X509_verify_cert
 * accepts (what `openssl verify` does), the key policies, and wrapped
 * device keys exported as PKCS#8 and PKCS#12.  The signer is started by
 * test_signer.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "harness.h"
#include "test_signer.h"
#include "util.h"

X509_NAME *
make_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
				   (const unsigned char *)"Estuary Test", -1,
				   -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	return n;
}

int
name_der(X509_NAME *n, uint8_t **der)
{
	*der = NULL;
	return i2d_X509_NAME(n, der);
}

EVP_PKEY *
spki_key(const uint8_t *spki, size_t len)
{
	const unsigned char *p = spki;

	return d2i_PUBKEY(NULL, &p, (long)len);
}

/* Wraps tbs || AlgorithmIdentifier(nid) || BIT STRING(sig) in a SEQUENCE. */
static uint8_t *
assemble(const uint8_t *tbs, size_t tbslen, int nid, const uint8_t *sig,
	 size_t siglen, size_t *outlen)
{
	X509_ALGOR *alg = X509_ALGOR_new();
	uint8_t *algder = NULL, *out, *p;
	size_t body, bitlen = siglen + 1;
	int alglen;

	X509_ALGOR_set0(alg, OBJ_nid2obj(nid),
			nid == NID_ecdsa_with_SHA256 ||
					nid == NID_ecdsa_with_SHA384
				? V_ASN1_UNDEF
				: V_ASN1_NULL,
			NULL);
	alglen = i2d_X509_ALGOR(alg, &algder);
	X509_ALGOR_free(alg);
	body = tbslen + (size_t)alglen + 4 + bitlen;
	out = p = malloc(body + 4);
	*p++ = 0x30;
	*p++ = 0x82;
	*p++ = (uint8_t)(body >> 8);
	*p++ = (uint8_t)body;
	memcpy(p, tbs, tbslen);
	p += tbslen;
	memcpy(p, algder, (size_t)alglen);
	p += alglen;
	*p++ = 0x03;
	*p++ = 0x82;
	*p++ = (uint8_t)(bitlen >> 8);
	*p++ = (uint8_t)bitlen;
	*p++ = 0;
	memcpy(p, sig, siglen);
	p += siglen;
	OPENSSL_free(algder);
	*outlen = (size_t)(p - out);
	return out;
}

static void
set_tbs_alg(X509 *x, int nid)
{
	X509_ALGOR *a = (X509_ALGOR *)(uintptr_t)X509_get0_tbs_sigalg(x);

	X509_ALGOR_set0(a, OBJ_nid2obj(nid),
			nid == NID_ecdsa_with_SHA256 ||
					nid == NID_ecdsa_with_SHA384
				? V_ASN1_UNDEF
				: V_ASN1_NULL,
			NULL);
}

/* A certificate body: subject, issuer, key and CA flag. */
X509 *
make_tbs(X509_NAME *subject, X509_NAME *issuer, EVP_PKEY *key, int ca, int nid,
	 long serial)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_set_issuer_name(x, issuer);
	X509_set_subject_name(x, subject);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
				  ca ? "critical,CA:TRUE"
				     : "critical,CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage,
				  ca ? "critical,keyCertSign,cRLSign"
				     : "critical,digitalSignature");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	set_tbs_alg(x, nid);
	return x;
}

/* Signs x's TBS through the signer; returns the finished certificate. */
X509 *
sign_cert(X509 *x, const uint8_t id[16], int nid, int *err)
{
	struct sigclient *c = client();
	uint8_t *tbs = NULL, *sig = NULL, *der;
	size_t siglen = 0, derlen;
	const unsigned char *p;
	X509 *out = NULL;
	int tbslen;

	tbslen = i2d_re_X509_tbs(x, &tbs);
	*err = sigclient_sign(c, id, SIGNER_SIGN_TBSCERT, SIGNER_DIGEST_NONE,
			      tbs, (size_t)tbslen, &sig, &siglen);
	if (*err == 0) {
		atomic_fetch_add(&nsigned, 1);
		der = assemble(tbs, (size_t)tbslen, nid, sig, siglen, &derlen);
		p = der;
		out = d2i_X509(NULL, &p, (long)derlen);
		free(der);
	}
	OPENSSL_free(tbs);
	free(sig);
	sigclient_free(c);
	return out;
}

EVP_PKEY *
pubkey_of(const uint8_t id[16])
{
	struct sigclient *c = client();
	uint8_t *spki = NULL;
	size_t len = 0;
	EVP_PKEY *k = NULL;

	if (sigclient_pubkey(c, id, &spki, &len) == 0)
		k = spki_key(spki, len);
	free(spki);
	sigclient_free(c);
	return k;
}

void
test_cert_chain(void)
{
	EVP_PKEY *rootkey = pubkey_of(root_id), *isskey = pubkey_of(issuing_id);
	EVP_PKEY *leafkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_NAME *leafname = make_name("device-0001");
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *tbs, *leaf;
	int err;

	CU_ASSERT_FATAL(rootkey != NULL && isskey != NULL && leafkey != NULL);
	tbs = make_tbs(root_name, root_name, rootkey, 1, NID_ecdsa_with_SHA256,
		       1);
	root_cert = sign_cert(tbs, root_id, NID_ecdsa_with_SHA256, &err);
	X509_free(tbs);
	CU_ASSERT_FATAL(err == 0 && root_cert != NULL);
	CU_ASSERT(X509_verify(root_cert, rootkey) == 1);
	tbs = make_tbs(issuing_name, root_name, isskey, 1,
		       NID_ecdsa_with_SHA256, 2);
	issuing_cert = sign_cert(tbs, root_id, NID_ecdsa_with_SHA256, &err);
	X509_free(tbs);
	CU_ASSERT_FATAL(err == 0 && issuing_cert != NULL);
	CU_ASSERT(X509_verify(issuing_cert, rootkey) == 1);
	tbs = make_tbs(leafname, issuing_name, leafkey, 0,
		       NID_ecdsa_with_SHA384, 3);
	leaf = sign_cert(tbs, issuing_id, NID_ecdsa_with_SHA384, &err);
	X509_free(tbs);
	CU_ASSERT_FATAL(err == 0 && leaf != NULL);
	CU_ASSERT(X509_verify(leaf, isskey) == 1);
	/* What `openssl verify -CAfile root -untrusted issuing leaf` does. */
	X509_STORE_add_cert(store, root_cert);
	sk_X509_push(chain, issuing_cert);
	CU_ASSERT(X509_STORE_CTX_init(ctx, store, leaf, chain) == 1);
	CU_ASSERT(X509_verify_cert(ctx) == 1);
	CU_ASSERT(X509_STORE_CTX_get_error(ctx) == X509_V_OK);
	X509_STORE_CTX_free(ctx);
	sk_X509_free(chain);
	X509_STORE_free(store);
	X509_free(leaf);
	X509_NAME_free(leafname);
	EVP_PKEY_free(leafkey);
	EVP_PKEY_free(rootkey);
	EVP_PKEY_free(isskey);
}

void
test_rsa_root(void)
{
	EVP_PKEY *key = pubkey_of(rsaroot_id);
	X509 *tbs, *cert;
	int err;

	CU_ASSERT_FATAL(key != NULL);
	tbs = make_tbs(rsaroot_name, rsaroot_name, key, 1,
		       NID_sha384WithRSAEncryption, 7);
	cert = sign_cert(tbs, rsaroot_id, NID_sha384WithRSAEncryption, &err);
	CU_ASSERT(err == 0 && cert != NULL);
	CU_ASSERT(cert != NULL && X509_verify(cert, key) == 1);
	X509_free(cert);
	X509_free(tbs);
	EVP_PKEY_free(key);
}

void
test_crl(void)
{
	X509_CRL *crl = X509_CRL_new(), *out;
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	ASN1_TIME *t = ASN1_TIME_new();
	EVP_PKEY *key = pubkey_of(issuing_id);
	EVP_PKEY *tmp = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	struct sigclient *c = client();
	uint8_t *tbs = NULL, *sig = NULL, *der;
	const unsigned char *p;
	size_t siglen = 0, derlen;
	int tbslen;

	X509_CRL_set_version(crl, X509_CRL_VERSION_2);
	X509_CRL_set_issuer_name(crl, issuing_name);
	X509_gmtime_adj(t, 0);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 86400);
	X509_CRL_set1_nextUpdate(crl, t);
	ASN1_INTEGER_set(serial, 3);
	X509_REVOKED_set_serialNumber(rev, serial);
	X509_gmtime_adj(t, 0);
	X509_REVOKED_set_revocationDate(rev, t);
	X509_CRL_add0_revoked(crl, rev);
	X509_CRL_sort(crl);
	/*
	 * OpenSSL sets a CRL's inner algorithm only when it signs; sign with
	 * a throwaway key of the right type and keep just the TBS.
	 */
	X509_CRL_sign(crl, tmp, EVP_sha384());
	tbslen = i2d_re_X509_CRL_tbs(crl, &tbs);
	CU_ASSERT_FATAL(tbslen > 0);
	CU_ASSERT(sigclient_sign(c, issuing_id, SIGNER_SIGN_TBSCRL,
				 SIGNER_DIGEST_NONE, tbs, (size_t)tbslen, &sig,
				 &siglen) == 0);
	CU_ASSERT_FATAL(sig != NULL);
	atomic_fetch_add(&nsigned, 1);
	der = assemble(tbs, (size_t)tbslen, NID_ecdsa_with_SHA384, sig, siglen,
		       &derlen);
	p = der;
	out = d2i_X509_CRL(NULL, &p, (long)derlen);
	CU_ASSERT(out != NULL && X509_CRL_verify(out, key) == 1);
	/* The root key must not sign the issuing CA's CRL. */
	free(sig);
	sig = NULL;
	CU_ASSERT(sigclient_sign(c, root_id, SIGNER_SIGN_TBSCRL,
				 SIGNER_DIGEST_NONE, tbs, (size_t)tbslen, &sig,
				 &siglen) == EST_E_POLICY);
	X509_CRL_free(out);
	free(der);
	free(sig);
	OPENSSL_free(tbs);
	sigclient_free(c);
	EVP_PKEY_free(key);
	EVP_PKEY_free(tmp);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(serial);
	X509_CRL_free(crl);
}

/* Signs a request for key through the signer; 0 or the signer's error. */
static int
sign_csr(const uint8_t id[16], X509_NAME *subject, EVP_PKEY *key, int nid,
	 uint8_t digest, X509_REQ **out)
{
	struct sigclient *c = client();
	X509_REQ *req = X509_REQ_new();
	uint8_t *tbs = NULL, *sig = NULL, *der;
	const unsigned char *p;
	size_t siglen = 0, derlen;
	int tbslen, r;

	X509_REQ_set_version(req, X509_REQ_VERSION_1);
	X509_REQ_set_subject_name(req, subject);
	X509_REQ_set_pubkey(req, key);
	tbslen = i2d_re_X509_REQ_tbs(req, &tbs);
	r = sigclient_sign(c, id, SIGNER_SIGN_CRI, digest, tbs, (size_t)tbslen,
			   &sig, &siglen);
	if (r == 0) {
		atomic_fetch_add(&nsigned, 1);
		der = assemble(tbs, (size_t)tbslen, nid, sig, siglen, &derlen);
		p = der;
		*out = d2i_X509_REQ(NULL, &p, (long)derlen);
		free(der);
	}
	X509_REQ_free(req);
	OPENSSL_free(tbs);
	free(sig);
	sigclient_free(c);
	return r;
}

void
test_csr(void)
{
	EVP_PKEY *ec = pubkey_of(csr_id), *rsa = pubkey_of(rsa4096_id),
		 *iss = pubkey_of(issuing_id);
	X509_NAME *subj = make_name("device-csr");
	X509_REQ *req = NULL;

	CU_ASSERT_FATAL(ec != NULL && rsa != NULL && iss != NULL);
	CU_ASSERT(sign_csr(csr_id, subj, ec, NID_ecdsa_with_SHA256,
			   SIGNER_DIGEST_SHA256, &req) == 0);
	CU_ASSERT(req != NULL && X509_REQ_verify(req, ec) == 1);
	X509_REQ_free(req);
	req = NULL;
	CU_ASSERT(sign_csr(rsa4096_id, subj, rsa, NID_sha512WithRSAEncryption,
			   SIGNER_DIGEST_SHA512, &req) == 0);
	CU_ASSERT(req != NULL && X509_REQ_verify(req, rsa) == 1);
	X509_REQ_free(req);
	req = NULL;
	/* A CA key signs a request for its own name (cross-signing). */
	CU_ASSERT(sign_csr(issuing_id, issuing_name, iss, NID_ecdsa_with_SHA384,
			   SIGNER_DIGEST_SHA384, &req) == 0);
	CU_ASSERT(req != NULL && X509_REQ_verify(req, iss) == 1);
	X509_REQ_free(req);
	req = NULL;
	/* ... but not one with another subject. */
	CU_ASSERT(sign_csr(issuing_id, subj, iss, NID_ecdsa_with_SHA384,
			   SIGNER_DIGEST_SHA384, &req) == EST_E_POLICY);
	/* A key signs requests only for its own public key. */
	CU_ASSERT(sign_csr(csr_id, subj, rsa, NID_ecdsa_with_SHA256,
			   SIGNER_DIGEST_SHA256, &req) == EST_E_POLICY);
	/* A request names no digest of its own: the client must. */
	CU_ASSERT(sign_csr(csr_id, subj, ec, NID_ecdsa_with_SHA256,
			   SIGNER_DIGEST_NONE, &req) == EST_E_POLICY);
	CU_ASSERT(req == NULL);
	X509_NAME_free(subj);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(iss);
}

int
sign_raw(const uint8_t id[16], uint8_t kind, uint8_t digest,
	 const uint8_t *data, size_t len)
{
	struct sigclient *c = client();
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r;

	r = sigclient_sign(c, id, kind, digest, data, len, &sig, &siglen);
	if (r == 0)
		atomic_fetch_add(&nsigned, 1);
	free(sig);
	sigclient_free(c);
	return r;
}

void
test_policy(void)
{
	EVP_PKEY *key = pubkey_of(root_id);
	X509_NAME *other = make_name("Someone Else");
	uint8_t *tbs = NULL, *tbs2;
	uint8_t unknown[16];
	X509 *x;
	int len;

	CU_ASSERT_FATAL(key != NULL);
	/* Wrong issuer. */
	x = make_tbs(other, other, key, 0, NID_ecdsa_with_SHA256, 9);
	len = i2d_re_X509_tbs(x, &tbs);
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_TBSCERT, 0, tbs, (size_t)len) ==
		  EST_E_POLICY);
	X509_free(x);
	OPENSSL_free(tbs);
	tbs = NULL;
	/* An RSA algorithm for an EC key. */
	x = make_tbs(other, root_name, key, 0, NID_sha256WithRSAEncryption, 10);
	len = i2d_re_X509_tbs(x, &tbs);
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_TBSCERT, 0, tbs, (size_t)len) ==
		  EST_E_BADALG);
	X509_free(x);
	OPENSSL_free(tbs);
	tbs = NULL;
	/* A right TBS: with a digest byte, with a trailing byte, by an
	 * "other" key, by an unknown key. */
	x = make_tbs(other, root_name, key, 0, NID_ecdsa_with_SHA256, 11);
	len = i2d_re_X509_tbs(x, &tbs);
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_TBSCERT, 1, tbs, (size_t)len) ==
		  EST_E_POLICY);
	tbs2 = malloc((size_t)len + 1);
	memcpy(tbs2, tbs, (size_t)len);
	tbs2[len] = 0;
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_TBSCERT, 0, tbs2,
			   (size_t)len + 1) == EST_E_BADASN1);
	CU_ASSERT(sign_raw(csr_id, SIGNER_SIGN_TBSCERT, 0, tbs, (size_t)len) ==
		  EST_E_POLICY);
	memset(unknown, 7, sizeof(unknown));
	CU_ASSERT(sign_raw(unknown, SIGNER_SIGN_TBSCERT, 0, tbs, (size_t)len) ==
		  EST_E_NOTFOUND);
	/* The same bytes as a CRL body do not parse. */
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_TBSCRL, 0, tbs, (size_t)len) ==
		  EST_E_BADASN1);
	CU_ASSERT(sign_raw(root_id, 9, 0, tbs, (size_t)len) == EST_E_INVAL);
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_TBSCERT, 0, tbs, (size_t)len) ==
		  0);
	/* Bare garbage. */
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_TBSCERT, 0,
			   (const uint8_t *)"hello, world",
			   12) == EST_E_BADASN1);
	CU_ASSERT(sign_raw(root_id, SIGNER_SIGN_TBSCERT, 0, NULL, 0) ==
		  EST_E_BADASN1);
	free(tbs2);
	X509_free(x);
	OPENSSL_free(tbs);
	X509_NAME_free(other);
	EVP_PKEY_free(key);
}

/* --- wrapped device keys --------------------------------------------- */

void
test_wrapped(void)
{
	struct sigclient *c = client();
	uint8_t *w = NULL, *spki = NULL, *out = NULL, *pub = NULL,
		*certder = NULL;
	size_t wlen = 0, spkilen = 0, outlen = 0;
	const uint8_t *chain[2];
	size_t chainlen[2];
	const unsigned char *p;
	PKCS8_PRIV_KEY_INFO *p8;
	EVP_PKEY *pk = NULL, *pk2 = NULL, *devpub;
	X509_NAME *n = make_name("device-wrapped");
	X509 *tbs, *cert, *cert2 = NULL;
	STACK_OF(X509) *ca = NULL;
	const X509_ALGOR *macalg = NULL;
	const ASN1_OBJECT *obj;
	PKCS12 *p12;
	int publen, certlen, err;

	CU_ASSERT_FATAL(sigclient_gen_wrapped(c, SIGNER_KEY_EC_P256, &w, &wlen,
					      &spki, &spkilen) == 0);
	CU_ASSERT(wlen > 30 && wlen <= SIGNER_WRAPPED_MAX && w[0] == 1 &&
		  w[1] == SIGNER_KEY_EC_P256);
	/* PKCS#8: parses and is the key of the returned public key. */
	CU_ASSERT_FATAL(sigclient_export_wrapped(
				c, w, wlen, SIGNER_EXPORT_PKCS8, NULL, NULL, 0,
				NULL, NULL, 0, &out, &outlen) == 0);
	p = out;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)outlen);
	CU_ASSERT_FATAL(p8 != NULL && p == out + outlen);
	pk = EVP_PKCS82PKEY(p8);
	PKCS8_PRIV_KEY_INFO_free(p8);
	CU_ASSERT_FATAL(pk != NULL);
	publen = i2d_PUBKEY(pk, &pub);
	CU_ASSERT((size_t)publen == spkilen && memcmp(pub, spki, spkilen) == 0);
	freezero(out, outlen);
	out = NULL;
	/* PKCS#12 with a certificate for it and the chain. */
	devpub = spki_key(spki, spkilen);
	tbs = make_tbs(n, issuing_name, devpub, 0, NID_ecdsa_with_SHA384, 20);
	cert = sign_cert(tbs, issuing_id, NID_ecdsa_with_SHA384, &err);
	CU_ASSERT_FATAL(cert != NULL);
	certlen = i2d_X509(cert, &certder);
	chain[0] = NULL;
	chainlen[0] = (size_t)i2d_X509(issuing_cert, (uint8_t **)&chain[0]);
	chain[1] = NULL;
	chainlen[1] = (size_t)i2d_X509(root_cert, (uint8_t **)&chain[1]);
	CU_ASSERT_FATAL(sigclient_export_wrapped(
				c, w, wlen, SIGNER_EXPORT_PKCS12,
				"correct horse", certder, (size_t)certlen,
				chain, chainlen, 2, &out, &outlen) == 0);
	p = out;
	p12 = d2i_PKCS12(NULL, &p, (long)outlen);
	CU_ASSERT_FATAL(p12 != NULL);
	CU_ASSERT(PKCS12_verify_mac(p12, "wrong horse", -1) == 0);
	CU_ASSERT(PKCS12_parse(p12, "wrong horse", &pk2, &cert2, &ca) == 0);
	CU_ASSERT(PKCS12_parse(p12, "correct horse", &pk2, &cert2, &ca) == 1);
	CU_ASSERT(pk2 != NULL && EVP_PKEY_eq(pk2, pk) == 1);
	CU_ASSERT(cert2 != NULL && X509_cmp(cert2, cert) == 0);
	CU_ASSERT(ca != NULL && sk_X509_num(ca) == 2);
	PKCS12_get0_mac(NULL, &macalg, NULL, NULL, p12);
	X509_ALGOR_get0(&obj, NULL, NULL, macalg);
	CU_ASSERT(OBJ_obj2nid(obj) == NID_sha256);
	PKCS12_free(p12);
	freezero(out, outlen);
	out = NULL;
	/* Refusals: a short passphrase, a certificate of another key, a
	 * PKCS#8 with a passphrase, a changed byte anywhere. */
	CU_ASSERT(sigclient_export_wrapped(c, w, wlen, SIGNER_EXPORT_PKCS12,
					   "short", NULL, 0, NULL, NULL, 0,
					   &out, &outlen) == EST_E_INVAL);
	CU_ASSERT(sigclient_export_wrapped(c, w, wlen, SIGNER_EXPORT_PKCS12,
					   "correct horse", chain[0],
					   chainlen[0], NULL, NULL, 0, &out,
					   &outlen) == EST_E_INVAL);
	CU_ASSERT(sigclient_export_wrapped(c, w, wlen, SIGNER_EXPORT_PKCS8,
					   "correct horse", NULL, 0, NULL, NULL,
					   0, &out, &outlen) == EST_E_INVAL);
	w[wlen / 2] ^= 0x01;
	CU_ASSERT(sigclient_export_wrapped(c, w, wlen, SIGNER_EXPORT_PKCS8,
					   NULL, NULL, 0, NULL, NULL, 0, &out,
					   &outlen) == EST_E_CRYPTO);
	w[wlen / 2] ^= 0x01;
	w[1] = SIGNER_KEY_EC_P384; /* the header is authenticated too */
	CU_ASSERT(sigclient_export_wrapped(c, w, wlen, SIGNER_EXPORT_PKCS8,
					   NULL, NULL, 0, NULL, NULL, 0, &out,
					   &outlen) == EST_E_CRYPTO);
	CU_ASSERT(out == NULL);
	free(w);
	free(spki);
	w = spki = NULL;
	/* An RSA device key too. */
	CU_ASSERT(sigclient_gen_wrapped(c, SIGNER_KEY_RSA_2048, &w, &wlen,
					&spki, &spkilen) == 0);
	CU_ASSERT(sigclient_export_wrapped(c, w, wlen, SIGNER_EXPORT_PKCS8,
					   NULL, NULL, 0, NULL, NULL, 0, &out,
					   &outlen) == 0);
	freezero(out, outlen);
	sk_X509_pop_free(ca, X509_free);
	X509_free(cert2);
	EVP_PKEY_free(pk2);
	OPENSSL_free((void *)(uintptr_t)chain[0]);
	OPENSSL_free((void *)(uintptr_t)chain[1]);
	OPENSSL_free(certder);
	X509_free(cert);
	X509_free(tbs);
	EVP_PKEY_free(devpub);
	X509_NAME_free(n);
	OPENSSL_free(pub);
	EVP_PKEY_free(pk);
	free(w);
	free(spki);
	sigclient_free(c);
}
