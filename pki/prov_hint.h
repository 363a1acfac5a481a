/*
 * Zero-touch provisioning (pki/provision.h) for a caller that keeps what
 * a call would otherwise read: estuary-est's worker threads hold the
 * device type, the templates with their CAs and the external factory CA
 * between requests (fcgi/est_cache.c), each checked against a version
 * read for the request, so the core takes them instead of reading them
 * again.  What the hint does not give, the core reads as before.
 */
#ifndef ESTUARY_PKI_PROV_HINT_H
#define ESTUARY_PKI_PROV_HINT_H

#include <stdint.h>

#include <openssl/x509.h>

#include "provision.h"

struct devtype;
struct issue_cache;

struct prov_hint {
	/* Templates and their CAs through this cache; NULL: loaded. */
	struct issue_cache *icache;
	/*
	 * The scope's device type as of this request, its active flag
	 * included (used when the call needs that type); NULL: loaded.
	 */
	const struct devtype *dt;
	/*
	 * dt's external factory CA as of this request: its certificate
	 * (NULL: read from the database), its flags and organization.
	 */
	X509 *extca;
	int64_t extca_id;
	int extca_active;
	int extca_verified;
	int64_t extca_org_id;
	/*
	 * The caller answers with the certificate alone (EST, RFC 7030
	 * section 4.2.3): the result's chain stays empty.
	 */
	int no_chain;
};

/* prov_enroll_factory() and prov_reenroll() with hint h (may be NULL). */
int prov_enroll_factory_with(struct db *db, struct sigclient *sc,
			     const struct prov_scope *scope,
			     const struct prov_hint *h, X509 *cert,
			     const struct prov_cert_req *rq,
			     struct prov_result **out, struct prov_error *e);
int prov_reenroll_with(struct db *db, struct sigclient *sc,
		       const struct prov_scope *scope,
		       const struct prov_hint *h, X509 *cert,
		       const struct prov_cert_req *rq, struct prov_result **out,
		       struct prov_error *e);

#endif
