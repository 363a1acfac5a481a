/*
 * pki/ocsp without the database: OCSPRequest parsing (the limits, the
 * hash algorithms, serials, nonces, signed requests, garbage), the
 * ResponseData and OCSPResponse encoders read back with OpenSSL and with
 * the signer's own strict parser, and the error-to-status map.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "harness.h"
#include "ocsp.h"
#include "sigproto.h"
#include "tbs.h"

static EVP_PKEY *ca_key;
static X509 *ca_cert;

static int
suite_init(void)
{
	X509_NAME *n;

	if ((ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (ca_cert = X509_new()) == NULL)
		return -1;
	n = X509_get_subject_name(ca_cert);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)"OCSP Test CA", -1,
				   -1, 0);
	X509_set_issuer_name(ca_cert, n);
	ASN1_INTEGER_set(X509_get_serialNumber(ca_cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(ca_cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(ca_cert), 86400);
	X509_set_pubkey(ca_cert, ca_key);
	return X509_sign(ca_cert, ca_key, EVP_sha256()) > 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	return 0;
}

static OCSP_CERTID *
cid_of(const EVP_MD *md, long serial)
{
	ASN1_INTEGER *sn = ASN1_INTEGER_new();
	OCSP_CERTID *cid;

	ASN1_INTEGER_set(sn, serial);
	cid = OCSP_cert_id_new(md, X509_get_subject_name(ca_cert),
			       X509_get0_pubkey_bitstr(ca_cert), sn);
	ASN1_INTEGER_free(sn);
	return cid;
}

/* A request about serials first..first+n-1 under ca_cert. */
static OCSP_REQUEST *
request(const EVP_MD *md, long first, int n)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	int i;

	for (i = 0; i < n; i++)
		CU_ASSERT_FATAL(OCSP_request_add0_id(
					req, cid_of(md, first + i)) != NULL);
	return req;
}

/* Encodes req (and frees it). */
static uint8_t *
der_of(OCSP_REQUEST *req, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_OCSP_REQUEST(req, &der);

	CU_ASSERT_FATAL(n > 0);
	OCSP_REQUEST_free(req);
	*len = (size_t)n;
	return der;
}

static int
parse(OCSP_REQUEST *req, struct ocsp_request **rq)
{
	size_t len;
	uint8_t *der = der_of(req, &len);
	int r;

	*rq = NULL;
	r = ocsp_request_parse(der, len, rq);
	OPENSSL_free(der);
	return r;
}

static void
test_parse_basic(void)
{
	struct ocsp_request *rq = NULL;
	OCSP_REQUEST *req = request(EVP_sha1(), 0x1234, 1);
	const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(ca_cert);
	unsigned char *name = NULL, *cidder = NULL;
	uint8_t h[20];
	OCSP_CERTID *cid = cid_of(EVP_sha1(), 0x1234);
	int n, cidlen;

	CU_ASSERT_FATAL(parse(req, &rq) == 0);
	CU_ASSERT(rq->n == 1 && rq->nonce == NULL);
	CU_ASSERT(rq->ids[0].hash == OCSP_HASH_SHA1 &&
		  rq->ids[0].hashlen == 20);
	n = i2d_X509_NAME(X509_get_subject_name(ca_cert), &name);
	EVP_Digest(name, (size_t)n, h, NULL, EVP_sha1(), NULL);
	CU_ASSERT(memcmp(rq->ids[0].namehash, h, 20) == 0);
	EVP_Digest(ASN1_STRING_get0_data(bits),
		   (size_t)ASN1_STRING_length(bits), h, NULL, EVP_sha1(), NULL);
	CU_ASSERT(memcmp(rq->ids[0].keyhash, h, 20) == 0);
	CU_ASSERT(rq->ids[0].serial_len == 2 && rq->ids[0].serial[0] == 0x12 &&
		  rq->ids[0].serial[1] == 0x34 && !rq->ids[0].serial_negative);
	/* The CertID is kept as DER, to be echoed. */
	cidlen = i2d_OCSP_CERTID(cid, &cidder);
	CU_ASSERT(rq->ids[0].derlen == (size_t)cidlen &&
		  memcmp(rq->ids[0].der, cidder, (size_t)cidlen) == 0);
	ocsp_request_free(rq);
	OPENSSL_free(cidder);
	OCSP_CERTID_free(cid);
	OPENSSL_free(name);

	CU_ASSERT_FATAL(parse(request(EVP_sha256(), 7, 3), &rq) == 0);
	CU_ASSERT(rq->n == 3 && rq->ids[2].hash == OCSP_HASH_SHA256 &&
		  rq->ids[2].hashlen == 32 && rq->ids[2].serial[0] == 9);
	ocsp_request_free(rq);
	/* Well-formed, but hashes this responder does not answer. */
	CU_ASSERT_FATAL(parse(request(EVP_sha512(), 7, 1), &rq) == 0);
	CU_ASSERT(rq->ids[0].hash == OCSP_HASH_OTHER);
	ocsp_request_free(rq);
	CU_ASSERT_FATAL(parse(request(EVP_md5(), 7, 1), &rq) == 0);
	CU_ASSERT(rq->ids[0].hash == OCSP_HASH_OTHER);
	ocsp_request_free(rq);
	/* A negative serial is parsed (and will be unknown). */
	CU_ASSERT_FATAL(parse(request(EVP_sha1(), -5, 1), &rq) == 0);
	CU_ASSERT(rq->ids[0].serial_negative && rq->ids[0].serial[0] == 5);
	ocsp_request_free(rq);
	ocsp_request_free(NULL);
}

