/*
 * What pki/ca.c shares with pki/ca_ext.c; not for use outside pki/.
 */
#ifndef ESTUARY_PKI_CA_INT_H
#define ESTUARY_PKI_CA_INT_H

#include <openssl/x509.h>

/* keyUsage as RFC 5280 bits (DB_CA_KU_*) in a new BIT STRING. */
int pki_ca_ku_bits(unsigned ku, ASN1_BIT_STRING **out);
/*
 * Adds to x the pointers to where its issuer publishes: the CRL as
 * distribution point, the OCSP responder and the issuer's certificate in
 * authority information access.  Each URL may be NULL (left out).
 */
int pki_ca_add_pointers(X509 *x, const char *crl_url, const char *ocsp_url,
			const char *issuers_url);

#endif
