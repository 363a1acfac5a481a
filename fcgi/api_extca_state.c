/*
 * The life of an external CA after registration (fcgi/api_extca.h):
 * read, activate, deactivate, delete, and verification.
 *
 * States (guide §2.4.3): an unverified CA can be given a verification
 * code, verified, or deactivated; a verified one can only be
 * deactivated; an inactive one can be activated again or deleted.  So
 * verification needs an active, unverified CA (409 otherwise), and a
 * delete an inactive one (409 while active, and while a device type
 * names it as its factory CA).  Deleting cannot be undone; DELETE is the
 * guide's confirmation.
 *
 * Verification by proof of possession (lib/extcert.h): POST
 * .../verification-code gives a new random code valid for 24 hours (a new
 * request replaces the old code); POST .../verify {"certificate": PEM}
 * with a certificate that the CA signed for that code marks the CA
 * verified and clears the code.  POST .../verify {"manual": true} marks
 * it verified without a proof, for those whom the permission table lets
 * verify (Admin, and a Tenant Admin for its organizations' CAs).  A
 * refused proof (422, field "certificate" or "code") changes nothing and
 * is audited with outcome "failure".  The code never enters the audit
 * log: it proves nothing by itself, but it is no business of the log's.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "api_ca.h"
#include "api_extca.h"
#include "audit.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "extca.h"
#include "extcert.h"
#include "jsonval.h"
#include "resp.h"
#include "rest.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct jsonval_field verify_fields[] = {
	{.name = "certificate",
	 .type = JV_STRING,
	 .multiline = 1,
	 .min_len = 1,
	 .max_len = EXTCERT_PEM_MAX},
	{.name = "manual", .type = JV_BOOL},
};

/* ----- delete, activate, deactivate ----- */

