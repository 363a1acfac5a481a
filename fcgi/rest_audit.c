/*
 * The audit side of the REST helpers: before/after details of a change,
 * the audit row of a change, and permission checks whose refusals are
 * audited.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "auth.h"
#include "db.h"
#include "err.h"
#include "rest.h"

#define DIFF_UPDATE 0
#define DIFF_CREATE 1
#define DIFF_DELETE 2

void
rest_diff_init(struct rest_diff *d)
{
	memset(d, 0, sizeof(*d));
	d->mode = DIFF_UPDATE;
}

void
rest_diff_create(struct rest_diff *d)
{
	rest_diff_init(d);
	d->mode = DIFF_CREATE;
}

void
rest_diff_delete(struct rest_diff *d)
{
	rest_diff_init(d);
	d->mode = DIFF_DELETE;
}

void
rest_diff_clear(struct rest_diff *d)
{
	json_object_put(d->before);
	json_object_put(d->after);
	memset(d, 0, sizeof(*d));
}

/* Adds v (ownership taken; NULL is null) under key of *side. */
static int
side_add(struct json_object **side, const char *key, struct json_object *v)
{
	if (*side == NULL && (*side = json_object_new_object()) == NULL) {
		json_object_put(v);
		return EST_E_NOMEM;
	}
	if (json_object_object_add(*side, key, v) != 0) {
		json_object_put(v);
		return EST_E_NOMEM;
	}
	return 0;
}

/*
 * Records the two values (ownership taken) as the diff's mode says; equal
 * tells whether they are the same value, so an update leaves them out.
 */
static int
diff_add(struct rest_diff *d, const char *key, struct json_object *old,
	 struct json_object *new_, int equal)
{
	int r = 0;

	if (d->mode == DIFF_CREATE) {
		json_object_put(old);
		return side_add(&d->after, key, new_);
	}
	if (d->mode == DIFF_DELETE) {
		json_object_put(new_);
		return side_add(&d->before, key, old);
	}
	if (equal) {
		json_object_put(old);
		json_object_put(new_);
		return 0;
	}
	if ((r = side_add(&d->before, key, old)) != 0) {
		json_object_put(new_);
		return r;
	}
	return side_add(&d->after, key, new_);
}

/* A new string, or NULL for NULL; *nomem when making it failed. */
static struct json_object *
jstr(const char *s, int *nomem)
{
	struct json_object *v;

	if (s == NULL)
		return NULL;
	if ((v = json_object_new_string(s)) == NULL)
		*nomem = 1;
	return v;
}

int
rest_diff_str(struct rest_diff *d, const char *key, const char *old,
	      const char *new_)
{
	struct json_object *a, *b;
	int nomem = 0, equal;

	equal = (old == NULL && new_ == NULL) ||
		(old != NULL && new_ != NULL && strcmp(old, new_) == 0);
	a = jstr(old, &nomem);
	b = jstr(new_, &nomem);
	if (nomem) {
		json_object_put(a);
		json_object_put(b);
		return EST_E_NOMEM;
	}
	return diff_add(d, key, a, b, equal);
}

static struct json_object *
jint(int64_t v, int id, int *nomem)
{
	struct json_object *o;

	if (id && v == 0)
		return NULL;
	if ((o = json_object_new_int64(v)) == NULL)
		*nomem = 1;
	return o;
}

int
rest_diff_int(struct rest_diff *d, const char *key, int64_t old, int64_t new_,
	      int id)
{
	struct json_object *a, *b;
	int nomem = 0;

	a = jint(old, id, &nomem);
	b = jint(new_, id, &nomem);
	if (nomem) {
		json_object_put(a);
		json_object_put(b);
		return EST_E_NOMEM;
	}
	return diff_add(d, key, a, b, old == new_);
}

int
rest_diff_bool(struct rest_diff *d, const char *key, int old, int new_)
{
	struct json_object *a, *b;

	a = json_object_new_boolean(old != 0);
	b = json_object_new_boolean(new_ != 0);
	if (a == NULL || b == NULL) {
		json_object_put(a);
		json_object_put(b);
		return EST_E_NOMEM;
	}
	return diff_add(d, key, a, b, (old != 0) == (new_ != 0));
}

int
rest_diff_note(struct rest_diff *d, const char *key, const char *note)
{
	struct json_object *v;

	if ((v = json_object_new_string(note)) == NULL)
		return EST_E_NOMEM;
	return side_add(&d->after, key, v);
}

int
rest_diff_empty(const struct rest_diff *d)
{
	return d->before == NULL && d->after == NULL;
}

/* {"before": ..., "after": ...} as compact text in *out (caller frees). */
static int
diff_text(const struct rest_diff *d, char **out)
{
	struct json_object *o;
	const char *s;
	int r = EST_E_NOMEM;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if (d->before != NULL &&
	    json_object_object_add(o, "before", json_object_get(d->before)) !=
		    0)
		goto out;
	if (d->after != NULL &&
	    json_object_object_add(o, "after", json_object_get(d->after)) != 0)
		goto out;
	s = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s != NULL && (*out = strdup(s)) != NULL)
		r = 0;
out:
	json_object_put(o);
	return r;
}

/*
 * name cut to AUDIT_NAME_MAX characters at a character boundary, into a
 * new string (NULL for NULL).
 */
static int
audit_name(const char *name, char **out)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t len, off = 0, k, chars = 0;
	uint32_t cp;

	*out = NULL;
	if (name == NULL)
		return 0;
	len = strlen(name);
	while (off < len && chars < AUDIT_NAME_MAX) {
		if ((k = jsonval_utf8_next(p + off, len - off, &cp)) == 0)
			break;
		off += k;
		chars++;
	}
	if ((*out = strndup(name, off)) == NULL)
		return EST_E_NOMEM;
	return 0;
}

