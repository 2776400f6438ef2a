-- 人员学时's counts from a summary (see the PostgreSQL migration of the same number).
CREATE TABLE stats_people (
    tenant_id   TEXT NOT NULL,
    year        INTEGER NOT NULL,
    unit_id     INTEGER NOT NULL,
    -- '*': every level of the unit
    title_level TEXT NOT NULL,
    people      INTEGER NOT NULL,
    met         INTEGER NOT NULL,
    judged      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, year, title_level, unit_id)
);

CREATE INDEX people_department ON people(tenant_id, department_id);

-- The list's order (unit name, then the person's name): a page is read from the first units by name
-- (orgs_kind_name) instead of sorting everyone in scope.
CREATE INDEX people_unit_name ON people(tenant_id, unit_id, name, id);
DROP INDEX people_unit;

-- Built years are built again, with this summary, the next time they are read.
DELETE FROM stats_years;
