/*
 * The enrollment operations of RFC 7030 (fcgi/est.h):
 *
 *	POST .../simpleenroll		section 4.2.1
 *	POST .../simplereenroll		section 4.2.2
 *	POST .../serverkeygen		section 4.4
 *
 * A request is routed to its EST server (est_route.c), authenticated by
 * the server's methods (est_auth.c) before its body is looked at, so that
 * a client that first sends no credentials (libest does) gets the 401
 * challenge it waits for, and then its CSR is read (est_body.c).  A
 * certificate client goes to the provisioning core (pki/provision.h:
 * factory certificate on simpleenroll and serverkeygen, operational
 * certificate on simplereenroll), which records its own refusals; an
 * application or a device password to est_issue.c.  Every refusal decided
 * here is recorded (est_refuse()).
 *
 * simplereenroll with an operational certificate keeps that
 * certificate's subject and SAN (RFC 7030 section 4.2.2: the CSR's
 * subject is expected to match; the core keeps the old one either way).
 * serverkeygen takes its subject from the CSR as simpleenroll does and
 * ignores the CSR's key; it needs server key generation on the server
 * (403 otherwise) and in the template (the template refuses, 422,
 * otherwise).  The answer carries only the issued certificate (RFC 7030
 * section 4.2.3); the chain is cacerts'.
 */
#include "config.h"

#include <string.h>

#include "csr.h"
#include "ctx.h"
#include "devtype.h"
#include "err.h"
#include "est.h"
#include "est_body.h"
#include "est_resp.h"
#include "estsrv.h"
#include "est_cache.h"
#include "issue.h"
#include "prov_hint.h"
#include "provision.h"
#include "req.h"
#include "resp.h"

/* The issued certificate as the answer of channel ch. */
static int
answer(struct resp *rs, enum prov_channel ch, const uint8_t *der, size_t derlen,
       const uint8_t *pkcs8, size_t pkcs8len)
{
	const uint8_t *ders[1] = {der};
	size_t lens[1] = {derlen};

	if (ch == PROV_CH_SERVERKEYGEN)
		return est_resp_serverkeygen(rs, pkcs8, pkcs8len, ders, lens,
					     1);
	return est_resp_certs(rs, ders, lens, 1);
}

/*
 * What the core may take from this thread's caches instead of reading
 * it: the issuing cache, the route's device type and its external CA.
 * A part that cannot be had here is left to the core, which reads it
 * (and records a refusal, should that fail too).
 */
static void
core_hint(struct est_call *ec, struct prov_hint *h)
{
	const struct est_route_stamp *st = &ec->stamp;
	const struct devtype *dt = NULL;

	memset(h, 0, sizeof(*h));
	h->no_chain = 1;
	(void)est_icache(ec, &h->icache);
	if (ec->route->device_type_id == 0 || est_route_devtype(ec, &dt) != 0)
		return;
	h->dt = dt;
	if (st->extca_id == 0 || dt->external_ca_id != st->extca_id ||
	    est_cache_extca(ec->cache, ec->db, st, &h->extca) != 0)
		return;
	h->extca_id = st->extca_id;
	h->extca_active = st->extca_active;
	h->extca_verified = st->extca_verified;
	h->extca_org_id = st->extca_org_id;
}

/* A certificate client, through the provisioning core. */
static int
by_core(struct est_call *ec, const struct est_client *cl, const struct csr *csr,
	struct resp *rs)
{
	struct prov_cert_req pq = {NULL, 0, 0};
	struct prov_result *pr = NULL;
	struct prov_error e = {0};
	struct sigclient *sc = NULL;
	struct prov_hint h;
	int r;

	core_hint(ec, &h);
	if (ec->scope.channel == PROV_CH_SERVERKEYGEN)
		pq.keygen = 1;
	else
		pq.csr = csr;
	if ((r = ctx_signer(ec->c, &sc)) != 0) {
		est_fail_code(&e, r);
		ctx_after_error(ec->c, r);
		return est_resp_error(rs, &e);
	}
	if (cl->method == PROV_AUTH_OPERATIONAL_CERT)
		r = prov_reenroll_with(ec->db, sc, &ec->scope, &h, cl->cert,
				       &pq, &pr, &e);
	else
		r = prov_enroll_factory_with(ec->db, sc, &ec->scope, &h,
					     cl->cert, &pq, &pr, &e);
	if (r != 0) {
		/* The core recorded the refusal. */
		if (e.status == 503) {
			ctx_drop_db(ec->c);
			ctx_drop_signer(ec->c);
		}
		return est_resp_error(rs, &e);
	}
	r = answer(rs, ec->scope.channel, pr->cert->der, pr->cert->derlen,
		   pr->pkcs8, pr->pkcs8_len);
	prov_result_free(pr);
	return r;
}

static int
enroll(struct hctx *c, const struct request *req, struct resp *rs,
       enum prov_channel ch)
{
	struct est_issued is;
	struct est_client cl;
	struct est_call ec;
	struct prov_error e = {0};
	struct csr *csr = NULL;
	enum prov_method m = PROV_AUTH_NONE;
	int64_t dev = 0;
	int keygen = ch == PROV_CH_SERVERKEYGEN, r;

	memset(&is, 0, sizeof(is));
	memset(&cl, 0, sizeof(cl));
	if ((r = est_call_start(&ec, c, req, ch, 1, &e)) != 0)
		goto refuse;
	if (keygen && !ec.route->server_keygen) {
		r = est_fail(&e, 403, PROV_R_WRONG_TYPE,
			     "server key generation disabled");
		goto refuse;
	}
	if ((r = est_authenticate(&ec, &cl, &m, &dev, &e)) != 0)
		goto refuse;
	if (cl.dev != NULL)
		dev = cl.dev->id;
	if ((r = est_body_csr(req, &csr, &e)) != 0)
		goto refuse;
	switch (cl.method) {
	case PROV_AUTH_FACTORY_CERT:
	case PROV_AUTH_OPERATIONAL_CERT:
		r = by_core(&ec, &cl, csr, rs);
		goto out;
	case PROV_AUTH_DEVICE_PASSWORD:
		r = est_issue_device(&ec, &cl, csr, keygen, &is, &e);
		break;
	default:
		r = est_issue_app(&ec, &cl, csr, keygen, &is, &e);
		break;
	}
	if (r != 0)
		goto refuse;
	if (!is.deferred)
		r = answer(rs, ch, is.cert, is.certlen, is.pkcs8,
			   is.pkcs8len);
	goto out;
refuse:
	r = est_refuse(&ec, rs, m, dev, &e);
out:
	est_issued_clear(&is);
	est_client_clear(&cl);
	csr_free(csr);
	est_call_clear(&ec);
	return r;
}

int
est_h_simpleenroll(struct hctx *c, const struct request *req, struct resp *rs)
{
	return enroll(c, req, rs, PROV_CH_SIMPLEENROLL);
}

int
est_h_simplereenroll(struct hctx *c, const struct request *req, struct resp *rs)
{
	return enroll(c, req, rs, PROV_CH_SIMPLEREENROLL);
}

int
est_h_serverkeygen(struct hctx *c, const struct request *req, struct resp *rs)
{
	return enroll(c, req, rs, PROV_CH_SERVERKEYGEN);
}
