/*
 * The state changes of an API application, none with a body
 * (fcgi/api_app.h): activate, deactivate, rotate the key, revoke.  Each
 * locks the row, checks the state, changes it and appends the audit row
 * in one transaction.  Revocation is for good: a revoked application can
 * be neither activated nor rotated, and its certificate is revoked with
 * it.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "api_app.h"
#include "apiapp.h"
#include "apiapp_admin.h"
#include "auth.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "jsonval.h"
#include "perm.h"
#include "rest.h"
#include "util.h"

/* The state changes that take no body. */
enum app_op {
	OP_ACTIVATE,
	OP_DEACTIVATE,
	OP_ROTATE,
	OP_REVOKE,
};

static const struct {
	enum perm_action act;
	const char *action;
} app_ops[] = {
	[OP_ACTIVATE] = {PERM_ACT_ACTIVATE, "activate"},
	[OP_DEACTIVATE] = {PERM_ACT_DEACTIVATE, "deactivate"},
	[OP_ROTATE] = {PERM_ACT_ROTATE_KEY, "rotate_key"},
	[OP_REVOKE] = {PERM_ACT_REVOKE_KEY, "revoke_key"},
};

/*
 * Applies op to the locked row cur.  *key receives a rotated key.  An
 * activation or deactivation that finds the state already set changes
 * nothing (*changed 0); a revoked application can be neither activated,
 * rotated nor revoked again (409).
 */
static int
apply_op(struct db *db, enum app_op op, const struct db_apiapp_info *cur,
	 char **key, int *changed, struct jsonval_error *e)
{
	char app_id[APIAPP_ID_LEN + 1], hash[APIAPP_KEY_HASH_LEN + 1];
	int r;

	*changed = 1;
	if (cur->revoked && op != OP_DEACTIVATE)
		return jsonval_error_set(e, EST_E_CONFLICT, "id",
					 "the application is revoked");
	switch (op) {
	case OP_ACTIVATE:
	case OP_DEACTIVATE:
		if (cur->active == (op == OP_ACTIVATE)) {
			*changed = 0;
			return 0;
		}
		return db_apiapp_set_active(db, cur->id, op == OP_ACTIVATE);
	case OP_ROTATE:
		/* The same generator as at creation; the new AppID is unused. */
		if ((r = apiapp_credentials_new(app_id, key, hash)) != 0)
			return r;
		r = db_apiapp_rotate(db, cur->id, hash);
		explicit_bzero(hash, sizeof(hash));
		return r;
	case OP_REVOKE:
		if ((r = db_apiapp_revoke(db, cur->id)) != 0)
			return r;
		/* The certificate dies with the application. */
		if (cur->certificate_id > 0)
			r = db_apiapp_cert_revoke(db, cur->certificate_id,
						  APIAPP_REASON_CESSATION);
		return r;
	}
	return EST_E_INTERNAL;
}

static int
h_op(struct hctx *c, const struct request *req, const struct principal *p,
     struct resp *rs, enum app_op op)
{
	struct jsonval_error e = {0};
	struct db_apiapp_info *a = NULL, *cur = NULL, *b = NULL;
	struct rest_diff d;
	struct rest_what w;
	struct db *db = NULL;
	char *key = NULL;
	int r, changed = 0, in_tx = 0;

	rest_diff_init(&d);
	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_body_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = api_app_load(c, db, req, p, app_ops[op].act,
			      app_ops[op].action, &a, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	in_tx = 1;
	if ((r = api_app_relock(db, req, a->id, 0, &cur, &e)) != 0 ||
	    (r = apply_op(db, op, cur, &key, &changed, &e)) != 0 ||
	    (r = db_apiapp_info_get(db, cur->id, 0, &b)) != 0)
		goto out;
	if (changed) {
		if ((r = api_app_diff(&d, cur, b)) != 0 ||
		    (op == OP_ROTATE &&
		     (r = rest_diff_note(&d, "app_key", "rotated")) != 0))
			goto out;
		api_app_what(b, app_ops[op].action, &w);
		if ((r = rest_audit(db, p, req, &w, &d)) != 0)
			goto out;
	}
	in_tx = 0;
	if ((r = rest_tx_end(db, 0)) != 0)
		goto out;
	r = api_app_send(rs, 200, b, key);
out:
	if (in_tx)
		r = rest_tx_end(db, r);
	freezero_str(key);
	rest_diff_clear(&d);
	db_apiapp_info_free(a);
	db_apiapp_info_free(cur);
	db_apiapp_info_free(b);
	return rest_answer(rs, r, &e);
}

static int
h_activate(struct hctx *c, const struct request *req, const struct principal *p,
	   struct resp *rs)
{
	return h_op(c, req, p, rs, OP_ACTIVATE);
}

static int
h_deactivate(struct hctx *c, const struct request *req,
	     const struct principal *p, struct resp *rs)
{
	return h_op(c, req, p, rs, OP_DEACTIVATE);
}

static int
h_rotate(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	return h_op(c, req, p, rs, OP_ROTATE);
}

static int
h_revoke(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	return h_op(c, req, p, rs, OP_REVOKE);
}

AUTH_ROUTE_PUBLIC(api_app_r_activate, h_activate)
AUTH_ROUTE_PUBLIC(api_app_r_deactivate, h_deactivate)
AUTH_ROUTE_PUBLIC(api_app_r_rotate, h_rotate)
AUTH_ROUTE_PUBLIC(api_app_r_revoke, h_revoke)
