/*
 * Devices: one device, its attribute values and its state changes
 * (db/device.h).  Lists are in device_list.c, certificates and credential
 * files in device_cred.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "device.h"
#include "device_int.h"
#include "err.h"
#include "util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const mode_names[] = {
	[DEVICE_MODE_NEW] = "NEW",
	[DEVICE_MODE_FACTORY] = "FACTORY",
	[DEVICE_MODE_OPERATIONAL] = "OPERATIONAL",
	[DEVICE_MODE_DISABLED] = "DISABLED",
};

static const struct db_stmt_def dev_stmts[] = {
#define D_INSERT 0
	{"device_insert",
	 "INSERT INTO devices (name, tenant_id, org_id, device_type_id,"
	 " description, mode, serial_number, model, hardware_version,"
	 " manufacturer, device_class, firmware, descriptive_location,"
	 " password_hash, password_set_at, factory_cert_fingerprint,"
	 " factory_cert_der, created_via, created_by_user_id,"
	 " created_by_app_id)"
	 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	 " IF(? IS NULL, NULL, CURRENT_TIMESTAMP(6)), ?, ?, ?, ?, ?)",
	 20},
#define D_GET 1
	{"device_get",
	 "SELECT " DEVICE_COLUMNS " FROM devices d WHERE d.id = ?", 1},
#define D_GET_LOCK 2
	{"device_get_lock",
	 "SELECT " DEVICE_COLUMNS " FROM devices d WHERE d.id = ? FOR UPDATE",
	 1},
#define D_FIND_FP 3
	/* Answered from the unique index alone (it holds the id). */
	{"device_find_fp",
	 "SELECT id FROM devices WHERE factory_cert_fingerprint = ?", 1},
#define D_FIND_NAME 4
	{"device_find_name",
	 "SELECT id FROM devices WHERE tenant_id = ? AND name = ?", 2},
#define D_ATTRS 5
	{"device_attrs",
	 "SELECT a.id, a.name, v.value FROM device_type_attributes a"
	 " LEFT JOIN device_attributes v ON v.attribute_id = a.id"
	 " AND v.device_id = ? WHERE a.device_type_id = ?"
	 " ORDER BY a.position",
	 2},
#define D_UPDATE 6
	{"device_update",
	 "UPDATE devices SET description = ?, serial_number = ?, model = ?,"
	 " hardware_version = ?, manufacturer = ?, device_class = ?,"
	 " firmware = ?, descriptive_location = ?,"
	 " updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
	 9},
#define D_ATTR_SET 7
	{"device_attr_set",
	 "INSERT INTO device_attributes (device_id, attribute_id, value)"
	 " VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE value = VALUES(value)",
	 3},
#define D_ATTR_DEL 8
	{"device_attr_del",
	 "DELETE FROM device_attributes WHERE device_id = ?"
	 " AND attribute_id = ?",
	 2},
/*
 * The mode and what Enable restores change together, so that the CHECK
 * constraint devices_disabled always holds.
 */
#define D_SET_MODE 9
	{"device_set_mode",
	 "UPDATE devices SET mode = ?, mode_before_disable = ?,"
	 " updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
	 3},
#define D_SET_FACTORY 10
	{"device_set_factory",
	 "UPDATE devices SET factory_cert_fingerprint = ?,"
	 " factory_cert_der = ?, updated_at = CURRENT_TIMESTAMP(6)"
	 " WHERE id = ?",
	 3},
#define D_TOUCH 11
	{"device_touch",
	 "UPDATE devices SET updated_at = CURRENT_TIMESTAMP(6) WHERE id = ?",
	 1},
#define D_UNBIND 12
	{"device_unbind_certs",
	 "UPDATE certificates SET device_id = NULL WHERE device_id = ?", 1},
#define D_DELETE 13
	{"device_delete", "DELETE FROM devices WHERE id = ?", 1},
};

const char *
device_mode_name(enum device_mode m)
{
	return (unsigned)m < NELEM(mode_names) ? mode_names[m] : NULL;
}

