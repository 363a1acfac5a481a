/*
 * The delegated OCSP responder of a CA (pki/ocsp.h): its key in the HSM,
 * its certificate signed by the CA, and its place in the CA's row.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crl.h"
#include "db.h"
#include "dbocsp.h"
#include "err.h"
#include "log.h"
#include "ocsp.h"
#include "sigclient.h"
#include "util.h"
#include "x509.h"

#define CN_MAX 64 /* ub-common-name */
#define CN_SUFFIX " OCSP Responder"
#define SERIAL_TRIES 3 /* draws of a serial before a collision is an error */
#define REASON_SUPERSEDED 4
#define REASON_CESSATION 5

void
ocsp_responder_free(struct ocsp_responder *r)
{
	if (r == NULL)
		return;
	free(r->subject);
	free(r->der);
	free(r);
}

static int
time_of(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return EST_E_BADASN1;
	*out = timegm(&tm);
	return 0;
}

int
ocsp_responder_parse(const uint8_t *der, size_t len,
		     struct ocsp_responder **out)
{
	struct ocsp_responder *r = NULL;
	const unsigned char *p = der;
	unsigned int mdlen = 0;
	BIGNUM *bn = NULL;
	X509 *x = NULL;
	int n, kt, rc = EST_E_BADASN1;

	if (len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != der + len)
		goto out;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->der = malloc(len)) == NULL) {
		rc = EST_E_NOMEM;
		goto out;
	}
	memcpy(r->der, der, len);
	r->derlen = len;
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
		    NULL ||
	    (n = BN_num_bytes(bn)) < 1 || n > (int)sizeof(r->serial) ||
	    X509_get0_pubkey(x) == NULL ||
	    x509_pkey_keytype(X509_get0_pubkey(x), &kt) != 0 ||
	    (rc = time_of(X509_get0_notBefore(x), &r->not_before)) != 0 ||
	    (rc = time_of(X509_get0_notAfter(x), &r->not_after)) != 0 ||
	    (rc = x509_name_text(X509_get_subject_name(x), &r->subject)) != 0) {
		if (rc == 0)
			rc = EST_E_BADASN1;
		goto out;
	}
	r->serial_len = (size_t)BN_bn2bin(bn, r->serial);
	r->keytype = kt;
	if (EVP_Digest(der, len, r->fingerprint, &mdlen, EVP_sha256(), NULL) !=
	    1) {
		rc = EST_E_CRYPTO;
		goto out;
	}
	*out = r;
	r = NULL;
	rc = 0;
out:
	ocsp_responder_free(r);
	BN_free(bn);
	X509_free(x);
	return rc;
}

/*
 * The responder's subject: the CA's without its common name, and the
 * common name "<CA CN> OCSP Responder" (or, when that is too long, one
 * naming the CA by id).
 */
static int
responder_name(X509 *ca, int64_t ca_id, X509_NAME **out)
{
	const X509_NAME *cn = X509_get_subject_name(ca);
	X509_NAME *n = NULL;
	X509_NAME_ENTRY *e;
	char text[CN_MAX + 1];
	unsigned char *cacn = NULL;
	int i, len = -1, r = EST_E_NOMEM;

	if ((n = X509_NAME_new()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < X509_NAME_entry_count(cn); i++) {
		e = X509_NAME_get_entry(cn, i);
		if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) ==
		    NID_commonName) {
			if (len < 0)
				len = ASN1_STRING_to_UTF8(
					&cacn, X509_NAME_ENTRY_get_data(e));
			continue;
		}
		if (!X509_NAME_add_entry(n, e, -1, 0))
			goto out;
	}
	if (len >= 0 && (size_t)len + strlen(CN_SUFFIX) <= CN_MAX)
		snprintf(text, sizeof(text), "%.*s%s", len, (const char *)cacn,
			 CN_SUFFIX);
	else
		snprintf(text, sizeof(text), "CA %lld" CN_SUFFIX,
			 (long long)ca_id);
	if (!X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8,
					(const unsigned char *)text, -1, -1, 0))
		goto out;
	*out = n;
	n = NULL;
	r = 0;
