/*
 * A user's credentials: the password and the client certificate bound
 * for strong authentication (guide §1.1).
 *
 * POST /api/v1/users/{id}/password.  Changing one's own password is not a
 * permission of the table (docs/permissions.md): every user may, with the
 * current password.  Setting another user's password is a reset, allowed
 * to whoever may update that user, without the current password.  With no
 * new_password a random one is generated and returned once.  The audit
 * row says only "password": "changed".
 *
 * PUT /api/v1/users/{id}/certificate binds the SHA-256 fingerprint of a
 * PEM certificate; DELETE unbinds it.  Both are updates of the user.
 * If-Match is checked on all three when sent.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/x509.h>

#include "api_user.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "passwd.h"
#include "resp.h"
#include "rest.h"
#include "util.h"
#include "x509.h"

#define USER_CERT_PEM_MAX 32768 /* characters of the PEM text */
#define FP_LEN 32		/* SHA-256 */

static const struct jsonval_field password_fields[] = {
	{.name = "current_password",
	 .type = JV_STRING,
	 .min_len = 1,
	 .max_len = PASSWD_MAX},
	{.name = "new_password",
	 .type = JV_STRING,
	 .min_len = USER_PASSWORD_MIN,
	 .max_len = PASSWD_MAX},
};

static const struct jsonval_field cert_fields[] = {
	{.name = "certificate",
	 .type = JV_STRING,
	 .required = 1,
	 .multiline = 1,
	 .min_len = 1,
	 .max_len = USER_CERT_PEM_MAX},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int
is_self(const struct principal *p, int64_t id)
{
	return p->kind == PRINCIPAL_USER && p->id == id;
}

/*
 * Inside the transaction, with the row locked: for one's own password,
 * the current one must verify.
 */
static int
password_tx(struct db *db, const struct principal *p, const struct request *req,
	    int64_t id, const char *current, const char *hash,
	    struct jsonval_error *e)
{
	struct db_result *res = NULL;
	struct db_user_rec u;
	char *stored = NULL;
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = user_lock(db, req, id, 0, &res, e)) != 0)
		return r;
	user_rec(res, &u);
	if (current != NULL) {
		if ((r = db_user_password_hash(db, id, &stored)) != 0)
			goto out;
		if ((r = passwd_verify(current, stored)) == EST_E_DENIED) {
			r = jsonval_error_set(e, r, "current_password",
					      "wrong password");
			goto out;
		}
		if (r != 0)
			goto out;
	}
	user_what(&w, "password", id, u.username, u.tenant_id, u.org_id);
	if ((r = db_user_set_password(db, id, hash)) != 0 ||
	    (r = rest_diff_note(&d, "password", "changed")) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	freezero_str(stored);
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

static int
h_user_password(struct hctx *c, const struct request *req,
		const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db_result *res = NULL;
	const char *current, *given;
	char *pw = NULL, *hash = NULL;
	struct db_user_rec u;
	struct rest_what w;
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (!is_self(p, id) &&
	     (r = user_access(db, p, req, id, PERM_ACT_UPDATE, "password",
			      &e)) != 0) ||
	    (r = rest_body_optional(req, password_fields,
				    NELEM(password_fields), &body, &e)) != 0)
		goto out;
	/* Without a body: a reset to a generated password. */
	current = body != NULL ? jsonval_get_string(body, "current_password")
			       : NULL;
	given = body != NULL ? jsonval_get_string(body, "new_password") : NULL;
	/* One's own password needs the current one; a reset does not. */
	if (is_self(p, id) && current == NULL) {
		r = jsonval_error_set(&e, EST_E_UNPROCESSABLE,
				      "current_password", "required");
		goto out;
	}
	if (!is_self(p, id) && current != NULL) {
		r = jsonval_error_set(&e, EST_E_UNPROCESSABLE,
				      "current_password",
				      "only for one's own password");
		goto out;
	}
	if ((r = user_password_new(given, "new_password", &pw, &hash, &e)) !=
		    0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = password_tx(db, p, req, id, current, hash, &e);
	r = rest_tx_end(db, r);
	/* A wrong current password is a refused change: audit it. */
	if (r == EST_E_DENIED && db_user_get(db, id, 0, &res) == 0) {
		user_rec(res, &u);
		user_what(&w, "password", id, u.username, u.tenant_id,
			  u.org_id);
		if (rest_audit_denied(db, p, req, &w, "wrong password") != 0)
			r = EST_E_DB;
	}
	if (r != 0)
		goto out;
	r = user_send(db, id, 200, given == NULL ? pw : NULL, rs);
out:
	freezero_str(pw);
	freezero_str(hash);
	db_result_free(res);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

/* The fingerprint of the one certificate in pem, else 422. */
static int
cert_fingerprint(const char *pem, uint8_t fp[FP_LEN], struct jsonval_error *e)
{
	X509 *x = NULL;
	int r;

	if (x509_cert_from_pem(pem, strlen(pem), &x) != 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "certificate",
					 "not a PEM certificate");
	r = auth_cert_fingerprint(x, fp);
	X509_free(x);
	return r;
}

/* Binds fp (NULL: unbinds) inside the transaction. */
static int
cert_tx(struct db *db, const struct principal *p, const struct request *req,
	int64_t id, const uint8_t *fp, struct jsonval_error *e)
{
	char oldhex[2 * FP_LEN + 1], newhex[2 * FP_LEN + 1];
	const char *old;
	struct db_result *res = NULL;
	struct db_user_rec u;
	struct rest_diff d;
	struct rest_what w;
	size_t len = 0;
	int r;

	rest_diff_init(&d);
	if ((r = user_lock(db, req, id, 0, &res, e)) != 0)
		return r;
	user_rec(res, &u);
	old = db_result_str(res, 0, DB_USER_CERT_FINGERPRINT, &len);
	if (old != NULL && len == FP_LEN)
		hex_encode((const uint8_t *)old, FP_LEN, oldhex);
	if (fp != NULL)
		hex_encode(fp, FP_LEN, newhex);
	if ((r = rest_diff_str(&d, "cert_fingerprint",
			       old != NULL ? oldhex : NULL,
			       fp != NULL ? newhex : NULL)) != 0 ||
	    rest_diff_empty(&d))
		goto out;
	if ((r = db_user_set_cert(db, id, fp)) == EST_E_EXISTS) {
		r = rest_fail(e, r, "certificate");
		goto out;
	}
	user_what(&w, fp != NULL ? "bind_certificate" : "unbind_certificate",
		  id, u.username, u.tenant_id, u.org_id);
	if (r == 0)
		r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

static int
h_user_cert_set(struct hctx *c, const struct request *req,
		const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	uint8_t fp[FP_LEN];
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = user_access(db, p, req, id, PERM_ACT_UPDATE,
			     "bind_certificate", &e)) != 0 ||
	    (r = rest_body(req, cert_fields, NELEM(cert_fields), &body, &e)) !=
		    0 ||
	    (r = cert_fingerprint(jsonval_get_string(body, "certificate"), fp,
				  &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = cert_tx(db, p, req, id, fp, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = user_send(db, id, 200, NULL, rs);
out:
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

static int
h_user_cert_delete(struct hctx *c, const struct request *req,
		   const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_body_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = user_access(db, p, req, id, PERM_ACT_UPDATE,
			     "unbind_certificate", &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = cert_tx(db, p, req, id, NULL, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = resp_empty(rs, 204);
out:
	return rest_answer(rs, r, &e);
}

AUTH_ROUTE_PUBLIC(api_user_password, h_user_password)
AUTH_ROUTE_PUBLIC(api_user_cert_set, h_user_cert_set)
AUTH_ROUTE_PUBLIC(api_user_cert_delete, h_user_cert_delete)
