/*
 * Device lists (db/device.h): keyset pages over one index range each.
 *
 * A request's filters, the permission filter included, become one set of
 * equalities (tenant, organization, device type, mode, serial number,
 * name) and a substring of the name.  The most selective equality that an
 * index serves drives the query: its statement names that index, walks
 * it from the cursor's id in id order (every secondary index ends with
 * the primary key, so "col = ? AND id > ? ORDER BY id" is one range read
 * in order) and stops after limit rows; the other conditions are checked
 * on the rows read.  The order of preference is below (choose()); the
 * organization goes before the device type because the lists people ask
 * for most are bounded by an organization (an Organization Operator's
 * whole view).  An organization with a device type has indexes of its
 * own (db/013_device_list_org_type.sql): a type that is rare in an
 * organization would otherwise make a page read thousands of the
 * organization's rows to find 50 (bench/bench_devices).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "device.h"
#include "device_int.h"
#include "err.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The conditions every list checks on the rows its index yields, then
 * the order and the page size.  "? = 0 OR" and "? IS NULL OR" turn a
 * filter off; the driving condition repeats one of them, harmlessly.
 */
#define RESIDUAL                                                               \
	" AND d.id > ?"                                                        \
	" AND (? = 0 OR d.tenant_id = ?) AND (? = 0 OR d.org_id = ?)"          \
	" AND (? = 0 OR d.device_type_id = ?)"                                 \
	" AND (? IS NULL OR d.mode = ?)"                                       \
	" AND (? IS NULL OR d.serial_number = ?)"                              \
	" AND (? IS NULL OR d.name = ?)"                                       \
	" AND (? IS NULL OR LOCATE(?, d.name) > 0)"                            \
	" ORDER BY d.id LIMIT ?"
#define NRESIDUAL 16

#define LIST_STMT(name, index, where, ndrive)                                  \
	{                                                                      \
		name,                                                          \
			"SELECT " DEVICE_LIST_COLUMNS                          \
			" FROM devices d FORCE INDEX (" index                  \
			") WHERE " where RESIDUAL,                             \
			(ndrive) + NRESIDUAL                                   \
	}

enum list_kind {
	L_NAME_TENANT = 0,
	L_NAME,
	L_SERIAL,
	L_ORG_TYPE_MODE,
	L_ORG_TYPE,
	L_ORG_MODE,
	L_ORG,
	L_TYPE_MODE,
	L_TYPE,
	L_TENANT_MODE,
	L_TENANT,
	L_MODE,
	L_ALL,
	L_ORG_TENANT, /* not a list: the tenant of an organization */
};

static const struct db_stmt_def list_stmts[] = {
	[L_NAME_TENANT] = LIST_STMT("device_list_name_tenant", "devices_name",
				    "d.tenant_id = ? AND d.name = ?", 2),
	[L_NAME] = LIST_STMT("device_list_name", "devices_name_any",
			     "d.name = ?", 1),
	[L_SERIAL] = LIST_STMT("device_list_serial", "devices_serial",
			       "d.serial_number = ?", 1),
	[L_ORG_TYPE_MODE] = LIST_STMT(
		"device_list_org_type_mode", "devices_org_type_mode",
		"d.org_id = ? AND d.device_type_id = ? AND d.mode = ?", 3),
	[L_ORG_TYPE] = LIST_STMT("device_list_org_type", "devices_org_type",
				 "d.org_id = ? AND d.device_type_id = ?", 2),
	[L_ORG_MODE] = LIST_STMT("device_list_org_mode", "devices_org_mode",
				 "d.org_id = ? AND d.mode = ?", 2),
	[L_ORG] = LIST_STMT("device_list_org", "devices_org",
			    "d.org_id = ? AND d.tenant_id = ?", 2),
	[L_TYPE_MODE] = LIST_STMT("device_list_type_mode", "devices_type",
				  "d.device_type_id = ? AND d.mode = ?", 2),
	[L_TYPE] = LIST_STMT("device_list_type", "devices_type_id",
			     "d.device_type_id = ?", 1),
	[L_TENANT_MODE] =
		LIST_STMT("device_list_tenant_mode", "devices_tenant_mode",
			  "d.tenant_id = ? AND d.mode = ?", 2),
	[L_TENANT] = LIST_STMT("device_list_tenant", "devices_tenant",
			       "d.tenant_id = ?", 1),
	[L_MODE] =
		LIST_STMT("device_list_mode", "devices_mode", "d.mode = ?", 1),
	[L_ALL] = LIST_STMT("device_list_all", "PRIMARY", "1 = 1", 0),
	[L_ORG_TENANT] = {"device_list_org_tenant",
			  "SELECT tenant_id FROM organizations WHERE id = ?",
			  1},
};

/* The request's filters merged with the permission filter. */
struct eff {
	int64_t tenant, org, type;
	const char *mode; /* NULL: any */
	const char *serial, *name, *contains;
};

/*
 * Merges a filter value with the permission's: 0 when neither sets it,
 * the one that does, or -1 when they disagree (nothing can match).
 */
static int64_t
merge(int64_t asked, int64_t allowed)
{
	if (asked == 0)
		return allowed;
	if (allowed == 0 || allowed == asked)
		return asked;
	return -1;
}

static enum list_kind
choose(const struct eff *e)
{
	if (e->name != NULL)
		return e->tenant != 0 ? L_NAME_TENANT : L_NAME;
	if (e->serial != NULL)
		return L_SERIAL;
	if (e->org != 0 && e->type != 0)
		return e->mode != NULL ? L_ORG_TYPE_MODE : L_ORG_TYPE;
	if (e->org != 0)
		return e->mode != NULL ? L_ORG_MODE : L_ORG;
	if (e->type != 0)
		return e->mode != NULL ? L_TYPE_MODE : L_TYPE;
	if (e->tenant != 0)
		return e->mode != NULL ? L_TENANT_MODE : L_TENANT;
	return e->mode != NULL ? L_MODE : L_ALL;
}

