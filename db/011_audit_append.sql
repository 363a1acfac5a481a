-- Estuary schema, part 11: the second half of an audit append in one
-- round trip.
--
-- db_audit_append (db/audit.c) locks the chain's head with SELECT ... FOR
-- UPDATE, computes the new row's hash in C from the head's hash, then
-- calls this procedure, which inserts the row and moves the head to it:
-- one statement from the client instead of two, so the head stays locked
-- for one round trip less and every audited request (a certificate issued
-- through the API is one) costs one round trip less.  The procedure only
-- stores what the caller computed; it decides nothing about the chain.
--
-- SQL SECURITY INVOKER: it runs with the caller's rights (INSERT on
-- audit_log, UPDATE on audit_head, db/grants-app.sql), so it gives the
-- application account nothing it did not have.  Every parameter has the
-- type, character set and collation of its column, so the stored values
-- are exactly those a direct INSERT would store (and the hash covers).

DELIMITER //
CREATE PROCEDURE audit_append_row(
	IN p_ts DATETIME(6),
	IN p_actor_type VARCHAR(16) CHARACTER SET utf8mb4
		COLLATE utf8mb4_unicode_ci,
	IN p_actor_id BIGINT UNSIGNED,
	IN p_actor_name VARCHAR(255) CHARACTER SET utf8mb4
		COLLATE utf8mb4_unicode_ci,
	IN p_tenant_id BIGINT UNSIGNED,
	IN p_org_id BIGINT UNSIGNED,
	IN p_entity VARCHAR(32) CHARACTER SET utf8mb4
		COLLATE utf8mb4_unicode_ci,
	IN p_entity_id BIGINT UNSIGNED,
	IN p_entity_name VARCHAR(255) CHARACTER SET utf8mb4
		COLLATE utf8mb4_unicode_ci,
	IN p_action VARCHAR(32) CHARACTER SET utf8mb4
		COLLATE utf8mb4_unicode_ci,
	IN p_outcome VARCHAR(16) CHARACTER SET utf8mb4
		COLLATE utf8mb4_unicode_ci,
	IN p_reason VARCHAR(255) CHARACTER SET utf8mb4
		COLLATE utf8mb4_unicode_ci,
	IN p_source_addr VARCHAR(45) CHARACTER SET utf8mb4
		COLLATE utf8mb4_unicode_ci,
	IN p_details LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
	IN p_prev_hash BINARY(32),
	IN p_row_hash BINARY(32))
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	INSERT INTO audit_log (ts, actor_type, actor_id, actor_name,
		tenant_id, org_id, entity, entity_id, entity_name, action,
		outcome, reason, source_addr, details, prev_hash, row_hash)
	VALUES (p_ts, p_actor_type, p_actor_id, p_actor_name, p_tenant_id,
		p_org_id, p_entity, p_entity_id, p_entity_name, p_action,
		p_outcome, p_reason, p_source_addr, p_details, p_prev_hash,
		p_row_hash);
	UPDATE audit_head SET last_id = LAST_INSERT_ID(),
		last_hash = p_row_hash, nrows = nrows + 1
	WHERE id = 1;
	-- The caller holds the head's lock, so this cannot happen; if it
	-- does, the whole append fails rather than leave a row unlinked.
	IF ROW_COUNT() <> 1 THEN
		SIGNAL SQLSTATE '45000'
			SET MESSAGE_TEXT = 'audit_head vanished';
	END IF;
END//
DELIMITER ;
