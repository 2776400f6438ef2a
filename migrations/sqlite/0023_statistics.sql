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
    person_id            INTEGER NOT NULL,
    year                 INTEGER NOT NULL,
    public_online        INTEGER NOT NULL DEFAULT 0,
    public_offline       INTEGER NOT NULL DEFAULT 0,
    professional_online  INTEGER NOT NULL DEFAULT 0,
    professional_offline INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, person_id, year)
);

-- A valid credit counts +1 in its class when it appears and −1 when it goes (revoked, changed or
-- deleted).
CREATE TRIGGER credits_learning_insert AFTER INSERT ON credits WHEN NEW.revoked_at IS NULL
BEGIN
    INSERT INTO learning (tenant_id, person_id, year, public_online, public_offline, professional_online, professional_offline)
    VALUES (NEW.tenant_id, NEW.person_id, NEW.year,
            NEW.subject = 'public' AND NEW.source = 'online', NEW.subject = 'public' AND NEW.source <> 'online',
            NEW.subject = 'professional' AND NEW.source = 'online', NEW.subject = 'professional' AND NEW.source <> 'online')
    ON CONFLICT (tenant_id, person_id, year) DO UPDATE SET
        public_online = public_online + excluded.public_online,
        public_offline = public_offline + excluded.public_offline,
        professional_online = professional_online + excluded.professional_online,
        professional_offline = professional_offline + excluded.professional_offline;
END;

CREATE TRIGGER credits_learning_remove AFTER DELETE ON credits WHEN OLD.revoked_at IS NULL
BEGIN
    UPDATE learning SET
        public_online = public_online - (OLD.subject = 'public' AND OLD.source = 'online'),
        public_offline = public_offline - (OLD.subject = 'public' AND OLD.source <> 'online'),
        professional_online = professional_online - (OLD.subject = 'professional' AND OLD.source = 'online'),
        professional_offline = professional_offline - (OLD.subject = 'professional' AND OLD.source <> 'online')
    WHERE tenant_id = OLD.tenant_id AND person_id = OLD.person_id AND year = OLD.year;
END;

CREATE TRIGGER credits_learning_update AFTER UPDATE OF person_id, year, subject, source, revoked_at ON credits
BEGIN
    UPDATE learning SET
        public_online = public_online - (OLD.subject = 'public' AND OLD.source = 'online'),
        public_offline = public_offline - (OLD.subject = 'public' AND OLD.source <> 'online'),
        professional_online = professional_online - (OLD.subject = 'professional' AND OLD.source = 'online'),
        professional_offline = professional_offline - (OLD.subject = 'professional' AND OLD.source <> 'online')
    WHERE OLD.revoked_at IS NULL AND tenant_id = OLD.tenant_id AND person_id = OLD.person_id AND year = OLD.year;
    INSERT INTO learning (tenant_id, person_id, year, public_online, public_offline, professional_online, professional_offline)
    SELECT NEW.tenant_id, NEW.person_id, NEW.year,
           NEW.subject = 'public' AND NEW.source = 'online', NEW.subject = 'public' AND NEW.source <> 'online',
           NEW.subject = 'professional' AND NEW.source = 'online', NEW.subject = 'professional' AND NEW.source <> 'online'
    WHERE NEW.revoked_at IS NULL
    ON CONFLICT (tenant_id, person_id, year) DO UPDATE SET
        public_online = public_online + excluded.public_online,
        public_offline = public_offline + excluded.public_offline,
        professional_online = professional_online + excluded.professional_online,
        professional_offline = professional_offline + excluded.professional_offline;
END;

-- The ledger so far.
INSERT INTO learning (tenant_id, person_id, year, public_online, public_offline, professional_online, professional_offline)
SELECT tenant_id, person_id, year,
       SUM(subject = 'public' AND source = 'online'), SUM(subject = 'public' AND source <> 'online'),
       SUM(subject = 'professional' AND source = 'online'), SUM(subject = 'professional' AND source <> 'online')
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
    year      INTEGER NOT NULL,
    built_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, year)
);

CREATE TABLE stats_units (
    tenant_id            TEXT NOT NULL,
    year                 INTEGER NOT NULL,
    unit_id              INTEGER NOT NULL,
    -- 0: staff in no department
    department_id        INTEGER NOT NULL,
    staff                INTEGER NOT NULL,
    all_total            INTEGER NOT NULL,
    all_online           INTEGER NOT NULL,
    all_offline          INTEGER NOT NULL,
    public_total         INTEGER NOT NULL,
    public_online        INTEGER NOT NULL,
    public_offline       INTEGER NOT NULL,
    professional_total   INTEGER NOT NULL,
    professional_online  INTEGER NOT NULL,
    professional_offline INTEGER NOT NULL,
    qualified_people     INTEGER NOT NULL,
    qualified_courses    INTEGER NOT NULL,
    qualified_overall    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, year, unit_id, department_id)
);

-- A unit-year has at most one mark: a writer adds one only when none is there (writers are serialised).
CREATE TABLE stats_dirty (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    unit_id   INTEGER NOT NULL,
    year      INTEGER NOT NULL
);
CREATE INDEX stats_dirty_unit ON stats_dirty(tenant_id, unit_id, year);
CREATE INDEX stats_dirty_year ON stats_dirty(tenant_id, year);

