-- The hours ledger: every credit a person holds, once. Hours are hundredths (fixed point, never floats).
-- A credit is never deleted: revoking keeps the row with who, when and why.
CREATE TABLE credits (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL,
    person_id     INTEGER NOT NULL,
    year          INTEGER NOT NULL,
    subject       TEXT NOT NULL,
    hours         INTEGER NOT NULL,
    source        TEXT NOT NULL,
    -- Unique per tenant: the same completion, claim part or imported record is never counted twice.
    source_ref    TEXT NOT NULL,
    course        TEXT,
    granted_by    INTEGER,
    created_at    TEXT NOT NULL,
    revoked_at    TEXT,
    revoked_by    INTEGER,
    revoke_reason TEXT,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, source_ref),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id),
    FOREIGN KEY (tenant_id, granted_by) REFERENCES accounts(tenant_id, id),
    FOREIGN KEY (tenant_id, revoked_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX credits_person_year ON credits(tenant_id, person_id, year);
