import type { Alert } from '@camhub/shared';
import type pg from 'pg';
import type { AlertChange } from '../bus.js';
import type { AlertsRepository, GroupRef } from './alerts.repository.js';
import type { RulesService } from './rules.service.js';

/** Who the hub names as the actor of what it does by itself (opening, auto-resolving, escalating). */
export const SYSTEM_ACTOR = 'system';

/**
 * What the three parts of the alerts service (event-evaluation, health-evaluation, alert-lifecycle) share: the
 * store, the rules, the clock, and where their changes go (the bus, as `alert.change`).
 */
export interface AlertsContext {
  pool: pg.Pool;
  repo: AlertsRepository;
  rules: RulesService;
  now: () => Date;
  emit: (changes: AlertChange[]) => void;
}

/** A rule and the group it opens alerts for, as one map key. */
export const groupRef = (g: GroupRef) => `${g.ruleId}|${g.groupKey}`;

/** The group key an alert was opened under (the site for site-wide alerts, else "site/camera"). */
export function groupOfAlert(a: Alert): string {
  return a.camera === null ? a.site : `${a.site}/${a.camera}`;
}

/** The same key as `groupRef`, for an alert. */
export const alertRef = (a: Alert) => `${a.ruleId}|${groupOfAlert(a)}`;

export function alertChange(
  action: AlertChange['action'],
  alert: Alert,
  actor: string,
  at: Date,
  note?: string | null,
  data?: Record<string, unknown>,
): AlertChange {
  return { action, alert, actor, at: at.toISOString(), note: note ?? null, ...(data ? { data } : {}) };
}