int
device_mode_value(const char *s, enum device_mode *m)
{
	size_t i;

	for (i = 0; s != NULL && i < NELEM(mode_names); i++)
		if (strcmp(mode_names[i], s) == 0) {
			*m = (enum device_mode)i;
			return 0;
		}
	return EST_E_INVAL;
}

struct device *
device_new(void)
{
	return calloc(1, sizeof(struct device));
}

void
device_free(struct device *d)
{
	size_t i;

	if (d == NULL)
		return;
	free(d->name);
	free(d->description);
	for (i = 0; i < SUBJ_PROP_COUNT; i++)
		free(d->props[i]);
	free(d->password_set_at);
	free(d->factory_cert_der);
	free(d->created_via);
	free(d->last_seen_at);
	free(d->created_at);
	free(d->updated_at);
	for (i = 0; i < d->nattrs; i++) {
		free(d->attrs[i].name);
		free(d->attrs[i].value);
	}
	free(d->attrs);
	free(d);
}

/* A copy of a column, NULL for SQL NULL; *nomem set when copying failed. */
static char *
col_dup(const struct db_result *res, size_t row, size_t col, int *nomem)
{
	const char *s = db_result_str(res, row, col, NULL);
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*nomem = 1;
	return d;
}

/* An empty property reads as none, whatever a writer stored. */
static char *
prop_dup(const struct db_result *res, size_t row, size_t col, int *nomem)
{
	const char *s = db_result_str(res, row, col, NULL);

	if (s == NULL || *s == '\0')
		return NULL;
	return col_dup(res, row, col, nomem);
}

int
device_from_row(const struct db_result *res, size_t row, struct device **out)
{
	struct device *d;
	const char *s;
	size_t len = 0, i;
	int nomem = 0, r = 0;

	if ((d = device_new()) == NULL)
		return EST_E_NOMEM;
	d->id = db_result_i64(res, row, DC_ID);
	d->name = col_dup(res, row, DC_NAME, &nomem);
	d->tenant_id = db_result_i64(res, row, DC_TENANT);
	d->org_id = db_result_i64(res, row, DC_ORG);
	d->device_type_id = db_result_i64(res, row, DC_TYPE);
	d->description = col_dup(res, row, DC_DESC, &nomem);
	for (i = 0; i < SUBJ_PROP_COUNT; i++)
		d->props[i] = prop_dup(res, row, DC_PROPS + i, &nomem);
	d->has_password = db_result_i64(res, row, DC_HAS_PASSWORD) != 0;
	d->password_set_at = col_dup(res, row, DC_PASSWORD_SET_AT, &nomem);
	if ((s = db_result_str(res, row, DC_FP, &len)) != NULL) {
		if (len != DEVICE_FP_LEN)
			r = EST_E_INTERNAL;
		else
			memcpy(d->factory_fp, s, DEVICE_FP_LEN);
		d->has_factory_fp = 1;
	}
	if ((s = db_result_str(res, row, DC_FACTORY_DER, &len)) != NULL &&
	    len > 0) {
		if ((d->factory_cert_der = malloc(len)) == NULL)
			nomem = 1;
		else
			memcpy(d->factory_cert_der, s, len);
		d->factory_cert_len = len;
	}
	d->created_via = col_dup(res, row, DC_CREATED_VIA, &nomem);
	d->created_by_user = db_result_i64(res, row, DC_CREATED_BY_USER);
	d->created_by_app = db_result_i64(res, row, DC_CREATED_BY_APP);
	d->last_seen_at = col_dup(res, row, DC_LAST_SEEN, &nomem);
	d->created_at = col_dup(res, row, DC_CREATED_AT, &nomem);
	d->updated_at = col_dup(res, row, DC_UPDATED_AT, &nomem);
	if (nomem)
		r = EST_E_NOMEM;
	else if (r == 0 &&
		 (d->name == NULL || d->created_at == NULL ||
		  d->updated_at == NULL || d->created_via == NULL ||
		  device_mode_value(db_result_str(res, row, DC_MODE, NULL),
				    &d->mode) != 0))
		r = EST_E_INTERNAL;
	d->mode_before_disable = DEVICE_MODE_NEW;
	if (r == 0 && !db_result_isnull(res, row, DC_MODE_BEFORE) &&
	    device_mode_value(db_result_str(res, row, DC_MODE_BEFORE, NULL),
			      &d->mode_before_disable) != 0)
		r = EST_E_INTERNAL;
	if (r != 0) {
		device_free(d);
		return r;
	}
	*out = d;
	return 0;
}

