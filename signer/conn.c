/*
 * Requests of the signer protocol (signer/PROTOCOL section 5), dispatched
 * from one table.  Every handler reads all of its fields, checks that
 * nothing is left over, and only then acts: a malformed request changes
 * nothing in the token or the journal.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "err.h"
#include "journal.h"
#include "log.h"
#include "sigproto.h"
#include "sign.h"
#include "tbs.h"
#include "util.h"

/*
 * How long a connection's thread looks for the next request awake, and
 * the longest pause between a reply and the next request after which it
 * still does (see fill()): a streaming client on a busy machine is not
 * always back within the spin, an API thread comes milliseconds later.
 */
#define CONN_SPIN_US 200.0
#define CONN_STREAM_US 2000.0
/* Read buffer: its usual size, and the size above which it is freed. */
#define CONN_RBUF_MIN 16384
#define CONN_RBUF_KEEP 65536

struct conn {
	struct signer *s;
	uid_t uid;
	CK_SESSION_HANDLE sess;
	int have_sess;
	uint8_t *rbuf; /* bytes read from the socket */
	size_t rlen, rcap;
	struct buf *reply; /* the reply body being built */
};

typedef int handler_fn(struct conn *c, struct buf *req, struct buf *rep);

static handler_fn h_ping, h_genkey, h_pubkey, h_listkeys, h_sign, h_gen_wrapped,
	h_export_wrapped, h_destroykey;

/*
 * The one dispatch table.  minlen is the shortest body the request can
 * have (its fixed fields and the length words of its strings); anything
 * shorter is TRUNCATED before the handler runs.
 */
static const struct handler {
	uint8_t type;
	size_t minlen;
	handler_fn *fn;
} handlers[] = {
	{SIGNER_PING, 0, h_ping},
	/* label(4+1) keytype usage subject(4) */
	{SIGNER_GENKEY, 11, h_genkey},
	/* id(4+16) */
	{SIGNER_PUBKEY, 20, h_pubkey},
	{SIGNER_LISTKEYS, 0, h_listkeys},
	/* id(4+16) kind digest data(4) */
	{SIGNER_SIGN, 26, h_sign},
	/* keytype */
	{SIGNER_GEN_WRAPPED, 1, h_gen_wrapped},
	/* wrapped(4) format passphrase(4) cert(4) n(4) */
	{SIGNER_EXPORT_WRAPPED, 17, h_export_wrapped},
	/* id(4+16) */
	{SIGNER_DESTROYKEY, 20, h_destroykey},
};

int
conn_new(struct signer *s, uid_t uid, struct conn **out)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return EST_E_NOMEM;
	if ((c->reply = buf_new(FRAME_MAX - FRAME_MIN)) == NULL) {
		free(c);
		return EST_E_NOMEM;
	}
	c->s = s;
	c->uid = uid;
	*out = c;
	return 0;
}

static void
session_drop(struct conn *c)
{
	if (c->have_sess)
		p11_session_close(c->s->p11, c->sess);
	c->have_sess = 0;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	session_drop(c);
	freezero(c->rbuf, c->rcap);
	buf_free(c->reply);
	free(c);
}

static int
session(struct conn *c, CK_SESSION_HANDLE *s)
{
	int r;

	if (!c->have_sess) {
		if ((r = p11_session_open(c->s->p11, &c->sess)) != 0)
			return r;
		c->have_sess = 1;
	}
	*s = c->sess;
	return 0;
}

/* Every handler ends its parsing here, before it acts. */
static int
req_end(struct buf *req)
{
	return buf_len(req) == 0 ? 0 : EST_E_TRAILING;
}

static int
get_keyid(struct buf *req, const uint8_t **id)
{
	size_t len;
	int r;

	if ((r = buf_peek_string(req, id, &len)) != 0)
		return r;
	return len == SIGNER_KEYID_LEN ? 0 : EST_E_INVAL;
}

static int
h_ping(struct conn *c, struct buf *req, struct buf *rep)
{
	int r;

	if ((r = req_end(req)) != 0 ||
	    (r = buf_put_u32(rep, SIGNER_PROTO_VERSION)) != 0 ||
	    (r = buf_put_cstring(rep, c->s->p11->label)) != 0)
		return r;
	return 0;
}

