-- Estuary schema, part 15: an external CA's name is unique within its
-- tenant, not across the system.  A global key told a tenant that another
-- tenant had registered a CA of that name (a 409 on a name it cannot see),
-- and forced tenants to avoid each other's names.  Device types and EST
-- servers name external CAs by id, so nothing else depends on it.
ALTER TABLE external_cas
	DROP KEY external_cas_name,
	ADD UNIQUE KEY external_cas_name (tenant_id, name);
