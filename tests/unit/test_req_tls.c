/*
 * Client certificates and verification status as the web servers pass
 * them, and the certs-only PKCS#7 that EST answers with.  The certificates
 * are made here with OpenSSL.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "b64.h"
#include "err.h"
#include "harness.h"
#include "p7.h"
#include "req.h"
#include "test_req.h"

/* --- client certificates --- */

static EVP_PKEY *test_key;
static X509 *test_cert, *test_cert2;
static char *test_pem, *test_pem2;

/* Runs in a suite's init, where CUnit assertions are not allowed. */
static X509 *
make_cert(const char *cn, long serial)
{
	X509_NAME *name;
	X509 *x;

	if ((x = X509_new()) == NULL)
		return NULL;
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 3600) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, test_key) ||
	    X509_sign(x, test_key, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static char *
cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &p);
	s = strndup(p, (size_t)n);
	BIO_free(b);
	return s;
}

static int
cert_suite_init(void)
{
	if ((test_key = EVP_EC_gen("P-256")) == NULL)
		return 1;
	if ((test_cert = make_cert("device-0001", 1)) == NULL ||
	    (test_cert2 = make_cert("device-0002", 2)) == NULL)
		return 1;
	test_pem = cert_pem(test_cert);
	test_pem2 = cert_pem(test_cert2);
	return test_pem == NULL || test_pem2 == NULL;
}

static int
cert_suite_cleanup(void)
{
	X509_free(test_cert);
	X509_free(test_cert2);
	EVP_PKEY_free(test_key);
	free(test_pem);
	free(test_pem2);
	return 0;
}

/* The request for SSL_CLIENT_CERT=value. */
static struct request *
with_cert(const char *value)
{
	struct request *req;
	char *e;

	CU_ASSERT_FATAL(asprintf(&e, "SSL_CLIENT_CERT=%s", value) > 0);
	req = parse3("GET", "/x", e, "SSL_CLIENT_VERIFY=SUCCESS");
	free(e);
	return req;
}

/* nginx's $ssl_client_escaped_cert: everything but unreserved escaped. */
static char *
url_escape(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	for (; *s != '\0'; s++) {
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr("-_.~", *s) != NULL)
			*o++ = *s;
		else
			o += sprintf(o, "%%%02X", (unsigned char)*s);
	}
	*o = '\0';
	return out;
}

static void
test_cert_pem(void)
{
	struct request *req;
	char *s;

	/* lighttpd and Apache: PEM as is. */
	req = with_cert(test_pem);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req->client_cert);
	CU_ASSERT_EQUAL(X509_cmp(req->client_cert, test_cert), 0);
	CU_ASSERT_EQUAL(req->verify, REQ_VERIFY_SUCCESS);
	req_free(req);
	/* Surrounding white space is harmless. */
	CU_ASSERT_FATAL(asprintf(&s, "\n  %s\n\n", test_pem) > 0);
	req = with_cert(s);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_PTR_NOT_NULL(req->client_cert);
	req_free(req);
	free(s);
}

static void
test_cert_nginx(void)
{
	struct request *req;
	char *esc;

	esc = url_escape(test_pem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(esc, "-----BEGIN%20CERTIFICATE"));
	req = with_cert(esc);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req->client_cert);
	CU_ASSERT_EQUAL(X509_cmp(req->client_cert, test_cert), 0);
	req_free(req);
	free(esc);
	/* An escaped NUL or a bad escape. */
	req = with_cert("-----BEGIN%20CERTIFICATE-----%00");
	CU_ASSERT_EQUAL(req->status, 400);
	CU_ASSERT_PTR_NULL(req->client_cert);
	req_free(req);
	req = with_cert("-----BEGIN%2");
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
}

static void
test_cert_bad(void)
{
	struct request *req;
	char *two, *mangled, *p;

	/* Not PEM. */
	req = with_cert("MIIBhello");
	CU_ASSERT_EQUAL(req->status, 400);
	CU_ASSERT_STRING_EQUAL(req->field, "client_cert");
	req_free(req);
	/* Two certificates where one is expected. */
	CU_ASSERT_FATAL(asprintf(&two, "%s%s", test_pem, test_pem2) > 0);
	req = with_cert(two);
	CU_ASSERT_EQUAL(req->status, 400);
	CU_ASSERT_PTR_NULL(req->client_cert);
	req_free(req);
	free(two);
	/* A damaged body. */
	mangled = strdup(test_pem);
	p = strstr(mangled, "-----\n") + 6;
	p[10] = p[10] == 'A' ? 'B' : 'A';
	p[11] = '*';
	req = with_cert(mangled);
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
	free(mangled);
	/* A private key is not a certificate. */
	req = with_cert("-----BEGIN PRIVATE KEY-----\nMIIB\n"
			"-----END PRIVATE KEY-----\n");
	CU_ASSERT_EQUAL(req->status, 400);
	req_free(req);
	/* Empty means "no certificate" (nginx, Apache without one). */
	req = parse3("GET", "/x", "SSL_CLIENT_CERT=", "SSL_CLIENT_VERIFY=NONE");
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_PTR_NULL(req->client_cert);
	CU_ASSERT_EQUAL(req->verify, REQ_VERIFY_NONE);
	req_free(req);
}

