/*
 * What a key pair in the token is (keys_int.h): its id, label, type,
 * usage and subject read from the token's objects, and its
 * SubjectPublicKeyInfo built from the public key's attributes.  The
 * cache of keys.c keeps what this reads.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "err.h"
#include "keys.h"
#include "keys_int.h"
#include "log.h"
#include "tbs.h"
#include "util.h"

/* DER of the named-curve OIDs, as CKA_EC_PARAMS holds them. */
const uint8_t keys_oid_p256[KEYS_OID_P256_LEN] = {0x06, 0x08, 0x2a, 0x86, 0x48,
						  0xce, 0x3d, 0x03, 0x01, 0x07};
const uint8_t keys_oid_p384[KEYS_OID_P384_LEN] = {0x06, 0x05, 0x2b, 0x81,
						  0x04, 0x00, 0x22};

/* The DER SubjectPublicKeyInfo of the type's public key given by params. */
static int
spki_from_params(const char *type, OSSL_PARAM *params, uint8_t **spki,
		 size_t *spkilen)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t *der = NULL;
	int len, r = EST_E_CRYPTO;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    (len = i2d_PUBKEY(pkey, &der)) <= 0)
		goto out;
	*spki = der;
	*spkilen = (size_t)len;
	der = NULL;
	r = 0;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

int
keys_spki_ec(uint8_t keytype, const uint8_t *point, size_t pointlen,
	     uint8_t **spki, size_t *spkilen)
{
	const char *group = keytype == SIGNER_KEY_EC_P256 ? "P-256" : "P-384";
	size_t field = keytype == SIGNER_KEY_EC_P256 ? 32 : 48;
	OSSL_PARAM params[3];

	/*
	 * PKCS#11 2.40 says CKA_EC_POINT is a DER OCTET STRING; some
	 * modules return the bare point.  The lengths tell them apart.
	 */
	if (pointlen == 2 * field + 3 && point[0] == 0x04 &&
	    point[1] == 2 * field + 1) {
		point += 2;
		pointlen -= 2;
	}
	if (pointlen != 2 * field + 1 || point[0] != 0x04)
		return EST_E_HSM;
	params[0] = OSSL_PARAM_construct_utf8_string(
		OSSL_PKEY_PARAM_GROUP_NAME, (char *)(uintptr_t)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
		OSSL_PKEY_PARAM_PUB_KEY, (void *)(uintptr_t)point, pointlen);
	params[2] = OSSL_PARAM_construct_end();
	return spki_from_params("EC", params, spki, spkilen);
}

int
keys_spki_rsa(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen,
	      uint8_t **spki, size_t *spkilen)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	int r = EST_E_CRYPTO;

	if ((bn = BN_bin2bn(n, (int)nlen, NULL)) != NULL &&
	    (be = BN_bin2bn(e, (int)elen, NULL)) != NULL &&
	    (bld = OSSL_PARAM_BLD_new()) != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL)
		r = spki_from_params("RSA", params, spki, spkilen);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return r;
}

/* The key type of an EC public key object, from CKA_EC_PARAMS. */
static int
ec_type(struct p11 *p11, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
	uint8_t *keytype, uint8_t **spki, size_t *spkilen)
{
	uint8_t *params = NULL, *point = NULL;
	size_t plen = 0, ptlen = 0;
	int r;

	if ((r = p11_get_attr(p11, s, pub, CKA_EC_PARAMS, &params, &plen)) !=
		    0 ||
	    (r = p11_get_attr(p11, s, pub, CKA_EC_POINT, &point, &ptlen)) != 0)
		goto out;
	if (plen == sizeof(keys_oid_p256) &&
	    !memcmp(params, keys_oid_p256, plen))
		*keytype = SIGNER_KEY_EC_P256;
	else if (plen == sizeof(keys_oid_p384) &&
		 !memcmp(params, keys_oid_p384, plen))
		*keytype = SIGNER_KEY_EC_P384;
	else {
		r = EST_E_BADALG;
		goto out;
	}
	r = keys_spki_ec(*keytype, point, ptlen, spki, spkilen);
out:
	free(params);
	free(point);
	return r;
}

static int
rsa_type(struct p11 *p11, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
	 uint8_t *keytype, uint8_t **spki, size_t *spkilen)
{
	uint8_t *n = NULL, *e = NULL, *np;
	size_t nlen = 0, elen = 0;
	int r;

	if ((r = p11_get_attr(p11, s, pub, CKA_MODULUS, &n, &nlen)) != 0 ||
	    (r = p11_get_attr(p11, s, pub, CKA_PUBLIC_EXPONENT, &e, &elen)) !=
		    0)
		goto out;
	for (np = n; nlen > 0 && *np == 0; np++)
		nlen--;
	if (nlen == 256 && (np[0] & 0x80))
		*keytype = SIGNER_KEY_RSA_2048;
	else if (nlen == 384 && (np[0] & 0x80))
		*keytype = SIGNER_KEY_RSA_3072;
	else if (nlen == 512 && (np[0] & 0x80))
		*keytype = SIGNER_KEY_RSA_4096;
	else {
		r = EST_E_BADALG;
		goto out;
	}
	r = keys_spki_rsa(np, nlen, e, elen, spki, spkilen);
out:
	free(n);
	free(e);
	return r;
}

