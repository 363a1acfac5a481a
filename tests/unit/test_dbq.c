/*
 * Tests of the domain queries (tenants, organizations, users, CAs) and of
 * the report views' figures, as the application account.  Part of
 * unit/test_db; see test_db.c for the environment.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "harness.h"
#include "sigproto.h"
#include "test_db.h"

static const struct db_stmt_def q_stmts[] = {
#define Q_TENANT_DELETE 0
	{"q_tenant_delete", "DELETE FROM tenants WHERE id = ?", 1},
};

/* Rows for the report views, and the views' figures. */
static const struct db_stmt_def r_stmts[] = {
#define R_CERT 0
	{"r_cert",
	 "INSERT INTO certificates (ca_id, serial, fingerprint, subject,"
	 " not_before, not_after, status, revocation_reason, revoked_at,"
	 " cert_der, tenant_id, kind)"
	 " VALUES (?, ?, ?, 'CN=report', UTC_TIMESTAMP() - INTERVAL 30 DAY,"
	 " UTC_TIMESTAMP() + INTERVAL ? HOUR, ?, ?,"
	 " IF(? = 'revoked', UTC_TIMESTAMP(6), NULL), 'der', ?, 'operational')",
	 8},
#define R_DEVTYPE 1
	{"r_devtype",
	 "INSERT INTO device_types (name, scope, tenant_id)"
	 " VALUES (?, 'tenant', ?)",
	 2},
#define R_DEVICE 2
	{"r_device",
	 "INSERT INTO devices (name, tenant_id, org_id, device_type_id, mode,"
	 " mode_before_disable, created_via)"
	 " VALUES (?, ?, ?, ?, ?, NULL, 'api')",
	 5},
#define R_ENROLL 3
	{"r_enroll",
	 "INSERT INTO est_enrollments (tenant_id, domain, operation,"
	 " auth_method, outcome)"
	 " VALUES (?, 'est01.example.test', 'simpleenroll', 'factory_cert', ?)",
	 2},
#define R_BY_STATUS 4
	{"r_by_status",
	 "SELECT status, certificates FROM report_certificates_by_status"
	 " WHERE tenant_id = ?",
	 1},
#define R_BY_CA 5
	{"r_by_ca",
	 "SELECT status, certificates FROM report_certificates_by_ca"
	 " WHERE ca_id = ?",
	 1},
#define R_EXPIRING 6
	{"r_expiring",
	 "SELECT days_left, ca_name FROM report_certificates_expiring"
	 " WHERE tenant_id = ? AND days_left < 30",
	 1},
#define R_BY_MODE 7
	{"r_by_mode",
	 "SELECT mode, devices FROM report_devices_by_mode WHERE tenant_id = ?",
	 1},
#define R_BY_TYPE 8
	{"r_by_type",
	 "SELECT devices, devices_new, devices_factory, devices_operational"
	 " FROM report_devices_by_type WHERE device_type_id = ?",
	 1},
#define R_PER_DAY 9
	{"r_per_day",
	 "SELECT outcome, enrollments FROM report_enrollments_per_day"
	 " WHERE tenant_id = ? AND day = UTC_DATE()",
	 1},
};

/* --- Tenants and organizations --- */

static int64_t acme, globex, acme_factory, globex_lab;

