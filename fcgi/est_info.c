/*
 * The EST operations without authentication (fcgi/est.h):
 *
 *	GET .../cacerts		RFC 7030 section 4.1: the chain of the CA
 *				that the server (or its label) issues from,
 *				issuing CA first, as certs-only PKCS#7
 *	GET .../csrattrs	section 4.5: what the template needs from a
 *				CSR (est_csrattrs_der()), 204 when nothing
 *
 * The template is the one enrollment would use: a dps server's (or its
 * label's) device type's default operational template, a cms server's
 * label's template or default template.  For a dps server the fields the
 * device type's mapping fills from the device are not asked for.
 * cacerts answers are cached per server and label for EST_CACERTS_TTL
 * seconds (est_state), so that clients that poll it do not load the
 * database; a change of CA shows within that time.  Basic credentials or
 * a client certificate on these requests are ignored (guide TC-11).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca.h"
#include "ctx.h"
#include "dbq.h"
#include "devmgmt.h"
#include "devtype.h"
#include "err.h"
#include "est.h"
#include "est_body.h"
#include "est_resp.h"
#include "estsrv.h"
#include "issue_cache.h"
#include "jsonval.h"
#include "p7.h"
#include "resp.h"
#include "subject.h"
#include "tmpl.h"

static time_t
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* A copy of the cached answer; EST_E_NOTFOUND when stale or absent. */
static int
cache_get(struct est_state *st, const struct est_route *rt, char **out,
	  size_t *len)
{
	struct est_cacerts_slot *s;
	time_t now = now_mono();
	int r = EST_E_NOTFOUND;
	size_t i;

	pthread_mutex_lock(&st->mtx);
	for (i = 0; i < EST_CACERTS_SLOTS; i++) {
		s = &st->slots[i];
		if (s->b64 == NULL || s->server_id != rt->server_id ||
		    s->label_id != rt->label_id || now >= s->expiry)
			continue;
		if ((*out = malloc(s->len + 1)) == NULL) {
			r = EST_E_NOMEM;
		} else {
			memcpy(*out, s->b64, s->len + 1);
			*len = s->len;
			r = 0;
		}
		break;
	}
	pthread_mutex_unlock(&st->mtx);
	return r;
}

/* Keeps b64 for rt in its slot, a stale one, or the oldest. */
static void
cache_put(struct est_state *st, const struct est_route *rt, const char *b64,
	  size_t len)
{
	struct est_cacerts_slot *s, *pick = NULL;
	time_t now = now_mono();
	char *copy;
	size_t i;

	if ((copy = malloc(len + 1)) == NULL)
		return; /* the next request rebuilds it */
	memcpy(copy, b64, len + 1);
	pthread_mutex_lock(&st->mtx);
	for (i = 0; i < EST_CACERTS_SLOTS; i++) {
		s = &st->slots[i];
		if (s->b64 != NULL && s->server_id == rt->server_id &&
		    s->label_id == rt->label_id) {
			pick = s;
			break;
		}
		if (pick == NULL || s->b64 == NULL ||
		    (pick->b64 != NULL && s->expiry < pick->expiry))
			pick = s;
	}
	free(pick->b64);
	pick->server_id = rt->server_id;
	pick->label_id = rt->label_id;
	pick->b64 = copy;
	pick->len = len;
	pick->expiry = now + EST_CACERTS_TTL;
	pthread_mutex_unlock(&st->mtx);
}

/* The template of a request and its CA, with the device type for dps. */
struct tinfo {
	const struct devtype *dt; /* the thread cache's */
	const struct tmpl *t;	  /* the issuing cache's */
	const struct db_ca *ca;
};

static void
tinfo_clear(struct tinfo *ti)
{
	memset(ti, 0, sizeof(*ti));
}

static int
tinfo_load(struct est_call *ec, struct tinfo *ti, struct prov_error *e)
{
	const struct est_route *rt = ec->route;
	struct jsonval_error je = {0};
	struct issue_cache *ic = NULL;
	int64_t id;
	int r;

	if ((r = est_icache(ec, &ic)) != 0)
		return est_fail_code(e, r);
	if (rt->kind == ESTSRV_KIND_DPS) {
		r = est_route_devtype(ec, &ti->dt);
		if (r == EST_E_NOTFOUND || (r == 0 && !ti->dt->active))
			return est_fail(e, 404, PROV_R_UNKNOWN_TYPE,
					"unknown or inactive device type");
		if (r != 0)
			return est_fail_code(e, r);
		r = device_cert_template_cached(ic, ec->db, ti->dt,
						ISSUE_KIND_OPERATIONAL, 0, "",
						&ti->t, &ti->ca, &je);
		if (r != 0 && est_err_http_status(r) == 503)
			return est_fail_code(e, r);
		if (r != 0)
			return est_fail(e, 404, PROV_R_CONFLICT,
					"no active operational template");
		return 0;
	}
	id = rt->default_template_id;
	if (id == 0 && rt->ntemplates > 0)
		id = rt->template_ids[0];
	if (id == 0)
		return est_fail(e, 404, PROV_R_CONFLICT,
				"no certificate template");
	r = issue_cache_get(ic, ec->db, id, &ti->t, &ti->ca);
	if (r == EST_E_NOTFOUND || (r == 0 && !ti->t->active))
		return est_fail(e, 404, PROV_R_CONFLICT,
				"no active certificate template");
	if (r != 0)
		return est_fail_code(e, r);
	return 0;
}

