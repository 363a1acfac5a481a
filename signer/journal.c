/*
 * Journal writer (sjournal.h).  The mutex orders sequence numbers and the
 * hash chain; O_APPEND and a single write(2) per line keep each line whole
 * in the file even if another process appends too.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "journal.h"
#include "log.h"
#include "sjournal.h"

struct sjournal {
	pthread_mutex_t lock;
	int fd;
	int broken;
	uint64_t seq;
	uint8_t prev[JOURNAL_HASH_LEN];
	char *path;
};

/*
 * Reads the last line of fd: seq and hash of the chain so far, or seq 0
 * and 64 zeros for an empty file.
 */
static int
read_tail(int fd, const char *path, uint64_t *seq,
	  uint8_t prev[JOURNAL_HASH_LEN])
{
	char buf[2 * JOURNAL_LINE_MAX + 2], *start;
	struct journal_entry e;
	struct stat st;
	off_t off;
	ssize_t n;
	size_t len, got = 0;

	if (fstat(fd, &st) != 0)
		return EST_E_IO;
	if (st.st_size == 0) {
		*seq = 0;
		memset(prev, 0, JOURNAL_HASH_LEN);
		return 0;
	}
	len = (size_t)st.st_size < sizeof(buf) ? (size_t)st.st_size
					       : sizeof(buf);
	off = st.st_size - (off_t)len;
	while (got < len) {
		n = pread(fd, buf + got, len - got, off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return EST_E_IO;
		got += (size_t)n;
	}
	if (buf[len - 1] != '\n') {
		log_err("journal %s does not end with a whole line", path);
		return EST_E_CONFIG;
	}
	/* The last line starts after the newline before the final one. */
	for (start = buf + len - 1; start > buf && start[-1] != '\n'; start--)
		;
	if (start == buf && off != 0) {
		log_err("journal %s: last line too long", path);
		return EST_E_CONFIG;
	}
	if (journal_parse_line(start, (size_t)(buf + len - start), &e) != 0) {
		log_err("journal %s: last line is corrupt; refusing to "
			"continue the chain",
			path);
		return EST_E_CONFIG;
	}
	*seq = e.seq;
	memcpy(prev, e.hash, JOURNAL_HASH_LEN);
	return 0;
}

int
sjournal_open(const char *path, struct sjournal **out)
{
	struct sjournal *j;
	int r;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->path = strdup(path)) == NULL) {
		free(j);
		return EST_E_NOMEM;
	}
	j->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		     0640);
	if (j->fd < 0) {
		log_err("cannot open journal %s: %s", path, strerror(errno));
		free(j->path);
		free(j);
		return EST_E_CONFIG;
	}
	if ((r = read_tail(j->fd, path, &j->seq, j->prev)) != 0) {
		close(j->fd);
		free(j->path);
		free(j);
		return r;
	}
	pthread_mutex_init(&j->lock, NULL);
	*out = j;
	return 0;
}

void
sjournal_close(struct sjournal *j)
{
	if (j == NULL)
		return;
	close(j->fd);
	pthread_mutex_destroy(&j->lock);
	free(j->path);
	free(j);
}

int
sjournal_check(const char *path, uint64_t *lastseq)
{
	uint8_t prev[JOURNAL_HASH_LEN];
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT) {
			*lastseq = 0;
			return 0;
		}
		log_err("cannot open journal %s: %s", path, strerror(errno));
		return EST_E_CONFIG;
	}
	r = read_tail(fd, path, lastseq, prev);
	close(fd);
	return r;
}

int
sjournal_append(struct sjournal *j, const uint8_t keyid[16], uint8_t kind,
		const uint8_t data_sha256[32])
{
	char line[JOURNAL_LINE_MAX + 1];
	struct journal_entry e;
	const char *name;
	size_t len;
	ssize_t n;
	int r;

	if ((name = journal_kind_name(kind)) == NULL)
		return EST_E_INVAL;
	memset(&e, 0, sizeof(e));
	memcpy(e.keyid, keyid, sizeof(e.keyid));
	memcpy(e.kind, name, strlen(name) + 1);
	memcpy(e.data_hash, data_sha256, sizeof(e.data_hash));
	pthread_mutex_lock(&j->lock);
	if (j->broken) {
		r = EST_E_IO;
		goto out;
	}
	e.seq = j->seq + 1;
	e.time = (uint64_t)time(NULL);
	memcpy(e.prev_hash, j->prev, sizeof(e.prev_hash));
	if ((r = journal_format_line(&e, line, sizeof(line), &len)) != 0)
		goto out;
	do
		n = write(j->fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		/* A partial line would break the chain for every later one. */
		j->broken = 1;
		log_err("journal %s: write failed (%s); refusing to sign "
			"or destroy keys until restarted",
			j->path, n < 0 ? strerror(errno) : "short write");
		r = EST_E_IO;
		goto out;
	}
	j->seq = e.seq;
	memcpy(j->prev, e.hash, sizeof(j->prev));
	r = 0;
out:
	pthread_mutex_unlock(&j->lock);
	return r;
}
