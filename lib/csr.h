/*
 * Certification requests (PKCS#10, RFC 2986): the one intake path for CSRs
 * uploaded through the API (PEM or DER) and posted to EST (base64 of DER,
 * RFC 7030 as clarified by RFC 8951).
 *
 * csr_parse() checks sizes and counts with a cheap walk over the DER before
 * OpenSSL decodes anything, then decodes exactly one CertificationRequest
 * (part by part, with the decoders d2i_X509_REQ() would use, except that an
 * EC P-256/P-384 key is imported directly), checks the key type, the
 * signature algorithm and the self-signature, and extracts what the
 * template code needs: the subject as (OID, UTF-8) pairs, the requested
 * extensions (SAN, EKU, key usage; others listed but not trusted), the
 * challengePassword and the SubjectPublicKeyInfo exactly as the CSR
 * carries it, so that the issuer can copy it into the certificate with
 * x509_set_spki() instead of decoding and encoding the key again.
 *
 * Every refusal fills a struct csr_error whose code is EST_E_BADASN1 (400)
 * for malformed input, EST_E_TOOBIG (413) for input over a cap, EST_E_INVAL
 * (400) for a self-signature that does not verify and EST_E_UNPROCESSABLE
 * (422) for what is well formed but not accepted; field and message are
 * safe to send to the client.
 */
#ifndef ESTUARY_CSR_H
#define ESTUARY_CSR_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

/* Hard caps, checked before OpenSSL decodes the request. */
#define CSR_INPUT_MAX (64 * 1024) /* bytes of input, any form */
#define CSR_ATTR_MAX 32		  /* attributes of the request */
#define CSR_ATTR_VALUES_MAX 8	  /* values of one attribute */
#define CSR_EXT_MAX 64		  /* requested extensions */
#define CSR_SUBJECT_MAX 64	  /* attributes of the subject name */
#define CSR_SAN_MAX 64		  /* subjectAltName entries */
#define CSR_EKU_MAX 32		  /* extendedKeyUsage purposes */
#define CSR_VALUE_MAX 1024	  /* bytes of one encoded value */
#define CSR_OID_MAX 96		  /* dotted OID text with its NUL */

enum csr_form {
	CSR_FORM_DER = 1,
	CSR_FORM_PEM = 2,    /* one CERTIFICATE REQUEST block */
	CSR_FORM_BASE64 = 3, /* EST body: base64 of DER, any whitespace */
};

/* A subject attribute: numeric OID text and its value as UTF-8. */
struct csr_attr {
	char oid[CSR_OID_MAX];
	int nid;     /* NID_undef for an OID OpenSSL does not know */
	char *value; /* NUL-terminated; contains no NUL or control */
};

enum csr_san_type {
	CSR_SAN_DNS = 1,
	CSR_SAN_IP = 2,
	CSR_SAN_URI = 3,
	CSR_SAN_EMAIL = 4,
	CSR_SAN_OTHER = 5, /* otherName */
};

struct csr_san {
	int type;	/* enum csr_san_type */
	char *value;	/* DNS, URI, email; IP as text; NULL for other */
	uint8_t ip[16]; /* CSR_SAN_IP: the address, 4 or 16 bytes */
	size_t iplen;
	char oid[CSR_OID_MAX]; /* CSR_SAN_OTHER: type-id */
	uint8_t *der;	       /* CSR_SAN_OTHER: DER of the value */
	size_t derlen;
};

/* A requested extension; only SAN, EKU and key usage are interpreted. */
struct csr_ext {
	char oid[CSR_OID_MAX];
	int critical;
	int known; /* 1 for SAN, EKU, key usage; 0: listed, not trusted */
};

/* keyUsage bits, numbered as in RFC 5280 4.2.1.3. */
#define CSR_KU_DIGITAL_SIGNATURE (1u << 0)
#define CSR_KU_NON_REPUDIATION (1u << 1)
#define CSR_KU_KEY_ENCIPHERMENT (1u << 2)
#define CSR_KU_DATA_ENCIPHERMENT (1u << 3)
#define CSR_KU_KEY_AGREEMENT (1u << 4)
#define CSR_KU_KEY_CERT_SIGN (1u << 5)
#define CSR_KU_CRL_SIGN (1u << 6)
#define CSR_KU_ENCIPHER_ONLY (1u << 7)
#define CSR_KU_DECIPHER_ONLY (1u << 8)

/* A parsed and verified request.  Read-only for callers. */
struct csr {
	uint8_t *der; /* the request, DER, as received */
	size_t derlen;
	const uint8_t *spki; /* SubjectPublicKeyInfo, inside der */
	size_t spkilen;
	X509_NAME *name; /* the subject, decoded */
	EVP_PKEY *pkey;	 /* the public key, decoded */
	int keytype;	 /* enum signer_keytype */
	int sig_nid;	 /* signature algorithm */
	struct csr_attr *subject;
	size_t nsubject;
	struct csr_ext *ext;
	size_t next;
	struct csr_san *san;
	size_t nsan;
	int has_san, san_critical;
	char (*eku)[CSR_OID_MAX];
	size_t neku;
	int has_eku;
	unsigned int ku; /* CSR_KU_* bits when has_ku */
	int has_ku;
	char *challenge; /* challengePassword as UTF-8, or NULL */
	size_t challengelen;
};

struct csr_error {
	int code;	  /* EST_E_* */
	char field[32];	  /* "csr", "key", "subject[2]", "san[0]"... */
	char message[96]; /* short reason in English */
};

/*
 * Parses len bytes of in, given in form, into *out (free it with
 * csr_free()).  On failure *out is untouched and *err says why.
 */
int csr_parse(const uint8_t *in, size_t len, enum csr_form form,
	      struct csr **out, struct csr_error *err);
/* Frees a request and wipes its challengePassword; NULL is a no-op. */
void csr_free(struct csr *csr);

/* Which key types a template accepts: a bit set of CSR_KEYBIT(type). */
struct key_policy {
	uint32_t allowed;
};
#define CSR_KEYBIT(keytype) (1u << (keytype))

/*
 * 0 when the request's key type is in the policy, else
 * EST_E_UNPROCESSABLE with field "key" in *err.
 */
int csr_key_allowed(const struct csr *csr, const struct key_policy *pol,
		    struct csr_error *err);

/*
 * Shared by csr.c and csr_ext.c only: fill *err and return code; the
 * subject's attributes, and the extensionRequest and challengePassword
 * among the request's attributes, into c.
 */
int csr_fail(struct csr_error *err, int code, const char *field,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int csr_get_subject(struct csr *c, struct csr_error *err);
int csr_get_attributes(struct csr *c, const STACK_OF(X509_ATTRIBUTE) * attrs,
		       struct csr_error *err);

#endif
