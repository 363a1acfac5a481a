/*
 * The structures the signer signs, walked field by field in the order
 * RFC 5280 and RFC 2986 give them, and the key policy of signer/PROTOCOL
 * (the OCSP ResponseData is in tbs_ocsp.c).  Parsing is strict DER: the
 * signer must sign exactly what a relying party will parse, so it accepts
 * one encoding per value.
 */
#include "config.h"

#include <string.h>

#include "der.h"
#include "err.h"
#include "sigproto.h"
#include "tbs.h"

/* Contents octets of the signature algorithm OIDs. */
static const struct {
	uint8_t oid[9];
	uint8_t len;
	int alg;
	int ec;
} algs[] = {
	{{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02},
	 8,
	 TBS_ALG_ECDSA_SHA256,
	 1},
	{{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03},
	 8,
	 TBS_ALG_ECDSA_SHA384,
	 1},
	{{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04},
	 8,
	 TBS_ALG_ECDSA_SHA512,
	 1},
	{{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b},
	 9,
	 TBS_ALG_RSA_SHA256,
	 0},
	{{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c},
	 9,
	 TBS_ALG_RSA_SHA384,
	 0},
	{{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d},
	 9,
	 TBS_ALG_RSA_SHA512,
	 0},
};

const char *
tbs_alg_digest(int alg)
{
	switch (alg) {
	case TBS_ALG_ECDSA_SHA256:
	case TBS_ALG_RSA_SHA256:
		return "SHA256";
	case TBS_ALG_ECDSA_SHA384:
	case TBS_ALG_RSA_SHA384:
		return "SHA384";
	case TBS_ALG_ECDSA_SHA512:
	case TBS_ALG_RSA_SHA512:
		return "SHA512";
	default:
		return NULL;
	}
}

int
tbs_alg_is_ec(int alg)
{
	return alg == TBS_ALG_ECDSA_SHA256 || alg == TBS_ALG_ECDSA_SHA384 ||
	       alg == TBS_ALG_ECDSA_SHA512;
}

/*
 * ECDSA identifiers carry no parameters (RFC 5758 3.2); the RSA ones carry
 * NULL, which RFC 4055 5 also lets be absent.  Anything else is an
 * algorithm we do not sign with.
 */
static int
parse_sigalg(const struct der_tlv *t, int *alg)
{
	const struct der_tlv *params;
	struct der_tlv pbuf;
	const uint8_t *oid;
	size_t oidlen, i;
	int r;

	if ((r = der_algorithm(t, &oid, &oidlen, &params, &pbuf)) != 0)
		return r;
	*alg = TBS_ALG_UNKNOWN;
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (oidlen != algs[i].len ||
		    memcmp(oid, algs[i].oid, oidlen) != 0)
			continue;
		if (algs[i].ec && params != NULL)
			return 0;
		if (!algs[i].ec && params != NULL &&
		    (params->tag != DER_NULL || params->vlen != 0))
			return 0;
		*alg = algs[i].alg;
		return 0;
	}
	return 0;
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280). */
static int
parse_time(struct der *d)
{
	struct der_tlv t;
	size_t i, digits;
	int r;

	if ((r = der_next(d, &t)) != 0)
		return r;
	if (t.tag == DER_UTCTIME)
		digits = 12;
	else if (t.tag == DER_GENTIME)
		digits = 14;
	else
		return EST_E_BADASN1;
	if (t.vlen != digits + 1 || t.val[digits] != 'Z')
		return EST_E_BADASN1;
	for (i = 0; i < digits; i++)
		if (t.val[i] < '0' || t.val[i] > '9')
			return EST_E_BADASN1;
	return 0;
}

/* A positive INTEGER in its shortest form, of at most max octets. */
static int
parse_uint(struct der *d, size_t max, struct der_tlv *t)
{
	int r;

	if ((r = der_expect(d, DER_INTEGER, t)) != 0)
		return r;
	if (t->vlen == 0 || t->vlen > max || (t->val[0] & 0x80))
		return EST_E_BADASN1;
	if (t->vlen > 1 && t->val[0] == 0 && !(t->val[1] & 0x80))
		return EST_E_BADASN1;
	return 0;
}

/* An INTEGER that must have the one-octet value v. */
static int
parse_small(struct der *d, uint8_t v)
{
	struct der_tlv t;
	int r;

	if ((r = der_expect(d, DER_INTEGER, &t)) != 0)
		return r;
	return (t.vlen == 1 && t.val[0] == v) ? 0 : EST_E_BADASN1;
}

static int
parse_bitstring(const struct der_tlv *t)
{
	if (t->vlen == 0 || t->val[0] > 7 || (t->vlen == 1 && t->val[0] != 0))
		return EST_E_BADASN1;
	return 0;
}

