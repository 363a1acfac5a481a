/*
 * The job directory of a batch job (batch.h): passphrases, PKCS#12 files,
 * and their removal.
 *
 * Why the passphrases live in a file written before the job commits.  A
 * job must never lose a passphrase and never issue an item twice.  The
 * item's certificate, its batch_items row and the job's progress commit in
 * one transaction, and its PKCS#12 file is written after that commit, so
 * a crash in between leaves an issued item without its file; the worker
 * that resumes the job exports it again from the wrapped key, and needs
 * the same passphrase as every other file of the job (per batch) or the
 * one already promised for that item (per certificate).  So every
 * passphrase of the job exists, on disk and synced, before its first item
 * is issued: estuary-api writes them all when it creates the job, before
 * its transaction commits (a job whose file cannot be written is not
 * created), and the worker only reads them.  The signer can wrap keys but
 * not arbitrary data, so the file (mode 0600 in a 0700 directory of the
 * account that runs estuary-api and estuary-worker) is as strong as the
 * PKCS#12 files beside it and the archive that will carry both; the whole
 * directory is removed when the archive expires.  A directory left by a
 * request that failed before its commit belongs to no job, and the
 * worker's sweep removes it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "batch.h"
#include "err.h"
#include "util.h"

#define SECRETS "passphrases"
#define TMP_SUFFIX ".tmp"
#define CN_MAX 64
#define PASS_LINE_MAX 257 /* SIGNER_PASSPHRASE_MAX and its newline */

int
batch_job_dir(const char *batch_dir, int64_t id, char *out, size_t size)
{
	int n;

	if (batch_dir == NULL || batch_dir[0] != '/' || id <= 0)
		return EST_E_INVAL;
	n = snprintf(out, size, "%s/%lld", batch_dir, (long long)id);
	return n > 0 && (size_t)n < size ? 0 : EST_E_INVAL;
}

int
batch_pass_generate(char out[BATCH_PASS_LEN + 1])
{
	uint8_t raw[BATCH_PASS_BYTES];
	unsigned char b64[BATCH_PASS_LEN + 4];
	size_t i;
	int r;

	if ((r = random_bytes(raw, sizeof(raw))) != 0)
		return r;
	/* 18 bytes are 24 characters of base64 without padding. */
	if (EVP_EncodeBlock(b64, raw, sizeof(raw)) != BATCH_PASS_LEN) {
		explicit_bzero(raw, sizeof(raw));
		return EST_E_CRYPTO;
	}
	for (i = 0; i < BATCH_PASS_LEN; i++)
		out[i] = b64[i] == '+'	 ? '-'
			 : b64[i] == '/' ? '_'
					 : (char)b64[i];
	out[BATCH_PASS_LEN] = '\0';
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(b64, sizeof(b64));
	return 0;
}

/* Writes all of p to fd. */
static int
write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, c, len)) < 0) {
			if (errno == EINTR)
				continue;
			return EST_E_IO;
		}
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
sync_dir(const char *dir)
{
	int fd, r = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return EST_E_IO;
	if (fsync(fd) != 0)
		r = EST_E_IO;
	close(fd);
	return r;
}

/* dir/name through dir/name.tmp, renamed into place; synced when sync. */
static int
file_write(const char *dir, const char *name, const void *data, size_t len,
	   int sync)
{
	char tmp[BATCH_PATH_MAX], path[BATCH_PATH_MAX];
	int fd, n, r;

	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s%s", path, TMP_SUFFIX) >=
		    (int)sizeof(tmp))
		return EST_E_INVAL;
	if ((fd = open(tmp,
		       O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		       0600)) < 0)
		return errno == EACCES ? EST_E_DENIED : EST_E_IO;
	r = write_all(fd, data, len);
	if (r == 0 && sync && fsync(fd) != 0)
		r = EST_E_IO;
	if (close(fd) != 0 && r == 0)
		r = EST_E_IO;
	if (r == 0 && rename(tmp, path) != 0)
		r = EST_E_IO;
	if (r != 0)
		unlink(tmp);
	else if (sync)
		r = sync_dir(dir);
	return r;
}

int
batch_file_write(const char *dir, const char *name, const void *data,
		 size_t len)
{
	/*
	 * Not synced: a file lost to a crash of the machine is found
	 * missing or unreadable when the archive is built, and made again.
	 */
	return file_write(dir, name, data, len, 0);
}

static int
make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return errno == EACCES ? EST_E_DENIED : EST_E_IO;
}

