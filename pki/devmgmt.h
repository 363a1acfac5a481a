/*
 * Devices (guide §2.2): the rules that do not depend on who asks, shared
 * by the REST API (fcgi/api_device*.c) and by EST and the reduced device
 * API (auto-registration, later): a device's values under its type's
 * rules, its mode, the certificates issued for it, its external factory
 * certificate, and its credential file (pki/devmgmt_cred.c).
 *
 * Values (pki/devmgmt.c).  Each property and custom attribute follows the
 * device type's setting: a fixed one always has the type's value (a
 * client that sends another is refused, 422 naming "properties.<name>" or
 * "attributes.<name>"); an unset one takes the type's default; a
 * required one must end with a value.  On a change only the members the
 * client sent are checked against "required", so that a type made
 * stricter later does not lock its older devices out of every edit.
 *
 * Modes (DESIGN.md): NEW has no credential; FACTORY has a factory
 * certificate or a password; OPERATIONAL has at least one active
 * operational certificate.  "Set as Factory Mode" takes OPERATIONAL back
 * to FACTORY while its operational certificates stay valid, and Disable
 * remembers the mode; Enable gives back the lower of that mode and the
 * one the credentials imply now (device_mode_implied()), so a device set
 * back to FACTORY stays there and one whose operational certificates
 * were revoked meanwhile does not come back OPERATIONAL.
 *
 * Certificates.  device_cert_issue() is issue_cert() (pki/issue.h) for a
 * device: the template is the type's factory template or one of its
 * operational templates (the default one when none is named), the
 * subject is resolved with the type's mapping and the device's values
 * (DESIGN.md, "Subject value of a certificate field"), and the row is
 * bound to the device (certificates.device_id, kind) in its tenant and
 * organization, in the caller's transaction.
 *
 * Errors are struct jsonval_error with the field the client knows (422
 * for a rule, 409 for an inactive template or CA), so that the API answers
 * them as they are and EST can log them.
 */
#ifndef ESTUARY_PKI_DEVMGMT_H
#define ESTUARY_PKI_DEVMGMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "device.h"
#include "issue.h"
#include "subject.h"

struct db;
struct db_ca;
struct devtype;
struct issue_cache;
struct jsonval_error;
struct sigclient;
struct tmpl;

/* ------------------------------------------------------------------ */
/* Values */

/*
 * A device's property and attribute values being built.  attrs is
 * parallel to the type's attributes (dt->attrs); NULL means no value.
 * set[] and attr_set[] mark what the client sent.
 */
struct device_vals {
	char *props[SUBJ_PROP_COUNT];
	int set[SUBJ_PROP_COUNT];
	char **attrs;
	int *attr_set;
	size_t nattrs;
	/* The subject-resolution view of the values (device_vals_subj()). */
	struct subj_attr_value *sav;
};

/*
 * Starts v for device type dt: empty for a new device (cur NULL), else
 * the values device cur holds (its attrs loaded by db_device_load_attrs()).
 */
int device_vals_init(struct device_vals *v, const struct devtype *dt,
		     const struct device *cur);
void device_vals_clear(struct device_vals *v);

/* The client's value of property p or attribute i (NULL: clear it). */
int device_vals_set_prop(struct device_vals *v, enum subj_prop p,
			 const char *value);
int device_vals_set_attr(struct device_vals *v, size_t i, const char *value);

/*
 * For a new device: every member the client did not send takes the
 * value that reverse mapping found in the factory certificate's subject
 * (rev, may be NULL), else the type's default.  Fixed members take the
 * type's value.  Then the checks: a sent value that differs from a fixed
 * one, a required member without value (with undefined set it becomes
 * SUBJ_UNDEFINED instead: auto-registration, where nobody can be asked),
 * a value too long or not of its attribute's type.
 */
int device_vals_complete(struct device_vals *v, const struct devtype *dt,
			 const struct subj_device_values *rev, int undefined,
			 struct jsonval_error *e);
/* For a change: the checks above on the members the client sent. */
int device_vals_check_changes(struct device_vals *v, const struct devtype *dt,
			      struct jsonval_error *e);

/*
 * The values as subject_resolve() takes them, with name the device's
 * name; the strings are borrowed from v (and name), which must outlive
 * out.
 */
int device_vals_subj(struct device_vals *v, const struct devtype *dt,
		     const char *name, struct subj_device *out);

/*
 * Why name cannot name a device of type dt, or NULL when it can: at most
 * DEVICE_NAME_MAX characters of jsonval_check_name(), and no ':' when the
 * type has device ID/password (the device ID is the user-id of HTTP
 * Basic, RFC 7617).  The reason is a constant sentence.
 */
const char *device_name_problem(const struct devtype *dt, const char *name);

/*
 * Reverse mapping ("use certificate mapping to create the device"): the
 * device values that dt's mapping of factory template ft finds in in,
 * the subject of a factory certificate or of its request.  *out is freed
 * with subject_device_values_free(); EST_E_UNPROCESSABLE with *se set
 * for a value over its mapping's bound.
 */
