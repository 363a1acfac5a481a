/*
 * Zero-touch provisioning (pki/provision.h): what enrollment and
 * re-enrollment share.  A call starts with the client's certificate
 * (prov_call_init()), loads the device type and the template, prepares
 * the key, and ends in one transaction (prov_finish_tx()) or in a
 * refusal that only leaves its record behind (prov_refused()).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "audit.h"
#include "ca.h"
#include "csr.h"
#include "db.h"
#include "dbq.h"
#include "device.h"
#include "devtype.h"
#include "enroll.h"
#include "err.h"
#include "issue.h"
#include "jsonval.h"
#include "prov_int.h"
#include "sigclient.h"
#include "tmpl.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Names */

const char *
prov_channel_name(enum prov_channel ch)
{
	switch (ch) {
	case PROV_CH_REST:
		return "rest";
	case PROV_CH_SIMPLEENROLL:
		return "simpleenroll";
	case PROV_CH_SIMPLEREENROLL:
		return "simplereenroll";
	case PROV_CH_SERVERKEYGEN:
		return "serverkeygen";
	}
	return NULL;
}

const char *
prov_method_name(enum prov_method m)
{
	switch (m) {
	case PROV_AUTH_NONE:
		return "none";
	case PROV_AUTH_DEVICE_PASSWORD:
		return "device_password";
	case PROV_AUTH_FACTORY_CERT:
		return "factory_cert";
	case PROV_AUTH_OPERATIONAL_CERT:
		return "operational_cert";
	case PROV_AUTH_APP_KEY:
		return "app_key";
	case PROV_AUTH_APP_CERT:
		return "app_cert";
	}
	return NULL;
}

const char *
prov_reason_name(enum prov_reason r)
{
	static const char *const names[] = {
		[PROV_R_NONE] = "none",
		[PROV_R_BAD_REQUEST] = "bad_request",
		[PROV_R_NO_CERT] = "no_certificate",
		[PROV_R_CERT_UNTRUSTED] = "certificate_untrusted",
		[PROV_R_CERT_INVALID] = "certificate_invalid",
		[PROV_R_UNKNOWN_TYPE] = "unknown_device_type",
		[PROV_R_DEVICE_UNKNOWN] = "device_unknown",
		[PROV_R_WRONG_TYPE] = "wrong_device_type",
		[PROV_R_DEVICE_DISABLED] = "device_disabled",
		[PROV_R_NOT_FACTORY_MODE] = "not_factory_mode",
		[PROV_R_NOT_OPERATIONAL] = "not_operational",
		[PROV_R_NAME_TAKEN] = "name_taken",
		[PROV_R_CONFLICT] = "conflict",
		[PROV_R_UNPROCESSABLE] = "unprocessable",
		[PROV_R_UNAVAILABLE] = "unavailable",
		[PROV_R_THROTTLED] = "throttled",
		[PROV_R_INTERNAL] = "internal",
	};

	if ((size_t)r >= sizeof(names) / sizeof(names[0]) || names[r] == NULL)
		return "internal";
	return names[r];
}

/* ------------------------------------------------------------------ */
/* Errors */

int
prov_fail(struct prov_error *e, int status, enum prov_reason code,
	  const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	return est_err_from_status(status);
}

int
prov_from_code(struct prov_error *e, int r, const char *what)
{
	int status = est_err_http_status(r);
	enum prov_reason code;

	if (status == 503)
		code = PROV_R_UNAVAILABLE;
	else if (status == 409)
		code = PROV_R_CONFLICT;
	else if (status == 422)
		code = PROV_R_UNPROCESSABLE;
	else if (status == 400)
		code = PROV_R_BAD_REQUEST;
	else if (status == 403)
		code = PROV_R_CERT_UNTRUSTED;
	else
		code = PROV_R_INTERNAL;
	e->status = status;
	e->code = code;
	snprintf(e->reason, sizeof(e->reason), "%s: %s", what, est_strerror(r));
	return r;
}