static int
build_cacerts(struct est_call *ec, char **b64, size_t *len,
	      struct prov_error *e)
{
	const uint8_t *ders[P7_CERTS_MAX];
	size_t lens[P7_CERTS_MAX], i;
	struct pki_chain ch;
	struct tinfo ti;
	int r;

	memset(&ti, 0, sizeof(ti));
	memset(&ch, 0, sizeof(ch));
	if ((r = tinfo_load(ec, &ti, e)) != 0)
		goto out;
	if (!ti.ca->active || ti.ca->cert_der == NULL) {
		r = est_fail(e, 404, PROV_R_CONFLICT, "CA not available");
		goto out;
	}
	if ((r = pki_ca_chain(ec->db, ti.ca, &ch)) != 0) {
		r = r == EST_E_CONFLICT ? est_fail(e, 404, PROV_R_CONFLICT,
						   "CA not available")
					: est_fail_code(e, r);
		goto out;
	}
	if (ch.n == 0 || ch.n > P7_CERTS_MAX) {
		r = est_fail_code(e, EST_E_INTERNAL);
		goto out;
	}
	for (i = 0; i < ch.n; i++) {
		ders[i] = ch.der[i];
		lens[i] = ch.len[i];
	}
	if ((r = p7_certs_only_b64(ders, lens, ch.n, b64, len)) != 0)
		r = est_fail_code(e, r);
out:
	pki_chain_clear(&ch);
	tinfo_clear(&ti);
	return r;
}

int
est_h_cacerts(struct hctx *c, const struct request *req, struct resp *rs)
{
	struct est_state *st = c->state;
	struct prov_error e = {0};
	struct est_call ec;
	char *b64 = NULL;
	size_t len = 0;
	int r;

	if ((r = est_call_start(&ec, c, req, PROV_CH_REST, 0, &e)) != 0)
		goto refuse;
	if ((r = cache_get(st, ec.route, &b64, &len)) == EST_E_NOTFOUND) {
		if ((r = build_cacerts(&ec, &b64, &len, &e)) != 0)
			goto refuse;
		cache_put(st, ec.route, b64, len);
	} else if (r != 0) {
		est_fail_code(&e, r);
		goto refuse;
	}
	if ((r = resp_body(rs, 200, P7_CERTS_ONLY_TYPE, b64, len)) == 0)
		r = resp_header(rs, "Content-Transfer-Encoding", "base64");
	goto out;
refuse:
	if (e.status == 503)
		ctx_drop_db(c);
	r = est_refuse(&ec, rs, PROV_AUTH_NONE, 0, &e);
out:
	free(b64);
	est_call_clear(&ec);
	return r;
}

/* Whether field i of t is filled by dt's mapping. */
static int
mapped(const struct devtype *dt, const struct tmpl *t, size_t i)
{
	size_t k;

	if (dt == NULL || t->field_ids == NULL)
		return 0;
	for (k = 0; k < dt->nmaps; k++)
		if (dt->maps[k].kind == t->fields[i].kind &&
		    dt->maps[k].field_id == t->field_ids[i])
			return 1;
	return 0;
}

int
est_h_csrattrs(struct hctx *c, const struct request *req, struct resp *rs)
{
	struct subj_field *f = NULL;
	struct prov_error e = {0};
	struct est_call ec;
	struct tinfo ti;
	uint8_t *der = NULL;
	size_t len = 0, n = 0, i;
	int r;

	memset(&ti, 0, sizeof(ti));
	if ((r = est_call_start(&ec, c, req, PROV_CH_REST, 0, &e)) != 0 ||
	    (r = tinfo_load(&ec, &ti, &e)) != 0)
		goto refuse;
	if (ti.t->nfields > 0 &&
	    (f = calloc(ti.t->nfields, sizeof(*f))) == NULL) {
		est_fail_code(&e, EST_E_NOMEM);
		goto refuse;
	}
	for (i = 0; i < ti.t->nfields; i++)
		if (!mapped(ti.dt, ti.t, i))
			f[n++] = ti.t->fields[i];
	if ((r = est_csrattrs_der(f, n, ti.t->key_types, &der, &len)) != 0) {
		est_fail_code(&e, r);
		goto refuse;
	}
	r = est_resp_csrattrs(rs, der, len);
	goto out;
refuse:
	if (e.status == 503)
		ctx_drop_db(c);
	r = est_refuse(&ec, rs, PROV_AUTH_NONE, 0, &e);
out:
	free(f);
	free(der);
	tinfo_clear(&ti);
	est_call_clear(&ec);
	return r;
}
