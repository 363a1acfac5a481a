/*
 * Device types: the writers.  A device type is written whole, in the
 * caller's transaction: its row, then its children.  A replace deletes
 * and rewrites the operational templates, properties and mappings, which
 * nothing else refers to, but keeps the rows of the attributes that
 * survive (matched by name, as the column's collation compares), because
 * devices hold values for them (device_attributes).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "devtype.h"
#include "err.h"

/*
 * Attribute positions are unique per type, so a replace first moves the
 * old rows out of the way by this much; the rows still there afterwards
 * are the attributes that are gone.
 */
#define ATTR_OLD_POSITION "10000"

#define DT_SET_COLUMNS                                                         \
	"name = ?, description = ?, scope = ?, tenant_id = ?, org_id = ?,"     \
	" enforce_factory_mode = ?, dar = ?, use_cert_mapping = ?,"            \
	" factory_source = ?, factory_template_id = ?, external_ca_id = ?,"    \
	" op_renewal_hours = ?, factory_renewal_hours = ?,"                    \
	" device_password_enabled = ?, password_retention_hours = ?"
#define DT_SET_NPARAMS 15

static const struct db_stmt_def dtw_stmts[] = {
#define W_INSERT 0
	{"devtype_insert",
	 "INSERT INTO device_types SET " DT_SET_COLUMNS
	 ", active = ?, created_by_user_id = ?",
	 DT_SET_NPARAMS + 2},
/*
	 * updated_at is set even when only children change: it is the
	 * version behind the ETag of the whole device type, and the stamp
	 * that estuary-est's cache of the type is checked by
	 * (fcgi/est_cache.h), so it moves forward on every rewrite, also
	 * one in the same microsecond as the last.
	 */
#define W_UPDATE 1
	{"devtype_update",
	 "UPDATE device_types SET " DT_SET_COLUMNS
	 ", updated_at = GREATEST(CURRENT_TIMESTAMP(6),"
	 " updated_at + INTERVAL 1 MICROSECOND) WHERE id = ?",
	 DT_SET_NPARAMS + 1},
#define W_DEL_MAPS 2
	{"devtype_del_mappings",
	 "DELETE FROM device_type_mappings WHERE device_type_id = ?", 1},
#define W_DEL_OPS 3
	{"devtype_del_op_templates",
	 "DELETE FROM device_type_op_templates WHERE device_type_id = ?", 1},
#define W_DEL_PROPS 4
	{"devtype_del_properties",
	 "DELETE FROM device_type_properties WHERE device_type_id = ?", 1},
#define W_INS_OP 5
	{"devtype_ins_op_template",
	 "INSERT INTO device_type_op_templates"
	 " (device_type_id, template_id, position, is_default)"
	 " VALUES (?, ?, ?, ?)",
	 4},
#define W_INS_PROP 6
	{"devtype_ins_property",
	 "INSERT INTO device_type_properties"
	 " (device_type_id, property, default_value, required, fixed)"
	 " VALUES (?, ?, ?, ?, ?)",
	 5},
#define W_INS_ATTR 7
	{"devtype_ins_attribute",
	 "INSERT INTO device_type_attributes (device_type_id, position, name,"
	 " type, default_value, required, fixed, max_length)"
	 " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	 8},
#define W_SHIFT_ATTRS 8
	{"devtype_shift_attributes",
	 "UPDATE device_type_attributes SET position = position "
	 "+ " ATTR_OLD_POSITION " WHERE device_type_id = ?",
	 1},
#define W_FIND_ATTR 9
	{"devtype_find_attribute",
	 "SELECT id FROM device_type_attributes WHERE device_type_id = ?"
	 " AND name = ? AND position >= " ATTR_OLD_POSITION " FOR UPDATE",
	 2},
#define W_UPD_ATTR 10
	{"devtype_upd_attribute",
	 "UPDATE device_type_attributes SET position = ?, name = ?, type = ?,"
	 " default_value = ?, required = ?, fixed = ?, max_length = ?"
	 " WHERE id = ?",
	 8},
#define W_DEL_OLD_ATTRS 11
	{"devtype_del_old_attributes",
	 "DELETE FROM device_type_attributes WHERE device_type_id = ?"
	 " AND position >= " ATTR_OLD_POSITION,
	 1},
#define W_INS_MAP 12
	{"devtype_ins_mapping",
	 "INSERT INTO device_type_mappings (device_type_id, subject_field_id,"
	 " san_field_id, source, property, attribute_id, max_length,"
	 " default_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	 8},
};

static struct db_param
id_or_null(int64_t v)
{
	return v > 0 ? DB_I64(v) : DB_NULL;
}

static struct db_param
hours_or_null(int v)
{
	return v >= 0 ? DB_I64(v) : DB_NULL;
}

/* The DT_SET_COLUMNS values of dt into p[0..DT_SET_NPARAMS). */
static int
set_params(const struct devtype *dt, struct db_param *p)
{
	const char *fs = devtype_factory_name(dt->factory_source);

	if (dt->name == NULL || dt->scope == NULL || fs == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(dt->name);
	p[1] = DB_STR(dt->description);
	p[2] = DB_STR(dt->scope);
	p[3] = id_or_null(dt->tenant_id);
	p[4] = id_or_null(dt->org_id);
	p[5] = DB_I64(dt->enforce_factory_mode != 0);
	p[6] = DB_I64(dt->dar != 0);
	p[7] = DB_I64(dt->use_cert_mapping != 0);
	p[8] = DB_STR(fs);
	p[9] = id_or_null(dt->factory_template_id);
	p[10] = id_or_null(dt->external_ca_id);
	p[11] = hours_or_null(dt->op_renewal_hours);
	p[12] = hours_or_null(dt->factory_renewal_hours);
	p[13] = DB_I64(dt->device_password_enabled != 0);
	p[14] = DB_I64(dt->password_retention_hours);
	return 0;
}

static int
write_ops(struct db *db, int64_t id, const struct devtype *dt)
{
	struct db_param p[4];
	size_t i;
	int r;

	for (i = 0; i < dt->nop_templates; i++) {
		p[0] = DB_I64(id);
		p[1] = DB_I64(dt->op_templates[i].template_id);
		p[2] = DB_I64(i);
		p[3] = DB_I64(dt->op_templates[i].is_default != 0);
		if ((r = db_exec(db, &dtw_stmts[W_INS_OP], p, 4, NULL, NULL)) !=
		    0)
			return r;
	}
	return 0;
}

static int
write_props(struct db *db, int64_t id, const struct devtype *dt)
{
	const struct devtype_prop *pr;
	struct db_param p[5];
	int i, r;

	for (i = 0; i < SUBJ_PROP_COUNT; i++) {
		pr = &dt->props[i];
		p[0] = DB_I64(id);
		p[1] = DB_STR(devtype_prop_name((enum subj_prop)i));
		p[2] = DB_STR(pr->default_value);
		p[3] = DB_I64(pr->required != 0);
		p[4] = DB_I64(pr->fixed != 0);
		if ((r = db_exec(db, &dtw_stmts[W_INS_PROP], p, 5, NULL,
				 NULL)) != 0)
			return r;
	}
	return 0;
}

/* The values of attribute a at position pos, after p[0] (left alone). */
static int
attr_params(const struct devtype_attr *a, size_t pos, struct db_param *p)
{
	const char *type = devtype_attr_type_name(a->type);

	if (a->name == NULL || type == NULL || a->max_len == 0)
		return EST_E_INVAL;
	p[1] = DB_I64(pos);
	p[2] = DB_STR(a->name);
	p[3] = DB_STR(type);
	p[4] = DB_STR(a->default_value);
	p[5] = DB_I64(a->required != 0);
	p[6] = DB_I64(a->fixed != 0);
	p[7] = DB_I64(a->max_len);
	return 0;
}

/*
 * Writes the attributes of dt to type id and puts their row ids in
 * ids[i].  With keep set (a replace), an old row of the same name is
 * updated in place instead of a new one being inserted.
 */
static int
write_attrs(struct db *db, int64_t id, const struct devtype *dt, int keep,
	    int64_t *ids)
{
	struct db_result *res = NULL;
	struct db_param p[8], q[2];
	uint64_t newid = 0;
	size_t i;
	int r;

	for (i = 0; i < dt->nattrs; i++) {
		ids[i] = 0;
		if (keep) {
			q[0] = DB_I64(id);
			q[1] = DB_STR(dt->attrs[i].name);
			r = db_query_one(db, &dtw_stmts[W_FIND_ATTR], q, 2,
					 &res);
			if (r == 0)
				ids[i] = db_result_i64(res, 0, 0);
			db_result_free(res);
			res = NULL;
			if (r != 0 && r != EST_E_NOTFOUND)
				return r;
		}
		if ((r = attr_params(&dt->attrs[i], i, p)) != 0)
			return r;
		if (ids[i] > 0) {
			/* W_UPD_ATTR takes the values first, the id last. */
			memmove(&p[0], &p[1], 7 * sizeof(p[0]));
			p[7] = DB_I64(ids[i]);
			r = db_exec(db, &dtw_stmts[W_UPD_ATTR], p, 8, NULL,
				    NULL);
		} else {
			p[0] = DB_I64(id);
			if ((r = db_exec(db, &dtw_stmts[W_INS_ATTR], p, 8, NULL,
					 &newid)) == 0)
				ids[i] = (int64_t)newid;
		}
		if (r != 0)
			return r;
	}
	return 0;
}

/* The row id of the attribute named name, from ids parallel to dt->attrs. */
static int64_t
attr_id(const struct devtype *dt, const int64_t *ids, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < dt->nattrs; i++)
		if (strcmp(dt->attrs[i].name, name) == 0)
			return ids[i];
	return 0;
}

static int
write_maps(struct db *db, int64_t id, const struct devtype *dt,
	   const int64_t *ids)
{
	const struct devtype_map *m;
	struct db_param p[8];
	const char *source;
	int64_t aid = 0;
	size_t i;
	int r;

	for (i = 0; i < dt->nmaps; i++) {
		m = &dt->maps[i];
		if ((source = devtype_source_name(m->to.target)) == NULL ||
		    m->field_id <= 0)
			return EST_E_INVAL;
		if (m->to.target == SUBJ_TARGET_ATTRIBUTE &&
		    (aid = attr_id(dt, ids, m->attr_name)) == 0)
			return EST_E_INVAL;
		p[0] = DB_I64(id);
		p[1] = m->kind == SUBJ_ATTR ? DB_I64(m->field_id) : DB_NULL;
		p[2] = m->kind == SUBJ_SAN ? DB_I64(m->field_id) : DB_NULL;
		p[3] = DB_STR(source);
		p[4] = m->to.target == SUBJ_TARGET_PROPERTY
			       ? DB_STR(devtype_prop_name(m->to.prop))
			       : DB_NULL;
		p[5] = m->to.target == SUBJ_TARGET_ATTRIBUTE ? DB_I64(aid)
							     : DB_NULL;
		p[6] = m->max_len > 0 ? DB_I64(m->max_len) : DB_NULL;
		p[7] = DB_STR(m->default_value);
		if ((r = db_exec(db, &dtw_stmts[W_INS_MAP], p, 8, NULL,
				 NULL)) != 0)
			return r;
	}
	return 0;
}

/* The children of type id; keep as write_attrs. */
static int
write_children(struct db *db, int64_t id, const struct devtype *dt, int keep)
{
	int64_t *ids = NULL;
	int r;

	if (dt->nattrs > 0 && (ids = calloc(dt->nattrs, sizeof(*ids))) == NULL)
		return EST_E_NOMEM;
	if ((r = write_ops(db, id, dt)) == 0 &&
	    (r = write_props(db, id, dt)) == 0 &&
	    (r = write_attrs(db, id, dt, keep, ids)) == 0)
		r = write_maps(db, id, dt, ids);
	free(ids);
	return r;
}

int
db_devtype_insert(struct db *db, const struct devtype *dt, int64_t created_by,
		  int64_t *id)
{
	struct db_param p[DT_SET_NPARAMS + 2];
	uint64_t newid = 0;
	int r;

	if ((r = set_params(dt, p)) != 0)
		return r;
	p[DT_SET_NPARAMS] = DB_I64(dt->active != 0);
	p[DT_SET_NPARAMS + 1] = id_or_null(created_by);
	if ((r = db_exec(db, &dtw_stmts[W_INSERT], p, DT_SET_NPARAMS + 2, NULL,
			 &newid)) != 0 ||
	    (r = write_children(db, (int64_t)newid, dt, 0)) != 0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

int
db_devtype_replace(struct db *db, int64_t id, const struct devtype *dt)
{
	struct db_param p[DT_SET_NPARAMS + 1], q[1];
	uint64_t affected = 0;
	int r;

	if ((r = set_params(dt, p)) != 0)
		return r;
	p[DT_SET_NPARAMS] = DB_I64(id);
	if ((r = db_exec(db, &dtw_stmts[W_UPDATE], p, DT_SET_NPARAMS + 1,
			 &affected, NULL)) != 0)
		return r;
	if (affected == 0)
		return EST_E_NOTFOUND;
	q[0] = DB_I64(id);
	if ((r = db_exec(db, &dtw_stmts[W_DEL_MAPS], q, 1, NULL, NULL)) != 0 ||
	    (r = db_exec(db, &dtw_stmts[W_DEL_OPS], q, 1, NULL, NULL)) != 0 ||
	    (r = db_exec(db, &dtw_stmts[W_DEL_PROPS], q, 1, NULL, NULL)) != 0 ||
	    (r = db_exec(db, &dtw_stmts[W_SHIFT_ATTRS], q, 1, NULL, NULL)) !=
		    0 ||
	    (r = write_children(db, id, dt, 1)) != 0)
		return r;
	return db_exec(db, &dtw_stmts[W_DEL_OLD_ATTRS], q, 1, NULL, NULL);
}
