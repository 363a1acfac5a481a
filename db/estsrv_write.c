/*
 * EST servers: the writers.  A server is written whole, in the caller's
 * transaction: the domain's lock row first (the tenant rule), then its
 * row, then its IP allow list, templates and applications.  Labels are
 * written one at a time; they refer to the server by (id, domain), so
 * they follow a change of domain (ON UPDATE CASCADE).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "estsrv.h"

#define SRV_SET_COLUMNS                                                        \
	"domain = ?, description = ?, tenant_id = ?, org_id = ?, kind = ?,"    \
	" device_type_id = ?, server_keygen = ?, auth_device_password = ?,"    \
	" auth_factory_cert = ?, auth_app_key = ?, auth_app_cert = ?"
#define SRV_SET_NPARAMS 11

static const struct db_stmt_def srvw_stmts[] = {
/*
 * An exclusive lock on the domain's row, new or not: a second writer of
 * the domain waits here until the first commits.
 */
#define W_LOCK_DOMAIN 0
	{"estsrv_lock_domain",
	 "INSERT INTO est_domains (domain) VALUES (?)"
	 " ON DUPLICATE KEY UPDATE domain = domain",
	 1},
#define W_OTHER_TENANTS 1
	{"estsrv_other_tenants",
	 "SELECT COUNT(*) FROM est_servers"
	 " WHERE domain = ? AND tenant_id <> ? AND id <> ?",
	 3},
#define W_INSERT 2
	{"estsrv_insert",
	 "INSERT INTO est_servers SET " SRV_SET_COLUMNS
	 ", active = ?, created_by_user_id = ?",
	 SRV_SET_NPARAMS + 2},
/* updated_at moves when only children change: it versions the whole. */
#define W_UPDATE 3
	{"estsrv_update",
	 "UPDATE est_servers SET " SRV_SET_COLUMNS
	 ", updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
	 SRV_SET_NPARAMS + 1},
#define W_DEL_IPS 4
	{"estsrv_del_ip_allow",
	 "DELETE FROM est_server_ip_allow WHERE server_id = ?", 1},
#define W_DEL_TMPLS 5
	{"estsrv_del_templates",
	 "DELETE FROM est_server_templates WHERE server_id = ?", 1},
#define W_DEL_APPS 6
	{"estsrv_del_apps", "DELETE FROM est_server_apps WHERE server_id = ?",
	 1},
#define W_INS_IP 7
	{"estsrv_ins_ip_allow",
	 "INSERT INTO est_server_ip_allow"
	 " (server_id, position, entry, start_addr, end_addr)"
	 " VALUES (?, ?, ?, ?, ?)",
	 5},
#define W_INS_TMPL 8
	{"estsrv_ins_template",
	 "INSERT INTO est_server_templates"
	 " (server_id, template_id, position, is_default) VALUES (?, ?, ?, ?)",
	 4},
#define W_INS_APP 9
	{"estsrv_ins_app",
	 "INSERT INTO est_server_apps (server_id, app_id) VALUES (?, ?)", 2},
#define W_SET_ACTIVE 10
	{"estsrv_set_active",
	 "UPDATE est_servers SET active = ?,"
	 " updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
	 2},
#define W_DELETE 11
	{"estsrv_delete", "DELETE FROM est_servers WHERE id = ?", 1},
/* The label takes the server's domain from the server's row. */
#define W_LABEL_INS 12
	{"estsrv_label_insert",
	 "INSERT INTO est_labels"
	 " (server_id, domain, label, device_type_id, template_id)"
	 " SELECT id, domain, ?, ?, ? FROM est_servers WHERE id = ?",
	 4},
#define W_LABEL_UPD 13
	{"estsrv_label_update",
	 "UPDATE est_labels SET device_type_id = ?, template_id = ?"
	 " WHERE server_id = ? AND id = ?",
	 4},
#define W_LABEL_DEL 14
	{"estsrv_label_delete",
	 "DELETE FROM est_labels WHERE server_id = ? AND id = ?", 2},
/* A label write changes the server: its version (ETag) moves. */
#define W_TOUCH 15
	{"estsrv_touch",
	 "UPDATE est_servers SET updated_at = CURRENT_TIMESTAMP(6)"
	 " WHERE id = ?",
	 1},
/*
 * Labels of server ? that another server of domain ? already has: a new
 * domain would carry them into a duplicate, which the cascade reports
 * with an error of its own rather than as a duplicate key.
 */
#define W_LABEL_CLASH 16
	{"estsrv_label_clash",
	 "SELECT COUNT(*) FROM est_labels a JOIN est_labels b"
	 " ON b.domain = ? AND b.label = a.label AND b.server_id <> a.server_id"
	 " WHERE a.server_id = ?",
	 2},
/* The lock of a server's domain, for a label written under it. */
#define W_LOCK_DOMAIN_OF 17
	{"estsrv_lock_domain_of",
	 "INSERT INTO est_domains (domain)"
	 " SELECT domain FROM est_servers WHERE id = ?"
	 " ON DUPLICATE KEY UPDATE domain = VALUES(domain)",
	 1},
};

