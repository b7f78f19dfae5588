-- camhub 007: notification targets for Telegram, Zalo and e-mail beside webhooks (issue 17).
-- Per target: which sites, the language of its messages, quiet hours, a rate limit (the rest goes into a digest), a
-- second target told on escalation and when this one fails for good, its secrets sealed with the hub key (never in
-- clear: `config` keeps only what may be shown), and whether it is failing.
ALTER TABLE notification_targets
  ADD COLUMN site_ids             text[],                -- NULL: every site
  ADD COLUMN language             text NOT NULL DEFAULT 'vi' CHECK (language IN ('vi', 'en')),
  ADD COLUMN quiet_hours          jsonb,                 -- Schedule; info/warning are held inside it, critical is not
  ADD COLUMN rate_limit           jsonb,                 -- {count, windowSec}
  ADD COLUMN escalate_to          uuid REFERENCES notification_targets (id) ON DELETE SET NULL,
  ADD COLUMN secrets              text,                  -- AES-256-GCM sealed JSON of the channel's secret fields
  ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
  ADD COLUMN failing_since        timestamptz,           -- set after repeated permanent failures; cleared by an edit
  ADD COLUMN last_failure         text;

ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_status_check;
ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_status_check
  CHECK (status IN ('pending', 'retrying', 'delivered', 'failed', 'held', 'digested'));
ALTER TABLE notification_deliveries
  ADD COLUMN not_before timestamptz,                     -- held (quiet hours) until
  ADD COLUMN digest_key text;                            -- rate-limited: the window whose digest tells of it
CREATE INDEX notification_deliveries_digest_idx ON notification_deliveries (target_id, digest_key)
  WHERE digest_key IS NOT NULL;
