/*
 * X.509 building blocks: key types, serials, SubjectPublicKeyInfo, CA
 * certificates, DER and PEM (see x509.h).  Names are in x509name.c,
 * signing through the signer in x509sign.c.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "util.h"
#include "x509.h"

static const struct {
	const char *name;
	int keytype;
} keytypes[] = {
	{"ec-p256", SIGNER_KEY_EC_P256},   {"ec-p384", SIGNER_KEY_EC_P384},
	{"rsa-2048", SIGNER_KEY_RSA_2048}, {"rsa-3072", SIGNER_KEY_RSA_3072},
	{"rsa-4096", SIGNER_KEY_RSA_4096},
};
#define NKEYTYPES (sizeof(keytypes) / sizeof(keytypes[0]))

int
x509_keytype_parse(const char *name, int *keytype)
{
	size_t i;

	for (i = 0; i < NKEYTYPES; i++) {
		if (strcmp(name, keytypes[i].name) == 0) {
			*keytype = keytypes[i].keytype;
			return 0;
		}
	}
	return EST_E_INVAL;
}

const char *
x509_keytype_name(int keytype)
{
	size_t i;

	for (i = 0; i < NKEYTYPES; i++)
		if (keytypes[i].keytype == keytype)
			return keytypes[i].name;
	return NULL;
}

int
x509_pkey_keytype(const EVP_PKEY *pkey, int *keytype)
{
	char group[64];
	int nid;

	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (!EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL))
			return EST_E_BADALG;
		/* Providers may report either the SEC or the NIST name. */
		if ((nid = OBJ_sn2nid(group)) == NID_undef)
			nid = EC_curve_nist2nid(group);
		if (nid == NID_X9_62_prime256v1)
			*keytype = SIGNER_KEY_EC_P256;
		else if (nid == NID_secp384r1)
			*keytype = SIGNER_KEY_EC_P384;
		else
			return EST_E_BADALG;
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		switch (EVP_PKEY_get_bits(pkey)) {
		case 2048:
			*keytype = SIGNER_KEY_RSA_2048;
			return 0;
		case 3072:
			*keytype = SIGNER_KEY_RSA_3072;
			return 0;
		case 4096:
			*keytype = SIGNER_KEY_RSA_4096;
			return 0;
		}
	}
	return EST_E_BADALG;
}

/* ----- serials and public keys ----- */

int
x509_serial_random(ASN1_INTEGER **out)
{
	uint8_t b[X509_SERIAL_LEN];
	ASN1_INTEGER *ai;
	int r;

	if ((r = random_bytes(b, sizeof(b))) != 0)
		return r;
	b[0] = (uint8_t)((b[0] & 0x3f) | 0x40);
	if ((ai = ASN1_INTEGER_new()) == NULL)
		return EST_E_NOMEM;
	/* An ASN1_INTEGER holds the big-endian magnitude of the value. */
	if (!ASN1_STRING_set(ai, b, sizeof(b))) {
		ASN1_INTEGER_free(ai);
		return EST_E_NOMEM;
	}
	*out = ai;
	return 0;
}

int
x509_spki_to_pkey(const uint8_t *der, size_t len, EVP_PKEY **out)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey;

	if (len > LONG_MAX)
		return EST_E_TOOBIG;
	if ((pkey = d2i_PUBKEY(NULL, &p, (long)len)) == NULL)
		return EST_E_BADASN1;
	if (p != der + len) {
		EVP_PKEY_free(pkey);
		return EST_E_TRAILING;
	}
	*out = pkey;
	return 0;
}

/*
 * Reads the DER header at p (at most len bytes): the tag and class, and
 * the header's and the whole element's size.  Indefinite lengths are not
 * DER and are refused.
 */
static int
der_tlv(const uint8_t *p, size_t len, int *tag, int *cls, size_t *hdrlen,
	size_t *total)
{
	const unsigned char *q = p;
	long clen;
	int ret;

	if (len > LONG_MAX)
		return EST_E_TOOBIG;
	ret = ASN1_get_object(&q, &clen, tag, cls, (long)len);
	if ((ret & 0x80) != 0 || (ret & 0x01) != 0)
		return EST_E_BADASN1;
	*hdrlen = (size_t)(q - p);
	*total = *hdrlen + (size_t)clen;
	return 0;
}

