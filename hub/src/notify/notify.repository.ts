import type { Delivery, DeliveryFailure, FailureParams, Schedule, Severity, Webhook } from '@camhub/shared';
import type pg from 'pg';
import { withTransaction } from '../db/queryable.js';
import { redactUrl } from './url-redaction.js';

/** Why something failed: a code and its parameters (what the console words), and the technical detail. */
export interface Failure {
  code: DeliveryFailure;
  params: FailureParams;
  detail: string;
}

export interface TargetRow {
  id: string;
  channel: string;
  name: string;
  /** Settings that may be shown; the secret ones are sealed in `secrets`. */
  config: Record<string, unknown>;
  enabled: boolean;
  min_severity: Severity;
  rule_ids: string[] | null;
  site_ids: string[] | null;
  language: 'vi' | 'en';
  quiet_hours: Schedule | null;
  rate_limit: { count: number; windowSec: number } | null;
  escalate_to: string | null;
  secrets: string | null;
  consecutive_failures: number;
  failing_since: Date | null;
  last_failure: string | null;
  last_failure_code: DeliveryFailure | null;
  last_failure_params: FailureParams | null;
  created_at: Date;
  updated_at: Date;
}

/** A webhook target in the webhook API's shape; `url` as it may be shown (its password redacted). */
export function toWebhook(r: TargetRow, url: string): Webhook {
  return {
    id: r.id,
    name: r.name,
    url: redactUrl(url),
    enabled: r.enabled,
    minSeverity: r.min_severity,
    ruleIds: r.rule_ids,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

interface DeliveryRow {
  id: string;
  target_id: string | null;
  channel: string;
  alert_id: string;
  event: string;
  payload: unknown;
  status: Delivery['status'];
  attempts: number;
  last_error: string | null;
  last_error_code: string | null;
  last_error_params: FailureParams | null;
  last_status: number | null;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
}

const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id,
  targetId: r.target_id,
  channel: r.channel,
  alertId: r.alert_id,
  event: r.event,
  status: r.status,
  attempts: r.attempts,
  lastError: r.last_error,
  lastErrorCode: r.last_error_code,
  lastErrorParams: r.last_error_params,
  lastStatus: r.last_status,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
  deliveredAt: r.delivered_at ? r.delivered_at.toISOString() : null,
});

/** A target as stored: public settings in `config`, the sealed secrets beside them. */
export interface StoredTarget {
  channel: string;
  name: string;
  config: Record<string, unknown>;
  secrets: string | null;
  enabled: boolean;
  minSeverity: Severity;
  ruleIds: string[] | null;
  siteIds: string[] | null;
  language: 'vi' | 'en';
  quietHours: Schedule | null;
  rateLimit: { count: number; windowSec: number } | null;
  escalateTo: string | null;
}

export interface NewDelivery {
  id: string;
  targetId: string | null;
  channel: string;
  alertId: string;
  event: string;
  payload: unknown;
  status: 'pending' | 'held' | 'failed';
  notBefore?: Date | null;
  failure?: Failure | null;
}

const TARGET_COLUMNS = `channel, name, config, secrets, enabled, min_severity, rule_ids, site_ids, language,
                        quiet_hours, rate_limit, escalate_to`;
const targetValues = (t: StoredTarget) => [
  t.channel,
  t.name,
  JSON.stringify(t.config),
  t.secrets,
  t.enabled,
  t.minSeverity,
  t.ruleIds,
  t.siteIds,
  t.language,
  t.quietHours ? JSON.stringify(t.quietHours) : null,
  t.rateLimit ? JSON.stringify(t.rateLimit) : null,
  t.escalateTo,
];

