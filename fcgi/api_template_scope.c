/*
 * The accessibility scope of custom extensions and certificate templates
 * as the API reads it from a body, checks it against the database and
 * decides what an object may use (see api_template.h).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "api_template.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "rest.h"

const char *const pki_scope_names[] = {SCOPE_GLOBAL, SCOPE_TENANT, SCOPE_ORG,
				       NULL};

/* An id member: *v set when sent (0 for null), untouched when absent. */
static void
read_id(struct json_object *body, const char *name, int64_t *v, int *sent)
{
	enum jv_presence pr = jsonval_presence(body, name);

	*sent = pr != JV_ABSENT;
	if (pr == JV_NULL)
		*v = 0;
	else if (pr == JV_PRESENT)
		(void)jsonval_get_int(body, name, v);
}

int
pki_scope_read(struct json_object *body, struct pki_scope *s,
	       struct jsonval_error *e)
{
	const char *name = jsonval_get_string(body, "scope");
	int tsent = 0, osent = 0;
	struct pki_scope n = *s;

	read_id(body, "tenant_id", &n.tenant_id, &tsent);
	read_id(body, "org_id", &n.org_id, &osent);
	if (name != NULL) {
		if (perm_scope_from_name(name, &n.scope) != 0)
			return rest_fail(e, EST_E_UNPROCESSABLE, "scope");
		/* A narrower scope's ids go with it unless they were sent. */
		if (n.scope != PERM_SCOPE_ORG && !osent)
			n.org_id = 0;
		if (n.scope == PERM_SCOPE_GLOBAL && !tsent)
			n.tenant_id = 0;
	} else if (n.scope == PERM_SCOPE_NONE) {
		n.scope = n.org_id != 0	     ? PERM_SCOPE_ORG
			  : n.tenant_id != 0 ? PERM_SCOPE_TENANT
					     : PERM_SCOPE_GLOBAL;
	}
	switch (n.scope) {
	case PERM_SCOPE_GLOBAL:
		if (n.tenant_id != 0)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "tenant_id",
				"a global object has no tenant");
		if (n.org_id != 0)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "org_id",
				"a global object has no organization");
		break;
	case PERM_SCOPE_TENANT:
		if (n.tenant_id == 0)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "tenant_id",
						 "the scope needs a tenant");
		if (n.org_id != 0)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "org_id",
				"a tenant-wide object has no organization");
		break;
	case PERM_SCOPE_ORG:
		if (n.tenant_id == 0)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "tenant_id",
						 "the scope needs a tenant");
		if (n.org_id == 0)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "org_id",
				"the scope needs an organization");
		break;
	default:
		return rest_fail(e, EST_E_UNPROCESSABLE, "scope");
	}
	*s = n;
	return 0;
}

int
pki_scope_check(struct db *db, const struct pki_scope *s,
		struct jsonval_error *e)
{
	struct db_result *res = NULL;
	int r = 0;

	if (s->tenant_id != 0) {
		if ((r = db_tenant_get(db, s->tenant_id, 0, &res)) ==
		    EST_E_NOTFOUND)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "tenant_id", "no such tenant");
		db_result_free(res);
		res = NULL;
		if (r != 0)
			return r;
	}
	if (s->org_id != 0) {
		if ((r = db_org_get(db, s->org_id, 0, &res)) == EST_E_NOTFOUND)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "org_id",
						 "no such organization");
		if (r != 0)
			return r;
		if (db_result_i64(res, 0, DB_ORG_TENANT_ID) != s->tenant_id)
			r = jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "org_id",
				"the organization is not in the tenant");
		db_result_free(res);
	}
	return r;
}

int
pki_scope_from_row(const char *scope, int64_t tenant_id, int64_t org_id,
		   struct pki_scope *out)
{
	if (perm_scope_from_name(scope, &out->scope) != 0)
		return EST_E_INTERNAL;
	out->tenant_id = tenant_id;
	out->org_id = org_id;
	return 0;
}

int
pki_scope_usable(const struct pki_scope *user, const struct pki_scope *used)
{
	switch (used->scope) {
	case PERM_SCOPE_GLOBAL:
		return 1;
	case PERM_SCOPE_TENANT:
		return user->scope != PERM_SCOPE_GLOBAL &&
		       user->tenant_id == used->tenant_id;
	case PERM_SCOPE_ORG:
		return user->scope == PERM_SCOPE_ORG &&
		       user->tenant_id == used->tenant_id &&
		       user->org_id == used->org_id;
	default:
		return 0;
	}
}

int
pki_scope_same(const struct pki_scope *a, const struct pki_scope *b)
{
	return a->scope == b->scope && a->tenant_id == b->tenant_id &&
	       a->org_id == b->org_id;
}

void
pki_scope_object(const struct pki_scope *s, struct perm_object *o)
{
	memset(o, 0, sizeof(*o));
	o->scope = s->scope;
	o->tenant_id = s->tenant_id;
	o->org_id = s->org_id;
}

int
pki_scope_put(struct json_object *o, const struct pki_scope *s)
{
	int r;

	if ((r = rest_put_str(o, "scope", perm_scope_name(s->scope))) != 0 ||
	    (r = rest_put_id(o, "tenant_id", s->tenant_id)) != 0)
		return r;
	return rest_put_id(o, "org_id", s->org_id);
}
