-- Estuary schema, part 10: what estuary-worker's sweeps need.
--
-- The key retention sweep looks for stored keys whose retention has
-- passed and that are not destroyed yet.  certificates_key_retention alone
-- would make it walk every key ever destroyed (their retention lies in
-- the past too) on every run; with key_destroyed_at first, the sweep
-- reads only the live keys that are due.
ALTER TABLE certificates
	ADD KEY certificates_key_sweep (key_destroyed_at, key_retention_until);
