/*
 * DESTROYKEY against the running signer (signer/PROTOCOL section 5): a
 * destroyed key signs nothing more and is unknown to every request, a
 * malformed id is refused, signatures racing with the destruction either
 * finish or get NOTFOUND, the wrapping key survives the destruction of
 * every key pair, and each destruction has its line in the journal.  It
 * runs after the other signer tests, since it destroys their keys.
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"
#include "harness.h"
#include "journal.h"
#include "p11.h"
#include "profile.h"
#include "test_signer.h"
#include "util.h"

/* Destructions that succeeded: the journal must have as many lines. */
static unsigned ndestroyed;
/* Their ids, to find their journal lines. */
static uint8_t destroyed_ids[64][16];

static void
note_destroyed(const uint8_t id[16])
{
	if (ndestroyed < sizeof(destroyed_ids) / sizeof(destroyed_ids[0]))
		memcpy(destroyed_ids[ndestroyed], id, 16);
	ndestroyed++;
}

static int
destroy(const uint8_t id[16])
{
	struct sigclient *c = client();
	int r = sigclient_destroy_key(c, id);

	if (r == 0)
		note_destroyed(id);
	sigclient_free(c);
	return r;
}

/* Whether LISTKEYS has id. */
static int
listed(const uint8_t id[16])
{
	struct sigclient *c = client();
	struct signer_keyinfo *k = NULL;
	size_t n = 0, i;
	int found = 0;

	CU_ASSERT_FATAL(sigclient_listkeys(c, &k, &n) == 0);
	for (i = 0; i < n; i++)
		if (memcmp(k[i].id, id, 16) == 0)
			found = 1;
	free(k);
	sigclient_free(c);
	return found;
}

/* A CA key for name and the body of a certificate it may sign. */
static void
ca_key(const char *label, X509_NAME *name, uint8_t id[16], uint8_t **tbs,
       int *tbslen)
{
	struct sigclient *c = client();
	uint8_t *sub = NULL, *spki = NULL;
	size_t spkilen = 0;
	int sublen = name_der(name, &sub);
	EVP_PKEY *key;
	X509 *x;

	CU_ASSERT_FATAL(sigclient_genkey(c, label, SIGNER_KEY_EC_P256,
					 SIGNER_USAGE_CA, sub, (size_t)sublen,
					 id, &spki, &spkilen) == 0);
	key = spki_key(spki, spkilen);
	CU_ASSERT_FATAL(key != NULL);
	x = make_tbs(name, name, key, 1, NID_ecdsa_with_SHA256, 7);
	*tbs = NULL;
	*tbslen = i2d_re_X509_tbs(x, tbs);
	CU_ASSERT_FATAL(*tbslen > 0);
	X509_free(x);
	EVP_PKEY_free(key);
	OPENSSL_free(sub);
	free(spki);
	sigclient_free(c);
}

void
test_destroy_one(void)
{
	X509_NAME *name = make_name("Destroy Me");
	uint8_t id[16], *tbs = NULL, *spki = NULL;
	size_t spkilen = 0;
	int tbslen = 0;
	struct sigclient *c;

	ca_key("destroy-me", name, id, &tbs, &tbslen);
	CU_ASSERT(sign_raw(id, SIGNER_SIGN_TBSCERT, 0, tbs, (size_t)tbslen) ==
		  0);
	CU_ASSERT(listed(id));
	CU_ASSERT(destroy(id) == 0);
	/* Gone for every request, on a new connection and an old one. */
	CU_ASSERT(sign_raw(id, SIGNER_SIGN_TBSCERT, 0, tbs, (size_t)tbslen) ==
		  EST_E_NOTFOUND);
	c = client();
	CU_ASSERT(sigclient_pubkey(c, id, &spki, &spkilen) == EST_E_NOTFOUND);
	CU_ASSERT(spki == NULL);
	CU_ASSERT(sigclient_destroy_key(c, id) == EST_E_NOTFOUND);
	sigclient_free(c);
	CU_ASSERT(!listed(id));
	/* The other keys are untouched. */
	CU_ASSERT(listed(root_id) && listed(csr_id));
	X509_NAME_free(name);
	OPENSSL_free(tbs);
}

