import type { AlertRule, AlertRuleInput, Schedule } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';

interface RuleRow {
  id: string;
  name: string;
  description: string | null;
  kind: 'event' | 'health';
  enabled: boolean;
  severity: AlertRule['severity'];
  sites: string[] | null;
  cameras: string[] | null;
  event_types: AlertRule['eventTypes'];
  schedule: Schedule | null;
  threshold_count: number;
  threshold_window_sec: number | null;
  group_by: 'camera' | 'site';
  cooldown_sec: number;
  condition: AlertRule['condition'];
  for_sec: number;
  bound_ms: number | null;
  escalate_after_sec: number | null;
  escalate_to: string[];
  created_at: Date;
  updated_at: Date;
}

function toRule(r: RuleRow): AlertRule {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    description: r.description,
    enabled: r.enabled,
    severity: r.severity,
    sites: r.sites,
    cameras: r.cameras,
    eventTypes: r.event_types,
    schedule: r.schedule,
    threshold:
      r.threshold_count > 1 && r.threshold_window_sec
        ? { count: r.threshold_count, windowSec: r.threshold_window_sec }
        : null,
    groupBy: r.group_by,
    cooldownSec: r.cooldown_sec,
    condition: r.condition,
    forSec: r.for_sec,
    boundMs: r.bound_ms,
    escalateAfterSec: r.escalate_after_sec,
    escalateTo: r.escalate_to,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** Column values of a rule, in COLUMNS order. */
function values(input: AlertRuleInput): unknown[] {
  const ev = input.kind === 'event' ? input : null;
  const he = input.kind === 'health' ? input : null;
  return [
    input.name,
    input.description ?? null,
    input.kind,
    input.enabled ?? true,
    input.severity,
    input.sites ?? null,
    input.cameras ?? null,
    ev?.eventTypes ?? null,
    ev?.schedule ? JSON.stringify(ev.schedule) : null,
    ev?.threshold?.count ?? 1,
    ev?.threshold?.windowSec ?? null,
    ev?.groupBy ?? 'camera',
    ev?.cooldownSec ?? 0,
    he?.condition ?? null,
    he?.forSec ?? 0,
    he?.boundMs ?? null,
    input.escalateAfterSec ?? null,
    input.escalateTo ?? [],
  ];
}

const COLUMNS = [
  'name',
  'description',
  'kind',
  'enabled',
  'severity',
  'sites',
  'cameras',
  'event_types',
  'schedule',
  'threshold_count',
  'threshold_window_sec',
  'group_by',
  'cooldown_sec',
  'condition',
  'for_sec',
  'bound_ms',
  'escalate_after_sec',
  'escalate_to',
];

export function createRulesRepository(db: Queryable) {
  return {
    async list(): Promise<AlertRule[]> {
      const { rows } = await db.query<RuleRow>('SELECT * FROM alert_rules ORDER BY created_at, id');
      return rows.map(toRule);
    },

    async get(id: string): Promise<AlertRule | null> {
      const { rows } = await db.query<RuleRow>('SELECT * FROM alert_rules WHERE id = $1', [id]);
      return rows[0] ? toRule(rows[0]) : null;
    },

    async insert(input: AlertRuleInput): Promise<AlertRule> {
      const { rows } = await db.query<RuleRow>(
        `INSERT INTO alert_rules (${COLUMNS.join(', ')})
         VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
        values(input),
      );
      return toRule(rows[0]!);
    },

    /** Replaces every field of a rule (the service merges a patch onto the stored rule first). */
    async replace(id: string, input: AlertRuleInput): Promise<AlertRule | null> {
      const v = values(input);
      const { rows } = await db.query<RuleRow>(
        `UPDATE alert_rules SET ${COLUMNS.map((c, i) => `${c} = $${i + 1}`).join(', ')}, updated_at = now()
         WHERE id = $${v.length + 1} RETURNING *`,
        [...v, id],
      );
      return rows[0] ? toRule(rows[0]) : null;
    },

    async delete(id: string): Promise<boolean> {
      const { rowCount } = await db.query('DELETE FROM alert_rules WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    },

    async targetsExist(ids: string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const { rows } = await db.query<{ id: string }>(
        'SELECT id FROM notification_targets WHERE id = ANY($1::uuid[])',
        [ids],
      );
      return rows.map((r) => r.id);
    },
  };
}
export type RulesRepository = ReturnType<typeof createRulesRepository>;
