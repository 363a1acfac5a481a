/*
 * External CAs (guide §2.4): register, list, change (fcgi/api_extca.h),
 * and what read and the state changes in api_extca_state.c share.
 *
 * Registration takes one PEM CA certificate (lib/extcert.h says which
 * are accepted) for a tenant, and optionally one of its organizations.
 * An Admin must name the tenant; a tenant role's own tenant is implied.
 * The permission table lets a Tenant Admin register external CAs for an
 * organization only: without org_id its request is refused (403) with
 * the field "org_id" named, so that a client knows what to add.  Only
 * active tenants and organizations are offered for selection (422
 * otherwise).  The name is unique within the tenant (409 "name"; a
 * tenant cannot learn another tenant's names); the same certificate
 * twice in one tenant is 409 "certificate".  "verified"
 * sets the CA verified on upload, which needs the verify right too.
 *
 * Every handler validates the request, asks the permission table
 * (rest_perm, which audits a refusal), then writes inside one transaction
 * that also appends the audit row, with the row locked so that If-Match
 * and the state checks see what is written.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "api_ca.h"
#include "api_extca.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "extca.h"
#include "extcert.h"
#include "jsonval.h"
#include "resp.h"
#include "rest.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define EXTCA_NAME_MAX 128 /* external_cas.name */
#define EXTCA_DESC_MAX 1024

static const struct rest_col extca_cols[] = {
	[DB_EXTCA_ID] = {"id", REST_C_ID},
	[DB_EXTCA_NAME] = {"name", REST_C_STR},
	[DB_EXTCA_DESCRIPTION] = {"description", REST_C_STR},
	[DB_EXTCA_TENANT_ID] = {"tenant_id", REST_C_ID},
	[DB_EXTCA_ORG_ID] = {"org_id", REST_C_ID},
	[DB_EXTCA_CERT_DER] = {NULL, REST_C_SKIP},
	[DB_EXTCA_SUBJECT] = {"subject", REST_C_STR},
	[DB_EXTCA_SUBJECT_HASH] = {NULL, REST_C_SKIP},
	[DB_EXTCA_SKI] = {"subject_key_id", REST_C_HEX},
	[DB_EXTCA_FINGERPRINT] = {"fingerprint", REST_C_HEX},
	[DB_EXTCA_NOT_BEFORE] = {"not_before", REST_C_TIME},
	[DB_EXTCA_NOT_AFTER] = {"not_after", REST_C_TIME},
	[DB_EXTCA_STATUS] = {"status", REST_C_STR},
	[DB_EXTCA_ACTIVE] = {"active", REST_C_BOOL},
	/* The code itself only in the answer that issues it. */
	[DB_EXTCA_CODE] = {NULL, REST_C_SKIP},
	[DB_EXTCA_CODE_EXPIRES_AT] = {"verification_expires_at", REST_C_TIME},
	[DB_EXTCA_CODE_LIVE] = {"verification_pending", REST_C_BOOL},
	[DB_EXTCA_VERIFIED_AT] = {"verified_at", REST_C_TIME},
	[DB_EXTCA_VERIFIED_BY] = {"verified_by_user_id", REST_C_ID},
	[DB_EXTCA_CREATED_BY] = {"created_by_user_id", REST_C_ID},
	[DB_EXTCA_CREATED_AT] = {"created_at", REST_C_TIME},
	[DB_EXTCA_UPDATED_AT] = {"updated_at", REST_C_TIME},
};

static const struct jsonval_field create_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = EXTCA_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = EXTCA_DESC_MAX},
	{.name = "tenant_id", .type = JV_INT, .min = 1, .max = INT64_MAX},
	{.name = "org_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "certificate",
	 .type = JV_STRING,
	 .required = 1,
	 .multiline = 1,
	 .min_len = 1,
	 .max_len = EXTCERT_PEM_MAX},
	{.name = "verified", .type = JV_BOOL},
};

static const struct jsonval_field update_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .min_len = 1,
	 .max_len = EXTCA_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = EXTCA_DESC_MAX},
};

static const char *const scope_values[] = {SCOPE_TENANT, SCOPE_ORG, NULL};
static const char *const status_values[] = {EXTCA_STATUS_UNVERIFIED,
					    EXTCA_STATUS_VERIFIED, NULL};

static const struct rest_qfield extca_query[] = {
	{.name = "tenant_id", .type = REST_Q_ID},
	{.name = "org_id", .type = REST_Q_ID},
	{.name = "scope", .type = REST_Q_ENUM, .enum_values = scope_values},
	{.name = "name", .type = REST_Q_STRING, .max_len = EXTCA_NAME_MAX},
	{.name = "name_prefix",
	 .type = REST_Q_STRING,
	 .max_len = EXTCA_NAME_MAX},
	{.name = "name_contains",
	 .type = REST_Q_STRING,
	 .max_len = EXTCA_NAME_MAX},
	{.name = "status", .type = REST_Q_ENUM, .enum_values = status_values},
	{.name = "active", .type = REST_Q_BOOL},
};

