/*
 * Device keys wrapped under the token's AES key (wrap.h).  AES-GCM runs in
 * the token through C_Encrypt/C_Decrypt, so the wrapping key is never in
 * the signer's memory; the device key's plaintext is, briefly, and is
 * wiped as soon as it is encrypted or exported.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "err.h"
#include "keys.h"
#include "log.h"
#include "profile.h"
#include "sigproto.h"
#include "util.h"
#include "wrap.h"

#define WRAP_FORMAT 1
#define WRAP_HDR 2 /* format, key type: the AAD */
#define WRAP_IV 12
#define WRAP_TAG 16
#define WRAP_MIN (WRAP_HDR + WRAP_IV + WRAP_TAG + 1)

struct wrap {
	struct p11 *p11;
	int mode;
	pthread_mutex_t lock;
	CK_OBJECT_HANDLE key;
	int have_key;
};

int
wrap_new(struct p11 *p11, int mode, struct wrap **out)
{
	struct wrap *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return EST_E_NOMEM;
	w->p11 = p11;
	w->mode = mode;
	pthread_mutex_init(&w->lock, NULL);
	*out = w;
	return 0;
}

void
wrap_free(struct wrap *w)
{
	if (w == NULL)
		return;
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static int
find_key(struct wrap *w, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *key)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ATTRIBUTE tmpl[3] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_LABEL, (void *)(uintptr_t)KEYS_WRAP_LABEL,
		 sizeof(KEYS_WRAP_LABEL) - 1},
	};

	return p11_find_one(w->p11, s, tmpl, 3, key);
}

/* The wrapping key, made on first use when create is set. */
static int
wrap_key(struct wrap *w, CK_SESSION_HANDLE s, int create, CK_OBJECT_HANDLE *key)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE tmpl[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_VALUE_LEN, &len, sizeof(len)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},
		{CKA_EXTRACTABLE, &no, sizeof(no)},
		{CKA_ENCRYPT, &yes, sizeof(yes)},
		{CKA_DECRYPT, &yes, sizeof(yes)},
		{CKA_WRAP, &no, sizeof(no)},
		{CKA_UNWRAP, &no, sizeof(no)},
		{CKA_LABEL, (void *)(uintptr_t)KEYS_WRAP_LABEL,
		 sizeof(KEYS_WRAP_LABEL) - 1},
	};
	CK_MECHANISM mech = {CKM_AES_KEY_GEN, NULL, 0};
	CK_OBJECT_HANDLE h;
	CK_RV rv;
	int r;

	pthread_mutex_lock(&w->lock);
	if (w->have_key) {
		*key = w->key;
		pthread_mutex_unlock(&w->lock);
		return 0;
	}
	r = find_key(w, s, &h);
	if (r == EST_E_NOTFOUND && create) {
		rv = w->p11->f->C_GenerateKey(
			s, &mech, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &h);
		if (rv != CKR_OK) {
			log_err("cannot create the wrapping key: %s",
				p11_rv_name(rv));
			r = p11_err(rv);
		} else {
			log_info("created the wrapping key \"%s\" in token "
				 "\"%s\"",
				 KEYS_WRAP_LABEL, w->p11->label);
			/* Exactly one must exist now, or two signers raced. */
			r = find_key(w, s, &h);
		}
	}
	if (r == 0) {
		w->key = h;
		w->have_key = 1;
		*key = h;
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

static void
wrap_key_forget(struct wrap *w)
{
	pthread_mutex_lock(&w->lock);
	w->have_key = 0;
	pthread_mutex_unlock(&w->lock);
}

/*
 * One AES-GCM operation in the token.  iv is in/out: modules that draw
 * the IV themselves (AWS CloudHSM) write it back into the parameters.
 */
static CK_RV
gcm(struct wrap *w, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, int encrypt,
    uint8_t iv[WRAP_IV], const uint8_t aad[WRAP_HDR], const uint8_t *in,
    size_t inlen, uint8_t *out, CK_ULONG *outlen)
{
	CK_GCM_PARAMS gp;
	CK_MECHANISM mech = {CKM_AES_GCM, &gp, sizeof(gp)};
	CK_RV rv;

	memset(&gp, 0, sizeof(gp));
	gp.pIv = iv;
	gp.ulIvLen = WRAP_IV;
	gp.ulIvBits = WRAP_IV * 8;
	gp.pAAD = (CK_BYTE_PTR)(uintptr_t)aad;
	gp.ulAADLen = WRAP_HDR;
	gp.ulTagBits = WRAP_TAG * 8;
	if (encrypt) {
		if ((rv = w->p11->f->C_EncryptInit(s, &mech, key)) == CKR_OK)
			rv = w->p11->f->C_Encrypt(s, (CK_BYTE_PTR)(uintptr_t)in,
						  (CK_ULONG)inlen, out, outlen);
	} else {
		if ((rv = w->p11->f->C_DecryptInit(s, &mech, key)) == CKR_OK)
			rv = w->p11->f->C_Decrypt(s, (CK_BYTE_PTR)(uintptr_t)in,
						  (CK_ULONG)inlen, out, outlen);
	}
	return rv;
}

static int
iv_is_zero(const uint8_t iv[WRAP_IV])
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < WRAP_IV; i++)
		acc |= iv[i];
	return acc == 0;
}

