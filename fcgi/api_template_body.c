/*
 * Certificate template bodies: the field table and the members of a
 * request applied to a struct tmpl.  api_template_check.c checks the
 * result as a whole, api_template_json.c answers it, api_template.c does
 * the rest (access, the CA and the custom extensions, the transaction).
 *
 * Decisions:
 * - Subject fields name their attribute by "attribute" (CN, O, OU, C, ST,
 *   L, serialNumber, emailAddress and the other names of attr_names) or by
 *   "oid"; the answer has both (attribute null for an OID without a name).
 * - Extended key usages are names (serverAuth...) or dotted OIDs; they are
 *   stored as OIDs and answered by name when they have one.
 * - Members that a create needs are checked by api_template.c, so that
 *   one table serves a create and an update.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_template.h"
#include "err.h"
#include "subject.h"
#include "tmpl.h"
#include "x509.h"

#define SUBJ_MAXLEN_DEFAULT 64 /* the columns' defaults */
#define SAN_MAXLEN_DEFAULT 255
#define PATHLEN_MAX 255

struct named_oid {
	const char *name;
	const char *oid;
};

/* Subject attributes by the names users know (RFC 4519, PKCS #9). */
static const struct named_oid attr_names[] = {
	{"CN", "2.5.4.3"},
	{"SN", "2.5.4.4"},
	{"serialNumber", "2.5.4.5"},
	{"C", "2.5.4.6"},
	{"L", "2.5.4.7"},
	{"ST", "2.5.4.8"},
	{"street", "2.5.4.9"},
	{"O", "2.5.4.10"},
	{"OU", "2.5.4.11"},
	{"title", "2.5.4.12"},
	{"businessCategory", "2.5.4.15"},
	{"postalCode", "2.5.4.17"},
	{"GN", "2.5.4.42"},
	{"initials", "2.5.4.43"},
	{"generationQualifier", "2.5.4.44"},
	{"dnQualifier", "2.5.4.46"},
	{"pseudonym", "2.5.4.65"},
	{"organizationIdentifier", "2.5.4.97"},
	{"emailAddress", "1.2.840.113549.1.9.1"},
	{"UID", "0.9.2342.19200300.100.1.1"},
	{"DC", "0.9.2342.19200300.100.1.25"},
};

static const char *const attr_enum[] = {"CN",
					"SN",
					"serialNumber",
					"C",
					"L",
					"ST",
					"street",
					"O",
					"OU",
					"title",
					"businessCategory",
					"postalCode",
					"GN",
					"initials",
					"generationQualifier",
					"dnQualifier",
					"pseudonym",
					"organizationIdentifier",
					"emailAddress",
					"UID",
					"DC",
					NULL};

/* RFC 5280 4.2.1.12 key purposes. */
static const struct named_oid eku_names[] = {
	{"serverAuth", "1.3.6.1.5.5.7.3.1"},
	{"clientAuth", "1.3.6.1.5.5.7.3.2"},
	{"codeSigning", "1.3.6.1.5.5.7.3.3"},
	{"emailProtection", "1.3.6.1.5.5.7.3.4"},
	{"timeStamping", "1.3.6.1.5.5.7.3.8"},
	{"OCSPSigning", "1.3.6.1.5.5.7.3.9"},
};

static const char *const type_enum[] = {"factory", "operational", "general",
					NULL};
static const char *const keytype_enum[] = {"ec-p256",  "ec-p384",  "rsa-2048",
					   "rsa-3072", "rsa-4096", NULL};
static const char *const digest_enum[] = {"sha256", "sha384", "sha512", NULL};
static const char *const ku_enum[] = {"digitalSignature", "nonRepudiation",
				      "keyEncipherment",  "dataEncipherment",
				      "keyAgreement",	  "keyCertSign",
				      "cRLSign",	  "encipherOnly",
				      "decipherOnly",	  NULL};
static const char *const rule_enum[] = {"optional", "required", "fixed", NULL};
static const char *const strtype_enum[] = {
	"default", "utf8string", "printablestring", "ia5string", NULL};
static const char *const santype_enum[] = {"dns",   "ip",	 "uri",
					   "email", "othername", NULL};
static const char *const onenc_enum[] = {"utf8string",	"ia5string",
					 "octetstring", "hardware_module_name",
					 "der",		NULL};

