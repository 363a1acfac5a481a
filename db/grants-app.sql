-- Rights of the application account 'estuary_app'@'localhost' (db_user in
-- estuary.conf), used by estuary-api, estuary-est and estuaryctl for
-- everything but migrations: data manipulation only, table by table, and
-- no DDL.  The audit log is append-only for it (SELECT, INSERT), the
-- migration record and the report views are read-only.
--
-- Every table of the schema must appear here: tests/unit/test_dbgrants.c
-- fails when one is missing.  A migration that adds a table adds its line
-- here.
--
-- tools/mariadb.sh (mariadb_grant) applies this file as the MariaDB root
-- after the migrations and views-report.sql, with the Estuary database as
-- the default database (table names are unqualified).  The REVOKE first
-- makes the file the whole truth: re-applying it removes any right granted
-- by hand or by an older version of this file.

REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'estuary_app'@'localhost';

-- Append-only and read-only tables.
GRANT SELECT, INSERT ON audit_log TO 'estuary_app'@'localhost';
GRANT SELECT ON schema_migrations TO 'estuary_app'@'localhost';

-- The audit chain's head (db/006_audit.sql) is a lock and a cache that
-- verification never trusts.  Appending needs only to lock and move it, so
-- the account gets SELECT and UPDATE: it can neither remove the head nor
-- add a second one.
GRANT SELECT, UPDATE ON audit_head
	TO 'estuary_app'@'localhost';
-- Both halves of an append in one call (db/011_audit_append.sql); it runs
-- with the caller's rights, the two above.
GRANT EXECUTE ON PROCEDURE audit_append_row TO 'estuary_app'@'localhost';

-- Report views (db/views-report.sql), for the report endpoints.
GRANT SELECT ON report_certificates_by_status TO 'estuary_app'@'localhost';
GRANT SELECT ON report_certificates_by_ca TO 'estuary_app'@'localhost';
GRANT SELECT ON report_certificates_expiring TO 'estuary_app'@'localhost';
GRANT SELECT ON report_devices_by_mode TO 'estuary_app'@'localhost';
GRANT SELECT ON report_devices_by_type TO 'estuary_app'@'localhost';
GRANT SELECT ON report_enrollments_per_day TO 'estuary_app'@'localhost';

-- Everything else: SELECT, INSERT, UPDATE, DELETE.
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON organizations
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON users
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON login_attempts
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON api_applications
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON cas
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON custom_extensions
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON cert_templates
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON cert_template_subject_fields
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON cert_template_san_fields
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON cert_template_extensions
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON external_cas
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON device_types
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON device_type_op_templates
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON device_type_properties
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON device_type_attributes
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON device_type_mappings
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON devices
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON device_attributes
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON device_credentials
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON certificates
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON batch_jobs
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON batch_items
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON est_domains
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON est_servers
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON est_server_ip_allow
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON est_labels
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON est_server_templates
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON est_server_apps
	TO 'estuary_app'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON est_enrollments
	TO 'estuary_app'@'localhost';
