/*
 * estuary-est's lookup: which active EST server (and label) serves a
 * request for a host name, with what it needs to decide (db/estsrv.h).
 * It runs on every EST request, so it reads indexed statements only and
 * writes nothing: the server row (by est_labels_label or
 * est_servers_domain), then the server's IP allow list, templates and
 * applications in one UNION by their primary or unique keys.
 *
 * The server row comes with the versions of what estuary-est keeps per
 * thread (fcgi/est_cache.c): the server's updated_at (every writer of
 * the server, its children and its labels moves it) with the number of
 * its applications (deleting an application removes its rows here by
 * the foreign key's cascade, which moves nothing), and for a dps route
 * the device type's updated_at and active flag and its external CA's
 * live flags and fingerprint, by primary keys in the same statement.  A
 * caller that holds the children for that server version skips the
 * second statement (db_est_route_row(), est_route_children_copy()).
 *
 * The first statement also reads the API application that the request's
 * HTTP Basic user or its TLS client certificate names, if any (LEFT
 * JOINed by its unique AppID or certificate fingerprint), so that
 * authenticating an application costs no statement of its own; and the
 * stamp of the template that the route issues from by default (struct
 * est_route_stamp), so that the issuing cache needs none either.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apiapp.h"
#include "db.h"
#include "err.h"
#include "estsrv.h"

#define ROUTE_COLUMNS                                                          \
	"s.id, s.tenant_id, s.org_id, s.kind, s.device_type_id,"               \
	" s.server_keygen, s.auth_device_password, s.auth_factory_cert,"       \
	" s.auth_app_key, s.auth_app_cert, s.domain"

enum route_col {
	R_ID = 0,
	R_TENANT,
	R_ORG,
	R_KIND,
	R_DEVTYPE,
	R_KEYGEN,
	R_AUTH_PW,
	R_AUTH_FACTORY,
	R_AUTH_APPKEY,
	R_AUTH_APPCERT,
	R_DOMAIN,
	R_LABEL_ID,
	R_LABEL,
	R_LABEL_DEVTYPE,
	R_LABEL_TEMPLATE,
	R_SRV_STAMP,
	R_DT_STAMP,
	R_DT_ACTIVE,
	R_X_ID,
	R_X_ACTIVE,
	R_X_VERIFIED,
	R_X_ORG,
	R_X_FP,
	R_TMPL_ID,
	R_TMPL_STAMP, /* TMPL_STAMP_NCOLS - 1 columns (no extensions) */
	R_APP = R_TMPL_STAMP + TMPL_STAMP_NCOLS - 1, /* APIAPP_NCOLS columns
							of the application,
							NULL for none */
};

/*
 * The versions (struct est_route_stamp) after the route's columns, from
 * the device type dt and its external CA x, both LEFT JOINed.
 */
#define STAMP_COLUMNS                                                          \
	" CONCAT(DATE_FORMAT(s.updated_at, '%Y-%m-%d %H:%i:%s.%f'), '/',"      \
	" (SELECT COUNT(*) FROM est_server_apps sa"                            \
	" WHERE sa.server_id = s.id)),"                                        \
	" DATE_FORMAT(dt.updated_at, '%Y-%m-%d %H:%i:%s.%f'), dt.active,"      \
	" x.id, x.active, x.status = 'verified', x.org_id, x.fingerprint"
#define STAMP_JOIN_X " LEFT JOIN external_cas x ON x.id = dt.external_ca_id"
/*
 * The default template tt of the route (see est_route_stamp) and its CA
 * tc: a label's (lt, l.template_id for a cms label, NULL otherwise), a cms
 * server's default, a dps type's default operational template; all by
 * unique keys.
 */
