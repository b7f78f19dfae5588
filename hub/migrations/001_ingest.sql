-- camhub 001: the ingest path. Events, health history, current camera and agent state, rejections.

CREATE TABLE events (
  id           uuid PRIMARY KEY,          -- chosen by the agent (UUIDv7: time-ordered, so inserts append)
  site         text NOT NULL,
  camera       text NOT NULL,
  seq          bigint NOT NULL,
  type         text NOT NULL,
  state        text NOT NULL,
  at           timestamptz NOT NULL,      -- truncated to milliseconds so keyset cursors round-trip exactly
  received_at  timestamptz NOT NULL,
  source_kind  text NOT NULL,
  source_topic text,
  data         jsonb,
  snapshot     text
);
-- Keyset pagination is (at DESC, id DESC); one index per filter shape the history API serves.
CREATE INDEX events_at_idx ON events (at DESC, id DESC);
CREATE INDEX events_site_at_idx ON events (site, at DESC, id DESC);
CREATE INDEX events_camera_at_idx ON events (site, camera, at DESC, id DESC);

CREATE TABLE cameras (
  site            text NOT NULL,
  camera          text NOT NULL,
  name            text,
  first_seen_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at    timestamptz,
  last_event_at   timestamptz,
  last_event_seq  bigint,
  -- what the agent last reported (CameraStatus)
  reported_status text,
  reported_since  timestamptz,
  reported_problems jsonb NOT NULL DEFAULT '[]',
  -- latest health sample
  health_at       timestamptz,
  health          jsonb,
  PRIMARY KEY (site, camera)
);

CREATE TABLE agents (
  site        text PRIMARY KEY,
  agent       text NOT NULL,
  state       text NOT NULL,
  version     text NOT NULL,
  at          timestamptz NOT NULL,
  cameras     integer NOT NULL,
  unadopted   jsonb NOT NULL DEFAULT '[]',
  received_at timestamptz NOT NULL
);

-- Compact health history: typed columns, one row per sample.
CREATE TABLE health_samples (
  site           text NOT NULL,
  camera         text NOT NULL,
  at             timestamptz NOT NULL,
  status         text NOT NULL,
  reachable      boolean,
  latency_ms     real,
  events_subscribed boolean,
  last_pull_at   timestamptz,
  clock_skew_ms  real,
  stream_ok      boolean,
  codec          text,
  width          integer,
  height         integer,
  fps            real,
  bitrate_kbps   real,
  frozen         boolean,
  black          boolean,
  problems       jsonb,
  PRIMARY KEY (site, camera, at)
);

CREATE TABLE ingest_rejections (
  id            bigserial PRIMARY KEY,
  topic         text NOT NULL,
  reason        text NOT NULL,
  detail        text NOT NULL,
  received_at   timestamptz NOT NULL,
  payload       text NOT NULL,
  payload_bytes integer NOT NULL,
  truncated     boolean NOT NULL
);
CREATE INDEX ingest_rejections_received_idx ON ingest_rejections (received_at DESC, id DESC);
