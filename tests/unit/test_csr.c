/*
 * Unit tests of lib/csr: the CSR intake path of the API and of EST.  Every
 * request is made here with OpenSSL, so that the good ones are what real
 * clients send and the bad ones differ from a good one in one known way.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "csr.h"
#include "err.h"
#include "harness.h"
#include "sigproto.h"

static EVP_PKEY *k_p256, *k_p256b, *k_p384, *k_rsa;

static int
keys_init(void)
{
	k_p256 = EVP_EC_gen("P-256");
	k_p256b = EVP_EC_gen("P-256");
	k_p384 = EVP_EC_gen("P-384");
	k_rsa = EVP_RSA_gen(2048);
	return k_p256 == NULL || k_p256b == NULL || k_p384 == NULL ||
	       k_rsa == NULL;
}

static int
keys_free(void)
{
	EVP_PKEY_free(k_p256);
	EVP_PKEY_free(k_p256b);
	EVP_PKEY_free(k_p384);
	EVP_PKEY_free(k_rsa);
	return 0;
}

/* A request for pub with CN=cn, not yet signed. */
static X509_REQ *
req_new(EVP_PKEY *pub, const char *cn)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *nm = X509_NAME_new();

	CU_ASSERT_FATAL(req != NULL && nm != NULL);
	if (cn != NULL)
		CU_ASSERT_FATAL(X509_NAME_add_entry_by_txt(
			nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
			-1, 0));
	CU_ASSERT_FATAL(X509_REQ_set_subject_name(req, nm));
	CU_ASSERT_FATAL(X509_REQ_set_pubkey(req, pub));
	X509_NAME_free(nm);
	return req;
}

