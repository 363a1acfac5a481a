/*
 * ZIP writer (zip.h).  Layout of what is written, all integers
 * little-endian:
 *
 *	for each entry: local file header, name, data
 *	central directory: one header per entry, with the name (and a ZIP64
 *	    extra field holding the local header's offset when that offset
 *	    does not fit 32 bits)
 *	[ZIP64 end of central directory record and its locator]
 *	end of central directory record
 *
 * Entry sizes always fit 32 bits (zip_add() refuses more), so only the
 * offsets and the entry count can need ZIP64.  The central directory is
 * kept in memory until zip_close(): about 60 bytes per entry.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "zip.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u

#define VERSION_STORED 10 /* 1.0: stored entries */
#define VERSION_ZIP64 45  /* 4.5: ZIP64 extensions */
#define MADE_BY_UNIX 3	  /* high byte of "version made by" */
#define EXTRA_ZIP64 0x0001
#define U16_MAX 0xffffu
#define U32_MAX 0xffffffffu
#define FILE_MODE 0100600u /* regular file, rw------- */
#define IOBUF (64 * 1024)

struct zip_entry {
	char *name;
	uint32_t crc;
	uint32_t size;
	uint64_t offset; /* of the local header */
	uint16_t dtime, ddate;
};

struct zip {
	FILE *fp;
	uint64_t off; /* bytes written so far */
	struct zip_entry *e;
	size_t n, cap;
	int failed;
};

/* ----- CRC-32, table-driven (reflected polynomial 0xedb88320) ----- */

static uint32_t crc_table[256];
static int crc_ready;

static void
crc_init(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = (c & 1) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	crc_ready = 1;
}

uint32_t
zip_crc32(uint32_t crc, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	/* The table is filled once; a race fills it twice, identically. */
	if (!crc_ready)
		crc_init();
	crc = ~crc;
	for (i = 0; i < len; i++)
		crc = crc_table[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ----- little-endian output ----- */

static void
le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
le32(uint8_t *p, uint32_t v)
{
	le16(p, (uint16_t)v);
	le16(p + 2, (uint16_t)(v >> 16));
}

static void
le64(uint8_t *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

static int
put(struct zip *z, const void *p, size_t len)
{
	if (z->failed)
		return EST_E_IO;
	if (len > 0 && fwrite(p, 1, len, z->fp) != len) {
		z->failed = 1;
		return EST_E_IO;
	}
	z->off += len;
	return 0;
}

/* MS-DOS date and time of t (UTC), clamped to 1980..2107. */
static void
dos_time(time_t t, uint16_t *dtime, uint16_t *ddate)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < 80) {
		*dtime = 0;
		*ddate = (1 << 5) | 1; /* 1980-01-01 */
		return;
	}
	if (tm.tm_year > 207)
		tm.tm_year = 207;
	*dtime = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) |
			    (tm.tm_sec / 2));
	*ddate = (uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) |
			    tm.tm_mday);
}

/*
 * A name that every unzip extracts inside its target directory: printable
 * ASCII, relative, no backslash, no "." or ".." component.
 */
static int
name_ok(const char *name)
{
	size_t n = strlen(name), i, seg = 0;

	if (n == 0 || n > ZIP_NAME_MAX || name[0] == '/')
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || name[i] == '/') {
			if (i - seg == 0 ||
			    (i - seg == 1 && name[seg] == '.') ||
			    (i - seg == 2 && name[seg] == '.' &&
			     name[seg + 1] == '.'))
				return 0;
			seg = i + 1;
			continue;
		}
		if (name[i] < 0x20 || name[i] > 0x7e || name[i] == '\\')
			return 0;
	}
	return 1;
}

int
zip_open(const char *path, struct zip **out)
{
	struct zip *z;
	int fd;

	if ((z = calloc(1, sizeof(*z))) == NULL)
		return EST_E_NOMEM;
	if ((fd = open(path,
		       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		       0600)) < 0) {
		free(z);
		return errno == EEXIST ? EST_E_EXISTS : EST_E_IO;
	}
	if ((z->fp = fdopen(fd, "wb")) == NULL) {
		close(fd);
		free(z);
		return EST_E_NOMEM;
	}
	setvbuf(z->fp, NULL, _IOFBF, IOBUF);
	*out = z;
	return 0;
}

uint64_t
zip_count(const struct zip *z)
{
	return z->n;
}

