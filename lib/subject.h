/*
 * Subject and subject-alternative-name values of a certificate, resolved
 * from a certificate template, an optional device-type mapping, an optional
 * device and the values of a CSR or of the user (DESIGN.md, "Subject value
 * of a certificate field"; guide 2.1 and 2.2.1 steps 5-6).  The structures
 * mirror the tables cert_template_subject_fields, cert_template_san_fields,
 * device_type_mappings, device_type_properties and device_type_attributes;
 * nothing here reads the database.
 *
 * Decisions, so that every caller behaves alike:
 * - The template's default value of a non-fixed field is the last resort,
 *   after the CSR's value or the user's input, for both sources.  The guide
 *   shows the template's default as the mapping table's default (2.1) and
 *   pre-fills forms with it, so it is the value the operator configured for
 *   a field that nobody else filled; a CSR that lacks the field gets it.
 * - A fixed value replaces whatever a CSR holds for the field.  A user who
 *   types a different value for a fixed field is refused (422 naming the
 *   field), as a fixed device property is: the user asked for something we
 *   will not write, a CSR merely carries what the device proposed.
 * - A value longer than its bound is refused, never truncated: a silently
 *   shortened serial number or name is a different identity.  Lengths are
 *   counted in Unicode characters of valid UTF-8; control characters are
 *   refused everywhere.
 * - The empty string counts as "no value" at every step.
 * - otherName values are text: "utf8string" and "ia5string" as they are;
 *   "octetstring" and "der" as hex digits (der: exactly one DER value);
 *   "hardware_module_name" (RFC 4108) as "<hwType OID>:<hwSerialNum hex>",
 *   for example "1.3.6.1.4.1.45605.1.1:0a1b2c3d".
 * - Output order is template order; in an X509_NAME the first template
 *   field becomes the first RDN of the encoding.
 */
#ifndef ESTUARY_SUBJECT_H
#define ESTUARY_SUBJECT_H

#include <stddef.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

enum subj_kind { SUBJ_ATTR, SUBJ_SAN };
enum subj_rule { SUBJ_OPTIONAL, SUBJ_REQUIRED, SUBJ_FIXED };

/* cert_template_subject_fields.string_type. */
enum subj_strtype {
	SUBJ_STR_DEFAULT, /* RFC 5280: see subject_to_x509_name() */
	SUBJ_STR_UTF8,
	SUBJ_STR_PRINTABLE,
	SUBJ_STR_IA5,
};

/* cert_template_san_fields.type. */
enum subj_san_type {
	SUBJ_SAN_DNS,
	SUBJ_SAN_IP,
	SUBJ_SAN_URI,
	SUBJ_SAN_EMAIL,
	SUBJ_SAN_OTHERNAME,
};

/* cert_template_san_fields.othername_encoding. */
enum subj_onenc {
	SUBJ_ON_UTF8,
	SUBJ_ON_IA5,
	SUBJ_ON_OCTET,
	SUBJ_ON_HWMODULE,
	SUBJ_ON_DER,
};

/*
 * One subject attribute or SAN entry of a template.  oid is dotted decimal:
 * the attribute type (SUBJ_ATTR) or the otherName type-id
 * (SUBJ_SAN_OTHERNAME); NULL for the other SAN types.  short_name ("CN")
 * names the field in errors and may be NULL.  max_len is in characters and
 * must be positive.  default_value is the fixed value of a fixed field.
 */
struct subj_field {
	enum subj_kind kind;
	const char *oid;
	const char *short_name;
	enum subj_strtype strtype;   /* SUBJ_ATTR */
	enum subj_san_type san_type; /* SUBJ_SAN */
	enum subj_onenc onenc;	     /* SUBJ_SAN_OTHERNAME */
	enum subj_rule rule;
	size_t max_len;
	const char *default_value;
};

/*
 * A template's fields in its order (position); the Wi-SUN one has no
 * attributes.
 */
struct subj_template {
	const struct subj_field *fields;
	size_t nfields;
};

/* The seven device properties (device_type_properties.property). */
enum subj_prop {
	SUBJ_PROP_SERIAL_NUMBER,
	SUBJ_PROP_MODEL,
	SUBJ_PROP_HARDWARE_VERSION,
	SUBJ_PROP_MANUFACTURER,
	SUBJ_PROP_DEVICE_CLASS,
	SUBJ_PROP_FIRMWARE,
	SUBJ_PROP_DESCRIPTIVE_LOCATION,
	SUBJ_PROP_COUNT
};

/* What a template field is mapped to (device_type_mappings.source). */
enum subj_target {
	SUBJ_TARGET_NONE,
	SUBJ_TARGET_NAME,
	SUBJ_TARGET_PROPERTY,
	SUBJ_TARGET_ATTRIBUTE,
};

/* A device field: the name, a property or a custom attribute by name. */
struct subj_devfield {
	enum subj_target target;
	enum subj_prop prop;   /* SUBJ_TARGET_PROPERTY */
	const char *attr_name; /* SUBJ_TARGET_ATTRIBUTE */
};

/*
 * One row of device_type_mappings: template field number `field` (index
 * into subj_template.fields) is filled from `to`.  max_len 0 means the
 * template's bound alone; default_value may be NULL.
 */
