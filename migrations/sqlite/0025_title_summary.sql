-- The title distribution (职称系列分布) from a summary too (issue 16): per unit, title series and level,
-- and year, the staff and how many met the year. Rebuilt with `stats_units` for the same marked units; a
-- change of a person's title series or level marks their unit for every year as well.
CREATE TABLE stats_titles (
    tenant_id TEXT NOT NULL,
    year      INTEGER NOT NULL,
    unit_id   INTEGER NOT NULL,
    -- '' when the profile names none
    series    TEXT NOT NULL,
    level     TEXT NOT NULL,
    staff     INTEGER NOT NULL,
    met       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, year, unit_id, series, level)
);

CREATE TRIGGER people_stats_titles AFTER UPDATE OF title_series, title_level ON people BEGIN
    INSERT INTO stats_dirty (tenant_id, unit_id, year) SELECT NEW.tenant_id, NEW.unit_id, 0
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = NEW.tenant_id AND d.unit_id = NEW.unit_id AND d.year = 0);
END;

-- Built years are built again, with their titles, the next time they are read.
DELETE FROM stats_years;