static int
h_genkey(struct conn *c, struct buf *req, struct buf *rep)
{
	const uint8_t *label, *subject;
	size_t labellen, subjectlen;
	char name[SIGNER_LABEL_MAX + 1], idhex[2 * SIGNER_KEYID_LEN + 1];
	const struct key *k;
	uint8_t keytype, usage;
	CK_SESSION_HANDLE s;
	int r;

	if ((r = buf_peek_string(req, &label, &labellen)) != 0 ||
	    (r = buf_get_u8(req, &keytype)) != 0 ||
	    (r = buf_get_u8(req, &usage)) != 0 ||
	    (r = buf_peek_string(req, &subject, &subjectlen)) != 0 ||
	    (r = req_end(req)) != 0)
		return r;
	if (!keys_valid_label(label, labellen))
		return EST_E_INVAL;
	if (keytype < SIGNER_KEY_MIN || keytype > SIGNER_KEY_MAX)
		return EST_E_BADALG;
	if (subjectlen > SIGNER_SUBJECT_MAX)
		return EST_E_TOOBIG;
	if (usage == SIGNER_USAGE_CA || usage == SIGNER_USAGE_OCSP) {
		if ((r = tbs_check_subject(subject, subjectlen)) != 0)
			return r;
	} else if (usage != SIGNER_USAGE_OTHER || subjectlen != 0)
		return EST_E_INVAL;
	memcpy(name, label, labellen);
	name[labellen] = '\0';
	if ((r = session(c, &s)) != 0 ||
	    (r = keys_generate(c->s->keys, s, name, keytype, usage, subject,
			       subjectlen, &k)) != 0)
		return r;
	hex_encode(k->id, SIGNER_KEYID_LEN, idhex);
	log_info("uid %lu generated key %s (%s, %s) id %s",
		 (unsigned long)c->uid, k->label, keytype_name(k->keytype),
		 k->usage == SIGNER_USAGE_CA	 ? "CA"
		 : k->usage == SIGNER_USAGE_OCSP ? "OCSP"
						 : "other",
		 idhex);
	if ((r = buf_put_string(rep, k->id, SIGNER_KEYID_LEN)) != 0 ||
	    (r = buf_put_string(rep, k->spki, k->spkilen)) != 0)
		return r;
	return 0;
}

static int
h_pubkey(struct conn *c, struct buf *req, struct buf *rep)
{
	const struct key *k;
	const uint8_t *id;
	CK_SESSION_HANDLE s;
	int r;

	if ((r = get_keyid(req, &id)) != 0 || (r = req_end(req)) != 0 ||
	    (r = session(c, &s)) != 0)
		return r;
	keys_use_begin(c->s->keys);
	r = keys_get(c->s->keys, s, id, &k);
	keys_use_end(c->s->keys);
	if (r != 0)
		return r;
	return buf_put_string(rep, k->spki, k->spkilen);
}

static int
h_listkeys(struct conn *c, struct buf *req, struct buf *rep)
{
	const struct key **list = NULL;
	CK_SESSION_HANDLE s;
	size_t n = 0, i;
	int r;

	if ((r = req_end(req)) != 0 || (r = session(c, &s)) != 0)
		return r;
	keys_use_begin(c->s->keys);
	r = keys_scan(c->s->keys, s, &list, &n);
	keys_use_end(c->s->keys);
	if (r != 0)
		return r;
	if ((r = buf_put_u32(rep, (uint32_t)n)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = buf_put_string(rep, list[i]->id, SIGNER_KEYID_LEN)) !=
			    0 ||
		    (r = buf_put_cstring(rep, list[i]->label)) != 0 ||
		    (r = buf_put_u8(rep, list[i]->keytype)) != 0 ||
		    (r = buf_put_u8(rep, list[i]->usage)) != 0)
			goto out;
out:
	free(list);
	return r;
}

