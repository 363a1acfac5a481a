/*
 * The OCSP ResponseData (RFC 6960 4.2.1) that SIGNER_SIGN_OCSP signs, and
 * its policy (signer/PROTOCOL, SIGN).  A ResponseData carries no
 * signature algorithm, so the signer chooses it from the key, as for a
 * certificate: SHA-256 for P-256 and RSA keys, SHA-384 for P-384.
 *
 * What a key may say in a response is bound to the key itself, so that a
 * compromised client cannot make the signer vouch for anything else:
 *
 *	A CA key answers only for its own certificates: the responderID is
 *	its subject (byName) or its key hash (byKey), and every CertID names
 *	it as issuer (issuerNameHash and issuerKeyHash are the hashes of its
 *	subject and public key under the CertID's hash algorithm).
 *
 *	A delegated responder key (usage OCSP) names itself as responder;
 *	which CA it answers for is proven to relying parties by its
 *	certificate (extendedKeyUsage id-kp-OCSPSigning, signed by that CA),
 *	not by the signer.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "der.h"
#include "err.h"
#include "sigproto.h"
#include "tbs.h"

/* Hash algorithms of a CertID: OID contents and digest length. */
static const struct {
	uint8_t oid[9];
	uint8_t len;
	uint8_t mdlen;
	const char *name;
} hashes[] = {
	{{0x2b, 0x0e, 0x03, 0x02, 0x1a}, 5, 20, "SHA1"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01},
	 9,
	 32,
	 "SHA256"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02},
	 9,
	 48,
	 "SHA384"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03},
	 9,
	 64,
	 "SHA512"},
};
#define NHASHES (sizeof(hashes) / sizeof(hashes[0]))
#define HASH_SHA1 0 /* of a responder's KeyHash */

static EVP_MD *mds[NHASHES];
static pthread_once_t mds_once = PTHREAD_ONCE_INIT;

/* Fetching a digest costs a lookup; do it once, not per response. */
static void
mds_init(void)
{
	size_t i;

	for (i = 0; i < NHASHES; i++)
		mds[i] = EVP_MD_fetch(NULL, hashes[i].name, NULL);
}

#define KEYHASH_LEN 20 /* SHA-1, RFC 6960 4.2.1 KeyHash */
#define REASON_MAX 10  /* aACompromise; 7 is not used (RFC 5280 5.3.1) */

/* What the policy needs of one SingleResponse. */
struct certid {
	size_t hash; /* index into hashes[] */
	const uint8_t *namehash;
	const uint8_t *keyhash;
};

/* GeneralizedTime YYYYMMDDHHMMSSZ, the only form RFC 5280 allows. */
static int
parse_gentime(struct der *d)
{
	struct der_tlv t;
	size_t i;
	int r;

	if ((r = der_expect(d, DER_GENTIME, &t)) != 0)
		return r;
	if (t.vlen != 15 || t.val[14] != 'Z')
		return EST_E_BADASN1;
	for (i = 0; i < 14; i++)
		if (t.val[i] < '0' || t.val[i] > '9')
			return EST_E_BADASN1;
	return 0;
}

/* [n] EXPLICIT GeneralizedTime: exactly one time inside. */
static int
parse_explicit_time(const struct der_tlv *t)
{
	struct der in;
	int r;

	der_enter(t, &in);
	if ((r = parse_gentime(&in)) != 0)
		return r;
	return der_empty(&in) ? 0 : EST_E_BADASN1;
}

/* A CertID's hashAlgorithm: a known OID, parameters NULL or absent. */
static int
parse_hashalg(const struct der_tlv *t, size_t *idx)
{
	const struct der_tlv *params;
	struct der_tlv pbuf;
	const uint8_t *oid;
	size_t oidlen, i;
	int r;

	if ((r = der_algorithm(t, &oid, &oidlen, &params, &pbuf)) != 0)
		return r;
	if (params != NULL && (params->tag != DER_NULL || params->vlen != 0))
		return EST_E_BADASN1;
	for (i = 0; i < NHASHES; i++)
		if (oidlen == hashes[i].len &&
		    memcmp(oid, hashes[i].oid, oidlen) == 0) {
			*idx = i;
			return 0;
		}
	return EST_E_BADASN1;
}

/*
 * CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash OCTET STRING,
 * issuerKeyHash OCTET STRING, serialNumber INTEGER }.  The hashes have
 * the algorithm's length; the serial is a shortest-form INTEGER of at
 * most 20 octets, of either sign, since a request may ask about any.
 */
