/*
 * Creating a device (guide §2.2.1; fcgi/api_device.h):
 *
 *	POST /api/v1/devices
 *	{"name", "tenant_id", "org_id", "device_type_id", "description",
 *	 "properties": {...}, "attributes": {...},
 *	 "factory_certificate": {...}, "operational_certificate": {...},
 *	 "password", "passphrase"}
 *
 * Where.  An Admin names the organization (and may name its tenant); a
 * Tenant Admin or Tenant Operator names one of its tenant's
 * organizations; an Organization Operator's own is implied.  The tenant
 * and organization must be active, and the device type active and
 * available there: a tenant-wide type of that tenant, or an organization
 * type of that organization.
 *
 * The name is unique within the tenant (409).  Three cases do without it:
 *  - the device type's factory CA is external and "factory_certificate"
 *    uploads the certificate it issued ({"certificate": PEM}): the name
 *    is the certificate's SHA-256 fingerprint in lower-case hex (a name
 *    sent must be that);
 *  - the type's factory source is internal with "use certificate mapping
 *    to create the device", "factory_certificate" is given and "name" is
 *    not: the device is created by reverse mapping of the factory
 *    certificate's subject, the CSR's or the values of "subject" for a
 *    generated key (pki/devmgmt.h): the field mapped to the device name
 *    names it, the fields mapped to properties and attributes fill those
 *    the body does not give (before the type's defaults);
 *  - otherwise "name" is required.
 *
 * Certificates: "factory_certificate" and "operational_certificate" are
 * requests as fcgi/api_device_cert.c reads them, issued with the device's
 * values in the transaction that writes the device, its attributes, its
 * credential file and the audit rows: anything that fails leaves nothing.
 * The mode follows (DESIGN.md): OPERATIONAL with an operational
 * certificate, else FACTORY with a factory certificate or device
 * ID/password, else NEW.
 *
 * Secrets.  When the type has device ID/password, the device's password
 * is "password" or is generated (128 random bits, base64url); it is
 * stored as an argon2id hash.  Each key the server generates for the
 * device comes back in the answer as a PKCS#12 protected by "passphrase",
 * or by a generated one.  The guide asks for one value for both; the API
 * keeps them apart (a client wanting one secret sends it twice) so that a
 * generated passphrase reveals nothing about the password.  The password
 * and the passphrase are in the device's credential file
 * (api_device_cred.c), never in an answer, a log or an audit row.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "api_cert.h"
#include "api_device.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "devtype.h"
#include "err.h"
#include "passwd.h"
#include "rest.h"
#include "sigclient.h"
#include "tmpl.h"
#include "util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define FACTORY "factory_certificate"
#define OPERATIONAL "operational_certificate"

static const struct jsonval_field create_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = 1,
	 .max_len = DEVICE_NAME_MAX,
	 .check = jsonval_check_name},
	{.name = "tenant_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "org_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "device_type_id",
	 .type = JV_INT,
	 .required = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "description",
	 .type = JV_STRING,
	 .nullable = 1,
	 .max_len = DEVICE_DESC_MAX},
	{.name = "properties",
	 .type = JV_OBJECT,
	 .fields = api_device_prop_fields,
	 .nfields = DEVICE_NPROPS},
	{.name = FACTORY,
	 .type = JV_OBJECT,
	 .fields = devcert_fields,
	 .nfields = DEVCERT_NFIELDS},
	{.name = OPERATIONAL,
	 .type = JV_OBJECT,
	 .fields = devcert_fields,
	 .nfields = DEVCERT_NFIELDS},
	{.name = "password",
	 .type = JV_STRING,
	 .min_len = DEVICE_PASSWORD_MIN,
	 .max_len = DEVICE_PASSWORD_MAX},
	{.name = "passphrase",
	 .type = JV_STRING,
	 .min_len = API_CERT_PASS_MIN,
	 .max_len = API_CERT_PASS_MAX,
	 .check = api_cert_pass_check},
};

/* Everything one creation gathers; freed by create_clear(). */
struct creating {
	struct json_object *body;
	struct json_object *attrs; /* taken out of the body */
	struct jsonval_field *attr_fields;
	struct devtype *dt;
	struct devcert fc, oc; /* factory, operational: kind 0 when absent */
	int has_fc, has_oc;
	struct subj_device_values *rev;
	struct device_vals v;
	char *name;
	int64_t tenant_id, org_id;
	char *password, *pwhash, *passphrase;
	int64_t id;
};

