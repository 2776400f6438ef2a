-- The title distribution (职称系列分布) from a summary too (issue 16): per unit, title series and level,
-- and year, the staff and how many met the year. Rebuilt with `stats_units` for the same marked units; a
-- change of a person's title series or level marks their unit for every year as well.
CREATE TABLE stats_titles (
    tenant_id TEXT NOT NULL,
    year      BIGINT NOT NULL,
    unit_id   BIGINT NOT NULL,
    -- '' when the profile names none
    series    TEXT NOT NULL,
    level     TEXT NOT NULL,
    staff     BIGINT NOT NULL,
    met       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, year, unit_id, series, level)
);

CREATE FUNCTION stats_mark_titles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_dirty (tenant_id, unit_id, year)
    SELECT w.tenant_id, w.unit_id, 0
    FROM (SELECT DISTINCT n.tenant_id, n.unit_id FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
          WHERE (o.title_series, o.title_level) IS DISTINCT FROM (n.title_series, n.title_level)) w
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = w.tenant_id AND d.unit_id = w.unit_id AND d.year = 0 FOR KEY SHARE);
    RETURN NULL;
END
$$;
CREATE TRIGGER people_stats_titles AFTER UPDATE ON people
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_titles();

-- Built years are built again, with their titles, the next time they are read.
DELETE FROM stats_years;
