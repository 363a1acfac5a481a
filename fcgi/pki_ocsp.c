/*
 * OCSP over HTTP (fcgi/pki_ocsp.h): the request comes from the body or
 * the path, the answer from pki/ocsp.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "ctx.h"
#include "err.h"
#include "log.h"
#include "ocsp.h"
#include "pki_ocsp.h"
#include "req.h"
#include "resp.h"

/* An HTTP-date (RFC 9110 5.6.7) of t. */
static int
http_date(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		return EST_E_INTERNAL;
	return 0;
}

/* RFC 5019 6.2: a response to GET may be cached until its nextUpdate. */
static int
cache_headers(struct resp *rs, time_t now, time_t next)
{
	char date[32], cc[96];
	int r;

	if ((r = http_date(now, date)) != 0 ||
	    (r = resp_header(rs, "Last-Modified", date)) != 0 ||
	    (r = http_date(next, date)) != 0 ||
	    (r = resp_header(rs, "Expires", date)) != 0)
		return r;
	snprintf(cc, sizeof(cc),
		 "max-age=%lld, public, no-transform, must-revalidate",
		 (long long)(next > now ? next - now : 0));
	return resp_header(rs, "Cache-Control", cc);
}

static void
log_failure(int64_t ca_id, int r)
{
	switch (ocsp_status_of(r)) {
	case OCSP_ST_MALFORMED:
	case OCSP_ST_UNAUTHORIZED:
		log_debug("OCSP for CA %lld: %s", (long long)ca_id,
			  est_strerror(r));
		break;
	default:
		log_warn("OCSP for CA %lld: %s", (long long)ca_id,
			 est_strerror(r));
		break;
	}
}

/*
 * Answers the DER request der for CA ca_id.  Every outcome is an
 * OCSPResponse; a failed connection is dropped here, since the handler
 * itself succeeds.
 */
static int
respond(struct hctx *c, int64_t ca_id, const uint8_t *der, size_t len,
	int cacheable, struct resp *rs)
{
	struct sigclient *sc;
	struct db *db;
	uint8_t *out = NULL;
	size_t outlen = 0;
	time_t now = time(NULL), next = 0;
	int r;

	if (der == NULL)
		r = EST_E_BADASN1;
	else if ((r = ctx_db(c, &db)) == 0 && (r = ctx_signer(c, &sc)) == 0)
		r = ocsp_respond(db, sc, ca_id, der, len, now, &out, &outlen,
				 &next);
	if (r != 0) {
		log_failure(ca_id, r);
		ctx_after_error(c, r);
		if (r == EST_E_NOMEM)
			return r;
		if ((r = ocsp_response_der(ocsp_status_of(r), NULL, 0, &out,
					   &outlen)) != 0)
			return r;
		cacheable = 0;
	}
	if ((r = resp_body(rs, 200, OCSP_RESPONSE_TYPE, out, outlen)) == 0 &&
	    cacheable)
		r = cache_headers(rs, now, next);
	free(out);
	return r;
}

static int
ca_id_of(struct hctx *c, int64_t *id)
{
	const char *s = route_cap(c->match, "id");
	char *end;
	long long v;

	/* route.c checked the syntax: 1..18 digits, no leading zero. */
	if (s == NULL || (v = strtoll(s, &end, 10)) <= 0 || *end != '\0')
		return EST_E_NOTFOUND;
	*id = (int64_t)v;
	return 0;
}

int
pki_ocsp_post(struct hctx *c, const struct request *req, struct resp *rs)
{
	int64_t id;
	int r;

	if ((r = ca_id_of(c, &id)) != 0)
		return r;
	if (req->content_type == NULL ||
	    !mtype_is(req->content_type, OCSP_REQUEST_TYPE))
		return resp_error(rs, 415, EST_E_MEDIATYPE, NULL);
	if (req->bodylen > OCSP_REQ_MAX)
		return resp_error(rs, 413, EST_E_TOOBIG, NULL);
	return respond(c, id, req->body, req->bodylen, 0, rs);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The request of a GET path segment: base64 (RFC 6960 A.1) or base64url,
 * padding optional.  The path was percent-decoded once already; escapes
 * that decoding leaves (an encoded '/' kept as "%2F") are decoded here.
 */
static int
decode_get(const char *s, uint8_t **der, size_t *len)
{
	size_t n = strlen(s), i, j = 0;
	char *t, ch;
	int hi, lo, r;

	if ((t = malloc(n + 4)) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++) {
		ch = s[i];
		if (ch == '%') {
			if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0) {
				r = EST_E_BADASN1;
				goto out;
			}
			ch = (char)(hi << 4 | lo);
			i += 2;
		}
		t[j++] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
	}
	while (j % 4 != 0)
		t[j++] = '=';
	r = b64_decode(t, j, 0, der, len) == 0 ? 0 : EST_E_BADASN1;
out:
	free(t);
	return r;
}

int
pki_ocsp_get(struct hctx *c, const struct request *req, struct resp *rs)
{
	const char *s = route_cap(c->match, "ocspreq");
	uint8_t *der = NULL;
	size_t len = 0;
	int64_t id;
	int r;

	(void)req;
	if ((r = ca_id_of(c, &id)) != 0)
		return r;
	if (s == NULL)
		return EST_E_NOTFOUND;
	if ((r = decode_get(s, &der, &len)) == EST_E_NOMEM)
		return r;
	/* A path that is no base64 is a malformed request, not a 404. */
	r = respond(c, id, r == 0 ? der : NULL, len, 1, rs);
	free(der);
	return r;
}