static struct db_param
opt_id(int64_t id)
{
	return id > 0 ? DB_I64(id) : DB_NULL;
}

int
db_estsrv_domain_lock(struct db *db, const char *domain, int64_t tenant_id,
		      int64_t except_id)
{
	struct db_result *res = NULL;
	struct db_param p[3];
	int64_t others;
	int r;

	if (domain == NULL || tenant_id <= 0 || except_id < 0)
		return EST_E_INVAL;
	p[0] = DB_STR(domain);
	if ((r = db_exec(db, &srvw_stmts[W_LOCK_DOMAIN], p, 1, NULL, NULL)) !=
	    0)
		return r;
	p[1] = DB_I64(tenant_id);
	p[2] = DB_I64(except_id);
	if ((r = db_query_one(db, &srvw_stmts[W_OTHER_TENANTS], p, 3, &res)) !=
	    0)
		return r;
	others = db_result_i64(res, 0, 0);
	db_result_free(res);
	return others > 0 ? EST_E_CONFLICT : 0;
}

static void
set_params(struct db_param *p, const struct estsrv *s)
{
	p[0] = DB_STR(s->domain);
	p[1] = DB_STR(s->description);
	p[2] = DB_I64(s->tenant_id);
	p[3] = DB_I64(s->org_id);
	p[4] = DB_STR(estsrv_kind_name(s->kind));
	p[5] = s->kind == ESTSRV_KIND_DPS ? opt_id(s->device_type_id) : DB_NULL;
	p[6] = DB_I64(s->server_keygen != 0);
	p[7] = DB_I64(s->auth_device_password != 0);
	p[8] = DB_I64(s->auth_factory_cert != 0);
	p[9] = DB_I64(s->auth_app_key != 0);
	p[10] = DB_I64(s->auth_app_cert != 0);
}

static int
write_children(struct db *db, int64_t id, const struct estsrv *s)
{
	struct db_param p[5];
	size_t i;
	int r = 0;

	for (i = 0; i < s->nip_allow && r == 0; i++) {
		const struct estsrv_ip *ip = &s->ip_allow[i];

		p[0] = DB_I64(id);
		p[1] = DB_I64(i);
		p[2] = DB_STR(ip->entry);
		p[3] = DB_BLOB(ip->range.start, ip->range.len);
		p[4] = DB_BLOB(ip->range.end, ip->range.len);
		r = db_exec(db, &srvw_stmts[W_INS_IP], p, 5, NULL, NULL);
	}
	for (i = 0; i < s->ntemplates && r == 0; i++) {
		p[0] = DB_I64(id);
		p[1] = DB_I64(s->templates[i].template_id);
		p[2] = DB_I64(i);
		p[3] = DB_I64(s->templates[i].is_default != 0);
		r = db_exec(db, &srvw_stmts[W_INS_TMPL], p, 4, NULL, NULL);
	}
	for (i = 0; i < s->napps && r == 0; i++) {
		p[0] = DB_I64(id);
		p[1] = DB_I64(s->app_ids[i]);
		r = db_exec(db, &srvw_stmts[W_INS_APP], p, 2, NULL, NULL);
	}
	return r;
}

static int
check_model(const struct estsrv *s)
{
	if (s == NULL || s->domain == NULL || s->tenant_id <= 0 ||
	    s->org_id <= 0 || estsrv_kind_name(s->kind) == NULL ||
	    (s->kind == ESTSRV_KIND_DPS && s->device_type_id <= 0))
		return EST_E_INVAL;
	return 0;
}

int
db_estsrv_insert(struct db *db, const struct estsrv *s, int64_t created_by,
		 int64_t *id)
{
	struct db_param p[SRV_SET_NPARAMS + 2];
	uint64_t new_id = 0;
	int r;

	if ((r = check_model(s)) != 0 ||
	    (r = db_estsrv_domain_lock(db, s->domain, s->tenant_id, 0)) != 0)
		return r;
	set_params(p, s);
	p[SRV_SET_NPARAMS] = DB_I64(s->active != 0);
	p[SRV_SET_NPARAMS + 1] = opt_id(created_by);
	if ((r = db_exec(db, &srvw_stmts[W_INSERT], p, SRV_SET_NPARAMS + 2,
			 NULL, &new_id)) != 0 ||
	    (r = write_children(db, (int64_t)new_id, s)) != 0)
		return r;
	*id = (int64_t)new_id;
	return 0;
}

/* EST_E_EXISTS when moving server id to domain would repeat a label. */
static int
label_clash(struct db *db, int64_t id, const char *domain)
{
	struct db_result *res = NULL;
	struct db_param p[2];
	int64_t n;
	int r;

	p[0] = DB_STR(domain);
	p[1] = DB_I64(id);
	if ((r = db_query_one(db, &srvw_stmts[W_LABEL_CLASH], p, 2, &res)) != 0)
		return r;
	n = db_result_i64(res, 0, 0);
	db_result_free(res);
	return n > 0 ? EST_E_EXISTS : 0;
}

