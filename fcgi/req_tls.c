/*
 * The client certificate and its verification status, as the web server
 * exports them.  The web server has proved that the client holds the key
 * of the certificate; whether the certificate is trusted is decided later
 * by the application (DESIGN.md), so a certificate is accepted here with any
 * verification status.
 *
 * lighttpd (ssl.verifyclient.exportcert) and Apache (+ExportCertData) pass
 * SSL_CLIENT_CERT as PEM; nginx passes $ssl_client_escaped_cert, which is
 * the PEM URL-encoded.  PEM never contains '%', so a '%' means the encoded
 * form.
 *
 * Each thread keeps the certificates it parsed last (CERT_CACHE_SLOTS),
 * keyed by the SHA-256 of the PEM text: a client on a kept connection
 * presents its certificate with every request, and OpenSSL 3.0 takes
 * about 85 us to parse one, most of it decoding the public key through
 * its providers' decoders.  The key covers every byte that was parsed,
 * so a hit is the certificate that parsing the text would give, with the
 * fingerprint computed when it was parsed; the cache holds a reference of
 * its own, and a text that did not parse is never kept.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "err.h"
#include "reqparse.h"

#define PEM_CERT_BEGIN "-----BEGIN CERTIFICATE-----"
#define CERT_CACHE_SLOTS 8

struct cert_slot {
	uint8_t key[32];
	X509 *x; /* NULL: empty */
	uint8_t fp[32];
	uint64_t used;
};

struct cert_cache {
	struct cert_slot slot[CERT_CACHE_SLOTS];
	uint64_t clock;
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_ready;

static void
cache_free(void *p)
{
	struct cert_cache *c = p;
	size_t i;

	for (i = 0; i < CERT_CACHE_SLOTS; i++)
		X509_free(c->slot[i].x);
	free(c);
}

static void
cache_init(void)
{
	cache_ready = pthread_key_create(&cache_key, cache_free) == 0;
}

/* The calling thread's cache; NULL when it cannot have one. */
static struct cert_cache *
cache_get(void)
{
	struct cert_cache *c;

	if (pthread_once(&cache_once, cache_init) != 0 || !cache_ready)
		return NULL;
	if ((c = pthread_getspecific(cache_key)) != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (pthread_setspecific(cache_key, c) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

/* The slot of key, else the one to fill (empty or least recently used). */
static struct cert_slot *
cache_slot(struct cert_cache *c, const uint8_t key[32], int *hit)
{
	struct cert_slot *victim = &c->slot[0];
	size_t i;

	for (i = 0; i < CERT_CACHE_SLOTS; i++) {
		if (c->slot[i].x != NULL &&
		    memcmp(c->slot[i].key, key, 32) == 0) {
			*hit = 1;
			return &c->slot[i];
		}
		if (victim->x != NULL &&
		    (c->slot[i].x == NULL || c->slot[i].used < victim->used))
			victim = &c->slot[i];
	}
	*hit = 0;
	return victim;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
reqp_client_cert(const char *v, X509 **out, uint8_t fp[32])
{
	char *pem = NULL, *rest;
	const char *start;
	size_t len = strlen(v), pemlen, i;
	struct cert_cache *cc = NULL;
	struct cert_slot *s = NULL;
	uint8_t key[32];
	unsigned int fplen = 0;
	BIO *bio = NULL;
	X509 *x = NULL;
	int r, hit = 0;

	if (len > REQ_CERT_MAX)
		return EST_E_TOOBIG;
	if (strchr(v, '%') != NULL) {
		if ((r = reqp_unescape(v, len, 0, &pem, &pemlen)) != 0)
			return r;
	} else if ((pem = strndup(v, len)) == NULL) {
		return EST_E_NOMEM;
	} else {
		pemlen = len;
	}
	/* PEM is ASCII text: refuse anything else before OpenSSL sees it. */
	for (i = 0; i < pemlen; i++) {
		unsigned char c = (unsigned char)pem[i];

		if (!is_space((char)c) && (c < 0x20 || c > 0x7e)) {
			r = EST_E_INVAL;
			goto out;
		}
	}
	for (start = pem; is_space(*start); start++)
		;
	if (strncmp(start, PEM_CERT_BEGIN, strlen(PEM_CERT_BEGIN)) != 0) {
		r = EST_E_INVAL;
		goto out;
	}
	len = pemlen - (size_t)(start - pem);
	if ((cc = cache_get()) != NULL &&
	    EVP_Digest(start, len, key, NULL, EVP_sha256(), NULL) == 1) {
		s = cache_slot(cc, key, &hit);
		if (hit && X509_up_ref(s->x) == 1) {
			s->used = ++cc->clock;
			memcpy(fp, s->fp, 32);
			*out = s->x;
			r = 0;
			goto out;
		}
	}
	if ((bio = BIO_new_mem_buf(start, (int)len)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		r = EST_E_BADASN1;
		goto out;
	}
	/* Exactly one certificate: only white space may follow it. */
	if ((i = (size_t)BIO_get_mem_data(bio, &rest)) > 0) {
		while (i > 0 && is_space(*rest)) {
			rest++;
			i--;
		}
		if (i != 0) {
			r = EST_E_TRAILING;
			goto out;
		}
	}
	if (X509_digest(x, EVP_sha256(), fp, &fplen) != 1 || fplen != 32) {
		r = EST_E_CRYPTO;
		goto out;
	}
	if (s != NULL && X509_up_ref(x) == 1) {
		X509_free(s->x);
		memcpy(s->key, key, sizeof(key));
		memcpy(s->fp, fp, 32);
		s->x = x;
		s->used = ++cc->clock;
	}
	*out = x;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	BIO_free(bio);
	free(pem);
	return r;
}

int
reqp_verify(const char *v, enum req_verify *verify, char **reason)
{
	static const struct {
		const char *name;
		enum req_verify value;
	} forms[] = {
		{"SUCCESS", REQ_VERIFY_SUCCESS},
		{"NONE", REQ_VERIFY_NONE},
		{"GENEROUS", REQ_VERIFY_GENEROUS},
		{"FAILED", REQ_VERIFY_FAILED},
	};
	const char *why;
	char *copy = NULL;
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (strcmp(v, forms[i].name) == 0) {
			*verify = forms[i].value;
			*reason = NULL;
			return 0;
		}
	}
	if (strncmp(v, "FAILED:", 7) != 0)
		return EST_E_INVAL;
	why = v + 7;
	if (strlen(why) > REQ_REASON_MAX)
		return EST_E_INVAL;
	/* It may reach a log line: printable ASCII only. */
	for (i = 0; why[i] != '\0'; i++)
		if ((unsigned char)why[i] < 0x20 ||
		    (unsigned char)why[i] > 0x7e)
			return EST_E_INVAL;
	if (why[0] != '\0' && (copy = strdup(why)) == NULL)
		return EST_E_NOMEM;
	*verify = REQ_VERIFY_FAILED;
	*reason = copy;
	return 0;
}
