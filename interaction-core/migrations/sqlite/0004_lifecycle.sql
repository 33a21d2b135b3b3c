-- schema-version: 1.3.0
-- Data lifecycle (spec §4.3, §6.1, §6.3, §6.4), a MINOR bump: new tables, views and
-- nullable columns, nothing renamed or removed. The same changes as
-- migrations/postgres/0004_lifecycle.sql:
-- * `interactions_archive`: the same columns as `interactions`, for interactions inactive
--   past the archival threshold; `archived_at` is added to both tables (always NULL in the
--   live one). An interaction is in exactly one of the two. The live table is rebuilt
--   with AUTOINCREMENT so that ids are never reused.
-- * Full text covers both tables: the FTS5 index is rebuilt over the view
--   `interactions_text` (ids are unique across the two tables), kept in step by triggers
--   on both.
-- * `access_log` gains the site and the resource of a read (access logging, §6.3).
-- * Indexes that retention purges and anonymisation need.
-- Forward-only: never edit this file once landed; add 0005_*.sql instead.

-- The live table is rebuilt with AUTOINCREMENT: a plain INTEGER PRIMARY KEY reuses the
-- highest id once its row leaves the table, and archived or purged ids must never come
-- back (the audit trail and the archive refer to them). Nothing references the table, so
-- it can be dropped and replaced inside the migration's transaction.
DROP TRIGGER interactions_fts_ai;
DROP TRIGGER interactions_fts_ad;
DROP TRIGGER interactions_fts_au;
DROP TABLE interactions_fts;
CREATE TABLE interactions_v4 (
    interaction_id INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id        INTEGER NOT NULL REFERENCES sites (site_id),
    title          TEXT    NOT NULL CHECK (length(title) <= 255),
    type           TEXT    NOT NULL CHECK (length(type) <= 50),
    lead           TEXT    NOT NULL CHECK (length(lead) <= 100),
    start_datetime INTEGER NOT NULL,
    timezone       TEXT    NOT NULL CHECK (length(timezone) <= 50),
    end_datetime   INTEGER NOT NULL,
    location       TEXT    NULL CHECK (length(location) <= 255),
    description    TEXT    NULL,
    notes          TEXT    NULL,
    created_by     INTEGER NOT NULL REFERENCES users (user_id),
    created_at     INTEGER NOT NULL,
    updated_by     INTEGER NULL REFERENCES users (user_id),
    updated_at     INTEGER NULL,
    deleted_at     INTEGER NULL,
    deleted_by     INTEGER NULL REFERENCES users (user_id),
    version        INTEGER NOT NULL DEFAULT 1,
    archived_at    INTEGER NULL,
    CHECK (end_datetime >= start_datetime)
);
INSERT INTO interactions_v4 (interaction_id, site_id, title, type, lead, start_datetime,
    timezone, end_datetime, location, description, notes, created_by, created_at,
    updated_by, updated_at, deleted_at, deleted_by, version)
SELECT interaction_id, site_id, title, type, lead, start_datetime, timezone, end_datetime,
    location, description, notes, created_by, created_at, updated_by, updated_at,
    deleted_at, deleted_by, version
