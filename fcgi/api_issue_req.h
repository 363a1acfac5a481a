/*
 * The parts of a certificate request that every issuing endpoint reads
 * the same way (POST /api/v1/certificates[/generate], a device's
 * certificates, batch jobs): the SAN entries, the user's subject values
 * checked against a table made from the template, a CSR as PEM or base64
 * of DER, the key type of a generated key, and valid_from with
 * validity_days.  Each takes the template and the JSON object that holds
 * the members, and gives what struct issue_req (pki/issue.h) wants.
 *
 * prefix names the member that holds the request in error fields:
 * "factory_certificate" makes "factory_certificate.csr"; NULL or "" for
 * a request that is the body itself.
 */
#ifndef ESTUARY_API_ISSUE_REQ_H
#define ESTUARY_API_ISSUE_REQ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "jsonval.h"

struct csr;
struct db;
struct db_ca;
struct issue_result;
struct json_object;
struct principal;
struct sigclient;
struct subj_input;
struct tmpl;

#define ISSUE_REQ_SAN_MAX 32
#define ISSUE_REQ_VALUE_MAX 1024

/* The key types of a generated key by name ("ec-p256"), for JV_ENUM. */
extern const char *const issue_req_key_types[];
/* The members of one "san" entry: type, oid (of an otherName), value. */
#define ISSUE_REQ_NSAN_FIELDS 3
extern const struct jsonval_field issue_req_san_fields[ISSUE_REQ_NSAN_FIELDS];

/* The client's name of member name under prefix, in buf. */
const char *issue_req_field(const char *prefix, const char *name, char *buf,
			    size_t len);

/*
 * Members of the field tables of issuing bodies (their users include
 * rest.h, x509.h and api_cert.h): valid_from and validity_days, read by
 * issue_req_validity(), and the passphrase of a generated key's PKCS#12.
 */
#define ISSUE_REQ_VALIDITY_FIELDS                                              \
	{.name = "valid_from",                                                 \
	 .type = JV_STRING,                                                    \
	 .nullable = 1,                                                        \
	 .max_len = REST_TIME_MAX_LEN,                                         \
	 .check = rest_time_check},                                            \
	{                                                                      \
		.name = "validity_days", .type = JV_INT, .nullable = 1,        \
		.min = 1, .max = X509_DAYS_MAX                                 \
	}
#define ISSUE_REQ_PASSPHRASE_FIELD                                             \
	{                                                                      \
		.name = "passphrase", .type = JV_STRING,                       \
		.min_len = API_CERT_PASS_MIN, .max_len = API_CERT_PASS_MAX,    \
		.check = api_cert_pass_check                                   \
	}

/*
 * Before the body is validated: takes the member "subject" out of the raw
 * object o (its members are the template's fields, which no static table
 * lists) into *subject, which the caller puts.  422 when it is not an
 * object; nothing when o has none.
 */
int issue_req_take_subject(struct json_object *o, const char *prefix,
			   struct json_object **subject,
			   struct jsonval_error *e);
/*
 * The user's values for template t as subject input: subject (may be
 * NULL) checked against t's subject fields by attribute name and by OID,
 * and the validated "san" array of o.
 */
int issue_req_user(const struct tmpl *t, struct json_object *subject,
		   struct json_object *o, const char *prefix,
		   struct subj_input **in, struct jsonval_error *e);
/*
 * The CSR text (PEM, or base64 of DER) parsed under the key policy, and
 * its subject input.  Errors name "csr", "csr.<part>" or "key".
 */
int issue_req_csr(const char *text, const char *prefix, struct csr **csr,
		  struct subj_input **in, struct jsonval_error *e);
/*
 * The key type to generate: name (NULL for the template's server key
 * type, or else the first type t allows).  field names the member in
 * errors ("key_type", "generate.key_type").
 */
int issue_req_key_type(const struct tmpl *t, const char *name,
		       const char *prefix, const char *field, int *out,
		       struct jsonval_error *e);
/*
 * valid_from and validity_days of o; *nb and *days are left alone when
 * absent.  A template of unlimited expiration refuses validity_days.
 */
int issue_req_validity(const struct tmpl *t, struct json_object *o,
		       const char *prefix, time_t *nb, int *days,
		       struct jsonval_error *e);

/*
 * Where a new certificate (or batch job) of template t belongs: the
 * body's tenant_id and org_id, else the principal's, else the template's;
 * an organization must exist and be one of the tenant's, a tenant must
 * exist, and the template must be available there.  422 naming the
 * member otherwise.
 */
int issue_req_owner(struct db *db, const struct principal *p,
		    const struct tmpl *t, struct json_object *body,
		    int64_t *tenant_id, int64_t *org_id,
		    struct jsonval_error *e);

/*
 * The PKCS#12 of the key pair the signer generated for res (issued by
 * ca), with ca's chain, under pass: made before the certificate commits,
 * so that a key that cannot be delivered leaves no certificate behind.
 */
int issue_req_pkcs12(struct db *db, struct sigclient *sig,
		     const struct db_ca *ca, const struct issue_result *res,
		     const char *pass, uint8_t **p12, size_t *p12len);

#endif
