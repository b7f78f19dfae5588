import type { AlertRule, EventItem } from '@camhub/shared';
import type pg from 'pg';
import type { AlertChange } from '../bus.js';
import { withTransaction } from '../db/queryable.js';
import { alertChange, alertRef, type AlertsContext, groupRef, SYSTEM_ACTOR } from './alert-context.js';
import type { GroupRef } from './alerts.repository.js';
import type { HealthEvaluation } from './health-evaluation.js';
import { alertTitle, eventMatches, eventsReason, groupKeyOf } from './rules.js';

/** The events of one batch that one event rule matched, in the group the rule opens alerts for. */
export interface EventGroup extends GroupRef {
  rule: AlertRule;
  site: string;
  camera: string | null;
  events: EventItem[];
}

/** The events each enabled event rule matches, grouped as the rule groups them (per camera or per site). */
export function groupEvents(rules: AlertRule[], events: EventItem[], zoneOf: (site: string) => string): EventGroup[] {
  const eventRules = rules.filter((r) => r.kind === 'event' && r.enabled);
  const groups = new Map<string, EventGroup>();
  for (const e of events) {
    for (const rule of eventRules) {
      if (!eventMatches(rule, e, zoneOf)) continue;
      const groupKey = groupKeyOf(rule, e.site, e.camera);
      const key = `${rule.id}|${groupKey}`;
      let g = groups.get(key);
      if (!g) {
        g = {
          rule,
          ruleId: rule.id,
          groupKey,
          site: e.site,
          camera: rule.groupBy === 'site' ? null : e.camera,
          events: [],
        };
        groups.set(key, g);
      }
      g.events.push(e);
    }
  }
  return [...groups.values()];
}

/**
 * Event rules: stored events open alerts or join the open alert of their group (batch-aware: a handful of queries
 * per batch, whatever its size and the number of rules), with thresholds (N events in a window), cooldowns, and
 * ends that arrive before their start. Tamper and video loss events also feed the health conditions.
 */
