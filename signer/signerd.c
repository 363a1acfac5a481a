/*
 * estuary-signerd: the only Estuary process that loads a PKCS#11 module or
 * knows a token PIN.  Start-up order matters and is the point of this
 * file: read the configuration, fork (PKCS#11 state does not survive a
 * fork), create the socket while still privileged, drop privileges, and
 * only then load the module, log in and open the journal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"
#include "log.h"
#include "profile.h"
#include "server.h"
#include "signer.h"
#include "sjournal.h"
#include "util.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONF SYSCONFDIR "/estuary/estuary.conf"

/* Exit statuses, documented in estuary-signerd(8). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1, /* configuration, module, journal, other */
	EXIT_USAGE = 2,
	EXIT_NOTOKEN = 3,
	EXIT_PIN = 4,
	EXIT_HSM = 5,
};

static int
exit_status(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case EST_E_NOTOKEN:
		return EXIT_NOTOKEN;
	case EST_E_PIN:
		return EXIT_PIN;
	case EST_E_HSM:
		return EXIT_HSM;
	default:
		return EXIT_FAIL;
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: estuary-signerd [-dt] [-c estuary.conf] "
			"[-p pidfile]\n");
	exit(EXIT_USAGE);
}

/*
 * Forks into the background.  The parent waits for the child to report
 * its start-up result on a pipe and exits with it, so that a service
 * manager sees a failed start as a failure.  Returns the pipe's write end
 * in the child.
 */
static int
daemonize(int *ready)
{
	int p[2], fd;
	uint8_t status;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return EST_E_IO;
	if ((pid = fork()) < 0)
		return EST_E_IO;
	if (pid > 0) {
		close(p[1]);
		do
			n = read(p[0], &status, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 ? status : EXIT_FAIL);
	}
	close(p[0]);
	if (setsid() < 0 || chdir("/") != 0)
		return EST_E_IO;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	*ready = p[1];
	return 0;
}

static void
report(int ready, int status)
{
	uint8_t b = (uint8_t)status;

	if (ready < 0)
		return;
	if (write(ready, &b, 1) != 1)
		log_warn("cannot report start-up status");
	close(ready);
}

static int
write_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	if ((fd = open(path,
		       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		       0644)) < 0) {
		log_err("pid file %s: %s", path, strerror(errno));
		return EST_E_CONFIG;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return EST_E_IO;
	}
	close(fd);
	return 0;
}

/*
 * Becomes signer_user when started as root.  Started as another user, the
 * signer stays that user: it cannot change, and says so if it was asked.
 */
static int
drop_privileges(const char *user)
{
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0) {
		if (*user != '\0' &&
		    (server_lookup_user(user, &uid, &gid) != 0 ||
		     uid != geteuid()))
			log_warn("not started as root: signer_user %s ignored",
				 user);
		return 0;
	}
	if (*user == '\0') {
		log_warn("running as root: set signer_user");
		return 0;
	}
	return server_drop_privileges(user);
}

/*
 * -t: everything but serving, as the user that would serve, so that a
 * check run as root creates nothing in the token that the signer's user
 * could not open afterwards.
 */
static int
check(const struct profile *prof, const char *user, const char *journal)
{
	struct signer *s = NULL;
	uint64_t lastseq = 0;
	size_t nkeys = 0, pinlen = 0;
	char *pin = NULL;
	int r;

	if ((r = profile_read_pin(prof, &pin, &pinlen)) != 0 ||
	    (r = drop_privileges(user)) != 0 ||
	    (r = sjournal_check(journal, &lastseq)) != 0)
		goto out;
	r = signer_open(prof, pin, pinlen, NULL, &s);
	pin = NULL;
	if (r != 0 || (r = signer_selftest(s, &nkeys)) != 0)
		goto out;
	printf("estuary-signerd: token \"%s\" (profile %s): %zu keys; "
	       "journal %s: %" PRIu64 " entries; OK\n",
	       s->p11->label, prof->name, nkeys, journal, lastseq);
out:
	freezero(pin, pinlen);
	signer_close(s);
	return r;
}

