/*
 * Tests of the external CA queries (db/extca.h) as the application
 * account: the columns derived from the certificate, duplicates, the
 * verification code and its expiry, the list filters, deletion only when
 * inactive and unused, and the lookups the EST code will make (by subject
 * hash and by subject key identifier, among the verified active CAs of a
 * tenant or organization).  Part of unit/test_db; see test_db.c for the
 * environment.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "db.h"
#include "dbq.h"
#include "err.h"
#include "extca.h"
#include "extcert.h"
#include "harness.h"
#include "test_db.h"

static const struct db_stmt_def x_stmts[] = {
#define X_DEVTYPE 0
	{"x_devtype",
	 "INSERT INTO device_types (name, scope, tenant_id, factory_source,"
	 " external_ca_id) VALUES (?, 'tenant', ?, 'external', ?)",
	 3},
#define X_DEVTYPE_DELETE 1
	{"x_devtype_delete", "DELETE FROM device_types WHERE name = ?", 1},
};

/* A self-signed EC CA certificate named cn, as DER in a new buffer. */
static uint8_t *
make_ca(const char *cn, size_t *len)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_NAME *name = X509_NAME_new();
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	X509V3_CTX ctx;
	X509 *x = X509_new();
	int n = 0;

	if (k == NULL || name == NULL || x == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 7) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    !X509_set_pubkey(x, k))
		goto out;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier,
				       "hash")) == NULL ||
	    !X509_add_ext(x, ext, -1))
		goto out;
	X509_EXTENSION_free(ext);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
				       "critical,CA:TRUE")) == NULL ||
	    !X509_add_ext(x, ext, -1) || X509_sign(x, k, EVP_sha256()) <= 0)
		goto out;
	n = i2d_X509(x, &der);
out:
	X509_EXTENSION_free(ext);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(k);
	if (n <= 0)
		return NULL;
	*len = (size_t)n;
	return der;
}

/* An external CA. */
struct xca {
	int64_t id;
	uint8_t *der;
	size_t len;
	struct extcert_info *info;
};

static int64_t t1, t2, o1, o2;
static struct xca ca_a, ca_b, ca_c, ca_d, ca_e;

static int
xca_add(struct xca *x, const char *name, const char *cn, int64_t tenant_id,
	int64_t org_id, int verified)
{
	struct db_extca_new n;

	memset(&n, 0, sizeof(n));
	if ((x->der = make_ca(cn, &x->len)) == NULL ||
	    extcert_info_new(x->der, x->len, &x->info) != 0)
		return -1;
	n.name = name;
	n.tenant_id = tenant_id;
	n.org_id = org_id;
	n.cert_der = x->der;
	n.cert_len = x->len;
	n.verified = verified;
	return db_extca_insert(tdb_app, &n, &x->id) == 0 ? 0 : -1;
}

static void
xca_free(struct xca *x)
{
	OPENSSL_free(x->der);
	extcert_info_free(x->info);
	memset(x, 0, sizeof(*x));
}

/*
 * Tenants T1 (organizations O1, O2) and T2; CAs A (T1, verified), B (O1,
 * verified), C (O2, verified), D (T1, unverified) and E (T2, verified,
 * A's subject under another key).
 */
static int
extca_init(void)
{
	if (db_tenant_create(tdb_app, "extca-t1", NULL, &t1) != 0 ||
	    db_tenant_create(tdb_app, "extca-t2", NULL, &t2) != 0 ||
	    db_org_create(tdb_app, t1, "extca-o1", NULL, &o1) != 0 ||
	    db_org_create(tdb_app, t1, "extca-o2", NULL, &o2) != 0 ||
	    xca_add(&ca_a, "xca-a", "CA A", t1, 0, 1) != 0 ||
	    xca_add(&ca_b, "xca-b", "CA B", t1, o1, 1) != 0 ||
	    xca_add(&ca_c, "xca-c", "CA C", t1, o2, 1) != 0 ||
	    xca_add(&ca_d, "xca-d", "CA D", t1, 0, 0) != 0 ||
	    xca_add(&ca_e, "xca-e", "CA A", t2, 0, 1) != 0)
		return -1;
	return 0;
}

static int
extca_fini(void)
{
	xca_free(&ca_a);
	xca_free(&ca_b);
	xca_free(&ca_c);
	xca_free(&ca_d);
	xca_free(&ca_e);
	return 0;
}

