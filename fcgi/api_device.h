/*
 * The device endpoints of estuary-api (guide §2.2).  fcgi/api_device.c
 * reads, lists, changes and deletes devices and changes their modes,
 * api_device_create.c creates them, api_device_cert.c issues their
 * certificates (at creation and afterwards), api_device_cred.c builds and
 * hands out their credential files, api_device_json.c writes answers.
 * The rules that do not depend on HTTP are in pki/devmgmt.h.
 *
 *	GET    /api/v1/devices				list (filters)
 *	POST   /api/v1/devices				create
 *	GET    /api/v1/devices/{id}			read, with certificates
 *	PUT    /api/v1/devices/{id}			change (If-Match; PATCH
 *							too)
 *	DELETE /api/v1/devices/{id}			delete (If-Match)
 *	POST   /api/v1/devices/{id}/set-factory-mode	OPERATIONAL -> FACTORY
 *	POST   /api/v1/devices/{id}/disable
 *	POST   /api/v1/devices/{id}/enable
 *	POST   /api/v1/devices/{id}/certificates	issue a certificate
 *	POST   /api/v1/devices/{id}/credentials		the credential file,
 *							once
 *
 * Who: lib/perm.c, entity "device" (Admin everywhere, Tenant Admin and
 * Tenant Operator in their tenant, Organization Operator in its
 * organization create, change, delete and download; the auditors read).
 * A device lives in one tenant and one organization, which decide.
 *
 * A disabled device is refused (403, field "mode") by every operation
 * but reading it, enabling it and deleting it: it may do nothing, but an
 * operator must still be able to bring it back or retire it.
 *
 * The PKCS#12 of a server-generated key: the answer of the request that
 * generated it carries it ("pkcs12", base64 of DER, protected by the
 * passphrase that the credential file holds, or by the one the request
 * sent), and while the template keeps the key it can be made again with
 * POST /api/v1/certificates/{id}/pkcs12 (fcgi/api_cert_dl.c), which
 * checks the same tenant and organization: a device's certificates carry
 * its tenant and organization.
 */
#ifndef ESTUARY_API_DEVICE_H
#define ESTUARY_API_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth.h"
#include "devmgmt.h"
#include "issue.h"
#include "jsonval.h"
#include "rest.h"
#include "route.h"

struct csr;
struct db;
struct db_ca;
struct devtype;
struct json_object;
struct tmpl;

#define API_DEVICE_BASE "/api/v1/devices"

/* Route handlers: each runs its handler through auth_require(). */
int api_device_r_list(struct hctx *c, const struct request *req,
		      struct resp *rs);
int api_device_r_create(struct hctx *c, const struct request *req,
			struct resp *rs);
int api_device_r_get(struct hctx *c, const struct request *req,
		     struct resp *rs);
int api_device_r_update(struct hctx *c, const struct request *req,
			struct resp *rs);
int api_device_r_delete(struct hctx *c, const struct request *req,
			struct resp *rs);
int api_device_r_factory(struct hctx *c, const struct request *req,
			 struct resp *rs);
int api_device_r_disable(struct hctx *c, const struct request *req,
			 struct resp *rs);
int api_device_r_enable(struct hctx *c, const struct request *req,
			struct resp *rs);
int api_device_r_issue(struct hctx *c, const struct request *req,
		       struct resp *rs);
int api_device_r_credentials(struct hctx *c, const struct request *req,
			     struct resp *rs);

/* The rows of estuary-api's route table (fcgi/api_routes.c). */
#define API_DEVICE_ROUTES                                                      \
	{REQ_M_GET, API_DEVICE_BASE, api_device_r_list},                       \
		{REQ_M_POST, API_DEVICE_BASE, api_device_r_create},            \
		{REQ_M_GET, API_DEVICE_BASE "/{id}", api_device_r_get},        \
		{REQ_M_PUT | REQ_M_PATCH, API_DEVICE_BASE "/{id}",             \
		 api_device_r_update},                                         \
		{REQ_M_DELETE, API_DEVICE_BASE "/{id}", api_device_r_delete},  \
		{REQ_M_POST, API_DEVICE_BASE "/{id}/set-factory-mode",         \
		 api_device_r_factory},                                        \
		{REQ_M_POST, API_DEVICE_BASE "/{id}/disable",                  \
		 api_device_r_disable},                                        \
		{REQ_M_POST, API_DEVICE_BASE "/{id}/enable",                   \
		 api_device_r_enable},                                         \
		{REQ_M_POST, API_DEVICE_BASE "/{id}/certificates",             \
		 api_device_r_issue},                                          \
	{                                                                      \
		REQ_M_POST, API_DEVICE_BASE "/{id}/credentials",               \
			api_device_r_credentials                               \
	}

