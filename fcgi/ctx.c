#include "config.h"

#include <stddef.h>

#include "conf.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "sigclient.h"
#include "txq.h"

int
ctx_db(struct hctx *c, struct db **out)
{
	int r;

	if (c->db == NULL &&
	    (r = db_connect(c->conf, DB_ROLE_APP, &c->db)) != 0) {
		log_warn("database connection failed: %s", est_strerror(r));
		return EST_E_DB;
	}
	*out = c->db;
	return 0;
}

int
ctx_signer(struct hctx *c, struct sigclient **out)
{
	const char *path = conf_get(c->conf, "signer_socket");
	int r;

	/*
	 * A connection the signer closed (it restarted since the last
	 * request of this thread) is replaced before it can fail a request.
	 */
	if (c->sig != NULL && !sigclient_alive(c->sig))
		ctx_drop_signer(c);
	if (c->sig == NULL && (r = sigclient_connect(path, &c->sig)) != 0) {
		log_warn("signer connection to %s failed: %s", path,
			 est_strerror(r));
		return EST_E_SIGNER;
	}
	*out = c->sig;
	return 0;
}

int
ctx_signer_cb(void *c, struct sigclient **out)
{
	return ctx_signer(c, out);
}

void
ctx_drop_db(struct hctx *c)
{
	db_close(c->db);
	c->db = NULL;
}

void
ctx_drop_signer(struct hctx *c)
{
	sigclient_free(c->sig);
	c->sig = NULL;
}

void
ctx_after_error(struct hctx *c, int err)
{
	/*
	 * A failed connection is not reused: a server that restarted leaves
	 * the old socket dead, and a protocol error leaves it out of step.
	 */
	switch (err) {
	case EST_E_DB:
		ctx_drop_db(c);
		break;
	case EST_E_SIGNER:
	case EST_E_EOF:
	case EST_E_IO:
	case EST_E_BADVERSION:
	case EST_E_BADTYPE:
	case EST_E_TRAILING:
		ctx_drop_signer(c);
		break;
	default:
		break;
	}
}

void
ctx_close(struct hctx *c)
{
	ctx_drop_db(c);
	ctx_drop_signer(c);
	if (c->job != NULL)
		c->job->ops->free(c->job);
	c->job = NULL;
	if (c->icache != NULL && c->icache_free != NULL)
		c->icache_free(c->icache);
	c->icache = NULL;
}