int
zip_add(struct zip *z, const char *name, const void *data, size_t len,
	time_t mtime)
{
	struct zip_entry *e;
	uint8_t h[30];
	size_t nlen;
	int r;

	if (z->failed)
		return EST_E_IO;
	if (!name_ok(name) || len >= U32_MAX)
		return EST_E_INVAL;
	if (z->n == z->cap) {
		size_t cap = z->cap * 2 + 64;

		if ((e = reallocarray(z->e, cap, sizeof(*e))) == NULL)
			return EST_E_NOMEM;
		z->e = e;
		z->cap = cap;
	}
	e = &z->e[z->n];
	memset(e, 0, sizeof(*e));
	if ((e->name = strdup(name)) == NULL)
		return EST_E_NOMEM;
	nlen = strlen(name);
	e->crc = zip_crc32(0, data, len);
	e->size = (uint32_t)len;
	e->offset = z->off;
	dos_time(mtime, &e->dtime, &e->ddate);
	le32(h, SIG_LOCAL);
	le16(h + 4, VERSION_STORED);
	le16(h + 6, 0); /* flags */
	le16(h + 8, 0); /* method: stored */
	le16(h + 10, e->dtime);
	le16(h + 12, e->ddate);
	le32(h + 14, e->crc);
	le32(h + 18, e->size); /* compressed */
	le32(h + 22, e->size);
	le16(h + 26, (uint16_t)nlen);
	le16(h + 28, 0); /* extra */
	z->n++;
	if ((r = put(z, h, sizeof(h))) != 0 || (r = put(z, name, nlen)) != 0 ||
	    (r = put(z, data, len)) != 0)
		return r;
	return 0;
}

static int
put_central(struct zip *z, const struct zip_entry *e)
{
	uint8_t h[46], x[12];
	size_t nlen = strlen(e->name);
	int big = e->offset >= U32_MAX, r;

	le32(h, SIG_CENTRAL);
	le16(h + 4, (MADE_BY_UNIX << 8) | VERSION_ZIP64);
	le16(h + 6, big ? VERSION_ZIP64 : VERSION_STORED);
	le16(h + 8, 0);
	le16(h + 10, 0);
	le16(h + 12, e->dtime);
	le16(h + 14, e->ddate);
	le32(h + 16, e->crc);
	le32(h + 20, e->size);
	le32(h + 24, e->size);
	le16(h + 28, (uint16_t)nlen);
	le16(h + 30, big ? sizeof(x) : 0);
	le16(h + 32, 0); /* comment */
	le16(h + 34, 0); /* disk */
	le16(h + 36, 0); /* internal attributes */
	le32(h + 38, FILE_MODE << 16);
	le32(h + 42, big ? U32_MAX : (uint32_t)e->offset);
	if ((r = put(z, h, sizeof(h))) != 0 || (r = put(z, e->name, nlen)) != 0)
		return r;
	if (!big)
		return 0;
	le16(x, EXTRA_ZIP64);
	le16(x + 2, 8);
	le64(x + 4, e->offset);
	return put(z, x, sizeof(x));
}

/* The ZIP64 end record and its locator, before the classic end record. */
static int
put_end64(struct zip *z, uint64_t cd_off, uint64_t cd_size)
{
	uint8_t h[56], l[20];
	uint64_t at = z->off;
	int r;

	le32(h, SIG_END64);
	le64(h + 4, sizeof(h) - 12);
	le16(h + 12, (MADE_BY_UNIX << 8) | VERSION_ZIP64);
	le16(h + 14, VERSION_ZIP64);
	le32(h + 16, 0); /* this disk */
	le32(h + 20, 0); /* disk of the central directory */
	le64(h + 24, z->n);
	le64(h + 32, z->n);
	le64(h + 40, cd_size);
	le64(h + 48, cd_off);
	le32(l, SIG_LOCATOR64);
	le32(l + 4, 0);
	le64(l + 8, at);
	le32(l + 16, 1); /* disks */
	if ((r = put(z, h, sizeof(h))) != 0)
		return r;
	return put(z, l, sizeof(l));
}

static int
finish(struct zip *z)
{
	uint8_t h[22];
	uint64_t cd_off = z->off, cd_size;
	size_t i;
	int zip64, r;

	for (i = 0; i < z->n; i++)
		if ((r = put_central(z, &z->e[i])) != 0)
			return r;
	cd_size = z->off - cd_off;
	zip64 = z->n >= U16_MAX || cd_off >= U32_MAX || cd_size >= U32_MAX;
	if (zip64 && (r = put_end64(z, cd_off, cd_size)) != 0)
		return r;
	le32(h, SIG_END);
	le16(h + 4, 0);
	le16(h + 6, 0);
	le16(h + 8, z->n >= U16_MAX ? U16_MAX : (uint16_t)z->n);
	le16(h + 10, z->n >= U16_MAX ? U16_MAX : (uint16_t)z->n);
	le32(h + 12, cd_size >= U32_MAX ? U32_MAX : (uint32_t)cd_size);
	le32(h + 16, cd_off >= U32_MAX ? U32_MAX : (uint32_t)cd_off);
	le16(h + 20, 0); /* comment */
	if ((r = put(z, h, sizeof(h))) != 0)
		return r;
	if (fflush(z->fp) != 0 || fsync(fileno(z->fp)) != 0)
		return EST_E_IO;
	return 0;
}

int
zip_close(struct zip *z)
{
	int r;

	if (z == NULL)
		return EST_E_INVAL;
	r = finish(z);
	if (fclose(z->fp) != 0 && r == 0)
		r = EST_E_IO;
	z->fp = NULL;
	zip_free(z);
	return r;
}

void
zip_free(struct zip *z)
{
	size_t i;

	if (z == NULL)
		return;
	if (z->fp != NULL)
		fclose(z->fp);
	for (i = 0; i < z->n; i++)
		free(z->e[i].name);
	free(z->e);
	free(z);
}
