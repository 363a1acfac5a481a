/*
 * app add: an API application (db/apiapp.h) for scripts, tests and
 * ./devstack, until the REST API manages them.  The AppKey is printed
 * this once, beside the AppID; only its hash is stored, so it cannot be
 * shown again (a lost key is replaced, not recovered).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "apiapp.h"
#include "ctl.h"
#include "dbq.h"
#include "err.h"
#include "util.h"

#define DESCRIPTION_MAX_CHARS 1024
/* The longest expiry: about 10 years. */
#define EXPIRES_DAYS_MAX 3653

/* The roles of an application, and whether each needs an organization. */
static const struct {
	const char *role;
	int org;
} app_roles[] = {
	{ROLE_TENANT_ADMIN, 0},
	{ROLE_TENANT_AUDITOR, 0},
	{ROLE_TENANT_OPERATOR, 0},
	{ROLE_ORG_OPERATOR, 1},
};

static int
check_role(struct ctl *ctl, const char *role, const char *org)
{
	size_t i;

	for (i = 0; i < sizeof(app_roles) / sizeof(app_roles[0]); i++) {
		if (strcmp(app_roles[i].role, role) != 0)
			continue;
		if (app_roles[i].org && org == NULL)
			return ctl_fail(ctl, "role %s needs --org", role);
		if (!app_roles[i].org && org != NULL)
			return ctl_fail(ctl,
					"role %s belongs to no organization",
					role);
		return 0;
	}
	return ctl_fail(ctl,
			"unknown role '%s' (tenant_admin, tenant_auditor, "
			"tenant_operator, org_operator)",
			role);
}

/*
 * Creates the application and its audit row in one transaction.  The row
 * names the application, its AppID and role, never the key or its hash.
 */
static int
create_app(struct db *db, const struct db_apiapp_new *n, const char *tenant,
	   const char *org, const char *expires, int64_t *id)
{
	const char *after[] = {"name", n->name, "app_id",	n->app_id,
			       "role", n->role, "tenant",	tenant,
			       "org",  org,	"expires_days", expires,
			       NULL};
	int64_t aid = 0;
	int r;

	if ((r = db_begin(db)) != 0)
		return r;
	if ((r = db_apiapp_create(db, n, &aid)) == 0 &&
	    (r = ctl_audit(db, "api_application", aid, n->name, n->tenant_id,
			   n->org_id, "create", after)) == 0 &&
	    (r = db_commit(db)) == 0) {
		*id = aid;
		return 0;
	}
	db_rollback(db);
	return r;
}

int
cmd_app_add(struct ctl *ctl, int argc, char **argv)
{
	const char *tenant = NULL, *org = NULL, *role = NULL, *name = NULL;
	const char *desc = NULL, *expires = NULL;
	const struct ctl_opt opts[] = {
		{"tenant", &tenant, NULL},    {"org", &org, NULL},
		{"role", &role, NULL},	      {"name", &name, NULL},
		{"description", &desc, NULL}, {"expires-days", &expires, NULL},
		{NULL, NULL, NULL},
	};
	struct db_apiapp_new n;
	struct db *db;
	char **pos, app_id[APIAPP_ID_LEN + 1], hash[APIAPP_KEY_HASH_LEN + 1];
	char *key = NULL;
	int64_t tid = 0, oid = 0, id = 0;
	int npos, days = 0, r, status = 1;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0)
		return 1;
	if (tenant == NULL || role == NULL || name == NULL)
		return ctl_fail(ctl,
				"--tenant, --role and --name are required");
	if (check_role(ctl, role, org) != 0 ||
	    ctl_check_text(ctl, "the name", name, APIAPP_NAME_MAX) != 0 ||
	    (desc != NULL && ctl_check_text(ctl, "the description", desc,
					    DESCRIPTION_MAX_CHARS) != 0) ||
	    (expires != NULL && ctl_parse_int(ctl, "--expires-days", expires, 1,
					      EXPIRES_DAYS_MAX, &days) != 0) ||
	    ctl_db(ctl, DB_ROLE_APP, &db) != 0 ||
	    ctl_tenant_org(ctl, db, tenant, org, &tid, &oid) != 0)
		return 1;
	if ((r = apiapp_credentials_new(app_id, &key, hash)) != 0)
		return ctl_fail_err(ctl, r, "cannot make the credentials");
	memset(&n, 0, sizeof(n));
	n.app_id = app_id;
	n.name = name;
	n.description = desc;
	n.key_hash = hash;
	n.role = role;
	n.tenant_id = tid;
	n.org_id = oid;
	n.expires_days = days;
	r = create_app(db, &n, tenant, org, expires, &id);
	if (r == EST_E_EXISTS) {
		ctl_fail(ctl, "tenant '%s' already has an application '%s'",
			 tenant, name);
		goto out;
	}
	if (r != 0) {
		ctl_fail_err(ctl, r, "cannot create the application");
		goto out;
	}
	/* The key is shown this once. */
	printf("%s\t%s\n", app_id, key);
	status = 0;
out:
	freezero_str(key);
	explicit_bzero(hash, sizeof(hash));
	return status;
}
