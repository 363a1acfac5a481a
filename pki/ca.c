/*
 * CA creation (pki/ca.h): the key pair in the HSM through the signer, the
 * certificate built with lib/x509 and signed by the signer with the
 * issuer's key (the CA's own for a root, the parent's for an issuing CA),
 * or for a CA signed elsewhere a certification request signed with the
 * new key; then the row, its publication URLs and the first CRL.  The
 * database keeps the key's id, never the key.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "ca_int.h"
#include "crl.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "log.h"
#include "sigclient.h"
#include "util.h"
#include "x509.h"

#define CA_LABEL_PREFIX "ca-"
/* Random suffix of the labels of the API's keys: "-" and 12 hex digits. */
#define CA_LABEL_RANDOM 6

/* What the steps of a creation share. */
struct ca_build {
	struct pki_ca_req *rq;
	struct pki_ca_error *err;
	X509_NAME *subject;
	uint8_t *subj_der;
	size_t subj_len;
	char *subj_text;
	struct db_ca *parent;
	X509 *pcert;
	uint8_t key_id[SIGNER_KEYID_LEN];
	uint8_t *spki;
	size_t spki_len;
	unsigned key_usage;
	uint8_t *der; /* the certificate, or the request of an external CA */
	size_t der_len;
};

static int ca_fail(struct pki_ca_error *err, int code, const char *field,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
ca_fail(struct pki_ca_error *err, int code, const char *field, const char *fmt,
	...)
{
	va_list ap;

	if (err != NULL) {
		err->code = code;
		snprintf(err->field, sizeof(err->field), "%s",
			 field != NULL ? field : "");
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* ----- the request ----- */

static int
check_scope(const struct pki_ca_req *rq, struct pki_ca_error *err)
{
	if (rq->scope == NULL)
		return ca_fail(err, EST_E_UNPROCESSABLE, "scope",
			       "the scope is missing");
	if (strcmp(rq->scope, SCOPE_GLOBAL) == 0) {
		if (rq->tenant_id != 0 || rq->org_id != 0)
			return ca_fail(err, EST_E_UNPROCESSABLE, "scope",
				       "a global CA has no tenant or "
				       "organization");
	} else if (strcmp(rq->scope, SCOPE_TENANT) == 0) {
		if (rq->tenant_id <= 0 || rq->org_id != 0)
			return ca_fail(err, EST_E_UNPROCESSABLE, "scope",
				       "scope tenant needs a tenant and no "
				       "organization");
	} else if (strcmp(rq->scope, SCOPE_ORG) == 0) {
		if (rq->tenant_id <= 0 || rq->org_id <= 0)
			return ca_fail(err, EST_E_UNPROCESSABLE, "scope",
				       "scope organization needs a tenant and "
				       "an organization");
	} else {
		return ca_fail(err, EST_E_UNPROCESSABLE, "scope",
			       "the scope must be global, tenant or "
			       "organization");
	}
	return 0;
}

static int
check_request(struct ca_build *b)
{
	struct pki_ca_req *rq = b->rq;
	struct pki_ca_error *err = b->err;
	const unsigned need = DB_CA_KU_KEY_CERT_SIGN | DB_CA_KU_CRL_SIGN;

	if (rq->kind < PKI_CA_ROOT || rq->kind > PKI_CA_EXTERNAL)
		return ca_fail(err, EST_E_UNPROCESSABLE, "kind",
			       "unknown kind of CA");
	if (rq->name == NULL || rq->name[0] == '\0' ||
	    strlen(rq->name) > 4 * PKI_CA_NAME_MAX)
		return ca_fail(err, EST_E_UNPROCESSABLE, "name",
			       "the name is missing or too long");
	if (x509_keytype_name(rq->keytype) == NULL)
		return ca_fail(err, EST_E_UNPROCESSABLE, "key_type",
			       "unknown key type");
	if (rq->kind != PKI_CA_EXTERNAL &&
	    (rq->days < 1 || rq->days > X509_DAYS_MAX))
		return ca_fail(err, EST_E_UNPROCESSABLE, "validity_days",
			       "the validity must be 1 to %d days",
			       X509_DAYS_MAX);
	if (rq->path_len < -1 || rq->path_len > PKI_CA_PATHLEN_MAX)
		return ca_fail(err, EST_E_UNPROCESSABLE, "path_len",
			       "the path length must be 0 to %d",
			       PKI_CA_PATHLEN_MAX);
	b->key_usage = rq->key_usage != 0 ? rq->key_usage : DB_CA_KU_DEFAULT;
	if ((b->key_usage & ~DB_CA_KU_ALL) != 0 ||
	    (b->key_usage & need) != need)
		return ca_fail(err, EST_E_UNPROCESSABLE, "key_usage",
			       "a CA's key usage must include keyCertSign "
			       "and cRLSign");
	if ((b->key_usage &
	     (DB_CA_KU_ENCIPHER_ONLY | DB_CA_KU_DECIPHER_ONLY)) != 0 &&
	    (b->key_usage & DB_CA_KU_KEY_AGREEMENT) == 0)
		return ca_fail(err, EST_E_UNPROCESSABLE, "key_usage",
			       "encipherOnly and decipherOnly need "
			       "keyAgreement");
	if (rq->crl_period_hours < 0 ||
	    rq->crl_period_hours > DB_CA_CRL_PERIOD_MAX)
		return ca_fail(err, EST_E_UNPROCESSABLE, "crl_period_hours",
			       "the CRL period must be 1 to %d hours",
			       DB_CA_CRL_PERIOD_MAX);
	if ((rq->kind == PKI_CA_ISSUING) != (rq->parent_id > 0))
		return ca_fail(err, EST_E_UNPROCESSABLE, "parent_id",
			       rq->kind == PKI_CA_ISSUING
				       ? "an issuing CA needs its parent CA"
				       : "only an issuing CA has a parent");
	if (check_scope(rq, err) != 0)
		return err->code;
	if (x509_name_parse(rq->subject != NULL ? rq->subject : "",
			    &b->subject) != 0 ||
	    X509_NAME_entry_count(b->subject) == 0)
		return ca_fail(err, EST_E_UNPROCESSABLE, "subject",
			       "bad subject (RFC 4514, e.g. "
			       "\"CN=Example CA,O=Example\")");
	if (x509_name_der(b->subject, &b->subj_der, &b->subj_len) != 0 ||
	    b->subj_len > SIGNER_SUBJECT_MAX ||
	    x509_name_text(b->subject, &b->subj_text) != 0 ||
	    strlen(b->subj_text) > 1024)
		return ca_fail(err, EST_E_UNPROCESSABLE, "subject",
			       "the subject is too long");
	return 0;
}

/* The new CA's scope must lie within its parent's. */
static int
scope_within(const struct db_ca *p, const struct pki_ca_req *rq)
{
	if (strcmp(p->scope, SCOPE_GLOBAL) == 0)
		return 1;
	if (strcmp(p->scope, SCOPE_TENANT) == 0)
		return rq->tenant_id == p->tenant_id;
	return rq->org_id == p->org_id && strcmp(rq->scope, SCOPE_ORG) == 0;
}

/*
 * The parent must be an active CA with a certificate that may issue CA
 * certificates (its pathLenConstraint leaves room) and that outlives the
 * new one.  Its row stays locked until the transaction ends, so that it
 * cannot be deactivated meanwhile.
 */
static int
check_parent(struct db *db, struct ca_build *b)
{
	struct pki_ca_req *rq = b->rq;
	struct pki_ca_error *err = b->err;
	long ppl;
	int days, secs, r;

	if ((r = db_ca_get_lock(db, rq->parent_id, &b->parent)) ==
	    EST_E_NOTFOUND)
		return ca_fail(err, EST_E_UNPROCESSABLE, "parent_id",
			       "no such CA");
	if (r != 0)
		return ca_fail(err, r, NULL, "cannot read the parent CA");
	if (!b->parent->active)
		return ca_fail(err, EST_E_CONFLICT, "parent_id",
			       "parent CA '%s' is not active", b->parent->name);
	if (b->parent->cert_der == NULL)
		return ca_fail(err, EST_E_CONFLICT, "parent_id",
			       "parent CA '%s' has no certificate yet",
			       b->parent->name);
	if (!scope_within(b->parent, rq))
		return ca_fail(err, EST_E_UNPROCESSABLE, "scope",
			       "the CA must be within the scope of its "
			       "parent");
	if (x509_cert_from_der(b->parent->cert_der, b->parent->cert_len,
			       &b->pcert) != 0)
		return ca_fail(err, EST_E_INTERNAL, NULL,
			       "cannot read the parent's certificate");
	if (X509_check_ca(b->pcert) == 0)
		return ca_fail(err, EST_E_UNPROCESSABLE, "parent_id",
			       "parent '%s' is not a CA certificate",
			       b->parent->name);
	ppl = X509_get_pathlen(b->pcert);
	if (ppl == 0)
		return ca_fail(err, EST_E_UNPROCESSABLE, "parent_id",
			       "parent CA '%s' has path length 0: it cannot "
			       "issue CA certificates",
			       b->parent->name);
	if (rq->path_len < 0)
		rq->path_len = 0;
	if (ppl > 0 && rq->path_len >= ppl)
		return ca_fail(err, EST_E_UNPROCESSABLE, "path_len",
			       "the path length must be below the parent's "
			       "path length %ld",
			       ppl);
	if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(b->pcert)))
		return ca_fail(err, EST_E_INTERNAL, NULL,
			       "cannot read the parent's validity");
	if ((int64_t)days * 86400 + secs < (int64_t)rq->days * 86400)
		return ca_fail(err, EST_E_UNPROCESSABLE, "validity_days",
			       "%d days would outlive the parent CA '%s' "
			       "(%d days left)",
			       rq->days, b->parent->name, days < 0 ? 0 : days);
	return 0;
}

/* ----- the key ----- */

/*
 * The label of a CA's key: "ca-NAME" when the name is made of label
 * characters (A-Z a-z 0-9 . _ -) and fits.  Otherwise every other byte
 * becomes '_', the result is cut to leave room, and '-' and the first 16
 * hex digits of the SHA-256 of the exact name are appended, so that two
 * names never share a label by accident.  The label depends only on the
 * name, so a later run finds a key that an interrupted one left behind.
 * With random set, the label is cut further and ends in '-' and 12
 * random hex digits instead: a fresh key whatever came before.
 */
static int
ca_label(const char *name, int random, char label[SIGNER_LABEL_MAX + 1])
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz0123456789._-";
	const size_t pre = sizeof(CA_LABEL_PREFIX) - 1;
	uint8_t md[32], rnd[CA_LABEL_RANDOM];
	char hex[2 * sizeof(md) + 1];
	size_t n = strlen(name), keep, i;

	if (!random && strspn(name, ok) == n && pre + n <= SIGNER_LABEL_MAX) {
		snprintf(label, SIGNER_LABEL_MAX + 1, "%s%s", CA_LABEL_PREFIX,
			 name);
		return 0;
	}
	if (random) {
		if (random_bytes(rnd, sizeof(rnd)) != 0)
			return EST_E_INTERNAL;
		hex_encode(rnd, sizeof(rnd), hex);
	} else {
		if (!EVP_Digest(name, n, md, NULL, EVP_sha256(), NULL))
			return EST_E_CRYPTO;
		hex_encode(md, sizeof(md), hex);
		hex[16] = '\0';
	}
	keep = SIGNER_LABEL_MAX - pre - 1 - strlen(hex);
	if (n < keep)
		keep = n;
	memcpy(label, CA_LABEL_PREFIX, pre);
	for (i = 0; i < keep; i++)
		label[pre + i] = strchr(ok, name[i]) != NULL ? name[i] : '_';
	snprintf(label + pre + keep, SIGNER_LABEL_MAX + 1 - pre - keep, "-%s",
		 hex);
	return 0;
}