#define TMPL_COLUMNS " tt.id," TMPL_STAMP_BASE(tt, tc)
#define TMPL_JOIN(lt)                                                          \
	" LEFT JOIN device_type_op_templates dot ON dot.default_key = dt.id"   \
	" LEFT JOIN est_server_templates sdt"                                  \
	" ON s.kind = 'cms' AND sdt.default_key = s.id"                        \
	" LEFT JOIN cert_templates tt"                                         \
	" ON tt.id = COALESCE(" lt ", sdt.template_id, dot.template_id)"       \
	" LEFT JOIN cas tc ON tc.id = tt.ca_id"
/*
 * The application of the AppID or certificate fingerprint given (the
 * first parameter), if any.
 */
#define APP_JOIN(col)                                                          \
	" LEFT JOIN api_applications a ON a." col " = ?" APIAPP_LEFT_JOINS
#define WHERE_LABEL " WHERE l.domain = ? AND l.label = ? AND s.active = 1"
#define WHERE_DOMAIN " WHERE s.domain = ? AND s.active = 1 LIMIT 2"
#define BY_LABEL(col)                                                          \
	"SELECT " ROUTE_COLUMNS ", l.id, l.label, l.device_type_id,"           \
	" l.template_id," STAMP_COLUMNS "," TMPL_COLUMNS ", " APIAPP_COLUMNS   \
	" FROM est_labels l"                                                   \
	" JOIN est_servers s ON s.id = l.server_id"                            \
	" LEFT JOIN device_types dt"                                           \
	" ON s.kind = 'dps' AND dt.id = l.device_type_id" STAMP_JOIN_X         \
		TMPL_JOIN("l.template_id") APP_JOIN(col) WHERE_LABEL
/* Two rows are enough to tell "one" from "ambiguous". */
#define BY_DOMAIN(col)                                                         \
	"SELECT " ROUTE_COLUMNS ", NULL, NULL, NULL, NULL," STAMP_COLUMNS      \
	"," TMPL_COLUMNS ", " APIAPP_COLUMNS                                   \
	" FROM est_servers s LEFT JOIN device_types dt"                        \
	" ON s.kind = 'dps' AND dt.id = s.device_type_id" STAMP_JOIN_X         \
		TMPL_JOIN("NULL") APP_JOIN(col) WHERE_DOMAIN

/* Kinds of the children's rows (the first column of R_CHILDREN). */
#define CH_IP 1
#define CH_TMPL 2
#define CH_APP 3

/* R_BY_LABEL and R_BY_DOMAIN, with the application by AppID, + R_BY_FP */
static const struct db_stmt_def route_stmts[] = {
#define R_BY_LABEL 0
	{"est_route_label", BY_LABEL("app_id"), 3},
#define R_BY_DOMAIN 1
	{"est_route_domain", BY_DOMAIN("app_id"), 2},
#define R_BY_FP 2
	{"est_route_label_fp", BY_LABEL("cert_fingerprint"), 3},
	{"est_route_domain_fp", BY_DOMAIN("cert_fingerprint"), 2},
#define R_CHILDREN 4
	{"est_route_children",
	 "SELECT 1 AS k, position AS pos, start_addr AS a, end_addr AS b,"
	 " NULL AS ref, NULL AS flag"
	 " FROM est_server_ip_allow WHERE server_id = ?"
	 " UNION ALL SELECT 2, position, NULL, NULL, template_id, is_default"
	 " FROM est_server_templates WHERE server_id = ?"
	 " UNION ALL SELECT 3, 0, NULL, NULL, app_id, NULL"
	 " FROM est_server_apps WHERE server_id = ?"
	 " ORDER BY k, pos, ref",
	 3},
};

void
est_route_free(struct est_route *r)
{
	if (r == NULL)
		return;
	free(r->template_ids);
	free(r->ip_allow);
	free(r->app_ids);
	free(r);
}

