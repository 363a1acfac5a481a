/*
 * tenant add, org add.  Names are free UTF-8 text, stored as given (every
 * statement is prepared); a name that exists is an error, or with
 * --exists-ok a success that prints the existing id, so that scripts such
 * as ./devstack can run again harmlessly.  A creation is audited in its
 * own transaction; an existing name changes nothing and leaves no row.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "ctl.h"
#include "dbq.h"
#include "err.h"

/* Column sizes of db/001_identity.sql, in characters. */
#define NAME_MAX_CHARS 128
#define DESCRIPTION_MAX_CHARS 1024

/* Creates the tenant and its audit row in one transaction. */
static int
create_tenant(struct db *db, const char *name, const char *desc, int64_t *id)
{
	const char *after[] = {"name", name, "description", desc, NULL};
	int64_t tid = 0;
	int r;

	if ((r = db_begin(db)) != 0)
		return r;
	if ((r = db_tenant_create(db, name, desc, &tid)) == 0 &&
	    (r = ctl_audit(db, "tenant", tid, name, tid, 0, "create", after)) ==
		    0 &&
	    (r = db_commit(db)) == 0) {
		*id = tid;
		return 0;
	}
	db_rollback(db);
	return r;
}

/* Creates the organization and its audit row in one transaction. */
static int
create_org(struct db *db, int64_t tid, const char *tenant, const char *name,
	   const char *desc, int64_t *id)
{
	const char *after[] = {"name",	 name,	 "description", desc,
			       "tenant", tenant, NULL};
	int64_t oid = 0;
	int r;

	if ((r = db_begin(db)) != 0)
		return r;
	if ((r = db_org_create(db, tid, name, desc, &oid)) == 0 &&
	    (r = ctl_audit(db, "organization", oid, name, tid, oid, "create",
			   after)) == 0 &&
	    (r = db_commit(db)) == 0) {
		*id = oid;
		return 0;
	}
	db_rollback(db);
	return r;
}

int
cmd_tenant_add(struct ctl *ctl, int argc, char **argv)
{
	const char *desc = NULL;
	int exists_ok = 0;
	const struct ctl_opt opts[] = {
		{"description", &desc, NULL},
		{"exists-ok", NULL, &exists_ok},
		{NULL, NULL, NULL},
	};
	struct db *db;
	char **pos;
	int64_t id = 0;
	int npos, r;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 1, 1) != 0 ||
	    ctl_check_text(ctl, "the tenant name", pos[0], NAME_MAX_CHARS) !=
		    0 ||
	    (desc != NULL && ctl_check_text(ctl, "the description", desc,
					    DESCRIPTION_MAX_CHARS) != 0) ||
	    ctl_db(ctl, DB_ROLE_APP, &db) != 0)
		return 1;
	r = create_tenant(db, pos[0], desc, &id);
	if (r == EST_E_EXISTS) {
		if (!exists_ok)
			return ctl_fail(ctl, "tenant '%s' already exists",
					pos[0]);
		if ((r = db_tenant_find(db, pos[0], &id)) != 0)
			return ctl_fail_err(ctl, r, "cannot look up tenant");
	} else if (r != 0) {
		return ctl_fail_err(ctl, r, "cannot create tenant");
	}
	printf("%" PRId64 "\n", id);
	return 0;
}

int
cmd_org_add(struct ctl *ctl, int argc, char **argv)
{
	const char *desc = NULL, *tenant = NULL;
	int exists_ok = 0;
	const struct ctl_opt opts[] = {
		{"tenant", &tenant, NULL},
		{"description", &desc, NULL},
		{"exists-ok", NULL, &exists_ok},
		{NULL, NULL, NULL},
	};
	struct db *db;
	char **pos;
	int64_t tid = 0, unused = 0, id = 0;
	int npos, r;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 1, 1) != 0)
		return 1;
	if (tenant == NULL)
		return ctl_fail(ctl, "--tenant is required");
	if (ctl_check_text(ctl, "the organization name", pos[0],
			   NAME_MAX_CHARS) != 0 ||
	    (desc != NULL && ctl_check_text(ctl, "the description", desc,
					    DESCRIPTION_MAX_CHARS) != 0) ||
	    ctl_db(ctl, DB_ROLE_APP, &db) != 0 ||
	    ctl_tenant_org(ctl, db, tenant, NULL, &tid, &unused) != 0)
		return 1;
	r = create_org(db, tid, tenant, pos[0], desc, &id);
	if (r == EST_E_EXISTS) {
		if (!exists_ok)
			return ctl_fail(ctl,
					"organization '%s' already exists in "
					"tenant '%s'",
					pos[0], tenant);
		if ((r = db_org_find(db, tid, pos[0], &id)) != 0)
			return ctl_fail_err(ctl, r,
					    "cannot look up organization");
	} else if (r != 0) {
		return ctl_fail_err(ctl, r, "cannot create organization");
	}
	printf("%" PRId64 "\n", id);
	return 0;
}
