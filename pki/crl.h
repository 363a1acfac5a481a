/*
 * Certificate revocation lists of the internal CAs.
 *
 * crl_regenerate() builds the CA's next CRL (version 2, crlNumber one above
 * the last, thisUpdate now, nextUpdate now + crl_period_hours, every
 * revoked certificate of the CA that has not been expired for a whole
 * crl_period_hours (RFC 5280 5.1.2.6) with its reason code and revocation
 * date, authorityKeyIdentifier), has the signer sign it and
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

/*
 * The stored CRL of a CA with its thisUpdate and nextUpdate (UNIX time),
 * made again first when its nextUpdate has passed (in a transaction of its
 * own; sc may be NULL to never sign).  If that fails, the stale CRL is
 * returned all the same, with a warning in the log: relying parties decide
 * what a late CRL is worth, and no CRL at all tells them less.
 */
int crl_get_current(struct db *db, struct sigclient *sc, int64_t ca_id,
		    uint8_t **der, size_t *len, int64_t *this_update,
		    int64_t *next_update);

/*
 * Regenerates, each in a transaction of its own, the CRL of every CA with
 * a certificate whose CRL is missing or whose nextUpdate falls within
 * margin_seconds from now (estuary-worker calls it on a schedule).
 * Returns how many CRLs were made (0 or more), or a negative EST_E_* code
 * when the due CAs cannot be read; a CA whose CRL fails is logged and the
 * others are still done.
 */
int crl_refresh_due(struct db *db, struct sigclient *sc, int margin_seconds);

#endif