static int
parse_name(struct der *d, const uint8_t **p, size_t *len)
{
	struct der_tlv t;
	int r;

	if ((r = der_expect(d, DER_SEQUENCE, &t)) != 0 ||
	    (r = der_check_name(&t)) != 0)
		return r;
	*p = t.raw;
	*len = t.rawlen;
	return 0;
}

/* SubjectPublicKeyInfo: an AlgorithmIdentifier and a whole-octet key. */
static int
parse_spki(struct der *d, const uint8_t **p, size_t *len)
{
	struct der_tlv t, alg, key, pbuf;
	const struct der_tlv *params;
	const uint8_t *oid;
	size_t oidlen;
	struct der in;
	int r;

	if ((r = der_expect(d, DER_SEQUENCE, &t)) != 0)
		return r;
	der_enter(&t, &in);
	if ((r = der_expect(&in, DER_SEQUENCE, &alg)) != 0 ||
	    (r = der_algorithm(&alg, &oid, &oidlen, &params, &pbuf)) != 0 ||
	    (r = der_expect(&in, DER_BITSTRING, &key)) != 0 ||
	    (r = parse_bitstring(&key)) != 0)
		return r;
	if (!der_empty(&in) || key.val[0] != 0)
		return EST_E_BADASN1;
	*p = t.raw;
	*len = t.rawlen;
	return 0;
}

/*
 * Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension, each
 * SEQUENCE { OID, critical BOOLEAN DEFAULT FALSE, OCTET STRING }.  DER
 * omits a FALSE default, so a present BOOLEAN must be TRUE.
 */
int
tbs_parse_extensions(const struct der_tlv *wrapper)
{
	struct der outer, list, ext;
	struct der_tlv seq, e, oid, crit, val;
	int r;

	der_enter(wrapper, &outer);
	if ((r = der_expect(&outer, DER_SEQUENCE, &seq)) != 0)
		return r;
	if (!der_empty(&outer) || seq.vlen == 0)
		return EST_E_BADASN1;
	der_enter(&seq, &list);
	while (!der_empty(&list)) {
		if ((r = der_expect(&list, DER_SEQUENCE, &e)) != 0)
			return r;
		der_enter(&e, &ext);
		if ((r = der_expect(&ext, DER_OID, &oid)) != 0)
			return r;
		if (der_peek_tag(&ext) == DER_BOOLEAN) {
			if ((r = der_next(&ext, &crit)) != 0)
				return r;
			if (crit.vlen != 1 || crit.val[0] != 0xff)
				return EST_E_BADASN1;
		}
		if ((r = der_expect(&ext, DER_OCTETSTRING, &val)) != 0)
			return r;
		if (!der_empty(&ext))
			return EST_E_BADASN1;
	}
	return 0;
}

int
tbs_open_outer(const uint8_t *p, size_t len, struct der *in)
{
	struct der d;
	struct der_tlv t;
	int r;

	if ((r = der_check_one(p, len)) != 0)
		return r;
	der_init(&d, p, len);
	if ((r = der_expect(&d, DER_SEQUENCE, &t)) != 0)
		return r;
	der_enter(&t, in);
	return 0;
}

static int
parse_tbscert(const uint8_t *p, size_t len, struct tbs_info *info)
{
	struct der in, ver;
	struct der_tlv t;
	int r, version = 1;

	if ((r = tbs_open_outer(p, len, &in)) != 0)
		return r;
	/* version [0] EXPLICIT, DEFAULT v1: present only for v2 and v3. */
	if (der_peek_tag(&in) == DER_CTX_CONS(0)) {
		if ((r = der_next(&in, &t)) != 0)
			return r;
		der_enter(&t, &ver);
		if (parse_small(&ver, 1) == 0)
			version = 2;
		else {
			der_enter(&t, &ver);
			if ((r = parse_small(&ver, 2)) != 0)
				return r;
			version = 3;
		}
		if (!der_empty(&ver))
			return EST_E_BADASN1;
	}
	/* RFC 5280 4.1.2.2: a positive serial of at most 20 octets. */
	if ((r = parse_uint(&in, 20, &t)) != 0 ||
	    (r = der_expect(&in, DER_SEQUENCE, &t)) != 0 ||
	    (r = parse_sigalg(&t, &info->alg)) != 0 ||
	    (r = parse_name(&in, &info->issuer, &info->issuerlen)) != 0)
		return r;
	if ((r = der_expect(&in, DER_SEQUENCE, &t)) != 0)
		return r;
	{
		struct der val;

		der_enter(&t, &val);
		if ((r = parse_time(&val)) != 0 || (r = parse_time(&val)) != 0)
			return r;
		if (!der_empty(&val))
			return EST_E_BADASN1;
	}
	if ((r = parse_name(&in, &info->subject, &info->subjectlen)) != 0 ||
	    (r = parse_spki(&in, &info->spki, &info->spkilen)) != 0)
		return r;
	/* Unique identifiers (v2, v3), then extensions (v3 only). */
	if (der_peek_tag(&in) == DER_CTX(1)) {
		if (version < 2 || (r = der_next(&in, &t)) != 0 ||
		    (r = parse_bitstring(&t)) != 0)
			return EST_E_BADASN1;
	}
	if (der_peek_tag(&in) == DER_CTX(2)) {
		if (version < 2 || (r = der_next(&in, &t)) != 0 ||
		    (r = parse_bitstring(&t)) != 0)
			return EST_E_BADASN1;
	}
	if (der_peek_tag(&in) == DER_CTX_CONS(3)) {
		if (version < 3 || (r = der_next(&in, &t)) != 0 ||
		    (r = tbs_parse_extensions(&t)) != 0)
			return EST_E_BADASN1;
	}
	return der_empty(&in) ? 0 : EST_E_BADASN1;
}

