/*
 * Tests of db_device_insert_many() (db/device_bulk.c) against the real
 * MariaDB that run-devbulk-tests.sh starts (through run-db-tests.sh):
 * migrated and granted here, written as the application's account.
 * Every row written is read back by its fingerprint and compared field
 * by field; batches of every chunk size, refusals and rollbacks are
 * checked by counting the devices of the type.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <openssl/evp.h>

#include "conf.h"
#include "db.h"
#include "dbq.h"
#include "device.h"
#include "devtype.h"
#include "err.h"
#include "harness.h"

static struct conf *conf;
static struct db *admin, *db;
static int64_t tenant, org, org2, other_tenant_org, type_id, type2_id;
/* Devices named here are numbered on from this. */
static size_t next_no;

static int
run(const char *cmd)
{
	int st = system(cmd);

	return (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
}

/* The text behind one row, so that it can be compared afterwards. */
struct row {
	char name[32], serial[32], loc[48], desc[40];
	const char *props[SUBJ_PROP_COUNT];
	uint8_t fp[DEVICE_FP_LEN];
	uint8_t der[8];
};

static void
fp_of(size_t no, uint8_t fp[DEVICE_FP_LEN])
{
	char in[32];
	unsigned len = DEVICE_FP_LEN;

	snprintf(in, sizeof(in), "devbulk-%zu", no);
	EVP_Digest(in, strlen(in), fp, &len, EVP_sha256(), NULL);
}

/*
 * Row number no: every property set, and every third row with a
 * password, every fifth with an external factory certificate (DER), every
 * seventh without a description; the mode cycles through the three a new
 * device may have.
 */
static void
make_row(size_t no, struct row *t, struct db_device_new *n)
{
	static const enum device_mode m[] = {
		DEVICE_MODE_NEW, DEVICE_MODE_FACTORY, DEVICE_MODE_OPERATIONAL};
	size_t i;

	memset(t, 0, sizeof(*t));
	memset(n, 0, sizeof(*n));
	snprintf(t->name, sizeof(t->name), "bulk-%06zu", no);
	snprintf(t->serial, sizeof(t->serial), "SN-%zu", no * 7);
	snprintf(t->loc, sizeof(t->loc), "rack %zu", no % 13);
	snprintf(t->desc, sizeof(t->desc), "device number %zu", no);
	fp_of(no, t->fp);
	for (i = 0; i < sizeof(t->der); i++)
		t->der[i] = (uint8_t)(no + i);
	t->props[SUBJ_PROP_SERIAL_NUMBER] = t->serial;
	t->props[SUBJ_PROP_MODEL] = "M-1";
	t->props[SUBJ_PROP_HARDWARE_VERSION] = "rev C";
	t->props[SUBJ_PROP_MANUFACTURER] = "Demo Manufacturer";
	t->props[SUBJ_PROP_DEVICE_CLASS] = no % 2 ? "sensor" : NULL;
	t->props[SUBJ_PROP_FIRMWARE] = "1.0.0";
	t->props[SUBJ_PROP_DESCRIPTIVE_LOCATION] = t->loc;
	n->name = t->name;
	n->tenant_id = tenant;
	n->org_id = org;
	n->device_type_id = type_id;
	n->description = no % 7 == 0 ? NULL : t->desc;
	n->mode = m[no % 3];
	n->props = t->props;
	n->password_hash =
		no % 3 == 0 ? "$argon2id$v=19$m=65536,t=3,p=1$x" : NULL;
	n->factory_fp = t->fp;
	if (no % 5 == 0) {
		n->factory_der = t->der;
		n->factory_der_len = sizeof(t->der);
	}
	n->created_via = no % 2 ? DEVICE_VIA_API : DEVICE_VIA_PORTAL;
}

static int64_t
count_devices(void)
{
	int64_t devices = -1, servers = -1;

	if (db_devtype_usage(db, type_id, &devices, &servers) != 0)
		return -1;
	return devices;
}

/* Row i of rows as stored, read back by its fingerprint; 0 when equal. */
static int
check_row(const struct row *t, const struct db_device_new *n)
{
	struct device *d = NULL;
	int64_t id = 0;
	size_t i;
	int bad = 0;

	if (db_device_find_fingerprint(db, t->fp, &id) != 0 ||
	    db_device_get(db, id, 0, &d) != 0)
		return -1;
	bad |= strcmp(d->name, n->name) != 0;
	bad |= d->tenant_id != tenant || d->org_id != org;
	bad |= d->device_type_id != type_id || d->mode != n->mode;
	bad |= (n->description == NULL) != (d->description == NULL);
	bad |= n->description != NULL && d->description != NULL &&
	       strcmp(d->description, n->description) != 0;
	for (i = 0; i < SUBJ_PROP_COUNT; i++) {
		bad |= (n->props[i] == NULL) != (d->props[i] == NULL);
		bad |= n->props[i] != NULL && d->props[i] != NULL &&
		       strcmp(d->props[i], n->props[i]) != 0;
	}
	bad |= d->has_password != (n->password_hash != NULL);
	bad |= (d->password_set_at != NULL) != (n->password_hash != NULL);
	bad |= !d->has_factory_fp ||
	       memcmp(d->factory_fp, t->fp, DEVICE_FP_LEN) != 0;
	bad |= d->factory_cert_len != n->factory_der_len;
	bad |= n->factory_der != NULL &&
	       (d->factory_cert_der == NULL ||
		memcmp(d->factory_cert_der, n->factory_der,
		       n->factory_der_len) != 0);
	bad |= strcmp(d->created_via, n->created_via) != 0;
	bad |= d->created_by_user != 0 || d->created_by_app != 0;
	bad |= d->mode_before_disable != DEVICE_MODE_NEW;
	device_free(d);
	return bad ? 1 : 0;
}

/* count rows numbered from next_no; allocated arrays in *t and *n. */
static void
make_rows(size_t count, struct row **t, struct db_device_new **n)
{
	size_t i;

	*t = calloc(count, sizeof(**t));
	*n = calloc(count, sizeof(**n));
	for (i = 0; *t != NULL && *n != NULL && i < count; i++)
		make_row(next_no + i, &(*t)[i], &(*n)[i]);
	next_no += count;
}

/* --- tests ------------------------------------------------------------ */

/*
 * 1234 rows: two full statements of 500 and the rest as 128 + 64 + 32 +
 * 8 + 2; every row reads back as written.
 */
static void
test_rows_and_values(void)
{
	struct db_device_new *n = NULL;
	struct row *t = NULL;
	int64_t before = count_devices();
	size_t i, wrong = 0;

	make_rows(1234, &t, &n);
	CU_ASSERT_FATAL(t != NULL && n != NULL && before >= 0);
	CU_ASSERT_EQUAL_FATAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(db_device_insert_many(db, n, 1234), 0);
	CU_ASSERT_EQUAL_FATAL(db_commit(db), 0);
	CU_ASSERT_EQUAL(count_devices(), before + 1234);
	for (i = 0; i < 1234; i++)
		if (check_row(&t[i], &n[i]) != 0)
			wrong++;
	CU_ASSERT_EQUAL(wrong, 0);
	free(t);
	free(n);
}

/* Sizes around every chunk boundary; each device is found by name. */
static void
test_chunk_sizes(void)
{
	static const size_t sizes[] = {1,   2,	 3,   255,  256, 257,
				       499, 500, 501, 1000, 1001};
	struct db_device_new *n = NULL;
	struct row *t = NULL;
	int64_t before, id, prev;
	size_t s, i, missing;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		before = count_devices();
		make_rows(sizes[s], &t, &n);
		CU_ASSERT_FATAL(t != NULL && n != NULL);
		CU_ASSERT_EQUAL_FATAL(db_begin(db), 0);
		CU_ASSERT_EQUAL(db_device_insert_many(db, n, sizes[s]), 0);
		CU_ASSERT_EQUAL_FATAL(db_commit(db), 0);
		CU_ASSERT_EQUAL(count_devices(), before + (int64_t)sizes[s]);
		/* The rows keep their order: ids rise with the row number. */
		missing = 0;
		prev = 0;
		for (i = 0; i < sizes[s]; i++) {
			if (db_device_find_name(db, tenant, n[i].name, &id) !=
				    0 ||
			    id <= prev)
				missing++;
			prev = id;
		}
		CU_ASSERT_EQUAL(missing, 0);
		free(t);
		free(n);
	}
}

