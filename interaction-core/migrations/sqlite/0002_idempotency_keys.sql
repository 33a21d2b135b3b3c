-- schema-version: 1.1.0
-- Idempotency keys of creates (a MINOR bump: one new table, nothing changed). A create
-- retried with the same key in the same site within 24 hours returns the interaction the
-- first call created. No foreign keys: a key outlives nothing it must protect, and purging
-- an interaction must not fail on it. Instants are integer microseconds (UTC).
-- Forward-only: never edit this file once landed; add 0003_*.sql instead.

CREATE TABLE idempotency_keys (
    site_id         INTEGER      NOT NULL,
    idempotency_key VARCHAR(255) NOT NULL,
    -- SHA-256 of the create's content: the same key with other content is a conflict.
    request_hash    BLOB         NOT NULL,
    interaction_id  INTEGER      NULL,
    created_at      INTEGER      NOT NULL,
    CONSTRAINT pk_idempotency_keys PRIMARY KEY (site_id, idempotency_key)
) WITHOUT ROWID;
-- For purging expired keys.
CREATE INDEX idx_idempotency_keys_created ON idempotency_keys (created_at);
