-- Statistics at province scale (issue 16, speed), in two layers that always agree with the ledger.
--
-- 1. What each person learned in a year, kept by the ledger itself: the number of valid
-- (unrevoked) credits per subject and per kind of source — online platforms' or anything else. The
-- statistics count learners from these rows (one per person-year) instead of searching the credits
-- (≈ 10 per person-year). Triggers on `credits` keep them in the same transaction as every grant,
-- revocation or deletion, so they always agree with the ledger; a person-year whose credits were all
-- revoked keeps a row of zeros.
CREATE TABLE learning (
    tenant_id            TEXT NOT NULL,
    person_id            BIGINT NOT NULL,
    year                 BIGINT NOT NULL,
    public_online        BIGINT NOT NULL DEFAULT 0,
    public_offline       BIGINT NOT NULL DEFAULT 0,
    professional_online  BIGINT NOT NULL DEFAULT 0,
    professional_offline BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, person_id, year)
);

-- One statement-level trigger function for inserts, updates and deletes: the statement's valid rows
-- after (+1) and before (−1), summed per person-year and class and added in person-year order, so
-- concurrent batches lock the rows they share in the same order.
CREATE FUNCTION learning_tally() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT tenant_id, person_id, year, subject, source, 1 AS n FROM new_credits WHERE revoked_at IS NULL'
        WHEN 'DELETE' THEN 'SELECT tenant_id, person_id, year, subject, source, -1 AS n FROM old_credits WHERE revoked_at IS NULL'
        ELSE 'SELECT tenant_id, person_id, year, subject, source, 1 AS n FROM new_credits WHERE revoked_at IS NULL
              UNION ALL SELECT tenant_id, person_id, year, subject, source, -1 AS n FROM old_credits WHERE revoked_at IS NULL'
    END;
BEGIN
    EXECUTE format($sql$
        INSERT INTO learning AS l (tenant_id, person_id, year, public_online, public_offline, professional_online, professional_offline)
        SELECT tenant_id, person_id, year,
               COALESCE(SUM(n) FILTER (WHERE subject = 'public' AND source = 'online'), 0),
               COALESCE(SUM(n) FILTER (WHERE subject = 'public' AND source <> 'online'), 0),
               COALESCE(SUM(n) FILTER (WHERE subject = 'professional' AND source = 'online'), 0),
               COALESCE(SUM(n) FILTER (WHERE subject = 'professional' AND source <> 'online'), 0)
        FROM (%s) changed
        GROUP BY tenant_id, person_id, year
        ORDER BY tenant_id, person_id, year
        ON CONFLICT (tenant_id, person_id, year) DO UPDATE SET
            public_online = l.public_online + EXCLUDED.public_online,
            public_offline = l.public_offline + EXCLUDED.public_offline,
            professional_online = l.professional_online + EXCLUDED.professional_online,
            professional_offline = l.professional_offline + EXCLUDED.professional_offline
    $sql$, changed);
    RETURN NULL;
END
$$;

CREATE TRIGGER credits_learning_insert AFTER INSERT ON credits
    REFERENCING NEW TABLE AS new_credits FOR EACH STATEMENT EXECUTE FUNCTION learning_tally();
CREATE TRIGGER credits_learning_update AFTER UPDATE ON credits
    REFERENCING OLD TABLE AS old_credits NEW TABLE AS new_credits FOR EACH STATEMENT EXECUTE FUNCTION learning_tally();
CREATE TRIGGER credits_learning_delete AFTER DELETE ON credits
    REFERENCING OLD TABLE AS old_credits FOR EACH STATEMENT EXECUTE FUNCTION learning_tally();

-- The ledger so far.
INSERT INTO learning (tenant_id, person_id, year, public_online, public_offline, professional_online, professional_offline)
SELECT tenant_id, person_id, year,
       COUNT(*) FILTER (WHERE subject = 'public' AND source = 'online'),
       COUNT(*) FILTER (WHERE subject = 'public' AND source <> 'online'),
       COUNT(*) FILTER (WHERE subject = 'professional' AND source = 'online'),
       COUNT(*) FILTER (WHERE subject = 'professional' AND source <> 'online')
FROM credits WHERE revoked_at IS NULL GROUP BY tenant_id, person_id, year;

-- Children and supervised organisations are looked up by parent (org browser, statistics rows).
CREATE INDEX orgs_parent ON orgs(tenant_id, parent_id);
CREATE INDEX orgs_supervisor ON orgs(tenant_id, supervisor_id);
-- A person's accounts (is this person staff?), looked up per person at scale.
CREATE INDEX accounts_person ON accounts(tenant_id, person_id);

-- 2. Per unit, department and year, the numbers of the comprehensive table (继教综合统计): staff, people
-- who learned by class, and the qualified. A province's table adds up ~20,000 units' rows instead of
-- judging a million people. Rows are rebuilt, not patched: whatever changes an input (a person-year's
-- learning or stored status, a person's unit or department, a staff account) appends a mark for the
-- unit and year (year 0: every year), and the statistics rebuild the marked units' rows in the
-- transaction that reads them (`stats::summary`), so a table is never older than the ledger. A year is
-- built whole the first time it is asked for (`stats_years`).
CREATE TABLE stats_years (
    tenant_id TEXT NOT NULL,
    year      BIGINT NOT NULL,
    built_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, year)
);

