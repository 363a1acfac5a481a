/*
 * Internals of the issuing path shared by pki/issue.c (checks, building,
 * signing, storing) and pki/issue_ext.c (the CA certificate's name and key
 * identifier, and the extensions of a new certificate).
 */
#ifndef ESTUARY_PKI_ISSUE_INT_H
#define ESTUARY_PKI_ISSUE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "issue.h"

struct db_ca;
struct tmpl;

/* Fills *err (may be NULL) and returns code. */
int issue_fail(struct issue_error *err, int code, const char *field,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* What the issuer needs of its CA's certificate. */
struct ca_info {
	const uint8_t *subject; /* DER Name, inside the CA certificate */
	size_t subjectlen;
	uint8_t keyid[64];
	size_t keyidlen;
};

/*
 * The subject Name and key identifier of a DER CA certificate, read by a
 * walk over its DER (no decode); ci points into der.
 */
int issue_ca_info(const uint8_t *der, size_t len, struct ca_info *ci);

/*
 * Adds the extensions of a certificate from template t, in this order:
 * basicConstraints, keyUsage, extendedKeyUsage, subjectKeyIdentifier (skid),
 * authorityKeyIdentifier (the CA's), subjectAltName (gens, when not NULL;
 * critical as san_critical says), CRL distribution point and authority
 * information access (the CA's URLs, as the template asks), then the
 * template's custom extensions as stored.  A custom extension whose OID is
 * already present is EST_E_CONFLICT with *err naming "template_id".
 */
int issue_extensions(X509 *x, const struct tmpl *t, const struct db_ca *ca,
		     const struct ca_info *ci, const uint8_t skid[20],
		     GENERAL_NAMES *gens, int san_critical,
		     struct issue_error *err);

#endif