static struct db_param
str_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? DB_STR(s) : DB_NULL;
}

static struct db_param
id_or_null(int64_t id)
{
	return id > 0 ? DB_I64(id) : DB_NULL;
}

void
device_row_params(const struct db_device_new *n, struct db_param *p)
{
	size_t i;

	p[0] = DB_STR(n->name);
	p[1] = DB_I64(n->tenant_id);
	p[2] = DB_I64(n->org_id);
	p[3] = DB_I64(n->device_type_id);
	p[4] = str_or_null(n->description);
	p[5] = DB_STR(device_mode_name(n->mode));
	for (i = 0; i < SUBJ_PROP_COUNT; i++)
		p[6 + i] = str_or_null(n->props[i]);
	p[13] = str_or_null(n->password_hash);
	p[14] = str_or_null(n->password_hash);
	p[15] = n->factory_fp != NULL ? DB_BLOB(n->factory_fp, DEVICE_FP_LEN)
				      : DB_NULL;
	p[16] = n->factory_der != NULL
			? DB_BLOB(n->factory_der, n->factory_der_len)
			: DB_NULL;
	p[17] = DB_STR(n->created_via);
	p[18] = id_or_null(n->created_by_user);
	p[19] = id_or_null(n->created_by_app);
}

int
db_device_insert(struct db *db, const struct db_device_new *n, int64_t *id)
{
	struct db_param p[DEVICE_ROW_PARAMS];
	uint64_t newid = 0;
	int r;

	if (n == NULL || n->name == NULL || n->props == NULL ||
	    n->created_via == NULL || device_mode_name(n->mode) == NULL ||
	    n->mode == DEVICE_MODE_DISABLED)
		return EST_E_INVAL;
	device_row_params(n, p);
	if ((r = db_exec(db, &dev_stmts[D_INSERT], p, NELEM(p), NULL,
			 &newid)) != 0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

static int
get_one(struct db *db, const struct db_stmt_def *def, struct db_param *p,
	struct device **out)
{
	struct db_result *res = NULL;
	int r;

	if ((r = db_query_one(db, def, p, 1, &res)) != 0)
		return r;
	r = device_from_row(res, 0, out);
	db_result_free(res);
	return r;
}

int
db_device_get(struct db *db, int64_t id, int lock, struct device **out)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return get_one(db, &dev_stmts[lock ? D_GET_LOCK : D_GET], p, out);
}

int
db_device_find_fingerprint(struct db *db, const uint8_t *fp, int64_t *id)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	int r;

	if (fp == NULL)
		return EST_E_INVAL;
	p[0] = DB_BLOB(fp, DEVICE_FP_LEN);
	if ((r = db_query_one(db, &dev_stmts[D_FIND_FP], p, 1, &res)) != 0)
		return r;
	*id = db_result_i64(res, 0, 0);
	db_result_free(res);
	return 0;
}

int
db_device_find_name(struct db *db, int64_t tenant_id, const char *name,
		    int64_t *id)
{
	struct db_result *res = NULL;
	struct db_param p[2];
	int r;

	if (name == NULL)
		return EST_E_INVAL;
	p[0] = DB_I64(tenant_id);
	p[1] = DB_STR(name);
	if ((r = db_query_one(db, &dev_stmts[D_FIND_NAME], p, 2, &res)) != 0)
		return r;
	*id = db_result_i64(res, 0, 0);
	db_result_free(res);
	return 0;
}

