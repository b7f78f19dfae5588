-- camhub 012: event clips. An agent cuts a short MP4 around each event start (pre-roll + post-roll) and sends two
-- things, in either order: the file (PUT /api/v1/clips/{ref}, content-addressed like snapshots) and the link from
-- the event to it (MQTT `clips` topic, through ingest). `clip_files` is what is on disk, per site for the quota;
-- `event_clips` is the link, one per event (the first wins: agents may resend it). No foreign key to events: the
-- link may be ingested before its event, and an event may be deleted by retention while its clip is held.
CREATE TABLE clip_files (
  ref         text PRIMARY KEY CHECK (ref ~ '^sha256:[0-9a-f]{64}$'),
  site        text NOT NULL,
  bytes       bigint NOT NULL CHECK (bytes > 0),
  stored_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clip_files_site_idx ON clip_files (site);
CREATE INDEX clip_files_stored_idx ON clip_files (stored_at);

CREATE TABLE event_clips (
  event_id     uuid PRIMARY KEY,
  site         text NOT NULL,
  camera       text NOT NULL,
  ref          text NOT NULL CHECK (ref ~ '^sha256:[0-9a-f]{64}$'),
  start_at     timestamptz NOT NULL,
  duration_ms  integer NOT NULL CHECK (duration_ms > 0),
  bytes        bigint NOT NULL CHECK (bytes > 0),
  cut_at       timestamptz NOT NULL,
  received_at  timestamptz NOT NULL,
  -- Set when retention deleted the file: the link stays (history says there was a clip) but it no longer plays.
  purged_at    timestamptz
);
CREATE INDEX event_clips_camera_idx ON event_clips (site, camera, start_at DESC);
CREATE INDEX event_clips_ref_idx ON event_clips (ref);
CREATE INDEX event_clips_start_idx ON event_clips (start_at) WHERE purged_at IS NULL;
