-- Scope checks ask "does this organisation's path begin with that one's" (`path LIKE '/1/10/%'`). Under a
-- database collation other than C a plain index cannot answer a prefix, so every such question read
-- all organisations (~60,000 at province scale); these can.
CREATE INDEX orgs_path_prefix ON orgs(tenant_id, path text_pattern_ops);
CREATE INDEX orgs_supervisor_path_prefix ON orgs(tenant_id, supervisor_path text_pattern_ops);
