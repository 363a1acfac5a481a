/*
 * Who an EST client is (fcgi/est.h), by the methods its server allows
 * (guide §2.3.2): device ID/password and API application key over HTTP
 * Basic, factory certificate and API application certificate as the TLS
 * client certificate.
 *
 * Order.  A client certificate that the web server verified (or that
 * Apache's optional_no_ca passed: the handshake proved the key) comes
 * first, because it is proof of possession that Basic credentials are
 * not: it is an application's when its fingerprint is one
 * (auth_resolve_app() of fcgi/auth.c, the same lookup and the same audit as
 * the REST API), else, on a dps server, a device certificate: a factory
 * certificate for simpleenroll and serverkeygen, an operational one for
 * simplereenroll (the provisioning core, pki/provision.h, decides
 * whether it really is).  A certificate that no allowed method takes is
 * ignored, so that a client such as the Azure IoT Identity Service,
 * which may send both, can still authenticate by Basic.  Then Basic: a
 * user-id with the shape of an AppID is an application when the server
 * takes application keys; otherwise (or when no application has that
 * AppID) the device ID of a dps server that takes device passwords.
 *
 * Applications.  A cms server accepts the applications it lists.  A dps
 * server accepts those it lists, and when it lists none every
 * application of its tenant that is tenant-wide or of its organization:
 * the guide's factory applications enroll through the device
 * provisioning servers of their own tenant (TC-01, TC-02, TC-13).
 *
 * Device passwords.  The device ID is the device's name in the server's
 * tenant.  The password is verified (argon2id, constant time) before
 * anything about the device is revealed: an unknown ID verifies against a
 * dummy hash and answers the same 401 as a wrong password.  A device that
 * authenticated must then be of the server's device type and organization
 * and not disabled (403).  Guessing is throttled as portal logins are
 * (fcgi/auth.h, login_attempts): AUTH_THROTTLE_ACCOUNT failures for one
 * device ID of the tenant, or AUTH_THROTTLE_ADDR failures from one source
 * address (logins and device passwords together), within
 * AUTH_THROTTLE_WINDOW make the next check answer 429 with Retry-After,
 * before the password is looked at; a success clears the device ID's
 * count.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "apiapp.h"
#include "auth.h"
#include "ctx.h"
#include "db.h"
#include "device.h"
#include "err.h"
#include "est.h"
#include "est_body.h"
#include "est_devpw.h"
#include "estsrv.h"
#include "passwd.h"
#include "req.h"
#include "session.h"
#include "util.h"

void
est_client_clear(struct est_client *cl)
{
	device_free(cl->dev);
	memset(cl, 0, sizeof(*cl));
}

/* Whether route rt accepts application p (see the top of this file). */
static int
app_accepted(const struct est_route *rt, const struct principal *p)
{
	if (rt->napps > 0)
		return est_route_app_allowed(rt, p->id);
	if (rt->kind != ESTSRV_KIND_DPS)
		return 0;
	return p->tenant_id == rt->tenant_id &&
	       (p->org_id == 0 || p->org_id == rt->org_id);
}

/*
 * An application by certificate (basic 0) or by AppID:AppKey (basic 1)
 * (auth_resolve_app() of fcgi/auth.c; the application's row read with
 * the route when it was read by that credential).  EST_E_UNAUTH when it
 * names no application (or the key is wrong: audited there).
 */
static int
app_resolve(struct est_call *ec, int basic, struct principal *p)
{
	if (ec->app_by == (basic ? EST_APP_BY_ID : EST_APP_BY_CERT))
		return auth_resolve_app_row(ec->c, ec->req, basic, ec->app, p);
	return auth_resolve_app(ec->c, ec->req, basic, p);
}

static int
app_client(struct est_call *ec, const struct principal *p, enum prov_method m,
	   struct est_client *cl, struct prov_error *e)
{
	if (!app_accepted(ec->route, p))
		return est_fail(e, 403, PROV_R_WRONG_TYPE,
				"application not accepted by this EST server");
	cl->method = m;
	cl->app_id = p->id;
	snprintf(cl->app_name, sizeof(cl->app_name), "%s", p->name);
	return 0;
}

/*
 * Takes (take 1: 1 when one was free) or gives back (take 0) one of the
 * EST_PASSWD_MAX password-verification slots (fcgi/est.h).
 */
static int
passwd_slot(struct est_state *st, int take)
{
	int ok = 1;

	pthread_mutex_lock(&st->mtx);
	if (!take)
		st->passwd_running--;
	else if (st->passwd_running < EST_PASSWD_MAX)
		st->passwd_running++;
	else
		ok = 0;
	pthread_mutex_unlock(&st->mtx);
	return ok;
}

/*
 * Records the attempt of the device ID account (as a failure until it
 * succeeds) and answers 429 when the device ID or the address has failed
 * too often; see the top of this file.
 */
static int
device_throttle(struct est_call *ec, const char *account, int64_t *attempt,
		struct prov_error *e)
{
	enum auth_throttled which;
	char addr[64];
	int64_t wait = 0;
	int r;

