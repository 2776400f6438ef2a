-- Change audits of a person's professional title (变更审核管理, seed 004 §5.1.4): staff ask for a new
-- title, title level, title series or title date; the change takes effect only when the route the tenant's
-- rules plugin names (kind 'person_change', against the person's unit) approves it. `changes` is a JSON
-- object {field: {"old": …, "new": …}} as asked, so the reviewer sees old → new even after later changes.
ALTER TABLE people ADD COLUMN title_series TEXT;

CREATE TABLE person_changes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    person_id     INTEGER NOT NULL,
    unit_id       INTEGER NOT NULL,
    changes       TEXT NOT NULL,
    -- pending, approved, rejected or withdrawn
    status        TEXT NOT NULL,
    created_by    INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    decided_at    TEXT,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
-- One open change per person (409 change_pending).
CREATE UNIQUE INDEX person_changes_one_pending ON person_changes(tenant_id, person_id) WHERE status = 'pending';
CREATE INDEX person_changes_person ON person_changes(tenant_id, person_id, created_at);
