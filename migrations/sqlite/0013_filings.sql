-- Offline training filings (线下培训备案, issue 6 part 6; seed 002 《事业单位工作人员线下培训备案表》).
-- A unit or an industry authority files an offline training with the form's fields; the rules plugin
-- routes it (request kind training-plan): professional to the supervising department, public to the HR
-- department at the filer's level (Hunan). pending → accepted | rejected; the filer may withdraw a
-- pending filing, edit (resubmit as a new round) or delete one that is not accepted. Deleted filings are
-- kept as `deleted` for the audit trail and the queue rows that name them.
CREATE TABLE training_filings (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    -- 申报单位: the filer's organisation
    org_id              INTEGER NOT NULL,
    -- 培训科目: public or professional
    subject             TEXT NOT NULL,
    -- 培训机构, 培训机构地址, 邮编, E-mail
    institution         TEXT NOT NULL,
    institution_address TEXT NOT NULL,
    postcode            TEXT NOT NULL,
    email               TEXT,
    -- 培训负责人 / 职务 / 电话
    leader_name         TEXT NOT NULL,
    leader_title        TEXT NOT NULL,
    leader_phone        TEXT NOT NULL,
    -- 培训联系人 / 职务 / 电话
    contact_name        TEXT NOT NULL,
    contact_title       TEXT NOT NULL,
    contact_phone       TEXT NOT NULL,
    -- 培训名称, 培训时间 (YYYY-MM-DD; year is the start date's, for filters and the plugin's year),
    -- 培训地点
    name                TEXT NOT NULL,
    start_date          TEXT NOT NULL,
    end_date            TEXT NOT NULL,
    year                INTEGER NOT NULL,
    place               TEXT NOT NULL,
    -- 培训范围及人数
    scope               TEXT NOT NULL,
    participants        INTEGER NOT NULL,
    -- 培训计划 (at most 2000 characters)
    plan                TEXT NOT NULL,
    -- the deciding department where the province lets the filer choose (Henan: authority | hr_bureau)
    route_choice        TEXT,
    -- pending, accepted, rejected, withdrawn or deleted
    status              TEXT NOT NULL,
    round               INTEGER NOT NULL DEFAULT 1,
    created_by          INTEGER NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    decided_at          TEXT,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX training_filings_org ON training_filings(tenant_id, org_id, status, year);
