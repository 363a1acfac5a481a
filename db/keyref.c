/*
 * The rows that refer to a key pair of the signer (db/keyref.h).  A key
 * is in use while a CA row names it; a deleted CA's row is gone, and so
 * is its claim on the key.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"
#include "keyref.h"

static const struct db_stmt_def keyref_stmts[] = {
#define KEYREF_FIND 0
	/* Column 3 is 1 for the CA's own key, which is named first. */
	{"keyref_find",
	 "SELECT id, name, key_id = ? FROM cas"
	 " WHERE key_id = ? OR ocsp_key_id = ?"
	 " ORDER BY 3 DESC, id LIMIT 1",
	 3},
#define KEYREF_ALL 1
	{"keyref_all",
	 "SELECT key_id FROM cas"
	 " UNION SELECT ocsp_key_id FROM cas WHERE ocsp_key_id IS NOT NULL",
	 0},
};

int
db_keyref_find(struct db *db, const uint8_t id[DB_KEYREF_ID_LEN],
	       struct db_keyref *out)
{
	struct db_param p[3];
	struct db_result *res = NULL;
	const char *name;
	char *copy = NULL;
	int r;

	p[0] = p[1] = p[2] = DB_BLOB(id, DB_KEYREF_ID_LEN);
	if ((r = db_query_one(db, &keyref_stmts[KEYREF_FIND], p, 3, &res)) != 0)
		return r;
	if ((name = db_result_str(res, 0, 1, NULL)) == NULL ||
	    (copy = strdup(name)) == NULL) {
		db_result_free(res);
		return name == NULL ? EST_E_INTERNAL : EST_E_NOMEM;
	}
	out->ca_id = db_result_i64(res, 0, 0);
	out->ca_name = copy;
	out->ocsp = db_result_i64(res, 0, 2) == 0;
	db_result_free(res);
	return 0;
}

void
db_keyref_clear(struct db_keyref *ref)
{
	if (ref == NULL)
		return;
	free(ref->ca_name);
	memset(ref, 0, sizeof(*ref));
}

int
db_keyref_all(struct db *db, uint8_t **ids, size_t *n)
{
	struct db_result *res = NULL;
	uint8_t *all = NULL;
	const char *v;
	size_t rows, i, len;
	int r;

	if ((r = db_query(db, &keyref_stmts[KEYREF_ALL], NULL, 0, &res)) != 0)
		return r;
	rows = db_result_rows(res);
	if ((all = calloc(rows ? rows : 1, DB_KEYREF_ID_LEN)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < rows; i++) {
		len = 0;
		if ((v = db_result_str(res, i, 0, &len)) == NULL ||
		    len != DB_KEYREF_ID_LEN) {
			r = EST_E_INTERNAL;
			goto out;
		}
		memcpy(all + i * DB_KEYREF_ID_LEN, v, DB_KEYREF_ID_LEN);
	}
	*ids = all;
	*n = rows;
	all = NULL;
	r = 0;
out:
	free(all);
	db_result_free(res);
	return r;
}
