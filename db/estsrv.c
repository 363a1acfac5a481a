/*
 * EST servers: the model (names, domain and label syntax), reading one
 * server with its children, lists, and labels.  The writers are in
 * estsrv_write.c, estuary-est's lookup in estsrv_route.c.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "estsrv.h"
#include "perm.h"

/* The columns of a server row, in the order srv_from_row reads. */
#define SRV_COLUMNS                                                            \
	"s.id, s.domain, s.description, s.tenant_id, s.org_id, s.kind,"        \
	" s.device_type_id, s.server_keygen, s.auth_device_password,"          \
	" s.auth_factory_cert, s.auth_app_key, s.auth_app_cert, s.active,"     \
	" s.created_by_user_id,"                                               \
	" DATE_FORMAT(s.created_at, '%Y-%m-%d %H:%i:%s.%f'),"                  \
	" DATE_FORMAT(s.updated_at, '%Y-%m-%d %H:%i:%s.%f'),"                  \
	" (SELECT COUNT(*) FROM est_labels l WHERE l.server_id = s.id)"

enum srv_col {
	C_ID = 0,
	C_DOMAIN,
	C_DESC,
	C_TENANT,
	C_ORG,
	C_KIND,
	C_DEVTYPE,
	C_KEYGEN,
	C_AUTH_PW,
	C_AUTH_FACTORY,
	C_AUTH_APPKEY,
	C_AUTH_APPCERT,
	C_ACTIVE,
	C_CREATOR,
	C_CREATED,
	C_UPDATED,
	C_NLABELS,
};

/* The list's filters, in the order db_estsrv_list binds them. */
#define SRV_LIST_WHERE                                                         \
	" WHERE s.id > ?"                                                      \
	" AND (? = 0 OR (s.tenant_id = ? AND (? = 0 OR s.org_id = ?)))"        \
	" AND (? = 0 OR s.tenant_id = ?)"                                      \
	" AND (? = 0 OR s.org_id = ?)"                                         \
	" AND (? IS NULL OR s.kind = ?)"                                       \
	" AND (? < 0 OR s.active = ?)"                                         \
	" AND (? IS NULL OR s.domain = ?)"                                     \
	" AND (? = 0 OR s.device_type_id = ? OR EXISTS (SELECT 1"              \
	" FROM est_labels x WHERE x.server_id = s.id"                          \
	" AND x.device_type_id = ?))"
#define SRV_LIST_NPARAMS 18

#define LABEL_COLUMNS                                                          \
	"id, server_id, label, device_type_id, template_id,"                   \
	" DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f')"

static const struct db_stmt_def srv_stmts[] = {
#define S_GET 0
	{"estsrv_get",
	 "SELECT " SRV_COLUMNS " FROM est_servers s WHERE s.id = ?", 1},
#define S_GET_LOCK 1
	{"estsrv_get_lock",
	 "SELECT " SRV_COLUMNS " FROM est_servers s WHERE s.id = ? FOR UPDATE",
	 1},
#define S_LIST 2
	{"estsrv_list",
	 "SELECT " SRV_COLUMNS " FROM est_servers s" SRV_LIST_WHERE
	 " ORDER BY s.id LIMIT ?",
	 SRV_LIST_NPARAMS + 1},
#define S_IPS 3
	{"estsrv_ip_allow",
	 "SELECT server_id, entry, start_addr, end_addr"
	 " FROM est_server_ip_allow WHERE server_id BETWEEN ? AND ?"
	 " ORDER BY server_id, position",
	 2},
#define S_TMPLS 4
	{"estsrv_templates",
	 "SELECT server_id, template_id, is_default"
	 " FROM est_server_templates WHERE server_id BETWEEN ? AND ?"
	 " ORDER BY server_id, position",
	 2},
#define S_APPS 5
	{"estsrv_apps",
	 "SELECT server_id, app_id FROM est_server_apps"
	 " WHERE server_id BETWEEN ? AND ? ORDER BY server_id, app_id",
	 2},
#define S_LABELS 6
	{"estsrv_labels",
	 "SELECT " LABEL_COLUMNS " FROM est_labels WHERE server_id = ?"
	 " ORDER BY label",
	 1},
#define S_LABEL_GET 7
	{"estsrv_label_get",
	 "SELECT " LABEL_COLUMNS " FROM est_labels"
	 " WHERE server_id = ? AND id = ?",
	 2},
#define S_REF_DEVTYPE 8
	{"estsrv_ref_devtype",
	 "SELECT scope, tenant_id, org_id, active FROM device_types"
	 " WHERE id = ? LOCK IN SHARE MODE",
	 1},
#define S_REF_TEMPLATE 9
	{"estsrv_ref_template",
	 "SELECT scope, tenant_id, org_id, active FROM cert_templates"
	 " WHERE id = ? LOCK IN SHARE MODE",
	 1},
#define S_REF_APP 10
	{"estsrv_ref_app",
	 "SELECT IF(org_id IS NULL, 'tenant', 'organization'), tenant_id,"
	 " org_id, active AND revoked_at IS NULL"
	 " AND (expires_at IS NULL OR expires_at > CURRENT_TIMESTAMP(6))"
	 " FROM api_applications WHERE id = ? LOCK IN SHARE MODE",
	 1},
};