struct subj_map_entry {
	size_t field;
	struct subj_devfield to;
	size_t max_len;
	const char *default_value;
};

struct subj_mapping {
	const struct subj_map_entry *entries;
	size_t nentries;
};

struct subj_attr_value {
	const char *name;
	const char *value;
};

/* A device's values; NULL or "" is an empty value. */
struct subj_device {
	const char *name;
	const char *props[SUBJ_PROP_COUNT];
	const struct subj_attr_value *attrs;
	size_t nattrs;
};

/*
 * One input value: a subject attribute (oid) or a SAN entry (san_type, and
 * oid for otherName).  The k-th template field with a given key takes the
 * k-th input entry with the same key, so two DNS names in a CSR fill two
 * DNS fields in order; entries that no field takes (an OU the template
 * does not have) are ignored.
 */
struct subj_input_entry {
	enum subj_kind kind;
	enum subj_san_type san_type;
	const char *oid;
	const char *value;
};

struct subj_input {
	const struct subj_input_entry *entries;
	size_t nentries;
};

enum subj_source { SUBJ_SRC_CSR, SUBJ_SRC_USER };

/* A resolved value; the descriptors are copied from the template field. */
struct subj_value {
	size_t field;
	enum subj_kind kind;
	enum subj_strtype strtype;
	enum subj_san_type san_type;
	enum subj_onenc onenc;
	char *oid;
	char *value;
};

/* Fields that ended with a value, in template order. */
struct subj_result {
	struct subj_value *values;
	size_t nvalues;
};

/*
 * What went wrong, for the 422 body: field is the template field number
 * (or -1), name the field as the user knows it ("CN", "SAN 2 (DNS)").
 */
struct subj_error {
	long field;
	char name[80];
	char reason[96];
};

/*
 * Resolves every field of t, in order:
 * 1. a fixed field takes the template's value;
 * 2. a field that m maps: the device's value, else the mapping's default,
 *    else the input value, else the template's default;
 * 3. otherwise: the input value, else the template's default;
 * then a required field without a value, a value over the bound, or a value
 * that its type refuses (printable strings, country codes, DNS names, IP
 * literals, URIs, e-mail addresses, otherName forms) gives
 * EST_E_UNPROCESSABLE with *err naming the field.  m and dev may be NULL
 * (a mapped field then has no device value).  A template or mapping that is
 * itself malformed (no max_len, mapping to a field that does not exist,
 * bad OID) gives EST_E_INVAL.  *out is freed with subject_result_free().
 */
int subject_resolve(const struct subj_template *t, const struct subj_mapping *m,
		    const struct subj_device *dev, const struct subj_input *in,
		    enum subj_source src, struct subj_result **out,
		    struct subj_error *err);
void subject_result_free(struct subj_result *r);

/* Device values filled by subject_reverse_map(); NULL: not provided. */
struct subj_device_values {
	char *name;
	char *props[SUBJ_PROP_COUNT];
	struct subj_attr_out {
		char *name;
		char *value;
	} * attrs;
	size_t nattrs;
};

/* What a device field gets when it is required and nothing provides it. */
#define SUBJ_UNDEFINED "UNDEFINED"

/*
 * Auto-registration with "use certificate mapping": each mapped field's
 * value in the factory certificate's subject (as subject_input_from_cert()
 * gives it) goes to its device field; the first non-empty value wins when
 * two fields map to the same device field.  Every device field in required
 * (nrequired entries) that is still empty becomes SUBJ_UNDEFINED.  A value
 * over the mapping's bound gives EST_E_UNPROCESSABLE naming the field.
 * Free *out with subject_device_values_free().
 */
int subject_reverse_map(const struct subj_template *t,
			const struct subj_mapping *m,
			const struct subj_input *factory_cert_subject,
			const struct subj_devfield *required, size_t nrequired,
			struct subj_device_values **out,
			struct subj_error *err);
void subject_device_values_free(struct subj_device_values *v);

/*
 * The subject attributes of r as a name, in order.  SUBJ_STR_DEFAULT
 * follows RFC 5280: countryName is a PrintableString of two letters,
 * serialNumber and dnQualifier are PrintableString (anything else in them
 * is refused with EST_E_UNPROCESSABLE), emailAddress and domainComponent
 * IA5String, everything else UTF8String.  No attributes: an empty name.
 */
int subject_to_x509_name(const struct subj_result *r, X509_NAME **out);
/*
 * The SAN entries of r, in order; *out is NULL when r has none (the
 * certificate then carries no subjectAltName extension).
 */
int subject_to_general_names(const struct subj_result *r, GENERAL_NAMES **out);

/*
 * The values of a name and of subject alternative names (either may be
 * NULL) in the textual forms above, as input for subject_resolve() or
 * subject_reverse_map().  An otherName whose value is a SEQUENCE of an OID
 * and an OCTET STRING reads as a hardware module name, an OCTET STRING as
 * hex of its content, UTF8String and IA5String as text, anything else as
 * hex DER.  Entries that have no text form here (directoryName,
 * x400Address, ...) are skipped.  Free with subject_input_free().
 */
int subject_input_from_cert(const X509_NAME *name, const GENERAL_NAMES *gens,
			    struct subj_input **out);
void subject_input_free(struct subj_input *in);

#endif