/*
 * A SHA-1 CertID without the NULL parameter (RFC 5754 style): the
 * hashAlgorithm "30 09 ... 05 00" of a one-certificate request without
 * nonce becomes "30 07 ..." and the five enclosing lengths shrink by 2.
 */
static void
test_parse_absent_params(void)
{
	static const uint8_t alg[] = {0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
				      0x03, 0x02, 0x1a, 0x05, 0x00};
	struct ocsp_request *rq = NULL;
	size_t len, i;
	uint8_t *der = der_of(request(EVP_sha1(), 77, 1), &len);

	CU_ASSERT_FATAL(len < 128 && memcmp(der + 10, alg, sizeof(alg)) == 0);
	for (i = 1; i <= 9; i += 2)
		der[i] -= 2;
	der[11] = 0x07;
	memmove(der + 10 + 9, der + 10 + 11, len - 21);
	CU_ASSERT(ocsp_request_parse(der, len - 2, &rq) == 0);
	CU_ASSERT(rq != NULL && rq->ids[0].hash == OCSP_HASH_SHA1);
	ocsp_request_free(rq);
	OPENSSL_free(der);
}

static void
test_parse_limits(void)
{
	struct ocsp_request *rq = NULL;
	uint8_t *der, *big;
	size_t len;

	CU_ASSERT(parse(request(EVP_sha1(), 1, OCSP_REQ_CERTS_MAX), &rq) == 0);
	CU_ASSERT(rq != NULL && rq->n == OCSP_REQ_CERTS_MAX);
	ocsp_request_free(rq);
	CU_ASSERT(parse(request(EVP_sha1(), 1, OCSP_REQ_CERTS_MAX + 1), &rq) ==
		  EST_E_INVAL);
	CU_ASSERT(rq == NULL);
	CU_ASSERT(parse(OCSP_REQUEST_new(), &rq) == EST_E_INVAL);
	/* Garbage, cut short, one byte too many, nothing, too much. */
	CU_ASSERT(ocsp_request_parse((const uint8_t *)"hello", 5, &rq) ==
		  EST_E_BADASN1);
	der = der_of(request(EVP_sha1(), 1, 2), &len);
	CU_ASSERT(ocsp_request_parse(der, len - 1, &rq) == EST_E_BADASN1);
	big = calloc(1, OCSP_REQ_MAX + 1);
	memcpy(big, der, len);
	CU_ASSERT(ocsp_request_parse(big, len + 1, &rq) == EST_E_BADASN1);
	CU_ASSERT(ocsp_request_parse(big, 0, &rq) == EST_E_BADASN1);
	CU_ASSERT(ocsp_request_parse(big, OCSP_REQ_MAX + 1, &rq) ==
		  EST_E_TOOBIG);
	CU_ASSERT(rq == NULL);
	free(big);
	OPENSSL_free(der);
}

