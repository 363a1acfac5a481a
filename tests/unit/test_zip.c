/*
 * Unit tests of the ZIP writer (pki/zip.c) behind batch job archives: the
 * CRC-32 against published check values, an archive read back by an
 * independent walk of its records (end record, central directory, local
 * headers, CRCs) and by unzip(1) or Python's zipfile when installed, the
 * ZIP64 end records of an archive of 70,000 entries, names that would
 * escape the extraction directory refused, and the file's mode.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "harness.h"
#include "zip.h"

#define BIG_COUNT 70000

static char dir[] = "/tmp/estuary-zip-XXXXXX";

static int
suite_init(void)
{
	return mkdtemp(dir) == NULL;
}

static int
suite_clean(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) != 0;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | ((uint32_t)rd16(p + 2) << 16);
}

static uint64_t
rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *b;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &st) != 0) {
		if (fp != NULL)
			fclose(fp);
		return NULL;
	}
	b = malloc((size_t)st.st_size + 1);
	if (b != NULL &&
	    fread(b, 1, (size_t)st.st_size, fp) != (size_t)st.st_size) {
		free(b);
		b = NULL;
	}
	fclose(fp);
	*len = (size_t)st.st_size;
	return b;
}

/* "unzip -t" of path: its exit status, or -1 when unzip is absent. */
static int
unzip_test(const char *path)
{
	char cmd[256];

	if (access("/usr/bin/unzip", X_OK) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "/usr/bin/unzip -tq '%s' >/dev/null 2>&1",
		 path);
	return system(cmd);
}

/*
 * Python's zipfile on path: exit status 0 when it lists want entries and
 * its entry probe reads back as its own name; -1 without python3.
 */
static int
python_test(const char *path, int want, const char *probe)
{
	char cmd[512];

	if (access("/usr/bin/python3", X_OK) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import sys, zipfile;"
		 " z = zipfile.ZipFile(sys.argv[1]);"
		 " sys.exit(z.testzip() is not None or"
		 " len(z.namelist()) != int(sys.argv[2]) or"
		 " (sys.argv[3] != \"\" and"
		 " z.read(sys.argv[3]) != sys.argv[3].encode()))'"
		 " '%s' %d '%s'",
		 path, want, probe);
	return system(cmd);
}

static void
test_crc32(void)
{
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	uint32_t c;

	CU_ASSERT_EQUAL(zip_crc32(0, "", 0), 0u);
	CU_ASSERT_EQUAL(zip_crc32(0, "123456789", 9), 0xcbf43926u);
	CU_ASSERT_EQUAL(zip_crc32(0, fox, strlen(fox)), 0x414fa339u);
	/* In pieces, as the same value. */
	c = zip_crc32(0, fox, 10);
	c = zip_crc32(c, fox + 10, strlen(fox) - 10);
	CU_ASSERT_EQUAL(c, 0x414fa339u);
}

struct entry {
	const char *name;
	const char *data;
};

/* Binary data with NULs, as a PKCS#12 holds. */
static const char binary[] = "\x30\x82\x01\x00 binary \x00\xff data";

static const struct entry entries[] = {
	{"1-device-00001.p12", binary},
	{"empty.txt", ""},
	{"passphrases.txt", "idx,file,serial,passphrase\r\n1,a.p12,01,x\r\n"},
};
#define NENTRIES (sizeof(entries) / sizeof(entries[0]))

static size_t
entry_len(const struct entry *e)
{
	/* The first entry has embedded NULs: its length is its array's. */
	return e->data == binary ? sizeof(binary) - 1 : strlen(e->data);
}

static void
test_read_back(void)
{
	char path[128];
	struct zip *z = NULL;
	struct stat st;
	const uint8_t *end, *cd, *lh;
	uint8_t *b;
	size_t len = 0, i, off;
	int r;

	snprintf(path, sizeof(path), "%s/three.zip", dir);
	CU_ASSERT_EQUAL_FATAL(zip_open(path, &z), 0);
	for (i = 0; i < NENTRIES; i++)
		CU_ASSERT_EQUAL(zip_add(z, entries[i].name, entries[i].data,
					entry_len(&entries[i]), 1700000000),
				0);
	CU_ASSERT_EQUAL(zip_count(z), NENTRIES);
	CU_ASSERT_EQUAL_FATAL(zip_close(z), 0);
	/* Secrets inside: only the owner may read it. */
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);

	b = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_FATAL(len > 22);
	end = b + len - 22;
	CU_ASSERT_EQUAL(rd32(end), 0x06054b50u);
	CU_ASSERT_EQUAL(rd16(end + 8), NENTRIES);
	CU_ASSERT_EQUAL(rd16(end + 10), NENTRIES);
	CU_ASSERT_EQUAL((size_t)rd32(end + 16) + rd32(end + 12), len - 22);
	cd = b + rd32(end + 16);
	for (i = 0; i < NENTRIES; i++) {
		const struct entry *e = &entries[i];
		size_t nlen = strlen(e->name), dlen = entry_len(e);

		CU_ASSERT_EQUAL_FATAL(rd32(cd), 0x02014b50u);
		CU_ASSERT_EQUAL(rd16(cd + 10), 0); /* stored */
		CU_ASSERT_EQUAL(rd32(cd + 16), zip_crc32(0, e->data, dlen));
		CU_ASSERT_EQUAL(rd32(cd + 20), dlen);
		CU_ASSERT_EQUAL(rd32(cd + 24), dlen);
		CU_ASSERT_EQUAL_FATAL(rd16(cd + 28), nlen);
		CU_ASSERT(memcmp(cd + 46, e->name, nlen) == 0);
		off = rd32(cd + 42);
		CU_ASSERT_FATAL(off + 30 + nlen + dlen <= len);
		lh = b + off;
		CU_ASSERT_EQUAL(rd32(lh), 0x04034b50u);
		CU_ASSERT_EQUAL(rd32(lh + 14), rd32(cd + 16));
		CU_ASSERT_EQUAL(rd16(lh + 26), nlen);
		CU_ASSERT(memcmp(lh + 30, e->name, nlen) == 0);
		CU_ASSERT(memcmp(lh + 30 + nlen, e->data, dlen) == 0);
		cd += 46 + nlen + rd16(cd + 30) + rd16(cd + 32);
	}
	CU_ASSERT_PTR_EQUAL(cd, end);
	free(b);

	/* Independent readers, where installed. */
	r = unzip_test(path);
	CU_ASSERT(r == -1 || r == 0);
	r = python_test(path, NENTRIES, "");
	CU_ASSERT(r == -1 || r == 0);
}

