import type { Alert, AlertAction, AlertDetail, AlertsQuery } from '@camhub/shared';
import type { AlertChange } from '../bus.js';
import { withTransaction } from '../db/queryable.js';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import { decodeCursor, encodeCursor } from '../events/cursor.js';
import { alertChange, type AlertsContext, SYSTEM_ACTOR } from './alert-context.js';
import type { AlertUpdate, HistoryRow } from './alerts.repository.js';

const ALERT_EVENTS_SHOWN = 1000;

export class AlertTransitionError extends ConflictError {}

/**
 * An alert's life after it opened: what people do with it (acknowledge, assign, comment, resolve, false alarm),
 * escalation when nobody acknowledges it in time, and reading alerts. Every change is one transaction under the
 * alert's row lock, with its entry in the alert's history.
 */
export function createAlertLifecycle(ctx: AlertsContext, settings: { defaultEscalationSec: number }) {
  const { pool, repo, now, emit } = ctx;

  /**
   * Applies one change to one alert under a row lock. `decide` returns the columns to set, or null for "nothing to
   * do" (used by the system, which never fails); people get a 409 from `decide` throwing instead.
   */
  async function transition(
    id: string,
    actor: string,
    action: AlertAction,
    note: string | null | undefined,
    decide: (current: Alert) => AlertUpdate | null,
    data?: Record<string, unknown>,
  ): Promise<AlertChange | null> {
    const t = now();
    return withTransaction(pool, async (tx) => {
      const current = await repo.get(id, true, tx);
      if (!current) throw new NotFoundError('alert');
      const set = decide(current);
      if (set === null) return null;
      const alert = await repo.update(id, set, t, tx);
      const entry: HistoryRow = { alertId: id, at: t, actor, action, note: note ?? null, data: data ?? null };
      await repo.addHistory([entry], tx);
      return alertChange(action, alert, actor, t, note, data);
    });
  }

  const mustBeUnresolved = (a: Alert) => {
    if (a.status === 'resolved') {
      throw new AlertTransitionError('alert_resolved', `alert ${a.id} is already resolved`);
    }
  };

  async function act(
    id: string,
    actor: string,
    action: AlertAction,
    note: string | null | undefined,
    decide: (a: Alert) => AlertUpdate,
    data?: Record<string, unknown>,
  ): Promise<Alert> {
    const c = await transition(id, actor, action, note, decide, data);
    emit([c!]);
    return c!.alert;
  }

  return {
    transition,

    async list(q: AlertsQuery, scope?: { sites?: string[] }) {
      if (q.from && q.to && Date.parse(q.from) >= Date.parse(q.to)) {
        throw new BadRequestError('invalid_range', '`from` must be earlier than `to`');
      }
      if (q.camera && !q.site) {
        throw new BadRequestError('invalid_request', '`camera` needs `site`: camera ids are unique only within a site');
      }
      const limit = q.limit ?? 100;
      const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
      const { items, more } = await repo.page({ ...q, sites: scope?.sites }, limit, cursor);
      const last = items[items.length - 1];
      return { items, nextCursor: more && last ? encodeCursor({ at: last.openedAt, id: last.id }) : null };
    },

    async get(id: string): Promise<AlertDetail> {
      const alert = await repo.get(id);
      if (!alert) throw new NotFoundError('alert');
      const [events, history] = await Promise.all([repo.events(id, ALERT_EVENTS_SHOWN), repo.history(id)]);
      return { ...alert, events, history };
    },

    acknowledge: (id: string, actor: string, note?: string) =>
      act(id, actor, 'acknowledged', note, (a) => {
        mustBeUnresolved(a);
        if (a.status === 'acknowledged') {
          throw new AlertTransitionError(
            'alert_already_acknowledged',
            `alert ${a.id} was acknowledged by ${a.acknowledgedBy}`,
          );
        }
        return {
          status: 'acknowledged',
          acknowledged_at: now(),
          acknowledged_by: actor,
          acknowledge_note: note ?? null,
        };
      }),

    assign: (id: string, actor: string, assignee: string | null, note?: string) =>
      act(
        id,
        actor,
        'assigned',
        note,
        (a) => {
          mustBeUnresolved(a);
          return { assignee };
        },
        { assignee },
      ),

    comment: (id: string, actor: string, note: string) => act(id, actor, 'commented', note, () => ({})),

    resolve: (id: string, actor: string, note?: string, falseAlarm = false) =>
      act(id, actor, falseAlarm ? 'false_alarm' : 'resolved', note, (a) => {
        mustBeUnresolved(a);
        return {
          status: 'resolved',
          resolved_at: now(),
          resolved_by: actor,
          resolve_note: note ?? null,
          resolution: falseAlarm ? 'false_alarm' : 'manual',
        };
      }),

    /** Raises the severity of alerts nobody acknowledged in time, and tells the escalation targets. */
    async escalate(): Promise<Alert[]> {
      const t = now();
      const escalated = await withTransaction(pool, async (tx) => {
        const list = await repo.escalateDue(t, settings.defaultEscalationSec, tx);
        await repo.addHistory(
          list.map((a) => ({
            alertId: a.id,
            at: t,
            actor: SYSTEM_ACTOR,
            action: 'escalated' as const,
            data: { reason: 'not_acknowledged', severity: a.severity, level: a.escalationLevel },
          })),
          tx,
        );
        return list;
      });
      if (escalated.length === 0) return [];
      const rules = new Map((await ctx.rules.current()).map((r) => [r.id, r]));
      emit(
        escalated.map((a) => ({
          ...alertChange('escalated', a, SYSTEM_ACTOR, t, null, {
            reason: 'not_acknowledged',
            severity: a.severity,
            level: a.escalationLevel,
          }),
          extraTargets: (a.ruleId && rules.get(a.ruleId)?.escalateTo) || [],
        })),
      );
      return escalated;
    },
  };
}
export type AlertLifecycle = ReturnType<typeof createAlertLifecycle>;