int
db_device_load_attrs(struct db *db, struct device *d)
{
	struct db_result *res = NULL;
	struct device_attr *a = NULL;
	struct db_param p[2];
	size_t n, i, k = 0;
	int nomem = 0, r;

	p[0] = DB_I64(d->id);
	p[1] = DB_I64(d->device_type_id);
	if ((r = db_query(db, &dev_stmts[D_ATTRS], p, 2, &res)) != 0)
		return r;
	n = db_result_rows(res);
	if (n > 0 && (a = calloc(n, sizeof(*a))) == NULL)
		r = EST_E_NOMEM;
	for (i = 0; i < n && r == 0; i++, k++) {
		a[i].attribute_id = db_result_i64(res, i, 0);
		a[i].name = col_dup(res, i, 1, &nomem);
		a[i].value = prop_dup(res, i, 2, &nomem);
		if (nomem || a[i].name == NULL)
			r = nomem ? EST_E_NOMEM : EST_E_INTERNAL;
	}
	db_result_free(res);
	if (r != 0) {
		for (i = 0; i < k; i++) {
			free(a[i].name);
			free(a[i].value);
		}
		free(a);
		return r;
	}
	for (i = 0; i < d->nattrs; i++) {
		free(d->attrs[i].name);
		free(d->attrs[i].value);
	}
	free(d->attrs);
	d->attrs = a;
	d->nattrs = n;
	return 0;
}

/* 0 when an UPDATE or DELETE of one row by id found it. */
static int
exec_one(struct db *db, int stmt, const struct db_param *p, size_t n)
{
	uint64_t affected = 0;
	int r;

	if ((r = db_exec(db, &dev_stmts[stmt], p, n, &affected, NULL)) != 0)
		return r;
	return affected > 0 ? 0 : EST_E_NOTFOUND;
}

int
db_device_update(struct db *db, int64_t id, const char *description,
		 const char *const *props)
{
	struct db_param p[9];
	size_t i;

	if (props == NULL)
		return EST_E_INVAL;
	p[0] = str_or_null(description);
	for (i = 0; i < SUBJ_PROP_COUNT; i++)
		p[1 + i] = str_or_null(props[i]);
	p[8] = DB_I64(id);
	return exec_one(db, D_UPDATE, p, NELEM(p));
}

int
db_device_set_attr(struct db *db, int64_t id, int64_t attribute_id,
		   const char *value)
{
	struct db_param p[3];

	p[0] = DB_I64(id);
	p[1] = DB_I64(attribute_id);
	if (value == NULL || *value == '\0')
		return db_exec(db, &dev_stmts[D_ATTR_DEL], p, 2, NULL, NULL);
	p[2] = DB_STR(value);
	return db_exec(db, &dev_stmts[D_ATTR_SET], p, 3, NULL, NULL);
}

int
db_device_set_mode(struct db *db, int64_t id, enum device_mode mode,
		   enum device_mode before)
{
	struct db_param p[3];

	if (device_mode_name(mode) == NULL ||
	    (mode == DEVICE_MODE_DISABLED &&
	     (device_mode_name(before) == NULL ||
	      before == DEVICE_MODE_DISABLED)))
		return EST_E_INVAL;
	p[0] = DB_STR(device_mode_name(mode));
	p[1] = mode == DEVICE_MODE_DISABLED ? DB_STR(device_mode_name(before))
					    : DB_NULL;
	p[2] = DB_I64(id);
	return exec_one(db, D_SET_MODE, p, NELEM(p));
}

int
db_device_set_factory(struct db *db, int64_t id, const uint8_t *fp,
		      const uint8_t *der, size_t derlen)
{
	struct db_param p[3];

	if (fp == NULL)
		return EST_E_INVAL;
	p[0] = DB_BLOB(fp, DEVICE_FP_LEN);
	p[1] = der != NULL ? DB_BLOB(der, derlen) : DB_NULL;
	p[2] = DB_I64(id);
	return exec_one(db, D_SET_FACTORY, p, NELEM(p));
}

int
db_device_touch(struct db *db, int64_t id)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return exec_one(db, D_TOUCH, p, NELEM(p));
}

int
db_device_delete(struct db *db, int64_t id)
{
	struct db_param p[1];
	int r;

	p[0] = DB_I64(id);
	if ((r = db_exec(db, &dev_stmts[D_UNBIND], p, 1, NULL, NULL)) != 0)
		return r;
	return exec_one(db, D_DELETE, p, NELEM(p));
}
