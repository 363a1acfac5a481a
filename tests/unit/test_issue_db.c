/*
 * Refusals of the issuance path (each leaves no row behind) and the
 * queries of db/cert.c: lookups, filters, revocation, the CRL's list and
 * the retention of server-generated keys.  Runs after test_issue.c's suite
 * on the same database, signer and CAs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "cert.h"
#include "csr.h"
#include "db.h"
#include "err.h"
#include "harness.h"
#include "issue.h"
#include "template.h"
#include "test_issue.h"
#include "tmpl.h"
#include "util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct db_stmt_def t_stmts[] = {
#define T_EXPIRE_KEY 0
	{"t_expire_key",
	 "UPDATE certificates SET key_retention_until ="
	 " UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE id = ?",
	 1},
};

static const struct ti_field fields[] = {
	{0, "2.5.4.3", "CN", 0, 0, SUBJ_REQUIRED, 64, NULL},
	{0, "2.5.4.10", "O", 0, 0, SUBJ_FIXED, 64, "Estuary Devices"},
	{1, NULL, NULL, SUBJ_SAN_DNS, 0, SUBJ_OPTIONAL, 253, NULL},
};

static struct tmpl *
ec_only(const char *name)
{
	struct tmpl *t = ti_template(name, ti_issuing, fields, NELEM(fields));

	t->key_types = CSR_KEYBIT(SIGNER_KEY_EC_P256);
	return ti_store(t);
}

/* Issues from a P-256 CSR with CN cn; 0 or the error. */
static int
issue_cn(const struct tmpl *t, const char *cn, time_t nb, int days,
	 struct issue_result **res, struct issue_error *err)
{
	const char *subj[] = {"CN", cn, NULL};
	EVP_PKEY *key = ti_key("P-256");
	struct csr *csr = ti_csr(key, cn != NULL ? subj : NULL, NULL);
	int r;

	r = ti_issue(t, ti_issuing, csr, 0, NULL, nb, days, res, err);
	csr_free(csr);
	EVP_PKEY_free(key);
	return r;
}