/* The ids of res, in order, as "1 2 3". */
static void
ids(const struct db_result *res, char *out, size_t n)
{
	size_t i, off = 0;

	*out = '\0';
	for (i = 0; i < db_result_rows(res) && off < n; i++)
		off += (size_t)snprintf(
			out + off, n - off, "%s%lld", i > 0 ? " " : "",
			(long long)db_result_i64(res, i, DB_EXTCA_ID));
}

static void
assert_ids(const struct db_result *res, const char *want)
{
	char got[256];

	ids(res, got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, want);
}

static void
test_insert_derives_columns(void)
{
	struct db_result *res = NULL;
	const char *s;
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(db_extca_get(tdb_app, ca_b.id, 0, &res), 0);
	CU_ASSERT_STRING_EQUAL(db_result_str(res, 0, DB_EXTCA_NAME, NULL),
			       "xca-b");
	CU_ASSERT_EQUAL(db_result_i64(res, 0, DB_EXTCA_TENANT_ID), t1);
	CU_ASSERT_EQUAL(db_result_i64(res, 0, DB_EXTCA_ORG_ID), o1);
	CU_ASSERT_STRING_EQUAL(db_result_str(res, 0, DB_EXTCA_SUBJECT, NULL),
			       "CN=CA B");
	s = db_result_str(res, 0, DB_EXTCA_CERT_DER, &len);
	CU_ASSERT(s != NULL && len == ca_b.len &&
		  memcmp(s, ca_b.der, len) == 0);
	s = db_result_str(res, 0, DB_EXTCA_FINGERPRINT, &len);
	CU_ASSERT(s != NULL && len == 32 &&
		  memcmp(s, ca_b.info->fingerprint, 32) == 0);
	s = db_result_str(res, 0, DB_EXTCA_SUBJECT_HASH, &len);
	CU_ASSERT(s != NULL && len == 32 &&
		  memcmp(s, ca_b.info->subject_hash, 32) == 0);
	s = db_result_str(res, 0, DB_EXTCA_SKI, &len);
	CU_ASSERT(s != NULL && len == ca_b.info->ski_len &&
		  memcmp(s, ca_b.info->ski, len) == 0);
	CU_ASSERT_STRING_EQUAL(db_result_str(res, 0, DB_EXTCA_NOT_AFTER, NULL),
			       ca_b.info->not_after);
	CU_ASSERT_STRING_EQUAL(db_result_str(res, 0, DB_EXTCA_STATUS, NULL),
			       EXTCA_STATUS_VERIFIED);
	CU_ASSERT_EQUAL(db_result_i64(res, 0, DB_EXTCA_ACTIVE), 1);
	CU_ASSERT(!db_result_isnull(res, 0, DB_EXTCA_VERIFIED_AT));
	CU_ASSERT(db_result_isnull(res, 0, DB_EXTCA_CREATED_BY));
	CU_ASSERT(db_result_isnull(res, 0, DB_EXTCA_CODE));
	CU_ASSERT_EQUAL(db_result_i64(res, 0, DB_EXTCA_CODE_LIVE), 0);
	db_result_free(res);
	CU_ASSERT_EQUAL(db_extca_get(tdb_app, ca_d.id, 0, &res), 0);
	CU_ASSERT_STRING_EQUAL(db_result_str(res, 0, DB_EXTCA_STATUS, NULL),
			       EXTCA_STATUS_UNVERIFIED);
	CU_ASSERT(db_result_isnull(res, 0, DB_EXTCA_VERIFIED_AT));
	db_result_free(res);
	CU_ASSERT_EQUAL(db_extca_get(tdb_app, 999999, 0, &res), EST_E_NOTFOUND);
}

