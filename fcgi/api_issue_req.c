/*
 * The parts of a certificate request shared by the issuing endpoints
 * (fcgi/api_issue_req.h).  The subject rule itself (DESIGN.md, "Subject
 * value of a certificate field") is pki/issue.h's: this file only turns
 * JSON members into its inputs and names the member at fault.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "api_cert.h"
#include "api_issue_req.h"
#include "auth.h"
#include "ca.h"
#include "csr.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "issue.h"
#include "jsonval.h"
#include "sigclient.h"
#include "tmpl.h"
#include "x509.h"

const char *const issue_req_key_types[] = {
	"ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", NULL,
};

static const char *const san_types[] = {
	"dns", "ip", "uri", "email", "othername", NULL,
};

const struct jsonval_field issue_req_san_fields[ISSUE_REQ_NSAN_FIELDS] = {
	{.name = "type",
	 .type = JV_ENUM,
	 .required = 1,
	 .enum_values = san_types},
	{.name = "oid",
	 .type = JV_STRING,
	 .max_len = 128,
	 .check = jsonval_check_oid},
	{.name = "value",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = ISSUE_REQ_VALUE_MAX},
};

const char *
issue_req_field(const char *prefix, const char *name, char *buf, size_t len)
{
	if (prefix == NULL || prefix[0] == '\0')
		snprintf(buf, len, "%s", name);
	else if (name[0] == '\0')
		snprintf(buf, len, "%s", prefix);
	else
		snprintf(buf, len, "%s.%s", prefix, name);
	return buf;
}

static int
fail(const char *prefix, struct jsonval_error *e, int code, const char *name,
     const char *why)
{
	char f[sizeof(e->field)];

	return jsonval_error_set(e, code,
				 issue_req_field(prefix, name, f, sizeof(f)),
				 "%s", why);
}

int
issue_req_take_subject(struct json_object *o, const char *prefix,
		       struct json_object **subject, struct jsonval_error *e)
{
	struct json_object *sub;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "subject", &sub))
		return 0;
	if (!json_object_is_type(sub, json_type_object))
		return fail(prefix, e, EST_E_UNPROCESSABLE, "subject",
			    "must be an object");
	*subject = json_object_get(sub);
	json_object_object_del(o, "subject");
	return 0;
}

static int
table_has(const struct jsonval_field *f, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * subject against t's subject fields, by attribute name and by OID, as
 * the list of values *uv (names and values borrowed from subject).
 */
static int
subject_check(const struct tmpl *t, struct json_object *subject,
	      const char *prefix, struct issue_user_value **uv, size_t *nuv,
	      struct jsonval_error *e)
{
	struct json_object_iterator it, end;
	struct jsonval_field *f;
	struct issue_user_value *v = NULL;
	const struct subj_field *sf;
	char field[sizeof(e->field)], pre[sizeof(e->field)];
	size_t i, n = 0, k = 0;
	int r;

	if ((f = calloc(2 * t->nfields + 1, sizeof(*f))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < t->nfields; i++) {
		sf = &t->fields[i];
		/* A second field of one attribute takes no other name. */
		if (sf->kind != SUBJ_ATTR || table_has(f, n, sf->oid))
			continue;
		f[n].type = JV_STRING;
		f[n].nullable = 1;
		f[n].max_len = sf->max_len;
		f[n].name = sf->oid;
		if (sf->short_name != NULL &&
		    !table_has(f, n, sf->short_name)) {
			f[n + 1] = f[n];
			f[++n].name = sf->short_name;
		}
		n++;
	}
	if ((r = jsonval_check(subject, f, n, e)) != 0) {
		snprintf(field, sizeof(field), "%s%s%.100s",
			 issue_req_field(prefix, "subject", pre, sizeof(pre)),
			 e->field[0] != '\0' ? "." : "", e->field);
		memcpy(e->field, field, sizeof(e->field));
		goto out;
	}
	if ((v = calloc(json_object_object_length(subject) + 1, sizeof(*v))) ==
	    NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	it = json_object_iter_begin(subject);
	end = json_object_iter_end(subject);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		const char *s = jsonval_get_string(subject, name);

		if (s == NULL)
			continue;
		v[k].name = name;
		v[k].value = s;
		k++;
	}
	*uv = v;
	*nuv = k;
out:
	free(f);
	return r;
}

int
issue_req_user(const struct tmpl *t, struct json_object *subject,
	       struct json_object *o, const char *prefix,
	       struct subj_input **in, struct jsonval_error *e)
{
	struct issue_error ie;
	struct issue_user_value *uv = NULL;
	struct issue_user_san *us = NULL;
	struct json_object *s;
	size_t i, nsan = jsonval_get_count(o, "san"), nuv = 0;
	int v, r;

	memset(&ie, 0, sizeof(ie));
	if (subject != NULL &&
	    (r = subject_check(t, subject, prefix, &uv, &nuv, e)) != 0)
		return r;
	if (nsan > 0 && (us = calloc(nsan, sizeof(*us))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < nsan; i++) {
		s = jsonval_get_object_at(o, "san", i);
		if (tmpl_value(TMPL_N_SANTYPE, jsonval_get_string(s, "type"),
			       &v) != 0) {
			r = EST_E_INTERNAL;
			goto out;
		}
		us[i].type = (enum subj_san_type)v;
		us[i].oid = jsonval_get_string(s, "oid");
		us[i].value = jsonval_get_string(s, "value");
	}
	/* The input copies the values: the lists are scratch. */
	if ((r = issue_input_from_user(t, uv, nuv, us, nsan, in, &ie)) ==
	    EST_E_UNPROCESSABLE)
		r = fail(prefix, e, r, ie.field, ie.message);
out:
	free(uv);
	free(us);
	return r;
}

int
issue_req_csr(const char *text, const char *prefix, struct csr **csr,
	      struct subj_input **in, struct jsonval_error *e)
{
	const char *start = text + strspn(text, " \t\r\n");
	struct csr_error ce;
	char name[64];
	int r;