static void
test_parse_serials(void)
{
	struct ocsp_request *rq = NULL;
	OCSP_REQUEST *req;
	ASN1_INTEGER *sn;
	BIGNUM *bn = BN_new();
	int bytes;

	/* 20 octets encoded is the most (RFC 5280 4.1.2.2). */
	for (bytes = 19; bytes <= 21; bytes++) {
		BN_zero(bn);
		BN_set_bit(bn, bytes * 8 - 2);
		sn = BN_to_ASN1_INTEGER(bn, NULL);
		req = OCSP_REQUEST_new();
		OCSP_request_add0_id(
			req, OCSP_cert_id_new(
				     EVP_sha1(), X509_get_subject_name(ca_cert),
				     X509_get0_pubkey_bitstr(ca_cert), sn));
		CU_ASSERT(parse(req, &rq) == (bytes <= 20 ? 0 : EST_E_INVAL));
		ocsp_request_free(rq);
		ASN1_INTEGER_free(sn);
	}
	/* Magnitude of 20 octets whose encoding needs 21. */
	BN_zero(bn);
	BN_set_bit(bn, 159);
	sn = BN_to_ASN1_INTEGER(bn, NULL);
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(
		req,
		OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca_cert),
				 X509_get0_pubkey_bitstr(ca_cert), sn));
	CU_ASSERT(parse(req, &rq) == EST_E_INVAL);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
}

/* Adds a nonce extension whose extnValue is the given octets. */
static void
add_nonce_raw(OCSP_REQUEST *req, const uint8_t *v, int len)
{
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext;

	ASN1_OCTET_STRING_set(os, v, len);
	ext = X509_EXTENSION_create_by_NID(NULL, NID_id_pkix_OCSP_Nonce, 0, os);
	CU_ASSERT_FATAL(ext != NULL);
	CU_ASSERT(OCSP_REQUEST_add_ext(req, ext, -1) == 1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
}

/* A nonce OCTET STRING of len octets, as an extnValue. */
static void
add_nonce(OCSP_REQUEST *req, int len)
{
	uint8_t v[64];

	memset(v, 0x5a, sizeof(v));
	v[0] = 0x04;
	v[1] = (uint8_t)len;
	add_nonce_raw(req, v, len + 2);
}

static void
test_parse_nonce(void)
{
	struct ocsp_request *rq = NULL;
	OCSP_REQUEST *req;
	static const int ok[] = {1, 16, 32}, bad[] = {0, 33};
	size_t i;

	/* What `openssl ocsp -nonce` sends. */
	req = request(EVP_sha1(), 1, 1);
	CU_ASSERT(OCSP_request_add1_nonce(req, NULL, -1) == 1);
	CU_ASSERT_FATAL(parse(req, &rq) == 0);
	CU_ASSERT(rq->nonce != NULL && rq->noncelen == 18 &&
		  rq->nonce[0] == 0x04 && rq->nonce[1] == 16);
	ocsp_request_free(rq);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		req = request(EVP_sha1(), 1, 1);
		add_nonce(req, ok[i]);
		CU_ASSERT(parse(req, &rq) == 0);
		CU_ASSERT(rq != NULL && rq->noncelen == (size_t)ok[i] + 2);
		ocsp_request_free(rq);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req = request(EVP_sha1(), 1, 1);
		add_nonce(req, bad[i]);
		CU_ASSERT(parse(req, &rq) == EST_E_INVAL);
	}
	/* Bare octets without the OCTET STRING, and two nonces. */
	req = request(EVP_sha1(), 1, 1);
	add_nonce_raw(req, (const uint8_t *)"0123456789abcdef", 16);
	CU_ASSERT(parse(req, &rq) == EST_E_INVAL);
	req = request(EVP_sha1(), 1, 1);
	add_nonce(req, 8);
	add_nonce(req, 8);
	CU_ASSERT(parse(req, &rq) == EST_E_INVAL);
	CU_ASSERT(rq == NULL);
}

/* A signed request is answered like any other: the signature is ignored. */
static void
test_parse_signed(void)
{
	struct ocsp_request *rq = NULL;
	OCSP_REQUEST *req = request(EVP_sha256(), 3, 2);

	CU_ASSERT_FATAL(OCSP_request_sign(req, ca_cert, ca_key, EVP_sha256(),
					  NULL, 0) == 1);
	CU_ASSERT(parse(req, &rq) == 0);
	CU_ASSERT(rq != NULL && rq->n == 2);
	ocsp_request_free(rq);
}