static void
test_insert_refusals(void)
{
	struct db_extca_new n;
	int64_t id = 0;
	uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};

	memset(&n, 0, sizeof(n));
	n.name = "xca-dup";
	n.tenant_id = t1;
	n.cert_der = ca_a.der;
	n.cert_len = ca_a.len;
	/* The same certificate in the same tenant. */
	CU_ASSERT_EQUAL(db_extca_insert(tdb_app, &n, &id), EST_E_EXISTS);
	/* The name of another CA of the tenant, in another case. */
	n.name = "XCA-A";
	n.cert_der = ca_e.der;
	n.cert_len = ca_e.len;
	CU_ASSERT_EQUAL(db_extca_insert(tdb_app, &n, &id), EST_E_EXISTS);
	/* Names are unique within a tenant only: another may use it. */
	n.cert_der = ca_b.der;
	n.cert_len = ca_b.len;
	n.tenant_id = t2;
	CU_ASSERT_EQUAL(db_extca_insert(tdb_app, &n, &id), 0);
	CU_ASSERT(id > 0);
	if (id > 0) {
		CU_ASSERT_EQUAL(db_extca_set_active(tdb_app, id, 0), 0);
		CU_ASSERT_EQUAL(db_extca_delete(tdb_app, id), 0);
	}
	id = 0;
	/* An organization of another tenant. */
	n.name = "xca-x";
	n.org_id = o1;
	CU_ASSERT_EQUAL(db_extca_insert(tdb_app, &n, &id), EST_E_CONFLICT);
	n.org_id = 0;
	n.cert_der = junk;
	n.cert_len = sizeof(junk);
	CU_ASSERT_NOT_EQUAL(db_extca_insert(tdb_app, &n, &id), 0);
	CU_ASSERT_EQUAL(id, 0);
	CU_ASSERT_EQUAL(
		db_extca_find_cert(tdb_app, t1, ca_a.info->fingerprint, &id),
		0);
	CU_ASSERT_EQUAL(id, ca_a.id);
	CU_ASSERT_EQUAL(
		db_extca_find_cert(tdb_app, t2, ca_a.info->fingerprint, &id),
		EST_E_NOTFOUND);
}

