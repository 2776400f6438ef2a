-- Notices (当地站内消息, issue 18 §2): an admin writes to everyone in its subtree, or only its staff or
-- only its admins, or one unit or region below it. A notice is one row however many people it reaches:
-- recipients are matched when they read their messages (the target organisation is on the path of the
-- recipient's organisation), and a read is one row in notice_reads written when it happens.
CREATE TABLE notices (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    sender_account_id   INTEGER NOT NULL,
    sender_org_id       INTEGER NOT NULL,
    -- the root of the subtree it reaches: the sender's organisation or one below it
    target_org_id       INTEGER NOT NULL,
    -- all, staff or admins
    audience            TEXT NOT NULL,
    title               TEXT NOT NULL,
    body                TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    withdrawn_at        TEXT,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, sender_account_id) REFERENCES accounts(tenant_id, id),
    FOREIGN KEY (tenant_id, sender_org_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, target_org_id) REFERENCES orgs(tenant_id, id)
);
CREATE INDEX notices_by_target ON notices(tenant_id, target_org_id);
CREATE INDEX notices_by_sender ON notices(tenant_id, sender_org_id);

CREATE TABLE notice_reads (
    tenant_id   TEXT NOT NULL,
    notice_id   INTEGER NOT NULL,
    account_id  INTEGER NOT NULL,
    read_at     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, notice_id, account_id),
    FOREIGN KEY (tenant_id, notice_id) REFERENCES notices(tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, id) ON DELETE CASCADE
);
