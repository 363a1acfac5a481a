/*
 * The EST load client (estload.h): factory certificates minted in
 * process, CSRs, the simpleenroll exchange and the check of its answer.
 * The transport is bench/https.c, which accepts loopback targets only.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "estload.h"

static void
seterr(char *err, size_t errlen, const char *what)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", what);
}

/* --- The factory CA --- */

int
estload_ca_load(const char *certfile, const char *keyfile,
		struct estload_ca *ca, char *err, size_t errlen)
{
	FILE *fp;

	memset(ca, 0, sizeof(*ca));
	if (certfile == NULL || keyfile == NULL) {
		seterr(err, errlen, "no factory CA certificate or key file");
		return -1;
	}
	if ((fp = fopen(certfile, "r")) != NULL) {
		ca->cert = PEM_read_X509(fp, NULL, NULL, NULL);
		fclose(fp);
	}
	if ((fp = fopen(keyfile, "r")) != NULL) {
		ca->key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
		fclose(fp);
	}
	if (ca->cert == NULL || ca->key == NULL ||
	    X509_check_private_key(ca->cert, ca->key) != 1) {
		seterr(err, errlen,
		       "cannot read the factory CA's certificate and key");
		estload_ca_clear(ca);
		return -1;
	}
	return 0;
}

void
estload_ca_clear(struct estload_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	memset(ca, 0, sizeof(*ca));
}

/* --- Devices --- */

void
estload_fphex(X509 *x, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	int i;

	out[0] = '\0';
	if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
		return;
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int
add_ext(X509 *x, X509V3_CTX *v, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v, nid, value);
	int ok = e != NULL && X509_add_ext(x, e, -1) == 1;

	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

static int
name_add(X509_NAME *n, const char *field, const char *value)
{
	return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
					  (const unsigned char *)value, -1, -1,
					  0) == 1
		       ? 0
		       : -1;
}

int
estload_dev_set(X509 *cert, EVP_PKEY *key, struct estload_dev *d)
{
	unsigned int n = 0;

	memset(d, 0, sizeof(*d));
	if (X509_digest(cert, EVP_sha256(), d->fp, &n) != 1 || n != 32 ||
	    X509_check_private_key(cert, key) != 1)
		return -1;
	estload_fphex(cert, d->fphex);
	d->factory = cert;
	d->fkey = key;
	return 0;
}

int
estload_dev_mint(const struct estload_ca *ca, const char *name,
		 struct estload_dev *d)
{
	unsigned char serial[16];
	EVP_PKEY *k = NULL;
	BIGNUM *bn = NULL;
	X509_NAME *n;
	X509V3_CTX v;
	X509 *x = NULL;
	int ok = 0;

	memset(d, 0, sizeof(*d));
	if (strlen(name) > 64 || (k = EVP_EC_gen("P-256")) == NULL ||
	    RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] = (serial[0] & 0x3f) | 0x40;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    (x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
	    (n = X509_get_subject_name(x)) == NULL ||
	    name_add(n, "CN", name) != 0 ||
	    name_add(n, "serialNumber", name) != 0 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) == NULL ||
	    X509_set_pubkey(x, k) != 1)
		goto out;
	X509V3_set_ctx(&v, ca->cert, x, NULL, NULL, 0);
	if (add_ext(x, &v, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, &v, NID_key_usage, "critical,digitalSignature") != 0 ||
	    add_ext(x, &v, NID_ext_key_usage, "clientAuth") != 0 ||
	    add_ext(x, &v, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, &v, NID_authority_key_identifier, "keyid:always") != 0 ||
	    X509_sign(x, ca->key, EVP_sha256()) <= 0 ||
	    estload_dev_set(x, k, d) != 0)
		goto out;
	x = NULL;
	k = NULL;
	ok = 1;
out:
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

void
estload_dev_clear(struct estload_dev *d)
{
	X509_free(d->factory);
	EVP_PKEY_free(d->fkey);
	memset(d, 0, sizeof(*d));
}

