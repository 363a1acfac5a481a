/*
 * Zero-touch provisioning: enrollment with a factory certificate
 * (pki/provision.h, prov_enroll_factory()).  The certificate is checked
 * against the device type's factory CA outside any transaction; then one
 * transaction finds or creates the device, issues its operational
 * certificate and writes the records.  A new device whose insert meets
 * the unique fingerprint or name index (another enrollment of the same
 * device committed first) is rolled back and tried once more, where it
 * is found as a known device.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "db.h"
#include "dbq.h"
#include "device.h"
#include "devmgmt.h"
#include "devtype.h"
#include "err.h"
#include "issue.h"
#include "jsonval.h"
#include "prov_int.h"
#include "template.h"
#include "tmpl.h"

/* What the factory certificate told, beside the common call state. */
struct factory {
	int external;
	struct tmpl *ft;      /* internal: the factory template */
	int64_t cert_org;     /* internal: the certificate row's org */
	int64_t bound_device; /* internal: the row's device, 0 for none */
	int64_t ext_org;      /* external: the CA's organization */
	struct subj_device_values *rev;
	char *name;
};

static void
factory_clear(struct factory *f)
{
	tmpl_free(f->ft);
	subject_device_values_free(f->rev);
	free(f->name);
	memset(f, 0, sizeof(*f));
}

/* ------------------------------------------------------------------ */
/* Trust */

/* Our own certificate, of the factory template's CA, active. */
static int
trust_internal(struct prov_call *c, struct factory *f, struct prov_error *e)
{
	struct db_result *row = NULL;
	struct db_ca *ca = NULL;
	const unsigned char *p;
	const char *der, *status;
	EVP_PKEY *pk;
	X509 *cax = NULL;
	size_t len = 0;
	int r;

	if ((r = db_template_load(c->db, c->dt->factory_template_id, &f->ft)) !=
	    0)
		return prov_from_code(e,
				      r == EST_E_NOTFOUND ? EST_E_INTERNAL : r,
				      "factory template");
	if ((r = db_cert_get_by_fingerprint(c->db, c->fp, &row)) ==
	    EST_E_NOTFOUND)
		return prov_fail(e, 403, PROV_R_CERT_UNTRUSTED,
				 "not a factory certificate of the device "
				 "type");
	if (r != 0)
		return prov_from_code(e, r, "factory certificate");
	der = db_result_str(row, 0, DB_CERT_DER, &len);
	if (der == NULL || len != c->derlen || memcmp(der, c->der, len) != 0 ||
	    db_result_i64(row, 0, DB_CERT_CA_ID) != f->ft->ca_id) {
		r = prov_fail(e, 403, PROV_R_CERT_UNTRUSTED,
			      "not a factory certificate of the device type");
		goto out;
	}
	status = db_result_str(row, 0, DB_CERT_STATUS, NULL);
	if (status == NULL || strcmp(status, "active") != 0) {
		r = prov_fail(e, 403, PROV_R_CERT_INVALID,
			      "the factory certificate is %s",
			      status != NULL ? status : "not active");
		goto out;
	}
	f->cert_org = db_result_isnull(row, 0, DB_CERT_ORG_ID)
			      ? 0
			      : db_result_i64(row, 0, DB_CERT_ORG_ID);
	f->bound_device = db_result_isnull(row, 0, DB_CERT_DEVICE_ID)
				  ? 0
				  : db_result_i64(row, 0, DB_CERT_DEVICE_ID);
	/* The row is ours; the signature proves the CA's key made it. */
	if ((r = db_ca_get(c->db, f->ft->ca_id, &ca)) != 0) {
		r = prov_from_code(e, r == EST_E_NOTFOUND ? EST_E_INTERNAL : r,
				   "factory CA");
		goto out;
	}
	p = ca->cert_der;
	if (ca->cert_der == NULL ||
	    (cax = d2i_X509(NULL, &p, (long)ca->cert_len)) == NULL ||
	    (pk = X509_get0_pubkey(cax)) == NULL ||
	    X509_verify(c->cert, pk) != 1) {
		r = prov_fail(e, 403, PROV_R_CERT_UNTRUSTED,
			      "not signed by the device type's factory CA");
		goto out;
	}
	r = 0;
out:
	X509_free(cax);
	db_ca_free(ca);
	db_result_free(row);
	return r;
}