static int
delete_tx(struct db *db, const struct principal *p, const struct request *req,
	  int64_t id, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	struct rest_diff d;
	struct rest_what w;
	int64_t users = 0;
	int r;

	rest_diff_delete(&d);
	if ((r = api_extca_lock(db, req, id, 1, &res, e)) != 0)
		return r;
	if (db_result_i64(res, 0, DB_EXTCA_ACTIVE) != 0) {
		r = jsonval_error_set(e, EST_E_CONFLICT, "",
				      "the external CA is active: deactivate "
				      "it first");
		goto out;
	}
	if ((r = db_extca_users(db, id, &users)) != 0)
		goto out;
	/* The foreign key refuses too; this names the reason. */
	if (users > 0 || (r = db_extca_delete(db, id)) == EST_E_CONFLICT) {
		r = jsonval_error_set(e, EST_E_CONFLICT, "",
				      "a device type uses the external CA");
		goto out;
	}
	api_extca_what(&w, "delete", res);
	if (r != 0 ||
	    (r = rest_diff_str(&d, "name",
			       db_result_str(res, 0, DB_EXTCA_NAME, NULL),
			       NULL)) != 0 ||
	    (r = rest_diff_int(&d, "tenant_id", w.tenant_id, 0, 1)) != 0 ||
	    (r = rest_diff_int(&d, "org_id", w.org_id, 0, 1)) != 0 ||
	    (r = rest_diff_str(&d, "subject",
			       db_result_str(res, 0, DB_EXTCA_SUBJECT, NULL),
			       NULL)) != 0 ||
	    (r = rest_diff_str(&d, "status",
			       db_result_str(res, 0, DB_EXTCA_STATUS, NULL),
			       NULL)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

static int
state_tx(struct db *db, const struct principal *p, const struct request *req,
	 int64_t id, int active, struct jsonval_error *e)
{
	return rest_state_tx(db, p, req, &api_extca_rows, id, active, e);
}

static const struct rest_entity_ops extca_ops = {
	.access = api_extca_access,
	.delete_tx = delete_tx,
	.state_tx = state_tx,
	.send = api_extca_send,
};

/*
 * The web server's client-CA file holds the verified, active external CAs
 * (pki/ca_file.c): after a change that may add or remove one it is
 * rewritten, and the web server reloaded when it changed.
 */
static int
web_refresh(struct hctx *c, const struct resp *rs, int r)
{
	if (r == 0 && resp_status(rs) / 100 == 2)
		api_ca_web_refresh(c);
	return r;
}

static int
h_delete(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	return web_refresh(c, rs, rest_delete(c, req, p, rs, &extca_ops));
}

static int
h_activate(struct hctx *c, const struct request *req, const struct principal *p,
	   struct resp *rs)
{
	return web_refresh(c, rs,
			   rest_set_active(c, req, p, rs, &extca_ops, 1));
}

static int
h_deactivate(struct hctx *c, const struct request *req,
	     const struct principal *p, struct resp *rs)
{
	return web_refresh(c, rs,
			   rest_set_active(c, req, p, rs, &extca_ops, 0));
}

/* ----- verification ----- */

/* Verification needs an active CA that is not verified yet. */
static int
verifiable(const struct db_result *res, struct jsonval_error *e)
{
	const char *status = db_result_str(res, 0, DB_EXTCA_STATUS, NULL);

	if (db_result_i64(res, 0, DB_EXTCA_ACTIVE) == 0)
		return jsonval_error_set(e, EST_E_CONFLICT, "",
					 "the external CA is inactive");
	if (status == NULL || strcmp(status, EXTCA_STATUS_UNVERIFIED) != 0)
		return jsonval_error_set(e, EST_E_CONFLICT, "",
					 "the external CA is verified already");
	return 0;
}

/* Answers 200 {"external_ca_id", "verification_code", "expires_at"}. */
static int
code_send(struct resp *rs, int64_t id, const char *code,
	  const struct db_result *res)
{
	struct json_object *o;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_id(o, "external_ca_id", id)) == 0 &&
	    (r = rest_put_str(o, "verification_code", code)) == 0 &&
	    (r = rest_put_time(o, "expires_at",
			       db_result_str(res, 0, DB_EXTCA_CODE_EXPIRES_AT,
					     NULL))) == 0)
		r = rest_send(rs, 200, o, NULL);
	json_object_put(o);
	return r;
}

static int
code_tx(struct db *db, const struct principal *p, const struct request *req,
	int64_t id, const char *code, struct db_result **out,
	struct jsonval_error *e)
{
	struct db_result *res = NULL, *now = NULL;
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = api_extca_lock(db, req, id, 0, &res, e)) != 0)
		return r;
	if ((r = verifiable(res, e)) != 0 ||
	    (r = db_extca_set_code(db, id, code, EXTCERT_CODE_TTL)) != 0 ||
	    (r = db_extca_get(db, id, 0, &now)) != 0 ||
	    (r = rest_diff_note(&d, "verification_code", "issued")) != 0 ||
	    (r = rest_diff_str(
		     &d, "verification_expires_at",
		     db_result_str(res, 0, DB_EXTCA_CODE_EXPIRES_AT, NULL),
		     db_result_str(now, 0, DB_EXTCA_CODE_EXPIRES_AT, NULL))) !=
		    0)
		goto out;
	api_extca_what(&w, "verification_code", res);
	if ((r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
	*out = now;
	now = NULL;
out:
	rest_diff_clear(&d);
	db_result_free(now);
	db_result_free(res);
	return r;
}

static int
h_code(struct hctx *c, const struct request *req, const struct principal *p,
       struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_result *res = NULL;
	char code[EXTCERT_CODE_LEN + 1];
	struct db *db = NULL;
	int64_t id = 0;
	int r;

	memset(code, 0, sizeof(code));
	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_body_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_extca_access(db, p, req, id, PERM_ACT_VERIFY,
				  "verification_code", &e)) != 0 ||
	    (r = extcert_code_new(code)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = code_tx(db, p, req, id, code, &res, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = code_send(rs, id, code, res);
out:
	explicit_bzero(code, sizeof(code));
	db_result_free(res);
	return rest_answer(rs, r, &e);
}

/*
 * The audit row of a refused proof, in a transaction of its own (the
 * change's was rolled back): who tried, on which CA, and why it failed.
 */
static int
audit_failure(struct db *db, const struct principal *p,
	      const struct request *req, const struct rest_what *w,
	      const char *reason)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	auth_audit_actor(p, req, &ev);
	ev.tenant_id = w->tenant_id;
	ev.org_id = w->org_id;
	ev.entity = perm_entity_name(w->entity);
	ev.entity_id = w->id;
	ev.entity_name = w->name;
	ev.action = w->action;
	ev.outcome = AUDIT_FAILURE;
	ev.reason = reason;
	return db_audit_append(db, &ev);
}

/*
 * Checks the proof against the locked row res: a live code, and a
 * certificate that the CA signed for it.
 */
static int
proof_check(const struct db_result *res, X509 *proof, struct jsonval_error *e)
{
	const char *der, *code;
	size_t len = 0;
	X509 *ca = NULL;
	int r;

	code = db_result_str(res, 0, DB_EXTCA_CODE, NULL);
	if (code == NULL)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "code",
					 "no verification code: request one "
					 "first");
	if (db_result_i64(res, 0, DB_EXTCA_CODE_LIVE) == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "code",
					 "the verification code has expired: "
					 "request a new one");
	if ((der = db_result_str(res, 0, DB_EXTCA_CERT_DER, &len)) == NULL ||
	    x509_cert_from_der((const uint8_t *)der, len, &ca) != 0)
		return EST_E_INTERNAL;
	r = extcert_check_proof(ca, proof, code, "certificate", e);
	X509_free(ca);
	return r;
}

