/*
 * The daemon around the signer: the listening socket, peer credentials,
 * one thread per connection, privilege dropping and daemonising.
 */
#ifndef ESTUARY_SERVER_H
#define ESTUARY_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "signer.h"

/*
 * Resolves signer_allowed_users (comma-separated user names or numeric
 * uids) once, at start-up.  An unknown name is an error.
 */
int server_allowed_users(const char *list, uid_t **uids, size_t *n);

/*
 * Creates the UNIX socket at path (mode 0666: access is decided by the
 * SO_PEERCRED check against the allowed uids), replacing a stale socket
 * but never a live one or a file that is not a socket.  When owner is not
 * (uid_t)-1 the socket is given to that user.
 */
int server_listen(const char *path, uid_t owner, gid_t group, int *fd);

/*
 * Drops to user (setgroups, setresgid, setresuid) and checks that root
 * cannot be regained.  Returns EST_E_CONFIG for an unknown user.
 */
int server_drop_privileges(const char *user);
/* The uid and gid of user; EST_E_CONFIG when there is no such user. */
int server_lookup_user(const char *user, uid_t *uid, gid_t *gid);

/*
 * Accepts connections until SIGTERM or SIGINT arrives on sigfd (a
 * signalfd), then shuts the connections down and waits for their threads.
 * At most max_clients connections are served at once; one more is
 * accepted and closed at once.
 */
int server_run(struct signer *s, int listenfd, int sigfd, const uid_t *allowed,
	       size_t nallowed, unsigned max_clients);

#endif