int
main(int argc, char **argv)
{
	const char *confpath = DEFAULT_CONF, *pidfile = NULL, *user,
		   *sock = NULL, *journal;
	struct profile *prof = NULL;
	struct signer *s = NULL;
	struct conf *conf = NULL;
	uid_t *allowed = NULL, owner = (uid_t)-1;
	gid_t group = (gid_t)-1;
	size_t nallowed = 0;
	int ch, fg = 0, test = 0, level, maxc, r, ready = -1;
	int listenfd = -1, sigfd = -1;
	char err[512], *pin = NULL;
	size_t pinlen = 0;
	sigset_t set;

	while ((ch = getopt(argc, argv, "c:dp:t")) != -1) {
		switch (ch) {
		case 'c':
			confpath = optarg;
			break;
		case 'd':
			fg = 1;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 't':
			test = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("estuary-signerd", 0, LOG_LVL_INFO);
	if ((r = estuary_conf_load(confpath, &conf, err, sizeof(err))) != 0) {
		log_err("%s", err);
		return EXIT_FAIL;
	}
	if ((level = log_level_parse(conf_get(conf, "log_level"))) < 0) {
		log_err("%s: log_level must be err, warn, info or debug",
			confpath);
		r = EST_E_CONFIG;
		goto out;
	}
	log_init("estuary-signerd", !fg && !test, level);
	if ((r = profile_load(conf_get(conf, "hsm_profile"), &prof, err,
			      sizeof(err))) != 0) {
		log_err("%s", err);
		goto out;
	}
	if ((r = profile_override(prof, conf_get(conf, "hsm_token_label"),
				  conf_get(conf, "hsm_pin_file"))) != 0) {
		log_err("%s: bad hsm_token_label or hsm_pin_file", confpath);
		goto out;
	}
	user = conf_get(conf, "signer_user");
	sock = conf_get(conf, "signer_socket");
	journal = conf_get(conf, "signer_journal");
	if ((r = conf_get_int(conf, "signer_max_clients", &maxc)) != 0 ||
	    maxc < 1) {
		log_err("%s: signer_max_clients must be at least 1", confpath);
		r = EST_E_CONFIG;
		goto out;
	}
	/* Each connection holds a session; one more stays logged in. */
	if ((unsigned)maxc > prof->max_sessions - 1 && prof->max_sessions > 1)
		maxc = (int)prof->max_sessions - 1;
	if ((r = server_allowed_users(conf_get(conf, "signer_allowed_users"),
				      &allowed, &nallowed)) != 0)
		goto out;
	if (test) {
		r = check(prof, user, journal);
		goto out;
	}
	if (!fg && (r = daemonize(&ready)) != 0) {
		log_err("cannot daemonize");
		goto out;
	}
	/*
	 * Signals are taken synchronously from a signalfd by the accept
	 * loop; every thread inherits the blocked mask.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		log_err("signalfd: %s", strerror(errno));
		r = EST_E_INTERNAL;
		goto out;
	}
	if (geteuid() == 0 && *user != '\0' &&
	    (r = server_lookup_user(user, &owner, &group)) != 0) {
		log_err("signer_user %s does not exist", user);
		goto out;
	}
	/*
	 * The socket, the pid file and the PIN are reached with the
	 * privileges we were started with, so that they may belong to root;
	 * the token and the journal with the signer's own.
	 */
	if ((r = server_listen(sock, owner, group, &listenfd)) != 0 ||
	    (pidfile != NULL && (r = write_pidfile(pidfile)) != 0) ||
	    (r = profile_read_pin(prof, &pin, &pinlen)) != 0 ||
	    (r = drop_privileges(user)) != 0)
		goto out;
	r = signer_open(prof, pin, pinlen, journal, &s);
	pin = NULL;
	if (r != 0)
		goto out;
	log_info("listening on %s", sock);
	report(ready, EXIT_OK);
	ready = -1;
	r = server_run(s, listenfd, sigfd, allowed, nallowed, (unsigned)maxc);
out:
	if (listenfd >= 0) {
		close(listenfd);
		/* May fail after dropping privileges; start-up cleans up. */
		unlink(sock);
	}
	if (pidfile != NULL && listenfd >= 0)
		unlink(pidfile);
	if (sigfd >= 0)
		close(sigfd);
	signer_close(s);
	freezero(pin, pinlen);
	report(ready, exit_status(r));
	free(allowed);
	profile_free(prof);
	conf_free(conf);
	if (r != 0)
		log_err("exiting: %s", est_strerror(r));
	return exit_status(r);
}
