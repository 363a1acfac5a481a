/*
 * Issuing through EST for the two kinds of client that the provisioning
 * core (pki/provision.h, certificate clients only) does not serve
 * (fcgi/est.h):
 *
 *  - an API application (factory applications, guide TC-01/02/07/08/
 *    11/12/13): the certificate comes from the label's template or the
 *    server's default one (cms), or from the device type's default
 *    operational template (dps), with the subject the CSR asks for under
 *    the template's rules (lib/subject.h: fixed values win, the template's
 *    defaults fill the gaps); it is bound to no device and belongs to the
 *    server's tenant and organization;
 *  - a device that gave its ID and password: the device type's default
 *    operational template, the subject by the type's mapping from the
 *    device's values and the CSR's (pki/devmgmt.h device_cert_issue()),
 *    bound to the device, which becomes OPERATIONAL.  Enforce Factory Mode
 *    applies as it does to a factory certificate: an OPERATIONAL device
 *    of such a type must be set back to FACTORY first.
 *
 * Each success commits the certificate, its est_enrollments row
 * (db/enroll.h) and its audit rows, and the device's mode, in one
 * transaction: a device's here, an application's in the writer thread's
 * (est_commit.c), which answers once it commits.  A refusal writes
 * nothing and leaves the caller to record it.
 * A server-generated key leaves the signer once, as PKCS#8 for the
 * answer (EXPORT_WRAPPED), and is wiped by est_issued_clear().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "ca.h"
#include "csr.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "device.h"
#include "devmgmt.h"
#include "devtype.h"
#include "enroll.h"
#include "err.h"
#include "est.h"
#include "est_body.h"
#include "estsrv.h"
#include "issue.h"
#include "issue_cache.h"
#include "jsonval.h"
#include "perm.h"
#include "sigclient.h"
#include "sigproto.h"
#include "tmpl.h"
#include "util.h"

void
est_issued_clear(struct est_issued *is)
{
	free(is->cert);
	freezero(is->pkcs8, is->pkcs8len);
	memset(is, 0, sizeof(*is));
}

/* What one issuing call holds; freed by job_clear(). */
struct job {
	const struct devtype *dt; /* own_dt or the thread cache's */
	struct devtype *own_dt;
	const struct tmpl *t; /* the issuing cache's */
	const struct db_ca *ca;
	struct subj_input *in;
	struct device *d;
	struct device_vals v;
	int has_v;
	struct issue_result *res;
	int keygen_type;
};

static void
job_clear(struct job *j)
{
	if (j->has_v)
		device_vals_clear(&j->v);
	devtype_free(j->own_dt);
	subject_input_free(j->in);
	device_free(j->d);
	issue_result_free(j->res);
	memset(j, 0, sizeof(*j));
}

/* After a 503: the connection at fault is the next request's to redo. */
static void
drop_links(struct est_call *ec)
{
	ctx_drop_db(ec->c);
	ctx_drop_signer(ec->c);
	ec->db = NULL;
}

static enum issue_kind
kind_of(const struct tmpl *t)
{
	switch (t->type) {
	case TMPL_FACTORY:
		return ISSUE_KIND_FACTORY;
	case TMPL_OPERATIONAL:
		return ISSUE_KIND_OPERATIONAL;
	default:
		return ISSUE_KIND_OTHER;
	}
}

/* The key type the signer makes for t: its own, else the first allowed. */
static int
keygen_type(const struct tmpl *t)
{
	int k;

	if (t->keygen_key_type != 0)
		return t->keygen_key_type;
	for (k = SIGNER_KEY_MIN; k <= SIGNER_KEY_MAX; k++)
		if (t->key_types & CSR_KEYBIT(k))
			return k;
	return SIGNER_KEY_EC_P256;
}

