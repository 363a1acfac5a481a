/*
 * Routing: one table per program of {method mask, path pattern, handler}.
 * A pattern is a path whose segments are literals, compared exactly, or
 * captures "{name}", each checked by the validator of its name (an
 * unknown name is refused by route_table_check).  There is no prefix
 * matching: a path matches a pattern only when every segment does.
 *
 * HEAD is served by the GET route of a path.  A path that matches no
 * pattern is 404; a path that matches but not with this method is 405, and
 * *allow receives the methods that would have matched (for the Allow
 * header).
 */
#ifndef ESTUARY_ROUTE_H
#define ESTUARY_ROUTE_H

#include <stddef.h>

#include "req.h"

struct hctx;
struct resp;

/*
 * A handler builds its response in rs and returns 0, or returns an EST_E_*
 * code and the dispatcher answers the program's error for it.
 */
typedef int (*route_fn)(struct hctx *c, const struct request *req,
			struct resp *rs);

struct route {
	unsigned methods;    /* REQ_M_* */
	const char *pattern; /* "/api/v1/tenants/{id}" */
	route_fn handler;
};

#define ROUTE_CAPS_MAX 4
#define ROUTE_SEGS_MAX 16

struct route_cap {
	char name[32];
	const char *value; /* into route_match.buf */
};

struct route_match {
	const struct route *route;
	size_t ncaps;
	struct route_cap caps[ROUTE_CAPS_MAX];
	char buf[REQ_PATH_MAX + 1];
};

/*
 * Matches path and method against tab.  0 and *m on a match;
 * EST_E_NOTFOUND when no pattern matches the path; EST_E_METHOD when some
 * do, with their methods in *allow (HEAD added where GET is, and OPTIONS,
 * which the dispatcher always answers).
 */
int route_match(const struct route *tab, size_t n, const char *path,
		unsigned method, struct route_match *m, unsigned *allow);

/* The value of capture name in m, or NULL. */
const char *route_cap(const struct route_match *m, const char *name);

/*
 * Checks a table once at start-up: absolute patterns, known capture names,
 * no more than ROUTE_CAPS_MAX captures or ROUTE_SEGS_MAX segments, a
 * non-empty method mask and a handler on every row.
 */
int route_table_check(const struct route *tab, size_t n);

/* 1 when s is a valid value for capture name (exposed for tests). */
int route_cap_valid(const char *name, const char *s, size_t len);

#endif
