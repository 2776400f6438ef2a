-- Certificate documents (issue 5): every certificate gets a PDF rendered by a background job
-- (document_state generating → ready, or failed with the reason), a detached Ed25519 signature over its
-- fields (a compact JWS carried in the QR code, verifiable offline with the tenant's public key), and an
-- optional JSON detail (a recognition proof's training list, an exemption's reason).
-- `status` gains 'void': a superseded yearly recognition proof.
ALTER TABLE certificates ADD COLUMN document_state TEXT NOT NULL DEFAULT 'generating';
ALTER TABLE certificates ADD COLUMN document_blob_id INTEGER REFERENCES blobs(id);
ALTER TABLE certificates ADD COLUMN document_error TEXT;
ALTER TABLE certificates ADD COLUMN proof TEXT;
ALTER TABLE certificates ADD COLUMN detail TEXT;

-- Signing keys per tenant and purpose ('certificates', later 'oidc'). The newest unretired key signs;
-- retired keys stay published so that what they signed still verifies.
CREATE TABLE signing_keys (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    kid         TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    retired_at  TEXT,
    PRIMARY KEY (tenant_id, kid)
);

-- Exemptions (免训证明, seed 001 §11): a unit admin files one for a person and year, the superior
-- approves it through the approvals engine (kind 'exemption'), and the approval issues a certificate of
-- kind 'exemption' the person downloads.
CREATE TABLE exemptions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    person_id      INTEGER NOT NULL,
    unit_id        INTEGER NOT NULL,
    year           INTEGER NOT NULL,
    reason         TEXT NOT NULL,
    attachment_id  INTEGER,
    status         TEXT NOT NULL,
    filed_by       INTEGER NOT NULL,
    certificate_id INTEGER,
    created_at     TEXT NOT NULL,
    decided_at     TEXT,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people(tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES orgs(tenant_id, id),
    FOREIGN KEY (tenant_id, filed_by) REFERENCES accounts(tenant_id, id),
    FOREIGN KEY (tenant_id, attachment_id) REFERENCES blobs(tenant_id, id),
    FOREIGN KEY (tenant_id, certificate_id) REFERENCES certificates(tenant_id, id)
);
-- One open or approved exemption per person and year.
CREATE UNIQUE INDEX exemptions_one ON exemptions(tenant_id, person_id, year) WHERE status IN ('pending', 'approved');
