-- Estuary schema, part 2: certification authorities, custom extensions and
-- certificate templates (the guide's Certificate Management Service).
--
-- Key types are stored as the numbers of enum signer_keytype
-- (lib/sigproto.h: 1 EC P-256, 2 EC P-384, 3 RSA 2048, 4 RSA 3072,
-- 5 RSA 4096).  A set of key types is a SET whose members are in that
-- order, so member k of the set is key type k.
--
-- Shareable entities name the tenant they belong to in tenant_key
-- (0 for global ones) so that a name is unique among the global entities
-- and within each tenant.

-- Internal CAs: the private key is in the HSM under the signer's key_id.
-- cert_der is NULL while an issuing CA waits for its certificate to be
-- signed elsewhere (csr_der holds the request).  The CRL and the OCSP
-- responder key are kept with the CA they belong to.
CREATE TABLE cas (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	name VARCHAR(128) NOT NULL,
	description VARCHAR(1024) NULL,
	parent_id BIGINT UNSIGNED NULL,
	key_id BINARY(16) NOT NULL,
	key_type TINYINT UNSIGNED NOT NULL,
	subject VARCHAR(1024) NOT NULL,
	subject_der VARBINARY(2048) NULL,
	-- SHA-256 of subject_der: finds the issuer of a presented chain.
	subject_hash BINARY(32) NULL,
	ski VARBINARY(64) NULL,
	cert_der BLOB NULL,
	csr_der BLOB NULL,
	serial VARBINARY(20) NULL,
	not_before DATETIME NULL,
	not_after DATETIME NULL,
	-- NULL: no pathLenConstraint.
	path_len SMALLINT UNSIGNED NULL,
	key_usage SET('digitalSignature', 'nonRepudiation', 'keyEncipherment',
		'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign',
		'encipherOnly', 'decipherOnly') NOT NULL
		DEFAULT 'keyCertSign,cRLSign',
	scope ENUM('global', 'tenant', 'organization') NOT NULL
		DEFAULT 'global',
	tenant_id BIGINT UNSIGNED NULL,
	org_id BIGINT UNSIGNED NULL,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	crl_number BIGINT UNSIGNED NOT NULL DEFAULT 0,
	crl_this_update DATETIME NULL,
	crl_next_update DATETIME NULL,
	crl_period_hours INT UNSIGNED NOT NULL DEFAULT 24,
	crl_der MEDIUMBLOB NULL,
	crl_url VARCHAR(512) NULL,
	ocsp_url VARCHAR(512) NULL,
	-- A delegated OCSP responder key in the HSM; NULL: the CA key signs.
	ocsp_key_id BINARY(16) NULL,
	ocsp_cert_der BLOB NULL,
	-- SHA-256 of cert_der; NULL while the certificate is pending.
	fingerprint BINARY(32) NULL,
	created_by_user_id BIGINT UNSIGNED NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY cas_name (name),
	UNIQUE KEY cas_key_id (key_id),
	UNIQUE KEY cas_fingerprint (fingerprint),
	KEY cas_parent (parent_id),
	KEY cas_subject_hash (subject_hash),
	KEY cas_ski (ski),
	KEY cas_scope (scope, tenant_id, org_id),
	KEY cas_active (active),
	KEY cas_crl_next_update (crl_next_update),
	CONSTRAINT cas_parent_fk FOREIGN KEY (parent_id) REFERENCES cas (id),
	CONSTRAINT cas_tenant_fk FOREIGN KEY (tenant_id)
		REFERENCES tenants (id),
	CONSTRAINT cas_org_fk FOREIGN KEY (org_id, tenant_id)
		REFERENCES organizations (id, tenant_id),
	CONSTRAINT cas_creator_fk FOREIGN KEY (created_by_user_id)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT cas_key_type CHECK (key_type BETWEEN 1 AND 5),
	CONSTRAINT cas_scope_check CHECK (
		(scope = 'global' AND tenant_id IS NULL AND org_id IS NULL) OR
		(scope = 'tenant' AND tenant_id IS NOT NULL AND
		    org_id IS NULL) OR
		(scope = 'organization' AND tenant_id IS NOT NULL AND
		    org_id IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Custom extensions: value is what the user typed, in the syntax of
-- value_type (hex for der); value_der is the encoded extnValue, so
-- issuance never re-encodes it.
CREATE TABLE custom_extensions (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	name VARCHAR(128) NOT NULL,
	description VARCHAR(1024) NULL,
	oid VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	critical BOOLEAN NOT NULL DEFAULT FALSE,
	value_type ENUM('utf8string', 'printablestring', 'ia5string',
		'octetstring', 'integer', 'boolean', 'oid', 'der') NOT NULL,
	value TEXT NOT NULL,
	value_der BLOB NOT NULL,
	scope ENUM('global', 'tenant', 'organization') NOT NULL
		DEFAULT 'global',
	tenant_id BIGINT UNSIGNED NULL,
	org_id BIGINT UNSIGNED NULL,
	tenant_key BIGINT UNSIGNED AS (IFNULL(tenant_id, 0)) PERSISTENT,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_by_user_id BIGINT UNSIGNED NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY custom_extensions_name (tenant_key, name),
	KEY custom_extensions_oid (oid),
	KEY custom_extensions_scope (scope, tenant_id, org_id),
	CONSTRAINT custom_extensions_tenant_fk FOREIGN KEY (tenant_id)
		REFERENCES tenants (id),
	CONSTRAINT custom_extensions_org_fk FOREIGN KEY (org_id, tenant_id)
		REFERENCES organizations (id, tenant_id),
	CONSTRAINT custom_extensions_creator_fk FOREIGN KEY
		(created_by_user_id) REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT custom_extensions_scope_check CHECK (
		(scope = 'global' AND tenant_id IS NULL AND org_id IS NULL) OR
		(scope = 'tenant' AND tenant_id IS NOT NULL AND
		    org_id IS NULL) OR
		(scope = 'organization' AND tenant_id IS NOT NULL AND
		    org_id IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Certificate templates.  validity_days NULL is "unlimited expiration"
-- (notAfter 99991231235959Z).  eku is a JSON array of dotted OIDs.
-- key_retention_days bounds how long a server-generated key stays
-- downloadable; NULL keeps none.
CREATE TABLE cert_templates (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	name VARCHAR(128) NOT NULL,
	description VARCHAR(1024) NULL,
	type ENUM('factory', 'operational', 'general') NOT NULL,
	scope ENUM('global', 'tenant', 'organization') NOT NULL
		DEFAULT 'global',
	tenant_id BIGINT UNSIGNED NULL,
	org_id BIGINT UNSIGNED NULL,
	tenant_key BIGINT UNSIGNED AS (IFNULL(tenant_id, 0)) PERSISTENT,
	ca_id BIGINT UNSIGNED NOT NULL,
	validity_days INT UNSIGNED NULL,
	key_types SET('ec_p256', 'ec_p384', 'rsa_2048', 'rsa_3072',
		'rsa_4096') NOT NULL,
	server_keygen BOOLEAN NOT NULL DEFAULT TRUE,
	-- Key type of server-generated keys; enum signer_keytype.
	keygen_key_type TINYINT UNSIGNED NULL,
	digest ENUM('sha256', 'sha384', 'sha512') NOT NULL DEFAULT 'sha256',
	key_usage SET('digitalSignature', 'nonRepudiation', 'keyEncipherment',
		'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign',
		'encipherOnly', 'decipherOnly') NOT NULL DEFAULT '',
	key_usage_critical BOOLEAN NOT NULL DEFAULT TRUE,
	eku LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
	eku_critical BOOLEAN NOT NULL DEFAULT FALSE,
	basic_constraints BOOLEAN NOT NULL DEFAULT TRUE,
	basic_ca BOOLEAN NOT NULL DEFAULT FALSE,
	basic_pathlen SMALLINT UNSIGNED NULL,
	basic_critical BOOLEAN NOT NULL DEFAULT TRUE,
	-- Marks the subjectAltName extension critical (required by RFC 5280
	-- when the subject is empty, as in the Wi-SUN template).
	san_critical BOOLEAN NOT NULL DEFAULT FALSE,
	crl_dp BOOLEAN NOT NULL DEFAULT TRUE,
	ocsp_aia BOOLEAN NOT NULL DEFAULT TRUE,
	ca_issuers_aia BOOLEAN NOT NULL DEFAULT FALSE,
	key_retention_days INT UNSIGNED NULL,
	active BOOLEAN NOT NULL DEFAULT TRUE,
	created_by_user_id BIGINT UNSIGNED NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY cert_templates_name (tenant_key, name),
	KEY cert_templates_ca (ca_id),
	KEY cert_templates_type (type, active),
	KEY cert_templates_scope (scope, tenant_id, org_id),
	CONSTRAINT cert_templates_ca_fk FOREIGN KEY (ca_id) REFERENCES cas (id),
	CONSTRAINT cert_templates_tenant_fk FOREIGN KEY (tenant_id)
		REFERENCES tenants (id),
	CONSTRAINT cert_templates_org_fk FOREIGN KEY (org_id, tenant_id)
		REFERENCES organizations (id, tenant_id),
	CONSTRAINT cert_templates_creator_fk FOREIGN KEY (created_by_user_id)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT cert_templates_validity CHECK (
		validity_days IS NULL OR validity_days > 0),
	CONSTRAINT cert_templates_keygen_type CHECK (
		keygen_key_type IS NULL OR keygen_key_type BETWEEN 1 AND 5),
	CONSTRAINT cert_templates_eku_json CHECK (
		eku IS NULL OR JSON_VALID(eku)),
	CONSTRAINT cert_templates_scope_check CHECK (
		(scope = 'global' AND tenant_id IS NULL AND org_id IS NULL) OR
		(scope = 'tenant' AND tenant_id IS NOT NULL AND
		    org_id IS NULL) OR
		(scope = 'organization' AND tenant_id IS NOT NULL AND
		    org_id IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Subject attributes of a template, in the order they appear in the
-- issued subject.  A fixed field always takes default_value.
CREATE TABLE cert_template_subject_fields (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	template_id BIGINT UNSIGNED NOT NULL,
	position SMALLINT UNSIGNED NOT NULL,
	oid VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	short_name VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
	rule ENUM('optional', 'required', 'fixed') NOT NULL,
	max_length SMALLINT UNSIGNED NOT NULL DEFAULT 64,
	default_value VARCHAR(1024) NULL,
	-- ASN.1 string type of the value; 'default' follows RFC 5280
	-- (PrintableString for C and serialNumber, UTF8String otherwise).
	string_type ENUM('default', 'utf8string', 'printablestring',
		'ia5string') NOT NULL DEFAULT 'default',
	PRIMARY KEY (id),
	UNIQUE KEY cert_template_subject_fields_pos (template_id, position),
	KEY cert_template_subject_fields_oid (oid),
	CONSTRAINT cert_template_subject_fields_template_fk FOREIGN KEY
		(template_id) REFERENCES cert_templates (id) ON DELETE CASCADE,
	CONSTRAINT cert_template_subject_fields_fixed CHECK (
		rule <> 'fixed' OR default_value IS NOT NULL),
	CONSTRAINT cert_template_subject_fields_len CHECK (max_length > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Subject alternative names of a template.  An otherName entry names its
-- type-id and how its value is encoded (hardware_module_name is RFC 4108's
-- SEQUENCE { hwType OID, hwSerialNum OCTET STRING }, as Wi-SUN uses).
CREATE TABLE cert_template_san_fields (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	template_id BIGINT UNSIGNED NOT NULL,
	position SMALLINT UNSIGNED NOT NULL,
	type ENUM('dns', 'ip', 'uri', 'email', 'othername') NOT NULL,
	othername_oid VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NULL,
	othername_encoding ENUM('utf8string', 'ia5string', 'octetstring',
		'hardware_module_name', 'der') NULL,
	rule ENUM('optional', 'required', 'fixed') NOT NULL,
	max_length SMALLINT UNSIGNED NOT NULL DEFAULT 255,
	default_value VARCHAR(1024) NULL,
	PRIMARY KEY (id),
	UNIQUE KEY cert_template_san_fields_pos (template_id, position),
	CONSTRAINT cert_template_san_fields_template_fk FOREIGN KEY
		(template_id) REFERENCES cert_templates (id) ON DELETE CASCADE,
	CONSTRAINT cert_template_san_fields_othername CHECK (
		(type = 'othername') = (othername_oid IS NOT NULL AND
		    othername_encoding IS NOT NULL)),
	CONSTRAINT cert_template_san_fields_fixed CHECK (
		rule <> 'fixed' OR default_value IS NOT NULL),
	CONSTRAINT cert_template_san_fields_len CHECK (max_length > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Custom extensions attached to a template; an extension in use cannot be
-- deleted.
CREATE TABLE cert_template_extensions (
	template_id BIGINT UNSIGNED NOT NULL,
	extension_id BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (template_id, extension_id),
	KEY cert_template_extensions_ext (extension_id),
	CONSTRAINT cert_template_extensions_template_fk FOREIGN KEY
		(template_id) REFERENCES cert_templates (id) ON DELETE CASCADE,
	CONSTRAINT cert_template_extensions_ext_fk FOREIGN KEY (extension_id)
		REFERENCES custom_extensions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
