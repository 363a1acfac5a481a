/*
 * estuary-worker: the background tasks of Estuary (estuary-worker(8)).
 * It runs batch jobs (pki/batch_run.h) and, once a minute, the sweeps of
 * pki/sweep.h: CRLs before their nextUpdate, keys past their retention,
 * expired batch archives, directories of no job, expired certificates.
 *
 * Start-up follows estuary-api: read the configuration, check it, detach
 * (unless -d), write the pid file, drop privileges to fcgi_user, then
 * work.  The database and the signer are connected when needed and again
 * after a failure, so the worker outlives a restart of either.  SIGTERM
 * and SIGINT end it after the current item: the job it runs is given
 * back, and it or another worker resumes it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch_run.h"
#include "conf.h"
#include "db.h"
#include "devmgmt.h"
#include "err.h"
#include "log.h"
#include "runas.h"
#include "sigclient.h"
#include "sweep.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define PROG "estuary-worker"
#define DEFAULT_CONF SYSCONFDIR "/estuary/estuary.conf"
#define POLL_SECONDS 1
#define BACKOFF_MAX 60
#define SWEEP_SECONDS 60

static volatile sig_atomic_t stop;

struct worker {
	const struct conf *conf;
	struct db *db;
	struct sigclient *sc;
	struct batch_runner br;
	int down; /* the last connection attempt failed (logged once) */
};

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-d] [-c file] [-p pidfile] [--once]\n",
		PROG);
}

/* ----- start-up ----- */

static int
signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal cuts the poll's sleep short. */
	sa.sa_handler = on_signal;
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0)
		return EST_E_CONFIG;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0)
		return EST_E_CONFIG;
	return 0;
}

/* ----- the work ----- */

/* Connects what is not connected; the first failure is logged once. */
static int
connect_all(struct worker *w)
{
	int r = 0;

	if (w->db == NULL)
		r = db_connect(w->conf, DB_ROLE_APP, &w->db);
	else
		r = db_ping(w->db);
	if (r == 0 && w->sc == NULL)
		r = sigclient_connect(conf_get(w->conf, "signer_socket"),
				      &w->sc);
	if (r != 0) {
		if (!w->down)
			log_err("cannot reach the %s: %s; retrying",
				w->db == NULL || r == EST_E_DB ? "database"
							       : "signer",
				est_strerror(r));
		w->down = 1;
		return r;
	}
	if (w->down)
		log_info("database and signer reachable again");
	w->down = 0;
	w->br.db = w->db;
	w->br.sc = w->sc;
	return 0;
}

/* After a failure: the signer is connected again next time. */
static void
after_error(struct worker *w)
{
	sigclient_free(w->sc);
	w->sc = NULL;
}

static void
pause_for(unsigned seconds)
{
	struct timespec ts = {(time_t)seconds, 0};

	if (!stop)
		nanosleep(&ts, NULL);
}

/* Every job that needs a worker, one after the other. */
static int
run_jobs(struct worker *w)
{
	int ran = 1, r = 0;

	while (!stop && ran && (r = batch_run_next(&w->br, &ran)) == 0)
		;
	if (r != 0)
		after_error(w);
	return r;
}

static int
run_sweeps(struct worker *w)
{
	struct sweep_counts c;
	int r;

	if ((r = sweep_run(w->db, w->sc, w->br.batch_dir, &c)) != 0)
		after_error(w);
	(void)device_credentials_sweep(w->db);
	return r;
}

static int
run_once(struct worker *w)
{
	int r, rs;

	if ((r = connect_all(w)) != 0)
		return r;
	r = run_jobs(w);
	if (!stop && connect_all(w) == 0 && (rs = run_sweeps(w)) != 0 && r == 0)
		r = rs;
	return r;
}

/*
 * Polls for jobs every POLL_SECONDS and sweeps every SWEEP_SECONDS.  A
 * job or connection failure that does not go away (a missing grant, a
 * full disk) doubles the pause up to BACKOFF_MAX, so that the log is not flooded; the first
 * success brings the pause back to the poll.
 */
static void
run_forever(struct worker *w)
{
	time_t next_sweep = 0, now;
	unsigned pause = POLL_SECONDS;
	int failed;

	while (!stop) {
		failed = connect_all(w) != 0;
		if (!failed)
			failed = run_jobs(w) != 0;
		now = time(NULL);
		if (!stop && now >= next_sweep && connect_all(w) == 0) {
			/* A failing sweep waits for its next turn. */
			(void)run_sweeps(w);
			next_sweep = now + SWEEP_SECONDS;
		}
		if (failed) {
			pause_for(pause);
			pause = pause * 2 > BACKOFF_MAX ? BACKOFF_MAX
							: pause * 2;
		} else {
			pause = POLL_SECONDS;
			pause_for(pause);
		}
	}
}

static const struct option long_opts[] = {
	{"once", no_argument, NULL, 'O'},
	{NULL, 0, NULL, 0},
};

int
main(int argc, char **argv)
{
	struct worker w;
	struct conf *conf = NULL;
	struct runas ra;
	const char *confpath, *pidfile = NULL, *env;
	char err[512];
	int ch, foreground = 0, once = 0, lvl, status = 1, pidwritten = 0;

	memset(&w, 0, sizeof(w));
	env = getenv("ESTUARY_CONF");
	confpath = env != NULL && env[0] != '\0' ? env : DEFAULT_CONF;
	while ((ch = getopt_long(argc, argv, "c:dp:", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			confpath = optarg;
			break;
		case 'd':
			foreground = 1;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'O':
			once = 1;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	log_init(PROG, 0, LOG_LVL_INFO);
	if (estuary_conf_load(confpath, &conf, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return 1;
	}
	if ((lvl = log_level_parse(conf_get(conf, "log_level"))) < 0) {
		log_err("log_level must be err, warn, info or debug");
		goto out;
	}
	log_init(PROG, 0, lvl);
	w.conf = conf;
	w.br.batch_dir = conf_get(conf, "batch_dir");
	w.br.signer_socket = conf_get(conf, "signer_socket");
	w.br.stop = &stop;
	if (signals() != 0 ||
	    runas_resolve(conf_get(conf, "fcgi_user"), &ra) != 0)
		goto out;
	if (!foreground && !once) {
		if (runas_daemonize(pidfile) != 0)
			goto out;
		log_init(PROG, 1, lvl);
	} else if (pidfile != NULL && runas_pidfile(pidfile, getpid()) != 0) {
		goto out;
	}
	pidwritten = pidfile != NULL;
	if (runas_drop(&ra) != 0)
		goto out;
	umask(077);
	if (batch_worker_id(w.br.me) != 0) {
		log_err("cannot name this worker (/proc is needed)");
		goto out;
	}
	if (once) {
		status = run_once(&w) == 0 ? 0 : 1;
		goto out;
	}
	log_info("started as %s; batch directory %s", w.br.me, w.br.batch_dir);
	run_forever(&w);
	log_info("stopping on a signal");
	status = 0;
out:
	sigclient_free(w.sc);
	db_close(w.db);
	/* After dropping privileges this may fail; a restart cleans up. */
	if (pidwritten)
		unlink(pidfile);
	conf_free(conf);
	return status;
}