static void
req_add_ext(X509_REQ *req, X509_EXTENSION *x)
{
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();

	CU_ASSERT_FATAL(exts != NULL && x != NULL);
	sk_X509_EXTENSION_push(exts, x);
	CU_ASSERT_FATAL(X509_REQ_add_extensions(req, exts));
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

/* Signs with key (digest md, NULL for Ed25519) and returns the DER. */
static uint8_t *
req_der(X509_REQ *req, EVP_PKEY *key, const EVP_MD *md, size_t *len)
{
	unsigned char *der = NULL;
	int n;

	CU_ASSERT_FATAL(X509_REQ_sign(req, key, md) > 0);
	n = i2d_X509_REQ(req, &der);
	CU_ASSERT_FATAL(n > 0);
	*len = (size_t)n;
	X509_REQ_free(req);
	return der;
}

static uint8_t *
simple_der(EVP_PKEY *key, const char *cn, size_t *len)
{
	return req_der(req_new(key, cn), key, EVP_sha256(), len);
}

/* Base64 of der in lines of cols characters (0: one line). */
static char *
b64(const uint8_t *der, size_t len, size_t cols, int final_nl)
{
	size_t n = 4 * ((len + 2) / 3), i, o = 0;
	unsigned char *flat = malloc(n + 1);
	char *out = malloc(2 * n + 4);

	CU_ASSERT_FATAL(flat != NULL && out != NULL);
	CU_ASSERT_FATAL(EVP_EncodeBlock(flat, der, (int)len) == (int)n);
	for (i = 0; i < n; i++) {
		if (cols > 0 && i > 0 && i % cols == 0)
			out[o++] = '\n';
		out[o++] = (char)flat[i];
	}
	if (final_nl)
		out[o++] = '\n';
	out[o] = '\0';
	free(flat);
	return out;
}

/* Replaces the only occurrence of n bytes from with to in der. */
static void
patch(uint8_t *der, size_t len, const void *from, const void *to, size_t n)
{
	uint8_t *p = memmem(der, len, from, n);

	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_FATAL(memmem(p + 1, len - (size_t)(p + 1 - der), from, n) ==
			NULL);
	memcpy(p, to, n);
}

/* Appends a DER header for tag and length len to b at *o. */
static void
put_hdr(uint8_t *b, size_t *o, uint8_t tag, size_t len)
{
	b[(*o)++] = tag;
	if (len < 0x80) {
		b[(*o)++] = (uint8_t)len;
	} else if (len < 0x100) {
		b[(*o)++] = 0x81;
		b[(*o)++] = (uint8_t)len;
	} else if (len < 0x10000) {
		b[(*o)++] = 0x82;
		b[(*o)++] = (uint8_t)(len >> 8);
		b[(*o)++] = (uint8_t)len;
	} else {
		b[(*o)++] = 0x83;
		b[(*o)++] = (uint8_t)(len >> 16);
		b[(*o)++] = (uint8_t)(len >> 8);
		b[(*o)++] = (uint8_t)len;
	}
}

static size_t
hdr_len(size_t len)
{
	return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : 5;
}

/*
 * A P-256 request with nattr attributes of the same type, built by hand
 * and properly signed: OpenSSL refuses to add a duplicate attribute.
 * The CertificationRequestInfo of a request without attributes ends in
 * the empty [0] (a0 00), which is replaced.
 */
static uint8_t *
many_attrs(size_t nattr, size_t *outlen)
{
	static const uint8_t attr[] = {0x30, 0x10, 0x06, 0x09, 0x2b, 0x06,
				       0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f,
				       0x02, 0x31, 0x03, 0x0c, 0x01, 0x76};
	static const uint8_t sigalg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
					 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
	const unsigned char *p;
	unsigned char sig[80];
	uint8_t *der, *cri = NULL, *b;
	size_t len, crilen, body, alen, o = 0, cl, siglen = sizeof(sig), i;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	X509_REQ *req;
	int n;

	der = simple_der(k_p256, "x", &len);
	p = der;
	CU_ASSERT_FATAL((req = d2i_X509_REQ(NULL, &p, (long)len)) != NULL);
	n = i2d_re_X509_REQ_tbs(req, &cri);
	CU_ASSERT_FATAL(n > 4 && cri[n - 2] == 0xa0 && cri[n - 1] == 0);
	crilen = (size_t)n;
	/* Content of the old CRI without its header and its a0 00. */
	body = crilen - hdr_len(crilen - hdr_len(crilen)) - 2;
	alen = nattr * sizeof(attr);
	cl = body + hdr_len(alen) + alen;
	b = malloc(hdr_len(cl) + cl + sizeof(sigalg) + sizeof(sig) + 16);
	CU_ASSERT_FATAL(b != NULL);
	put_hdr(b, &o, 0x30, cl);
	memcpy(b + o, cri + crilen - 2 - body, body);
	o += body;
	put_hdr(b, &o, 0xa0, alen);
	for (i = 0; i < nattr; i++, o += sizeof(attr))
		memcpy(b + o, attr, sizeof(attr));
	CU_ASSERT_FATAL(
		EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k_p256) == 1);
	CU_ASSERT_FATAL(EVP_DigestSign(md, sig, &siglen, b, o) == 1);
	/* The outer SEQUENCE, built around the signed info. */
	cl = o + sizeof(sigalg) + hdr_len(siglen + 1) + siglen + 1;
	OPENSSL_free(der);
	der = malloc(hdr_len(cl) + cl);
	CU_ASSERT_FATAL(der != NULL);
	len = 0;
	put_hdr(der, &len, 0x30, cl);
	memcpy(der + len, b, o);
	len += o;
	memcpy(der + len, sigalg, sizeof(sigalg));
	len += sizeof(sigalg);
	put_hdr(der, &len, 0x03, siglen + 1);
	der[len++] = 0;
	memcpy(der + len, sig, siglen);
	len += siglen;
	*outlen = len;
	free(b);
	OPENSSL_free(cri);
	X509_REQ_free(req);
	EVP_MD_CTX_free(md);
	return der;
}

static int
parse(const void *in, size_t len, enum csr_form form, struct csr **out,
      struct csr_error *err)
{
	int r = csr_parse(in, len, form, out, err);

	CU_ASSERT_EQUAL(r, err->code);
	if (r != 0) {
		CU_ASSERT(err->message[0] != '\0');
		CU_ASSERT(err->field[0] != '\0');
	}
	return r;
}

/* Parses, expects refusal with code; returns the error for checks. */
static struct csr_error
refuse(const void *in, size_t len, enum csr_form form, int code)
{
	struct csr *c = NULL;
	struct csr_error err;
	int r = parse(in, len, form, &c, &err);

	if (r != code)
		fprintf(stderr, "got %d (%s: %s), want %d\n", r, err.field,
			err.message, code);
	CU_ASSERT_EQUAL(r, code);
	CU_ASSERT_PTR_NULL(c);
	csr_free(c);
	return err;
}