static EVP_PKEY *
new_device_key(uint8_t keytype)
{
	switch (keytype) {
	case SIGNER_KEY_EC_P256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case SIGNER_KEY_EC_P384:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	case SIGNER_KEY_RSA_2048:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	case SIGNER_KEY_RSA_3072:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	case SIGNER_KEY_RSA_4096:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	default:
		return NULL;
	}
}

/* Whether pkey is of the key type recorded in a wrapped key. */
static int
pkey_is(EVP_PKEY *pkey, uint8_t keytype)
{
	char group[32];
	size_t glen = 0;

	switch (keytype) {
	case SIGNER_KEY_EC_P256:
	case SIGNER_KEY_EC_P384:
		if (!EVP_PKEY_is_a(pkey, "EC") ||
		    !EVP_PKEY_get_utf8_string_param(pkey, "group", group,
						    sizeof(group), &glen))
			return 0;
		return strcmp(group, keytype == SIGNER_KEY_EC_P256
					     ? "prime256v1"
					     : "secp384r1") == 0;
	case SIGNER_KEY_RSA_2048:
		return EVP_PKEY_is_a(pkey, "RSA") &&
		       EVP_PKEY_get_bits(pkey) == 2048;
	case SIGNER_KEY_RSA_3072:
		return EVP_PKEY_is_a(pkey, "RSA") &&
		       EVP_PKEY_get_bits(pkey) == 3072;
	case SIGNER_KEY_RSA_4096:
		return EVP_PKEY_is_a(pkey, "RSA") &&
		       EVP_PKEY_get_bits(pkey) == 4096;
	default:
		return 0;
	}
}

