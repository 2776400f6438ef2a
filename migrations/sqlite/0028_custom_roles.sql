-- Custom roles (角色管理, seed 004 §5.1.1.3.1): an organisation's super admin names roles made of the
-- permissions its own built-in role has and gives them to the organisation's other admins. The roles'
-- casbin policy lives here, per tenant, beside the built-in roles of policy.csv: `p` rows
-- (role:<id>, tenant, object, action) and `g` rows (account:<id>, role:<id> or a built-in role, tenant).
CREATE TABLE custom_roles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    org_id      INTEGER NOT NULL,
    name        TEXT NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (tenant_id, org_id, name),
    FOREIGN KEY (tenant_id, org_id) REFERENCES orgs(tenant_id, id)
);

CREATE TABLE casbin_rules (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
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
    version   INTEGER NOT NULL
);

-- An admin whose permissions come from the roles given to it (its `g` rows; none means none) rather
-- than from its built-in role alone.
ALTER TABLE accounts ADD COLUMN roles_assigned INTEGER NOT NULL DEFAULT 0;