static void
test_good_forms(void)
{
	static const char *const tails[] = {"", "\n", "\r\n", "  \n\n"};
	EVP_PKEY *keys[] = {k_p256, k_p384, k_rsa};
	int types[] = {SIGNER_KEY_EC_P256, SIGNER_KEY_EC_P384,
		       SIGNER_KEY_RSA_2048};
	struct csr_error err;
	struct csr *c;
	const unsigned char *p;
	uint8_t *der, *spki = NULL;
	char *text, *pem;
	size_t len, i, k, cols;
	BIO *bio;
	X509_REQ *req;
	int nl, n;

	for (i = 0; i < 3; i++) {
		der = simple_der(keys[i], "device-1", &len);
		CU_ASSERT_EQUAL_FATAL(parse(der, len, CSR_FORM_DER, &c, &err),
				      0);
		CU_ASSERT_EQUAL(c->keytype, types[i]);
		CU_ASSERT_EQUAL(c->nsubject, 1);
		CU_ASSERT_STRING_EQUAL(c->subject[0].oid, "2.5.4.3");
		CU_ASSERT_STRING_EQUAL(c->subject[0].value, "device-1");
		CU_ASSERT_EQUAL(c->derlen, len);
		CU_ASSERT(memcmp(c->der, der, len) == 0);
		/* The SPKI is the CSR's own bytes, as i2d writes them. */
		n = i2d_PUBKEY(keys[i], &spki);
		CU_ASSERT_EQUAL(c->spkilen, (size_t)n);
		CU_ASSERT(n > 0 && memcmp(c->spki, spki, (size_t)n) == 0);
		CU_ASSERT(c->spki > c->der &&
			  c->spki + c->spkilen < c->der + len);
		OPENSSL_free(spki);
		spki = NULL;
		CU_ASSERT_PTR_NULL(c->challenge);
		CU_ASSERT_EQUAL(c->next, 0);
		csr_free(c);

		/* Base64: one line or 64/76 columns, final newline or not. */
		for (cols = 0; cols <= 76; cols += cols == 0 ? 64 : 12)
			for (nl = 0; nl < 2; nl++) {
				text = b64(der, len, cols, nl);
				c = NULL;
				CU_ASSERT_EQUAL(parse(text, strlen(text),
						      CSR_FORM_BASE64, &c,
						      &err),
						0);
				CU_ASSERT(c != NULL && c->derlen == len &&
					  memcmp(c->der, der, len) == 0);
				csr_free(c);
				free(text);
			}

		/* PEM as OpenSSL writes it, with whitespace around. */
		p = der;
		req = d2i_X509_REQ(NULL, &p, (long)len);
		CU_ASSERT_FATAL(req != NULL);
		bio = BIO_new(BIO_s_mem());
		CU_ASSERT_FATAL(PEM_write_bio_X509_REQ(bio, req));
		n = (int)BIO_get_mem_data(bio, &text);
		for (k = 0; k < 4; k++) {
			pem = malloc((size_t)n + 16);
			CU_ASSERT_FATAL(pem != NULL);
			snprintf(pem, (size_t)n + 16, "%s%.*s%s",
				 k == 3 ? "\n " : "", n, text, tails[k]);
			CU_ASSERT_EQUAL(
				parse(pem, strlen(pem), CSR_FORM_PEM, &c, &err),
				0);
			csr_free(c);
			free(pem);
		}
		BIO_free(bio);
		bio = BIO_new(BIO_s_mem());
		CU_ASSERT_FATAL(PEM_write_bio_X509_REQ_NEW(bio, req));
		n = (int)BIO_get_mem_data(bio, &text);
		CU_ASSERT(strstr(text, "NEW CERTIFICATE REQUEST") != NULL);
		CU_ASSERT_EQUAL(parse(text, (size_t)n, CSR_FORM_PEM, &c, &err),
				0);
		csr_free(c);
		BIO_free(bio);
		X509_REQ_free(req);
		OPENSSL_free(der);
	}
	csr_free(NULL);
}

