/*
 * EST without the database (fcgi/est_body.h, fcgi/est_resp.h): labels,
 * the enrollment body's intake, the CsrAttrs encoding of a template's
 * requirements, and the responses (certs-only, serverkeygen's multipart,
 * csrattrs, refusals).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "b64.h"
#include "csr.h"
#include "err.h"
#include "est_body.h"
#include "est_resp.h"
#include "harness.h"
#include "mtype.h"
#include "p7.h"
#include "req.h"
#include "resp.h"
#include "sigproto.h"
#include "subject.h"

/* ----- helpers ----- */

static EVP_PKEY *
ec_key(void)
{
	return EVP_EC_gen("P-256");
}

/* A DER certificate, self-signed, CN=cn. */
static uint8_t *
make_cert(const char *cn, size_t *len)
{
	EVP_PKEY *k = ec_key();
	X509 *x = X509_new();
	unsigned char *p = NULL;
	int n = -1;

	if (k != NULL && x != NULL && X509_set_version(x, X509_VERSION_3) &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 7) &&
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 3600) != NULL &&
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
				       MBSTRING_ASC, (const unsigned char *)cn,
				       -1, -1, 0) &&
	    X509_set_issuer_name(x, X509_get_subject_name(x)) &&
	    X509_set_pubkey(x, k) && X509_sign(x, k, EVP_sha256()) > 0)
		n = i2d_X509(x, &p);
	X509_free(x);
	EVP_PKEY_free(k);
	if (n <= 0)
		return NULL;
	*len = (size_t)n;
	return p;
}

/* A CSR (CN=cn) signed by its own key, as base64 with line breaks. */
static char *
make_csr_b64(const char *cn)
{
	EVP_PKEY *k = ec_key();
	X509_REQ *rq = X509_REQ_new();
	unsigned char *der = NULL;
	char *b64 = NULL;
	size_t blen;
	int n = -1;

	if (k != NULL && rq != NULL &&
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(rq), "CN",
				       MBSTRING_ASC, (const unsigned char *)cn,
				       -1, -1, 0) &&
	    X509_REQ_set_pubkey(rq, k) && X509_REQ_sign(rq, k, EVP_sha256()))
		n = i2d_X509_REQ(rq, &der);
	if (n > 0 && b64_encode(der, (size_t)n, 64, &b64, &blen) != 0)
		b64 = NULL;
	OPENSSL_free(der);
	X509_REQ_free(rq);
	EVP_PKEY_free(k);
	return b64;
}

/* The OIDs (dotted text, joined by spaces) of a CsrAttrs. */
static char *
csrattrs_text(const uint8_t *der, size_t len)
{
	const unsigned char *p = der, *end = der + len, *q;
	static char out[1024];
	char oid[96];
	long clen;
	int tag, cls;
	ASN1_OBJECT *o;

	out[0] = '\0';
	if (!(ASN1_get_object(&p, &clen, &tag, &cls, (long)len) & 0x20) ||
	    tag != V_ASN1_SEQUENCE || p + clen != end)
		return NULL;
	while (p < end) {
		q = p;
		if (*p == V_ASN1_OBJECT) {
			if ((o = d2i_ASN1_OBJECT(NULL, &p, end - p)) == NULL)
				return NULL;
		} else {
			/* An Attribute: its type, then "(" its values ")". */
			if (ASN1_get_object(&p, &clen, &tag, &cls, end - p) &
			    0x80)
				return NULL;
			q = p + clen;
			if ((o = d2i_ASN1_OBJECT(NULL, &p, q - p)) == NULL)
				return NULL;
			OBJ_obj2txt(oid, sizeof(oid), o, 1);
			ASN1_OBJECT_free(o);
			strcat(out, oid);
			strcat(out, "(");
			if (ASN1_get_object(&p, &clen, &tag, &cls, q - p) &
				    0x80 ||
			    tag != V_ASN1_SET)
				return NULL;
			if ((o = d2i_ASN1_OBJECT(NULL, &p, q - p)) == NULL)
				return NULL;
			OBJ_obj2txt(oid, sizeof(oid), o, 1);
			ASN1_OBJECT_free(o);
			strcat(out, oid);
			strcat(out, ") ");
			p = q;
			continue;
		}
		OBJ_obj2txt(oid, sizeof(oid), o, 1);
		ASN1_OBJECT_free(o);
		strcat(out, oid);
		strcat(out, " ");
	}
	return out;
}

