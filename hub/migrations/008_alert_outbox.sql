-- camhub 008: events waiting for alert evaluation, written in the same transaction as the events themselves.
-- A batch's row is created with its new events' ids when the batch commits and deleted in the transaction that
-- evaluates them (alerts/alert-jobs.ts), so a hub killed between the two never loses an evaluation and no evaluation
-- is done twice, whichever hub's worker takes the BullMQ job (keyed by the same batch id).
CREATE TABLE alert_outbox (
  batch_id   text PRIMARY KEY,
  event_ids  uuid[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
