/*
 * Certificates of devices (fcgi/api_device.h): the request of one
 * certificate, as a member of a device's creation or as the body of
 *
 *	POST /api/v1/devices/{id}/certificates
 *
 * and its issuance through pki/devmgmt.h (issue_cert() with the device
 * type's mapping and the device's values).
 *
 * A request names where the key comes from, exactly one of: "csr" (PEM,
 * or base64 of DER), "generate" ({"key_type": ...}, optional, the
 * template's server key type otherwise), or, for a factory certificate
 * of a device type whose factory CA is external, "certificate" (the PEM
 * that CA issued: it is verified and bound, not issued).  The subject
 * follows DESIGN.md's rule: with a CSR, from the CSR (a "subject" or
 * "san" beside it is refused, as the certificates API does, so that
 * nobody believes a typed value replaced the CSR's); with a generated
 * key, from "subject" (the template's fields by attribute name or OID)
 * and "san".  The template is the device type's factory template, or
 * one of its operational templates ("template_id", the default one when
 * absent).
 *
 * Several operational certificates per device are allowed: one per
 * operational template, or a renewal under the same one.  A new factory
 * certificate replaces the device's factory fingerprint (the one
 * zero-touch provisioning looks the device up by); the old certificate
 * stays valid until it is revoked.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "api_cert.h"
#include "api_device.h"
#include "api_issue_req.h"
#include "ca.h"
#include "cert.h"
#include "csr.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "devtype.h"
#include "err.h"
#include "extcert.h"
#include "sigclient.h"
#include "tmpl.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define CSR_TEXT_MAX (192 * 1024)

static const char *const kinds[] = {"factory", "operational", NULL};

static const struct jsonval_field gen_fields[] = {
	{.name = "key_type",
	 .type = JV_ENUM,
	 .enum_values = issue_req_key_types},
};

#define DEVCERT_FIELD_LIST                                                     \
	{.name = "template_id",                                                \
	 .type = JV_INT,                                                       \
	 .nullable = 1,                                                        \
	 .min = 1,                                                             \
	 .max = INT64_MAX},                                                    \
		{.name = "csr",                                                \
		 .type = JV_STRING,                                            \
		 .multiline = 1,                                               \
		 .min_len = 1,                                                 \
		 .max_len = CSR_TEXT_MAX},                                     \
		{.name = "generate",                                           \
		 .type = JV_OBJECT,                                            \
		 .fields = gen_fields,                                         \
		 .nfields = NELEM(gen_fields)},                                \
		{.name = "certificate",                                        \
		 .type = JV_STRING,                                            \
		 .multiline = 1,                                               \
		 .min_len = 1,                                                 \
		 .max_len = EXTCERT_PEM_MAX},                                  \
		{.name = "san",                                                \
		 .type = JV_OBJECT_ARRAY,                                      \
		 .max_items = ISSUE_REQ_SAN_MAX,                               \
		 .fields = issue_req_san_fields,                               \
		 .nfields = ISSUE_REQ_NSAN_FIELDS},                            \
		ISSUE_REQ_VALIDITY_FIELDS

const struct jsonval_field devcert_fields[DEVCERT_NFIELDS] = {
	DEVCERT_FIELD_LIST,
};

/* POST .../certificates: one request, its kind and a passphrase. */
static const struct jsonval_field issue_fields[] = {
	DEVCERT_FIELD_LIST,
	{.name = "kind", .type = JV_ENUM, .required = 1, .enum_values = kinds},
	ISSUE_REQ_PASSPHRASE_FIELD,
};

void
devcert_clear(struct devcert *dc)
{
	if (dc == NULL)
		return;
	json_object_put(dc->subject);
	tmpl_free(dc->t);
	db_ca_free(dc->ca);
	csr_free(dc->csr);
	subject_input_free(dc->in);
	free(dc->ext_der);
	issue_result_free(dc->res);
	freezero(dc->p12, dc->p12len);
	memset(dc, 0, sizeof(*dc));
}

/* The client's name of member name of dc: "factory_certificate.csr". */
static const char *
fld(const struct devcert *dc, const char *name, char *buf, size_t len)
{
	return issue_req_field(dc->prefix, name, buf, len);
}

static int
fail(const struct devcert *dc, struct jsonval_error *e, int code,
     const char *name, const char *why)
{
	char f[128];

	return jsonval_error_set(e, code, fld(dc, name, f, sizeof(f)), "%s",
				 why);
}

int
devcert_take_subject(struct json_object *spec, struct devcert *dc,
		     struct jsonval_error *e)
{
	return issue_req_take_subject(spec, dc->prefix, &dc->subject, e);
}

