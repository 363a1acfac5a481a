/*
 * X.509 building blocks shared by estuaryctl, estuary-api and estuary-est:
 * distinguished names from text, serial numbers, CA certificates, public
 * keys given as DER SubjectPublicKeyInfo, and signing through the signer.
 * No private key is ever seen here: every signature comes from
 * estuary-signerd (signer/PROTOCOL), which signs the encoded TBS structure
 * after checking it against the key's policy.
 *
 * Every function returns 0 or a negative EST_E_* code and sets its
 * out-parameters only on success.  Buffers returned through uint8_t ** or
 * char ** are malloc(3)ed and freed with free(3); OpenSSL objects are freed
 * with their own *_free functions.
 */
#ifndef ESTUARY_X509_H
#define ESTUARY_X509_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sigproto.h"

struct sigclient;

/* Longest DN text x509_name_parse() accepts, in bytes. */
#define X509_NAME_TEXT_MAX 4096

/*
 * Key type names as used on command lines, in configuration and in the
 * API: "ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096".
 * x509_keytype_parse() sets *keytype to an enum signer_keytype;
 * x509_keytype_name() returns NULL for a value outside the enum.
 */
int x509_keytype_parse(const char *name, int *keytype);
const char *x509_keytype_name(int keytype);
/* The key type of a public key; EST_E_BADALG when it is none of ours. */
int x509_pkey_keytype(const EVP_PKEY *pkey, int *keytype);

/*
 * Parses a distinguished name written as in RFC 4514, the form OpenSSL
 * prints with -nameopt RFC2253: "CN=Estuary Root CA,O=Estuary,C=CH".  The
 * leftmost RDN is the most specific one, so it is encoded last (C first in
 * the example).  An RDN may hold several attributes joined by '+'.
 * Attribute names (case-insensitive) must be in the table of x509.c;
 * anything else, an empty value, invalid UTF-8, a control character or a
 * value longer than the RFC 5280 upper bound is refused with EST_E_INVAL.
 * In values, ',' '+' '"' '\' '<' '>' ';' '=' '#' and space may be escaped
 * with a backslash, and any byte may be written as a backslash and two hex
 * digits; ',' '+' '"' '\' '<' '>' ';' must be escaped, as must a leading
 * '#'.  Unescaped spaces around attribute names and values are ignored.
 * Values are encoded as UTF8String, except countryName, serialNumber and
 * dnQualifier (PrintableString) and emailAddress and domainComponent
 * (IA5String), as RFC 5280 requires.
 */
int x509_name_parse(const char *text, X509_NAME **out);
/* RFC 2253 text of a name, UTF-8 kept as it is; for display and the DB. */
int x509_name_text(const X509_NAME *name, char **out);
/* The DER encoding of a name (the signer's GENKEY subject). */
int x509_name_der(const X509_NAME *name, uint8_t **der, size_t *len);

/*
 * A random positive serial number of exactly X509_SERIAL_LEN octets (126
 * random bits: the first octet is 01xxxxxx so that the integer is positive
 * and keeps its length).
 */
#define X509_SERIAL_LEN 16
int x509_serial_random(ASN1_INTEGER **out);

/* A public key from DER SubjectPublicKeyInfo (whole input, nothing more). */
int x509_spki_to_pkey(const uint8_t *der, size_t len, EVP_PKEY **out);
/*
 * Sets the subject public key of x from DER SubjectPublicKeyInfo without
 * decoding the key: decoding it into an EVP_PKEY and letting
 * X509_set_pubkey() encode it again costs about 350 us in OpenSSL 3.0 on
 * our machines, this about 3 us, and the issuing paths will run thousands
 * of times a second.  Only the structure is checked (one AlgorithmIdentifier
 * with a named-curve or NULL/absent parameter, one BIT STRING); the key
 * itself is whatever the caller verified it to be (the signer's SPKI, or a
 * CSR's after its self-signature was verified).  If skid is not NULL it
 * receives the SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 (1)).
 * x must not have a public key yet, and X509_get0_pubkey(x) stays NULL
 * until the certificate is encoded and decoded again, as x509_sign() does.
 */
int x509_set_spki(X509 *x, const uint8_t *der, size_t len, uint8_t skid[20]);

/* What x509_ca_build() makes. */
struct x509_ca_spec {
	const X509_NAME *subject;
	const uint8_t *spki; /* the CA's public key, DER */
	size_t spkilen;
	int days;     /* validity from now, 1..X509_DAYS_MAX */
	int pathlen;  /* basicConstraints pathLenConstraint; -1: none */
	X509 *issuer; /* NULL: self-signed root */
};
#define X509_DAYS_MAX 36500

