/*
 * What the user endpoints share (fcgi/api_user.c, api_user_cred.c,
 * api_user_common.c): the JSON form of a user, access checks, locking
 * with If-Match, role grants and new passwords.
 */
#ifndef ESTUARY_API_USER_H
#define ESTUARY_API_USER_H

#include <stdint.h>

#include "api_admin.h"
#include "dbq.h"
#include "rest.h"

#define USER_BASE "/api/v1/users"
#define USER_NAME_MAX 64       /* users.username */
#define USER_FULL_NAME_MAX 255 /* users.full_name */
#define USER_EMAIL_MAX 254
#define USER_PASSWORD_MIN 8	   /* characters of a chosen password */
#define USER_PASSWORD_GEN_BYTES 18 /* 144 bits: 24 characters */

struct db_result;
struct json_object;

void user_what(struct rest_what *w, const char *action, int64_t id,
	       const char *name, int64_t tenant_id, int64_t org_id);

/*
 * Row row of a db_user_get()/db_user_list() result as the API shows it:
 * the columns of enum db_user_col and "strong_auth" (a certificate is
 * bound), never a password hash.
 */
int user_json(const struct db_result *res, size_t row,
	      struct json_object **out);

/*
 * Answers status (200 or 201) with user id as it is now and its ETag;
 * password, unless NULL, is added as "password" (a generated one, shown
 * once).
 */
int user_send(struct db *db, int64_t id, int status, const char *password,
	      struct resp *rs);

/*
 * The row hooks of a user (struct rest_entity_ops): read, ETag, audit
 * names, place, state.
 */
extern const struct rest_entity_ops user_rows;

/* The record of row 0 of res (strings borrowed from res). */
void user_rec(const struct db_result *res, struct db_user_rec *u);

/*
 * Reads user id and asks whether p may act on it (rest_perm): 404 for a
 * user that does not exist or that p may not know of.
 */
int user_access(struct db *db, const struct principal *p,
		const struct request *req, int64_t id, enum perm_action act,
		const char *action, struct jsonval_error *e);

/*
 * Reads user id FOR UPDATE and checks If-Match: always when need_match,
 * else only when the request sent one.  *out on success.
 */
int user_lock(struct db *db, const struct request *req, int64_t id,
	      int need_match, struct db_result **out, struct jsonval_error *e);

/*
 * May p give u->role in u's tenant and organization?  0; 422 naming the
 * field that does not fit the role; 403 or 404 (audited as denied).
 */
int user_may_assign(struct db *db, const struct principal *p,
		    const struct request *req, const struct rest_what *w,
		    const struct db_user_rec *u, struct jsonval_error *e);

/*
 * Inside the transaction: the tenant and organization (0 for none) exist,
 * are active and belong together, else 422 on tenant_id or org_id.  The
 * rows are locked until the commit.
 */
int user_place_usable(struct db *db, int64_t tenant_id, int64_t org_id,
		      struct jsonval_error *e);

/*
 * The fields of old and u that differ into d (old NULL for a create, u
 * NULL for a delete).
 */
int user_diff(struct rest_diff *d, const struct db_user_rec *old,
	      const struct db_user_rec *u);

/*
 * A new password's hash: of given, or of a generated password returned in
 * *pw (NULL when given).  Both are wiped and freed with freezero_str().
 * field names given in errors.
 */
int user_password_new(const char *given, const char *field, char **pw,
		      char **hash, struct jsonval_error *e);

#endif