static int
h_sign(struct conn *c, struct buf *req, struct buf *rep)
{
	uint8_t sig[SIGN_MAX], dhash[32];
	char idhex[2 * SIGNER_KEYID_LEN + 1], hhex[65];
	const uint8_t *id, *data;
	const struct key *k = NULL;
	size_t datalen, siglen = 0;
	uint8_t kind, digest;
	CK_SESSION_HANDLE s;
	int r, attempt;

	if ((r = get_keyid(req, &id)) != 0 ||
	    (r = buf_get_u8(req, &kind)) != 0 ||
	    (r = buf_get_u8(req, &digest)) != 0 ||
	    (r = buf_peek_string(req, &data, &datalen)) != 0 ||
	    (r = req_end(req)) != 0)
		return r;
	/* Not journal_kind_name(): the journal has kinds that are not SIGN's. */
	if (kind < SIGNER_SIGN_TBSCERT || kind > SIGNER_SIGN_OCSP ||
	    digest > SIGNER_DIGEST_SHA512)
		return EST_E_INVAL;
	if ((r = session(c, &s)) != 0)
		return r;
	/*
	 * A handle the token no longer knows (the key was deleted and made
	 * again by another process) is looked up afresh, once.  The use
	 * lock covers the journal line too, so that a key's signatures are
	 * all journalled before its destruction is.
	 */
	keys_use_begin(c->s->keys);
	for (attempt = 0; attempt < 2; attempt++) {
		if ((r = keys_get(c->s->keys, s, id, &k)) != 0) {
			k = NULL;
			break;
		}
		r = sign_tbs(c->s->p11, s, k, kind, digest, data, datalen, sig,
			     &siglen, dhash);
		if (r != EST_E_NOTFOUND)
			break;
		keys_forget(c->s->keys, k);
	}
	if (r != 0) {
		keys_use_end(c->s->keys);
		if (k != NULL && (r == EST_E_POLICY || r == EST_E_BADALG ||
				  r == EST_E_BADASN1))
			log_info("uid %lu: %s refused for key %s: %s",
				 (unsigned long)c->uid, journal_kind_name(kind),
				 k->label, est_err_name(r));
		return r;
	}
	/* No journal line, no signature. */
	if (c->s->journal == NULL ||
	    (r = sjournal_append(c->s->journal, k->id, kind, dhash)) != 0) {
		keys_use_end(c->s->keys);
		explicit_bzero(sig, sizeof(sig));
		return EST_E_IO;
	}
	keys_use_end(c->s->keys);
	/* Only the digest of what was signed is ever logged. */
	hex_encode(k->id, SIGNER_KEYID_LEN, idhex);
	hex_encode(dhash, sizeof(dhash), hhex);
	log_debug("uid %lu signed %s sha256 %s with key %s",
		  (unsigned long)c->uid, journal_kind_name(kind), hhex, idhex);
	return buf_put_string(rep, sig, siglen);
}

static int
h_gen_wrapped(struct conn *c, struct buf *req, struct buf *rep)
{
	uint8_t *wrapped = NULL, *spki = NULL, keytype;
	size_t wlen = 0, spkilen = 0;
	CK_SESSION_HANDLE s;
	int r;

	if ((r = buf_get_u8(req, &keytype)) != 0 || (r = req_end(req)) != 0)
		return r;
	if (keytype < SIGNER_KEY_MIN || keytype > SIGNER_KEY_MAX)
		return EST_E_BADALG;
	if ((r = session(c, &s)) != 0 ||
	    (r = wrap_generate(c->s->wrap, s, keytype, &wrapped, &wlen, &spki,
			       &spkilen)) != 0)
		return r;
	log_debug("uid %lu generated a wrapped %s device key",
		  (unsigned long)c->uid, keytype_name(keytype));
	if ((r = buf_put_string(rep, wrapped, wlen)) == 0)
		r = buf_put_string(rep, spki, spkilen);
	free(wrapped);
	free(spki);
	return r;
}