static const char *
oid_of(const struct named_oid *t, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].oid;
	return NULL;
}

static const char *
name_of(const struct named_oid *t, size_t n, const char *oid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].oid, oid) == 0)
			return t[i].name;
	return NULL;
}

/* An EKU item: a purpose name or a dotted OID. */
static int
check_eku(const char *s)
{
	if (oid_of(eku_names, NELEM(eku_names), s) != NULL)
		return 0;
	return strlen(s) <= 128 ? jsonval_check_oid(s) : EST_E_UNPROCESSABLE;
}

static int
check_oid(const char *s)
{
	return jsonval_check_oid(s);
}

static const struct jsonval_field subject_field_fields[] = {
	{.name = "attribute", .type = JV_ENUM, .enum_values = attr_enum},
	{.name = "oid",
	 .type = JV_STRING,
	 .min_len = 3,
	 .max_len = 128,
	 .check = check_oid},
	{.name = "rule", .type = JV_ENUM, .enum_values = rule_enum},
	{.name = "max_length",
	 .type = JV_INT,
	 .min = 1,
	 .max = TMPL_FIELD_LEN_MAX},
	{.name = "default_value",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = 1,
	 .max_len = TMPL_FIELD_LEN_MAX},
	{.name = "string_type", .type = JV_ENUM, .enum_values = strtype_enum},
};

static const struct jsonval_field san_field_fields[] = {
	{.name = "type",
	 .type = JV_ENUM,
	 .required = 1,
	 .enum_values = santype_enum},
	{.name = "othername_oid",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = 3,
	 .max_len = 128,
	 .check = check_oid},
	{.name = "othername_encoding",
	 .type = JV_ENUM,
	 .nullable = 1,
	 .enum_values = onenc_enum},
	{.name = "rule", .type = JV_ENUM, .enum_values = rule_enum},
	{.name = "max_length",
	 .type = JV_INT,
	 .min = 1,
	 .max = TMPL_FIELD_LEN_MAX},
	{.name = "default_value",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = 1,
	 .max_len = TMPL_FIELD_LEN_MAX},
};

static const struct jsonval_field basic_fields[] = {
	{.name = "include", .type = JV_BOOL},
	{.name = "ca", .type = JV_BOOL},
	{.name = "path_len",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 0,
	 .max = PATHLEN_MAX},
	{.name = "critical", .type = JV_BOOL},
};

static const struct jsonval_field ext_ref_fields[] = {
	{.name = "id",
	 .type = JV_INT,
	 .required = 1,
	 .min = 1,
	 .max = INT64_MAX},
};

const struct jsonval_field tmpl_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .min_len = 1,
	 .max_len = TMPL_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .max_len = TMPL_DESC_MAX},
	{.name = "type", .type = JV_ENUM, .enum_values = type_enum},
	PKI_SCOPE_FIELDS,
	{.name = "ca_id", .type = JV_INT, .min = 1, .max = INT64_MAX},
	{.name = "validity_days",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = TMPL_VALIDITY_MAX},
	{.name = "unlimited", .type = JV_BOOL},
	{.name = "key_types",
	 .type = JV_STRING_ARRAY,
	 .unique = 1,
	 .min_items = 1,
	 .max_items = 5,
	 .enum_values = keytype_enum},
	{.name = "server_keygen", .type = JV_BOOL},
	{.name = "keygen_key_type",
	 .type = JV_ENUM,
	 .nullable = 1,
	 .enum_values = keytype_enum},
	{.name = "digest", .type = JV_ENUM, .enum_values = digest_enum},
	{.name = "key_usage",
	 .type = JV_STRING_ARRAY,
	 .unique = 1,
	 .max_items = 9,
	 .enum_values = ku_enum},
	{.name = "key_usage_critical", .type = JV_BOOL},
	{.name = "extended_key_usage",
	 .type = JV_STRING_ARRAY,
	 .unique = 1,
	 .max_items = TMPL_EKU_MAX,
	 .min_len = 1,
	 .max_len = 128,
	 .check = check_eku},
	{.name = "eku_critical", .type = JV_BOOL},
	{.name = "basic_constraints",
	 .type = JV_OBJECT,
	 .fields = basic_fields,
	 .nfields = NELEM(basic_fields)},
	{.name = "san_critical", .type = JV_BOOL},
	{.name = "crl_distribution_point", .type = JV_BOOL},
	{.name = "ocsp", .type = JV_BOOL},
	{.name = "ca_issuers", .type = JV_BOOL},
	{.name = "key_retention_days",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 0,
	 .max = TMPL_RETENTION_MAX},
	{.name = "subject_fields",
	 .type = JV_OBJECT_ARRAY,
	 .max_items = TMPL_SUBJECT_MAX,
	 .fields = subject_field_fields,
	 .nfields = NELEM(subject_field_fields)},
	{.name = "san_fields",
	 .type = JV_OBJECT_ARRAY,
	 .max_items = TMPL_SAN_MAX,
	 .fields = san_field_fields,
	 .nfields = NELEM(san_field_fields)},
	{.name = "custom_extensions",
	 .type = JV_OBJECT_ARRAY,
	 .max_items = TMPL_EXT_MAX,
	 .fields = ext_ref_fields,
	 .nfields = NELEM(ext_ref_fields)},
};

