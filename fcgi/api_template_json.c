/*
 * Certificate templates as the API answers them (tmpl_body_json(), see
 * api_template.h): names for the enumerations and bit sets, null for
 * what is not set, the field lists and extensions of a single object.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "api_template.h"
#include "csr.h"
#include "err.h"
#include "rest.h"
#include "subject.h"
#include "tmpl.h"
#include "x509.h"

static int
put_strarray(struct json_object *o, const char *key, const char *const *v,
	     size_t n)
{
	struct json_object *a, *s;
	size_t i;

	if ((a = json_object_new_array()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < n; i++) {
		if ((s = json_object_new_string(v[i])) == NULL ||
		    json_object_array_add(a, s) != 0) {
			json_object_put(s);
			json_object_put(a);
			return EST_E_NOMEM;
		}
	}
	return rest_put_obj(o, key, a);
}

static int
put_keytypes(struct json_object *o, const struct tmpl *t)
{
	const char *names[8];
	size_t n = 0;
	int k;

	for (k = 1; k <= 5 && n < NELEM(names); k++)
		if (t->key_types & CSR_KEYBIT(k))
			names[n++] = x509_keytype_name(k);
	return put_strarray(o, "key_types", names, n);
}

static int
put_ku(struct json_object *o, const struct tmpl *t)
{
	const char *names[16];
	size_t n = 0;
	int b;

	for (b = 0; b < 9; b++)
		if (t->ku & (1u << b))
			names[n++] = tmpl_name(TMPL_N_KU, b);
	return put_strarray(o, "key_usage", names, n);
}

static int
put_eku(struct json_object *o, const struct tmpl *t)
{
	const char *names[TMPL_EKU_MAX];
	const char *nm;
	size_t i, n = 0;

	for (i = 0; i < t->neku && n < NELEM(names); i++) {
		nm = tmpl_eku_name(t->eku[i]);
		names[n++] = nm != NULL ? nm : t->eku[i];
	}
	return put_strarray(o, "extended_key_usage", names, n);
}

static int
put_basic(struct json_object *o, const struct tmpl *t)
{
	struct json_object *b;
	int r;

	if ((b = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_bool(b, "include", t->basic_constraints)) != 0 ||
	    (r = rest_put_bool(b, "ca", t->basic_ca)) != 0 ||
	    (r = t->basic_pathlen >= 0
			 ? rest_put_int(b, "path_len", t->basic_pathlen)
			 : rest_put_obj(b, "path_len", NULL)) != 0 ||
	    (r = rest_put_bool(b, "critical", t->basic_critical)) != 0) {
		json_object_put(b);
		return r;
	}
	return rest_put_obj(o, "basic_constraints", b);
}

static int
field_json(const struct tmpl *t, size_t i, int audit, struct json_object **out)
{
	const struct subj_field *f = &t->fields[i];
	struct json_object *o;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if (!audit &&
	    (r = rest_put_id(o, "id",
			     t->field_ids != NULL ? t->field_ids[i] : 0)) != 0)
		goto fail;
	if (f->kind == SUBJ_ATTR) {
		if ((r = rest_put_str(o, "attribute", f->short_name)) != 0 ||
		    (r = rest_put_str(o, "oid", f->oid)) != 0)
			goto fail;
	} else {
		int other = f->san_type == SUBJ_SAN_OTHERNAME;

		if ((r = rest_put_str(o, "type",
				      tmpl_name(TMPL_N_SANTYPE,
						(int)f->san_type))) != 0 ||
		    (r = rest_put_str(o, "othername_oid",
				      other ? f->oid : NULL)) != 0 ||
		    (r = rest_put_str(
			     o, "othername_encoding",
			     other ? tmpl_name(TMPL_N_ONENC, (int)f->onenc)
				   : NULL)) != 0)
			goto fail;
	}
	if ((r = rest_put_str(o, "rule",
			      tmpl_name(TMPL_N_RULE, (int)f->rule))) != 0 ||
	    (r = rest_put_int(o, "max_length", (int64_t)f->max_len)) != 0 ||
	    (r = rest_put_str(o, "default_value", f->default_value)) != 0)
		goto fail;
	if (f->kind == SUBJ_ATTR &&
	    (r = rest_put_str(o, "string_type",
			      tmpl_name(TMPL_N_STRTYPE, (int)f->strtype))) != 0)
		goto fail;
	*out = o;
	return 0;
fail:
	json_object_put(o);
	return r;
}

static int
put_fields(struct json_object *o, const struct tmpl *t, int audit)
{
	struct json_object *subj = NULL, *san = NULL, *f;
	size_t i;
	int r = EST_E_NOMEM;

	if ((subj = json_object_new_array()) == NULL ||
	    (san = json_object_new_array()) == NULL)
		goto fail;
	for (i = 0; i < t->nfields; i++) {
		if ((r = field_json(t, i, audit, &f)) != 0)
			goto fail;
		if (json_object_array_add(t->fields[i].kind == SUBJ_ATTR ? subj
									 : san,
					  f) != 0) {
			json_object_put(f);
			r = EST_E_NOMEM;
			goto fail;
		}
	}
	r = rest_put_obj(o, "subject_fields", subj);
	subj = NULL;
	if (r != 0)
		goto fail;
	return rest_put_obj(o, "san_fields", san);
fail:
	json_object_put(subj);
	json_object_put(san);
	return r;
}

static int
put_exts(struct json_object *o, const struct tmpl *t)
{
	struct json_object *a, *x;
	size_t i;
	int r;

	if ((a = json_object_new_array()) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < t->nexts; i++) {
		if ((x = json_object_new_object()) == NULL) {
			r = EST_E_NOMEM;
			goto fail;
		}
		if ((r = rest_put_id(x, "id", t->exts[i].id)) != 0 ||
		    (r = rest_put_str(x, "oid", t->exts[i].oid)) != 0 ||
		    (r = rest_put_bool(x, "critical", t->exts[i].critical)) !=
			    0 ||
		    json_object_array_add(a, x) != 0) {
			json_object_put(x);
			r = r != 0 ? r : EST_E_NOMEM;
			goto fail;
		}
	}
	return rest_put_obj(o, "custom_extensions", a);
fail:
	json_object_put(a);
	return r;
}

int
tmpl_body_json(const struct tmpl *t, int flags, struct json_object **out)
{
	int audit = (flags & TMPL_JSON_AUDIT) != 0;
	struct json_object *o;
	struct pki_scope s;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = pki_scope_from_row(t->scope, t->tenant_id, t->org_id, &s)) !=
		    0 ||
	    (!audit && (r = rest_put_id(o, "id", t->id)) != 0) ||
	    (r = rest_put_str(o, "name", t->name)) != 0 ||
	    (r = rest_put_str(o, "description", t->description)) != 0 ||
	    (r = rest_put_str(o, "type",
			      tmpl_name(TMPL_N_TYPE, (int)t->type))) != 0 ||
	    (r = pki_scope_put(o, &s)) != 0 ||
	    (r = rest_put_id(o, "ca_id", t->ca_id)) != 0 ||
	    (r = t->validity_days > 0
			 ? rest_put_int(o, "validity_days", t->validity_days)
			 : rest_put_obj(o, "validity_days", NULL)) != 0 ||
	    (r = rest_put_bool(o, "unlimited",
			       t->validity_days == TMPL_VALIDITY_UNLIMITED)) !=
		    0 ||
	    (r = put_keytypes(o, t)) != 0 ||
	    (r = rest_put_bool(o, "server_keygen", t->server_keygen)) != 0 ||
	    (r = rest_put_str(o, "keygen_key_type",
			      t->keygen_key_type > 0
				      ? x509_keytype_name(t->keygen_key_type)
				      : NULL)) != 0 ||
	    (r = rest_put_str(o, "digest",
			      tmpl_name(TMPL_N_DIGEST, (int)t->digest))) != 0 ||
	    (r = put_ku(o, t)) != 0 ||
	    (r = rest_put_bool(o, "key_usage_critical", t->ku_critical)) != 0 ||
	    (r = put_eku(o, t)) != 0 ||
	    (r = rest_put_bool(o, "eku_critical", t->eku_critical)) != 0 ||
	    (r = put_basic(o, t)) != 0 ||
	    (r = rest_put_bool(o, "san_critical", t->san_critical)) != 0 ||
	    (r = rest_put_bool(o, "crl_distribution_point", t->crl_dp)) != 0 ||
	    (r = rest_put_bool(o, "ocsp", t->ocsp_aia)) != 0 ||
	    (r = rest_put_bool(o, "ca_issuers", t->ca_issuers_aia)) != 0 ||
	    (r = t->key_retention_days >= 0
			 ? rest_put_int(o, "key_retention_days",
					t->key_retention_days)
			 : rest_put_obj(o, "key_retention_days", NULL)) != 0)
		goto fail;
	if (!audit &&
	    ((r = rest_put_bool(o, "active", t->active)) != 0 ||
	     (r = rest_put_time(o, "created_at", t->created_at)) != 0 ||
	     (r = rest_put_time(o, "updated_at", t->updated_at)) != 0))
		goto fail;
	if ((flags & TMPL_JSON_FULL) != 0 &&
	    ((r = put_fields(o, t, audit)) != 0 || (r = put_exts(o, t)) != 0))
		goto fail;
	*out = o;
	return 0;
fail:
	json_object_put(o);
	return r;
}