static const char *const kind_names[] = {
	[ESTSRV_KIND_DPS] = "dps",
	[ESTSRV_KIND_CMS] = "cms",
};

const char *
estsrv_kind_name(enum estsrv_kind k)
{
	if ((int)k < ESTSRV_KIND_DPS || (int)k > ESTSRV_KIND_CMS)
		return NULL;
	return kind_names[k];
}

int
estsrv_kind_value(const char *s, enum estsrv_kind *k)
{
	if (s == NULL)
		return EST_E_INVAL;
	if (strcmp(s, "dps") == 0)
		*k = ESTSRV_KIND_DPS;
	else if (strcmp(s, "cms") == 0)
		*k = ESTSRV_KIND_CMS;
	else
		return EST_E_INVAL;
	return 0;
}

int
estsrv_domain_check(const char *s, char *out)
{
	char buf[ESTSRV_DOMAIN_MAX + 1];
	size_t n, i, lab = 0, nlabels = 0, last = 0;
	int digits = 1;

	if (s == NULL || (n = strlen(s)) == 0 || n > ESTSRV_DOMAIN_MAX)
		return EST_E_UNPROCESSABLE;
	for (i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' || c == '\0') {
			/* An empty label: leading, doubled or trailing dot. */
			if (lab == 0 || lab > 63 || s[i - 1] == '-')
				return EST_E_UNPROCESSABLE;
			nlabels++;
			last = i - lab;
			lab = 0;
			if (c == '\0')
				break;
			buf[i] = '.';
			continue;
		}
		if (!isascii(c) || (!isalnum(c) && c != '-'))
			return EST_E_UNPROCESSABLE;
		if (lab == 0 && c == '-')
			return EST_E_UNPROCESSABLE;
		buf[i] = (char)tolower(c);
		lab++;
	}
	buf[n] = '\0';
	if (nlabels < 2)
		return EST_E_UNPROCESSABLE;
	/* The top-level label is never all digits: no IPv4 literal passes. */
	for (i = last; i < n; i++)
		if (!isdigit((unsigned char)buf[i]))
			digits = 0;
	if (digits)
		return EST_E_UNPROCESSABLE;
	if (out != NULL)
		memcpy(out, buf, n + 1);
	return 0;
}

int
estsrv_label_check(const char *s)
{
	size_t n, i;

	if (s == NULL)
		return EST_E_UNPROCESSABLE;
	n = strlen(s);
	if (n < ESTSRV_LABEL_MIN || n > ESTSRV_LABEL_MAX)
		return EST_E_UNPROCESSABLE;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return EST_E_UNPROCESSABLE;
	return 0;
}

struct estsrv *
estsrv_new(void)
{
	return calloc(1, sizeof(struct estsrv));
}

void
estsrv_free(struct estsrv *s)
{
	if (s == NULL)
		return;
	free(s->domain);
	free(s->description);
	free(s->created_at);
	free(s->updated_at);
	free(s->ip_allow);
	free(s->templates);
	free(s->app_ids);
	free(s);
}

void
estsrv_label_free(struct estsrv_label *l)
{
	if (l == NULL)
		return;
	free(l->created_at);
	l->created_at = NULL;
}

/* A copy of a column, NULL for SQL NULL; *nomem set when copying failed. */
static char *
col_dup(const struct db_result *res, size_t row, size_t col, int *nomem)
{
	const char *s = db_result_str(res, row, col, NULL);
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*nomem = 1;
	return d;
}

