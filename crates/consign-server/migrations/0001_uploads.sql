-- One row per upload grant. Portable SQL: runs unchanged on SQLite and PostgreSQL.
-- Times are Unix milliseconds.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    profile TEXT NOT NULL,
    method TEXT NOT NULL,
    state TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    declared_size BIGINT,
    checksum_algorithm TEXT,
    checksum TEXT,
    metadata TEXT NOT NULL,
    bucket TEXT NOT NULL,
    staging_key TEXT NOT NULL,
    final_key TEXT NOT NULL,
    multipart_upload_id TEXT,
    part_size BIGINT,
    part_count BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    lease_until BIGINT,
    stored_size BIGINT,
    detected_type TEXT,
    etag TEXT,
    reason TEXT,
    -- 1: completed by the server as soon as the object appears (single-request Uppy uploads,
    -- whose client never calls complete).
    auto_complete BIGINT NOT NULL DEFAULT 0
);
-- The reaper: pending uploads by expiry, verifications by lease.
CREATE INDEX uploads_state_expires ON uploads (state, expires_at);
-- A subject's uploads, newest first; and its pending count.
CREATE INDEX uploads_subject_created ON uploads (subject, created_at);
-- Partial indexes cost nothing for the rows they leave out (most grants).
CREATE UNIQUE INDEX uploads_multipart ON uploads (multipart_upload_id) WHERE multipart_upload_id IS NOT NULL;
CREATE INDEX uploads_auto_complete ON uploads (created_at) WHERE auto_complete = 1 AND state = 'pending';
