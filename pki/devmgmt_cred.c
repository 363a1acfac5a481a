/*
 * Device credential files (pki/devmgmt.h): sealing, opening, and the
 * sweep that destroys them after their retention.
 *
 * The design.  A credential file (device ID, password, PKCS#12
 * passphrases) must never sit in the database in clear, must be readable
 * by estuary-api exactly once, and must not be readable from a copy of
 * the database alone.  estuary-api holds no key of its own, and the
 * signer offers no "encrypt these bytes" operation; what it does offer is
 * a key pair generated in the HSM and returned only wrapped under the
 * token's non-extractable AES key (GEN_WRAPPED), and the unwrapping of
 * such a key for its owner (EXPORT_WRAPPED).  So each file is sealed to a
 * key pair of its own, ECIES-style:
 *
 *  1. the signer generates an EC P-256 key pair K for this file and
 *     returns K's private key wrapped (W) and its public key;
 *  2. estuary-api generates an ephemeral P-256 key pair E, derives
 *     Z = ECDH(E, K), then the AES-256-GCM key HKDF-SHA-256(Z, salt =
 *     E's public key, info = "estuary device credential v1"), encrypts
 *     the file under a random 96-bit IV, and forgets E, Z and the key;
 *  3. the column stores version, W, E's public key, IV, ciphertext and
 *     tag; the additional data binds the device's id and every header
 *     byte, so a blob moved to another device, or a changed header, does
 *     not open.
 *
 * Opening asks the signer to unwrap W (PKCS#8, for this process only),
 * derives Z = ECDH(K, E) and the same key, decrypts, and wipes K.  A copy
 * of the database holds W, which only the HSM can unwrap, and the public
 * halves: the file is as safe as a server-generated device key, and no
 * safer, which is the bar the rest of Estuary sets.  Destroying the file
 * is clearing the column: W goes with it, and the HSM never kept K.
 *
 * Blob layout (all lengths big-endian):
 *	byte	  version, 1
 *	uint16	  length of W, then W
 *	uint16	  length of E's SubjectPublicKeyInfo (DER), then it
 *	byte[12]  IV
 *	byte[]	  ciphertext, then the 16-byte GCM tag
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "audit.h"
#include "db.h"
#include "device.h"
#include "devmgmt.h"
#include "err.h"
#include "log.h"
#include "sigclient.h"
#include "util.h"

#define CRED_VERSION 1
#define CRED_IV_LEN 12
#define CRED_TAG_LEN 16
#define CRED_KEY_LEN 32
#define CRED_AAD_LABEL "estuary device credential v1"
#define CRED_HKDF_INFO "estuary device credential v1"
/* A credential file is a few hundred bytes; refuse anything absurd. */
#define CRED_PLAIN_MAX (64 * 1024)
/* Credential files destroyed per transaction by the sweep. */
#define SWEEP_BATCH 50

/* ------------------------------------------------------------------ */
/* Key agreement */

/* Z = ECDH(ours, peer), then the AES key by HKDF over salt. */
static int
derive_key(EVP_PKEY *ours, EVP_PKEY *peer, const uint8_t *salt, size_t saltlen,
	   uint8_t key[CRED_KEY_LEN])
{
	EVP_PKEY_CTX *dctx = NULL;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[5], *q = params;
	uint8_t *z = NULL;
	size_t zlen = 0;
	int r = EST_E_CRYPTO;

	if ((dctx = EVP_PKEY_CTX_new_from_pkey(NULL, ours, NULL)) == NULL ||
	    EVP_PKEY_derive_init(dctx) <= 0 ||
	    EVP_PKEY_derive_set_peer(dctx, peer) <= 0 ||
	    EVP_PKEY_derive(dctx, NULL, &zlen) <= 0 || zlen == 0)
		goto out;
	if ((z = malloc(zlen)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if (EVP_PKEY_derive(dctx, z, &zlen) <= 0 ||
	    (kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z, zlen);
	*q++ = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_SALT, (void *)(uintptr_t)salt, saltlen);
	*q++ = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)CRED_HKDF_INFO,
		sizeof(CRED_HKDF_INFO) - 1);
	*q = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, key, CRED_KEY_LEN, params) <= 0)
		goto out;
	r = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	EVP_PKEY_CTX_free(dctx);
	freezero(z, zlen);
	return r;
}

