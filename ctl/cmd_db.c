/*
 * db migrate, db version: the schema, as the database's admin account
 * (the application's account has no DDL rights).
 */
#include "config.h"

#include <stdio.h>

#include "conf.h"
#include "ctl.h"
#include "err.h"

int
cmd_db_migrate(struct ctl *ctl, int argc, char **argv)
{
	const char *dir = NULL;
	const struct ctl_opt opts[] = {
		{"dir", &dir, NULL},
		{NULL, NULL, NULL},
	};
	struct conf *conf;
	struct db *db;
	char **pos;
	int npos, applied = 0, version = 0, r;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0 ||
	    ctl_conf(ctl, &conf) != 0)
		return 1;
	if (dir == NULL)
		dir = conf_get(conf, "db_migrations_dir");
	if (ctl_db(ctl, DB_ROLE_ADMIN, &db) != 0)
		return 1;
	if ((r = db_migrate(db, dir, &applied)) != 0)
		return ctl_fail_err(ctl, r,
				    "migrations from %s failed after "
				    "%d applied",
				    dir, applied);
	if ((r = db_schema_version(db, &version)) != 0)
		return ctl_fail_err(ctl, r, "cannot read the schema version");
	/* The wording is fixed: scripts match it. */
	printf("applied %d migrations, schema version %d\n", applied, version);
	return 0;
}

int
cmd_db_version(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_opt opts[] = {{NULL, NULL, NULL}};
	struct db *db;
	char **pos;
	int npos, version = 0, r;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0 ||
	    ctl_db(ctl, DB_ROLE_ADMIN, &db) != 0)
		return 1;
	if ((r = db_schema_version(db, &version)) != 0)
		return ctl_fail_err(ctl, r, "cannot read the schema version");
	printf("%d\n", version);
	return 0;
}