/* Nothing is written when one row, even the last, is not valid. */
static void
test_invalid_row_writes_nothing(void)
{
	struct db_device_new *n = NULL;
	struct row *t = NULL;
	int64_t before = count_devices();

	make_rows(700, &t, &n);
	CU_ASSERT_FATAL(t != NULL && n != NULL);
	n[699].mode = DEVICE_MODE_DISABLED;
	CU_ASSERT_EQUAL(db_device_insert_many(db, n, 700), EST_E_INVAL);
	n[699].mode = DEVICE_MODE_NEW;
	n[650].name = NULL;
	CU_ASSERT_EQUAL(db_device_insert_many(db, n, 700), EST_E_INVAL);
	n[650].name = t[650].name;
	n[3].props = NULL;
	CU_ASSERT_EQUAL(db_device_insert_many(db, n, 700), EST_E_INVAL);
	n[3].props = t[3].props;
	n[4].created_via = NULL;
	CU_ASSERT_EQUAL(db_device_insert_many(db, n, 700), EST_E_INVAL);
	CU_ASSERT_EQUAL(db_device_insert_many(db, NULL, 3), EST_E_INVAL);
	CU_ASSERT_EQUAL(db_device_insert_many(db, NULL, 0), 0);
	CU_ASSERT_EQUAL(count_devices(), before);
	free(t);
	free(n);
}

