/*
 * The files of a batch job (batch_int.h): each item's PKCS#12, made again
 * after a crash, and the result archive with its two lists:
 *
 *	passphrases.txt	CSV "idx,file,serial,passphrase": a row per PKCS#12
 *			(per_certificate), or the single row
 *			"*,*,*,<passphrase>" that opens every file
 *			(per_batch)
 *	index.csv	CSV "idx,status,file,serial,certificate_id,error":
 *			every item of the job, issued, failed or (in a
 *			cancelled job) never issued
 *
 * Both use RFC 4180 quoting and CRLF line ends.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pkcs12.h>

#include "batch.h"
#include "batch_int.h"
#include "cert.h"
#include "db.h"
#include "dbbatch.h"
#include "dbq.h"
#include "err.h"
#include "log.h"
#include "sigclient.h"
#include "util.h"
#include "zip.h"

#define PAGE 500
#define P12_MAX (64 * 1024)

int
batch_repair(struct batch_job *job)
{
	struct db_result *res = NULL;
	uint32_t after = 0, idx, fixed = 0;
	const char *st, *der;
	size_t i, n, dlen;
	int r;

	do {
		if ((r = db_batch_items_page(job->br->db, job->id, after, PAGE,
					     &res)) != 0)
			return r;
		n = db_result_rows(res);
		for (i = 0; r == 0 && i < n; i++) {
			idx = (uint32_t)db_result_i64(res, i, DB_BATCH_ALL_IDX);
			after = idx;
			st = db_result_str(res, i, DB_BATCH_ALL_STATUS, NULL);
			der = db_result_str(res, i, DB_BATCH_ALL_DER, &dlen);
			if (st == NULL || strcmp(st, "issued") != 0 ||
			    der == NULL || idx > job->total ||
			    job->names[idx] != NULL)
				continue;
			r = batch_export(
				job, idx,
				db_result_i64(res, i, DB_BATCH_ALL_CERT_ID),
				(const uint8_t *)der, dlen, NULL, 0);
			if (r == EST_E_GONE)
				r = 0;
			else if (r == 0)
				fixed++;
		}
		db_result_free(res);
		res = NULL;
		if (r == 0)
			r = batch_alive(job);
	} while (r == 0 && n == PAGE);
	if (fixed > 0)
		log_warn("batch job %lld: %u PKCS#12 files made again after "
			 "an interruption",
			 (long long)job->id, (unsigned)fixed);
	return r;
}

/* ----- CSV ----- */

/*
 * A growable text buffer, wiped when freed (passphrases.txt): index.csv of
 * 100,000 failed items with their errors outgrows lib/buf.h's maximum.
 */
struct text {
	char *p;
	size_t n, cap;
	int failed;
};

static int
text_put(struct text *t, const void *p, size_t len)
{
	char *np;
	size_t cap;

	if (t->failed)
		return EST_E_NOMEM;
	if (t->n + len > t->cap) {
		cap = (t->cap + len) * 2;
		if ((np = malloc(cap)) == NULL) {
			t->failed = 1;
			return EST_E_NOMEM;
		}
		if (t->n > 0)
			memcpy(np, t->p, t->n);
		freezero(t->p, t->cap);
		t->p = np;
		t->cap = cap;
	}
	memcpy(t->p + t->n, p, len);
	t->n += len;
	return 0;
}

static void
text_free(struct text *t)
{
	freezero(t->p, t->cap);
	memset(t, 0, sizeof(*t));
}

static int
csv_field(struct text *b, const char *s, int last)
{
	size_t i;
	int r = 0;

	if (s == NULL)
		s = "";
	if (strpbrk(s, ",\"\r\n") == NULL) {
		r = text_put(b, s, strlen(s));
	} else {
		r = text_put(b, "\"", 1);
		for (i = 0; r == 0 && s[i] != '\0'; i++) {
			if (s[i] == '"')
				r = text_put(b, "\"", 1);
			if (r == 0)
				r = text_put(b, &s[i], 1);
		}
		if (r == 0)
			r = text_put(b, "\"", 1);
	}
	if (r == 0)
		r = last ? text_put(b, "\r\n", 2) : text_put(b, ",", 1);
	return r;
}

