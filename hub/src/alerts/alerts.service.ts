import type pg from 'pg';
import type { AlertChange, HubBus } from '../bus.js';
import type { AlertsContext } from './alert-context.js';
import { createAlertLifecycle } from './alert-lifecycle.js';
import type { AlertsRepository } from './alerts.repository.js';
import { createEventEvaluation } from './event-evaluation.js';
import { createHealthEvaluation } from './health-evaluation.js';
import type { RulesService } from './rules.service.js';

/**
 * Alerts, as one service made of three parts: event rules turning stored events into alerts (event-evaluation.ts),
 * health rules turning camera and agent conditions into alerts (health-evaluation.ts), and the alert's life after
 * it opened: people's workflow, escalation, reading (alert-lifecycle.ts). Every change goes on the bus as
 * `alert.change` and is kept in the alert's history.
 */
export function createAlertsService(deps: {
  pool: pg.Pool;
  repo: AlertsRepository;
  rules: RulesService;
  bus: HubBus;
  /** The time zone of a site, for schedules that do not name one. */
  zoneOf: (site: string) => string;
  /** Escalation delay of critical alerts whose rule sets none. */
  defaultEscalationSec: number;
  now?: () => Date;
}) {
  const ctx: AlertsContext = {
    pool: deps.pool,
    repo: deps.repo,
    rules: deps.rules,
    now: deps.now ?? (() => new Date()),
    emit: (changes: AlertChange[]) => {
      for (const c of changes) deps.bus.emit('alert.change', c);
    },
  };
  const lifecycle = createAlertLifecycle(ctx, { defaultEscalationSec: deps.defaultEscalationSec });
  const health = createHealthEvaluation(ctx, { transition: lifecycle.transition });
  const events = createEventEvaluation(ctx, {
    zoneOf: deps.zoneOf,
    conditionsFromEvents: health.conditionsFromEvents,
  });

  return {
    evaluateEvents: events.evaluateEvents,
    evaluateBatch: events.evaluateBatch,
    owedBatches: events.owedBatches,
    pruneCandidates: events.pruneCandidates,
    evaluateHealth: health.evaluateHealth,
    settleHealth: health.settleHealth,
    list: lifecycle.list,
    get: lifecycle.get,
    acknowledge: lifecycle.acknowledge,
    assign: lifecycle.assign,
    comment: lifecycle.comment,
    resolve: lifecycle.resolve,
    escalate: lifecycle.escalate,
  };
}
export type AlertsService = ReturnType<typeof createAlertsService>;
