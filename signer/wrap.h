/*
 * Server-generated device keys (GEN_WRAPPED, EXPORT_WRAPPED).  The key
 * pair is made with OpenSSL inside the signer, because it will leave the
 * signer anyway when its owner downloads it; until then it exists only
 * encrypted with AES-256-GCM under the token's wrapping key "estuary-wrap",
 * which never leaves the token.  The wrapped format is in signer/PROTOCOL.
 */
#ifndef ESTUARY_WRAP_H
#define ESTUARY_WRAP_H

#include <stddef.h>
#include <stdint.h>

#include "p11.h"

struct wrap;

/* A certificate given as DER; borrowed. */
struct wrap_der {
	const uint8_t *p;
	size_t len;
};

#define WRAP_CHAIN_MAX 16
/* PBKDF2 iterations of the PKCS#12 key and certificate bags and its MAC. */
#define WRAP_P12_ITER 10000

/* mode: enum wrap_mode of profile.h. */
int wrap_new(struct p11 *p11, int mode, struct wrap **out);
void wrap_free(struct wrap *w);

/*
 * A new device key of the given type, wrapped; returns the wrapped key and
 * the DER SubjectPublicKeyInfo (caller frees both).
 */
int wrap_generate(struct wrap *w, CK_SESSION_HANDLE s, uint8_t keytype,
		  uint8_t **wrapped, size_t *wrappedlen, uint8_t **spki,
		  size_t *spkilen);

/*
 * Unwraps and exports: PKCS#8 DER (format 1: pass, cert and chain empty)
 * or PKCS#12 DER (format 2: pass of 8..256 octets, cert whose public key
 * is the key's, chain).  The caller wipes and frees *out.  EST_E_CRYPTO
 * for a wrapped key that fails authentication.
 */
int wrap_export(struct wrap *w, CK_SESSION_HANDLE s, const uint8_t *wrapped,
		size_t wrappedlen, uint8_t format, const char *pass,
		size_t passlen, const struct wrap_der *cert,
		const struct wrap_der *chain, size_t nchain, uint8_t **out,
		size_t *outlen);

/*
 * Checks that the token does AES-GCM the way the profile's wrap mode
 * expects, with a throwaway session key: used by estuary-signerd -t.
 */
int wrap_selftest(struct wrap *w, CK_SESSION_HANDLE s);

#endif