/* *e from a template or issuing refusal (code, field, message). */
static int
rule_fail(struct prov_error *e, int code, const char *field, const char *msg)
{
	int status = est_err_http_status(code);

	if (status == 422 || status == 409 || status == 400)
		return est_fail(
			e, status,
			status == 409 ? PROV_R_CONFLICT : PROV_R_UNPROCESSABLE,
			"%s%s%s", field != NULL ? field : "",
			field != NULL && field[0] != '\0' ? ": " : "", msg);
	return est_fail_code(e, code);
}

/*
 * The device type of a dps route (or of device d), active: the route's
 * from the thread's cache, another one read.
 */
static int
type_load(struct est_call *ec, int64_t id, struct job *j, struct prov_error *e)
{
	int r;

	if (id == ec->route->device_type_id) {
		r = est_route_devtype(ec, &j->dt);
	} else {
		r = db_devtype_load(ec->db, id, &j->own_dt);
		j->dt = j->own_dt;
	}
	if (r == EST_E_NOTFOUND || (r == 0 && !j->dt->active))
		return est_fail(e, 404, PROV_R_UNKNOWN_TYPE,
				"unknown or inactive device type");
	if (r != 0)
		return est_fail_code(e, r);
	return 0;
}

/* The device type's default operational template and its CA. */
static int
type_template(struct est_call *ec, struct job *j, struct prov_error *e)
{
	struct jsonval_error je = {0};
	struct issue_cache *ic = NULL;
	int r;

	if ((r = est_icache(ec, &ic)) != 0)
		return est_fail_code(e, r);
	r = device_cert_template_cached(ic, ec->db, j->dt,
					ISSUE_KIND_OPERATIONAL, 0, "", &j->t,
					&j->ca, &je);
	if (r != 0)
		return rule_fail(e, r, je.field, je.message);
	return 0;
}

/* A cms route's template: the label's, else the server's default. */
static int
cms_template(struct est_call *ec, struct job *j, struct prov_error *e)
{
	const struct est_route *rt = ec->route;
	struct issue_cache *ic = NULL;
	int64_t id = rt->default_template_id;
	int r;

	if (id == 0 && rt->ntemplates > 0)
		id = rt->template_ids[0];
	if (id == 0)
		return est_fail(e, 409, PROV_R_CONFLICT,
				"no certificate template on this EST server");
	if ((r = est_icache(ec, &ic)) != 0)
		return est_fail_code(e, r);
	r = issue_cache_get(ic, ec->db, id, &j->t, &j->ca);
	if (r == EST_E_NOTFOUND)
		return est_fail(e, 409, PROV_R_CONFLICT,
				"certificate template missing");
	if (r != 0)
		return est_fail_code(e, r);
	if (!j->t->active)
		return est_fail(e, 409, PROV_R_CONFLICT,
				"certificate template inactive");
	if (!j->ca->active || j->ca->cert_der == NULL)
		return est_fail(e, 409, PROV_R_CONFLICT,
				"the template's CA is inactive");
	return 0;
}

/*
 * After issuing to a device, in the transaction: the key, the device's
 * mode, the record and the audit rows (as pki/provision.c writes them: the
 * device's "enroll", then the certificate's "issue", the device the actor
 * of both), then the commit.  An application's enrollment is written by
 * the writer thread instead (est_commit.c).
 */
static int
finish(struct est_call *ec, struct sigclient *sc, struct job *j,
       const struct est_client *cl, struct est_issued *out,
       struct prov_error *e)
{
	const struct issue_result *res = j->res;
	struct db_enrollment en;
	struct audit_event ev, dev;
	struct est_rec rec;
	int64_t enrollment_id = 0;
	char serial[41], *det = NULL;
	int r;

