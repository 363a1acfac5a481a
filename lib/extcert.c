/*
 * External CAs: the checks of a registered CA certificate and of the
 * certificate that proves possession of its key (see extcert.h).
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "extcert.h"
#include "jsonval.h"
#include "util.h"
#include "x509.h"

/* ----- PEM ----- */

static int
fail(struct jsonval_error *e, const char *field, const char *msg)
{
	return jsonval_error_set(e, EST_E_UNPROCESSABLE, field, "%s", msg);
}

/*
 * The end of PEM_read_bio()'s input is "no start line"; anything else
 * that stops it is a malformed block.
 */
static int
pem_at_end(void)
{
	unsigned long err = ERR_peek_last_error();

	return ERR_GET_LIB(err) == ERR_LIB_PEM &&
	       ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
}

int
extcert_pem(const char *pem, size_t len, const char *field, X509 **out,
	    uint8_t **der, size_t *derlen, struct jsonval_error *e)
{
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL, *cert = NULL;
	long dlen = 0, certlen = 0;
	X509 *x = NULL;
	BIO *bio = NULL;
	int r = 0;

	if (len > EXTCERT_PEM_MAX)
		return fail(e, field, "longer than 64 KiB");
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return EST_E_NOMEM;
	ERR_clear_error();
	while (r == 0) {
		if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
			if (!pem_at_end())
				r = fail(e, field, "malformed PEM block");
			break;
		}
		if (strstr(name, "PRIVATE KEY") != NULL)
			r = fail(e, field,
				 "holds a private key: upload the CA "
				 "certificate only, and keep its key secret");
		else if (strcmp(name, "CERTIFICATE") != 0)
			r = fail(e, field,
				 "holds a PEM block that is not a CERTIFICATE");
		else if (*header != '\0')
			r = fail(e, field, "PEM headers are not allowed");
		else if (cert != NULL)
			r = fail(e, field,
				 "holds more than one certificate: upload the "
				 "CA certificate alone");
		else {
			cert = data;
			certlen = dlen;
			data = NULL;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	ERR_clear_error();
	if (r != 0)
		goto out;
	if (cert == NULL) {
		r = fail(e, field, "no PEM certificate found");
		goto out;
	}
	if (x509_cert_from_der(cert, (size_t)certlen, &x) != 0) {
		ERR_clear_error();
		r = fail(e, field, "the certificate is not valid DER");
		goto out;
	}
	if (der != NULL) {
		if ((*der = malloc((size_t)certlen)) == NULL) {
			r = EST_E_NOMEM;
			goto out;
		}
		memcpy(*der, cert, (size_t)certlen);
		*derlen = (size_t)certlen;
	}
	*out = x;
	x = NULL;
out:
	X509_free(x);
	OPENSSL_free(cert);
	BIO_free(bio);
	return r;
}

/* ----- the CA certificate ----- */

/*
 * The signature of x: never with MD2, MD4 or MD5; with SHA-1 only when
 * allow_sha1 (a self-signed certificate, whose own signature no chain
 * check relies on).  An algorithm OpenSSL cannot describe is refused too.
 */
static int
check_signature_alg(X509 *x, int allow_sha1, const char *field,
		    struct jsonval_error *e)
{
	int mdnid = NID_undef, pknid = NID_undef, secbits = 0;
	uint32_t flags = 0;

	if (X509_get_signature_info(x, &mdnid, &pknid, &secbits, &flags) != 1) {
		ERR_clear_error();
		return fail(e, field, "unsupported signature algorithm");
	}
	switch (mdnid) {
	case NID_md2:
	case NID_md4:
	case NID_md5:
	case NID_md5_sha1:
	case NID_mdc2:
		return fail(e, field,
			    "signed with a broken hash (MD2, MD4 or MD5)");
	case NID_sha1:
		if (!allow_sha1)
			return fail(e, field,
				    "signed with SHA-1, which is accepted only "
				    "for a self-signed root");
		break;
	default:
		break;
	}
	return 0;
}

/* The curve of an EC key as a NID; NID_undef when it has no name. */
static int
ec_curve(const EVP_PKEY *pk)
{
	char group[64];
	int nid;

	if (!EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL))
		return NID_undef;
	/* Providers may report either the SEC or the NIST name. */
	if ((nid = OBJ_sn2nid(group)) == NID_undef)
		nid = EC_curve_nist2nid(group);
	return nid;
}

/* Our name of x's key type ("rsa-2048", "ec-p384"), "" for another. */
static void
key_type_name(const EVP_PKEY *pk, char *out, size_t n)
{
	int bits;

	*out = '\0';
	if (pk == NULL)
		return;
	if (EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_is_a(pk, "RSA-PSS")) {
		bits = EVP_PKEY_get_bits(pk);
		if (bits > 0)
			snprintf(out, n, "rsa-%d", bits);
		return;
	}
	if (EVP_PKEY_is_a(pk, "EC")) {
		switch (ec_curve(pk)) {
		case NID_X9_62_prime256v1:
			snprintf(out, n, "ec-p256");
			break;
		case NID_secp384r1:
			snprintf(out, n, "ec-p384");
			break;
		case NID_secp521r1:
			snprintf(out, n, "ec-p521");
			break;
		default:
			break;
		}
	}
}

