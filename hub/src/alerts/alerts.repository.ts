import type { Alert, AlertAction, AlertHistoryEntry, AlertReason, EventItem, Severity } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';
import { clipColumn } from '../clips/clips.repository.js';
import { EVENT_COLUMNS, rowToEvent } from '../events/events.repository.js';
import type { EventCursor } from '../events/cursor.js';
import type { AgentFacts, CameraHealthFacts } from './rules.js';

interface AlertRow {
  id: string;
  rule_id: string | null;
  rule_name: string;
  kind: 'event' | 'health';
  group_key: string;
  severity: Severity;
  status: Alert['status'];
  site: string;
  camera: string | null;
  title: string;
  reason: AlertReason | null;
  condition: Alert['condition'];
  event_count: number;
  first_event_at: Date | null;
  last_event_at: Date | null;
  opened_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  assignee: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution: Alert['resolution'];
  escalated_at: Date | null;
  escalation_level: number;
  updated_at: Date;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toAlert(r: AlertRow): Alert {
  return {
    id: r.id,
    ruleId: r.rule_id,
    ruleName: r.rule_name,
    kind: r.kind,
    severity: r.severity,
    status: r.status,
    site: r.site,
    camera: r.camera,
    title: r.title,
    reason: r.reason,
    condition: r.condition,
    eventCount: r.event_count,
    firstEventAt: iso(r.first_event_at),
    lastEventAt: iso(r.last_event_at),
    openedAt: r.opened_at.toISOString(),
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    assignee: r.assignee,
    resolvedAt: iso(r.resolved_at),
    resolvedBy: r.resolved_by,
    resolution: r.resolution,
    escalatedAt: iso(r.escalated_at),
    escalationLevel: r.escalation_level,
    updatedAt: r.updated_at.toISOString(),
  };
}

export interface GroupRef {
  ruleId: string;
  groupKey: string;
}

export interface NewAlert extends GroupRef {
  ruleName: string;
  kind: 'event' | 'health';
  severity: Severity;
  site: string;
  camera: string | null;
  title: string;
  reason: AlertReason;
  condition: string | null;
  openedAt: Date;
}

export interface HistoryRow {
  alertId: string;
  at: Date;
  actor: string;
  action: AlertAction;
  note?: string | null;
  data?: Record<string, unknown> | null;
}

export interface AlertFilter {
  status?: string;
  severity?: string;
  site?: string;
  camera?: string;
  from?: string;
  to?: string;
  sites?: string[];
}

const groupsParams = (groups: GroupRef[]) => [groups.map((g) => g.ruleId), groups.map((g) => g.groupKey)];
const IN_GROUPS = '(rule_id, group_key) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))';

/** The columns the workflow may set (acknowledge, assign, resolve, false alarm): `update` refuses any other. */
const UPDATABLE = new Set([
  'status',
  'acknowledged_at',
  'acknowledged_by',
  'acknowledge_note',
  'assignee',
  'resolved_at',
  'resolved_by',
  'resolve_note',
  'resolution',
] as const);
export type AlertUpdate = Partial<Record<typeof UPDATABLE extends Set<infer C> ? C : never, unknown>>;

/** All SQL of alerts. Every method takes the Queryable to run on, so callers choose the transaction. */
export function createAlertsRepository(pool: Queryable) {
  return {
    /** Unresolved alerts of these rule groups (at most one each: a unique index guarantees it). */
    /**
     * Takes a batch's events out of the outbox (row locked and deleted in the caller's transaction): the events to
     * evaluate, or null when another worker already evaluated this batch.
     */
    async claimOutbox(batchId: string, db: Queryable): Promise<EventItem[] | null> {
      const { rows } = await db.query<{ event_ids: string[] }>(
        'DELETE FROM alert_outbox WHERE batch_id = $1 RETURNING event_ids',
        [batchId],
      );
      if (rows.length === 0) return null;
      const events = await db.query<Parameters<typeof rowToEvent>[0]>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE id = ANY($1::uuid[]) ORDER BY at, id`,
        [rows[0]!.event_ids],
      );
      return events.rows.map(rowToEvent);
    },

    /** Batches whose evaluation is still owed (after a crash, or jobs lost with Redis): their ids, oldest first. */
    async outboxBatches(before: Date, limit: number, db: Queryable = pool): Promise<string[]> {
      const { rows } = await db.query<{ batch_id: string }>(
        'SELECT batch_id FROM alert_outbox WHERE created_at < $1 ORDER BY created_at LIMIT $2',
        [before, limit],
      );
      return rows.map((r) => r.batch_id);
    },

    async unresolvedOf(groups: GroupRef[], db: Queryable = pool): Promise<Alert[]> {
      if (groups.length === 0) return [];
      const { rows } = await db.query<AlertRow>(
        `SELECT * FROM alerts WHERE status <> 'resolved' AND ${IN_GROUPS}`,
        groupsParams(groups),
      );
      return rows.map(toAlert);
    },

    /** Each group's latest resolved alert: when it was resolved and its last event (bursts, reopening). */
    async lastResolved(groups: GroupRef[], db: Queryable = pool): Promise<Map<string, LastResolved>> {
      if (groups.length === 0) return new Map();
      const { rows } = await db.query<{
        id: string;
        rule_id: string;
        group_key: string;
        resolved_at: Date;
        last_event_at: Date | null;
        opened_at: Date;
      }>(
        `SELECT DISTINCT ON (rule_id, group_key) id, rule_id, group_key, resolved_at, last_event_at, opened_at
         FROM alerts WHERE status = 'resolved' AND ${IN_GROUPS} ORDER BY rule_id, group_key, resolved_at DESC`,
        groupsParams(groups),
      );
      return new Map(
        rows.map((r) => [
          `${r.rule_id}|${r.group_key}`,
          { id: r.id, resolvedAt: r.resolved_at, lastEventAt: r.last_event_at ?? r.opened_at },
        ]),
      );
    },

    /** Opens an alert unless the group already has an unresolved one (then null: attach to that one instead). */
    async insertIfNone(a: NewAlert, db: Queryable = pool): Promise<Alert | null> {
      const { rows } = await db.query<AlertRow>(
        `INSERT INTO alerts (rule_id, rule_name, kind, group_key, severity, status, site, camera, title, condition,
                             opened_at, updated_at, reason)
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10, $10, $11)
         ON CONFLICT (rule_id, group_key) WHERE status <> 'resolved' DO NOTHING RETURNING *`,
        [
          a.ruleId,
          a.ruleName,
          a.kind,
          a.groupKey,
          a.severity,
          a.site,
          a.camera,
          a.title,
          a.condition,
          a.openedAt,
          JSON.stringify(a.reason),
        ],
      );
      return rows[0] ? toAlert(rows[0]) : null;
    },

    /** Attaches events (idempotent) and keeps each alert's count and first/last event time. */
    async attachEvents(
      links: { alertId: string; eventId: string; at: string }[],
      now: Date,
      db: Queryable = pool,
    ): Promise<Map<string, { n: number; alert: Alert }>> {
      if (links.length === 0) return new Map();
      // Each alert comes back as updated (RETURNING a.*): the evaluator reports it without one SELECT per alert.
      const { rows } = await db.query<AlertRow & { attached_n: number }>(
        `WITH ins AS (
           INSERT INTO alert_events (alert_id, event_id, at)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[])
           ON CONFLICT DO NOTHING RETURNING alert_id, at
         ), agg AS (SELECT alert_id, count(*)::int AS n, min(at) AS mn, max(at) AS mx FROM ins GROUP BY alert_id)
         UPDATE alerts a SET event_count = a.event_count + agg.n, first_event_at = LEAST(a.first_event_at, agg.mn),
                             last_event_at = GREATEST(a.last_event_at, agg.mx), updated_at = $4
         FROM agg WHERE a.id = agg.alert_id RETURNING a.*, agg.n AS attached_n`,
        [links.map((l) => l.alertId), links.map((l) => l.eventId), links.map((l) => l.at), now],
      );
      return new Map(rows.map((r) => [r.id, { n: r.attached_n, alert: toAlert(r) }]));
    },

    async addCandidates(
      rows: (GroupRef & { eventId: string; at: string; opens: boolean })[],
      db: Queryable = pool,
    ): Promise<void> {
      if (rows.length === 0) return;
      await db.query(
        `INSERT INTO alert_candidates (rule_id, group_key, event_id, at, opens)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::timestamptz[], $5::boolean[])
         ON CONFLICT DO NOTHING`,
        [
          rows.map((r) => r.ruleId),
          rows.map((r) => r.groupKey),
          rows.map((r) => r.eventId),
          rows.map((r) => r.at),
          rows.map((r) => r.opens),
        ],
      );
    },

    /** Candidate events of each group at or after its window start. */
    async candidatesSince(
      groups: (GroupRef & { since: Date })[],
      db: Queryable = pool,
    ): Promise<Map<string, { eventId: string; at: string; opens: boolean }[]>> {
      if (groups.length === 0) return new Map();
      const { rows } = await db.query<{
        rule_id: string;
        group_key: string;
        event_id: string;
        at: Date;
        opens: boolean;
      }>(
        `SELECT c.rule_id, c.group_key, c.event_id, c.at, c.opens
         FROM alert_candidates c
         JOIN unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS g(rule_id, group_key, since)
           ON c.rule_id = g.rule_id AND c.group_key = g.group_key AND c.at >= g.since`,
        [...groupsParams(groups), groups.map((g) => g.since)],
      );
      const out = new Map<string, { eventId: string; at: string; opens: boolean }[]>();
      for (const r of rows) {
        const key = `${r.rule_id}|${r.group_key}`;
        const list = out.get(key) ?? [];
        list.push({ eventId: r.event_id, at: r.at.toISOString(), opens: r.opens });
        out.set(key, list);
      }
      return out;
    },

    async deleteCandidates(groups: GroupRef[], db: Queryable = pool): Promise<void> {
      if (groups.length === 0) return;
      await db.query(`DELETE FROM alert_candidates WHERE ${IN_GROUPS}`, groupsParams(groups));
    },

    async pruneCandidates(before: Date, db: Queryable = pool): Promise<number> {
      const { rowCount } = await db.query('DELETE FROM alert_candidates WHERE at < $1', [before]);
      return rowCount ?? 0;
    },

    async addHistory(entries: HistoryRow[], db: Queryable = pool): Promise<void> {
      if (entries.length === 0) return;
      await db.query(
        `INSERT INTO alert_history (alert_id, at, actor, action, note, data)
         SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::jsonb[])`,
        [
          entries.map((e) => e.alertId),
          entries.map((e) => e.at),
          entries.map((e) => e.actor),
          entries.map((e) => e.action),
          entries.map((e) => e.note ?? null),
          entries.map((e) => (e.data ? JSON.stringify(e.data) : null)),
        ],
      );
    },

    async get(id: string, lock = false, db: Queryable = pool): Promise<Alert | null> {
      const { rows } = await db.query<AlertRow>(`SELECT * FROM alerts WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
      return rows[0] ? toAlert(rows[0]) : null;
    },

    /** Sets the given columns of one alert (names come from this module, never from input). */
    async update(id: string, set: AlertUpdate, now: Date, db: Queryable = pool): Promise<Alert> {
      const cols = Object.keys(set) as (keyof AlertUpdate)[];
      // Column names go into the SQL text: only those of the workflow, never a key that merely reached this object.
      const unknown = cols.filter((c) => !UPDATABLE.has(c));
      if (unknown.length) throw new Error(`alerts.update: not an updatable column: ${unknown.join(', ')}`);
      const sets = [...cols.map((c, i) => `${c} = $${i + 2}`), `updated_at = $${cols.length + 2}`];
      const { rows } = await db.query<AlertRow>(`UPDATE alerts SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, [
        id,
        ...cols.map((c) => set[c]),
        now,
      ]);
      return toAlert(rows[0]!);
    },

    async page(f: AlertFilter, limit: number, cursor?: EventCursor, db: Queryable = pool) {
      const where: string[] = [];
      const values: unknown[] = [];
      const add = (sql: string, v: unknown) => where.push(sql.replace('?', `$${values.push(v)}`));
      if (f.status) add('status = ?', f.status);
      if (f.severity) add('severity = ?', f.severity);
      if (f.site) add('site = ?', f.site);
      if (f.sites) add('site = ANY(?::text[])', f.sites);
      if (f.camera) add('camera = ?', f.camera);
      if (f.from) add('opened_at >= ?::timestamptz', f.from);
      if (f.to) add('opened_at < ?::timestamptz', f.to);
      if (cursor) {
        values.push(cursor.at, cursor.id);
        where.push(`(opened_at, id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`);
      }
      values.push(limit + 1);
      const { rows } = await db.query<AlertRow>(
        `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY opened_at DESC, id DESC LIMIT $${values.length}`,
        values,
      );
      return { items: rows.slice(0, limit).map(toAlert), more: rows.length > limit };
    },

    async events(alertId: string, limit: number, db: Queryable = pool): Promise<EventItem[]> {
      const { rows } = await db.query(
        `SELECT e.*, ${clipColumn('e')} FROM alert_events ae JOIN events e ON e.id = ae.event_id
         WHERE ae.alert_id = $1 ORDER BY ae.at DESC, ae.event_id DESC LIMIT $2`,
        [alertId, limit],
      );
      return rows.map((r) => rowToEvent(r as Parameters<typeof rowToEvent>[0]));
    },

    async history(alertId: string, db: Queryable = pool): Promise<AlertHistoryEntry[]> {
      const { rows } = await db.query<{
        at: Date;
        actor: string;
        action: AlertAction;
        note: string | null;
        data: Record<string, unknown> | null;
      }>('SELECT at, actor, action, note, data FROM alert_history WHERE alert_id = $1 ORDER BY id', [alertId]);
      return rows.map((r) => ({ ...r, at: r.at.toISOString() }));
    },

    /**
     * Escalates, in one statement, every open alert whose time to be acknowledged has passed: its rule's
     * escalate_after_sec, or the hub default for critical alerts. SKIP LOCKED: hubs running this at once never
     * escalate the same alert twice.
     */
    async escalateDue(now: Date, defaultCriticalSec: number, db: Queryable = pool): Promise<Alert[]> {
      const { rows } = await db.query<AlertRow>(
        `UPDATE alerts a SET severity = CASE a.severity WHEN 'info' THEN 'warning' ELSE 'critical' END,
                             escalation_level = a.escalation_level + 1, escalated_at = $1, updated_at = $1
         WHERE a.id IN (
           SELECT al.id FROM alerts al LEFT JOIN alert_rules r ON r.id = al.rule_id
           WHERE al.status = 'open' AND al.escalation_level = 0
             AND al.opened_at + make_interval(secs =>
                   COALESCE(r.escalate_after_sec, CASE WHEN al.severity = 'critical' THEN $2::int END)) <= $1
           FOR UPDATE OF al SKIP LOCKED)
         RETURNING a.*`,
        [now, defaultCriticalSec],
      );
      return rows.map(toAlert);
    },

    // ---- health facts and conditions

    async cameraFacts(
      keys: { site: string; camera: string }[] | null,
      db: Queryable = pool,
    ): Promise<CameraHealthFacts[]> {
      const { rows } = await db.query<{
        site: string;
        camera: string;
        status: CameraHealthFacts['status'];
        status_since: Date | null;
        status_problems: CameraHealthFacts['problems'];
        health: CameraHealthFacts['health'];
        health_at: Date | null;
      }>(
        // A camera disabled in the registry is stopped on purpose: no health condition holds for it.
        `SELECT site, camera, status, status_since, status_problems, health, health_at FROM cameras c
         WHERE NOT EXISTS (SELECT 1 FROM camera_registry r WHERE r.site = c.site AND r.camera = c.camera AND NOT r.enabled)
         ${keys ? 'AND (site, camera) IN (SELECT * FROM unnest($1::text[], $2::text[]))' : ''}`,
        keys ? [keys.map((k) => k.site), keys.map((k) => k.camera)] : [],
      );
      return rows.map((r) => ({
        site: r.site,
        camera: r.camera,
        status: r.status,
        statusSince: r.status_since,
        problems: r.status_problems,
        health: r.health,
        healthAt: r.health_at,
      }));
    },

    async agentFacts(sites: string[] | null, db: Queryable = pool): Promise<AgentFacts[]> {
      const { rows } = await db.query<{ site: string; state: string; received_at: Date }>(
        `SELECT site, state, received_at FROM agents ${sites ? 'WHERE site = ANY($1::text[])' : ''}`,
        sites ? [sites] : [],
      );
      return rows.map((r) => ({ site: r.site, state: r.state, receivedAt: r.received_at }));
    },

    async conditions(db: Queryable = pool): Promise<ConditionRow[]> {
      const { rows } = await db.query<{
        rule_id: string;
        group_key: string;
        site: string;
        camera: string | null;
        since: Date;
        reason: AlertReason;
      }>('SELECT rule_id, group_key, site, camera, since, reason FROM alert_conditions');
      return rows.map((r) => ({
        ruleId: r.rule_id,
        groupKey: r.group_key,
        site: r.site,
        camera: r.camera,
        since: r.since,
        reason: r.reason,
      }));
    },

    /** Records conditions that began; one already recorded keeps its original start. */
    async upsertConditions(rows: ConditionRow[], db: Queryable = pool): Promise<void> {
      if (rows.length === 0) return;
      await db.query(
        `INSERT INTO alert_conditions (rule_id, group_key, site, camera, since, reason)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[])
         ON CONFLICT (rule_id, group_key) DO UPDATE SET reason = EXCLUDED.reason`,
        [
          rows.map((r) => r.ruleId),
          rows.map((r) => r.groupKey),
          rows.map((r) => r.site),
          rows.map((r) => r.camera),
          rows.map((r) => r.since),
          rows.map((r) => JSON.stringify(r.reason)),
        ],
      );
    },

    async deleteConditions(groups: GroupRef[], db: Queryable = pool): Promise<void> {
      if (groups.length === 0) return;
      await db.query(`DELETE FROM alert_conditions WHERE ${IN_GROUPS}`, groupsParams(groups));
    },

    async unresolvedHealth(db: Queryable = pool): Promise<Alert[]> {
      const { rows } = await db.query<AlertRow>(`SELECT * FROM alerts WHERE kind = 'health' AND status <> 'resolved'`);
      return rows.map(toAlert);
    },
  };
}
export type AlertsRepository = ReturnType<typeof createAlertsRepository>;

export interface ConditionRow extends GroupRef {
  site: string;
  camera: string | null;
  since: Date;
  reason: AlertReason;
}

export interface LastResolved {
  id: string;
  resolvedAt: Date;
  /** Time of its last event (its opening when it has none). */
  lastEventAt: Date;
}