/* revokedCertificates: when present, at least one entry. */
static int
parse_revoked(const struct der_tlv *list, int version)
{
	struct der d, entry;
	struct der_tlv e, t;
	int r;

	if (list->vlen == 0)
		return EST_E_BADASN1;
	der_enter(list, &d);
	while (!der_empty(&d)) {
		if ((r = der_expect(&d, DER_SEQUENCE, &e)) != 0)
			return r;
		der_enter(&e, &entry);
		if ((r = parse_uint(&entry, 20, &t)) != 0 ||
		    (r = parse_time(&entry)) != 0)
			return r;
		if (der_peek_tag(&entry) == DER_SEQUENCE) {
			/* crlEntryExtensions are v2 only; same shape. */
			struct der_tlv wrap;

			if (version < 2)
				return EST_E_BADASN1;
			wrap.tag = DER_CTX_CONS(0);
			wrap.val = entry.p;
			wrap.vlen = entry.len;
			wrap.raw = entry.p;
			wrap.rawlen = entry.len;
			if ((r = tbs_parse_extensions(&wrap)) != 0)
				return r;
			entry.len = 0;
		}
		if (!der_empty(&entry))
			return EST_E_BADASN1;
	}
	return 0;
}

static int
parse_tbscrl(const uint8_t *p, size_t len, struct tbs_info *info)
{
	struct der in;
	struct der_tlv t;
	int r, version = 1;

	if ((r = tbs_open_outer(p, len, &in)) != 0)
		return r;
	/* version INTEGER OPTIONAL: if present, v2 (1). */
	if (der_peek_tag(&in) == DER_INTEGER) {
		if ((r = parse_small(&in, 1)) != 0)
			return r;
		version = 2;
	}
	if ((r = der_expect(&in, DER_SEQUENCE, &t)) != 0 ||
	    (r = parse_sigalg(&t, &info->alg)) != 0 ||
	    (r = parse_name(&in, &info->issuer, &info->issuerlen)) != 0 ||
	    (r = parse_time(&in)) != 0)
		return r;
	if ((der_peek_tag(&in) == DER_UTCTIME ||
	     der_peek_tag(&in) == DER_GENTIME) &&
	    (r = parse_time(&in)) != 0)
		return r;
	if (der_peek_tag(&in) == DER_SEQUENCE) {
		if ((r = der_next(&in, &t)) != 0 ||
		    (r = parse_revoked(&t, version)) != 0)
			return r;
	}
	if (der_peek_tag(&in) == DER_CTX_CONS(0)) {
		if (version < 2 || (r = der_next(&in, &t)) != 0 ||
		    (r = tbs_parse_extensions(&t)) != 0)
			return EST_E_BADASN1;
	}
	return der_empty(&in) ? 0 : EST_E_BADASN1;
}

static int
parse_cri(const uint8_t *p, size_t len, struct tbs_info *info)
{
	struct der in, set, attr;
	struct der_tlv t, a, oid, vals;
	int r;

	if ((r = tbs_open_outer(p, len, &in)) != 0)
		return r;
	if ((r = parse_small(&in, 0)) != 0 ||
	    (r = parse_name(&in, &info->subject, &info->subjectlen)) != 0 ||
	    (r = parse_spki(&in, &info->spki, &info->spkilen)) != 0 ||
	    (r = der_expect(&in, DER_CTX_CONS(0), &t)) != 0)
		return r;
	/* attributes [0] IMPLICIT SET OF Attribute { OID, SET OF value } */
	der_enter(&t, &set);
	while (!der_empty(&set)) {
		if ((r = der_expect(&set, DER_SEQUENCE, &a)) != 0)
			return r;
		der_enter(&a, &attr);
		if ((r = der_expect(&attr, DER_OID, &oid)) != 0 ||
		    (r = der_expect(&attr, DER_SET, &vals)) != 0)
			return r;
		if (vals.vlen == 0 || !der_empty(&attr))
			return EST_E_BADASN1;
	}
	info->alg = TBS_ALG_NONE;
	return der_empty(&in) ? 0 : EST_E_BADASN1;
}

