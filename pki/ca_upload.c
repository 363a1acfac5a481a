/*
 * The certificate of a CA whose key is in our HSM but whose certificate
 * another CA signed (pki/ca.h, pki_ca_upload()).  What is checked, and
 * why:
 *  - it carries our key: otherwise the CA could never sign with it;
 *  - its subject is the request's, octet for octet: the signer signs with
 *    a CA key only what that exact issuer name issues, so a subject that
 *    another CA re-encoded (say a PrintableString made UTF8String) would
 *    give a CA whose every signature is refused;
 *  - it is a CA certificate (basicConstraints CA:TRUE, keyUsage
 *    keyCertSign and cRLSign): it will sign certificates and CRLs;
 *  - it is valid now;
 *  - an optional chain up to a self-signed root verifies it, and is kept
 *    so that the CA's chain can be handed out whole.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "crl.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "sigclient.h"
#include "x509.h"

static int up_fail(struct pki_ca_error *err, int code, const char *field,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
up_fail(struct pki_ca_error *err, int code, const char *field, const char *fmt,
	...)
{
	va_list ap;

	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s",
		 field != NULL ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

/*
 * Every certificate of PEM text (at least one, at most max); anything but
 * certificates and white space between them is refused.
 */
static int
read_pem_certs(const char *pem, size_t len, size_t max, STACK_OF(X509) * *out)
{
	STACK_OF(X509) *sk = NULL;
	BIO *bio = NULL;
	X509 *x = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const unsigned char *p;
	long dlen = 0;
	int r = EST_E_BADASN1;

	if (len == 0 || len > INT_MAX)
		return EST_E_BADASN1;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (sk = sk_X509_new_null()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	/* PEM_read_bio() skips text between blocks and stops at the end. */
	while (PEM_read_bio(bio, &name, &header, &data, &dlen) == 1) {
		p = data;
		if (strcmp(name, PEM_STRING_X509) != 0 || header[0] != '\0' ||
		    (size_t)sk_X509_num(sk) == max ||
		    (x = d2i_X509(NULL, &p, dlen)) == NULL || p != data + dlen)
			goto out;
		if (!sk_X509_push(sk, x)) {
			r = EST_E_NOMEM;
			goto out;
		}
		x = NULL;
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	ERR_clear_error();
	if (sk_X509_num(sk) == 0)
		goto out;
	*out = sk;
	sk = NULL;
	r = 0;
out:
	X509_free(x);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
	return r;
}

/* The request's subject against the certificate's, as DER. */
static int
same_subject(const struct db_ca *ca, X509 *cert)
{
	const unsigned char *p = ca->csr_der;
	unsigned char *a = NULL, *b = NULL;
	X509_REQ *req;
	int alen, blen, same = 0;

	if ((req = d2i_X509_REQ(NULL, &p, (long)ca->csr_len)) == NULL)
		return 0;
	alen = i2d_X509_NAME(X509_REQ_get_subject_name(req), &a);
	blen = i2d_X509_NAME(X509_get_subject_name(cert), &b);
	same = alen > 0 && alen == blen && memcmp(a, b, (size_t)alen) == 0;
	OPENSSL_free(a);
	OPENSSL_free(b);
	X509_REQ_free(req);
	return same;
}

static int
check_cert(struct sigclient *sc, const struct db_ca *ca, X509 *cert,
	   struct pki_ca_error *err)
{
	const uint32_t need = KU_KEY_CERT_SIGN | KU_CRL_SIGN;
	EVP_PKEY *ours = NULL;
	uint8_t *spki = NULL;
	size_t spkilen = 0;
	uint32_t flags;
	int r;

	if ((r = sigclient_pubkey(sc, ca->key_id, &spki, &spkilen)) != 0 ||
	    (r = x509_spki_to_pkey(spki, spkilen, &ours)) != 0) {
		free(spki);
		return up_fail(err, r, NULL, "cannot read the CA's key");
	}
	free(spki);
	r = EVP_PKEY_eq(X509_get0_pubkey(cert), ours) == 1;
	EVP_PKEY_free(ours);
	if (!r)
		return up_fail(err, EST_E_UNPROCESSABLE, "certificate",
			       "the certificate does not carry this CA's key");
	if (!same_subject(ca, cert))
		return up_fail(err, EST_E_UNPROCESSABLE, "certificate",
			       "the certificate's subject is not the "
			       "request's, octet for octet");
	/* Computes the cached extension flags; 0 for anything unparsable. */
	if (X509_check_purpose(cert, -1, 0) != 1)
		return up_fail(err, EST_E_UNPROCESSABLE, "certificate",
			       "the certificate has invalid extensions");
	flags = X509_get_extension_flags(cert);
	if ((flags & EXFLAG_CA) == 0 || (flags & EXFLAG_BCONS) == 0)
		return up_fail(err, EST_E_UNPROCESSABLE, "certificate",
			       "not a CA certificate (basicConstraints "
			       "CA:TRUE)");
	if ((flags & EXFLAG_KUSAGE) == 0 ||
	    (X509_get_key_usage(cert) & need) != need)
		return up_fail(err, EST_E_UNPROCESSABLE, "certificate",
			       "the key usage must include keyCertSign and "
			       "cRLSign");
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0 ||
	    X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
		return up_fail(err, EST_E_UNPROCESSABLE, "certificate",
			       "the certificate is not valid now");
	return 0;
}

/* The PEM of the chain above cert, as the verification built it. */
static int
chain_text(STACK_OF(X509) * chain, char **out)
{
	char *buf = NULL, *pem = NULL, *nb;
	uint8_t *der = NULL;
	size_t len = 0, dlen = 0, plen = 0;
	int i, r = 0;

	/* Element 0 is the certificate itself. */
	for (i = 1; i < sk_X509_num(chain) && r == 0; i++) {
		if ((r = x509_cert_der(sk_X509_value(chain, i), &der, &dlen)) !=
			    0 ||
		    (r = x509_der_to_pem(der, dlen, &pem, &plen)) != 0)
			break;
		if ((nb = realloc(buf, len + plen + 1)) == NULL) {
			r = EST_E_NOMEM;
		} else {
			buf = nb;
			memcpy(buf + len, pem, plen + 1);
			len += plen;
		}
		free(pem);
		free(der);
		pem = NULL;
		der = NULL;
	}
	if (r != 0) {
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

/*
 * Verifies cert with the chain given: the self-signed certificates in it
 * are the trust anchors, the others intermediates.
 */
static int
verify_chain(X509 *cert, STACK_OF(X509) * given, char **text,
	     struct pki_ca_error *err)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *x;
	int i, anchors = 0, r = EST_E_NOMEM;

	if ((store = X509_STORE_new()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(given); i++) {
		x = sk_X509_value(given, i);
		if (X509_check_issued(x, x) == X509_V_OK) {
			if (!X509_STORE_add_cert(store, x))
				goto out;
			anchors++;
		} else if (!sk_X509_push(untrusted, x)) {
			goto out;
		}
	}
	if (anchors == 0) {
		r = up_fail(err, EST_E_UNPROCESSABLE, "chain",
			    "the chain must end with a self-signed root");
		goto out;
	}
	if (!X509_STORE_CTX_init(ctx, store, cert, untrusted))
		goto out;
	if (X509_verify_cert(ctx) != 1) {
		r = up_fail(err, EST_E_UNPROCESSABLE, "chain",
			    "the chain does not verify the certificate: %s",
			    X509_verify_cert_error_string(
				    X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	r = chain_text(X509_STORE_CTX_get0_chain(ctx), text);
out:
	X509_STORE_CTX_free(ctx);
	/* The certificates belong to given. */
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	return r;
}

int
pki_ca_upload(struct db *db, struct sigclient *sc, int64_t id,
	      const char *cert_pem, size_t certlen, const char *chain_pem,
	      size_t chainlen, struct pki_ca_error *err)
{
	STACK_OF(X509) *certs = NULL, *chain = NULL;
	struct db_ca *ca = NULL;
	X509 *cert;
	uint8_t *der = NULL;
	size_t len = 0;
	char *text = NULL;
	int r;

	memset(err, 0, sizeof(*err));
	if ((r = db_ca_get_lock(db, id, &ca)) != 0) {
		up_fail(err, r, r == EST_E_NOTFOUND ? "id" : NULL,
			"cannot read the CA");
		goto out;
	}
	if (ca->cert_der != NULL || ca->csr_der == NULL) {
		r = up_fail(err, EST_E_CONFLICT, NULL,
			    "the CA is not waiting for a certificate");
		goto out;
	}
	if (certlen > PKI_CERT_PEM_MAX ||
	    read_pem_certs(cert_pem, certlen, 1, &certs) != 0) {
		r = up_fail(err, EST_E_UNPROCESSABLE, "certificate",
			    "exactly one PEM certificate is expected");
		goto out;
	}
	cert = sk_X509_value(certs, 0);
	if ((r = check_cert(sc, ca, cert, err)) != 0)
		goto out;
	if (chain_pem != NULL && chainlen > 0) {
		if (chainlen > PKI_CHAIN_PEM_MAX ||
		    read_pem_certs(chain_pem, chainlen, PKI_CHAIN_MAX - 1,
				   &chain) != 0) {
			r = up_fail(err, EST_E_UNPROCESSABLE, "chain",
				    "the chain must be PEM certificates, at "
				    "most %d",
				    PKI_CHAIN_MAX - 1);
			goto out;
		}
		if ((r = verify_chain(cert, chain, &text, err)) != 0)
			goto out;
	}
	if ((r = x509_cert_der(cert, &der, &len)) != 0 ||
	    (r = db_ca_set_cert(db, id, der, len, text)) != 0) {
		up_fail(err, r, NULL, "cannot store the certificate");
		goto out;
	}
	if ((r = crl_regenerate(db, sc, id)) != 0)
		up_fail(err, r, NULL, "cannot make the first CRL");
out:
	if (r != 0 && err->code == 0)
		up_fail(err, r, NULL, "%s", est_strerror(r));
	free(text);
	free(der);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(certs, X509_free);
	db_ca_free(ca);
	return r;
}
