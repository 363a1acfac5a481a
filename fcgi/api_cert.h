/*
 * The certificate endpoints of estuary-api (guide §1, "Certificates"):
 * fcgi/api_cert.c reads, lists and revokes, api_cert_issue.c issues
 * (pki/issue.h), api_cert_dl.c downloads.  docs/openapi.yaml describes
 * requests and responses.
 *
 *	GET	/api/v1/certificates			list (filters)
 *	POST	/api/v1/certificates			issue from a CSR
 *	POST	/api/v1/certificates/generate		issue with a key pair
 *							made by the signer
 *	GET	/api/v1/certificates/expiring		active certificates
 *							that end within N days
 *	GET	/api/v1/certificates/{id}		read (with its PEM)
 *	GET	/api/v1/certificates/{id}/download	PEM, DER, PKCS#7, chain
 *	POST	/api/v1/certificates/{id}/pkcs12	the PKCS#12 of a
 *							server-generated key
 *	POST	/api/v1/certificates/{id}/revoke	revoke, new CRL
 *
 * A certificate belongs to a tenant and an organization (or to neither,
 * when an Admin issues it from a global template): its tenant_id and
 * org_id decide who sees it (lib/perm.c, entity "certificate").
 */
#ifndef ESTUARY_API_CERT_H
#define ESTUARY_API_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "rest.h"
#include "route.h"

struct db;
struct db_result;
struct json_object;

#define API_CERT_BASE "/api/v1/certificates"

/* Route handlers: each runs its handler through auth_require(). */
int api_cert_r_list(struct hctx *c, const struct request *req, struct resp *rs);
int api_cert_r_issue(struct hctx *c, const struct request *req,
		     struct resp *rs);
int api_cert_r_generate(struct hctx *c, const struct request *req,
			struct resp *rs);
int api_cert_r_expiring(struct hctx *c, const struct request *req,
			struct resp *rs);
int api_cert_r_get(struct hctx *c, const struct request *req, struct resp *rs);
int api_cert_r_download(struct hctx *c, const struct request *req,
			struct resp *rs);
int api_cert_r_pkcs12(struct hctx *c, const struct request *req,
		      struct resp *rs);
int api_cert_r_revoke(struct hctx *c, const struct request *req,
		      struct resp *rs);

/* The rows of estuary-api's route table (fcgi/api_routes.c). */
#define API_CERT_ROUTES                                                        \
	{REQ_M_GET, API_CERT_BASE, api_cert_r_list},                           \
		{REQ_M_POST, API_CERT_BASE, api_cert_r_issue},                 \
		{REQ_M_POST, API_CERT_BASE "/generate", api_cert_r_generate},  \
		{REQ_M_GET, API_CERT_BASE "/expiring", api_cert_r_expiring},   \
		{REQ_M_GET, API_CERT_BASE "/{id}", api_cert_r_get},            \
		{REQ_M_GET, API_CERT_BASE "/{id}/download",                    \
		 api_cert_r_download},                                         \
		{REQ_M_POST, API_CERT_BASE "/{id}/pkcs12", api_cert_r_pkcs12}, \
	{                                                                      \
		REQ_M_POST, API_CERT_BASE "/{id}/revoke", api_cert_r_revoke    \
	}

/* ------------------------------------------------------------------ */
/* Shared by the api_cert*.c files */

/* PKCS#12 passphrases, in characters (the signer counts bytes). */
#define API_CERT_PASS_MIN 8
#define API_CERT_PASS_MAX 256


/* The string validator of PKCS#12 passphrases (bytes, for the signer). */
int api_cert_pass_check(const char *s);

/*
 * The JSON of the certificate in row row of res (db/cert.h columns), with
 * its PEM when with_pem is set (res must then hold DB_CERT_DER).
 */
int api_cert_json(const struct db_result *res, size_t row, int with_pem,
		  struct json_object **out);
/* The ETag of the certificate in row 0 of res. */
int api_cert_etag(const struct db_result *res, char etag[REST_ETAG_MAX]);

/*
 * Reads certificate id (locked FOR UPDATE when lock is set, inside the
 * caller's transaction) and asks whether p may act on it: 404 for one that
 * does not exist or that p may not know of, 403 for one it may see but
 * not act on.  *out is set on success.
 */
int api_cert_access(struct db *db, const struct principal *p,
		    const struct request *req, int64_t id, int lock,
		    enum perm_action act, const char *action,
		    struct db_result **out, struct jsonval_error *e);

/* What the audit row of an action on the certificate of res names. */
void api_cert_what(const struct db_result *res, const char *action,
		   struct rest_what *w);

/* Wipes the string member name of a validated body (a passphrase). */
void api_cert_wipe(struct json_object *body, const char *name);

#endif
