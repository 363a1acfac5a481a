/*
 * tls client-ca: the web server's list of CAs for client certificates.
 * lighttpd passes a client certificate to FastCGI only when it verifies
 * against ssl.ca-file (see DESIGN.md), so that file must hold every
 * active internal CA and every verified, active external CA.  The file is
 * written by pki_client_ca_write(), the same code estuary-api runs after
 * a CA changes: replaced atomically, and only when its content changes,
 * so that a reload is asked for only when it matters.  Unlike the API,
 * estuaryctl waits for the reload and reports its outcome.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ca.h"
#include "conf.h"
#include "ctl.h"
#include "err.h"

/*
 * Runs web_reload_command through /bin/sh: it is the operator's own
 * configuration (say "kill -USR1 $(cat /run/lighttpd.pid)").
 */
static int
reload(struct ctl *ctl, const char *cmd)
{
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) < 0)
		return ctl_fail(ctl, "cannot fork");
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return ctl_fail(ctl, "web_reload_command failed (%s %d)",
				WIFEXITED(st) ? "exit status" : "signal",
				WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}

int
cmd_tls_client_ca(struct ctl *ctl, int argc, char **argv)
{
	const char *out = NULL;
	int do_reload = 0;
	const struct ctl_opt opts[] = {
		{"out", &out, NULL},
		{"reload", NULL, &do_reload},
		{NULL, NULL, NULL},
	};
	struct conf *conf;
	struct db *db;
	char **pos;
	const char *cmd;
	size_t n = 0;
	int npos, r, changed = 0;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0 ||
	    ctl_conf(ctl, &conf) != 0)
		return 1;
	if (out == NULL)
		out = conf_get(conf, "tls_client_ca_file");
	if (ctl_db(ctl, DB_ROLE_APP, &db) != 0)
		return 1;
	if ((r = pki_client_ca_write(db, out, &changed, &n)) != 0)
		return ctl_fail_err(ctl, r, "cannot write %s", out);
	printf("%s: %zu CA certificate%s, %s\n", out, n, n == 1 ? "" : "s",
	       changed ? "updated" : "unchanged");
	if (changed && do_reload) {
		cmd = conf_get(conf, "web_reload_command");
		if (cmd == NULL || cmd[0] == '\0')
			fprintf(stderr,
				"estuaryctl: %s: no web_reload_command "
				"in %s; not reloading\n",
				ctl->cmdname, ctl->confpath);
		else if (reload(ctl, cmd) != 0)
			return 1;
	}
	return 0;
}
