/*
 * Issuing certificates through the API (fcgi/api_cert.h):
 *
 *	POST /api/v1/certificates		from a CSR (PEM, or base64 of
 *						DER)
 *	POST /api/v1/certificates/generate	with a key pair made by the
 *						signer
 *
 * Where the subject comes from (DESIGN.md, "Subject value of a
 * certificate field"): with a CSR, from the CSR alone (fixed values of the
 * template win, fields the template lacks are ignored, the template's
 * defaults fill what the CSR lacks); a body that also sends "subject" or
 * "san" is refused, so that nobody believes a typed value replaced the
 * CSR's.  With a generated key, from "subject" (an object whose members
 * are the template's subject fields by attribute name, "CN", or by OID)
 * and "san" (entries matched to the template's SAN fields of their type,
 * in order); a member the template does not have is refused.
 *
 * Who may issue: perm_check(ISSUE) on the tenant and organization the new
 * certificate will belong to, and the template must be visible to the
 * actor (READ) and usable there: a tenant template issues in its tenant, an
 * organization template in its organization, a global one anywhere.  The
 * certificate belongs to the actor's tenant and organization; a tenant
 * role may name one of its organizations (org_id), an Admin any tenant and
 * organization; without them it takes the template's.
 *
 * A generated key is kept wrapped until the template's retention date
 * and downloadable as PKCS#12 until then (api_cert_dl.c).  A template that
 * keeps no key needs the passphrase in the request: the answer is then the
 * PKCS#12 itself, made before the certificate is committed, so that a key
 * that cannot be delivered leaves no certificate behind.  Any request
 * that sends a passphrase gets its PKCS#12 at once.
 *
 * Any other request is signed on its own thread and handed to the writer
 * thread (txq.h), which commits the row and its audit row together with
 * other requests' and then answers: everything that can refuse a request
 * has refused it by then, except the database (a failure there answers
 * as before, and leaves no row).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "api_cert.h"
#include "api_issue_req.h"
#include "ca.h"
#include "cert.h"
#include "csr.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "issue.h"
#include "issue_cache.h"
#include "jsonval.h"
#include "perm.h"
#include "resp.h"
#include "rest.h"
#include "sigclient.h"
#include "template.h"
#include "tmpl.h"
#include "txq.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The largest body of an issuing request, checked before it is parsed: a
 * PEM CSR at CSR_INPUT_MAX is about 90 KB of JSON, so anything much
 * larger (a CSR with thousands of attributes) is 413 before any work.
 */
#define ISSUE_BODY_MAX (192 * 1024)
#define ISSUE_CSR_TEXT_MAX ISSUE_BODY_MAX
#define PKCS12_TYPE "application/pkcs12"

#define ISSUE_COMMON_FIELDS                                                    \
	{.name = "template_id",                                                \
	 .type = JV_INT,                                                       \
	 .required = 1,                                                        \
	 .min = 1,                                                             \
	 .max = INT64_MAX},                                                    \
		ISSUE_REQ_VALIDITY_FIELDS,                                     \
		{.name = "tenant_id",                                          \
		 .type = JV_INT,                                               \
		 .nullable = 1,                                                \
		 .min = 1,                                                     \
		 .max = INT64_MAX},                                            \
	{                                                                      \
		.name = "org_id", .type = JV_INT, .nullable = 1, .min = 1,     \
		.max = INT64_MAX                                               \
	}

static const struct jsonval_field csr_fields[] = {
	ISSUE_COMMON_FIELDS,
	{.name = "csr",
	 .type = JV_STRING,
	 .required = 1,
	 .multiline = 1,
	 .min_len = 1,
	 .max_len = ISSUE_CSR_TEXT_MAX},
};

static const struct jsonval_field gen_fields[] = {
	ISSUE_COMMON_FIELDS,
	{.name = "key_type",
	 .type = JV_ENUM,
	 .enum_values = issue_req_key_types},
	{.name = "san",
	 .type = JV_OBJECT_ARRAY,
	 .max_items = ISSUE_REQ_SAN_MAX,
	 .fields = issue_req_san_fields,
	 .nfields = ISSUE_REQ_NSAN_FIELDS},
	ISSUE_REQ_PASSPHRASE_FIELD,
};