CREATE TABLE stats_units (
    tenant_id            TEXT NOT NULL,
    year                 BIGINT NOT NULL,
    unit_id              BIGINT NOT NULL,
    -- 0: staff in no department
    department_id        BIGINT NOT NULL,
    staff                BIGINT NOT NULL,
    all_total            BIGINT NOT NULL,
    all_online           BIGINT NOT NULL,
    all_offline          BIGINT NOT NULL,
    public_total         BIGINT NOT NULL,
    public_online        BIGINT NOT NULL,
    public_offline       BIGINT NOT NULL,
    professional_total   BIGINT NOT NULL,
    professional_online  BIGINT NOT NULL,
    professional_offline BIGINT NOT NULL,
    qualified_people     BIGINT NOT NULL,
    qualified_courses    BIGINT NOT NULL,
    qualified_overall    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, year, unit_id, department_id)
);

-- A unit-year has at most a few marks: a writer adds one only when none is there, and holds the one it
-- found (KEY SHARE) until it commits, so a rebuild that deletes the marks it will act on waits for the
-- writers still counting on them and then sees their changes. Writers never wait for each other.
CREATE TABLE stats_dirty (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    unit_id   BIGINT NOT NULL,
    year      BIGINT NOT NULL
);
CREATE INDEX stats_dirty_unit ON stats_dirty(tenant_id, unit_id, year);
CREATE INDEX stats_dirty_year ON stats_dirty(tenant_id, year);

-- One statement-level trigger function for every input; what a change marks, by table:
--   learning, year_status: the person's unit, that year (a status only when what the table counts
--   changed, not when it is merely marked stale); people: the unit left and the unit joined, every
--   year (0), when either changed; accounts: the person's unit, every year, when the type, status or
--   person changed (not on a login).
CREATE FUNCTION stats_mark() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    person_years CONSTANT TEXT := 'SELECT n.tenant_id, p.unit_id, n.year FROM new_rows n JOIN people p ON p.tenant_id = n.tenant_id AND p.id = n.person_id';
    wanted TEXT;
BEGIN
    IF TG_TABLE_NAME = 'year_status' AND TG_OP = 'UPDATE' THEN
        wanted := person_years || ' JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.person_id = n.person_id AND o.year = n.year
            WHERE (o.computed_at IS NULL) <> (n.computed_at IS NULL) OR o.met <> n.met
               OR (o.shortfall_public = 0) <> (n.shortfall_public = 0) OR (o.shortfall_professional = 0) <> (n.shortfall_professional = 0)';
    ELSIF TG_TABLE_NAME IN ('learning', 'year_status') THEN
        wanted := person_years;
    ELSIF TG_TABLE_NAME = 'people' THEN
        wanted := CASE TG_OP
            WHEN 'INSERT' THEN 'SELECT tenant_id, unit_id, 0 FROM new_rows'
            WHEN 'DELETE' THEN 'SELECT tenant_id, unit_id, 0 FROM old_rows'
            ELSE 'SELECT n.tenant_id, u.unit_id, 0 FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
                  CROSS JOIN LATERAL (VALUES (n.unit_id), (o.unit_id)) AS u(unit_id)
                  WHERE (o.unit_id, o.department_id) IS DISTINCT FROM (n.unit_id, n.department_id)' END;
    ELSE
        wanted := 'SELECT p.tenant_id, p.unit_id, 0 FROM ('
            || CASE TG_OP
                WHEN 'INSERT' THEN 'SELECT tenant_id, person_id FROM new_rows'
                WHEN 'DELETE' THEN 'SELECT tenant_id, person_id FROM old_rows'
                ELSE 'SELECT n.tenant_id, x.person_id FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
                      CROSS JOIN LATERAL (VALUES (n.person_id), (o.person_id)) AS x(person_id)
                      WHERE (o.user_type, o.status, o.person_id) IS DISTINCT FROM (n.user_type, n.status, n.person_id)' END
            || ') a JOIN people p ON p.tenant_id = a.tenant_id AND p.id = a.person_id';
    END IF;
    EXECUTE format($sql$
        INSERT INTO stats_dirty (tenant_id, unit_id, year)
        SELECT w.tenant_id, w.unit_id, w.year FROM (SELECT DISTINCT * FROM (%s) AS changed(tenant_id, unit_id, year)) w
        WHERE NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = w.tenant_id AND d.unit_id = w.unit_id AND d.year = w.year FOR KEY SHARE)
    $sql$, wanted);
    RETURN NULL;
END
$$;
CREATE TRIGGER learning_stats_insert AFTER INSERT ON learning
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_mark();
CREATE TRIGGER learning_stats_update AFTER UPDATE ON learning
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_mark();
CREATE TRIGGER year_status_stats_insert AFTER INSERT ON year_status
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_mark();
CREATE TRIGGER year_status_stats_update AFTER UPDATE ON year_status
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_mark();
CREATE TRIGGER people_stats_insert AFTER INSERT ON people
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_mark();
CREATE TRIGGER people_stats_update AFTER UPDATE ON people
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_mark();
CREATE TRIGGER people_stats_delete AFTER DELETE ON people
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_mark();
CREATE TRIGGER accounts_stats_insert AFTER INSERT ON accounts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_mark();
CREATE TRIGGER accounts_stats_update AFTER UPDATE ON accounts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_mark();
CREATE TRIGGER accounts_stats_delete AFTER DELETE ON accounts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_mark();