int
x509_set_spki(X509 *x, const uint8_t *der, size_t len, uint8_t skid[20])
{
	const unsigned char *p;
	X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *aobj;
	const void *pval;
	ASN1_OBJECT *obj = NULL, *param = NULL;
	unsigned char *penc = NULL;
	size_t hdr, total, bhdr, btotal, klen;
	const uint8_t *end, *bits;
	int tag, cls, ptype, r;

	/* SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey } */
	if ((r = der_tlv(der, len, &tag, &cls, &hdr, &total)) != 0)
		return r;
	if (tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL || total != len)
		return EST_E_BADASN1;
	end = der + len;
	p = der + hdr;
	if ((alg = d2i_X509_ALGOR(NULL, &p, (long)(end - p))) == NULL)
		return EST_E_BADASN1;
	if ((r = der_tlv(p, (size_t)(end - p), &tag, &cls, &bhdr, &btotal)) !=
	    0)
		goto out;
	/* A BIT STRING of whole octets: the first content octet is 0. */
	if (tag != V_ASN1_BIT_STRING || cls != V_ASN1_UNIVERSAL ||
	    p + btotal != end || btotal < bhdr + 2 || p[bhdr] != 0) {
		r = EST_E_BADASN1;
		goto out;
	}
	bits = p + bhdr + 1;
	klen = btotal - bhdr - 1;
	X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
	/* RSA has a NULL parameter, EC a named curve; nothing else is ours. */
	if (ptype == V_ASN1_OBJECT) {
		if ((param = OBJ_dup(pval)) == NULL) {
			r = EST_E_NOMEM;
			goto out;
		}
	} else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) {
		r = EST_E_BADALG;
		goto out;
	}
	if ((obj = OBJ_dup(aobj)) == NULL ||
	    (penc = OPENSSL_memdup(bits, klen)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if (skid != NULL &&
	    !EVP_Digest(bits, klen, skid, NULL, EVP_sha1(), NULL)) {
		r = EST_E_CRYPTO;
		goto out;
	}
	/* set0 takes ownership of obj, param and penc when it succeeds. */
	if (!X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), obj, ptype, param,
				    penc, (int)klen)) {
		r = EST_E_NOMEM;
		goto out;
	}
	obj = param = NULL;
	penc = NULL;
	r = 0;
out:
	OPENSSL_free(penc);
	ASN1_OBJECT_free(param);
	ASN1_OBJECT_free(obj);
	X509_ALGOR_free(alg);
	return r;
}

/* ----- CA certificates ----- */

static int
add_ext(X509 *x, int nid, void *value, int crit)
{
	return X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT) == 1
		       ? 0
		       : EST_E_CRYPTO;
}

static int
octets(const uint8_t *p, size_t len, ASN1_OCTET_STRING **out)
{
	ASN1_OCTET_STRING *os;

	if ((os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, p, (int)len)) {
		ASN1_OCTET_STRING_free(os);
		return EST_E_NOMEM;
	}
	*out = os;
	return 0;
}