static void
test_tenant_create_find(void)
{
	int64_t id = 0;

	CU_ASSERT_EQUAL_FATAL(
		db_tenant_create(tdb_app, "Acme", "Acme Corporation", &acme),
		0);
	CU_ASSERT(acme > 0);
	CU_ASSERT_EQUAL_FATAL(
		db_tenant_create(tdb_app, "Globex", NULL, &globex), 0);
	CU_ASSERT(globex > acme);
	CU_ASSERT_EQUAL(db_tenant_find(tdb_app, "Acme", &id), 0);
	CU_ASSERT_EQUAL(id, acme);
	id = -1;
	CU_ASSERT_EQUAL(db_tenant_find(tdb_app, "Initech", &id),
			EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(id, -1);
}

static void
test_tenant_duplicate_exists(void)
{
	int64_t id = -1;

	CU_ASSERT_EQUAL(db_tenant_create(tdb_app, "Acme", NULL, &id),
			EST_E_EXISTS);
	/* Names compare case-insensitively. */
	CU_ASSERT_EQUAL(db_tenant_create(tdb_app, "ACME", NULL, &id),
			EST_E_EXISTS);
	CU_ASSERT_EQUAL(id, -1);
}

static void
test_org_create_find(void)
{
	int64_t id = 0, other = 0;

	CU_ASSERT_EQUAL_FATAL(db_org_create(tdb_app, acme, "Factory", "Line 1",
					    &acme_factory),
			      0);
	CU_ASSERT_EQUAL_FATAL(
		db_org_create(tdb_app, globex, "Lab", NULL, &globex_lab), 0);
	CU_ASSERT_EQUAL(db_org_find(tdb_app, acme, "Factory", &id), 0);
	CU_ASSERT_EQUAL(id, acme_factory);
	/* An organization name is unique per tenant only. */
	CU_ASSERT_EQUAL(db_org_create(tdb_app, globex, "Factory", NULL, &other),
			0);
	CU_ASSERT(other != acme_factory);
	CU_ASSERT_EQUAL(db_org_find(tdb_app, globex, "Lab", &id), 0);
	CU_ASSERT_EQUAL(id, globex_lab);
	CU_ASSERT_EQUAL(db_org_find(tdb_app, acme, "Lab", &id), EST_E_NOTFOUND);
}

static void
test_org_duplicate_and_missing_tenant(void)
{
	int64_t id = -1;

	CU_ASSERT_EQUAL(db_org_create(tdb_app, acme, "factory", NULL, &id),
			EST_E_EXISTS);
	CU_ASSERT_EQUAL(db_org_create(tdb_app, 999999, "Nowhere", NULL, &id),
			EST_E_CONFLICT);
	CU_ASSERT_EQUAL(id, -1);
}

static void
test_tenant_in_use_cannot_be_deleted(void)
{
	struct db_param p[1];
	uint64_t n = 99;
	int64_t id = 0;

	p[0] = DB_I64(acme);
	CU_ASSERT_EQUAL(
		db_exec(tdb_app, &q_stmts[Q_TENANT_DELETE], p, 1, &n, NULL),
		EST_E_CONFLICT);
	CU_ASSERT_EQUAL(n, 99);
	CU_ASSERT_EQUAL(db_tenant_find(tdb_app, "Acme", &id), 0);
	CU_ASSERT_EQUAL(id, acme);
}

/* --- Users --- */

#define PWHASH "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"

static void
test_user_create_find(void)
{
	int64_t admin = 0, tadmin = 0, oper = 0, id = 0;

	CU_ASSERT_EQUAL(db_user_create(tdb_app, "root", PWHASH, ROLE_ADMIN, 0,
				       0, &admin),
			0);
	CU_ASSERT_EQUAL(db_user_create(tdb_app, "alice", PWHASH,
				       ROLE_TENANT_ADMIN, acme, 0, &tadmin),
			0);
	CU_ASSERT_EQUAL(db_user_create(tdb_app, "bob", PWHASH,
				       ROLE_ORG_OPERATOR, acme, acme_factory,
				       &oper),
			0);
	CU_ASSERT(admin > 0 && tadmin > admin && oper > tadmin);
	CU_ASSERT_EQUAL(db_user_find(tdb_app, "alice", &id), 0);
	CU_ASSERT_EQUAL(id, tadmin);
	CU_ASSERT_EQUAL(db_user_find(tdb_app, "mallory", &id), EST_E_NOTFOUND);
}

static void
test_user_refusals(void)
{
	int64_t id = -1;

	CU_ASSERT_EQUAL(db_user_create(tdb_app, "Alice", PWHASH, ROLE_AUDITOR,
				       0, 0, &id),
			EST_E_EXISTS);
	CU_ASSERT_EQUAL(db_user_create(tdb_app, "carol", PWHASH,
				       ROLE_TENANT_AUDITOR, 999999, 0, &id),
			EST_E_CONFLICT);
	/* An organization of another tenant is no parent at all. */
	CU_ASSERT_EQUAL(db_user_create(tdb_app, "carol", PWHASH,
				       ROLE_ORG_OPERATOR, acme, globex_lab,
				       &id),
			EST_E_CONFLICT);
	CU_ASSERT_EQUAL(
		db_user_create(tdb_app, "carol", PWHASH, "root", 0, 0, &id),
		EST_E_INVAL);
	/* A tenant role needs its tenant; Admin has none. */
	CU_ASSERT_EQUAL(db_user_create(tdb_app, "carol", PWHASH,
				       ROLE_TENANT_OPERATOR, 0, 0, &id),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(db_user_create(tdb_app, "carol", PWHASH, ROLE_ADMIN,
				       acme, 0, &id),
			EST_E_INVAL);
	CU_ASSERT_EQUAL(id, -1);
	CU_ASSERT_EQUAL(db_user_find(tdb_app, "carol", &id), EST_E_NOTFOUND);
}

/* --- CAs --- */

/* A self-signed EC CA certificate, DER. */
static uint8_t *
make_cert(const char *cn, long serial, size_t *len)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext = NULL;
	X509_NAME *name;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	uint8_t *der = NULL;
	int n;

	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (x = X509_new()) == NULL)
		goto out;
	name = X509_get_subject_name(x);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), serial) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) == NULL ||
	    X509_set_pubkey(x, key) != 1 ||
	    (ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier,
				       "hash")) == NULL ||
	    X509_add_ext(x, ext, -1) != 1 ||
	    X509_sign(x, key, EVP_sha256()) <= 0 ||
	    (n = i2d_X509(x, &der)) <= 0)
		goto out;
	*len = (size_t)n;
