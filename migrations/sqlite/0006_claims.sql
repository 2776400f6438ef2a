-- Activity claims (其它继续教育形式 / 活动学时): a person's claim for hours, with the plugin's form values,
-- the hours the plugin assessed, proof attachments, and its route through the approval queue.
-- Each approval step is a row of `approvals` (kind 'claim'): the active step is 'pending', later steps
-- 'waiting'; a resubmission after a return starts a new round, so earlier rounds stay as history.
CREATE TABLE claims (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    person_id     INTEGER NOT NULL,
    unit_id       INTEGER NOT NULL,
    created_by    INTEGER NOT NULL,
    year          INTEGER NOT NULL,
    activity      TEXT NOT NULL,
    activity_name TEXT NOT NULL,
    -- JSON object of the form's non-file values.
    fields        TEXT NOT NULL,
    route_choice  TEXT,
    -- JSON list of {subject, hours} in hundredths, as the plugin assessed them.
    grants        TEXT NOT NULL,
    hours         INTEGER NOT NULL,
    status        TEXT NOT NULL,
    round         INTEGER NOT NULL DEFAULT 0,
    declared_by   INTEGER,
    plugin_sha256 TEXT,
    submitted_at  TEXT,
    decided_at    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id),
    FOREIGN KEY (tenant_id, declared_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX claims_person ON claims(tenant_id, person_id, year);
CREATE INDEX claims_unit ON claims(tenant_id, unit_id, status);

CREATE TABLE claim_attachments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    claim_id    INTEGER NOT NULL,
    field       TEXT NOT NULL,
    blob_id     INTEGER NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, claim_id) REFERENCES claims(tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, blob_id) REFERENCES blobs(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX claim_attachments_claim ON claim_attachments(tenant_id, claim_id);

-- Multi-step routes: which round and step a queue row belongs to, the role the route named, and the
-- organisation that declared the item (reviewers' queues are grouped by it).
ALTER TABLE approvals ADD COLUMN round INTEGER NOT NULL DEFAULT 1;
ALTER TABLE approvals ADD COLUMN step_no INTEGER NOT NULL DEFAULT 1;
ALTER TABLE approvals ADD COLUMN step_role TEXT;
ALTER TABLE approvals ADD COLUMN declaring_org_id INTEGER REFERENCES orgs(id);
CREATE INDEX approvals_subject ON approvals(tenant_id, subject_type, subject_id);
CREATE INDEX approvals_declaring ON approvals(tenant_id, kind, status, declaring_org_id);
