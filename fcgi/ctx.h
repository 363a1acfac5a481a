/*
 * What a handler works with besides its request: the configuration, the
 * program's shared state, the route captures, and the worker thread's own
 * database and signer connections.  Each worker thread has one struct hctx
 * for its whole life; the connections are opened on first use and dropped
 * after a failure, so the next request reconnects.
 */
#ifndef ESTUARY_CTX_H
#define ESTUARY_CTX_H

struct conf;
struct db;
struct issue_cache;
struct route_match;
struct sigclient;
struct txjob;

struct hctx {
	const struct conf *conf;
	void *state;			 /* from app->init; shared by threads */
	const struct route_match *match; /* captures of this request */
	struct db *db;			 /* use ctx_db() */
	struct sigclient *sig;		 /* use ctx_signer() */
	/*
	 * The thread's issuing cache (pki/issue_cache.h), made by the first
	 * handler that issues, which also sets the function that frees it:
	 * this file does not link the pki library, which not every program
	 * with a struct hctx needs.
	 */
	struct issue_cache *icache;
	void (*icache_free)(struct issue_cache *);
	/*
	 * A request's writes handed over by its handler (txq.h), for the
	 * caller of dispatch() to pass on to the writer thread or run.
	 */
	struct txjob *job;
};

/* The thread's database connection (DB_ROLE_APP); EST_E_DB when down. */
int ctx_db(struct hctx *c, struct db **out);
/* The thread's signer connection; EST_E_SIGNER when down. */
int ctx_signer(struct hctx *c, struct sigclient **out);
/* ctx_signer() for a callback's void pointer (c is a struct hctx). */
int ctx_signer_cb(void *c, struct sigclient **out);
void ctx_drop_db(struct hctx *c);
void ctx_drop_signer(struct hctx *c);
/* Drops the connection that err (a handler's result) points at. */
void ctx_after_error(struct hctx *c, int err);
/* Closes both connections and frees the issuing cache. */
void ctx_close(struct hctx *c);

#endif
