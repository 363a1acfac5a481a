/*
 * The handlers every entity has in the same shape: read, delete, activate
 * and deactivate one object named by the route's {id} capture.  The entity
 * gives its access check, its change and its answer (struct
 * rest_entity_ops); the order of the checks and the transaction are here
 * once.
 */
#include "config.h"

#include <stdint.h>

#include "ctx.h"
#include "db.h"
#include "resp.h"
#include "rest.h"

/* The checks before a change: no query, no body, a valid id, access. */
static int
change_prepare(struct hctx *c, const struct request *req,
	       const struct principal *p, const struct rest_entity_ops *ops,
	       enum perm_action act, const char *action, int refuse,
	       struct db **db, int64_t *id, struct jsonval_error *e)
{
	int r;

	if ((r = rest_query_none(req, e)) != 0 ||
	    (r = rest_body_none(req, e)) != 0 ||
	    (r = rest_cap_id(c, "id", id, e)) != 0 ||
	    (r = ctx_db(c, db)) != 0 ||
	    (r = ops->access(*db, p, req, *id, act, action, e)) != 0)
		return r;
	if (refuse && ops->refuse != NULL)
		return ops->refuse(p, *id, action, e);
	return 0;
}

int
rest_get(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs, const struct rest_entity_ops *ops)
{
	struct jsonval_error e = {0};
	struct db *db = NULL;
	int64_t id = 0;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = ops->access(db, p, req, id, PERM_ACT_READ, "read", &e)) != 0)
		goto out;
	r = ops->send(db, id, 200, rs);
out:
	return rest_answer(rs, r, &e);
}

int
rest_delete(struct hctx *c, const struct request *req,
	    const struct principal *p, struct resp *rs,
	    const struct rest_entity_ops *ops)
{
	struct jsonval_error e = {0};
	struct db *db = NULL;
	int64_t id = 0;
	int r;

	if ((r = change_prepare(c, req, p, ops, PERM_ACT_DELETE, "delete", 1,
				&db, &id, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = ops->delete_tx(db, p, req, id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = resp_empty(rs, 204);
out:
	return rest_answer(rs, r, &e);
}

int
rest_set_active(struct hctx *c, const struct request *req,
		const struct principal *p, struct resp *rs,
		const struct rest_entity_ops *ops, int active)
{
	struct jsonval_error e = {0};
	struct db *db = NULL;
	int64_t id = 0;
	int r;

	if ((r = change_prepare(c, req, p, ops,
				active ? PERM_ACT_ACTIVATE
				       : PERM_ACT_DEACTIVATE,
				active ? "activate" : "deactivate", !active,
				&db, &id, &e)) != 0 ||
	    (r = db_begin(db)) != 0)
		goto out;
	r = ops->state_tx(db, p, req, id, active, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = ops->send(db, id, 200, rs);
out:
	return rest_answer(rs, r, &e);
}
