-- schema-version: 1.2.0
-- Secrets of a deployment, shared by every process that opens the database (a MINOR bump:
-- one new table). `cursor_mac` authenticates Finder and audit-trail cursors (HMAC-SHA256),
-- so a cursor made by one process is accepted by the others and a forged or altered one
-- is refused before any SQL runs. 32 bytes from two gen_random_uuid() (pg_strong_random):
-- 244 random bits.
-- Forward-only: never edit this file once landed; add 0004_*.sql instead.

CREATE TABLE store_secrets (
    name       VARCHAR(50) PRIMARY KEY,
    secret     BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO store_secrets (name, secret)
VALUES ('cursor_mac', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
