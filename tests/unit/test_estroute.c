/*
 * Tests of the EST server data layer (db/estsrv*.c) against the real
 * MariaDB that run-estroute-tests.sh starts (through run-db-tests.sh):
 * migrated and granted here, written and read as the application's
 * account.  Above all db_est_route(), the lookup estuary-est makes on
 * every request: the one active server of a domain, a label's server and
 * target, ambiguity, inactive servers, a cms server narrowed to its
 * label's template, the allow list as ranges, the applications; and the
 * domain rule under its lock, also with two connections at once.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "apiapp.h"
#include "conf.h"
#include "db.h"
#include "dbq.h"
#include "devtype.h"
#include "err.h"
#include "estsrv.h"
#include "harness.h"
#include "issue_cache.h"
#include "tmpl.h"

static struct conf *conf;
static struct db *admin, *db;
static int64_t ta, tb, a1, a2, b1, dt1, dt2, tmpl1, tmpl2, app1;

static const struct db_stmt_def t_stmts[] = {
#define T_CA 0
	{"t_ca",
	 "INSERT INTO cas (name, key_id, key_type, subject, key_usage, scope)"
	 " VALUES ('route-ca', UNHEX(REPEAT('11', 16)), 1, 'CN=route',"
	 " 'keyCertSign', 'global')",
	 0},
#define T_TMPL 1
	{"t_tmpl",
	 "INSERT INTO cert_templates (name, type, scope, ca_id, key_types)"
	 " VALUES (?, 'general', 'global', ?, 'ec_p256')",
	 2},
#define T_APP 2
	{"t_app",
	 "INSERT INTO api_applications (app_id, name, key_hash, tenant_id,"
	 " role) VALUES ('route-app', 'route app', 'x', ?, 'tenant_operator')",
	 1},
#define T_LABEL_DOMAIN 3
	{"t_label_domain", "SELECT domain FROM est_labels WHERE id = ?", 1},
#define T_APP_ID 4
	{"t_app_id",
	 "INSERT INTO api_applications (app_id, name, key_hash, tenant_id,"
	 " role, active) VALUES (?, ?, 'x', ?, 'tenant_operator', ?)",
	 4},
#define T_APP_FP 5
	{"t_app_fp",
	 "UPDATE api_applications SET cert_fingerprint = ?"
	 " WHERE id = ?",
	 2},
#define T_OP_DEFAULT 6
	{"t_op_default",
	 "INSERT INTO device_type_op_templates (device_type_id, template_id,"
	 " position, is_default) VALUES (?, ?, 0, 1)",
	 2},
#define T_TMPL_ACTIVE 7
	{"t_tmpl_active", "UPDATE cert_templates SET active = ? WHERE id = ?",
	 2},
#define T_EXT 8
	{"t_ext",
	 "INSERT INTO custom_extensions (name, oid, value_type, value,"
	 " value_der) VALUES ('route-ext', '1.3.6.1.4.1.99999.7', 'utf8string',"
	 " 'x', UNHEX('0C0178'))",
	 0},
#define T_TMPL_EXT 9
	{"t_tmpl_ext",
	 "INSERT INTO cert_template_extensions (template_id, extension_id)"
	 " VALUES (?, ?)",
	 2},
};

static int
run(const char *cmd)
{
	int st = system(cmd);

	return (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
}

static int
exec_id(struct db *d, int stmt, const struct db_param *p, size_t n, int64_t *id)
{
	uint64_t v = 0;
	int r = db_exec(d, &t_stmts[stmt], p, n, NULL, &v);

	if (r == 0 && id != NULL)
		*id = (int64_t)v;
	return r;
}

static int64_t
devtype_add(const char *name)
{
	struct devtype *dt = devtype_new();
	int64_t id = 0;

	if (dt == NULL || (dt->name = strdup(name)) == NULL ||
	    (dt->scope = strdup(SCOPE_TENANT)) == NULL) {
		devtype_free(dt);
		return 0;
	}
	dt->tenant_id = ta;
	dt->active = 1;
	if (db_devtype_insert(db, dt, 0, &id) != 0)
		id = 0;
	devtype_free(dt);
	return id;
}

static int
suite_init(void)
{
	struct db_param p[2];
	const char *grant;
	char err[256];
	int64_t ca;
	int applied = 0;

	if (getenv("ESTUARY_CONF") == NULL ||
	    getenv("ESTUARY_MIGRATIONS") == NULL ||
	    (grant = getenv("ESTUARY_TEST_DB_GRANT")) == NULL) {
		fprintf(stderr, "test_estroute: run me through "
				"run-estroute-tests.sh\n");
		return -1;
	}
	if (estuary_conf_load(getenv("ESTUARY_CONF"), &conf, err,
			      sizeof(err)) != 0 ||
	    db_connect(conf, DB_ROLE_ADMIN, &admin) != 0 ||
	    db_migrate(admin, getenv("ESTUARY_MIGRATIONS"), &applied) != 0 ||
	    run(grant) != 0 || db_connect(conf, DB_ROLE_APP, &db) != 0)
		return -1;
	if (db_tenant_create(db, "route-a", NULL, &ta) != 0 ||
	    db_org_create(db, ta, "route-a1", NULL, &a1) != 0 ||
	    db_org_create(db, ta, "route-a2", NULL, &a2) != 0 ||
	    db_tenant_create(db, "route-b", NULL, &tb) != 0 ||
	    db_org_create(db, tb, "route-b1", NULL, &b1) != 0 ||
	    (dt1 = devtype_add("route-type-1")) == 0 ||
	    (dt2 = devtype_add("route-type-2")) == 0)
		return -1;
	p[0] = DB_STR("route-t1");
	if (exec_id(admin, T_CA, NULL, 0, &ca) != 0)
		return -1;
	p[1] = DB_I64(ca);
	if (exec_id(admin, T_TMPL, p, 2, &tmpl1) != 0)
		return -1;
	p[0] = DB_STR("route-t2");
	if (exec_id(admin, T_TMPL, p, 2, &tmpl2) != 0)
		return -1;
	p[0] = DB_I64(ta);
	return exec_id(admin, T_APP, p, 1, &app1) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	db_close(db);
	db_close(admin);
	conf_free(conf);
	return 0;
}

/* A dps server of org in tenant for domain, allow list as given. */
static void
dps_init(struct estsrv *s, int64_t tenant, int64_t org, const char *domain,
	 struct estsrv_ip *ips, size_t nips)
{
	memset(s, 0, sizeof(*s));
	s->domain = (char *)domain;
	s->tenant_id = tenant;
	s->org_id = org;
	s->kind = ESTSRV_KIND_DPS;
	s->device_type_id = dt1;
	s->auth_factory_cert = 1;
	s->server_keygen = 1;
	s->active = 1;
	s->ip_allow = ips;
	s->nip_allow = nips;
}

