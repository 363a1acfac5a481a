-- Estuary schema, part 7: report views that a tenant's auditors can be
-- given.  The report endpoints (fcgi/api_report.c) show a Tenant Admin or
-- Tenant Auditor only its own tenant's figures, so every report view needs
-- the tenant of what it counts.  Two views of db/views-report.sql lacked
-- it; this migration replaces them, and views-report.sql (applied after the
-- migrations by tools/mariadb.sh) defines them identically, so the two
-- never disagree.  The columns they had keep their names and positions;
-- new columns come last (the views are an interface: docs/reports.md).
--
-- Run by the migration account, which becomes the views' DEFINER (no
-- DEFINER clause: the account's name is the installer's choice).

-- Certificates per issuing CA, status and tenant of the certificate.
CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_certificates_by_ca AS
SELECT c.ca_id AS ca_id,
	a.name AS ca_name,
	CASE WHEN c.status = 'active' AND c.not_after < UTC_TIMESTAMP()
		THEN 'expired' ELSE c.status END AS status,
	COUNT(*) AS certificates,
	c.tenant_id AS tenant_id,
	t.name AS tenant_name
FROM certificates c
JOIN cas a ON a.id = c.ca_id
LEFT JOIN tenants t ON t.id = c.tenant_id
GROUP BY c.ca_id, a.name, 3, c.tenant_id, t.name;

-- Devices per device type and tenant of the devices.  A global device
-- type used in several tenants has one row per tenant; a type without
-- devices has one row with zero counts under its own tenant (NULL for a
-- global type).
CREATE OR REPLACE SQL SECURITY DEFINER VIEW report_devices_by_type AS
SELECT dt.id AS device_type_id,
	dt.name AS device_type_name,
	COALESCE(d.tenant_id, dt.tenant_id) AS tenant_id,
	t.name AS tenant_name,
	COUNT(d.id) AS devices,
	COALESCE(SUM(d.mode = 'NEW'), 0) AS devices_new,
	COALESCE(SUM(d.mode = 'FACTORY'), 0) AS devices_factory,
	COALESCE(SUM(d.mode = 'OPERATIONAL'), 0) AS devices_operational,
	COALESCE(SUM(d.mode = 'DISABLED'), 0) AS devices_disabled,
	dt.scope AS device_type_scope,
	dt.tenant_id AS device_type_tenant_id
FROM device_types dt
LEFT JOIN devices d ON d.device_type_id = dt.id
LEFT JOIN tenants t ON t.id = COALESCE(d.tenant_id, dt.tenant_id)
GROUP BY dt.id, dt.name, COALESCE(d.tenant_id, dt.tenant_id), t.name,
	dt.scope, dt.tenant_id;