static void
test_truncated_trailing(void)
{
	struct csr_error err;
	uint8_t *der, *more;
	char *text;
	size_t len, cut;

	der = simple_der(k_p256, "device-1", &len);
	for (cut = 1; cut < len; cut += cut < 8 ? 1 : 37)
		refuse(der, len - cut, CSR_FORM_DER, EST_E_BADASN1);
	refuse(der, 0, CSR_FORM_DER, EST_E_BADASN1);
	more = malloc(len + 1);
	CU_ASSERT_FATAL(more != NULL);
	memcpy(more, der, len);
	more[len] = 0;
	err = refuse(more, len + 1, CSR_FORM_DER, EST_E_BADASN1);
	CU_ASSERT(strstr(err.message, "trailing") != NULL);
	free(more);
	/* Base64 cut in the middle of a quantum, and one with junk. */
	text = b64(der, len, 64, 1);
	refuse(text, strlen(text) - 10, CSR_FORM_BASE64, EST_E_BADASN1);
	refuse(text, 4 * 10 + 1, CSR_FORM_BASE64, EST_E_BADASN1);
	text[5] = '*';
	refuse(text, strlen(text), CSR_FORM_BASE64, EST_E_BADASN1);
	free(text);
	refuse("   \n", 4, CSR_FORM_BASE64, EST_E_BADASN1);
	OPENSSL_free(der);
}

static void
test_pem_shapes(void)
{
	X509_REQ *req;
	BIO *bio = BIO_new(BIO_s_mem());
	uint8_t *der;
	char *text, *two;
	const unsigned char *p;
	size_t len;
	int n;

	der = simple_der(k_p256, "device-1", &len);
	p = der;
	CU_ASSERT_FATAL((req = d2i_X509_REQ(NULL, &p, (long)len)) != NULL);
	CU_ASSERT_FATAL(PEM_write_bio_X509_REQ(bio, req));
	n = (int)BIO_get_mem_data(bio, &text);
	two = malloc(2 * (size_t)n + 1);
	CU_ASSERT_FATAL(two != NULL);
	memcpy(two, text, (size_t)n);
	memcpy(two + n, text, (size_t)n);
	refuse(two, 2 * (size_t)n, CSR_FORM_PEM, EST_E_BADASN1);
	memcpy(two, "junk", 4);
	memcpy(two + 4, text, (size_t)n);
	refuse(two, (size_t)n + 4, CSR_FORM_PEM, EST_E_BADASN1);
	memcpy(two, text, (size_t)n);
	memcpy(two + n, "x", 1);
	refuse(two, (size_t)n + 1, CSR_FORM_PEM, EST_E_BADASN1);
	/* A certificate label, and the DER given as PEM. */
	memcpy(two, text, (size_t)n);
	memcpy(two + 11, "CERTIFICATE--------", 19);
	refuse(two, (size_t)n, CSR_FORM_PEM, EST_E_BADASN1);
	refuse(der, len, CSR_FORM_PEM, EST_E_BADASN1);
	refuse(der, len, CSR_FORM_BASE64, EST_E_BADASN1);
	free(two);
	BIO_free(bio);
	X509_REQ_free(req);
	OPENSSL_free(der);
}

static void
test_signature(void)
{
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	struct csr_error err;
	struct csr *c = NULL;
	X509_REQ *a, *b;
	uint8_t *da, *db, *out = NULL;
	const unsigned char *p;
	size_t la, lb;
	int n;

	/* Another CSR's signature over this CSR's info. */
	da = simple_der(k_p256, "device-a", &la);
	db = simple_der(k_p256, "device-b", &lb);
	p = da;
	a = d2i_X509_REQ(NULL, &p, (long)la);
	p = db;
	b = d2i_X509_REQ(NULL, &p, (long)lb);
	CU_ASSERT_FATAL(a != NULL && b != NULL);
	X509_REQ_get0_signature(b, &sig, &alg);
	X509_REQ_set0_signature(a, ASN1_STRING_dup(sig));
	n = i2d_X509_REQ(a, &out);
	CU_ASSERT_FATAL(n > 0);
	err = refuse(out, (size_t)n, CSR_FORM_DER, EST_E_INVAL);
	CU_ASSERT_STRING_EQUAL(err.field, "signature");
	CU_ASSERT_EQUAL(est_err_http_status(err.code), 400);
	OPENSSL_free(out);
	X509_REQ_free(a);
	X509_REQ_free(b);
	OPENSSL_free(da);
	OPENSSL_free(db);

	/* The key of the request is not the key that signed it. */
	da = req_der(req_new(k_p256, "device-a"), k_p256b, EVP_sha256(), &la);
	refuse(da, la, CSR_FORM_DER, EST_E_INVAL);
	OPENSSL_free(da);

	/* SHA-1 is not in the allow list; SHA-384 and SHA-512 are. */
	da = req_der(req_new(k_p256, "x"), k_p256, EVP_sha1(), &la);
	err = refuse(da, la, CSR_FORM_DER, EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "signatureAlgorithm");
	OPENSSL_free(da);
	da = req_der(req_new(k_p384, "x"), k_p384, EVP_sha384(), &la);
	CU_ASSERT_EQUAL(parse(da, la, CSR_FORM_DER, &c, &err), 0);
	CU_ASSERT_EQUAL(c->sig_nid, NID_ecdsa_with_SHA384);
	csr_free(c);
	OPENSSL_free(da);
	da = req_der(req_new(k_rsa, "x"), k_rsa, EVP_sha512(), &la);
	CU_ASSERT_EQUAL(parse(da, la, CSR_FORM_DER, &c, &err), 0);
	CU_ASSERT_EQUAL(c->sig_nid, NID_sha512WithRSAEncryption);
	csr_free(c);
	OPENSSL_free(da);
}

