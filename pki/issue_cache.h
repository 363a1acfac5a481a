/*
 * The issuing cache: templates and their CAs as issue_cert() takes them,
 * kept by one thread between requests.
 *
 * Loading a template and its CA takes five queries (the template row, its
 * subject fields, SAN fields and custom extensions, the CA row); the
 * cache replaces them with one, db_template_stamp(), on every use.  A
 * cached template is handed out only while the stamp read for this use
 * equals the stamp read before it was loaded, so an edit of the template,
 * of one of its custom extensions or of its CA (a deactivation, new URLs,
 * a renewed certificate) is seen by the next request, exactly as without
 * the cache; the active flags come from the stamp's own query.  The stamp
 * is read before the rows it vouches for, so a change that lands between
 * the two makes the next use reload rather than keep stale rows.
 *
 * A cache belongs to one thread (it is not locked) and holds a handful of
 * templates, dropping the least recently used.
 */
#ifndef ESTUARY_PKI_ISSUE_CACHE_H
#define ESTUARY_PKI_ISSUE_CACHE_H

#include <stdint.h>

struct db;
struct db_ca;
struct issue_cache;
struct tmpl;

struct issue_cache *issue_cache_new(void);
void issue_cache_free(struct issue_cache *c);

/*
 * Template id and its CA, current as of this call, into *t and *ca: the
 * cache's own copies, valid until the next call on c or issue_cache_free.
 * The caller checks the active flags (t->active, ca->active) as it would
 * on freshly loaded rows.  EST_E_NOTFOUND when there is no such template;
 * the errors of the loaders otherwise.  On failure the entry is dropped.
 */
int issue_cache_get(struct issue_cache *c, struct db *db, int64_t id,
		    const struct tmpl **t, const struct db_ca **ca);

/*
 * A stamp of template id (db_template_stamp() without the extensions)
 * that the caller read in this request with another statement, before
 * anything the cache would load: the next issue_cache_get() of id takes
 * it instead of reading its own, once, when the cache holds id and id has
 * no custom extensions (which such a stamp does not vouch for).  id 0 (st
 * NULL) drops a stamp not taken; a caller primes per request and drops at
 * its end, so that no stamp outlives the request it was read for.
 */
struct db_template_stamp;
void issue_cache_prime(struct issue_cache *c, int64_t id,
		       const struct db_template_stamp *st);

#endif
