import type { Delivery, Severity, Webhook } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';

export interface TargetRow {
  id: string;
  channel: string;
  name: string;
  config: Record<string, unknown>;
  enabled: boolean;
  min_severity: Severity;
  rule_ids: string[] | null;
  created_at: Date;
  updated_at: Date;
}

export function toWebhook(r: TargetRow): Webhook {
  return {
    id: r.id,
    name: r.name,
    url: String(r.config.url),
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
  lastStatus: r.last_status,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
  deliveredAt: r.delivered_at ? r.delivered_at.toISOString() : null,
});

export interface NewTarget {
  channel: string;
  name: string;
  config: Record<string, unknown>;
  enabled: boolean;
  minSeverity: Severity;
  ruleIds: string[] | null;
}

export function createNotifyRepository(db: Queryable) {
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

    /** Enabled targets for an alert of this rule and severity, plus the named extra ones (escalation). */
    async targetsFor(ruleId: string | null, severities: Severity[], extra: string[]): Promise<TargetRow[]> {
      const { rows } = await db.query<TargetRow>(
        `SELECT * FROM notification_targets WHERE enabled AND (
           (min_severity = ANY($2::text[]) AND (rule_ids IS NULL OR $1::uuid = ANY(rule_ids)))
           OR id = ANY($3::uuid[]))`,
        [ruleId, severities, extra],
      );
      return rows;
    },

    async insertTarget(t: NewTarget): Promise<TargetRow> {
      const { rows } = await db.query<TargetRow>(
        `INSERT INTO notification_targets (channel, name, config, enabled, min_severity, rule_ids)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [t.channel, t.name, JSON.stringify(t.config), t.enabled, t.minSeverity, t.ruleIds],
      );
      return rows[0]!;
    },

    async updateTarget(id: string, t: NewTarget): Promise<TargetRow | null> {
      const { rows } = await db.query<TargetRow>(
        `UPDATE notification_targets SET name = $2, config = $3, enabled = $4, min_severity = $5, rule_ids = $6,
                updated_at = now() WHERE id = $1 RETURNING *`,
        [id, t.name, JSON.stringify(t.config), t.enabled, t.minSeverity, t.ruleIds],
      );
      return rows[0] ?? null;
    },

    async deleteTarget(id: string): Promise<boolean> {
      const { rowCount } = await db.query('DELETE FROM notification_targets WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    },

    async insertDeliveries(
      rows: {
        id: string;
        targetId: string | null;
        channel: string;
        alertId: string;
        event: string;
        payload: unknown;
      }[],
      now: Date,
    ): Promise<void> {
      if (rows.length === 0) return;
      await db.query(
        `INSERT INTO notification_deliveries (id, target_id, channel, alert_id, event, payload, status, created_at,
                                              updated_at)
         SELECT i, t, c, a, e, p, 'pending', $7, $7
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::jsonb[]) AS x(i, t, c, a, e, p)`,
        [
          rows.map((r) => r.id),
          rows.map((r) => r.targetId),
          rows.map((r) => r.channel),
          rows.map((r) => r.alertId),
          rows.map((r) => r.event),
          rows.map((r) => JSON.stringify(r.payload)),
          now,
        ],
      );
    },

    async delivery(id: string): Promise<(Delivery & { payload: unknown }) | null> {
      const { rows } = await db.query<DeliveryRow>('SELECT * FROM notification_deliveries WHERE id = $1', [id]);
      return rows[0] ? { ...toDelivery(rows[0]), payload: rows[0].payload } : null;
    },

    async recordAttempt(
      id: string,
      outcome: { status: Delivery['status']; error: string | null; httpStatus: number | null },
      now: Date,
    ): Promise<void> {
      await db.query(
        `UPDATE notification_deliveries SET attempts = attempts + 1, status = $2, last_error = $3, last_status = $4,
                updated_at = $5, delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE delivered_at END
         WHERE id = $1`,
        [id, outcome.status, outcome.error, outcome.httpStatus, now],
      );
    },

    async deliveries(f: { status?: string; alertId?: string; limit: number }): Promise<Delivery[]> {
      const where: string[] = [];
      const values: unknown[] = [];
      if (f.status) where.push(`status = $${values.push(f.status)}`);
      if (f.alertId) where.push(`alert_id = $${values.push(f.alertId)}`);
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