int
wrap_generate(struct wrap *w, CK_SESSION_HANDLE s, uint8_t keytype,
	      uint8_t **wrapped, size_t *wrappedlen, uint8_t **spki,
	      size_t *spkilen)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t *der = NULL, *pub = NULL, *blob = NULL;
	int derlen = 0, publen = 0, r;
	size_t bloblen = 0;
	CK_ULONG ctlen;
	CK_OBJECT_HANDLE key;
	uint8_t iv[WRAP_IV];
	CK_RV rv;

	if (w->mode == WRAP_NONE)
		return EST_E_CONFIG;
	if (keytype < SIGNER_KEY_MIN || keytype > SIGNER_KEY_MAX)
		return EST_E_BADALG;
	if ((r = wrap_key(w, s, 1, &key)) != 0)
		return r;
	r = EST_E_CRYPTO;
	if ((pkey = new_device_key(keytype)) == NULL ||
	    (p8 = EVP_PKEY2PKCS8(pkey)) == NULL ||
	    (derlen = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0 ||
	    (publen = i2d_PUBKEY(pkey, &pub)) <= 0)
		goto out;
	bloblen = WRAP_HDR + WRAP_IV + (size_t)derlen + WRAP_TAG;
	if (bloblen > SIGNER_WRAPPED_MAX) {
		r = EST_E_TOOBIG;
		goto out;
	}
	if ((blob = malloc(bloblen)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	blob[0] = WRAP_FORMAT;
	blob[1] = keytype;
	/* A token that draws its own IV overwrites this one. */
	if (w->mode == WRAP_GCM_TOKEN_IV)
		memset(iv, 0, sizeof(iv));
	else if ((r = random_bytes(iv, sizeof(iv))) != 0)
		goto out;
	ctlen = (CK_ULONG)(bloblen - WRAP_HDR - WRAP_IV);
	rv = gcm(w, s, key, 1, iv, blob, der, (size_t)derlen,
		 blob + WRAP_HDR + WRAP_IV, &ctlen);
	if (rv != CKR_OK || ctlen != (CK_ULONG)derlen + WRAP_TAG) {
		log_err("wrapping a device key: %s", p11_rv_name(rv));
		if (p11_err(rv) == EST_E_NOTFOUND)
			wrap_key_forget(w);
		r = rv != CKR_OK ? p11_err(rv) : EST_E_HSM;
		goto out;
	}
	if (w->mode == WRAP_GCM_TOKEN_IV && iv_is_zero(iv)) {
		/* Every key would share one IV: refuse rather than leak. */
		log_err("the token did not choose an AES-GCM IV; check "
			"wrap_mechanism in the HSM profile");
		r = EST_E_HSM;
		goto out;
	}
	memcpy(blob + WRAP_HDR, iv, WRAP_IV);
	*wrapped = blob;
	*wrappedlen = bloblen;
	*spki = pub;
	*spkilen = (size_t)publen;
	blob = NULL;
	pub = NULL;
	r = 0;
out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)derlen);
	OPENSSL_free(pub);
	free(blob);
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(pkey);
	return r;
}

/* Decrypts a wrapped key to its PKCS#8 DER (caller wipes it). */
static int
unwrap(struct wrap *w, CK_SESSION_HANDLE s, const uint8_t *wrapped,
       size_t wrappedlen, uint8_t **p8der, size_t *p8len)
{
	CK_OBJECT_HANDLE key;
	uint8_t iv[WRAP_IV], *pt;
	CK_ULONG ptlen;
	size_t ctlen;
	CK_RV rv;
	int r;

	if (wrappedlen < WRAP_MIN || wrappedlen > SIGNER_WRAPPED_MAX ||
	    wrapped[0] != WRAP_FORMAT || wrapped[1] < SIGNER_KEY_MIN ||
	    wrapped[1] > SIGNER_KEY_MAX)
		return EST_E_INVAL;
	if ((r = wrap_key(w, s, 0, &key)) != 0)
		return r == EST_E_NOTFOUND ? EST_E_CRYPTO : r;
	ctlen = wrappedlen - WRAP_HDR - WRAP_IV;
	if ((pt = malloc(ctlen)) == NULL)
		return EST_E_NOMEM;
	memcpy(iv, wrapped + WRAP_HDR, WRAP_IV);
	ptlen = (CK_ULONG)ctlen;
	rv = gcm(w, s, key, 0, iv, wrapped, wrapped + WRAP_HDR + WRAP_IV, ctlen,
		 pt, &ptlen);
	if (rv != CKR_OK || ptlen != ctlen - WRAP_TAG) {
		/* A changed byte anywhere fails the tag. */
		log_warn("a wrapped key failed to decrypt (%s)",
			 p11_rv_name(rv));
		freezero(pt, ctlen);
		return EST_E_CRYPTO;
	}
	*p8der = pt;
	*p8len = ptlen;
	return 0;
}