FROM interactions;
DROP TABLE interactions;
ALTER TABLE interactions_v4 RENAME TO interactions;
CREATE INDEX idx_interactions_site ON interactions (site_id, start_datetime, interaction_id);
CREATE INDEX idx_interactions_created ON interactions (site_id, created_at, interaction_id);
CREATE INDEX idx_interactions_title ON interactions (site_id, title);
CREATE INDEX idx_interactions_type ON interactions (site_id, type, start_datetime, interaction_id);
CREATE INDEX idx_interactions_lead ON interactions (site_id, lead);
CREATE INDEX idx_interactions_dates ON interactions (site_id, start_datetime, end_datetime);
CREATE INDEX idx_interactions_created_by ON interactions (site_id, created_by);
CREATE INDEX idx_interactions_deleted ON interactions (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE interactions_archive (
    interaction_id INTEGER PRIMARY KEY,
    site_id        INTEGER NOT NULL REFERENCES sites (site_id),
    title          TEXT    NOT NULL CHECK (length(title) <= 255),
    type           TEXT    NOT NULL CHECK (length(type) <= 50),
    lead           TEXT    NOT NULL CHECK (length(lead) <= 100),
    start_datetime INTEGER NOT NULL,
    timezone       TEXT    NOT NULL CHECK (length(timezone) <= 50),
    end_datetime   INTEGER NOT NULL,
    location       TEXT    NULL CHECK (length(location) <= 255),
    description    TEXT    NULL,
    notes          TEXT    NULL,
    created_by     INTEGER NOT NULL REFERENCES users (user_id),
    created_at     INTEGER NOT NULL,
    updated_by     INTEGER NULL REFERENCES users (user_id),
    updated_at     INTEGER NULL,
    deleted_at     INTEGER NULL,
    deleted_by     INTEGER NULL REFERENCES users (user_id),
    version        INTEGER NOT NULL DEFAULT 1,
    archived_at    INTEGER NOT NULL,
    CHECK (end_datetime >= start_datetime)
);
CREATE INDEX idx_interactions_archive_site ON interactions_archive (site_id, start_datetime, interaction_id);
CREATE INDEX idx_interactions_archive_created ON interactions_archive (site_id, created_at, interaction_id);
CREATE INDEX idx_interactions_archive_type ON interactions_archive (site_id, type, start_datetime, interaction_id);
CREATE INDEX idx_interactions_archive_archived ON interactions_archive (archived_at);
CREATE INDEX idx_interactions_last_change ON interactions (coalesce(updated_at, created_at), interaction_id)
    WHERE deleted_at IS NULL;

-- One full-text index over live and archived rows.
CREATE VIEW interactions_text AS
    SELECT interaction_id, title, description, notes FROM interactions
    UNION ALL
    SELECT interaction_id, title, description, notes FROM interactions_archive;
CREATE VIRTUAL TABLE interactions_fts USING fts5(
    title, description, notes,
    content = 'interactions_text', content_rowid = 'interaction_id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO interactions_fts (interactions_fts) VALUES ('rebuild');
CREATE TRIGGER interactions_fts_ai AFTER INSERT ON interactions BEGIN
    INSERT INTO interactions_fts (rowid, title, description, notes)
    VALUES (new.interaction_id, new.title, new.description, new.notes);
END;
CREATE TRIGGER interactions_fts_ad AFTER DELETE ON interactions BEGIN
    INSERT INTO interactions_fts (interactions_fts, rowid, title, description, notes)
    VALUES ('delete', old.interaction_id, old.title, old.description, old.notes);
END;
CREATE TRIGGER interactions_fts_au AFTER UPDATE OF title, description, notes ON interactions BEGIN
    INSERT INTO interactions_fts (interactions_fts, rowid, title, description, notes)
    VALUES ('delete', old.interaction_id, old.title, old.description, old.notes);
    INSERT INTO interactions_fts (rowid, title, description, notes)
    VALUES (new.interaction_id, new.title, new.description, new.notes);
END;
CREATE TRIGGER interactions_archive_fts_ai AFTER INSERT ON interactions_archive BEGIN
    INSERT INTO interactions_fts (rowid, title, description, notes)
    VALUES (new.interaction_id, new.title, new.description, new.notes);
END;
CREATE TRIGGER interactions_archive_fts_ad AFTER DELETE ON interactions_archive BEGIN
    INSERT INTO interactions_fts (interactions_fts, rowid, title, description, notes)
    VALUES ('delete', old.interaction_id, old.title, old.description, old.notes);
END;
CREATE TRIGGER interactions_archive_fts_au AFTER UPDATE OF title, description, notes ON interactions_archive BEGIN
    INSERT INTO interactions_fts (interactions_fts, rowid, title, description, notes)
    VALUES ('delete', old.interaction_id, old.title, old.description, old.notes);
    INSERT INTO interactions_fts (rowid, title, description, notes)
    VALUES (new.interaction_id, new.title, new.description, new.notes);
END;

ALTER TABLE access_log ADD COLUMN site_id INTEGER NULL;
ALTER TABLE access_log ADD COLUMN resource TEXT NULL CHECK (length(resource) <= 255);
CREATE INDEX idx_access_log_user ON access_log (user_id);

CREATE INDEX idx_audit_log_time ON audit_log (occurred_at);
CREATE INDEX idx_auth_sessions_expires ON auth_sessions (expires_at);

-- Masked views for reporting (spec §6.3), the same rules as on PostgreSQL (see
-- migrations/postgres/0004_lifecycle.sql and the library's `ops::masking`). SQLite has
-- no roles: whoever can open the file can read the tables.
CREATE VIEW interactions_masked AS
SELECT interaction_id, site_id, title, type,
       CASE
           WHEN t = '' THEN ''
           WHEN instr(t, ' ') = 0 THEN substr(t, 1, 1) || '.'
           ELSE substr(t, 1, 1) || '. ' || substr(ltrim(substr(t, instr(t, ' ') + 1), ' '), 1, 1) || '.'
       END AS lead,
       start_datetime, end_datetime, timezone, location,
       NULL AS description, NULL AS notes,
       created_by, created_at, updated_by, updated_at, deleted_at, deleted_by, version, archived_at
FROM (
    SELECT interaction_id, site_id, title, type, trim(lead, ' ') AS t, start_datetime, end_datetime,
           timezone, location, created_by, created_at, updated_by, updated_at, deleted_at,
           deleted_by, version, archived_at
    FROM interactions
    UNION ALL
    SELECT interaction_id, site_id, title, type, trim(lead, ' '), start_datetime, end_datetime,
           timezone, location, created_by, created_at, updated_by, updated_at, deleted_at,
           deleted_by, version, archived_at
    FROM interactions_archive
);

CREATE VIEW users_masked AS
SELECT user_id,
       substr(username, 1, 1) || '***' AS username,
       CASE WHEN instr(email, '@') = 0 THEN substr(email, 1, 1) || '***'
            ELSE substr(email, 1, 1) || '***' || substr(email, instr(email, '@')) END AS email,
       is_active, last_login
FROM users;

CREATE VIEW audit_log_masked AS
SELECT audit_id, occurred_at, actor_id, site_id, action, entity, entity_id FROM audit_log;

CREATE VIEW access_log_masked AS
SELECT access_id, occurred_at, user_id, site_id, action, resource, success FROM access_log;