static int
route_from_row(const struct db_result *res, struct est_route *rt)
{
	const char *dom = db_result_str(res, 0, R_DOMAIN, NULL);
	const char *lab = db_result_str(res, 0, R_LABEL, NULL);

	rt->server_id = db_result_i64(res, 0, R_ID);
	rt->tenant_id = db_result_i64(res, 0, R_TENANT);
	rt->org_id = db_result_i64(res, 0, R_ORG);
	if (estsrv_kind_value(db_result_str(res, 0, R_KIND, NULL), &rt->kind) !=
		    0 ||
	    dom == NULL || strlen(dom) > ESTSRV_DOMAIN_MAX ||
	    (lab != NULL && strlen(lab) > ESTSRV_LABEL_MAX))
		return EST_E_INTERNAL;
	memcpy(rt->domain, dom, strlen(dom) + 1);
	rt->server_keygen = db_result_i64(res, 0, R_KEYGEN) != 0;
	rt->auth_device_password = db_result_i64(res, 0, R_AUTH_PW) != 0;
	rt->auth_factory_cert = db_result_i64(res, 0, R_AUTH_FACTORY) != 0;
	rt->auth_app_key = db_result_i64(res, 0, R_AUTH_APPKEY) != 0;
	rt->auth_app_cert = db_result_i64(res, 0, R_AUTH_APPCERT) != 0;
	if (rt->kind == ESTSRV_KIND_DPS)
		rt->device_type_id = db_result_i64(res, 0, R_DEVTYPE);
	if (lab != NULL) {
		memcpy(rt->label, lab, strlen(lab) + 1);
		rt->label_id = db_result_i64(res, 0, R_LABEL_ID);
		if (rt->kind == ESTSRV_KIND_DPS)
			rt->device_type_id =
				db_result_i64(res, 0, R_LABEL_DEVTYPE);
		else
			rt->default_template_id =
				db_result_i64(res, 0, R_LABEL_TEMPLATE);
	}
	return 0;
}

/* Fills the arrays of rt from the children's rows. */
static int
route_children(const struct db_result *res, struct est_route *rt)
{
	size_t rows = db_result_rows(res), i, alen, blen;
	const char *a, *b;

	if (rows > 0 &&
	    ((rt->ip_allow = calloc(rows, sizeof(*rt->ip_allow))) == NULL ||
	     (rt->template_ids = calloc(rows + 1, sizeof(int64_t))) == NULL ||
	     (rt->app_ids = calloc(rows, sizeof(int64_t))) == NULL))
		return EST_E_NOMEM;
	for (i = 0; i < rows; i++) {
		switch (db_result_i64(res, i, 0)) {
		case CH_IP:
			a = db_result_str(res, i, 2, &alen);
			b = db_result_str(res, i, 3, &blen);
			if (a == NULL || b == NULL || alen != blen ||
			    (alen != 4 && alen != 16))
				return EST_E_INTERNAL;
			rt->ip_allow[rt->nip_allow].len = (uint8_t)alen;
			memcpy(rt->ip_allow[rt->nip_allow].start, a, alen);
			memcpy(rt->ip_allow[rt->nip_allow].end, b, blen);
			rt->nip_allow++;
			break;
		case CH_TMPL:
			/* A label narrows a cms server to its template. */
			if (rt->kind != ESTSRV_KIND_CMS || rt->label_id != 0)
				break;
			rt->template_ids[rt->ntemplates++] =
				db_result_i64(res, i, 4);
			if (db_result_i64(res, i, 5) != 0)
				rt->default_template_id =
					db_result_i64(res, i, 4);
			break;
		case CH_APP:
			rt->app_ids[rt->napps++] = db_result_i64(res, i, 4);
			break;
		default:
			return EST_E_INTERNAL;
		}
	}
	return 0;
}

