/*
 * What is handed out about CAs beyond their rows (pki/ca.h): a CA's chain
 * up to its root, the web server's client-CA file, and starting the
 * operator's reload command after that file changed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca.h"
#include "db.h"
#include "dbq.h"
#include "extca.h"
#include "err.h"
#include "log.h"
#include "x509.h"

/* Larger than any bundle of CA certificates we would write. */
#define CA_FILE_MAX (16U * 1024 * 1024)

extern char **environ;

void
pki_chain_clear(struct pki_chain *ch)
{
	size_t i;

	for (i = 0; i < ch->n; i++)
		free(ch->der[i]);
	memset(ch, 0, sizeof(*ch));
}

static int
chain_add(struct pki_chain *ch, const uint8_t *der, size_t len)
{
	uint8_t *copy;

	if (ch->n == PKI_CHAIN_MAX)
		return EST_E_INTERNAL;
	if ((copy = malloc(len)) == NULL)
		return EST_E_NOMEM;
	memcpy(copy, der, len);
	ch->der[ch->n] = copy;
	ch->len[ch->n] = len;
	ch->n++;
	return 0;
}

/* The certificates of an uploaded chain (PEM that pki_ca_upload() wrote). */
static int
chain_add_pem(struct pki_chain *ch, const char *pem)
{
	BIO *bio;
	X509 *x = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	int r = 0;

	if (strlen(pem) > INT_MAX ||
	    (bio = BIO_new_mem_buf(pem, (int)strlen(pem))) == NULL)
		return EST_E_NOMEM;
	while (r == 0 &&
	       (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if ((r = x509_cert_der(x, &der, &len)) == 0)
			r = chain_add(ch, der, len);
		free(der);
		der = NULL;
		X509_free(x);
	}
	ERR_clear_error();
	BIO_free(bio);
	return r;
}

int
pki_ca_chain(struct db *db, const struct db_ca *ca, struct pki_chain *ch)
{
	struct db_ca *next = NULL, *cur;
	int r = 0;

	memset(ch, 0, sizeof(*ch));
	for (cur = (struct db_ca *)(uintptr_t)ca; r == 0;) {
		if (cur->cert_der == NULL) {
			r = EST_E_CONFLICT;
			break;
		}
		if ((r = chain_add(ch, cur->cert_der, cur->cert_len)) != 0)
			break;
		if (cur->parent_id == 0) {
			/* The chain above a CA signed elsewhere, if given. */
			if (cur->chain_pem != NULL)
				r = chain_add_pem(ch, cur->chain_pem);
			break;
		}
		if ((r = db_ca_get(db, cur->parent_id, &next)) != 0) {
			if (r == EST_E_NOTFOUND)
				r = EST_E_INTERNAL;
			break;
		}
		if (cur != ca)
			db_ca_free(cur);
		cur = next;
		next = NULL;
	}
	if (cur != ca)
		db_ca_free(cur);
	if (r != 0)
		pki_chain_clear(ch);
	return r;
}

int
pki_chain_pem(const struct pki_chain *ch, char **pem, size_t *len)
{
	char *buf = NULL, *one = NULL, *nb;
	size_t total = 0, n = 0, i;
	int r;

	if ((buf = strdup("")) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < ch->n; i++) {
		if ((r = x509_der_to_pem(ch->der[i], ch->len[i], &one, &n)) !=
		    0) {
			free(buf);
			return r;
		}
		if ((nb = realloc(buf, total + n + 1)) == NULL) {
			free(one);
			free(buf);
			return EST_E_NOMEM;
		}
		buf = nb;
		memcpy(buf + total, one, n + 1);
		total += n;
		free(one);
	}
	*pem = buf;
	*len = total;
	return 0;
}

/* Appends the PEM of one DER certificate to *buf (*len bytes so far). */
static int
bundle_add(char **buf, size_t *len, const uint8_t *der, size_t derlen)
{
	char *pem = NULL, *nb;
	size_t plen = 0;
	int r;

	if ((r = x509_der_to_pem(der, derlen, &pem, &plen)) != 0)
		return r;
	if ((nb = realloc(*buf, *len + plen + 1)) == NULL) {
		free(pem);
		return EST_E_NOMEM;
	}
	*buf = nb;
	memcpy(*buf + *len, pem, plen + 1);
	*len += plen;
	free(pem);
	return 0;
}

/*
 * The PEM of every active internal CA with a certificate, then of every
 * verified, active external CA (the factory CAs of zero-touch
 * provisioning), each in id order.
 */
static int
bundle(struct db *db, char **out, size_t *outlen, size_t *ncerts)
{
	struct db_ca **list = NULL;
	struct db_result *ext = NULL;
	const char *der;
	char *buf = NULL;
	size_t n = 0, i, len = 0, count = 0, derlen;
	int r;

	if ((r = db_ca_list_active(db, &list, &n)) != 0 ||
	    (r = db_extca_list_trusted(db, &ext)) != 0)
		goto out;
	if ((buf = strdup("")) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (list[i]->cert_der == NULL)
			continue;
		if ((r = bundle_add(&buf, &len, list[i]->cert_der,
				    list[i]->cert_len)) != 0)
			goto out;
		count++;
	}
	for (i = 0; i < db_result_rows(ext); i++) {
		der = db_result_str(ext, i, DB_EXTCA_CERT_DER, &derlen);
		if (der == NULL || derlen == 0)
			continue;
		if ((r = bundle_add(&buf, &len, (const uint8_t *)der,
				    derlen)) != 0)
			goto out;
		count++;
	}
	*out = buf;
	*outlen = len;
	*ncerts = count;
	buf = NULL;
out:
	free(buf);
	db_result_free(ext);
	db_ca_list_free(list, n);
	return r;
}

static int
errno_code(int e)
{
	return e == EACCES || e == EPERM || e == EROFS ? EST_E_DENIED
						       : EST_E_IO;
}

/* 1 when path holds exactly data. */
static int
file_equals(const char *path, const char *data, size_t len)
{
	struct stat st;
	char *buf;
	ssize_t got;
	size_t off = 0;
	int fd, same = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size != len || len > CA_FILE_MAX ||
	    (buf = malloc(len + 1)) == NULL) {
		close(fd);
		return 0;
	}
	while (off < len && (got = read(fd, buf + off, len - off)) > 0)
		off += (size_t)got;
	same = off == len && memcmp(buf, data, len) == 0;
	free(buf);
	close(fd);
	return same;
}

