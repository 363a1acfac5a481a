/*
 * A device's password hash for EST (db/est_devpw.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "est_devpw.h"

static const struct db_stmt_def devpw_stmt = {
	"est_device_password",
	"SELECT id, password_hash FROM devices WHERE tenant_id = ? AND name = "
	"?",
	2};

int
db_est_device_password(struct db *db, int64_t tenant_id, const char *name,
		       int64_t *id, char **hash)
{
	struct db_result *res = NULL;
	struct db_param p[2];
	const char *h;
	char *copy = NULL;
	int r;

	if (name == NULL || tenant_id <= 0)
		return EST_E_INVAL;
	p[0] = DB_I64(tenant_id);
	p[1] = DB_STR(name);
	if ((r = db_query_one(db, &devpw_stmt, p, 2, &res)) != 0)
		return r;
	if ((h = db_result_str(res, 0, 1, NULL)) != NULL &&
	    (copy = strdup(h)) == NULL) {
		db_result_free(res);
		return EST_E_NOMEM;
	}
	*id = db_result_i64(res, 0, 0);
	*hash = copy;
	db_result_free(res);
	return 0;
}