/*
 * A duplicate name or fingerprint in the second statement, or an
 * organization of another tenant, fails the call; the caller's rollback
 * takes the first statement's rows with it.
 */
static void
test_refusals_roll_back(void)
{
	struct db_device_new *n = NULL;
	struct row *t = NULL;
	int64_t before = count_devices(), id;

	make_rows(800, &t, &n);
	CU_ASSERT_FATAL(t != NULL && n != NULL);
	n[600].name = "bulk-000000"; /* written by test_rows_and_values */
	CU_ASSERT_EQUAL_FATAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(db_device_insert_many(db, n, 800), EST_E_EXISTS);
	CU_ASSERT_EQUAL(db_rollback(db), 0);
	n[600].name = t[600].name;
	memcpy(t[700].fp, t[10].fp, DEVICE_FP_LEN);
	CU_ASSERT_EQUAL_FATAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(db_device_insert_many(db, n, 800), EST_E_EXISTS);
	CU_ASSERT_EQUAL(db_rollback(db), 0);
	fp_of(next_no + 1000, t[700].fp);
	n[799].org_id = other_tenant_org;
	CU_ASSERT_EQUAL_FATAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(db_device_insert_many(db, n, 800), EST_E_CONFLICT);
	CU_ASSERT_EQUAL(db_rollback(db), 0);
	CU_ASSERT_EQUAL(count_devices(), before);
	CU_ASSERT_EQUAL(db_device_find_name(db, tenant, t[0].name, &id),
			EST_E_NOTFOUND);
	/* The same rows, mended, go in. */
	n[799].org_id = org;
	CU_ASSERT_EQUAL_FATAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(db_device_insert_many(db, n, 800), 0);
	CU_ASSERT_EQUAL_FATAL(db_commit(db), 0);
	CU_ASSERT_EQUAL(count_devices(), before + 800);
	CU_ASSERT_EQUAL(check_row(&t[700], &n[700]), 0);
	CU_ASSERT_EQUAL(check_row(&t[799], &n[799]), 0);
	free(t);
	free(n);
}

/*
 * Lists by an organization with a device type, with and without a mode
 * (db/device_list.c, db/013_device_list_org_type.sql), walked in pages
 * of 7: exactly the devices written with those values, in id order.
 */