/*
 * An external factory CA that the caller read for this request (the
 * hint): the same checks as device_factory_external() without reading
 * the CA again.
 */
static int
trust_external_hint(struct prov_call *c, struct factory *f,
		    struct prov_error *e)
{
	const struct prov_hint *h = c->hint;
	struct jsonval_error je;
	int r;

	memset(&je, 0, sizeof(je));
	if (!h->extca_verified || !h->extca_active)
		r = jsonval_error_set(&je, EST_E_CONFLICT, "certificate",
				      "the device type's external CA is not "
				      "verified and active");
	else
		r = device_factory_external_with(h->extca, c->cert,
						 "certificate", &je);
	if (r != 0)
		return prov_from_jv(e, r, &je, 403, PROV_R_CERT_UNTRUSTED);
	f->ext_org = h->extca_org_id;
	return 0;
}

static int
trust(struct prov_call *c, struct factory *f, struct prov_error *e)
{
	const struct prov_hint *h = c->hint;
	struct db_devtype_extca x;
	struct jsonval_error je;
	uint8_t fp[DEVICE_FP_LEN];
	int r;

	memset(&je, 0, sizeof(je));
	switch (c->dt->factory_source) {
	case DEVTYPE_FACTORY_INTERNAL:
		return trust_internal(c, f, e);
	case DEVTYPE_FACTORY_EXTERNAL:
		f->external = 1;
		if (h != NULL && h->extca != NULL && c->dt == h->dt &&
		    c->dt->external_ca_id != 0 &&
		    h->extca_id == c->dt->external_ca_id)
			return trust_external_hint(c, f, e);
		if ((r = device_factory_external(c->db, c->dt, c->der,
						 c->derlen, "certificate", fp,
						 &je)) != 0)
			return prov_from_jv(e, r, &je, 403,
					    PROV_R_CERT_UNTRUSTED);
		if ((r = db_devtype_extca(c->db, c->dt->external_ca_id, &x)) !=
		    0)
			return prov_from_code(e, r, "external CA");
		f->ext_org = x.org_id;
		return 0;
	case DEVTYPE_FACTORY_NONE:
		break;
	}
	return prov_fail(e, 403, PROV_R_CERT_UNTRUSTED,
			 "the device type takes no factory certificate");
}

/* ------------------------------------------------------------------ */
/* A new device's name and values (outside the transaction) */

/* Reverse mapping of the certificate's subject through the factory template. */
static int
reverse_map(struct prov_call *c, struct factory *f, struct prov_error *e)
{
	struct subj_input *in = NULL;
	struct subj_error se;
	GENERAL_NAMES *gens;
	int r;

	memset(&se, 0, sizeof(se));
	gens = X509_get_ext_d2i(c->cert, NID_subject_alt_name, NULL, NULL);
	r = subject_input_from_cert(X509_get_subject_name(c->cert), gens, &in);
	GENERAL_NAMES_free(gens);
	if (r != 0)
		return prov_fail(e, 400, PROV_R_BAD_REQUEST,
				 "the factory certificate's subject cannot "
				 "be read");
	r = device_reverse_map(c->dt, f->ft, in, &f->rev, &se);
	subject_input_free(in);
	if (r == EST_E_UNPROCESSABLE)
		return prov_fail(e, 422, PROV_R_UNPROCESSABLE,
				 "factory certificate subject: %.40s: %.80s",
				 se.name, se.reason);
	return r != 0 ? prov_from_code(e, r, "reverse mapping") : 0;
}

