/*
 * Inside the key store: reading a key pair from the token (keys_read.c)
 * for the cache (keys.c).
 */
#ifndef ESTUARY_SIGNER_KEYS_INT_H
#define ESTUARY_SIGNER_KEYS_INT_H

#include <stdint.h>

#include "keys.h"
#include "p11.h"

#define KEYS_OID_P256_LEN 10
#define KEYS_OID_P384_LEN 7
/* DER of the named-curve OIDs, as CKA_EC_PARAMS holds them. */
extern const uint8_t keys_oid_p256[KEYS_OID_P256_LEN];
extern const uint8_t keys_oid_p384[KEYS_OID_P384_LEN];

/*
 * Builds the cache entry of the key pair whose private key is priv.
 * EST_E_NOTFOUND when the objects are not an estuary key pair.
 */
int keys_read_pair(struct p11 *p11, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
		   struct key **out);
/* Frees an entry that no thread holds (keys_free(), or one never cached). */
void keys_key_free(struct key *k);

#endif