static int
check_key(X509 *x, const char *field, struct jsonval_error *e)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	int bits;

	if (pk == NULL) {
		ERR_clear_error();
		return fail(e, field, "its public key cannot be decoded");
	}
	if (EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_is_a(pk, "RSA-PSS")) {
		bits = EVP_PKEY_get_bits(pk);
		if (bits < EXTCERT_RSA_MIN_BITS)
			return fail(e, field, "RSA key shorter than 2048 bits");
		if (bits > EXTCERT_RSA_MAX_BITS)
			return fail(e, field, "RSA key longer than 16384 bits");
		return 0;
	}
	if (EVP_PKEY_is_a(pk, "EC")) {
		switch (ec_curve(pk)) {
		case NID_X9_62_prime256v1:
		case NID_secp384r1:
		case NID_secp521r1:
			return 0;
		default:
			return fail(e, field,
				    "EC key on a curve other than P-256, "
				    "P-384 or P-521");
		}
	}
	return fail(e, field,
		    "key type not accepted (RSA of 2048 bits or more, or EC "
		    "on P-256, P-384 or P-521)");
}

/* Characters of UTF-8 text s (bytes that do not continue a sequence). */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
check_names(X509 *x, const char *field, struct jsonval_error *e)
{
	X509_NAME *subject = X509_get_subject_name(x);
	char *text = NULL;
	int r;

	if (subject == NULL || X509_NAME_entry_count(subject) == 0)
		return fail(e, field,
			    "its subject is empty, so no certificate can "
			    "name it as issuer");
	if ((r = x509_name_text(subject, &text)) != 0)
		return r;
	r = 0;
	if (utf8_chars(text) > EXTCERT_SUBJECT_MAX)
		r = fail(e, field,
			 "its subject is longer than 1024 characters");
	free(text);
	return r;
}

static int
check_validity(X509 *x, time_t now, const char *field, struct jsonval_error *e)
{
	int c;

	/* X509_cmp_time: -1 when the time is at or before now, 0 on error. */
	if ((c = X509_cmp_time(X509_get0_notBefore(x), &now)) == 0)
		return fail(e, field, "malformed notBefore");
	if (c > 0)
		return fail(e, field, "not valid yet (notBefore is ahead)");
	if ((c = X509_cmp_time(X509_get0_notAfter(x), &now)) == 0)
		return fail(e, field, "malformed notAfter");
	if (c < 0)
		return fail(e, field, "expired (notAfter has passed)");
	return 0;
}

static int
check_ca_extensions(X509 *x, const char *field, struct jsonval_error *e)
{
	BASIC_CONSTRAINTS *bc;
	uint32_t flags;
	int crit = -1, ca;

	/* Computes and caches the extensions; a malformed one is flagged. */
	flags = X509_get_extension_flags(x);
	if ((flags & EXFLAG_INVALID) != 0) {
		ERR_clear_error();
		return fail(e, field,
			    "malformed or repeated certificate extension");
	}
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	if (bc == NULL) {
		ERR_clear_error();
		return fail(e, field,
			    "not a CA certificate: basicConstraints is "
			    "missing");
	}
	ca = bc->ca != 0;
	BASIC_CONSTRAINTS_free(bc);
	if (!ca)
		return fail(e, field,
			    "not a CA certificate: basicConstraints says "
			    "CA:FALSE");
	if ((flags & EXFLAG_KUSAGE) != 0 &&
	    (X509_get_key_usage(x) & KU_KEY_CERT_SIGN) == 0)
		return fail(e, field, "its keyUsage lacks keyCertSign");
	return 0;
}

int
extcert_check_ca(X509 *x, time_t now, const char *field,
		 struct jsonval_error *e)
{
	int r;

	if ((r = check_ca_extensions(x, field, e)) != 0 ||
	    (r = check_validity(x, now, field, e)) != 0 ||
	    (r = check_key(x, field, e)) != 0 ||
	    (r = check_signature_alg(x, X509_self_signed(x, 0) == 1, field,
				     e)) != 0 ||
	    (r = check_names(x, field, e)) != 0)
		return r;
	ERR_clear_error();
	return 0;
}

/* ----- proof of possession ----- */

