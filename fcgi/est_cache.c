/*
 * The per-thread cache of estuary-est (fcgi/est_cache.h): a few slots of
 * each kind, each with the version read before its rows were loaded,
 * dropping the least recently used.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "apiapp.h"
#include "db.h"
#include "devtype.h"
#include "err.h"
#include "est_cache.h"
#include "estsrv.h"
#include "extca.h"

/*
 * A worker serves a few EST servers, labels and device types; more only
 * costs reloads.
 */
#define ROUTE_SLOTS 8
#define TYPE_SLOTS 8
#define EXTCA_SLOTS 4

struct route_slot {
	int64_t server_id; /* 0: empty */
	int64_t label_id;
	uint64_t used;
	char stamp[sizeof(((struct est_route_stamp *)0)->server)];
	struct est_route *rt; /* the children as read under stamp */
};

struct type_slot {
	int64_t id; /* 0: empty */
	uint64_t used;
	char stamp[sizeof(((struct est_route_stamp *)0)->devtype)];
	struct devtype *dt;
};

struct extca_slot {
	int64_t id; /* 0: empty */
	uint64_t used;
	uint8_t fp[sizeof(((struct est_route_stamp *)0)->extca_fp)];
	X509 *cert;
};

struct est_cache {
	struct route_slot route[ROUTE_SLOTS];
	struct type_slot type[TYPE_SLOTS];
	struct extca_slot extca[EXTCA_SLOTS];
	uint64_t clock;
};

static pthread_key_t cache_key;
static int cache_key_made;

static void
route_slot_clear(struct route_slot *s)
{
	est_route_free(s->rt);
	memset(s, 0, sizeof(*s));
}

static void
type_slot_clear(struct type_slot *s)
{
	devtype_free(s->dt);
	memset(s, 0, sizeof(*s));
}

static void
extca_slot_clear(struct extca_slot *s)
{
	X509_free(s->cert);
	memset(s, 0, sizeof(*s));
}

static void
cache_free(void *p)
{
	struct est_cache *ec = p;
	size_t i;

	if (ec == NULL)
		return;
	for (i = 0; i < ROUTE_SLOTS; i++)
		route_slot_clear(&ec->route[i]);
	for (i = 0; i < TYPE_SLOTS; i++)
		type_slot_clear(&ec->type[i]);
	for (i = 0; i < EXTCA_SLOTS; i++)
		extca_slot_clear(&ec->extca[i]);
	free(ec);
}

int
est_cache_init(void)
{
	if (pthread_key_create(&cache_key, cache_free) != 0)
		return EST_E_NOMEM;
	cache_key_made = 1;
	return 0;
}

void
est_cache_fini(void)
{
	/* The threads are gone: each freed its own cache on exit. */
	if (cache_key_made)
		(void)pthread_key_delete(cache_key);
	cache_key_made = 0;
}

struct est_cache *
est_cache_get(void)
{
	struct est_cache *ec;

	if (!cache_key_made)
		return NULL;
	if ((ec = pthread_getspecific(cache_key)) != NULL)
		return ec;
	if ((ec = calloc(1, sizeof(*ec))) == NULL)
		return NULL;
	if (pthread_setspecific(cache_key, ec) != 0) {
		free(ec);
		return NULL;
	}
	return ec;
}

/* ------------------------------------------------------------------ */
/* Routes */

/* The slot of (server, label), or else an empty one, or else the LRU. */
static struct route_slot *
route_slot_for(struct est_cache *ec, int64_t server_id, int64_t label_id)
{
	struct route_slot *victim = &ec->route[0];
	size_t i;

	for (i = 0; i < ROUTE_SLOTS; i++)
		if (ec->route[i].server_id == server_id &&
		    ec->route[i].label_id == label_id)
			return &ec->route[i];
	for (i = 0; i < ROUTE_SLOTS; i++) {
		if (ec->route[i].server_id == 0)
			return &ec->route[i];
		if (ec->route[i].used < victim->used)
			victim = &ec->route[i];
	}
	return victim;
}

/* A copy of rt's row and children, for the cache. */
static int
route_clone(const struct est_route *rt, struct est_route **out)
{
	struct est_route *cp;
	int r;

	if ((cp = malloc(sizeof(*cp))) == NULL)
		return EST_E_NOMEM;
	*cp = *rt;
	cp->ip_allow = NULL;
	cp->nip_allow = 0;
	cp->app_ids = NULL;
	cp->napps = 0;
	cp->template_ids = NULL;
	cp->ntemplates = 0;
	if ((r = est_route_children_copy(cp, rt)) != 0) {
		est_route_free(cp);
		return r;
	}
	*out = cp;
	return 0;
}

