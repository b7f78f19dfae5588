-- camhub 004: access control and accountability. Users, sessions, login attempts, site tokens, the hash-chained
-- audit log, evidence exports and retention holds.

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  username      text NOT NULL UNIQUE,
  password_hash text NOT NULL,                 -- scrypt$<log2 N>$<r>$<p>$<salt b64>$<key b64>
  roles         text[] NOT NULL CHECK (cardinality(roles) > 0),
  sites         text[],                        -- NULL: every site
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per login. The access token names its session, so logout (revoked_at) takes effect at once.
CREATE TABLE sessions (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  refresh_hash text NOT NULL,                  -- SHA-256 of the current refresh token (rotated on each refresh)
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,           -- end of the refresh window
  revoked_at   timestamptz,
  ip           text
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE login_attempts (
  id       bigserial PRIMARY KEY,
  username text NOT NULL,
  ip       text NOT NULL,
  at       timestamptz NOT NULL DEFAULT now(),
  success  boolean NOT NULL
);
CREATE INDEX login_attempts_user_idx ON login_attempts (username, at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, at);

-- Edge agents' upload credentials: one or more per site, stored as SHA-256 (the token is 256 random bits).
CREATE TABLE site_tokens (
  id          uuid PRIMARY KEY,
  site        text NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  label       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- Append-only, hash-chained. seq is gapless (assigned under the head row lock), so deletions show as gaps.
CREATE TABLE audit_log (
  seq       bigint PRIMARY KEY,
  at        timestamptz NOT NULL,
  actor     text,                               -- username, "agent:<site>", "cli" or NULL (anonymous)
  roles     text[] NOT NULL DEFAULT '{}',
  ip        text,
  action    text NOT NULL,
  target    text,
  detail    jsonb NOT NULL DEFAULT '{}',
  prev_hash text NOT NULL,
  hash      text NOT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, seq DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, seq DESC);

-- The chain head: appends lock this single row, so two hub processes can never fork the chain. base_* mark where
-- the surviving chain starts after retention removed its oldest entries.
CREATE TABLE audit_head (
  id        boolean PRIMARY KEY DEFAULT true CHECK (id),
  seq       bigint NOT NULL,
  hash      text NOT NULL,
  base_seq  bigint NOT NULL,
  base_hash text NOT NULL
);
INSERT INTO audit_head (seq, hash, base_seq, base_hash)
VALUES (0, repeat('0', 64), 0, repeat('0', 64));

CREATE TABLE exports (
  id          uuid PRIMARY KEY,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  filters     jsonb NOT NULL,
  status      text NOT NULL,                     -- building | ready | failed | released
  events      integer,
  snapshots   integer,
  bytes       bigint,
  sha256      text,                              -- of the whole archive
  file        text,
  released_at timestamptz,
  released_by text
);
CREATE INDEX exports_created_by_idx ON exports (created_by, created_at DESC);

-- Events retention must keep: inside an export, or held by an open alert. Released holds stay as history.
CREATE TABLE event_holds (
  event_id    uuid NOT NULL,
  reason      text NOT NULL,                     -- export | alert | legal
  ref         text NOT NULL,                     -- export id, alert id, case number
  created_at  timestamptz NOT NULL DEFAULT now(),
  released_at timestamptz,
  PRIMARY KEY (event_id, reason, ref)
);
CREATE INDEX event_holds_active_idx ON event_holds (event_id) WHERE released_at IS NULL;
CREATE INDEX event_holds_ref_idx ON event_holds (reason, ref) WHERE released_at IS NULL;

-- Snapshot retention removes the file but keeps the reference, so the API can say "expired", not "pending".
ALTER TABLE events ADD COLUMN snapshot_purged_at timestamptz;
CREATE INDEX events_snapshot_idx ON events (snapshot) WHERE snapshot IS NOT NULL;