static int
new_device_prepare(struct prov_call *c, struct factory *f, struct prov_error *e)
{
	struct jsonval_error je;
	const char *name = c->fphex, *why;
	int r;

	memset(&je, 0, sizeof(je));
	if (!f->external && c->dt->use_cert_mapping) {
		if ((r = reverse_map(c, f, e)) != 0)
			return r;
		if (f->rev->name != NULL && f->rev->name[0] != '\0')
			name = f->rev->name;
	}
	if ((why = device_name_problem(c->dt, name)) != NULL)
		return prov_fail(e, 422, PROV_R_UNPROCESSABLE,
				 "the device name from the factory "
				 "certificate: %s",
				 why);
	if ((f->name = strdup(name)) == NULL)
		return prov_from_code(e, EST_E_NOMEM, "device");
	if ((r = device_vals_init(&c->v, c->dt, NULL)) != 0)
		return prov_from_code(e, r, "device values");
	c->has_v = 1;
	if ((r = device_vals_complete(&c->v, c->dt, f->rev, 1, &je)) != 0)
		return prov_from_jv(e, r, &je, 422, PROV_R_UNPROCESSABLE);
	return 0;
}

/* The organization of a new device (pki/provision.h). */
static int64_t
new_device_org(const struct prov_call *c, const struct factory *f)
{
	if (c->dt->org_id != 0)
		return c->dt->org_id;
	if (c->scope->org_id != 0)
		return c->scope->org_id;
	return f->external ? f->ext_org : f->cert_org;
}

/* ------------------------------------------------------------------ */
/* The transaction */

/* Set by the transaction when a concurrent enrollment made the device. */
#define RETRY 1

static int
known_check(struct prov_call *c, struct prov_error *e)
{
	const struct prov_scope *s = c->scope;
	const struct device *d = c->d;

	if (d->device_type_id != c->dt->id ||
	    (s->tenant_id != 0 && d->tenant_id != s->tenant_id) ||
	    (s->org_id != 0 && d->org_id != s->org_id))
		return prov_fail(e, 403, PROV_R_WRONG_TYPE,
				 "the device is not of this device type");
	if (d->mode == DEVICE_MODE_DISABLED)
		return prov_fail(e, 403, PROV_R_DEVICE_DISABLED,
				 "the device is disabled");
	if (c->dt->enforce_factory_mode && d->mode == DEVICE_MODE_OPERATIONAL)
		return prov_fail(e, 403, PROV_R_NOT_FACTORY_MODE,
				 "the device type enforces factory mode and "
				 "the device is operational");
	return 0;
}

/*
 * The device row that create_device() wrote, as db_device_get() would
 * read it back for what the call uses of it (the audit, the record, the
 * certificate's subject and the answer), without reading it.
 */
static int
created_device(const struct db_device_new *n, int64_t id, struct device **out)
{
	struct device *d;

	if ((d = device_new()) == NULL)
		return EST_E_NOMEM;
	d->id = id;
	d->tenant_id = n->tenant_id;
	d->org_id = n->org_id;
	d->device_type_id = n->device_type_id;
	d->mode = n->mode;
	d->has_factory_fp = 1;
	memcpy(d->factory_fp, n->factory_fp, DEVICE_FP_LEN);
	if ((d->name = strdup(n->name)) == NULL ||
	    (d->created_via = strdup(n->created_via)) == NULL ||
	    (n->factory_der != NULL &&
	     (d->factory_cert_der = malloc(n->factory_der_len)) == NULL)) {
		device_free(d);
		return EST_E_NOMEM;
	}
	if (n->factory_der != NULL) {
		memcpy(d->factory_cert_der, n->factory_der, n->factory_der_len);
		d->factory_cert_len = n->factory_der_len;
	}
	*out = d;
	return 0;
}

static int
create_device(struct prov_call *c, struct factory *f, int last,
	      struct prov_error *e)
{
	struct db_device_new n;
	int64_t id = 0;
	int r;