out:
	X509_EXTENSION_free(ext);
	X509_free(x);
	EVP_PKEY_free(key);
	return der;
}

static time_t
cert_time(const uint8_t *der, size_t len, int after)
{
	const unsigned char *p = der;
	struct tm tm;
	X509 *x;
	time_t t = 0;

	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return 0;
	if (ASN1_TIME_to_tm(after ? X509_get0_notAfter(x)
				  : X509_get0_notBefore(x),
			    &tm) == 1)
		t = timegm(&tm);
	X509_free(x);
	return t;
}

static int64_t root_id;
static uint8_t next_key;

static void
fill_ca(struct db_ca *ca, const char *name, uint8_t *der, size_t len)
{
	memset(ca, 0, sizeof(*ca));
	ca->name = (char *)name;
	ca->subject = (char *)"CN=Estuary Test";
	ca->keytype = SIGNER_KEY_EC_P256;
	ca->cert_der = der;
	ca->cert_len = len;
	ca->scope = (char *)SCOPE_GLOBAL;
	ca->active = 1;
	/* Key ids are unique: number them. */
	memset(ca->key_id, 0xca, sizeof(ca->key_id));
	ca->key_id[15] = ++next_key;
}

static void
test_ca_insert_get(void)
{
	struct db_ca in, *out = NULL;
	uint8_t *der, md[32];
	unsigned int mdlen = 0;
	size_t len = 0;

	CU_ASSERT_FATAL((der = make_cert("Test Root", 1, &len)) != NULL);
	fill_ca(&in, "Test Root", der, len);
	CU_ASSERT_EQUAL_FATAL(db_ca_insert(tdb_app, &in, &root_id), 0);
	CU_ASSERT_EQUAL_FATAL(db_ca_get(tdb_app, root_id, &out), 0);
	CU_ASSERT_EQUAL(out->id, root_id);
	CU_ASSERT_STRING_EQUAL(out->name, "Test Root");
	CU_ASSERT_EQUAL(out->parent_id, 0);
	CU_ASSERT(memcmp(out->key_id, in.key_id, sizeof(in.key_id)) == 0);
	CU_ASSERT_EQUAL(out->keytype, SIGNER_KEY_EC_P256);
	CU_ASSERT_STRING_EQUAL(out->subject, "CN=Estuary Test");
	CU_ASSERT_EQUAL(out->cert_len, len);
	CU_ASSERT(out->cert_der != NULL &&
		  memcmp(out->cert_der, der, len) == 0);
	CU_ASSERT_STRING_EQUAL(out->scope, SCOPE_GLOBAL);
	CU_ASSERT_EQUAL(out->tenant_id, 0);
	CU_ASSERT_EQUAL(out->active, 1);
	/* The derived columns match the certificate. */
	EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL);
	CU_ASSERT(memcmp(out->fingerprint, md, sizeof(md)) == 0);
	CU_ASSERT_EQUAL(out->not_before, cert_time(der, len, 0));
	CU_ASSERT_EQUAL(out->not_after, cert_time(der, len, 1));
	CU_ASSERT(out->not_after - out->not_before == 86400L * 365);
	db_ca_free(out);
	out = NULL;
	CU_ASSERT_EQUAL(db_ca_get_by_name(tdb_app, "test root", &out), 0);
	CU_ASSERT(out != NULL && out->id == root_id);
	db_ca_free(out);
	OPENSSL_free(der);
}

