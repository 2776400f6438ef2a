-- Custom roles (角色管理, seed 004 §5.1.1.3.1): an organisation's super admin names roles made of the
-- permissions its own built-in role has and gives them to the organisation's other admins. The roles'
-- casbin policy lives here, per tenant, beside the built-in roles of policy.csv: `p` rows
-- (role:<id>, tenant, object, action) and `g` rows (account:<id>, role:<id> or a built-in role, tenant).
CREATE TABLE custom_roles (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    org_id      BIGINT NOT NULL,
    name        TEXT NOT NULL,
    created_by  BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, org_id, name),
    FOREIGN KEY (tenant_id, org_id) REFERENCES orgs(tenant_id, id)
);

CREATE TABLE casbin_rules (
    id        BIGSERIAL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    ptype     TEXT NOT NULL CHECK (ptype IN ('p', 'g')),
    v0        TEXT NOT NULL,
    v1        TEXT NOT NULL,
    v2        TEXT NOT NULL,
    v3        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX casbin_rules_tenant ON casbin_rules(tenant_id, ptype, v0);

-- Bumped with every change of a tenant's casbin_rules: each server process polls it and reloads.
CREATE TABLE policy_versions (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),
    version   BIGINT NOT NULL
);

-- An admin whose permissions come from the roles given to it (its `g` rows; none means none) rather
-- than from its built-in role alone.
ALTER TABLE accounts ADD COLUMN roles_assigned BOOLEAN NOT NULL DEFAULT FALSE;

-- The tenant wall of migration 0026.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['custom_roles', 'casbin_rules', 'policy_versions'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_wall ON %I USING ('
            'COALESCE(current_setting(''jijiao.tenant'', true), '''') = '''' '
            'OR tenant_id = current_setting(''jijiao.tenant'', true))', t);
    END LOOP;
END $$;