static int
col_bool(const struct db_result *res, size_t row, size_t col)
{
	return db_result_i64(res, row, col) != 0;
}

static int
srv_from_row(const struct db_result *res, size_t row, struct estsrv **out)
{
	struct estsrv *s;
	int nomem = 0, r = 0;

	if ((s = estsrv_new()) == NULL)
		return EST_E_NOMEM;
	s->id = db_result_i64(res, row, C_ID);
	s->domain = col_dup(res, row, C_DOMAIN, &nomem);
	s->description = col_dup(res, row, C_DESC, &nomem);
	s->tenant_id = db_result_i64(res, row, C_TENANT);
	s->org_id = db_result_i64(res, row, C_ORG);
	s->device_type_id = db_result_i64(res, row, C_DEVTYPE);
	s->server_keygen = col_bool(res, row, C_KEYGEN);
	s->auth_device_password = col_bool(res, row, C_AUTH_PW);
	s->auth_factory_cert = col_bool(res, row, C_AUTH_FACTORY);
	s->auth_app_key = col_bool(res, row, C_AUTH_APPKEY);
	s->auth_app_cert = col_bool(res, row, C_AUTH_APPCERT);
	s->active = col_bool(res, row, C_ACTIVE);
	s->created_by = db_result_i64(res, row, C_CREATOR);
	s->created_at = col_dup(res, row, C_CREATED, &nomem);
	s->updated_at = col_dup(res, row, C_UPDATED, &nomem);
	s->nlabels = (size_t)db_result_i64(res, row, C_NLABELS);
	if (nomem)
		r = EST_E_NOMEM;
	else if (s->domain == NULL || s->created_at == NULL ||
		 s->updated_at == NULL ||
		 estsrv_kind_value(db_result_str(res, row, C_KIND, NULL),
				   &s->kind) != 0)
		r = EST_E_INTERNAL;
	if (r != 0) {
		estsrv_free(s);
		return r;
	}
	*out = s;
	return 0;
}

/*
 * The rows of res for list[i] (server id in column 0, rows ordered by
 * server): [*j, end).  Rows of lower ids belong to servers the filter
 * left out.
 */
static size_t
rows_of(const struct db_result *res, int64_t id, size_t *j)
{
	size_t rows = db_result_rows(res), k;

	while (*j < rows && db_result_i64(res, *j, 0) < id)
		(*j)++;
	for (k = *j; k < rows && db_result_i64(res, k, 0) == id; k++)
		;
	return k;
}

static int
attach_ips(struct estsrv **list, size_t n, const struct db_result *res)
{
	size_t i, j = 0, k, alen, blen;
	struct estsrv_ip *ip;
	const char *a, *b, *e;

	for (i = 0; i < n; i++) {
		struct estsrv *s = list[i];

		if ((k = rows_of(res, s->id, &j)) == j)
			continue;
		if ((s->ip_allow = calloc(k - j, sizeof(*s->ip_allow))) == NULL)
			return EST_E_NOMEM;
		for (; j < k; j++) {
			ip = &s->ip_allow[s->nip_allow++];
			e = db_result_str(res, j, 1, NULL);
			a = db_result_str(res, j, 2, &alen);
			b = db_result_str(res, j, 3, &blen);
			if (e == NULL || strlen(e) >= sizeof(ip->entry) ||
			    a == NULL || b == NULL || alen != blen ||
			    (alen != 4 && alen != 16))
				return EST_E_INTERNAL;
			memcpy(ip->entry, e, strlen(e) + 1);
			ip->range.len = (uint8_t)alen;
			memcpy(ip->range.start, a, alen);
			memcpy(ip->range.end, b, blen);
		}
	}
	return 0;
}

static int
attach_tmpls(struct estsrv **list, size_t n, const struct db_result *res)
{
	size_t i, j = 0, k;

	for (i = 0; i < n; i++) {
		struct estsrv *s = list[i];

		if ((k = rows_of(res, s->id, &j)) == j)
			continue;
		if ((s->templates = calloc(k - j, sizeof(*s->templates))) ==
		    NULL)
			return EST_E_NOMEM;
		for (; j < k; j++) {
			struct estsrv_tmpl *t = &s->templates[s->ntemplates++];

			t->template_id = db_result_i64(res, j, 1);
			t->is_default = col_bool(res, j, 2);
		}
	}
	return 0;
}

