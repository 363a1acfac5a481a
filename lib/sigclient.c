#include "config.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "frame.h"
#include "sigclient.h"
#include "util.h"

struct sigclient {
	int fd;
	struct buf *in;	   /* last reply frame */
	long long done_us; /* when the last reply was read, or 0 */
};

int
sigclient_connect(const char *path, struct sigclient **out)
{
	struct sockaddr_un sun;
	struct sigclient *c;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return EST_E_CONFIG;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return EST_E_SIGNER;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return EST_E_SIGNER;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->in = buf_new(FRAME_MAX + FRAME_HDR_LEN)) == NULL) {
		free(c);
		close(fd);
		return EST_E_NOMEM;
	}
	c->fd = fd;
	*out = c;
	return 0;
}

void
sigclient_free(struct sigclient *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	buf_free(c->in);
	free(c);
}

/*
 * How long to wait for a reply awake before sleeping in read(2).  On
 * virtual machines whose idle CPUs halt, waking a sleeping thread costs
 * tens of microseconds, as much as an EC signature on a software token;
 * yielding while waiting keeps the signer's threads running on small
 * machines.  That pays only for a client whose requests follow each other
 * (a batch job, bench_signer): roundtrip() waits awake only when the
 * previous reply on this connection came less than SIGCLIENT_STREAM_US
 * ago.  A client that sends one request now and then (an API thread signs
 * one certificate per HTTP request, milliseconds apart) would spend the
 * CPU time for nothing, and sleeps in read(2) at once.
 */
#define SIGCLIENT_SPIN_US 200
#define SIGCLIENT_STREAM_US 2000

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
await_reply(int fd, long long now)
{
	long long end = now + SIGCLIENT_SPIN_US;
	uint8_t b;

	while (recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
	       now_us() < end)
		sched_yield();
}

/*
 * Sends one request and waits for its reply.  On SIGNER_OK, *reply is a
 * read-only view of the reply body (valid until the next call); on
 * SIGNER_FAIL the signer's error code is returned.
 */
static int
roundtrip(struct sigclient *c, uint8_t type, const struct buf *req,
	  struct buf **reply)
{
	struct frame f;
	uint32_t code;
	struct buf *b;
	long long now;
	int r;

	if ((r = frame_write(c->fd, SIGNER_PROTO_VERSION, type, req)) != 0)
		return EST_E_SIGNER;
	now = now_us();
	if (c->done_us != 0 && now - c->done_us < SIGCLIENT_STREAM_US)
		await_reply(c->fd, now);
	if ((r = frame_read(c->fd, c->in, &f)) != 0)
		return EST_E_SIGNER;
	c->done_us = now_us();
	if (f.version != SIGNER_PROTO_VERSION)
		return EST_E_BADVERSION;
	if ((b = buf_from(f.body, f.bodylen)) == NULL)
		return EST_E_NOMEM;
	if (f.type == SIGNER_FAIL) {
		r = buf_get_u32(b, &code);
		buf_free(b);
		if (r != 0 || code == 0 || code >= EST_E_COUNT_IDX)
			return EST_E_SIGNER;
		return -(int)code;
	}
	if (f.type != SIGNER_OK) {
		buf_free(b);
		return EST_E_BADTYPE;
	}
	*reply = b;
	return 0;
}

/* A reply must be consumed exactly, like a request. */
static int
reply_done(struct buf *b, int r)
{
	if (r == 0 && buf_len(b) != 0)
		r = EST_E_TRAILING;
	buf_free(b);
	return r;
}

int
sigclient_ping(struct sigclient *c, uint32_t *version, char **token_label)
{
	struct buf *rep = NULL;
	uint32_t v;
	char *label = NULL;
	int r;

	if ((r = roundtrip(c, SIGNER_PING, NULL, &rep)) != 0)
		return r;
	if ((r = buf_get_u32(rep, &v)) != 0 ||
	    (r = buf_get_cstring(rep, &label)) != 0 ||
	    (r = reply_done(rep, 0)) != 0) {
		if (r != EST_E_TRAILING)
			buf_free(rep);
		free(label);
		return r;
	}
	*version = v;
	if (token_label != NULL)
		*token_label = label;
	else
		free(label);
	return 0;
}

static int
get_spki(struct buf *rep, uint8_t **spki, size_t *spkilen)
{
	return buf_get_string(rep, spki, spkilen);
}