static void
create_clear(struct creating *cr)
{
	api_cert_wipe(cr->body, "password");
	api_cert_wipe(cr->body, "passphrase");
	json_object_put(cr->body);
	json_object_put(cr->attrs);
	free(cr->attr_fields);
	devtype_free(cr->dt);
	devcert_clear(&cr->fc);
	devcert_clear(&cr->oc);
	subject_device_values_free(cr->rev);
	device_vals_clear(&cr->v);
	free(cr->name);
	if (cr->password != NULL)
		freezero_str(cr->password);
	free(cr->pwhash);
	if (cr->passphrase != NULL)
		freezero_str(cr->passphrase);
	memset(cr, 0, sizeof(*cr));
}

/* ----- the body ----- */

/* The subject of a certificate request, out of the raw body. */
static int
take_subject(struct json_object *body, const char *member, struct devcert *dc,
	     struct jsonval_error *e)
{
	struct json_object *spec;

	dc->prefix = member;
	if (!json_object_object_get_ex(body, member, &spec))
		return 0;
	return devcert_take_subject(spec, dc, e);
}

static int
read_body(const struct request *req, struct creating *cr,
	  struct jsonval_error *e)
{
	int r;

	if ((r = api_device_parse(req, &cr->body, e)) != 0 ||
	    (r = api_device_take_attrs(cr->body, &cr->attrs, e)) != 0 ||
	    (r = take_subject(cr->body, FACTORY, &cr->fc, e)) != 0 ||
	    (r = take_subject(cr->body, OPERATIONAL, &cr->oc, e)) != 0)
		return r;
	return jsonval_check(cr->body, create_fields, NELEM(create_fields), e);
}

/* ----- where ----- */

/*
 * The tenant and organization of the new device (see the top of this
 * file), and the right to create there.  An organization outside the
 * actor's tenant answers 404 whether it exists or not.
 */
static int
place(struct db *db, const struct principal *p, const struct request *req,
      struct creating *cr, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	struct perm_object o;
	struct rest_what w;
	int64_t tenant = 0, org = 0, v, ot;
	int named_tenant, active, r;

	if (jsonval_get_int(cr->body, "tenant_id", &v) == 0)
		tenant = v;
	if (jsonval_get_int(cr->body, "org_id", &v) == 0)
		org = v;
	named_tenant = tenant != 0;
	if (org == 0)
		org = p->org_id;
	if (org == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "org_id",
					 "required");
	if ((r = db_org_get(db, org, 0, &res)) == EST_E_NOTFOUND) {
		if (p->tenant_id != 0)
			return rest_fail(e, EST_E_NOTFOUND, NULL);
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "org_id",
					 "no such organization");
	}
	if (r != 0)
		return r;
	ot = db_result_i64(res, 0, DB_ORG_TENANT_ID);
	active = db_result_i64(res, 0, DB_ORG_ACTIVE) != 0 &&
		 db_result_i64(res, 0, DB_ORG_TENANT_ACTIVE) != 0;
	db_result_free(res);
	if (named_tenant && tenant != ot)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "org_id",
					 "not an organization of the tenant");
	memset(&o, 0, sizeof(o));
	o.tenant_id = ot;
	o.org_id = org;
	o.scope = PERM_SCOPE_NONE;
	api_device_what(&w, "create", NULL);
	w.name = jsonval_get_string(cr->body, "name");
	w.tenant_id = ot;
	w.org_id = org;
	if ((r = rest_perm(db, p, req, PERM_ACT_CREATE, &o, &w, e)) != 0)
		return r;
	if (!active)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "org_id",
					 "the organization or its tenant is "
					 "inactive");
	cr->tenant_id = ot;
	cr->org_id = org;
	return 0;
}

/*
 * The device type: active and available in the device's organization,
 * and visible to the actor; any other is "no such device type", so that
 * the types of other tenants do not show.
 */
static int
type_load(struct db *db, const struct principal *p, struct creating *cr,
	  struct jsonval_error *e)
{
	struct perm_object o;
	struct perm_actor a;
	int64_t id = 0;
	int r;