	est_rec_of(ec, cl, &rec);
	if ((out->cert = malloc(res->derlen)) == NULL)
		return est_fail_code(e, EST_E_NOMEM);
	memcpy(out->cert, res->der, res->derlen);
	out->certlen = res->derlen;
	if (j->keygen_type != 0 &&
	    (r = sigclient_export_wrapped(sc, res->wrapped, res->wrappedlen,
					  SIGNER_EXPORT_PKCS8, NULL, NULL, 0,
					  NULL, NULL, 0, &out->pkcs8,
					  &out->pkcs8len)) != 0)
		return est_fail_code(e, r);
	if ((r = j->d->mode != DEVICE_MODE_OPERATIONAL
			 ? db_device_set_mode(ec->db, j->d->id,
					      DEVICE_MODE_OPERATIONAL,
					      DEVICE_MODE_OPERATIONAL)
			 : db_device_touch(ec->db, j->d->id)) != 0)
		return est_fail_code(e, r);
	est_rec_enrollment(&rec, j->d->id, res->id, &en);
	if ((r = db_enrollment_record(ec->db, &en, &enrollment_id)) != 0 ||
	    (r = est_rec_details(&rec, enrollment_id, &det)) != 0)
		return est_fail_code(e, r);
	hex_encode(res->serial, res->serial_len, serial);
	est_rec_issue_event(&rec, res->id, serial, det, &ev);
	ev.actor_type = AUDIT_ACTOR_DEVICE;
	ev.actor_id = j->d->id;
	ev.actor_name = j->d->name;
	dev = ev;
	dev.entity = perm_entity_name(PERM_ENT_DEVICE);
	dev.entity_id = j->d->id;
	dev.entity_name = j->d->name;
	dev.action = "enroll";
	if ((r = db_audit_append(ec->db, &dev)) == 0)
		r = db_audit_append(ec->db, &ev);
	free(det);
	/* Audit rows go last: they hold the chain's head until the commit. */
	if (r != 0 || (r = db_commit(ec->db)) != 0)
		return est_fail_code(e, r);
	return 0;
}

int
est_issue_app(struct est_call *ec, const struct est_client *cl,
	      const struct csr *csr, int keygen, struct est_issued *out,
	      struct prov_error *e)
{
	struct issue_error ie = {0};
	struct sigclient *sc = NULL;
	struct issue_req rq;
	struct job j;
	int r;

	memset(&j, 0, sizeof(j));
	memset(&rq, 0, sizeof(rq));
	if (ec->route->kind == ESTSRV_KIND_DPS) {
		if ((r = type_load(ec, ec->route->device_type_id, &j, e)) !=
			    0 ||
		    (r = type_template(ec, &j, e)) != 0)
			goto fail;
	} else if ((r = cms_template(ec, &j, e)) != 0) {
		goto fail;
	}
	if ((r = issue_input_from_csr(csr, &j.in)) != 0 ||
	    (r = ctx_signer(ec->c, &sc)) != 0) {
		r = est_fail_code(e, r);
		goto fail;
	}
	if (keygen)
		j.keygen_type = keygen_type(j.t);
	rq.tmpl = j.t;
	rq.ca = j.ca;
	rq.csr = keygen ? NULL : csr;
	rq.keygen_type = j.keygen_type;
	rq.input = j.in;
	rq.src = SUBJ_SRC_CSR;
	rq.kind = kind_of(j.t);
	rq.via = ISSUE_VIA_EST;
	rq.creator = ISSUE_BY_APP;
	rq.app_id = cl->app_id;
	rq.tenant_id = ec->scope.tenant_id;
	rq.org_id = ec->scope.org_id;
	/* The writer stores groups of rows with one INSERT ... RETURNING. */
	rq.want_row = 1;
	/*
	 * Signed here; the row, the record and the audit row go to the
	 * writer thread, which answers once they commit (est_commit.c).  A
	 * server-generated key is exported first: it does not change when a
	 * serial number collision makes the writer sign again.
	 */
	if ((r = issue_cert_sign(sc, &rq, &j.res, &ie)) != 0) {
		r = rule_fail(e, r, ie.code == r ? ie.field : NULL,
			      ie.code == r ? ie.message : est_strerror(r));
		goto fail;
	}
	if ((j.keygen_type != 0 &&
	     (r = sigclient_export_wrapped(
		      sc, j.res->wrapped, j.res->wrappedlen,
		      SIGNER_EXPORT_PKCS8, NULL, NULL, 0, NULL, NULL, 0,
		      &out->pkcs8, &out->pkcs8len)) != 0) ||
	    (r = est_defer_app(ec, cl, &j.res, &out->pkcs8, &out->pkcs8len)) !=
		    0) {
		r = est_fail_code(e, r);
		goto fail;
	}
	out->deferred = 1;
	job_clear(&j);
	return 0;
fail:
	if (e->status == 503)
		drop_links(ec);
	est_issued_clear(out);
	job_clear(&j);
	return r != 0 ? r : EST_E_INTERNAL;
}

