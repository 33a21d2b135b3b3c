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

-- Masked views for reporting (spec §6.3). Rules (the library's `ops::masking` computes
-- the same ones for reads through the API):
-- * interactions_masked: live, deleted and archived rows; description and notes NULL;
--   lead reduced to initials: spaces trimmed, then the first character and '.', and when
--   a space follows the first word, ' ', the first character after those spaces and '.'
--   ("Ana María López" -> "A. M."); characters kept as written. Other columns kept.
-- * users_masked: username -> first character || '***'; email -> first character ||
--   '***' || the part from '@' on; no password hash.
-- * audit_log_masked: the audit trail without its `changes` (the values changed).
-- * access_log_masked: the access log without username and detail.
-- Views run with their owner's rights: a role granted SELECT on them needs no access
-- to the tables beneath.
CREATE VIEW interactions_masked AS
SELECT interaction_id, site_id, title, type,
       CAST(CASE
           WHEN t = '' THEN ''
           WHEN strpos(t, ' ') = 0 THEN substr(t, 1, 1) || '.'
           ELSE substr(t, 1, 1) || '. ' || substr(ltrim(substr(t, strpos(t, ' ') + 1)), 1, 1) || '.'
       END AS VARCHAR(100)) AS lead,
       start_datetime, end_datetime, timezone, location,
       CAST(NULL AS TEXT) AS description, CAST(NULL AS TEXT) AS notes,
       created_by, created_at, updated_by, updated_at, deleted_at, deleted_by, version, archived_at
FROM (
    SELECT interaction_id, site_id, title, type, trim(lead) AS t, start_datetime, end_datetime,
           timezone, location, created_by, created_at, updated_by, updated_at, deleted_at,
           deleted_by, version, archived_at
    FROM interactions
    UNION ALL
    SELECT interaction_id, site_id, title, type, trim(lead), start_datetime, end_datetime,
           timezone, location, created_by, created_at, updated_by, updated_at, deleted_at,
           deleted_by, version, archived_at
    FROM interactions_archive
) AS i;

CREATE VIEW users_masked AS
SELECT user_id,
       substr(username, 1, 1) || '***' AS username,
       CASE WHEN strpos(email, '@') = 0 THEN substr(email, 1, 1) || '***'
            ELSE substr(email, 1, 1) || '***' || substr(email, strpos(email, '@')) END AS email,
       is_active, last_login
FROM users;

CREATE VIEW audit_log_masked AS
SELECT audit_id, occurred_at, actor_id, site_id, action, entity, entity_id FROM audit_log;

CREATE VIEW access_log_masked AS
SELECT access_id, occurred_at, user_id, site_id, action, resource, success FROM access_log;

-- The reporting role (cluster-wide, NOLOGIN: grant it to login roles). Created when the
-- migrating role may create roles; otherwise a NOTICE, and an administrator runs what
-- the README's "Privacy" section shows.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'interaction_reporting') THEN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolcreaterole OR rolsuper)) THEN
            BEGIN
                CREATE ROLE interaction_reporting NOLOGIN;
            EXCEPTION WHEN duplicate_object THEN
                NULL; -- created meanwhile by a migration of another database
            END;
        ELSE
            RAISE NOTICE 'role interaction_reporting not created (% may not create roles): see the README, "Privacy"', current_user;
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'interaction_reporting') THEN
        GRANT SELECT ON interactions_masked, users_masked, audit_log_masked, access_log_masked
            TO interaction_reporting;
    END IF;
END
$$;