static int
attach_apps(struct estsrv **list, size_t n, const struct db_result *res)
{
	size_t i, j = 0, k;

	for (i = 0; i < n; i++) {
		struct estsrv *s = list[i];

		if ((k = rows_of(res, s->id, &j)) == j)
			continue;
		if ((s->app_ids = calloc(k - j, sizeof(*s->app_ids))) == NULL)
			return EST_E_NOMEM;
		for (; j < k; j++)
			s->app_ids[s->napps++] = db_result_i64(res, j, 1);
	}
	return 0;
}

/* The children of the servers of list (ordered by id). */
static int
load_children(struct db *db, struct estsrv **list, size_t n)
{
	int (*const attach[])(struct estsrv **, size_t,
			      const struct db_result *) = {
		attach_ips, attach_tmpls, attach_apps};
	const int stmt[] = {S_IPS, S_TMPLS, S_APPS};
	struct db_result *res = NULL;
	struct db_param p[2];
	size_t i;
	int r = 0;

	if (n == 0)
		return 0;
	p[0] = DB_I64(list[0]->id);
	p[1] = DB_I64(list[n - 1]->id);
	for (i = 0; i < 3 && r == 0; i++) {
		if ((r = db_query(db, &srv_stmts[stmt[i]], p, 2, &res)) != 0)
			break;
		r = attach[i](list, n, res);
		db_result_free(res);
		res = NULL;
	}
	return r;
}

int
db_estsrv_get(struct db *db, int64_t id, int lock, struct estsrv **out)
{
	struct db_result *res = NULL;
	struct estsrv *s = NULL;
	struct db_param p[1];
	int r;

	if (id <= 0)
		return EST_E_NOTFOUND;
	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &srv_stmts[lock ? S_GET_LOCK : S_GET], p, 1,
			      &res)) != 0)
		return r;
	r = srv_from_row(res, 0, &s);
	db_result_free(res);
	if (r != 0 || (r = load_children(db, &s, 1)) != 0) {
		estsrv_free(s);
		return r;
	}
	*out = s;
	return 0;
}

void
db_estsrv_list_free(struct estsrv **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		estsrv_free(list[i]);
	free(list);
}

int
db_estsrv_list(struct db *db, const struct db_estsrv_filter *f,
	       int64_t after_id, size_t limit, struct estsrv ***out, size_t *n)
{
	struct db_param p[SRV_LIST_NPARAMS + 1];
	struct db_result *res = NULL;
	struct estsrv **list = NULL;
	const char *kind = NULL;
	size_t rows, i, got = 0;
	int r;

	if (limit == 0 || after_id < 0 || f->scope_tenant < 0 ||
	    f->scope_org < 0 || f->tenant_id < 0 || f->org_id < 0 ||
	    f->device_type_id < 0)
		return EST_E_INVAL;
	if (f->kind != 0 &&
	    (kind = estsrv_kind_name((enum estsrv_kind)f->kind)) == NULL)
		return EST_E_INVAL;
	p[0] = DB_I64(after_id);
	p[1] = p[2] = DB_I64(f->scope_tenant);
	p[3] = p[4] = DB_I64(f->scope_org);
	p[5] = p[6] = DB_I64(f->tenant_id);
	p[7] = p[8] = DB_I64(f->org_id);
	p[9] = p[10] = DB_STR(kind);
	p[11] = p[12] = DB_I64(f->active);
	p[13] = p[14] = DB_STR(f->domain);
	p[15] = p[16] = p[17] = DB_I64(f->device_type_id);
	p[18] = DB_I64(limit);
	if ((r = db_query(db, &srv_stmts[S_LIST], p, SRV_LIST_NPARAMS + 1,
			  &res)) != 0)
		return r;
	rows = db_result_rows(res);
	if (rows > 0 && (list = calloc(rows, sizeof(*list))) == NULL)
		r = EST_E_NOMEM;
	for (i = 0; i < rows && r == 0; i++)
		if ((r = srv_from_row(res, i, &list[i])) == 0)
			got++;
	db_result_free(res);
	if (r == 0)
		r = load_children(db, list, got);
	if (r != 0) {
		db_estsrv_list_free(list, got);
		return r;
	}
	*out = list;
	*n = got;
	return 0;
}