static int
verify_tx(struct db *db, const struct principal *p, const struct request *req,
	  int64_t id, X509 *proof, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	char fp[2 * 32 + 1];
	uint8_t md[32];
	unsigned int mdlen = 0;
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = api_extca_lock(db, req, id, 0, &res, e)) != 0)
		return r;
	if ((r = verifiable(res, e)) != 0 ||
	    (proof != NULL && (r = proof_check(res, proof, e)) != 0) ||
	    (r = db_extca_set_verified(db, id, auth_user_id(p))) != 0 ||
	    (r = rest_diff_str(&d, "status",
			       db_result_str(res, 0, DB_EXTCA_STATUS, NULL),
			       EXTCA_STATUS_VERIFIED)) != 0 ||
	    (r = rest_diff_note(&d, "method",
				proof != NULL ? "proof_of_possession"
					      : "manual")) != 0)
		goto out;
	if (proof != NULL) {
		if (X509_digest(proof, EVP_sha256(), md, &mdlen) != 1 ||
		    mdlen != sizeof(md)) {
			r = EST_E_CRYPTO;
			goto out;
		}
		hex_encode(md, sizeof(md), fp);
		if ((r = rest_diff_str(&d, "proof_fingerprint", NULL, fp)) != 0)
			goto out;
	}
	api_extca_what(&w, "verify", res);
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

/*
 * The body: either the proof's "certificate" or "manual": true.  *proof
 * receives the parsed certificate (NULL for a manual verification).
 */
static int
verify_body(struct json_object *body, X509 **proof, struct jsonval_error *e)
{
	const char *pem = jsonval_get_string(body, "certificate");
	int manual = 0;

	(void)jsonval_get_bool(body, "manual", &manual);
	if (jsonval_presence(body, "manual") == JV_PRESENT && !manual)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "manual",
					 "must be true when sent");
	if ((pem != NULL) == manual)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "certificate",
					 "send either the proof certificate "
					 "or \"manual\": true");
	*proof = NULL;
	if (manual)
		return 0;
	return extcert_pem(pem, strlen(pem), "certificate", proof, NULL, NULL,
			   e);
}

static int
h_verify(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db_result *row = NULL;
	struct rest_what w;
	struct db *db = NULL;
	X509 *proof = NULL;
	int64_t id = 0;
	int r, ar, proving = 0;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_extca_load(db, p, req, id, PERM_ACT_VERIFY, "verify", &row,
				&e)) != 0 ||
	    (r = rest_body(req, verify_fields, NELEM(verify_fields), &body,
			   &e)) != 0)
		goto out;
	proving = jsonval_presence(body, "certificate") == JV_PRESENT;
	if ((r = verify_body(body, &proof, &e)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = verify_tx(db, p, req, id, proof, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	api_ca_web_refresh(c);
	r = api_extca_send(db, id, 200, rs);
out:
	/* A refused proof is worth a line in the log: someone tried. */
	if (proving && r == EST_E_UNPROCESSABLE && e.code == r) {
		api_extca_what(&w, "verify", row);
		if ((ar = audit_failure(db, p, req, &w, e.message)) != 0)
			r = ar;
	}
	X509_free(proof);
	json_object_put(body);
	db_result_free(row);
	return rest_answer(rs, r, &e);
}

REST_ROUTE_GET(api_extca_r_get, extca_ops)
AUTH_ROUTE_PUBLIC(api_extca_r_delete, h_delete)
AUTH_ROUTE_PUBLIC(api_extca_r_activate, h_activate)
AUTH_ROUTE_PUBLIC(api_extca_r_deactivate, h_deactivate)
AUTH_ROUTE_PUBLIC(api_extca_r_code, h_code)
AUTH_ROUTE_PUBLIC(api_extca_r_verify, h_verify)
