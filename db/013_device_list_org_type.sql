-- Estuary schema, part 13: device lists filtered by an organization and a
-- device type (db/device_list.c).
--
-- Without these, such a list walked the organization's index (with the
-- mode, when the request had one) and checked the type of every row it
-- read: a page of 50 cameras in an organization where one device in a
-- hundred is a camera read 5,000 index entries and their rows, and one
-- where one in 500 is read 25,000 (EXPLAIN: range on devices_org_mode or
-- devices_org, "Using where" on device_type_id; bench/bench_devices at a
-- million devices, bench/README.md).  With them the range holds only the
-- matching devices, in id order, whatever the type's share.  Two indexes,
-- because a keyset page needs the id order right after the equalities:
-- (org, type, mode, id) serves a request with a mode, (org, type, id) one
-- without.
ALTER TABLE devices
	ADD KEY devices_org_type_mode (org_id, device_type_id, mode, id),
	ADD KEY devices_org_type (org_id, device_type_id, id);