/*
 * Proves that a key left in the token is bound to the subject: the signer
 * signs a certification request with a CA key only when the request's
 * subject is the key's own.  (For a root, signing the certificate proves
 * it as well; for an issuing CA the parent's key signs, so without this
 * check a key bound to another subject could become a CA that can never
 * sign.)
 */
static int
probe_key(struct sigclient *sc, struct ca_build *b, const char *label)
{
	X509_REQ *req = NULL;
	EVP_PKEY *pkey = NULL;
	int r;

	if ((r = x509_spki_to_pkey(b->spki, b->spki_len, &pkey)) != 0 ||
	    (req = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_subject_name(req, b->subject) ||
	    !X509_REQ_set_pubkey(req, pkey)) {
		r = r != 0 ? r : EST_E_NOMEM;
		goto out;
	}
	r = x509_req_sign(sc, b->key_id, b->rq->keytype, SIGNER_DIGEST_SHA256,
			  req);
	if (r == 0 && X509_REQ_verify(req, pkey) != 1)
		r = EST_E_CRYPTO;
out:
	X509_REQ_free(req);
	EVP_PKEY_free(pkey);
	if (r == EST_E_POLICY)
		return ca_fail(b->err, EST_E_CONFLICT, "name",
			       "the token holds a key labelled '%s' that is "
			       "bound to another subject",
			       label);
	if (r != 0)
		return ca_fail(b->err, r, NULL, "cannot check key '%s'", label);
	return 0;
}

/* Takes over the key labelled label that an earlier run left behind. */
static int
take_over(struct sigclient *sc, struct ca_build *b, const char *label)
{
	struct signer_keyinfo *keys = NULL;
	size_t n = 0, i;
	int r;

	if ((r = sigclient_listkeys(sc, &keys, &n)) != 0)
		return ca_fail(b->err, r, NULL, "cannot list keys");
	for (i = 0; i < n; i++)
		if (strcmp(keys[i].label, label) == 0)
			break;
	if (i == n || keys[i].usage != SIGNER_USAGE_CA ||
	    keys[i].keytype != b->rq->keytype) {
		free(keys);
		return ca_fail(b->err, EST_E_CONFLICT, "name",
			       "the token holds a key labelled '%s' of "
			       "another type or usage",
			       label);
	}
	memcpy(b->key_id, keys[i].id, SIGNER_KEYID_LEN);
	free(keys);
	if ((r = sigclient_pubkey(sc, b->key_id, &b->spki, &b->spki_len)) != 0)
		return ca_fail(b->err, r, NULL, "cannot read key %s", label);
	if ((r = probe_key(sc, b, label)) != 0)
		return r;
	b->rq->took_over = 1;
	log_info("CA \"%s\": reusing key '%s' left in the token by an "
		 "earlier run",
		 b->rq->name, label);
	return 0;
}

/* Generates the CA's key in the token, bound to its subject. */
static int
make_key(struct sigclient *sc, struct ca_build *b)
{
	char label[SIGNER_LABEL_MAX + 1];
	int r;

	if ((r = ca_label(b->rq->name, !b->rq->take_over, label)) != 0)
		return ca_fail(b->err, r, NULL, "cannot derive the key label");
	r = sigclient_genkey(sc, label, (uint8_t)b->rq->keytype,
			     SIGNER_USAGE_CA, b->subj_der, b->subj_len,
			     b->key_id, &b->spki, &b->spki_len);
	if (r == EST_E_EXISTS && b->rq->take_over)
		return take_over(sc, b, label);
	if (r == EST_E_BADALG)
		return ca_fail(b->err, EST_E_UNPROCESSABLE, "key_type",
			       "the HSM does not allow this key type");
	if (r != 0)
		return ca_fail(b->err, r, NULL,
			       "the signer could not generate key %s", label);
	return 0;
}

/* ----- the certificate or the request ----- */

static int
add_ext(X509 *x, int nid, void *value, int crit, unsigned long flags)
{
	return X509_add1_ext_i2d(x, nid, value, crit, flags) == 1
		       ? 0
		       : EST_E_CRYPTO;
}

/*
 * Builds and signs the certificate.  Before anything is stored, the
 * signature is checked with the issuer's public key, so that a wrong
 * answer from the signer cannot become a CA.
 */
static int
make_cert(struct sigclient *sc, struct ca_build *b)
{
	struct x509_ca_spec spec;
	ASN1_BIT_STRING *ku = NULL;
	X509 *cert = NULL;
	EVP_PKEY *ikey;
	int r;

	memset(&spec, 0, sizeof(spec));
	spec.subject = b->subject;
	spec.spki = b->spki;
	spec.spkilen = b->spki_len;
	spec.days = b->rq->days;
	spec.pathlen = b->rq->path_len;
	spec.issuer = b->pcert;
	if ((r = x509_ca_build(&spec, &cert)) != 0) {
		ca_fail(b->err, r, NULL, "cannot build the certificate");
		goto out;
	}
	/* x509_ca_build() writes the default key usage; replace it. */
	if (b->key_usage != DB_CA_KU_DEFAULT &&
	    ((r = pki_ca_ku_bits(b->key_usage, &ku)) != 0 ||
	     (r = add_ext(cert, NID_key_usage, ku, 1, X509V3_ADD_REPLACE)) !=
		     0)) {
		ca_fail(b->err, r, NULL, "cannot set the key usage");
		goto out;
	}
	if (b->parent != NULL &&
	    (r = pki_ca_add_pointers(cert, b->parent->crl_url,
				     b->parent->ocsp_url,
				     b->parent->ca_issuers_url)) != 0) {
		ca_fail(b->err, r, NULL,
			"cannot add the CRL and OCSP pointers");
		goto out;
	}
	if (b->parent != NULL)
		r = x509_sign(sc, b->parent->key_id, b->parent->keytype, &cert);
	else
		r = x509_sign(sc, b->key_id, b->rq->keytype, &cert);
	if (r != 0) {
		ca_fail(b->err, r, NULL, "the signer refused to sign");
		goto out;
	}
	ikey = X509_get0_pubkey(b->pcert != NULL ? b->pcert : cert);
	if (ikey == NULL || X509_verify(cert, ikey) != 1) {
		r = ca_fail(b->err, EST_E_CRYPTO, NULL,
			    "the signed certificate does not verify");
		goto out;
	}
	if ((r = x509_cert_der(cert, &b->der, &b->der_len)) != 0)
		ca_fail(b->err, r, NULL, "cannot encode the certificate");
out:
	ASN1_BIT_STRING_free(ku);
	X509_free(cert);
	return r;
}

/*
 * The request of a CA to be signed elsewhere: the subject and key, with
 * the basicConstraints and keyUsage it asks for, signed with the new key
 * (SHA-384 for P-384, SHA-256 otherwise).
 */
static int
make_request(struct sigclient *sc, struct ca_build *b)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_BIT_STRING *ku = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *pkey = NULL;
	unsigned char *p = NULL;
	int digest, n, r;

	digest = b->rq->keytype == SIGNER_KEY_EC_P384 ? SIGNER_DIGEST_SHA384
						      : SIGNER_DIGEST_SHA256;
	if ((r = x509_spki_to_pkey(b->spki, b->spki_len, &pkey)) != 0 ||
	    (r = pki_ca_ku_bits(b->key_usage, &ku)) != 0)
		goto out;
	r = EST_E_NOMEM;
	if ((req = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, b->subject) ||
	    !X509_REQ_set_pubkey(req, pkey) ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL ||
	    (bc = BASIC_CONSTRAINTS_new()) == NULL)
		goto out;
	bc->ca = 0xff;
	if (b->rq->path_len >= 0 &&
	    ((bc->pathlen = ASN1_INTEGER_new()) == NULL ||
	     !ASN1_INTEGER_set(bc->pathlen, b->rq->path_len)))
		goto out;
	if ((ext = X509V3_EXT_i2d(NID_basic_constraints, 1, bc)) == NULL ||
	    !sk_X509_EXTENSION_push(exts, ext))
		goto out;
	if ((ext = X509V3_EXT_i2d(NID_key_usage, 1, ku)) == NULL ||
	    !sk_X509_EXTENSION_push(exts, ext))
		goto out;
	ext = NULL;
	if (!X509_REQ_add_extensions(req, exts))
		goto out;
	if ((r = x509_req_sign(sc, b->key_id, b->rq->keytype, digest, req)) !=
	    0) {
		ca_fail(b->err, r, NULL,
			"the signer refused to sign the request");
		goto out;
	}
	if (X509_REQ_verify(req, pkey) != 1 ||
	    (n = i2d_X509_REQ(req, &p)) <= 0) {
		r = ca_fail(b->err, EST_E_CRYPTO, NULL,
			    "the signed request does not verify");
		goto out;
	}
	if ((b->der = malloc((size_t)n)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	memcpy(b->der, p, (size_t)n);
	b->der_len = (size_t)n;
	r = 0;
out:
	if (r != 0 && b->err->code == 0)
		ca_fail(b->err, r, NULL, "cannot build the request");
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	OPENSSL_free(p);
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(ku);
	X509_REQ_free(req);
	EVP_PKEY_free(pkey);
	return r;
}

/* ----- the row ----- */

int
pki_ca_urls(const char *base, int64_t id, char **crl, char **ocsp,
	    char **issuers)
{
	char *a = NULL, *o = NULL, *c = NULL;
	size_t n;

	if (base == NULL || base[0] == '\0') {
		*crl = *ocsp = *issuers = NULL;
		return 0;
	}
	/* A trailing slash would double in the paths. */
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (asprintf(&a, "%.*s/pki/crl/%lld.crl", (int)n, base, (long long)id) <
	    0)
		a = NULL;
	if (asprintf(&o, "%.*s/pki/ocsp/%lld", (int)n, base, (long long)id) < 0)
		o = NULL;
	if (asprintf(&c, "%.*s/pki/ca/%lld.crt", (int)n, base, (long long)id) <
	    0)
		c = NULL;
	if (a == NULL || o == NULL || c == NULL) {
		free(a);
		free(o);
		free(c);
		return EST_E_NOMEM;
	}
	if (strlen(a) > PKI_CA_URL_MAX || strlen(c) > PKI_CA_URL_MAX) {
		free(a);
		free(o);
		free(c);
		return EST_E_CONFIG;
	}
	*crl = a;
	*ocsp = o;
	*issuers = c;
	return 0;
}

/* Inserts the row, then sets the URLs that name its id. */
static int
store(struct db *db, struct ca_build *b, int64_t *caid)
{
	struct pki_ca_req *rq = b->rq;
	struct db_ca ca;
	char *crl = NULL, *ocsp = NULL, *issuers = NULL;
	int64_t id = 0;
	int r;

	memset(&ca, 0, sizeof(ca));
	ca.name = (char *)(uintptr_t)rq->name;
	ca.description = (char *)(uintptr_t)rq->description;
	ca.parent_id = b->parent != NULL ? b->parent->id : 0;
	memcpy(ca.key_id, b->key_id, SIGNER_KEYID_LEN);
	ca.keytype = rq->keytype;
	ca.subject = b->subj_text;
	if (rq->kind == PKI_CA_EXTERNAL) {
		ca.csr_der = b->der;
		ca.csr_len = b->der_len;
	} else {
		ca.cert_der = b->der;
		ca.cert_len = b->der_len;
	}
	ca.scope = (char *)(uintptr_t)rq->scope;
	ca.tenant_id = rq->tenant_id;
	ca.org_id = rq->org_id;
	ca.active = 1;
	ca.path_len = rq->path_len;
	ca.key_usage = b->key_usage;
	ca.crl_period_hours = rq->crl_period_hours;
	ca.created_by_user_id = rq->created_by_user_id;
	if ((r = db_ca_insert(db, &ca, &id)) == EST_E_EXISTS)
		return ca_fail(b->err, r, "name", "CA '%s' already exists",
			       rq->name);
	if (r == EST_E_CONFLICT)
		return ca_fail(b->err, EST_E_UNPROCESSABLE, "org_id",
			       "no such tenant or organization");
	if (r != 0)
		return ca_fail(b->err, r, NULL, "cannot store CA '%s'",
			       rq->name);
	if ((r = pki_ca_urls(rq->base_url, id, &crl, &ocsp, &issuers)) != 0) {
		ca_fail(b->err, r, NULL, "pki_base_url is too long");
		goto out;
	}
	if (crl != NULL &&
	    (r = db_ca_set_urls(db, id, crl, ocsp, issuers)) != 0) {
		ca_fail(b->err, r, NULL, "cannot store the CA's URLs");
		goto out;
	}
	*caid = id;
out:
	free(crl);
	free(ocsp);
	free(issuers);
	return r;
}

static void
build_clear(struct ca_build *b)
{
	X509_NAME_free(b->subject);
	free(b->subj_der);
	free(b->subj_text);
	db_ca_free(b->parent);
	X509_free(b->pcert);
	free(b->spki);
	free(b->der);
}

int
pki_ca_create(struct db *db, struct sigclient *sc, struct pki_ca_req *rq,
	      int64_t *id, struct pki_ca_error *err)
{
	struct ca_build b;
	struct db_ca *existing = NULL;
	int64_t newid = 0;
	int r;

	memset(&b, 0, sizeof(b));
	memset(err, 0, sizeof(*err));
	b.rq = rq;
	b.err = err;
	rq->took_over = 0;
	if ((r = check_request(&b)) != 0)
		goto out;
	/* Before the key is made: a name in use would leave it orphaned. */
	if ((r = db_ca_get_by_name(db, rq->name, &existing)) == 0) {
		r = ca_fail(err, EST_E_EXISTS, "name", "CA '%s' already exists",
			    rq->name);
		goto out;
	}
	if (r != EST_E_NOTFOUND) {
		ca_fail(err, r, NULL, "cannot look up CA '%s'", rq->name);
		goto out;
	}
	if (rq->kind == PKI_CA_ISSUING && (r = check_parent(db, &b)) != 0)
		goto out;
	if ((r = make_key(sc, &b)) != 0)
		goto out;
	if (rq->kind == PKI_CA_EXTERNAL)
		r = make_request(sc, &b);
	else
		r = make_cert(sc, &b);
	if (r != 0 || (r = store(db, &b, &newid)) != 0)
		goto out;
	if (rq->kind != PKI_CA_EXTERNAL &&
	    (r = crl_regenerate(db, sc, newid)) != 0) {
		ca_fail(err, r, NULL, "cannot make the first CRL");
		goto out;
	}
	*id = newid;
out:
	if (r != 0 && err->code == 0)
		ca_fail(err, r, NULL, "%s", est_strerror(r));
	db_ca_free(existing);
	build_clear(&b);
	return r;
}
