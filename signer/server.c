/*
 * Socket, peer check and connection threads (server.h).  Each connection
 * runs in its own thread with its own PKCS#11 session: nothing here holds
 * a lock across a token call, so a slow key generation on one connection
 * does not hold up signatures on another.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "err.h"
#include "log.h"
#include "server.h"

#define ALLOWED_MAX 64

struct slot {
	struct server *srv;
	int fd;
	uid_t uid;
	int used;
};

struct server {
	struct signer *s;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct slot *slots;
	unsigned nslots;
	unsigned active;
};

int
server_lookup_user(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return EST_E_CONFIG;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int
server_allowed_users(const char *list, uid_t **uids, size_t *n)
{
	char *copy, *tok, *save = NULL, *end;
	uid_t *u, uid;
	gid_t gid;
	size_t count = 0;
	unsigned long v;
	int r = 0;

	if ((copy = strdup(list)) == NULL ||
	    (u = calloc(ALLOWED_MAX, sizeof(*u))) == NULL) {
		free(copy);
		return EST_E_NOMEM;
	}
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (count == ALLOWED_MAX) {
			log_err("signer_allowed_users: more than %d entries",
				ALLOWED_MAX);
			r = EST_E_CONFIG;
			break;
		}
		if (isdigit((unsigned char)tok[0])) {
			errno = 0;
			v = strtoul(tok, &end, 10);
			if (errno != 0 || *end != '\0' || v >= (uid_t)-1) {
				log_err("signer_allowed_users: bad uid %s",
					tok);
				r = EST_E_CONFIG;
				break;
			}
			uid = (uid_t)v;
		} else if (server_lookup_user(tok, &uid, &gid) != 0) {
			log_err("signer_allowed_users: no user %s", tok);
			r = EST_E_CONFIG;
			break;
		}
		u[count++] = uid;
	}
	free(copy);
	if (r == 0 && count == 0) {
		log_err("signer_allowed_users is empty: nobody could connect");
		r = EST_E_CONFIG;
	}
	if (r != 0) {
		free(u);
		return r;
	}
	*uids = u;
	*n = count;
	return 0;
}

/* Whether something is listening on path already. */
static int
socket_alive(const struct sockaddr_un *sun)
{
	int fd, alive;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

int
server_listen(const char *path, uid_t owner, gid_t group, int *out)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_err("signer_socket %s: path too long", path);
		return EST_E_CONFIG;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("signer_socket %s exists and is not a socket",
				path);
			return EST_E_CONFIG;
		}
		if (socket_alive(&sun)) {
			log_err("another signer is listening on %s", path);
			return EST_E_CONFIG;
		}
		unlink(path); /* left behind by a signer that died */
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		log_err("socket: %s", strerror(errno));
		return EST_E_IO;
	}
	/*
	 * Anyone may connect; the SO_PEERCRED check on accept decides who
	 * is served.  The umask keeps the socket from appearing with
	 * looser rights than chmod gives it.
	 */
	old = umask(0111);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(old);
		log_err("bind %s: %s", path, strerror(errno));
		close(fd);
		return EST_E_CONFIG;
	}
	umask(old);
	if (chmod(path, 0666) != 0 ||
	    (owner != (uid_t)-1 && chown(path, owner, group) != 0) ||
	    listen(fd, 64) != 0) {
		log_err("socket %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return EST_E_IO;
	}
	*out = fd;
	return 0;
}

int
server_drop_privileges(const char *user)
{
	uid_t uid;
	gid_t gid;

	if (server_lookup_user(user, &uid, &gid) != 0) {
		log_err("signer_user %s does not exist", user);
		return EST_E_CONFIG;
	}
	if (uid == 0) {
		log_err("signer_user %s is root", user);
		return EST_E_CONFIG;
	}
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		log_err("cannot become %s: %s", user, strerror(errno));
		return EST_E_CONFIG;
	}
	/* Prove the change is permanent before touching the token. */
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != uid ||
	    geteuid() != uid || getgid() != gid || getegid() != gid) {
		log_err("privileges were not dropped to %s", user);
		return EST_E_INTERNAL;
	}
	log_info("running as %s (uid %lu)", user, (unsigned long)uid);
	return 0;
}