int
sigclient_genkey(struct sigclient *c, const char *label, uint8_t keytype,
		 uint8_t usage, const uint8_t *subject, size_t subjectlen,
		 uint8_t id[SIGNER_KEYID_LEN], uint8_t **spki, size_t *spkilen)
{
	struct buf *req = NULL, *rep = NULL;
	const uint8_t *pid;
	size_t idlen;
	uint8_t *pk = NULL;
	size_t pklen = 0;
	int r;

	if ((req = buf_new(0)) == NULL)
		return EST_E_NOMEM;
	if ((r = buf_put_cstring(req, label)) != 0 ||
	    (r = buf_put_u8(req, keytype)) != 0 ||
	    (r = buf_put_u8(req, usage)) != 0 ||
	    (r = buf_put_string(req, subject, subjectlen)) != 0)
		goto out;
	if ((r = roundtrip(c, SIGNER_GENKEY, req, &rep)) != 0)
		goto out;
	if ((r = buf_peek_string(rep, &pid, &idlen)) != 0)
		goto out;
	if (idlen != SIGNER_KEYID_LEN) {
		r = EST_E_SIGNER;
		goto out;
	}
	memcpy(id, pid, SIGNER_KEYID_LEN);
	if ((r = get_spki(rep, &pk, &pklen)) != 0)
		goto out;
	r = reply_done(rep, 0);
	rep = NULL;
	if (r == 0) {
		*spki = pk;
		*spkilen = pklen;
		pk = NULL;
	}
out:
	free(pk);
	buf_free(rep);
	buf_free(req);
	return r;
}

int
sigclient_pubkey(struct sigclient *c, const uint8_t id[SIGNER_KEYID_LEN],
		 uint8_t **spki, size_t *spkilen)
{
	struct buf *req = NULL, *rep = NULL;
	uint8_t *pk = NULL;
	size_t pklen = 0;
	int r;

	if ((req = buf_new(0)) == NULL)
		return EST_E_NOMEM;
	if ((r = buf_put_string(req, id, SIGNER_KEYID_LEN)) != 0 ||
	    (r = roundtrip(c, SIGNER_PUBKEY, req, &rep)) != 0 ||
	    (r = get_spki(rep, &pk, &pklen)) != 0)
		goto out;
	r = reply_done(rep, 0);
	rep = NULL;
	if (r == 0) {
		*spki = pk;
		*spkilen = pklen;
		pk = NULL;
	}
out:
	free(pk);
	buf_free(rep);
	buf_free(req);
	return r;
}

int
sigclient_listkeys(struct sigclient *c, struct signer_keyinfo **keys,
		   size_t *nkeys)
{
	struct buf *rep = NULL;
	struct signer_keyinfo *k = NULL;
	const uint8_t *p;
	size_t len;
	uint32_t n, i;
	int r;

	if ((r = roundtrip(c, SIGNER_LISTKEYS, NULL, &rep)) != 0)
		return r;
	if ((r = buf_get_u32(rep, &n)) != 0)
		goto out;
	/* Each entry takes at least 4 + 16 + 4 + 2 bytes on the wire. */
	if ((size_t)n > buf_len(rep) / 26) {
		r = EST_E_TRUNCATED;
		goto out;
	}
	if ((k = calloc(n ? n : 1, sizeof(*k))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = buf_peek_string(rep, &p, &len)) != 0)
			goto out;
		if (len != SIGNER_KEYID_LEN) {
			r = EST_E_SIGNER;
			goto out;
		}
		memcpy(k[i].id, p, len);
		if ((r = buf_peek_string(rep, &p, &len)) != 0)
			goto out;
		if (len > SIGNER_LABEL_MAX) {
			r = EST_E_SIGNER;
			goto out;
		}
		memcpy(k[i].label, p, len);
		k[i].label[len] = '\0';
		if ((r = buf_get_u8(rep, &k[i].keytype)) != 0 ||
		    (r = buf_get_u8(rep, &k[i].usage)) != 0)
			goto out;
	}
	r = reply_done(rep, 0);
	rep = NULL;
	if (r == 0) {
		*keys = k;
		*nkeys = n;
		k = NULL;
	}
out:
	free(k);
	buf_free(rep);
	return r;
}

