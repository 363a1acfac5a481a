-- Estuary schema, part 1: who may act.  Tenants, organizations, users,
-- sessions, login throttling, API applications and the audit log.
--
-- Conventions of every migration:
--  * InnoDB, utf8mb4; names compare case-insensitively (utf8mb4_unicode_ci),
--    digests, keys and identifiers that must match exactly are BINARY or
--    use a _bin collation.
--  * Ids are BIGINT UNSIGNED AUTO_INCREMENT.  Times are UTC (the data layer
--    sets time_zone = '+00:00' on every connection).
--  * An organization-scoped row names its tenant too, and the pair
--    (org_id, tenant_id) is a foreign key to organizations (id, tenant_id),
--    so a row can never point at an organization of another tenant.
--  * Shareable entities carry an accessibility scope (global, tenant,
--    organization) with a CHECK that the tenant and organization columns
--    agree with it.
--  * Deleting a parent that is still referenced fails (RESTRICT) unless the
--    child only describes the parent (fields, links, values): those
--    cascade.
--  * A statement ends with ";" at the end of a line; "DELIMITER xx" lines
--    change that for a trigger body (the rules: db/dbpriv.h).

CREATE TABLE tenants (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	name VARCHAR(128) NOT NULL,
	description VARCHAR(1024) NULL,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY tenants_name (name),
	KEY tenants_active (active, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE organizations (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	tenant_id BIGINT UNSIGNED NOT NULL,
	name VARCHAR(128) NOT NULL,
	description VARCHAR(1024) NULL,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY organizations_name (tenant_id, name),
	-- The target of every (org_id, tenant_id) foreign key.
	UNIQUE KEY organizations_tenant (id, tenant_id),
	KEY organizations_active (tenant_id, active, name),
	CONSTRAINT organizations_tenant_fk FOREIGN KEY (tenant_id)
		REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Admin and Auditor belong to no tenant; the three tenant roles to one
-- tenant; an Organization Operator to one organization of its tenant.
-- password_hash is an encoded string (argon2id "$argon2id$v=19$m=...")
-- that carries its own parameters, so they can be raised later.
CREATE TABLE users (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	username VARCHAR(64) NOT NULL,
	full_name VARCHAR(255) NULL,
	email VARCHAR(254) NULL,
	password_hash TEXT NOT NULL,
	role ENUM('admin', 'auditor', 'tenant_admin', 'tenant_auditor',
		'tenant_operator', 'org_operator') NOT NULL,
	tenant_id BIGINT UNSIGNED NULL,
	org_id BIGINT UNSIGNED NULL,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	-- Strong authentication: SHA-256 of the DER client certificate that
	-- must accompany the password.
	cert_fingerprint BINARY(32) NULL,
	failed_logins INT UNSIGNED NOT NULL DEFAULT 0,
	locked_until DATETIME(6) NULL,
	last_login_at DATETIME(6) NULL,
	last_login_addr VARCHAR(45) NULL,
	password_changed_at DATETIME(6) NOT NULL
		DEFAULT CURRENT_TIMESTAMP(6),
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY users_username (username),
	UNIQUE KEY users_cert (cert_fingerprint),
	KEY users_tenant (tenant_id, org_id, username),
	KEY users_role (role),
	CONSTRAINT users_tenant_fk FOREIGN KEY (tenant_id)
		REFERENCES tenants (id),
	CONSTRAINT users_org_fk FOREIGN KEY (org_id, tenant_id)
		REFERENCES organizations (id, tenant_id),
	CONSTRAINT users_role_scope CHECK (
		(role IN ('admin', 'auditor') AND tenant_id IS NULL AND
		    org_id IS NULL) OR
		(role IN ('tenant_admin', 'tenant_auditor', 'tenant_operator')
		    AND tenant_id IS NOT NULL AND org_id IS NULL) OR
		(role = 'org_operator' AND tenant_id IS NOT NULL AND
		    org_id IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Portal sessions.  Only digests of the session and CSRF tokens are
-- stored, so a copy of the table does not let anyone in.  expires_at is the
-- absolute timeout; the idle timeout is measured from last_seen_at.
CREATE TABLE sessions (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	token_hash BINARY(32) NOT NULL,
	csrf_hash BINARY(32) NOT NULL,
	user_id BIGINT UNSIGNED NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	last_seen_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	expires_at DATETIME(6) NOT NULL,
	source_addr VARCHAR(45) NULL,
	user_agent VARCHAR(255) NULL,
	-- Set when the password and client certificate were both checked.
	strong_auth BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (id),
	UNIQUE KEY sessions_token (token_hash),
	KEY sessions_user (user_id),
	KEY sessions_expires (expires_at),
	CONSTRAINT sessions_user_fk FOREIGN KEY (user_id)
		REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per login attempt, for throttling per account and per source
-- address over a sliding window; old rows are swept.  username is what was
-- typed (it may name no user), so it has no foreign key.
CREATE TABLE login_attempts (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	ts DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	username VARCHAR(64) NOT NULL,
	source_addr VARCHAR(45) NOT NULL,
	success BOOLEAN NOT NULL,
	PRIMARY KEY (id),
	KEY login_attempts_user (username, ts),
	KEY login_attempts_addr (source_addr, ts),
	KEY login_attempts_ts (ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- API applications (the guide's "API access keys"): AppID and AppKey for
-- HTTP Basic on the REST API and on EST, optionally a TLS client
-- certificate.  The AppKey is shown once and stored only as key_hash.  The
-- certificate's PKCS#12 may be downloaded once: pfx holds it (encrypted
-- under a passphrase the user chose, or wrapped by the signer) until then.
-- certificate_id gets its foreign key in 003_certificates.sql, where the
-- certificates table exists.
CREATE TABLE api_applications (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	app_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	name VARCHAR(128) NOT NULL,
	description VARCHAR(1024) NULL,
	key_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	tenant_id BIGINT UNSIGNED NOT NULL,
	org_id BIGINT UNSIGNED NULL,
	role ENUM('tenant_admin', 'tenant_auditor', 'tenant_operator',
		'org_operator') NOT NULL,
	cert_fingerprint BINARY(32) NULL,
	certificate_id BIGINT UNSIGNED NULL,
	pfx MEDIUMBLOB NULL,
	pfx_downloaded_at DATETIME(6) NULL,
	pfx_expires_at DATETIME(6) NULL,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	expires_at DATETIME(6) NULL,
	rotated_at DATETIME(6) NULL,
	revoked_at DATETIME(6) NULL,
	last_used_at DATETIME(6) NULL,
	created_by_user_id BIGINT UNSIGNED NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY api_applications_app_id (app_id),
	UNIQUE KEY api_applications_name (tenant_id, name),
	UNIQUE KEY api_applications_cert (cert_fingerprint),
	KEY api_applications_org (org_id, tenant_id),
	KEY api_applications_certificate (certificate_id),
	KEY api_applications_expires (expires_at),
	CONSTRAINT api_applications_tenant_fk FOREIGN KEY (tenant_id)
		REFERENCES tenants (id),
	CONSTRAINT api_applications_org_fk FOREIGN KEY (org_id, tenant_id)
		REFERENCES organizations (id, tenant_id),
	CONSTRAINT api_applications_creator_fk FOREIGN KEY
		(created_by_user_id) REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT api_applications_role_scope CHECK (
		role <> 'org_operator' OR org_id IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The audit log.  The application account may only INSERT and SELECT
-- here (db/grants-app.sql).  Each row carries the SHA-256 of its content
-- and of the row before it (prev_hash), so a changed or deleted row breaks
-- the chain.  Rows outlive what they describe: there are no foreign keys,
-- and actor_name and entity_name keep the names as they were.  details is
-- a compact JSON before/after of the changed fields, never a secret.
CREATE TABLE audit_log (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	ts DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	actor_type ENUM('user', 'application', 'device', 'system') NOT NULL,
	actor_id BIGINT UNSIGNED NULL,
	actor_name VARCHAR(255) NULL,
	tenant_id BIGINT UNSIGNED NULL,
	org_id BIGINT UNSIGNED NULL,
	entity VARCHAR(32) NOT NULL,
	entity_id BIGINT UNSIGNED NULL,
	entity_name VARCHAR(255) NULL,
	action VARCHAR(32) NOT NULL,
	outcome ENUM('success', 'failure', 'denied') NOT NULL,
	reason VARCHAR(255) NULL,
	source_addr VARCHAR(45) NULL,
	details LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
	prev_hash BINARY(32) NOT NULL,
	row_hash BINARY(32) NOT NULL,
	PRIMARY KEY (id),
	UNIQUE KEY audit_log_row_hash (row_hash),
	KEY audit_log_ts (ts),
	KEY audit_log_tenant (tenant_id, ts),
	KEY audit_log_actor (actor_type, actor_id, ts),
	KEY audit_log_entity (entity, entity_id, ts),
	KEY audit_log_action (action, ts),
	KEY audit_log_outcome (outcome, ts),
	CONSTRAINT audit_log_details_json CHECK (
		details IS NULL OR JSON_VALID(details))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
