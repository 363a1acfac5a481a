/*
 * One client connection: framing, the dispatch table and the request
 * handlers.  A connection has its own PKCS#11 session, opened at its first
 * request that needs the token and closed with the connection.  The same
 * code serves a socket (conn_serve) and a byte string (conn_feed, for the
 * fuzzer), so what is fuzzed is what runs.
 */
#ifndef ESTUARY_CONN_H
#define ESTUARY_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "frame.h"
#include "signer.h"

struct conn;

int conn_new(struct signer *s, uid_t uid, struct conn **out);
/* Closes the connection's session; conn_free(NULL) is a no-op. */
void conn_free(struct conn *c);

/*
 * Answers one frame: *type is SIGNER_OK or SIGNER_FAIL and *body the reply
 * body, valid until the next call.  Never fails: every error is a FAIL.
 */
void conn_handle(struct conn *c, const struct frame *f, uint8_t *type,
		 const struct buf **body);

/*
 * Handles every whole frame in p..p+len as if it had arrived on the
 * connection, appending the framed replies to out (which may be NULL).
 * Returns 0 when the input ended on a frame boundary, EST_E_TRUNCATED
 * when a partial frame is left, and EST_E_TOOBIG or EST_E_INVAL when a
 * length prefix is out of range (the connection would be closed).
 */
int conn_feed(struct conn *c, const uint8_t *p, size_t len, struct buf *out);

/* Serves requests on fd until the peer closes it or breaks the framing. */
void conn_serve(struct conn *c, int fd);

#endif
