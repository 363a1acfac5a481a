-- Report views: plain SQL that the read-only account estuary_report
-- (db/grants-report.sql) and the application's report endpoints both read.
-- Auditors query them directly, so their names and columns are an
-- interface: add columns freely, rename or drop one only with the docs.
-- tests/unit/test_dbgrants.c lists every view; test_dbq.c checks figures.
--
-- Applied by tools/mariadb.sh (mariadb_grant) as the MariaDB root after
-- the migrations, with the Estuary database as the default database.
-- The views run with the rights of the migration account estuary_admin
-- (SQL SECURITY DEFINER), which owns the schema, so a reader needs SELECT
-- on the view only.  Times are UTC; "now" is UTC_TIMESTAMP(), which does
-- not depend on the session time zone.
--
-- A certificate whose status is still 'active' after its notAfter counts
-- as 'expired' here, whether or not the expiry sweep has run yet.

-- Certificates per tenant and status (active, revoked, expired).
CREATE OR REPLACE DEFINER = 'estuary_admin'@'localhost'
	SQL SECURITY DEFINER VIEW report_certificates_by_status AS
SELECT c.tenant_id AS tenant_id,
	t.name AS tenant_name,
	CASE WHEN c.status = 'active' AND c.not_after < UTC_TIMESTAMP()
		THEN 'expired' ELSE c.status END AS status,
	COUNT(*) AS certificates
FROM certificates c
LEFT JOIN tenants t ON t.id = c.tenant_id
GROUP BY c.tenant_id, t.name, 3;

-- Certificates per issuing CA, status and tenant of the certificate
-- (also in db/007_report_views.sql: keep the two identical).
CREATE OR REPLACE DEFINER = 'estuary_admin'@'localhost'
	SQL SECURITY DEFINER VIEW report_certificates_by_ca AS
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

-- Active certificates that have not expired yet, with the time left.
-- "Expiring within 30 days":
--   SELECT * FROM report_certificates_expiring WHERE days_left < 30;
-- or, using the index on not_after:
--   ... WHERE not_after < UTC_TIMESTAMP() + INTERVAL 30 DAY;
CREATE OR REPLACE ALGORITHM = MERGE DEFINER = 'estuary_admin'@'localhost'
	SQL SECURITY DEFINER VIEW report_certificates_expiring AS
SELECT c.id AS certificate_id,
	c.ca_id AS ca_id,
	a.name AS ca_name,
	LOWER(HEX(c.serial)) AS serial,
	c.subject AS subject,
	c.kind AS kind,
	c.not_before AS not_before,
	c.not_after AS not_after,
	TIMESTAMPDIFF(DAY, UTC_TIMESTAMP(), c.not_after) AS days_left,
	c.template_id AS template_id,
	tp.name AS template_name,
	c.device_id AS device_id,
	d.name AS device_name,
	c.tenant_id AS tenant_id,
	t.name AS tenant_name,
	c.org_id AS org_id,
	o.name AS org_name
FROM certificates c
JOIN cas a ON a.id = c.ca_id
LEFT JOIN cert_templates tp ON tp.id = c.template_id
LEFT JOIN devices d ON d.id = c.device_id
LEFT JOIN tenants t ON t.id = c.tenant_id
LEFT JOIN organizations o ON o.id = c.org_id
WHERE c.status = 'active' AND c.not_after >= UTC_TIMESTAMP();

-- Devices per tenant, organization and mode.
CREATE OR REPLACE DEFINER = 'estuary_admin'@'localhost'
	SQL SECURITY DEFINER VIEW report_devices_by_mode AS
SELECT d.tenant_id AS tenant_id,
	t.name AS tenant_name,
	d.org_id AS org_id,
	o.name AS org_name,
	d.mode AS mode,
	COUNT(*) AS devices
FROM devices d
JOIN tenants t ON t.id = d.tenant_id
JOIN organizations o ON o.id = d.org_id
GROUP BY d.tenant_id, t.name, d.org_id, o.name, d.mode;

-- Devices per device type and tenant of the devices, in all and per
-- mode.  A global device type used in several tenants has one row per
-- tenant; a type without devices has one row with zero counts under its
-- own tenant (NULL for a global type).  Also in db/007_report_views.sql:
-- keep the two identical.
CREATE OR REPLACE DEFINER = 'estuary_admin'@'localhost'
	SQL SECURITY DEFINER VIEW report_devices_by_type AS
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

-- EST and reduced-REST enrollments per UTC day, tenant, domain and
-- outcome.
CREATE OR REPLACE DEFINER = 'estuary_admin'@'localhost'
	SQL SECURITY DEFINER VIEW report_enrollments_per_day AS
SELECT CAST(e.ts AS DATE) AS day,
	e.tenant_id AS tenant_id,
	t.name AS tenant_name,
	e.domain AS domain,
	e.outcome AS outcome,
	COUNT(*) AS enrollments,
	COALESCE(SUM(e.device_created), 0) AS devices_created
FROM est_enrollments e
LEFT JOIN tenants t ON t.id = e.tenant_id
GROUP BY 1, e.tenant_id, t.name, e.domain, e.outcome;