	(void)jsonval_get_int(cr->body, "device_type_id", &id);
	if ((r = db_devtype_load(db, id, &cr->dt)) == EST_E_NOTFOUND)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "device_type_id",
					 "no such device type");
	if (r != 0)
		return r;
	memset(&o, 0, sizeof(o));
	if (auth_actor(p, &a) != 0 ||
	    perm_scope_from_name(cr->dt->scope, &o.scope) != 0)
		return EST_E_INTERNAL;
	o.tenant_id = cr->dt->tenant_id;
	o.org_id = cr->dt->org_id;
	if (perm_check(&a, PERM_ENT_DEVICE_TYPE, PERM_ACT_READ, &o) != 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "device_type_id",
					 "no such device type");
	if (cr->dt->tenant_id != cr->tenant_id ||
	    (o.scope == PERM_SCOPE_ORG && cr->dt->org_id != cr->org_id))
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "device_type_id",
					 "not available to the organization");
	if (!cr->dt->active)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "device_type_id",
					 "the device type is inactive");
	return 0;
}

/* ----- what ----- */

static int
certs_prepare(struct db *db, struct creating *cr, struct jsonval_error *e)
{
	int r;

	if ((cr->fc.spec = jsonval_get_object(cr->body, FACTORY)) != NULL) {
		cr->has_fc = 1;
		cr->fc.kind = ISSUE_KIND_FACTORY;
		if ((r = devcert_prepare(db, cr->dt, &cr->fc, e)) != 0)
			return r;
	}
	if ((cr->oc.spec = jsonval_get_object(cr->body, OPERATIONAL)) != NULL) {
		cr->has_oc = 1;
		cr->oc.kind = ISSUE_KIND_OPERATIONAL;
		return devcert_prepare(db, cr->dt, &cr->oc, e);
	}
	return 0;
}

/* The device's values by reverse mapping of the factory request's subject. */
static int
reverse_map(struct creating *cr, struct jsonval_error *e)
{
	struct subj_error se;
	int r;

	r = device_reverse_map(cr->dt, cr->fc.t, devcert_input(&cr->fc),
			       &cr->rev, &se);
	if (r == EST_E_UNPROCESSABLE)
		return jsonval_error_set(e, r, FACTORY ".subject",
					 "%.40s: %.80s", se.name, se.reason);
	return r;
}

static int
name_resolve(struct creating *cr, struct jsonval_error *e)
{
	const char *sent = jsonval_get_string(cr->body, "name");
	const struct devtype *dt = cr->dt;
	char hex[2 * DEVICE_FP_LEN + 1];
	const char *why;
	int r;

	if (cr->fc.ext_der != NULL) {
		hex_encode(cr->fc.fp, DEVICE_FP_LEN, hex);
		if (sent != NULL && strcasecmp(sent, hex) != 0)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "name",
				"a device with an external factory "
				"certificate is named by its SHA-256 "
				"fingerprint");
		sent = hex;
	} else if (sent == NULL && cr->has_fc && cr->fc.t != NULL &&
		   dt->factory_source == DEVTYPE_FACTORY_INTERNAL &&
		   dt->use_cert_mapping) {
		if ((r = reverse_map(cr, e)) != 0)
			return r;
		if ((sent = cr->rev->name) == NULL || *sent == '\0')
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "name",
				"the factory certificate's subject does not "
				"give the device name");
	} else if (sent == NULL) {
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "name",
					 "required");
	}
	if ((why = device_name_problem(dt, sent)) != NULL)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "name", "%s",
					 why);
	if ((cr->name = strdup(sent)) == NULL)
		return EST_E_NOMEM;
	return 0;
}

static int
values(struct creating *cr, struct jsonval_error *e)
{
	int r;

	if ((r = device_vals_init(&cr->v, cr->dt, NULL)) != 0 ||
	    (r = api_device_apply_props(
		     jsonval_get_object(cr->body, "properties"), &cr->v)) !=
		    0 ||
	    (r = api_device_apply_attrs(cr->attrs, cr->dt, &cr->v,
					&cr->attr_fields, e)) != 0)
		return r;
	return device_vals_complete(&cr->v, cr->dt, cr->rev, 0, e);
}

