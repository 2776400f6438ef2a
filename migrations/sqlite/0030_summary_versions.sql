-- A version per built tenant-year of the statistics summaries (issue 19 §4), bumped by every rebuild that
-- changed their rows and by every move of an organisation (a new path, supervisor or kind changes which
-- units a scope adds up). Sums over a scope are kept between requests under the version they were added
-- up at, so a page over a province need not add up 20,000 rows again while nothing changed.
ALTER TABLE stats_years ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER orgs_stats_version AFTER UPDATE OF path, supervisor_path, kind ON orgs
WHEN OLD.path IS NOT NEW.path OR OLD.supervisor_path IS NOT NEW.supervisor_path OR OLD.kind IS NOT NEW.kind
BEGIN
    UPDATE stats_years SET version = version + 1 WHERE tenant_id = NEW.tenant_id;
END;
