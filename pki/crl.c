/*
 * Certificate revocation lists of the internal CAs (pki/crl.h): version 2
 * CRLs (RFC 5280 section 5) with cRLNumber and authorityKeyIdentifier,
 * one entry per revoked certificate of the CA that has not been expired
 * for a whole CRL period, each with its revocation date, its reason code
 * (left out for "unspecified", RFC 5280 5.3.1) and its invalidity date
 * when one was given; signed by the signer with the CA's key.
 *
 * The revoked certificates are read in pages in id order and added to the
 * CRL as they come; OpenSSL sorts the list by serial once at the end, so
 * a CA with 100,000 revocations costs one n log n sort and a few pages of
 * rows in memory at a time, never a sort per entry.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crl.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "log.h"
#include "x509.h"

/* Revoked certificates read per query. */
#define CRL_PAGE 5000
/* CAs refreshed per crl_refresh_due() call; the next call does the rest. */
#define CRL_DUE_MAX 1000
/* RFC 5280 5.3.1 reason codes. */
#define CRL_REASON_UNSPECIFIED 0
#define CRL_REASON_REMOVE_FROM_CRL 8

/* One CRL entry; ownership of nothing passes to crl. */
static int
add_entry(X509_CRL *crl, const struct db_revoked *e)
{
	X509_REVOKED *rv = NULL;
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = NULL;
	ASN1_ENUMERATED *reason = NULL;
	ASN1_GENERALIZEDTIME *inval = NULL;
	int r = EST_E_NOMEM;

	/* The stored serial is the positive integer's magnitude. */
	if ((rv = X509_REVOKED_new()) == NULL ||
	    (sn = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_STRING_set(sn, e->serial, (int)e->serial_len) ||
	    !X509_REVOKED_set_serialNumber(rv, sn) ||
	    (t = ASN1_TIME_set(NULL, (time_t)e->revoked_at)) == NULL ||
	    !X509_REVOKED_set_revocationDate(rv, t))
		goto out;
	if (e->reason != CRL_REASON_UNSPECIFIED &&
	    ((reason = ASN1_ENUMERATED_new()) == NULL ||
	     !ASN1_ENUMERATED_set(reason, e->reason) ||
	     X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, reason, 0, 0) != 1))
		goto out;
	/* InvalidityDate is a GeneralizedTime whatever the year. */
	if (e->invalidity_date > 0 &&
	    ((inval = ASN1_GENERALIZEDTIME_set(
		      NULL, (time_t)e->invalidity_date)) == NULL ||
	     X509_REVOKED_add1_ext_i2d(rv, NID_invalidity_date, inval, 0, 0) !=
		     1))
		goto out;
	if (!X509_CRL_add0_revoked(crl, rv))
		goto out;
	rv = NULL;
	r = 0;
out:
	ASN1_GENERALIZEDTIME_free(inval);
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(sn);
	X509_REVOKED_free(rv);
	return r;
}

/*
 * Every revoked certificate of ca that a CRL made now must list; *count
 * is how many.
 */
static int
add_entries(struct db *db, const struct db_ca *ca, int64_t now, X509_CRL *crl,
	    size_t *count)
{
	struct db_revoked *page;
	int64_t after = 0, cutoff;
	size_t n = 0, i;
	int r;

	/*
	 * RFC 5280 5.1.2.6: an entry stays until it has appeared on one
	 * regularly scheduled CRL beyond the certificate's validity.
	 */
	cutoff = now - (int64_t)ca->crl_period_hours * 3600;
	if (cutoff < 0)
		cutoff = 0;
	if ((page = calloc(CRL_PAGE, sizeof(*page))) == NULL)
		return EST_E_NOMEM;
	do {
		if ((r = db_ca_revoked_page(db, ca->id, cutoff, after, CRL_PAGE,
					    page, &n)) != 0)
			break;
		for (i = 0; i < n && r == 0; i++) {
			/* removeFromCRL belongs to delta CRLs only. */
			if (page[i].reason == CRL_REASON_REMOVE_FROM_CRL)
				continue;
			if ((r = add_entry(crl, &page[i])) == 0)
				(*count)++;
		}
		if (n > 0)
			after = page[n - 1].id;
	} while (r == 0 && n == CRL_PAGE);
	free(page);
	return r;
}

/* crlNumber and authorityKeyIdentifier (the CA's own key identifier). */
static int
add_crl_extensions(X509_CRL *crl, X509 *cacert, int64_t number)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cacert);
	AUTHORITY_KEYID *aki = NULL;
	ASN1_INTEGER *num = NULL;
	int r = EST_E_NOMEM;

	if ((num = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set_int64(num, number) ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1)
		goto out;
	/* A CA certificate without an SKI leaves nothing to point at. */
	if (ski != NULL &&
	    ((aki = AUTHORITY_KEYID_new()) == NULL ||
	     (aki->keyid = ASN1_OCTET_STRING_dup(ski)) == NULL ||
	     X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 0,
				   0) != 1))
		goto out;
	r = 0;
out:
	AUTHORITY_KEYID_free(aki);
	ASN1_INTEGER_free(num);
	return r;
}

