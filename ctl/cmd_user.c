/*
 * user add: portal users, above all the first admin (./devstack
 * bootstraps it).  The password comes from a file, so that it never shows
 * in ps(1) or a shell history, or is generated and printed once.  Only its
 * argon2id hash is stored.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "dbq.h"
#include "err.h"
#include "passwd.h"
#include "util.h"

/* users.username is VARCHAR(64); login names are kept to plain ASCII. */
#define USERNAME_MAX 64
/* Random bytes of a generated password: 144 bits, 24 characters. */
#define GENERATED_PW_BYTES 18

/* What each role needs: a tenant, and an organization too. */
static const struct {
	const char *role;
	int tenant;
	int org;
} roles[] = {
	{ROLE_ADMIN, 0, 0},	      {ROLE_AUDITOR, 0, 0},
	{ROLE_TENANT_ADMIN, 1, 0},    {ROLE_TENANT_AUDITOR, 1, 0},
	{ROLE_TENANT_OPERATOR, 1, 0}, {ROLE_ORG_OPERATOR, 1, 1},
};
#define NROLES (sizeof(roles) / sizeof(roles[0]))

static int
check_role(struct ctl *ctl, const char *role, const char *tenant,
	   const char *org)
{
	size_t i;

	for (i = 0; i < NROLES; i++) {
		if (strcmp(roles[i].role, role) != 0)
			continue;
		if (roles[i].tenant && tenant == NULL)
			return ctl_fail(ctl, "role %s needs --tenant", role);
		if (!roles[i].tenant && tenant != NULL)
			return ctl_fail(ctl, "role %s belongs to no tenant",
					role);
		if (roles[i].org && org == NULL)
			return ctl_fail(ctl, "role %s needs --org", role);
		if (!roles[i].org && org != NULL)
			return ctl_fail(ctl,
					"role %s belongs to no organization",
					role);
		return 0;
	}
	return ctl_fail(ctl,
			"unknown role '%s' (admin, auditor, tenant_admin, "
			"tenant_auditor, tenant_operator, org_operator)",
			role);
}

/*
 * The password is the file's first line without its line ending.  The
 * buffer that held the file is wiped whatever happens.
 */
static int
read_password(struct ctl *ctl, const char *path, char **out)
{
	char *data = NULL, *pw;
	size_t len = 0, n;
	int r;

	if ((r = ctl_read_file(path, PASSWD_MAX + 2, &data, &len)) != 0)
		return ctl_fail_err(ctl, r, "cannot read password file %s",
				    path);
	n = strcspn(data, "\r\n");
	if (n == 0 || n > PASSWD_MAX || memchr(data, '\0', len) != NULL) {
		freezero(data, len);
		return ctl_fail(ctl,
				"%s: the first line must hold a password of 1 "
				"to %d bytes",
				path, PASSWD_MAX);
	}
	if ((pw = strndup(data, n)) == NULL) {
		freezero(data, len);
		return ctl_fail_err(ctl, EST_E_NOMEM, "password");
	}
	freezero(data, len);
	*out = pw;
	return 0;
}

/*
 * An existing user is an error, or with --exists-ok a success that prints
 * what creating it would have printed, except a password, which only the
 * run that generated it knew.
 */
static int
user_exists(struct ctl *ctl, const char *username, int exists_ok, int pwfile,
	    int64_t id)
{
	if (!exists_ok)
		return ctl_fail(ctl, "user '%s' already exists", username);
	fprintf(stderr,
		"estuaryctl: %s: user '%s' already exists; "
		"left unchanged\n",
		ctl->cmdname, username);
	if (pwfile)
		printf("%" PRId64 "\n", id);
	return 0;
}

/*
 * Creates the user and its audit row in one transaction.  The row names
 * the account and its role, never the password or its hash.
 */
static int
create_user(struct db *db, const char *username, const char *hash,
	    const char *role, const char *tenant, const char *org, int64_t tid,
	    int64_t oid, int64_t *id)
{
	const char *after[] = {"username", username, "role", role, "tenant",
			       tenant,	   "org",    org,    NULL};
	int64_t uid = 0;
	int r;

	if ((r = db_begin(db)) != 0)
		return r;
	if ((r = db_user_create(db, username, hash, role, tid, oid, &uid)) ==
		    0 &&
	    (r = ctl_audit(db, "user", uid, username, tid, oid, "create",
			   after)) == 0 &&
	    (r = db_commit(db)) == 0) {
		*id = uid;
		return 0;
	}
	db_rollback(db);
	return r;
}

int
cmd_user_add(struct ctl *ctl, int argc, char **argv)
{
	const char *username = NULL, *role = NULL, *tenant = NULL;
	const char *org = NULL, *pwfile = NULL;
	int admin = 0, exists_ok = 0;
	const struct ctl_opt opts[] = {
		{"username", &username, NULL},
		{"admin", NULL, &admin},
		{"role", &role, NULL},
		{"tenant", &tenant, NULL},
		{"org", &org, NULL},
		{"password-file", &pwfile, NULL},
		{"exists-ok", NULL, &exists_ok},
		{NULL, NULL, NULL},
	};
	struct db *db;
	char **pos, *pw = NULL, *hash = NULL;
	int64_t tid = 0, oid = 0, id = 0;
	int npos, r, status = 1;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0)
		return 1;
	if (username == NULL)
		return ctl_fail(ctl, "--username is required");
	if (admin && role != NULL)
		return ctl_fail(ctl, "--admin and --role exclude each other");
	if (!admin && role == NULL)
		return ctl_fail(ctl, "--admin or --role is required");
	if (admin)
		role = ROLE_ADMIN;
	if (ctl_check_label(ctl, "the username", username, USERNAME_MAX) != 0 ||
	    check_role(ctl, role, tenant, org) != 0 ||
	    ctl_db(ctl, DB_ROLE_APP, &db) != 0 ||
	    ctl_tenant_org(ctl, db, tenant, org, &tid, &oid) != 0)
		return 1;
	/* Look first, so that an existing user costs no password work. */
	if ((r = db_user_find(db, username, &id)) == 0)
		return user_exists(ctl, username, exists_ok, pwfile != NULL,
				   id);
	if (r != EST_E_NOTFOUND)
		return ctl_fail_err(ctl, r, "cannot look up user");
	if (pwfile != NULL) {
		if (read_password(ctl, pwfile, &pw) != 0)
			goto out;
	} else if ((r = passwd_generate(GENERATED_PW_BYTES, &pw)) != 0) {
		ctl_fail_err(ctl, r, "cannot generate a password");
		goto out;
	}
	if ((r = passwd_hash(pw, &hash)) != 0) {
		ctl_fail_err(ctl, r, "cannot hash the password");
		goto out;
	}
	r = create_user(db, username, hash, role, tenant, org, tid, oid, &id);
	if (r == EST_E_EXISTS) {
		/* Someone else created it in the meantime. */
		if (db_user_find(db, username, &id) != 0)
			id = 0;
		status = user_exists(ctl, username, exists_ok, pwfile != NULL,
				     id);
		goto out;
	}
	if (r != 0) {
		ctl_fail_err(ctl, r, "cannot create user");
		goto out;
	}
	/* A generated password is shown this once; otherwise the id. */
	if (pwfile == NULL)
		printf("%s\n", pw);
	else
		printf("%" PRId64 "\n", id);
	status = 0;
out:
	freezero_str(hash);
	freezero_str(pw);
	return status;
}