static int
label_from_row(const struct db_result *res, size_t row, struct estsrv_label *l)
{
	const char *s = db_result_str(res, row, 2, NULL);
	int nomem = 0;

	memset(l, 0, sizeof(*l));
	if (s == NULL || strlen(s) > ESTSRV_LABEL_MAX)
		return EST_E_INTERNAL;
	l->id = db_result_i64(res, row, 0);
	l->server_id = db_result_i64(res, row, 1);
	memcpy(l->label, s, strlen(s) + 1);
	l->device_type_id = db_result_i64(res, row, 3);
	l->template_id = db_result_i64(res, row, 4);
	l->created_at = col_dup(res, row, 5, &nomem);
	if (nomem)
		return EST_E_NOMEM;
	return l->created_at == NULL ? EST_E_INTERNAL : 0;
}

void
db_estsrv_labels_free(struct estsrv_label *l, size_t n)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < n; i++)
		estsrv_label_free(&l[i]);
	free(l);
}

int
db_estsrv_labels(struct db *db, int64_t server_id, struct estsrv_label **out,
		 size_t *n)
{
	struct db_result *res = NULL;
	struct estsrv_label *l = NULL;
	struct db_param p[1];
	size_t rows, i, got = 0;
	int r;

	p[0] = DB_I64(server_id);
	if ((r = db_query(db, &srv_stmts[S_LABELS], p, 1, &res)) != 0)
		return r;
	rows = db_result_rows(res);
	if (rows > 0 && (l = calloc(rows, sizeof(*l))) == NULL)
		r = EST_E_NOMEM;
	for (i = 0; i < rows && r == 0; i++)
		if ((r = label_from_row(res, i, &l[i])) == 0)
			got++;
	db_result_free(res);
	if (r != 0) {
		db_estsrv_labels_free(l, got);
		return r;
	}
	*out = l;
	*n = got;
	return 0;
}

int
db_estsrv_label_get(struct db *db, int64_t server_id, int64_t id,
		    struct estsrv_label *out)
{
	struct db_result *res = NULL;
	struct estsrv_label l;
	struct db_param p[2];
	int r;

	p[0] = DB_I64(server_id);
	p[1] = DB_I64(id);
	if ((r = db_query_one(db, &srv_stmts[S_LABEL_GET], p, 2, &res)) != 0)
		return r;
	r = label_from_row(res, 0, &l);
	db_result_free(res);
	if (r != 0) {
		estsrv_label_free(&l);
		return r;
	}
	*out = l;
	return 0;
}

static int
ref_get(struct db *db, int stmt, int64_t id, struct estsrv_ref *out)
{
	struct db_result *res = NULL;
	struct estsrv_ref ref;
	enum perm_scope scope;
	struct db_param p[1];
	int r;

	if (id <= 0)
		return EST_E_NOTFOUND;
	p[0] = DB_I64(id);
	if ((r = db_query_one(db, &srv_stmts[stmt], p, 1, &res)) != 0)
		return r;
	memset(&ref, 0, sizeof(ref));
	if (perm_scope_from_name(db_result_str(res, 0, 0, NULL), &scope) != 0)
		r = EST_E_INTERNAL;
	ref.scope = (int)scope;
	ref.tenant_id = db_result_i64(res, 0, 1);
	ref.org_id = db_result_i64(res, 0, 2);
	ref.active = col_bool(res, 0, 3);
	db_result_free(res);
	if (r == 0)
		*out = ref;
	return r;
}

int
db_estsrv_devtype_ref(struct db *db, int64_t id, struct estsrv_ref *out)
{
	return ref_get(db, S_REF_DEVTYPE, id, out);
}

int
db_estsrv_template_ref(struct db *db, int64_t id, struct estsrv_ref *out)
{
	return ref_get(db, S_REF_TEMPLATE, id, out);
}

int
db_estsrv_app_ref(struct db *db, int64_t id, struct estsrv_ref *out)
{
	return ref_get(db, S_REF_APP, id, out);
}

int
estsrv_ref_visible(const struct estsrv_ref *ref, int64_t tenant_id,
		   int64_t org_id)
{
	switch (ref->scope) {
	case PERM_SCOPE_GLOBAL:
		return 1;
	case PERM_SCOPE_TENANT:
		return ref->tenant_id == tenant_id;
	case PERM_SCOPE_ORG:
		return ref->tenant_id == tenant_id && ref->org_id == org_id;
	default:
		return 0;
	}
}
