/* Start-up of the unprivileged daemons (runas.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "runas.h"

int
runas_resolve(const char *user, struct runas *ra)
{
	struct passwd *pw;

	memset(ra, 0, sizeof(*ra));
	if (user == NULL || user[0] == '\0')
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_err("fcgi_user %s does not exist", user);
		return EST_E_CONFIG;
	}
	if (geteuid() != 0) {
		if (pw->pw_uid != geteuid())
			log_warn("not root: running as uid %u, not as %s",
				 (unsigned)geteuid(), user);
		return 0;
	}
	if (strlen(pw->pw_name) >= sizeof(ra->name))
		return EST_E_CONFIG;
	snprintf(ra->name, sizeof(ra->name), "%s", pw->pw_name);
	ra->uid = pw->pw_uid;
	ra->gid = pw->pw_gid;
	ra->set = 1;
	return 0;
}

int
runas_drop(const struct runas *ra)
{
	if (!ra->set)
		return 0;
	if (initgroups(ra->name, ra->gid) != 0 ||
	    setresgid(ra->gid, ra->gid, ra->gid) != 0 ||
	    setresuid(ra->uid, ra->uid, ra->uid) != 0) {
		log_err("cannot switch to user %s: %s", ra->name,
			strerror(errno));
		return EST_E_CONFIG;
	}
	if (setuid(0) == 0) {
		log_err("could regain root after dropping privileges");
		return EST_E_CONFIG;
	}
	return 0;
}

int
runas_pidfile(const char *path, pid_t pid)
{
	char line[32];
	int fd, n, ok;

	if ((fd = open(path,
		       O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		       0644)) < 0) {
		log_err("%s: %s", path, strerror(errno));
		return EST_E_CONFIG;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)pid);
	ok = write(fd, line, (size_t)n) == n;
	if (close(fd) != 0 || !ok) {
		log_err("%s: cannot write", path);
		return EST_E_CONFIG;
	}
	return 0;
}

int
runas_daemonize(const char *pidfile)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0) {
		log_err("fork: %s", strerror(errno));
		return EST_E_CONFIG;
	}
	if (pid > 0) {
		if (pidfile != NULL && runas_pidfile(pidfile, pid) != 0) {
			kill(pid, SIGTERM);
			_exit(1);
		}
		_exit(0);
	}
	if (setsid() < 0 || chdir("/") != 0 ||
	    (fd = open("/dev/null", O_RDWR)) < 0)
		return EST_E_CONFIG;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}