static void *
conn_thread(void *arg)
{
	struct slot *sl = arg;
	struct server *srv = sl->srv;
	struct conn *c = NULL;

	if (conn_new(srv->s, sl->uid, &c) == 0)
		conn_serve(c, sl->fd);
	conn_free(c);
	pthread_mutex_lock(&srv->lock);
	close(sl->fd);
	sl->fd = -1;
	sl->used = 0;
	srv->active--;
	pthread_cond_signal(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

static int
allowed_uid(uid_t uid, const uid_t *allowed, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (allowed[i] == uid)
			return 1;
	return 0;
}

static void
accept_one(struct server *srv, int listenfd, const uid_t *allowed,
	   size_t nallowed)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	pthread_attr_t attr;
	pthread_t t;
	struct slot *sl = NULL;
	unsigned i;
	int fd;

	if ((fd = accept4(listenfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			log_warn("accept: %s", strerror(errno));
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    len != sizeof(cred)) {
		log_warn("refused a connection: no peer credentials");
		close(fd);
		return;
	}
	if (!allowed_uid(cred.uid, allowed, nallowed)) {
		log_warn("refused a connection from uid %lu",
			 (unsigned long)cred.uid);
		close(fd);
		return;
	}
	pthread_mutex_lock(&srv->lock);
	for (i = 0; i < srv->nslots && sl == NULL; i++)
		if (!srv->slots[i].used)
			sl = &srv->slots[i];
	if (sl == NULL) {
		pthread_mutex_unlock(&srv->lock);
		log_warn("refused a connection from uid %lu: %u clients "
			 "already",
			 (unsigned long)cred.uid, srv->nslots);
		close(fd);
		return;
	}
	sl->used = 1;
	sl->fd = fd;
	sl->uid = cred.uid;
	srv->active++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, conn_thread, sl) != 0) {
		log_warn("cannot start a connection thread");
		sl->used = 0;
		sl->fd = -1;
		srv->active--;
		close(fd);
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_unlock(&srv->lock);
}

int
server_run(struct signer *s, int listenfd, int sigfd, const uid_t *allowed,
	   size_t nallowed, unsigned max_clients)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	struct server srv;
	unsigned i;
	int stop = 0;

	memset(&srv, 0, sizeof(srv));
	srv.s = s;
	srv.nslots = max_clients ? max_clients : 1;
	if ((srv.slots = calloc(srv.nslots, sizeof(*srv.slots))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < srv.nslots; i++) {
		srv.slots[i].srv = &srv;
		srv.slots[i].fd = -1;
	}
	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.idle, NULL);
	pfd[0].fd = listenfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = sigfd;
	pfd[1].events = POLLIN;
	while (!stop) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents & POLLIN) {
			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGTERM ||
				    si.ssi_signo == SIGINT) {
					log_info("signal %u: shutting down",
						 si.ssi_signo);
					stop = 1;
					continue;
				}
			}
		}
		if (pfd[0].revents & POLLIN)
			accept_one(&srv, listenfd, allowed, nallowed);
	}
	/* Wake every connection thread out of its read and wait for it. */
	pthread_mutex_lock(&srv.lock);
	for (i = 0; i < srv.nslots; i++)
		if (srv.slots[i].used)
			shutdown(srv.slots[i].fd, SHUT_RDWR);
	while (srv.active > 0)
		pthread_cond_wait(&srv.idle, &srv.lock);
	pthread_mutex_unlock(&srv.lock);
	pthread_cond_destroy(&srv.idle);
	pthread_mutex_destroy(&srv.lock);
	free(srv.slots);
	return 0;
}