/* 10,000 attributes is over the input cap; 33 is over the count cap. */
static void
test_attribute_caps(void)
{
	struct csr_error err;
	struct csr *c;
	uint8_t *der;
	char *text;
	size_t len;

	der = many_attrs(10000, &len);
	CU_ASSERT(len > CSR_INPUT_MAX);
	err = refuse(der, len, CSR_FORM_DER, EST_E_TOOBIG);
	CU_ASSERT_EQUAL(est_err_http_status(err.code), 413);
	text = b64(der, len, 64, 1);
	refuse(text, strlen(text), CSR_FORM_BASE64, EST_E_TOOBIG);
	free(text);
	free(der);

	/*
	 * 33 attributes fit in the input but not in the count.  The
	 * signature is broken too: the count must refuse it first, before
	 * anything is decoded or verified.
	 */
	der = many_attrs(CSR_ATTR_MAX + 1, &len);
	CU_ASSERT(len < CSR_INPUT_MAX);
	der[len - 1] ^= 1;
	err = refuse(der, len, CSR_FORM_DER, EST_E_TOOBIG);
	CU_ASSERT_STRING_EQUAL(err.field, "attributes");
	free(der);

	/* The builder makes good requests; duplicates are refused. */
	der = many_attrs(1, &len);
	CU_ASSERT_EQUAL(parse(der, len, CSR_FORM_DER, &c, &err), 0);
	csr_free(c);
	free(der);
	der = many_attrs(2, &len);
	err = refuse(der, len, CSR_FORM_DER, EST_E_BADASN1);
	CU_ASSERT(strstr(err.message, "duplicate") != NULL);
	free(der);
}

