-- camhub 010 (issue 19): refresh tokens already rotated away, so that presenting one again is recognised as reuse
-- (a stolen token raced its owner) and ends the whole session; and uploaded snapshots with the site and time of
-- their upload, for per-site quotas and the sweep of files no event ever referred to.
CREATE TABLE session_refresh_used (
  refresh_hash text PRIMARY KEY,               -- SHA-256 of a refresh token that has been exchanged
  session_id   uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  used_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_refresh_used_session_idx ON session_refresh_used (session_id);

CREATE TABLE media_uploads (
  ref         text PRIMARY KEY,                -- sha256:<hex>, the snapshot's content reference
  site        text NOT NULL,                   -- the site whose agent token uploaded it first
  bytes       integer NOT NULL,
  uploaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_uploads_site_idx ON media_uploads (site);
CREATE INDEX media_uploads_at_idx ON media_uploads (uploaded_at);
