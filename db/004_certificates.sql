-- Estuary schema, part 4: issued certificates and batch generation.

-- Every certificate an internal CA issued.  serial is the positive
-- INTEGER's magnitude (16 random bytes, at most 20), unique per CA, the
-- key of OCSP and CRL lookups.  status 'expired' is set by a sweep; readers
-- that must be exact also compare not_after.  A server-generated private
-- key is kept only wrapped by the signer (wrapped_key), until
-- key_retention_until, then destroyed.
CREATE TABLE certificates (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	ca_id BIGINT UNSIGNED NOT NULL,
	serial VARBINARY(20) NOT NULL,
	fingerprint BINARY(32) NOT NULL,
	subject VARCHAR(1024) NOT NULL,
	subject_cn VARCHAR(255) NULL,
	not_before DATETIME NOT NULL,
	not_after DATETIME NOT NULL,
	status ENUM('active', 'revoked', 'expired') NOT NULL DEFAULT 'active',
	-- RFC 5280 CRLReason code.
	revocation_reason TINYINT UNSIGNED NULL,
	revoked_at DATETIME(6) NULL,
	invalidity_date DATETIME NULL,
	revoked_by_user_id BIGINT UNSIGNED NULL,
	template_id BIGINT UNSIGNED NULL,
	device_id BIGINT UNSIGNED NULL,
	kind ENUM('factory', 'operational', 'other') NOT NULL DEFAULT 'other',
	-- enum signer_keytype of the subject key; NULL for any other key.
	key_type TINYINT UNSIGNED NULL,
	key_source ENUM('csr', 'server') NOT NULL DEFAULT 'csr',
	cert_der BLOB NOT NULL,
	wrapped_key MEDIUMBLOB NULL,
	wrapping_key_id BINARY(16) NULL,
	key_retention_until DATETIME(6) NULL,
	key_destroyed_at DATETIME(6) NULL,
	-- The certificate this one renews (EST simplereenroll, renewal API).
	renewed_from_id BIGINT UNSIGNED NULL,
	issued_via ENUM('portal', 'api', 'est', 'batch', 'system') NOT NULL
		DEFAULT 'api',
	created_by_type ENUM('user', 'application', 'device', 'system')
		NOT NULL DEFAULT 'system',
	created_by_user_id BIGINT UNSIGNED NULL,
	created_by_app_id BIGINT UNSIGNED NULL,
	tenant_id BIGINT UNSIGNED NULL,
	org_id BIGINT UNSIGNED NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY certificates_serial (ca_id, serial),
	UNIQUE KEY certificates_fingerprint (fingerprint),
	KEY certificates_ca_status (ca_id, status, not_after),
	KEY certificates_template (template_id, status, not_after),
	KEY certificates_status (status, not_after),
	KEY certificates_not_after (not_after),
	KEY certificates_device (device_id, kind, not_after),
	KEY certificates_tenant (tenant_id, org_id, id),
	KEY certificates_org (org_id, tenant_id),
	KEY certificates_cn (subject_cn),
	KEY certificates_serial_any (serial),
	KEY certificates_key_retention (key_retention_until),
	KEY certificates_renewed_from (renewed_from_id),
	CONSTRAINT certificates_ca_fk FOREIGN KEY (ca_id) REFERENCES cas (id),
	CONSTRAINT certificates_template_fk FOREIGN KEY (template_id)
		REFERENCES cert_templates (id),
	CONSTRAINT certificates_device_fk FOREIGN KEY (device_id)
		REFERENCES devices (id),
	CONSTRAINT certificates_renewed_from_fk FOREIGN KEY (renewed_from_id)
		REFERENCES certificates (id),
	CONSTRAINT certificates_revoker_fk FOREIGN KEY (revoked_by_user_id)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT certificates_creator_fk FOREIGN KEY (created_by_user_id)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT certificates_creator_app_fk FOREIGN KEY (created_by_app_id)
		REFERENCES api_applications (id) ON DELETE SET NULL,
	CONSTRAINT certificates_tenant_fk FOREIGN KEY (tenant_id)
		REFERENCES tenants (id),
	CONSTRAINT certificates_org_fk FOREIGN KEY (org_id, tenant_id)
		REFERENCES organizations (id, tenant_id),
	CONSTRAINT certificates_revocation CHECK (
		(status = 'revoked') = (revoked_at IS NOT NULL AND
		    revocation_reason IS NOT NULL)),
	CONSTRAINT certificates_reason CHECK (
		revocation_reason IS NULL OR
		revocation_reason IN (0, 1, 2, 3, 4, 5, 6, 8, 9, 10)),
	CONSTRAINT certificates_key_type CHECK (
		key_type IS NULL OR key_type BETWEEN 1 AND 5)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- An API application's TLS client certificate is one of the above.
ALTER TABLE api_applications
	ADD CONSTRAINT api_applications_certificate_fk FOREIGN KEY
		(certificate_id) REFERENCES certificates (id);

-- Batch generation jobs.  A job runs in the background and may be
-- interrupted: worker and heartbeat_at say who runs it and whether that
-- worker is still alive; batch_items records each certificate, so a
-- resumed job skips what was issued.  The result archive of PKCS#12 files
-- stays downloadable until archive_expires_at (the key retention date).
CREATE TABLE batch_jobs (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	name VARCHAR(128) NULL,
	template_id BIGINT UNSIGNED NOT NULL,
	tenant_id BIGINT UNSIGNED NULL,
	org_id BIGINT UNSIGNED NULL,
	source ENUM('generated', 'csv') NOT NULL,
	total INT UNSIGNED NOT NULL,
	done INT UNSIGNED NOT NULL DEFAULT 0,
	failed INT UNSIGNED NOT NULL DEFAULT 0,
	status ENUM('queued', 'running', 'cancelling', 'cancelled',
		'completed', 'failed') NOT NULL DEFAULT 'queued',
	key_type TINYINT UNSIGNED NOT NULL,
	passphrase_mode ENUM('per_batch', 'per_certificate') NOT NULL,
	-- Subject and SAN values common to every item (JSON object).
	subject_values LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
		NULL,
	valid_from DATETIME NULL,
	validity_days INT UNSIGNED NULL,
	archive_path VARCHAR(1024) NULL,
	archive_expires_at DATETIME(6) NULL,
	key_retention_until DATETIME(6) NULL,
	error VARCHAR(255) NULL,
	worker VARCHAR(64) NULL,
	heartbeat_at DATETIME(6) NULL,
	created_by_type ENUM('user', 'application', 'system') NOT NULL
		DEFAULT 'user',
	created_by_user_id BIGINT UNSIGNED NULL,
	created_by_app_id BIGINT UNSIGNED NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	started_at DATETIME(6) NULL,
	finished_at DATETIME(6) NULL,
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	KEY batch_jobs_status (status, id),
	KEY batch_jobs_tenant (tenant_id, org_id, id),
	KEY batch_jobs_org (org_id, tenant_id),
	KEY batch_jobs_template (template_id),
	KEY batch_jobs_archive (archive_expires_at),
	CONSTRAINT batch_jobs_template_fk FOREIGN KEY (template_id)
		REFERENCES cert_templates (id),
	CONSTRAINT batch_jobs_tenant_fk FOREIGN KEY (tenant_id)
		REFERENCES tenants (id),
	CONSTRAINT batch_jobs_org_fk FOREIGN KEY (org_id, tenant_id)
		REFERENCES organizations (id, tenant_id),
	CONSTRAINT batch_jobs_creator_fk FOREIGN KEY (created_by_user_id)
		REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT batch_jobs_creator_app_fk FOREIGN KEY (created_by_app_id)
		REFERENCES api_applications (id) ON DELETE SET NULL,
	CONSTRAINT batch_jobs_progress CHECK (done + failed <= total),
	CONSTRAINT batch_jobs_key_type CHECK (key_type BETWEEN 1 AND 5),
	CONSTRAINT batch_jobs_subject_json CHECK (
		subject_values IS NULL OR JSON_VALID(subject_values))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per certificate of a job, created up front.  (job_id, idx) is
-- unique and certificate_id is set in the transaction that issues the
-- certificate, so a resumed job never issues an item twice.
CREATE TABLE batch_items (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	job_id BIGINT UNSIGNED NOT NULL,
	idx INT UNSIGNED NOT NULL,
	-- This item's subject and SAN values (a CSV row), JSON object.
	subject_values LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
		NULL,
	status ENUM('pending', 'issued', 'failed') NOT NULL
		DEFAULT 'pending',
	certificate_id BIGINT UNSIGNED NULL,
	-- A per-certificate PKCS#12 passphrase, wrapped by the signer.
	passphrase_wrapped VARBINARY(512) NULL,
	error VARCHAR(255) NULL,
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
		ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY batch_items_idx (job_id, idx),
	UNIQUE KEY batch_items_certificate (certificate_id),
	KEY batch_items_status (job_id, status, idx),
	CONSTRAINT batch_items_job_fk FOREIGN KEY (job_id)
		REFERENCES batch_jobs (id) ON DELETE CASCADE,
	CONSTRAINT batch_items_certificate_fk FOREIGN KEY (certificate_id)
		REFERENCES certificates (id),
	CONSTRAINT batch_items_issued CHECK (
		(status = 'issued') = (certificate_id IS NOT NULL)),
	CONSTRAINT batch_items_subject_json CHECK (
		subject_values IS NULL OR JSON_VALID(subject_values))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