/* Everything one issuing request gathers; freed by issue_clear(). */
struct issuing {
	struct json_object *body;
	struct json_object *subject; /* generate: the raw "subject" member */
	/* The thread's issuing cache's (ctx.h): borrowed, never freed here. */
	const struct tmpl *t;
	const struct db_ca *ca;
	struct csr *csr;
	struct subj_input *in;
	struct issue_result *res;
	int keygen;
	time_t nb;
	int days;
	int64_t tenant_id, org_id;
	uint8_t *p12;
	size_t p12len;
};

static void
issue_clear(struct issuing *is)
{
	api_cert_wipe(is->body, "passphrase");
	json_object_put(is->body);
	json_object_put(is->subject);
	csr_free(is->csr);
	subject_input_free(is->in);
	issue_result_free(is->res);
	freezero(is->p12, is->p12len);
	memset(is, 0, sizeof(*is));
}

/* ----- the body ----- */

/*
 * The body of /generate.  Its "subject" member has the template's fields
 * as members, which no static table can list: it is taken out before the
 * rest is checked, and checked against a table made from the template
 * once that is known (issue_req_user()).
 */
static int
gen_body(const struct request *req, struct issuing *is, struct jsonval_error *e)
{
	int r;

	if ((r = rest_body_parse(req, &is->body, e)) != 0)
		return r;
	if ((r = issue_req_take_subject(is->body, NULL, &is->subject, e)) != 0)
		return r;
	return jsonval_check(is->body, gen_fields, NELEM(gen_fields), e);
}

/* ----- template, owner, CSR ----- */

/*
 * The template named by the body, visible to p, and its CA, from the
 * thread's issuing cache (one query when they have not changed); one that
 * does not exist or that p may not see is the same 422 (its existence
 * does not leak).
 */
static int
template_load(struct hctx *c, struct db *db, const struct principal *p,
	      struct issuing *is, struct jsonval_error *e)
{
	struct perm_object o = {0, 0, PERM_SCOPE_NONE};
	struct perm_actor a;
	enum perm_scope sc;
	int64_t id = 0;
	int r;

	if (c->icache == NULL) {
		if ((c->icache = issue_cache_new()) == NULL)
			return EST_E_NOMEM;
		c->icache_free = issue_cache_free;
	}
	(void)jsonval_get_int(is->body, "template_id", &id);
	if ((r = issue_cache_get(c->icache, db, id, &is->t, &is->ca)) ==
	    EST_E_NOTFOUND)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "template_id",
					 "no such template");
	if (r != 0)
		return r;
	if (auth_actor(p, &a) != 0 || perm_scope_from_name(is->t->scope, &sc))
		return EST_E_INTERNAL;
	o.tenant_id = is->t->tenant_id;
	o.org_id = is->t->org_id;
	o.scope = sc;
	if (perm_check(&a, PERM_ENT_CERT_TEMPLATE, PERM_ACT_READ, &o) != 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "template_id",
					 "no such template");
	if (!is->t->active)
		return jsonval_error_set(e, EST_E_CONFLICT, "template_id",
					 "the template is inactive");
	if (!is->ca->active || is->ca->cert_der == NULL)
		return jsonval_error_set(e, EST_E_CONFLICT, "template_id",
					 "the template's CA is inactive");
	return 0;
}

/* ----- issuing ----- */

static enum issue_kind
kind_of(const struct tmpl *t)
{
	switch (t->type) {
	case TMPL_FACTORY:
		return ISSUE_KIND_FACTORY;
	case TMPL_OPERATIONAL:
		return ISSUE_KIND_OPERATIONAL;
	default:
		return ISSUE_KIND_OTHER;
	}
}

static void
issue_req_fill(const struct principal *p, const struct issuing *is,
	       struct issue_req *rq_)
{
	struct issue_req rq;