-- A person-year's learning or stored status changed: its person's unit, that year.
CREATE TRIGGER learning_stats_insert AFTER INSERT ON learning BEGIN
    INSERT INTO stats_dirty (tenant_id, unit_id, year)
    SELECT NEW.tenant_id, p.unit_id, NEW.year FROM people p WHERE p.tenant_id = NEW.tenant_id AND p.id = NEW.person_id
      AND NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = p.tenant_id AND d.unit_id = p.unit_id AND d.year = NEW.year);
END;
CREATE TRIGGER learning_stats_update AFTER UPDATE ON learning BEGIN
    INSERT INTO stats_dirty (tenant_id, unit_id, year)
    SELECT NEW.tenant_id, p.unit_id, NEW.year FROM people p WHERE p.tenant_id = NEW.tenant_id AND p.id = NEW.person_id
      AND NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = p.tenant_id AND d.unit_id = p.unit_id AND d.year = NEW.year);
END;
CREATE TRIGGER year_status_stats_insert AFTER INSERT ON year_status BEGIN
    INSERT INTO stats_dirty (tenant_id, unit_id, year)
    SELECT NEW.tenant_id, p.unit_id, NEW.year FROM people p WHERE p.tenant_id = NEW.tenant_id AND p.id = NEW.person_id
      AND NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = p.tenant_id AND d.unit_id = p.unit_id AND d.year = NEW.year);
END;
-- A stored status changed in what the table counts (not merely marked stale).
CREATE TRIGGER year_status_stats_update AFTER UPDATE ON year_status
WHEN (OLD.computed_at IS NULL) <> (NEW.computed_at IS NULL) OR OLD.met <> NEW.met
  OR (OLD.shortfall_public = 0) <> (NEW.shortfall_public = 0) OR (OLD.shortfall_professional = 0) <> (NEW.shortfall_professional = 0)
BEGIN
    INSERT INTO stats_dirty (tenant_id, unit_id, year)
    SELECT NEW.tenant_id, p.unit_id, NEW.year FROM people p WHERE p.tenant_id = NEW.tenant_id AND p.id = NEW.person_id
      AND NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = p.tenant_id AND d.unit_id = p.unit_id AND d.year = NEW.year);
END;

-- A person moved (unit or department), or came or went: both units, every year.
CREATE TRIGGER people_stats_insert AFTER INSERT ON people BEGIN
    INSERT INTO stats_dirty (tenant_id, unit_id, year) SELECT NEW.tenant_id, NEW.unit_id, 0
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = NEW.tenant_id AND d.unit_id = NEW.unit_id AND d.year = 0);
END;
CREATE TRIGGER people_stats_update AFTER UPDATE OF unit_id, department_id ON people BEGIN
    INSERT INTO stats_dirty (tenant_id, unit_id, year) SELECT DISTINCT NEW.tenant_id, u, 0 FROM (SELECT OLD.unit_id AS u UNION SELECT NEW.unit_id)
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = NEW.tenant_id AND d.unit_id = u AND d.year = 0);
END;
CREATE TRIGGER people_stats_delete AFTER DELETE ON people BEGIN
    INSERT INTO stats_dirty (tenant_id, unit_id, year) SELECT OLD.tenant_id, OLD.unit_id, 0
    WHERE NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = OLD.tenant_id AND d.unit_id = OLD.unit_id AND d.year = 0);
END;

-- A staff account appeared, changed type or status, or went: its person's unit, every year.
CREATE TRIGGER accounts_stats_insert AFTER INSERT ON accounts WHEN NEW.person_id IS NOT NULL BEGIN
    INSERT INTO stats_dirty (tenant_id, unit_id, year)
    SELECT NEW.tenant_id, p.unit_id, 0 FROM people p WHERE p.tenant_id = NEW.tenant_id AND p.id = NEW.person_id
      AND NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = p.tenant_id AND d.unit_id = p.unit_id AND d.year = 0);
END;
CREATE TRIGGER accounts_stats_update AFTER UPDATE OF user_type, status, person_id ON accounts BEGIN
    INSERT INTO stats_dirty (tenant_id, unit_id, year)
    SELECT DISTINCT p.tenant_id, p.unit_id, 0 FROM people p WHERE p.tenant_id = OLD.tenant_id AND p.id IN (OLD.person_id, NEW.person_id)
      AND NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = p.tenant_id AND d.unit_id = p.unit_id AND d.year = 0);
END;
CREATE TRIGGER accounts_stats_delete AFTER DELETE ON accounts WHEN OLD.person_id IS NOT NULL BEGIN
    INSERT INTO stats_dirty (tenant_id, unit_id, year)
    SELECT OLD.tenant_id, p.unit_id, 0 FROM people p WHERE p.tenant_id = OLD.tenant_id AND p.id = OLD.person_id
      AND NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.tenant_id = p.tenant_id AND d.unit_id = p.unit_id AND d.year = 0);
END;