const size_t tmpl_nfields = NELEM(tmpl_fields);

/* ------------------------------------------------------------------ */
/* Applying a body */

static int
set_str(char **dst, const char *s)
{
	char *n = NULL;

	if (s != NULL && (n = strdup(s)) == NULL)
		return EST_E_NOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

int
tmpl_body_new(struct tmpl **out)
{
	struct tmpl *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return EST_E_NOMEM;
	/* The columns' defaults (db/002_pki.sql). */
	t->active = 1;
	t->validity_days = -1; /* not given yet */
	t->server_keygen = 1;
	t->digest = TMPL_DIGEST_SHA256;
	t->ku_critical = 1;
	t->basic_constraints = 1;
	t->basic_pathlen = -1;
	t->basic_critical = 1;
	t->crl_dp = 1;
	t->ocsp_aia = 1;
	t->key_retention_days = -1;
	*out = t;
	return 0;
}

static void
field_free_strings(struct subj_field *f)
{
	free((char *)(uintptr_t)f->oid);
	free((char *)(uintptr_t)f->short_name);
	free((char *)(uintptr_t)f->default_value);
	memset(f, 0, sizeof(*f));
}

/* Sets a field string (owned) from s, NULL for none. */
static int
field_str(const char **dst, const char *s)
{
	char *n = NULL;

	if (s != NULL && (n = strdup(s)) == NULL)
		return EST_E_NOMEM;
	free((char *)(uintptr_t)*dst);
	*dst = n;
	return 0;
}

static int
field_dup(const struct subj_field *src, struct subj_field *dst)
{
	*dst = *src;
	dst->oid = dst->short_name = dst->default_value = NULL;
	if (field_str(&dst->oid, src->oid) != 0 ||
	    field_str(&dst->short_name, src->short_name) != 0 ||
	    field_str(&dst->default_value, src->default_value) != 0) {
		field_free_strings(dst);
		return EST_E_NOMEM;
	}
	return 0;
}

/* 422 naming member of item i of list ("san_fields[2].rule"). */
static int
item_fail(struct jsonval_error *e, const char *list, size_t i,
	  const char *member, const char *msg)
{
	char path[64];

	snprintf(path, sizeof(path), "%s[%zu].%s", list, i, member);
	return jsonval_error_set(e, EST_E_UNPROCESSABLE, path, "%s", msg);
}

static int
enum_member(struct json_object *o, const char *name, enum tmpl_names kind,
	    int *v)
{
	const char *s = jsonval_get_string(o, name);

	return s != NULL && tmpl_value(kind, s, v) == 0;
}

static int
subject_field(struct json_object *o, size_t i, struct subj_field *f,
	      struct jsonval_error *e)
{
	const char *attr = jsonval_get_string(o, "attribute");
	const char *oid = jsonval_get_string(o, "oid");
	const char *known;
	int64_t len;
	int v;

	f->kind = SUBJ_ATTR;
	f->rule = SUBJ_OPTIONAL;
	f->max_len = SUBJ_MAXLEN_DEFAULT;
	if (attr == NULL && oid == NULL)
		return item_fail(e, "subject_fields", i, "attribute",
				 "an attribute or an oid is required");
	known = attr != NULL ? oid_of(attr_names, NELEM(attr_names), attr)
			     : NULL;
	if (attr != NULL && known == NULL)
		return EST_E_INTERNAL; /* the table's enum has it */
	if (attr != NULL && oid != NULL && strcmp(known, oid) != 0)
		return item_fail(e, "subject_fields", i, "oid",
				 "does not match the attribute");
	if (oid == NULL)
		oid = known;
	if (attr == NULL)
		attr = name_of(attr_names, NELEM(attr_names), oid);
	if (field_str(&f->oid, oid) != 0 ||
	    field_str(&f->short_name, attr) != 0 ||
	    field_str(&f->default_value,
		      jsonval_get_string(o, "default_value")) != 0)
		return EST_E_NOMEM;
	if (enum_member(o, "rule", TMPL_N_RULE, &v))
		f->rule = (enum subj_rule)v;
	if (enum_member(o, "string_type", TMPL_N_STRTYPE, &v))
		f->strtype = (enum subj_strtype)v;
	if (jsonval_get_int(o, "max_length", &len) == 0)
		f->max_len = (size_t)len;
	return 0;
}

static int
san_field(struct json_object *o, size_t i, struct subj_field *f,
	  struct jsonval_error *e)
{
	const char *oid = jsonval_get_string(o, "othername_oid");
	int has_enc, v = 0;
	int64_t len;

	f->kind = SUBJ_SAN;
	f->rule = SUBJ_OPTIONAL;
	f->max_len = SAN_MAXLEN_DEFAULT;
	if (!enum_member(o, "type", TMPL_N_SANTYPE, &v))
		return EST_E_INTERNAL; /* the table requires it */
	f->san_type = (enum subj_san_type)v;
	has_enc = enum_member(o, "othername_encoding", TMPL_N_ONENC, &v);
	if (f->san_type == SUBJ_SAN_OTHERNAME) {
		if (oid == NULL)
			return item_fail(e, "san_fields", i, "othername_oid",
					 "an otherName needs its type");
		if (!has_enc)
			return item_fail(e, "san_fields", i,
					 "othername_encoding",
					 "an otherName needs its encoding");
		f->onenc = (enum subj_onenc)v;
	} else if (oid != NULL || has_enc) {
		return item_fail(e, "san_fields", i,
				 oid != NULL ? "othername_oid"
					     : "othername_encoding",
				 "only for an otherName");
	}
	if (field_str(&f->oid, oid) != 0 ||
	    field_str(&f->default_value,
		      jsonval_get_string(o, "default_value")) != 0)
		return EST_E_NOMEM;
	if (enum_member(o, "rule", TMPL_N_RULE, &v))
		f->rule = (enum subj_rule)v;
	if (jsonval_get_int(o, "max_length", &len) == 0)
		f->max_len = (size_t)len;
	return 0;
}

/*
 * The field lists: the kind sent is rebuilt from the body, the other is
 * copied from t; then the new arrays replace t's.
 */
static int
apply_fields(struct tmpl *t, struct json_object *body, struct jsonval_error *e)
{
	int subj_sent = jsonval_presence(body, "subject_fields") == JV_PRESENT;
	int san_sent = jsonval_presence(body, "san_fields") == JV_PRESENT;
	size_t nsubj = 0, nsan = 0, n = 0, i, k;
	struct subj_field *fields = NULL;
	int64_t *ids = NULL;
	int r = 0;

	if (!subj_sent && !san_sent)
		return 0;
	for (i = 0; i < t->nfields; i++)
		if (t->fields[i].kind == SUBJ_ATTR)
			nsubj++;
		else
			nsan++;
	if (subj_sent)
		nsubj = jsonval_get_count(body, "subject_fields");
	if (san_sent)
		nsan = jsonval_get_count(body, "san_fields");
	if (nsubj + nsan > 0 &&
	    ((fields = calloc(nsubj + nsan, sizeof(*fields))) == NULL ||
	     (ids = calloc(nsubj + nsan, sizeof(*ids))) == NULL)) {
		r = EST_E_NOMEM;
		goto out;
	}
	/* Subject fields first, then SAN fields, as the loader gives them. */
	for (k = 0; k < 2; k++) {
		int sent = k == 0 ? subj_sent : san_sent;
		const char *list = k == 0 ? "subject_fields" : "san_fields";
		enum subj_kind kind = k == 0 ? SUBJ_ATTR : SUBJ_SAN;
		size_t cnt = k == 0 ? nsubj : nsan;

		for (i = 0; sent && i < cnt; i++) {
			struct json_object *o =
				jsonval_get_object_at(body, list, i);

			n++;
			r = k == 0 ? subject_field(o, i, &fields[n - 1], e)
				   : san_field(o, i, &fields[n - 1], e);
			if (r != 0)
				goto out;
		}
		for (i = 0; !sent && i < t->nfields; i++) {
			if (t->fields[i].kind != kind)
				continue;
			ids[n] = t->field_ids != NULL ? t->field_ids[i] : 0;
			if ((r = field_dup(&t->fields[i], &fields[n])) != 0)
				goto out;
			n++;
		}
	}
	for (i = 0; i < t->nfields; i++)
		field_free_strings(&t->fields[i]);
	free(t->fields);
	free(t->field_ids);
	t->fields = fields;
	t->field_ids = ids;
	t->nfields = n;
	fields = NULL;
	ids = NULL;
out:
	for (i = 0; fields != NULL && i < n; i++)
		field_free_strings(&fields[i]);
	free(fields);
	free(ids);
	return r;
}

static int
apply_eku(struct tmpl *t, struct json_object *body, struct jsonval_error *e)
{
	size_t n = jsonval_get_count(body, "extended_key_usage"), i, k;
	const char *s, *oid;
	char **eku = NULL;
	int r = EST_E_NOMEM;

	if (jsonval_presence(body, "extended_key_usage") != JV_PRESENT)
		return 0;
	if (n > 0 && (eku = calloc(n, sizeof(*eku))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++) {
		s = jsonval_get_string_at(body, "extended_key_usage", i);
		oid = oid_of(eku_names, NELEM(eku_names), s);
		if ((eku[i] = strdup(oid != NULL ? oid : s)) == NULL)
			goto out;
		/* A name and its OID are the same purpose twice. */
		for (k = 0; k < i; k++) {
			if (strcmp(eku[k], eku[i]) == 0) {
				r = jsonval_error_set(e, EST_E_UNPROCESSABLE,
						      "extended_key_usage",
						      "a purpose is repeated");
				goto out;
			}
		}
	}
	for (k = 0; k < t->neku; k++)
		free(t->eku[k]);
	free(t->eku);
	t->eku = eku;
	t->neku = n;
	return 0;
out:
	for (k = 0; k < n; k++)
		free(eku[k]);
	free(eku);
	return r;
}

static int
apply_exts(struct tmpl *t, struct json_object *body)
{
	size_t n = jsonval_get_count(body, "custom_extensions"), i;
	struct tmpl_ext *x = NULL;
	int64_t id;

	if (jsonval_presence(body, "custom_extensions") != JV_PRESENT)
		return 0;
	if (n > 0 && (x = calloc(n, sizeof(*x))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++) {
		if (jsonval_get_int(
			    jsonval_get_object_at(body, "custom_extensions", i),
			    "id", &id) != 0) {
			free(x);
			return EST_E_INTERNAL;
		}
		x[i].id = id;
	}
	for (i = 0; i < t->nexts; i++) {
		free(t->exts[i].oid);
		free(t->exts[i].der);
	}
	free(t->exts);
	t->exts = x;
	t->nexts = n;
	return 0;
}

static int
apply_validity(struct tmpl *t, struct json_object *body,
	       struct jsonval_error *e)
{
	enum jv_presence days = jsonval_presence(body, "validity_days");
	int unlimited = 0, has_unl;
	int64_t v;

	has_unl = jsonval_get_bool(body, "unlimited", &unlimited) == 0;
	if (has_unl && unlimited) {
		if (days == JV_PRESENT)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "unlimited",
				"unlimited with a validity period");
		t->validity_days = TMPL_VALIDITY_UNLIMITED;
		return 0;
	}
	if (days == JV_PRESENT) {
		(void)jsonval_get_int(body, "validity_days", &v);
		t->validity_days = (int)v;
	} else if (days == JV_NULL ||
		   (has_unl && t->validity_days == TMPL_VALIDITY_UNLIMITED)) {
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "validity_days",
					 "a validity period or unlimited");
	}
	return 0;
}

static int
apply_basic(struct tmpl *t, struct json_object *body)
{
	struct json_object *b = jsonval_get_object(body, "basic_constraints");
	int64_t v;
	int x;

	if (b == NULL)
		return 0;
	if (jsonval_get_bool(b, "include", &x) == 0)
		t->basic_constraints = x;
	if (jsonval_get_bool(b, "ca", &x) == 0)
		t->basic_ca = x;
	if (jsonval_get_bool(b, "critical", &x) == 0)
		t->basic_critical = x;
	if (jsonval_presence(b, "path_len") == JV_NULL)
		t->basic_pathlen = -1;
	else if (jsonval_get_int(b, "path_len", &v) == 0)
		t->basic_pathlen = (int)v;
	return 0;
}

/* A bit set from an array of names (keyUsage bits, key types). */
static uint32_t
name_bits(struct json_object *body, const char *member, int keytypes)
{
	size_t n = jsonval_get_count(body, member), i;
	uint32_t bits = 0;
	int v;

	for (i = 0; i < n; i++) {
		const char *s = jsonval_get_string_at(body, member, i);

		if (keytypes ? x509_keytype_parse(s, &v) == 0
			     : tmpl_value(TMPL_N_KU, s, &v) == 0)
			bits |= 1u << v;
	}
	return bits;
}

/* The booleans of a template by member name. */
static int *
bool_member(struct tmpl *t, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} tab[] = {
		{"server_keygen", offsetof(struct tmpl, server_keygen)},
		{"key_usage_critical", offsetof(struct tmpl, ku_critical)},
		{"eku_critical", offsetof(struct tmpl, eku_critical)},
		{"san_critical", offsetof(struct tmpl, san_critical)},
		{"crl_distribution_point", offsetof(struct tmpl, crl_dp)},
		{"ocsp", offsetof(struct tmpl, ocsp_aia)},
		{"ca_issuers", offsetof(struct tmpl, ca_issuers_aia)},
	};
	size_t i;

	for (i = 0; i < NELEM(tab); i++)
		if (strcmp(tab[i].name, name) == 0)
			return (int *)(void *)((char *)t + tab[i].off);
	return NULL;
}

