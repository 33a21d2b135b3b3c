-- schema-version: 1.0.0
-- Initial schema for the embedded SQLite backend: the same tables and columns as
-- migrations/postgres/0001_initial.sql. Instants are INTEGER microseconds since the Unix
-- epoch (UTC) so that they sort and compare exactly; full text is an FTS5 external-content
-- table kept in step by triggers. Forward-only: never edit once landed.

CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL CHECK (length(username) <= 50),
    password_hash TEXT    NOT NULL CHECK (length(password_hash) <= 255),
    email         TEXT    NOT NULL CHECK (length(email) <= 100),
    last_login    INTEGER NULL,
    is_active     BOOLEAN NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX idx_users_username ON users (username);
CREATE UNIQUE INDEX idx_users_email ON users (lower(email));

CREATE TABLE sites (
    site_id     INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL CHECK (length(name) <= 100),
    description TEXT    NULL,
    is_active   BOOLEAN NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX idx_sites_name ON sites (name);

CREATE TABLE user_site_mapping (
    mapping_id  INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (user_id),
    site_id     INTEGER NOT NULL REFERENCES sites (site_id),
    role        TEXT    NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    assigned_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX idx_user_site_user ON user_site_mapping (user_id, site_id);
CREATE INDEX idx_user_site_site ON user_site_mapping (site_id);

CREATE TABLE interactions (
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
    CHECK (end_datetime >= start_datetime)
);
CREATE INDEX idx_interactions_site ON interactions (site_id, start_datetime, interaction_id);
CREATE INDEX idx_interactions_created ON interactions (site_id, created_at, interaction_id);
CREATE INDEX idx_interactions_title ON interactions (site_id, title);
CREATE INDEX idx_interactions_type ON interactions (site_id, type, start_datetime, interaction_id);
CREATE INDEX idx_interactions_lead ON interactions (site_id, lead);
CREATE INDEX idx_interactions_dates ON interactions (site_id, start_datetime, end_datetime);
CREATE INDEX idx_interactions_created_by ON interactions (site_id, created_by);
CREATE INDEX idx_interactions_deleted ON interactions (deleted_at) WHERE deleted_at IS NOT NULL;

-- Weighted full text (title > description > notes, weights given to bm25 at query time).
CREATE VIRTUAL TABLE interactions_fts USING fts5(
    title, description, notes,
    content = 'interactions', content_rowid = 'interaction_id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
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

CREATE TABLE auth_sessions (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (user_id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NULL
);
CREATE INDEX idx_auth_sessions_user ON auth_sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE access_log (
    access_id   INTEGER PRIMARY KEY,
    occurred_at INTEGER NOT NULL,
    username    TEXT    NOT NULL,
    user_id     INTEGER NULL,
    action      TEXT    NOT NULL,
    success     BOOLEAN NOT NULL,
    detail      TEXT    NULL
);
CREATE INDEX idx_access_log_time ON access_log (occurred_at);

CREATE TABLE audit_log (
    audit_id    INTEGER PRIMARY KEY,
    occurred_at INTEGER NOT NULL,
    actor_id    INTEGER NULL,
    site_id     INTEGER NULL,
    action      TEXT    NOT NULL,
    entity      TEXT    NOT NULL,
    entity_id   INTEGER NULL,
    changes     TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_audit_log_site ON audit_log (site_id, audit_id);

CREATE TABLE schema_metadata (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE schema_migrations (
    migration_id   INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    schema_version TEXT    NOT NULL,
    checksum       BLOB    NOT NULL,
    applied_at     INTEGER NOT NULL
);