int
prov_from_jv(struct prov_error *e, int r, const struct jsonval_error *je,
	     int status, enum prov_reason code)
{
	if (je->code != r)
		return prov_from_code(e, r, "provisioning");
	e->status = status;
	e->code = code;
	if (je->field[0] != '\0')
		snprintf(e->reason, sizeof(e->reason), "%.60s: %s", je->field,
			 je->message);
	else
		snprintf(e->reason, sizeof(e->reason), "%s", je->message);
	return est_err_from_status(status);
}

/* ------------------------------------------------------------------ */
/* One call */

int
prov_call_init(struct prov_call *c, struct db *db, struct sigclient *sc,
	       const struct prov_scope *scope, enum prov_method method,
	       X509 *cert, const struct prov_cert_req *rq, struct prov_error *e)
{
	unsigned char *p = NULL;
	unsigned int mdlen = 0;
	int len;

	memset(c, 0, sizeof(*c));
	c->db = db;
	c->sc = sc;
	c->scope = scope;
	c->method = method;
	c->rq = rq;
	c->cert = cert;
	if (db == NULL || sc == NULL || scope == NULL || rq == NULL ||
	    prov_channel_name(scope->channel) == NULL)
		return prov_fail(e, 500, PROV_R_INTERNAL, "bad call");
	if (cert == NULL)
		return prov_fail(e, 401, PROV_R_NO_CERT,
				 "a client certificate is required");
	if ((rq->csr != NULL) == (rq->keygen != 0))
		return prov_fail(e, 400, PROV_R_BAD_REQUEST,
				 "exactly one of a CSR and a generated key");
	if ((len = i2d_X509(cert, &p)) <= 0)
		return prov_fail(e, 400, PROV_R_BAD_REQUEST,
				 "the client certificate cannot be encoded");
	c->der = p;
	c->derlen = (size_t)len;
	if (EVP_Digest(c->der, c->derlen, c->fp, &mdlen, EVP_sha256(), NULL) !=
		    1 ||
	    mdlen != DEVICE_FP_LEN)
		return prov_fail(e, 500, PROV_R_INTERNAL, "digest failed");
	hex_encode(c->fp, DEVICE_FP_LEN, c->fphex);
	/* Within its validity now (the web server may not have checked). */
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0)
		return prov_fail(e, 403, PROV_R_CERT_INVALID,
				 "the client certificate is not yet valid");
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
		return prov_fail(e, 403, PROV_R_CERT_INVALID,
				 "the client certificate has expired");
	return 0;
}

void
prov_call_clear(struct prov_call *c)
{
	if (c == NULL)
		return;
	OPENSSL_free(c->der);
	devtype_free(c->own_dt);
	tmpl_free(c->own_t);
	db_ca_free(c->own_ca);
	subject_input_free(c->in);
	device_free(c->d);
	if (c->has_v)
		device_vals_clear(&c->v);
	issue_result_free(c->res);
	freezero(c->pkcs8, c->pkcs8len);
	pki_chain_clear(&c->chain);
	memset(c, 0, sizeof(*c));
}

int
prov_type_load(struct prov_call *c, int64_t id, struct prov_error *e)
{
	const struct prov_scope *s = c->scope;
	int r;

	devtype_free(c->own_dt);
	c->own_dt = NULL;
	c->dt = NULL;
	if (id > 0 && c->hint != NULL && c->hint->dt != NULL &&
	    c->hint->dt->id == id) {
		c->dt = c->hint->dt;
	} else {
		if (id <= 0 || (r = db_devtype_load(c->db, id, &c->own_dt)) ==
				       EST_E_NOTFOUND)
			return prov_fail(e, 404, PROV_R_UNKNOWN_TYPE,
					 "no such device type");
		if (r != 0)
			return prov_from_code(e, r, "device type");
		c->dt = c->own_dt;
	}
	/* A type the caller does not serve is as unknown as a missing one. */
	if (!c->dt->active ||
	    (s->tenant_id != 0 && c->dt->tenant_id != s->tenant_id) ||
	    (s->org_id != 0 && c->dt->org_id != 0 &&
	     c->dt->org_id != s->org_id))
		return prov_fail(e, 404, PROV_R_UNKNOWN_TYPE,
				 "no such device type");
	return 0;
}

