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

-- The years already built get this summary here, not from their next reader: for a province that
-- is a pass over a million people, longer than a request may take.
INSERT INTO stats_people (tenant_id, year, unit_id, title_level, people, met, judged)
SELECT y.tenant_id, y.year, p.unit_id, p.title_level, COUNT(*),
       SUM(CASE WHEN s.computed_at IS NOT NULL AND s.met THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.computed_at IS NOT NULL THEN 1 ELSE 0 END)
FROM stats_years y JOIN people p ON p.tenant_id = y.tenant_id
LEFT JOIN year_status s ON s.tenant_id = p.tenant_id AND s.person_id = p.id AND s.year = y.year
GROUP BY y.tenant_id, y.year, p.unit_id, p.title_level
UNION ALL
SELECT y.tenant_id, y.year, p.unit_id, '*', COUNT(*),
       SUM(CASE WHEN s.computed_at IS NOT NULL AND s.met THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.computed_at IS NOT NULL THEN 1 ELSE 0 END)
FROM stats_years y JOIN people p ON p.tenant_id = y.tenant_id
LEFT JOIN year_status s ON s.tenant_id = p.tenant_id AND s.person_id = p.id AND s.year = y.year
GROUP BY y.tenant_id, y.year, p.unit_id;
