-- An accepted completion is one ledger credit: the credit is its key. The person is the credit's (no
-- second copy to keep in step, and no second foreign-key check on people for every record of a
-- batch); the separate identity column and its index go, and so does the unique index on (platform,
-- record id): the credit's unique source reference 'platform:<code>:<record_id>' already is that key.
-- SQLite cannot change a primary key in place: the table is rebuilt (nothing references it).
CREATE TABLE platform_completions_by_credit (
    tenant_id    TEXT NOT NULL,
    credit_id    INTEGER NOT NULL,
    platform_id  INTEGER NOT NULL,
    record_id    TEXT NOT NULL,
    digest       TEXT NOT NULL,
    course_code  TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    order_id     TEXT,
    received_on  TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, credit_id),
    FOREIGN KEY (tenant_id, platform_id) REFERENCES platforms(tenant_id, id),
    FOREIGN KEY (tenant_id, credit_id) REFERENCES credits(tenant_id, id)
);
INSERT INTO platform_completions_by_credit (tenant_id, credit_id, platform_id, record_id, digest, course_code, completed_at,
    order_id, received_on, received_at)
SELECT tenant_id, credit_id, platform_id, record_id, digest, course_code, completed_at, order_id, received_on, received_at
FROM platform_completions;
DROP TABLE platform_completions;
ALTER TABLE platform_completions_by_credit RENAME TO platform_completions;
