/*
 * Parsing and policy of what the signer signs: a TBSCertificate (RFC 5280
 * 4.1), a TBSCertList (RFC 5280 5.1), a CertificationRequestInfo
 * (RFC 2986 4.1) or an OCSP ResponseData (RFC 6960 4.2.1, tbs_ocsp.c).  OpenSSL has no public parser for a bare TBSCertificate,
 * so this one walks the DER itself (der.h) and keeps pointers into the
 * caller's bytes.  No PKCS#11 here: the unit tests and the fuzzer use it
 * directly.
 */
#ifndef ESTUARY_TBS_H
#define ESTUARY_TBS_H

#include <stddef.h>
#include <stdint.h>

/* Signature algorithms the signer produces. */
enum tbs_alg {
	TBS_ALG_NONE = 0, /* a CertificationRequestInfo names none */
	TBS_ALG_UNKNOWN,  /* an OID we do not sign with */
	TBS_ALG_ECDSA_SHA256,
	TBS_ALG_ECDSA_SHA384,
	TBS_ALG_ECDSA_SHA512,
	TBS_ALG_RSA_SHA256,
	TBS_ALG_RSA_SHA384,
	TBS_ALG_RSA_SHA512,
};

/* What the parser extracted; every pointer borrows from the input. */
struct tbs_info {
	uint8_t kind;	       /* enum signer_sign_kind */
	int alg;	       /* enum tbs_alg, from the structure */
	const uint8_t *issuer; /* whole Name TLV (cert, CRL) */
	size_t issuerlen;
	const uint8_t *subject; /* whole Name TLV (cert, CRI) */
	size_t subjectlen;
	const uint8_t *spki; /* whole SubjectPublicKeyInfo (cert, CRI) */
	size_t spkilen;
	/*
	 * OCSP: the responderID, a whole Name TLV (byName) or the 20-octet
	 * SHA-1 key hash (byKey), and the contents of the responses
	 * SEQUENCE OF SingleResponse, which the policy walks again.
	 */
	const uint8_t *responder;
	size_t responderlen;
	int responder_bykey;
	const uint8_t *responses;
	size_t responseslen;
};

/* The key a request names, as far as the policy is concerned. */
struct tbs_key {
	uint8_t keytype;	/* enum signer_keytype */
	uint8_t usage;		/* enum signer_usage */
	const uint8_t *subject; /* DER Name of a CA or OCSP key */
	size_t subjectlen;
	const uint8_t *spki; /* the key's own SubjectPublicKeyInfo */
	size_t spkilen;
};

/*
 * Parses p..p+len as exactly one structure of the given sign kind.
 * Returns 0 and fills *info, EST_E_BADASN1 for anything malformed or
 * followed by trailing bytes, EST_E_INVAL for an unknown kind.
 */
int tbs_parse(uint8_t kind, const uint8_t *p, size_t len,
	      struct tbs_info *info);

/*
 * Applies the policy of signer/PROTOCOL section 5 (SIGN) to a parsed
 * structure, the key and the request's digest byte.  On success *alg is
 * the signature algorithm to use.  Returns EST_E_POLICY, EST_E_BADALG or
 * EST_E_INVAL (a digest byte out of range).
 */
int tbs_policy(const struct tbs_info *info, const struct tbs_key *key,
	       uint8_t digest, int *alg);

/*
 * Checks that p..p+len is exactly one DER Name with at least one RDN, the
 * form of a CA key's subject.  Returns 0 or EST_E_BADASN1.
 */
int tbs_check_subject(const uint8_t *p, size_t len);

/*
 * The OCSP part (tbs_ocsp.c), which tbs_parse() and tbs_policy() call for
 * SIGNER_SIGN_OCSP; same results as those.
 */
int tbs_ocsp_parse(const uint8_t *p, size_t len, struct tbs_info *info);
int tbs_ocsp_policy(const struct tbs_info *info, const struct tbs_key *key,
		    uint8_t digest, int *alg);

/*
 * Shared by tbs.c and tbs_ocsp.c: opens the single outer SEQUENCE that
 * must be all of p..p+len, and checks Extensions inside an EXPLICIT
 * wrapper (SEQUENCE SIZE (1..MAX) OF Extension).
 */
struct der;
struct der_tlv;
int tbs_open_outer(const uint8_t *p, size_t len, struct der *in);
int tbs_parse_extensions(const struct der_tlv *wrapper);

/* The EVP digest name ("SHA256"...) of an algorithm, or NULL. */
const char *tbs_alg_digest(int alg);
/* 1 for ECDSA algorithms, 0 for RSA ones. */
int tbs_alg_is_ec(int alg);

#endif