/*
 * An unsigned CA certificate: version 3, random serial, notBefore now,
 * basicConstraints critical CA:TRUE (with pathLenConstraint when
 * pathlen >= 0), keyUsage critical digitalSignature, keyCertSign and
 * cRLSign (digitalSignature so that the CA can sign OCSP responses itself),
 * subjectKeyIdentifier, and authorityKeyIdentifier (the issuer's SKI, or
 * the CA's own for a root).  The issuer's notAfter is not enforced here:
 * a caller that wants the chain to stay valid checks it first.  Sign the
 * result with x509_sign() using the issuer's key (the CA's own for a root).
 */
int x509_ca_build(const struct x509_ca_spec *spec, X509 **out);

/*
 * Signs a certificate through the signer with key keyid of type keytype
 * (enum signer_keytype): ecdsa-with-SHA256 for P-256, ecdsa-with-SHA384 for
 * P-384, sha256WithRSAEncryption for RSA.
 *
 * OpenSSL 3 has no public setter for the signature algorithm inside the
 * TBSCertificate or for the signature of an X509, so the TBSCertificate is
 * encoded from x's fields with OpenSSL's public encoders and the algorithm
 * in place, sent with SIGNER_SIGN_TBSCERT, and the Certificate is assembled
 * as SEQUENCE { tbs, algorithm, BIT STRING signature } (x509sign.c).
 * x509_sign_der() returns that DER and leaves x as it was (a caller that
 * only needs the encoding, such as the EST path, stops there and saves a
 * decode, about 100 us in OpenSSL 3.0); x509_sign() decodes it into a new
 * X509 that replaces *xp (the unsigned one is freed) and re-encodes with
 * i2d_X509() to exactly the signed bytes.  On failure *xp is unchanged.
 * x must have no issuer or subject unique identifier (RFC 5280 forbids
 * CAs to generate them).
 */
int x509_sign_der(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
		  int keytype, X509 *x, uint8_t **der, size_t *derlen);
int x509_sign(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
	      int keytype, X509 **xp);
/*
 * x509_sign_der() with the digest chosen (enum signer_digest; a
 * certificate template's): ecdsa-with-SHA384 for a P-256 key, for example.
 * SIGNER_DIGEST_NONE picks the key type's own, as x509_sign_der() does.
 */
int x509_sign_der_md(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
		     int keytype, int digest, X509 *x, uint8_t **der,
		     size_t *derlen);
/*
 * The same for a CRL (SIGNER_SIGN_TBSCRL); *crlp is replaced on success.
 * The revoked entries are encoded in the order of the CRL's list (call
 * X509_CRL_sort() first to order them by serial).
 */
int x509_crl_sign(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
		  int keytype, X509_CRL **crlp);
/*
 * Signs a certification request in place (SIGNER_SIGN_CRI) with digest, an
 * enum signer_digest other than SIGNER_DIGEST_NONE; X509_REQ has public
 * setters for its signature, so no re-assembly is needed.
 */
int x509_req_sign(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
		  int keytype, int digest, X509_REQ *req);

/*
 * Signs an OCSP ResponseData (RFC 6960 4.2.1, DER, built by the caller)
 * through the signer (SIGNER_SIGN_OCSP: the signer's policy decides
 * whether this key may say what it says) and returns the DER
 * BasicOCSPResponse: tbsResponseData exactly as given, the
 * signatureAlgorithm of the key type (as x509_sign_der), the signature,
 * and certs [0] holding cert (DER, the delegated responder's certificate)
 * when cert is not NULL.
 */
int x509_ocsp_sign(struct sigclient *c, const uint8_t keyid[SIGNER_KEYID_LEN],
		   int keytype, const uint8_t *respdata, size_t len,
		   const uint8_t *cert, size_t certlen, uint8_t **basic,
		   size_t *basiclen);

/* Certificates as DER and PEM. */
int x509_cert_der(X509 *x, uint8_t **der, size_t *len);
/* Decodes one DER certificate; the input must hold nothing else. */
int x509_cert_from_der(const uint8_t *der, size_t len, X509 **out);
/* One PEM certificate block (NUL-terminated text; *len without the NUL). */
int x509_der_to_pem(const uint8_t *der, size_t len, char **pem, size_t *pemlen);
/* The first certificate of PEM text; EST_E_BADASN1 when there is none. */
int x509_cert_from_pem(const char *pem, size_t len, X509 **out);

#endif