out:
	OPENSSL_free(cacn);
	X509_NAME_free(n);
	return r;
}

static int
add_ext(X509 *x, int nid, void *value, int crit)
{
	return X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT) == 1
		       ? 0
		       : EST_E_CRYPTO;
}

/* The extensions of pki/ocsp.h. */
static int
responder_exts(X509 *x, X509 *ca, const uint8_t skid[20])
{
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_BIT_STRING *ku = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	ASN1_NULL *nocheck = NULL;
	ASN1_OCTET_STRING *ski = NULL;
	AUTHORITY_KEYID *aki = NULL;
	const ASN1_OCTET_STRING *caski = X509_get0_subject_key_id(ca);
	int r = EST_E_NOMEM;

	if ((bc = BASIC_CONSTRAINTS_new()) == NULL ||
	    (ku = ASN1_BIT_STRING_new()) == NULL ||
	    (eku = sk_ASN1_OBJECT_new_null()) == NULL ||
	    (nocheck = ASN1_NULL_new()) == NULL ||
	    (ski = ASN1_OCTET_STRING_new()) == NULL ||
	    (aki = AUTHORITY_KEYID_new()) == NULL ||
	    !ASN1_BIT_STRING_set_bit(ku, 0, 1) ||
	    !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_OCSP_sign)) ||
	    !ASN1_OCTET_STRING_set(ski, skid, 20) ||
	    (caski != NULL &&
	     (aki->keyid = ASN1_OCTET_STRING_dup(caski)) == NULL))
		goto out;
	bc->ca = 0;
	if ((r = add_ext(x, NID_basic_constraints, bc, 1)) != 0 ||
	    (r = add_ext(x, NID_key_usage, ku, 1)) != 0 ||
	    (r = add_ext(x, NID_ext_key_usage, eku, 0)) != 0 ||
	    (r = add_ext(x, NID_id_pkix_OCSP_noCheck, nocheck, 0)) != 0 ||
	    (r = add_ext(x, NID_subject_key_identifier, ski, 0)) != 0 ||
	    (aki->keyid != NULL &&
	     (r = add_ext(x, NID_authority_key_identifier, aki, 0)) != 0))
		goto out;
out:
	AUTHORITY_KEYID_free(aki);
	ASN1_OCTET_STRING_free(ski);
	ASN1_NULL_free(nocheck);
	sk_ASN1_OBJECT_free(eku); /* OBJ_nid2obj objects are static */
	ASN1_BIT_STRING_free(ku);
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

/* The signed responder certificate for key spki, with a fresh serial. */
static int
responder_cert(struct sigclient *sc, const struct db_ocsp_ca *ca, X509 *cacert,
	       const X509_NAME *name, const uint8_t *spki, size_t spkilen,
	       time_t now, time_t until, uint8_t **der, size_t *derlen)
{
	ASN1_INTEGER *serial = NULL;
	uint8_t skid[20];
	X509 *x = NULL;
	int r = EST_E_NOMEM;

	if ((x = X509_new()) == NULL || !X509_set_version(x, X509_VERSION_3))
		goto out;
	if ((r = x509_serial_random(&serial)) != 0)
		goto out;
	r = EST_E_NOMEM;
	/* The issuer exactly as the CA's certificate encodes its subject. */
	if (!X509_set_serialNumber(x, serial) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(cacert)) ||
	    !X509_set_subject_name(x, name) ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &until) == NULL)
		goto out;
	if ((r = x509_set_spki(x, spki, spkilen, skid)) != 0 ||
	    (r = responder_exts(x, cacert, skid)) != 0 ||
	    (r = x509_sign_der(sc, ca->key_id, ca->keytype, x, der, derlen)) !=
		    0)
		goto out;
out:
	ASN1_INTEGER_free(serial);
	X509_free(x);
	return r;
}

