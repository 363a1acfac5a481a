-- Estuary schema, part 14: one lock row per EST domain.
--
-- The rule of guide §2.3.2 — one domain may serve several organizations
-- of one tenant, never two tenants — spans rows of est_servers, so no
-- constraint can state it.  The writers (db/estsrv_write.c) check it
-- while holding the domain's row here locked (INSERT ... ON DUPLICATE KEY
-- UPDATE takes an exclusive lock whether the row is new or not), so that
-- two transactions writing servers of one domain are serialized.  A
-- locking read of est_servers alone would take only gap locks when the
-- domain is new, which two transactions can hold together, and both
-- inserts would then deadlock instead of one waiting for the other.
--
-- Rows are never deleted: a row without servers is an idle lock.
CREATE TABLE est_domains (
	domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_general_ci
		NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (domain)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