static void
test_ca_children_pending_and_list(void)
{
	struct db_ca in, **list = NULL;
	int64_t issuing = 0, pending = 0, off = 0;
	uint8_t *der, *der2;
	size_t len = 0, len2 = 0, n = 0, i;
	int seen_root = 0, seen_issuing = 0;

	CU_ASSERT_FATAL((der = make_cert("Test Issuing", 2, &len)) != NULL);
	CU_ASSERT_FATAL((der2 = make_cert("Test Off", 3, &len2)) != NULL);
	fill_ca(&in, "Test Issuing", der, len);
	in.parent_id = root_id;
	in.scope = (char *)SCOPE_TENANT;
	in.tenant_id = acme;
	CU_ASSERT_EQUAL(db_ca_insert(tdb_app, &in, &issuing), 0);
	/* Key in our HSM, certificate to be signed elsewhere. */
	fill_ca(&in, "Test Pending", NULL, 0);
	in.parent_id = root_id;
	CU_ASSERT_EQUAL(db_ca_insert(tdb_app, &in, &pending), 0);
	fill_ca(&in, "Test Off", der2, len2);
	in.active = 0;
	CU_ASSERT_EQUAL(db_ca_insert(tdb_app, &in, &off), 0);
	CU_ASSERT_EQUAL_FATAL(db_ca_list_active(tdb_app, &list, &n), 0);
	for (i = 0; i < n; i++) {
		CU_ASSERT(list[i]->id != pending && list[i]->id != off);
		CU_ASSERT(list[i]->cert_der != NULL);
		if (list[i]->id == root_id)
			seen_root = 1;
		if (list[i]->id == issuing) {
			seen_issuing = 1;
			CU_ASSERT_EQUAL(list[i]->parent_id, root_id);
			CU_ASSERT_EQUAL(list[i]->tenant_id, acme);
			CU_ASSERT_STRING_EQUAL(list[i]->scope, SCOPE_TENANT);
		}
	}
	CU_ASSERT(seen_root && seen_issuing);
	db_ca_list_free(list, n);
	OPENSSL_free(der);
	OPENSSL_free(der2);
}

static void
test_ca_refusals(void)
{
	struct db_ca in, *out = NULL;
	uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01, 0x00};
	uint8_t *der, *longer;
	size_t len = 0;
	int64_t id = -1;

	CU_ASSERT_FATAL((der = make_cert("Test Other", 4, &len)) != NULL);
	fill_ca(&in, "Test Root", der, len);
	CU_ASSERT_EQUAL(db_ca_insert(tdb_app, &in, &id), EST_E_EXISTS);
	fill_ca(&in, "Test Orphan", der, len);
	in.parent_id = 999999;
	CU_ASSERT_EQUAL(db_ca_insert(tdb_app, &in, &id), EST_E_CONFLICT);
	fill_ca(&in, "Test Junk", junk, sizeof(junk));
	CU_ASSERT_EQUAL(db_ca_insert(tdb_app, &in, &id), EST_E_BADASN1);
	/* A truncated certificate, and one with trailing bytes. */
	fill_ca(&in, "Test Truncated", der, len - 1);
	CU_ASSERT_EQUAL(db_ca_insert(tdb_app, &in, &id), EST_E_BADASN1);
	CU_ASSERT_FATAL((longer = calloc(1, len + 1)) != NULL);
	memcpy(longer, der, len);
	fill_ca(&in, "Test Trailing", longer, len + 1);
	CU_ASSERT_EQUAL(db_ca_insert(tdb_app, &in, &id), EST_E_BADASN1);
	free(longer);
	fill_ca(&in, "Test Scope", der, len);
	in.scope = (char *)SCOPE_TENANT;
	CU_ASSERT_EQUAL(db_ca_insert(tdb_app, &in, &id), EST_E_INVAL);
	in.scope = (char *)"planet";
	CU_ASSERT_EQUAL(db_ca_insert(tdb_app, &in, &id), EST_E_INVAL);
	CU_ASSERT_EQUAL(id, -1);
	CU_ASSERT_EQUAL(db_ca_get(tdb_app, 999999, &out), EST_E_NOTFOUND);
	CU_ASSERT_PTR_NULL(out);
	OPENSSL_free(der);
}

