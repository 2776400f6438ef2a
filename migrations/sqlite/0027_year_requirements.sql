-- 管理年度完成继续教育学时 (seed 003): the hours each title level must complete in a year, saved by the
-- tenant's system administrator. A year's rows replace the rules file's `requirements` for that year;
-- `*` is the row for every level the table does not name. Hours in hundredths.
CREATE TABLE year_requirements (
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    year               INTEGER NOT NULL,
    title_level        TEXT NOT NULL,
    public_hours       INTEGER NOT NULL CHECK (public_hours >= 0),
    professional_hours INTEGER NOT NULL CHECK (professional_hours >= 0),
    total_hours        INTEGER NOT NULL CHECK (total_hours >= 0),
    updated_by         INTEGER NOT NULL,
    updated_at         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, year, title_level)
);
