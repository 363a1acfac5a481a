/*
 * The CA endpoints' queries (fcgi/api_ca.c, pki/ca.c): a filtered list
 * read in pages, the few changes a CA allows, its publication URLs, the
 * certificate of a CA signed elsewhere, and deletion.  A CA's key, subject
 * and scope never change: certificates, templates and child CAs depend on
 * them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ca_int.h"
#include "db.h"
#include "dbq.h"
#include "err.h"

#define CA_LIST_PARAMS 25
#define CA_SET_CERT_PARAMS 12

static const struct db_stmt_def ca_admin_stmts[] = {
#define CA_LIST 0
	{"ca_list",
	 "SELECT " CA_COLUMNS " FROM cas WHERE id > ?"
	 /* perm_list_filter(): the tenant's and the global rows... */
	 " AND (? = 0 OR tenant_id = ? OR scope = 'global')"
	 /* ...and for an organization, its own and the tenant-wide ones. */
	 " AND (? = 0 OR org_id = ? OR scope IN ('tenant', 'global'))"
	 " AND (? IS NULL OR name = ?)"
	 " AND (? IS NULL OR LOCATE(?, name) > 0)"
	 " AND (? IS NULL OR scope = ?)"
	 " AND (? = 0 OR tenant_id = ?)"
	 " AND (? = 0 OR org_id = ?)"
	 " AND (? = 0 OR parent_id = ?)"
	 " AND (? = 0 OR parent_id IS NULL)"
	 " AND (? < 0 OR active = ?)"
	 " AND (? = 0 OR (? = 1 AND active AND cert_der IS NULL)"
	 " OR (? = 2 AND active AND cert_der IS NOT NULL)"
	 " OR (? = 3 AND NOT active))"
	 " ORDER BY id LIMIT ?",
	 CA_LIST_PARAMS},
#define CA_UPDATE 1
	{"ca_update",
	 "UPDATE cas SET name = ?, description = ?, crl_period_hours = ?"
	 " WHERE id = ?",
	 4},
#define CA_SET_ACTIVE 2
	{"ca_set_active", "UPDATE cas SET active = ? WHERE id = ?", 2},
#define CA_SET_URLS 3
	{"ca_set_urls",
	 "UPDATE cas SET crl_url = ?, ocsp_url = ?, ca_issuers_url = ?"
	 " WHERE id = ?",
	 4},
#define CA_SET_CERT 4
	{"ca_set_cert",
	 "UPDATE cas SET cert_der = ?, fingerprint = ?, serial = ?,"
	 " not_before = ?, not_after = ?, subject_der = ?, subject_hash = ?,"
	 " ski = ?, path_len = ?, key_usage = ?, chain_pem = ?"
	 " WHERE id = ? AND cert_der IS NULL",
	 CA_SET_CERT_PARAMS},
#define CA_DELETE 5
	{"ca_delete", "DELETE FROM cas WHERE id = ?", 1},
#define CA_EXISTS 6
	{"ca_exists", "SELECT id FROM cas WHERE id = ?", 1},
};