/* An external CA's factory certificate: kept as DER, fingerprinted. */
static int
external_load(struct devcert *dc, struct jsonval_error *e)
{
	const char *pem = jsonval_get_string(dc->spec, "certificate");
	static const char *const none[] = {"template_id", "san", "valid_from",
					   "validity_days", NULL};
	unsigned int mdlen = 0;
	X509 *x = NULL;
	char field[96];
	size_t i;
	int r;

	if (dc->subject != NULL)
		return fail(dc, e, EST_E_UNPROCESSABLE, "subject",
			    "an uploaded certificate has its subject");
	for (i = 0; none[i] != NULL; i++)
		if (jsonval_presence(dc->spec, none[i]) == JV_PRESENT)
			return fail(dc, e, EST_E_UNPROCESSABLE, none[i],
				    "not with an uploaded certificate");
	if ((r = extcert_pem(pem, strlen(pem),
			     fld(dc, "certificate", field, sizeof(field)), &x,
			     &dc->ext_der, &dc->ext_len, e)) != 0)
		return r;
	X509_free(x);
	if (EVP_Digest(dc->ext_der, dc->ext_len, dc->fp, &mdlen, EVP_sha256(),
		       NULL) != 1 ||
	    mdlen != DEVICE_FP_LEN)
		return EST_E_CRYPTO;
	return 0;
}

int
devcert_prepare(struct db *db, const struct devtype *dt, struct devcert *dc,
		struct jsonval_error *e)
{
	int has_csr = jsonval_presence(dc->spec, "csr") == JV_PRESENT;
	int has_gen = jsonval_presence(dc->spec, "generate") == JV_PRESENT;
	int has_cert = jsonval_presence(dc->spec, "certificate") == JV_PRESENT;
	struct json_object *g;
	int64_t tid = 0;
	char pre[96];
	int r;

	if (has_csr + has_gen + has_cert != 1)
		return fail(dc, e, EST_E_UNPROCESSABLE,
			    dc->prefix[0] != '\0' ? "" : "csr",
			    "exactly one of csr, generate and certificate");
	if (has_cert) {
		if (dc->kind != ISSUE_KIND_FACTORY ||
		    dt->factory_source != DEVTYPE_FACTORY_EXTERNAL)
			return fail(dc, e, EST_E_UNPROCESSABLE, "certificate",
				    "only a factory certificate of an "
				    "external CA is uploaded");
		return external_load(dc, e);
	}
	if (dc->kind == ISSUE_KIND_FACTORY &&
	    dt->factory_source == DEVTYPE_FACTORY_EXTERNAL)
		return fail(dc, e, EST_E_UNPROCESSABLE, "certificate",
			    "the device type's external CA issues its factory "
			    "certificates: upload one");
	(void)jsonval_get_int(dc->spec, "template_id", &tid);
	if ((r = device_cert_template(db, dt, dc->kind, tid,
				      fld(dc, "", pre, sizeof(pre)), &dc->t,
				      &dc->ca, e)) != 0 ||
	    (r = issue_req_validity(dc->t, dc->spec, dc->prefix, &dc->nb,
				    &dc->days, e)) != 0)
		return r;
	if (has_csr) {
		if (dc->subject != NULL ||
		    jsonval_presence(dc->spec, "san") == JV_PRESENT)
			return fail(dc, e, EST_E_UNPROCESSABLE,
				    dc->subject != NULL ? "subject" : "san",
				    "the values come from the CSR");
		return issue_req_csr(jsonval_get_string(dc->spec, "csr"),
				     dc->prefix, &dc->csr, &dc->in, e);
	}
	g = jsonval_get_object(dc->spec, "generate");
	if ((r = issue_req_key_type(dc->t, jsonval_get_string(g, "key_type"),
				    dc->prefix, "generate.key_type",
				    &dc->keygen, e)) != 0)
		return r;
	return issue_req_user(dc->t, dc->subject, dc->spec, dc->prefix, &dc->in,
			      e);
}

const struct subj_input *
devcert_input(const struct devcert *dc)
{
	return dc->in;
}

/* ----- issuing ----- */

int
devcert_issue(struct db *db, struct sigclient *sig, const struct principal *p,
	      const struct devtype *dt, const struct device *d,
	      struct device_vals *v, struct devcert *dc, const char *pass,
	      struct jsonval_error *e)
{
	struct device_cert_req rq;
	char pre[96];
	int r;

