/*
 * Shared by db/device.c, db/device_list.c and db/device_bulk.c: the
 * columns of a device row as device_from_row() reads them, and the
 * parameters of one as an INSERT writes them.
 */
#ifndef ESTUARY_DB_DEVICE_INT_H
#define ESTUARY_DB_DEVICE_INT_H

#include <stddef.h>

struct db_device_new;
struct db_param;
struct db_result;
struct device;

/*
 * The columns of a device, with der the expression of the external
 * factory certificate: "d.factory_cert_der" for one device, "NULL" in
 * lists (a page of rows does not carry certificates).
 */
#define DEVICE_COLS(der)                                                       \
	"d.id, d.name, d.tenant_id, d.org_id, d.device_type_id,"               \
	" d.description, d.mode, d.mode_before_disable, d.serial_number,"      \
	" d.model, d.hardware_version, d.manufacturer, d.device_class,"        \
	" d.firmware, d.descriptive_location, d.password_hash IS NOT NULL,"    \
	" DATE_FORMAT(d.password_set_at, '%Y-%m-%d %H:%i:%s.%f'),"             \
	" d.factory_cert_fingerprint, " der ", d.created_via,"                 \
	" d.created_by_user_id, d.created_by_app_id,"                          \
	" DATE_FORMAT(d.last_seen_at, '%Y-%m-%d %H:%i:%s.%f'),"                \
	" DATE_FORMAT(d.created_at, '%Y-%m-%d %H:%i:%s.%f'),"                  \
	" DATE_FORMAT(d.updated_at, '%Y-%m-%d %H:%i:%s.%f')"
#define DEVICE_COLUMNS DEVICE_COLS("d.factory_cert_der")
#define DEVICE_LIST_COLUMNS DEVICE_COLS("NULL")

enum device_col {
	DC_ID = 0,
	DC_NAME,
	DC_TENANT,
	DC_ORG,
	DC_TYPE,
	DC_DESC,
	DC_MODE,
	DC_MODE_BEFORE,
	DC_PROPS, /* the seven properties, in enum subj_prop order */
	DC_HAS_PASSWORD = DC_PROPS + 7,
	DC_PASSWORD_SET_AT,
	DC_FP,
	DC_FACTORY_DER,
	DC_CREATED_VIA,
	DC_CREATED_BY_USER,
	DC_CREATED_BY_APP,
	DC_LAST_SEEN,
	DC_CREATED_AT,
	DC_UPDATED_AT,
};

/*
 * The DEVICE_ROW_PARAMS parameters of a new device n, in the order of
 * the columns of db_device_insert() (name, tenant, organization, type,
 * description, mode, the seven properties, the password hash twice, the
 * factory fingerprint and DER, created_via, creators); empty strings and
 * ids of 0 become NULL.
 */
#define DEVICE_ROW_PARAMS 20
void device_row_params(const struct db_device_new *n, struct db_param *p);

/* Row row of res (DEVICE_COLS) as a new struct device. */
int device_from_row(const struct db_result *res, size_t row,
		    struct device **out);

#endif