int
tbs_parse(uint8_t kind, const uint8_t *p, size_t len, struct tbs_info *info)
{
	struct tbs_info t;
	int r;

	memset(&t, 0, sizeof(t));
	t.kind = kind;
	switch (kind) {
	case SIGNER_SIGN_TBSCERT:
		r = parse_tbscert(p, len, &t);
		break;
	case SIGNER_SIGN_TBSCRL:
		r = parse_tbscrl(p, len, &t);
		break;
	case SIGNER_SIGN_CRI:
		r = parse_cri(p, len, &t);
		break;
	case SIGNER_SIGN_OCSP:
		r = tbs_ocsp_parse(p, len, &t);
		break;
	default:
		return EST_E_INVAL;
	}
	if (r != 0)
		return EST_E_BADASN1;
	*info = t;
	return 0;
}

static int
key_is_ec(uint8_t keytype)
{
	return keytype == SIGNER_KEY_EC_P256 || keytype == SIGNER_KEY_EC_P384;
}

static int
same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return a != NULL && b != NULL && alen == blen &&
	       memcmp(a, b, alen) == 0;
}

/* The algorithm a CertificationRequestInfo is signed with. */
static int
cri_alg(uint8_t keytype, uint8_t digest)
{
	static const int ec[] = {TBS_ALG_ECDSA_SHA256, TBS_ALG_ECDSA_SHA384,
				 TBS_ALG_ECDSA_SHA512};
	static const int rsa[] = {TBS_ALG_RSA_SHA256, TBS_ALG_RSA_SHA384,
				  TBS_ALG_RSA_SHA512};

	return key_is_ec(keytype) ? ec[digest - 1] : rsa[digest - 1];
}

int
tbs_policy(const struct tbs_info *info, const struct tbs_key *key,
	   uint8_t digest, int *alg)
{
	if (digest > SIGNER_DIGEST_SHA512 || key->keytype < SIGNER_KEY_MIN ||
	    key->keytype > SIGNER_KEY_MAX)
		return EST_E_INVAL;
	switch (info->kind) {
	case SIGNER_SIGN_TBSCERT:
	case SIGNER_SIGN_TBSCRL:
		/* A CA key signs what its own issuer name issues. */
		if (key->usage != SIGNER_USAGE_CA ||
		    digest != SIGNER_DIGEST_NONE)
			return EST_E_POLICY;
		if (info->alg == TBS_ALG_UNKNOWN || info->alg == TBS_ALG_NONE ||
		    tbs_alg_is_ec(info->alg) != key_is_ec(key->keytype))
			return EST_E_BADALG;
		if (!same(info->issuer, info->issuerlen, key->subject,
			  key->subjectlen))
			return EST_E_POLICY;
		*alg = info->alg;
		return 0;
	case SIGNER_SIGN_CRI:
		if (digest == SIGNER_DIGEST_NONE)
			return EST_E_POLICY;
		if (key->usage == SIGNER_USAGE_CA &&
		    !same(info->subject, info->subjectlen, key->subject,
			  key->subjectlen))
			return EST_E_POLICY;
		if (key->usage != SIGNER_USAGE_CA &&
		    key->usage != SIGNER_USAGE_OTHER)
			return EST_E_POLICY;
		/*
		 * A request is the key's proof of possession of itself: the
		 * key signs only a request for its own public key, so it
		 * cannot be used to sign anything else shaped like one.
		 */
		if (!same(info->spki, info->spkilen, key->spki, key->spkilen))
			return EST_E_POLICY;
		*alg = cri_alg(key->keytype, digest);
		return 0;
	case SIGNER_SIGN_OCSP:
		return tbs_ocsp_policy(info, key, digest, alg);
	default:
		return EST_E_INVAL;
	}
}

int
tbs_check_subject(const uint8_t *p, size_t len)
{
	struct der d;
	struct der_tlv t;
	int r;

	if ((r = der_check_one(p, len)) != 0)
		return EST_E_BADASN1;
	der_init(&d, p, len);
	if ((r = der_expect(&d, DER_SEQUENCE, &t)) != 0 ||
	    (r = der_check_name(&t)) != 0 || t.vlen == 0)
		return EST_E_BADASN1;
	return 0;
}
