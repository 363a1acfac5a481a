/*
 * The checks of a whole certificate template that need no database
 * (tmpl_body_validate(), see api_template.h).
 *
 * Decisions:
 * - A default value must be a value the field accepts: each field is run
 *   alone through subject_resolve() (and the encoders of lib/subject)
 *   with its default, so that a template can never fail on its own value.
 * - A template without subject fields issues certificates with an empty
 *   subject, so it needs a required or fixed SAN field and san_critical
 *   (RFC 5280 4.2.1.6).
 * - CA certificates are not made from templates (they come from
 *   /api/v1/cas): basic_constraints.ca, a path length and keyCertSign are
 *   refused; encipherOnly and decipherOnly mean nothing without
 *   keyAgreement (RFC 5280 4.2.1.3).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api_template.h"
#include "csr.h"
#include "err.h"
#include "rest.h"
#include "subject.h"
#include "tmpl.h"

/* The JSON name of field i of t ("subject_fields[0]", "san_fields[1]"). */
static void
field_path(const struct tmpl *t, size_t i, const char *member, char *out,
	   size_t outlen)
{
	size_t k, pos = 0;

	for (k = 0; k < i; k++)
		if (t->fields[k].kind == t->fields[i].kind)
			pos++;
	snprintf(out, outlen, "%s[%zu]%s%s",
		 t->fields[i].kind == SUBJ_ATTR ? "subject_fields"
						: "san_fields",
		 pos, member != NULL ? "." : "", member != NULL ? member : "");
}

/*
 * Field i alone, with its default as the only value: the value must pass
 * the field's own checks and encode (lib/subject decides both).
 */
static int
check_default(const struct tmpl *t, size_t i, struct jsonval_error *e)
{
	struct subj_field f = t->fields[i];
	struct subj_template one = {&f, 1};
	struct subj_result *res = NULL;
	GENERAL_NAMES *gens = NULL;
	struct subj_error err;
	X509_NAME *name = NULL;
	char path[64];
	int r;

	memset(&err, 0, sizeof(err));
	f.rule = SUBJ_OPTIONAL;
	if ((r = subject_resolve(&one, NULL, NULL, NULL, SUBJ_SRC_USER, &res,
				 &err)) == 0) {
		if (f.kind == SUBJ_ATTR)
			r = subject_to_x509_name(res, &name);
		else
			r = subject_to_general_names(res, &gens);
	}
	subject_result_free(res);
	X509_NAME_free(name);
	GENERAL_NAMES_free(gens);
	if (r == 0)
		return 0;
	if (r != EST_E_UNPROCESSABLE && r != EST_E_INVAL)
		return r;
	field_path(t, i, f.default_value != NULL ? "default_value" : NULL, path,
		   sizeof(path));
	return jsonval_error_set(e, EST_E_UNPROCESSABLE, path, "%s",
				 err.reason[0] != '\0' ? err.reason
						       : "invalid field");
}

static int
check_fields(const struct tmpl *t, struct jsonval_error *e)
{
	size_t i, nsubj = 0, nsan = 0, strong_san = 0;
	char path[64];
	int r;

	for (i = 0; i < t->nfields; i++) {
		const struct subj_field *f = &t->fields[i];

		if (f->kind == SUBJ_ATTR) {
			nsubj++;
		} else {
			nsan++;
			if (f->rule != SUBJ_OPTIONAL)
				strong_san++;
		}
		if (f->rule == SUBJ_FIXED && f->default_value == NULL) {
			field_path(t, i, "default_value", path, sizeof(path));
			return jsonval_error_set(e, EST_E_UNPROCESSABLE, path,
						 "a fixed field needs a value");
		}
		if ((r = check_default(t, i, e)) != 0)
			return r;
	}
	if (nsubj > TMPL_SUBJECT_MAX)
		return rest_fail(e, EST_E_UNPROCESSABLE, "subject_fields");
	if (nsan > TMPL_SAN_MAX)
		return rest_fail(e, EST_E_UNPROCESSABLE, "san_fields");
	if (nsubj == 0 && strong_san == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "san_fields",
					 "an empty subject needs a required "
					 "or fixed SAN");
	if (nsubj == 0 && !t->san_critical)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "san_critical",
					 "an empty subject needs a critical "
					 "SAN (RFC 5280 4.2.1.6)");
	return 0;
}

int
tmpl_body_validate(const struct tmpl *t, struct jsonval_error *e)
{
	const unsigned only = CSR_KU_ENCIPHER_ONLY | CSR_KU_DECIPHER_ONLY;

	if (t->name == NULL)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "name",
					 "required");
	if (t->type < TMPL_FACTORY || t->type > TMPL_GENERAL)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "type",
					 "required");
	if (t->ca_id <= 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "ca_id",
					 "required");
	if (t->validity_days < 0 || t->validity_days > TMPL_VALIDITY_MAX)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "validity_days",
					 "a validity period or unlimited");
	if (t->key_types == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "key_types",
					 "required");
	if (t->keygen_key_type != 0 &&
	    (t->key_types & CSR_KEYBIT(t->keygen_key_type)) == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "keygen_key_type",
					 "not one of key_types");
	if (t->basic_ca)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "basic_constraints.ca",
					 "CA certificates are made via "
					 "/api/v1/cas");
	if (t->basic_pathlen >= 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "basic_constraints.path_len",
					 "a path length is for CAs only");
	if (t->ku & CSR_KU_KEY_CERT_SIGN)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "key_usage",
					 "keyCertSign is for CAs only");
	if ((t->ku & only) != 0 && (t->ku & CSR_KU_KEY_AGREEMENT) == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "key_usage",
					 "encipherOnly and decipherOnly need "
					 "keyAgreement");
	if (t->nexts > TMPL_EXT_MAX)
		return rest_fail(e, EST_E_UNPROCESSABLE, "custom_extensions");
	return check_fields(t, e);
}