/* ----- labels ----- */

static void
test_labels(void)
{
	char long25[26];

	CU_ASSERT(est_label_valid("abc"));
	CU_ASSERT(est_label_valid("ext"));
	CU_ASSERT(est_label_valid("a1b2c3d4e5f6g7h8i9j0k1l2"));
	CU_ASSERT(!est_label_valid("ab"));
	CU_ASSERT(!est_label_valid("Abc"));
	CU_ASSERT(!est_label_valid("a-b"));
	CU_ASSERT(!est_label_valid("abc "));
	CU_ASSERT(!est_label_valid(""));
	CU_ASSERT(!est_label_valid(NULL));
	memset(long25, 'a', 25);
	long25[25] = '\0';
	CU_ASSERT(!est_label_valid(long25));
	long25[24] = '\0';
	CU_ASSERT(est_label_valid(long25));
}

/* ----- the enrollment body ----- */

static int
body_status(const char *ctype, const char *body, size_t len)
{
	struct request req;
	struct prov_error e;
	struct csr *csr = NULL;
	int r;

	memset(&req, 0, sizeof(req));
	memset(&e, 0, sizeof(e));
	if (ctype != NULL && mtype_parse(ctype, &req.content_type) != 0)
		return -1;
	req.body = (uint8_t *)(uintptr_t)body;
	req.bodylen = len;
	r = est_body_csr(&req, &csr, &e);
	mtype_free(req.content_type);
	if (r == 0) {
		CU_ASSERT_PTR_NOT_NULL(csr);
		csr_free(csr);
		return 200;
	}
	CU_ASSERT_PTR_NULL(csr);
	CU_ASSERT(e.reason[0] != '\0');
	CU_ASSERT_EQUAL(r, est_err_from_status(e.status));
	return e.status;
}