/* The count in column 1 of the row whose column 0 is key; -1 if none. */
static int64_t
count_of(const struct db_result *r, const char *key)
{
	const char *k;
	size_t i;

	for (i = 0; i < db_result_rows(r); i++)
		if ((k = db_result_str(r, i, 0, NULL)) != NULL &&
		    strcmp(k, key) == 0)
			return db_result_i64(r, i, 1);
	return -1;
}

static int
add_cert(uint8_t n, int64_t hours, const char *status)
{
	struct db_param p[8];
	uint8_t serial[16], fp[32];

	memset(serial, 0x5e, sizeof(serial));
	memset(fp, 0xf9, sizeof(fp));
	serial[15] = fp[31] = n;
	p[0] = DB_I64(root_id);
	p[1] = DB_BLOB(serial, sizeof(serial));
	p[2] = DB_BLOB(fp, sizeof(fp));
	p[3] = DB_I64(hours);
	p[4] = DB_STR(status);
	p[5] = strcmp(status, "revoked") == 0 ? DB_I64(1) : DB_NULL;
	p[6] = DB_STR(status);
	p[7] = DB_I64(globex);
	return db_exec(tdb_app, &r_stmts[R_CERT], p, 8, NULL, NULL);
}

/*
 * The report views count what the tables hold: one certificate of each
 * status (one "active" past its notAfter counts as expired), devices by
 * mode and type, enrollments of today by outcome.  Globex had no rows.
 */