static int
csv_row(struct text *b, const char *const *f, size_t n)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < n; i++)
		r = csv_field(b, f[i], i + 1 == n);
	return r;
}

/* ----- the archive ----- */

struct archive {
	struct batch_job *job;
	struct zip *zip;
	struct text pass;
	struct text index;
	time_t now;
	uint32_t issued;
};

/* A file that is a whole PKCS#12 (DER); a torn one is made again. */
static int
p12_whole(const uint8_t *p, size_t len)
{
	const unsigned char *q = p;
	PKCS12 *x;

	if (len == 0 || (x = d2i_PKCS12(NULL, &q, (long)len)) == NULL)
		return 0;
	PKCS12_free(x);
	return q == p + len;
}

/* Item idx's PKCS#12 into the archive, made again if need be. */
static int
add_p12(struct archive *a, uint32_t idx, int64_t cert_id, const uint8_t *der,
	size_t derlen, const char **file)
{
	struct batch_job *job = a->job;
	uint8_t *data = NULL;
	size_t len = 0;
	int r, tries;

	*file = NULL;
	for (tries = 0; tries < 2; tries++) {
		if (job->names[idx] != NULL &&
		    (r = batch_file_read(job->dir, job->names[idx], P12_MAX,
					 &data, &len)) == 0 &&
		    p12_whole(data, len))
			break;
		if (data != NULL)
			freezero(data, len);
		data = NULL;
		if ((r = batch_export(job, idx, cert_id, der, derlen, NULL,
				      0)) != 0)
			return r;
	}
	if (data == NULL)
		return EST_E_IO;
	r = zip_add(a->zip, job->names[idx], data, len, a->now);
	freezero(data, len);
	if (r == 0) {
		*file = job->names[idx];
		a->issued++;
	}
	return r;
}

static int
add_item(struct archive *a, const struct db_result *res, size_t i)
{
	struct batch_job *job = a->job;
	uint32_t idx = (uint32_t)db_result_i64(res, i, DB_BATCH_ALL_IDX);
	const char *st = db_result_str(res, i, DB_BATCH_ALL_STATUS, NULL);
	const char *error = db_result_str(res, i, DB_BATCH_ALL_ERROR, NULL);
	const char *der, *sn, *file = NULL;
	char idxs[16], cid[24], serial[41] = "";
	size_t dlen = 0, slen = 0;
	int64_t cert_id = db_result_i64(res, i, DB_BATCH_ALL_CERT_ID);
	int r = 0;

	if (idx == 0 || idx > job->total || st == NULL)
		return EST_E_INTERNAL;
	snprintf(idxs, sizeof(idxs), "%u", (unsigned)idx);
	cid[0] = '\0';
	if (strcmp(st, "issued") == 0) {
		der = db_result_str(res, i, DB_BATCH_ALL_DER, &dlen);
		sn = db_result_str(res, i, DB_BATCH_ALL_SERIAL, &slen);
		if (der == NULL || sn == NULL || slen == 0 || slen > 20)
			return EST_E_INTERNAL;
		hex_encode((const uint8_t *)sn, slen, serial);
		snprintf(cid, sizeof(cid), "%lld", (long long)cert_id);
		r = add_p12(a, idx, cert_id, (const uint8_t *)der, dlen, &file);
		if (r == EST_E_GONE) {
			error = "the private key is no longer kept";
			r = 0;
		}
		if (r != 0)
			return r;
		if (file != NULL && job->mode == BATCH_PER_CERTIFICATE) {
			const char *f[] = {idxs, file, serial,
					   batch_secrets_get(job->sec, idx)};

			if ((r = csv_row(&a->pass, f, 4)) != 0)
				return r;
		}
	}
	{
		const char *f[] = {idxs, st, file, serial, cid, error};

		r = csv_row(&a->index, f, 6);
	}
	return r;
}

