/*
 * Start-up order: read the configuration, check the route table and the
 * program's state, bind the socket (as root if need be), detach, write the
 * pid file, drop privileges, then start the workers.  Everything that can
 * fail because of the configuration fails before the program detaches, so
 * the error reaches the terminal.
 *
 * Workers follow libfcgi's threaded example: FCGX_Accept_r on the shared
 * listening socket, serialized by a mutex.  A web server that keeps its
 * FastCGI connection open (FCGI_KEEP_CONN: Apache's mod_proxy_fcgi, nginx
 * with fastcgi_keep_conn) makes FCGX_Accept_r wait on that connection
 * instead of accepting, so the mutex is taken only for a real accept, and
 * the stop code wakes a worker waiting on a kept connection through a
 * duplicate of its descriptor.
 *
 * A request whose handler deferred its writes (txq.h) is handed to the
 * writer thread with its FastCGI request object, which the writer
 * finishes after the commit and puts back in a pool; the worker takes
 * another object from the pool and accepts the next request at once.
 * Only requests on connections that close after them are handed over: a
 * kept connection belongs to its worker, which runs such writes itself.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "conf.h"
#include "ctx.h"
#include "daemon.h"
#include "dispatch.h"
#include "err.h"
#include "log.h"
#include "runas.h"
#include "txq.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONF SYSCONFDIR "/estuary/estuary.conf"
#define LISTEN_BACKLOG 128
#define THREADS_MAX 256
#define SOCKET_MODE 0660
#define DRAIN_MAX (64 * 1024)
/* Deferred requests waiting for the writer, per worker thread. */
#define QUEUED_PER_WORKER 4

struct server;

/* A FastCGI request object, in the pool while no request uses it. */
struct preq {
	FCGX_Request fr;
	struct server *srv;
	struct preq *next;
};

struct worker {
	struct server *srv;
	pthread_t tid;
	int started;
	struct hctx ctx;
	pthread_mutex_t mtx; /* guards wake_fd */
	int wake_fd;	     /* dup of a kept connection while waiting */
};

struct server {
	const struct app *app;
	struct conf *conf;
	void *state;
	struct req_limits lim;
	const char *socket_path;
	int listen_fd;
	atomic_int stopping;
	pthread_mutex_t accept_mtx;
	struct worker *workers;
	size_t nworkers;
	struct txq *txq; /* NULL: group commit off */
	pthread_mutex_t pool_mtx;
	struct preq *pool;
};

static ssize_t
fcgx_read(void *arg, void *p, size_t len)
{
	int n = len > INT_MAX ? INT_MAX : (int)len;

	return FCGX_GetStr(p, n, arg);
}