	memset(&rq, 0, sizeof(rq));
	rq.kind = dc->kind;
	rq.tmpl = dc->t;
	rq.ca = dc->ca;
	rq.csr = dc->csr;
	rq.keygen_type = dc->keygen;
	rq.input = dc->in;
	rq.not_before = dc->nb;
	rq.days = dc->days;
	rq.via = ISSUE_VIA_API;
	rq.creator = p->kind == PRINCIPAL_USER ? ISSUE_BY_USER : ISSUE_BY_APP;
	rq.user_id = auth_user_id(p);
	rq.app_id = p->kind == PRINCIPAL_APPLICATION ? p->id : 0;
	if ((r = device_cert_issue(db, sig, dt, d, v, &rq,
				   fld(dc, "", pre, sizeof(pre)), &dc->res,
				   e)) != 0)
		return r;
	if (dc->keygen != 0 && pass != NULL)
		return issue_req_pkcs12(db, sig, dc->ca, dc->res, pass,
					&dc->p12, &dc->p12len);
	return 0;
}

int
devcert_audit(struct db *db, const struct principal *p,
	      const struct request *req, const struct devcert *dc,
	      const struct device *d)
{
	struct db_result *res = NULL;
	struct rest_diff df;
	struct rest_what w;
	char hex[41];
	int r;

	if (dc->res == NULL)
		return 0;
	rest_diff_create(&df);
	if ((r = db_cert_get(db, dc->res->id, 0, &res)) != 0)
		goto out;
	hex_encode(dc->res->serial, dc->res->serial_len, hex);
	api_cert_what(res, "issue", &w);
	if ((r = rest_diff_str(&df, "serial", NULL, hex)) != 0 ||
	    (r = rest_diff_int(&df, "ca_id", 0, dc->ca->id, 1)) != 0 ||
	    (r = rest_diff_int(&df, "template_id", 0, dc->t->id, 1)) != 0 ||
	    (r = rest_diff_int(&df, "device_id", 0, d->id, 1)) != 0 ||
	    (r = rest_diff_str(&df, "kind", NULL,
			       db_result_str(res, 0, DB_CERT_KIND, NULL))) !=
		    0 ||
	    (r = rest_diff_str(&df, "key_source", NULL,
			       dc->csr != NULL ? "csr" : "server")) != 0 ||
	    (r = rest_diff_str(
		     &df, "not_after", NULL,
		     db_result_str(res, 0, DB_CERT_NOT_AFTER, NULL))) != 0 ||
	    (dc->p12 != NULL &&
	     (r = rest_diff_note(&df, "pkcs12", "delivered")) != 0))
		goto out;
	r = rest_audit(db, p, req, &w, &df);
out:
	rest_diff_clear(&df);
	db_result_free(res);
	return r;
}

/* ------------------------------------------------------------------ */
/* POST /api/v1/devices/{id}/certificates */

/* Everything one request gathers; freed by issue_clear(). */
struct issuing {
	struct json_object *body;
	struct devtype *dt;
	struct device *d;
	struct devcert dc;
	struct device_vals v;
	enum device_mode before, after;
};

static void
issue_clear(struct issuing *is)
{
	api_cert_wipe(is->body, "passphrase");
	json_object_put(is->body);
	devtype_free(is->dt);
	device_free(is->d);
	devcert_clear(&is->dc);
	device_vals_clear(&is->v);
	memset(is, 0, sizeof(*is));
}

static int
issue_body(const struct request *req, struct issuing *is,
	   struct jsonval_error *e)
{
	const char *kind;
	int r;

	is->dc.prefix = "";
	if ((r = api_device_parse(req, &is->body, e)) != 0 ||
	    (r = devcert_take_subject(is->body, &is->dc, e)) != 0 ||
	    (r = jsonval_check(is->body, issue_fields, NELEM(issue_fields),
			       e)) != 0)
		return r;
	kind = jsonval_get_string(is->body, "kind");
	is->dc.kind = strcmp(kind, "factory") == 0 ? ISSUE_KIND_FACTORY
						   : ISSUE_KIND_OPERATIONAL;
	is->dc.spec = is->body;
	return 0;
}

/* The passphrase rules: only for a generated key; needed without retention. */
static int
pass_check(struct issuing *is, const char *pass, struct jsonval_error *e)
{
	if (pass != NULL && is->dc.keygen == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "passphrase",
					 "no key is generated");
	if (pass == NULL && is->dc.keygen != 0 &&
	    is->dc.t->key_retention_days <= 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "passphrase",
					 "the template keeps no key: take "
					 "the PKCS#12 now");
	return 0;
}