/* ----- shared with api_extca_state.c ----- */

static void
extca_what(struct rest_what *w, const char *action, int64_t id,
	   const char *name, int64_t tenant_id, int64_t org_id)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_EXTERNAL_CA;
	w->action = action;
	w->id = id;
	w->name = name;
	w->tenant_id = tenant_id;
	w->org_id = org_id;
}

void
api_extca_what(struct rest_what *w, const char *action,
	       const struct db_result *res)
{
	extca_what(w, action, db_result_i64(res, 0, DB_EXTCA_ID),
		   db_result_str(res, 0, DB_EXTCA_NAME, NULL),
		   db_result_i64(res, 0, DB_EXTCA_TENANT_ID),
		   db_result_i64(res, 0, DB_EXTCA_ORG_ID));
}

/* Where an external CA lives: its organization, or its whole tenant. */
static void
extca_object(struct perm_object *o, int64_t tenant_id, int64_t org_id)
{
	o->tenant_id = tenant_id;
	o->org_id = org_id;
	o->scope = org_id > 0 ? PERM_SCOPE_ORG : PERM_SCOPE_TENANT;
}

REST_ROW_LOAD(, api_extca_load, struct db_result, api_extca_rows)

int
api_extca_access(struct db *db, const struct principal *p,
		 const struct request *req, int64_t id, enum perm_action act,
		 const char *action, struct jsonval_error *e)
{
	return api_extca_load(db, p, req, id, act, action, NULL, e);
}

REST_ROW_LOCK(, api_extca_lock, struct db_result, api_extca_rows)

