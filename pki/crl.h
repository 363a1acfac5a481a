/*
 * Certificate revocation lists of the internal CAs.
 *
 * crl_regenerate() builds the CA's next CRL (version 2, crlNumber one above
 * the last, thisUpdate now, nextUpdate now + crl_period_hours, every
 * revoked certificate of the CA that has not expired with its reason code
 * and revocation date, authorityKeyIdentifier), has the signer sign it and
 * stores it in cas (crl_der, crl_number, crl_this_update,
 * crl_next_update).  It runs in the caller's open transaction and locks
 * the CA row first (SELECT ... FOR UPDATE), so that two revocations of one
 * CA produce two CRLs in order and the last one lists both.
 *
 * crl_get() returns the stored DER CRL of a CA (EST_E_NOTFOUND when the CA
 * does not exist or has none yet).
 */
#ifndef ESTUARY_PKI_CRL_H
#define ESTUARY_PKI_CRL_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct sigclient;

int crl_regenerate(struct db *db, struct sigclient *sc, int64_t ca_id);
int crl_get(struct db *db, int64_t ca_id, uint8_t **der, size_t *len);

#endif