/* SEQUENCE { rd, ecdsa-with-SHA256, BIT STRING 00 } to read rd back. */
static OCSP_BASICRESP *
unsigned_basic(const uint8_t *rd, size_t len)
{
	static const uint8_t alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
				      0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
				      0x03, 0x02, 0x00, 0x00};
	size_t body = len + sizeof(alg);
	unsigned char *der = malloc(body + 4), *q = der;
	const unsigned char *p;
	OCSP_BASICRESP *bs;

	ASN1_put_object(&q, 1, (int)body, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(q, rd, len);
	memcpy(q + len, alg, sizeof(alg));
	q += body;
	p = der;
	bs = d2i_OCSP_BASICRESP(NULL, &p, (long)(q - der));
	CU_ASSERT(bs != NULL && p == q);
	free(der);
	return bs;
}

static void
test_build(void)
{
	struct ocsp_single s[3];
	struct ocsp_request *rq = NULL;
	struct tbs_info info;
	OCSP_REQUEST *req = request(EVP_sha1(), 10, 3), *req2;
	const unsigned char *p;
	const ASN1_OCTET_STRING *kid = NULL;
	const X509_NAME *byname = NULL;
	ASN1_GENERALIZEDTIME *rev, *thisupd, *nextupd;
	OCSP_BASICRESP *bs;
	OCSP_CERTID *cid;
	uint8_t kh[20], *rd = NULL, *der;
	size_t rdlen = 0, len, i;
	time_t now = time(NULL);
	int status, reason;

	CU_ASSERT(OCSP_request_add1_nonce(req, NULL, -1) == 1);
	der = der_of(req, &len);
	CU_ASSERT_FATAL(ocsp_request_parse(der, len, &rq) == 0);
	p = der;
	req2 = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	CU_ASSERT_FATAL(req2 != NULL);
	OPENSSL_free(der);
	memset(kh, 0xab, sizeof(kh));
	for (i = 0; i < 3; i++) {
		s[i].id = &rq->ids[i];
		s[i].status = (enum ocsp_cert_status)i;
		s[i].revoked_at = now - 86400;
		s[i].reason = 4; /* superseded */
	}
	CU_ASSERT_FATAL(ocsp_respdata_der(kh, now, now + 600, s, 3, rq->nonce,
					  rq->noncelen, &rd, &rdlen) == 0);
	/* The signer accepts exactly what the responder builds. */
	CU_ASSERT(tbs_parse(SIGNER_SIGN_OCSP, rd, rdlen, &info) == 0);
	CU_ASSERT(info.responder_bykey && info.responderlen == 20 &&
		  memcmp(info.responder, kh, 20) == 0);
	bs = unsigned_basic(rd, rdlen);
	CU_ASSERT_FATAL(bs != NULL);
	CU_ASSERT(OCSP_resp_get0_id(bs, &kid, &byname) == 1 && kid != NULL &&
		  byname == NULL && ASN1_STRING_length(kid) == 20 &&
		  memcmp(ASN1_STRING_get0_data(kid), kh, 20) == 0);
	CU_ASSERT(OCSP_resp_count(bs) == 3);
	CU_ASSERT(OCSP_check_nonce(req2, bs) == 1);
	for (i = 0; i < 3; i++) {
		cid = cid_of(EVP_sha1(), 10 + (long)i);
		reason = -1;
		CU_ASSERT(OCSP_resp_find_status(bs, cid, &status, &reason, &rev,
						&thisupd, &nextupd) == 1);
		CU_ASSERT(status == (int)i);
		CU_ASSERT(OCSP_check_validity(thisupd, nextupd, 5, -1) == 1);
		if (i == OCSP_CERT_REVOKED)
			CU_ASSERT(reason == OCSP_REVOKED_STATUS_SUPERSEDED &&
				  ASN1_TIME_cmp_time_t(rev, now - 86400) == 0);
		OCSP_CERTID_free(cid);
	}
	OCSP_BASICRESP_free(bs);
	free(rd);
	/* Without reason, nonce or nextUpdate. */
	s[1].reason = -1;
	CU_ASSERT_FATAL(
		ocsp_respdata_der(kh, now, 0, s, 3, NULL, 0, &rd, &rdlen) == 0);
	CU_ASSERT(tbs_parse(SIGNER_SIGN_OCSP, rd, rdlen, &info) == 0);
	bs = unsigned_basic(rd, rdlen);
	CU_ASSERT(bs != NULL && OCSP_check_nonce(req2, bs) == -1);
	OCSP_BASICRESP_free(bs);
	free(rd);
	/* Bad arguments. */
	CU_ASSERT(ocsp_respdata_der(kh, now, 0, s, 0, NULL, 0, &rd, &rdlen) ==
		  EST_E_INVAL);
	s[1].reason = 7;
	CU_ASSERT(ocsp_respdata_der(kh, now, 0, s, 3, NULL, 0, &rd, &rdlen) ==
		  EST_E_INVAL);
	ocsp_request_free(rq);
	OCSP_REQUEST_free(req2);
}

