/*
 * Unit tests of what a batch job is made of before any certificate
 * (pki/batch.c, batch_csv.c, batch_files.c): the placeholder syntax, the
 * RFC 4180 reader and its refusals, the CSV header against a template,
 * the per-item check that names the field, the stored form of the values,
 * the passphrase file (modes, lengths, torn files), the PKCS#12 file names
 * and the scan that finds them again after a crash.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "batch.h"
#include "err.h"
#include "harness.h"
#include "issue.h"
#include "subject.h"
#include "tmpl.h"

#define OID_CN "2.5.4.3"
#define OID_O "2.5.4.10"

#define ATTR(oid, sn, rule, max, def)                                          \
	{                                                                      \
		SUBJ_ATTR, oid, sn, SUBJ_STR_DEFAULT, SUBJ_SAN_DNS,            \
			SUBJ_ON_UTF8, rule, max, def                           \
	}
#define SAN(type, rule, max)                                                   \
	{                                                                      \
		SUBJ_SAN, NULL, NULL, SUBJ_STR_DEFAULT, type, SUBJ_ON_UTF8,    \
			rule, max, NULL                                        \
	}

/* CN required (at most 12 characters), O fixed, one optional DNS name. */
static struct subj_field fields[] = {
	ATTR(OID_CN, "CN", SUBJ_REQUIRED, 12, NULL),
	ATTR(OID_O, "O", SUBJ_FIXED, 64, "Estuary"),
	SAN(SUBJ_SAN_DNS, SUBJ_OPTIONAL, 64),
};
static struct tmpl t;

static char dir[] = "/tmp/estuary-batch-XXXXXX";

static int
suite_init(void)
{
	t.fields = fields;
	t.nfields = sizeof(fields) / sizeof(fields[0]);
	t.active = 1;
	return mkdtemp(dir) == NULL;
}

static int
suite_clean(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) != 0;
}

static void
expect_expand(const char *in, uint32_t idx, const char *want)
{
	char *out = NULL;

	CU_ASSERT_EQUAL_FATAL(batch_expand(in, idx, &out), 0);
	CU_ASSERT_STRING_EQUAL(out, want);
	free(out);
}

static void
test_placeholders(void)
{
	static const char *const bad[] = {
		"a}b",	       "{index",	"{index:0}", "{index:10}",
		"{foo}",       "{index:x}",	"{}",	     "{n:}",
		"{index:05x}", "x{index:1}}y{",
	};
	char *out = NULL;
	size_t i;

	expect_expand("device-{index:05}", 7, "device-00007");
	expect_expand("device-{index}", 100000, "device-100000");
	expect_expand("{n}-{n:3}", 42, "42-042");
	expect_expand("{{literal}} {index:1}", 123, "{literal} 123");
	expect_expand("no braces", 9, "no braces");
	expect_expand("{index:9}", 1, "000000001");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(batch_placeholder_check(bad[i]),
				EST_E_UNPROCESSABLE);
		CU_ASSERT_EQUAL(batch_expand(bad[i], 1, &out),
				EST_E_UNPROCESSABLE);
		if (batch_placeholder_check(bad[i]) == 0)
			fprintf(stderr, "accepted \"%s\"\n", bad[i]);
	}
	CU_ASSERT_PTR_NULL(out);
}

static const char *
cell(const struct batch_csv *c, size_t row, size_t col)
{
	return c->cells[(row + 1) * c->ncols + col];
}

static void
test_csv_read(void)
{
	static const char text[] = "CN,san.dns\r\n"
				   "plain,a.example\r\n"
				   "\"with, comma\",\"say \"\"hi\"\"\"\n"
				   "\n"
				   "\"two\r\nlines\",\r\n"
				   "last,";
	struct batch_csv *c = NULL;
	struct batch_error be;

	CU_ASSERT_EQUAL_FATAL(batch_csv_parse(text, strlen(text), &c, &be), 0);
	CU_ASSERT_EQUAL(c->ncols, 2);
	CU_ASSERT_EQUAL_FATAL(c->nrows, 4);
	CU_ASSERT_STRING_EQUAL(c->cells[0], "CN");
	CU_ASSERT_STRING_EQUAL(cell(c, 0, 1), "a.example");
	CU_ASSERT_STRING_EQUAL(cell(c, 1, 0), "with, comma");
	CU_ASSERT_STRING_EQUAL(cell(c, 1, 1), "say \"hi\"");
	CU_ASSERT_STRING_EQUAL(cell(c, 2, 0), "two\r\nlines");
	CU_ASSERT_STRING_EQUAL(cell(c, 2, 1), "");
	CU_ASSERT_STRING_EQUAL(cell(c, 3, 0), "last");
	/* Lines count from 1; the empty line 4 was skipped. */
	CU_ASSERT_EQUAL(c->line[0], 2);
	CU_ASSERT_EQUAL(c->line[2], 5);
	CU_ASSERT_EQUAL(c->line[3], 7);
	batch_csv_free(c);
	batch_csv_free(NULL);
}

