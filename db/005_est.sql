-- Estuary schema, part 5: EST servers (guide §2.3) and the record of
-- enrollments.

-- EST servers are routed by the request's host name (domain).  One domain
-- may serve several organizations of one tenant, never two tenants; the
-- data layer checks the tenant rule, the index makes the lookup cheap.
-- kind 'dps' serves devices through a device type; 'cms' serves factory
-- applications through est_server_templates and est_server_apps.
CREATE TABLE est_servers (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_general_ci
		NOT NULL,
	description VARCHAR(1024) NULL,
	tenant_id BIGINT UNSIGNED NOT NULL,
	org_id BIGINT UNSIGNED NOT NULL,
	kind ENUM('dps', 'cms') NOT NULL DEFAULT 'dps',
	device_type_id BIGINT UNSIGNED NULL,
	server_keygen BOOLEAN NOT NULL DEFAULT FALSE,
	auth_device_password BOOLEAN NOT NULL DEFAULT FALSE,
	auth_factory_cert BOOLEAN NOT NULL DEFAULT FALSE,
	auth_app_key BOOLEAN NOT NULL DEFAULT FALSE,
	auth_app_cert BOOLEAN NOT NULL DEFAULT FALSE,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_by_user_id BIGINT UNSIGNED NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY est_servers_domain_org (domain, org_id),
	-- The target of est_labels' (server_id, domain).
	UNIQUE KEY est_servers_id_domain (id, domain),
	KEY est_servers_domain (domain, active),
	KEY est_servers_org (org_id, tenant_id),
	KEY est_servers_tenant (tenant_id, org_id),
	KEY est_servers_device_type (device_type_id),
	CONSTRAINT est_servers_tenant_fk FOREIGN KEY (tenant_id)
		REFERENCES tenants (id),
	CONSTRAINT est_servers_org_fk FOREIGN KEY (org_id, tenant_id)
		REFERENCES organizations (id, tenant_id),
	CONSTRAINT est_servers_device_type_fk FOREIGN KEY (device_type_id)
		REFERENCES device_types (id),
	CONSTRAINT est_servers_creator_fk FOREIGN KEY (created_by_user_id)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT est_servers_kind CHECK (
		kind = 'cms' OR device_type_id IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- IP allow list of a server: entry is what the user wrote (address, CIDR,
-- range a-b, address/netmask); start_addr..end_addr is the parsed range in
-- network byte order, 4 bytes for IPv4 and 16 for IPv6.
CREATE TABLE est_server_ip_allow (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	server_id BIGINT UNSIGNED NOT NULL,
	position SMALLINT UNSIGNED NOT NULL,
	entry VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	start_addr VARBINARY(16) NOT NULL,
	end_addr VARBINARY(16) NOT NULL,
	PRIMARY KEY (id),
	UNIQUE KEY est_server_ip_allow_pos (server_id, position),
	CONSTRAINT est_server_ip_allow_server_fk FOREIGN KEY (server_id)
		REFERENCES est_servers (id) ON DELETE CASCADE,
	CONSTRAINT est_server_ip_allow_range CHECK (
		LENGTH(start_addr) IN (4, 16) AND
		LENGTH(end_addr) = LENGTH(start_addr) AND
		start_addr <= end_addr)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Arbitrary labels (/.well-known/est/<label>/...): unique per domain,
-- each bound to a device type (dps) or a template (cms).  domain follows
-- the server's domain through the (server_id, domain) foreign key.
CREATE TABLE est_labels (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	server_id BIGINT UNSIGNED NOT NULL,
	domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_general_ci
		NOT NULL,
	label VARCHAR(24) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	device_type_id BIGINT UNSIGNED NULL,
	template_id BIGINT UNSIGNED NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY est_labels_label (domain, label),
	KEY est_labels_server (server_id, domain),
	KEY est_labels_device_type (device_type_id),
	KEY est_labels_template (template_id),
	CONSTRAINT est_labels_server_fk FOREIGN KEY (server_id, domain)
		REFERENCES est_servers (id, domain)
		ON DELETE CASCADE ON UPDATE CASCADE,
	CONSTRAINT est_labels_device_type_fk FOREIGN KEY (device_type_id)
		REFERENCES device_types (id),
	CONSTRAINT est_labels_template_fk FOREIGN KEY (template_id)
		REFERENCES cert_templates (id),
	CONSTRAINT est_labels_syntax CHECK (
		label REGEXP '^[a-z0-9]{3,24}$'),
	CONSTRAINT est_labels_target CHECK (
		(device_type_id IS NULL) <> (template_id IS NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Templates a 'cms' server issues from, ordered, with one default.
CREATE TABLE est_server_templates (
	server_id BIGINT UNSIGNED NOT NULL,
	template_id BIGINT UNSIGNED NOT NULL,
	position SMALLINT UNSIGNED NOT NULL,
	is_default BOOLEAN NOT NULL DEFAULT FALSE,
	default_key BIGINT UNSIGNED AS (IF(is_default, server_id, NULL))
		PERSISTENT,
	PRIMARY KEY (server_id, template_id),
	UNIQUE KEY est_server_templates_pos (server_id, position),
	UNIQUE KEY est_server_templates_default (default_key),
	KEY est_server_templates_template (template_id),
	CONSTRAINT est_server_templates_server_fk FOREIGN KEY (server_id)
		REFERENCES est_servers (id) ON DELETE CASCADE,
	CONSTRAINT est_server_templates_template_fk FOREIGN KEY (template_id)
		REFERENCES cert_templates (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- API applications (factory applications) a server accepts.
CREATE TABLE est_server_apps (
	server_id BIGINT UNSIGNED NOT NULL,
	app_id BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (server_id, app_id),
	KEY est_server_apps_app (app_id),
	CONSTRAINT est_server_apps_server_fk FOREIGN KEY (server_id)
		REFERENCES est_servers (id) ON DELETE CASCADE,
	CONSTRAINT est_server_apps_app_fk FOREIGN KEY (app_id)
		REFERENCES api_applications (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per EST (or reduced REST) enrollment attempt, success or not:
-- the source of the "enrollments per day" report.  Like the audit log it
-- keeps names (domain, label) so that rows outlive the server; links to
-- rows that are deleted become NULL.
CREATE TABLE est_enrollments (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	ts DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	tenant_id BIGINT UNSIGNED NULL,
	org_id BIGINT UNSIGNED NULL,
	server_id BIGINT UNSIGNED NULL,
	domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_general_ci
		NOT NULL,
	label VARCHAR(24) CHARACTER SET ascii COLLATE ascii_bin NULL,
	operation ENUM('simpleenroll', 'simplereenroll', 'serverkeygen',
		'rest') NOT NULL,
	auth_method ENUM('none', 'device_password', 'factory_cert',
		'operational_cert', 'app_key', 'app_cert') NOT NULL,
	outcome ENUM('success', 'failure', 'denied') NOT NULL,
	reason VARCHAR(255) NULL,
	device_id BIGINT UNSIGNED NULL,
	device_created BOOLEAN NOT NULL DEFAULT FALSE,
	app_id BIGINT UNSIGNED NULL,
	certificate_id BIGINT UNSIGNED NULL,
	source_addr VARCHAR(45) NULL,
	PRIMARY KEY (id),
	KEY est_enrollments_ts (ts),
	KEY est_enrollments_tenant (tenant_id, ts),
	KEY est_enrollments_server (server_id, ts),
	KEY est_enrollments_device (device_id, ts),
	KEY est_enrollments_app (app_id),
	KEY est_enrollments_certificate (certificate_id),
	CONSTRAINT est_enrollments_server_fk FOREIGN KEY (server_id)
		REFERENCES est_servers (id) ON DELETE SET NULL,
	CONSTRAINT est_enrollments_device_fk FOREIGN KEY (device_id)
		REFERENCES devices (id) ON DELETE SET NULL,
	CONSTRAINT est_enrollments_app_fk FOREIGN KEY (app_id)
		REFERENCES api_applications (id) ON DELETE SET NULL,
	CONSTRAINT est_enrollments_certificate_fk FOREIGN KEY (certificate_id)
		REFERENCES certificates (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