export function createNotifyRepository(db: pg.Pool) {
  return {
    async targets(channel?: string): Promise<TargetRow[]> {
      const { rows } = await db.query<TargetRow>(
        `SELECT * FROM notification_targets ${channel ? 'WHERE channel = $1' : ''} ORDER BY created_at, id`,
        channel ? [channel] : [],
      );
      return rows;
    },

    async target(id: string): Promise<TargetRow | null> {
      const { rows } = await db.query<TargetRow>('SELECT * FROM notification_targets WHERE id = $1', [id]);
      return rows[0] ?? null;
    },

    async existingTargets(ids: string[]): Promise<string[]> {
      const { rows } = await db.query<{ id: string }>(
        'SELECT id FROM notification_targets WHERE id = ANY($1::uuid[])',
        [ids],
      );
      return rows.map((r) => r.id);
    },

    /** Enabled targets for an alert of this rule, site and severity, plus the named extra ones (escalation). */
    async targetsFor(
      ruleId: string | null,
      site: string,
      severities: Severity[],
      extra: string[],
    ): Promise<TargetRow[]> {
      const { rows } = await db.query<TargetRow>(
        `SELECT * FROM notification_targets WHERE enabled AND (
           (min_severity = ANY($3::text[]) AND (rule_ids IS NULL OR $1::uuid = ANY(rule_ids))
            AND (site_ids IS NULL OR $2 = ANY(site_ids)))
           OR id = ANY($4::uuid[]))
         ORDER BY created_at, id`,
        [ruleId, site, severities, extra],
      );
      return rows;
    },

    async insertTarget(id: string, t: StoredTarget): Promise<TargetRow> {
      const { rows } = await db.query<TargetRow>(
        `INSERT INTO notification_targets (id, ${TARGET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         RETURNING *`,
        [id, ...targetValues(t)],
      );
      return rows[0]!;
    },

    /** Saving a target is an admin looking at it: its failing mark is cleared and deliveries resume. */
    async updateTarget(id: string, t: StoredTarget): Promise<TargetRow | null> {
      const { rows } = await db.query<TargetRow>(
        `UPDATE notification_targets SET channel = $2, name = $3, config = $4, secrets = $5, enabled = $6,
                min_severity = $7, rule_ids = $8, site_ids = $9, language = $10, quiet_hours = $11, rate_limit = $12,
                escalate_to = $13, consecutive_failures = 0, failing_since = NULL, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id, ...targetValues(t)],
      );
      return rows[0] ?? null;
    },

    /**
     * Replaces the sealed secrets (`save`), or the public settings with them (`replace`), under a row lock, so two
     * hubs refreshing one token do not both spend it.
     */
    async withTargetLocked<T>(
      id: string,
      fn: (
        row: TargetRow,
        save: (secrets: string | null) => Promise<void>,
        replace: (config: Record<string, unknown>, secrets: string | null) => Promise<void>,
      ) => Promise<T>,
    ): Promise<T> {
      return withTransaction(db, async (tx) => {
        const { rows } = await tx.query<TargetRow>('SELECT * FROM notification_targets WHERE id = $1 FOR UPDATE', [id]);
        if (!rows[0]) throw new Error('target was removed');
        return fn(
          rows[0],
          async (secrets: string | null) => {
            await tx.query('UPDATE notification_targets SET secrets = $2 WHERE id = $1', [id, secrets]);
          },
          async (config: Record<string, unknown>, secrets: string | null) => {
            await tx.query('UPDATE notification_targets SET config = $2, secrets = $3 WHERE id = $1', [
              id,
              JSON.stringify(config),
              secrets,
            ]);
          },
        );
      });
    },

    async deleteTarget(id: string): Promise<boolean> {
      const { rowCount } = await db.query('DELETE FROM notification_targets WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    },

    async targetSucceeded(id: string): Promise<void> {
      await db.query(
        `UPDATE notification_targets SET consecutive_failures = 0, failing_since = NULL
         WHERE id = $1 AND (consecutive_failures > 0 OR failing_since IS NOT NULL)`,
        [id],
      );
    },

    /** Counts a delivery that failed for good; `limit` in a row marks the target failing. */
    async targetFailed(id: string, failure: Failure, limit: number, now: Date): Promise<boolean> {
      const { rows } = await db.query<{ failing: boolean }>(
        `UPDATE notification_targets SET consecutive_failures = consecutive_failures + 1, last_failure = $2,
                failing_since = CASE WHEN consecutive_failures + 1 >= $3 THEN coalesce(failing_since, $4) END,
                last_failure_code = $5, last_failure_params = $6
         WHERE id = $1 RETURNING failing_since IS NOT NULL AS failing`,
        [id, failure.detail.slice(0, 1000), limit, now, failure.code, JSON.stringify(failure.params)],
      );
      return rows[0]?.failing ?? false;
    },

    async clearFailing(id: string): Promise<void> {
      await db.query('UPDATE notification_targets SET consecutive_failures = 0, failing_since = NULL WHERE id = $1', [
        id,
      ]);
    },

    async insertDeliveries(rows: NewDelivery[], now: Date): Promise<void> {
      if (rows.length === 0) return;
      await db.query(
        `INSERT INTO notification_deliveries (id, target_id, channel, alert_id, event, payload, status, not_before,
                                              last_error, last_error_code, last_error_params, created_at, updated_at)
         SELECT i, t, c, a, e, p, s, nb, le, lc, lp, $10, $10
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::jsonb[], $7::text[],
                     $8::timestamptz[], $9::text[], $11::text[], $12::jsonb[]) AS x(i, t, c, a, e, p, s, nb, le, lc, lp)`,
        [
          rows.map((r) => r.id),
          rows.map((r) => r.targetId),
          rows.map((r) => r.channel),
          rows.map((r) => r.alertId),
          rows.map((r) => r.event),
          rows.map((r) => JSON.stringify(r.payload)),
          rows.map((r) => r.status),
          rows.map((r) => r.notBefore ?? null),
          rows.map((r) => r.failure?.detail ?? null),
          now,
          rows.map((r) => r.failure?.code ?? null),
          rows.map((r) => (r.failure ? JSON.stringify(r.failure.params) : null)),
        ],
      );
    },

    async delivery(id: string): Promise<(Delivery & { payload: unknown }) | null> {
      const { rows } = await db.query<DeliveryRow>('SELECT * FROM notification_deliveries WHERE id = $1', [id]);
      return rows[0] ? { ...toDelivery(rows[0]), payload: rows[0].payload } : null;
    },

    async recordAttempt(
      id: string,
      outcome: { status: Delivery['status']; failure: Failure | null; httpStatus: number | null },
      now: Date,
    ): Promise<void> {
      const f = outcome.failure;
      await db.query(
        `UPDATE notification_deliveries SET attempts = attempts + 1, status = $2, last_error = $3, last_status = $4,
                updated_at = $5, delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE delivered_at END,
                last_error_code = $6, last_error_params = $7
         WHERE id = $1`,
        [
          id,
          outcome.status,
          f?.detail ?? null,
          outcome.httpStatus,
          now,
          f?.code ?? null,
          f ? JSON.stringify(f.params) : null,
        ],
      );
    },

    /** Settles a delivery without an attempt: folded into a digest, or refused before sending. */
    async settle(
      id: string,
      status: 'digested' | 'failed',
      detail: { digestKey?: string; failure?: Failure },
      now: Date,
    ) {
      const f = detail.failure;
      await db.query(
        `UPDATE notification_deliveries SET status = $2, digest_key = $3, last_error = $4, updated_at = $5,
                last_error_code = $6, last_error_params = $7
         WHERE id = $1`,
        [
          id,
          status,
          detail.digestKey ?? null,
          f?.detail ?? null,
          now,
          f?.code ?? null,
          f ? JSON.stringify(f.params) : null,
        ],
      );
    },

    /** The deliveries a digest window folded, oldest first. */
    async digested(targetId: string, key: string): Promise<{ id: string; alert_id: string; payload: unknown }[]> {
      const { rows } = await db.query<{ id: string; alert_id: string; payload: unknown }>(
        `SELECT id, alert_id, payload FROM notification_deliveries
         WHERE target_id = $1 AND digest_key = $2 AND status = 'digested' ORDER BY created_at, id`,
        [targetId, key],
      );
      return rows;
    },

    /**
     * The alert's newest event with a snapshot, the newest event's type (what the message says happened), and the
     * event whose clip to link: the newest with a clip, else the newest of a camera that keeps clips (one in the
     * last day). A clip is cut after its event (post-roll), so an alert's first message comes before its clip.
     */
    async alertContext(alertId: string, site: string, camera: string | null) {
      const { rows } = await db.query<{
        type: string | null;
        snapshot: string | null;
        camera_name: string | null;
        clip_event: string | null;
        clip_camera: string | null;
      }>(
        `SELECT (SELECT e.type FROM alert_events ae JOIN events e ON e.id = ae.event_id
                  WHERE ae.alert_id = $1 ORDER BY ae.at DESC LIMIT 1) AS type,
                (SELECT e.snapshot FROM alert_events ae JOIN events e ON e.id = ae.event_id
                  WHERE ae.alert_id = $1 AND e.snapshot IS NOT NULL ORDER BY ae.at DESC LIMIT 1) AS snapshot,
                (SELECT coalesce(c.name, c.camera) FROM cameras c WHERE c.site = $2 AND c.camera = $3) AS camera_name,
                clip.event_id AS clip_event, clip.camera AS clip_camera
         FROM (SELECT 1) one
         LEFT JOIN LATERAL (
           SELECT e.id AS event_id, e.camera FROM alert_events ae JOIN events e ON e.id = ae.event_id
           WHERE ae.alert_id = $1 AND e.site = $2
             AND (EXISTS (SELECT 1 FROM event_clips k WHERE k.event_id = e.id AND k.purged_at IS NULL)
                  OR EXISTS (SELECT 1 FROM event_clips k WHERE k.site = e.site AND k.camera = e.camera
                               AND k.start_at > now() - interval '1 day'))
           ORDER BY (EXISTS (SELECT 1 FROM event_clips k WHERE k.event_id = e.id)) DESC, ae.at DESC LIMIT 1
         ) clip ON true`,
        [alertId, site, camera],
      );
      return rows[0] ?? { type: null, snapshot: null, camera_name: null, clip_event: null, clip_camera: null };
    },

    async deliveries(f: { status?: string; alertId?: string; targetId?: string; limit: number }): Promise<Delivery[]> {
      const where: string[] = [];
      const values: unknown[] = [];
      if (f.status) where.push(`status = $${values.push(f.status)}`);
      if (f.alertId) where.push(`alert_id = $${values.push(f.alertId)}`);
      if (f.targetId) where.push(`target_id = $${values.push(f.targetId)}`);
      values.push(f.limit);
      const { rows } = await db.query<DeliveryRow>(
        `SELECT * FROM notification_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, id DESC LIMIT $${values.length}`,
        values,
      );
      return rows.map(toDelivery);
    },
  };
}
export type NotifyRepository = ReturnType<typeof createNotifyRepository>;
