/*
 * The TLS client certificate of an API application (fcgi/api_app.h):
 * issue it, read it as PEM, and download its PKCS#12 once.
 *
 * The key pair is made by the signer and comes back only wrapped under
 * the HSM's wrapping key; the certificate (subject CN = AppID, O = the
 * tenant's name, extendedKeyUsage clientAuth) is signed through the signer
 * by the CA that estuary.conf(5) names in app_cert_ca.  The wrapped key
 * stays in the certificates row until the PKCS#12 is downloaded: the
 * signer turns it into a PKCS#12 under the caller's passphrase, and the
 * same transaction that records the download destroys the wrapped key, so
 * a second download finds nothing (410).  If that transaction fails, the
 * PKCS#12 is not sent and the key stays for another try.
 *
 * A new certificate replaces the old one, which is revoked as superseded:
 * authentication looks an application up by the fingerprint of its one
 * current certificate.  Validity is capped by the CA's own notAfter.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api_app.h"
#include "apiapp_admin.h"
#include "audit.h"
#include "auth.h"
#include "conf.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "jsonval.h"
#include "log.h"
#include "resp.h"
#include "rest.h"
#include "sigclient.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define CERT_DAYS_DEFAULT 365
#define CERT_DAYS_MAX 825 /* the CA/Browser Forum's old ceiling */
#define CERT_KEYTYPE_DEFAULT "ec-p256"
#define CERT_O_MAX 64	 /* ub-organization-name, RFC 5280 */
#define CERT_CHAIN_MAX 8 /* CAs above a certificate */
#define PASSPHRASE_MIN 8 /* signer/PROTOCOL EXPORT_WRAPPED */
#define PEM_CHAIN_TYPE "application/pem-certificate-chain"
#define PKCS12_TYPE "application/x-pkcs12"

static const char *const key_types[] = {
	"ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", NULL,
};

static const struct jsonval_field issue_fields[] = {
	{.name = "validity_days",
	 .type = JV_INT,
	 .min = 1,
	 .max = CERT_DAYS_MAX},
	{.name = "key_type", .type = JV_ENUM, .enum_values = key_types},
};

/* The signer counts the passphrase in bytes, the table in characters. */
static int
check_passphrase(const char *s)
{
	return strlen(s) <= SIGNER_PASSPHRASE_MAX ? 0 : EST_E_UNPROCESSABLE;
}

static const struct jsonval_field pfx_fields[] = {
	{.name = "passphrase",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = PASSPHRASE_MIN,
	 .max_len = SIGNER_PASSPHRASE_MAX,
	 .check = check_passphrase},
};

/* ----- the CA and its chain ----- */

struct chain {
	struct db_ca *ca[CERT_CHAIN_MAX];
	size_t n;
};

static void
chain_clear(struct chain *ch)
{
	size_t i;

	for (i = 0; i < ch->n; i++)
		db_ca_free(ch->ca[i]);
	ch->n = 0;
}

/*
 * The CA ca_id and the CAs above it, nearest first, each with its
 * certificate; with_root unset leaves out the self-signed root, which a
 * client must already trust and need not be sent.
 */
static int
chain_load(struct db *db, int64_t ca_id, int with_root, struct chain *ch)
{
	struct db_ca *ca = NULL;
	int r;

	ch->n = 0;
	while (ca_id > 0) {
		if (ch->n == CERT_CHAIN_MAX)
			return EST_E_INTERNAL;
		if ((r = db_ca_get(db, ca_id, &ca)) != 0)
			return r == EST_E_NOTFOUND ? EST_E_INTERNAL : r;
		if (ca->cert_der == NULL) {
			db_ca_free(ca);
			return EST_E_INTERNAL;
		}
		ca_id = ca->parent_id;
		if (ca_id == 0 && !with_root) {
			db_ca_free(ca);
			break;
		}
		ch->ca[ch->n++] = ca;
	}
	return 0;
}

/* The CA of app_cert_ca, usable for issuing now. */
static int
issuer_load(struct hctx *c, struct db *db, struct db_ca **out, X509 **cert)
{
	const char *name = conf_get(c->conf, "app_cert_ca");
	struct db_ca *ca = NULL;
	X509 *x = NULL;
	int r;

	if (name == NULL || name[0] == '\0') {
		log_warn("app_cert_ca is not set: applications get no "
			 "certificates");
		return EST_E_CONFIG;
	}
	if ((r = db_ca_get_by_name(db, name, &ca)) != 0) {
		if (r != EST_E_NOTFOUND)
			return r;
		log_warn("app_cert_ca \"%s\" does not exist", name);
		return EST_E_CONFIG;
	}
	if (!ca->active || ca->cert_der == NULL ||
	    x509_cert_from_der(ca->cert_der, ca->cert_len, &x) != 0 ||
	    X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
		log_warn("app_cert_ca \"%s\" is inactive, pending or expired",
			 name);
		X509_free(x);
		db_ca_free(ca);
		return EST_E_CONFIG;
	}
	*out = ca;
	*cert = x;
	return 0;
}

