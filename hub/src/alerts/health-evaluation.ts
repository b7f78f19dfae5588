import type { AlertRule, EventItem } from '@camhub/shared';
import type { AlertChange } from '../bus.js';
import { withTransaction } from '../db/queryable.js';
import { alertChange, alertRef, type AlertsContext, groupRef, SYSTEM_ACTOR } from './alert-context.js';
import type { AlertLifecycle } from './alert-lifecycle.js';
import type { ConditionRow } from './alerts.repository.js';
import {
  agentCondition,
  alertTitle,
  cameraCondition,
  EVENT_CONDITIONS,
  eventConditionReason,
  FACT_CONDITIONS,
  groupKeyOf,
  inScope,
} from './rules.js';

/**
 * Health rules: conditions (a camera offline, an agent gone, clock skew, tamper, video loss) are kept in the
 * conditions table while they hold; one that lasted the rule's `forSec` opens an alert, one that cleared resolves
 * its alert as the system. Fact-driven conditions are re-judged from the cameras and agents tables; tamper and video
 * loss come from events.
 */
export function createHealthEvaluation(ctx: AlertsContext, deps: { transition: AlertLifecycle['transition'] }) {
  const { pool, repo, now, emit } = ctx;

  /** Tamper and video loss: a start (or pulse) begins the condition, the end clears it. */
  async function applyConditionEvents(rules: AlertRule[], events: EventItem[]): Promise<void> {
    const latest = new Map<string, ConditionRow & { state: string }>();
    const sorted = [...events].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    const links = new Map<string, EventItem[]>();
    for (const e of sorted) {
      for (const rule of rules) {
        if (rule.condition !== e.type || !inScope(rule, e.site, e.camera)) continue;
        const groupKey = groupKeyOf({ groupBy: 'camera' }, e.site, e.camera);
        const key = `${rule.id}|${groupKey}`;
        latest.set(key, {
          ruleId: rule.id,
          groupKey,
          site: e.site,
          camera: e.camera,
          since: new Date(e.at),
          reason: eventConditionReason(e),
          state: e.state,
        });
        links.set(key, [...(links.get(key) ?? []), e]);
      }
    }
    // Keep the evidence with the alert: the end goes to the alert it resolves, a start to the alert it opens.
    const attach = async () => {
      const open = await repo.unresolvedOf([...latest.values()]);
      const eventLinks = open.flatMap((a) =>
        (links.get(alertRef(a)) ?? []).map((e) => ({ alertId: a.id, eventId: e.id, at: e.at })),
      );
      await repo.attachEvents(eventLinks, now());
    };
    await attach();
    // A pulse has no end: each one is a fresh occurrence (so one after a person resolved the alert opens a new one).
    await repo.deleteConditions([...latest.values()].filter((c) => c.state === 'pulse'));
    await repo.upsertConditions([...latest.values()].filter((c) => c.state !== 'end'));
    await repo.deleteConditions([...latest.values()].filter((c) => c.state === 'end'));
    await settleHealth();
    await attach();
  }

  /** Health conditions raised by events (tamper, video loss): after the event rules, outside their transaction. */
  async function conditionsFromEvents(rules: AlertRule[], events: EventItem[]): Promise<void> {
    const conditionRules = rules.filter(
      (r) => r.kind === 'health' && r.enabled && r.condition !== null && r.condition in EVENT_CONDITIONS,
    );
    const relevant = events.filter((e) => e.type === 'tamper' || e.type === 'video_loss');
    if (conditionRules.length > 0 && relevant.length > 0) await applyConditionEvents(conditionRules, relevant);
  }

  /** Re-judges every fact-driven condition from the cameras and agents tables, then opens and resolves alerts. */
  async function evaluateHealth(): Promise<void> {
    const rules = (await ctx.rules.current()).filter(
      (r) => r.kind === 'health' && r.enabled && r.condition !== null && FACT_CONDITIONS.has(r.condition),
    );
    const t = now();
    const [cameras, agents, existing] = await Promise.all([
      rules.length ? repo.cameraFacts(null) : [],
      rules.some((r) => r.condition === 'agent_offline') ? repo.agentFacts(null) : [],
      repo.conditions(),
    ]);
    const active = new Map<string, ConditionRow>();
    for (const rule of rules) {
      const found =
        rule.condition === 'agent_offline'
          ? agents.filter((a) => inScope(rule, a.site, null)).map((a) => agentCondition(rule, a))
          : cameras.filter((c) => inScope(rule, c.site, c.camera)).map((c) => cameraCondition(rule, c));
      for (const c of found) {
        if (!c) continue;
        const groupKey = groupKeyOf({ groupBy: 'camera' }, c.site, c.camera);
        active.set(`${rule.id}|${groupKey}`, { ruleId: rule.id, groupKey, ...c, since: c.since ?? t });
      }
    }
    const judged = new Set(rules.map((r) => r.id));
    const known = new Set(existing.map(groupRef));
    await repo.upsertConditions([...active.values()].filter((c) => !known.has(groupRef(c))));
    await repo.deleteConditions(existing.filter((c) => judged.has(c.ruleId) && !active.has(groupRef(c))));
    await settleHealth();
  }

  /** Opens alerts for conditions that lasted long enough; resolves (as the system) those whose condition cleared. */
  async function settleHealth(): Promise<void> {
    const t = now();
    const rules = new Map((await ctx.rules.current()).filter((r) => r.kind === 'health').map((r) => [r.id, r]));
    const [conditions, unresolved] = await Promise.all([repo.conditions(), repo.unresolvedHealth()]);
    const open = new Map(unresolved.map((a) => [alertRef(a), a]));
    const held = new Set(conditions.map(groupRef));
    const out: AlertChange[] = [];

    const due = conditions.filter((c) => {
      const rule = rules.get(c.ruleId);
      return rule?.enabled && !open.has(groupRef(c)) && t.getTime() - c.since.getTime() >= rule.forSec * 1000;
    });
    // A person resolved it while the condition still held: do not reopen the same occurrence.
    const lastResolved = await repo.lastResolved(due);
    for (const c of due) {
      const resolvedAt = lastResolved.get(groupRef(c))?.resolvedAt;
      if (resolvedAt && resolvedAt >= c.since) continue;
      const rule = rules.get(c.ruleId)!;
      const opened = await withTransaction(pool, async (tx) => {
        const a = await repo.insertIfNone(
          {
            ruleId: c.ruleId,
            groupKey: c.groupKey,
            ruleName: rule.name,
            kind: 'health',
            severity: rule.severity,
            site: c.site,
            camera: c.camera,
            title: alertTitle(rule, c.site, c.camera),
            reason: c.reason,
            condition: rule.condition,
            openedAt: t,
          },
          tx,
        );
        if (a) {
          await repo.addHistory(
            [
              {
                alertId: a.id,
                at: t,
                actor: SYSTEM_ACTOR,
                action: 'opened',
                data: { since: c.since.toISOString(), reason: c.reason },
              },
            ],
            tx,
          );
        }
        return a;
      });
      if (opened) out.push(alertChange('opened', opened, SYSTEM_ACTOR, t));
    }

    for (const a of unresolved) {
      if (held.has(alertRef(a))) continue;
      const resolved = await deps.transition(
        a.id,
        SYSTEM_ACTOR,
        'auto_resolved',
        null,
        (cur) =>
          cur.status === 'resolved'
            ? null
            : { status: 'resolved', resolved_at: t, resolved_by: SYSTEM_ACTOR, resolution: 'auto' },
        { reason: 'condition_cleared' },
      );
      if (resolved) out.push(resolved);
    }
    emit(out);
  }

  return { conditionsFromEvents, evaluateHealth, settleHealth };
}
export type HealthEvaluation = ReturnType<typeof createHealthEvaluation>;