/* Row i of res as the API shows it in lists. */
static int
extca_json(const struct db_result *res, size_t i, struct json_object **out)
{
	struct json_object *o = NULL;
	int r;

	if ((r = rest_row_json(res, i, extca_cols, NELEM(extca_cols), &o)) !=
		    0 ||
	    (r = rest_put_str(o, "scope",
			      db_result_isnull(res, i, DB_EXTCA_ORG_ID)
				      ? SCOPE_TENANT
				      : SCOPE_ORG)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

/* What only the single object shows: the certificate and its details. */
static int
extca_details(struct json_object *o, const struct db_result *res)
{
	struct extcert_info *ci = NULL;
	const char *der;
	char *pem = NULL;
	size_t len = 0;
	int r;

	if ((der = db_result_str(res, 0, DB_EXTCA_CERT_DER, &len)) == NULL)
		return EST_E_INTERNAL;
	if ((r = extcert_info_new((const uint8_t *)der, len, &ci)) != 0 ||
	    (r = x509_der_to_pem((const uint8_t *)der, len, &pem, NULL)) != 0)
		goto out;
	if ((r = rest_put_str(o, "issuer", ci->issuer)) != 0 ||
	    (r = rest_put_str(o, "serial", ci->serial)) != 0 ||
	    (r = rest_put_str(o, "key_type",
			      *ci->key_type != '\0' ? ci->key_type : NULL)) !=
		    0 ||
	    (r = rest_put_str(o, "signature_algorithm", ci->signature_alg)) !=
		    0 ||
	    (r = rest_put_bool(o, "self_signed", ci->self_signed)) != 0 ||
	    (r = rest_put_str(o, "certificate", pem)) != 0)
		goto out;
out:
	free(pem);
	extcert_info_free(ci);
	/* A certificate that no longer parses is the database's fault. */
	return r == EST_E_BADASN1 ? EST_E_INTERNAL : r;
}

/* The row hooks of api_extca_rows: a row is a struct db_result. */
REST_ROW_GET(extca_get, struct db_result, db_extca_get)

static int
extca_row_what(struct rest_what *w, const char *action, const void *res)
{
	api_extca_what(w, action, res);
	return 0;
}

static int
extca_row_object(const void *res, struct perm_object *o)
{
	extca_object(o, db_result_i64(res, 0, DB_EXTCA_TENANT_ID),
		     db_result_i64(res, 0, DB_EXTCA_ORG_ID));
	return 0;
}

static int
extca_row_json(const void *res, struct json_object **out)
{
	struct json_object *o = NULL;
	int r;

	if ((r = extca_json(res, 0, &o)) != 0)
		return r;
	if ((r = extca_details(o, res)) != 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

static const struct rest_result extca_res = {
	.entity = "external_ca",
	.id = DB_EXTCA_ID,
	.updated_at = DB_EXTCA_UPDATED_AT,
	.active = DB_EXTCA_ACTIVE,
	.name = DB_EXTCA_NAME,
	.description = DB_EXTCA_DESCRIPTION,
};

const struct rest_entity_ops api_extca_rows = {
	.get = extca_get,
	.what = extca_row_what,
	.object = extca_row_object,
	.json = extca_row_json,
	.base = API_EXTCA_BASE,
	.set_active = db_extca_set_active,
	.res = &extca_res,
	.update_fields = update_fields,
	.update_nfields = NELEM(update_fields),
	.rename = db_extca_update,
	.name_taken = "an external CA has this name",
};

int
api_extca_send(struct db *db, int64_t id, int status, struct resp *rs)
{
	return rest_send_row(db, &api_extca_rows, id, status, rs);
}

/* ----- list ----- */

/* The external CAs of page q that pf lets the caller see. */
static int
extca_fetch(struct db *db, const struct rest_query *q,
	    const struct perm_filter *pf, struct db_result **res)
{
	struct db_extca_filter f;
	int r;

	memset(&f, 0, sizeof(f));
	if ((r = rest_list_scope(pf, &f.scope_tenant, &f.scope_org)) != 0)
		return r;
	if (pf->kind == PERM_FILTER_ORG)
		f.scope_shared = pf->shared;
	f.tenant_id = rest_q_int_or(q, "tenant_id", 0);
	f.org_id = rest_q_int_or(q, "org_id", 0);
	f.scope = rest_q_str(q, "scope");
	f.name = rest_q_str(q, "name");
	f.name_prefix = rest_q_str(q, "name_prefix");
	f.name_contains = rest_q_str(q, "name_contains");
	f.status = rest_q_str(q, "status");
	f.active = (int)rest_q_int_or(q, "active", -1);
	return db_extca_list(db, &f, q->after_id, rest_page_fetch(q), res);
}

static const struct rest_list_def extca_list = {
	.entity = PERM_ENT_EXTERNAL_CA,
	.query = extca_query,
	.nquery = NELEM(extca_query),
	.fetch = extca_fetch,
	.id_col = DB_EXTCA_ID,
	.json = extca_json,
};

/* ----- register ----- */

/*
 * The tenant and organization must exist and be active; their rows are
 * locked so that neither can be deactivated or deleted before the insert
 * commits.  An organization of another tenant is refused like a missing
 * one, so that its existence does not leak.
 */
static int
placement_usable(struct db *db, int64_t tenant_id, int64_t org_id,
		 struct jsonval_error *e)
{
	struct db_result *res = NULL;
	int r;

	if ((r = db_tenant_get(db, tenant_id, 1, &res)) == EST_E_NOTFOUND)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "tenant_id",
					 "no such tenant");
	if (r != 0)
		return r;
	if (db_result_i64(res, 0, DB_TENANT_ACTIVE) == 0)
		r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "tenant_id",
				      "the tenant is inactive");
	db_result_free(res);
	res = NULL;
	if (r != 0 || org_id == 0)
		return r;
	if ((r = db_org_get(db, org_id, 1, &res)) == EST_E_NOTFOUND)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "org_id",
					 "no such organization in the tenant");
	if (r != 0)
		return r;
	if (db_result_i64(res, 0, DB_ORG_TENANT_ID) != tenant_id)
		r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "org_id",
				      "no such organization in the tenant");
	else if (db_result_i64(res, 0, DB_ORG_ACTIVE) == 0)
		r = jsonval_error_set(e, EST_E_UNPROCESSABLE, "org_id",
				      "the organization is inactive");
	db_result_free(res);
	return r;
}

/* The audit details of a new external CA. */
static int
create_diff(struct rest_diff *d, const struct db_extca_new *n,
	    const struct extcert_info *ci)
{
	char fp[2 * sizeof(ci->fingerprint) + 1];
	int r;

	hex_encode(ci->fingerprint, sizeof(ci->fingerprint), fp);
	if ((r = rest_diff_str(d, "name", NULL, n->name)) != 0 ||
	    (r = rest_diff_str(d, "description", NULL, n->description)) != 0 ||
	    (r = rest_diff_int(d, "tenant_id", 0, n->tenant_id, 1)) != 0 ||
	    (r = rest_diff_int(d, "org_id", 0, n->org_id, 1)) != 0 ||
	    (r = rest_diff_str(d, "subject", NULL, ci->subject)) != 0 ||
	    (r = rest_diff_str(d, "fingerprint", NULL, fp)) != 0 ||
	    (r = rest_diff_str(d, "not_after", NULL, ci->not_after)) != 0 ||
	    (r = rest_diff_str(d, "status", NULL,
			       n->verified ? EXTCA_STATUS_VERIFIED
					   : EXTCA_STATUS_UNVERIFIED)) != 0 ||
	    (r = rest_diff_bool(d, "active", 0, 1)) != 0)
		return r;
	if (n->verified)
		r = rest_diff_note(d, "verification", "set on upload");
	return r;
}

static int
create_tx(struct db *db, const struct principal *p, const struct request *req,
	  const struct db_extca_new *n, int64_t *id, struct jsonval_error *e)
{
	struct extcert_info *ci = NULL;
	struct rest_diff d;
	struct rest_what w;
	int64_t newid = 0, other = 0;
	int r;

	rest_diff_create(&d);
	if ((r = placement_usable(db, n->tenant_id, n->org_id, e)) != 0 ||
	    (r = extcert_info_new(n->cert_der, n->cert_len, &ci)) != 0)
		goto out;
	if ((r = db_extca_find_cert(db, n->tenant_id, ci->fingerprint,
				    &other)) == 0) {
		r = jsonval_error_set(e, EST_E_EXISTS, "certificate",
				      "the tenant has registered this "
				      "certificate already");
		goto out;
	}
	if (r != EST_E_NOTFOUND)
		goto out;
	if ((r = db_extca_insert(db, n, &newid)) == EST_E_EXISTS) {
		r = jsonval_error_set(e, r, "name",
				      "an external CA has this name");
		goto out;
	}
	if (r != 0 || (r = create_diff(&d, n, ci)) != 0)
		goto out;
	extca_what(&w, "create", newid, n->name, n->tenant_id, n->org_id);
	if ((r = rest_audit(db, p, req, &w, &d)) == 0)
		*id = newid;
out:
	rest_diff_clear(&d);
	extcert_info_free(ci);
	return r;
}

/*
 * May p register in o, and verify on upload when asked?  A refusal of a
 * tenant-wide CA names "org_id": the caller may be allowed an
 * organization's (a Tenant Admin is).
 */
static int
create_perm(struct db *db, const struct principal *p, const struct request *req,
	    const struct perm_object *o, struct rest_what *w, int verified,
	    struct jsonval_error *e)
{
	int r;

	if ((r = rest_perm(db, p, req, PERM_ACT_CREATE, o, w, e)) != 0) {
		if (r == EST_E_DENIED && o->org_id == 0)
			r = jsonval_error_set(e, r, "org_id",
					      "not allowed for the whole "
					      "tenant: name an organization");
		return r;
	}
	if (!verified)
		return 0;
	w->action = "verify";
	r = rest_perm(db, p, req, PERM_ACT_VERIFY, o, w, e);
	w->action = "create";
	return r;
}

static int
h_create(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db_extca_new n;
	struct perm_object o;
	struct rest_what w;
	struct db *db = NULL;
	const char *pem;
	uint8_t *der = NULL;
	size_t derlen = 0;
	X509 *x = NULL;
	int64_t id = 0;
	int r;

	memset(&n, 0, sizeof(n));
	n.tenant_id = p->tenant_id;
	/*
	 * A role without the create right is refused before its body is
	 * read, whatever the target.
	 */
	extca_what(&w, "create", 0, NULL, 0, 0);
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_CREATE, NULL, &w, &e)) != 0 ||
	    (r = rest_body(req, create_fields, NELEM(create_fields), &body,
			   &e)) != 0)
		goto out;
	(void)jsonval_get_int(body, "tenant_id", &n.tenant_id);
	(void)jsonval_get_int(body, "org_id", &n.org_id);
	(void)jsonval_get_bool(body, "verified", &n.verified);
	if (n.tenant_id <= 0) {
		r = jsonval_error_set(&e, EST_E_UNPROCESSABLE, "tenant_id",
				      "required: choose the tenant");
		goto out;
	}
	n.name = jsonval_get_string(body, "name");
	n.description = jsonval_get_string(body, "description");
	n.user_id = auth_user_id(p);
	pem = jsonval_get_string(body, "certificate");
	extca_object(&o, n.tenant_id, n.org_id);
	extca_what(&w, "create", 0, n.name, n.tenant_id, n.org_id);
	if ((r = create_perm(db, p, req, &o, &w, n.verified, &e)) != 0 ||
	    (r = extcert_pem(pem, strlen(pem), "certificate", &x, &der, &derlen,
			     &e)) != 0 ||
	    (r = extcert_check_ca(x, time(NULL), "certificate", &e)) != 0)
		goto out;
	n.cert_der = der;
	n.cert_len = derlen;
	if ((r = db_begin(db)) != 0)
		goto out;
	r = create_tx(db, p, req, &n, &id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	/* A CA set verified on upload belongs in the client-CA file. */
	if (n.verified)
		api_ca_web_refresh(c);
	r = api_extca_send(db, id, 201, rs);
out:
	X509_free(x);
	free(der);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

REST_ROUTE_LIST(api_extca_r_list, extca_list)
AUTH_ROUTE_PUBLIC(api_extca_r_create, h_create)
REST_ROUTE_UPDATE(api_extca_r_update, api_extca_rows)
