/*
 * EST responses (RFC 7030 section 4, RFC 8951), built without the
 * database so that the unit tests and the fuzz target run them:
 *
 *  - certificates as a base64 certs-only PKCS#7 (P7_CERTS_ONLY_TYPE) with
 *    Content-Transfer-Encoding: base64, which libest's estclient insists
 *    on although RFC 8951 deprecates it;
 *  - serverkeygen (section 4.4.2) as multipart/mixed with two parts: the
 *    private key (application/pkcs8, base64 of DER PKCS#8) first, then the
 *    certificate (certs-only PKCS#7), each with its own
 *    Content-Transfer-Encoding;
 *  - csrattrs (section 4.5.2) as base64 of the DER CsrAttrs, the
 *    attributes a template needs from a CSR;
 *  - refusals as text/plain with a short reason (fcgi/resp.c adds
 *    WWW-Authenticate to 401 and Retry-After to 503).
 */
#ifndef ESTUARY_EST_RESP_H
#define ESTUARY_EST_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "provision.h"

struct resp;
struct subj_field;

#define EST_CSRATTRS_TYPE "application/csrattrs"
#define EST_PKCS8_TYPE "application/pkcs8"
/* Room for a multipart boundary: "estuary-" and 32 hex digits. */
#define EST_BOUNDARY_SIZE 48

/* 200 with the n DER certificates (n >= 1) as certs-only PKCS#7. */
int est_resp_certs(struct resp *rs, const uint8_t *const *ders,
		   const size_t *lens, size_t n);

/*
 * The multipart/mixed body of a serverkeygen answer with boundary: the
 * key part (DER PKCS#8, base64) and the certs-only part (p7b64, base64
 * text already).  *out is wiped and freed by the caller (freezero).
 */
int est_multipart_build(const char *boundary, const uint8_t *pkcs8,
			size_t pkcs8len, const char *p7b64, size_t p7len,
			char **out, size_t *outlen);

/* A fresh random boundary ("estuary-" and 32 hex digits). */
int est_boundary_new(char out[EST_BOUNDARY_SIZE]);

/*
 * 200 with the serverkeygen answer: the key pkcs8 and the n DER
 * certificates (the new certificate first).  Every copy of the key this
 * function makes is wiped before it returns, except the response body.
 */
int est_resp_serverkeygen(struct resp *rs, const uint8_t *pkcs8,
			  size_t pkcs8len, const uint8_t *const *ders,
			  const size_t *lens, size_t n);

/*
 * The DER CsrAttrs for the n template fields f and the key types the
 * template allows (CSR_KEYBIT set): the OID of each subject attribute the
 * client must provide (required and not fixed), subjectAltName
 * (2.5.29.17) when a SAN entry is required, and, when the template takes
 * exactly one elliptic curve, the attribute id-ecPublicKey with that
 * curve (the form of RFC 7030's example).  *len 0 and *out NULL when
 * there is nothing to ask for.
 */
int est_csrattrs_der(const struct subj_field *f, size_t n, uint32_t key_types,
		     uint8_t **out, size_t *len);

/* 200 with the CsrAttrs der (base64), or 204 when len is 0. */
int est_resp_csrattrs(struct resp *rs, const uint8_t *der, size_t len);

/* The text/plain answer for refusal e. */
int est_resp_error(struct resp *rs, const struct prov_error *e);

#endif