/* Binds an uploaded external factory certificate to device d. */
static int
bind_external(struct db *db, struct issuing *is, struct jsonval_error *e)
{
	int64_t other = 0;
	int r;

	if ((r = device_factory_external(db, is->dt, is->dc.ext_der,
					 is->dc.ext_len, "certificate",
					 is->dc.fp, e)) != 0)
		return r;
	r = db_device_find_fingerprint(db, is->dc.fp, &other);
	if (r == 0 && other != is->d->id)
		r = jsonval_error_set(e, EST_E_EXISTS, "certificate",
				      "another device has this factory "
				      "certificate");
	else if (r == 0 || r == EST_E_NOTFOUND)
		r = db_device_set_factory(db, is->d->id, is->dc.fp,
					  is->dc.ext_der, is->dc.ext_len);
	return r;
}

static int
issue_tx(struct db *db, struct sigclient *sig, const struct principal *p,
	 const struct request *req, struct issuing *is, int64_t id,
	 struct jsonval_error *e)
{
	const char *pass = jsonval_get_string(is->body, "passphrase");
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	device_free(is->d);
	is->d = NULL;
	if ((r = api_device_lock(db, req, id, 0, 1, &is->d, e)) != 0 ||
	    (r = db_device_load_attrs(db, is->d)) != 0 ||
	    (r = device_vals_init(&is->v, is->dt, is->d)) != 0)
		goto out;
	is->before = is->after = is->d->mode;
	if (is->dc.ext_der != NULL) {
		r = bind_external(db, is, e);
	} else if ((r = devcert_issue(db, sig, p, is->dt, is->d, &is->v,
				      &is->dc, pass, e)) == 0 &&
		   is->dc.kind == ISSUE_KIND_FACTORY) {
		r = db_device_set_factory(db, is->d->id,
					  is->dc.res->fingerprint, NULL, 0);
		if (r == EST_E_EXISTS)
			r = EST_E_INTERNAL;
	}
	if (r != 0)
		goto out;
	if (is->dc.kind == ISSUE_KIND_OPERATIONAL)
		is->after = DEVICE_MODE_OPERATIONAL;
	else if (is->before == DEVICE_MODE_NEW)
		is->after = DEVICE_MODE_FACTORY;
	if ((r = is->after != is->before
			 ? db_device_set_mode(db, id, is->after, is->after)
			 : db_device_touch(db, id)) != 0)
		goto out;
	api_device_what(&w, "issue_certificate", is->d);
	if ((r = rest_diff_str(&d, "kind", NULL,
			       is->dc.kind == ISSUE_KIND_FACTORY
				       ? "factory"
				       : "operational")) != 0 ||
	    (is->dc.res != NULL &&
	     (r = rest_diff_int(&d, "certificate_id", 0, is->dc.res->id, 1)) !=
		     0) ||
	    (is->dc.ext_der != NULL &&
	     (r = rest_diff_str(&d, "factory_certificate", NULL, "uploaded")) !=
		     0) ||
	    (r = rest_diff_str(&d, "mode", device_mode_name(is->before),
			       device_mode_name(is->after))) != 0 ||
	    (r = devcert_audit(db, p, req, &is->dc, is->d)) != 0)
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	return r;
}

static int
h_issue(struct hctx *c, const struct request *req, const struct principal *p,
	struct resp *rs)
{
	struct jsonval_error e = {0};
	struct sigclient *sig = NULL;
	struct devcert *issued[1];
	struct issuing is;
	struct db *db;
	char loc[64];
	int64_t id;
	int r;

	memset(&is, 0, sizeof(is));
	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_device_access(db, p, req, id, PERM_ACT_UPDATE,
				   "issue_certificate", 1, &is.d, &e)) != 0 ||
	    (r = issue_body(req, &is, &e)) != 0)
		goto out;
	if ((r = db_devtype_load(db, is.d->device_type_id, &is.dt)) != 0) {
		r = r == EST_E_NOTFOUND ? EST_E_INTERNAL : r;
		goto out;
	}
	if ((r = devcert_prepare(db, is.dt, &is.dc, &e)) != 0 ||
	    (r = pass_check(&is, jsonval_get_string(is.body, "passphrase"),
			    &e)) != 0 ||
	    (r = ctx_signer(c, &sig)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = issue_tx(db, sig, p, req, &is, id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	/* 201: a certificate was made; 200: an uploaded one was bound. */
	issued[0] = &is.dc;
	if (is.dc.res != NULL)
		snprintf(loc, sizeof(loc), API_CERT_BASE "/%lld",
			 (long long)is.dc.res->id);
	r = api_device_send(db, id, is.dc.res != NULL ? 201 : 200, issued,
			    is.dc.res != NULL ? 1 : 0,
			    is.dc.res != NULL ? loc : NULL, rs);
out:
	issue_clear(&is);
	return rest_answer(rs, r, &e);
}

AUTH_ROUTE_PUBLIC(api_device_r_issue, h_issue)