static void
test_body(void)
{
	char *b64 = make_csr_b64("device-1"), *one, *big;
	size_t i, j, n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b64);
	n = strlen(b64);
	CU_ASSERT_EQUAL(body_status("application/pkcs10", b64, n), 200);
	/* RFC 8951: parameters, CRLF, no trailing newline, no breaks. */
	CU_ASSERT_EQUAL(
		body_status("application/pkcs10; charset=binary", b64, n), 200);
	CU_ASSERT_EQUAL(body_status("Application/PKCS10", b64, n - 1), 200);
	one = malloc(2 * n + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(one);
	for (i = 0, j = 0; i < n; i++)
		if (b64[i] != '\n')
			one[j++] = b64[i];
	one[j] = '\0';
	CU_ASSERT_EQUAL(body_status("application/pkcs10", one, j), 200);
	for (i = 0, j = 0; i < n; i++) {
		if (b64[i] == '\n')
			one[j++] = '\r';
		one[j++] = b64[i];
	}
	CU_ASSERT_EQUAL(body_status("application/pkcs10", one, j), 200);
	free(one);
	/* Media types. */
	CU_ASSERT_EQUAL(body_status(NULL, b64, n), 415);
	CU_ASSERT_EQUAL(
		body_status("application/x-www-form-urlencoded", b64, n), 415);
	CU_ASSERT_EQUAL(body_status("application/pkcs7-mime", b64, n), 415);
	/* Bodies. */
	CU_ASSERT_EQUAL(body_status("application/pkcs10", "", 0), 400);
	CU_ASSERT_EQUAL(body_status("application/pkcs10", "!!!!", 4), 400);
	/* Base64 of DER that is not a CSR (an INTEGER). */
	CU_ASSERT_EQUAL(body_status("application/pkcs10", "AgEB", 4), 400);
	/* A flipped signature bit: the self-signature fails. */
	one = strdup(b64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(one);
	i = n - 8;
	one[i] = one[i] == 'A' ? 'B' : 'A';
	CU_ASSERT_EQUAL(body_status("application/pkcs10", one, n), 400);
	free(one);
	/* Over the intake's cap. */
	big = malloc(CSR_INPUT_MAX * 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'A', CSR_INPUT_MAX * 2);
	CU_ASSERT_EQUAL(
		body_status("application/pkcs10", big, CSR_INPUT_MAX * 2), 413);
	free(big);
	free(b64);
}

/* ----- csrattrs ----- */

static struct subj_field
field(enum subj_kind k, const char *oid, enum subj_rule rule)
{
	struct subj_field f;

	memset(&f, 0, sizeof(f));
	f.kind = k;
	f.oid = oid;
	f.rule = rule;
	return f;
}

static void
test_csrattrs(void)
{
	struct subj_field f[6];
	uint8_t *der = NULL;
	size_t len = 99;
	const char *t;

	/* Nothing required, several key types: nothing to say. */
	f[0] = field(SUBJ_ATTR, "2.5.4.3", SUBJ_OPTIONAL);
	f[1] = field(SUBJ_ATTR, "2.5.4.10", SUBJ_FIXED);
	f[2] = field(SUBJ_SAN, NULL, SUBJ_OPTIONAL);
	CU_ASSERT_EQUAL(
		est_csrattrs_der(f, 3,
				 CSR_KEYBIT(SIGNER_KEY_EC_P256) |
					 CSR_KEYBIT(SIGNER_KEY_RSA_2048),
				 &der, &len),
		0);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_PTR_NULL(der);
	CU_ASSERT_EQUAL(est_csrattrs_der(NULL, 0, 0, &der, &len), 0);
	CU_ASSERT_EQUAL(len, 0);

	/* Required CN and serialNumber (once each), a required SAN. */
	f[0] = field(SUBJ_ATTR, "2.5.4.3", SUBJ_REQUIRED);
	f[1] = field(SUBJ_ATTR, "2.5.4.10", SUBJ_FIXED);
	f[2] = field(SUBJ_ATTR, "2.5.4.5", SUBJ_REQUIRED);
	f[3] = field(SUBJ_ATTR, "2.5.4.3", SUBJ_REQUIRED);
	f[4] = field(SUBJ_SAN, NULL, SUBJ_REQUIRED);
	f[5] = field(SUBJ_SAN, NULL, SUBJ_REQUIRED);
	CU_ASSERT_EQUAL_FATAL(est_csrattrs_der(f, 6,
					       CSR_KEYBIT(SIGNER_KEY_RSA_2048),
					       &der, &len),
			      0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(der);
	t = csrattrs_text(der, len);
	CU_ASSERT_PTR_NOT_NULL(t);
	if (t != NULL)
		CU_ASSERT_STRING_EQUAL(t, "2.5.4.3 2.5.4.5 2.5.29.17 ");
	free(der);

	/* One curve: RFC 7030's id-ecPublicKey attribute with the curve. */
	CU_ASSERT_EQUAL_FATAL(est_csrattrs_der(f, 1,
					       CSR_KEYBIT(SIGNER_KEY_EC_P256),
					       &der, &len),
			      0);
	t = csrattrs_text(der, len);
	CU_ASSERT_PTR_NOT_NULL(t);
	if (t != NULL)
		CU_ASSERT_STRING_EQUAL(
			t, "2.5.4.3 1.2.840.10045.2.1(1.2.840.10045.3.1.7) ");
	free(der);
	CU_ASSERT_EQUAL_FATAL(est_csrattrs_der(NULL, 0,
					       CSR_KEYBIT(SIGNER_KEY_EC_P384),
					       &der, &len),
			      0);
	t = csrattrs_text(der, len);
	CU_ASSERT_PTR_NOT_NULL(t);
	if (t != NULL)
		CU_ASSERT_STRING_EQUAL(t, "1.2.840.10045.2.1(1.3.132.0.34) ");
	free(der);

	/* An OID that is not one. */
	f[0] = field(SUBJ_ATTR, "not an oid", SUBJ_REQUIRED);
	CU_ASSERT_NOT_EQUAL(est_csrattrs_der(f, 1, 0, &der, &len), 0);
}

static void
test_resp_csrattrs(void)
{
	static const uint8_t der[] = {0x30, 0x05, 0x06, 0x03, 0x55, 0x04, 0x03};
	struct resp *rs = resp_new(RESP_EST);
	const uint8_t *body;
	uint8_t *dec = NULL;
	size_t len, dlen;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	CU_ASSERT_EQUAL(est_resp_csrattrs(rs, NULL, 0), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 204);
	resp_reset(rs);
	CU_ASSERT_EQUAL(est_resp_csrattrs(rs, der, sizeof(der)), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 200);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "Content-Transfer-Encoding"),
			       "base64");
	body = resp_get_body(rs, &len);
	CU_ASSERT_EQUAL_FATAL(
		b64_decode((const char *)body, len, B64_SKIP_WS, &dec, &dlen),
		0);
	CU_ASSERT_EQUAL(dlen, sizeof(der));
	CU_ASSERT(memcmp(dec, der, sizeof(der)) == 0);
	free(dec);
	resp_free(rs);
}

