/*
 * Batch jobs of estuary-api (guide §1, "Batch Generation"): creating a
 * job is fcgi/api_batch_create.c, everything else fcgi/api_batch.c;
 * estuary-worker runs the jobs (pki/batch_run.h).  docs/openapi.yaml
 * describes requests and responses.
 *
 *	GET	/api/v1/batch-jobs			list (status,
 *							template_id, ...)
 *	POST	/api/v1/batch-jobs			create: 202 Accepted
 *	GET	/api/v1/batch-jobs/{id}			progress and state
 *	GET	/api/v1/batch-jobs/{id}/items		the items, paginated
 *	POST	/api/v1/batch-jobs/{id}/cancel		cancel
 *	POST	/api/v1/batch-jobs/{id}/archive		the result archive
 *							(application/zip)
 *
 * A job belongs to a tenant and an organization (or to neither, for an
 * Admin's job from a global template), as its certificates do; its
 * tenant_id and org_id decide who sees it (lib/perm.c, "batch_job").  The
 * archive holds private keys, so it is a download (POST), allowed to the
 * roles with the batch_job download right, and audited.
 */
#ifndef ESTUARY_API_BATCH_H
#define ESTUARY_API_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "rest.h"
#include "route.h"

struct db;
struct db_result;
struct json_object;

#define API_BATCH_BASE "/api/v1/batch-jobs"

int api_batch_r_list(struct hctx *c, const struct request *req,
		     struct resp *rs);
int api_batch_r_create(struct hctx *c, const struct request *req,
		       struct resp *rs);
int api_batch_r_get(struct hctx *c, const struct request *req, struct resp *rs);
int api_batch_r_items(struct hctx *c, const struct request *req,
		      struct resp *rs);
int api_batch_r_cancel(struct hctx *c, const struct request *req,
		       struct resp *rs);
int api_batch_r_archive(struct hctx *c, const struct request *req,
			struct resp *rs);

/* The rows of estuary-api's route table (fcgi/api_routes.c). */
#define API_BATCH_ROUTES                                                       \
	{REQ_M_GET, API_BATCH_BASE, api_batch_r_list},                         \
		{REQ_M_POST, API_BATCH_BASE, api_batch_r_create},              \
		{REQ_M_GET, API_BATCH_BASE "/{id}", api_batch_r_get},          \
		{REQ_M_GET, API_BATCH_BASE "/{id}/items", api_batch_r_items},  \
		{REQ_M_POST, API_BATCH_BASE "/{id}/cancel",                    \
		 api_batch_r_cancel},                                          \
	{                                                                      \
		REQ_M_POST, API_BATCH_BASE "/{id}/archive",                    \
			api_batch_r_archive                                    \
	}

/* ------------------------------------------------------------------ */
/* Shared by the api_batch*.c files */

/* The JSON of the job in row row of res (db/dbbatch.h columns). */
int api_batch_json(const struct db_result *res, size_t row,
		   struct json_object **out);
int api_batch_etag(const struct db_result *res, char etag[REST_ETAG_MAX]);
/* What the audit row of an action on the job of res (may be NULL) names. */
void api_batch_what(const struct db_result *res, const char *action,
		    struct rest_what *w);
/* Answers status with job id's JSON, ETag and (for 202) its Location. */
int api_batch_send(struct db *db, int64_t id, int status, struct resp *rs);

#endif
