-- CE institutions' yearly reports (seed 004 §5.1.5): 年度培训计划 (kind 'plan') and 年度工作总结 (kind
-- 'summary'), each with its figures, text and a document, audited along the route the tenant's rules
-- plugin names (request kinds 'annual_plan' and 'annual_summary'). A rejected or withdrawn report may be
-- filed again; at most one pending or approved report per institution, kind and year.
CREATE TABLE institution_reports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    -- plan or summary
    kind            TEXT NOT NULL,
    institution_id  INTEGER NOT NULL,
    year            INTEGER NOT NULL,
    title           TEXT NOT NULL,
    content         TEXT NOT NULL,
    -- classes and trainees planned (plan) or held (summary)
    classes         INTEGER NOT NULL,
    trainees        INTEGER NOT NULL,
    document_blob_id INTEGER NOT NULL,
    -- pending, approved, rejected or withdrawn
    status          TEXT NOT NULL,
    created_by      INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    decided_at      TEXT,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, institution_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, document_blob_id) REFERENCES blobs(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
CREATE UNIQUE INDEX institution_reports_open ON institution_reports(tenant_id, institution_id, kind, year) WHERE status IN ('pending', 'approved');
CREATE INDEX institution_reports_by_year ON institution_reports(tenant_id, kind, year, institution_id);