/* Builds, signs, checks and stores the next CRL of ca (locked). */
static int
make_crl(struct db *db, struct sigclient *sc, const struct db_ca *ca)
{
	X509 *cacert = NULL;
	X509_CRL *crl = NULL;
	ASN1_TIME *tu = NULL, *tn = NULL;
	unsigned char *der = NULL;
	int64_t now = (int64_t)time(NULL), next, number;
	size_t count = 0;
	int period, len, r;

	if (ca->cert_der == NULL)
		return EST_E_CONFLICT;
	if ((r = x509_cert_from_der(ca->cert_der, ca->cert_len, &cacert)) != 0)
		return EST_E_INTERNAL;
	period = ca->crl_period_hours > 0 ? ca->crl_period_hours
					  : DB_CA_CRL_PERIOD_DEFAULT;
	next = now + (int64_t)period * 3600;
	number = ca->crl_number + 1;
	r = EST_E_NOMEM;
	if ((crl = X509_CRL_new()) == NULL ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(cacert)) ||
	    (tu = ASN1_TIME_set(NULL, (time_t)now)) == NULL ||
	    (tn = ASN1_TIME_set(NULL, (time_t)next)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, tu) ||
	    !X509_CRL_set1_nextUpdate(crl, tn))
		goto out;
	if ((r = add_crl_extensions(crl, cacert, number)) != 0 ||
	    (r = add_entries(db, ca, now, crl, &count)) != 0)
		goto out;
	if (!X509_CRL_sort(crl)) {
		r = EST_E_NOMEM;
		goto out;
	}
	/*
	 * The signer takes requests up to FRAME_MAX (lib/frame.h): about
	 * 85,000 entries with reason codes, 110,000 without.
	 */
	if ((r = x509_crl_sign(sc, ca->key_id, ca->keytype, &crl)) != 0) {
		log_err("CA %lld: the signer did not sign its CRL of %zu "
			"entries: %s",
			(long long)ca->id, count, est_strerror(r));
		goto out;
	}
	/* A wrong answer from the signer must not be published. */
	if (X509_CRL_verify(crl, X509_get0_pubkey(cacert)) != 1 ||
	    (len = i2d_X509_CRL(crl, &der)) <= 0) {
		r = EST_E_CRYPTO;
		goto out;
	}
	r = db_ca_crl_store(db, ca->id, number, now, next, der, (size_t)len);
out:
	OPENSSL_free(der);
	ASN1_TIME_free(tn);
	ASN1_TIME_free(tu);
	X509_CRL_free(crl);
	X509_free(cacert);
	return r;
}

int
crl_regenerate(struct db *db, struct sigclient *sc, int64_t ca_id)
{
	struct db_ca *ca = NULL;
	int r;

	/* The lock orders two regenerations of one CA. */
	if ((r = db_ca_get_lock(db, ca_id, &ca)) != 0)
		return r;
	r = make_crl(db, sc, ca);
	db_ca_free(ca);
	return r;
}

int
crl_get(struct db *db, int64_t ca_id, uint8_t **der, size_t *len)
{
	return db_ca_crl_get(db, ca_id, der, len, NULL, NULL);
}

/*
 * In a transaction of its own: regenerates the CRL of ca_id unless
 * another process did since it was found due (the row lock makes the
 * second one see the first one's CRL).
 */
static int
regenerate_if_due(struct db *db, struct sigclient *sc, int64_t ca_id,
		  int64_t due_before)
{
	struct db_ca *ca = NULL;
	int r;

	if ((r = db_begin(db)) != 0)
		return r;
	if ((r = db_ca_get_lock(db, ca_id, &ca)) == 0 &&
	    (ca->crl_number == 0 || ca->crl_next_update <= due_before))
		r = make_crl(db, sc, ca);
	db_ca_free(ca);
	if (r != 0) {
		db_rollback(db);
		return r;
	}
	return db_commit(db);
}

int
crl_get_current(struct db *db, struct sigclient *sc, int64_t ca_id,
		uint8_t **der, size_t *len, int64_t *this_update,
		int64_t *next_update)
{
	uint8_t *d = NULL;
	size_t n = 0;
	int64_t tu = 0, nu = 0, now = (int64_t)time(NULL);
	int r;

	r = db_ca_crl_get(db, ca_id, &d, &n, &tu, &nu);
	if (r != 0 && r != EST_E_NOTFOUND)
		return r;
	if ((r == 0 && nu > now) || sc == NULL)
		goto done;
	if ((r = regenerate_if_due(db, sc, ca_id, now)) != 0) {
		if (d == NULL)
			return r == EST_E_CONFLICT ? EST_E_NOTFOUND : r;
		log_warn("CA %lld: serving its late CRL: %s", (long long)ca_id,
			 est_strerror(r));
		r = 0;
		goto done;
	}
	free(d);
	d = NULL;
	r = db_ca_crl_get(db, ca_id, &d, &n, &tu, &nu);
done:
	if (r != 0 || d == NULL) {
		free(d);
		return r != 0 ? r : EST_E_NOTFOUND;
	}
	*der = d;
	*len = n;
	if (this_update != NULL)
		*this_update = tu;
	if (next_update != NULL)
		*next_update = nu;
	return 0;
}

int
crl_refresh_due(struct db *db, struct sigclient *sc, int margin_seconds)
{
	int64_t *ids = NULL, due;
	size_t n = 0, i;
	int r, done = 0;

	if (margin_seconds < 0)
		return EST_E_INVAL;
	due = (int64_t)time(NULL) + margin_seconds;
	if ((r = db_ca_crl_due(db, due, CRL_DUE_MAX, &ids, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = regenerate_if_due(db, sc, ids[i], due)) != 0) {
			log_err("CA %lld: cannot regenerate its CRL: %s",
				(long long)ids[i], est_strerror(r));
			continue;
		}
		done++;
	}
	free(ids);
	return done;
}