/* ----- building the certificate ----- */

static int
add_ext(X509 *x, int nid, void *value, int crit)
{
	return X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT) == 1
		       ? 0
		       : EST_E_CRYPTO;
}

/*
 * The byte length of the first max characters of the UTF-8 string s (the
 * tenant name: valid UTF-8, checked when it was stored).
 */
static size_t
utf8_prefix(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), off = 0, k, n;
	uint32_t cp;

	for (n = 0; n < max && off < len; n++) {
		if ((k = jsonval_utf8_next(p + off, len - off, &cp)) == 0)
			break;
		off += k;
	}
	return off;
}

/* O = the tenant's name (cut to its upper bound), CN = the AppID. */
static int
subject_build(const char *app_id, const char *tenant, X509_NAME **out)
{
	X509_NAME *nm;

	if ((nm = X509_NAME_new()) == NULL)
		return EST_E_NOMEM;
	if (!X509_NAME_add_entry_by_NID(nm, NID_organizationName, MBSTRING_UTF8,
					(const unsigned char *)tenant,
					(int)utf8_prefix(tenant, CERT_O_MAX),
					-1, 0) ||
	    !X509_NAME_add_entry_by_NID(nm, NID_commonName, MBSTRING_UTF8,
					(const unsigned char *)app_id, -1, -1,
					0)) {
		X509_NAME_free(nm);
		return EST_E_CRYPTO;
	}
	*out = nm;
	return 0;
}

/*
 * basicConstraints CA:FALSE, keyUsage digitalSignature (and
 * keyEncipherment for RSA, which TLS 1.2 RSA key exchange needs),
 * extendedKeyUsage clientAuth, and the key identifiers.
 */
static int
extensions_add(X509 *x, X509 *ca, int keytype, const uint8_t skid[20])
{
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_BIT_STRING *ku = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *ski = NULL;
	AUTHORITY_KEYID *aki = NULL;
	const ASN1_OCTET_STRING *iski;
	int r = EST_E_NOMEM;

	if ((bc = BASIC_CONSTRAINTS_new()) == NULL ||
	    (ku = ASN1_BIT_STRING_new()) == NULL ||
	    (eku = sk_ASN1_OBJECT_new_null()) == NULL ||
	    (ski = ASN1_OCTET_STRING_new()) == NULL ||
	    (aki = AUTHORITY_KEYID_new()) == NULL)
		goto out;
	bc->ca = 0;
	if (!ASN1_BIT_STRING_set_bit(ku, 0, 1) ||
	    (keytype >= SIGNER_KEY_RSA_2048 &&
	     !ASN1_BIT_STRING_set_bit(ku, 2, 1)))
		goto out;
	if ((obj = OBJ_nid2obj(NID_client_auth)) == NULL ||
	    !sk_ASN1_OBJECT_push(eku, obj))
		goto out;
	if (!ASN1_OCTET_STRING_set(ski, skid, 20))
		goto out;
	if ((iski = X509_get0_subject_key_id(ca)) != NULL &&
	    (aki->keyid = ASN1_OCTET_STRING_dup(iski)) == NULL)
		goto out;
	if ((r = add_ext(x, NID_basic_constraints, bc, 1)) != 0 ||
	    (r = add_ext(x, NID_key_usage, ku, 1)) != 0 ||
	    (r = add_ext(x, NID_ext_key_usage, eku, 0)) != 0 ||
	    (r = add_ext(x, NID_subject_key_identifier, ski, 0)) != 0)
		goto out;
	if (aki->keyid != NULL)
		r = add_ext(x, NID_authority_key_identifier, aki, 0);
out:
	AUTHORITY_KEYID_free(aki);
	ASN1_OCTET_STRING_free(ski);
	/* The object of a NID is static: only the stack is freed. */
	sk_ASN1_OBJECT_free(eku);
	ASN1_BIT_STRING_free(ku);
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

/* What cert_issue() makes: the signed certificate and the wrapped key. */
struct issued {
	uint8_t *der;
	size_t derlen;
	uint8_t *wrapped;
	size_t wrappedlen;
};

static void
issued_clear(struct issued *is)
{
	free(is->der);
	freezero(is->wrapped, is->wrappedlen);
	memset(is, 0, sizeof(*is));
}

/*
 * A key pair from the signer and a certificate for it, signed by ca
 * (whose certificate is cacert).
 */
static int
cert_issue(struct sigclient *sig, const struct db_ca *ca, X509 *cacert,
	   const struct db_apiapp_info *a, int keytype, int days,
	   struct issued *out)
{
	struct issued is = {0};
	X509 *x = NULL;
	X509_NAME *subject = NULL;
	ASN1_INTEGER *serial = NULL;
	uint8_t *spki = NULL, skid[20];
	size_t spkilen = 0;
	int r;

	if ((r = sigclient_gen_wrapped(sig, (uint8_t)keytype, &is.wrapped,
				       &is.wrappedlen, &spki, &spkilen)) != 0 ||
	    (r = subject_build(a->app_id, a->tenant_name, &subject)) != 0 ||
	    (r = x509_serial_random(&serial)) != 0)
		goto out;
	if ((x = X509_new()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, serial) ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(cacert)) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL) {
		r = EST_E_CRYPTO;
		goto out;
	}
	/* A certificate outliving its issuer would not verify. */
	if (ASN1_TIME_compare(X509_get0_notAfter(x),
			      X509_get0_notAfter(cacert)) > 0 &&
	    !X509_set1_notAfter(x, X509_get0_notAfter(cacert))) {
		r = EST_E_CRYPTO;
		goto out;
	}
	if ((r = x509_set_spki(x, spki, spkilen, skid)) != 0 ||
	    (r = extensions_add(x, cacert, keytype, skid)) != 0 ||
	    (r = x509_sign_der(sig, ca->key_id, ca->keytype, x, &is.der,
			       &is.derlen)) != 0)
		goto out;
	*out = is;
	memset(&is, 0, sizeof(is));
out:
	issued_clear(&is);
	free(spki);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(subject);
	X509_free(x);
	return r;
}