/* ----- certs-only and multipart ----- */

/* The number of certificates in base64 certs-only text, or -1. */
static int
p7_count(const char *b64, size_t len)
{
	const unsigned char *p;
	uint8_t *der = NULL;
	size_t dlen;
	PKCS7 *p7;
	int n = -1;

	if (b64_decode(b64, len, B64_SKIP_WS, &der, &dlen) != 0)
		return -1;
	p = der;
	if ((p7 = d2i_PKCS7(NULL, &p, (long)dlen)) != NULL &&
	    PKCS7_type_is_signed(p7) && p7->d.sign->cert != NULL)
		n = sk_X509_num(p7->d.sign->cert);
	PKCS7_free(p7);
	free(der);
	return n;
}

static void
test_resp_certs(void)
{
	struct resp *rs = resp_new(RESP_EST);
	const uint8_t *ders[2], *body;
	size_t lens[2], len;
	uint8_t *a, *b;

	a = make_cert("a", &lens[0]);
	b = make_cert("b", &lens[1]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	ders[0] = a;
	ders[1] = b;
	CU_ASSERT_EQUAL_FATAL(est_resp_certs(rs, ders, lens, 2), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 200);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "Content-Transfer-Encoding"),
			       "base64");
	body = resp_get_body(rs, &len);
	CU_ASSERT_EQUAL(p7_count((const char *)body, len), 2);
	OPENSSL_free(a);
	OPENSSL_free(b);
	resp_free(rs);
}

