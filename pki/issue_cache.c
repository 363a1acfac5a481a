/*
 * The issuing cache (issue_cache.h): a few slots, each a template with
 * its CA and the stamp read before they were loaded.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dbq.h"
#include "err.h"
#include "issue_cache.h"
#include "template.h"
#include "tmpl.h"

/*
 * Templates one thread keeps.  A deployment issues from a few templates
 * (one per device type and use); more only costs reloads.
 */
#define ISSUE_CACHE_SLOTS 8

struct issue_slot {
	int64_t id; /* 0: empty */
	uint64_t used;
	struct db_template_stamp stamp;
	struct tmpl *t;
	struct db_ca *ca;
};

struct issue_cache {
	struct issue_slot slot[ISSUE_CACHE_SLOTS];
	uint64_t clock;
	int64_t primed_id; /* issue_cache_prime(); 0 for none */
	struct db_template_stamp primed;
};

struct issue_cache *
issue_cache_new(void)
{
	return calloc(1, sizeof(struct issue_cache));
}

static void
slot_clear(struct issue_slot *s)
{
	tmpl_free(s->t);
	db_ca_free(s->ca);
	memset(s, 0, sizeof(*s));
}

void
issue_cache_free(struct issue_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < ISSUE_CACHE_SLOTS; i++)
		slot_clear(&c->slot[i]);
	free(c);
}

/*
 * Whether stamp b, read now, vouches for the rows loaded under a.  The
 * extensions' part counts only for a template that has extensions (exts):
 * attaching the first one moves the template's own version.
 */
static int
stamp_equal(const struct db_template_stamp *a,
	    const struct db_template_stamp *b, int exts)
{
	return a->ca_id == b->ca_id && a->tmpl_active == b->tmpl_active &&
	       a->ca_active == b->ca_active && strcmp(a->tmpl, b->tmpl) == 0 &&
	       strcmp(a->ca, b->ca) == 0 &&
	       (!exts || strcmp(a->exts, b->exts) == 0);
}

void
issue_cache_prime(struct issue_cache *c, int64_t id,
		  const struct db_template_stamp *st)
{
	if (c == NULL)
		return;
	c->primed_id = id > 0 && st != NULL ? id : 0;
	if (c->primed_id != 0)
		c->primed = *st;
	else
		memset(&c->primed, 0, sizeof(c->primed));
}

/* The slot of id, or else an empty one, or else the least recently used. */
static struct issue_slot *
slot_for(struct issue_cache *c, int64_t id)
{
	struct issue_slot *victim = &c->slot[0];
	size_t i;

	for (i = 0; i < ISSUE_CACHE_SLOTS; i++)
		if (c->slot[i].id == id)
			return &c->slot[i];
	for (i = 0; i < ISSUE_CACHE_SLOTS; i++) {
		if (c->slot[i].id == 0)
			return &c->slot[i];
		if (c->slot[i].used < victim->used)
			victim = &c->slot[i];
	}
	return victim;
}

int
issue_cache_get(struct issue_cache *c, struct db *db, int64_t id,
		const struct tmpl **t, const struct db_ca **ca)
{
	struct db_template_stamp st;
	struct issue_slot *s;
	struct tmpl *nt = NULL;
	struct db_ca *nca = NULL;
	int primed, r;

	if (c == NULL || db == NULL || id <= 0 || t == NULL || ca == NULL)
		return id <= 0 ? EST_E_NOTFOUND : EST_E_INVAL;
	s = slot_for(c, id);
	/*
	 * A template cached without custom extensions needs no stamp of
	 * them: attaching one moves the template's own version.  An empty
	 * or other slot takes the whole stamp, for whatever is loaded.  A
	 * primed stamp has no extensions' part: it serves the first case.
	 */
	primed = c->primed_id == id && s->id == id && s->t->nexts == 0;
	if (primed)
		st = c->primed;
	if (c->primed_id == id)
		issue_cache_prime(c, 0, NULL);
	if (!primed &&
	    (r = db_template_stamp(db, id, s->id != id || s->t->nexts > 0,
				   &st)) != 0)
		goto fail;
	if (s->id == id && stamp_equal(&s->stamp, &st, s->t->nexts > 0))
		goto hit;
	/* Loaded after the stamp was read: never older than the stamp. */
	if ((r = db_template_load(db, id, &nt)) != 0)
		goto fail;
	if ((r = db_ca_get(db, nt->ca_id, &nca)) != 0) {
		/* The foreign key keeps a template's CA. */
		if (r == EST_E_NOTFOUND)
			r = EST_E_INTERNAL;
		goto fail;
	}
	slot_clear(s);
	s->id = id;
	s->stamp = st;
	/* What the next use compares: no extensions, no extensions' stamp. */
	if (nt->nexts == 0)
		s->stamp.exts[0] = '\0';
	s->t = nt;
	s->ca = nca;
hit:
	/* The rows' own flags, as read for this use. */
	s->t->active = st.tmpl_active;
	s->ca->active = st.ca_active;
	s->used = ++c->clock;
	*t = s->t;
	*ca = s->ca;
	return 0;
fail:
	tmpl_free(nt);
	db_ca_free(nca);
	if (s->id == id)
		slot_clear(s);
	return r;
}