int
estload_devs_write(FILE *fp, const struct estload_dev *devs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (PEM_write_X509(fp, devs[i].factory) != 1 ||
		    PEM_write_PrivateKey(fp, devs[i].fkey, NULL, NULL, 0, NULL,
					 NULL) != 1)
			return -1;
	return fflush(fp) == 0 ? 0 : -1;
}

int
estload_devs_read(FILE *fp, struct estload_dev **devs, size_t *n)
{
	struct estload_dev *v = NULL, *nv;
	size_t cnt = 0, cap = 0, i;
	EVP_PKEY *k;
	X509 *x;

	while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
		if ((k = PEM_read_PrivateKey(fp, NULL, NULL, NULL)) == NULL) {
			X509_free(x);
			goto fail;
		}
		if (cnt == cap) {
			cap = cap == 0 ? 256 : 2 * cap;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				X509_free(x);
				EVP_PKEY_free(k);
				goto fail;
			}
			v = nv;
		}
		if (estload_dev_set(x, k, &v[cnt]) != 0) {
			X509_free(x);
			EVP_PKEY_free(k);
			goto fail;
		}
		cnt++;
	}
	/* The end of the file, not a bad PEM block. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE ||
	    cnt == 0)
		goto fail;
	ERR_clear_error();
	*devs = v;
	*n = cnt;
	return 0;
fail:
	for (i = 0; i < cnt; i++)
		estload_dev_clear(&v[i]);
	free(v);
	return -1;
}

/* --- Requests --- */

char *
estload_b64(const uint8_t *der, size_t len, size_t *outlen)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);
	int n;

	if (s == NULL)
		return NULL;
	n = EVP_EncodeBlock((unsigned char *)s, der, (int)len);
	if (n < 0) {
		free(s);
		return NULL;
	}
	s[n] = '\0';
	*outlen = (size_t)n;
	return s;
}

