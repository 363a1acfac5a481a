-- Estuary schema, part 9: indexes for the device lists (db/device_list.c).
--
-- A device list is a keyset page ("id > ? ORDER BY id LIMIT ?") over one
-- index range chosen by the request's most selective filter.  Every
-- secondary index ends with the primary key, so an index on (x) reads the
-- devices with x = ? in id order.  003_devices.sql has the indexes for a
-- name within a tenant, the organization (with its tenant), the
-- organization, tenant or device type with a mode, and the serial number;
-- these add the tenant, the device type and the mode alone, and the name
-- across tenants (an Admin's search), so that no list of a registry of
-- millions of devices sorts or scans more than its page.
ALTER TABLE devices
	ADD KEY devices_tenant (tenant_id, id),
	ADD KEY devices_type_id (device_type_id, id),
	ADD KEY devices_mode (mode, id),
	ADD KEY devices_name_any (name);