	memset(&rq, 0, sizeof(rq));
	rq.tmpl = is->t;
	rq.ca = is->ca;
	rq.csr = is->csr;
	rq.keygen_type = is->keygen;
	rq.input = is->in;
	rq.src = is->csr != NULL ? SUBJ_SRC_CSR : SUBJ_SRC_USER;
	rq.not_before = is->nb;
	rq.days = is->days;
	rq.kind = kind_of(is->t);
	rq.via = ISSUE_VIA_API;
	rq.creator = p->kind == PRINCIPAL_USER ? ISSUE_BY_USER : ISSUE_BY_APP;
	rq.user_id = auth_user_id(p);
	rq.app_id = p->kind == PRINCIPAL_APPLICATION ? p->id : 0;
	rq.tenant_id = is->tenant_id;
	rq.org_id = is->org_id;
	/*
	 * The row comes back from the insert itself: it does not change when
	 * it commits, and the answer is made from it after the commit.
	 */
	rq.want_row = 1;
	*rq_ = rq;
}

/* The certificate's sign-off, from the issue_req's issue_error. */
static int
sign_cert(struct sigclient *sig, const struct principal *p, struct issuing *is,
	  struct jsonval_error *e)
{
	struct issue_error ie = {0};
	struct issue_req rq;
	int r;

	issue_req_fill(p, is, &rq);
	if ((r = issue_cert_sign(sig, &rq, &is->res, &ie)) != 0 && ie.code == r)
		r = jsonval_error_set(e, r, ie.field, "%s", ie.message);
	return r;
}

/*
 * What the audit row of an issued certificate (stored: res->row) says:
 * ca_id and template_id are the issuer's and the template's; pkcs12 says
 * the answer carries the key.  d is the caller's to clear.
 */
static int
issue_change(const struct issue_result *res, int64_t ca_id, int64_t template_id,
	     int csr, int pkcs12, struct rest_what *w, struct rest_diff *d)
{
	char hex[41];
	int r;

	rest_diff_create(d);
	hex_encode(res->serial, res->serial_len, hex);
	api_cert_what(res->row, "issue", w);
	if ((r = rest_diff_str(d, "serial", NULL, hex)) != 0 ||
	    (r = rest_diff_int(d, "ca_id", 0, ca_id, 1)) != 0 ||
	    (r = rest_diff_int(d, "template_id", 0, template_id, 1)) != 0 ||
	    (r = rest_diff_str(d, "key_source", NULL,
			       csr ? "csr" : "server")) != 0 ||
	    (r = rest_diff_str(
		     d, "not_after", NULL,
		     db_result_str(res->row, 0, DB_CERT_NOT_AFTER, NULL))) != 0)
		return r;
	return pkcs12 ? rest_diff_note(d, "pkcs12", "delivered") : 0;
}

/* The audit row of an issued certificate, as issue_change() says. */
static int
issue_audit(struct db *db, const struct rest_actor *a,
	    const struct issue_result *res, int64_t ca_id, int64_t template_id,
	    int csr, int pkcs12)
{
	struct rest_diff d;
	struct rest_what w;
	int r;

	if ((r = issue_change(res, ca_id, template_id, csr, pkcs12, &w, &d)) ==
	    0)
		r = rest_audit_by(db, a, &w, &d);
	rest_diff_clear(&d);
	return r;
}

/* The certificate's row and audit row, in the caller's transaction. */
static int
issue_tx(struct db *db, struct sigclient *sig, const struct principal *p,
	 const struct request *req, struct issuing *is, const char *pass,
	 struct jsonval_error *e)
{
	struct rest_actor a;
	int r;

	if ((r = sign_cert(sig, p, is, e)) != 0 ||
	    (r = issue_cert_store(db, sig, is->res)) != 0)
		return r;
	if (pass != NULL &&
	    (r = issue_req_pkcs12(db, sig, is->ca, is->res, pass, &is->p12,
				  &is->p12len)) != 0)
		return r;
	rest_actor_copy(p, req, &a);
	r = issue_audit(db, &a, is->res, is->ca->id, is->t->id, is->csr != NULL,
			pass != NULL);
	rest_actor_clear(&a);
	return r;
}