int device_reverse_map(const struct devtype *dt, const struct tmpl *ft,
		       const struct subj_input *in,
		       struct subj_device_values **out, struct subj_error *se);

/*
 * Writes device n (db_device_insert()) and its attribute values from v
 * in the caller's transaction; sets *id.
 */
int device_insert(struct db *db, const struct db_device_new *n,
		  const struct devtype *dt, const struct device_vals *v,
		  int64_t *id);
/* Writes description and every value of v to device id. */
int device_update(struct db *db, int64_t id, const char *description,
		  const struct devtype *dt, const struct device_vals *v);

/* ------------------------------------------------------------------ */
/* Modes */

/* The mode that the credentials of device d imply now (see above). */
int device_mode_implied(struct db *db, const struct device *d,
			enum device_mode *out);

/* ------------------------------------------------------------------ */
/* Certificates */

/*
 * The template of a kind of certificate for device type dt and its CA,
 * loaded: kind ISSUE_KIND_FACTORY takes the type's internal factory
 * template (422 naming field when the type has none or an external CA),
 * ISSUE_KIND_OPERATIONAL template_id, which must be one of the type's
 * operational templates, or the default one when template_id is 0.  409
 * when the template or its CA is inactive.  Free with tmpl_free() and
 * db_ca_free().  Errors name field (the member that holds the request,
 * "operational_certificate") or its "template_id"; a field of "" is a
 * request at the top of a body, whose errors name "kind" and
 * "template_id".
 */
int device_cert_template(struct db *db, const struct devtype *dt,
			 enum issue_kind kind, int64_t template_id,
			 const char *field, struct tmpl **t, struct db_ca **ca,
			 struct jsonval_error *e);
/*
 * The same through a thread's issuing cache (pki/issue_cache.h): *t and
 * *ca are the cache's, valid until its next use.
 */
int device_cert_template_cached(struct issue_cache *ic, struct db *db,
				const struct devtype *dt, enum issue_kind kind,
				int64_t template_id, const char *field,
				const struct tmpl **t, const struct db_ca **ca,
				struct jsonval_error *e);

/* What a device certificate is made from, beside its template. */
struct device_cert_req {
	enum issue_kind kind;
	const struct tmpl *tmpl;
	const struct db_ca *ca;
	const struct csr *csr; /* or keygen_type */
	int keygen_type;
	const struct subj_input *input; /* the CSR's or the user's values */
	time_t not_before;		/* 0: now */
	int days;			/* 0: the template's */
	enum issue_via via;
	enum issue_creator creator;
	int64_t user_id;
	int64_t app_id;
	int64_t renewed_from_id;
};

/*
 * Issues the certificate rq describes for device d (id, name, tenant,
 * organization) of type dt with values v, in the caller's transaction.
 * Errors name fields under prefix ("factory_certificate.subject.CN").
 */
int device_cert_issue(struct db *db, struct sigclient *sc,
		      const struct devtype *dt, const struct device *d,
		      struct device_vals *v, const struct device_cert_req *rq,
		      const char *prefix, struct issue_result **out,
		      struct jsonval_error *e);

/*
 * A factory certificate that device type dt's external CA issued (DER):
 * the CA must still be verified and active, the certificate must chain to
 * it, be valid now and not be a CA.  Sets fp to its SHA-256 fingerprint.
 * 422 naming field otherwise.
 */
int device_factory_external(struct db *db, const struct devtype *dt,
			    const uint8_t *der, size_t len, const char *field,
			    uint8_t fp[DEVICE_FP_LEN], struct jsonval_error *e);
/*
 * The chain check of device_factory_external() on a parsed certificate,
 * against ca, the external CA's certificate that the caller read
 * (verified and active, as of this request) or kept.
 */
int device_factory_external_with(X509 *ca, X509 *leaf, const char *field,
				 struct jsonval_error *e);

/* ------------------------------------------------------------------ */
/* Credential files (pki/devmgmt_cred.c) */

/*
 * Seals plaintext (a device's credential file) for device_id: see
 * pki/devmgmt_cred.c for the design.  *blob is what the credential
 * column stores.  Needs the signer (a key pair generated and wrapped by
 * it).
 */
int device_cred_seal(struct sigclient *sc, int64_t device_id,
		     const uint8_t *plain, size_t len, uint8_t **blob,
		     size_t *bloblen);
/*
 * Opens a blob sealed for device_id; the caller wipes and frees *plain
 * (freezero).  EST_E_CRYPTO when it was not sealed for this device or was
 * changed.
 */
int device_cred_open(struct sigclient *sc, int64_t device_id,
		     const uint8_t *blob, size_t len, uint8_t **plain,
		     size_t *plainlen);

/*
 * Destroys every credential file past its retention that still holds its
 * content, each with an audit row (system actor, action
 * "destroy_credentials"), in transactions of a few rows.  estuary-worker
 * calls it on its schedule.  Returns how many were destroyed, or a
 * negative EST_E_* code.
 */
int device_credentials_sweep(struct db *db);

#endif