/*
 * One row's event: the actor's fields of ev_ (set already) and w's, with
 * d's details.  *name and *details are the storage behind ev, freed by the
 * caller also on failure.
 */
static int
event_make(const struct audit_event *ev_, const struct rest_what *w,
	   const char *outcome, const char *reason, const struct rest_diff *d,
	   struct audit_event *ev, char **name, char **details)
{
	int r;

	*ev = *ev_;
	*name = *details = NULL;
	/* The row belongs to the tenant of the object when it has one. */
	if (w->tenant_id > 0) {
		ev->tenant_id = w->tenant_id;
		ev->org_id = w->org_id;
	}
	ev->entity = perm_entity_name(w->entity);
	ev->entity_id = w->id;
	ev->action = w->action;
	ev->outcome = outcome;
	ev->reason = reason;
	if (ev->entity == NULL || ev->action == NULL)
		return EST_E_INTERNAL;
	if ((r = audit_name(w->name, name)) != 0)
		return r;
	ev->entity_name = *name;
	if (d != NULL && !rest_diff_empty(d)) {
		if ((r = diff_text(d, details)) != 0)
			return r;
		ev->details = *details;
	}
	return 0;
}

/* Appends the row of w by the actor that ev names already. */
static int
append_ev(struct db *db, const struct audit_event *ev_,
	  const struct rest_what *w, const char *outcome, const char *reason,
	  const struct rest_diff *d)
{
	struct audit_event ev;
	char *details = NULL, *name = NULL;
	int r;

	if ((r = event_make(ev_, w, outcome, reason, d, &ev, &name,
			    &details)) == 0)
		r = db_audit_append(db, &ev);
	free(details);
	free(name);
	return r;
}

static int
append(struct db *db, const struct principal *p, const struct request *req,
       const struct rest_what *w, const char *outcome, const char *reason,
       const struct rest_diff *d)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	auth_audit_actor(p, req, &ev);
	return append_ev(db, &ev, w, outcome, reason, d);
}

void
rest_actor_copy(const struct principal *p, const struct request *req,
		struct rest_actor *a)
{
	memset(a, 0, sizeof(*a));
	a->p = *p;
	if (req->remote != NULL) {
		memcpy(a->addr, req->remote->text, sizeof(a->addr));
		a->addr[sizeof(a->addr) - 1] = '\0';
	}
}

void
rest_actor_clear(struct rest_actor *a)
{
	explicit_bzero(a, sizeof(*a));
}

int
rest_audit_by(struct db *db, const struct rest_actor *a,
	      const struct rest_what *w, const struct rest_diff *d)
{
	struct rest_audit_row row;

	row.a = a;
	row.w = *w;
	row.d = d;
	return rest_audit_by_many(db, &row, 1);
}

int
rest_audit(struct db *db, const struct principal *p, const struct request *req,
	   const struct rest_what *w, const struct rest_diff *d)
{
	return append(db, p, req, w, AUDIT_SUCCESS, NULL, d);
}

int
rest_audit_by_many(struct db *db, const struct rest_audit_row *ch, size_t n)
{
	struct audit_event ev[DB_MULTI_MAX], actor;
	const struct audit_event *evp[DB_MULTI_MAX] = {NULL};
	char *details[DB_MULTI_MAX], *name[DB_MULTI_MAX];
	size_t i, made = 0;
	int r = 0;

	if (n == 0 || n > DB_MULTI_MAX)
		return EST_E_INVAL;
	for (i = 0; i < n && r == 0; i++, made++) {
		memset(&actor, 0, sizeof(actor));
		auth_audit_actor_at(&ch[i].a->p,
				    ch[i].a->addr[0] != '\0' ? ch[i].a->addr
							     : NULL,
				    &actor);
		r = event_make(&actor, &ch[i].w, AUDIT_SUCCESS, NULL, ch[i].d,
			       &ev[i], &name[i], &details[i]);
		evp[i] = &ev[i];
	}
	if (r == 0)
		r = db_audit_append_many(db, evp, n);
	for (i = 0; i < made; i++) {
		free(details[i]);
		free(name[i]);
	}
	return r;
}

int
rest_audit_denied(struct db *db, const struct principal *p,
		  const struct request *req, const struct rest_what *w,
		  const char *reason)
{
	return append(db, p, req, w, AUDIT_DENIED, reason, NULL);
}

int
rest_perm(struct db *db, const struct principal *p, const struct request *req,
	  enum perm_action act, const struct perm_object *o,
	  const struct rest_what *w, struct jsonval_error *e)
{
	struct perm_actor a;
	int r, ar;

	if ((r = auth_actor(p, &a)) != 0)
		return rest_fail(e, EST_E_INTERNAL, NULL);
	r = perm_check(&a, w->entity, act, o);
	if (r == 0)
		return 0;
	if (r != EST_E_DENIED && r != EST_E_NOTFOUND)
		return rest_fail(e, EST_E_INTERNAL, NULL);
	/* Outside the caller's transaction: a refusal changes nothing. */
	if ((ar = append(db, p, req, w, AUDIT_DENIED,
			 r == EST_E_DENIED ? "permission denied"
					   : "outside the actor's scope",
			 NULL)) != 0)
		return rest_fail(e, ar, NULL);
	return rest_fail(e, r, NULL);
}

int
rest_tx_end(struct db *db, int r)
{
	if (r == 0)
		return db_commit(db);
	db_rollback(db);
	return r;
}
