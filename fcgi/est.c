/*
 * estuary-est: the EST endpoints of RFC 7030 (with RFC 8951) under
 * /.well-known/est.  The foundation serves cacerts for the CA named by
 * est_default_ca.  Every other operation, and every label, already has its
 * route with its method (so 405 and Allow are right), and answers 404 until
 * EST servers and labels are configured by later work.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "ctx.h"
#include "daemon.h"
#include "db.h"
#include "dbq.h"
#include "dispatch.h"
#include "err.h"
#include "log.h"
#include "p7.h"
#include "pki_http.h"
#include "pki_ocsp.h"
#include "resp.h"

#define EST_BASE "/.well-known/est"
/* cacerts is cached this long, so that it does not hit the database. */
#define CACERTS_TTL_SEC 30

struct est_state {
	char *ca_name;	     /* est_default_ca; "" when unset */
	pthread_mutex_t mtx; /* guards the cache below */
	char *cacerts;	     /* base64 certs-only response, or NULL */
	size_t cacerts_len;
	time_t cacerts_expiry; /* CLOCK_MONOTONIC seconds */
};

static time_t
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* A copy of the cached response; EST_E_NOTFOUND when stale or empty. */
static int
cache_get(struct est_state *st, char **out, size_t *len)
{
	char *copy = NULL;
	int r = EST_E_NOTFOUND;

	pthread_mutex_lock(&st->mtx);
	if (st->cacerts != NULL && now_mono() < st->cacerts_expiry) {
		if ((copy = malloc(st->cacerts_len + 1)) == NULL) {
			r = EST_E_NOMEM;
		} else {
			memcpy(copy, st->cacerts, st->cacerts_len + 1);
			*out = copy;
			*len = st->cacerts_len;
			r = 0;
		}
	}
	pthread_mutex_unlock(&st->mtx);
	return r;
}

static void
cache_put(struct est_state *st, const char *body, size_t len)
{
	char *copy;

	/* Without memory the next request simply rebuilds it. */
	if ((copy = malloc(len + 1)) == NULL)
		return;
	memcpy(copy, body, len + 1);
	pthread_mutex_lock(&st->mtx);
	free(st->cacerts);
	st->cacerts = copy;
	st->cacerts_len = len;
	st->cacerts_expiry = now_mono() + CACERTS_TTL_SEC;
	pthread_mutex_unlock(&st->mtx);
}

/*
 * The chain of the CA called name, issuing CA first and root last, as a
 * base64 certs-only SignedData.  A CA that is missing, inactive or still
 * without its certificate is EST_E_NOTFOUND; a chain whose parent is missing
 * or that does not end within P7_CERTS_MAX is EST_E_INTERNAL.
 */
static int
load_chain(struct hctx *c, const char *name, char **out, size_t *outlen)
{
	struct db_ca *chain[P7_CERTS_MAX] = {NULL};
	const uint8_t *ders[P7_CERTS_MAX];
	size_t lens[P7_CERTS_MAX], n = 0, i;
	struct db *db;
	int r;

	if ((r = ctx_db(c, &db)) != 0 ||
	    (r = db_ca_get_by_name(db, name, &chain[0])) != 0) {
		if (r == EST_E_NOTFOUND)
			log_warn("est_default_ca \"%s\" does not exist", name);
		goto out;
	}
	n = 1;
	if (!chain[0]->active) {
		log_warn("est_default_ca \"%s\" is not active", name);
		r = EST_E_NOTFOUND;
		goto out;
	}
	while (chain[n - 1]->parent_id != 0) {
		if (n == P7_CERTS_MAX) {
			log_err("CA \"%s\": chain longer than %d", name,
				P7_CERTS_MAX);
			r = EST_E_INTERNAL;
			goto out;
		}
		r = db_ca_get(db, chain[n - 1]->parent_id, &chain[n]);
		if (r != 0) {
			if (r == EST_E_NOTFOUND) {
				log_err("CA \"%s\": parent missing", name);
				r = EST_E_INTERNAL;
			}
			goto out;
		}
		n++;
	}
	for (i = 0; i < n; i++) {
		if (chain[i]->cert_der == NULL) {
			log_warn("CA \"%s\" has no certificate yet",
				 chain[i]->name);
			r = EST_E_NOTFOUND;
			goto out;
		}
		ders[i] = chain[i]->cert_der;
		lens[i] = chain[i]->cert_len;
	}
	r = p7_certs_only_b64(ders, lens, n, out, outlen);
out:
	for (i = 0; i < n; i++)
		db_ca_free(chain[i]);
	return r;
}