/* The additional data: the label, the device id, the header bytes. */
static int
aead_aad(EVP_CIPHER_CTX *c, int64_t device_id, const uint8_t *hdr,
	 size_t hdrlen, int enc)
{
	uint8_t id[8];
	int n, i;

	for (i = 0; i < 8; i++)
		id[i] = (uint8_t)((uint64_t)device_id >> (56 - 8 * i));
	if (hdrlen > INT_MAX)
		return EST_E_INVAL;
	if ((enc ? EVP_EncryptUpdate(c, NULL, &n,
				     (const uint8_t *)CRED_AAD_LABEL,
				     sizeof(CRED_AAD_LABEL) - 1)
		 : EVP_DecryptUpdate(c, NULL, &n,
				     (const uint8_t *)CRED_AAD_LABEL,
				     sizeof(CRED_AAD_LABEL) - 1)) != 1 ||
	    (enc ? EVP_EncryptUpdate(c, NULL, &n, id, 8)
		 : EVP_DecryptUpdate(c, NULL, &n, id, 8)) != 1 ||
	    (enc ? EVP_EncryptUpdate(c, NULL, &n, hdr, (int)hdrlen)
		 : EVP_DecryptUpdate(c, NULL, &n, hdr, (int)hdrlen)) != 1)
		return EST_E_CRYPTO;
	return 0;
}

static void
put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ------------------------------------------------------------------ */
/* Seal */

int
device_cred_seal(struct sigclient *sc, int64_t device_id, const uint8_t *plain,
		 size_t len, uint8_t **blob, size_t *bloblen)
{
	EVP_PKEY *peer = NULL, *eph = NULL;
	EVP_CIPHER_CTX *c = NULL;
	uint8_t *wrapped = NULL, *spki = NULL, *espki = NULL, *b = NULL;
	uint8_t key[CRED_KEY_LEN], *p;
	const unsigned char *cp;
	size_t wlen = 0, spkilen = 0, hdr, total = 0;
	int elen, n = 0, r;

	if (sc == NULL || plain == NULL || len == 0 || len > CRED_PLAIN_MAX)
		return EST_E_INVAL;
	if ((r = sigclient_gen_wrapped(sc, SIGNER_KEY_EC_P256, &wrapped, &wlen,
				       &spki, &spkilen)) != 0)
		return r;
	r = EST_E_CRYPTO;
	cp = spki;
	if (spkilen > LONG_MAX ||
	    (peer = d2i_PUBKEY(NULL, &cp, (long)spkilen)) == NULL ||
	    (eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (elen = i2d_PUBKEY(eph, &espki)) <= 0 || wlen > 0xffff ||
	    elen > 0xffff)
		goto out;
	hdr = 1 + 2 + wlen + 2 + (size_t)elen + CRED_IV_LEN;
	total = hdr + len + CRED_TAG_LEN;
	if ((b = malloc(total)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	p = b;
	*p++ = CRED_VERSION;
	put16(p, wlen);
	memcpy(p + 2, wrapped, wlen);
	p += 2 + wlen;
	put16(p, (size_t)elen);
	memcpy(p + 2, espki, (size_t)elen);
	p += 2 + (size_t)elen;
	if ((r = random_bytes(p, CRED_IV_LEN)) != 0 ||
	    (r = derive_key(eph, peer, espki, (size_t)elen, key)) != 0)
		goto out;
	r = EST_E_CRYPTO;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, CRED_IV_LEN, NULL) !=
		    1 ||
	    EVP_EncryptInit_ex(c, NULL, NULL, key, p) != 1 ||
	    aead_aad(c, device_id, b, hdr - CRED_IV_LEN, 1) != 0 ||
	    EVP_EncryptUpdate(c, b + hdr, &n, plain, (int)len) != 1 ||
	    (size_t)n != len ||
	    EVP_EncryptFinal_ex(c, b + hdr + len, &n) != 1 || n != 0 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, CRED_TAG_LEN,
				b + hdr + len) != 1)
		goto out;
	*blob = b;
	*bloblen = total;
	b = NULL;
	r = 0;
out:
	explicit_bzero(key, sizeof(key));
	EVP_CIPHER_CTX_free(c);
	EVP_PKEY_free(eph);
	EVP_PKEY_free(peer);
	OPENSSL_free(espki);
	free(spki);
	freezero(wrapped, wlen);
	freezero(b, total);
	return r;
}

