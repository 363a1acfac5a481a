/*
 * The report endpoints of estuary-api (fcgi/api_report.c), one per report
 * of db/report.h:
 *
 *	GET /api/v1/reports/certificates-by-status
 *	GET /api/v1/reports/certificates-by-ca
 *	GET /api/v1/reports/certificates-expiring?days=N
 *	GET /api/v1/reports/devices-by-mode
 *	GET /api/v1/reports/devices-by-type
 *	GET /api/v1/reports/enrollments-per-day?from=YYYY-MM-DD&to=YYYY-MM-DD
 *
 * JSON by default, CSV with ?format=csv; every report takes tenant_id to
 * narrow an Admin's or Auditor's report to one tenant.  docs/reports.md
 * describes each report and the SQL behind it.
 */
#ifndef ESTUARY_API_REPORT_H
#define ESTUARY_API_REPORT_H

#include "auth.h"
#include "route.h"

/* certificates-expiring without days, enrollments-per-day without from. */
#define API_REPORT_DAYS_DEFAULT 30

int api_report_certs_by_status(struct hctx *c, const struct request *req,
			       const struct principal *p, struct resp *rs);
int api_report_certs_by_ca(struct hctx *c, const struct request *req,
			   const struct principal *p, struct resp *rs);
int api_report_certs_expiring(struct hctx *c, const struct request *req,
			      const struct principal *p, struct resp *rs);
int api_report_devices_by_mode(struct hctx *c, const struct request *req,
			       const struct principal *p, struct resp *rs);
int api_report_devices_by_type(struct hctx *c, const struct request *req,
			       const struct principal *p, struct resp *rs);
int api_report_enrollments_per_day(struct hctx *c, const struct request *req,
				   const struct principal *p, struct resp *rs);

#endif
