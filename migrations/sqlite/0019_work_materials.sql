-- Yearly work materials (年度工作材料报送, seed 004 §5.3): a supervising department or an HR bureau files
-- its year's study guides, work notices and other documents, each with a title and a file; the
-- departments above it see and download them.
CREATE TABLE work_materials (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    org_id      INTEGER NOT NULL,
    year        INTEGER NOT NULL,
    -- guide (学习指南), notice (工作通知) or other
    category    TEXT NOT NULL,
    title       TEXT NOT NULL,
    blob_id     INTEGER NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, blob_id) REFERENCES blobs(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX work_materials_by_org ON work_materials(tenant_id, org_id, year);
