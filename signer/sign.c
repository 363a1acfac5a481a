/*
 * Signing (sign.h).  EC keys sign a digest computed here with CKM_ECDSA;
 * RSA keys use CKM_SHA*_RSA_PKCS so the token hashes and pads.  Either
 * way the bytes signed are the ones the policy checked.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "err.h"
#include "log.h"
#include "sign.h"
#include "tbs.h"

static EVP_MD *md_sha256, *md_sha384, *md_sha512;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

/* Fetching a digest costs a lookup; do it once, not per signature. */
static void
md_init(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
	md_sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
}

static const EVP_MD *
md_for(int alg)
{
	pthread_once(&md_once, md_init);
	switch (alg) {
	case TBS_ALG_ECDSA_SHA256:
	case TBS_ALG_RSA_SHA256:
		return md_sha256;
	case TBS_ALG_ECDSA_SHA384:
	case TBS_ALG_RSA_SHA384:
		return md_sha384;
	case TBS_ALG_ECDSA_SHA512:
	case TBS_ALG_RSA_SHA512:
		return md_sha512;
	default:
		return NULL;
	}
}

/* One INTEGER of a big-endian unsigned value: shortest, non-negative. */
static size_t
der_uint(uint8_t *out, const uint8_t *v, size_t n)
{
	size_t pad;

	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	pad = (v[0] & 0x80) ? 1 : 0;
	out[0] = 0x02;
	out[1] = (uint8_t)(n + pad);
	out[2] = 0;
	memcpy(out + 2 + pad, v, n);
	return 2 + pad + n;
}

int
sign_ecdsa_der(const uint8_t *raw, size_t rawlen, uint8_t *out, size_t outsz,
	       size_t *outlen)
{
	uint8_t body[2 * (3 + 66)];
	size_t half = rawlen / 2, n;

	/* Up to P-384 the whole value fits a short-form length. */
	if (rawlen == 0 || rawlen % 2 != 0 || half > 48)
		return EST_E_INTERNAL;
	n = der_uint(body, raw, half);
	n += der_uint(body + n, raw + half, half);
	if (n > 127 || n + 2 > outsz)
		return EST_E_INTERNAL;
	out[0] = 0x30;
	out[1] = (uint8_t)n;
	memcpy(out + 2, body, n);
	*outlen = n + 2;
	return 0;
}

static int
digest(const EVP_MD *md, const uint8_t *data, size_t len, uint8_t *out,
       unsigned int *outlen)
{
	return EVP_Digest(data, len, out, outlen, md, NULL) == 1 ? 0
								 : EST_E_CRYPTO;
}

int
sign_tbs(struct p11 *p11, CK_SESSION_HANDLE s, const struct key *k,
	 uint8_t kind, uint8_t dig, const uint8_t *data, size_t len,
	 uint8_t sig[SIGN_MAX], size_t *siglen, uint8_t data_sha256[32])
{
	struct tbs_info info;
	struct tbs_key tk;
	uint8_t h[EVP_MAX_MD_SIZE], raw[SIGN_MAX];
	unsigned int hlen = 0, slen = 0;
	CK_MECHANISM mech = {0, NULL, 0};
	CK_ULONG rawlen = sizeof(raw);
	const EVP_MD *md;
	int alg, r;
	CK_RV rv;

	if ((r = tbs_parse(kind, data, len, &info)) != 0)
		return r;
	tk.keytype = k->keytype;
	tk.usage = k->usage;
	tk.subject = k->subject;
	tk.subjectlen = k->subjectlen;
	tk.spki = k->spki;
	tk.spkilen = k->spkilen;
	if ((r = tbs_policy(&info, &tk, dig, &alg)) != 0)
		return r;
	if ((md = md_for(alg)) == NULL || md_sha256 == NULL)
		return EST_E_CRYPTO;
	if (tbs_alg_is_ec(alg)) {
		if ((r = digest(md, data, len, h, &hlen)) != 0)
			return r;
		mech.mechanism = CKM_ECDSA;
		rv = p11->f->C_SignInit(s, &mech, k->priv);
		if (rv == CKR_OK)
			rv = p11->f->C_Sign(s, h, hlen, raw, &rawlen);
	} else {
		mech.mechanism = alg == TBS_ALG_RSA_SHA256 ? CKM_SHA256_RSA_PKCS
				 : alg == TBS_ALG_RSA_SHA384
					 ? CKM_SHA384_RSA_PKCS
					 : CKM_SHA512_RSA_PKCS;
		rv = p11->f->C_SignInit(s, &mech, k->priv);
		if (rv == CKR_OK)
			rv = p11->f->C_Sign(s, (CK_BYTE_PTR)(uintptr_t)data,
					    (CK_ULONG)len, raw, &rawlen);
	}
	if (rv != CKR_OK) {
		log_err("C_Sign with key %s: %s", k->label, p11_rv_name(rv));
		return p11_err(rv);
	}
	if (md == md_sha256 && hlen == 32)
		memcpy(data_sha256, h, 32);
	else if ((r = digest(md_sha256, data, len, data_sha256, &slen)) != 0)
		return r;
	if (tbs_alg_is_ec(alg))
		return sign_ecdsa_der(raw, rawlen, sig, SIGN_MAX, siglen);
	memcpy(sig, raw, rawlen);
	*siglen = rawlen;
	return 0;
}
