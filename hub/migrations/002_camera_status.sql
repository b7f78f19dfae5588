-- camhub 002: the hub's own verdict on each camera, and every transition of it.

ALTER TABLE cameras
  ADD COLUMN status text NOT NULL DEFAULT 'unknown',   -- online | degraded | offline | unknown
  ADD COLUMN status_since timestamptz,
  ADD COLUMN status_problems jsonb NOT NULL DEFAULT '[]';

CREATE TABLE camera_transitions (
  id          bigserial PRIMARY KEY,
  site        text NOT NULL,
  camera      text NOT NULL,
  from_status text NOT NULL,
  to_status   text NOT NULL,
  problems    jsonb NOT NULL DEFAULT '[]',
  at          timestamptz NOT NULL,        -- when the new status began
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX camera_transitions_camera_at_idx ON camera_transitions (site, camera, at, id);

-- The sweeper looks for cameras whose heartbeat stopped.
CREATE INDEX cameras_health_at_idx ON cameras (health_at) WHERE status IN ('online', 'degraded');