int
prov_template(struct prov_call *c, int64_t tid, struct jsonval_error *je)
{
	int r;

	if (c->hint != NULL && c->hint->icache != NULL)
		return device_cert_template_cached(
			c->hint->icache, c->db, c->dt, ISSUE_KIND_OPERATIONAL,
			tid, "", &c->t, &c->ca, je);
	r = device_cert_template(c->db, c->dt, ISSUE_KIND_OPERATIONAL, tid, "",
				 &c->own_t, &c->own_ca, je);
	if (r == 0) {
		c->t = c->own_t;
		c->ca = c->own_ca;
	}
	return r;
}

int
prov_key_prepare(struct prov_call *c, struct prov_error *e)
{
	const struct tmpl *t = c->t;
	int kt, i, r;

	if (c->rq->csr != NULL) {
		if ((r = issue_input_from_csr(c->rq->csr, &c->in)) != 0)
			return r == EST_E_NOMEM
				       ? prov_from_code(e, r, "CSR")
				       : prov_fail(e, 400, PROV_R_BAD_REQUEST,
						   "the CSR's subject cannot "
						   "be read");
		return 0;
	}
	if (!t->server_keygen)
		return prov_fail(e, 422, PROV_R_UNPROCESSABLE,
				 "the template does not allow server key "
				 "generation");
	kt = c->rq->key_type != 0 ? c->rq->key_type : t->keygen_key_type;
	for (i = SIGNER_KEY_MIN; kt == 0 && i <= SIGNER_KEY_MAX; i++)
		if ((t->key_types & CSR_KEYBIT(i)) != 0)
			kt = i;
	if (kt < SIGNER_KEY_MIN || kt > SIGNER_KEY_MAX ||
	    (t->key_types & CSR_KEYBIT(kt)) == 0)
		return prov_fail(e, 422, PROV_R_UNPROCESSABLE,
				 "the template does not allow this key type");
	c->keytype = kt;
	return 0;
}

int
prov_issue_via(const struct prov_scope *s)
{
	return s->channel == PROV_CH_REST ? ISSUE_VIA_API : ISSUE_VIA_EST;
}

/* ------------------------------------------------------------------ */
/* Records */

static int
put(struct json_object *o, const char *k, struct json_object *v)
{
	if (v == NULL || json_object_object_add(o, k, v) != 0) {
		json_object_put(v);
		return EST_E_NOMEM;
	}
	return 0;
}

/*
 * The audit details of an enrollment: {"after": {...}} with the channel,
 * the method, the server, the label, the mode and the certificate.
 */
static int
details(const struct prov_call *c, const char *mode, char **out)
{
	const struct prov_scope *s = c->scope;
	struct json_object *o = NULL, *a = NULL;
	char hex[2 * sizeof(c->res->serial) + 1];
	int r;

	if ((o = json_object_new_object()) == NULL ||
	    (a = json_object_new_object()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = put(a, "channel",
		     json_object_new_string(prov_channel_name(s->channel)))) !=
		    0 ||
	    (r = put(a, "method",
		     json_object_new_string(prov_method_name(c->method)))) !=
		    0 ||
	    (s->server_id != 0 &&
	     (r = put(a, "server_id", json_object_new_int64(s->server_id))) !=
		     0) ||
	    (s->label != NULL &&
	     (r = put(a, "label", json_object_new_string(s->label))) != 0) ||
	    (mode != NULL &&
	     (r = put(a, "mode", json_object_new_string(mode))) != 0) ||
	    (c->created &&
	     (r = put(a, "created_via",
		      json_object_new_string(c->d->created_via))) != 0) ||
	    (r = put(a, "client_certificate_fingerprint",
		     json_object_new_string(c->fphex))) != 0)
		goto out;
	if (c->res != NULL) {
		hex_encode(c->res->serial, c->res->serial_len, hex);
		if ((r = put(a, "certificate_id",
			     json_object_new_int64(c->res->id))) != 0 ||
		    (r = put(a, "serial", json_object_new_string(hex))) != 0 ||
		    (c->renewed_from != 0 &&
		     (r = put(a, "renewed_from_id",
			      json_object_new_int64(c->renewed_from))) != 0) ||
		    (r = put(a, "key_source",
			     json_object_new_string(
				     c->keytype != 0 ? "server" : "csr"))) != 0)
			goto out;
	}
	r = put(o, "after", a);
	a = NULL;
	if (r != 0)
		goto out;
	if ((*out = strdup(json_object_to_json_string_ext(
		     o, JSON_C_TO_STRING_PLAIN))) == NULL)
		r = EST_E_NOMEM;
out:
	json_object_put(a);
	json_object_put(o);
	return r;
}

