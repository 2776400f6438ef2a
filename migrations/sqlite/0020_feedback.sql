-- Feedback (意见反馈, seed 001 §7): what a signed-in user reports, the organisation that answers it
-- (the tenant's `[feedback] handled_by`), and the reply.
CREATE TABLE feedback (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    account_id          INTEGER NOT NULL,
    handler_org_id      INTEGER NOT NULL,
    -- illegal_training, platform, suggestion or other
    category            TEXT NOT NULL,
    text                TEXT NOT NULL,
    attachment_blob_id  INTEGER,
    -- open, replied or closed
    status              TEXT NOT NULL,
    reply               TEXT,
    replied_by          INTEGER,
    replied_at          TEXT,
    created_at          TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, id),
    FOREIGN KEY (tenant_id, handler_org_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, attachment_blob_id) REFERENCES blobs(tenant_id, id),
    FOREIGN KEY (tenant_id, replied_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX feedback_by_handler ON feedback(tenant_id, handler_org_id, status);
CREATE INDEX feedback_by_account ON feedback(tenant_id, account_id);