static void
test_subject(void)
{
	static const unsigned char surrogate[] = {0x1e, 0x04, 0xd8,
						  0x00, 0x00, 0x41};
	static const unsigned char bmp[] = {0x00, 0x41, 0x00, 0xe9};
	struct csr_error err;
	struct csr *c;
	X509_NAME *nm;
	X509_REQ *req;
	uint8_t *der;
	size_t len;

	/* An unknown OID is kept as OID text; BMPString becomes UTF-8. */
	req = req_new(k_p256, "device-1");
	nm = X509_REQ_get_subject_name(req);
	CU_ASSERT_FATAL(X509_NAME_add_entry_by_txt(
		nm, "1.3.6.1.4.1.99999.7", V_ASN1_UTF8STRING,
		(const unsigned char *)"Z\xc3\xbcrich", -1, -1, 0));
	CU_ASSERT_FATAL(X509_NAME_add_entry_by_txt(nm, "O", V_ASN1_BMPSTRING,
						   bmp, sizeof(bmp), -1, 0));
	CU_ASSERT_FATAL(X509_NAME_add_entry_by_txt(
		nm, "C", V_ASN1_PRINTABLESTRING, (const unsigned char *)"CH",
		-1, -1, 0));
	der = req_der(req, k_p256, EVP_sha256(), &len);
	CU_ASSERT_EQUAL_FATAL(parse(der, len, CSR_FORM_DER, &c, &err), 0);
	CU_ASSERT_EQUAL_FATAL(c->nsubject, 4);
	CU_ASSERT_STRING_EQUAL(c->subject[1].oid, "1.3.6.1.4.1.99999.7");
	CU_ASSERT_EQUAL(c->subject[1].nid, NID_undef);
	CU_ASSERT_STRING_EQUAL(c->subject[1].value, "Z\xc3\xbcrich");
	CU_ASSERT_STRING_EQUAL(c->subject[2].oid, "2.5.4.10");
	CU_ASSERT_STRING_EQUAL(c->subject[2].value, "A\xc3\xa9");
	CU_ASSERT_STRING_EQUAL(c->subject[3].value, "CH");
	csr_free(c);
	OPENSSL_free(der);

	/* Embedded NUL in a UTF8String CN. */
	req = req_new(k_p256, NULL);
	CU_ASSERT_FATAL(X509_NAME_add_entry_by_txt(
		X509_REQ_get_subject_name(req), "CN", V_ASN1_UTF8STRING,
		(const unsigned char *)"evil\0.example.com", 17, -1, 0));
	der = req_der(req, k_p256, EVP_sha256(), &len);
	err = refuse(der, len, CSR_FORM_DER, EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "subject[0]");
	CU_ASSERT_EQUAL(est_err_http_status(err.code), 422);
	OPENSSL_free(der);

	/*
	 * Invalid UTF-8, a BMPString surrogate, a bad PrintableString:
	 * OpenSSL will not encode these, so good values are patched in the
	 * DER (the subject is checked before the signature).
	 */
	req = req_new(k_p256, NULL);
	nm = X509_REQ_get_subject_name(req);
	CU_ASSERT_FATAL(X509_NAME_add_entry_by_txt(nm, "CN", V_ASN1_UTF8STRING,
						   (const unsigned char *)"qq",
						   2, -1, 0));
	CU_ASSERT_FATAL(X509_NAME_add_entry_by_txt(
		nm, "O", V_ASN1_BMPSTRING, (const unsigned char *)"\0q\0q", 4,
		-1, 0));
	CU_ASSERT_FATAL(X509_NAME_add_entry_by_txt(
		nm, "C", V_ASN1_PRINTABLESTRING, (const unsigned char *)"CH",
		-1, -1, 0));
	der = req_der(req, k_p256, EVP_sha256(), &len);
	CU_ASSERT_EQUAL(parse(der, len, CSR_FORM_DER, &c, &err), 0);
	csr_free(c);
	patch(der, len, "\x0c\x02qq", "\x0c\x02\xc0\xaf", 4);
	/* OpenSSL's decoder already refuses these two (name canon). */
	refuse(der, len, CSR_FORM_DER, EST_E_BADASN1);
	patch(der, len, "\x0c\x02\xc0\xaf", "\x0c\x02qq", 4);
	patch(der, len, "\x1e\x04\0q\0q", surrogate, 6);
	refuse(der, len, CSR_FORM_DER, EST_E_BADASN1);
	patch(der, len, surrogate, "\x1e\x04\0q\0q", 6);
	patch(der, len,
	      "\x13\x02"
	      "CH",
	      "\x13\x02"
	      "C@",
	      4);
	err = refuse(der, len, CSR_FORM_DER, EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "subject[2]");
	OPENSSL_free(der);

	/* An empty subject is allowed (Wi-SUN devices have one). */
	der = simple_der(k_p256, NULL, &len);
	CU_ASSERT_EQUAL(parse(der, len, CSR_FORM_DER, &c, &err), 0);
	CU_ASSERT_EQUAL(c->nsubject, 0);
	csr_free(c);
	OPENSSL_free(der);
}

/* DER of SEQUENCE { hwType OID, hwSerialNum OCTET STRING }. */
static const uint8_t hmn_der[] = {0x30, 0x0f, 0x06, 0x09, 0x2b, 0x06,
				  0x01, 0x04, 0x01, 0x82, 0xe4, 0x25,
				  0x01, 0x04, 0x02, 0xab, 0xcd};

static X509_EXTENSION *
san_ext(int n, int critical)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	ASN1_OCTET_STRING *ip = ASN1_OCTET_STRING_new();
	ASN1_STRING *seq = ASN1_STRING_new();
	ASN1_TYPE *val = ASN1_TYPE_new();
	X509_EXTENSION *x;
	GENERAL_NAME *g;
	char name[32];
	int i;

	CU_ASSERT_FATAL(gens && ip && seq && val);
	CU_ASSERT_FATAL(ASN1_STRING_set(seq, hmn_der, sizeof(hmn_der)));
	ASN1_TYPE_set(val, V_ASN1_SEQUENCE, seq);
	g = GENERAL_NAME_new();
	CU_ASSERT_FATAL(GENERAL_NAME_set0_othername(
		g, OBJ_txt2obj("1.3.6.1.5.5.7.8.4", 1), val));
	sk_GENERAL_NAME_push(gens, g);
	g = GENERAL_NAME_new();
	CU_ASSERT_FATAL(ASN1_OCTET_STRING_set(
		ip, (const unsigned char *)"\xc0\x00\x02\x01", 4));
	GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
	sk_GENERAL_NAME_push(gens, g);
	for (i = 2; i < n; i++) {
		g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();
		snprintf(name, sizeof(name), "d%d.example.com", i);
		CU_ASSERT_FATAL(ASN1_STRING_set(s, name, -1));
		GENERAL_NAME_set0_value(g, i == 2 ? GEN_EMAIL : GEN_DNS, s);
		sk_GENERAL_NAME_push(gens, g);
	}
	x = X509V3_EXT_i2d(NID_subject_alt_name, critical, gens);
	GENERAL_NAMES_free(gens);
	return x;
}

