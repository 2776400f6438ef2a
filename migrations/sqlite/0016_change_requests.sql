-- Change audits (变更审核管理, seed 004 §5.1.4): a person's professional title (title, title level, title
-- series, title date), an organisation's information (name, address, contact, nature, industry,
-- affiliation) or its supervising department (更换上级部门) changes only when the route the tenant's rules
-- plugin names (kinds 'person_change', 'org_change', 'parent_change') approves it. `changes` is a JSON list of {field, label, old, new, old_text, new_text} as
-- asked, so the reviewer sees old → new even after later changes. `org_id` is the organisation changed,
-- or for a person's change the person's unit.
ALTER TABLE people ADD COLUMN title_series TEXT;

CREATE TABLE change_requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    -- person, org or parent
    subject       TEXT NOT NULL,
    person_id     INTEGER,
    org_id        INTEGER NOT NULL,
    changes       TEXT NOT NULL,
    -- pending, approved, rejected or withdrawn
    status        TEXT NOT NULL,
    created_by    INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    decided_at    TEXT,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
-- One open change of each subject per person or organisation (409 change_pending).
CREATE UNIQUE INDEX change_requests_person_pending ON change_requests(tenant_id, person_id) WHERE status = 'pending' AND subject = 'person';
CREATE UNIQUE INDEX change_requests_org_pending ON change_requests(tenant_id, org_id) WHERE status = 'pending' AND subject = 'org';
CREATE UNIQUE INDEX change_requests_parent_pending ON change_requests(tenant_id, org_id) WHERE status = 'pending' AND subject = 'parent';
CREATE INDEX change_requests_subject ON change_requests(tenant_id, subject, org_id, created_at);