static int
parse_x509(const struct wrap_der *d, X509 **out)
{
	const unsigned char *p = d->p;
	X509 *x;

	if (d->len == 0 || d->len > 65536)
		return EST_E_INVAL;
	if ((x = d2i_X509(NULL, &p, (long)d->len)) == NULL ||
	    p != d->p + d->len) {
		X509_free(x);
		return EST_E_INVAL;
	}
	*out = x;
	return 0;
}

static int
make_p12(EVP_PKEY *pkey, const char *pass, const struct wrap_der *cert,
	 const struct wrap_der *chain, size_t nchain, uint8_t **out,
	 size_t *outlen)
{
	STACK_OF(X509) *ca = NULL;
	PKCS12 *p12 = NULL;
	X509 *x = NULL, *c;
	uint8_t *der = NULL;
	int derlen, r;
	size_t i;

	if (cert != NULL && cert->len > 0) {
		if ((r = parse_x509(cert, &x)) != 0)
			goto out;
		/* The certificate must be this key's, or the file lies. */
		if (EVP_PKEY_eq(X509_get0_pubkey(x), pkey) != 1) {
			r = EST_E_INVAL;
			goto out;
		}
	}
	if ((ca = sk_X509_new_null()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < nchain; i++) {
		if ((r = parse_x509(&chain[i], &c)) != 0)
			goto out;
		if (!sk_X509_push(ca, c)) {
			X509_free(c);
			r = EST_E_NOMEM;
			goto out;
		}
	}
	r = EST_E_CRYPTO;
	/*
	 * PBES2 (PBKDF2, AES-256-CBC) for both bags, then an HMAC-SHA-256
	 * MAC set explicitly: the defaults of older OpenSSL releases were
	 * RC2, 3DES and SHA-1.
	 */
	if ((p12 = PKCS12_create_ex((char *)(uintptr_t)pass, NULL, pkey, x, ca,
				    NID_aes_256_cbc, NID_aes_256_cbc,
				    WRAP_P12_ITER, -1, 0, NULL, NULL)) ==
		    NULL ||
	    PKCS12_set_mac(p12, pass, -1, NULL, 0, WRAP_P12_ITER,
			   EVP_sha256()) != 1 ||
	    (derlen = i2d_PKCS12(p12, &der)) <= 0)
		goto out;
	if ((*out = malloc((size_t)derlen)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	memcpy(*out, der, (size_t)derlen);
	*outlen = (size_t)derlen;
	r = 0;
out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)derlen);
	PKCS12_free(p12);
	sk_X509_pop_free(ca, X509_free);
	X509_free(x);
	return r;
}

int
wrap_export(struct wrap *w, CK_SESSION_HANDLE s, const uint8_t *wrapped,
	    size_t wrappedlen, uint8_t format, const char *pass, size_t passlen,
	    const struct wrap_der *cert, const struct wrap_der *chain,
	    size_t nchain, uint8_t **out, size_t *outlen)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p;
	uint8_t *p8der = NULL;
	size_t p8len = 0;
	int r;

	if (w->mode == WRAP_NONE)
		return EST_E_CONFIG;
	if (format == SIGNER_EXPORT_PKCS8) {
		if (passlen != 0 || (cert != NULL && cert->len != 0) ||
		    nchain != 0)
			return EST_E_INVAL;
	} else if (format == SIGNER_EXPORT_PKCS12) {
		if (passlen < 8 || passlen > SIGNER_PASSPHRASE_MAX ||
		    nchain > WRAP_CHAIN_MAX)
			return EST_E_INVAL;
	} else
		return EST_E_INVAL;
	if ((r = unwrap(w, s, wrapped, wrappedlen, &p8der, &p8len)) != 0)
		return r;
	/* Exactly one PKCS#8 structure of the recorded key type. */
	p = p8der;
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)p8len)) == NULL ||
	    p != p8der + p8len || (pkey = EVP_PKCS82PKEY(p8)) == NULL ||
	    !pkey_is(pkey, wrapped[1])) {
		r = EST_E_CRYPTO;
		goto out;
	}
	if (format == SIGNER_EXPORT_PKCS8) {
		*out = p8der;
		*outlen = p8len;
		p8der = NULL;
		r = 0;
		goto out;
	}
	r = make_p12(pkey, pass, cert, chain, nchain, out, outlen);
