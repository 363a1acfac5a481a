/*
 * What an estuary-est worker thread keeps between requests (fcgi/est.h):
 * the children of the EST servers it routed to (allow list, templates,
 * applications), the device types of dps servers with every child, and
 * the certificates of their external factory CAs; beside it, the
 * thread's issuing cache (pki/issue_cache.h, c->icache) keeps templates
 * and their CAs.
 *
 * Nothing is trusted by age.  Every request reads the route's row with
 * the versions of all three (db_est_route_row(): the server's updated_at,
 * which every write of the server, its children and labels moves; the
 * device type's updated_at, which every rewrite of the type or of a
 * child moves, and its active flag; the external CA's flags and
 * fingerprint) in one statement, and a kept copy is used only while the
 * version read for this request equals the one read before the copy was
 * loaded.  So a deactivation or an edit is seen by the next request, as
 * without the cache; a change between the version's read and the load
 * makes the next request load again rather than keep stale rows.
 *
 * The cache belongs to its thread (est_cache_get(): thread-specific data
 * made on first use, freed when the thread ends) and is not locked.
 */
#ifndef ESTUARY_EST_CACHE_H
#define ESTUARY_EST_CACHE_H

#include <stdint.h>

#include <openssl/x509.h>

struct db;
struct devtype;
struct est_cache;
struct est_route;
struct est_route_stamp;

/* Made once by est_init (the thread-specific key); 0 or EST_E_NOMEM. */
int est_cache_init(void);
void est_cache_fini(void);
/* The calling thread's cache; NULL when out of memory. */
struct est_cache *est_cache_get(void);

/*
 * db_est_route() through the cache: the route's row and its versions
 * (one statement) into *out and *st, the server's children from the
 * cache when their version matches, else read (a second statement) and
 * kept.  With app not NULL, the API application that key names comes
 * with the route's row (db_est_route_row()).
 */
struct db_apiapp;
struct est_route_app;
int est_cache_route(struct est_cache *ec, struct db *db, const char *host,
		    const char *label, const struct est_route_app *key,
		    struct est_route **out, struct est_route_stamp *st,
		    struct db_apiapp **app);

/*
 * Device type id as of st (the route's versions; st->devtype names id's
 * version): the cache's copy, its active flag the one st read, valid
 * until the next call on ec.  EST_E_NOTFOUND when st has no device type.
 */
int est_cache_devtype(struct est_cache *ec, struct db *db, int64_t id,
		      const struct est_route_stamp *st,
		      const struct devtype **out);

/*
 * The certificate of st's external CA (borrowed, valid until the next
 * call on ec).  EST_E_NOTFOUND when st has none.
 */
int est_cache_extca(struct est_cache *ec, struct db *db,
		    const struct est_route_stamp *st, X509 **out);

#endif
