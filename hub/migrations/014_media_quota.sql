-- camhub 014 (issue 19, finding 6): the upload ledger of 010 gains the kind of media, so each kind (snapshots now,
-- clips next) has its own per-site quota counted from one table, and the sweep finds uploads by kind and age.
ALTER TABLE media_uploads ADD COLUMN kind text NOT NULL DEFAULT 'snapshot';
ALTER TABLE media_uploads ALTER COLUMN kind DROP DEFAULT;
-- A clip can exceed 2 GiB in theory; the ledger must never be the reason an upload fails.
ALTER TABLE media_uploads ALTER COLUMN bytes TYPE bigint;
-- The quota's sum: one site's uploads of one kind in the last day.
CREATE INDEX media_uploads_quota_idx ON media_uploads (site, kind, uploaded_at);
DROP INDEX media_uploads_site_idx;