int
est_cache_route(struct est_cache *ec, struct db *db, const char *host,
		const char *label, const struct est_route_app *key,
		struct est_route **out, struct est_route_stamp *st,
		struct db_apiapp **app)
{
	struct est_route *rt = NULL, *cp = NULL;
	struct route_slot *s;
	int r;

	if ((r = db_est_route_row(db, host, label, key, &rt, st, app)) != 0)
		return r;
	s = route_slot_for(ec, rt->server_id, rt->label_id);
	if (s->server_id == rt->server_id && s->label_id == rt->label_id &&
	    strcmp(s->stamp, st->server) == 0) {
		if ((r = est_route_children_copy(rt, s->rt)) != 0)
			goto fail;
		s->used = ++ec->clock;
		*out = rt;
		return 0;
	}
	/* Read after the stamp: never older than the stamp. */
	if ((r = db_est_route_children(db, rt)) != 0)
		goto fail;
	route_slot_clear(s);
	if (route_clone(rt, &cp) == 0) {
		s->server_id = rt->server_id;
		s->label_id = rt->label_id;
		memcpy(s->stamp, st->server, sizeof(s->stamp));
		s->rt = cp;
		s->used = ++ec->clock;
	}
	*out = rt;
	return 0;
fail:
	est_route_free(rt);
	route_slot_clear(s);
	if (app != NULL) {
		db_apiapp_free(*app);
		*app = NULL;
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Device types */

static struct type_slot *
type_slot_for(struct est_cache *ec, int64_t id)
{
	struct type_slot *victim = &ec->type[0];
	size_t i;

	for (i = 0; i < TYPE_SLOTS; i++)
		if (ec->type[i].id == id)
			return &ec->type[i];
	for (i = 0; i < TYPE_SLOTS; i++) {
		if (ec->type[i].id == 0)
			return &ec->type[i];
		if (ec->type[i].used < victim->used)
			victim = &ec->type[i];
	}
	return victim;
}

int
est_cache_devtype(struct est_cache *ec, struct db *db, int64_t id,
		  const struct est_route_stamp *st, const struct devtype **out)
{
	struct devtype *dt = NULL;
	struct type_slot *s;
	int r;

	if (id <= 0 || st->devtype[0] == '\0')
		return EST_E_NOTFOUND;
	s = type_slot_for(ec, id);
	if (s->id == id && strcmp(s->stamp, st->devtype) == 0)
		goto hit;
	if ((r = db_devtype_load(db, id, &dt)) != 0) {
		if (s->id == id)
			type_slot_clear(s);
		return r;
	}
	type_slot_clear(s);
	s->id = id;
	memcpy(s->stamp, st->devtype, sizeof(s->stamp));
	s->dt = dt;
hit:
	/* The row's own flag, as read for this request. */
	s->dt->active = st->devtype_active;
	s->used = ++ec->clock;
	*out = s->dt;
	return 0;
}

/* ------------------------------------------------------------------ */
/* External CAs */

int
est_cache_extca(struct est_cache *ec, struct db *db,
		const struct est_route_stamp *st, X509 **out)
{
	struct extca_slot *s = &ec->extca[0];
	struct db_result *res = NULL;
	const unsigned char *p;
	const char *der;
	X509 *x = NULL;
	size_t i, len = 0;
	int r;

	if (st->extca_id <= 0)
		return EST_E_NOTFOUND;
	/*
	 * No writer changes an external CA's certificate; the fingerprint
	 * read with the route still guards against a row made anew.
	 */
	for (i = 0; i < EXTCA_SLOTS; i++) {
		if (ec->extca[i].id == st->extca_id &&
		    memcmp(ec->extca[i].fp, st->extca_fp, sizeof(s->fp)) == 0) {
			s = &ec->extca[i];
			goto hit;
		}
		if (ec->extca[i].used < s->used)
			s = &ec->extca[i];
	}
	if ((r = db_extca_get(db, st->extca_id, 0, &res)) != 0)
		return r == EST_E_NOTFOUND ? EST_E_INTERNAL : r;
	der = db_result_str(res, 0, DB_EXTCA_CERT_DER, &len);
	p = (const unsigned char *)der;
	if (der == NULL || len > LONG_MAX ||
	    (x = d2i_X509(NULL, &p, (long)len)) == NULL) {
		db_result_free(res);
		return EST_E_INTERNAL;
	}
	db_result_free(res);
	extca_slot_clear(s);
	s->id = st->extca_id;
	memcpy(s->fp, st->extca_fp, sizeof(s->fp));
	s->cert = x;
hit:
	s->used = ++ec->clock;
	*out = s->cert;
	return 0;
}