/* The password (hashed) and the PKCS#12 passphrase, sent or generated. */
static int
secrets(struct creating *cr, struct jsonval_error *e)
{
	const char *pw = jsonval_get_string(cr->body, "password");
	const char *pp = jsonval_get_string(cr->body, "passphrase");
	int keygen = cr->fc.keygen != 0 || cr->oc.keygen != 0, r;

	if (pw != NULL && !cr->dt->device_password_enabled)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "password",
					 "the device type does not use device "
					 "ID/password");
	if (pp != NULL && !keygen)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "passphrase",
					 "no key is generated for the device");
	if (cr->dt->device_password_enabled) {
		if (pw != NULL)
			cr->password = strdup(pw);
		else if ((r = passwd_generate(PASSWD_GEN_MIN, &cr->password)) !=
			 0)
			return r;
		if (cr->password == NULL)
			return EST_E_NOMEM;
		if ((r = passwd_hash(cr->password, &cr->pwhash)) != 0)
			return r;
	}
	if (keygen) {
		if (pp != NULL)
			cr->passphrase = strdup(pp);
		else if ((r = passwd_generate(PASSWD_GEN_MIN,
					      &cr->passphrase)) != 0)
			return r;
		if (cr->passphrase == NULL)
			return EST_E_NOMEM;
	}
	return 0;
}

/* ----- the transaction ----- */

static enum device_mode
initial_mode(const struct creating *cr)
{
	if (cr->has_oc)
		return DEVICE_MODE_OPERATIONAL;
	if (cr->has_fc || cr->pwhash != NULL)
		return DEVICE_MODE_FACTORY;
	return DEVICE_MODE_NEW;
}

/* Refusals that the unique indexes would give, with the member named. */
static int
unique_check(struct db *db, struct creating *cr, struct jsonval_error *e)
{
	int64_t id = 0;
	int r;

	if (cr->fc.ext_der != NULL) {
		if ((r = device_factory_external(
			     db, cr->dt, cr->fc.ext_der, cr->fc.ext_len,
			     FACTORY ".certificate", cr->fc.fp, e)) != 0)
			return r;
		r = db_device_find_fingerprint(db, cr->fc.fp, &id);
		if (r == 0)
			return jsonval_error_set(e, EST_E_EXISTS,
						 FACTORY ".certificate",
						 "another device has this "
						 "factory certificate");
		if (r != EST_E_NOTFOUND)
			return r;
	}
	r = db_device_find_name(db, cr->tenant_id, cr->name, &id);
	if (r == 0)
		return jsonval_error_set(e, EST_E_EXISTS, "name",
					 "the tenant has a device of this "
					 "name");
	return r == EST_E_NOTFOUND ? 0 : r;
}

static int
issue_all(struct db *db, struct sigclient *sig, const struct principal *p,
	  struct creating *cr, const struct device *dev,
	  struct jsonval_error *e)
{
	int64_t ids[2];
	size_t n = 0;
	int r;

	if (cr->has_fc && cr->fc.t != NULL) {
		if ((r = devcert_issue(db, sig, p, cr->dt, dev, &cr->v, &cr->fc,
				       cr->passphrase, e)) != 0)
			return r;
		/* A fresh certificate's fingerprint is nobody's yet. */
		if ((r = db_device_set_factory(db, dev->id,
					       cr->fc.res->fingerprint, NULL,
					       0)) != 0)
			return r == EST_E_EXISTS ? EST_E_INTERNAL : r;
		if (cr->fc.keygen != 0)
			ids[n++] = cr->fc.res->id;
	}
	if (cr->has_oc) {
		if ((r = devcert_issue(db, sig, p, cr->dt, dev, &cr->v, &cr->oc,
				       cr->passphrase, e)) != 0)
			return r;
		if (cr->oc.keygen != 0)
			ids[n++] = cr->oc.res->id;
	}
	if (cr->password == NULL && cr->passphrase == NULL)
		return 0;
	return devcred_store(db, sig, dev, cr->password, cr->passphrase, ids, n,
			     cr->dt->password_retention_hours);
}

