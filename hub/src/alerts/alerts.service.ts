import type { Alert, AlertAction, AlertDetail, AlertsQuery, EventItem } from '@camhub/shared';
import type pg from 'pg';
import { withTransaction } from '../db/queryable.js';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import { decodeCursor, encodeCursor } from '../events/cursor.js';
import type { AlertChange, HubBus } from '../bus.js';
import type { AlertsRepository, AlertUpdate, ConditionRow, GroupRef, HistoryRow } from './alerts.repository.js';
import {
  agentCondition,
  alertTitle,
  cameraCondition,
  EVENT_CONDITIONS,
  eventConditionReason,
  eventMatches,
  eventsReason,
  FACT_CONDITIONS,
  groupKeyOf,
  inScope,
} from './rules.js';
import type { RulesService } from './rules.service.js';

export const SYSTEM_ACTOR = 'system';
const ALERT_EVENTS_SHOWN = 1000;
const ref = (g: GroupRef) => `${g.ruleId}|${g.groupKey}`;

export class AlertTransitionError extends ConflictError {}

/**
 * Alerts: turning stored events and camera/agent health into alerts (batch-aware: a handful of queries per batch,
 * whatever its size and the number of rules), and the people's workflow on them (acknowledge, assign, comment,
 * resolve, false alarm), with every change kept in the alert's history.
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
  const now = deps.now ?? (() => new Date());
  const { pool, repo, bus } = deps;
  const emit = (list: AlertChange[]) => {
    for (const c of list) bus.emit('alert.change', c);
  };
  const change = (
    action: AlertChange['action'],
    alert: Alert,
    actor: string,
    at: Date,
    note?: string | null,
    data?: Record<string, unknown>,
  ): AlertChange => ({ action, alert, actor, at: at.toISOString(), note: note ?? null, ...(data ? { data } : {}) });

  // ---------------------------------------------------------------- events → alerts

  interface Group extends GroupRef {
    rule: Awaited<ReturnType<RulesService['current']>>[number];
    site: string;
    camera: string | null;
    events: EventItem[];
  }

  type Rules = Awaited<ReturnType<RulesService['current']>>;

  /** The events each enabled event rule matches, grouped as the rule groups them (per camera or per site). */
  function groupEvents(rules: Rules, events: EventItem[]): Group[] {
    const eventRules = rules.filter((r) => r.kind === 'event' && r.enabled);
    const groups = new Map<string, Group>();
    for (const e of events) {
      for (const rule of eventRules) {
        if (!eventMatches(rule, e, deps.zoneOf)) continue;
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

  /** Health conditions raised by events (tamper, video loss): after the event rules, outside their transaction. */
  async function conditionsFromEvents(rules: Rules, events: EventItem[]): Promise<void> {
    const conditionRules = rules.filter(
      (r) => r.kind === 'health' && r.enabled && r.condition !== null && r.condition in EVENT_CONDITIONS,
    );
    const relevant = events.filter((e) => e.type === 'tamper' || e.type === 'video_loss');
    if (conditionRules.length > 0 && relevant.length > 0) await applyConditionEvents(conditionRules, relevant);
  }

  async function evaluateEvents(events: EventItem[]): Promise<void> {
    const rules = await deps.rules.current();
    const groups = groupEvents(rules, events);
    if (groups.length > 0) emit(await withTransaction(pool, (tx) => applyEventGroups(tx, groups)));
    await conditionsFromEvents(rules, events);
  }

  /**
   * Evaluates the events a committed batch left in the outbox. The outbox row is deleted in the same transaction as
   * the alerts its events open or join, so the evaluation happens exactly once, however often the job is delivered
   * (a crash, another hub). Returns false when the batch was already evaluated.
   */
  async function evaluateBatch(batchId: string): Promise<boolean> {
    const rules = await deps.rules.current();
    const done = await withTransaction(pool, async (tx) => {
      const events = await repo.claimOutbox(batchId, tx);
      if (!events) return null;
      const groups = groupEvents(rules, events);
      return { events, changes: groups.length > 0 ? await applyEventGroups(tx, groups) : [] };
    });
    if (!done) return false;
    emit(done.changes);
    await conditionsFromEvents(rules, done.events);
    return true;
  }

  async function applyEventGroups(tx: pg.PoolClient, groups: Group[]): Promise<AlertChange[]> {
    const t = now();
    const out: AlertChange[] = [];
    const unresolved = new Map((await repo.unresolvedOf(groups, tx)).map((a) => [`${a.ruleId}|${groupOfAlert(a)}`, a]));
    const links: { alertId: string; eventId: string; at: string }[] = [];
    const toOpen: { g: Group; events: { eventId: string; at: string }[] }[] = [];

    const closed = groups.filter((g) => !unresolved.has(ref(g)));
    const previous = await repo.lastResolved(closed, tx);
    const thresholdGroups: (Group & { since: Date })[] = [];
    // Ends seen before their alert exists (batches can commit out of order): kept to join the alert when it opens.
    const earlyEnds: (GroupRef & { eventId: string; at: string; opens: boolean })[] = [];
    for (const g of groups) {
      const open = unresolved.get(ref(g));
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
      const prev = previous.get(ref(g));
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
        const found = candidates.get(ref(g)) ?? [];
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
      for (const o of direct) o.events.push(...(ends.get(ref(o.g)) ?? []));
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
        out.push(change('opened', alert, SYSTEM_ACTOR, t));
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
    for (const c of out) c.alert = { ...c.alert, eventCount: attached.get(c.alert.id) ?? 0 };
    for (const [id, n] of attached) {
      if (opened.has(id) || n === 0) continue;
      const a = await repo.get(id, false, tx);
      if (a) out.push(change('events_attached', a, SYSTEM_ACTOR, t, null, { events: n }));
    }
    return out;
  }

  // ---------------------------------------------------------------- health conditions → alerts

  /** Tamper and video loss: a start (or pulse) begins the condition, the end clears it. */
  async function applyConditionEvents(
    rules: Awaited<ReturnType<RulesService['current']>>,
    events: EventItem[],
  ): Promise<void> {
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
        (links.get(`${a.ruleId}|${groupOfAlert(a)}`) ?? []).map((e) => ({ alertId: a.id, eventId: e.id, at: e.at })),
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

  /** Re-judges every fact-driven condition from the cameras and agents tables, then opens and resolves alerts. */
  async function evaluateHealth(): Promise<void> {
    const rules = (await deps.rules.current()).filter(
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
    const known = new Set(existing.map(ref));
    await repo.upsertConditions([...active.values()].filter((c) => !known.has(ref(c))));
    await repo.deleteConditions(existing.filter((c) => judged.has(c.ruleId) && !active.has(ref(c))));
    await settleHealth();
  }

  /** Opens alerts for conditions that lasted long enough; resolves (as the system) those whose condition cleared. */
  async function settleHealth(): Promise<void> {
    const t = now();
    const rules = new Map((await deps.rules.current()).filter((r) => r.kind === 'health').map((r) => [r.id, r]));
    const [conditions, unresolved] = await Promise.all([repo.conditions(), repo.unresolvedHealth()]);
    const open = new Map(unresolved.map((a) => [`${a.ruleId}|${groupOfAlert(a)}`, a]));
    const held = new Set(conditions.map(ref));
    const out: AlertChange[] = [];

    const due = conditions.filter((c) => {
      const rule = rules.get(c.ruleId);
      return rule?.enabled && !open.has(ref(c)) && t.getTime() - c.since.getTime() >= rule.forSec * 1000;
    });
    // A person resolved it while the condition still held: do not reopen the same occurrence.
    const lastResolved = await repo.lastResolved(due);
    for (const c of due) {
      const resolvedAt = lastResolved.get(ref(c))?.resolvedAt;
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
      if (opened) out.push(change('opened', opened, SYSTEM_ACTOR, t));
    }

    for (const a of unresolved) {
      if (held.has(`${a.ruleId}|${groupOfAlert(a)}`)) continue;
      const resolved = await transition(
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

  // ---------------------------------------------------------------- people's workflow

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
      return change(action, alert, actor, t, note, data);
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
    evaluateEvents,
    evaluateBatch,
    /** Outbox batches older than `before` (their job was lost or failed): to be queued again. */
    owedBatches: (before: Date) => repo.outboxBatches(before, 1000),
    evaluateHealth,
    settleHealth,

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
        const list = await repo.escalateDue(t, deps.defaultEscalationSec, tx);
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
      const rules = new Map((await deps.rules.current()).map((r) => [r.id, r]));
      emit(
        escalated.map((a) => ({
          ...change('escalated', a, SYSTEM_ACTOR, t, null, {
            reason: 'not_acknowledged',
            severity: a.severity,
            level: a.escalationLevel,
          }),
          extraTargets: (a.ruleId && rules.get(a.ruleId)?.escalateTo) || [],
        })),
      );
      return escalated;
    },

    /** Forgets threshold candidates too old to count in any window (at most a day). */
    pruneCandidates: () => repo.pruneCandidates(new Date(now().getTime() - 86_400_000)),
  };
}
export type AlertsService = ReturnType<typeof createAlertsService>;

/** The group key an alert was opened under (the site for site-wide alerts, else "site/camera"). */
function groupOfAlert(a: Alert): string {
  return a.camera === null ? a.site : `${a.site}/${a.camera}`;
}
