-- Foundation: tenants, basic data, organisations, people, accounts, sessions, approvals, audit, messages.
-- Every tenant-owned row carries tenant_id; (tenant_id, id) is unique so that foreign keys name both and
-- a row can never point into another tenant.
-- Orgs sit in the regional tree (`path`: province → city → county bureau → unit) and, when an industry
-- authority supervises them, also under it (`supervisor_path`); an admin's scope is either.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    short_name  TEXT NOT NULL,
    hosts       TEXT NOT NULL,
    settings    TEXT NOT NULL,
    policy      TEXT NOT NULL,
    synced_at   TEXT NOT NULL
);

CREATE TABLE basic_data (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    kind        TEXT NOT NULL,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    parent_code TEXT,
    sort        INTEGER NOT NULL DEFAULT 0,
    enabled     INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, kind, code)
);

CREATE TABLE blobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    storage_key  TEXT NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (tenant_id, id)
);

CREATE TABLE orgs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    credit_code   TEXT,
    ext_key       TEXT,
    parent_id     INTEGER,
    path          TEXT NOT NULL DEFAULT '',
    supervisor_id INTEGER,
    supervisor_path TEXT,
    level         TEXT NOT NULL,
    region_code   TEXT,
    hr_bureau_id  INTEGER,
    nature        TEXT,
    affiliation   TEXT,
    industry      TEXT,
    contact_name  TEXT,
    contact_phone TEXT,
    address       TEXT,
    licence_blob_id INTEGER,
    status        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, hr_bureau_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, supervisor_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, licence_blob_id) REFERENCES blobs(tenant_id, id)
);
CREATE UNIQUE INDEX orgs_credit_code ON orgs(tenant_id, credit_code) WHERE credit_code IS NOT NULL;
CREATE UNIQUE INDEX orgs_ext_key ON orgs(tenant_id, ext_key) WHERE ext_key IS NOT NULL;
CREATE INDEX orgs_path ON orgs(tenant_id, path);
CREATE INDEX orgs_supervisor_path ON orgs(tenant_id, supervisor_path);
CREATE INDEX orgs_kind_name ON orgs(tenant_id, kind, name);

CREATE TABLE people (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    id_number     TEXT NOT NULL,
    name          TEXT NOT NULL,
    gender        TEXT NOT NULL,
    ethnicity     TEXT,
    phone         TEXT,
    email         TEXT,
    native_place  TEXT,
    education     TEXT,
    major         TEXT,
    school        TEXT,
    graduated_on  TEXT,
    unit_id       INTEGER NOT NULL,
    department_id INTEGER,
    title         TEXT,
    title_level   TEXT NOT NULL,
    title_date    TEXT,
    post          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, id_number),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, department_id) REFERENCES orgs(tenant_id, id)
);
CREATE INDEX people_unit ON people(tenant_id, unit_id);

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    user_type     TEXT NOT NULL,
    id_number     TEXT NOT NULL,
    name          TEXT NOT NULL,
    phone         TEXT,
    email         TEXT,
    org_id        INTEGER,
    person_id     INTEGER,
    role          TEXT NOT NULL,
    status        TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    last_login_at TEXT,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, user_type, id_number),
    FOREIGN KEY (tenant_id, org_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id)
);
CREATE INDEX accounts_org ON accounts(tenant_id, org_id);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    account_id  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_account ON sessions(tenant_id, account_id);

-- Fixed-window counters shared by every server process: login failures per account and address,
-- and rate limits of public endpoints.
CREATE TABLE throttle_counters (
    tenant_id     TEXT NOT NULL,
    key           TEXT NOT NULL,
    hits          INTEGER NOT NULL,
    window_start  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE captchas (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    answer      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE TABLE password_tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    account_id  INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE approvals (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    kind          TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    INTEGER NOT NULL,
    summary       TEXT NOT NULL,
    applicant_account_id INTEGER,
    approver_org_id INTEGER NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT,
    decided_by    INTEGER,
    decided_at    TEXT,
    created_at    TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, approver_org_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, applicant_account_id) REFERENCES accounts(tenant_id, id),
    FOREIGN KEY (tenant_id, decided_by) REFERENCES accounts(tenant_id, id)
);
CREATE INDEX approvals_queue ON approvals(tenant_id, kind, status, approver_org_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    actor_id    INTEGER,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   INTEGER,
    detail      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX audit_log_object ON audit_log(tenant_id, object_type, object_id);

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    account_id  INTEGER NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    read_at     TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_account ON messages(tenant_id, account_id, created_at);