static void
test_report_views_count_rows(void)
{
	struct db_result *r = NULL;
	struct db_param p[5];
	uint64_t type = 0;

	CU_ASSERT_EQUAL(add_cert(1, 24 * 10, "active"), 0);
	CU_ASSERT_EQUAL(add_cert(2, 24 * 400, "active"), 0);
	CU_ASSERT_EQUAL(add_cert(3, -24, "active"), 0);
	CU_ASSERT_EQUAL(add_cert(4, 24 * 5, "revoked"), 0);
	p[0] = DB_I64(globex);
	CU_ASSERT_EQUAL_FATAL(
		db_query(tdb_app, &r_stmts[R_BY_STATUS], p, 1, &r), 0);
	CU_ASSERT_EQUAL(count_of(r, "active"), 2);
	CU_ASSERT_EQUAL(count_of(r, "expired"), 1);
	CU_ASSERT_EQUAL(count_of(r, "revoked"), 1);
	db_result_free(r);
	p[0] = DB_I64(root_id);
	CU_ASSERT_EQUAL_FATAL(db_query(tdb_app, &r_stmts[R_BY_CA], p, 1, &r),
			      0);
	CU_ASSERT_EQUAL(count_of(r, "active"), 2);
	CU_ASSERT_EQUAL(count_of(r, "revoked"), 1);
	db_result_free(r);
	/* Only the active one that has ten days left is expiring soon. */
	p[0] = DB_I64(globex);
	CU_ASSERT_EQUAL_FATAL(db_query(tdb_app, &r_stmts[R_EXPIRING], p, 1, &r),
			      0);
	CU_ASSERT_EQUAL(db_result_rows(r), 1);
	CU_ASSERT(db_result_i64(r, 0, 0) == 9 || db_result_i64(r, 0, 0) == 10);
	CU_ASSERT_STRING_EQUAL(db_result_str(r, 0, 1, NULL), "Test Root");
	db_result_free(r);

	p[0] = DB_STR("Sensor");
	p[1] = DB_I64(globex);
	CU_ASSERT_EQUAL_FATAL(
		db_exec(tdb_app, &r_stmts[R_DEVTYPE], p, 2, NULL, &type), 0);
	p[1] = DB_I64(globex);
	p[2] = DB_I64(globex_lab);
	p[3] = DB_I64(type);
	p[0] = DB_STR("dev-1");
	p[4] = DB_STR("NEW");
	CU_ASSERT_EQUAL(db_exec(tdb_app, &r_stmts[R_DEVICE], p, 5, NULL, NULL),
			0);
	p[0] = DB_STR("dev-2");
	p[4] = DB_STR("FACTORY");
	CU_ASSERT_EQUAL(db_exec(tdb_app, &r_stmts[R_DEVICE], p, 5, NULL, NULL),
			0);
	p[0] = DB_STR("dev-3");
	CU_ASSERT_EQUAL(db_exec(tdb_app, &r_stmts[R_DEVICE], p, 5, NULL, NULL),
			0);
	/* Device names are unique per tenant. */
	CU_ASSERT_EQUAL(db_exec(tdb_app, &r_stmts[R_DEVICE], p, 5, NULL, NULL),
			EST_E_EXISTS);
	p[0] = DB_I64(globex);
	CU_ASSERT_EQUAL_FATAL(db_query(tdb_app, &r_stmts[R_BY_MODE], p, 1, &r),
			      0);
	CU_ASSERT_EQUAL(count_of(r, "NEW"), 1);
	CU_ASSERT_EQUAL(count_of(r, "FACTORY"), 2);
	CU_ASSERT_EQUAL(count_of(r, "OPERATIONAL"), -1);
	db_result_free(r);
	p[0] = DB_I64(type);
	CU_ASSERT_EQUAL_FATAL(
		db_query_one(tdb_app, &r_stmts[R_BY_TYPE], p, 1, &r), 0);
	CU_ASSERT_EQUAL(db_result_i64(r, 0, 0), 3);
	CU_ASSERT_EQUAL(db_result_i64(r, 0, 1), 1);
	CU_ASSERT_EQUAL(db_result_i64(r, 0, 2), 2);
	CU_ASSERT_EQUAL(db_result_i64(r, 0, 3), 0);
	db_result_free(r);

	p[0] = DB_I64(globex);
	p[1] = DB_STR("success");
	CU_ASSERT_EQUAL(db_exec(tdb_app, &r_stmts[R_ENROLL], p, 2, NULL, NULL),
			0);
	CU_ASSERT_EQUAL(db_exec(tdb_app, &r_stmts[R_ENROLL], p, 2, NULL, NULL),
			0);
	p[1] = DB_STR("denied");
	CU_ASSERT_EQUAL(db_exec(tdb_app, &r_stmts[R_ENROLL], p, 2, NULL, NULL),
			0);
	CU_ASSERT_EQUAL_FATAL(db_query(tdb_app, &r_stmts[R_PER_DAY], p, 1, &r),
			      0);
	CU_ASSERT_EQUAL(count_of(r, "success"), 2);
	CU_ASSERT_EQUAL(count_of(r, "denied"), 1);
	db_result_free(r);
}

static CU_TestInfo query_tests[] = {
	{"tenant create and find", test_tenant_create_find},
	{"tenant duplicate exists", test_tenant_duplicate_exists},
	{"organization create and find", test_org_create_find},
	{"organization duplicate, missing tenant",
	 test_org_duplicate_and_missing_tenant},
	{"tenant in use cannot be deleted",
	 test_tenant_in_use_cannot_be_deleted},
	{"user create and find", test_user_create_find},
	{"user refusals", test_user_refusals},
	{"CA insert and get", test_ca_insert_get},
	{"CA children, pending, active list",
	 test_ca_children_pending_and_list},
	{"CA refusals", test_ca_refusals},
	{"report views count rows", test_report_views_count_rows},
	CU_TEST_INFO_NULL,
};

int
tdb_query_suites(void)
{
	int r;

	if ((r = test_add_suite("queries", NULL, NULL, query_tests)) != 0 ||
	    (r = tdb_bind_suites()) != 0)
		return r;
	return 0;
}
