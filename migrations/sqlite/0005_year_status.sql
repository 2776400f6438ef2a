-- Stored yearly status (issue 4 §1): a person's standing for a year as the tenant's rules plugin judged
-- it, so that lists never call the plugin per row. Hours are hundredths. A background job recomputes a
-- row whenever a credit is granted or revoked, the title level changes or the tenant's rules change.
-- `generation` counts the changes that call for a recompute; `computed_generation` is the generation the
-- stored numbers reflect, so a row is stale while computed_generation < generation (a recompute that
-- raced a newer change leaves it stale for the next job). `computed_at` is NULL until first computed.
CREATE TABLE year_status (
    tenant_id              TEXT NOT NULL,
    person_id              INTEGER NOT NULL,
    year                   INTEGER NOT NULL,
    met                    INTEGER NOT NULL DEFAULT 0,
    required_public        INTEGER NOT NULL DEFAULT 0,
    required_professional  INTEGER NOT NULL DEFAULT 0,
    required_total         INTEGER NOT NULL DEFAULT 0,
    counted_public         INTEGER NOT NULL DEFAULT 0,
    counted_professional   INTEGER NOT NULL DEFAULT 0,
    counted_total          INTEGER NOT NULL DEFAULT 0,
    shortfall_public       INTEGER NOT NULL DEFAULT 0,
    shortfall_professional INTEGER NOT NULL DEFAULT 0,
    shortfall_total        INTEGER NOT NULL DEFAULT 0,
    -- JSON array of the plugin's notes (missing required courses, caps applied …).
    notes                  TEXT NOT NULL DEFAULT '[]',
    plugin_sha256          TEXT,
    computed_at            TEXT,
    generation             INTEGER NOT NULL DEFAULT 1,
    computed_generation    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, person_id, year),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id)
);
CREATE INDEX year_status_year ON year_status(tenant_id, year, met);

-- What the stored statuses of a tenant were judged with: a digest of rules.toml and the plugin pins.
-- `tenant sync` compares it and queues a recompute of every stored year when it changed.
CREATE TABLE year_status_config (
    tenant_id  TEXT PRIMARY KEY,
    digest     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Jobs queued "once" (`jobs::enqueue_once_tx`: recomputes are queued once per person-year, not once per
-- credit) carry a digest of their kind and payload, to find a waiting twin without comparing payloads.
ALTER TABLE jobs ADD COLUMN dedupe_key TEXT;
CREATE INDEX jobs_pending ON jobs(tenant_id, dedupe_key) WHERE state = 'queued' AND dedupe_key IS NOT NULL;
