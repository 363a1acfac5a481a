/*
 * The CA endpoints of estuary-api (fcgi/api_ca.c: the CA as an object;
 * fcgi/api_ca_io.c: its request, certificate, downloads and CRL).
 * docs/openapi.yaml describes requests and responses.
 *
 *	GET, POST		/api/v1/cas
 *	GET, PUT, PATCH, DELETE	/api/v1/cas/{id}
 *	POST			/api/v1/cas/{id}/activate, /deactivate
 *	GET			/api/v1/cas/{id}/csr
 *	POST			/api/v1/cas/{id}/certificate
 *	GET			/api/v1/cas/{id}/download?format=
 *	GET, POST		/api/v1/cas/{id}/crl
 *
 * A CA is created as a root, an issuing CA under an internal CA, or an
 * "external" CA whose key is in the HSM and whose certificate another CA
 * signs from the request that GET .../csr returns; POST .../certificate
 * uploads it.  Only the name, description and CRL period of a CA can be
 * changed: its key, subject, scope and certificate never change, since
 * certificates, templates and child CAs depend on them.  As for the other
 * entities: PUT and PATCH do the same, changes and deletes need If-Match
 * (activate and deactivate check it only when it is sent), and a CA is
 * deleted only when it is inactive and nothing refers to it (409).
 *
 * Permissions (lib/perm.h, entity "ca"): reading, the request, downloads
 * and the CRL are "read"; uploading the certificate and regenerating the
 * CRL are "update".
 */
#ifndef ESTUARY_API_CA_H
#define ESTUARY_API_CA_H

#include <stdint.h>

#include "auth.h"
#include "perm.h"
#include "rest.h"
#include "route.h"

struct db;
struct db_ca;
struct json_object;

#define API_CA_BASE "/api/v1/cas"

#define API_CA_DECL(name)                                                      \
	int name(struct hctx *c, const struct request *req, struct resp *rs)

API_CA_DECL(api_ca_list);
API_CA_DECL(api_ca_create);
API_CA_DECL(api_ca_get);
API_CA_DECL(api_ca_update);
API_CA_DECL(api_ca_delete);
API_CA_DECL(api_ca_activate);
API_CA_DECL(api_ca_deactivate);
API_CA_DECL(api_ca_csr);
API_CA_DECL(api_ca_upload);
API_CA_DECL(api_ca_download);
API_CA_DECL(api_ca_crl_get);
API_CA_DECL(api_ca_crl_make);

/* The rows of estuary-api's route table (fcgi/api_routes.c). */
#define API_CA_ROUTES                                                          \
	{REQ_M_GET, API_CA_BASE, api_ca_list},                                 \
		{REQ_M_POST, API_CA_BASE, api_ca_create},                      \
		{REQ_M_GET, API_CA_BASE "/{id}", api_ca_get},                  \
		{REQ_M_PUT | REQ_M_PATCH, API_CA_BASE "/{id}", api_ca_update}, \
		{REQ_M_DELETE, API_CA_BASE "/{id}", api_ca_delete},            \
		{REQ_M_POST, API_CA_BASE "/{id}/activate", api_ca_activate},   \
		{REQ_M_POST, API_CA_BASE "/{id}/deactivate",                   \
		 api_ca_deactivate},                                           \
		{REQ_M_GET, API_CA_BASE "/{id}/csr", api_ca_csr},              \
		{REQ_M_POST, API_CA_BASE "/{id}/certificate", api_ca_upload},  \
		{REQ_M_GET, API_CA_BASE "/{id}/download", api_ca_download},    \
		{REQ_M_GET, API_CA_BASE "/{id}/crl", api_ca_crl_get},          \
	{                                                                      \
		REQ_M_POST, API_CA_BASE "/{id}/crl", api_ca_crl_make           \
	}

/* --- Shared by api_ca.c, api_ca_io.c and api_ca_json.c --- */

/* RFC 5280 KeyUsage bit n is api_ca_ku_names[n] (DB_CA_KU_*); NULL-ended. */
extern const char *const api_ca_ku_names[];

/*
 * The CA as the API shows it (full adds the certificate's PEM), its
 * status ("pending", "active" or "inactive") and its entity tag.
 */
int api_ca_json(const struct db_ca *ca, int full, struct json_object **out);
const char *api_ca_status(const struct db_ca *ca);
int api_ca_etag(const struct db_ca *ca, char etag[REST_ETAG_MAX]);

/* What an audit row about ca (NULL: none yet) names. */
void api_ca_what(const struct db_ca *ca, const char *action,
		 struct rest_what *w);
/* The permission-table object of ca. */
int api_ca_object(const struct db_ca *ca, struct perm_object *o);
/*
 * Loads the CA of the request's {id} capture and asks whether p may
 * perform act on it (a refusal is audited as action): 404 when there is
 * none or p may not know of it.
 */
int api_ca_load(struct hctx *c, struct db *db, const struct request *req,
		const struct principal *p, enum perm_action act,
		const char *action, struct db_ca **out,
		struct jsonval_error *e);
/*
 * The row hooks of a CA (struct rest_entity_ops; a row is a struct
 * db_ca): read, ETag, audit names, place, JSON, state.  A missing CA is
 * 404 naming "id".
 */
extern const struct rest_entity_ops api_ca_rows;
/* Answers status (201 adds Location) with CA id as it is now. */
int api_ca_send(struct db *db, int64_t id, int status, struct resp *rs);
/*
 * After a change to the set of active CAs with a certificate: rewrites
 * the web server's client-CA file and starts web_reload_command, or logs
 * why it cannot (pki/ca.h); never fails the request, which is done.
 */
void api_ca_web_refresh(struct hctx *c);

#endif
