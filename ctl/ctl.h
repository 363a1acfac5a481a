/*
 * estuaryctl: the operator's command-line tool.  main.c holds the table of
 * commands; each command group lives in its own cmd_*.c file and shares
 * the helpers of common.c.
 *
 * A command handler returns the process exit status: 0 on success, 1 on
 * failure after printing one line on stderr (ctl_fail()).  Output meant
 * for scripts goes to stdout, one value or one tab-separated record per
 * line.
 */
#ifndef ESTUARY_CTL_H
#define ESTUARY_CTL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "db.h"

struct conf;
struct sigclient;

/* What the commands share; connections are opened on first use. */
struct ctl {
	const char *confpath;
	struct conf *conf;
	struct db *db;	    /* DB_ROLE_APP */
	struct db *dbadmin; /* DB_ROLE_ADMIN */
	struct sigclient *signer;
	const char *cmdname; /* "ca create", for messages */
};

struct ctl_cmd {
	const char *group; /* "ca" */
	const char *name;  /* "create"; NULL when the group is the command */
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *usage; /* the arguments, for usage messages */
};

/*
 * Options of one command, long form only ("--name VALUE", "--name=VALUE"
 * or "--flag").  An option not in the table, one given twice, a missing
 * value or a value on a flag is an error; "--" ends the options.
 */
struct ctl_opt {
	const char *name;   /* without the leading "--" */
	const char **value; /* for an option that takes a value */
	int *flag;	    /* for a flag; set to 1 when present */
};

/*
 * Parses argv (argv[0] is the first argument after the command words)
 * against opts; the other arguments are returned in order in pos (argv is
 * reused for them) and their number in *npos, which must be between
 * minpos and maxpos.  Prints the reason and returns 1 on error.
 */
int ctl_getopt(struct ctl *ctl, int argc, char **argv,
	       const struct ctl_opt *opts, char ***pos, int *npos, int minpos,
	       int maxpos);

/* Prints "estuaryctl: <command>: <message>" on stderr; returns 1. */
int ctl_fail(struct ctl *ctl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Like ctl_fail() with ": <est_strerror(err)>" appended. */
int ctl_fail_err(struct ctl *ctl, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Loads estuary.conf on first use. */
int ctl_conf(struct ctl *ctl, struct conf **out);
/* Connects to the database as role, or to the signer, on first use. */
int ctl_db(struct ctl *ctl, enum db_role role, struct db **out);
int ctl_signer(struct ctl *ctl, struct sigclient **out);

/* A decimal integer between min and max; prints the reason on error. */
int ctl_parse_int(struct ctl *ctl, const char *opt, const char *s, int min,
		  int max, int *out);
/*
 * Checks free text given by the operator (names, descriptions): 1..max
 * characters of valid UTF-8 without control characters.  Prints the
 * reason and returns 1 when it is not.
 */
int ctl_check_text(struct ctl *ctl, const char *what, const char *s,
		   size_t max);
/* Checks a name made of [A-Za-z0-9._-], 1..max bytes. */
int ctl_check_label(struct ctl *ctl, const char *what, const char *s,
		    size_t max);

/*
 * Reads a whole file of at most max bytes into a NUL-terminated buffer.
 * Returns 0 or a negative EST_E_* code (EST_E_NOTFOUND when it does not
 * exist, EST_E_TOOBIG when it is larger).
 */
int ctl_read_file(const char *path, size_t max, char **out, size_t *len);
/*
 * Replaces path atomically: writes a temporary file in the same directory,
 * syncs it, gives it mode and renames it over path.
 */
int ctl_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* Writes data to path with ctl_write_file(), or to stdout when path is NULL. */
int ctl_output(const char *path, const void *data, size_t len);

/* Resolves --tenant and --org names to ids (0 for none). */
int ctl_tenant_org(struct ctl *ctl, struct db *db, const char *tenant,
		   const char *org, int64_t *tenant_id, int64_t *org_id);

/* Command handlers, one group per file. */
int cmd_db_migrate(struct ctl *, int, char **);
int cmd_db_version(struct ctl *, int, char **);
int cmd_tenant_add(struct ctl *, int, char **);
int cmd_org_add(struct ctl *, int, char **);
int cmd_user_add(struct ctl *, int, char **);
int cmd_app_add(struct ctl *, int, char **);
int cmd_token_info(struct ctl *, int, char **);
int cmd_key_list(struct ctl *, int, char **);
int cmd_key_generate(struct ctl *, int, char **);
int cmd_key_destroy(struct ctl *, int, char **);
int cmd_ca_create(struct ctl *, int, char **);
int cmd_ca_list(struct ctl *, int, char **);
int cmd_ca_export(struct ctl *, int, char **);
int cmd_tls_client_ca(struct ctl *, int, char **);
int cmd_journal_verify(struct ctl *, int, char **);
int cmd_audit_verify(struct ctl *, int, char **);
int cmd_audit_list(struct ctl *, int, char **);

/*
 * Appends the audit row of a change estuaryctl made, inside db's open
 * transaction (so that the change and its row commit together): actor
 * "system" named after the invoking OS user, outcome success.  after holds
 * the new values as key, value string pairs ending with NULL; they become
 * the details {"after": {...}}, so never pass a secret.  Returns 0 or an
 * EST_E_* code, printing nothing: the caller rolls back and reports.
 */
int ctl_audit(struct db *db, const char *entity, int64_t entity_id,
	      const char *entity_name, int64_t tenant_id, int64_t org_id,
	      const char *action, const char *const *after);

#endif