/* ------------------------------------------------------------------ */
/* Shared by the api_device files */

/* The largest body of a request that may carry two CSRs, before parsing. */
#define DEVICE_BODY_MAX (448 * 1024)
/* User-chosen device passwords, in characters. */
#define DEVICE_PASSWORD_MIN 8
#define DEVICE_PASSWORD_MAX 256

/*
 * Reads the JSON body of req: at most DEVICE_BODY_MAX bytes (413),
 * Content-Type exactly application/json (415; a charset parameter of
 * "utf-8" is the only one accepted), then jsonval_parse().  The caller
 * takes out the members that only a dynamic table can check, then calls
 * jsonval_check().
 */
int api_device_parse(const struct request *req, struct json_object **out,
		     struct jsonval_error *e);

/* What an audit row or a refusal says about device d (NULL: none yet). */
void api_device_what(struct rest_what *w, const char *action,
		     const struct device *d);
/* Where d lives, for perm_check(). */
void api_device_object(const struct device *d, struct perm_object *o);
int api_device_etag(const struct device *d, char etag[REST_ETAG_MAX]);

/*
 * Reads device id and asks whether p may act on it (rest_perm, which
 * audits a refusal): 404 for one that does not exist or that p may not
 * know of, 403 for one it may only see.  With active set, a disabled
 * device is refused with 403 (field "mode"), audited as denied.  *out
 * (may be NULL) receives the device.  Call it outside a transaction.
 */
int api_device_access(struct db *db, const struct principal *p,
		      const struct request *req, int64_t id,
		      enum perm_action act, const char *action, int active,
		      struct device **out, struct jsonval_error *e);
/*
 * Device id locked FOR UPDATE inside the caller's transaction, with
 * If-Match checked when need_match is set or the request sent one, and
 * refused (403, field "mode") when active is set and it is disabled.
 */
int api_device_lock(struct db *db, const struct request *req, int64_t id,
		    int need_match, int active, struct device **out,
		    struct jsonval_error *e);

/* ----- certificates (api_device_cert.c) ----- */

/*
 * One certificate requested for a device: its member of the body
 * (factory_certificate, operational_certificate, or the body of
 * POST .../certificates), what it becomes, and what issuing it gave.
 */
struct devcert {
	const char *prefix; /* member name for errors, "" for the top */
	enum issue_kind kind;
	struct json_object *spec;    /* validated; borrowed from the body */
	struct json_object *subject; /* taken out before validation */
	struct tmpl *t;
	struct db_ca *ca;
	struct csr *csr;
	int keygen; /* enum signer_keytype, 0 with a CSR */
	struct subj_input *in;
	time_t nb;
	int days;
	/* A factory certificate of an external CA, uploaded. */
	uint8_t *ext_der;
	size_t ext_len;
	uint8_t fp[DEVICE_FP_LEN];
	/* The issued certificate, and its PKCS#12 for a generated key. */
	struct issue_result *res;
	uint8_t *p12;
	size_t p12len;
};

void devcert_clear(struct devcert *dc);

/*
 * The members of a certificate request (valid_from, validity_days,
 * template_id, csr, generate, certificate, san), for the field tables of
 * the bodies that hold one.
 */
#define DEVCERT_NFIELDS 7
extern const struct jsonval_field devcert_fields[DEVCERT_NFIELDS];

/*
 * Before the body is validated: takes the member "subject" out of the
 * raw object spec (it names the template's fields, which no static table
 * lists) into dc->subject.  422 when it is not an object.
 */