static void
test_multipart(void)
{
	static const uint8_t key[] = "not really a PKCS#8, just bytes";
	const char *head = "--b0und\r\nContent-Type: application/pkcs8\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\n";
	const char *p7 = "MIIB\nAAAA\n", *s, *e;
	char *out = NULL, bnd[EST_BOUNDARY_SIZE], bnd2[EST_BOUNDARY_SIZE];
	uint8_t *dec = NULL;
	size_t len = 0, dlen;

	CU_ASSERT_EQUAL_FATAL(est_multipart_build("b0und", key, sizeof(key), p7,
						  strlen(p7), &out, &len),
			      0);
	CU_ASSERT_EQUAL(strlen(out), len);
	CU_ASSERT(strncmp(out, head, strlen(head)) == 0);
	/* The key part decodes to the key. */
	s = strstr(out, "\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	s += 4;
	e = strstr(s, "\r\n--b0und\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL_FATAL(
		b64_decode(s, (size_t)(e - s), B64_SKIP_WS, &dec, &dlen), 0);
	CU_ASSERT_EQUAL(dlen, sizeof(key));
	CU_ASSERT(memcmp(dec, key, sizeof(key)) == 0);
	free(dec);
	/* Then the certificate part, then the closing delimiter. */
	CU_ASSERT_PTR_NOT_NULL(
		strstr(e, "\r\n--b0und\r\nContent-Type: application/pkcs7-mime;"
			  " smime-type=certs-only\r\n"
			  "Content-Transfer-Encoding: base64\r\n\r\n"
			  "MIIB\nAAAA\n\r\n--b0und--\r\n"));
	CU_ASSERT(len > 11 && strcmp(out + len - 11, "\r\n--b0und--") != 0);
	CU_ASSERT(strcmp(out + len - 13, "\r\n--b0und--\r\n") == 0);
	free(out);
	/* Bad arguments. */
	CU_ASSERT_NOT_EQUAL(est_multipart_build("", key, sizeof(key), p7,
						strlen(p7), &out, &len),
			    0);
	CU_ASSERT_NOT_EQUAL(
		est_multipart_build("b", key, 0, p7, strlen(p7), &out, &len),
		0);
	CU_ASSERT_NOT_EQUAL(
		est_multipart_build("b", key, sizeof(key), p7, 0, &out, &len),
		0);
	/* Boundaries: the documented shape, and fresh each time. */
	CU_ASSERT_EQUAL(est_boundary_new(bnd), 0);
	CU_ASSERT_EQUAL(est_boundary_new(bnd2), 0);
	CU_ASSERT_EQUAL(strlen(bnd), 40);
	CU_ASSERT(strncmp(bnd, "estuary-", 8) == 0);
	CU_ASSERT(strcmp(bnd, bnd2) != 0);
}

static void
test_resp_serverkeygen(void)
{
	static const uint8_t key[] = {0x30, 0x03, 0x02, 0x01, 0x00};
	struct resp *rs = resp_new(RESP_EST);
	const uint8_t *ders[1], *body;
	const char *ct;
	char delim[80], *s;
	size_t lens[1], len;
	uint8_t *a;

	a = make_cert("leaf", &lens[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	ders[0] = a;
	CU_ASSERT_EQUAL_FATAL(
		est_resp_serverkeygen(rs, key, sizeof(key), ders, lens, 1), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 200);
	ct = resp_get_header(rs, "Content-Type");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ct);
	CU_ASSERT(strncmp(ct, "multipart/mixed; boundary=estuary-", 34) == 0);
	snprintf(delim, sizeof(delim), "--%s\r\n", ct + 26);
	body = resp_get_body(rs, &len);
	CU_ASSERT(len > strlen(delim) &&
		  memcmp(body, delim, strlen(delim)) == 0);
	/* The certs-only part holds the one certificate. */
	s = strstr((const char *)body, "smime-type=certs-only\r\n"
				       "Content-Transfer-Encoding: base64"
				       "\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	s = strstr(s, "\r\n\r\n") + 4;
	CU_ASSERT_EQUAL(p7_count(s, strcspn(s, "\r")), 1);
	OPENSSL_free(a);
	resp_free(rs);
}

static void
test_resp_error(void)
{
	struct resp *rs = resp_new(RESP_EST);
	struct prov_error e;
	const uint8_t *body;
	size_t len;

	memset(&e, 0, sizeof(e));
	CU_ASSERT_EQUAL(est_fail(&e, 401, PROV_R_NO_CERT, "authentication %s",
				 "required"),
			EST_E_UNAUTH);
	CU_ASSERT_EQUAL(est_resp_error(rs, &e), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 401);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "WWW-Authenticate"),
			       "Basic realm=\"estuary\"");
	CU_ASSERT(strncmp(resp_get_header(rs, "Content-Type"), "text/plain",
			  10) == 0);
	body = resp_get_body(rs, &len);
	CU_ASSERT(len >= 23 &&
		  memcmp(body, "authentication required", 23) == 0);
	resp_reset(rs);
	est_fail(&e, 503, PROV_R_UNAVAILABLE, "down");
	CU_ASSERT_EQUAL(est_resp_error(rs, &e), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 503);
	CU_ASSERT_PTR_NOT_NULL(resp_get_header(rs, "Retry-After"));
	resp_reset(rs);
	CU_ASSERT_EQUAL(est_fail(&e, 429, PROV_R_THROTTLED, "retry later"),
			EST_E_TOOMANY);
	e.retry_after = 42;
	CU_ASSERT_EQUAL(est_resp_error(rs, &e), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 429);
	CU_ASSERT_STRING_EQUAL(resp_get_header(rs, "Retry-After"), "42");
	e.retry_after = 0;
	resp_reset(rs);
	est_fail(&e, 415, PROV_R_BAD_REQUEST, "Content-Type");
	CU_ASSERT_EQUAL(est_resp_error(rs, &e), 0);
	CU_ASSERT_EQUAL(resp_status(rs), 415);
	CU_ASSERT_PTR_NULL(resp_get_header(rs, "WWW-Authenticate"));
	resp_free(rs);
	CU_ASSERT_EQUAL(est_err_from_status(403), EST_E_DENIED);
	CU_ASSERT_EQUAL(est_err_from_status(404), EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(est_err_from_status(413), EST_E_TOOBIG);
	CU_ASSERT_EQUAL(est_err_from_status(400), EST_E_INVAL);
}

static CU_TestInfo est_tests[] = {
	{"labels", test_labels},
	{"enrollment body", test_body},
	{"csrattrs encoding", test_csrattrs},
	{"csrattrs response", test_resp_csrattrs},
	{"certs-only response", test_resp_certs},
	{"multipart building", test_multipart},
	{"serverkeygen response", test_resp_serverkeygen},
	{"refusals", test_resp_error},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("est", NULL, NULL, est_tests);
}