/* Records the certificate in certificates; EST_E_EXISTS on a serial clash. */
static int
record_cert(struct db *db, const struct db_ocsp_ca *ca,
	    const struct ocsp_responder_req *rq, struct ocsp_responder *rs)
{
	struct db_ocsp_cert_row row;
	char nb[32], na[32], *cn = NULL;
	struct tm tm;
	int r;

	memset(&row, 0, sizeof(row));
	if (gmtime_r(&rs->not_before, &tm) == NULL ||
	    strftime(nb, sizeof(nb), "%Y-%m-%d %H:%M:%S", &tm) == 0 ||
	    gmtime_r(&rs->not_after, &tm) == NULL ||
	    strftime(na, sizeof(na), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return EST_E_INTERNAL;
	/* The common name, for the certificates list: after "CN=". */
	if ((cn = strstr(rs->subject, "CN=")) != NULL &&
	    (cn = strdup(cn + 3)) != NULL)
		cn[strcspn(cn, ",+")] = '\0';
	row.ca_id = ca->id;
	row.serial = rs->serial;
	row.serial_len = rs->serial_len;
	row.fingerprint = rs->fingerprint;
	row.subject = rs->subject;
	row.subject_cn = cn;
	row.not_before = nb;
	row.not_after = na;
	row.keytype = rs->keytype;
	row.der = rs->der;
	row.derlen = rs->derlen;
	row.by_app = rq->by_app;
	row.creator = rq->creator;
	row.tenant_id = ca->tenant_id;
	row.org_id = ca->org_id;
	r = db_ocsp_cert_insert(db, &row, &rs->cert_id);
	free(cn);
	return r;
}

/* Locks the CA and checks that it can certify a responder at now. */
static int
lock_ca(struct db *db, int64_t ca_id, time_t now, struct db_ocsp_ca **ca,
	X509 **cacert)
{
	const unsigned char *p;
	time_t t = now;
	int r;

	if ((r = db_ocsp_ca_get(db, ca_id, 1, ca)) != 0)
		return r;
	if (!(*ca)->active || (*ca)->cert_der == NULL ||
	    (*ca)->cert_len > LONG_MAX)
		return EST_E_CONFLICT;
	p = (*ca)->cert_der;
	if ((*cacert = d2i_X509(NULL, &p, (long)(*ca)->cert_len)) == NULL)
		return EST_E_INTERNAL;
	if (X509_cmp_time(X509_get0_notAfter(*cacert), &t) <= 0)
		return EST_E_CONFLICT;
	return 0;
}

/*
 * Revokes the current responder certificate of ca (unless it already is);
 * *old receives its description.
 */
static int
retire(struct db *db, const struct db_ocsp_ca *ca, int reason, int64_t user_id,
       struct ocsp_responder **old)
{
	struct ocsp_responder *o = NULL;
	int changed = 0, r;

	if ((r = ocsp_responder_parse(ca->ocsp_cert_der, ca->ocsp_cert_len,
				      &o)) != 0 ||
	    (r = db_ocsp_cert_revoke(db, ca->id, o->fingerprint, reason,
				     user_id, &changed)) != 0) {
		ocsp_responder_free(o);
		return r;
	}
	*old = o;
	return 0;
}

int
ocsp_responder_set(struct db *db, struct sigclient *sc,
		   const struct ocsp_responder_req *rq,
		   struct ocsp_responder **out, int *replaced)
{
	struct db_ocsp_ca *ca = NULL;
	struct ocsp_responder *rs = NULL, *old = NULL;
	X509 *cacert = NULL;
	X509_NAME *name = NULL;
	char label[SIGNER_LABEL_MAX + 1];
	uint8_t rnd[4], keyid[SIGNER_KEYID_LEN], *subj = NULL, *spki = NULL,
						 *der = NULL;
	size_t subjlen = 0, spkilen = 0, derlen = 0;
	time_t until;
	int keytype, days, tries, r;

	days = rq->days == 0 ? OCSP_RESPONDER_DAYS : rq->days;
	if (days < 1 || days > OCSP_RESPONDER_DAYS_MAX || rq->creator <= 0 ||
	    (rq->keytype != 0 &&
	     (rq->keytype < SIGNER_KEY_MIN || rq->keytype > SIGNER_KEY_MAX)))
		return EST_E_INVAL;
	if ((r = lock_ca(db, rq->ca_id, rq->now, &ca, &cacert)) != 0 ||
	    (r = responder_name(cacert, ca->id, &name)) != 0 ||
	    (r = x509_name_der(name, &subj, &subjlen)) != 0 ||
	    (r = random_bytes(rnd, sizeof(rnd))) != 0)
		goto out;
	keytype = rq->keytype != 0 ? rq->keytype : ca->keytype;
	snprintf(label, sizeof(label), "ocsp-%lld-%02x%02x%02x%02x",
		 (long long)ca->id, rnd[0], rnd[1], rnd[2], rnd[3]);
	if ((r = sigclient_genkey(sc, label, (uint8_t)keytype,
				  SIGNER_USAGE_OCSP, subj, subjlen, keyid,
				  &spki, &spkilen)) != 0)
		goto out;
	/* Never beyond the CA: a chain is only as valid as its CA. */
	until = rq->now + (time_t)days * 86400;
	{
		time_t ca_until;

		if ((r = time_of(X509_get0_notAfter(cacert), &ca_until)) != 0)
			goto out;
		if (until > ca_until)
			until = ca_until;
	}
	for (tries = 0;; tries++) {
		ocsp_responder_free(rs);
		rs = NULL;
		free(der);
		der = NULL;
		if ((r = responder_cert(sc, ca, cacert, name, spki, spkilen,
					rq->now, until, &der, &derlen)) != 0 ||
		    (r = ocsp_responder_parse(der, derlen, &rs)) != 0)
			goto out;
		if ((r = record_cert(db, ca, rq, rs)) != EST_E_EXISTS)
			break;
		if (tries + 1 == SERIAL_TRIES) {
			log_err("CA %lld: %d serial collisions in a row",
				(long long)ca->id, SERIAL_TRIES);
			r = EST_E_INTERNAL;
			break;
		}
	}
	if (r != 0)
		goto out;
	if ((ca->has_ocsp_key &&
	     (r = retire(db, ca, REASON_SUPERSEDED,
			 rq->by_app ? 0 : rq->creator, &old)) != 0) ||
	    (r = db_ocsp_set_responder(db, ca->id, keyid, der, derlen)) != 0 ||
	    (ca->has_ocsp_key && (r = crl_regenerate(db, sc, ca->id)) != 0))
		goto out;
	*replaced = ca->has_ocsp_key;
	*out = rs;
	rs = NULL;
out:
	ocsp_responder_free(old);
	ocsp_responder_free(rs);
	free(der);
	free(spki);
	free(subj);
	X509_NAME_free(name);
	X509_free(cacert);
	db_ocsp_ca_free(ca);
	return r;
}

int
ocsp_responder_clear(struct db *db, struct sigclient *sc, int64_t ca_id,
		     int64_t user_id, struct ocsp_responder **old)
{
	struct db_ocsp_ca *ca = NULL;
	struct ocsp_responder *o = NULL;
	int r;

	if ((r = db_ocsp_ca_get(db, ca_id, 1, &ca)) != 0)
		return r;
	if (!ca->has_ocsp_key) {
		r = EST_E_NOTFOUND;
		goto out;
	}
	if ((r = retire(db, ca, REASON_CESSATION, user_id, &o)) != 0 ||
	    (r = db_ocsp_set_responder(db, ca_id, NULL, NULL, 0)) != 0 ||
	    (r = crl_regenerate(db, sc, ca_id)) != 0)
		goto out;
	if (old != NULL) {
		*old = o;
		o = NULL;
	}
out:
	ocsp_responder_free(o);
	db_ocsp_ca_free(ca);
	return r;
}
