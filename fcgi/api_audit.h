/*
 * The audit log's endpoints of estuary-api (fcgi/api_audit.c):
 *
 *	GET /api/v1/audit-logs		a page of rows, newest first
 *	GET /api/v1/audit-logs/export	the matching rows as CSV
 *
 * Both take the same filters (from, to, actor_type, actor_id, actor_name,
 * tenant_id, org_id, entity, entity_id, action, outcome) and show an Admin
 * or Auditor every row, a Tenant Admin or Tenant Auditor the rows of its
 * tenant, and refuse everyone else (lib/perm.h).  An export is audited
 * itself, with the action "export".
 */
#ifndef ESTUARY_API_AUDIT_H
#define ESTUARY_API_AUDIT_H

#include "auth.h"
#include "route.h"

/* The most rows one export holds; a client continues with X-Next-Cursor. */
#define API_AUDIT_EXPORT_ROWS 100000
/* The most bytes of CSV one export holds (BUF_SIZE_MAX). */
#define API_AUDIT_EXPORT_BYTES (16u * 1024 * 1024)

int api_audit_list(struct hctx *c, const struct request *req,
		   const struct principal *p, struct resp *rs);
int api_audit_export(struct hctx *c, const struct request *req,
		     const struct principal *p, struct resp *rs);

#endif