/* Commits when r is 0, else rolls back; returns r (or the commit's). */
static int
tx_end(int r)
{
	if (r == 0)
		return db_commit(db);
	db_rollback(db);
	return r;
}

static int64_t
insert(const struct estsrv *s)
{
	int64_t id = 0;
	int r;

	if (db_begin(db) != 0)
		return -1;
	r = db_estsrv_insert(db, s, 0, &id);
	if (tx_end(r) != 0)
		return r;
	return id;
}

static int64_t
label_add(int64_t server, const char *label, int64_t dt, int64_t tmpl)
{
	struct estsrv_label l;
	int64_t id = 0;

	memset(&l, 0, sizeof(l));
	l.server_id = server;
	snprintf(l.label, sizeof(l.label), "%s", label);
	l.device_type_id = dt;
	l.template_id = tmpl;
	if (db_estsrv_label_insert(db, &l, &id) != 0)
		return 0;
	return id;
}

static void
test_domain_route(void)
{
	struct estsrv_ip ips[2];
	struct est_route *rt = NULL;
	struct estsrv s;
	int64_t id;

	memset(ips, 0, sizeof(ips));
	CU_ASSERT_EQUAL_FATAL(ipallow_parse("10.0.0.0/8", &ips[0].range, NULL,
					    ips[0].entry, NULL),
			      0);
	CU_ASSERT_EQUAL_FATAL(ipallow_parse("2001:db8::/32", &ips[1].range,
					    NULL, ips[1].entry, NULL),
			      0);
	dps_init(&s, ta, a1, "one.example.com", ips, 2);
	CU_ASSERT_FATAL((id = insert(&s)) > 0);

	CU_ASSERT_EQUAL_FATAL(db_est_route(db, "one.example.com", NULL, &rt),
			      0);
	CU_ASSERT_EQUAL(rt->server_id, id);
	CU_ASSERT_EQUAL(rt->tenant_id, ta);
	CU_ASSERT_EQUAL(rt->org_id, a1);
	CU_ASSERT_EQUAL(rt->kind, ESTSRV_KIND_DPS);
	CU_ASSERT_EQUAL(rt->device_type_id, dt1);
	CU_ASSERT_STRING_EQUAL(rt->domain, "one.example.com");
	CU_ASSERT_STRING_EQUAL(rt->label, "");
	CU_ASSERT_EQUAL(rt->label_id, 0);
	CU_ASSERT(rt->server_keygen && rt->auth_factory_cert &&
		  !rt->auth_device_password && !rt->auth_app_key &&
		  !rt->auth_app_cert);
	CU_ASSERT_EQUAL(rt->ntemplates, 0);
	CU_ASSERT_EQUAL(rt->napps, 0);
	CU_ASSERT_EQUAL(rt->nip_allow, 2);
	CU_ASSERT_EQUAL(est_route_ip_allowed(rt, "10.1.2.3"), 1);
	CU_ASSERT_EQUAL(est_route_ip_allowed(rt, "::ffff:10.1.2.3"), 1);
	CU_ASSERT_EQUAL(est_route_ip_allowed(rt, "2001:db8:5::1"), 1);
	CU_ASSERT_EQUAL(est_route_ip_allowed(rt, "11.0.0.1"), 0);
	CU_ASSERT_EQUAL(est_route_ip_allowed(rt, "2001:db9::1"), 0);
	est_route_free(rt);
	rt = NULL;

	/* Host names are compared without case; a port is not a name. */
	CU_ASSERT_EQUAL(db_est_route(db, "ONE.Example.COM", NULL, &rt), 0);
	CU_ASSERT(rt != NULL && rt->server_id == id);
	est_route_free(rt);
	rt = NULL;
	CU_ASSERT_EQUAL(db_est_route(db, "one.example.com:443", NULL, &rt),
			EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(db_est_route(db, "two.example.com", NULL, &rt),
			EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(db_est_route(db, "", NULL, &rt), EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(db_est_route(db, NULL, NULL, &rt), EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(db_est_route(db, "one.example.com", "No!", &rt),
			EST_E_NOTFOUND);
	CU_ASSERT_PTR_NULL(rt);
	/* An empty label is no label. */
	CU_ASSERT_EQUAL(db_est_route(db, "one.example.com", "", &rt), 0);
	est_route_free(rt);
}

static void
test_labels_and_ambiguity(void)
{
	struct est_route *rt = NULL;
	struct estsrv s, *got = NULL;
	int64_t s1, s2, l1, l2;

	dps_init(&s, ta, a1, "lab.example.com", NULL, 0);
	CU_ASSERT_FATAL((s1 = insert(&s)) > 0);
	CU_ASSERT_FATAL((l1 = label_add(s1, "ext", dt2, 0)) > 0);
	/* Unique per domain: no second "ext" under it, whatever server. */
	dps_init(&s, ta, a2, "lab.example.com", NULL, 0);
	CU_ASSERT_FATAL((s2 = insert(&s)) > 0);
	CU_ASSERT_EQUAL(label_add(s2, "ext", dt1, 0), 0);
	CU_ASSERT_FATAL((l2 = label_add(s2, "other", dt1, 0)) > 0);

	/* A label picks its server and its device type. */
	CU_ASSERT_EQUAL_FATAL(db_est_route(db, "lab.example.com", "ext", &rt),
			      0);
	CU_ASSERT_EQUAL(rt->server_id, s1);
	CU_ASSERT_EQUAL(rt->device_type_id, dt2);
	CU_ASSERT_EQUAL(rt->label_id, l1);
	CU_ASSERT_STRING_EQUAL(rt->label, "ext");
	est_route_free(rt);
	rt = NULL;
	CU_ASSERT_EQUAL(db_est_route(db, "lab.example.com", "other", &rt), 0);
	CU_ASSERT(rt != NULL && rt->server_id == s2 && rt->label_id == l2 &&
		  rt->org_id == a2);
	est_route_free(rt);
	rt = NULL;
	CU_ASSERT_EQUAL(db_est_route(db, "lab.example.com", "nope", &rt),
			EST_E_NOTFOUND);
	/* Labels are per domain. */
	CU_ASSERT_EQUAL(db_est_route(db, "one.example.com", "ext", &rt),
			EST_E_NOTFOUND);

	/* Two active servers: a request without label is ambiguous. */
	CU_ASSERT_EQUAL(db_est_route(db, "lab.example.com", NULL, &rt),
			EST_E_CONFLICT);
	CU_ASSERT_PTR_NULL(rt);
	CU_ASSERT_EQUAL(db_estsrv_set_active(db, s2, 0), 0);
	CU_ASSERT_EQUAL(db_est_route(db, "lab.example.com", NULL, &rt), 0);
	CU_ASSERT(rt != NULL && rt->server_id == s1);
	est_route_free(rt);
	rt = NULL;
	/* An inactive server's labels answer nothing. */
	CU_ASSERT_EQUAL(db_est_route(db, "lab.example.com", "other", &rt),
			EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(db_estsrv_set_active(db, s1, 0), 0);
	CU_ASSERT_EQUAL(db_est_route(db, "lab.example.com", NULL, &rt),
			EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(db_est_route(db, "lab.example.com", "ext", &rt),
			EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(db_estsrv_set_active(db, s1, 1), 0);

	/* A new domain takes the labels along. */
	CU_ASSERT_EQUAL_FATAL(db_estsrv_get(db, s1, 0, &got), 0);
	CU_ASSERT_EQUAL(got->nlabels, 1);
	free(got->domain);
	got->domain = strdup("moved.example.com");
	CU_ASSERT_FATAL(got->domain != NULL);
	CU_ASSERT_EQUAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(tx_end(db_estsrv_replace(db, s1, got)), 0);
	estsrv_free(got);
	CU_ASSERT_EQUAL(db_est_route(db, "moved.example.com", "ext", &rt), 0);
	CU_ASSERT(rt != NULL && rt->server_id == s1 &&
		  strcmp(rt->domain, "moved.example.com") == 0);
	est_route_free(rt);
	rt = NULL;
	CU_ASSERT_EQUAL(db_est_route(db, "lab.example.com", "ext", &rt),
			EST_E_NOTFOUND);

	/*
	 * A server may not move to a domain where another server has one
	 * of its labels.
	 */
	CU_ASSERT_EQUAL_FATAL(db_estsrv_get(db, s2, 0, &got), 0);
	free(got->domain);
	got->domain = strdup("moved.example.com");
	CU_ASSERT_FATAL(got->domain != NULL);
	CU_ASSERT_FATAL(label_add(s2, "ext", dt1, 0) > 0);
	CU_ASSERT_EQUAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(tx_end(db_estsrv_replace(db, s2, got)), EST_E_EXISTS);
	estsrv_free(got);
	got = NULL;

	/* Deleting a server deletes its labels. */
	CU_ASSERT_EQUAL(db_estsrv_delete(db, s2), 0);
	CU_ASSERT_EQUAL(
		db_estsrv_label_get(db, s2, l2, &(struct estsrv_label){0}),
		EST_E_NOTFOUND);
	CU_ASSERT_EQUAL(db_estsrv_delete(db, s2), EST_E_NOTFOUND);
}

static void
test_cms_route(void)
{
	struct estsrv_tmpl tm[2] = {{tmpl1, 0}, {tmpl2, 1}};
	int64_t apps[1];
	struct est_route *rt = NULL;
	struct estsrv s;
	int64_t id, lid;

	apps[0] = app1;
	dps_init(&s, ta, a1, "cms.example.com", NULL, 0);
	s.kind = ESTSRV_KIND_CMS;
	s.device_type_id = 0;
	s.auth_factory_cert = 0;
	s.auth_app_key = s.auth_app_cert = 1;
	s.templates = tm;
	s.ntemplates = 2;
	s.app_ids = apps;
	s.napps = 1;
	CU_ASSERT_FATAL((id = insert(&s)) > 0);
	CU_ASSERT_FATAL((lid = label_add(id, "wisun", 0, tmpl1)) > 0);

	CU_ASSERT_EQUAL_FATAL(db_est_route(db, "cms.example.com", NULL, &rt),
			      0);
	CU_ASSERT_EQUAL(rt->kind, ESTSRV_KIND_CMS);
	CU_ASSERT_EQUAL(rt->device_type_id, 0);
	CU_ASSERT_EQUAL_FATAL(rt->ntemplates, 2);
	CU_ASSERT(rt->template_ids[0] == tmpl1 && rt->template_ids[1] == tmpl2);
	CU_ASSERT_EQUAL(rt->default_template_id, tmpl2);
	CU_ASSERT_EQUAL(rt->napps, 1);
	CU_ASSERT_EQUAL(est_route_app_allowed(rt, app1), 1);
	CU_ASSERT_EQUAL(est_route_app_allowed(rt, app1 + 1000), 0);
	CU_ASSERT_EQUAL(est_route_ip_allowed(rt, "203.0.113.9"), 1);
	CU_ASSERT(rt->auth_app_key && rt->auth_app_cert &&
		  !rt->auth_factory_cert);
	est_route_free(rt);
	rt = NULL;

	/* The label narrows the server to its template. */
	CU_ASSERT_EQUAL_FATAL(db_est_route(db, "cms.example.com", "wisun", &rt),
			      0);
	CU_ASSERT_EQUAL(rt->label_id, lid);
	CU_ASSERT_EQUAL_FATAL(rt->ntemplates, 1);
	CU_ASSERT_EQUAL(rt->template_ids[0], tmpl1);
	CU_ASSERT_EQUAL(rt->default_template_id, tmpl1);
	CU_ASSERT_EQUAL(rt->napps, 1);
	est_route_free(rt);
	est_route_free(NULL);
}

static void
test_domain_rule(void)
{
	struct estsrv s;
	int64_t id;

	dps_init(&s, ta, a1, "rule.example.com", NULL, 0);
	CU_ASSERT_FATAL(insert(&s) > 0);
	/* The same organization twice: the unique key. */
	CU_ASSERT_EQUAL(insert(&s), EST_E_EXISTS);
	/* Another organization of the tenant: fine. */
	dps_init(&s, ta, a2, "rule.example.com", NULL, 0);
	CU_ASSERT((id = insert(&s)) > 0);
	/* Another tenant: refused, nothing written. */
	dps_init(&s, tb, b1, "rule.example.com", NULL, 0);
	CU_ASSERT_EQUAL(insert(&s), EST_E_CONFLICT);
	/* A replace that would move a server to another tenant's domain. */
	dps_init(&s, tb, b1, "b-only.example.com", NULL, 0);
	CU_ASSERT_FATAL(insert(&s) > 0);
	dps_init(&s, ta, a2, "b-only.example.com", NULL, 0);
	CU_ASSERT_EQUAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(tx_end(db_estsrv_replace(db, id, &s)), EST_E_CONFLICT);
	CU_ASSERT_EQUAL(db_estsrv_domain_lock(db, "x.example.com", 0, 0),
			EST_E_INVAL);
}

struct racer {
	struct db *conn;
	int64_t tenant, org;
	int result;
};

static void *
race(void *arg)
{
	struct racer *rc = arg;
	struct estsrv s;
	int64_t id = 0;
	int r;

	dps_init(&s, rc->tenant, rc->org, "race.example.com", NULL, 0);
	if ((r = db_begin(rc->conn)) == 0) {
		r = db_estsrv_insert(rc->conn, &s, 0, &id);
		if (r == 0)
			r = db_commit(rc->conn);
		else
			db_rollback(rc->conn);
	}
	rc->result = r;
	return NULL;
}

/*
 * Two connections of two tenants insert a server of one new domain: the
 * first holds the domain's lock until it commits, the second waits for
 * it and then sees the first's server.  Whichever order the threads run
 * in, exactly one succeeds and the other is a clean refusal, never a
 * deadlock or a second tenant on the domain.
 */
static void
test_domain_race(void)
{
	struct racer r1 = {NULL, 0, 0, 1}, r2 = {NULL, 0, 0, 1};
	pthread_t th1, th2;
	struct est_route *rt = NULL;

	CU_ASSERT_EQUAL_FATAL(db_connect(conf, DB_ROLE_APP, &r1.conn), 0);
	CU_ASSERT_EQUAL_FATAL(db_connect(conf, DB_ROLE_APP, &r2.conn), 0);
	r1.tenant = ta;
	r1.org = a1;
	r2.tenant = tb;
	r2.org = b1;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th1, NULL, race, &r1), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th2, NULL, race, &r2), 0);
	pthread_join(th1, NULL);
	pthread_join(th2, NULL);
	CU_ASSERT((r1.result == 0 && r2.result == EST_E_CONFLICT) ||
		  (r2.result == 0 && r1.result == EST_E_CONFLICT));
	if (!((r1.result == 0) ^ (r2.result == 0)))
		fprintf(stderr, "race: %d %d\n", r1.result, r2.result);
	CU_ASSERT_EQUAL(db_est_route(db, "race.example.com", NULL, &rt), 0);
	CU_ASSERT(rt != NULL && rt->tenant_id == (r1.result == 0 ? ta : tb));
	est_route_free(rt);
	db_close(r1.conn);
	db_close(r2.conn);
}

static void
test_reads(void)
{
	struct db_estsrv_filter f;
	struct estsrv **list = NULL;
	struct estsrv_label *labels = NULL;
	size_t n = 0, nl = 0, i;
	int ok = 1;

	memset(&f, 0, sizeof(f));
	f.active = -1;
	f.domain = "CMS.example.com";
	CU_ASSERT_EQUAL_FATAL(db_estsrv_list(db, &f, 0, 10, &list, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	if (n == 1) {
		CU_ASSERT_EQUAL(list[0]->ntemplates, 2);
		CU_ASSERT_EQUAL(list[0]->napps, 1);
		CU_ASSERT_EQUAL(list[0]->nlabels, 1);
		CU_ASSERT_EQUAL_FATAL(
			db_estsrv_labels(db, list[0]->id, &labels, &nl), 0);
		CU_ASSERT(nl == 1 && strcmp(labels[0].label, "wisun") == 0 &&
			  labels[0].template_id == tmpl1);
		db_estsrv_labels_free(labels, nl);
	}
	db_estsrv_list_free(list, n);
	list = NULL;

	/* Scoped to tenant B: only its servers. */
	memset(&f, 0, sizeof(f));
	f.active = -1;
	f.scope_tenant = tb;
	CU_ASSERT_EQUAL_FATAL(db_estsrv_list(db, &f, 0, 100, &list, &n), 0);
	CU_ASSERT(n >= 1);
	for (i = 0; i < n; i++)
		ok &= list[i]->tenant_id == tb;
	CU_ASSERT(ok);
	db_estsrv_list_free(list, n);
	list = NULL;

	/* By device type, through a label too. */
	memset(&f, 0, sizeof(f));
	f.active = -1;
	f.device_type_id = dt2;
	CU_ASSERT_EQUAL_FATAL(db_estsrv_list(db, &f, 0, 100, &list, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	db_estsrv_list_free(list, n);
}

static void
test_names(void)
{
	static const char *const good[] = {
		"est01.example.com", "a.b",	      "x-1.example.org",
		"EST01.Example.COM", "1.example.com", "a.b1"};
	static const char *const bad[] = {"localhost",
					  ".example.com",
					  "example.com.",
					  "a..b",
					  "-a.example.com",
					  "a-.example.com",
					  "a_b.example.com",
					  "10.0.0.1",
					  "a.123",
					  "x.example.com:443",
					  "[::1]",
					  "::1",
					  "exa mple.com",
					  "",
					  "caf\xc3\xa9.example.com"};
	char out[ESTSRV_DOMAIN_MAX + 1], big[300];
	size_t i;
	enum estsrv_kind k;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CU_ASSERT_EQUAL(estsrv_domain_check(good[i], out), 0);
		CU_ASSERT(strcasecmp(out, good[i]) == 0 &&
			  strcspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
				  strlen(out));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(estsrv_domain_check(bad[i], NULL),
				EST_E_UNPROCESSABLE);
		if (estsrv_domain_check(bad[i], NULL) == 0)
			fprintf(stderr, "accepted domain \"%s\"\n", bad[i]);
	}
	/* 63-character labels pass, 64 do not; 253 bytes in all. */
	memset(big, 'a', sizeof(big));
	big[63] = '.';
	memcpy(big + 64, "com", 4);
	CU_ASSERT_EQUAL(estsrv_domain_check(big, NULL), 0);
	big[63] = 'a';
	big[64] = '.';
	memcpy(big + 65, "com", 4);
	CU_ASSERT_EQUAL(estsrv_domain_check(big, NULL), EST_E_UNPROCESSABLE);
	for (i = 0; i < 250; i += 2)
		memcpy(big + i, "a.", 2);
	memcpy(big + 250, "com", 4); /* 253 bytes */
	CU_ASSERT_EQUAL(estsrv_domain_check(big, NULL), 0);
	memcpy(big + 250, "comm", 5); /* 254 */
	CU_ASSERT_EQUAL(estsrv_domain_check(big, NULL), EST_E_UNPROCESSABLE);

	CU_ASSERT_EQUAL(estsrv_label_check("abc"), 0);
	CU_ASSERT_EQUAL(estsrv_label_check("a1b2c3d4e5f6g7h8i9j0k1l2"), 0);
	CU_ASSERT_EQUAL(estsrv_label_check("ab"), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(estsrv_label_check("a1b2c3d4e5f6g7h8i9j0k1l2m"),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(estsrv_label_check("Abc"), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(estsrv_label_check("ab-c"), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(estsrv_label_check(NULL), EST_E_UNPROCESSABLE);
	CU_ASSERT(estsrv_kind_value("dps", &k) == 0 && k == ESTSRV_KIND_DPS);
	CU_ASSERT(estsrv_kind_value("cms", &k) == 0 && k == ESTSRV_KIND_CMS);
	CU_ASSERT_EQUAL(estsrv_kind_value("DPS", &k), EST_E_INVAL);
	CU_ASSERT_PTR_NULL(estsrv_kind_name(0));
	CU_ASSERT_STRING_EQUAL(estsrv_kind_name(ESTSRV_KIND_CMS), "cms");
}

/*
 * The application of a request's AppID or certificate comes with the
 * route's row, from the same statement: the row of that AppID and no
 * other, none for an unknown AppID, none for a user name that is no AppID
 * (even one that an application row has), none without a user; by a
 * certificate's fingerprint, that application's row, none for another
 * fingerprint; an AppID given with a fingerprint is what is read.
 */
static void
test_route_app(void)
{
	static const char *const id_on = "0123456789abcdef0123456789abcdef";
	static const char *const id_off = "fedcba9876543210fedcba9876543210";
	static const char *const id_none = "00000000000000000000000000000000";
	static const uint8_t fp_on[32] = {0xa5, 1, 2, 3};
	static const uint8_t fp_none[32] = {0x5a, 1, 2, 3};
	struct est_route_app k_on = {id_on, NULL}, k_off = {id_off, NULL};
	struct est_route_app k_none = {id_none, NULL},
			     k_bad = {"route-app", NULL};
	struct est_route_app k_fp = {NULL, fp_on}, k_nofp = {NULL, fp_none};
	struct est_route_app k_both = {id_off, fp_on};
	struct est_route_stamp st;
	struct db_apiapp *app = NULL;
	struct est_route *rt = NULL;
	struct db_param p[4];
	struct estsrv s;
	int64_t on = 0, off = 0, srv;

	p[0] = DB_STR(id_on);
	p[1] = DB_STR("route app on");
	p[2] = DB_I64(ta);
	p[3] = DB_I64(1);
	CU_ASSERT_EQUAL_FATAL(exec_id(db, T_APP_ID, p, 4, &on), 0);
	p[0] = DB_STR(id_off);
	p[1] = DB_STR("route app off");
	p[3] = DB_I64(0);
	CU_ASSERT_EQUAL_FATAL(exec_id(db, T_APP_ID, p, 4, &off), 0);
	p[0] = DB_BLOB(fp_on, sizeof(fp_on));
	p[1] = DB_I64(on);
	CU_ASSERT_EQUAL_FATAL(exec_id(admin, T_APP_FP, p, 2, NULL), 0);
	dps_init(&s, ta, a1, "apps.example.com", NULL, 0);
	CU_ASSERT_FATAL((srv = insert(&s)) > 0);

	CU_ASSERT_EQUAL(db_est_route_row(db, "apps.example.com", NULL, &k_on,
					 &rt, &st, &app),
			0);
	CU_ASSERT(rt != NULL && rt->server_id == srv);
	CU_ASSERT_FATAL(app != NULL);
	CU_ASSERT_EQUAL(app->id, on);
	CU_ASSERT_STRING_EQUAL(app->app_id, id_on);
	CU_ASSERT_STRING_EQUAL(app->name, "route app on");
	CU_ASSERT_EQUAL(app->tenant_id, ta);
	CU_ASSERT(app->active && !app->revoked && !app->expired &&
		  app->tenant_active && app->org_active && app->has_cert);
	db_apiapp_free(app);
	est_route_free(rt);
	app = NULL;
	rt = NULL;

	CU_ASSERT_EQUAL(db_est_route_row(db, "apps.example.com", NULL, &k_off,
					 &rt, NULL, &app),
			0);
	CU_ASSERT_FATAL(app != NULL);
	CU_ASSERT(app->id == off && !app->active);
	db_apiapp_free(app);
	est_route_free(rt);
	app = NULL;
	rt = NULL;

	CU_ASSERT_EQUAL(db_est_route_row(db, "apps.example.com", NULL, &k_none,
					 &rt, NULL, &app),
			0);
	CU_ASSERT(rt != NULL && app == NULL);
	est_route_free(rt);
	rt = NULL;
	/* "route-app" is an application's app_id here, but no AppID. */
	CU_ASSERT_EQUAL(db_est_route_row(db, "apps.example.com", NULL, &k_bad,
					 &rt, NULL, &app),
			0);
	CU_ASSERT(rt != NULL && app == NULL);
	est_route_free(rt);
	rt = NULL;
	CU_ASSERT_EQUAL(db_est_route_row(db, "apps.example.com", NULL, NULL,
					 &rt, NULL, &app),
			0);
	CU_ASSERT(rt != NULL && app == NULL);
	est_route_free(rt);
	rt = NULL;
	/* By a certificate's fingerprint: that application's row. */
	CU_ASSERT_EQUAL(db_est_route_row(db, "apps.example.com", NULL, &k_fp,
					 &rt, NULL, &app),
			0);
	CU_ASSERT_FATAL(rt != NULL && app != NULL);
	CU_ASSERT(app->id == on && app->has_cert &&
		  memcmp(app->cert_fp, fp_on, sizeof(fp_on)) == 0);
	db_apiapp_free(app);
	est_route_free(rt);
	app = NULL;
	rt = NULL;
	CU_ASSERT_EQUAL(db_est_route_row(db, "apps.example.com", NULL, &k_nofp,
					 &rt, NULL, &app),
			0);
	CU_ASSERT(rt != NULL && app == NULL);
	est_route_free(rt);
	rt = NULL;
	/* An AppID, when given, is what is read. */
	CU_ASSERT_EQUAL(db_est_route_row(db, "apps.example.com", NULL, &k_both,
					 &rt, NULL, &app),
			0);
	CU_ASSERT(rt != NULL && app != NULL && app->id == off);
	db_apiapp_free(app);
	est_route_free(rt);
	app = NULL;
	rt = NULL;
	/* An unknown domain: no route, and no application either. */
	app = (struct db_apiapp *)&st;
	CU_ASSERT_EQUAL(db_est_route_row(db, "nowhere.example.com", NULL, &k_on,
					 &rt, NULL, &app),
			EST_E_NOTFOUND);
	CU_ASSERT(rt == NULL && app == NULL);
}

/* Whether the route's template stamp is the one db_template_stamp reads. */
static int
tmpl_stamp_is(const struct est_route_stamp *st, int64_t id)
{
	struct db_template_stamp t;

	if (st->tmpl_id != id || db_template_stamp(db, id, 0, &t) != 0)
		return 0;
	return strcmp(t.tmpl, st->tmpl.tmpl) == 0 &&
	       strcmp(t.ca, st->tmpl.ca) == 0 && st->tmpl.exts[0] == '\0' &&
	       t.ca_id == st->tmpl.ca_id &&
	       t.tmpl_active == st->tmpl.tmpl_active &&
	       t.ca_active == st->tmpl.ca_active;
}

/*
 * The route's row carries the stamp of the template it issues from by
 * default: a cms server's default template, a cms label's template, a
 * dps type's default operational template; none for a type without one.
 * The flags are the rows' own, read live.
 */
static void
test_route_tmpl(void)
{
	struct estsrv_tmpl tm[2] = {{tmpl1, 0}, {tmpl2, 1}};
	struct est_route_stamp st;
	struct est_route *rt = NULL;
	struct db_param p[2];
	struct estsrv s;
	int64_t id, dt;

	dps_init(&s, ta, a1, "tcms.example.com", NULL, 0);
	s.kind = ESTSRV_KIND_CMS;
	s.device_type_id = 0;
	s.auth_factory_cert = 0;
	s.auth_app_key = 1;
	s.templates = tm;
	s.ntemplates = 2;
	CU_ASSERT_FATAL((id = insert(&s)) > 0);
	CU_ASSERT_FATAL(label_add(id, "tlab", 0, tmpl1) > 0);
	CU_ASSERT_EQUAL_FATAL(db_est_route_row(db, "tcms.example.com", NULL,
					       NULL, &rt, &st, NULL),
			      0);
	CU_ASSERT(tmpl_stamp_is(&st, tmpl2));
	est_route_free(rt);
	rt = NULL;
	CU_ASSERT_EQUAL_FATAL(db_est_route_row(db, "tcms.example.com", "tlab",
					       NULL, &rt, &st, NULL),
			      0);
	CU_ASSERT(tmpl_stamp_is(&st, tmpl1));
	est_route_free(rt);
	rt = NULL;

	/* dps: none until the type has a default operational template. */
	CU_ASSERT_FATAL((dt = devtype_add("route-type-tmpl")) > 0);
	dps_init(&s, ta, a1, "tdps.example.com", NULL, 0);
	s.device_type_id = dt;
	CU_ASSERT_FATAL(insert(&s) > 0);
	CU_ASSERT_EQUAL_FATAL(db_est_route_row(db, "tdps.example.com", NULL,
					       NULL, &rt, &st, NULL),
			      0);
	CU_ASSERT_EQUAL(st.tmpl_id, 0);
	est_route_free(rt);
	rt = NULL;
	p[0] = DB_I64(dt);
	p[1] = DB_I64(tmpl1);
	CU_ASSERT_EQUAL_FATAL(exec_id(admin, T_OP_DEFAULT, p, 2, NULL), 0);
	p[0] = DB_I64(0);
	CU_ASSERT_EQUAL_FATAL(exec_id(admin, T_TMPL_ACTIVE, p, 2, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(db_est_route_row(db, "tdps.example.com", NULL,
					       NULL, &rt, &st, NULL),
			      0);
	CU_ASSERT(tmpl_stamp_is(&st, tmpl1));
	CU_ASSERT_EQUAL(st.tmpl.tmpl_active, 0);
	est_route_free(rt);
	p[0] = DB_I64(1);
	CU_ASSERT_EQUAL(exec_id(admin, T_TMPL_ACTIVE, p, 2, NULL), 0);
}

/* Template id through cache ic: its active flag as handed out, or -1. */
static int
cached_active(struct issue_cache *ic, int64_t id)
{
	const struct tmpl *t = NULL;
	const struct db_ca *ca = NULL;

	if (issue_cache_get(ic, db, id, &t, &ca) != 0 || t == NULL ||
	    ca == NULL)
		return -1;
	return t->active;
}

/*
 * The issuing cache takes a stamp read with the route (issue_cache_prime)
 * for a template it holds without custom extensions, once; a stamp that
 * says "inactive" of an active template shows which stamp was used.  An
 * empty cache, a template with extensions, another template's or a
 * dropped stamp make it read its own.
 */
static void
test_icache_prime(void)
{
	struct issue_cache *ic = issue_cache_new();
	struct db_template_stamp st, st3;
	struct db_param p[2];
	int64_t t3 = 0, ext = 0, ca = 0;

	CU_ASSERT_FATAL(ic != NULL);
	CU_ASSERT_EQUAL_FATAL(db_template_stamp(db, tmpl2, 0, &st), 0);
	CU_ASSERT_EQUAL_FATAL(st.tmpl_active, 1);
	st.tmpl_active = 0;
	issue_cache_prime(ic, tmpl2, &st);
	CU_ASSERT_EQUAL(cached_active(ic, tmpl2), 1);
	issue_cache_prime(ic, tmpl2, &st);
	CU_ASSERT_EQUAL(cached_active(ic, tmpl2), 0);
	CU_ASSERT_EQUAL(cached_active(ic, tmpl2), 1);
	issue_cache_prime(ic, tmpl1, &st);
	CU_ASSERT_EQUAL(cached_active(ic, tmpl2), 1);
	issue_cache_prime(ic, tmpl2, &st);
	issue_cache_prime(ic, 0, NULL);
	CU_ASSERT_EQUAL(cached_active(ic, tmpl2), 1);

	/* A template with a custom extension: never by a primed stamp. */
	CU_ASSERT_EQUAL_FATAL(db_template_stamp(db, tmpl1, 0, &st3), 0);
	ca = st3.ca_id;
	p[0] = DB_STR("route-t3");
	p[1] = DB_I64(ca);
	CU_ASSERT_EQUAL_FATAL(exec_id(admin, T_TMPL, p, 2, &t3), 0);
	CU_ASSERT_EQUAL_FATAL(exec_id(admin, T_EXT, NULL, 0, &ext), 0);
	p[0] = DB_I64(t3);
	p[1] = DB_I64(ext);
	CU_ASSERT_EQUAL_FATAL(exec_id(admin, T_TMPL_EXT, p, 2, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(cached_active(ic, t3), 1);
	CU_ASSERT_EQUAL_FATAL(db_template_stamp(db, t3, 0, &st3), 0);
	st3.tmpl_active = 0;
	issue_cache_prime(ic, t3, &st3);
	CU_ASSERT_EQUAL(cached_active(ic, t3), 1);
	issue_cache_free(ic);
}

static CU_TestInfo tests[] = {
	{"domain and label syntax", test_names},
	{"the application of an AppID or certificate with the route",
	 test_route_app},
	{"route by domain, allow list", test_domain_route},
	{"labels, ambiguity, inactive, domain change",
	 test_labels_and_ambiguity},
	{"cms route and a label's template", test_cms_route},
	{"the route's default template stamp", test_route_tmpl},
	{"the issuing cache takes the route's stamp", test_icache_prime},
	{"the domain rule", test_domain_rule},
	{"two tenants race for a domain", test_domain_race},
	{"lists and labels", test_reads},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("EST servers", suite_init, suite_clean, tests);
}