/* ----- handlers ----- */

/*
 * The certificate of a, or 404 naming "certificate" when it has none.
 */
static int
cert_of(struct db *db, const struct db_apiapp_info *a, int lock,
	struct db_apiapp_cert **out, struct jsonval_error *e)
{
	int r;

	if (a->certificate_id == 0)
		return jsonval_error_set(e, EST_E_NOTFOUND, "certificate",
					 "the application has no certificate");
	r = db_apiapp_cert_get(db, a->certificate_id, lock, out);
	return r == EST_E_NOTFOUND ? EST_E_INTERNAL : r;
}

/* Location of an application's certificate. */
static int
cert_location(struct resp *rs, int64_t id)
{
	char loc[64];
	int n;

	n = snprintf(loc, sizeof(loc), API_APP_BASE "/%lld/certificate",
		     (long long)id);
	if (n < 0 || (size_t)n >= sizeof(loc))
		return EST_E_INTERNAL;
	return resp_header(rs, "Location", loc);
}

static int
h_issue(struct hctx *c, const struct request *req, const struct principal *p,
	struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL, *o = NULL;
	struct db_apiapp_info *a = NULL, *cur = NULL, *b = NULL;
	struct db_apiapp_cert_new n;
	struct issued is = {0};
	struct db_ca *ca = NULL;
	struct sigclient *sig = NULL;
	struct rest_diff d;
	struct rest_what w;
	struct db *db = NULL;
	X509 *cacert = NULL;
	char etag[REST_ETAG_MAX], *pem = NULL;
	const char *kt = CERT_KEYTYPE_DEFAULT;
	int64_t days = CERT_DAYS_DEFAULT, cert_id = 0;
	int keytype = 0, r, in_tx = 0;

	rest_diff_init(&d);
	/* Every field has a default, so the body may be left out. */
	if ((r = rest_query_none(req, &e)) != 0 ||
	    (req->bodylen > 0 &&
	     (r = rest_body(req, issue_fields, NELEM(issue_fields), &body,
			    &e)) != 0))
		goto out;
	if (body != NULL) {
		(void)jsonval_get_int(body, "validity_days", &days);
		if (jsonval_get_string(body, "key_type") != NULL)
			kt = jsonval_get_string(body, "key_type");
	}
	if ((r = x509_keytype_parse(kt, &keytype)) != 0) {
		r = rest_fail(&e, EST_E_INTERNAL, NULL);
		goto out;
	}
	if ((r = ctx_db(c, &db)) != 0 ||
	    (r = api_app_load(c, db, req, p, PERM_ACT_ISSUE, "issue", &a,
			      &e)) != 0)
		goto out;
	if (a->revoked) {
		r = jsonval_error_set(&e, EST_E_CONFLICT, "id",
				      "the application is revoked");
		goto out;
	}
	if ((r = issuer_load(c, db, &ca, &cacert)) != 0 ||
	    (r = ctx_signer(c, &sig)) != 0)
		goto out;
	if ((r = cert_issue(sig, ca, cacert, a, keytype, (int)days, &is)) !=
	    0) {
		if (r == EST_E_BADALG)
			r = jsonval_error_set(&e, EST_E_UNPROCESSABLE,
					      "key_type",
					      "the HSM does not offer it");
		else if (r == EST_E_POLICY)
			/* The signer says the CA row and its key disagree. */
			r = EST_E_CONFIG;
		goto out;
	}
	if ((r = db_begin(db)) != 0)
		goto out;
	in_tx = 1;
	if ((r = api_app_relock(db, req, a->id, 0, &cur, &e)) != 0)
		goto out;
	if (cur->revoked) {
		r = jsonval_error_set(&e, EST_E_CONFLICT, "id",
				      "the application is revoked");
		goto out;
	}
	memset(&n, 0, sizeof(n));
	n.app_id = cur->id;
	n.ca_id = ca->id;
	n.cert_der = is.der;
	n.cert_len = is.derlen;
	n.wrapped_key = is.wrapped;
	n.wrapped_len = is.wrappedlen;
	n.key_type = keytype;
	n.tenant_id = cur->tenant_id;
	n.org_id = cur->org_id;
	n.created_by_type = p->kind == PRINCIPAL_USER ? AUDIT_ACTOR_USER
						      : AUDIT_ACTOR_APPLICATION;
	n.created_by = p->id;
	if ((r = db_apiapp_cert_attach(db, &n, &cert_id)) != 0 ||
	    (r = db_apiapp_info_get(db, cur->id, 0, &b)) != 0 ||
	    (r = rest_diff_int(&d, "certificate_id", cur->certificate_id,
			       b->certificate_id, 1)) != 0 ||
	    (r = rest_diff_str(&d, "cert_not_after",
			       cur->cert_not_after[0] ? cur->cert_not_after
						      : NULL,
			       b->cert_not_after)) != 0)
		goto out;
	api_app_what(b, "issue", &w);
	if ((r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
	in_tx = 0;
	if ((r = rest_tx_end(db, 0)) != 0)
		goto out;
	if ((r = x509_der_to_pem(is.der, is.derlen, &pem, NULL)) != 0 ||
	    (r = api_app_json(b, &o)) != 0 ||
	    (r = rest_put_str(o, "certificate_pem", pem)) != 0 ||
	    (r = api_app_etag(b, etag)) != 0 ||
	    (r = rest_send(rs, 201, o, etag)) != 0)
		goto out;
	r = cert_location(rs, b->id);
out:
	if (in_tx)
		r = rest_tx_end(db, r);
	free(pem);
	json_object_put(o);
	rest_diff_clear(&d);
	issued_clear(&is);
	X509_free(cacert);
	db_ca_free(ca);
	db_apiapp_info_free(a);
	db_apiapp_info_free(cur);
	db_apiapp_info_free(b);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* Appends the PEM of der to the buffer *s of length *len. */
static int
pem_append(char **s, size_t *len, const uint8_t *der, size_t derlen)
{
	char *pem = NULL, *t;
	size_t plen = 0;
	int r;

	if ((r = x509_der_to_pem(der, derlen, &pem, &plen)) != 0)
		return r;
	if ((t = realloc(*s, *len + plen + 1)) == NULL) {
		free(pem);
		return EST_E_NOMEM;
	}
	memcpy(t + *len, pem, plen + 1);
	*s = t;
	*len += plen;
	free(pem);
	return 0;
}

/* The certificate and the CAs above it but the root, leaf first. */
static int
h_cert_get(struct hctx *c, const struct request *req, const struct principal *p,
	   struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_apiapp_info *a = NULL;
	struct db_apiapp_cert *cert = NULL;
	struct chain ch = {0};
	struct db *db = NULL;
	char *pem = NULL;
	size_t len = 0, i;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = api_app_load(c, db, req, p, PERM_ACT_READ, "read", &a, &e)) !=
		    0 ||
	    (r = cert_of(db, a, 0, &cert, &e)) != 0 ||
	    (r = chain_load(db, cert->ca_id, 0, &ch)) != 0 ||
	    (r = pem_append(&pem, &len, cert->cert_der, cert->cert_len)) != 0)
		goto out;
	for (i = 0; i < ch.n; i++)
		if ((r = pem_append(&pem, &len, ch.ca[i]->cert_der,
				    ch.ca[i]->cert_len)) != 0)
			goto out;
	r = resp_body(rs, 200, PEM_CHAIN_TYPE, pem, len);
out:
	free(pem);
	chain_clear(&ch);
	db_apiapp_cert_free(cert);
	db_apiapp_info_free(a);
	return rest_answer(rs, r, &e);
}

/*
 * The PKCS#12 of the certificate and its key (and the whole chain), once.
 * The passphrase travels in the body, not in the URL, so that it lands in
 * no access log.
 */
static int
h_cert_pfx(struct hctx *c, const struct request *req, const struct principal *p,
	   struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL, *pj;
	struct db_apiapp_info *a = NULL, *cur = NULL;
	struct db_apiapp_cert *cert = NULL;
	struct sigclient *sig = NULL;
	struct chain ch = {0};
	struct rest_diff d;
	struct rest_what w;
	struct db *db = NULL;
	const uint8_t *cders[CERT_CHAIN_MAX];
	size_t clens[CERT_CHAIN_MAX], pfxlen = 0, i;
	const char *pass;
	uint8_t *pfx = NULL;
	char disp[96];
	int r, in_tx = 0;

	rest_diff_init(&d);
	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_body(req, pfx_fields, NELEM(pfx_fields), &body, &e)) !=
		    0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_app_load(c, db, req, p, PERM_ACT_DOWNLOAD, "download", &a,
			      &e)) != 0 ||
	    (r = cert_of(db, a, 0, &cert, &e)) != 0 ||
	    (r = ctx_signer(c, &sig)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	in_tx = 1;
	db_apiapp_cert_free(cert);
	cert = NULL;
	/* Again under the locks: a concurrent download or re-issue wins. */
	if ((r = api_app_relock(db, req, a->id, 0, &cur, &e)) != 0)
		goto out;
	if ((r = cert_of(db, cur, 1, &cert, &e)) != 0)
		goto out;
	if (cert->wrapped_key == NULL) {
		r = jsonval_error_set(&e, EST_E_GONE, "certificate",
				      "the PKCS#12 was downloaded already");
		goto out;
	}
	if ((r = chain_load(db, cert->ca_id, 1, &ch)) != 0)
		goto out;
	for (i = 0; i < ch.n; i++) {
		cders[i] = ch.ca[i]->cert_der;
		clens[i] = ch.ca[i]->cert_len;
	}
	pass = jsonval_get_string(body, "passphrase");
	if ((r = sigclient_export_wrapped(
		     sig, cert->wrapped_key, cert->wrapped_len,
		     SIGNER_EXPORT_PKCS12, pass, cert->cert_der, cert->cert_len,
		     cders, clens, ch.n, &pfx, &pfxlen)) != 0 ||
	    (r = db_apiapp_cert_downloaded(db, cur->id, cert->id)) != 0 ||
	    (r = rest_diff_note(&d, "pfx", "downloaded")) != 0)
		goto out;
	api_app_what(cur, "download", &w);
	if ((r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
	in_tx = 0;
	if ((r = rest_tx_end(db, 0)) != 0)
		goto out;
	(void)snprintf(disp, sizeof(disp), "attachment; filename=\"%s.p12\"",
		       cur->app_id);
	if ((r = resp_body(rs, 200, PKCS12_TYPE, pfx, pfxlen)) != 0)
		goto out;
	r = resp_header(rs, "Content-Disposition", disp);
out:
	if (in_tx)
		r = rest_tx_end(db, r);
	freezero(pfx, pfxlen);
	/* The passphrase is not kept beyond the request. */
	if (body != NULL &&
	    (pj = json_object_object_get(body, "passphrase")) != NULL)
		explicit_bzero((char *)(uintptr_t)json_object_get_string(pj),
			       (size_t)json_object_get_string_len(pj));
	chain_clear(&ch);
	rest_diff_clear(&d);
	db_apiapp_cert_free(cert);
	db_apiapp_info_free(a);
	db_apiapp_info_free(cur);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

AUTH_ROUTE_PUBLIC(api_app_r_cert_issue, h_issue)
AUTH_ROUTE_PUBLIC(api_app_r_cert_get, h_cert_get)
AUTH_ROUTE_PUBLIC(api_app_r_cert_pfx, h_cert_pfx)