	if (!c->dt->dar)
		return prov_fail(e, 403, PROV_R_DEVICE_UNKNOWN,
				 "unknown device and the device type does "
				 "not auto-register devices");
	if (f->bound_device != 0)
		return prov_fail(e, 403, PROV_R_CERT_UNTRUSTED,
				 "the factory certificate is no longer its "
				 "device's");
	if (f->name == NULL && (r = new_device_prepare(c, f, e)) != 0)
		return r;
	memset(&n, 0, sizeof(n));
	n.name = f->name;
	n.tenant_id = c->dt->tenant_id;
	if ((n.org_id = new_device_org(c, f)) == 0)
		return prov_fail(e, 409, PROV_R_CONFLICT,
				 "the device type does not name the "
				 "organization of its devices");
	n.device_type_id = c->dt->id;
	/*
	 * The device leaves this transaction OPERATIONAL with its
	 * certificate, or not at all: it is written in that mode rather
	 * than moved there after the certificate (prov_finish_tx()).
	 */
	n.mode = DEVICE_MODE_OPERATIONAL;
	n.factory_fp = c->fp;
	if (f->external) {
		n.factory_der = c->der;
		n.factory_der_len = c->derlen;
	}
	n.created_via = c->scope->channel == PROV_CH_REST ? DEVICE_VIA_REST_DAR
							  : DEVICE_VIA_EST_DAR;
	/*
	 * The first attempt lets the unique name index answer (a taken
	 * name fails the insert, and the attempt is tried again); the
	 * last one looks first, to tell a taken name from a device that a
	 * concurrent enrollment made.
	 */
	if (last) {
		r = db_device_find_name(c->db, n.tenant_id, n.name, &id);
		if (r == 0)
			return prov_fail(e, 409, PROV_R_NAME_TAKEN,
					 "another device of the tenant has "
					 "the name that the factory "
					 "certificate gives");
		if (r != EST_E_NOTFOUND)
			return prov_from_code(e, r, "device");
	}
	if ((r = device_insert(c->db, &n, c->dt, &c->v, &id)) == EST_E_EXISTS)
		return last ? prov_fail(e, 409, PROV_R_NAME_TAKEN,
					"the device exists already")
			    : RETRY;
	if (r != 0)
		return prov_from_code(e, r, "device");
	if ((r = created_device(&n, id, &c->d)) != 0)
		return prov_from_code(e, r, "device");
	c->created = 1;
	return 0;
}

static int
issue(struct prov_call *c, struct prov_error *e)
{
	struct device_cert_req rq;
	struct jsonval_error je;
	int r;

	memset(&rq, 0, sizeof(rq));
	memset(&je, 0, sizeof(je));
	rq.kind = ISSUE_KIND_OPERATIONAL;
	rq.tmpl = c->t;
	rq.ca = c->ca;
	rq.csr = c->rq->csr;
	rq.keygen_type = c->keytype;
	rq.input = c->in;
	rq.via = prov_issue_via(c->scope);
	rq.creator = ISSUE_BY_DEVICE;
	if ((r = device_cert_issue(c->db, c->sc, c->dt, c->d, &c->v, &rq, "",
				   &c->res, &je)) != 0)
		return prov_from_jv(
			e, r, &je, je.code == EST_E_CONFLICT ? 409 : 422,
			je.code == EST_E_CONFLICT ? PROV_R_CONFLICT
						  : PROV_R_UNPROCESSABLE);
	return 0;
}

static int
enroll_tx(struct prov_call *c, struct factory *f, int last,
	  struct prov_error *e)
{
	int64_t id = 0;
	int r;