out:
	freezero(p8der, p8len);
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(pkey);
	return r;
}

int
wrap_selftest(struct wrap *w, CK_SESSION_HANDLE s)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE tmpl[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_VALUE_LEN, &len, sizeof(len)},
		{CKA_TOKEN, &no, sizeof(no)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},
		{CKA_EXTRACTABLE, &no, sizeof(no)},
		{CKA_ENCRYPT, &yes, sizeof(yes)},
		{CKA_DECRYPT, &yes, sizeof(yes)},
	};
	CK_MECHANISM mech = {CKM_AES_KEY_GEN, NULL, 0};
	static const uint8_t msg[] = "estuary wrap self-test";
	uint8_t aad[WRAP_HDR] = {WRAP_FORMAT, SIGNER_KEY_EC_P256};
	uint8_t iv[WRAP_IV], iv0[WRAP_IV], ct[sizeof(msg) + WRAP_TAG],
		pt[sizeof(msg) + WRAP_TAG];
	CK_ULONG ctlen = sizeof(ct), ptlen = sizeof(pt);
	CK_OBJECT_HANDLE key;
	CK_RV rv;
	int r = EST_E_HSM;

	if (w->mode == WRAP_NONE)
		return 0;
	rv = w->p11->f->C_GenerateKey(s, &mech, tmpl,
				      sizeof(tmpl) / sizeof(tmpl[0]), &key);
	if (rv != CKR_OK) {
		log_err("AES key generation: %s", p11_rv_name(rv));
		return p11_err(rv);
	}
	if (w->mode == WRAP_GCM_TOKEN_IV)
		memset(iv, 0, sizeof(iv));
	else
		random_bytes(iv, sizeof(iv));
	memcpy(iv0, iv, sizeof(iv));
	if ((rv = gcm(w, s, key, 1, iv, aad, msg, sizeof(msg), ct, &ctlen)) !=
		    CKR_OK ||
	    ctlen != sizeof(ct)) {
		log_err("AES-GCM encryption: %s", p11_rv_name(rv));
		goto out;
	}
	if (w->mode == WRAP_GCM && memcmp(iv, iv0, sizeof(iv)) != 0) {
		log_err("the token replaced the AES-GCM IV: set "
			"wrap_mechanism = aes-gcm-token-iv");
		goto out;
	}
	if (w->mode == WRAP_GCM_TOKEN_IV && memcmp(iv, iv0, sizeof(iv)) == 0) {
		log_err("the token kept the all-zero AES-GCM IV: set "
			"wrap_mechanism = aes-gcm");
		goto out;
	}
	if ((rv = gcm(w, s, key, 0, iv, aad, ct, ctlen, pt, &ptlen)) !=
		    CKR_OK ||
	    ptlen != sizeof(msg) || memcmp(pt, msg, ptlen) != 0) {
		log_err("AES-GCM decryption: %s", p11_rv_name(rv));
		goto out;
	}
	/* And a changed byte must fail. */
	ct[0] ^= 1;
	ptlen = sizeof(pt);
	if (gcm(w, s, key, 0, iv, aad, ct, ctlen, pt, &ptlen) == CKR_OK) {
		log_err("AES-GCM decryption accepted a changed ciphertext");
		goto out;
	}
	r = 0;
out:
	w->p11->f->C_DestroyObject(s, key);
	return r;
}