static void
expect_csv_refused(const char *text, const char *why)
{
	struct batch_csv *c = NULL;
	struct batch_error be;

	memset(&be, 0, sizeof(be));
	CU_ASSERT_EQUAL(batch_csv_parse(text, strlen(text), &c, &be),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_STRING_EQUAL(be.field, "csv");
	if (strstr(be.message, why) == NULL)
		fprintf(stderr, "\"%s\": %s\n", text, be.message);
	CU_ASSERT_PTR_NOT_NULL(strstr(be.message, why));
	batch_csv_free(c);
}

static void
test_csv_refusals(void)
{
	char *big;
	size_t i;

	expect_csv_refused("CN,O\nx\n", "line 2 has 1 columns");
	expect_csv_refused("CN\n\"open\n", "not closed");
	expect_csv_refused("CN\n\"x\"y\n", "after a closing quote");
	expect_csv_refused("CN\nx\"y\n", "a quote");
	expect_csv_refused("CN\n", "at least one row");
	expect_csv_refused("", "at least one row");
	/* 100,001 rows: one too many. */
	big = malloc(3 + 2 * (BATCH_COUNT_MAX + 1) + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memcpy(big, "CN\n", 3);
	for (i = 0; i <= BATCH_COUNT_MAX; i++)
		memcpy(big + 3 + 2 * i, "x\n", 2);
	big[3 + 2 * (BATCH_COUNT_MAX + 1)] = '\0';
	expect_csv_refused(big, "more than 100000 rows");
	/* Exactly the limit is accepted. */
	big[3 + 2 * BATCH_COUNT_MAX] = '\0';
	{
		struct batch_csv *c = NULL;
		struct batch_error be;

		CU_ASSERT_EQUAL(batch_csv_parse(big, strlen(big), &c, &be), 0);
		CU_ASSERT(c != NULL && c->nrows == BATCH_COUNT_MAX);
		batch_csv_free(c);
	}
	free(big);
}

static void
test_csv_columns(void)
{
	static const char good[] = "cn,san.dns\nd1,d1.example\nd2,\n";
	static const char unknown[] = "CN,OU\na,b\n";
	static const char nosan[] = "CN,san.ip\na,10.0.0.1\n";
	struct batch_values **rows = NULL;
	struct batch_csv *c = NULL;
	struct batch_error be;

	CU_ASSERT_EQUAL_FATAL(batch_csv_parse(good, strlen(good), &c, &be), 0);
	CU_ASSERT_EQUAL_FATAL(batch_csv_values(&t, c, &rows, &be), 0);
	CU_ASSERT_EQUAL(rows[0]->nsubject, 1);
	CU_ASSERT_STRING_EQUAL(rows[0]->subject[0].value, "d1");
	CU_ASSERT_EQUAL(rows[0]->nsan, 1);
	CU_ASSERT_EQUAL(rows[0]->san[0].type, SUBJ_SAN_DNS);
	/* An empty cell is no value. */
	CU_ASSERT_EQUAL(rows[1]->nsan, 0);
	batch_rows_free(rows, c->nrows);
	batch_csv_free(c);

	rows = NULL;
	c = NULL;
	CU_ASSERT_EQUAL_FATAL(
		batch_csv_parse(unknown, strlen(unknown), &c, &be), 0);
	CU_ASSERT_EQUAL(batch_csv_values(&t, c, &rows, &be),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(be.field, "csv.header[1]");
	CU_ASSERT_PTR_NULL(rows);
	batch_csv_free(c);

	c = NULL;
	CU_ASSERT_EQUAL_FATAL(batch_csv_parse(nosan, strlen(nosan), &c, &be),
			      0);
	CU_ASSERT_EQUAL(batch_csv_values(&t, c, &rows, &be),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(be.field, "csv.header[1]");
	batch_csv_free(c);
}

/* Common values {CN: cn} for the item checks. */
static struct batch_values *
common_cn(const char *cn)
{
	struct batch_values *v = NULL;
	char *text;

	CU_ASSERT_FATAL(asprintf(&text,
				 "{\"subject\":[{\"name\":\"CN\",\"value\":"
				 "\"%s\"}],\"san\":[]}",
				 cn) > 0);
	CU_ASSERT_EQUAL(batch_values_parse(text, &v), 0);
	free(text);
	return v;
}

static void
test_item_check(void)
{
	struct batch_values *v = common_cn("device-{index:05}"), *back = NULL;
	struct subj_input *in = NULL;
	struct issue_error ie;
	char *json = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	memset(&ie, 0, sizeof(ie));
	CU_ASSERT_EQUAL(batch_item_check(&t, v, NULL, 1, &ie), 0);
	CU_ASSERT_EQUAL(batch_item_input(&t, v, NULL, 42, &in, &ie), 0);
	CU_ASSERT_FATAL(in != NULL && in->nentries == 1);
	CU_ASSERT_STRING_EQUAL(in->entries[0].value, "device-00042");
	subject_input_free(in);
	/* 13 characters at item 100000: over the template's 12. */
	CU_ASSERT_EQUAL(batch_item_check(&t, v, NULL, 100000, &ie),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(ie.field, "subject.CN");
	/* The stored form reads back the same. */
	CU_ASSERT_EQUAL_FATAL(batch_values_json(v, &json), 0);
	CU_ASSERT_EQUAL_FATAL(batch_values_parse(json, &back), 0);
	CU_ASSERT_EQUAL(back->nsubject, 1);
	CU_ASSERT_STRING_EQUAL(back->subject[0].value, "device-{index:05}");
	CU_ASSERT_EQUAL(batch_values_parse("{\"subject\":1}", &back),
			EST_E_INTERNAL);
	batch_values_free(back);
	batch_values_free(v);
	free(json);

	/* A fixed field typed differently, a field twice, one missing. */
	v = NULL;
	CU_ASSERT_EQUAL(batch_values_parse(
				"{\"subject\":[{\"name\":\"O\",\"value\":"
				"\"Other\"},{\"name\":\"CN\",\"value\":\"x\"}],"
				"\"san\":[]}",
				&v),
			0);
	CU_ASSERT_EQUAL(batch_item_check(&t, v, NULL, 1, &ie),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(ie.field, "subject.O");
	batch_values_free(v);
	v = common_cn("a");
	{
		struct batch_values *row = common_cn("b");

		CU_ASSERT_EQUAL(batch_item_check(&t, v, row, 1, &ie),
				EST_E_UNPROCESSABLE);
		CU_ASSERT_STRING_EQUAL(ie.field, "subject.CN");
		batch_values_free(row);
	}
	batch_values_free(v);
	v = common_cn("");
	CU_ASSERT_EQUAL(batch_item_check(&t, v, NULL, 1, &ie),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(ie.field, "subject.CN");
	batch_values_free(v);
}

static void
test_secrets(void)
{
	struct batch_secrets *s = NULL;
	char path[300], job[256];
	struct stat st;
	const char *a, *b;
	size_t i;
	FILE *fp;

	CU_ASSERT_EQUAL_FATAL(
		batch_secrets_write(dir, 7, BATCH_PER_CERTIFICATE, NULL, 5), 0);
	snprintf(job, sizeof(job), "%s/7", dir);
	CU_ASSERT_EQUAL(stat(job, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/passphrases", job);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL_FATAL(
		batch_secrets_load(dir, 7, BATCH_PER_CERTIFICATE, 5, &s), 0);
	a = batch_secrets_get(s, 1);
	b = batch_secrets_get(s, 5);
	CU_ASSERT_FATAL(a != NULL && b != NULL);
	CU_ASSERT_EQUAL(strlen(a), BATCH_PASS_LEN);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	for (i = 0; i < BATCH_PASS_LEN; i++)
		CU_ASSERT(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
				 "rstuvwxyz0123456789-_",
				 a[i]) != NULL);
	CU_ASSERT_PTR_NULL(batch_secrets_get(s, 6));
	CU_ASSERT_PTR_NULL(batch_secrets_get(s, 0));
	batch_secrets_free(s);
	s = NULL;
	/* Asking for more items than were written: refused. */
	CU_ASSERT_EQUAL(
		batch_secrets_load(dir, 7, BATCH_PER_CERTIFICATE, 6, &s),
		EST_E_INTERNAL);
	/* A torn file (no final newline) is refused, not half used. */
	CU_ASSERT_FATAL((fp = fopen(path, "a")) != NULL);
	fputs("partial", fp);
	fclose(fp);
	CU_ASSERT_EQUAL(
		batch_secrets_load(dir, 7, BATCH_PER_CERTIFICATE, 5, &s),
		EST_E_INTERNAL);
	CU_ASSERT_EQUAL(batch_dir_remove(dir, 7), 0);
	CU_ASSERT_NOT_EQUAL(stat(job, &st), 0);
	CU_ASSERT_EQUAL(batch_dir_remove(dir, 7), 0);
	CU_ASSERT_EQUAL(batch_secrets_load(dir, 7, BATCH_PER_BATCH, 5, &s),
			EST_E_NOTFOUND);

	/* One passphrase for the whole batch, the user's own. */
	CU_ASSERT_EQUAL_FATAL(batch_secrets_write(dir, 8, BATCH_PER_BATCH,
						  "correct horse, \"battery\"",
						  100),
			      0);
	CU_ASSERT_EQUAL_FATAL(
		batch_secrets_load(dir, 8, BATCH_PER_BATCH, 100, &s), 0);
	CU_ASSERT_STRING_EQUAL(batch_secrets_get(s, 1),
			       "correct horse, \"battery\"");
	CU_ASSERT_STRING_EQUAL(batch_secrets_get(s, 100),
			       "correct horse, \"battery\"");
	batch_secrets_free(s);
	CU_ASSERT_EQUAL(batch_secrets_write(dir, 9, BATCH_PER_CERTIFICATE,
					    "not allowed", 3),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(batch_dir_remove(dir, 8), 0);
}

/* A self-signed certificate with commonName cn (NULL: none). */
static uint8_t *
make_cert(const char *cn, size_t *len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	unsigned char *der = NULL;
	int l;

	CU_ASSERT_FATAL(k != NULL && x != NULL && n != NULL);
	if (cn != NULL)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
					   (const unsigned char *)cn, -1, -1,
					   0);
	else
		X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
					   (const unsigned char *)"x", -1, -1,
					   0);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 60);
	X509_set_pubkey(x, k);
	X509_sign(x, k, EVP_sha256());
	l = i2d_X509(x, &der);
	CU_ASSERT_FATAL(l > 0);
	*len = (size_t)l;
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(k);
	return der;
}

static void
test_names_and_scan(void)
{
	char name[BATCH_NAME_MAX], job[256], **names = NULL;
	uint8_t *der;
	size_t len = 0;
	struct stat st;

	der = make_cert("dev/../x y\xc3\xa9", &len);
	CU_ASSERT_EQUAL(batch_p12_name(3, der, len, name), 0);
	CU_ASSERT_STRING_EQUAL(name, "3-dev_.._x_y__.p12");
	OPENSSL_free(der);
	der = make_cert(NULL, &len);
	CU_ASSERT_EQUAL(batch_p12_name(12, der, len, name), 0);
	CU_ASSERT_STRING_EQUAL(name, "12-1234.p12");
	OPENSSL_free(der);

	snprintf(job, sizeof(job), "%s/11", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(job, 0700), 0);
	CU_ASSERT_EQUAL(batch_file_write(job, "3-a.p12", "x", 1), 0);
	CU_ASSERT_EQUAL(batch_file_write(job, "5-b.p12", "y", 1), 0);
	CU_ASSERT_EQUAL(batch_file_write(job, "9-c.p12", "z", 1), 0);
	CU_ASSERT_EQUAL(batch_file_write(job, "passphrases", "p\n", 2), 0);
	CU_ASSERT_EQUAL(batch_file_write(job, "6-torn.p12.tmp", "t", 1), 0);
	CU_ASSERT_EQUAL_FATAL(batch_files_scan(job, 8, &names), 0);
	CU_ASSERT_STRING_EQUAL(names[3], "3-a.p12");
	CU_ASSERT_STRING_EQUAL(names[5], "5-b.p12");
	CU_ASSERT_PTR_NULL(names[1]);
	CU_ASSERT_PTR_NULL(names[6]);
	/* Item 9 is beyond the job's 8: not one of its files. */
	batch_names_free(names, 8);
	snprintf(job, sizeof(job), "%s/11/6-torn.p12.tmp", dir);
	CU_ASSERT_NOT_EQUAL(stat(job, &st), 0);
	snprintf(job, sizeof(job), "%s/11", dir);
	CU_ASSERT_EQUAL(batch_dir_clean(job, "5-b.p12"), 0);
	snprintf(job, sizeof(job), "%s/11/5-b.p12", dir);
	CU_ASSERT_EQUAL(stat(job, &st), 0);
	snprintf(job, sizeof(job), "%s/11/3-a.p12", dir);
	CU_ASSERT_NOT_EQUAL(stat(job, &st), 0);
	CU_ASSERT_EQUAL(batch_dir_remove(dir, 11), 0);
}

static CU_TestInfo batch_tests[] = {
	{"placeholders expand and bad braces are refused", test_placeholders},
	{"RFC 4180 records with quotes and line breaks", test_csv_read},
	{"malformed and oversized CSV refused", test_csv_refusals},
	{"CSV columns matched against the template", test_csv_columns},
	{"each item is checked as it will be issued", test_item_check},
	{"passphrase files: modes, lengths, torn files", test_secrets},
	{"PKCS#12 names and the scan after a crash", test_names_and_scan},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("batch", suite_init, suite_clean, batch_tests);
}
