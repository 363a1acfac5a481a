/*
 * estuaryctl [-c estuary.conf] COMMAND ...
 *
 * The operator's tool: migrations, tenants and users, token keys, CAs, the
 * web server's client-CA file, the signer's journal and the audit log.
 * main() picks the configuration file and looks the command up in one
 * table.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "log.h"
#include "sigclient.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static const struct ctl_cmd commands[] = {
	{"db", "migrate", cmd_db_migrate, "[--dir DIR]"},
	{"db", "version", cmd_db_version, ""},
	{"tenant", "add", cmd_tenant_add,
	 "NAME [--description TEXT] [--exists-ok]"},
	{"org", "add", cmd_org_add,
	 "--tenant TENANT NAME [--description TEXT] [--exists-ok]"},
	{"user", "add", cmd_user_add,
	 "--username NAME (--admin | --role ROLE [--tenant TENANT "
	 "[--org ORG]]) [--password-file FILE] [--exists-ok]"},
	{"app", "add", cmd_app_add,
	 "--tenant TENANT [--org ORG] --role ROLE --name NAME "
	 "[--description TEXT] [--expires-days N]"},
	{"token", "info", cmd_token_info, ""},
	{"key", "list", cmd_key_list, "[--unused]"},
	{"key", "generate", cmd_key_generate,
	 "--label LABEL --type TYPE --usage ca|other [--subject DN]"},
	{"key", "destroy", cmd_key_destroy, "KEYID"},
	{"ca", "create", cmd_ca_create,
	 "--name NAME --subject DN --key-type TYPE --days N "
	 "[--parent NAME] [--path-len N] "
	 "[--scope global|tenant|organization] [--tenant TENANT] "
	 "[--org ORG] [--out FILE] [--exists-ok]"},
	{"ca", "list", cmd_ca_list, ""},
	{"ca", "export", cmd_ca_export,
	 "NAME [--chain] [--format pem|der] [--out FILE]"},
	{"tls", "client-ca", cmd_tls_client_ca,
	 "[--out FILE] [--reload] [--follow SECONDS]"},
	{"journal", "verify", cmd_journal_verify, "[FILE]"},
	{"audit", "verify", cmd_audit_verify, ""},
	{"audit", "list", cmd_audit_list,
	 "[--limit N] [--since TIME] [--until TIME] [--entity ENTITY] "
	 "[--csv]"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: estuaryctl [-c estuary.conf] COMMAND ...\n"
		   "commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s%s%s%s%s\n", commands[i].group,
			commands[i].name != NULL ? " " : "",
			commands[i].name != NULL ? commands[i].name : "",
			commands[i].usage[0] != '\0' ? " " : "",
			commands[i].usage);
}

static const struct ctl_cmd *
find_command(int argc, char **argv, int *used)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].group, argv[0]) != 0)
			continue;
		if (commands[i].name == NULL) {
			*used = 1;
			return &commands[i];
		}
		if (argc >= 2 && strcmp(commands[i].name, argv[1]) == 0) {
			*used = 2;
			return &commands[i];
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct ctl ctl;
	const struct ctl_cmd *cmd;
	char name[64];
	const char *env;
	int ch, used = 0, i, status;

	memset(&ctl, 0, sizeof(ctl));
	env = getenv("ESTUARY_CONF");
	ctl.confpath = env != NULL && env[0] != '\0' ? env
						     : SYSCONFDIR
			       "/estuary/estuary.conf";
	/* "+": stop at the command, whose options are its own. */
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			ctl.confpath = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return 1;
	}
	if ((cmd = find_command(argc, argv, &used)) == NULL) {
		fprintf(stderr, "estuaryctl: unknown command '%s%s%s'\n",
			argv[0], argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
		usage(stderr);
		return 1;
	}
	snprintf(name, sizeof(name), "%s%s%s", cmd->group,
		 cmd->name != NULL ? " " : "",
		 cmd->name != NULL ? cmd->name : "");
	ctl.cmdname = name;
	/* Library messages go to stderr; nothing here logs secrets. */
	log_init("estuaryctl", 0, LOG_LVL_WARN);
	for (i = used; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			printf("usage: estuaryctl %s%s%s\n", name,
			       cmd->usage[0] != '\0' ? " " : "", cmd->usage);
			return 0;
		}
		if (strcmp(argv[i], "--") == 0)
			break;
	}
	status = cmd->run(&ctl, argc - used, argv + used);
	sigclient_free(ctl.signer);
	db_close(ctl.db);
	db_close(ctl.dbadmin);
	conf_free(ctl.conf);
	return status;
}