/* The driving parameters of kind k; returns how many. */
static size_t
drive_params(enum list_kind k, const struct eff *e, struct db_param *p)
{
	switch (k) {
	case L_NAME_TENANT:
		p[0] = DB_I64(e->tenant);
		p[1] = DB_STR(e->name);
		return 2;
	case L_NAME:
		p[0] = DB_STR(e->name);
		return 1;
	case L_SERIAL:
		p[0] = DB_STR(e->serial);
		return 1;
	case L_ORG_TYPE_MODE:
		p[0] = DB_I64(e->org);
		p[1] = DB_I64(e->type);
		p[2] = DB_STR(e->mode);
		return 3;
	case L_ORG_TYPE:
		p[0] = DB_I64(e->org);
		p[1] = DB_I64(e->type);
		return 2;
	case L_ORG_MODE:
		p[0] = DB_I64(e->org);
		p[1] = DB_STR(e->mode);
		return 2;
	case L_ORG:
		p[0] = DB_I64(e->org);
		p[1] = DB_I64(e->tenant);
		return 2;
	case L_TYPE_MODE:
		p[0] = DB_I64(e->type);
		p[1] = DB_STR(e->mode);
		return 2;
	case L_TYPE:
		p[0] = DB_I64(e->type);
		return 1;
	case L_TENANT_MODE:
		p[0] = DB_I64(e->tenant);
		p[1] = DB_STR(e->mode);
		return 2;
	case L_TENANT:
		p[0] = DB_I64(e->tenant);
		return 1;
	case L_MODE:
		p[0] = DB_STR(e->mode);
		return 1;
	default:
		return 0;
	}
}

/*
 * The tenant of organization org, which the organization index needs
 * beside it; 0 when there is no such organization.
 */
static int
org_tenant(struct db *db, int64_t org, int64_t *tenant)
{
	struct db_result *res = NULL;
	struct db_param p[1];
	int r;

	p[0] = DB_I64(org);
	r = db_query_one(db, &list_stmts[L_ORG_TENANT], p, 1, &res);
	if (r == EST_E_NOTFOUND) {
		*tenant = 0;
		return 0;
	}
	if (r == 0)
		*tenant = db_result_i64(res, 0, 0);
	db_result_free(res);
	return r;
}

/* Fills e from f; *none is set when no row can match. */
static int
effective(struct db *db, const struct db_device_filter *f, struct eff *e,
	  int *none)
{
	int64_t t = 0;
	int r;

	memset(e, 0, sizeof(*e));
	*none = 0;
	e->tenant = merge(f->tenant_id, f->scope_tenant);
	e->org = merge(f->org_id, f->scope_org);
	e->type = f->device_type_id;
	e->mode = f->mode >= 0 ? device_mode_name((enum device_mode)f->mode)
			       : NULL;
	e->serial = f->serial_number;
	e->name = f->name;
	e->contains = f->name_contains;
	if (e->tenant < 0 || e->org < 0 || (f->mode >= 0 && e->mode == NULL)) {
		*none = 1;
		return 0;
	}
	if (e->org != 0) {
		if ((r = org_tenant(db, e->org, &t)) != 0)
			return r;
		if (t == 0 || (e->tenant != 0 && e->tenant != t)) {
			*none = 1;
			return 0;
		}
		e->tenant = t;
	}
	return 0;
}

int
db_device_list(struct db *db, const struct db_device_filter *f,
	       int64_t after_id, size_t limit, struct device ***out, size_t *n)
{
	struct db_param p[3 + NRESIDUAL];
	struct db_result *res = NULL;
	struct device **list = NULL;
	enum list_kind k;
	struct eff e;
	size_t i = 0, rows, np;
	int none, r;

	if (f == NULL || out == NULL || n == NULL || after_id < 0 ||
	    f->device_type_id < 0 || f->tenant_id < 0 || f->org_id < 0 ||
	    f->scope_tenant < 0 || f->scope_org < 0)
		return EST_E_INVAL;
	if ((r = effective(db, f, &e, &none)) != 0)
		return r;
	if (none || limit == 0) {
		*out = NULL;
		*n = 0;
		return 0;
	}
	k = choose(&e);
	np = drive_params(k, &e, p);
	p[np++] = DB_I64(after_id);
	p[np++] = DB_I64(e.tenant);
	p[np++] = DB_I64(e.tenant);
	p[np++] = DB_I64(e.org);
	p[np++] = DB_I64(e.org);
	p[np++] = DB_I64(e.type);
	p[np++] = DB_I64(e.type);
	p[np++] = DB_STR(e.mode);
	p[np++] = DB_STR(e.mode);
	p[np++] = DB_STR(e.serial);
	p[np++] = DB_STR(e.serial);
	p[np++] = DB_STR(e.name);
	p[np++] = DB_STR(e.name);
	p[np++] = DB_STR(e.contains);
	p[np++] = DB_STR(e.contains);
	p[np++] = DB_I64(limit);
	if ((r = db_query(db, &list_stmts[k], p, np, &res)) != 0)
		return r;
	rows = db_result_rows(res);
	if (rows > 0 && (list = calloc(rows, sizeof(*list))) == NULL)
		r = EST_E_NOMEM;
	for (i = 0; i < rows && r == 0; i++)
		r = device_from_row(res, i, &list[i]);
	db_result_free(res);
	if (r != 0) {
		db_device_list_free(list, i);
		return r;
	}
	*out = list;
	*n = rows;
	return 0;
}

void
db_device_list_free(struct device **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		device_free(list[i]);
	free(list);
}