static int
archive_fill(struct archive *a)
{
	static const char *const pass_head[] = {"idx", "file", "serial",
						"passphrase"};
	static const char *const index_head[] = {
		"idx", "status", "file", "serial", "certificate_id", "error"};
	struct batch_job *job = a->job;
	struct db_result *res = NULL;
	uint32_t after = 0;
	size_t i, n;
	int r;

	if ((r = csv_row(&a->pass, pass_head, 4)) != 0 ||
	    (r = csv_row(&a->index, index_head, 6)) != 0)
		return r;
	if (job->mode == BATCH_PER_BATCH) {
		const char *f[] = {"*", "*", "*",
				   batch_secrets_get(job->sec, 1)};

		if ((r = csv_row(&a->pass, f, 4)) != 0)
			return r;
	}
	do {
		if ((r = db_batch_items_page(job->br->db, job->id, after, PAGE,
					     &res)) != 0)
			return r;
		n = db_result_rows(res);
		for (i = 0; r == 0 && i < n; i++) {
			r = add_item(a, res, i);
			after = (uint32_t)db_result_i64(res, i,
							DB_BATCH_ALL_IDX);
		}
		db_result_free(res);
		res = NULL;
		if (r == 0)
			r = batch_alive(job);
	} while (r == 0 && n == PAGE);
	if (r != 0 || a->issued == 0)
		return r;
	if ((r = zip_add(a->zip, "passphrases.txt", a->pass.p, a->pass.n,
			 a->now)) != 0)
		return r;
	return zip_add(a->zip, "index.csv", a->index.p, a->index.n, a->now);
}

int
batch_archive(struct batch_job *job, char **path)
{
	struct archive a;
	char name[64], tmp[BATCH_PATH_MAX], final[BATCH_PATH_MAX];
	int r;

	*path = NULL;
	/* A job that could not load has nothing to archive. */
	if (job->names == NULL || job->sec == NULL)
		return 0;
	memset(&a, 0, sizeof(a));
	a.job = job;
	a.now = time(NULL);
	snprintf(name, sizeof(name), "batch-%lld.zip", (long long)job->id);
	if (snprintf(final, sizeof(final), "%s/%s", job->dir, name) >=
		    (int)sizeof(final) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", final) >= (int)sizeof(tmp))
		return EST_E_INVAL;
	unlink(tmp);
	if ((r = zip_open(tmp, &a.zip)) != 0)
		goto out;
	if ((r = archive_fill(&a)) != 0)
		goto out;
	if (a.issued == 0) {
		/* Nothing was issued: no archive at all. */
		zip_free(a.zip);
		a.zip = NULL;
		unlink(tmp);
		goto out;
	}
	r = zip_close(a.zip);
	a.zip = NULL;
	if (r == 0 && rename(tmp, final) != 0)
		r = EST_E_IO;
	if (r == 0 && (*path = strdup(final)) == NULL)
		r = EST_E_NOMEM;
	if (r == 0)
		log_info("batch job %lld: archive of %u PKCS#12 files",
			 (long long)job->id, (unsigned)a.issued);
out:
	if (r != 0) {
		zip_free(a.zip);
		unlink(tmp);
	}
	text_free(&a.pass);
	text_free(&a.index);
	return r;
}

void
batch_cleanup(struct batch_job *job, const char *archive)
{
	const char *base;
	int r;

	if (archive == NULL) {
		r = batch_dir_remove(job->br->batch_dir, job->id);
	} else {
		base = strrchr(archive, '/');
		r = batch_dir_clean(job->dir,
				    base != NULL ? base + 1 : archive);
	}
	if (r != 0)
		log_warn("batch job %lld: files left in %s: %s",
			 (long long)job->id, job->dir, est_strerror(r));
}