void
test_destroy_refusals(void)
{
	uint8_t body[64], unknown[16];
	uint32_t code = 0;
	int fd = raw_connect();

	CU_ASSERT_FATAL(fd >= 0);
	memset(body, 0, sizeof(body));
	/* A 15-octet id: the body is shorter than any DESTROYKEY. */
	put_be32(body, 15);
	memcpy(body + 4, root_id, 15);
	CU_ASSERT(raw_send(fd, 2 + 19, 1, SIGNER_DESTROYKEY, body, 19) == 0);
	CU_ASSERT(raw_reply(fd, &code) == SIGNER_FAIL);
	CU_ASSERT(code == (uint32_t)-EST_E_TRUNCATED);
	/* The same id with a byte after it: long enough, but not an id. */
	CU_ASSERT(raw_send(fd, 2 + 20, 1, SIGNER_DESTROYKEY, body, 20) == 0);
	CU_ASSERT(raw_reply(fd, &code) == SIGNER_FAIL);
	CU_ASSERT(code == (uint32_t)-EST_E_INVAL);
	/* A whole id and a byte more. */
	put_be32(body, 16);
	memcpy(body + 4, root_id, 16);
	CU_ASSERT(raw_send(fd, 2 + 21, 1, SIGNER_DESTROYKEY, body, 21) == 0);
	CU_ASSERT(raw_reply(fd, &code) == SIGNER_FAIL);
	CU_ASSERT(code == (uint32_t)-EST_E_TRAILING);
	close(fd);
	/* None of these touched the key. */
	CU_ASSERT(listed(root_id));
	/* An id the token does not have. */
	memset(unknown, 0x5a, sizeof(unknown));
	CU_ASSERT(destroy(unknown) == EST_E_NOTFOUND);
}

/* --- only the key pair's objects --------------------------------------- */

/* The token, opened in this process as a second application. */
static struct p11 *
open_token(CK_SESSION_HANDLE *s)
{
	struct profile *prof = NULL;
	struct p11 *p11 = NULL;
	char path[300], err[256], *pin = NULL;
	size_t pinlen = 0;

	snprintf(path, sizeof(path), "%s/hsm-profiles/softhsm2.conf", SRCDIR);
	if (profile_load(path, &prof, err, sizeof(err)) != 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/pin", dir);
	if (profile_override(prof, "estuary-test", path) != 0 ||
	    profile_read_pin(prof, &pin, &pinlen) != 0 ||
	    p11_open(prof->module, &p11) != 0 ||
	    p11_find_token(p11, "estuary-test", 0, 3) != 0 ||
	    p11_login(p11, pin, pinlen) != 0 || p11_session_open(p11, s) != 0) {
		p11_close(p11);
		p11 = NULL;
	}
	freezero(pin, pinlen);
	profile_free(prof);
	return p11;
}

/* How many objects of class cls carry id. */
static size_t
count_objects(struct p11 *p11, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
	      const uint8_t id[16])
{
	CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &cls, sizeof(cls)},
				{CKA_ID, (void *)(uintptr_t)id, 16}};
	CK_OBJECT_HANDLE *objs = NULL;
	size_t n = 0;

	if (p11_find_all(p11, s, tmpl, 2, &objs, &n) != 0)
		return (size_t)-1;
	free(objs);
	return n;
}

/*
 * A secret key that shares a key pair's CKA_ID (as a wrapping key could)
 * outlives the pair's destruction.
 */
