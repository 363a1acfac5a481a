/*
 * The parts of an EST request that need neither the database nor the
 * signer (fcgi/est_body.c), so that tests/fuzz/fuzz_est.c runs them on
 * arbitrary input: the path's label, the enrollment body (RFC 7030
 * section 4.2.1 as clarified by RFC 8951: base64 of a DER PKCS#10, with
 * or without line breaks, white space and a trailing newline, under the
 * media type application/pkcs10) and the refusals that follow from them.
 *
 * Refusals are a struct prov_error (pki/provision.h), the same shape the
 * provisioning core answers with, so that every EST refusal is answered
 * and recorded one way (fcgi/est_resp.c, prov_record_refusal()).
 */
#ifndef ESTUARY_EST_BODY_H
#define ESTUARY_EST_BODY_H

#include <stddef.h>

#include "provision.h"

struct csr;
struct request;

/* The media type of an enrollment body. */
#define EST_PKCS10_TYPE "application/pkcs10"

/* EST label syntax (guide §2.3.2): 3 to 24 of [a-z0-9]. */
#define EST_LABEL_MIN 3
#define EST_LABEL_MAX 24

/* 1 when s is a well-formed label, else 0. */
int est_label_valid(const char *s);

/*
 * Sets *e (status, reason code and reason) and returns the EST_E_* code
 * that the status stands for.  fmt must not format secrets.
 */
int est_fail(struct prov_error *e, int status, enum prov_reason code,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * The CSR of an enrollment request: the Content-Type must be
 * application/pkcs10 (415 otherwise; parameters are ignored), the body
 * non-empty base64 of one DER CertificationRequest whose self-signature
 * verifies (lib/csr.h).  A body over the CSR intake's cap is 413, any
 * other refusal 400 with the intake's reason.  Sets *out (csr_free()).
 */
int est_body_csr(const struct request *req, struct csr **out,
		 struct prov_error *e);

#endif
