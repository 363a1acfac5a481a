/*
 * Zero-touch provisioning: re-enrollment with an operational certificate
 * (pki/provision.h, prov_reenroll(); EST simplereenroll and the reduced
 * REST API's reenroll).  The presented certificate must be a row of ours
 * with the same DER: that, not a chain, is what proves we issued it, and
 * the row tells its status, its device and its template.  The new
 * certificate takes the old one's subject and SAN as its input, without
 * the device type's mapping, so that a device keeps its identity even if
 * its values changed since.
 */
#include "config.h"

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
#include "tmpl.h"

/* What the old certificate's row says. */
struct old_cert {
	int64_t id;
	int64_t ca_id;
	int64_t template_id; /* 0 for none */
	int64_t device_id;
};

static int64_t
col_id(const struct db_result *row, size_t col)
{
	return db_result_isnull(row, 0, col) ? 0 : db_result_i64(row, 0, col);
}

static int
old_load(struct prov_call *c, struct old_cert *o, struct prov_error *e)
{
	struct db_result *row = NULL;
	const char *der, *kind, *status;
	size_t len = 0;
	int r;

	if ((r = db_cert_get_by_fingerprint(c->db, c->fp, &row)) ==
	    EST_E_NOTFOUND)
		return prov_fail(e, 403, PROV_R_CERT_UNTRUSTED,
				 "not a certificate that we issued");
	if (r != 0)
		return prov_from_code(e, r, "certificate");
	der = db_result_str(row, 0, DB_CERT_DER, &len);
	kind = db_result_str(row, 0, DB_CERT_KIND, NULL);
	status = db_result_str(row, 0, DB_CERT_STATUS, NULL);
	if (der == NULL || len != c->derlen || memcmp(der, c->der, len) != 0)
		r = prov_fail(e, 403, PROV_R_CERT_UNTRUSTED,
			      "not a certificate that we issued");
	else if (kind == NULL || strcmp(kind, DB_CERT_KIND_OPERATIONAL) != 0 ||
		 (o->device_id = col_id(row, DB_CERT_DEVICE_ID)) == 0)
		r = prov_fail(e, 403, PROV_R_NOT_OPERATIONAL,
			      "not an operational certificate of a device");
	else if (status == NULL || strcmp(status, "active") != 0)
		r = prov_fail(e, 403, PROV_R_CERT_INVALID,
			      "the certificate is %s",
			      status != NULL ? status : "not active");
	if (r == 0) {
		o->id = col_id(row, DB_CERT_ID);
		o->ca_id = col_id(row, DB_CERT_CA_ID);
		o->template_id = col_id(row, DB_CERT_TEMPLATE_ID);
	}
	db_result_free(row);
	return r;
}

static int
in_op_templates(const struct devtype *dt, int64_t id)
{
	size_t i;

	for (i = 0; id != 0 && i < dt->nop_templates; i++)
		if (dt->op_templates[i].template_id == id)
			return 1;
	return 0;
}

static int
device_check(struct prov_call *c, struct prov_error *e)
{
	const struct prov_scope *s = c->scope;
	const struct device *d = c->d;

	if ((s->device_type_id != 0 &&
	     d->device_type_id != s->device_type_id) ||
	    (s->tenant_id != 0 && d->tenant_id != s->tenant_id) ||
	    (s->org_id != 0 && d->org_id != s->org_id))
		return prov_fail(e, 403, PROV_R_WRONG_TYPE,
				 "the device is not of this device type");
	if (d->mode == DEVICE_MODE_DISABLED)
		return prov_fail(e, 403, PROV_R_DEVICE_DISABLED,
				 "the device is disabled");
	return 0;
}