	device_free(c->d);
	c->d = NULL;
	c->created = 0;
	/*
	 * A plain read, then the row locked by its id: a locking read of a
	 * fingerprint that no row has would take a gap lock, and two such
	 * locks make two concurrent inserts of one new device deadlock
	 * instead of meeting at the unique index.
	 */
	r = db_device_find_fingerprint(c->db, c->fp, &id);
	if (r == 0) {
		if ((r = db_device_get(c->db, id, 1, &c->d)) == EST_E_NOTFOUND)
			return last ? prov_fail(e, 409, PROV_R_CONFLICT,
						"the device was deleted "
						"meanwhile")
				    : RETRY;
	}
	if (r == EST_E_NOTFOUND) {
		c->d = NULL;
		if ((r = create_device(c, f, last, e)) != 0)
			return r;
	} else if (r != 0) {
		return prov_from_code(e, r, "device");
	} else {
		if ((r = known_check(c, e)) != 0)
			return r;
		if (c->has_v) {
			device_vals_clear(&c->v);
			c->has_v = 0;
		}
		if ((r = db_device_load_attrs(c->db, c->d)) != 0 ||
		    (r = device_vals_init(&c->v, c->dt, c->d)) != 0)
			return prov_from_code(e, r, "device");
		c->has_v = 1;
	}
	if ((r = issue(c, e)) != 0)
		return r;
	return prov_finish_tx(c, c->created ? "auto_register" : "enroll", e);
}

/* Operational template, key, and the factory certificate's trust. */
static int
prepare(struct prov_call *c, struct factory *f, struct prov_error *e)
{
	struct jsonval_error je;
	int r;

	memset(&je, 0, sizeof(je));
	if ((r = prov_type_load(c, c->scope->device_type_id, e)) != 0 ||
	    (r = trust(c, f, e)) != 0)
		return r;
	if ((r = prov_template(c, 0, &je)) != 0)
		return prov_from_jv(e, r, &je, 409, PROV_R_CONFLICT);
	return prov_key_prepare(c, e);
}

int
prov_enroll_factory(struct db *db, struct sigclient *sc,
		    const struct prov_scope *scope, X509 *cert,
		    const struct prov_cert_req *rq, struct prov_result **out,
		    struct prov_error *e)
{
	return prov_enroll_factory_with(db, sc, scope, NULL, cert, rq, out, e);
}

int
prov_enroll_factory_with(struct db *db, struct sigclient *sc,
			 const struct prov_scope *scope,
			 const struct prov_hint *h, X509 *cert,
			 const struct prov_cert_req *rq,
			 struct prov_result **out, struct prov_error *e)
{
	struct prov_call c;
	struct factory f;
	int attempt, r;

	memset(&f, 0, sizeof(f));
	memset(e, 0, sizeof(*e));
	r = prov_call_init(&c, db, sc, scope, PROV_AUTH_FACTORY_CERT, cert, rq,
			   e);
	c.hint = h;
	if (r != 0 || (r = prepare(&c, &f, e)) != 0)
		goto refused;
	for (attempt = 0; attempt < 2; attempt++) {
		if ((r = db_begin(db)) != 0) {
			r = prov_from_code(e, r, "database");
			goto refused;
		}
		r = enroll_tx(&c, &f, attempt == 1, e);
		if (r == 0) {
			if ((r = db_commit(db)) != 0) {
				r = prov_from_code(e, r, "commit");
				goto refused;
			}
			r = prov_result_take(&c, out);
			if (r != 0)
				prov_from_code(e, r, "answer");
			goto out;
		}
		(void)db_rollback(db);
		/* Drop what the rolled-back attempt made. */
		issue_result_free(c.res);
		c.res = NULL;
		if (c.created) {
			device_free(c.d);
			c.d = NULL;
			c.created = 0;
		}
		if (r != RETRY)
			goto refused;
	}
	r = prov_fail(e, 409, PROV_R_CONFLICT, "concurrent enrollment");
refused:
	if (c.db != NULL)
		prov_refused(&c, e);
out:
	factory_clear(&f);
	prov_call_clear(&c);
	return r;
}