/* The audit actor: the device, or the system before there is one. */
static void
actor(const struct prov_call *c, struct audit_event *ev)
{
	if (c->d != NULL && c->d->id != 0) {
		ev->actor_type = AUDIT_ACTOR_DEVICE;
		ev->actor_id = c->d->id;
		ev->actor_name = c->d->name;
		ev->tenant_id = c->d->tenant_id;
		ev->org_id = c->d->org_id;
		ev->entity = "device";
		ev->entity_id = c->d->id;
		ev->entity_name = c->d->name;
	} else {
		ev->actor_type = AUDIT_ACTOR_SYSTEM;
		ev->actor_name = PROV_ACTOR_NAME;
		ev->tenant_id = c->dt != NULL ? c->dt->tenant_id : 0;
		ev->org_id = c->dt != NULL ? c->dt->org_id : 0;
		ev->entity = "device";
		/* The fingerprint names a device that does not exist. */
		ev->entity_name = c->der != NULL ? c->fphex : NULL;
	}
	ev->source_addr = c->scope->source_addr;
}

static void
enrollment(const struct prov_call *c, const char *outcome, const char *reason,
	   struct db_enrollment *en)
{
	const struct prov_scope *s = c->scope;

	memset(en, 0, sizeof(*en));
	if (c->d != NULL && c->d->id != 0) {
		en->tenant_id = c->d->tenant_id;
		en->org_id = c->d->org_id;
		en->device_id = c->d->id;
	} else if (c->dt != NULL) {
		en->tenant_id = c->dt->tenant_id;
		en->org_id = c->dt->org_id;
	} else {
		en->tenant_id = s->tenant_id;
		en->org_id = s->org_id;
	}
	en->server_id = s->server_id;
	en->domain = s->domain;
	en->label = s->label;
	en->operation = prov_channel_name(s->channel);
	en->auth_method = prov_method_name(c->method);
	en->outcome = outcome;
	en->reason = reason;
	en->device_created = c->created;
	en->certificate_id = c->res != NULL ? c->res->id : 0;
	en->source_addr = s->source_addr;
}

int
prov_finish_tx(struct prov_call *c, const char *action, struct prov_error *e)
{
	struct db_enrollment en;
	struct audit_event ev[2];
	const struct audit_event *evs[2] = {&ev[0], &ev[1]};
	char *det = NULL;
	int r;

	if (c->keytype != 0 &&
	    (r = sigclient_export_wrapped(
		     c->sc, c->res->wrapped, c->res->wrappedlen,
		     SIGNER_EXPORT_PKCS8, NULL, NULL, 0, NULL, NULL, 0,
		     &c->pkcs8, &c->pkcs8len)) != 0)
		return prov_from_code(e, r, "key export");
	if ((c->hint == NULL || !c->hint->no_chain) &&
	    (r = pki_ca_chain(c->db, c->ca, &c->chain)) != 0)
		return prov_from_code(e, r, "CA chain");
	/* A device this call created was written OPERATIONAL. */
	if (!c->created &&
	    (r = c->d->mode != DEVICE_MODE_OPERATIONAL
			 ? db_device_set_mode(c->db, c->d->id,
					      DEVICE_MODE_OPERATIONAL,
					      DEVICE_MODE_OPERATIONAL)
			 : db_device_touch(c->db, c->d->id)) != 0)
		return prov_from_code(e, r, "device mode");
	c->before = c->created ? DEVICE_MODE_FACTORY : c->d->mode;
	c->d->mode = DEVICE_MODE_OPERATIONAL;
	enrollment(c, DB_ENROLL_SUCCESS, NULL, &en);
	if ((r = db_enrollment_record(c->db, &en, &c->enrollment_id)) != 0)
		return prov_from_code(e, r, "enrollment record");
	if ((r = details(c, device_mode_name(DEVICE_MODE_OPERATIONAL), &det)) !=
	    0)
		return prov_from_code(e, r, "audit");
	/*
	 * Audit rows go last: they hold the chain's head until the commit.
	 * The device's row, then the certificate's, in one append.
	 */
	memset(&ev[0], 0, sizeof(ev[0]));
	actor(c, &ev[0]);
	ev[0].action = action;
	ev[0].outcome = AUDIT_SUCCESS;
	ev[0].details = det;
	ev[1] = ev[0];
	ev[1].entity = "certificate";
	ev[1].entity_id = c->res->id;
	ev[1].entity_name = NULL;
	ev[1].action = "issue";
	r = db_audit_append_many(c->db, evs, 2);
	free(det);
	return r != 0 ? prov_from_code(e, r, "audit") : 0;
}

