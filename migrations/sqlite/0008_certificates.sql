-- Certificates (issue 5): issued when the rules plugin's certificate-check says a person-year is eligible.
-- The partial unique index is the database's guarantee of one valid certificate per person, kind and
-- year: of two simultaneous applications one inserts, the other finds it.
CREATE TABLE certificates (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    number             TEXT NOT NULL,
    person_id          INTEGER NOT NULL,
    kind               TEXT NOT NULL,
    year               INTEGER NOT NULL,
    status             TEXT NOT NULL,
    person_name        TEXT NOT NULL,
    unit_name          TEXT NOT NULL,
    public_hours       INTEGER NOT NULL,
    professional_hours INTEGER NOT NULL,
    plugin_sha256      TEXT NOT NULL,
    issued_by          INTEGER,
    issued_at          TEXT NOT NULL,
    voided_at          TEXT,
    void_reason        TEXT,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id),
    FOREIGN KEY (tenant_id, issued_by) REFERENCES accounts(tenant_id, id)
);
CREATE UNIQUE INDEX certificates_one_valid ON certificates(tenant_id, person_id, kind, year) WHERE status = 'valid';
CREATE INDEX certificates_person ON certificates(tenant_id, person_id, year);