static int
create_audit(struct db *db, const struct principal *p,
	     const struct request *req, struct creating *cr,
	     const struct device *dev)
{
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_create(&d);
	if ((r = devcert_audit(db, p, req, &cr->fc, dev)) != 0 ||
	    (r = devcert_audit(db, p, req, &cr->oc, dev)) != 0 ||
	    (r = api_device_diff_ident(&d, dev)) != 0 ||
	    (r = api_device_diff(&d, NULL, dev->description, cr->dt, &cr->v)) !=
		    0 ||
	    (cr->fc.res != NULL &&
	     (r = rest_diff_int(&d, "factory_certificate_id", 0, cr->fc.res->id,
				1)) != 0) ||
	    (cr->fc.ext_der != NULL &&
	     (r = rest_diff_note(&d, "factory_certificate", "uploaded")) !=
		     0) ||
	    (cr->oc.res != NULL &&
	     (r = rest_diff_int(&d, "operational_certificate_id", 0,
				cr->oc.res->id, 1)) != 0) ||
	    (cr->pwhash != NULL &&
	     (r = rest_diff_note(&d, "password", "set")) != 0) ||
	    ((cr->password != NULL || cr->passphrase != NULL) &&
	     (r = rest_diff_note(&d, "credentials", "stored")) != 0))
		goto out;
	api_device_what(&w, "create", dev);
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	return r;
}

static int
create_tx(struct db *db, struct sigclient *sig, const struct principal *p,
	  const struct request *req, struct creating *cr,
	  struct jsonval_error *e)
{
	struct db_device_new n;
	struct device dev;
	const char *desc = jsonval_get_string(cr->body, "description");
	int r;

	if (desc != NULL && *desc == '\0')
		desc = NULL;
	if ((r = unique_check(db, cr, e)) != 0)
		return r;
	memset(&n, 0, sizeof(n));
	n.name = cr->name;
	n.tenant_id = cr->tenant_id;
	n.org_id = cr->org_id;
	n.device_type_id = cr->dt->id;
	n.description = desc;
	n.mode = initial_mode(cr);
	n.password_hash = cr->pwhash;
	if (cr->fc.ext_der != NULL) {
		n.factory_fp = cr->fc.fp;
		n.factory_der = cr->fc.ext_der;
		n.factory_der_len = cr->fc.ext_len;
	}
	n.created_via = DEVICE_VIA_API;
	n.created_by_user = auth_user_id(p);
	n.created_by_app = p->kind == PRINCIPAL_APPLICATION ? p->id : 0;
	if ((r = device_insert(db, &n, cr->dt, &cr->v, &cr->id)) ==
	    EST_E_EXISTS)
		return jsonval_error_set(e, r, "name",
					 "the tenant has a device of this "
					 "name");
	if (r != 0)
		return r;
	/* What issuing and the audit need of the new device. */
	memset(&dev, 0, sizeof(dev));
	dev.id = cr->id;
	dev.name = cr->name;
	dev.tenant_id = cr->tenant_id;
	dev.org_id = cr->org_id;
	dev.device_type_id = cr->dt->id;
	dev.description = (char *)(uintptr_t)desc;
	dev.mode = n.mode;
	if ((r = issue_all(db, sig, p, cr, &dev, e)) != 0)
		return r;
	return create_audit(db, p, req, cr, &dev);
}

static int
h_create(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct sigclient *sig = NULL;
	struct devcert *issued[2];
	struct creating cr;
	struct rest_what w;
	struct db *db;
	size_t n = 0;
	int r;

	memset(&cr, 0, sizeof(cr));
	api_device_what(&w, "create", NULL);
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_CREATE, NULL, &w, &e)) != 0 ||
	    (r = read_body(req, &cr, &e)) != 0 ||
	    (r = place(db, p, req, &cr, &e)) != 0 ||
	    (r = type_load(db, p, &cr, &e)) != 0 ||
	    (r = certs_prepare(db, &cr, &e)) != 0 ||
	    (r = name_resolve(&cr, &e)) != 0 || (r = values(&cr, &e)) != 0 ||
	    (r = secrets(&cr, &e)) != 0)
		goto out;
	if ((r = ctx_signer(c, &sig)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = create_tx(db, sig, p, req, &cr, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	if (cr.fc.res != NULL)
		issued[n++] = &cr.fc;
	if (cr.oc.res != NULL)
		issued[n++] = &cr.oc;
	r = api_device_send(db, cr.id, 201, issued, n, NULL, rs);
out:
	create_clear(&cr);
	return rest_answer(rs, r, &e);
}

AUTH_ROUTE_PUBLIC(api_device_r_create, h_create)