static void
test_refusals_write_nothing(void)
{
	static const char *const subj[] = {"CN", "rsa-dev", NULL};
	struct tmpl *t = ec_only("t-refuse");
	EVP_PKEY *rsa = ti_key("rsa");
	struct csr *csr = ti_csr(rsa, subj, NULL);
	struct issue_result *res = NULL;
	struct issue_error err;
	struct issue_user_value fixed[] = {{"CN", "u"}, {"O", "Someone"}};
	struct issue_user_value unknown[] = {{"CN", "u"}, {"L", "Zurich"}};
	struct issue_user_value twice[] = {{"CN", "u"}, {"2.5.4.3", "v"}};
	struct issue_user_san uri[] = {{SUBJ_SAN_URI, NULL, "urn:x"}};
	struct subj_input *in = NULL;
	char longcn[80];
	int64_t before = ti_count();

	CU_ASSERT_FATAL(t != NULL && csr != NULL && before >= 0);
	/* A key type outside the policy: 422 naming "key". */
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ti_issue(t, ti_issuing, csr, 0, NULL, 0, 0, &res, &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "key");
	/* A required field without a value. */
	CU_ASSERT_EQUAL(issue_cn(t, NULL, 0, 0, &res, &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "subject.CN");
	/* A value over its bound is refused, not cut. */
	memset(longcn, 'a', 65);
	longcn[65] = '\0';
	CU_ASSERT_EQUAL(issue_cn(t, longcn, 0, 0, &res, &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "subject.CN");
	/* Validity: past the CA, before the CA, after the CA. */
	CU_ASSERT_EQUAL(issue_cn(t, "v", 0, 3000, &res, &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "validity_days");
	CU_ASSERT_EQUAL(
		issue_cn(t, "v", ti_issuing->not_before - 10, 0, &res, &err),
		EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "valid_from");
	CU_ASSERT_EQUAL(
		issue_cn(t, "v", ti_issuing->not_after + 10, 0, &res, &err),
		EST_E_CONFLICT);
	CU_ASSERT_STRING_EQUAL(err.field, "valid_from");
	CU_ASSERT_EQUAL(issue_cn(t, "v", 0, 40000, &res, &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "validity_days");
	/* Server keys: a type outside the policy. */
	CU_ASSERT_EQUAL(issue_input_from_user(t, fixed, 1, NULL, 0, &in, &err),
			0);
	CU_ASSERT_EQUAL(ti_issue(t, ti_issuing, NULL, SIGNER_KEY_RSA_4096, in,
				 0, 0, &res, &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "key_type");
	subject_input_free(in);
	in = NULL;
	/* A user may not change a fixed value. */
	CU_ASSERT_EQUAL(issue_input_from_user(t, fixed, 2, NULL, 0, &in, &err),
			0);
	CU_ASSERT_EQUAL(ti_issue(t, ti_issuing, NULL, SIGNER_KEY_EC_P256, in, 0,
				 0, &res, &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "subject.O");
	subject_input_free(in);
	in = NULL;
	/* Fields the template lacks, or given twice, are refused. */
	CU_ASSERT_EQUAL(
		issue_input_from_user(t, unknown, 2, NULL, 0, &in, &err),
		EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "subject.L");
	CU_ASSERT_EQUAL(issue_input_from_user(t, twice, 2, NULL, 0, &in, &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "subject.2.5.4.3");
	CU_ASSERT_EQUAL(issue_input_from_user(t, twice, 1, uri, 1, &in, &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "san[0]");
	CU_ASSERT_EQUAL(in, NULL);
	/* An inactive template, and one without server keys. */
	t->active = 0;
	CU_ASSERT_EQUAL(issue_cn(t, "v", 0, 0, &res, &err), EST_E_CONFLICT);
	CU_ASSERT_STRING_EQUAL(err.field, "template_id");
	t->active = 1;
	t->server_keygen = 0;
	CU_ASSERT_EQUAL(issue_input_from_user(t, fixed, 1, NULL, 0, &in, &err),
			0);
	CU_ASSERT_EQUAL(ti_issue(t, ti_issuing, NULL, SIGNER_KEY_EC_P256, in, 0,
				 0, &res, &err),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.field, "key_type");
	subject_input_free(in);
	CU_ASSERT_EQUAL(res, NULL);
	CU_ASSERT_EQUAL(ti_count(), before);
	csr_free(csr);
	EVP_PKEY_free(rsa);
	tmpl_free(t);
}

/* The certificate and its row go together: a rollback leaves neither. */
static void
test_rollback_leaves_nothing(void)
{
	struct tmpl *t = ec_only("t-rollback");
	EVP_PKEY *key = ti_key("P-256");
	const char *subj[] = {"CN", "rolled-back", NULL};
	struct csr *csr = ti_csr(key, subj, NULL);
	struct issue_result *res = NULL;
	struct issue_error err = {0};
	struct subj_input *in = NULL;
	struct db_result *row = NULL;
	struct issue_req rq;
	int64_t before = ti_count();

	CU_ASSERT_FATAL(t != NULL && csr != NULL);
	CU_ASSERT_EQUAL_FATAL(issue_input_from_csr(csr, &in), 0);
	memset(&rq, 0, sizeof(rq));
	rq.tmpl = t;
	rq.ca = ti_issuing;
	rq.csr = csr;
	rq.input = in;
	rq.src = SUBJ_SRC_CSR;
	CU_ASSERT_EQUAL_FATAL(db_begin(ti_db), 0);
	CU_ASSERT_EQUAL(issue_cert(ti_db, ti_sig, &rq, &res, &err), 0);
	CU_ASSERT_EQUAL(ti_count(), before + 1);
	CU_ASSERT_EQUAL(db_rollback(ti_db), 0);
	CU_ASSERT_EQUAL(ti_count(), before);
	CU_ASSERT_FATAL(res != NULL);
	CU_ASSERT_EQUAL(db_cert_get(ti_db, res->id, 0, &row), EST_E_NOTFOUND);
	issue_result_free(res);
	subject_input_free(in);
	csr_free(csr);
	EVP_PKEY_free(key);
	tmpl_free(t);
}

static void
test_valid_from_in_future(void)
{
	struct tmpl *t = ec_only("t-future");
	struct issue_result *res = NULL;
	struct issue_error err = {0};
	time_t nb = time(NULL) + 86400;
	X509 *x;

	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_EQUAL_FATAL(issue_cn(t, "later", nb, 10, &res, &err), 0);
	CU_ASSERT_EQUAL(res->not_before, nb);
	CU_ASSERT_EQUAL(res->not_after, nb + 10 * 86400);
	CU_ASSERT_FATAL((x = ti_x509(res)) != NULL);
	CU_ASSERT_EQUAL(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), nb), 0);
	X509_free(x);
	issue_result_free(res);
	tmpl_free(t);
}

/* A serial that the CA used already is refused by the unique index. */
static void
test_duplicate_serial_refused(void)
{
	struct tmpl *t = ec_only("t-dup");
	struct issue_result *res = NULL;
	struct issue_error err = {0};
	struct db_cert_new n;
	uint8_t fp[32];
	int64_t id = 0;

	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_EQUAL_FATAL(issue_cn(t, "dup", 0, 0, &res, &err), 0);
	memset(&n, 0, sizeof(n));
	memset(fp, 0x5a, sizeof(fp));
	n.ca_id = ti_issuing->id;
	n.serial = res->serial;
	n.serial_len = res->serial_len;
	n.fingerprint = fp;
	n.subject = "CN=dup";
	n.not_before = res->not_before;
	n.not_after = res->not_after;
	n.kind = DB_CERT_KIND_OTHER;
	n.key_source = DB_CERT_SRC_CSR;
	n.der = res->der;
	n.derlen = res->derlen;
	n.issued_via = "api";
	n.created_by_type = "system";
	CU_ASSERT_EQUAL(db_cert_insert(ti_db, &n, &id), EST_E_EXISTS);
	/* Another CA may use the same serial. */
	n.ca_id = ti_rsa_issuing->id;
	CU_ASSERT_EQUAL(db_cert_insert(ti_db, &n, &id), 0);
	CU_ASSERT(id > res->id);
	issue_result_free(res);
	tmpl_free(t);
}

static void
test_lookups_and_filters(void)
{
	struct tmpl *t = ec_only("t-lookups");
	struct issue_result *a = NULL, *b = NULL;
	struct issue_error err = {0};
	struct db_cert_filter f;
	struct db_result *res = NULL;
	char soon[32];
	time_t when;
	struct tm tm;

	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_EQUAL_FATAL(issue_cn(t, "lookup-a", 0, 5, &a, &err), 0);
	CU_ASSERT_EQUAL_FATAL(issue_cn(t, "lookup-b", 0, 20, &b, &err), 0);
	CU_ASSERT_EQUAL(db_cert_get_by_fingerprint(ti_db, b->fingerprint, &res),
			0);
	CU_ASSERT_EQUAL(db_result_i64(res, 0, DB_CERT_ID), b->id);
	db_result_free(res);
	CU_ASSERT_EQUAL(db_cert_get_by_serial(ti_db, ti_issuing->id, a->serial,
					      a->serial_len, &res),
			0);
	CU_ASSERT_EQUAL(db_result_i64(res, 0, DB_CERT_ID), a->id);
	db_result_free(res);
	CU_ASSERT_EQUAL(db_cert_get_by_serial(ti_db, ti_rsa_issuing->id,
					      a->serial, a->serial_len, &res),
			EST_E_NOTFOUND);
	/* Template and subject filters. */
	memset(&f, 0, sizeof(f));
	f.template_id = t->id;
	CU_ASSERT_EQUAL_FATAL(db_cert_list(ti_db, &f, 0, 10, &res), 0);
	CU_ASSERT_EQUAL(db_result_rows(res), 2);
	CU_ASSERT(db_result_isnull(res, 0, DB_CERT_DER));
	db_result_free(res);
	f.subject_contains = "LOOKUP-B"; /* the column is case-insensitive */
	CU_ASSERT_EQUAL_FATAL(db_cert_list(ti_db, &f, 0, 10, &res), 0);
	CU_ASSERT(db_result_rows(res) == 1 &&
		  db_result_i64(res, 0, DB_CERT_ID) == b->id);
	db_result_free(res);
	f.subject_contains = NULL;
	f.subject_cn = "lookup-a";
	CU_ASSERT_EQUAL_FATAL(db_cert_list(ti_db, &f, 0, 10, &res), 0);
	CU_ASSERT(db_result_rows(res) == 1 &&
		  db_result_i64(res, 0, DB_CERT_ID) == a->id);
	db_result_free(res);
	f.subject_cn = NULL;
	f.serial = b->serial;
	f.serial_len = b->serial_len;
	CU_ASSERT_EQUAL_FATAL(db_cert_list(ti_db, &f, 0, 10, &res), 0);
	CU_ASSERT(db_result_rows(res) == 1 &&
		  db_result_i64(res, 0, DB_CERT_ID) == b->id);
	db_result_free(res);
	f.serial = NULL;
	/* Expiring within 10 days: only a. */
	when = time(NULL) + 10 * 86400;
	gmtime_r(&when, &tm);
	strftime(soon, sizeof(soon), "%Y-%m-%d %H:%M:%S", &tm);
	f.expiring_before = soon;
	CU_ASSERT_EQUAL_FATAL(db_cert_list(ti_db, &f, 0, 10, &res), 0);
	CU_ASSERT(db_result_rows(res) == 1 &&
		  db_result_i64(res, 0, DB_CERT_ID) == a->id);
	db_result_free(res);
	f.expiring_before = NULL;
	/* Pages: after a, only b. */
	CU_ASSERT_EQUAL_FATAL(db_cert_list(ti_db, &f, a->id, 10, &res), 0);
	CU_ASSERT(db_result_rows(res) == 1 &&
		  db_result_i64(res, 0, DB_CERT_ID) == b->id);
	db_result_free(res);
	CU_ASSERT_EQUAL_FATAL(db_cert_list(ti_db, &f, 0, 1, &res), 0);
	CU_ASSERT(db_result_rows(res) == 1 &&
		  db_result_i64(res, 0, DB_CERT_ID) == a->id);
	db_result_free(res);
	/* A tenant's view holds none of these global certificates. */
	f.scope_tenant = 999999;
	CU_ASSERT_EQUAL_FATAL(db_cert_list(ti_db, &f, 0, 10, &res), 0);
	CU_ASSERT_EQUAL(db_result_rows(res), 0);
	db_result_free(res);
	issue_result_free(a);
	issue_result_free(b);
	tmpl_free(t);
}

static void
test_revoke_once_and_listed(void)
{
	struct tmpl *t = ec_only("t-revoke");
	struct issue_result *a = NULL;
	struct issue_error err = {0};
	struct db_cert_filter f;
	struct db_result *res = NULL;
	time_t inval = time(NULL) - 3600;
	size_t i, found = 0;
	const char *s;
	size_t len;

	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_EQUAL_FATAL(issue_cn(t, "revoked", 0, 0, &a, &err), 0);
	CU_ASSERT_EQUAL(db_cert_revoke(ti_db, a->id, 7, 0, 0), EST_E_INVAL);
	CU_ASSERT_EQUAL(db_cert_revoke(ti_db, a->id, 1, inval, 0), 0);
	CU_ASSERT_EQUAL(db_cert_revoke(ti_db, a->id, 4, 0, 0), EST_E_CONFLICT);
	CU_ASSERT_EQUAL_FATAL(db_cert_get(ti_db, a->id, 0, &res), 0);
	CU_ASSERT_STRING_EQUAL(db_result_str(res, 0, DB_CERT_STATUS, NULL),
			       "revoked");
	CU_ASSERT_EQUAL(db_result_i64(res, 0, DB_CERT_REVOCATION_REASON), 1);
	CU_ASSERT_EQUAL(db_cert_time(db_result_str(
				res, 0, DB_CERT_INVALIDITY_DATE, NULL)),
			inval);
	CU_ASSERT(db_cert_time(db_result_str(res, 0, DB_CERT_REVOKED_AT,
					     NULL)) >= inval);
	db_result_free(res);
	memset(&f, 0, sizeof(f));
	f.template_id = t->id;
	f.status = "revoked";
	CU_ASSERT_EQUAL_FATAL(db_cert_list(ti_db, &f, 0, 10, &res), 0);
	CU_ASSERT_EQUAL(db_result_rows(res), 1);
	db_result_free(res);
	f.status = "active";
	CU_ASSERT_EQUAL_FATAL(db_cert_list(ti_db, &f, 0, 10, &res), 0);
	CU_ASSERT_EQUAL(db_result_rows(res), 0);
	db_result_free(res);
	/* The CRL's list, read in pages of one. */
	CU_ASSERT_EQUAL_FATAL(
		db_cert_revoked_list(ti_db, ti_issuing->id, 0, 1, &res), 0);
	CU_ASSERT_EQUAL(db_result_rows(res), 1);
	db_result_free(res);
	CU_ASSERT_EQUAL_FATAL(
		db_cert_revoked_list(ti_db, ti_issuing->id, 0, 100, &res), 0);
	for (i = 0; i < db_result_rows(res); i++) {
		s = db_result_str(res, i, DB_CERT_REV_SERIAL, &len);
		if (len == a->serial_len && memcmp(s, a->serial, len) == 0 &&
		    db_result_i64(res, i, DB_CERT_REV_REASON) == 1)
			found++;
	}
	CU_ASSERT_EQUAL(found, 1);
	db_result_free(res);
	CU_ASSERT_EQUAL_FATAL(
		db_cert_revoked_list(ti_db, ti_rsa_issuing->id, 0, 100, &res),
		0);
	CU_ASSERT_EQUAL(db_result_rows(res), 0);
	db_result_free(res);
	issue_result_free(a);
	tmpl_free(t);
}

/* After its retention the key is not handed out and is destroyed. */
static void
test_key_retention_ends(void)
{
	struct tmpl *t = ec_only("t-retention");
	struct issue_user_value uv[] = {{"CN", "kept"}};
	struct subj_input *in = NULL;
	struct issue_result *a = NULL;
	struct issue_error err = {0};
	struct db_result *res = NULL;
	struct db_param p[1];
	uint8_t *w = NULL;
	size_t wlen = 0;
	uint64_t n = 99;

	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_EQUAL_FATAL(
		issue_input_from_user(t, uv, 1, NULL, 0, &in, &err), 0);
	CU_ASSERT_EQUAL_FATAL(ti_issue(t, ti_issuing, NULL, SIGNER_KEY_EC_P256,
				       in, 0, 0, &a, &err),
			      0);
	CU_ASSERT_EQUAL(db_cert_wrapped_key(ti_db, a->id, &w, &wlen), 0);
	freezero(w, wlen);
	w = NULL;
	/* Nothing to destroy yet. */
	CU_ASSERT_EQUAL(db_cert_destroy_keys(ti_db, a->id, 0, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	p[0] = DB_I64(a->id);
	CU_ASSERT_EQUAL_FATAL(
		db_exec(ti_db, &t_stmts[T_EXPIRE_KEY], p, 1, NULL, NULL), 0);
	CU_ASSERT_EQUAL(db_cert_wrapped_key(ti_db, a->id, &w, &wlen),
			EST_E_NOTFOUND);
	CU_ASSERT_EQUAL_FATAL(db_cert_get(ti_db, a->id, 0, &res), 0);
	CU_ASSERT_EQUAL(db_result_i64(res, 0, DB_CERT_KEY_AVAILABLE), 0);
	CU_ASSERT(db_result_isnull(res, 0, DB_CERT_KEY_DESTROYED_AT));
	db_result_free(res);
	CU_ASSERT_EQUAL(db_cert_destroy_keys(ti_db, 0, 100, &n), 0);
	CU_ASSERT(n >= 1);
	CU_ASSERT_EQUAL_FATAL(db_cert_get(ti_db, a->id, 0, &res), 0);
	CU_ASSERT(!db_result_isnull(res, 0, DB_CERT_KEY_DESTROYED_AT));
	db_result_free(res);
	CU_ASSERT_EQUAL(db_cert_destroy_keys(ti_db, a->id, 0, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	issue_result_free(a);
	subject_input_free(in);
	tmpl_free(t);
}

static void
test_time_text(void)
{
	CU_ASSERT_EQUAL(db_cert_time("1970-01-01 00:00:10"), 10);
	CU_ASSERT_EQUAL(db_cert_time("9999-12-31 23:59:59.000000"),
			253402300799LL);
	CU_ASSERT_EQUAL(db_cert_time("2024-01-01"), -1);
	CU_ASSERT_EQUAL(db_cert_time("2024-01-01 00:00:00Z"), -1);
	CU_ASSERT_EQUAL(db_cert_time(NULL), -1);
}

CU_TestInfo ti_db_tests[] = {
	{"refusals write nothing", test_refusals_write_nothing},
	{"a rollback leaves neither certificate nor row",
	 test_rollback_leaves_nothing},
	{"valid from a later date", test_valid_from_in_future},
	{"a CA's serial is unique", test_duplicate_serial_refused},
	{"lookups and list filters", test_lookups_and_filters},
	{"revoke once; the CRL lists it", test_revoke_once_and_listed},
	{"key retention ends", test_key_retention_ends},
	{"database times", test_time_text},
	CU_TEST_INFO_NULL,
};