static int
ca_extensions(X509 *x, const struct x509_ca_spec *spec, const uint8_t *skid)
{
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_BIT_STRING *ku = NULL;
	ASN1_OCTET_STRING *ski = NULL;
	AUTHORITY_KEYID *aki = NULL;
	const ASN1_OCTET_STRING *iski;
	int r;

	if ((bc = BASIC_CONSTRAINTS_new()) == NULL ||
	    (ku = ASN1_BIT_STRING_new()) == NULL ||
	    (aki = AUTHORITY_KEYID_new()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	bc->ca = 0xff;
	if (spec->pathlen >= 0 &&
	    ((bc->pathlen = ASN1_INTEGER_new()) == NULL ||
	     !ASN1_INTEGER_set(bc->pathlen, spec->pathlen))) {
		r = EST_E_NOMEM;
		goto out;
	}
	/* Bits of RFC 5280 4.2.1.3: digitalSignature (0), keyCertSign (5),
	 * cRLSign (6). */
	if (!ASN1_BIT_STRING_set_bit(ku, 0, 1) ||
	    !ASN1_BIT_STRING_set_bit(ku, 5, 1) ||
	    !ASN1_BIT_STRING_set_bit(ku, 6, 1)) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = octets(skid, 20, &ski)) != 0)
		goto out;
	if (spec->issuer == NULL) {
		r = octets(skid, 20, &aki->keyid);
	} else if ((iski = X509_get0_subject_key_id(spec->issuer)) != NULL) {
		if ((aki->keyid = ASN1_OCTET_STRING_dup(iski)) == NULL)
			r = EST_E_NOMEM;
	}
	if (r != 0 || (r = add_ext(x, NID_basic_constraints, bc, 1)) != 0 ||
	    (r = add_ext(x, NID_key_usage, ku, 1)) != 0 ||
	    (r = add_ext(x, NID_subject_key_identifier, ski, 0)) != 0)
		goto out;
	/* An issuer without an SKI leaves nothing to point at. */
	if (aki->keyid != NULL)
		r = add_ext(x, NID_authority_key_identifier, aki, 0);
out:
	AUTHORITY_KEYID_free(aki);
	ASN1_OCTET_STRING_free(ski);
	ASN1_BIT_STRING_free(ku);
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

int
x509_ca_build(const struct x509_ca_spec *spec, X509 **out)
{
	X509 *x = NULL;
	ASN1_INTEGER *serial = NULL;
	const X509_NAME *issuer;
	uint8_t skid[20];
	int r;

	if (spec->subject == NULL || spec->spki == NULL || spec->days < 1 ||
	    spec->days > X509_DAYS_MAX || spec->pathlen < -1)
		return EST_E_INVAL;
	issuer = spec->issuer != NULL ? X509_get_subject_name(spec->issuer)
				      : spec->subject;
	if ((x = X509_new()) == NULL)
		return EST_E_NOMEM;
	if ((r = x509_serial_random(&serial)) != 0)
		goto out;
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, serial) ||
	    !X509_set_subject_name(x, spec->subject) ||
	    !X509_set_issuer_name(x, issuer) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), spec->days, 0, NULL) ==
		    NULL) {
		r = EST_E_CRYPTO;
		goto out;
	}
	if ((r = x509_set_spki(x, spec->spki, spec->spkilen, skid)) != 0 ||
	    (r = ca_extensions(x, spec, skid)) != 0)
		goto out;
	*out = x;
	x = NULL;
out:
	ASN1_INTEGER_free(serial);
	X509_free(x);
	return r;
}

/* ----- DER and PEM ----- */

int
x509_cert_der(X509 *x, uint8_t **der, size_t *len)
{
	unsigned char *d, *p;
	int n;

	if ((n = i2d_X509(x, NULL)) <= 0)
		return EST_E_CRYPTO;
	if ((d = malloc((size_t)n)) == NULL)
		return EST_E_NOMEM;
	p = d;
	if (i2d_X509(x, &p) != n) {
		free(d);
		return EST_E_CRYPTO;
	}
	*der = d;
	*len = (size_t)n;
	return 0;
}

int
x509_cert_from_der(const uint8_t *der, size_t len, X509 **out)
{
	const unsigned char *p = der;
	X509 *x;

	if (len > LONG_MAX)
		return EST_E_TOOBIG;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return EST_E_BADASN1;
	if (p != der + len) {
		X509_free(x);
		return EST_E_TRAILING;
	}
	*out = x;
	return 0;
}

int
x509_der_to_pem(const uint8_t *der, size_t len, char **pem, size_t *pemlen)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----\n";
	static const char end[] = "-----END CERTIFICATE-----\n";
	size_t lines, n, off = 0, i, chunk;
	char *s;

	if (len == 0 || len > INT_MAX / 2)
		return EST_E_TOOBIG;
	/* 48 bytes make one line of 64 base64 characters (RFC 7468). */
	lines = (len + 47) / 48;
	n = sizeof(begin) - 1 + 4 * ((len + 2) / 3) + lines + sizeof(end);
	if ((s = malloc(n)) == NULL)
		return EST_E_NOMEM;
	memcpy(s, begin, sizeof(begin) - 1);
	off = sizeof(begin) - 1;
	for (i = 0; i < len; i += chunk) {
		chunk = len - i < 48 ? len - i : 48;
		off += (size_t)EVP_EncodeBlock((unsigned char *)s + off,
					       der + i, (int)chunk);
		s[off++] = '\n';
	}
	memcpy(s + off, end, sizeof(end));
	off += sizeof(end) - 1;
	*pem = s;
	if (pemlen != NULL)
		*pemlen = off;
	return 0;
}

int
x509_cert_from_pem(const char *pem, size_t len, X509 **out)
{
	BIO *bio;
	X509 *x;

	if (len > INT_MAX)
		return EST_E_TOOBIG;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return EST_E_NOMEM;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL)
		return EST_E_BADASN1;
	*out = x;
	return 0;
}