int
tmpl_body_apply(struct tmpl *t, struct json_object *body,
		struct jsonval_error *e)
{
	static const char *const bools[] = {
		"server_keygen", "key_usage_critical",	   "eku_critical",
		"san_critical",	 "crl_distribution_point", "ocsp",
		"ca_issuers"};
	const char *s;
	int64_t v;
	size_t i;
	int x, r;

	if ((s = jsonval_get_string(body, "name")) != NULL &&
	    (r = set_str(&t->name, s)) != 0)
		return r;
	if (jsonval_presence(body, "description") != JV_ABSENT &&
	    (r = set_str(&t->description,
			 jsonval_get_string(body, "description"))) != 0)
		return r;
	if (enum_member(body, "type", TMPL_N_TYPE, &x))
		t->type = (enum tmpl_type)x;
	if (enum_member(body, "digest", TMPL_N_DIGEST, &x))
		t->digest = (enum tmpl_digest)x;
	if (jsonval_get_int(body, "ca_id", &v) == 0)
		t->ca_id = v;
	if (jsonval_presence(body, "key_types") == JV_PRESENT)
		t->key_types = name_bits(body, "key_types", 1);
	if (jsonval_presence(body, "keygen_key_type") == JV_NULL)
		t->keygen_key_type = 0;
	else if ((s = jsonval_get_string(body, "keygen_key_type")) != NULL &&
		 x509_keytype_parse(s, &x) == 0)
		t->keygen_key_type = x;
	if (jsonval_presence(body, "key_usage") == JV_PRESENT)
		t->ku = name_bits(body, "key_usage", 0);
	for (i = 0; i < NELEM(bools); i++)
		if (jsonval_get_bool(body, bools[i], &x) == 0)
			*bool_member(t, bools[i]) = x;
	if (jsonval_presence(body, "key_retention_days") == JV_NULL)
		t->key_retention_days = -1;
	else if (jsonval_get_int(body, "key_retention_days", &v) == 0)
		t->key_retention_days = (int)v;
	if ((r = apply_validity(t, body, e)) != 0 ||
	    (r = apply_basic(t, body)) != 0 ||
	    (r = apply_eku(t, body, e)) != 0 ||
	    (r = apply_fields(t, body, e)) != 0)
		return r;
	return apply_exts(t, body);
}

const char *
tmpl_eku_name(const char *oid)
{
	return name_of(eku_names, NELEM(eku_names), oid);
}
