-- camhub 003: alerts. Rules, alerts with their events and history, health conditions, notification targets and
-- the delivery log. Default rules are inserted at the end (documented in docs/alerts.md).

CREATE TABLE alert_rules (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name            text NOT NULL,
  description     text,
  kind            text NOT NULL CHECK (kind IN ('event', 'health')),
  enabled         boolean NOT NULL DEFAULT true,
  severity        text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  sites           text[],                      -- NULL: every site
  cameras         text[],                      -- "site/camera"; NULL: every camera of the sites
  -- event rules
  event_types     text[],                      -- NULL: every type
  schedule        jsonb,                       -- {timeZone?, windows: [{start: "22:00", end: "05:00", days?: [1..7]}]}
  threshold_count integer NOT NULL DEFAULT 1 CHECK (threshold_count >= 1),
  threshold_window_sec integer CHECK (threshold_window_sec > 0),
  group_by        text NOT NULL DEFAULT 'camera' CHECK (group_by IN ('camera', 'site')),
  cooldown_sec    integer NOT NULL DEFAULT 0 CHECK (cooldown_sec >= 0),
  -- health rules
  condition       text CHECK (condition IN ('camera_offline', 'agent_offline', 'tamper', 'video_loss',
                                            'clock_skew', 'events_unsubscribed')),
  for_sec         integer NOT NULL DEFAULT 0 CHECK (for_sec >= 0),
  bound_ms        integer CHECK (bound_ms > 0),
  -- escalation: an open alert not acknowledged within this time is escalated (NULL: the hub default for critical)
  escalate_after_sec integer CHECK (escalate_after_sec > 0),
  escalate_to     uuid[] NOT NULL DEFAULT '{}', -- notification targets told again on escalation
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'event') = (condition IS NULL))
);

CREATE TABLE alerts (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  rule_id          uuid REFERENCES alert_rules (id) ON DELETE SET NULL,
  rule_name        text NOT NULL,              -- kept: the rule may be renamed or deleted later
  kind             text NOT NULL,
  group_key        text NOT NULL,              -- what one incident is: "site/camera" or "site"
  severity         text NOT NULL,
  status           text NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  site             text NOT NULL,
  camera           text,
  title            text NOT NULL,
  condition        text,
  event_count      integer NOT NULL DEFAULT 0,
  first_event_at   timestamptz,
  last_event_at    timestamptz,
  opened_at        timestamptz NOT NULL,
  acknowledged_at  timestamptz,
  acknowledged_by  text,
  acknowledge_note text,
  assignee         text,
  resolved_at      timestamptz,
  resolved_by      text,                       -- a user, or 'system' when the condition cleared
  resolve_note     text,
  resolution       text CHECK (resolution IN ('manual', 'auto', 'false_alarm')),
  escalated_at     timestamptz,
  escalation_level integer NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL
);
-- One incident, one alert: at most one unresolved alert per rule and group, whichever hub process opens it.
CREATE UNIQUE INDEX alerts_one_unresolved_idx ON alerts (rule_id, group_key) WHERE status <> 'resolved';
CREATE INDEX alerts_opened_idx ON alerts (opened_at DESC, id DESC);
CREATE INDEX alerts_site_opened_idx ON alerts (site, opened_at DESC, id DESC);
CREATE INDEX alerts_unresolved_idx ON alerts (status, opened_at) WHERE status <> 'resolved';
CREATE INDEX alerts_last_resolved_idx ON alerts (rule_id, group_key, resolved_at DESC) WHERE status = 'resolved';

CREATE TABLE alert_events (
  alert_id uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  event_id uuid NOT NULL,
  at       timestamptz NOT NULL,
  PRIMARY KEY (alert_id, event_id)
);
CREATE INDEX alert_events_event_idx ON alert_events (event_id);

CREATE TABLE alert_history (
  id       bigserial PRIMARY KEY,
  alert_id uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  at       timestamptz NOT NULL,
  actor    text NOT NULL,                      -- a username, or 'system'
  action   text NOT NULL,                      -- opened, acknowledged, assigned, commented, resolved, ...
  note     text,
  data     jsonb
);
CREATE INDEX alert_history_alert_idx ON alert_history (alert_id, id);