/* A stamp column as text into dst (size n); "" when NULL. */
static int
stamp_str(const struct db_result *res, size_t col, char *dst, size_t n)
{
	const char *v;
	size_t len = 0;

	dst[0] = '\0';
	if ((v = db_result_str(res, 0, col, &len)) == NULL)
		return 0;
	if (len >= n)
		return EST_E_INTERNAL;
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

static int
stamp_from_row(const struct db_result *res, struct est_route_stamp *st)
{
	const char *fp;
	size_t len = 0;
	int r;

	memset(st, 0, sizeof(*st));
	if ((r = stamp_str(res, R_SRV_STAMP, st->server, sizeof(st->server))) !=
		    0 ||
	    (r = stamp_str(res, R_DT_STAMP, st->devtype,
			   sizeof(st->devtype))) != 0)
		return r;
	if (st->server[0] == '\0')
		return EST_E_INTERNAL;
	st->devtype_active = db_result_i64(res, 0, R_DT_ACTIVE) != 0;
	if (db_result_isnull(res, 0, R_X_ID))
		return 0;
	st->extca_id = db_result_i64(res, 0, R_X_ID);
	st->extca_active = db_result_i64(res, 0, R_X_ACTIVE) != 0;
	st->extca_verified = db_result_i64(res, 0, R_X_VERIFIED) != 0;
	st->extca_org_id = db_result_isnull(res, 0, R_X_ORG)
				   ? 0
				   : db_result_i64(res, 0, R_X_ORG);
	fp = db_result_str(res, 0, R_X_FP, &len);
	if (fp == NULL || len != sizeof(st->extca_fp))
		return EST_E_INTERNAL;
	memcpy(st->extca_fp, fp, len);
	return 0;
}

/* The default template's id and stamp; none when the route has none. */
static int
tmpl_stamp_from_row(const struct db_result *res, struct est_route_stamp *st)
{
	int r;

	st->tmpl_id = 0;
	memset(&st->tmpl, 0, sizeof(st->tmpl));
	if (db_result_isnull(res, 0, R_TMPL_ID))
		return 0;
	if ((r = db_template_stamp_from_row(res, R_TMPL_STAMP, 0, &st->tmpl)) !=
	    0)
		return r;
	st->tmpl_id = db_result_i64(res, 0, R_TMPL_ID);
	return 0;
}

/* With a label, a cms server issues from the label's template only. */
static int
route_label_template(struct est_route *rt)
{
	if (rt->kind != ESTSRV_KIND_CMS || rt->label_id == 0)
		return 0;
	if (rt->template_ids == NULL &&
	    (rt->template_ids = calloc(1, sizeof(int64_t))) == NULL)
		return EST_E_NOMEM;
	rt->template_ids[0] = rt->default_template_id;
	rt->ntemplates = 1;
	return 0;
}

int
db_est_route_row(struct db *db, const char *host, const char *label,
		 const struct est_route_app *key, struct est_route **out,
		 struct est_route_stamp *st, struct db_apiapp **app)
{
	char domain[ESTSRV_DOMAIN_MAX + 1];
	struct db_apiapp *a = NULL;
	struct db_result *res = NULL;
	struct est_route *rt = NULL;
	struct est_route_stamp s;
	struct db_param p[3];
	size_t by = 0; /* R_BY_FP for the fingerprint's statements */
	int r;

	if (db == NULL || out == NULL)
		return EST_E_INVAL;
	if (app != NULL)
		*app = NULL;
	if (label != NULL && *label == '\0')
		label = NULL;
	/* A name no server can have is not worth a query. */
	if (estsrv_domain_check(host, domain) != 0 ||
	    (label != NULL && estsrv_label_check(label) != 0))
		return EST_E_NOTFOUND;
	/* No application matches NULL (nor any name that is no AppID). */
	p[0] = DB_NULL;
	if (app != NULL && key != NULL && key->app_id != NULL) {
		if (apiapp_id_valid(key->app_id))
			p[0] = DB_STR(key->app_id);
	} else if (app != NULL && key != NULL && key->cert_fp != NULL) {
		p[0] = DB_BLOB(key->cert_fp, 32);
		by = R_BY_FP;
	}
	p[1] = DB_STRN(domain, strlen(domain));
	if (label != NULL) {
		p[2] = DB_STR(label);
		r = db_query(db, &route_stmts[by + R_BY_LABEL], p, 3, &res);
	} else {
		r = db_query(db, &route_stmts[by + R_BY_DOMAIN], p, 2, &res);
	}
	if (r != 0)
		return r;
	if (db_result_rows(res) == 0)
		r = EST_E_NOTFOUND;
	else if (db_result_rows(res) > 1)
		r = EST_E_CONFLICT;
	else if ((rt = calloc(1, sizeof(*rt))) == NULL)
		r = EST_E_NOMEM;
	else if ((r = route_from_row(res, rt)) == 0 &&
		 (r = stamp_from_row(res, &s)) == 0 &&
		 (r = tmpl_stamp_from_row(res, &s)) == 0 && app != NULL &&
		 (r = db_apiapp_from_row(res, R_APP, &a)) == EST_E_NOTFOUND)
		r = 0;
	db_result_free(res);
	if (r != 0) {
		est_route_free(rt);
		return r;
	}
	if (st != NULL)
		*st = s;
	if (app != NULL)
		*app = a;
	*out = rt;
	return 0;
}

int
db_est_route_children(struct db *db, struct est_route *rt)
{
	struct db_result *res = NULL;
	struct db_param p[3];
	int r;

	if (db == NULL || rt == NULL || rt->nip_allow != 0 || rt->napps != 0 ||
	    rt->ntemplates != 0)
		return EST_E_INVAL;
	p[0] = p[1] = p[2] = DB_I64(rt->server_id);
	if ((r = db_query(db, &route_stmts[R_CHILDREN], p, 3, &res)) == 0 &&
	    (r = route_children(res, rt)) == 0)
		r = route_label_template(rt);
	db_result_free(res);
	return r;
}

/* A copy of n elements of size sz; NULL for none. */
static int
dup_array(void **dst, const void *src, size_t n, size_t sz)
{
	*dst = NULL;
	if (n == 0)
		return 0;
	if ((*dst = calloc(n, sz)) == NULL)
		return EST_E_NOMEM;
	memcpy(*dst, src, n * sz);
	return 0;
}

int
est_route_children_copy(struct est_route *dst, const struct est_route *src)
{
	int cms_server = dst->kind == ESTSRV_KIND_CMS && dst->label_id == 0;
	int r;

	if (dst->server_id != src->server_id ||
	    dst->label_id != src->label_id || dst->kind != src->kind ||
	    dst->nip_allow != 0 || dst->napps != 0 || dst->ntemplates != 0)
		return EST_E_INVAL;
	if ((r = dup_array((void **)&dst->ip_allow, src->ip_allow,
			   src->nip_allow, sizeof(*src->ip_allow))) != 0 ||
	    (r = dup_array((void **)&dst->app_ids, src->app_ids, src->napps,
			   sizeof(int64_t))) != 0)
		return r;
	dst->nip_allow = src->nip_allow;
	dst->napps = src->napps;
	if (cms_server) {
		if ((r = dup_array((void **)&dst->template_ids,
				   src->template_ids, src->ntemplates,
				   sizeof(int64_t))) != 0)
			return r;
		dst->ntemplates = src->ntemplates;
		dst->default_template_id = src->default_template_id;
		return 0;
	}
	return route_label_template(dst);
}

int
db_est_route(struct db *db, const char *host, const char *label,
	     struct est_route **out)
{
	struct est_route *rt = NULL;
	int r;

	if ((r = db_est_route_row(db, host, label, NULL, &rt, NULL, NULL)) != 0)
		return r;
	if ((r = db_est_route_children(db, rt)) != 0) {
		est_route_free(rt);
		return r;
	}
	*out = rt;
	return 0;
}

int
est_route_ip_allowed(const struct est_route *r, const char *addr)
{
	if (r == NULL)
		return 0;
	return ipallow_match(r->ip_allow, r->nip_allow, addr);
}

int
est_route_app_allowed(const struct est_route *r, int64_t app_id)
{
	size_t i;

	if (r == NULL || app_id <= 0)
		return 0;
	for (i = 0; i < r->napps; i++)
		if (r->app_ids[i] == app_id)
			return 1;
	return 0;
}
