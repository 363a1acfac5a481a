/*
 * tls client-ca: the web server's list of CAs for client certificates.
 * lighttpd passes a client certificate to FastCGI only when it verifies
 * against ssl.ca-file (see DESIGN.md), so that file must hold every
 * active internal CA and every verified, active external CA.  The file is
 * written by pki_client_ca_write(), the same code estuary-api runs after
 * a CA changes: replaced atomically, and only when its content changes,
 * so that a reload is asked for only when it matters.  Unlike the API,
 * estuaryctl waits for the reload and reports its outcome.
 *
 * --follow SECONDS keeps it running and checks again every SECONDS: the
 * way to have the file follow CAs and external CAs that the REST API
 * creates, verifies, activates, deactivates or deletes when estuary-api
 * runs as a user that may neither write the file nor reload the web
 * server (the privilege split).  Run it as the user that may (a service
 * of its own; ./devstack runs it as the component "cawatch").  A failed
 * check (database restarting, reload failing) is reported and tried
 * again at the next interval; SIGTERM or SIGINT ends it.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "conf.h"
#include "ctl.h"
#include "db.h"
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

/* One check: rewrite the file when it changed, then reload. */
static int
client_ca_once(struct ctl *ctl, struct conf *conf, const char *out,
	       int do_reload, int quiet)
{
	struct db *db;
	const char *cmd;
	size_t n = 0;
	int r, changed = 0;

	if (ctl_db(ctl, DB_ROLE_APP, &db) != 0)
		return 1;
	if ((r = pki_client_ca_write(db, out, &changed, &n)) != 0) {
		/* The connection is made again at the next check. */
		db_close(ctl->db);
		ctl->db = NULL;
		return ctl_fail_err(ctl, r, "cannot write %s", out);
	}
	if (!quiet || changed)
		printf("%s: %zu CA certificate%s, %s\n", out, n,
		       n == 1 ? "" : "s", changed ? "updated" : "unchanged");
	fflush(stdout);
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

static volatile sig_atomic_t follow_stop;

static void
on_stop(int sig)
{
	(void)sig;
	follow_stop = 1;
}

int
cmd_tls_client_ca(struct ctl *ctl, int argc, char **argv)
{
	const char *out = NULL, *follow = NULL;
	int do_reload = 0;
	const struct ctl_opt opts[] = {
		{"out", &out, NULL},
		{"reload", NULL, &do_reload},
		{"follow", &follow, NULL},
		{NULL, NULL, NULL},
	};
	struct sigaction sa;
	struct timespec ts;
	struct conf *conf;
	char **pos;
	int npos, secs = 0, r;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0 ||
	    ctl_conf(ctl, &conf) != 0)
		return 1;
	if (follow != NULL &&
	    ctl_parse_int(ctl, "--follow", follow, 1, 3600, &secs) != 0)
		return 1;
	if (out == NULL)
		out = conf_get(conf, "tls_client_ca_file");
	r = client_ca_once(ctl, conf, out, do_reload, 0);
	if (follow == NULL)
		return r;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!follow_stop) {
		ts.tv_sec = secs;
		ts.tv_nsec = 0;
		/* A signal cuts the wait short; the loop then ends. */
		if (nanosleep(&ts, NULL) != 0 && follow_stop)
			break;
		(void)client_ca_once(ctl, conf, out, do_reload, 1);
	}
	return 0;
}
