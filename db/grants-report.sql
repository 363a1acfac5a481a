-- Rights of the read-only reporting account 'estuary_report'@'localhost':
-- SELECT on the report views (db/views-report.sql) and nothing else, so it
-- sees figures, never keys, hashes or personal data beyond names.
--
-- tools/mariadb.sh creates the account with its password, then applies this
-- file as the MariaDB root with the Estuary database as the default
-- database (table names here are unqualified).  The REVOKE first makes the
-- file the whole truth: re-applying it removes any right granted by hand.

REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'estuary_report'@'localhost';

GRANT SELECT ON report_certificates_by_status TO 'estuary_report'@'localhost';
GRANT SELECT ON report_certificates_by_ca TO 'estuary_report'@'localhost';
GRANT SELECT ON report_certificates_expiring TO 'estuary_report'@'localhost';
GRANT SELECT ON report_devices_by_mode TO 'estuary_report'@'localhost';
GRANT SELECT ON report_devices_by_type TO 'estuary_report'@'localhost';
GRANT SELECT ON report_enrollments_per_day TO 'estuary_report'@'localhost';