	memset(&ce, 0, sizeof(ce));
	r = csr_parse((const uint8_t *)text, strlen(text),
		      strncmp(start, "-----BEGIN", 10) == 0 ? CSR_FORM_PEM
							    : CSR_FORM_BASE64,
		      csr, &ce);
	if (r == 0)
		return issue_input_from_csr(*csr, in);
	if (ce.code != r)
		return r;
	/* "key" is the client's name for the key policy; the rest is the CSR. */
	if (strcmp(ce.field, "key") == 0 || strcmp(ce.field, "csr") == 0 ||
	    ce.field[0] == '\0')
		snprintf(name, sizeof(name), "%s",
			 ce.field[0] != '\0' ? ce.field : "csr");
	else
		snprintf(name, sizeof(name), "csr.%s", ce.field);
	return fail(prefix, e, r, name, ce.message);
}

int
issue_req_key_type(const struct tmpl *t, const char *name, const char *prefix,
		   const char *field, int *out, struct jsonval_error *e)
{
	int kt = t->keygen_key_type, i;

	if (name != NULL && x509_keytype_parse(name, &kt) != 0)
		return EST_E_INTERNAL;
	for (i = SIGNER_KEY_MIN; kt == 0 && i <= SIGNER_KEY_MAX; i++)
		if ((t->key_types & CSR_KEYBIT(i)) != 0)
			kt = i;
	if (kt == 0)
		return fail(prefix, e, EST_E_UNPROCESSABLE, field,
			    "the template allows no key type");
	*out = kt;
	return 0;
}

int
issue_req_validity(const struct tmpl *t, struct json_object *o,
		   const char *prefix, time_t *nb, int *days,
		   struct jsonval_error *e)
{
	const char *s = jsonval_get_string(o, "valid_from");
	int64_t v;

	if (s != NULL) {
		if (rest_time_parse(s, &v) != 0 || v == 0)
			return fail(prefix, e, EST_E_UNPROCESSABLE,
				    "valid_from", "not an RFC 3339 date-time");
		*nb = (time_t)v;
	}
	if (jsonval_get_int(o, "validity_days", &v) == 0) {
		/* The guide: unlimited expiration fixes the period. */
		if (t->validity_days == TMPL_VALIDITY_UNLIMITED)
			return fail(prefix, e, EST_E_UNPROCESSABLE,
				    "validity_days",
				    "the template has unlimited expiration");
		*days = (int)v;
	}
	return 0;
}

int
issue_req_pkcs12(struct db *db, struct sigclient *sig, const struct db_ca *ca,
		 const struct issue_result *res, const char *pass,
		 uint8_t **p12, size_t *p12len)
{
	struct pki_chain ch;
	int r;

	memset(&ch, 0, sizeof(ch));
	if ((r = pki_ca_chain(db, ca, &ch)) == 0)
		r = sigclient_export_wrapped(sig, res->wrapped, res->wrappedlen,
					     SIGNER_EXPORT_PKCS12, pass,
					     res->der, res->derlen,
					     (const uint8_t *const *)ch.der,
					     ch.len, ch.n, p12, p12len);
	pki_chain_clear(&ch);
	return r;
}

int
issue_req_owner(struct db *db, const struct principal *p, const struct tmpl *t,
		struct json_object *body, int64_t *tenant_id, int64_t *org_id,
		struct jsonval_error *e)
{
	struct db_result *res = NULL;
	int64_t tenant = 0, org = 0, v;
	int r;

	if (jsonval_get_int(body, "tenant_id", &v) == 0)
		tenant = v;
	if (jsonval_get_int(body, "org_id", &v) == 0)
		org = v;
	if (p->tenant_id != 0 && tenant == 0)
		tenant = p->tenant_id;
	if (p->org_id != 0 && org == 0)
		org = p->org_id;
	if (org != 0) {
		if ((r = db_org_get(db, org, 0, &res)) == EST_E_NOTFOUND)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "org_id",
						 "no such organization");
		if (r != 0)
			return r;
		v = db_result_i64(res, 0, DB_ORG_TENANT_ID);
		db_result_free(res);
		res = NULL;
		if (tenant == 0)
			tenant = v;
		if (v != tenant)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "org_id",
						 "not an organization of the "
						 "tenant");
	}
	/* Without a choice, the template's tenant and organization. */
	if (tenant == 0 && org == 0) {
		tenant = t->tenant_id;
		org = t->org_id;
	} else if (org == 0 && tenant == t->tenant_id) {
		org = t->org_id;
	}
	if (tenant != 0 && org == 0 &&
	    (r = db_tenant_get(db, tenant, 0, &res)) != 0) {
		if (r == EST_E_NOTFOUND)
			r = jsonval_error_set(e, EST_E_UNPROCESSABLE,
					      "tenant_id", "no such tenant");
		return r;
	}
	db_result_free(res);
	if ((t->tenant_id != 0 && t->tenant_id != tenant) ||
	    (t->org_id != 0 && t->org_id != org))
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "template_id",
					 "the template is not available to "
					 "this tenant or organization");
	*tenant_id = tenant;
	*org_id = org;
	return 0;
}