int devcert_take_subject(struct json_object *spec, struct devcert *dc,
			 struct jsonval_error *e);
/*
 * After validation, with dc->spec, dc->kind and dc->prefix set: loads the
 * template (pki/devmgmt.h, device_cert_template()), reads the CSR, the
 * key type and the user's subject, the validity, or for an external
 * factory CA the uploaded certificate (whose fingerprint goes to dc->fp).
 * Exactly one of csr, generate and certificate.
 */
int devcert_prepare(struct db *db, const struct devtype *dt, struct devcert *dc,
		    struct jsonval_error *e);
/* The subject values dc brings, for reverse mapping. */
const struct subj_input *devcert_input(const struct devcert *dc);
/*
 * Issues dc for device d with values v in the caller's transaction, then,
 * for a generated key, its PKCS#12 under pass (when not NULL).
 */
int devcert_issue(struct db *db, struct sigclient *sig,
		  const struct principal *p, const struct devtype *dt,
		  const struct device *d, struct device_vals *v,
		  struct devcert *dc, const char *pass,
		  struct jsonval_error *e);
/*
 * The audit row of the certificate dc issued ("certificate", "issue"),
 * naming device d.  Audit rows go last in a transaction (db/audit.h).
 */
int devcert_audit(struct db *db, const struct principal *p,
		  const struct request *req, const struct devcert *dc,
		  const struct device *d);

/* ----- credential files (api_device_cred.c) ----- */

/*
 * Seals and stores the credential file of device d: its name as device
 * ID, password (NULL when the type has none), and passphrase with the
 * ids of the PKCS#12 files it protects (NULL, 0 when none), destroyed
 * after retention_hours.
 */
int devcred_store(struct db *db, struct sigclient *sig, const struct device *d,
		  const char *password, const char *passphrase,
		  const int64_t *cert_ids, size_t ncerts, int retention_hours);

/* ----- answers (api_device_json.c) ----- */

/*
 * The JSON of device d.  With full set: its attributes (d->attrs must be
 * loaded), its certificates, its factory certificate and the state of its
 * credential file; list items leave those out.  issued[0..nissued) are
 * the certificates issued by this request: their entries also carry the
 * PEM and, for a generated key, the PKCS#12.
 */
int api_device_json(struct db *db, const struct device *d, int full,
		    struct devcert *const *issued, size_t nissued,
		    struct json_object **out);
/*
 * Answers status with device id as it is now (full), and the ETag; 201
 * also sends a Location: location, or the device's own when NULL.
 */
int api_device_send(struct db *db, int64_t id, int status,
		    struct devcert *const *issued, size_t nissued,
		    const char *location, struct resp *rs);

/*
 * Audit details: the description, properties and attributes of device
 * old (NULL for a new one) against description and v (for a create, d
 * set up with rest_diff_create(), every value); and the identity of a
 * device (name, tenant, organization, type, mode) for a create or a
 * delete.
 */
int api_device_diff(struct rest_diff *d, const struct device *old,
		    const char *description, const struct devtype *dt,
		    const struct device_vals *v);
int api_device_diff_ident(struct rest_diff *d, const struct device *dev);

/* ----- bodies (api_device.c) ----- */

/*
 * Takes the member "attributes" out of the raw body into *out (NULL when
 * absent; 422 when not an object), before the body is validated.
 */
int api_device_take_attrs(struct json_object *body, struct json_object **out,
			  struct jsonval_error *e);
/*
 * Checks attrs (taken out above; NULL: none sent) against the attributes
 * of dt and sets every member sent into v; *tab receives the table, which
 * the caller frees after the last read of attrs.
 */
int api_device_apply_attrs(struct json_object *attrs, const struct devtype *dt,
			   struct device_vals *v, struct jsonval_field **tab,
			   struct jsonval_error *e);
/* The members of a validated "properties" object (NULL: none) into v. */
int api_device_apply_props(struct json_object *props, struct device_vals *v);
/* The field table of "properties". */
#define DEVICE_NPROPS 7
extern const struct jsonval_field api_device_prop_fields[DEVICE_NPROPS];

#endif