int
prov_result_take(struct prov_call *c, struct prov_result **out)
{
	struct prov_result *res;

	if ((res = calloc(1, sizeof(*res))) == NULL ||
	    (res->device_name = strdup(c->d->name)) == NULL) {
		free(res);
		return EST_E_NOMEM;
	}
	res->device_id = c->d->id;
	res->mode = c->d->mode;
	res->device_created = c->created;
	res->tenant_id = c->d->tenant_id;
	res->org_id = c->d->org_id;
	res->device_type_id = c->d->device_type_id;
	res->cert = c->res;
	c->res = NULL;
	res->chain = c->chain;
	memset(&c->chain, 0, sizeof(c->chain));
	res->pkcs8 = c->pkcs8;
	res->pkcs8_len = c->pkcs8len;
	c->pkcs8 = NULL;
	c->pkcs8len = 0;
	res->enrollment_id = c->enrollment_id;
	*out = res;
	return 0;
}

void
prov_result_free(struct prov_result *r)
{
	if (r == NULL)
		return;
	free(r->device_name);
	issue_result_free(r->cert);
	pki_chain_clear(&r->chain);
	freezero(r->pkcs8, r->pkcs8_len);
	free(r);
}

/* Writes the record of a refusal; 0 or the database's error. */
static int
refusal_write(const struct prov_call *c, const struct prov_error *e)
{
	struct db_enrollment en;
	struct audit_event ev;
	char reason[PROV_REASON_MAX + 40];
	int r;

	snprintf(reason, sizeof(reason), "%s: %s", prov_reason_name(e->code),
		 e->reason[0] != '\0' ? e->reason : "refused");
	enrollment(c,
		   e->status == 401 || e->status == 403 || e->status == 429
			   ? DB_ENROLL_DENIED
			   : DB_ENROLL_FAILURE,
		   reason, &en);
	en.certificate_id = 0;
	en.device_created = 0;
	memset(&ev, 0, sizeof(ev));
	actor(c, &ev);
	ev.action = c->scope->channel == PROV_CH_SIMPLEREENROLL ||
				    c->method == PROV_AUTH_OPERATIONAL_CERT
			    ? "reenroll"
			    : "enroll";
	ev.outcome = en.outcome;
	ev.reason = reason;
	if ((r = db_begin(c->db)) != 0)
		return r;
	if ((r = db_enrollment_record(c->db, &en, NULL)) == 0 &&
	    (r = db_audit_append(c->db, &ev)) == 0)
		return db_commit(c->db);
	(void)db_rollback(c->db);
	return r;
}

void
prov_refused(struct prov_call *c, const struct prov_error *e)
{
	/* A refusal must not be hidden by the failure of its record. */
	(void)refusal_write(c, e);
}

int
prov_record_refusal(struct db *db, const struct prov_scope *scope,
		    enum prov_method method, int64_t device_id,
		    const struct prov_error *e)
{
	struct prov_call c;
	int r;

	if (db == NULL || scope == NULL || e == NULL ||
	    prov_channel_name(scope->channel) == NULL ||
	    prov_method_name(method) == NULL)
		return EST_E_INVAL;
	memset(&c, 0, sizeof(c));
	c.db = db;
	c.scope = scope;
	c.method = method;
	if (device_id != 0) {
		struct device *got = NULL;

		if ((r = db_device_get(db, device_id, 0, &got)) != 0)
			return r;
		c.d = got;
	}
	r = refusal_write(&c, e);
	device_free(c.d);
	return r;
}
