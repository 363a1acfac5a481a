/*
 * tls client-ca: the web server's list of CAs for client certificates.
 * lighttpd passes a client certificate to FastCGI only when it verifies
 * against ssl.ca-file (see DESIGN.md), so that file must hold every
 * active internal CA; external CAs join it with issue 5.  The file is
 * replaced atomically, and only when its content changes, so that a
 * reload is asked for only when it matters.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "dbq.h"
#include "err.h"
#include "x509.h"

/* Larger than any bundle of CA certificates we would write. */
#define CA_FILE_MAX (16U * 1024 * 1024)

/* The PEM of every active CA, in the order of the database's list. */
static int
bundle(struct ctl *ctl, struct db *db, char **out, size_t *outlen,
       size_t *ncerts)
{
	struct db_ca **list = NULL;
	char *buf = NULL, *pem, *nbuf;
	size_t n = 0, i, len = 0, plen, count = 0;
	int r;

	if ((r = db_ca_list_active(db, &list, &n)) != 0)
		return ctl_fail_err(ctl, r, "cannot list CAs");
	if ((buf = strdup("")) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (list[i]->cert_der == NULL)
			continue;
		count++;
		if ((r = x509_der_to_pem(list[i]->cert_der, list[i]->cert_len,
					 &pem, &plen)) != 0)
			goto out;
		if ((nbuf = realloc(buf, len + plen + 1)) == NULL) {
			free(pem);
			r = EST_E_NOMEM;
			goto out;
		}
		buf = nbuf;
		memcpy(buf + len, pem, plen + 1);
		len += plen;
		free(pem);
	}
	*out = buf;
	*outlen = len;
	*ncerts = count;
	buf = NULL;
out:
	free(buf);
	db_ca_list_free(list, n);
	if (r != 0)
		return ctl_fail_err(ctl, r, "cannot build the CA bundle");
	return 0;
}

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
	char **pos, *pem = NULL, *old = NULL;
	const char *cmd;
	size_t len = 0, oldlen = 0, n = 0;
	int npos, r, changed, status = 1;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0 ||
	    ctl_conf(ctl, &conf) != 0)
		return 1;
	if (out == NULL)
		out = conf_get(conf, "tls_client_ca_file");
	if (ctl_db(ctl, DB_ROLE_APP, &db) != 0 ||
	    bundle(ctl, db, &pem, &len, &n) != 0)
		return 1;
	r = ctl_read_file(out, CA_FILE_MAX, &old, &oldlen);
	if (r != 0 && r != EST_E_NOTFOUND && r != EST_E_TOOBIG) {
		ctl_fail_err(ctl, r, "cannot read %s", out);
		goto out;
	}
	changed = r != 0 || oldlen != len || memcmp(old, pem, len) != 0;
	if (changed && (r = ctl_write_file(out, pem, len, 0644)) != 0) {
		ctl_fail_err(ctl, r, "cannot write %s", out);
		goto out;
	}
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
			goto out;
	}
	status = 0;
out:
	free(old);
	free(pem);
	return status;
}