/* ------------------------------------------------------------------ */
/* Open */

/* The parts of a blob, borrowed from it. */
struct sealed {
	const uint8_t *wrapped, *espki, *iv, *ct, *tag;
	size_t wlen, elen, ctlen, hdr;
};

static int
parse(const uint8_t *b, size_t len, struct sealed *s)
{
	size_t off = 1;

	memset(s, 0, sizeof(*s));
	if (len < 1 + 2 || b[0] != CRED_VERSION)
		return EST_E_CRYPTO;
	s->wlen = ((size_t)b[1] << 8) | b[2];
	off = 3;
	if (len - off < s->wlen + 2)
		return EST_E_CRYPTO;
	s->wrapped = b + off;
	off += s->wlen;
	s->elen = ((size_t)b[off] << 8) | b[off + 1];
	off += 2;
	if (len - off < s->elen + CRED_IV_LEN + CRED_TAG_LEN)
		return EST_E_CRYPTO;
	s->espki = b + off;
	off += s->elen;
	s->iv = b + off;
	off += CRED_IV_LEN;
	s->hdr = off;
	s->ct = b + off;
	s->ctlen = len - off - CRED_TAG_LEN;
	s->tag = s->ct + s->ctlen;
	return s->ctlen > 0 && s->ctlen <= CRED_PLAIN_MAX ? 0 : EST_E_CRYPTO;
}

/* K's private key, from the PKCS#8 that the signer unwrapped. */
static int
own_key(const uint8_t *p8, size_t len, EVP_PKEY **out)
{
	PKCS8_PRIV_KEY_INFO *inf = NULL;
	const unsigned char *cp = p8;
	EVP_PKEY *k = NULL;

	if (len > LONG_MAX ||
	    (inf = d2i_PKCS8_PRIV_KEY_INFO(NULL, &cp, (long)len)) == NULL ||
	    (k = EVP_PKCS82PKEY(inf)) == NULL) {
		PKCS8_PRIV_KEY_INFO_free(inf);
		return EST_E_CRYPTO;
	}
	PKCS8_PRIV_KEY_INFO_free(inf);
	*out = k;
	return 0;
}