-- Matching events not yet part of an alert: those of threshold rules (N events within a window), and `end` events
-- stored before the start that opens their alert (batches may commit out of order).
CREATE TABLE alert_candidates (
  rule_id   uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  group_key text NOT NULL,
  event_id  uuid NOT NULL,
  at        timestamptz NOT NULL,
  opens     boolean NOT NULL,                  -- counts toward a threshold (an `end` never does)
  PRIMARY KEY (rule_id, group_key, event_id)
);
CREATE INDEX alert_candidates_at_idx ON alert_candidates (at);

-- Health conditions currently true, with when they began: an alert opens once one has lasted the rule's for_sec.
CREATE TABLE alert_conditions (
  rule_id   uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  group_key text NOT NULL,
  site      text NOT NULL,
  camera    text,
  since     timestamptz NOT NULL,
  detail    text NOT NULL,
  PRIMARY KEY (rule_id, group_key)
);

CREATE TABLE notification_targets (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  channel      text NOT NULL,                  -- webhook (telegram, zalo, email: one channel file each)
  name         text NOT NULL,
  config       jsonb NOT NULL,                 -- channel settings, e.g. {url, secret}
  enabled      boolean NOT NULL DEFAULT true,
  min_severity text NOT NULL DEFAULT 'info' CHECK (min_severity IN ('info', 'warning', 'critical')),
  rule_ids     uuid[],                         -- NULL: every rule (a global target)
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notification_deliveries (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  target_id     uuid REFERENCES notification_targets (id) ON DELETE SET NULL,  -- NULL: the configured global webhook
  channel       text NOT NULL,
  alert_id      uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  event         text NOT NULL,                 -- alert.opened, alert.escalated, ...
  payload       jsonb NOT NULL,
  status        text NOT NULL CHECK (status IN ('pending', 'retrying', 'delivered', 'failed')),
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  last_status   integer,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  delivered_at  timestamptz
);
CREATE INDEX notification_deliveries_created_idx ON notification_deliveries (created_at DESC, id DESC);
CREATE INDEX notification_deliveries_alert_idx ON notification_deliveries (alert_id);

-- Default rules of a fresh install.
INSERT INTO alert_rules (name, description, kind, severity, event_types, cooldown_sec, escalate_after_sec) VALUES
  ('Intrusion or line crossing', 'Any intrusion or line-crossing event, at any time', 'event', 'critical',
   '{intrusion,line_crossing}', 300, 900),
  ('Storage failure', 'A camera reports its storage failed', 'event', 'warning', '{storage_failure}', 3600, NULL);
INSERT INTO alert_rules (name, description, kind, enabled, severity, event_types, schedule, threshold_count,
                         threshold_window_sec, cooldown_sec) VALUES
  ('Night motion', 'Motion at night (22:00-05:00, site time); enable it for sites empty at night', 'event', false,
   'warning', '{motion}', '{"windows":[{"start":"22:00","end":"05:00"}]}', 3, 60, 600);
INSERT INTO alert_rules (name, description, kind, severity, condition, for_sec, bound_ms, escalate_after_sec) VALUES
  ('Camera offline', 'A camera offline (or unknown for a reason other than its agent) for 5 minutes', 'health',
   'warning', 'camera_offline', 300, NULL, NULL),
  ('Agent offline', 'A site''s edge agent offline for 5 minutes: none of its cameras can be seen', 'health',
   'critical', 'agent_offline', 300, NULL, 1800),
  ('Tamper', 'A camera reports tampering (covered, moved, defocused)', 'health', 'critical', 'tamper', 0, NULL,
   900),
  ('Video loss', 'A camera reports loss of its video signal', 'health', 'critical', 'video_loss', 0, NULL, 900),
  ('Clock skew', 'A camera clock more than 5 s off the hub clock for 10 minutes', 'health', 'info', 'clock_skew',
   600, 5000, NULL),
  ('Event subscription down', 'The agent has not been subscribed to a camera''s events for 10 minutes', 'health',
   'warning', 'events_unsubscribed', 600, NULL, NULL);