static int
fcgx_write(void *arg, const void *p, size_t len)
{
	const char *s = p;
	int n;

	while (len > 0) {
		n = len > INT_MAX ? INT_MAX : (int)len;
		if (FCGX_PutStr(s, n, arg) != n)
			return EST_E_IO;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes rs (NULL: out of memory) as the response of fr. */
static void
send_resp(FCGX_Request *fr, struct resp *rs, int r)
{
	if (r == 0 && rs != NULL)
		r = resp_write(rs, fcgx_write, fr->out);
	else
		FCGX_PutS("Status: 500 Internal Server Error\r\n\r\n", fr->out);
	if (r != 0)
		log_warn("response not written: %s", est_strerror(r));
}

static struct preq *
pool_take(struct server *srv)
{
	struct preq *pr;

	pthread_mutex_lock(&srv->pool_mtx);
	if ((pr = srv->pool) != NULL)
		srv->pool = pr->next;
	pthread_mutex_unlock(&srv->pool_mtx);
	if (pr != NULL)
		return pr;
	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		return NULL;
	pr->srv = srv;
	if (FCGX_InitRequest(&pr->fr, srv->listen_fd, 0) != 0) {
		free(pr);
		return NULL;
	}
	return pr;
}

static void
pool_put(struct server *srv, struct preq *pr)
{
	pthread_mutex_lock(&srv->pool_mtx);
	pr->next = srv->pool;
	srv->pool = pr;
	pthread_mutex_unlock(&srv->pool_mtx);
}

static void
pool_free(struct server *srv)
{
	struct preq *pr;

	while ((pr = srv->pool) != NULL) {
		srv->pool = pr->next;
		FCGX_Free(&pr->fr, 1);
		free(pr);
	}
}

/* The writer's delivery of a deferred request's response (txq.h). */
static void
deliver(void *conn, struct resp *rs)
{
	struct preq *pr = conn;

	send_resp(&pr->fr, rs, 0);
	resp_free(rs);
	FCGX_Finish_r(&pr->fr);
	pool_put(pr->srv, pr);
}

/* 1 when the request went to the writer with pr, which is then its. */
static int
serve(struct worker *w, struct preq *pr)
{
	struct server *srv = w->srv;
	FCGX_Request *fr = &pr->fr;
	struct txjob *job;
	struct resp *rs;
	int herr = 0, r = EST_E_NOMEM;

	if ((rs = resp_new(srv->app->kind)) != NULL)
		r = dispatch(srv->app, &w->ctx, fr->envp, &srv->lim, fcgx_read,
			     fr->in, rs, &herr);
	if ((job = w->ctx.job) != NULL) {
		w->ctx.job = NULL;
		if (srv->txq != NULL && !fr->keepConnection) {
			txq_submit(srv->txq, job, rs, pr);
			return 1;
		}
		herr = txq_run(&w->ctx, job, rs);
	}
	send_resp(fr, rs, r);
	ctx_after_error(&w->ctx, herr);
	resp_free(rs);
	return 0;
}

/*
 * With FCGI_KEEP_CONN the next request follows on the same connection, so
 * what the handler left of this request's stdin (at least its closing empty
 * record) must be read first, or libfcgi would take it for the start of the
 * next request and drop the connection.  A body too large to drain cheaply,
 * such as one refused with 413, closes the connection instead.
 */
static void
drain_stdin(FCGX_Request *fr)
{
	char scratch[4096];
	size_t left = DRAIN_MAX;
	int n;

	if (!fr->keepConnection)
		return;
	while (left > 0) {
		n = FCGX_GetStr(scratch, (int)sizeof(scratch), fr->in);
		if (n < (int)sizeof(scratch))
			break;
		left -= left < (size_t)n ? left : (size_t)n;
	}
	if (FCGX_HasSeenEOF(fr->in) != EOF)
		fr->keepConnection = 0;
}

/* Forgets the duplicate of a kept connection once FCGX_Accept_r is done. */
static void
clear_wake_fd(struct worker *w)
{
	pthread_mutex_lock(&w->mtx);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	w->wake_fd = -1;
	pthread_mutex_unlock(&w->mtx);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;
	struct timespec backoff = {0, 100 * 1000 * 1000};
	struct preq *pr = NULL;
	FCGX_Request *fr;
	int kept, rc, stop;

	for (;;) {
		if (pr == NULL && (pr = pool_take(srv)) == NULL) {
			log_err("cannot initialise a FastCGI request");
			nanosleep(&backoff, NULL);
			if (atomic_load(&srv->stopping))
				break;
			continue;
		}
		fr = &pr->fr;
		kept = fr->ipcFd >= 0;
		if (!kept)
			pthread_mutex_lock(&srv->accept_mtx);
		/*
		 * The stop flag is read, and the kept connection published,
		 * under w->mtx: stop_workers() sets the flag first and then
		 * takes w->mtx, so it either finds the descriptor to shut
		 * down or we find the flag.
		 */
		pthread_mutex_lock(&w->mtx);
		stop = atomic_load(&srv->stopping);
		if (!stop && kept)
			w->wake_fd = fcntl(fr->ipcFd, F_DUPFD_CLOEXEC, 0);
		pthread_mutex_unlock(&w->mtx);
		if (stop) {
			if (!kept)
				pthread_mutex_unlock(&srv->accept_mtx);
			break;
		}
		rc = FCGX_Accept_r(fr);
		if (kept)
			clear_wake_fd(w);
		else
			pthread_mutex_unlock(&srv->accept_mtx);
		if (rc < 0) {
			if (atomic_load(&srv->stopping))
				break;
			/* Out of descriptors, say: do not spin. */
			log_warn("FastCGI accept failed: %s", strerror(-rc));
			nanosleep(&backoff, NULL);
			continue;
		}
		if (serve(w, pr)) {
			pr = NULL;
			continue;
		}
		drain_stdin(fr);
		FCGX_Finish_r(fr);
	}
	if (pr != NULL)
		pool_put(srv, pr);
	ctx_close(&w->ctx);
	return NULL;
}

static void
stop_workers(struct server *srv)
{
	size_t i;

	atomic_store(&srv->stopping, 1);
	FCGX_ShutdownPending();
	/* Wakes the worker blocked in accept(); later accepts fail at once. */
	shutdown(srv->listen_fd, SHUT_RDWR);
	for (i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];

		pthread_mutex_lock(&w->mtx);
		if (w->wake_fd >= 0)
			shutdown(w->wake_fd, SHUT_RDWR);
		pthread_mutex_unlock(&w->mtx);
	}
	for (i = 0; i < srv->nworkers; i++)
		if (srv->workers[i].started)
			pthread_join(srv->workers[i].tid, NULL);
	/* What the workers handed over is committed and answered. */
	txq_stop(srv->txq);
	srv->txq = NULL;
	pool_free(srv);
}

/* 1 when a server already listens on the UNIX socket at path. */
static int
socket_in_use(const char *path)
{
	struct sockaddr_un sun;
	int fd, used;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return 0;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	used = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return used;
}

static int
open_socket(const char *path, const char *group, int *fdp)
{
	struct sockaddr_un sun;
	struct stat st;
	struct group *gr;
	mode_t old;
	int fd;

	/* libfcgi reads "host:port" as TCP; ours is always a path. */
	if (strchr(path, ':') != NULL || strlen(path) >= sizeof(sun.sun_path)) {
		log_err("%s: not a usable socket path", path);
		return EST_E_CONFIG;
	}
	/* FCGX_OpenSocket unlinks whatever is at path: check it first. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("%s exists and is not a socket", path);
			return EST_E_CONFIG;
		}
		if (socket_in_use(path)) {
			log_err("%s: another server is listening", path);
			return EST_E_CONFIG;
		}
	}
	/* Created 0660 from the start: no window with a wider mode. */
	old = umask(0777 & ~SOCKET_MODE);
	fd = FCGX_OpenSocket(path, LISTEN_BACKLOG);
	umask(old);
	if (fd < 0) {
		log_err("%s: cannot listen: %s", path, strerror(errno));
		return EST_E_CONFIG;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
	    chmod(path, SOCKET_MODE) != 0) {
		log_err("%s: %s", path, strerror(errno));
		close(fd);
		return EST_E_CONFIG;
	}
	if (group[0] != '\0') {
		if ((gr = getgrnam(group)) == NULL ||
		    chown(path, (uid_t)-1, gr->gr_gid) != 0) {
			log_err("%s: cannot give the socket to group %s", path,
				group);
			close(fd);
			unlink(path);
			return EST_E_CONFIG;
		}
	}
	*fdp = fd;
	return 0;
}

static int
start_workers(struct server *srv, int nthreads)
{
	size_t i;
	int r;

	srv->workers = calloc((size_t)nthreads, sizeof(*srv->workers));
	if (srv->workers == NULL)
		return EST_E_NOMEM;
	if (conf_get_bool(srv->conf, "group_commit") &&
	    txq_start(srv->conf, srv->state, deliver,
		      (size_t)nthreads * QUEUED_PER_WORKER, &srv->txq) != 0)
		return EST_E_NOMEM;
	srv->nworkers = (size_t)nthreads;
	for (i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];

		w->srv = srv;
		w->wake_fd = -1;
		w->ctx.conf = srv->conf;
		w->ctx.state = srv->state;
		pthread_mutex_init(&w->mtx, NULL);
	}
	for (i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];

		if ((r = pthread_create(&w->tid, NULL, worker_main, w)) != 0) {
			log_err("cannot start a worker: %s", strerror(r));
			return EST_E_NOMEM;
		}
		w->started = 1;
	}
	return 0;
}

