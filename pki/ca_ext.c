/*
 * The extensions pki/ca.c writes beside those of x509_ca_build(): a
 * chosen keyUsage, and the pointers to where the issuer publishes
 * (cRLDistributionPoints, authorityInfoAccess with OCSP and caIssuers).
 */
#include "config.h"

#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_int.h"
#include "err.h"

static int
add_ext(X509 *x, int nid, void *value, int crit, unsigned long flags)
{
	return X509_add1_ext_i2d(x, nid, value, crit, flags) == 1
		       ? 0
		       : EST_E_CRYPTO;
}

/* keyUsage as RFC 5280 bits (DB_CA_KU_*), critical. */
int
pki_ca_ku_bits(unsigned ku, ASN1_BIT_STRING **out)
{
	ASN1_BIT_STRING *bs;
	int i;

	if ((bs = ASN1_BIT_STRING_new()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i <= 8; i++)
		if ((ku & (1u << i)) != 0 &&
		    !ASN1_BIT_STRING_set_bit(bs, i, 1)) {
			ASN1_BIT_STRING_free(bs);
			return EST_E_NOMEM;
		}
	*out = bs;
	return 0;
}

static int
add_uri(STACK_OF(GENERAL_NAME) * names, const char *uri)
{
	GENERAL_NAME *gn = NULL;
	ASN1_IA5STRING *s = NULL;

	if ((gn = GENERAL_NAME_new()) == NULL ||
	    (s = ASN1_IA5STRING_new()) == NULL ||
	    !ASN1_STRING_set(s, uri, (int)strlen(uri))) {
		ASN1_IA5STRING_free(s);
		GENERAL_NAME_free(gn);
		return EST_E_NOMEM;
	}
	GENERAL_NAME_set0_value(gn, GEN_URI, s);
	if (!sk_GENERAL_NAME_push(names, gn)) {
		GENERAL_NAME_free(gn);
		return EST_E_NOMEM;
	}
	return 0;
}

/* cRLDistributionPoints with one full-name URI. */
static int
add_crl_dp(X509 *x, const char *uri)
{
	CRL_DIST_POINTS *dps = NULL;
	DIST_POINT *dp = NULL;
	int r = EST_E_NOMEM;

	if ((dps = sk_DIST_POINT_new_null()) == NULL ||
	    (dp = DIST_POINT_new()) == NULL ||
	    (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null()) == NULL)
		goto out;
	dp->distpoint->type = 0;
	if ((r = add_uri(dp->distpoint->name.fullname, uri)) != 0)
		goto out;
	if (!sk_DIST_POINT_push(dps, dp)) {
		r = EST_E_NOMEM;
		goto out;
	}
	dp = NULL;
	r = add_ext(x, NID_crl_distribution_points, dps, 0, X509V3_ADD_DEFAULT);
out:
	DIST_POINT_free(dp);
	CRL_DIST_POINTS_free(dps);
	return r;
}

static int
add_access(AUTHORITY_INFO_ACCESS *aia, int nid, const char *uri)
{
	ACCESS_DESCRIPTION *ad;
	STACK_OF(GENERAL_NAME) * one;
	int r;

	if ((ad = ACCESS_DESCRIPTION_new()) == NULL)
		return EST_E_NOMEM;
	ASN1_OBJECT_free(ad->method);
	ad->method = OBJ_nid2obj(nid);
	if ((one = sk_GENERAL_NAME_new_null()) == NULL ||
	    (r = add_uri(one, uri)) != 0) {
		sk_GENERAL_NAME_free(one);
		ACCESS_DESCRIPTION_free(ad);
		return EST_E_NOMEM;
	}
	GENERAL_NAME_free(ad->location);
	ad->location = sk_GENERAL_NAME_pop(one);
	sk_GENERAL_NAME_free(one);
	if (!sk_ACCESS_DESCRIPTION_push(aia, ad)) {
		ACCESS_DESCRIPTION_free(ad);
		return EST_E_NOMEM;
	}
	return 0;
}

int
pki_ca_add_pointers(X509 *x, const char *crl_url, const char *ocsp_url,
		    const char *issuers_url)
{
	AUTHORITY_INFO_ACCESS *aia = NULL;
	int r = 0;

	if (crl_url != NULL && (r = add_crl_dp(x, crl_url)) != 0)
		return r;
	if (ocsp_url == NULL && issuers_url == NULL)
		return 0;
	if ((aia = sk_ACCESS_DESCRIPTION_new_null()) == NULL)
		return EST_E_NOMEM;
	if ((ocsp_url == NULL ||
	     (r = add_access(aia, NID_ad_OCSP, ocsp_url)) == 0) &&
	    (issuers_url == NULL ||
	     (r = add_access(aia, NID_ad_ca_issuers, issuers_url)) == 0))
		r = add_ext(x, NID_info_access, aia, 0, X509V3_ADD_DEFAULT);
	AUTHORITY_INFO_ACCESS_free(aia);
	return r;
}