static void
test_response(void)
{
	static const enum ocsp_resp_status st[] = {
		OCSP_ST_MALFORMED, OCSP_ST_INTERNAL, OCSP_ST_TRYLATER,
		OCSP_ST_UNAUTHORIZED};
	const unsigned char *p;
	OCSP_RESPONSE * or ;
	uint8_t *der = NULL;
	size_t len = 0, i;

	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		CU_ASSERT_FATAL(ocsp_response_der(st[i], NULL, 0, &der, &len) ==
				0);
		p = der;
		or = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
		CU_ASSERT(or != NULL && p == der + len &&
				     OCSP_response_status(or) == (int)st[i] &&
				     OCSP_response_get1_basic(or) == NULL);
		OCSP_RESPONSE_free(or);
		free(der);
	}
	/* Success carries a response; nothing else does. */
	CU_ASSERT(ocsp_response_der(OCSP_ST_SUCCESSFUL, NULL, 0, &der, &len) ==
		  EST_E_INVAL);
	CU_ASSERT(ocsp_response_der(OCSP_ST_MALFORMED, (const uint8_t *)"x", 1,
				    &der, &len) == EST_E_INVAL);
}

static void
test_status_map(void)
{
	CU_ASSERT(ocsp_status_of(0) == OCSP_ST_SUCCESSFUL);
	CU_ASSERT(ocsp_status_of(EST_E_BADASN1) == OCSP_ST_MALFORMED);
	CU_ASSERT(ocsp_status_of(EST_E_TOOBIG) == OCSP_ST_MALFORMED);
	CU_ASSERT(ocsp_status_of(EST_E_INVAL) == OCSP_ST_MALFORMED);
	CU_ASSERT(ocsp_status_of(EST_E_NOTFOUND) == OCSP_ST_UNAUTHORIZED);
	CU_ASSERT(ocsp_status_of(EST_E_DB) == OCSP_ST_TRYLATER);
	CU_ASSERT(ocsp_status_of(EST_E_SIGNER) == OCSP_ST_TRYLATER);
	CU_ASSERT(ocsp_status_of(EST_E_HSM) == OCSP_ST_TRYLATER);
	CU_ASSERT(ocsp_status_of(EST_E_INTERNAL) == OCSP_ST_INTERNAL);
	CU_ASSERT(ocsp_status_of(EST_E_POLICY) == OCSP_ST_INTERNAL);
}

static CU_TestInfo tests[] = {
	{"requests: SHA-1, SHA-256, other hashes, serials, DER kept",
	 test_parse_basic},
	{"requests: SHA-1 without parameters", test_parse_absent_params},
	{"requests: 1..16 certificates, 64 KiB, garbage, trailing bytes",
	 test_parse_limits},
	{"requests: serials of at most 20 octets", test_parse_serials},
	{"requests: nonce of 1..32 octets, once, as an OCTET STRING",
	 test_parse_nonce},
	{"requests: signed requests accepted", test_parse_signed},
	{"ResponseData read by OpenSSL and by the signer", test_build},
	{"OCSPResponse of every error status", test_response},
	{"errors to OCSPResponseStatus", test_status_map},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("ocsp", suite_init, suite_clean, tests);
}