export function createEventEvaluation(
  ctx: AlertsContext,
  deps: {
    /** The time zone of a site, for schedules that do not name one. */
    zoneOf: (site: string) => string;
    conditionsFromEvents: HealthEvaluation['conditionsFromEvents'];
  },
) {
  const { pool, repo, now, emit } = ctx;

  async function evaluateEvents(events: EventItem[]): Promise<void> {
    const rules = await ctx.rules.current();
    const groups = groupEvents(rules, events, deps.zoneOf);
    if (groups.length > 0) emit(await withTransaction(pool, (tx) => applyEventGroups(tx, groups)));
    await deps.conditionsFromEvents(rules, events);
  }

  /**
   * Evaluates the events a committed batch left in the outbox. The outbox row is deleted in the same transaction as
   * the alerts its events open or join, so the evaluation happens exactly once, however often the job is delivered
   * (a crash, another hub). Returns false when the batch was already evaluated.
   */
  async function evaluateBatch(batchId: string): Promise<boolean> {
    const rules = await ctx.rules.current();
    const done = await withTransaction(pool, async (tx) => {
      const events = await repo.claimOutbox(batchId, tx);
      if (!events) return null;
      const groups = groupEvents(rules, events, deps.zoneOf);
      return { events, changes: groups.length > 0 ? await applyEventGroups(tx, groups) : [] };
    });
    if (!done) return false;
    emit(done.changes);
    await deps.conditionsFromEvents(rules, done.events);
    return true;
  }

  async function applyEventGroups(tx: pg.PoolClient, groups: EventGroup[]): Promise<AlertChange[]> {
    const t = now();
    const out: AlertChange[] = [];
    const unresolved = new Map((await repo.unresolvedOf(groups, tx)).map((a) => [alertRef(a), a]));
    const links: { alertId: string; eventId: string; at: string }[] = [];
    const toOpen: { g: EventGroup; events: { eventId: string; at: string }[] }[] = [];

    const closed = groups.filter((g) => !unresolved.has(groupRef(g)));
    const previous = await repo.lastResolved(closed, tx);
    const thresholdGroups: (EventGroup & { since: Date })[] = [];
    // Ends seen before their alert exists (batches can commit out of order): kept to join the alert when it opens.
    const earlyEnds: (GroupRef & { eventId: string; at: string; opens: boolean })[] = [];
    for (const g of groups) {
      const open = unresolved.get(groupRef(g));
      if (open) {
        for (const e of g.events) links.push({ alertId: open.id, eventId: e.id, at: e.at });
        continue;
      }
      // An `end` says something stopped: it belongs to an open alert, it never starts one.
      const openers = g.events.filter((e) => e.state !== 'end');
      for (const e of g.events) {
        if (e.state === 'end')
          earlyEnds.push({ ruleId: g.ruleId, groupKey: g.groupKey, eventId: e.id, at: e.at, opens: false });
      }
      // Late parts of a burst already handled (an agent's outbox delivering after the resolution): they happened
      // before the alert was resolved and within the cooldown of its last event. Anything that happened after the
      // resolution is a new incident and opens a new alert, whatever the cooldown.
      const prev = previous.get(groupRef(g));
      const late = (e: EventItem) =>
        prev !== undefined &&
        Date.parse(e.at) <= prev.resolvedAt.getTime() &&
        Date.parse(e.at) <= prev.lastEventAt.getTime() + g.rule.cooldownSec * 1000;
      for (const e of openers) if (late(e)) links.push({ alertId: prev!.id, eventId: e.id, at: e.at });
      const fresh = openers.filter((e) => !late(e));
      if (fresh.length === 0) continue;
      if (g.rule.threshold) {
        const latest = Math.max(...fresh.map((e) => Date.parse(e.at)));
        thresholdGroups.push({ ...g, events: fresh, since: new Date(latest - g.rule.threshold.windowSec * 1000) });
      } else {
        toOpen.push({ g, events: fresh.map((e) => ({ eventId: e.id, at: e.at })) });
      }
    }

    await repo.addCandidates(
      [
        ...earlyEnds,
        ...thresholdGroups.flatMap((g) =>
          g.events.map((e) => ({ ruleId: g.ruleId, groupKey: g.groupKey, eventId: e.id, at: e.at, opens: true })),
        ),
      ],
      tx,
    );
    if (thresholdGroups.length > 0) {
      const candidates = await repo.candidatesSince(thresholdGroups, tx);
      for (const g of thresholdGroups) {
        const found = candidates.get(groupRef(g)) ?? [];
        if (found.filter((c) => c.opens).length >= g.rule.threshold!.count) toOpen.push({ g, events: found });
      }
    }
    // Ends that arrived first join the alert their start opens.
    const direct = toOpen.filter((o) => !o.g.rule.threshold);
    if (direct.length > 0) {
      const ends = await repo.candidatesSince(
        direct.map((o) => ({ ...o.g, since: new Date(Math.min(...o.events.map((e) => Date.parse(e.at)))) })),
        tx,
      );
      for (const o of direct) o.events.push(...(ends.get(groupRef(o.g)) ?? []));
    }

    for (const { g, events } of toOpen) {
      let alert = await repo.insertIfNone(
        {
          ruleId: g.ruleId,
          groupKey: g.groupKey,
          ruleName: g.rule.name,
          kind: 'event',
          severity: g.rule.severity,
          site: g.site,
          camera: g.camera,
          title: alertTitle(g.rule, g.site, g.camera),
          reason: eventsReason(g.events),
          condition: null,
          openedAt: t,
        },
        tx,
      );
      if (alert) {
        await repo.addHistory(
          [{ alertId: alert.id, at: t, actor: SYSTEM_ACTOR, action: 'opened', data: { events: events.length } }],
          tx,
        );
        out.push(alertChange('opened', alert, SYSTEM_ACTOR, t));
      } else {
        // Another batch (or hub) opened it a moment ago: this is the same incident.
        alert = (await repo.unresolvedOf([g], tx))[0] ?? null;
      }
      if (alert) for (const e of events) links.push({ alertId: alert.id, eventId: e.eventId, at: e.at });
    }
    await repo.deleteCandidates(
      toOpen.map((o) => o.g),
      tx,
    );

    const attached = await repo.attachEvents(links, t, tx);
    // Report counts as stored: an `opened` change carries the alert with its first events.
    const opened = new Set(out.map((c) => c.alert.id));
    for (const c of out) c.alert = { ...c.alert, eventCount: attached.get(c.alert.id)?.n ?? 0 };
    for (const [id, { n, alert: a }] of attached) {
      if (opened.has(id) || n === 0) continue;
      out.push(alertChange('events_attached', a, SYSTEM_ACTOR, t, null, { events: n }));
    }
    return out;
  }

  return {
    evaluateEvents,
    evaluateBatch,
    /** Outbox batches older than `before` (their job was lost or failed): to be queued again. */
    owedBatches: (before: Date) => repo.outboxBatches(before, 1000),
    /** Forgets threshold candidates too old to count in any window (at most a day). */
    pruneCandidates: () => repo.pruneCandidates(new Date(now().getTime() - 86_400_000)),
  };
}
export type EventEvaluation = ReturnType<typeof createEventEvaluation>;