static int
h_cacerts(struct hctx *c, const struct request *req, struct resp *rs)
{
	struct est_state *st = c->state;
	char *body = NULL;
	size_t len = 0;
	int r;

	(void)req;
	if (st->ca_name[0] == '\0')
		return resp_error_reason(rs, 404, EST_E_NOTFOUND, NULL,
					 "no CA configured");
	if ((r = cache_get(st, &body, &len)) == EST_E_NOTFOUND) {
		if ((r = load_chain(c, st->ca_name, &body, &len)) != 0)
			goto out;
		cache_put(st, body, len);
	}
	if (r != 0 ||
	    (r = resp_body(rs, 200, P7_CERTS_ONLY_TYPE, body, len)) != 0 ||
	    (r = resp_header(rs, "Content-Transfer-Encoding", "base64")) != 0)
		goto out;
out:
	free(body);
	return r;
}

/* simpleenroll, simplereenroll, serverkeygen and csrattrs, for now. */
static int
h_not_configured(struct hctx *c, const struct request *req, struct resp *rs)
{
	(void)c;
	(void)req;
	return resp_error_reason(rs, 404, EST_E_NOTFOUND, NULL,
				 "EST operation not configured");
}

/* Labels are well-formed here (the router checked them) but none exists. */
static int
h_label(struct hctx *c, const struct request *req, struct resp *rs)
{
	(void)c;
	(void)req;
	return resp_error_reason(rs, 404, EST_E_NOTFOUND, NULL,
				 "unknown EST label");
}

static const struct route est_routes[] = {
	{REQ_M_GET, EST_BASE "/cacerts", h_cacerts},
	{REQ_M_POST, EST_BASE "/simpleenroll", h_not_configured},
	{REQ_M_POST, EST_BASE "/simplereenroll", h_not_configured},
	{REQ_M_POST, EST_BASE "/serverkeygen", h_not_configured},
	{REQ_M_GET, EST_BASE "/csrattrs", h_not_configured},
	{REQ_M_GET, EST_BASE "/{label}/cacerts", h_label},
	{REQ_M_POST, EST_BASE "/{label}/simpleenroll", h_label},
	{REQ_M_POST, EST_BASE "/{label}/simplereenroll", h_label},
	{REQ_M_POST, EST_BASE "/{label}/serverkeygen", h_label},
	{REQ_M_GET, EST_BASE "/{label}/csrattrs", h_label},
	PKI_OCSP_ROUTES,
	PKI_HTTP_ROUTES,
};

static int
est_init(const struct conf *conf, void **state)
{
	struct est_state *st;
	const char *name = conf_get(conf, "est_default_ca");

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->ca_name = strdup(name != NULL ? name : "")) == NULL) {
		free(st);
		log_err("out of memory");
		return EST_E_NOMEM;
	}
	if (st->ca_name[0] == '\0')
		log_warn("est_default_ca is not set: cacerts answers 404");
	pthread_mutex_init(&st->mtx, NULL);
	*state = st;
	return 0;
}

static void
est_fini(void *state)
{
	struct est_state *st = state;

	if (st == NULL)
		return;
	pthread_mutex_destroy(&st->mtx);
	free(st->cacerts);
	free(st->ca_name);
	free(st);
}

static const struct app est_app = {
	.name = "estuary-est",
	.socket_key = "est_socket",
	.kind = RESP_EST,
	.routes = est_routes,
	.nroutes = sizeof(est_routes) / sizeof(est_routes[0]),
	.init = est_init,
	.fini = est_fini,
};

int
main(int argc, char **argv)
{
	return daemon_main(&est_app, argc, argv);
}