int
batch_secrets_write(const char *batch_dir, int64_t id, enum batch_mode mode,
		    const char *pass, uint32_t count)
{
	char dir[BATCH_PATH_MAX], gen[BATCH_PASS_LEN + 1];
	char *buf = NULL;
	size_t len = 0, cap, n;
	uint32_t i;
	int r;

	if ((mode == BATCH_PER_CERTIFICATE && (pass != NULL || count == 0)) ||
	    (pass != NULL && strlen(pass) + 1 > PASS_LINE_MAX))
		return EST_E_INVAL;
	if ((r = batch_job_dir(batch_dir, id, dir, sizeof(dir))) != 0)
		return r;
	/* A directory of this id belongs to no committed job: start over. */
	if ((r = make_dir(batch_dir)) != 0 ||
	    (r = batch_dir_remove(batch_dir, id)) != 0 || (r = make_dir(dir)))
		return r;
	cap = mode == BATCH_PER_BATCH ? PASS_LINE_MAX + 1
				      : (size_t)count * (BATCH_PASS_LEN + 1);
	if ((buf = malloc(cap)) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < (mode == BATCH_PER_BATCH ? 1 : count); i++) {
		const char *p = pass;

		if (p == NULL) {
			if ((r = batch_pass_generate(gen)) != 0)
				goto out;
			p = gen;
		}
		n = strlen(p);
		memcpy(buf + len, p, n);
		buf[len + n] = '\n';
		len += n + 1;
	}
	r = file_write(dir, SECRETS, buf, len, 1);
out:
	explicit_bzero(gen, sizeof(gen));
	freezero(buf, cap);
	return r;
}

struct batch_secrets {
	char *text;
	size_t len;
	char **line; /* into text */
	uint32_t n;
};

void
batch_secrets_free(struct batch_secrets *s)
{
	if (s == NULL)
		return;
	freezero(s->text, s->len + 1);
	free(s->line);
	free(s);
}

/* The whole of a small file into a NUL-terminated buffer. */
static int
read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *b;
	size_t got = 0;
	ssize_t n;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? EST_E_NOTFOUND : EST_E_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > max) {
		close(fd);
		return EST_E_INTERNAL;
	}
	if ((b = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return EST_E_NOMEM;
	}
	while (got < (size_t)st.st_size) {
		if ((n = read(fd, b + got, (size_t)st.st_size - got)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			r = EST_E_IO;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (r != 0) {
		freezero(b, (size_t)st.st_size + 1);
		return r;
	}
	b[got] = '\0';
	*out = b;
	*len = got;
	return 0;
}

int
batch_file_read(const char *dir, const char *name, size_t max, uint8_t **data,
		size_t *len)
{
	char path[BATCH_PATH_MAX];
	char *b = NULL;
	int n, r;

	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return EST_E_INVAL;
	if ((r = read_file(path, max, &b, len)) != 0)
		return r;
	*data = (uint8_t *)b;
	return 0;
}

int
batch_secrets_load(const char *batch_dir, int64_t id, enum batch_mode mode,
		   uint32_t count, struct batch_secrets **out)
{
	char dir[BATCH_PATH_MAX], path[BATCH_PATH_MAX];
	struct batch_secrets *s;
	uint32_t want = mode == BATCH_PER_BATCH ? 1 : count;
	size_t max =
		(size_t)want *
		(mode == BATCH_PER_BATCH ? PASS_LINE_MAX : BATCH_PASS_LEN + 1);
	char *p, *nl;
	int r;

	if (want == 0 ||
	    (r = batch_job_dir(batch_dir, id, dir, sizeof(dir))) != 0 ||
	    snprintf(path, sizeof(path), "%s/" SECRETS, dir) >=
		    (int)sizeof(path))
		return EST_E_INVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return EST_E_NOMEM;
	if ((r = read_file(path, max, &s->text, &s->len)) != 0 ||
	    (s->line = calloc(want, sizeof(*s->line))) == NULL) {
		batch_secrets_free(s);
		return r != 0 ? r : EST_E_NOMEM;
	}
	/* Exactly want lines, each ending in a newline, none empty. */
	for (p = s->text; s->n < want && (nl = strchr(p, '\n')) != NULL;
	     p = nl + 1) {
		if (nl == p)
			break;
		*nl = '\0';
		s->line[s->n++] = p;
	}
	if (s->n != want || *p != '\0') {
		batch_secrets_free(s);
		return EST_E_INTERNAL;
	}
	*out = s;
	return 0;
}

const char *
batch_secrets_get(const struct batch_secrets *s, uint32_t idx)
{
	if (s == NULL || s->n == 0)
		return NULL;
	if (s->n == 1)
		return s->line[0];
	return idx >= 1 && idx <= s->n ? s->line[idx - 1] : NULL;
}

/* ------------------------------------------------------------------ */
/* PKCS#12 files */

int
batch_p12_name(uint32_t idx, const uint8_t *der, size_t derlen,
	       char out[BATCH_NAME_MAX])
{
	const unsigned char *p = der;
	unsigned char *utf8 = NULL;
	const ASN1_INTEGER *sn;
	X509_NAME_ENTRY *ne;
	X509 *x;
	char tag[CN_MAX + 1];
	int i, len = -1, pos;

	if ((x = d2i_X509(NULL, &p, (long)derlen)) == NULL)
		return EST_E_BADASN1;
	pos = X509_NAME_get_index_by_NID(X509_get_subject_name(x),
					 NID_commonName, -1);
	if (pos >= 0 &&
	    (ne = X509_NAME_get_entry(X509_get_subject_name(x), pos)) != NULL)
		len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(ne));
	if (len > 0) {
		if (len > CN_MAX)
			len = CN_MAX;
		for (i = 0; i < len; i++) {
			unsigned char c = utf8[i];

			tag[i] = ((c >= 'A' && c <= 'Z') ||
				  (c >= 'a' && c <= 'z') ||
				  (c >= '0' && c <= '9') || c == '-' ||
				  c == '_' || (c == '.' && i > 0))
					 ? (char)c
					 : '_';
		}
		tag[len] = '\0';
	} else {
		sn = X509_get0_serialNumber(x);
		len = ASN1_STRING_length(sn);
		if (len < 1 || len > CN_MAX / 2) {
			X509_free(x);
			return EST_E_BADASN1;
		}
		hex_encode(ASN1_STRING_get0_data(sn), (size_t)len, tag);
	}
	OPENSSL_free(utf8);
	X509_free(x);
	snprintf(out, BATCH_NAME_MAX, "%u-%s.p12", (unsigned)idx, tag);
	return 0;
}

/* The item number of a "<idx>-*.p12" name, or 0. */
static uint32_t
p12_idx(const char *name)
{
	size_t n = strlen(name);
	uint32_t v = 0;
	const char *c;

	if (n < 6 || strcmp(name + n - 4, ".p12") != 0 || name[0] < '1' ||
	    name[0] > '9')
		return 0;
	for (c = name; *c >= '0' && *c <= '9'; c++) {
		if (v > BATCH_COUNT_MAX)
			return 0;
		v = v * 10 + (uint32_t)(*c - '0');
	}
	return *c == '-' ? v : 0;
}

void
batch_names_free(char **names, uint32_t count)
{
	uint32_t i;

	if (names == NULL)
		return;
	for (i = 0; i <= count; i++)
		free(names[i]);
	free(names);
}

int
batch_files_scan(const char *dir, uint32_t count, char ***out)
{
	struct dirent *de;
	char **names;
	size_t n;
	uint32_t idx;
	DIR *d;
	int r = 0;

	if ((names = calloc((size_t)count + 1, sizeof(*names))) == NULL)
		return EST_E_NOMEM;
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT) {
			free(names);
			return EST_E_IO;
		}
		*out = names;
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n > strlen(TMP_SUFFIX) &&
		    strcmp(de->d_name + n - strlen(TMP_SUFFIX), TMP_SUFFIX) ==
			    0) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		idx = p12_idx(de->d_name);
		if (idx == 0 || idx > count || names[idx] != NULL)
			continue;
		if ((names[idx] = strdup(de->d_name)) == NULL) {
			r = EST_E_NOMEM;
			break;
		}
	}
	closedir(d);
	if (r != 0) {
		batch_names_free(names, count);
		return r;
	}
	*out = names;
	return 0;
}

