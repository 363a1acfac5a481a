/*
 * Inside bench_est: what bench_est.c (the phases over HTTPS) uses of
 * bench_est_base.c (the in-process baseline and the fill).
 */
#ifndef ESTUARY_EST_BENCH_H
#define ESTUARY_EST_BENCH_H

#include <stddef.h>

#include <openssl/x509.h>

#include "p11.h"

#define PROG "bench_est"

/* The value of environment variable name; exits when it is unset. */
const char *bench_env(const char *name);

/* The instance's database (ESTUARY_CONF), as the application account. */
void bench_db_open(void);
void bench_db_close(void);

/*
 * Fills the devices table up to want devices of the type of the label
 * ESTUARY_EXT_LABEL on ESTUARY_EST_EC_HOST (FACTORY mode, random factory
 * fingerprints) with db_device_insert_many(); returns how many that type
 * has.  A second run adds only what is missing.
 */
long bench_prefill(long want);

/*
 * Sets the baseline up: issued is what EST issued for the CSR csr (DER),
 * ca the certificate of the CA that signed it (both kept, not owned).
 * Exits when the baseline cannot issue a certificate that verifies.
 */
void baseline_init(X509 *issued, X509 *ca, unsigned char *csr, int csrlen);
void baseline_fini(void);
/* A PKCS#11 session per thread; 0 or -1. */
int baseline_session(CK_SESSION_HANDLE *s);
void baseline_session_close(CK_SESSION_HANDLE s);
/* One issuance; the DER in *out (free() it) unless out is NULL; 0 or -1. */
int baseline_issue(CK_SESSION_HANDLE s, unsigned char **out, size_t *outlen);

#endif