static int
h_export_wrapped(struct conn *c, struct buf *req, struct buf *rep)
{
	struct wrap_der cert, chain[WRAP_CHAIN_MAX];
	const uint8_t *wrapped, *pass;
	size_t wlen, passlen, outlen = 0, i;
	char *passz = NULL;
	uint8_t *out = NULL, format;
	CK_SESSION_HANDLE s;
	uint32_t n;
	int r;

	if ((r = buf_peek_string(req, &wrapped, &wlen)) != 0 ||
	    (r = buf_get_u8(req, &format)) != 0 ||
	    (r = buf_peek_string(req, &pass, &passlen)) != 0 ||
	    (r = buf_peek_string(req, &cert.p, &cert.len)) != 0 ||
	    (r = buf_get_u32(req, &n)) != 0)
		return r;
	/* Each chain entry has at least its length word. */
	if (n > WRAP_CHAIN_MAX)
		return n > buf_len(req) / 4 ? EST_E_TRUNCATED : EST_E_INVAL;
	for (i = 0; i < n; i++)
		if ((r = buf_peek_string(req, &chain[i].p, &chain[i].len)) != 0)
			return r;
	if ((r = req_end(req)) != 0)
		return r;
	if (passlen > SIGNER_PASSPHRASE_MAX ||
	    (passlen > 0 && memchr(pass, '\0', passlen) != NULL))
		return EST_E_INVAL;
	if ((passz = malloc(passlen + 1)) == NULL)
		return EST_E_NOMEM;
	memcpy(passz, pass, passlen);
	passz[passlen] = '\0';
	if ((r = session(c, &s)) != 0 ||
	    (r = wrap_export(c->s->wrap, s, wrapped, wlen, format, passz,
			     passlen, &cert, chain, n, &out, &outlen)) != 0)
		goto out;
	log_info("uid %lu exported a device key as %s", (unsigned long)c->uid,
		 format == SIGNER_EXPORT_PKCS8 ? "PKCS#8" : "PKCS#12");
	r = buf_put_string(rep, out, outlen);
out:
	freezero(out, outlen);
	freezero(passz, passlen + 1);
	return r;
}

static int
h_destroykey(struct conn *c, struct buf *req, struct buf *rep)
{
	char idhex[2 * SIGNER_KEYID_LEN + 1];
	const struct key *k = NULL;
	const uint8_t *id;
	CK_SESSION_HANDLE s;
	int r;

	(void)rep;
	if ((r = get_keyid(req, &id)) != 0 || (r = req_end(req)) != 0 ||
	    (r = session(c, &s)) != 0)
		return r;
	hex_encode(id, SIGNER_KEYID_LEN, idhex);
	if ((r = keys_destroy(c->s->keys, s, id, c->s->journal, &k)) != 0) {
		if (r != EST_E_NOTFOUND)
			log_err("uid %lu: key %s not destroyed: %s",
				(unsigned long)c->uid, idhex, est_err_name(r));
		return r;
	}
	log_info("uid %lu destroyed key %s id %s", (unsigned long)c->uid,
		 k->label, idhex);
	return 0;
}

