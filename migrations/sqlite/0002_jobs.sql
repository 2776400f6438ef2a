-- Background jobs shared by every server process (issue 4 §8). A job is claimed by one worker at a
-- time: `run_after` is when a queued job becomes due, and for a running job the end of the claim's
-- lease (a worker that died mid-job leaves its job to be claimed again after the lease).
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    run_after     TEXT NOT NULL,
    worker        TEXT,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs(state, run_after);
CREATE INDEX jobs_tenant ON jobs(tenant_id, kind, created_at);
