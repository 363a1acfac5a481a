/*
 * Device types (guide §2.1) as the API writes them and as the device and
 * EST code reads them: one row of device_types with its ordered
 * operational templates, its seven property settings, its custom
 * attributes and its mapping table (db/003_devices.sql).
 *
 * Writers take the whole object, as the template writers do
 * (db/template.h): db_devtype_insert() writes a device type with every
 * child row in the caller's transaction, and db_devtype_replace() rewrites
 * every column and every child, so that what is stored is always one
 * device type that the caller validated as a whole (fcgi/api_devtype*.c);
 * the database constraints are the last line.  One exception keeps what
 * devices hold: an attribute that survives a replace (same name) keeps its
 * row id, so the values devices hold for it (device_attributes) stay;
 * only an attribute that is gone takes its values with it.
 */
#ifndef ESTUARY_DB_DEVTYPE_H
#define ESTUARY_DB_DEVTYPE_H

#include <stddef.h>
#include <stdint.h>

#include "subject.h"

struct db;
struct tmpl;

enum devtype_factory {
	DEVTYPE_FACTORY_NONE = 0, /* no factory certificate */
	DEVTYPE_FACTORY_INTERNAL, /* a factory template of ours */
	DEVTYPE_FACTORY_EXTERNAL, /* a verified, active external CA */
};

enum devtype_attr_type {
	DEVTYPE_ATTR_STRING = 0,
	DEVTYPE_ATTR_INTEGER,
	DEVTYPE_ATTR_BOOLEAN,
	DEVTYPE_ATTR_DATE, /* YYYY-MM-DD */
};

#define DEVTYPE_NAME_MAX 128	     /* device_types.name, characters */
#define DEVTYPE_DESC_MAX 1024	     /* device_types.description */
#define DEVTYPE_PROP_MAX 255	     /* a property value (devices columns) */
#define DEVTYPE_ATTR_NAME_MAX 64     /* device_type_attributes.name */
#define DEVTYPE_ATTR_VALUE_MAX 1024  /* an attribute value */
#define DEVTYPE_ATTR_LEN_DEFAULT 255 /* an attribute's max_length */
#define DEVTYPE_MAP_DEFAULT_MAX 1024
#define DEVTYPE_OP_TEMPLATES_MAX 16
#define DEVTYPE_ATTRS_MAX 64
#define DEVTYPE_MAPS_MAX 64
#define DEVTYPE_HOURS_MAX 87600	   /* ten years */
#define DEVTYPE_RETENTION_MAX 8760 /* a year */

/* One operational template, in the type's order. */
struct devtype_optmpl {
	int64_t template_id;
	int is_default;
};

/* The setting of one device property (enum subj_prop). */
struct devtype_prop {
	char *default_value; /* NULL for none */
	int required;
	int fixed; /* always with a default */
};

/* A custom attribute. */
struct devtype_attr {
	int64_t id; /* device_type_attributes.id; 0 before it is written */
	char *name;
	enum devtype_attr_type type;
	char *default_value; /* NULL for none */
	int required;
	int fixed;
	size_t max_len; /* characters */
};

/*
 * One row of the mapping table: a template field, named by its row id
 * (cert_template_subject_fields.id when kind is SUBJ_ATTR,
 * cert_template_san_fields.id when SUBJ_SAN: the two tables number their
 * rows independently, so the kind is part of the name), is filled from
 * the device's name, one of its properties or one of its attributes (by
 * name: the writers resolve it to the attribute's row).
 */
struct devtype_map {
	enum subj_kind kind;
	int64_t field_id;
	struct subj_devfield to; /* to.attr_name points to attr_name */
	char *attr_name;	 /* SUBJ_TARGET_ATTRIBUTE */
	size_t max_len;		 /* 0: the template field's own bound */
	char *default_value;	 /* NULL for none */
};

/*
 * A device type with every setting.  Strings and arrays are owned by the
 * struct and freed by devtype_free().  Hours that are not set are -1.
 */
struct devtype {
	int64_t id;
	char *name;
	char *description; /* NULL for none */
	char *scope;	   /* SCOPE_* of db/dbq.h */
	int64_t tenant_id; /* 0 for none */
	int64_t org_id;
	int enforce_factory_mode;
	int dar;
	int use_cert_mapping;
	enum devtype_factory factory_source;
	int64_t factory_template_id; /* DEVTYPE_FACTORY_INTERNAL, else 0 */
	int64_t external_ca_id;	     /* DEVTYPE_FACTORY_EXTERNAL, else 0 */
	int op_renewal_hours;	     /* -1: not set */
	int factory_renewal_hours;
	int device_password_enabled;
	int password_retention_hours; /* > 0 */
	int active;
	int64_t created_by; /* users.id, 0 for none */
	char *created_at;   /* "YYYY-MM-DD HH:MM:SS.ffffff", UTC */
	char *updated_at;   /* the row version behind its ETag */

	struct devtype_optmpl *op_templates; /* in order */
	size_t nop_templates;
	int64_t default_template_id; /* the default one, 0 when none */

	struct devtype_prop props[SUBJ_PROP_COUNT];
	struct devtype_attr *attrs; /* in order */
	size_t nattrs;
	struct devtype_map *maps; /* in the order they were written */
	size_t nmaps;
};

struct devtype *devtype_new(void);
void devtype_free(struct devtype *dt);

/*
 * Names as the database and the API spell them: "none", "internal",
 * "external"; "string", "integer", "boolean", "date"; the properties
 * "serial_number", "model", "hardware_version", "manufacturer",
 * "device_class", "firmware", "descriptive_location"; the mapping
 * sources "device_name", "property", "attribute".  The *_name functions
 * return NULL for a value out of range; the *_value ones set *v and
 * return 0, or return EST_E_INVAL for an unknown name.
 */