static int
parse_certid(struct der *d, struct certid *id)
{
	struct der_tlv t, alg, nh, kh, serial;
	struct der in;
	int r;

	if ((r = der_expect(d, DER_SEQUENCE, &t)) != 0)
		return r;
	der_enter(&t, &in);
	if ((r = der_expect(&in, DER_SEQUENCE, &alg)) != 0 ||
	    (r = parse_hashalg(&alg, &id->hash)) != 0 ||
	    (r = der_expect(&in, DER_OCTETSTRING, &nh)) != 0 ||
	    (r = der_expect(&in, DER_OCTETSTRING, &kh)) != 0 ||
	    (r = der_expect(&in, DER_INTEGER, &serial)) != 0)
		return r;
	if (nh.vlen != hashes[id->hash].mdlen ||
	    kh.vlen != hashes[id->hash].mdlen || serial.vlen == 0 ||
	    serial.vlen > 20 || !der_empty(&in))
		return EST_E_BADASN1;
	if (serial.vlen > 1 &&
	    ((serial.val[0] == 0 && !(serial.val[1] & 0x80)) ||
	     (serial.val[0] == 0xff && (serial.val[1] & 0x80))))
		return EST_E_BADASN1;
	id->namehash = nh.val;
	id->keyhash = kh.val;
	return 0;
}

/*
 * RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime,
 * revocationReason [0] EXPLICIT CRLReason OPTIONAL }, here as the
 * contents of the [1] IMPLICIT choice.
 */
static int
parse_revoked(const struct der_tlv *t)
{
	struct der in, rin;
	struct der_tlv rt, e;
	int r;

	der_enter(t, &in);
	if ((r = parse_gentime(&in)) != 0)
		return r;
	if (der_peek_tag(&in) == DER_CTX_CONS(0)) {
		if ((r = der_next(&in, &rt)) != 0)
			return r;
		der_enter(&rt, &rin);
		/* CRLReason ::= ENUMERATED, one octet. */
		if ((r = der_expect(&rin, 0x0a, &e)) != 0)
			return r;
		if (e.vlen != 1 || e.val[0] > REASON_MAX || e.val[0] == 7 ||
		    !der_empty(&rin))
			return EST_E_BADASN1;
	}
	return der_empty(&in) ? 0 : EST_E_BADASN1;
}

/*
 * CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT
 * RevokedInfo, unknown [2] IMPLICIT NULL }.
 */
static int
parse_status(struct der *d)
{
	struct der_tlv t;
	int r;

	if ((r = der_next(d, &t)) != 0)
		return r;
	switch (t.tag) {
	case DER_CTX(0):
	case DER_CTX(2):
		return t.vlen == 0 ? 0 : EST_E_BADASN1;
	case DER_CTX_CONS(1):
		return parse_revoked(&t);
	default:
		return EST_E_BADASN1;
	}
}

/*
 * SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate,
 * nextUpdate [0] EXPLICIT OPTIONAL, singleExtensions [1] EXPLICIT
 * OPTIONAL }.
 */
static int
parse_single(struct der *d, struct certid *id)
{
	struct der_tlv t, o;
	struct der in;
	int r;

	if ((r = der_expect(d, DER_SEQUENCE, &t)) != 0)
		return r;
	der_enter(&t, &in);
	if ((r = parse_certid(&in, id)) != 0 || (r = parse_status(&in)) != 0 ||
	    (r = parse_gentime(&in)) != 0)
		return r;
	if (der_peek_tag(&in) == DER_CTX_CONS(0) &&
	    ((r = der_next(&in, &o)) != 0 ||
	     (r = parse_explicit_time(&o)) != 0))
		return r;
	if (der_peek_tag(&in) == DER_CTX_CONS(1) &&
	    ((r = der_next(&in, &o)) != 0 ||
	     (r = tbs_parse_extensions(&o)) != 0))
		return r;
	return der_empty(&in) ? 0 : EST_E_BADASN1;
}

/* ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }. */
static int
parse_responder(struct der *d, struct tbs_info *info)
{
	struct der_tlv t, v;
	struct der in;
	int r;

	if ((r = der_next(d, &t)) != 0)
		return r;
	der_enter(&t, &in);
	if (t.tag == DER_CTX_CONS(1)) {
		if ((r = der_expect(&in, DER_SEQUENCE, &v)) != 0 ||
		    (r = der_check_name(&v)) != 0)
			return r;
		info->responder = v.raw;
		info->responderlen = v.rawlen;
		info->responder_bykey = 0;
	} else if (t.tag == DER_CTX_CONS(2)) {
		if ((r = der_expect(&in, DER_OCTETSTRING, &v)) != 0)
			return r;
		if (v.vlen != KEYHASH_LEN)
			return EST_E_BADASN1;
		info->responder = v.val;
		info->responderlen = v.vlen;
		info->responder_bykey = 1;
	} else
		return EST_E_BADASN1;
	return der_empty(&in) ? 0 : EST_E_BADASN1;
}

