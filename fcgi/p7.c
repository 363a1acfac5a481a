#include "config.h"

#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "b64.h"
#include "err.h"
#include "p7.h"

#define P7_LINE 64

int
p7_certs_only_b64(const uint8_t *const *certs, const size_t *lens, size_t n,
		  char **out, size_t *outlen)
{
	PKCS7 *p7 = NULL;
	X509 *x = NULL;
	const unsigned char *p;
	unsigned char *der = NULL;
	size_t i;
	int derlen, r;

	if (n == 0 || n > P7_CERTS_MAX)
		return EST_E_INVAL;
	if ((p7 = PKCS7_new()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	/*
	 * SignedData whose encapsulated content is id-data with the content
	 * itself absent (detached), as "openssl crl2pkcs7 -nocrl" writes it.
	 */
	if (!PKCS7_set_type(p7, NID_pkcs7_signed) ||
	    !PKCS7_content_new(p7, NID_pkcs7_data) ||
	    !PKCS7_set_detached(p7, 1)) {
		r = EST_E_CRYPTO;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (lens[i] == 0 || lens[i] > 65536) {
			r = EST_E_BADASN1;
			goto out;
		}
		p = certs[i];
		if ((x = d2i_X509(NULL, &p, (long)lens[i])) == NULL ||
		    p != certs[i] + lens[i]) {
			r = EST_E_BADASN1;
			goto out;
		}
		/* PKCS7_add_certificate takes its own reference. */
		if (!PKCS7_add_certificate(p7, x)) {
			r = EST_E_CRYPTO;
			goto out;
		}
		X509_free(x);
		x = NULL;
	}
	if ((derlen = i2d_PKCS7(p7, &der)) <= 0) {
		r = EST_E_CRYPTO;
		goto out;
	}
	r = b64_encode(der, (size_t)derlen, P7_LINE, out, outlen);
out:
	OPENSSL_free(der);
	X509_free(x);
	PKCS7_free(p7);
	return r;
}