int
db_estsrv_replace(struct db *db, int64_t id, const struct estsrv *s)
{
	struct db_param p[SRV_SET_NPARAMS + 1];
	uint64_t affected = 0;
	int r;

	if ((r = check_model(s)) != 0 ||
	    (r = db_estsrv_domain_lock(db, s->domain, s->tenant_id, id)) != 0 ||
	    (r = label_clash(db, id, s->domain)) != 0)
		return r;
	set_params(p, s);
	p[SRV_SET_NPARAMS] = DB_I64(id);
	if ((r = db_exec(db, &srvw_stmts[W_UPDATE], p, SRV_SET_NPARAMS + 1,
			 &affected, NULL)) != 0)
		return r;
	if (affected == 0)
		return EST_E_NOTFOUND;
	p[0] = DB_I64(id);
	if ((r = db_exec(db, &srvw_stmts[W_DEL_IPS], p, 1, NULL, NULL)) != 0 ||
	    (r = db_exec(db, &srvw_stmts[W_DEL_TMPLS], p, 1, NULL, NULL)) !=
		    0 ||
	    (r = db_exec(db, &srvw_stmts[W_DEL_APPS], p, 1, NULL, NULL)) != 0)
		return r;
	return write_children(db, id, s);
}

int
db_estsrv_set_active(struct db *db, int64_t id, int active)
{
	struct db_param p[2];
	uint64_t affected = 0;
	int r;

	p[0] = DB_I64(active != 0);
	p[1] = DB_I64(id);
	if ((r = db_exec(db, &srvw_stmts[W_SET_ACTIVE], p, 2, &affected,
			 NULL)) != 0)
		return r;
	return affected == 0 ? EST_E_NOTFOUND : 0;
}

int
db_estsrv_delete(struct db *db, int64_t id)
{
	struct db_param p[1];
	uint64_t affected = 0;
	int r;

	p[0] = DB_I64(id);
	if ((r = db_exec(db, &srvw_stmts[W_DELETE], p, 1, &affected, NULL)) !=
	    0)
		return r;
	return affected == 0 ? EST_E_NOTFOUND : 0;
}

static int
touch(struct db *db, int64_t server_id)
{
	struct db_param p[1];

	p[0] = DB_I64(server_id);
	return db_exec(db, &srvw_stmts[W_TOUCH], p, 1, NULL, NULL);
}

int
db_estsrv_label_insert(struct db *db, const struct estsrv_label *l, int64_t *id)
{
	struct db_param p[4];
	uint64_t affected = 0, new_id = 0;
	int r;

	if (l == NULL || estsrv_label_check(l->label) != 0 ||
	    (l->device_type_id > 0) == (l->template_id > 0))
		return EST_E_INVAL;
	/*
	 * Under the domain's lock, so that a server moving to the domain
	 * (db_estsrv_replace) checks its labels against a stable set.
	 */
	p[0] = DB_I64(l->server_id);
	if ((r = db_exec(db, &srvw_stmts[W_LOCK_DOMAIN_OF], p, 1, NULL,
			 NULL)) != 0)
		return r;
	p[0] = DB_STR(l->label);
	p[1] = opt_id(l->device_type_id);
	p[2] = opt_id(l->template_id);
	p[3] = DB_I64(l->server_id);
	if ((r = db_exec(db, &srvw_stmts[W_LABEL_INS], p, 4, &affected,
			 &new_id)) != 0)
		return r;
	if (affected == 0)
		return EST_E_NOTFOUND;
	if ((r = touch(db, l->server_id)) != 0)
		return r;
	*id = (int64_t)new_id;
	return 0;
}

int
db_estsrv_label_update(struct db *db, int64_t server_id, int64_t id,
		       const struct estsrv_label *l)
{
	struct db_param p[4];
	uint64_t affected = 0;
	int r;

	if (l == NULL || (l->device_type_id > 0) == (l->template_id > 0))
		return EST_E_INVAL;
	p[0] = opt_id(l->device_type_id);
	p[1] = opt_id(l->template_id);
	p[2] = DB_I64(server_id);
	p[3] = DB_I64(id);
	if ((r = db_exec(db, &srvw_stmts[W_LABEL_UPD], p, 4, &affected,
			 NULL)) != 0)
		return r;
	if (affected == 0)
		return EST_E_NOTFOUND;
	return touch(db, server_id);
}

int
db_estsrv_label_delete(struct db *db, int64_t server_id, int64_t id)
{
	struct db_param p[2];
	uint64_t affected = 0;
	int r;

	p[0] = DB_I64(server_id);
	p[1] = DB_I64(id);
	if ((r = db_exec(db, &srvw_stmts[W_LABEL_DEL], p, 2, &affected,
			 NULL)) != 0)
		return r;
	if (affected == 0)
		return EST_E_NOTFOUND;
	return touch(db, server_id);
}
