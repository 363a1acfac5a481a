/*
 * The one read of a device's password hash: EST's device ID/password
 * authentication (fcgi/est_auth.c), where the device ID is the device's
 * name in the EST server's tenant.  Nothing else reads the column; the
 * devices API only says whether a password is set (db/device.h).
 */
#ifndef ESTUARY_DB_EST_DEVPW_H
#define ESTUARY_DB_EST_DEVPW_H

#include <stdint.h>

struct db;

/*
 * The id of tenant_id's device named name and its argon2id password hash
 * (*hash, freed by the caller with freezero_str(); NULL when the device
 * has no password).  EST_E_NOTFOUND when there is no such device.
 */
int db_est_device_password(struct db *db, int64_t tenant_id, const char *name,
			   int64_t *id, char **hash);

#endif
