/*
 * Constants of the signer protocol, version 1.  signer/PROTOCOL is the
 * normative description; this header must agree with it.
 */
#ifndef ESTUARY_SIGPROTO_H
#define ESTUARY_SIGPROTO_H

#define SIGNER_PROTO_VERSION 1

/* Request types. */
enum signer_msg {
	SIGNER_PING = 0x01,
	SIGNER_GENKEY = 0x02,
	SIGNER_PUBKEY = 0x03,
	SIGNER_LISTKEYS = 0x04,
	SIGNER_SIGN = 0x05,
	SIGNER_GEN_WRAPPED = 0x06,
	SIGNER_EXPORT_WRAPPED = 0x07,
	SIGNER_DESTROYKEY = 0x08,
	/* Reply types. */
	SIGNER_OK = 0x80,
	SIGNER_FAIL = 0x81,
};

/* Key types, as a byte on the wire. */
enum signer_keytype {
	SIGNER_KEY_EC_P256 = 1,
	SIGNER_KEY_EC_P384 = 2,
	SIGNER_KEY_RSA_2048 = 3,
	SIGNER_KEY_RSA_3072 = 4,
	SIGNER_KEY_RSA_4096 = 5,
};
#define SIGNER_KEY_MIN SIGNER_KEY_EC_P256
#define SIGNER_KEY_MAX SIGNER_KEY_RSA_4096

/* Usage policy recorded with a key when it is generated. */
enum signer_usage {
	SIGNER_USAGE_CA = 1,	/* certificates and CRLs of one issuer */
	SIGNER_USAGE_OTHER = 2, /* certification requests only */
	SIGNER_USAGE_OCSP = 3,	/* OCSP responses of a delegated responder */
};

/* What a SIGN request carries. */
enum signer_sign_kind {
	SIGNER_SIGN_TBSCERT = 1, /* TBSCertificate, RFC 5280 4.1 */
	SIGNER_SIGN_TBSCRL = 2,	 /* TBSCertList, RFC 5280 5.1 */
	SIGNER_SIGN_CRI = 3,	 /* CertificationRequestInfo, RFC 2986 */
	SIGNER_SIGN_OCSP = 4,	 /* OCSP ResponseData, RFC 6960 4.2.1 */
};

/*
 * Digest for a CertificationRequestInfo (certificates and CRLs name their
 * own; an OCSP ResponseData is signed with the key's digest: none here).
 */
enum signer_digest {
	SIGNER_DIGEST_NONE = 0,
	SIGNER_DIGEST_SHA256 = 1,
	SIGNER_DIGEST_SHA384 = 2,
	SIGNER_DIGEST_SHA512 = 3,
};

/* Export formats of a wrapped device key. */
enum signer_export {
	SIGNER_EXPORT_PKCS8 = 1,
	SIGNER_EXPORT_PKCS12 = 2,
};

#define SIGNER_KEYID_LEN 16
#define SIGNER_LABEL_MAX 64
#define SIGNER_SUBJECT_MAX 4096
#define SIGNER_PASSPHRASE_MAX 256
#define SIGNER_WRAPPED_MAX 8192

#endif