int
device_cred_open(struct sigclient *sc, int64_t device_id, const uint8_t *blob,
		 size_t len, uint8_t **plain, size_t *plainlen)
{
	EVP_PKEY *own = NULL, *peer = NULL;
	EVP_CIPHER_CTX *c = NULL;
	struct sealed s;
	const unsigned char *cp;
	uint8_t key[CRED_KEY_LEN], *p8 = NULL, *pt = NULL;
	size_t p8len = 0;
	int n = 0, r;

	memset(key, 0, sizeof(key));
	if (sc == NULL || blob == NULL)
		return EST_E_INVAL;
	if ((r = parse(blob, len, &s)) != 0)
		return r;
	if ((r = sigclient_export_wrapped(sc, s.wrapped, s.wlen,
					  SIGNER_EXPORT_PKCS8, NULL, NULL, 0,
					  NULL, NULL, 0, &p8, &p8len)) != 0)
		return r;
	cp = s.espki;
	if ((r = own_key(p8, p8len, &own)) != 0)
		goto out;
	r = EST_E_CRYPTO;
	if ((peer = d2i_PUBKEY(NULL, &cp, (long)s.elen)) == NULL ||
	    cp != s.espki + s.elen)
		goto out;
	if ((r = derive_key(own, peer, s.espki, s.elen, key)) != 0)
		goto out;
	if ((pt = malloc(s.ctlen + 1)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	r = EST_E_CRYPTO;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, CRED_IV_LEN, NULL) !=
		    1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, key, s.iv) != 1 ||
	    aead_aad(c, device_id, blob, s.hdr - CRED_IV_LEN, 0) != 0 ||
	    EVP_DecryptUpdate(c, pt, &n, s.ct, (int)s.ctlen) != 1 ||
	    (size_t)n != s.ctlen ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, CRED_TAG_LEN,
				(void *)(uintptr_t)s.tag) != 1 ||
	    EVP_DecryptFinal_ex(c, pt + n, &n) != 1)
		goto out;
	pt[s.ctlen] = '\0';
	*plain = pt;
	*plainlen = s.ctlen;
	pt = NULL;
	r = 0;
out:
	explicit_bzero(key, sizeof(key));
	EVP_CIPHER_CTX_free(c);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(own);
	freezero(p8, p8len);
	freezero(pt, s.ctlen + 1);
	return r;
}

/* ------------------------------------------------------------------ */
/* The sweep */

static int
sweep_audit(struct db *db, const struct db_result *res, size_t row)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.actor_type = AUDIT_ACTOR_SYSTEM;
	ev.actor_name = "estuary-worker";
	ev.tenant_id = db_result_i64(res, row, 3);
	ev.org_id = db_result_i64(res, row, 4);
	ev.entity = "device";
	ev.entity_id = db_result_i64(res, row, 1);
	ev.entity_name = db_result_str(res, row, 2, NULL);
	ev.action = "destroy_credentials";
	ev.outcome = AUDIT_SUCCESS;
	ev.reason = "password retention time passed";
	ev.details = "{\"after\":{\"credentials\":\"destroyed\"}}";
	return db_audit_append(db, &ev);
}

/* One batch; *n counts what it destroyed. */
static int
sweep_batch(struct db *db, size_t *n)
{
	struct db_result *res = NULL;
	size_t i, rows;
	int r;

	*n = 0;
	if ((r = db_begin(db)) != 0)
		return r;
	if ((r = db_device_cred_expired(db, SWEEP_BATCH, &res)) != 0)
		goto out;
	rows = db_result_rows(res);
	for (i = 0; i < rows; i++)
		if ((r = db_device_cred_destroy(db, db_result_i64(res, i, 0),
						0)) != 0)
			goto out;
	/* Audit rows last: they lock the chain's head until the commit. */
	for (i = 0; i < rows; i++)
		if ((r = sweep_audit(db, res, i)) != 0)
			goto out;
	*n = rows;
out:
	db_result_free(res);
	if (r != 0) {
		db_rollback(db);
		*n = 0;
		return r;
	}
	return db_commit(db);
}

int
device_credentials_sweep(struct db *db)
{
	size_t n = 0, total = 0;
	int r;

	if (db == NULL)
		return EST_E_INVAL;
	do {
		if ((r = sweep_batch(db, &n)) != 0) {
			log_warn("device credentials sweep: %s",
				 est_strerror(r));
			return r;
		}
		total += n;
	} while (n == SWEEP_BATCH && total < INT_MAX - SWEEP_BATCH);
	if (total > 0)
		log_info("device credentials: %zu destroyed after their "
			 "retention",
			 total);
	return (int)total;
}
