-- camhub 018 (issue 17): why a delivery or a target failed, as a code and its parameters that the console words in
-- the reader's language (DELIVERY_FAILURES in shared/src/notifications.ts); last_error / last_failure keep the
-- technical detail (the service's own text). Rows of before: codes read back from the texts the hub wrote then.
ALTER TABLE notification_deliveries
  ADD COLUMN last_error_code   text,
  ADD COLUMN last_error_params jsonb;
ALTER TABLE notification_targets
  ADD COLUMN last_failure_code   text,
  ADD COLUMN last_failure_params jsonb;

UPDATE notification_deliveries SET last_error_code = CASE
    WHEN last_error LIKE 'target_failing:%' THEN 'target_failing'
    WHEN last_error LIKE 'address_refused:%' THEN 'address_refused'
    WHEN last_error LIKE 'receiver answered HTTP %' THEN 'http_status'
    WHEN last_error LIKE 'request failed:%' OR last_error LIKE '% unreachable:%' THEN 'unreachable'
    WHEN last_error = 'target was removed' THEN 'target_removed'
    ELSE 'unexpected' END,
  last_error_params = CASE WHEN last_status IS NOT NULL THEN jsonb_build_object('status', last_status) ELSE '{}' END
  WHERE last_error IS NOT NULL;
UPDATE notification_targets SET last_failure_code = 'unexpected', last_failure_params = '{}'
  WHERE last_failure IS NOT NULL;
