/*
 * Key pairs in the token and their cache (keys.h).  Reads take a shared
 * lock; only a cache miss, a scan, a new key or a destruction takes it
 * exclusively, so signatures on different connections never wait for each
 * other here.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "err.h"
#include "journal.h"
#include "keys.h"
#include "keys_int.h"
#include "log.h"
#include "profile.h"
#include "sjournal.h"
#include "util.h"

struct keystore {
	struct p11 *p11;
	unsigned key_types;
	pthread_rwlock_t lock;
	struct key **all; /* every entry ever made, for freeing */
	size_t nall, capall;
	struct key **tab; /* open addressing by id; power of two */
	size_t tabsize, ntab;
	pthread_mutex_t genlock;
	char **pending; /* labels being generated right now */
	size_t npending;
	pthread_mutex_t destroylock; /* one destruction at a time */
	pthread_rwlock_t uselock;    /* keys_use_begin() */
};

int
keys_valid_label(const uint8_t *s, size_t len)
{
	size_t i;

	if (len == 0 || len > SIGNER_LABEL_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

void
keys_key_free(struct key *k)
{
	if (k == NULL)
		return;
	free(k->subject);
	free(k->spki);
	free(k);
}

int
keys_new(struct p11 *p11, unsigned key_types, struct keystore **out)
{
	pthread_rwlockattr_t attr;
	struct keystore *ks;

	if ((ks = calloc(1, sizeof(*ks))) == NULL)
		return EST_E_NOMEM;
	ks->tabsize = 64;
	if ((ks->tab = calloc(ks->tabsize, sizeof(*ks->tab))) == NULL) {
		free(ks);
		return EST_E_NOMEM;
	}
	ks->p11 = p11;
	ks->key_types = key_types;
	pthread_rwlock_init(&ks->lock, NULL);
	pthread_mutex_init(&ks->genlock, NULL);
	pthread_mutex_init(&ks->destroylock, NULL);
	/* Without writer preference, steady signing would starve a DESTROYKEY. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&ks->uselock, &attr);
	pthread_rwlockattr_destroy(&attr);
	*out = ks;
	return 0;
}

void
keys_free(struct keystore *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->nall; i++)
		keys_key_free(ks->all[i]);
	for (i = 0; i < ks->npending; i++)
		free(ks->pending[i]);
	free(ks->pending);
	free(ks->all);
	free(ks->tab);
	pthread_rwlock_destroy(&ks->lock);
	pthread_mutex_destroy(&ks->genlock);
	pthread_mutex_destroy(&ks->destroylock);
	pthread_rwlock_destroy(&ks->uselock);
	free(ks);
}

static size_t
slot_of(const uint8_t id[SIGNER_KEYID_LEN], size_t size)
{
	uint64_t h;

	/* Ids are random, so their first octets are a good hash. */
	memcpy(&h, id, sizeof(h));
	return (size_t)h & (size - 1);
}

/* The table slot holding id, or the empty slot where it would go. */
static size_t
probe(struct key **tab, size_t size, const uint8_t id[SIGNER_KEYID_LEN])
{
	size_t i = slot_of(id, size);

	while (tab[i] != NULL && memcmp(tab[i]->id, id, SIGNER_KEYID_LEN))
		i = (i + 1) & (size - 1);
	return i;
}

/* Looks id up; the caller holds the lock. */
static struct key *
lookup(struct keystore *ks, const uint8_t id[SIGNER_KEYID_LEN])
{
	return ks->tab[probe(ks->tab, ks->tabsize, id)];
}

/* Inserts or replaces the entry for k->id; the caller holds it write. */
static int
insert(struct keystore *ks, struct key *k)
{
	struct key **tab, **all;
	size_t i, size;

	if (ks->nall == ks->capall) {
		size = ks->capall ? ks->capall * 2 : 16;
		if ((all = reallocarray(ks->all, size, sizeof(*all))) == NULL)
			return EST_E_NOMEM;
		ks->all = all;
		ks->capall = size;
	}
	if ((ks->ntab + 1) * 2 > ks->tabsize) {
		size = ks->tabsize * 2;
		if ((tab = calloc(size, sizeof(*tab))) == NULL)
			return EST_E_NOMEM;
		for (i = 0; i < ks->tabsize; i++)
			if (ks->tab[i] != NULL)
				tab[probe(tab, size, ks->tab[i]->id)] =
					ks->tab[i];
		free(ks->tab);
		ks->tab = tab;
		ks->tabsize = size;
	}
	i = probe(ks->tab, ks->tabsize, k->id);
	/* A replaced (gone) entry stays in all[]: someone may hold it. */
	if (ks->tab[i] == NULL)
		ks->ntab++;
	ks->tab[i] = k;
	ks->all[ks->nall++] = k;
	return 0;
}

int
keys_get(struct keystore *ks, CK_SESSION_HANDLE s,
	 const uint8_t id[SIGNER_KEYID_LEN], const struct key **out)
{
	CK_OBJECT_CLASS privclass = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[2] = {
		{CKA_CLASS, &privclass, sizeof(privclass)},
		{CKA_ID, (void *)(uintptr_t)id, SIGNER_KEYID_LEN},
	};
	CK_OBJECT_HANDLE priv;
	struct key *k, *nk = NULL;
	int r, destroyed, live;

	pthread_rwlock_rdlock(&ks->lock);
	k = lookup(ks, id);
	destroyed = k != NULL && k->destroyed;
	live = k != NULL && !k->gone;
	pthread_rwlock_unlock(&ks->lock);
	if (destroyed)
		return EST_E_NOTFOUND;
	if (live) {
		*out = k;
		return 0;
	}
	/* Not cached: perhaps made by another signer on the same token. */
	if ((r = p11_find_one(ks->p11, s, tmpl, 2, &priv)) != 0 ||
	    (r = keys_read_pair(ks->p11, s, priv, &nk)) != 0)
		return r;
	pthread_rwlock_wrlock(&ks->lock);
	k = lookup(ks, id);
	if (k != NULL && k->destroyed) {
		/* Destroyed while this thread was reading it from the token. */
		pthread_rwlock_unlock(&ks->lock);
		keys_key_free(nk);
		return EST_E_NOTFOUND;
	}
	if (k != NULL && !k->gone) {
		/* Another thread got there first. */
		pthread_rwlock_unlock(&ks->lock);
		keys_key_free(nk);
		*out = k;
		return 0;
	}
	if ((r = insert(ks, nk)) != 0) {
		pthread_rwlock_unlock(&ks->lock);
		keys_key_free(nk);
		return r;
	}
	pthread_rwlock_unlock(&ks->lock);
	*out = nk;
	return 0;
}

void
keys_forget(struct keystore *ks, const struct key *k)
{
	struct key *e;

	pthread_rwlock_wrlock(&ks->lock);
	if ((e = lookup(ks, k->id)) == k)
		e->gone = 1;
	pthread_rwlock_unlock(&ks->lock);
}

static int
cmp_label(const void *a, const void *b)
{
	const struct key *const *ka = a, *const *kb = b;

	return strcmp((*ka)->label, (*kb)->label);
}

int
keys_scan(struct keystore *ks, CK_SESSION_HANDLE s, const struct key ***out,
	  size_t *n)
{
	CK_OBJECT_CLASS privclass = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[1] = {{CKA_CLASS, &privclass, sizeof(privclass)}};
	CK_OBJECT_HANDLE *objs = NULL;
	const struct key **list = NULL;
	struct key *k, **seen = NULL;
	size_t nobjs = 0, nseen = 0, i, j;
	int r;

	if ((r = p11_find_all(ks->p11, s, tmpl, 1, &objs, &nobjs)) != 0)
		return r;
	if ((seen = calloc(nobjs ? nobjs : 1, sizeof(*seen))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < nobjs; i++) {
		k = NULL;
		if ((r = keys_read_pair(ks->p11, s, objs[i], &k)) ==
		    EST_E_NOTFOUND)
			continue; /* not one of ours */
		if (r != 0) {
			for (j = 0; j < nseen; j++)
				keys_key_free(seen[j]);
			goto out;
		}
		seen[nseen++] = k;
	}
	pthread_rwlock_wrlock(&ks->lock);
	/* Entries the token no longer holds are gone. */
	for (i = 0; i < ks->tabsize; i++) {
		if (ks->tab[i] == NULL)
			continue;
		for (j = 0; j < nseen; j++)
			if (!memcmp(seen[j]->id, ks->tab[i]->id,
				    SIGNER_KEYID_LEN))
				break;
		if (j == nseen)
			ks->tab[i]->gone = 1;
	}
	for (j = 0; j < nseen; j++) {
		k = lookup(ks, seen[j]->id);
		if (k != NULL && k->destroyed) {
			/* Destroyed since the token was read: not listed. */
			keys_key_free(seen[j]);
			seen[j] = NULL;
			continue;
		}
		if (k != NULL && !k->gone && k->priv == seen[j]->priv) {
			keys_key_free(seen[j]);
			seen[j] = k;
			continue;
		}
		if ((r = insert(ks, seen[j])) != 0) {
			pthread_rwlock_unlock(&ks->lock);
			for (i = j; i < nseen; i++)
				keys_key_free(seen[i]);
			goto out;
		}
	}
	pthread_rwlock_unlock(&ks->lock);
	if (out != NULL) {
		if ((list = calloc(nseen ? nseen : 1, sizeof(*list))) == NULL) {
			r = EST_E_NOMEM;
			goto out;
		}
		for (i = j = 0; j < nseen; j++)
			if (seen[j] != NULL)
				list[i++] = seen[j];
		qsort(list, i, sizeof(*list), cmp_label);
		*out = list;
		*n = i;
	}
	r = 0;
out:
	free(seen);
	free(objs);
	return r;
}

/*
 * Reserves label for a generation in progress; the token itself, not the
 * cache, then says whether the label is taken (label_in_token).
 */
static int
reserve_label(struct keystore *ks, const char *label)
{
	char **p, *copy;
	size_t i;
	int r = 0;

	if (strcmp(label, KEYS_WRAP_LABEL) == 0)
		return EST_E_EXISTS;
	pthread_mutex_lock(&ks->genlock);
	for (i = 0; i < ks->npending; i++)
		if (strcmp(ks->pending[i], label) == 0) {
			r = EST_E_EXISTS;
			goto out;
		}
	if ((copy = strdup(label)) == NULL ||
	    (p = reallocarray(ks->pending, ks->npending + 1, sizeof(*p))) ==
		    NULL) {
		free(copy);
		r = EST_E_NOMEM;
		goto out;
	}
	ks->pending = p;
	ks->pending[ks->npending++] = copy;
out:
	pthread_mutex_unlock(&ks->genlock);
	return r;
}

static void
release_label(struct keystore *ks, const char *label)
{
	size_t i;

	pthread_mutex_lock(&ks->genlock);
	for (i = 0; i < ks->npending; i++)
		if (strcmp(ks->pending[i], label) == 0) {
			free(ks->pending[i]);
			ks->pending[i] = ks->pending[--ks->npending];
			break;
		}
	pthread_mutex_unlock(&ks->genlock);
}

/* Whether any object in the token already carries label. */
static int
label_in_token(struct keystore *ks, CK_SESSION_HANDLE s, const char *label)
{
	CK_ATTRIBUTE tmpl[1] = {
		{CKA_LABEL, (void *)(uintptr_t)label, strlen(label)}};
	CK_OBJECT_HANDLE *objs = NULL;
	size_t n = 0;
	int r;

	if ((r = p11_find_all(ks->p11, s, tmpl, 1, &objs, &n)) != 0)
		return r;
	free(objs);
	return n > 0 ? EST_E_EXISTS : 0;
}

static int
generate(struct keystore *ks, CK_SESSION_HANDLE s, const char *label,
	 uint8_t keytype, uint8_t usage, const uint8_t *subject,
	 size_t subjectlen, const uint8_t id[SIGNER_KEYID_LEN],
	 CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	static const CK_ULONG bits[] = {[SIGNER_KEY_RSA_2048] = 2048,
					[SIGNER_KEY_RSA_3072] = 3072,
					[SIGNER_KEY_RSA_4096] = 4096};
	static const uint8_t f4[] = {0x01, 0x00, 0x01};
	CK_OBJECT_CLASS pubc = CKO_PUBLIC_KEY, privc = CKO_PRIVATE_KEY;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	int ec = keytype == SIGNER_KEY_EC_P256 || keytype == SIGNER_KEY_EC_P384;
	CK_KEY_TYPE kt = ec ? CKK_EC : CKK_RSA;
	CK_ULONG modbits = ec ? 0 : bits[keytype];
	CK_MECHANISM mech = {
		ec ? CKM_EC_KEY_PAIR_GEN : CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	size_t llen = strlen(label);
	CK_ATTRIBUTE pubt[11] = {
		{CKA_CLASS, &pubc, sizeof(pubc)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &no, sizeof(no)},
		{CKA_VERIFY, &yes, sizeof(yes)},
		{CKA_ENCRYPT, &no, sizeof(no)},
		{CKA_ID, (void *)(uintptr_t)id, SIGNER_KEYID_LEN},
		{CKA_LABEL, (void *)(uintptr_t)label, llen},
	};
	CK_ATTRIBUTE privt[12] = {
		{CKA_CLASS, &privc, sizeof(privc)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},
		{CKA_EXTRACTABLE, &no, sizeof(no)},
		{CKA_SIGN, &yes, sizeof(yes)},
		{CKA_DECRYPT, &no, sizeof(no)},
		{CKA_DERIVE, &no, sizeof(no)},
		{CKA_ID, (void *)(uintptr_t)id, SIGNER_KEYID_LEN},
		{CKA_LABEL, (void *)(uintptr_t)label, llen},
	};
	CK_ULONG npub = 8, npriv = 11;
	CK_RV rv;

	if (keytype == SIGNER_KEY_EC_P256)
		pubt[npub++] = (CK_ATTRIBUTE){CKA_EC_PARAMS,
					      (void *)(uintptr_t)keys_oid_p256,
					      sizeof(keys_oid_p256)};
	else if (keytype == SIGNER_KEY_EC_P384)
		pubt[npub++] = (CK_ATTRIBUTE){CKA_EC_PARAMS,
					      (void *)(uintptr_t)keys_oid_p384,
					      sizeof(keys_oid_p384)};
	else {
		pubt[npub++] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &modbits,
					      sizeof(modbits)};
		pubt[npub++] = (CK_ATTRIBUTE){
			CKA_PUBLIC_EXPONENT, (void *)(uintptr_t)f4, sizeof(f4)};
	}
	/* Where the subject goes is the usage (see key_usage()). */
	if (subjectlen > 0 && usage == SIGNER_USAGE_CA)
		privt[npriv++] = (CK_ATTRIBUTE){
			CKA_SUBJECT, (void *)(uintptr_t)subject, subjectlen};
	else if (subjectlen > 0)
		pubt[npub++] = (CK_ATTRIBUTE){
			CKA_SUBJECT, (void *)(uintptr_t)subject, subjectlen};
	rv = ks->p11->f->C_GenerateKeyPair(s, &mech, pubt, npub, privt, npriv,
					   pub, priv);
	if (rv != CKR_OK) {
		log_err("C_GenerateKeyPair (%s): %s", keytype_name(keytype),
			p11_rv_name(rv));
		return p11_err(rv);
	}
	return 0;
}

int
keys_generate(struct keystore *ks, CK_SESSION_HANDLE s, const char *label,
	      uint8_t keytype, uint8_t usage, const uint8_t *subject,
	      size_t subjectlen, const struct key **out)
{
	uint8_t id[SIGNER_KEYID_LEN];
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	struct key *k = NULL;
	int r, made = 0;

	if (keytype < SIGNER_KEY_MIN || keytype > SIGNER_KEY_MAX ||
	    !(ks->key_types & (1U << keytype)))
		return EST_E_BADALG;
	if (!keys_valid_label((const uint8_t *)label, strlen(label)) ||
	    (usage == SIGNER_USAGE_OTHER) != (subjectlen == 0) ||
	    (usage != SIGNER_USAGE_CA && usage != SIGNER_USAGE_OTHER &&
	     usage != SIGNER_USAGE_OCSP))
		return EST_E_INVAL;
	if ((r = reserve_label(ks, label)) != 0)
		return r;
	if ((r = label_in_token(ks, s, label)) != 0 ||
	    (r = random_bytes(id, sizeof(id))) != 0 ||
	    (r = generate(ks, s, label, keytype, usage, subject, subjectlen, id,
			  &pub, &priv)) != 0)
		goto out;
	made = 1;
	if ((r = keys_read_pair(ks->p11, s, priv, &k)) != 0 || k->pub != pub ||
	    k->keytype != keytype || k->usage != usage ||
	    k->subjectlen != subjectlen ||
	    (subjectlen > 0 && memcmp(k->subject, subject, subjectlen) != 0)) {
		/*
		 * A module that drops or shortens attributes (an id cut to
		 * two octets, no CKA_SUBJECT) makes a pair the signer could
		 * not recognise again: remove it rather than leave it.
		 */
		log_err("key %s reads back differently from how it was made; "
			"the module does not keep CKA_ID or CKA_SUBJECT as "
			"given",
			label);
		r = EST_E_HSM;
		goto out;
	}
	pthread_rwlock_wrlock(&ks->lock);
	r = insert(ks, k);
	pthread_rwlock_unlock(&ks->lock);
	if (r != 0)
		goto out;
	*out = k;
	k = NULL;
out:
	if (r != 0 && made) {
		ks->p11->f->C_DestroyObject(s, priv);
		ks->p11->f->C_DestroyObject(s, pub);
	}
	keys_key_free(k);
	release_label(ks, label);
	return r;
}

/*
 * Destroys every private key, then every public key, with this CKA_ID
 * (one of each for a key pair).  The class is part of each template, so
 * that no other object with the same id (the wrapping key is a secret
 * key) is ever touched.  The private keys go first: should a public key
 * then resist, what is left is no secret and no longer a key pair.
 * *privgone says whether the token has no private key with the id left.
 */
static int
destroy_objects(struct keystore *ks, CK_SESSION_HANDLE s,
		const uint8_t id[SIGNER_KEYID_LEN], int *privgone)
{
	static const CK_OBJECT_CLASS classes[2] = {CKO_PRIVATE_KEY,
						   CKO_PUBLIC_KEY};
	CK_OBJECT_CLASS cls;
	CK_ATTRIBUTE tmpl[2];
	CK_OBJECT_HANDLE *objs = NULL;
	size_t n = 0, i, c, nprivs = 0;
	CK_RV rv;
	int r = 0;

	*privgone = 0;
	for (c = 0; c < 2 && r == 0; c++) {
		cls = classes[c];
		tmpl[0] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
		tmpl[1] = (CK_ATTRIBUTE){CKA_ID, (void *)(uintptr_t)id,
					 SIGNER_KEYID_LEN};
		if ((r = p11_find_all(ks->p11, s, tmpl, 2, &objs, &n)) != 0)
			break;
		for (i = 0; i < n && r == 0; i++)
			if ((rv = ks->p11->f->C_DestroyObject(s, objs[i])) !=
			    CKR_OK) {
				log_err("C_DestroyObject (%s key): %s",
					c == 0 ? "private" : "public",
					p11_rv_name(rv));
				r = p11_err(rv);
			}
		if (c == 0) {
			nprivs = n;
			*privgone = r == 0;
		}
		free(objs);
		objs = NULL;
	}
	/* Gone before this request came to it (another signer). */
	if (r == 0 && nprivs == 0)
		r = EST_E_NOTFOUND;
	return r;
}

int
keys_destroy(struct keystore *ks, CK_SESSION_HANDLE s,
	     const uint8_t id[SIGNER_KEYID_LEN], struct sjournal *j,
	     const struct key **out)
{
	uint8_t idhash[JOURNAL_HASH_LEN];
	unsigned int hlen = 0;
	const struct key *k = NULL;
	struct key *e;
	int r, privgone = 0;

	if (EVP_Digest(id, SIGNER_KEYID_LEN, idhash, &hlen, EVP_sha256(),
		       NULL) != 1 ||
	    hlen != sizeof(idhash))
		return EST_E_CRYPTO;
	/* Two requests for one key would otherwise both journal it. */
	pthread_mutex_lock(&ks->destroylock);
	if ((r = keys_get(ks, s, id, &k)) != 0)
		goto out;
	pthread_rwlock_wrlock(&ks->lock);
	if ((e = lookup(ks, id)) != NULL)
		e->gone = 1;
	pthread_rwlock_unlock(&ks->lock);
	/*
	 * Signatures in progress end, journal lines included, and new ones
	 * wait.  Then the journal, first: a line for a destruction that then
	 * failed can be explained, a destruction without a line could not.
	 * A gone entry is only a cache miss: the key still works if the line
	 * cannot be written.
	 */
	pthread_rwlock_wrlock(&ks->uselock);
	if (j == NULL ||
	    sjournal_append(j, id, JOURNAL_KIND_DESTROY, idhash) != 0) {
		pthread_rwlock_unlock(&ks->uselock);
		r = EST_E_IO;
		goto out;
	}
	r = destroy_objects(ks, s, id, &privgone);
	if (privgone) {
		/*
		 * Whatever entry a SIGN read from the token since the entry
		 * was marked gone is now in the table for this id: it goes.
		 */
		pthread_rwlock_wrlock(&ks->lock);
		if ((e = lookup(ks, id)) != NULL)
			e->gone = e->destroyed = 1;
		pthread_rwlock_unlock(&ks->lock);
	}
	pthread_rwlock_unlock(&ks->uselock);
	if (r == 0)
		*out = k;
out:
	pthread_mutex_unlock(&ks->destroylock);
	return r;
}

void
keys_use_begin(struct keystore *ks)
{
	pthread_rwlock_rdlock(&ks->uselock);
}

void
keys_use_end(struct keystore *ks)
{
	pthread_rwlock_unlock(&ks->uselock);
}