/* Replaces path atomically with data, mode 0644. */
static int
write_atomic(const char *path, const char *data, size_t len)
{
	char *tmp = NULL;
	ssize_t w;
	size_t off = 0;
	int fd, r = 0;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return EST_E_NOMEM;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		r = errno_code(errno);
		free(tmp);
		return r;
	}
	while (r == 0 && off < len) {
		if ((w = write(fd, data + off, len - off)) < 0) {
			if (errno != EINTR)
				r = EST_E_IO;
			continue;
		}
		off += (size_t)w;
	}
	if (r == 0 && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
		r = EST_E_IO;
	if (close(fd) != 0 && r == 0)
		r = EST_E_IO;
	if (r == 0 && rename(tmp, path) != 0)
		r = errno_code(errno);
	if (r != 0)
		unlink(tmp);
	free(tmp);
	return r;
}

int
pki_client_ca_write(struct db *db, const char *path, int *changed, size_t *n)
{
	char *pem = NULL;
	size_t len = 0, count = 0;
	int r, differ;

	if (path == NULL || path[0] != '/')
		return EST_E_CONFIG;
	if ((r = bundle(db, &pem, &len, &count)) != 0)
		return r;
	differ = !file_equals(path, pem, len);
	if (differ && (r = write_atomic(path, pem, len)) != 0)
		goto out;
	*changed = differ;
	*n = count;
out:
	free(pem);
	return r;
}

int
pki_reload_start(const char *cmd)
{
	/*
	 * The first shell starts the command in the background and exits at
	 * once; the command goes on in a session of its own, adopted by
	 * init, so nobody has to wait for it and no zombie is left.
	 */
	char *const argv[] = {
		(char *)"sh",
		(char *)"-c",
		(char *)"sh -c \"$1\" </dev/null >/dev/null 2>&1 &",
		(char *)"sh",
		(char *)(uintptr_t)cmd,
		NULL,
	};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	pid_t pid;
	int st, r;

	if (cmd == NULL || cmd[0] == '\0')
		return EST_E_INVAL;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return EST_E_NOMEM;
	if (posix_spawnattr_init(&attr) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return EST_E_NOMEM;
	}
	/* Nothing of ours (FastCGI and database sockets) reaches it. */
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0) !=
		    0 ||
	    posix_spawn_file_actions_adddup2(&fa, 0, 1) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, 0, 2) != 0 ||
	    posix_spawn_file_actions_addclosefrom_np(&fa, 3) != 0 ||
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID) != 0) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ)) !=
	    0) {
		log_warn("web_reload_command: cannot start /bin/sh: %s",
			 strerror(r));
		r = EST_E_IO;
		goto out;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r = 0;
out:
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}