void
conn_handle(struct conn *c, const struct frame *f, uint8_t *type,
	    const struct buf **body)
{
	const struct handler *h = NULL;
	struct buf *req = NULL;
	size_t i;
	int r;

	buf_reset(c->reply);
	if (f->version != SIGNER_PROTO_VERSION) {
		r = EST_E_BADVERSION;
		goto out;
	}
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].type == f->type)
			h = &handlers[i];
	if (h == NULL) {
		r = EST_E_BADTYPE;
		goto out;
	}
	if (f->bodylen < h->minlen) {
		r = EST_E_TRUNCATED;
		goto out;
	}
	if ((req = buf_from(f->body, f->bodylen)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	r = h->fn(c, req, c->reply);
	/* Belt and braces: a handler that left bytes unread is a bug. */
	if (r == 0 && buf_len(req) != 0)
		r = EST_E_TRAILING;
	/*
	 * After an HSM error the session may be dead (token removed, HSM
	 * restarted): the next request opens a new one.
	 */
	if (r == EST_E_HSM || r == EST_E_NOTOKEN)
		session_drop(c);
out:
	buf_free(req);
	if (r == 0) {
		*type = SIGNER_OK;
	} else {
		buf_reset(c->reply);
		if (buf_put_u32(c->reply, (uint32_t)-r) != 0)
			buf_reset(c->reply);
		*type = SIGNER_FAIL;
	}
	*body = c->reply;
}

static int
put_frame(struct buf *out, uint8_t type, const struct buf *body)
{
	int r;

	if ((r = buf_put_u32(out, (uint32_t)(buf_len(body) + FRAME_MIN))) !=
		    0 ||
	    (r = buf_put_u8(out, SIGNER_PROTO_VERSION)) != 0 ||
	    (r = buf_put_u8(out, type)) != 0 ||
	    (r = buf_put(out, buf_ptr(body), buf_len(body))) != 0)
		return r;
	return 0;
}

int
conn_feed(struct conn *c, const uint8_t *p, size_t len, struct buf *out)
{
	const struct buf *body;
	struct frame f;
	size_t used;
	uint8_t type;
	int r;

	while (len > 0) {
		if ((r = frame_parse(p, len, &f, &used)) != 0)
			return r;
		conn_handle(c, &f, &type, &body);
		if (out != NULL && (r = put_frame(out, type, body)) != 0)
			return r;
		p += used;
		len -= used;
	}
	return 0;
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Makes the read buffer hold at least need bytes in all. */
static int
rbuf_room(struct conn *c, size_t need)
{
	uint8_t *n;

	if (need <= c->rcap)
		return 0;
	if ((n = malloc(need)) == NULL)
		return EST_E_NOMEM;
	if (c->rlen > 0)
		memcpy(n, c->rbuf, c->rlen);
	freezero(c->rbuf, c->rcap);
	c->rbuf = n;
	c->rcap = need;
	return 0;
}

/*
 * Reads what the peer has sent into the free end of the read buffer.
 * With spin set, first polls the socket awake for up to CONN_SPIN_US: a
 * client that sends requests back to back then finds this thread
 * running.  On virtual machines whose idle CPUs halt, waking a sleeping
 * thread on another CPU costs tens of microseconds, as much as half of an
 * EC signature on a software token.  conn_serve() sets spin only while the
 * connection's requests have been coming within CONN_STREAM_US of the
 * reply before them: for a client that signs now and then (an API thread,
 * one signature per HTTP request) the wait would only burn CPU time.
 */
static int
fill(struct conn *c, int fd, int spin)
{
	double end = spin ? now_us() + CONN_SPIN_US : 0;
	ssize_t n;

	for (;;) {
		n = recv(fd, c->rbuf + c->rlen, c->rcap - c->rlen,
			 spin ? MSG_DONTWAIT : 0);
		if (n > 0) {
			c->rlen += (size_t)n;
			return 0;
		}
		if (n == 0)
			return EST_E_EOF;
		if (errno == EINTR)
			continue;
		if (!spin || (errno != EAGAIN && errno != EWOULDBLOCK))
			return EST_E_IO;
		if (now_us() >= end)
			spin = 0;
		else
			sched_yield();
	}
}

void
conn_serve(struct conn *c, int fd)
{
	const struct buf *body;
	struct frame f;
	size_t used, need;
	uint8_t type;
	double replied = 0;
	int r, served = 0, streaming = 1;

	for (;;) {
		r = frame_parse(c->rbuf, c->rlen, &f, &used);
		if (r == EST_E_TRUNCATED) {
			/* Once the length is known (and in range), room for
			 * the whole frame; reads never go past it by much. */
			need = c->rlen >= FRAME_HDR_LEN
				       ? FRAME_HDR_LEN +
						 (size_t)get_be32(c->rbuf)
				       : 0;
			if (need < CONN_RBUF_MIN)
				need = CONN_RBUF_MIN;
			if ((r = rbuf_room(c, need)) != 0 ||
			    (r = fill(c, fd, served && streaming)) != 0) {
				if (r == EST_E_EOF && c->rlen > 0)
					r = EST_E_TRUNCATED;
				if (r != EST_E_EOF)
					log_debug(
						"uid %lu: closing connection: "
						"%s",
						(unsigned long)c->uid,
						est_err_name(r));
				break;
			}
			continue;
		}
		if (r != 0) {
			/* A bad length prefix cannot be resynchronised. */
			log_debug("uid %lu: closing connection: %s",
				  (unsigned long)c->uid, est_err_name(r));
			break;
		}
		if (served)
			streaming = now_us() - replied < CONN_STREAM_US;
		conn_handle(c, &f, &type, &body);
		r = frame_write(fd, SIGNER_PROTO_VERSION, type, body);
		replied = now_us();
		/* Request and reply may have held a passphrase or a key. */
		buf_reset(c->reply);
		explicit_bzero(c->rbuf, used);
		if (c->rlen > used)
			memmove(c->rbuf, c->rbuf + used, c->rlen - used);
		c->rlen -= used;
		if (c->rlen == 0 && c->rcap > CONN_RBUF_KEEP) {
			freezero(c->rbuf, c->rcap);
			c->rbuf = NULL;
			c->rcap = 0;
		}
		if (r != 0)
			break;
		served = 1;
	}
}
