/*
 * The signer's key pairs: generation in the token and an in-memory cache
 * of what SIGN and PUBKEY need (object handles, type, usage, subject,
 * public key), so that a signature does not search the token.
 *
 * How a key pair is recognised in the token, so that it survives a
 * restart: a private key and a public key with the same 16-octet CKA_ID
 * and the same CKA_LABEL (1..64 of [A-Za-z0-9._-]), EC on P-256 or P-384
 * or RSA with a 2048-, 3072- or 4096-bit modulus.  The usage is CA when
 * the private key's CKA_SUBJECT is not empty (it holds the CA's DER
 * subject name, the key's policy), OCSP when instead the public key's
 * CKA_SUBJECT holds a name (the delegated responder's subject), and other
 * when neither has one.
 *
 * Cache entries are never freed while the store lives, so a thread may
 * keep the pointer keys_get() gave it for the rest of its request; an
 * entry whose objects vanished from the token is marked gone instead, and
 * one whose objects keys_destroy() removed is also marked destroyed: its
 * id is then unknown to this signer for good.
 */
#ifndef ESTUARY_KEYS_H
#define ESTUARY_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "p11.h"
#include "sigproto.h"

struct key {
	uint8_t id[SIGNER_KEYID_LEN];
	char label[SIGNER_LABEL_MAX + 1];
	uint8_t keytype;  /* enum signer_keytype */
	uint8_t usage;	  /* enum signer_usage */
	uint8_t *subject; /* DER Name, CA and OCSP keys only */
	size_t subjectlen;
	uint8_t *spki; /* DER SubjectPublicKeyInfo */
	size_t spkilen;
	CK_OBJECT_HANDLE priv;
	CK_OBJECT_HANDLE pub;
	int gone;      /* objects no longer in the token */
	int destroyed; /* by keys_destroy(); implies gone */
};

struct keystore;
struct sjournal;

/* key_types: which key types GENKEY may create (1 << keytype bits). */
int keys_new(struct p11 *p11, unsigned key_types, struct keystore **out);
void keys_free(struct keystore *ks);

/*
 * Reads every estuary key pair from the token into the cache (at start-up
 * and for LISTKEYS); keys already cached keep their entries.  With out
 * non-NULL, also returns the current list (caller frees the array only).
 */
int keys_scan(struct keystore *ks, CK_SESSION_HANDLE s, const struct key ***out,
	      size_t *n);

/*
 * The key with this id: from the cache, else from the token (and then
 * cached).  EST_E_NOTFOUND when the token has no such key pair.
 */
int keys_get(struct keystore *ks, CK_SESSION_HANDLE s,
	     const uint8_t id[SIGNER_KEYID_LEN], const struct key **out);

/*
 * Marks a cached key as gone after the token refused its handle, so the
 * next keys_get() looks it up afresh.
 */
void keys_forget(struct keystore *ks, const struct key *k);

/*
 * GENKEY: a new key pair in the token.  label must be valid (see above);
 * subject is the DER Name of a CA or OCSP key, NULL/0 for usage other.
 * EST_E_EXISTS when the label is taken, EST_E_BADALG for a key type the
 * profile does not allow.
 */
int keys_generate(struct keystore *ks, CK_SESSION_HANDLE s, const char *label,
		  uint8_t keytype, uint8_t usage, const uint8_t *subject,
		  size_t subjectlen, const struct key **out);

/*
 * DESTROYKEY: removes the key pair with this id from the token, exactly
 * its private and its public key (found by CKA_CLASS and CKA_ID, so that
 * no other object with the same id is ever touched), and sets *out to its
 * (now destroyed) entry, for the label.  EST_E_NOTFOUND when the token
 * holds no such key pair.  Under the cache's write lock the entry is first
 * marked gone, then the destruction is recorded in the journal j, then,
 * with the use lock held alone (keys_use_begin()), the objects are
 * destroyed and the entry marked destroyed: a SIGN in progress finishes
 * with the key, every later lookup gets EST_E_NOTFOUND.  Without a journal
 * line nothing is destroyed (EST_E_IO).  A failure after the private key
 * was destroyed still marks the entry destroyed: the pair is no longer
 * usable whatever remains.
 */
int keys_destroy(struct keystore *ks, CK_SESSION_HANDLE s,
		 const uint8_t id[SIGNER_KEYID_LEN], struct sjournal *j,
		 const struct key **out);

/*
 * A request that reads or uses a key's objects (SIGN, PUBKEY, LISTKEYS)
 * calls keys_use_begin() before its lookup and keys_use_end() after its
 * last PKCS#11 call on the key.  Requests share this; keys_destroy() holds
 * it alone while it destroys objects, so that no signature or read of
 * attributes ever meets a key half destroyed (tokens answer that with
 * anything from a vanished handle to a general error).  Writers are
 * preferred: a destruction waits for the requests in progress, not for a
 * pause in a stream of signatures.
 */
void keys_use_begin(struct keystore *ks);
void keys_use_end(struct keystore *ks);

/* Whether s is an acceptable key label: 1..64 of [A-Za-z0-9._-]. */
int keys_valid_label(const uint8_t *s, size_t len);

/*
 * The DER SubjectPublicKeyInfo of an EC point (raw or wrapped in an OCTET
 * STRING, as modules differ) on a named curve, or of an RSA key.
 */
int keys_spki_ec(uint8_t keytype, const uint8_t *point, size_t pointlen,
		 uint8_t **spki, size_t *spkilen);
int keys_spki_rsa(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen,
		  uint8_t **spki, size_t *spkilen);

/* The label of the token's wrapping key, which is not a key pair. */
#define KEYS_WRAP_LABEL "estuary-wrap"

#endif
