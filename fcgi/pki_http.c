/*
 * CRLs and CA certificates for relying parties (fcgi/pki_http.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crl.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "log.h"
#include "pki_http.h"
#include "resp.h"

#define CRL_TYPE "application/pkix-crl"
#define CERT_TYPE "application/pkix-cert"

/* The CA id of "ID.crl" or "ID.crt" (route.c checked the syntax). */
static int
file_id(const struct hctx *c, const char *cap, int64_t *id)
{
	const char *s = route_cap(c->match, cap);
	char *end;
	long long v;

	if (s == NULL)
		return EST_E_NOTFOUND;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v <= 0 || end == s || *end != '.')
		return EST_E_NOTFOUND;
	*id = (int64_t)v;
	return 0;
}

/* An HTTP-date (RFC 9110 5.6.7) of t. */
static int
http_date(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		return EST_E_INTERNAL;
	return 0;
}

/*
 * A CRL may be cached until its nextUpdate.  resp.c writes Cache-Control
 * itself and refuses it from a handler in some programs; where it does,
 * Expires alone tells caches the same.
 */
static int
cache_headers(struct resp *rs, int64_t this_update, int64_t next_update)
{
	char date[32], cc[64];
	int64_t now = (int64_t)time(NULL), age;
	int r;

	if ((r = http_date(this_update, date)) != 0 ||
	    (r = resp_header(rs, "Last-Modified", date)) != 0)
		return r;
	/* A late CRL (the signer was down) is not to be kept. */
	age = next_update > now ? next_update - now : 0;
	if (age > 0 && ((r = http_date(next_update, date)) != 0 ||
			(r = resp_header(rs, "Expires", date)) != 0))
		return r;
	snprintf(cc, sizeof(cc), "max-age=%lld, public, no-transform",
		 (long long)age);
	r = resp_header(rs, "Cache-Control", cc);
	return r == EST_E_INVAL ? 0 : r;
}

int
pki_http_crl(struct hctx *c, const struct request *req, struct resp *rs)
{
	struct sigclient *sc = NULL;
	struct db *db;
	uint8_t *der = NULL;
	size_t len = 0;
	int64_t id = 0, tu = 0, nu = 0;
	int r;

	(void)req;
	if (file_id(c, "crlfile", &id) != 0)
		return resp_error_reason(rs, 404, EST_E_NOTFOUND, NULL,
					 "no such CRL");
	if ((r = ctx_db(c, &db)) != 0)
		return r;
	/*
	 * Without the signer a stored CRL is still served, late or not;
	 * crl_get_current() signs only when the CRL is past nextUpdate.
	 */
	if (ctx_signer(c, &sc) != 0)
		sc = NULL;
	r = crl_get_current(db, sc, id, &der, &len, &tu, &nu);
	if (r == EST_E_NOTFOUND)
		return resp_error_reason(rs, 404, EST_E_NOTFOUND, NULL,
					 "no such CRL");
	if (r != 0)
		return r;
	if ((r = resp_body(rs, 200, CRL_TYPE, der, len)) == 0)
		r = cache_headers(rs, tu, nu);
	free(der);
	return r;
}

int
pki_http_cert(struct hctx *c, const struct request *req, struct resp *rs)
{
	struct db_ca *ca = NULL;
	struct db *db;
	int64_t id = 0;
	int r;

	(void)req;
	if (file_id(c, "crtfile", &id) != 0)
		return resp_error_reason(rs, 404, EST_E_NOTFOUND, NULL,
					 "no such CA");
	if ((r = ctx_db(c, &db)) != 0)
		return r;
	if ((r = db_ca_get(db, id, &ca)) == EST_E_NOTFOUND ||
	    (r == 0 && ca->cert_der == NULL)) {
		db_ca_free(ca);
		return resp_error_reason(rs, 404, EST_E_NOTFOUND, NULL,
					 "no such CA");
	}
	if (r != 0)
		return r;
	r = resp_body(rs, 200, CERT_TYPE, ca->cert_der, ca->cert_len);
	db_ca_free(ca);
	return r;
}