/* 201 with the certificate (its row res->row), or with its PKCS#12. */
static int
issue_answer(const struct issue_result *res, const uint8_t *p12, size_t p12len,
	     struct resp *rs)
{
	struct json_object *o = NULL;
	char etag[REST_ETAG_MAX], loc[64], disp[96];
	int r;

	snprintf(loc, sizeof(loc), API_CERT_BASE "/%lld", (long long)res->id);
	if (p12 != NULL) {
		snprintf(disp, sizeof(disp),
			 "attachment; filename=\"certificate-%lld.p12\"",
			 (long long)res->id);
		if ((r = resp_body(rs, 201, PKCS12_TYPE, p12, p12len)) == 0 &&
		    (r = resp_header(rs, "Content-Disposition", disp)) == 0)
			r = resp_header(rs, "Location", loc);
		return r;
	}
	if ((r = api_cert_json(res->row, 0, 1, &o)) != 0 ||
	    (r = api_cert_etag(res->row, etag)) != 0)
		goto out;
	r = rest_created(rs, API_CERT_BASE, res->id, o, etag);
out:
	json_object_put(o);
	return r;
}

/* ----- the writes of a signed certificate, on the writer thread ----- */

struct issue_job {
	struct txjob j; /* first */
	struct issue_result *res;
	struct rest_actor actor;
	int64_t ca_id, template_id;
	int csr;
};

/*
 * The rows of n jobs in one statement, and their audit rows in another:
 * the statements of n certificates cost the server about what one
 * certificate's did.  A serial number taken meanwhile is signed again
 * with another, on the signer connection of the thread, but only in a
 * transaction of its own (a group rolls back and runs each job alone).
 */
static int
job_write(struct txjob **jobs, size_t n, struct hctx *c, int alone)
{
	struct issue_result *res[TXQ_GROUP_MAX];
	struct rest_audit_row rows[TXQ_GROUP_MAX];
	struct rest_diff d[TXQ_GROUP_MAX];
	struct issue_job *ij;
	struct db *db;
	size_t i, made = 0;
	int r;

	if (n == 0 || n > TXQ_GROUP_MAX || (alone && n != 1))
		return EST_E_INVAL;
	if ((r = ctx_db(c, &db)) != 0)
		return r;
	for (i = 0; i < n; i++)
		res[i] = ((struct issue_job *)jobs[i])->res;
	r = alone ? issue_cert_store_lazy(db, ctx_signer_cb, c, res[0])
		  : issue_cert_store_many(db, res, n);
	if (r != 0)
		return r;
	for (i = 0; i < n && r == 0; i++, made++) {
		ij = (struct issue_job *)jobs[i];
		rows[i].a = &ij->actor;
		rows[i].d = &d[i];
		r = issue_change(ij->res, ij->ca_id, ij->template_id, ij->csr,
				 0, &rows[i].w, &d[i]);
	}
	if (r == 0)
		r = rest_audit_by_many(db, rows, n);
	for (i = 0; i < made; i++)
		rest_diff_clear(&d[i]);
	return r;
}

static int
job_answer(struct txjob *j, int r, struct resp *rs)
{
	struct issue_job *ij = (struct issue_job *)j;

	if (r == 0)
		r = issue_answer(ij->res, NULL, 0, rs);
	return rest_answer(rs, r, NULL);
}

static void
job_free(struct txjob *j)
{
	struct issue_job *ij = (struct issue_job *)j;

	issue_result_free(ij->res);
	rest_actor_clear(&ij->actor);
	free(ij);
}

static const struct txjob_ops issue_job_ops = {job_write, 1, job_answer,
					       job_free};