static void
test_extensions(void)
{
	STACK_OF(X509_EXTENSION) * exts;
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	ASN1_OBJECT *obj;
	struct csr_error err;
	struct csr *c;
	X509_REQ *req;
	uint8_t *der;
	size_t len;

	/* Wi-SUN: critical SAN with hardwareModuleName, Wi-SUN EKU. */
	req = req_new(k_p256, NULL);
	exts = sk_X509_EXTENSION_new_null();
	sk_X509_EXTENSION_push(exts, san_ext(4, 1));
	sk_X509_EXTENSION_push(
		exts, X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage,
					  "1.3.6.1.4.1.45605.1,clientAuth"));
	sk_X509_EXTENSION_push(exts,
			       X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
						   "critical,digitalSignature,"
						   "keyAgreement"));
	CU_ASSERT_FATAL(ASN1_OCTET_STRING_set(
		os, (const unsigned char *)"\x05\x00", 2));
	obj = OBJ_txt2obj("1.3.6.1.4.1.99999.9", 1);
	sk_X509_EXTENSION_push(exts,
			       X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os));
	ASN1_OBJECT_free(obj);
	CU_ASSERT_FATAL(sk_X509_EXTENSION_num(exts) == 4);
	CU_ASSERT_FATAL(X509_REQ_add_extensions(req, exts));
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	CU_ASSERT_FATAL(X509_REQ_add1_attr_by_NID(
		req, NID_pkcs9_challengePassword, MBSTRING_UTF8,
		(const unsigned char *)"s3cret", -1));
	der = req_der(req, k_p256, EVP_sha256(), &len);
	CU_ASSERT_EQUAL_FATAL(parse(der, len, CSR_FORM_DER, &c, &err), 0);
	CU_ASSERT_EQUAL_FATAL(c->next, 4);
	CU_ASSERT_STRING_EQUAL(c->ext[0].oid, "2.5.29.17");
	CU_ASSERT(c->ext[0].known && c->ext[0].critical);
	CU_ASSERT(c->has_san && c->san_critical);
	CU_ASSERT_EQUAL_FATAL(c->nsan, 4);
	CU_ASSERT_EQUAL(c->san[0].type, CSR_SAN_OTHER);
	CU_ASSERT_STRING_EQUAL(c->san[0].oid, "1.3.6.1.5.5.7.8.4");
	CU_ASSERT_EQUAL(c->san[0].derlen, sizeof(hmn_der));
	CU_ASSERT(c->san[0].der != NULL &&
		  memcmp(c->san[0].der, hmn_der, sizeof(hmn_der)) == 0);
	CU_ASSERT_EQUAL(c->san[1].type, CSR_SAN_IP);
	CU_ASSERT_STRING_EQUAL(c->san[1].value, "192.0.2.1");
	CU_ASSERT_EQUAL(c->san[2].type, CSR_SAN_EMAIL);
	CU_ASSERT_EQUAL(c->san[3].type, CSR_SAN_DNS);
	CU_ASSERT_STRING_EQUAL(c->san[3].value, "d3.example.com");
	CU_ASSERT(c->has_eku && c->neku == 2);
	CU_ASSERT_STRING_EQUAL(c->eku[0], "1.3.6.1.4.1.45605.1");
	CU_ASSERT_STRING_EQUAL(c->eku[1], "1.3.6.1.5.5.7.3.2");
	CU_ASSERT(c->has_ku && c->ext[2].critical);
	CU_ASSERT_EQUAL(c->ku, CSR_KU_DIGITAL_SIGNATURE | CSR_KU_KEY_AGREEMENT);
	/* The unknown extension is listed, not interpreted. */
	CU_ASSERT_STRING_EQUAL(c->ext[3].oid, "1.3.6.1.4.1.99999.9");
	CU_ASSERT(!c->ext[3].known && !c->ext[3].critical);
	CU_ASSERT_FATAL(c->challenge != NULL);
	CU_ASSERT_STRING_EQUAL(c->challenge, "s3cret");
	CU_ASSERT_EQUAL(c->challengelen, 6);
	csr_free(c);
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(os);

	/* 64 SAN entries pass, 65 do not. */
	req = req_new(k_p256, NULL);
	req_add_ext(req, san_ext(CSR_SAN_MAX, 0));
	der = req_der(req, k_p256, EVP_sha256(), &len);
	CU_ASSERT_EQUAL(parse(der, len, CSR_FORM_DER, &c, &err), 0);
	CU_ASSERT(c != NULL && c->nsan == CSR_SAN_MAX);
	csr_free(c);
	OPENSSL_free(der);
	req = req_new(k_p256, NULL);
	req_add_ext(req, san_ext(CSR_SAN_MAX + 1, 0));
	der = req_der(req, k_p256, EVP_sha256(), &len);
	err = refuse(der, len, CSR_FORM_DER, EST_E_TOOBIG);
	CU_ASSERT_STRING_EQUAL(err.field, "san");
	OPENSSL_free(der);

	/* A directoryName SAN is not something we can carry over. */
	req = req_new(k_p256, NULL);
	req_add_ext(req, X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
					     "RID:1.2.3.4"));
	der = req_der(req, k_p256, EVP_sha256(), &len);
	err = refuse(der, len, CSR_FORM_DER, EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "san[0]");
	OPENSSL_free(der);
}