void
test_destroy_only_key_pairs(void)
{
	CK_OBJECT_CLASS sec = CKO_SECRET_KEY;
	CK_KEY_TYPE aes = CKK_AES;
	CK_BBOOL yes = CK_TRUE;
	CK_SESSION_HANDLE s = 0;
	CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
	struct sigclient *c = client();
	struct p11 *p11;
	uint8_t id[16], value[32], *spki = NULL;
	size_t spkilen = 0;
	CK_ATTRIBUTE tmpl[6] = {
		{CKA_CLASS, &sec, sizeof(sec)},
		{CKA_KEY_TYPE, &aes, sizeof(aes)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_VALUE, value, sizeof(value)},
		{CKA_ID, id, sizeof(id)},
		{CKA_LABEL, (void *)(uintptr_t) "same-id-secret", 14},
	};

	CU_ASSERT_FATAL(sigclient_genkey(c, "destroy-shared-id",
					 SIGNER_KEY_EC_P256, SIGNER_USAGE_OTHER,
					 NULL, 0, id, &spki, &spkilen) == 0);
	free(spki);
	p11 = open_token(&s);
	CU_ASSERT_FATAL(p11 != NULL);
	memset(value, 0x11, sizeof(value));
	CU_ASSERT_FATAL(p11->f->C_CreateObject(s, tmpl, 6, &obj) == CKR_OK);
	CU_ASSERT(count_objects(p11, s, CKO_PRIVATE_KEY, id) == 1);
	CU_ASSERT(count_objects(p11, s, CKO_PUBLIC_KEY, id) == 1);
	CU_ASSERT(destroy(id) == 0);
	CU_ASSERT(count_objects(p11, s, CKO_PRIVATE_KEY, id) == 0);
	CU_ASSERT(count_objects(p11, s, CKO_PUBLIC_KEY, id) == 0);
	CU_ASSERT(count_objects(p11, s, CKO_SECRET_KEY, id) == 1);
	p11->f->C_DestroyObject(s, obj);
	p11_session_close(p11, s);
	p11_close(p11);
	sigclient_free(c);
}

/* --- signatures racing with the destruction ---------------------------- */

struct racer {
	const uint8_t *id, *tbs;
	size_t tbslen;
	atomic_uint *ok;
	int last;  /* the error that ended the loop */
	int after; /* signatures started after destroy() returned */
};

static atomic_int destroyed_flag;

static void *
racing_signer(void *arg)
{
	struct racer *rc = arg;
	struct sigclient *c = NULL;
	uint8_t *sig;
	size_t siglen;
	int r, late;

	if (sigclient_connect(sockpath, &c) != 0) {
		rc->last = EST_E_SIGNER;
		return NULL;
	}
	for (;;) {
		late = atomic_load(&destroyed_flag);
		sig = NULL;
		r = sigclient_sign(c, rc->id, SIGNER_SIGN_TBSCERT, 0, rc->tbs,
				   rc->tbslen, &sig, &siglen);
		free(sig);
		if (r != 0) {
			rc->last = r;
			break;
		}
		atomic_fetch_add(&nsigned, 1);
		atomic_fetch_add(rc->ok, 1);
		/* A signature begun after the destruction must fail. */
		if (late)
			rc->after++;
	}
	sigclient_free(c);
	return NULL;
}

void
test_destroy_while_signing(void)
{
	X509_NAME *name = make_name("Destroy Racing");
	struct racer rc[3];
	pthread_t t[3];
	atomic_uint ok;
	uint8_t id[16], *tbs = NULL;
	int tbslen = 0, i, spins;

	ca_key("destroy-racing", name, id, &tbs, &tbslen);
	atomic_store(&ok, 0);
	atomic_store(&destroyed_flag, 0);
	for (i = 0; i < 3; i++) {
		rc[i] = (struct racer){id, tbs, (size_t)tbslen, &ok, 0, 0};
		pthread_create(&t[i], NULL, racing_signer, &rc[i]);
	}
	/* Destroy once the signers are under way (bounded wait). */
	for (spins = 0; atomic_load(&ok) < 30 && spins < 10000000; spins++)
		sched_yield();
	CU_ASSERT(atomic_load(&ok) >= 30);
	CU_ASSERT(destroy(id) == 0);
	atomic_store(&destroyed_flag, 1);
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		/* Each loop ended on NOTFOUND and on nothing else. */
		CU_ASSERT(rc[i].last == EST_E_NOTFOUND);
		CU_ASSERT(rc[i].after == 0);
	}
	CU_ASSERT(!listed(id));
	X509_NAME_free(name);
	OPENSSL_free(tbs);
}

/* --- the wrapping key is not a key pair -------------------------------- */

