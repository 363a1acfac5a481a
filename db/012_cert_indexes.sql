-- Estuary schema, part 12: two secondary indexes of certificates that no
-- query needs.  Every issued certificate writes every index of the table,
-- so an index that no statement reads is paid for on every issuance and
-- in the buffer pool, for nothing.
--
-- certificates_ca_status (ca_id, status, not_after): the CRL pages read
-- certificates_ca_revoked (ca_id, status, id), which 008_ca_chain.sql
-- added for them; lists by CA use the prefix of certificates_serial.
--
-- certificates_key_retention (key_retention_until): the key sweeps read
-- certificates_key_sweep (key_destroyed_at, key_retention_until), which
-- 010_batch_worker.sql added because this one makes them walk every key
-- ever destroyed.
--
-- Every statement on certificates (db/*.c, the report views) was checked
-- with EXPLAIN against the remaining indexes: the foreign keys keep
-- theirs, and the list filters (subject CN, serial, expiry), the expiry
-- sweep and the expiring report keep the ones they use.
ALTER TABLE certificates
	DROP KEY certificates_ca_status,
	DROP KEY certificates_key_retention;