static void
test_refusals(void)
{
	static const char *const bad[] = {
		"",	"/etc/passwd", "../escape", "a/../../b", "a/./b",
		"a\\b", "ctrl\x01",    "trailing/", "a//b",	 "caf\xc3\xa9",
	};
	char path[128], longname[ZIP_NAME_MAX + 2];
	struct zip *z = NULL;
	size_t i;

	snprintf(path, sizeof(path), "%s/refusals.zip", dir);
	CU_ASSERT_EQUAL_FATAL(zip_open(path, &z), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(zip_add(z, bad[i], "x", 1, 0), EST_E_INVAL);
		if (zip_add(z, bad[i], "x", 1, 0) != EST_E_INVAL)
			fprintf(stderr, "name accepted: \"%s\"\n", bad[i]);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CU_ASSERT_EQUAL(zip_add(z, longname, "x", 1, 0), EST_E_INVAL);
	longname[ZIP_NAME_MAX] = '\0';
	CU_ASSERT_EQUAL(zip_add(z, longname, "x", 1, 0), 0);
	CU_ASSERT_EQUAL(zip_add(z, "dir/ok.p12", "x", 1, 0), 0);
	/* A refused name leaves the archive usable. */
	CU_ASSERT_EQUAL(zip_count(z), 2);
	CU_ASSERT_EQUAL(zip_close(z), 0);
	/* Never over an existing file. */
	z = NULL;
	CU_ASSERT_EQUAL(zip_open(path, &z), EST_E_EXISTS);
	CU_ASSERT_PTR_NULL(z);
	zip_free(NULL);
}

static void
test_zip64(void)
{
	char path[128], name[32];
	struct zip *z = NULL;
	const uint8_t *end, *loc, *rec;
	uint8_t *b;
	size_t len = 0, i;
	int r;

	snprintf(path, sizeof(path), "%s/big.zip", dir);
	CU_ASSERT_EQUAL_FATAL(zip_open(path, &z), 0);
	for (i = 1; i <= BIG_COUNT; i++) {
		snprintf(name, sizeof(name), "%zu-x.p12", i);
		if (zip_add(z, name, name, strlen(name), 0) != 0)
			break;
	}
	CU_ASSERT_EQUAL(zip_count(z), BIG_COUNT);
	CU_ASSERT_EQUAL_FATAL(zip_close(z), 0);
	b = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_FATAL(len > 22 + 20 + 56);
	end = b + len - 22;
	loc = end - 20;
	CU_ASSERT_EQUAL(rd32(end), 0x06054b50u);
	/* The classic record says "see ZIP64" for the count. */
	CU_ASSERT_EQUAL(rd16(end + 8), 0xffff);
	CU_ASSERT_EQUAL(rd32(loc), 0x07064b50u);
	CU_ASSERT_FATAL(rd64(loc + 8) + 56 <= len);
	rec = b + rd64(loc + 8);
	CU_ASSERT_EQUAL(rd32(rec), 0x06064b50u);
	CU_ASSERT_EQUAL(rd64(rec + 24), BIG_COUNT);
	CU_ASSERT_EQUAL(rd64(rec + 32), BIG_COUNT);
	CU_ASSERT_EQUAL(rd64(rec + 48) + rd64(rec + 40), rd64(loc + 8));
	CU_ASSERT_EQUAL(rd32(b + rd64(rec + 48)), 0x02014b50u);
	free(b);
	r = python_test(path, BIG_COUNT, "69999-x.p12");
	CU_ASSERT(r == -1 || r == 0);
	r = unzip_test(path);
	CU_ASSERT(r == -1 || r == 0);
}

static CU_TestInfo zip_tests[] = {
	{"CRC-32 check values", test_crc32},
	{"an archive reads back entry by entry", test_read_back},
	{"names that escape the directory are refused", test_refusals},
	{"70,000 entries get ZIP64 end records", test_zip64},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("zip", suite_init, suite_clean, zip_tests);
}