const char *devtype_factory_name(enum devtype_factory f);
int devtype_factory_value(const char *s, enum devtype_factory *v);
const char *devtype_attr_type_name(enum devtype_attr_type t);
int devtype_attr_type_value(const char *s, enum devtype_attr_type *v);
const char *devtype_prop_name(enum subj_prop p);
int devtype_prop_value(const char *s, enum subj_prop *v);
const char *devtype_source_name(enum subj_target t);
int devtype_source_value(const char *s, enum subj_target *v);

/*
 * Whether value is a valid value of attribute a: at most a->max_len
 * characters of UTF-8 without control characters, and for the typed ones
 * a decimal integer that fits 64 bits ("-12", no "+" or leading zeros),
 * "true" or "false", or a calendar date YYYY-MM-DD.  0 or
 * EST_E_UNPROCESSABLE; the device code checks device values with it too.
 */
int devtype_attr_check(const struct devtype_attr *a, const char *value);

/*
 * The mapping of dt for template t (loaded by db_template_load()): the
 * entries of dt's mapping table whose field is one of t's fields (same
 * kind and row id), each with the index of that field in t->fields, for
 * subject_resolve() and subject_reverse_map().  out->entries is allocated
 * (free it with devtype_mapping_free()); their strings are borrowed from
 * dt, which must outlive out.  An empty mapping has entries NULL.
 */
int devtype_mapping(const struct devtype *dt, const struct tmpl *t,
		    struct subj_mapping *out);
void devtype_mapping_free(struct subj_mapping *m);

/* ------------------------------------------------------------------ */
/* Queries */

/*
 * Device type id with every child into a new struct devtype (free it with
 * devtype_free()).  EST_E_NOTFOUND when there is none; EST_E_INTERNAL when
 * a stored value cannot be mapped (a row written by hand).
 */
int db_devtype_load(struct db *db, int64_t id, struct devtype **out);
/* Like db_devtype_load; with lock set the row is read FOR UPDATE. */
int db_devtype_get(struct db *db, int64_t id, int lock, struct devtype **out);

/*
 * List filters; 0, NULL or -1 do not filter.  The scope_* members come
 * from perm_list_filter(): with scope_tenant set, rows of that tenant and
 * (scope_shared) the global ones; with scope_org set too, rows of that
 * organization, the tenant-wide rows of its tenant and the global ones.
 */
struct db_devtype_filter {
	int64_t scope_tenant;
	int64_t scope_org;
	int scope_shared;
	const char *name; /* exact (as the column's collation) */
	const char *name_contains;
	const char *scope; /* SCOPE_* */
	int64_t tenant_id;
	int64_t org_id;
	int active; /* -1 any, 0, 1 */
	int dar;    /* -1 any, 0, 1 */
	const char *factory_source;
	int64_t template_id; /* uses it, as operational or factory template */
	int64_t external_ca_id;
};

/*
 * At most limit device types with ids above after_id, in id order, each
 * with its operational templates but without properties, attributes and
 * mappings (a list shows the rows).  Free with db_devtype_list_free().
 */
int db_devtype_list(struct db *db, const struct db_devtype_filter *f,
		    int64_t after_id, size_t limit, struct devtype ***out,
		    size_t *n);
void db_devtype_list_free(struct devtype **list, size_t n);

/*
 * Inserts dt (id, times and attribute ids ignored; active as dt says) with
 * every child; sets *id.  created_by is the creating user, 0 for none.
 * EST_E_EXISTS for a name already used in the tenant; EST_E_INVAL when a
 * mapping names an attribute dt does not have.
 */
int db_devtype_insert(struct db *db, const struct devtype *dt,
		      int64_t created_by, int64_t *id);
/*
 * Rewrites device type id from dt (every column but active, created_by
 * and the times) and replaces its children, keeping the row ids of the
 * attributes whose names dt still has.  EST_E_NOTFOUND when there is
 * none.
 */
int db_devtype_replace(struct db *db, int64_t id, const struct devtype *dt);
int db_devtype_set_active(struct db *db, int64_t id, int active);
/*
 * *devices: the devices of type id; *servers: the EST servers and EST
 * labels bound to it.  A device type that any of them uses is not
 * deleted.
 */
int db_devtype_usage(struct db *db, int64_t id, int64_t *devices,
		     int64_t *servers);
/*
 * How many devices, EST servers and labels of type id lie outside tenant
 * tenant_id (and organization org_id unless 0): a device type that they
 * use cannot move away from them.
 */
int db_devtype_misplaced(struct db *db, int64_t id, int64_t tenant_id,
			 int64_t org_id, int64_t *n);
/* How many devices hold a non-empty value of attribute attr_id. */
int db_devtype_attr_in_use(struct db *db, int64_t attr_id, int64_t *n);
/* EST_E_CONFLICT while rows refer to it; EST_E_NOTFOUND for none. */
int db_devtype_delete(struct db *db, int64_t id);

/*
 * What a device type needs to know of the external CA it would take as
 * its factory CA, read in share mode so that it cannot be deactivated or
 * deleted before the caller's transaction ends.
 */
struct db_devtype_extca {
	int64_t tenant_id;
	int64_t org_id; /* 0 for none */
	int verified;
	int active;
	uint8_t fingerprint[32]; /* SHA-256 of its certificate */
};
int db_devtype_extca(struct db *db, int64_t id, struct db_devtype_extca *out);
/*
 * The SHA-256 fingerprint of internal CA id's certificate; EST_E_NOTFOUND
 * when there is no such CA or its certificate is pending.
 */
int db_devtype_ca_fingerprint(struct db *db, int64_t id, uint8_t fp[32]);

#endif
