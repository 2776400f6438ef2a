-- Staff transfers (人员调转, seed 004 §5.1.6): the current unit (or a department above it) moves one of its
-- staff to another unit of the province; the receiving side confirms it through the approval engine
-- (kind 'transfer'). Approved rows are the person's dated membership history: until `effective_on` the
-- person belonged to `from_unit_id`, from then on to `to_unit_id`.
CREATE TABLE transfers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    person_id     INTEGER NOT NULL,
    from_unit_id  INTEGER NOT NULL,
    to_unit_id    INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    effective_on  TEXT NOT NULL,
    -- pending, approved, rejected or withdrawn
    status        TEXT NOT NULL,
    created_by    INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    decided_at    TEXT,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id),
    FOREIGN KEY (tenant_id, from_unit_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, to_unit_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
-- One open transfer per person: a second one is refused (409) by this index.
CREATE UNIQUE INDEX transfers_one_pending ON transfers(tenant_id, person_id) WHERE status = 'pending';
CREATE INDEX transfers_person ON transfers(tenant_id, person_id, status, effective_on);
CREATE INDEX transfers_from ON transfers(tenant_id, from_unit_id, status);
CREATE INDEX transfers_to ON transfers(tenant_id, to_unit_id, status);