/* The device, its type, the template, the CA and the key. */
static int
prepare(struct prov_call *c, const struct old_cert *o, struct prov_error *e)
{
	struct jsonval_error je;
	GENERAL_NAMES *gens;
	int64_t tid;
	int r;

	memset(&je, 0, sizeof(je));
	if ((r = db_device_get(c->db, o->device_id, 0, &c->d)) ==
	    EST_E_NOTFOUND)
		return prov_fail(e, 403, PROV_R_NOT_OPERATIONAL,
				 "the certificate's device is gone");
	if (r != 0)
		return prov_from_code(e, r, "device");
	if ((r = device_check(c, e)) != 0)
		return r;
	if ((r = prov_type_load(c, c->d->device_type_id, e)) != 0)
		return e->status == 404
			       ? prov_fail(e, 403, PROV_R_WRONG_TYPE,
					   "the device's type is inactive")
			       : r;
	tid = in_op_templates(c->dt, o->template_id) ? o->template_id : 0;
	if ((r = prov_template(c, tid, &je)) != 0)
		return prov_from_jv(e, r, &je, 409, PROV_R_CONFLICT);
	/* Issued by the CA that the caller's device type issues with. */
	if (c->scope->device_type_id != 0 && tid == 0 && o->ca_id != c->ca->id)
		return prov_fail(e, 403, PROV_R_CERT_UNTRUSTED,
				 "not issued by the device type's CA");
	if ((r = prov_key_prepare(c, e)) != 0)
		return r;
	/* The old certificate's subject and SAN replace the CSR's. */
	subject_input_free(c->in);
	c->in = NULL;
	gens = X509_get_ext_d2i(c->cert, NID_subject_alt_name, NULL, NULL);
	r = subject_input_from_cert(X509_get_subject_name(c->cert), gens,
				    &c->in);
	GENERAL_NAMES_free(gens);
	if (r != 0)
		return prov_from_code(e, r, "certificate subject");
	return 0;
}

static int
reenroll_tx(struct prov_call *c, const struct old_cert *o, struct prov_error *e)
{
	struct issue_error ie;
	struct issue_req ir;
	int r;

	/* Locked and checked again: a disable may have committed since. */
	device_free(c->d);
	c->d = NULL;
	if ((r = db_device_get(c->db, o->device_id, 1, &c->d)) != 0)
		return r == EST_E_NOTFOUND
			       ? prov_fail(e, 403, PROV_R_NOT_OPERATIONAL,
					   "the certificate's device is gone")
			       : prov_from_code(e, r, "device");
	if ((r = device_check(c, e)) != 0)
		return r;
	memset(&ie, 0, sizeof(ie));
	memset(&ir, 0, sizeof(ir));
	ir.tmpl = c->t;
	ir.ca = c->ca;
	ir.csr = c->rq->csr;
	ir.keygen_type = c->keytype;
	ir.input = c->in;
	ir.src = SUBJ_SRC_CSR;
	ir.kind = ISSUE_KIND_OPERATIONAL;
	ir.via = prov_issue_via(c->scope);
	ir.creator = ISSUE_BY_DEVICE;
	ir.device_id = c->d->id;
	ir.renewed_from_id = o->id;
	ir.tenant_id = c->d->tenant_id;
	ir.org_id = c->d->org_id;
	c->renewed_from = o->id;
	if ((r = issue_cert(c->db, c->sc, &ir, &c->res, &ie)) != 0) {
		if (ie.code != r)
			return prov_from_code(e, r, "issue");
		return prov_fail(e, r == EST_E_CONFLICT ? 409 : 422,
				 r == EST_E_CONFLICT ? PROV_R_CONFLICT
						     : PROV_R_UNPROCESSABLE,
				 "%.60s%s%.100s", ie.field,
				 ie.field[0] != '\0' ? ": " : "", ie.message);
	}
	return prov_finish_tx(c, "reenroll", e);
}

int
prov_reenroll(struct db *db, struct sigclient *sc,
	      const struct prov_scope *scope, X509 *cert,
	      const struct prov_cert_req *rq, struct prov_result **out,
	      struct prov_error *e)
{
	return prov_reenroll_with(db, sc, scope, NULL, cert, rq, out, e);
}

int
prov_reenroll_with(struct db *db, struct sigclient *sc,
		   const struct prov_scope *scope, const struct prov_hint *h,
		   X509 *cert, const struct prov_cert_req *rq,
		   struct prov_result **out, struct prov_error *e)
{
	struct old_cert o;
	struct prov_call c;
	int r;

	memset(&o, 0, sizeof(o));
	memset(e, 0, sizeof(*e));
	r = prov_call_init(&c, db, sc, scope, PROV_AUTH_OPERATIONAL_CERT, cert,
			   rq, e);
	c.hint = h;
	if (r != 0 || (r = old_load(&c, &o, e)) != 0 ||
	    (r = prepare(&c, &o, e)) != 0)
		goto refused;
	if ((r = db_begin(db)) != 0) {
		r = prov_from_code(e, r, "database");
		goto refused;
	}
	if ((r = reenroll_tx(&c, &o, e)) != 0) {
		(void)db_rollback(db);
		goto refused;
	}
	if ((r = db_commit(db)) != 0) {
		r = prov_from_code(e, r, "commit");
		goto refused;
	}
	if ((r = prov_result_take(&c, out)) != 0)
		prov_from_code(e, r, "answer");
	goto out;
refused:
	if (c.db != NULL)
		prov_refused(&c, e);
out:
	prov_call_clear(&c);
	return r;
}
