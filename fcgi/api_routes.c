/*
 * The route table of estuary-api: every endpoint under /api/v1, and the
 * health check.  It lives apart from main() (fcgi/api.c) so that
 * tests/unit/test_openapi can compare it with docs/openapi.yaml.
 *
 * GET /api/v1/health needs no authentication: it tells whether the
 * database and the signer answer, the software version, the schema version
 * and the signer protocol version, none of which is secret, so that load
 * balancers and monitors can use it without credentials.
 */
#include "config.h"

#include <stdint.h>

#include <json-c/json.h>

#include "api_admin.h"
#include "api_app.h"
#include "api_auth.h"
#include "api_batch.h"
#include "api_ca.h"
#include "api_cert.h"
#include "api_audit.h"
#include "api_device.h"
#include "api_devtype.h"
#include "api_estsrv.h"
#include "api_pki.h"
#include "api_provision.h"
#include "api_extca.h"
#include "api_ocsp.h"
#include "api_report.h"
#include "api_routes.h"
#include "ctx.h"
#include "db.h"
#include "dispatch.h"
#include "err.h"
#include "log.h"
#include "resp.h"
#include "sigclient.h"

#define HEALTH_OK "ok"
#define HEALTH_DOWN "unavailable"

/*
 * One retry after dropping the connection: a server that restarted since
 * the thread's last request leaves a dead connection behind, and the health
 * check should report the server, not that connection.
 */
static int
check_db(struct hctx *c, int *version)
{
	struct db *db;
	int r = EST_E_DB, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if ((r = ctx_db(c, &db)) == 0 && (r = db_ping(db)) == 0 &&
		    (r = db_schema_version(db, version)) == 0)
			return 0;
		ctx_drop_db(c);
	}
	log_warn("health: database: %s", est_strerror(r));
	return r;
}

static int
check_signer(struct hctx *c, uint32_t *version)
{
	struct sigclient *sig;
	int r = EST_E_SIGNER, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if ((r = ctx_signer(c, &sig)) == 0 &&
		    (r = sigclient_ping(sig, version, NULL)) == 0)
			return 0;
		ctx_drop_signer(c);
	}
	log_warn("health: signer: %s", est_strerror(r));
	return r;
}

static int
put_str(struct json_object *o, const char *key, const char *value)
{
	struct json_object *v;

	if ((v = json_object_new_string(value)) == NULL)
		return EST_E_NOMEM;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return EST_E_NOMEM;
	}
	return 0;
}

/* An integer, or JSON null when the part that reports it is down. */
static int
put_int(struct json_object *o, const char *key, int ok, int64_t value)
{
	struct json_object *v = NULL;

	if (ok && (v = json_object_new_int64(value)) == NULL)
		return EST_E_NOMEM;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return EST_E_NOMEM;
	}
	return 0;
}

static int
h_health(struct hctx *c, const struct request *req, struct resp *rs)
{
	struct json_object *o = NULL;
	uint32_t sigver = 0;
	int schema = 0, dbok, sigok, ok, r;

	(void)req;
	dbok = check_db(c, &schema) == 0;
	sigok = check_signer(c, &sigver) == 0;
	ok = dbok && sigok;
	if ((o = json_object_new_object()) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = put_str(o, "status", ok ? "ok" : "degraded")) != 0 ||
	    (r = put_str(o, "database", dbok ? HEALTH_OK : HEALTH_DOWN)) != 0 ||
	    (r = put_str(o, "signer", sigok ? HEALTH_OK : HEALTH_DOWN)) != 0 ||
	    (r = put_str(o, "version", PACKAGE_VERSION)) != 0 ||
	    (r = put_int(o, "schema_version", dbok, schema)) != 0 ||
	    (r = put_int(o, "signer_protocol", sigok, sigver)) != 0 ||
	    (r = resp_json(rs, ok ? 200 : 503, o)) != 0)
		goto out;
	/* 503 tells a load balancer to look elsewhere for a while. */
	if (!ok)
		r = resp_header(rs, "Retry-After", RESP_RETRY_AFTER);
out:
	json_object_put(o);
	return r;
}

AUTH_ROUTE(r_auth_logout, api_auth_logout)
AUTH_ROUTE(r_auth_me, api_auth_me)
AUTH_ROUTE(r_audit_list, api_audit_list)
AUTH_ROUTE(r_audit_export, api_audit_export)
AUTH_ROUTE(r_report_by_status, api_report_certs_by_status)
AUTH_ROUTE(r_report_by_ca, api_report_certs_by_ca)
AUTH_ROUTE(r_report_expiring, api_report_certs_expiring)
AUTH_ROUTE(r_report_by_mode, api_report_devices_by_mode)
AUTH_ROUTE(r_report_by_type, api_report_devices_by_type)
AUTH_ROUTE(r_report_per_day, api_report_enrollments_per_day)

/*
 * Only health, login and the reduced device API are public (the device
 * API's credential is the TLS client certificate: fcgi/api_provision.h).
 * Every other route's handler is an auth_fn declared with AUTH_ROUTE
 * (fcgi/auth.h), which authenticates the request and checks its CSRF
 * token before the handler runs.
 */
const struct route api_routes[] = {
	{REQ_M_GET, "/api/v1/health", h_health},
	{REQ_M_POST, "/api/v1/auth/login", api_auth_login},
	{REQ_M_POST, "/api/v1/auth/logout", r_auth_logout},
	{REQ_M_GET, "/api/v1/auth/me", r_auth_me},
	API_APP_ROUTES,
	API_ADMIN_ROUTES,
	API_CA_ROUTES,
	API_OCSP_ROUTES,
	API_CERT_ROUTES,
	API_BATCH_ROUTES,
	API_DEVTYPE_ROUTES,
	API_DEVICE_ROUTES,
	API_TEMPLATE_ROUTES,
	API_EXTCA_ROUTES,
	API_ESTSRV_ROUTES,
	API_PROVISION_ROUTES,
	{REQ_M_GET, "/api/v1/audit-logs", r_audit_list},
	{REQ_M_GET, "/api/v1/audit-logs/export", r_audit_export},
	{REQ_M_GET, "/api/v1/reports/certificates-by-status",
	 r_report_by_status},
	{REQ_M_GET, "/api/v1/reports/certificates-by-ca", r_report_by_ca},
	{REQ_M_GET, "/api/v1/reports/certificates-expiring", r_report_expiring},
	{REQ_M_GET, "/api/v1/reports/devices-by-mode", r_report_by_mode},
	{REQ_M_GET, "/api/v1/reports/devices-by-type", r_report_by_type},
	{REQ_M_GET, "/api/v1/reports/enrollments-per-day", r_report_per_day},
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