/*
 * A certificate presented again, as on a kept connection, is the thread's
 * parsed one: the same object for the same text, URL-encoded or not, with
 * the same fingerprint (the SHA-256 of its DER), and still whole when
 * another request lets go of it; another certificate is another object.
 * Once more certificates than the thread keeps came in between, the text
 * is parsed anew.
 */
static void
test_cert_cache(void)
{
	struct request *a, *b, *other, *again, *fill;
	char *esc = url_escape(test_pem), *pem, cn[32];
	uint8_t fp[32], fp2[32];
	unsigned int len = 0;
	X509 *x;
	int i, bad = 0;

	CU_ASSERT_FATAL(X509_digest(test_cert, EVP_sha256(), fp, &len) == 1 &&
			len == 32);
	CU_ASSERT_FATAL(X509_digest(test_cert2, EVP_sha256(), fp2, &len) == 1 &&
			len == 32);

	a = with_cert(test_pem);
	b = with_cert(esc);
	other = with_cert(test_pem2);
	CU_ASSERT_FATAL(a->client_cert != NULL && b->client_cert != NULL &&
			other->client_cert != NULL);
	CU_ASSERT_PTR_EQUAL(a->client_cert, b->client_cert);
	CU_ASSERT(memcmp(a->client_fp, fp, 32) == 0 &&
		  memcmp(b->client_fp, fp, 32) == 0);
	CU_ASSERT(memcmp(other->client_fp, fp2, 32) == 0);
	CU_ASSERT_PTR_NOT_EQUAL(a->client_cert, other->client_cert);
	CU_ASSERT_EQUAL(X509_cmp(other->client_cert, test_cert2), 0);
	req_free(a);
	CU_ASSERT_EQUAL(X509_cmp(b->client_cert, test_cert), 0);
	for (i = 0; i < 8; i++) {
		snprintf(cn, sizeof(cn), "fill-%d", i);
		x = make_cert(cn, 100 + i);
		pem = x != NULL ? cert_pem(x) : NULL;
		fill = pem != NULL ? with_cert(pem) : NULL;
		bad += fill == NULL || fill->client_cert == NULL ||
		       X509_cmp(fill->client_cert, x) != 0;
		req_free(fill);
		free(pem);
		X509_free(x);
	}
	CU_ASSERT_EQUAL(bad, 0);
	again = with_cert(test_pem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(again->client_cert);
	CU_ASSERT_PTR_NOT_EQUAL(again->client_cert, b->client_cert);
	CU_ASSERT_EQUAL(X509_cmp(again->client_cert, test_cert), 0);
	CU_ASSERT(memcmp(again->client_fp, fp, 32) == 0);
	CU_ASSERT_EQUAL(X509_cmp(b->client_cert, test_cert), 0);
	req_free(again);
	req_free(b);
	req_free(other);
	free(esc);
}

static void
test_verify(void)
{
	struct request *req;

	req = parse3("GET", "/x", NULL, NULL);
	CU_ASSERT_EQUAL(req->verify, REQ_VERIFY_ABSENT);
	req_free(req);
	req = parse3("GET", "/x", "SSL_CLIENT_VERIFY=GENEROUS", NULL);
	CU_ASSERT_EQUAL(req->verify, REQ_VERIFY_GENEROUS);
	req_free(req);
	req = parse3("GET", "/x", "SSL_CLIENT_VERIFY=FAILED", NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_EQUAL(req->verify, REQ_VERIFY_FAILED);
	CU_ASSERT_PTR_NULL(req->verify_reason);
	req_free(req);
	/* lighttpd, for a CA not in ssl.ca-file: no certificate at all. */
	req = parse3("GET", "/x",
		     "SSL_CLIENT_VERIFY=FAILED:unable to get local issuer "
		     "certificate",
		     NULL);
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_EQUAL(req->verify, REQ_VERIFY_FAILED);
	CU_ASSERT_STRING_EQUAL(req->verify_reason,
			       "unable to get local issuer certificate");
	CU_ASSERT_PTR_NULL(req->client_cert);
	req_free(req);
	CU_ASSERT_EQUAL(status_with("GET", "SSL_CLIENT_VERIFY=success"), 400);
	CU_ASSERT_EQUAL(status_with("GET", "SSL_CLIENT_VERIFY=MAYBE"), 400);
	CU_ASSERT_EQUAL(status_with("GET", "SSL_CLIENT_VERIFY=FAILED:a\nb"),
			400);
	CU_ASSERT_EQUAL(status_with("GET", "SSL_CLIENT_VERIFY=SUCCESS:x"), 400);
}

static void
test_tls_vars(void)
{
	struct request *req;

	req = parse3("GET", "/x", "HTTPS=on", "SSL_PROTOCOL=TLSv1.3");
	CU_ASSERT_EQUAL(req->status, 0);
	CU_ASSERT_EQUAL(req->https, 1);
	CU_ASSERT_STRING_EQUAL(req->tls_protocol, "TLSv1.3");
	req_free(req);
	CU_ASSERT_EQUAL(status_with("GET", "HTTPS=yes"), 400);
	CU_ASSERT_EQUAL(status_with("GET", "SSL_PROTOCOL=TLS 1.2"), 400);
}

/* --- certs-only PKCS#7 --- */

static void
test_p7(void)
{
	const uint8_t *ders[2], *p;
	uint8_t *d0 = NULL, *d1 = NULL, *der = NULL;
	size_t lens[2], b64len, derlen;
	STACK_OF(X509) * certs;
	PKCS7 *p7;
	char *b64 = NULL, *line, *nl;
	int n0, n1;

	n0 = i2d_X509(test_cert, &d0);
	n1 = i2d_X509(test_cert2, &d1);
	CU_ASSERT_FATAL(n0 > 0 && n1 > 0);
	ders[0] = d0;
	ders[1] = d1;
	lens[0] = (size_t)n0;
	lens[1] = (size_t)n1;
	CU_ASSERT_EQUAL_FATAL(p7_certs_only_b64(ders, lens, 2, &b64, &b64len),
			      0);
	/* 64-column lines. */
	for (line = b64; *line != '\0'; line = nl + 1) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(nl = strchr(line, '\n'));
		CU_ASSERT(nl - line <= 64);
	}
	CU_ASSERT_EQUAL_FATAL(
		b64_decode(b64, b64len, B64_SKIP_WS, &der, &derlen), 0);
	p = der;
	CU_ASSERT_PTR_NOT_NULL_FATAL(p7 = d2i_PKCS7(NULL, &p, (long)derlen));
	CU_ASSERT_PTR_EQUAL(p, der + derlen);
	CU_ASSERT_TRUE(PKCS7_type_is_signed(p7));
	/* No signers and no content: certs-only. */
	CU_ASSERT_EQUAL(sk_PKCS7_SIGNER_INFO_num(PKCS7_get_signer_info(p7)), 0);
	CU_ASSERT_TRUE(PKCS7_type_is_data(p7->d.sign->contents));
	CU_ASSERT_PTR_NULL(p7->d.sign->contents->d.data);
	certs = p7->d.sign->cert;
	CU_ASSERT_EQUAL_FATAL(sk_X509_num(certs), 2);
	/* In the order given: the issuing CA first. */
	CU_ASSERT_EQUAL(X509_cmp(sk_X509_value(certs, 0), test_cert), 0);
	CU_ASSERT_EQUAL(X509_cmp(sk_X509_value(certs, 1), test_cert2), 0);
	PKCS7_free(p7);
	/* Garbage is refused rather than wrapped. */
	lens[1] = lens[1] - 1;
	CU_ASSERT_EQUAL(p7_certs_only_b64(ders, lens, 2, &b64, &b64len),
			EST_E_BADASN1);
	CU_ASSERT_EQUAL(p7_certs_only_b64(ders, lens, 0, &b64, &b64len),
			EST_E_INVAL);
	free(b64);
	free(der);
	OPENSSL_free(d0);
	OPENSSL_free(d1);
}

int
test_req_tls_suites(void)
{
	static CU_TestInfo tls_tests[] = {
		{"client certificate as PEM (lighttpd, Apache)", test_cert_pem},
		{"client certificate URL-encoded (nginx)", test_cert_nginx},
		{"bad client certificates", test_cert_bad},
		{"a thread's parsed client certificates", test_cert_cache},
		{"SSL_CLIENT_VERIFY forms", test_verify},
		{"HTTPS and SSL_PROTOCOL", test_tls_vars},
		{"certs-only PKCS#7", test_p7},
		{NULL, NULL},
	};

	return test_add_suite("tls", cert_suite_init, cert_suite_cleanup,
			      tls_tests);
}