	if ((r = auth_addr_key(ec->req->remote, addr, sizeof(addr))) != 0 ||
	    (r = auth_attempt_start(ec->db, account, addr, attempt, &wait,
				    &which)) != 0)
		return est_fail_code(e, r);
	if (wait == 0)
		return 0;
	r = est_fail(e, 429, PROV_R_THROTTLED,
		     which == AUTH_THROTTLED_ACCOUNT
			     ? "too many failures for this device ID; "
			       "retry later"
			     : "too many failures from this address; "
			       "retry later");
	e->retry_after = wait;
	return r;
}

/* Device ID/password (see the top of this file). */
static int
device_client(struct est_call *ec, struct est_client *cl, int64_t *devid,
	      struct prov_error *e)
{
	const struct est_state *st = ec->c->state;
	const struct est_route *rt = ec->route;
	const struct request *req = ec->req;
	char account[SESSION_USERNAME_MAX + 1];
	struct device *d = NULL;
	char *hash = NULL;
	int64_t id = 0, attempt = 0;
	int r, found;

	if ((r = auth_device_account(rt->tenant_id, req->auth_user, account)) !=
	    0)
		return est_fail_code(e, r);
	if ((r = device_throttle(ec, account, &attempt, e)) != 0)
		return r;
	r = db_est_device_password(ec->db, rt->tenant_id, req->auth_user, &id,
				   &hash);
	if (r != 0 && r != EST_E_NOTFOUND)
		return est_fail_code(e, r);
	found = r == 0 && hash != NULL;
	if (!passwd_slot(ec->c->state, 1)) {
		freezero_str(hash);
		/* Not a guess: the attempt must not count. */
		(void)db_attempt_delete(ec->db, attempt);
		return est_fail(e, 503, PROV_R_UNAVAILABLE,
				"too many password checks at once, retry");
	}
	r = passwd_verify(req->auth_pass, found ? hash : st->dummy_hash);
	passwd_slot(ec->c->state, 0);
	freezero_str(hash);
	if (r == EST_E_NOMEM)
		return est_fail_code(e, r);
	if (!found || r != 0) {
		if (found)
			*devid = id;
		return est_fail(e, 401, PROV_R_NO_CERT,
				"wrong device ID or password");
	}
	if ((r = db_attempt_succeeded(ec->db, attempt)) != 0)
		return est_fail_code(e, r);
	*devid = id;
	if ((r = db_device_get(ec->db, id, 0, &d)) != 0)
		return est_fail_code(e, r == EST_E_NOTFOUND ? EST_E_DB : r);
	if (d->device_type_id != rt->device_type_id ||
	    (rt->org_id != 0 && d->org_id != rt->org_id)) {
		device_free(d);
		return est_fail(e, 403, PROV_R_WRONG_TYPE,
				"device not served by this EST server");
	}
	if (d->mode == DEVICE_MODE_DISABLED) {
		device_free(d);
		return est_fail(e, 403, PROV_R_DEVICE_DISABLED,
				"device disabled");
	}
	cl->method = PROV_AUTH_DEVICE_PASSWORD;
	cl->dev = d;
	return 0;
}

int
est_authenticate(struct est_call *ec, struct est_client *cl,
		 enum prov_method *m, int64_t *dev, struct prov_error *e)
{
	const struct est_route *rt = ec->route;
	const struct request *req = ec->req;
	int dps = rt->kind == ESTSRV_KIND_DPS;
	int basic = req->auth_user != NULL && req->auth_pass != NULL;
	struct principal p;
	int r;

	memset(cl, 0, sizeof(*cl));
	*m = PROV_AUTH_NONE;
	*dev = 0;
	if (auth_cert_usable(req)) {
		if (rt->auth_app_cert) {
			*m = PROV_AUTH_APP_CERT;
			r = app_resolve(ec, 0, &p);
			if (r == 0)
				return app_client(ec, &p, PROV_AUTH_APP_CERT,
						  cl, e);
			if (r != EST_E_UNAUTH)
				return est_fail_code(e, r);
		}
		if (dps && rt->auth_factory_cert) {
			cl->method = ec->scope.channel == PROV_CH_SIMPLEREENROLL
					     ? PROV_AUTH_OPERATIONAL_CERT
					     : PROV_AUTH_FACTORY_CERT;
			cl->cert = req->client_cert;
			*m = cl->method;
			return 0;
		}
	}
	if (basic) {
		if (rt->auth_app_key && apiapp_id_valid(req->auth_user)) {
			*m = PROV_AUTH_APP_KEY;
			r = app_resolve(ec, 1, &p);
			if (r == 0)
				return app_client(ec, &p, PROV_AUTH_APP_KEY, cl,
						  e);
			if (r != EST_E_UNAUTH)
				return est_fail_code(e, r);
			if (!(dps && rt->auth_device_password))
				return est_fail(e, 401, PROV_R_NO_CERT,
						"wrong application ID or key");
		}
		if (dps && rt->auth_device_password) {
			*m = PROV_AUTH_DEVICE_PASSWORD;
			return device_client(ec, cl, dev, e);
		}
		if (!rt->auth_app_key)
			return est_fail(e, 403, PROV_R_WRONG_TYPE,
					"HTTP Basic authentication is "
					"disabled on this EST server");
		return est_fail(e, 401, PROV_R_NO_CERT,
				"wrong application ID or key");
	}
	return est_fail(e, 401, PROV_R_NO_CERT, "authentication required");
}
