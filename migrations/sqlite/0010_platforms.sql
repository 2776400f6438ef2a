-- Online training platforms (issue 6, seed 002 §4): machines that report completed courses.
-- Configured per tenant in tenant.toml ([[platforms]]) and synced here by `jijiao tenant sync`.
-- A platform is recognised for the years year_from..=year_to (year_to NULL: still recognised).
CREATE TABLE platforms (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    site       TEXT NOT NULL,
    phone      TEXT NOT NULL,
    year_from  INTEGER NOT NULL,
    year_to    INTEGER,
    -- false once the platform left tenant.toml: its keys stop working, its history stays.
    enabled    INTEGER NOT NULL,
    synced_at  TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, code)
);

-- API credentials. HMAC needs the secret on the server, so it is stored as issued (a random 256-bit
-- value, useless anywhere but against this API) and never shown again; rotating revokes the old key.
CREATE TABLE platform_keys (
    tenant_id   TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    platform_id INTEGER NOT NULL,
    secret      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  INTEGER,
    revoked_at  TEXT,
    PRIMARY KEY (tenant_id, key_id),
    FOREIGN KEY (tenant_id, platform_id) REFERENCES platforms(tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX platform_keys_platform ON platform_keys(tenant_id, platform_id);

-- Nonces of signed requests, kept until their timestamp can no longer be accepted: a second request
-- with the same nonce is a replay. In the database, so that every server process refuses it.
CREATE TABLE platform_nonces (
    tenant_id  TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key_id, nonce)
);
CREATE INDEX platform_nonces_expiry ON platform_nonces(tenant_id, expires_at);

-- Accepted completions: the platform's record, linked to the ledger credit it became. The credit's
-- source_ref ('platform:<code>:<record_id>') is the idempotency gate; digest is the normalised
-- payload, so a resend is told apart from a changed record under the same id (conflict).
CREATE TABLE platform_completions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL,
    platform_id  INTEGER NOT NULL,
    record_id    TEXT NOT NULL,
    digest       TEXT NOT NULL,
    person_id    INTEGER NOT NULL,
    credit_id    INTEGER NOT NULL,
    course_code  TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    order_id     TEXT,
    received_on  TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, platform_id, record_id),
    FOREIGN KEY (tenant_id, platform_id) REFERENCES platforms(tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id),
    FOREIGN KEY (tenant_id, credit_id) REFERENCES credits(tenant_id, id)
);
CREATE INDEX platform_completions_credit ON platform_completions(tenant_id, credit_id);
-- A person's completions (the hours under each order on 我的订单).
CREATE INDEX platform_completions_person ON platform_completions(tenant_id, person_id);

-- Rejected records as received (the JSON of the record), with the code and message they were answered
-- with, for the platform's and the operator's reconciliation.
CREATE TABLE platform_rejections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    platform_id INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    record      TEXT NOT NULL,
    received_on TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, platform_id) REFERENCES platforms(tenant_id, id)
);
CREATE INDEX platform_rejections_day ON platform_rejections(tenant_id, platform_id, received_on);

-- Reconciliation counters per platform and day (China time), updated in each batch's transaction:
-- received = accepted + duplicates + rejected; hours (hundredths) of the accepted records.
CREATE TABLE platform_days (
    tenant_id   TEXT NOT NULL,
    platform_id INTEGER NOT NULL,
    day         TEXT NOT NULL,
    received    INTEGER NOT NULL,
    accepted    INTEGER NOT NULL,
    duplicates  INTEGER NOT NULL,
    rejected    INTEGER NOT NULL,
    hours       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, platform_id, day),
    FOREIGN KEY (tenant_id, platform_id) REFERENCES platforms(tenant_id, id)
);

-- Purchases on a platform (seed 001 §5.8 我的订单), shown to the person. Amount in fen; courses as a
-- JSON array of {code, title, hours}. Idempotent on (platform, order_id); a changed status (refunded)
-- updates the row.
CREATE TABLE platform_orders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    platform_id INTEGER NOT NULL,
    order_id    TEXT NOT NULL,
    digest      TEXT NOT NULL,
    person_id   INTEGER NOT NULL,
    amount      INTEGER NOT NULL,
    status      TEXT NOT NULL,
    paid_at     TEXT NOT NULL,
    courses     TEXT NOT NULL,
    received_at TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, platform_id, order_id),
    FOREIGN KEY (tenant_id, platform_id) REFERENCES platforms(tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id)
);
CREATE INDEX platform_orders_person ON platform_orders(tenant_id, person_id, paid_at);
