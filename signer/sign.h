/*
 * SIGN: parse what is to be signed, apply the key's policy, hash inside
 * the signer and sign in the token.  The caller journals the signature
 * (with data_sha256) before it replies.
 */
#ifndef ESTUARY_SIGN_H
#define ESTUARY_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "p11.h"

/* The longest signature: RSA-4096. */
#define SIGN_MAX 512

/*
 * Signs data (a structure of the given sign kind) with key k.  On success
 * sig holds *siglen octets (a DER ECDSA-Sig-Value or PKCS#1 v1.5 octets)
 * and data_sha256 the SHA-256 of data for the journal.  EST_E_BADASN1,
 * EST_E_POLICY, EST_E_BADALG for refusals; EST_E_NOTFOUND when the token
 * no longer knows the key's handle.
 */
int sign_tbs(struct p11 *p11, CK_SESSION_HANDLE s, const struct key *k,
	     uint8_t kind, uint8_t digest, const uint8_t *data, size_t len,
	     uint8_t sig[SIGN_MAX], size_t *siglen, uint8_t data_sha256[32]);

/* Encodes a raw r || s of 2 * n octets as a DER ECDSA-Sig-Value. */
int sign_ecdsa_der(const uint8_t *raw, size_t rawlen, uint8_t *out,
		   size_t outsz, size_t *outlen);

#endif