int
db_ca_list(struct db *db, const struct db_ca_filter *f, int64_t after_id,
	   size_t limit, struct db_ca ***out, size_t *n)
{
	struct db_param p[CA_LIST_PARAMS];
	struct db_result *res = NULL;
	struct db_ca **list = NULL;
	size_t i = 0, rows;
	int r;

	if (limit == 0 || after_id < 0 || f->scope_tenant < 0 ||
	    f->scope_org < 0 || (f->scope_org > 0 && f->scope_tenant == 0) ||
	    f->tenant_id < 0 || f->org_id < 0 || f->parent_id < 0 ||
	    f->status < DB_CA_STATUS_ANY || f->status > DB_CA_STATUS_INACTIVE)
		return EST_E_INVAL;
	p[0] = DB_I64(after_id);
	p[1] = p[2] = DB_I64(f->scope_tenant);
	p[3] = p[4] = DB_I64(f->scope_org);
	p[5] = p[6] = DB_STR(f->name);
	p[7] = p[8] = DB_STR(f->name_contains);
	p[9] = p[10] = DB_STR(f->scope);
	p[11] = p[12] = DB_I64(f->tenant_id);
	p[13] = p[14] = DB_I64(f->org_id);
	p[15] = p[16] = DB_I64(f->parent_id);
	p[17] = DB_I64(f->root ? 1 : 0);
	p[18] = p[19] = DB_I64(f->active);
	p[20] = p[21] = p[22] = p[23] = DB_I64(f->status);
	p[24] = DB_I64(limit);
	if ((r = db_query(db, &ca_admin_stmts[CA_LIST], p, CA_LIST_PARAMS,
			  &res)) != 0)
		return r;
	rows = db_result_rows(res);
	if (rows > 0 && (list = calloc(rows, sizeof(*list))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < rows; i++)
		if ((r = db_ca_from_row(res, i, &list[i])) != 0)
			goto out;
	*out = list;
	*n = rows;
	list = NULL;
	r = 0;
out:
	db_ca_list_free(list, i);
	db_result_free(res);
	return r;
}

/* An UPDATE or DELETE of one row by id: EST_E_NOTFOUND when none. */
static int
ca_exec_one(struct db *db, const struct db_stmt_def *def,
	    const struct db_param *p, size_t n)
{
	uint64_t affected = 0;
	int r;

	if ((r = db_exec(db, def, p, n, &affected, NULL)) != 0)
		return r;
	return affected == 0 ? EST_E_NOTFOUND : 0;
}

int
db_ca_update(struct db *db, int64_t id, const char *name,
	     const char *description, int crl_period_hours)
{
	struct db_param p[4];

	if (name == NULL || crl_period_hours < 1 ||
	    crl_period_hours > DB_CA_CRL_PERIOD_MAX)
		return EST_E_INVAL;
	p[0] = DB_STR(name);
	p[1] = DB_STR(description);
	p[2] = DB_I64(crl_period_hours);
	p[3] = DB_I64(id);
	return ca_exec_one(db, &ca_admin_stmts[CA_UPDATE], p, 4);
}

int
db_ca_set_active(struct db *db, int64_t id, int active)
{
	struct db_param p[2];

	p[0] = DB_I64(active ? 1 : 0);
	p[1] = DB_I64(id);
	return ca_exec_one(db, &ca_admin_stmts[CA_SET_ACTIVE], p, 2);
}

int
db_ca_set_urls(struct db *db, int64_t id, const char *crl_url,
	       const char *ocsp_url, const char *ca_issuers_url)
{
	struct db_param p[4];

	p[0] = DB_STR(crl_url);
	p[1] = DB_STR(ocsp_url);
	p[2] = DB_STR(ca_issuers_url);
	p[3] = DB_I64(id);
	return ca_exec_one(db, &ca_admin_stmts[CA_SET_URLS], p, 4);
}

int
db_ca_set_cert(struct db *db, int64_t id, const uint8_t *der, size_t len,
	       const char *chain_pem)
{
	struct db_param p[CA_SET_CERT_PARAMS];
	struct db_result *res = NULL;
	struct ca_cert_info ci;
	uint64_t affected = 0;
	int r;

	if (der == NULL || len == 0)
		return EST_E_INVAL;
	if ((r = db_ca_cert_parse(der, len, &ci)) != 0)
		return r;
	p[0] = DB_BLOB(der, len);
	p[1] = DB_BLOB(ci.fingerprint, sizeof(ci.fingerprint));
	p[2] = DB_BLOB(ci.serial, ci.serial_len);
	p[3] = DB_STRN(ci.not_before, strlen(ci.not_before));
	p[4] = DB_STRN(ci.not_after, strlen(ci.not_after));
	p[5] = DB_BLOB(ci.subject_der, (size_t)ci.subject_der_len);
	p[6] = DB_BLOB(ci.subject_hash, sizeof(ci.subject_hash));
	p[7] = ci.ski_len > 0 ? DB_BLOB(ci.ski, ci.ski_len) : DB_NULL;
	p[8] = ci.path_len >= 0 ? DB_I64(ci.path_len) : DB_NULL;
	p[9] = DB_I64(ci.key_usage);
	p[10] = DB_STR(chain_pem);
	p[11] = DB_I64(id);
	r = db_exec(db, &ca_admin_stmts[CA_SET_CERT], p, CA_SET_CERT_PARAMS,
		    &affected, NULL);
	db_ca_cert_info_clear(&ci);
	if (r != 0 || affected > 0)
		return r;
	/* Nothing matched: no such CA, or one with a certificate already. */
	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &ca_admin_stmts[CA_EXISTS], p, 1, &res)) != 0)
		return r;
	db_result_free(res);
	return EST_E_CONFLICT;
}

int
db_ca_delete(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return ca_exec_one(db, &ca_admin_stmts[CA_DELETE], p, 1);
}
