-- Estuary schema, part 8: what the CA endpoints (issue 4) need beside
-- 002_pki.sql.
--
-- chain_pem: for a CA whose certificate was signed outside Estuary, the
-- certificates above it up to a root, as uploaded with the certificate
-- (PEM, issuer first), so that downloads and EST can hand out the whole
-- chain.  NULL for internal CAs: their chain is the parent_id links.
--
-- ca_issuers_url: where issued certificates point for the CA's own
-- certificate (authorityInfoAccess caIssuers), NULL when none is
-- published; set with crl_url and ocsp_url when the CA is created.
ALTER TABLE cas
	ADD COLUMN chain_pem MEDIUMTEXT CHARACTER SET ascii COLLATE ascii_bin
		NULL AFTER csr_der,
	ADD COLUMN ca_issuers_url VARCHAR(512) NULL AFTER ocsp_url;

-- A CRL lists the revoked certificates of one CA; it is built in pages of
-- (ca_id, status, id), so that a CA with 100,000 revoked certificates is
-- read in order without sorting them all for every page.
ALTER TABLE certificates
	ADD KEY certificates_ca_revoked (ca_id, status, id);