int
est_issue_device(struct est_call *ec, const struct est_client *cl,
		 const struct csr *csr, int keygen, struct est_issued *out,
		 struct prov_error *e)
{
	struct jsonval_error je = {0};
	struct device_cert_req dr;
	struct sigclient *sc = NULL;
	struct job j;
	int r, intx = 0;

	memset(&j, 0, sizeof(j));
	memset(&dr, 0, sizeof(dr));
	if ((r = type_load(ec, cl->dev->device_type_id, &j, e)) != 0)
		goto fail;
	if ((r = issue_input_from_csr(csr, &j.in)) != 0 ||
	    (r = ctx_signer(ec->c, &sc)) != 0 || (r = db_begin(ec->db)) != 0) {
		r = est_fail_code(e, r);
		goto fail;
	}
	intx = 1;
	/* The device as it is now, locked until the commit. */
	if ((r = db_device_get(ec->db, cl->dev->id, 1, &j.d)) != 0 ||
	    (r = db_device_load_attrs(ec->db, j.d)) != 0) {
		r = r == EST_E_NOTFOUND
			    ? est_fail(e, 401, PROV_R_NO_CERT,
				       "wrong device ID or password")
			    : est_fail_code(e, r);
		goto fail;
	}
	if (j.d->mode == DEVICE_MODE_DISABLED) {
		r = est_fail(e, 403, PROV_R_DEVICE_DISABLED, "device disabled");
		goto fail;
	}
	if (j.dt->enforce_factory_mode &&
	    j.d->mode == DEVICE_MODE_OPERATIONAL) {
		r = est_fail(e, 403, PROV_R_NOT_FACTORY_MODE,
			     "device not in factory mode");
		goto fail;
	}
	if ((r = device_vals_init(&j.v, j.dt, j.d)) != 0) {
		r = est_fail_code(e, r);
		goto fail;
	}
	j.has_v = 1;
	if ((r = type_template(ec, &j, e)) != 0)
		goto fail;
	if (keygen)
		j.keygen_type = keygen_type(j.t);
	dr.kind = ISSUE_KIND_OPERATIONAL;
	dr.tmpl = j.t;
	dr.ca = j.ca;
	dr.csr = keygen ? NULL : csr;
	dr.keygen_type = j.keygen_type;
	dr.input = j.in;
	dr.via = ISSUE_VIA_EST;
	dr.creator = ISSUE_BY_DEVICE;
	r = device_cert_issue(ec->db, sc, j.dt, j.d, &j.v, &dr, "", &j.res,
			      &je);
	if (r != 0) {
		r = rule_fail(e, r, je.field, je.message);
		goto fail;
	}
	if ((r = finish(ec, sc, &j, cl, out, e)) != 0)
		goto fail;
	job_clear(&j);
	return 0;
fail:
	if (intx)
		(void)db_rollback(ec->db);
	if (e->status == 503)
		drop_links(ec);
	est_issued_clear(out);
	job_clear(&j);
	return r != 0 ? r : EST_E_INTERNAL;
}