/*
 * A subject attribute of obj: 0 with *subject NULL when it is absent or
 * empty, EST_E_NOTFOUND when it is not one DER Name.
 */
static int
subject_attr(struct p11 *p11, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
	     uint8_t **subject, size_t *subjectlen)
{
	uint8_t *v = NULL;
	size_t len = 0;
	int r;

	*subject = NULL;
	*subjectlen = 0;
	r = p11_get_attr(p11, s, obj, CKA_SUBJECT, &v, &len);
	if (r == EST_E_NOTFOUND || (r == 0 && len == 0)) {
		free(v);
		return 0;
	}
	if (r != 0)
		return r;
	if (tbs_check_subject(v, len) != 0) {
		free(v);
		return EST_E_NOTFOUND;
	}
	*subject = v;
	*subjectlen = len;
	return 0;
}

/*
 * The usage of k (its priv and pub handles set) and its subject: CA when
 * the private key has a subject, OCSP when only the public key has one,
 * other when neither has.  A subject on both is not a pair we made.
 *
 * Why the public key for OCSP: the one attribute that every module keeps
 * and that tells the usages apart had to be one that, if a module lost
 * it, would make the key less able, never more.  Lose the public key's
 * subject and a responder key reads as usage other, which signs only a
 * request for its own public key.
 */
static int
key_usage(struct p11 *p11, CK_SESSION_HANDLE s, struct key *k,
	  uint8_t **subject, size_t *subjectlen)
{
	uint8_t *ps = NULL, *qs = NULL;
	size_t pslen = 0, qslen = 0;
	int r;

	if ((r = subject_attr(p11, s, k->priv, &ps, &pslen)) != 0 ||
	    (r = subject_attr(p11, s, k->pub, &qs, &qslen)) != 0)
		goto out;
	if (ps != NULL && qs != NULL) {
		r = EST_E_NOTFOUND;
		goto out;
	}
	if (ps != NULL) {
		k->usage = SIGNER_USAGE_CA;
		*subject = ps;
		*subjectlen = pslen;
		ps = NULL;
	} else if (qs != NULL) {
		k->usage = SIGNER_USAGE_OCSP;
		*subject = qs;
		*subjectlen = qslen;
		qs = NULL;
	} else {
		k->usage = SIGNER_USAGE_OTHER;
		*subject = NULL;
		*subjectlen = 0;
	}
out:
	free(ps);
	free(qs);
	return r;
}

int
keys_read_pair(struct p11 *p11, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
	       struct key **out)
{
	CK_OBJECT_CLASS pubclass = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE ktattr = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	CK_ATTRIBUTE tmpl[2];
	uint8_t *id = NULL, *label = NULL, *subject = NULL;
	size_t idlen = 0, labellen = 0, subjectlen = 0;
	struct key *k = NULL;
	int r;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return EST_E_NOMEM;
	k->priv = priv;
	if ((r = p11_get_attr(p11, s, priv, CKA_ID, &id, &idlen)) != 0 ||
	    (r = p11_get_attr(p11, s, priv, CKA_LABEL, &label, &labellen)) != 0)
		goto out;
	if (idlen != SIGNER_KEYID_LEN || !keys_valid_label(label, labellen)) {
		r = EST_E_NOTFOUND;
		goto out;
	}
	memcpy(k->id, id, SIGNER_KEYID_LEN);
	memcpy(k->label, label, labellen);
	k->label[labellen] = '\0';
	if (p11->f->C_GetAttributeValue(s, priv, &ktattr, 1) != CKR_OK) {
		r = EST_E_NOTFOUND;
		goto out;
	}
	tmpl[0] = (CK_ATTRIBUTE){CKA_CLASS, &pubclass, sizeof(pubclass)};
	tmpl[1] = (CK_ATTRIBUTE){CKA_ID, k->id, SIGNER_KEYID_LEN};
	if ((r = p11_find_one(p11, s, tmpl, 2, &k->pub)) != 0 ||
	    (r = key_usage(p11, s, k, &subject, &subjectlen)) != 0)
		goto out;
	k->subject = subject;
	k->subjectlen = subjectlen;
	subject = NULL;
	if (kt == CKK_EC)
		r = ec_type(p11, s, k->pub, &k->keytype, &k->spki, &k->spkilen);
	else if (kt == CKK_RSA)
		r = rsa_type(p11, s, k->pub, &k->keytype, &k->spki,
			     &k->spkilen);
	else
		r = EST_E_NOTFOUND;
	if (r == EST_E_BADALG)
		r = EST_E_NOTFOUND;
	if (r != 0)
		goto out;
	*out = k;
	k = NULL;
out:
	keys_key_free(k);
	free(id);
	free(label);
	free(subject);
	return r;
}