int
estload_csr(const char *cn, EVP_PKEY **key, char **b64, size_t *b64len)
{
	unsigned char *der = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *k = NULL;
	char *s = NULL;
	int len, ok = 0;

	if ((k = EVP_EC_gen("P-256")) == NULL ||
	    (req = X509_REQ_new()) == NULL ||
	    name_add(X509_REQ_get_subject_name(req), "CN", cn) != 0 ||
	    X509_REQ_set_pubkey(req, k) != 1 ||
	    X509_REQ_sign(req, k, EVP_sha256()) <= 0 ||
	    (len = i2d_X509_REQ(req, &der)) <= 0 ||
	    (s = estload_b64(der, (size_t)len, b64len)) == NULL)
		goto out;
	*key = k;
	*b64 = s;
	k = NULL;
	ok = 1;
out:
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

char *
estload_request(const char *path, const char *extra, const char *b64,
		size_t b64len, int close, size_t *len)
{
	size_t cap = strlen(path) + b64len + 512 +
		     (extra != NULL ? strlen(extra) : 0);
	char *req = malloc(cap);
	int n;

	if (req == NULL)
		return NULL;
	n = snprintf(req, cap,
		     "POST %s HTTP/1.1\r\nHost: %s\r\n%s%s"
		     "Content-Type: application/pkcs10\r\n"
		     "Content-Transfer-Encoding: base64\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     path, https_hosthdr, extra != NULL ? extra : "",
		     close ? "Connection: close\r\n" : "", b64len, b64);
	if (n < 0 || (size_t)n >= cap) {
		free(req);
		return NULL;
	}
	*len = (size_t)n;
	return req;
}

/* --- Answers --- */

/* Decodes base64 with any whitespace into a malloc'ed buffer. */
static unsigned char *
b64_decode(const char *in, size_t len, size_t *outlen)
{
	unsigned char *clean, *out = NULL;
	size_t i, n = 0, pad = 0;
	int dn;

	if ((clean = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		if (in[i] != ' ' && in[i] != '\t' && in[i] != '\r' &&
		    in[i] != '\n')
			clean[n++] = (unsigned char)in[i];
	if (n == 0 || n % 4 != 0 || (out = malloc(n / 4 * 3 + 1)) == NULL)
		goto fail;
	while (pad < 2 && clean[n - 1 - pad] == '=')
		pad++;
	if ((dn = EVP_DecodeBlock(out, clean, (int)n)) < 0 || (size_t)dn < pad)
		goto fail;
	free(clean);
	*outlen = (size_t)dn - pad;
	return out;
fail:
	free(clean);
	free(out);
	return NULL;
}

/* The certificates of a base64 certs-only PKCS#7, borrowed from *p7. */
static STACK_OF(X509) * p7_decode(const char *body, size_t len, PKCS7 **p7)
{
	const unsigned char *p;
	unsigned char *der;
	STACK_OF(X509) *certs = NULL;
	size_t derlen;

	*p7 = NULL;
	if ((der = b64_decode(body, len, &derlen)) == NULL)
		return NULL;
	p = der;
	if ((*p7 = d2i_PKCS7(NULL, &p, (long)derlen)) != NULL &&
	    p == der + derlen && PKCS7_type_is_signed(*p7) &&
	    (*p7)->d.sign != NULL && (certs = (*p7)->d.sign->cert) != NULL &&
	    sk_X509_num(certs) < 1)
		certs = NULL;
	free(der);
	return certs;
}

int
estload_p7_certs(const char *body, size_t len, STACK_OF(X509) * *out)
{
	STACK_OF(X509) * certs;
	PKCS7 *p7;
	int ok = -1;

	if ((certs = p7_decode(body, len, &p7)) != NULL &&
	    (*out = X509_chain_up_ref(certs)) != NULL)
		ok = 0;
	PKCS7_free(p7);
	return ok;
}

int
estload_check(const char *body, size_t len, EVP_PKEY *key, X509 **out,
	      char *err, size_t errlen)
{
	STACK_OF(X509) * certs;
	PKCS7 *p7 = NULL;
	int i, ok = -1;

	if ((certs = p7_decode(body, len, &p7)) == NULL) {
		seterr(err, errlen,
		       "the answer is not a base64 certs-only PKCS#7");
		goto out;
	}
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1)
			continue;
		if (out != NULL) {
			if (X509_up_ref(x) != 1)
				goto out;
			*out = x;
		}
		ok = 0;
		goto out;
	}
	seterr(err, errlen, "no certificate in the answer has the CSR's key");
out:
	PKCS7_free(p7);
	return ok;
}

/* --- One enrollment --- */

int
estload_enroll(const char *path, const struct estload_dev *d,
	       void (*sync)(void *), void *arg, int *status, char issued[65],
	       char *err, size_t errlen)
{
	struct https_conn cn = {.fd = -1, .ssl = NULL, .len = 0};
	struct https_resp r;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	char *b64 = NULL, *req = NULL;
	size_t b64len = 0, reqlen = 0;
	int ret = -1, connected = 0;

	*status = 0;
	issued[0] = '\0';
	r.body = NULL;
	if (estload_csr(d->fphex, &k, &b64, &b64len) != 0 ||
	    (req = estload_request(path, NULL, b64, b64len, 1, &reqlen)) ==
		    NULL) {
		seterr(err, errlen, "cannot make the CSR");
		goto out;
	}
	connected = https_open_cert(&cn, d->factory, d->fkey) == 0;
	if (sync != NULL)
		sync(arg);
	if (!connected) {
		seterr(err, errlen, "TLS handshake failed");
		goto out;
	}
	if (https_write(&cn, req, reqlen) != 0 ||
	    https_response(&cn, &r, 1) != 0) {
		seterr(err, errlen, "no answer");
		goto out;
	}
	*status = r.status;
	if (r.status != 200) {
		seterr(err, errlen, r.body != NULL ? r.body : "");
		ret = 0;
		goto out;
	}
	if (estload_check(r.body, r.bodylen, k, &x, err, errlen) != 0)
		goto out;
	estload_fphex(x, issued);
	ret = 0;
out:
	if (connected)
		https_close(&cn);
	free(r.body);
	X509_free(x);
	free(req);
	free(b64);
	EVP_PKEY_free(k);
	return ret;
}