/* Hands the signed certificate of is to the writer (or runs it now). */
static int
issue_defer(struct hctx *c, const struct principal *p,
	    const struct request *req, struct issuing *is)
{
	struct issue_job *ij;

	if ((ij = calloc(1, sizeof(*ij))) == NULL)
		return EST_E_NOMEM;
	ij->j.ops = &issue_job_ops;
	ij->res = is->res;
	is->res = NULL;
	rest_actor_copy(p, req, &ij->actor);
	ij->ca_id = is->ca->id;
	ij->template_id = is->t->id;
	ij->csr = is->csr != NULL;
	txq_defer(c, &ij->j);
	return 0;
}

static int
h_issue_common(struct hctx *c, const struct request *req,
	       const struct principal *p, struct resp *rs, int generate)
{
	struct perm_object o = {0, 0, PERM_SCOPE_NONE};
	struct jsonval_error e = {0};
	struct sigclient *sig = NULL;
	struct issuing is;
	struct rest_what w;
	const char *pass = NULL;
	struct db *db;
	int r;

	memset(&is, 0, sizeof(is));
	api_cert_what(NULL, "issue", &w);
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_ISSUE, NULL, &w, &e)) != 0)
		goto out;
	if (req->bodylen > ISSUE_BODY_MAX) {
		r = rest_fail(&e, EST_E_TOOBIG, "body");
		goto out;
	}
	if ((r = generate ? gen_body(req, &is, &e)
			  : rest_body(req, csr_fields, NELEM(csr_fields),
				      &is.body, &e)) != 0 ||
	    (r = template_load(c, db, p, &is, &e)) != 0 ||
	    (r = issue_req_owner(db, p, is.t, is.body, &is.tenant_id,
				 &is.org_id, &e)) != 0)
		goto out;
	o.tenant_id = w.tenant_id = is.tenant_id;
	o.org_id = w.org_id = is.org_id;
	if ((r = rest_perm(db, p, req, PERM_ACT_ISSUE, &o, &w, &e)) != 0 ||
	    (r = issue_req_validity(is.t, is.body, NULL, &is.nb, &is.days,
				    &e)) != 0)
		goto out;
	if (generate) {
		pass = jsonval_get_string(is.body, "passphrase");
		if ((r = issue_req_key_type(
			     is.t, jsonval_get_string(is.body, "key_type"),
			     NULL, "key_type", &is.keygen, &e)) != 0 ||
		    (r = issue_req_user(is.t, is.subject, is.body, NULL, &is.in,
					&e)) != 0)
			goto out;
		if (pass == NULL && is.t->key_retention_days <= 0) {
			r = jsonval_error_set(&e, EST_E_UNPROCESSABLE,
					      "passphrase",
					      "the template keeps no key: "
					      "take the PKCS#12 now");
			goto out;
		}
	} else if ((r = issue_req_csr(jsonval_get_string(is.body, "csr"), NULL,
				      &is.csr, &is.in, &e)) != 0) {
		goto out;
	}
	if ((r = ctx_signer(c, &sig)) != 0)
		goto out;
	if (pass == NULL) {
		if ((r = sign_cert(sig, p, &is, &e)) == 0)
			r = issue_defer(c, p, req, &is);
		goto out;
	}
	if ((r = db_begin(db)) != 0)
		goto out;
	r = issue_tx(db, sig, p, req, &is, pass, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = issue_answer(is.res, is.p12, is.p12len, rs);
out:
	issue_clear(&is);
	return rest_answer(rs, r, &e);
}

static int
h_issue(struct hctx *c, const struct request *req, const struct principal *p,
	struct resp *rs)
{
	return h_issue_common(c, req, p, rs, 0);
}

static int
h_generate(struct hctx *c, const struct request *req, const struct principal *p,
	   struct resp *rs)
{
	return h_issue_common(c, req, p, rs, 1);
}

AUTH_ROUTE(r_issue, h_issue)
AUTH_ROUTE(r_generate, h_generate)

int
api_cert_r_issue(struct hctx *c, const struct request *req, struct resp *rs)
{
	return r_issue(c, req, rs);
}

int
api_cert_r_generate(struct hctx *c, const struct request *req, struct resp *rs)
{
	return r_generate(c, req, rs);
}