/* Exports wrapped as PKCS#8; 0 when its public key is spki. */
static int
export_matches(struct sigclient *c, const uint8_t *w, size_t wlen,
	       const uint8_t *spki, size_t spkilen)
{
	const unsigned char *p;
	PKCS8_PRIV_KEY_INFO *p8;
	EVP_PKEY *pk = NULL;
	uint8_t *out = NULL, *pub = NULL;
	size_t outlen = 0;
	int publen, r = -1;

	if (sigclient_export_wrapped(c, w, wlen, SIGNER_EXPORT_PKCS8, NULL,
				     NULL, 0, NULL, NULL, 0, &out,
				     &outlen) != 0)
		return -1;
	p = out;
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)outlen)) != NULL &&
	    (pk = EVP_PKCS82PKEY(p8)) != NULL &&
	    (publen = i2d_PUBKEY(pk, &pub)) > 0 && (size_t)publen == spkilen &&
	    memcmp(pub, spki, spkilen) == 0)
		r = 0;
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(pk);
	OPENSSL_free(pub);
	freezero(out, outlen);
	return r;
}

void
test_destroy_all_keeps_wrapping_key(void)
{
	struct sigclient *c = client();
	struct signer_keyinfo *k = NULL;
	uint8_t *w = NULL, *spki = NULL, *w2 = NULL, *spki2 = NULL;
	size_t wlen = 0, spkilen = 0, w2len = 0, spki2len = 0, n = 0, i;

	/* A device key wrapped before: it needs the same wrapping key. */
	CU_ASSERT_FATAL(sigclient_gen_wrapped(c, SIGNER_KEY_EC_P256, &w, &wlen,
					      &spki, &spkilen) == 0);
	CU_ASSERT_FATAL(sigclient_listkeys(c, &k, &n) == 0);
	CU_ASSERT(n >= 5);
	for (i = 0; i < n; i++)
		CU_ASSERT(destroy(k[i].id) == 0);
	free(k);
	k = NULL;
	CU_ASSERT(sigclient_listkeys(c, &k, &n) == 0);
	CU_ASSERT(n == 0);
	free(k);
	CU_ASSERT(export_matches(c, w, wlen, spki, spkilen) == 0);
	CU_ASSERT(sigclient_gen_wrapped(c, SIGNER_KEY_EC_P256, &w2, &w2len,
					&spki2, &spki2len) == 0);
	CU_ASSERT(w2 != NULL &&
		  export_matches(c, w2, w2len, spki2, spki2len) == 0);
	free(w);
	free(spki);
	free(w2);
	free(spki2);
	sigclient_free(c);
}

/* --- the journal --------------------------------------------------------- */

void
test_destroy_journal(void)
{
	char path[300], line[JOURNAL_LINE_MAX + 1];
	struct journal_entry e;
	uint8_t want[32], dead[64][16];
	uint64_t nlines = 0, bad = 0;
	unsigned ndestroy = 0, matched = 0, ndead = 0, i;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/journal", dir);
	CU_ASSERT(journal_verify(path, &nlines, &bad) == 0);
	CU_ASSERT(nlines == atomic_load(&nsigned) + ndestroyed);
	fp = fopen(path, "r");
	CU_ASSERT_FATAL(fp != NULL);
	while (fgets(line, sizeof(line), fp) != NULL) {
		CU_ASSERT_FATAL(journal_parse_line(line, strlen(line), &e) ==
				0);
		/* Nothing follows a key's destruction, not even a
		 * signature that was under way. */
		for (i = 0; i < ndead; i++)
			CU_ASSERT(memcmp(dead[i], e.keyid, 16) != 0);
		if (strcmp(e.kind, "destroy") != 0)
			continue;
		if (ndead < 64)
			memcpy(dead[ndead++], e.keyid, 16);
		/* The hashed field is the SHA-256 of the key id. */
		CU_ASSERT(EVP_Digest(e.keyid, 16, want, NULL, EVP_sha256(),
				     NULL) == 1);
		CU_ASSERT(memcmp(want, e.data_hash, 32) == 0);
		for (i = 0; i < ndestroyed && i < 64; i++)
			if (memcmp(destroyed_ids[i], e.keyid, 16) == 0) {
				matched++;
				break;
			}
		ndestroy++;
	}
	fclose(fp);
	CU_ASSERT(ndestroy == ndestroyed);
	CU_ASSERT(ndestroyed <= 64 && matched == ndestroyed);
}
