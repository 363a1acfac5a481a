-- Estuary schema, part 6: the head of the audit log's hash chain.
--
-- Every append to audit_log (db/audit.c) first locks this one row with
-- SELECT ... FOR UPDATE, links the new row to last_hash and moves the head
-- to it in the same transaction.  The lock serializes appenders in every
-- process, so two transactions can never link to the same predecessor and
-- fork the chain; because the head moves inside the appender's
-- transaction, a rollback takes the row and the head move back together.
--
-- The head is a lock and a cache, never a source of truth: the application
-- account may UPDATE it (db/grants-app.sql), so "estuaryctl audit verify"
-- trusts only the chain in audit_log, which that account cannot change,
-- and reports a head that disagrees with the log's last row (rows deleted
-- from the end, or the head altered) as a break of its own.

CREATE TABLE audit_head (
	id TINYINT UNSIGNED NOT NULL,
	-- The id and row_hash of the newest row, 0 and 32 zero bytes for an
	-- empty log; nrows counts the rows of the chain.
	last_id BIGINT UNSIGNED NOT NULL,
	last_hash BINARY(32) NOT NULL,
	nrows BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT audit_head_one_row CHECK (id = 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The chain continues from whatever the log already holds.
INSERT INTO audit_head (id, last_id, last_hash, nrows)
SELECT 1,
	COALESCE((SELECT id FROM audit_log ORDER BY id DESC LIMIT 1), 0),
	COALESCE((SELECT row_hash FROM audit_log ORDER BY id DESC LIMIT 1),
		UNHEX(REPEAT('00', 32))),
	(SELECT COUNT(*) FROM audit_log);
