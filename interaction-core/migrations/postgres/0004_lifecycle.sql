-- schema-version: 1.3.0
-- Data lifecycle (spec §4.3, §6.1, §6.3, §6.4), a MINOR bump: new tables, views and
-- nullable columns, nothing renamed or removed.
-- * `interactions_archive`: the same columns as `interactions` (built with LIKE), for
--   interactions inactive past the archival threshold. `archived_at` is added to both
--   tables so that one column list reads either (always NULL in the live table); an
--   interaction is in exactly one of the two, moved by the library in checked batches.
-- * `access_log` gains the site and the resource of a read (access logging, §6.3).
-- * Indexes that retention purges and anonymisation need.
-- Forward-only: never edit this file once landed; add 0005_*.sql instead.

ALTER TABLE interactions ADD COLUMN archived_at TIMESTAMPTZ NULL;

CREATE TABLE interactions_archive (
    LIKE interactions INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS
);
ALTER TABLE interactions_archive
    ADD CONSTRAINT pk_interactions_archive PRIMARY KEY (interaction_id),
    ADD CONSTRAINT fk_interactions_archive_site FOREIGN KEY (site_id) REFERENCES sites (site_id),
    ADD CONSTRAINT fk_interactions_archive_created_by FOREIGN KEY (created_by) REFERENCES users (user_id),
    ADD CONSTRAINT fk_interactions_archive_updated_by FOREIGN KEY (updated_by) REFERENCES users (user_id),
    ADD CONSTRAINT fk_interactions_archive_deleted_by FOREIGN KEY (deleted_by) REFERENCES users (user_id),
    ALTER COLUMN archived_at SET NOT NULL;
-- The Finder's shapes over archived rows (site first, as for live rows).
CREATE INDEX idx_interactions_archive_site ON interactions_archive (site_id, start_datetime, interaction_id);
CREATE INDEX idx_interactions_archive_created ON interactions_archive (site_id, created_at, interaction_id);
CREATE INDEX idx_interactions_archive_type ON interactions_archive (site_id, type, start_datetime, interaction_id);
CREATE INDEX trgm_interactions_archive_title ON interactions_archive USING gin (site_id, title gin_trgm_ops);
CREATE INDEX trgm_interactions_archive_lead ON interactions_archive USING gin (site_id, lead gin_trgm_ops);
CREATE INDEX ftidx_interactions_archive_text ON interactions_archive USING gin (site_id, search_vector);
-- Retention: archived interactions are deleted some years after archival.
CREATE INDEX idx_interactions_archive_archived ON interactions_archive (archived_at);
-- Archival scans live rows by last change.
CREATE INDEX idx_interactions_last_change ON interactions ((coalesce(updated_at, created_at)), interaction_id)
    WHERE deleted_at IS NULL;

ALTER TABLE access_log ADD COLUMN site_id INTEGER NULL;
ALTER TABLE access_log ADD COLUMN resource VARCHAR(255) NULL;
CREATE INDEX idx_access_log_user ON access_log (user_id);

-- Retention purges of the audit trail and of login tokens.
CREATE INDEX idx_audit_log_time ON audit_log (occurred_at);
CREATE INDEX idx_auth_sessions_expires ON auth_sessions (expires_at);