static void
test_code_and_verification(void)
{
	struct db_result *res = NULL;

	CU_ASSERT_EQUAL(db_extca_set_code(tdb_app, ca_d.id, "c0de", 0),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(db_extca_set_code(tdb_app, ca_d.id, "c0de", 3600), 0);
	CU_ASSERT_EQUAL_FATAL(db_extca_get(tdb_app, ca_d.id, 1, &res), 0);
	CU_ASSERT_STRING_EQUAL(db_result_str(res, 0, DB_EXTCA_CODE, NULL),
			       "c0de");
	CU_ASSERT_EQUAL(db_result_i64(res, 0, DB_EXTCA_CODE_LIVE), 1);
	CU_ASSERT(!db_result_isnull(res, 0, DB_EXTCA_CODE_EXPIRES_AT));
	db_result_free(res);
	/* A second code replaces the first. */
	CU_ASSERT_EQUAL(db_extca_set_code(tdb_app, ca_d.id, "beef", 1), 0);
	CU_ASSERT_EQUAL_FATAL(db_extca_get(tdb_app, ca_d.id, 0, &res), 0);
	CU_ASSERT_STRING_EQUAL(db_result_str(res, 0, DB_EXTCA_CODE, NULL),
			       "beef");
	db_result_free(res);
	CU_ASSERT_EQUAL(db_extca_set_code(tdb_app, 999999, "beef", 1),
			EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(db_extca_set_verified(tdb_app, ca_d.id, 0), 0);
	CU_ASSERT_EQUAL_FATAL(db_extca_get(tdb_app, ca_d.id, 0, &res), 0);
	CU_ASSERT_STRING_EQUAL(db_result_str(res, 0, DB_EXTCA_STATUS, NULL),
			       EXTCA_STATUS_VERIFIED);
	CU_ASSERT(db_result_isnull(res, 0, DB_EXTCA_CODE));
	CU_ASSERT(db_result_isnull(res, 0, DB_EXTCA_CODE_EXPIRES_AT));
	CU_ASSERT(!db_result_isnull(res, 0, DB_EXTCA_VERIFIED_AT));
	db_result_free(res);
}

static void
test_lookups(void)
{
	struct db_result *res = NULL;

	/* A's subject: A in T1; E (same subject, another key) in T2. */
	CU_ASSERT_EQUAL_FATAL(db_extca_find_by_subject(tdb_app, t1, 0,
						       ca_a.info->subject_hash,
						       &res),
			      0);
	CU_ASSERT_EQUAL(db_result_rows(res), 1);
	CU_ASSERT_EQUAL(db_result_i64(res, 0, DB_EXTCA_ID), ca_a.id);
	db_result_free(res);
	CU_ASSERT_EQUAL(db_extca_find_by_subject(tdb_app, t2, 0,
						 ca_a.info->subject_hash, &res),
			0);
	CU_ASSERT_EQUAL(db_result_rows(res), 1);
	CU_ASSERT_EQUAL(db_result_i64(res, 0, DB_EXTCA_ID), ca_e.id);
	db_result_free(res);
	/* A tenant-wide CA serves every organization of its tenant. */
	CU_ASSERT_EQUAL(db_extca_find_by_subject(tdb_app, t1, o2,
						 ca_a.info->subject_hash, &res),
			0);
	CU_ASSERT_EQUAL(db_result_rows(res), 1);
	db_result_free(res);
	/* An organization's CA serves that organization only. */
	CU_ASSERT_EQUAL(db_extca_find_by_ski(tdb_app, t1, o1, ca_b.info->ski,
					     ca_b.info->ski_len, &res),
			0);
	CU_ASSERT_EQUAL(db_result_rows(res), 1);
	CU_ASSERT_EQUAL(db_result_i64(res, 0, DB_EXTCA_ID), ca_b.id);
	CU_ASSERT(!db_result_isnull(res, 0, DB_EXTCA_CERT_DER));
	db_result_free(res);
	CU_ASSERT_EQUAL(db_extca_find_by_ski(tdb_app, t1, o2, ca_b.info->ski,
					     ca_b.info->ski_len, &res),
			0);
	CU_ASSERT_EQUAL(db_result_rows(res), 0);
	db_result_free(res);
	CU_ASSERT_EQUAL(db_extca_find_by_ski(tdb_app, t2, 0, ca_b.info->ski,
					     ca_b.info->ski_len, &res),
			0);
	CU_ASSERT_EQUAL(db_result_rows(res), 0);
	db_result_free(res);
	/* An inactive CA is not trusted. */
	CU_ASSERT_EQUAL(db_extca_set_active(tdb_app, ca_a.id, 0), 0);
	CU_ASSERT_EQUAL(db_extca_find_by_subject(tdb_app, t1, 0,
						 ca_a.info->subject_hash, &res),
			0);
	CU_ASSERT_EQUAL(db_result_rows(res), 0);
	db_result_free(res);
	CU_ASSERT_EQUAL(db_extca_list_trusted(tdb_app, &res), 0);
	/* B, C, D (verified by the previous test) and E. */
	CU_ASSERT_EQUAL(db_result_rows(res), 4);
	db_result_free(res);
	CU_ASSERT_EQUAL(db_extca_set_active(tdb_app, ca_a.id, 1), 0);
	CU_ASSERT_EQUAL(db_extca_find_by_subject(tdb_app, 0, 0,
						 ca_a.info->subject_hash, &res),
			EST_E_INVAL);
}

static void
test_list_filters(void)
{
	struct db_extca_filter f;
	struct db_result *res = NULL;
	char want[128];

	memset(&f, 0, sizeof(f));
	f.active = -1;
	f.name_prefix = "xca-";
	CU_ASSERT_EQUAL_FATAL(db_extca_list(tdb_app, &f, 0, 100, &res), 0);
	CU_ASSERT_EQUAL(db_result_rows(res), 5);
	/* Lists carry neither the certificate nor the code. */
	CU_ASSERT(db_result_isnull(res, 0, DB_EXTCA_CERT_DER));
	db_result_free(res);
	/* A tenant's view. */
	f.scope_tenant = t2;
	CU_ASSERT_EQUAL(db_extca_list(tdb_app, &f, 0, 100, &res), 0);
	snprintf(want, sizeof(want), "%lld", (long long)ca_e.id);
	assert_ids(res, want);
	db_result_free(res);
	/* An organization's view, with and without the tenant-wide CAs. */
	f.scope_tenant = t1;
	f.scope_org = o1;
	CU_ASSERT_EQUAL(db_extca_list(tdb_app, &f, 0, 100, &res), 0);
	snprintf(want, sizeof(want), "%lld", (long long)ca_b.id);
	assert_ids(res, want);
	db_result_free(res);
	f.scope_shared = 1;
	CU_ASSERT_EQUAL(db_extca_list(tdb_app, &f, 0, 100, &res), 0);
	snprintf(want, sizeof(want), "%lld %lld %lld", (long long)ca_a.id,
		 (long long)ca_b.id, (long long)ca_d.id);
	assert_ids(res, want);
	db_result_free(res);
	/* The client's filters. */
	memset(&f, 0, sizeof(f));
	f.active = -1;
	f.scope = "organization";
	CU_ASSERT_EQUAL(db_extca_list(tdb_app, &f, 0, 100, &res), 0);
	snprintf(want, sizeof(want), "%lld %lld", (long long)ca_b.id,
		 (long long)ca_c.id);
	assert_ids(res, want);
	db_result_free(res);
	f.scope = "tenant";
	f.tenant_id = t1;
	f.name_prefix = "XCA-";
	CU_ASSERT_EQUAL(db_extca_list(tdb_app, &f, 0, 100, &res), 0);
	snprintf(want, sizeof(want), "%lld %lld", (long long)ca_a.id,
		 (long long)ca_d.id);
	assert_ids(res, want);
	db_result_free(res);
	/* Keyset pages: after A, one row. */
	CU_ASSERT_EQUAL(db_extca_list(tdb_app, &f, ca_a.id, 1, &res), 0);
	snprintf(want, sizeof(want), "%lld", (long long)ca_d.id);
	assert_ids(res, want);
	db_result_free(res);
	memset(&f, 0, sizeof(f));
	f.active = 0;
	CU_ASSERT_EQUAL(db_extca_list(tdb_app, &f, 0, 100, &res), 0);
	CU_ASSERT_EQUAL(db_result_rows(res), 0);
	db_result_free(res);
	f.active = -1;
	f.status = EXTCA_STATUS_UNVERIFIED;
	CU_ASSERT_EQUAL(db_extca_list(tdb_app, &f, 0, 100, &res), 0);
	CU_ASSERT_EQUAL(db_result_rows(res), 0);
	db_result_free(res);
	f.status = NULL;
	f.name_contains = "ca-c";
	CU_ASSERT_EQUAL(db_extca_list(tdb_app, &f, 0, 100, &res), 0);
	snprintf(want, sizeof(want), "%lld", (long long)ca_c.id);
	assert_ids(res, want);
	db_result_free(res);
	CU_ASSERT_EQUAL(db_extca_list(tdb_app, &f, 0, 0, &res), EST_E_INVAL);
}

static void
test_update_and_delete(void)
{
	struct db_param p[3];
	struct db_result *res = NULL;
	int64_t n = -1;

	CU_ASSERT_EQUAL(db_extca_update(tdb_app, ca_c.id, "xca-b", NULL),
			EST_E_EXISTS);
	CU_ASSERT_EQUAL(db_extca_update(tdb_app, ca_c.id, "xca-c2", "desc"), 0);
	CU_ASSERT_EQUAL(db_extca_update(tdb_app, 999999, "x", NULL),
			EST_E_NOTFOUND);
	/* Active: not deleted. */
	CU_ASSERT_EQUAL(db_extca_delete(tdb_app, ca_c.id), EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(db_extca_get(tdb_app, ca_c.id, 0, &res), 0);
	db_result_free(res);
	/* In use by a device type: refused by the foreign key. */
	p[0] = DB_STR("xca-devtype");
	p[1] = DB_I64(t1);
	p[2] = DB_I64(ca_c.id);
	CU_ASSERT_EQUAL_FATAL(
		db_exec(tdb_app, &x_stmts[X_DEVTYPE], p, 3, NULL, NULL), 0);
	CU_ASSERT_EQUAL(db_extca_users(tdb_app, ca_c.id, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(db_extca_set_active(tdb_app, ca_c.id, 0), 0);
	CU_ASSERT_EQUAL(db_extca_delete(tdb_app, ca_c.id), EST_E_CONFLICT);
	CU_ASSERT_EQUAL(
		db_exec(tdb_app, &x_stmts[X_DEVTYPE_DELETE], p, 1, NULL, NULL),
		0);
	CU_ASSERT_EQUAL(db_extca_users(tdb_app, ca_c.id, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(db_extca_delete(tdb_app, ca_c.id), 0);
	CU_ASSERT_EQUAL(db_extca_get(tdb_app, ca_c.id, 0, &res),
			EST_E_NOTFOUND);
}

int
tdb_extca_suites(void)
{
	static CU_TestInfo tests[] = {
		{"insert derives the certificate's columns",
		 test_insert_derives_columns},
		{"duplicates and bad certificates refused",
		 test_insert_refusals},
		{"verification code and verification",
		 test_code_and_verification},
		{"lookups among trusted CAs", test_lookups},
		{"list filters", test_list_filters},
		{"update, and delete only inactive and unused",
		 test_update_and_delete},
		CU_TEST_INFO_NULL,
	};

	return test_add_suite("external CAs", extca_init, extca_fini, tests);
}
