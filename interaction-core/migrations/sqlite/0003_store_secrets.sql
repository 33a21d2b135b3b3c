-- schema-version: 1.2.0
-- Secrets of a deployment, shared by every process that opens the database (a MINOR bump:
-- one new table). `cursor_mac` authenticates Finder and audit-trail cursors (HMAC-SHA256),
-- so a cursor made by one process is accepted by the others and a forged or altered one
-- is refused before any SQL runs. 32 bytes from randomblob() (SQLite's CSPRNG, seeded by
-- the OS). Instants are integer microseconds (UTC).
-- Forward-only: never edit this file once landed; add 0004_*.sql instead.

CREATE TABLE store_secrets (
    name       TEXT    PRIMARY KEY,
    secret     BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

INSERT INTO store_secrets (name, secret, created_at)
VALUES ('cursor_mac', randomblob(32), CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
