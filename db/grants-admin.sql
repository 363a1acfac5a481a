-- Rights of the migration account 'estuary_admin'@'localhost' (db_admin_user
-- in estuary.conf): everything on the Estuary database and nothing outside
-- it.  It creates and alters the schema (db_migrate) and is the DEFINER
-- of the report views.
--
-- tools/mariadb.sh (mariadb_bootstrap) creates the account with its
-- password, then applies this file as the MariaDB root with the Estuary
-- database as the default database: "ON *" then means every table of that
-- database (and fails with "No database selected" otherwise).

GRANT ALL PRIVILEGES ON * TO 'estuary_admin'@'localhost';
