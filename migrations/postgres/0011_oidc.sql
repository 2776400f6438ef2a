-- jijiao as an OpenID Connect provider for its online training platforms (issue 6): each platform is a
-- client (client_id = platform code, client_secret = its current API key secret). Its redirect URIs and
-- the scopes it is granted come from tenant.toml ([[platforms]] redirect_uris, scopes), as JSON arrays.
ALTER TABLE platforms ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE platforms ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';

-- Authorization codes: only the SHA-256 of the code is stored; single use (used_at), 60 s, bound to
-- the client, the exact redirect_uri, the PKCE S256 challenge, the nonce and the account.
CREATE TABLE oidc_codes (
    tenant_id      TEXT NOT NULL,
    code_hash      TEXT NOT NULL,
    platform_id    BIGINT NOT NULL,
    account_id     BIGINT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce          TEXT,
    auth_time      TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    used_at        TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, code_hash),
    FOREIGN KEY (tenant_id, platform_id) REFERENCES platforms(tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, id)
);

-- Access tokens for userinfo (SHA-256 of the token), 10 minutes.
CREATE TABLE oidc_tokens (
    tenant_id    TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    platform_id  BIGINT NOT NULL,
    account_id   BIGINT NOT NULL,
    scope        TEXT NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, platform_id) REFERENCES platforms(tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts(tenant_id, id)
);