/* 1 when name has exactly one CN and it is code, byte for byte. */
static int
cn_is(const X509_NAME *name, const char *code)
{
	const ASN1_STRING *v;
	unsigned char *utf8 = NULL;
	size_t clen = strlen(code);
	int i, n, ok = 0;

	if ((i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0 ||
	    X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
		return 0;
	v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	if (v == NULL || (n = ASN1_STRING_to_UTF8(&utf8, v)) < 0) {
		ERR_clear_error();
		return 0;
	}
	/* Not a secret, but the comparison costs nothing to make blind. */
	ok = (size_t)n == clen && timingsafe_memcmp(utf8, code, clen) == 0;
	OPENSSL_free(utf8);
	return ok;
}

int
extcert_check_proof(X509 *ca, X509 *proof, const char *code, const char *field,
		    struct jsonval_error *e)
{
	EVP_PKEY *pk;
	int r;

	if (X509_NAME_cmp(X509_get_issuer_name(proof),
			  X509_get_subject_name(ca)) != 0)
		return fail(e, field,
			    "not issued by this CA: its issuer is not the "
			    "CA's subject");
	if (!cn_is(X509_get_subject_name(proof), code))
		return fail(e, field,
			    "its subject CN is not the current verification "
			    "code");
	if ((r = check_signature_alg(proof, 0, field, e)) != 0)
		return r;
	if ((pk = X509_get0_pubkey(ca)) == NULL) {
		ERR_clear_error();
		return EST_E_CRYPTO;
	}
	r = X509_verify(proof, pk) == 1
		    ? 0
		    : fail(e, field,
			   "its signature does not verify with the CA's "
			   "public key");
	ERR_clear_error();
	return r;
}

int
extcert_code_new(char out[EXTCERT_CODE_LEN + 1])
{
	uint8_t b[EXTCERT_CODE_BYTES];
	int r;

	if ((r = random_bytes(b, sizeof(b))) != 0)
		return r;
	hex_encode(b, sizeof(b), out);
	explicit_bzero(b, sizeof(b));
	return 0;
}

/* ----- what is stored and shown ----- */

/* A certificate time as "YYYY-MM-DD HH:MM:SS", years 1000-9999. */
static int
time_text(const ASN1_TIME *t, char out[20])
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return EST_E_BADASN1;
	if (tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999 ||
	    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) != 19)
		return EST_E_BADASN1;
	return 0;
}

static int
serial_hex(const ASN1_INTEGER *s, char **out)
{
	BIGNUM *bn;
	char *h, *p;

	if ((bn = ASN1_INTEGER_to_BN(s, NULL)) == NULL)
		return EST_E_BADASN1;
	h = BN_bn2hex(bn);
	BN_free(bn);
	if (h == NULL)
		return EST_E_NOMEM;
	for (p = h; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	*out = strdup(h);
	OPENSSL_free(h);
	return *out != NULL ? 0 : EST_E_NOMEM;
}

static int
info_fill(X509 *x, const uint8_t *der, size_t len, struct extcert_info *ci)
{
	const ASN1_OCTET_STRING *ski;
	unsigned char *sder = NULL;
	unsigned int mdlen = 0;
	const char *sig;
	int slen, r;

	if (EVP_Digest(der, len, ci->fingerprint, &mdlen, EVP_sha256(), NULL) !=
	    1)
		return EST_E_CRYPTO;
	if ((slen = i2d_X509_NAME(X509_get_subject_name(x), &sder)) <= 0)
		return EST_E_BADASN1;
	r = EVP_Digest(sder, (size_t)slen, ci->subject_hash, &mdlen,
		       EVP_sha256(), NULL) == 1
		    ? 0
		    : EST_E_CRYPTO;
	OPENSSL_free(sder);
	if (r != 0 ||
	    (r = x509_name_text(X509_get_subject_name(x), &ci->subject)) != 0 ||
	    (r = x509_name_text(X509_get_issuer_name(x), &ci->issuer)) != 0 ||
	    (r = serial_hex(X509_get0_serialNumber(x), &ci->serial)) != 0 ||
	    (r = time_text(X509_get0_notBefore(x), ci->not_before)) != 0 ||
	    (r = time_text(X509_get0_notAfter(x), ci->not_after)) != 0)
		return r;
	if ((ski = X509_get0_subject_key_id(x)) != NULL &&
	    ASN1_STRING_length(ski) > 0 &&
	    (size_t)ASN1_STRING_length(ski) <= sizeof(ci->ski)) {
		ci->ski_len = (size_t)ASN1_STRING_length(ski);
		memcpy(ci->ski, ASN1_STRING_get0_data(ski), ci->ski_len);
	}
	key_type_name(X509_get0_pubkey(x), ci->key_type, sizeof(ci->key_type));
	sig = OBJ_nid2ln(X509_get_signature_nid(x));
	snprintf(ci->signature_alg, sizeof(ci->signature_alg), "%s",
		 sig != NULL ? sig : "unknown");
	ci->self_signed = X509_self_signed(x, 0) == 1;
	return 0;
}

int
extcert_info_new(const uint8_t *der, size_t len, struct extcert_info **out)
{
	struct extcert_info *ci;
	X509 *x = NULL;
	int r;

	if ((r = x509_cert_from_der(der, len, &x)) != 0)
		return r;
	if ((ci = calloc(1, sizeof(*ci))) == NULL) {
		X509_free(x);
		return EST_E_NOMEM;
	}
	r = info_fill(x, der, len, ci);
	X509_free(x);
	ERR_clear_error();
	if (r != 0) {
		extcert_info_free(ci);
		return r;
	}
	*out = ci;
	return 0;
}

void
extcert_info_free(struct extcert_info *ci)
{
	if (ci == NULL)
		return;
	free(ci->subject);
	free(ci->issuer);
	free(ci->serial);
	free(ci);
}
