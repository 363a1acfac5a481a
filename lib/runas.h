/*
 * Start-up of the unprivileged daemons (estuary-api, estuary-est,
 * estuary-worker): the account they switch to (fcgi_user), looked up
 * before they detach, dropping root for good, and detaching with a pid
 * file.  The signer has its own start-up (it reports readiness through a
 * pipe before its parent exits).
 */
#ifndef ESTUARY_RUNAS_H
#define ESTUARY_RUNAS_H

#include <sys/types.h>

struct runas {
	int set; /* 0: keep running as who we are */
	uid_t uid;
	gid_t gid;
	char name[64];
};

/*
 * Looks user up (NULL or "": nothing to switch to).  Not root: a warning
 * when user is someone else, and nothing to switch to.  EST_E_CONFIG for
 * an unknown user.
 */
int runas_resolve(const char *user, struct runas *ra);
/* Switches to ra's account (groups, gid, uid) and checks root is gone. */
int runas_drop(const struct runas *ra);
/* Writes pid and a newline to path (created 0644, not through a link). */
int runas_pidfile(const char *path, pid_t pid);
/*
 * Detaches from the terminal.  The parent writes the pid file (if
 * pidfile is not NULL) with the child's pid before it exits, so whoever
 * started us finds the file as soon as we have returned.
 */
int runas_daemonize(const char *pidfile);

#endif