int
tbs_ocsp_parse(const uint8_t *p, size_t len, struct tbs_info *info)
{
	struct der in, ver, list;
	struct der_tlv t;
	struct certid id;
	int r;

	if ((r = tbs_open_outer(p, len, &in)) != 0)
		return r;
	/* version [0] EXPLICIT DEFAULT v1: only v1 exists. */
	if (der_peek_tag(&in) == DER_CTX_CONS(0)) {
		struct der_tlv v;

		if ((r = der_next(&in, &t)) != 0)
			return r;
		der_enter(&t, &ver);
		if ((r = der_expect(&ver, DER_INTEGER, &v)) != 0)
			return r;
		if (v.vlen != 1 || v.val[0] != 0 || !der_empty(&ver))
			return EST_E_BADASN1;
	}
	if ((r = parse_responder(&in, info)) != 0 ||
	    (r = parse_gentime(&in)) != 0 ||
	    (r = der_expect(&in, DER_SEQUENCE, &t)) != 0)
		return r;
	/* At least one answer: an empty response vouches for nothing. */
	if (t.vlen == 0)
		return EST_E_BADASN1;
	info->responses = t.val;
	info->responseslen = t.vlen;
	der_enter(&t, &list);
	while (!der_empty(&list))
		if ((r = parse_single(&list, &id)) != 0)
			return r;
	if (der_peek_tag(&in) == DER_CTX_CONS(1) &&
	    ((r = der_next(&in, &t)) != 0 ||
	     (r = tbs_parse_extensions(&t)) != 0))
		return r;
	info->alg = TBS_ALG_NONE;
	return der_empty(&in) ? 0 : EST_E_BADASN1;
}

static int
same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return a != NULL && b != NULL && alen == blen &&
	       memcmp(a, b, alen) == 0;
}

/* The subjectPublicKey bits of a SubjectPublicKeyInfo (no unused bits). */
static int
spki_bits(const uint8_t *spki, size_t len, const uint8_t **bits,
	  size_t *bitslen)
{
	struct der d, in;
	struct der_tlv t, alg, key;
	int r;

	der_init(&d, spki, len);
	if ((r = der_expect(&d, DER_SEQUENCE, &t)) != 0)
		return EST_E_INTERNAL;
	der_enter(&t, &in);
	if ((r = der_expect(&in, DER_SEQUENCE, &alg)) != 0 ||
	    (r = der_expect(&in, DER_BITSTRING, &key)) != 0 || key.vlen < 2 ||
	    key.val[0] != 0)
		return EST_E_INTERNAL;
	*bits = key.val + 1;
	*bitslen = key.vlen - 1;
	return 0;
}

/* Whether data hashes to want under hashes[idx]. */
static int
hash_is(size_t idx, const uint8_t *data, size_t len, const uint8_t *want)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	pthread_once(&mds_once, mds_init);
	if (mds[idx] == NULL ||
	    EVP_Digest(data, len, md, &mdlen, mds[idx], NULL) != 1 ||
	    mdlen != hashes[idx].mdlen)
		return EST_E_CRYPTO;
	return memcmp(md, want, mdlen) == 0 ? 0 : EST_E_POLICY;
}

/* Every CertID of the responses names key as its issuer. */
static int
certids_are_key(const struct tbs_info *info, const struct tbs_key *key,
		const uint8_t *bits, size_t bitslen)
{
	struct certid id;
	struct der list;
	int r;

	der_init(&list, info->responses, info->responseslen);
	while (!der_empty(&list)) {
		if (parse_single(&list, &id) != 0)
			return EST_E_INTERNAL; /* parsed before */
		if ((r = hash_is(id.hash, key->subject, key->subjectlen,
				 id.namehash)) != 0 ||
		    (r = hash_is(id.hash, bits, bitslen, id.keyhash)) != 0)
			return r;
	}
	return 0;
}

int
tbs_ocsp_policy(const struct tbs_info *info, const struct tbs_key *key,
		uint8_t digest, int *alg)
{
	const uint8_t *bits;
	size_t bitslen;
	int r;

	if (digest != SIGNER_DIGEST_NONE ||
	    (key->usage != SIGNER_USAGE_CA &&
	     key->usage != SIGNER_USAGE_OCSP) ||
	    key->subject == NULL || key->subjectlen == 0)
		return EST_E_POLICY;
	if ((r = spki_bits(key->spki, key->spkilen, &bits, &bitslen)) != 0)
		return r;
	/* The responder is the key itself, by name or by key hash. */
	if (info->responder_bykey) {
		if ((r = hash_is(HASH_SHA1, bits, bitslen, info->responder)) !=
		    0)
			return r;
	} else if (!same(info->responder, info->responderlen, key->subject,
			 key->subjectlen))
		return EST_E_POLICY;
	if (key->usage == SIGNER_USAGE_CA &&
	    (r = certids_are_key(info, key, bits, bitslen)) != 0)
		return r;
	switch (key->keytype) {
	case SIGNER_KEY_EC_P256:
		*alg = TBS_ALG_ECDSA_SHA256;
		return 0;
	case SIGNER_KEY_EC_P384:
		*alg = TBS_ALG_ECDSA_SHA384;
		return 0;
	default:
		*alg = TBS_ALG_RSA_SHA256;
		return 0;
	}
}