int
sigclient_sign(struct sigclient *c, const uint8_t id[SIGNER_KEYID_LEN],
	       uint8_t kind, uint8_t digest, const uint8_t *data,
	       size_t datalen, uint8_t **sig, size_t *siglen)
{
	struct buf *req = NULL, *rep = NULL;
	uint8_t *s = NULL;
	size_t slen = 0;
	int r;

	if ((req = buf_new(0)) == NULL)
		return EST_E_NOMEM;
	if ((r = buf_put_string(req, id, SIGNER_KEYID_LEN)) != 0 ||
	    (r = buf_put_u8(req, kind)) != 0 ||
	    (r = buf_put_u8(req, digest)) != 0 ||
	    (r = buf_put_string(req, data, datalen)) != 0 ||
	    (r = roundtrip(c, SIGNER_SIGN, req, &rep)) != 0 ||
	    (r = buf_get_string(rep, &s, &slen)) != 0)
		goto out;
	r = reply_done(rep, 0);
	rep = NULL;
	if (r == 0) {
		*sig = s;
		*siglen = slen;
		s = NULL;
	}
out:
	free(s);
	buf_free(rep);
	buf_free(req);
	return r;
}

int
sigclient_gen_wrapped(struct sigclient *c, uint8_t keytype, uint8_t **wrapped,
		      size_t *wrappedlen, uint8_t **spki, size_t *spkilen)
{
	struct buf *req = NULL, *rep = NULL;
	uint8_t *w = NULL, *pk = NULL;
	size_t wlen = 0, pklen = 0;
	int r;

	if ((req = buf_new(0)) == NULL)
		return EST_E_NOMEM;
	if ((r = buf_put_u8(req, keytype)) != 0 ||
	    (r = roundtrip(c, SIGNER_GEN_WRAPPED, req, &rep)) != 0 ||
	    (r = buf_get_string(rep, &w, &wlen)) != 0 ||
	    (r = get_spki(rep, &pk, &pklen)) != 0)
		goto out;
	r = reply_done(rep, 0);
	rep = NULL;
	if (r == 0) {
		*wrapped = w;
		*wrappedlen = wlen;
		*spki = pk;
		*spkilen = pklen;
		w = pk = NULL;
	}
out:
	free(w);
	free(pk);
	buf_free(rep);
	buf_free(req);
	return r;
}

int
sigclient_export_wrapped(struct sigclient *c, const uint8_t *wrapped,
			 size_t wrappedlen, uint8_t format,
			 const char *passphrase, const uint8_t *cert,
			 size_t certlen, const uint8_t *const *chain,
			 const size_t *chainlens, size_t nchain, uint8_t **out,
			 size_t *outlen)
{
	struct buf *req = NULL, *rep = NULL;
	uint8_t *o = NULL;
	size_t olen = 0, i;
	int r;

	if ((req = buf_new(0)) == NULL)
		return EST_E_NOMEM;
	if ((r = buf_put_string(req, wrapped, wrappedlen)) != 0 ||
	    (r = buf_put_u8(req, format)) != 0 ||
	    (r = buf_put_cstring(req, passphrase ? passphrase : "")) != 0 ||
	    (r = buf_put_string(req, cert, cert ? certlen : 0)) != 0 ||
	    (r = buf_put_u32(req, (uint32_t)nchain)) != 0)
		goto out;
	for (i = 0; i < nchain; i++)
		if ((r = buf_put_string(req, chain[i], chainlens[i])) != 0)
			goto out;
	if ((r = roundtrip(c, SIGNER_EXPORT_WRAPPED, req, &rep)) != 0 ||
	    (r = buf_get_string(rep, &o, &olen)) != 0)
		goto out;
	r = reply_done(rep, 0);
	rep = NULL;
	if (r == 0) {
		*out = o;
		*outlen = olen;
		o = NULL;
	}
out:
	freezero(o, olen);
	buf_free(rep);
	buf_free(req); /* wipes the passphrase */
	return r;
}

int
sigclient_destroy_key(struct sigclient *c, const uint8_t id[SIGNER_KEYID_LEN])
{
	struct buf *req = NULL, *rep = NULL;
	int r;

	if ((req = buf_new(0)) == NULL)
		return EST_E_NOMEM;
	if ((r = buf_put_string(req, id, SIGNER_KEYID_LEN)) != 0 ||
	    (r = roundtrip(c, SIGNER_DESTROYKEY, req, &rep)) != 0)
		goto out;
	/* The reply has an empty body. */
	r = reply_done(rep, 0);
out:
	buf_free(req);
	return r;
}

int
sigclient_alive(const struct sigclient *c)
{
	struct pollfd pfd;

	if (c == NULL || c->fd < 0)
		return 0;
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) < 0)
		return 0;
	return pfd.revents == 0;
}
