-- Hours after an offline filing (issue 18 §6; seed 002: offline hours "需经相关部门认定后，将学时数据上传
-- 至管理平台"). Once a filing is accepted its organisation uploads who took part and their hours; the
-- organisation that accepted the filing confirms the list in its approval queue (kind filing_roster), and
-- the confirmed people get `offline` credits sourced to the filing. pending → confirmed | returned;
-- the uploader may withdraw a pending list. At most one list per filing is pending or confirmed.
CREATE TABLE filing_rosters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    filing_id   INTEGER NOT NULL,
    -- pending, confirmed, returned or withdrawn
    status      TEXT NOT NULL,
    -- how many people, and their hours together (hundredths)
    people      INTEGER NOT NULL,
    hours       INTEGER NOT NULL,
    -- the uploaded file's name (none when typed into the form)
    filename    TEXT,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    decided_at  TEXT,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, filing_id) REFERENCES training_filings(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
CREATE UNIQUE INDEX filing_rosters_open ON filing_rosters(tenant_id, filing_id) WHERE status IN ('pending', 'confirmed');

CREATE TABLE filing_roster_rows (
    tenant_id   TEXT NOT NULL,
    roster_id   INTEGER NOT NULL,
    -- the row's line in the upload
    line        INTEGER NOT NULL,
    person_id   INTEGER NOT NULL,
    hours       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, roster_id, person_id),
    FOREIGN KEY (tenant_id, roster_id) REFERENCES filing_rosters(tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id)
);
