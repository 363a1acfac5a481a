-- Estuary schema, part 3: the device registry (guide §2.1, §2.2, §2.4):
-- external CAs, device types with their templates, mappings, properties
-- and attributes, devices, and device credentials.

-- External CAs that issue factory certificates.  A device type may use
-- only a verified, active one.  Proof of possession: the owner signs a
-- certificate whose subject CN is verification_code before it expires.
CREATE TABLE external_cas (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	name VARCHAR(128) NOT NULL,
	description VARCHAR(1024) NULL,
	tenant_id BIGINT UNSIGNED NOT NULL,
	org_id BIGINT UNSIGNED NULL,
	cert_der BLOB NOT NULL,
	subject VARCHAR(1024) NOT NULL,
	subject_hash BINARY(32) NOT NULL,
	ski VARBINARY(64) NULL,
	fingerprint BINARY(32) NOT NULL,
	not_before DATETIME NOT NULL,
	not_after DATETIME NOT NULL,
	status ENUM('unverified', 'verified') NOT NULL DEFAULT 'unverified',
	active BOOLEAN NOT NULL DEFAULT TRUE,
	verification_code VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin
		NULL,
	verification_expires_at DATETIME(6) NULL,
	verified_at DATETIME(6) NULL,
	verified_by_user_id BIGINT UNSIGNED NULL,
	created_by_user_id BIGINT UNSIGNED NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY external_cas_name (name),
	UNIQUE KEY external_cas_cert (tenant_id, fingerprint),
	KEY external_cas_org (org_id, tenant_id),
	KEY external_cas_subject_hash (subject_hash),
	KEY external_cas_fingerprint (fingerprint),
	KEY external_cas_status (status, active),
	CONSTRAINT external_cas_tenant_fk FOREIGN KEY (tenant_id)
		REFERENCES tenants (id),
	CONSTRAINT external_cas_org_fk FOREIGN KEY (org_id, tenant_id)
		REFERENCES organizations (id, tenant_id),
	CONSTRAINT external_cas_verifier_fk FOREIGN KEY (verified_by_user_id)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT external_cas_creator_fk FOREIGN KEY (created_by_user_id)
		REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Device types.  The factory certificate comes from an internal factory
-- template (factory_source 'internal') or from a verified external CA
-- ('external'); 'none' means the type has no factory certificate.
-- Renewal windows are "nearing expiry validity for renewal (hours)".
CREATE TABLE device_types (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	name VARCHAR(128) NOT NULL,
	description VARCHAR(1024) NULL,
	scope ENUM('global', 'tenant', 'organization') NOT NULL
		DEFAULT 'tenant',
	tenant_id BIGINT UNSIGNED NULL,
	org_id BIGINT UNSIGNED NULL,
	tenant_key BIGINT UNSIGNED AS (IFNULL(tenant_id, 0)) PERSISTENT,
	enforce_factory_mode BOOLEAN NOT NULL DEFAULT FALSE,
	dar BOOLEAN NOT NULL DEFAULT FALSE,
	use_cert_mapping BOOLEAN NOT NULL DEFAULT FALSE,
	factory_source ENUM('none', 'internal', 'external') NOT NULL
		DEFAULT 'none',
	factory_template_id BIGINT UNSIGNED NULL,
	external_ca_id BIGINT UNSIGNED NULL,
	op_renewal_hours INT UNSIGNED NULL,
	factory_renewal_hours INT UNSIGNED NULL,
	device_password_enabled BOOLEAN NOT NULL DEFAULT FALSE,
	password_retention_hours INT UNSIGNED NOT NULL DEFAULT 1,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_by_user_id BIGINT UNSIGNED NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY device_types_name (tenant_key, name),
	KEY device_types_scope (scope, tenant_id, org_id),
	KEY device_types_org (org_id, tenant_id),
	KEY device_types_factory_template (factory_template_id),
	KEY device_types_external_ca (external_ca_id),
	CONSTRAINT device_types_tenant_fk FOREIGN KEY (tenant_id)
		REFERENCES tenants (id),
	CONSTRAINT device_types_org_fk FOREIGN KEY (org_id, tenant_id)
		REFERENCES organizations (id, tenant_id),
	CONSTRAINT device_types_factory_template_fk FOREIGN KEY
		(factory_template_id) REFERENCES cert_templates (id),
	CONSTRAINT device_types_external_ca_fk FOREIGN KEY (external_ca_id)
		REFERENCES external_cas (id),
	CONSTRAINT device_types_creator_fk FOREIGN KEY (created_by_user_id)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT device_types_factory_source CHECK (
		(factory_source = 'none' AND factory_template_id IS NULL AND
		    external_ca_id IS NULL) OR
		(factory_source = 'internal' AND external_ca_id IS NULL) OR
		(factory_source = 'external' AND factory_template_id IS NULL)),
	CONSTRAINT device_types_retention CHECK (
		password_retention_hours > 0),
	CONSTRAINT device_types_scope_check CHECK (
		(scope = 'global' AND tenant_id IS NULL AND org_id IS NULL) OR
		(scope = 'tenant' AND tenant_id IS NOT NULL AND
		    org_id IS NULL) OR
		(scope = 'organization' AND tenant_id IS NOT NULL AND
		    org_id IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Operational templates of a device type, ordered; default_key makes
-- "at most one default per type" a unique constraint.
CREATE TABLE device_type_op_templates (
	device_type_id BIGINT UNSIGNED NOT NULL,
	template_id BIGINT UNSIGNED NOT NULL,
	position SMALLINT UNSIGNED NOT NULL,
	is_default BOOLEAN NOT NULL DEFAULT FALSE,
	default_key BIGINT UNSIGNED AS (IF(is_default, device_type_id, NULL))
		PERSISTENT,
	PRIMARY KEY (device_type_id, template_id),
	UNIQUE KEY device_type_op_templates_pos (device_type_id, position),
	UNIQUE KEY device_type_op_templates_default (default_key),
	KEY device_type_op_templates_template (template_id),
	CONSTRAINT device_type_op_templates_type_fk FOREIGN KEY
		(device_type_id) REFERENCES device_types (id) ON DELETE CASCADE,
	CONSTRAINT device_type_op_templates_template_fk FOREIGN KEY
		(template_id) REFERENCES cert_templates (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Device properties as configured by the type: default, required, fixed
-- (a fixed property always has its default).
CREATE TABLE device_type_properties (
	device_type_id BIGINT UNSIGNED NOT NULL,
	property ENUM('serial_number', 'model', 'hardware_version',
		'manufacturer', 'device_class', 'firmware',
		'descriptive_location') NOT NULL,
	default_value VARCHAR(255) NULL,
	required BOOLEAN NOT NULL DEFAULT FALSE,
	fixed BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (device_type_id, property),
	CONSTRAINT device_type_properties_type_fk FOREIGN KEY (device_type_id)
		REFERENCES device_types (id) ON DELETE CASCADE,
	CONSTRAINT device_type_properties_fixed CHECK (
		NOT fixed OR default_value IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Custom attributes defined by a device type.
CREATE TABLE device_type_attributes (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	device_type_id BIGINT UNSIGNED NOT NULL,
	position SMALLINT UNSIGNED NOT NULL,
	name VARCHAR(64) NOT NULL,
	type ENUM('string', 'integer', 'boolean', 'date') NOT NULL
		DEFAULT 'string',
	default_value VARCHAR(1024) NULL,
	required BOOLEAN NOT NULL DEFAULT FALSE,
	fixed BOOLEAN NOT NULL DEFAULT FALSE,
	max_length SMALLINT UNSIGNED NOT NULL DEFAULT 255,
	PRIMARY KEY (id),
	UNIQUE KEY device_type_attributes_name (device_type_id, name),
	UNIQUE KEY device_type_attributes_pos (device_type_id, position),
	-- The target of device_type_mappings' (attribute_id, device_type_id).
	UNIQUE KEY device_type_attributes_type (id, device_type_id),
	CONSTRAINT device_type_attributes_type_fk FOREIGN KEY (device_type_id)
		REFERENCES device_types (id) ON DELETE CASCADE,
	CONSTRAINT device_type_attributes_fixed CHECK (
		NOT fixed OR default_value IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The mapping table of a device type: a subject or SAN field of a
-- template is filled from the device name, one of its properties, or one
-- of its custom attributes (and, in reverse, creates a device from a
-- factory certificate).  default_value is used when the device's value is
-- empty.  An attribute mapping must name an attribute of the same type.
CREATE TABLE device_type_mappings (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	device_type_id BIGINT UNSIGNED NOT NULL,
	subject_field_id BIGINT UNSIGNED NULL,
	san_field_id BIGINT UNSIGNED NULL,
	source ENUM('device_name', 'property', 'attribute') NOT NULL,
	property ENUM('serial_number', 'model', 'hardware_version',
		'manufacturer', 'device_class', 'firmware',
		'descriptive_location') NULL,
	attribute_id BIGINT UNSIGNED NULL,
	max_length SMALLINT UNSIGNED NULL,
	default_value VARCHAR(1024) NULL,
	PRIMARY KEY (id),
	UNIQUE KEY device_type_mappings_subject (device_type_id,
		subject_field_id),
	UNIQUE KEY device_type_mappings_san (device_type_id, san_field_id),
	KEY device_type_mappings_subject_field (subject_field_id),
	KEY device_type_mappings_san_field (san_field_id),
	KEY device_type_mappings_attribute (attribute_id, device_type_id),
	CONSTRAINT device_type_mappings_type_fk FOREIGN KEY (device_type_id)
		REFERENCES device_types (id) ON DELETE CASCADE,
	CONSTRAINT device_type_mappings_subject_fk FOREIGN KEY
		(subject_field_id) REFERENCES cert_template_subject_fields (id)
		ON DELETE CASCADE,
	CONSTRAINT device_type_mappings_san_fk FOREIGN KEY (san_field_id)
		REFERENCES cert_template_san_fields (id) ON DELETE CASCADE,
	CONSTRAINT device_type_mappings_attribute_fk FOREIGN KEY
		(attribute_id, device_type_id)
		REFERENCES device_type_attributes (id, device_type_id)
		ON DELETE CASCADE,
	CONSTRAINT device_type_mappings_field CHECK (
		(subject_field_id IS NULL) <> (san_field_id IS NULL)),
	CONSTRAINT device_type_mappings_source CHECK (
		(source = 'property') = (property IS NOT NULL) AND
		(source = 'attribute') = (attribute_id IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Devices.  factory_cert_fingerprint (SHA-256 of the factory certificate's
-- DER) is the zero-touch lookup key; factory_cert_der keeps a factory
-- certificate that an external CA issued (internal ones are rows of
-- certificates).  mode_before_disable is what Enable restores.
CREATE TABLE devices (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	name VARCHAR(255) NOT NULL,
	tenant_id BIGINT UNSIGNED NOT NULL,
	org_id BIGINT UNSIGNED NOT NULL,
	device_type_id BIGINT UNSIGNED NOT NULL,
	description VARCHAR(1024) NULL,
	mode ENUM('NEW', 'FACTORY', 'OPERATIONAL', 'DISABLED') NOT NULL
		DEFAULT 'NEW',
	mode_before_disable ENUM('NEW', 'FACTORY', 'OPERATIONAL') NULL,
	serial_number VARCHAR(255) NULL,
	model VARCHAR(255) NULL,
	hardware_version VARCHAR(255) NULL,
	manufacturer VARCHAR(255) NULL,
	device_class VARCHAR(255) NULL,
	firmware VARCHAR(255) NULL,
	descriptive_location VARCHAR(255) NULL,
	password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
	password_set_at DATETIME(6) NULL,
	factory_cert_fingerprint BINARY(32) NULL,
	factory_cert_der BLOB NULL,
	created_via ENUM('portal', 'api', 'est-dar', 'rest-dar') NOT NULL,
	created_by_user_id BIGINT UNSIGNED NULL,
	created_by_app_id BIGINT UNSIGNED NULL,
	last_seen_at DATETIME(6) NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY devices_name (tenant_id, name),
	UNIQUE KEY devices_factory_cert (factory_cert_fingerprint),
	-- List pages: keyset pagination by id within each filter.
	KEY devices_org (org_id, tenant_id, id),
	KEY devices_org_mode (org_id, mode, id),
	KEY devices_tenant_mode (tenant_id, mode, id),
	KEY devices_type (device_type_id, mode, id),
	KEY devices_serial (serial_number),
	CONSTRAINT devices_tenant_fk FOREIGN KEY (tenant_id)
		REFERENCES tenants (id),
	CONSTRAINT devices_org_fk FOREIGN KEY (org_id, tenant_id)
		REFERENCES organizations (id, tenant_id),
	CONSTRAINT devices_type_fk FOREIGN KEY (device_type_id)
		REFERENCES device_types (id),
	CONSTRAINT devices_creator_fk FOREIGN KEY (created_by_user_id)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT devices_creator_app_fk FOREIGN KEY (created_by_app_id)
		REFERENCES api_applications (id) ON DELETE SET NULL,
	CONSTRAINT devices_disabled CHECK (
		(mode = 'DISABLED') = (mode_before_disable IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Values of a device's custom attributes.
CREATE TABLE device_attributes (
	device_id BIGINT UNSIGNED NOT NULL,
	attribute_id BIGINT UNSIGNED NOT NULL,
	value VARCHAR(1024) NULL,
	PRIMARY KEY (device_id, attribute_id),
	KEY device_attributes_attribute (attribute_id, value(64)),
	CONSTRAINT device_attributes_device_fk FOREIGN KEY (device_id)
		REFERENCES devices (id) ON DELETE CASCADE,
	CONSTRAINT device_attributes_attribute_fk FOREIGN KEY (attribute_id)
		REFERENCES device_type_attributes (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A device's credential file (device ID, password, PKCS#12 passphrases),
-- encrypted or wrapped by the signer.  It can be downloaded once: then
-- credential becomes NULL and downloaded_at is set, so a second request
-- can be told "gone".  A sweep destroys it at expires_at.
CREATE TABLE device_credentials (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	device_id BIGINT UNSIGNED NOT NULL,
	credential MEDIUMBLOB NULL,
	wrapping_key_id BINARY(16) NULL,
	expires_at DATETIME(6) NOT NULL,
	downloaded_at DATETIME(6) NULL,
	destroyed_at DATETIME(6) NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	KEY device_credentials_device (device_id, created_at),
	KEY device_credentials_expires (expires_at),
	CONSTRAINT device_credentials_device_fk FOREIGN KEY (device_id)
		REFERENCES devices (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
