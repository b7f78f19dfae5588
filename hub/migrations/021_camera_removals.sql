-- camhub 021: a removed adopted camera stays removed. The hub forgets the camera's row when it is removed, but its
-- agent runs it until the new configuration reaches it, and what the camera said before that (health samples, a
-- retained status, touches still in a batch or the touch buffer) would write the row back: the camera came back in the
-- site's list as one "only heard from". A row here holds the configuration version that removed the camera; the
-- ingest path does not touch a camera with a row here. It goes when the camera is adopted again, or when its agent,
-- running that version or a later one, reports it among its cameras (its YAML names it again).
CREATE TABLE camera_removals (
  site       text NOT NULL,
  camera     text NOT NULL,
  version    bigint NOT NULL,
  removed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site, camera)
);