static void
test_org_type_lists(void)
{
	static const int modes[] = {DEVICE_MODE_FACTORY, -1};
	struct db_device_new *n = NULL;
	struct device **list = NULL;
	struct db_device_filter f;
	struct row *t = NULL;
	size_t i, m, got, want, k, wrong, nlist = 0;
	int64_t after;
	int r;

	make_rows(300, &t, &n);
	CU_ASSERT_FATAL(t != NULL && n != NULL);
	for (i = 0; i < 300; i++) {
		n[i].org_id = i % 2 ? org2 : org;
		n[i].device_type_id = i % 5 == 0 ? type2_id : type_id;
	}
	CU_ASSERT_EQUAL_FATAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(db_device_insert_many(db, n, 300), 0);
	CU_ASSERT_EQUAL_FATAL(db_commit(db), 0);
	for (m = 0; m < 2; m++) {
		memset(&f, 0, sizeof(f));
		f.scope_tenant = tenant;
		f.org_id = org2;
		f.device_type_id = type2_id;
		f.mode = modes[m];
		want = 0;
		for (i = 0; i < 300; i++)
			if (i % 2 == 1 && i % 5 == 0 &&
			    (modes[m] < 0 || (int)n[i].mode == modes[m]))
				want++;
		got = 0;
		wrong = 0;
		after = 0;
		do {
			r = db_device_list(db, &f, after, 7, &list, &nlist);
			CU_ASSERT_EQUAL_FATAL(r, 0);
			for (k = 0; k < nlist; k++) {
				if (list[k]->org_id != org2 ||
				    list[k]->device_type_id != type2_id ||
				    (modes[m] >= 0 &&
				     (int)list[k]->mode != modes[m]) ||
				    list[k]->id <= after ||
				    strncmp(list[k]->name, "bulk-", 5) != 0)
					wrong++;
				after = list[k]->id;
			}
			got += nlist;
			db_device_list_free(list, nlist);
		} while (nlist == 7);
		CU_ASSERT_EQUAL(wrong, 0);
		CU_ASSERT_EQUAL(got, want);
		CU_ASSERT(want > 0);
	}
	free(t);
	free(n);
}

/* --- suite ------------------------------------------------------------ */

static int
suite_init(void)
{
	struct devtype *dt = NULL;
	const char *grant;
	char err[256];
	int64_t other;
	int applied = 0, r;

	if (getenv("ESTUARY_CONF") == NULL ||
	    getenv("ESTUARY_MIGRATIONS") == NULL ||
	    (grant = getenv("ESTUARY_TEST_DB_GRANT")) == NULL) {
		fprintf(stderr, "test_devbulk: run me through "
				"run-devbulk-tests.sh\n");
		return -1;
	}
	if (estuary_conf_load(getenv("ESTUARY_CONF"), &conf, err,
			      sizeof(err)) != 0 ||
	    db_connect(conf, DB_ROLE_ADMIN, &admin) != 0 ||
	    db_migrate(admin, getenv("ESTUARY_MIGRATIONS"), &applied) != 0 ||
	    run(grant) != 0 || db_connect(conf, DB_ROLE_APP, &db) != 0)
		return -1;
	if ((dt = devtype_new()) == NULL ||
	    (dt->name = strdup("bulk-type")) == NULL ||
	    (dt->scope = strdup(SCOPE_TENANT)) == NULL)
		return -1;
	if (db_tenant_create(db, "bulk-tenant", NULL, &tenant) != 0 ||
	    db_org_create(db, tenant, "bulk-org", NULL, &org) != 0 ||
	    db_org_create(db, tenant, "bulk-org2", NULL, &org2) != 0 ||
	    db_tenant_create(db, "bulk-other", NULL, &other) != 0 ||
	    db_org_create(db, other, "bulk-other-org", NULL,
			  &other_tenant_org) != 0) {
		devtype_free(dt);
		return -1;
	}
	dt->tenant_id = tenant;
	r = db_devtype_insert(db, dt, 0, &type_id);
	free(dt->name);
	if (r == 0 && (dt->name = strdup("bulk-type2")) == NULL)
		r = EST_E_NOMEM;
	if (r == 0)
		r = db_devtype_insert(db, dt, 0, &type2_id);
	devtype_free(dt);
	return r == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	db_close(db);
	db_close(admin);
	conf_free(conf);
	return 0;
}

static CU_TestInfo tests[] = {
	{"rows and values", test_rows_and_values},
	{"chunk sizes", test_chunk_sizes},
	{"invalid row writes nothing", test_invalid_row_writes_nothing},
	{"refusals roll back", test_refusals_roll_back},
	{"lists by organization and type", test_org_type_lists},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("device bulk insert", suite_init, suite_clean,
			      tests);
}