static void
test_keys(void)
{
	static const char *const names[] = {"ed25519", "rsa-1024",
					    "ec-secp521r1"};
	EVP_PKEY *bad[3];
	const EVP_MD *md[3] = {NULL, EVP_sha256(), EVP_sha512()};
	struct key_policy pol;
	struct csr_error err;
	struct csr *c;
	uint8_t *der;
	size_t len, i;

	bad[0] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	bad[1] = EVP_RSA_gen(1024);
	bad[2] = EVP_EC_gen("P-521");
	for (i = 0; i < 3; i++) {
		CU_ASSERT_FATAL(bad[i] != NULL);
		der = req_der(req_new(bad[i], "x"), bad[i], md[i], &len);
		err = refuse(der, len, CSR_FORM_DER, EST_E_UNPROCESSABLE);
		CU_ASSERT_STRING_EQUAL(err.field, "key");
		if (strcasestr(err.message, names[i]) == NULL)
			fprintf(stderr, "message: %s\n", err.message);
		CU_ASSERT(strcasestr(err.message, names[i]) != NULL);
		OPENSSL_free(der);
		EVP_PKEY_free(bad[i]);
	}

	der = simple_der(k_p384, "x", &len);
	CU_ASSERT_EQUAL_FATAL(parse(der, len, CSR_FORM_DER, &c, &err), 0);
	pol.allowed =
		CSR_KEYBIT(SIGNER_KEY_EC_P256) | CSR_KEYBIT(SIGNER_KEY_EC_P384);
	CU_ASSERT_EQUAL(csr_key_allowed(c, &pol, &err), 0);
	pol.allowed = CSR_KEYBIT(SIGNER_KEY_EC_P256) |
		      CSR_KEYBIT(SIGNER_KEY_RSA_2048);
	CU_ASSERT_EQUAL(csr_key_allowed(c, &pol, &err), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(err.code, EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "key");
	CU_ASSERT(strstr(err.message, "ec-p384") != NULL);
	pol.allowed = 0;
	CU_ASSERT_EQUAL(csr_key_allowed(c, &pol, &err), EST_E_UNPROCESSABLE);
	csr_free(c);
	OPENSSL_free(der);
}

static CU_TestInfo csr_tests[] = {
	{"good EC and RSA requests in PEM, DER and base64", test_good_forms},
	{"truncated input and trailing bytes are refused",
	 test_truncated_trailing},
	{"PEM must be exactly one request block", test_pem_shapes},
	{"self-signature and signature algorithm are checked", test_signature},
	{"attribute counts are capped before decoding", test_attribute_caps},
	{"subject values are checked and kept as OID and UTF-8", test_subject},
	{"requested extensions, SAN otherName and challengePassword",
	 test_extensions},
	{"unsupported keys and the key policy", test_keys},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("csr", keys_init, keys_free, csr_tests);
}
