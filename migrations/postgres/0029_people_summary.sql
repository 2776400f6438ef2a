-- 人员学时 over a province (issue 19 §4): the list's counts (people, met, judged) from a summary instead
-- of counting a million people on every page. Per unit, title level and year, every person of the unit
-- (with or without an account, as the list shows them), how many met the year and how many have been
-- judged. Rebuilt with `stats_units` and `stats_titles` for the same marked units (the marks already
-- cover every input: a person joining, leaving or changing unit or title level, a status judged or
-- changing its verdict).
CREATE TABLE stats_people (
    tenant_id   TEXT NOT NULL,
    year        BIGINT NOT NULL,
    unit_id     BIGINT NOT NULL,
    -- '*': every level of the unit
    title_level TEXT NOT NULL,
    people      BIGINT NOT NULL,
    met         BIGINT NOT NULL,
    judged      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, year, title_level, unit_id)
);

-- The tenant wall of migration 0026.
ALTER TABLE stats_people ENABLE ROW LEVEL SECURITY;
ALTER TABLE stats_people FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_wall ON stats_people USING (
    COALESCE(current_setting('jijiao.tenant', true), '') = '' OR tenant_id = current_setting('jijiao.tenant', true));

-- The list filtered by department.
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
