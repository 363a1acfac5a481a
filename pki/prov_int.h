/*
 * Inside pki/provision*.c: one provisioning call as it goes, and the
 * steps that enrollment and re-enrollment share.
 */
#ifndef ESTUARY_PKI_PROV_INT_H
#define ESTUARY_PKI_PROV_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "devmgmt.h"
#include "prov_hint.h"
#include "provision.h"

struct db_ca;
struct devtype;
struct issue_result;
struct subj_input;
struct tmpl;

/* The name of the system actor of audit rows without a device. */
#define PROV_ACTOR_NAME "provisioning"

struct prov_call {
	struct db *db;
	struct sigclient *sc;
	const struct prov_scope *scope;
	enum prov_method method;
	const struct prov_cert_req *rq;
	/* The client's certificate. */
	X509 *cert;
	uint8_t *der;
	size_t derlen;
	uint8_t fp[DEVICE_FP_LEN];
	char fphex[2 * DEVICE_FP_LEN + 1];
	/* What the caller keeps (pki/prov_hint.h); NULL for nothing. */
	const struct prov_hint *hint;
	/*
	 * The device type, the template of the new certificate, its CA:
	 * the hint's or the call's own (own_*, freed with the call).
	 */
	const struct devtype *dt;
	const struct tmpl *t;
	const struct db_ca *ca;
	struct devtype *own_dt;
	struct tmpl *own_t;
	struct db_ca *own_ca;
	struct subj_input *in; /* the CSR's values, or the old certificate's */
	int keytype;	       /* a generated key's, else 0 */
	/* The device (known, or created by this call). */
	struct device *d;
	int created;
	enum device_mode before;
	struct device_vals v;
	int has_v;
	int64_t renewed_from; /* re-enrollment: the old certificate */
	/* What the call made. */
	struct issue_result *res;
	uint8_t *pkcs8;
	size_t pkcs8len;
	struct pki_chain chain;
	int64_t enrollment_id;
};

/*
 * Starts c: the certificate's DER and fingerprint, the request's shape
 * (exactly one of a CSR and keygen), and the certificate's validity now.
 */
int prov_call_init(struct prov_call *c, struct db *db, struct sigclient *sc,
		   const struct prov_scope *scope, enum prov_method method,
		   X509 *cert, const struct prov_cert_req *rq,
		   struct prov_error *e);
void prov_call_clear(struct prov_call *c);

/*
 * Loads scope's device type (404 when unknown, inactive or outside), or
 * takes the hint's when it is that type.
 */
int prov_type_load(struct prov_call *c, int64_t id, struct prov_error *e);
/*
 * With c->dt: the operational template tid (0: the type's default) and
 * its CA into c->t and c->ca (device_cert_template() or its cached
 * variant).
 */
int prov_template(struct prov_call *c, int64_t tid, struct jsonval_error *je);
/*
 * With c->t loaded: the CSR's subject input, or the generated key's type
 * (the template must allow server key generation).
 */
int prov_key_prepare(struct prov_call *c, struct prov_error *e);
/*
 * In the transaction, after issuing: the PKCS#8 of a generated key and
 * the CA chain, the device's mode, the est_enrollments row and the audit
 * rows (action "enroll", "auto_register" or "reenroll").
 */
int prov_finish_tx(struct prov_call *c, const char *action,
		   struct prov_error *e);
/* The caller's answer, taken out of c. */
int prov_result_take(struct prov_call *c, struct prov_result **out);
/*
 * After the rollback of a refused call: its est_enrollments and audit
 * rows in a transaction of their own.
 */
void prov_refused(struct prov_call *c, const struct prov_error *e);

/* *e from an EST_E_* code of a lower layer, with its message. */
int prov_from_code(struct prov_error *e, int r, const char *what);
/* *e from the jsonval error of pki/devmgmt.h, for a refusal of status. */
int prov_from_jv(struct prov_error *e, int r, const struct jsonval_error *je,
		 int status, enum prov_reason code);

/* The issue_via and creator of certificates a channel issues. */
int prov_issue_via(const struct prov_scope *s);

#endif
