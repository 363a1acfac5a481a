/*
 * Certs-only CMS/PKCS#7 (RFC 7030 section 4.1.3): a SignedData with no
 * signers and no content, carrying certificates.  EST returns CA chains and
 * issued certificates in this form, base64-encoded.
 */
#ifndef ESTUARY_P7_H
#define ESTUARY_P7_H

#include <stddef.h>
#include <stdint.h>

#define P7_CERTS_MAX 16

/* The media type of a certs-only response, exactly as EST clients expect. */
#define P7_CERTS_ONLY_TYPE "application/pkcs7-mime; smime-type=certs-only"

/*
 * Builds the DER SignedData holding the n DER certificates (in that order;
 * each must parse exactly) and returns it base64-encoded in 64-column
 * lines.  *out is NUL-terminated; the caller frees it.
 */
int p7_certs_only_b64(const uint8_t *const *certs, const size_t *lens, size_t n,
		      char **out, size_t *outlen);

#endif
