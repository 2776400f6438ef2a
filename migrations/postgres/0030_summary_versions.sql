-- A version per built tenant-year of the statistics summaries (issue 19 §4), bumped by every rebuild that
-- changed their rows and by every move of an organisation (a new path, supervisor or kind changes which
-- units a scope adds up). Sums over a scope are kept between requests under the version they were added
-- up at, so a page over a province need not add up 20,000 rows again while nothing changed.
ALTER TABLE stats_years ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION stats_orgs_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stats_years y SET version = y.version + 1
    WHERE y.tenant_id IN (
        SELECT DISTINCT n.tenant_id FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
        WHERE (o.path, o.supervisor_path, o.kind) IS DISTINCT FROM (n.path, n.supervisor_path, n.kind));
    RETURN NULL;
END
$$;
CREATE TRIGGER orgs_stats_version AFTER UPDATE ON orgs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_orgs_moved();
