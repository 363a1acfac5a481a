/*
 * The reduced REST API for devices (guide §2.1.1: "a reduced REST API"
 * for auto-registration): a device obtains its operational certificate
 * without EST, authenticated by the certificate it presents in the TLS
 * handshake, under the rules of pki/provision.h that EST follows too.
 *
 *	POST /api/v1/provisioning/device-types/{id}/enroll
 *		the factory certificate as TLS client certificate
 *	POST /api/v1/provisioning/reenroll
 *		an operational certificate as TLS client certificate
 *
 * Both routes are public: no user or application principal, no session,
 * no CSRF token.  The credential is the client certificate that the web
 * server exports (fcgi/req_tls.c) with status SUCCESS or GENEROUS; the
 * TLS handshake proved that the client holds its key, and whether we
 * trust it is decided by pki/provision.c (the device type's factory CA,
 * or our own certificate row).
 *
 * Body (application/json): {"csr": "<PEM, or base64 of DER, PKCS#10>"}
 * or {"key_type": "ec-p256" | "ec-p384" | "rsa-2048" | "rsa-3072" |
 * "rsa-4096"} (any case; null for the template's) for a key pair the
 * signer generates, when the template allows it.  Answer 201:
 *
 *	{"device": {"id", "name", "mode", "created"},
 *	 "certificate": {"id", "serial", "not_before", "not_after", "pem"},
 *	 "chain": ["<PEM of the issuing CA>", ...],
 *	 "private_key": "<PKCS#8 PEM>"}	(generated key only)
 *
 * Errors: {"error": {"code", "message", "reason"}} where reason is the
 * stable identifier of pki/provision.h (PROV_R_*): 401 without a usable
 * client certificate, 403 refused (untrusted or revoked certificate,
 * unknown device without auto-registration, disabled device, Enforce
 * Factory Mode), 404 unknown or inactive device type, 400 malformed body
 * or CSR, 409, 413, 415, 422, 503.  Every attempt past routing is
 * recorded in est_enrollments and the audit log.
 */
#ifndef ESTUARY_API_PROVISION_H
#define ESTUARY_API_PROVISION_H

#include "route.h"

struct hctx;
struct request;
struct resp;

#define API_PROVISION_BASE "/api/v1/provisioning"

int api_provision_enroll(struct hctx *c, const struct request *req,
			 struct resp *rs);
int api_provision_reenroll(struct hctx *c, const struct request *req,
			   struct resp *rs);

/* The rows of estuary-api's route table (fcgi/api_routes.c). */
#define API_PROVISION_ROUTES                                                   \
	{REQ_M_POST, API_PROVISION_BASE "/device-types/{id}/enroll",           \
	 api_provision_enroll},                                                \
	{                                                                      \
		REQ_M_POST, API_PROVISION_BASE "/reenroll",                    \
			api_provision_reenroll                                 \
	}

#endif