static void
usage(const char *name)
{
	fprintf(stderr, "usage: %s [-d] [-c file] [-p pidfile]\n", name);
}

static int
load_settings(struct server *srv, int *nthreads)
{
	int maxbody, lvl;

	if ((lvl = log_level_parse(conf_get(srv->conf, "log_level"))) < 0) {
		log_err("log_level must be err, warn, info or debug");
		return EST_E_CONFIG;
	}
	if (conf_get_int(srv->conf, "fcgi_threads", nthreads) != 0 ||
	    *nthreads < 1 || *nthreads > THREADS_MAX) {
		log_err("fcgi_threads must be between 1 and %d", THREADS_MAX);
		return EST_E_CONFIG;
	}
	if (conf_get_int(srv->conf, "max_body", &maxbody) != 0 || maxbody < 1) {
		log_err("max_body must be a positive number of bytes");
		return EST_E_CONFIG;
	}
	srv->lim.max_body = (size_t)maxbody;
	srv->socket_path = conf_get(srv->conf, srv->app->socket_key);
	return lvl;
}

int
daemon_main(const struct app *app, int argc, char **argv)
{
	struct server srv;
	const char *confpath, *pidfile = NULL, *env;
	char err[512];
	sigset_t sigs;
	int ch, foreground = 0, nthreads = 0, lvl, sig = 0, status = 1;
	int bound = 0, pidwritten = 0;
	struct runas runas = {0};

	memset(&srv, 0, sizeof(srv));
	srv.app = app;
	srv.listen_fd = -1;
	atomic_init(&srv.stopping, 0);
	pthread_mutex_init(&srv.accept_mtx, NULL);
	pthread_mutex_init(&srv.pool_mtx, NULL);
	env = getenv("ESTUARY_CONF");
	confpath = env != NULL && env[0] != '\0' ? env : DEFAULT_CONF;
	while ((ch = getopt(argc, argv, "c:dp:")) != -1) {
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
		default:
			usage(app->name);
			return 2;
		}
	}
	if (optind != argc) {
		usage(app->name);
		return 2;
	}
	/* Until the program detaches, errors go to the terminal. */
	log_init(app->name, 0, LOG_LVL_INFO);
	if (estuary_conf_load(confpath, &srv.conf, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return 1;
	}
	if ((lvl = load_settings(&srv, &nthreads)) < 0)
		goto out;
	log_init(app->name, 0, lvl);
	if (route_table_check(app->routes, app->nroutes) != 0) {
		log_err("invalid route table");
		goto out;
	}
	if (app->init != NULL && app->init(srv.conf, &srv.state) != 0)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	/* Workers inherit the mask: only the main thread takes signals. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (FCGX_Init() != 0) {
		log_err("cannot initialise libfcgi");
		goto out;
	}
	if (runas_resolve(conf_get(srv.conf, "fcgi_user"), &runas) != 0)
		goto out;
	if (open_socket(srv.socket_path,
			conf_get(srv.conf, "fcgi_socket_group"),
			&srv.listen_fd) != 0)
		goto out;
	bound = 1;
	if (!foreground) {
		if (runas_daemonize(pidfile) != 0)
			goto out;
		log_init(app->name, 1, lvl);
	} else if (pidfile != NULL && runas_pidfile(pidfile, getpid()) != 0) {
		goto out;
	}
	pidwritten = pidfile != NULL;
	if (runas_drop(&runas) != 0)
		goto out;
	if (start_workers(&srv, nthreads) != 0)
		goto stop;
	log_info("listening on %s with %d threads%s", srv.socket_path, nthreads,
		 srv.txq != NULL ? " and a writer" : "");
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		log_info("SIGHUP ignored: restart to read the configuration");
	}
	log_info("stopping on signal %d", sig);
	status = 0;
stop:
	stop_workers(&srv);
out:
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	/* After dropping privileges these may fail; a restart cleans up. */
	if (bound)
		unlink(srv.socket_path);
	if (pidwritten)
		unlink(pidfile);
	if (app->fini != NULL && srv.state != NULL)
		app->fini(srv.state);
	free(srv.workers);
	conf_free(srv.conf);
	return status;
}
