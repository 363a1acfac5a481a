/*
 * estuary-est: the EST endpoints of RFC 7030 (with RFC 8951) under
 * /.well-known/est, for the EST servers of the guide's §2.3, routed by
 * the request's host and an optional label (fcgi/est.h lists the files);
 * and the PKI's public HTTP endpoints (OCSP, CRLs, CA certificates).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ctx.h"
#include "daemon.h"
#include "dispatch.h"
#include "err.h"
#include "est.h"
#include "est_cache.h"
#include "log.h"
#include "passwd.h"
#include "pki_http.h"
#include "pki_ocsp.h"
#include "resp.h"
#include "util.h"

static const struct route est_routes[] = {
	{REQ_M_GET, EST_BASE "/cacerts", est_h_cacerts},
	{REQ_M_POST, EST_BASE "/simpleenroll", est_h_simpleenroll},
	{REQ_M_POST, EST_BASE "/simplereenroll", est_h_simplereenroll},
	{REQ_M_POST, EST_BASE "/serverkeygen", est_h_serverkeygen},
	{REQ_M_GET, EST_BASE "/csrattrs", est_h_csrattrs},
	{REQ_M_GET, EST_BASE "/{label}/cacerts", est_h_cacerts},
	{REQ_M_POST, EST_BASE "/{label}/simpleenroll", est_h_simpleenroll},
	{REQ_M_POST, EST_BASE "/{label}/simplereenroll", est_h_simplereenroll},
	{REQ_M_POST, EST_BASE "/{label}/serverkeygen", est_h_serverkeygen},
	{REQ_M_GET, EST_BASE "/{label}/csrattrs", est_h_csrattrs},
	PKI_OCSP_ROUTES,
	PKI_HTTP_ROUTES,
};

/* The hash an unknown device ID is verified against (est_auth.c). */
static int
dummy_hash_new(char **out)
{
	char *pw = NULL;
	int r;

	if ((r = passwd_generate(PASSWD_GEN_MIN, &pw)) != 0)
		return r;
	r = passwd_hash(pw, out);
	freezero_str(pw);
	return r;
}

static int
est_init(const struct conf *conf, void **state)
{
	struct est_state *st;
	int r;

	(void)conf;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		log_err("out of memory");
		return EST_E_NOMEM;
	}
	if ((r = dummy_hash_new(&st->dummy_hash)) != 0) {
		log_err("cannot make the dummy password hash: %s",
			est_strerror(r));
		free(st);
		return r;
	}
	if ((r = est_cache_init()) != 0) {
		log_err("cannot make the per-thread caches: %s",
			est_strerror(r));
		free(st->dummy_hash);
		free(st);
		return r;
	}
	pthread_mutex_init(&st->mtx, NULL);
	*state = st;
	return 0;
}

static void
est_fini(void *state)
{
	struct est_state *st = state;
	size_t i;

	if (st == NULL)
		return;
	est_cache_fini();
	pthread_mutex_destroy(&st->mtx);
	for (i = 0; i < EST_CACERTS_SLOTS; i++)
		free(st->slots[i].b64);
	free(st->dummy_hash);
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