int
batch_dir_clean(const char *dir, const char *keep)
{
	struct dirent *de;
	DIR *d;
	int r = 0;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : EST_E_IO;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (keep != NULL && strcmp(de->d_name, keep) == 0))
			continue;
		/* The worker makes only files here; anything else stays. */
		if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT)
			r = EST_E_IO;
	}
	closedir(d);
	return r;
}

int
batch_dir_remove(const char *batch_dir, int64_t id)
{
	char dir[BATCH_PATH_MAX];
	int r;

	if ((r = batch_job_dir(batch_dir, id, dir, sizeof(dir))) != 0 ||
	    (r = batch_dir_clean(dir, NULL)) != 0)
		return r;
	if (rmdir(dir) != 0 && errno != ENOENT)
		return EST_E_IO;
	return 0;
}

int
batch_dir_list(const char *batch_dir, time_t before, int64_t **ids, size_t *n)
{
	struct dirent *de;
	struct stat st;
	int64_t *v = NULL, *nv, id;
	size_t k = 0, cap = 0;
	const char *c;
	DIR *d;

	if ((d = opendir(batch_dir)) == NULL) {
		if (errno != ENOENT)
			return EST_E_IO;
		*ids = NULL;
		*n = 0;
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		id = 0;
		for (c = de->d_name;
		     *c >= '0' && *c <= '9' && id < INT64_MAX / 10; c++)
			id = id * 10 + (*c - '0');
		if (*c != '\0' || id <= 0 || de->d_name[0] == '0' ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
			    0 ||
		    !S_ISDIR(st.st_mode) || st.st_mtime >= before)
			continue;
		if (k == cap) {
			cap = cap * 2 + 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				free(v);
				closedir(d);
				return EST_E_NOMEM;
			}
			v = nv;
		}
		v[k++] = id;
	}
	closedir(d);
	*ids = v;
	*n = k;
	return 0;
}
