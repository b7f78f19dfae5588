import type {
  AlertReason,
  AlertRule,
  CameraViewStatus,
  EventItem,
  HealthSample,
  Problem,
  Severity,
} from '@camhub/shared';
import { inSchedule } from './schedule.js';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** The next severity up (critical stays critical). */
export function raiseSeverity(s: Severity): Severity {
  return s === 'info' ? 'warning' : 'critical';
}

/** One incident of a rule: per camera, or per site when the rule groups by site (or the alert is about a site). */
export function groupKeyOf(rule: Pick<AlertRule, 'groupBy'>, site: string, camera: string | null): string {
  return rule.groupBy === 'site' || camera === null ? site : `${site}/${camera}`;
}

export function inScope(rule: Pick<AlertRule, 'sites' | 'cameras'>, site: string, camera: string | null): boolean {
  if (rule.sites && !rule.sites.includes(site)) return false;
  if (rule.cameras && camera !== null && !rule.cameras.includes(`${site}/${camera}`)) return false;
  // A rule limited to some cameras still covers their site's agent.
  if (rule.cameras && camera === null && !rule.cameras.some((c) => c.startsWith(`${site}/`))) return false;
  return true;
}

/** Whether an event rule fires for an event: type, place, and the schedule at the time the event happened. */
export function eventMatches(rule: AlertRule, e: EventItem, zoneOf: (site: string) => string): boolean {
  if (rule.kind !== 'event' || !rule.enabled) return false;
  if (rule.eventTypes && !rule.eventTypes.includes(e.type)) return false;
  // An end says a thing stopped; it is attached to an open alert but never opens one (see evaluator).
  if (!inScope(rule, e.site, e.camera)) return false;
  if (rule.schedule && !inSchedule(rule.schedule, new Date(e.at), rule.schedule.timeZone ?? zoneOf(e.site))) {
    return false;
  }
  return true;
}

/** What the hub knows about a camera when it judges health conditions. */
export interface CameraHealthFacts {
  site: string;
  camera: string;
  status: CameraViewStatus;
  statusSince: Date | null;
  problems: Problem[];
  health: HealthSample | null;
  healthAt: Date | null;
}

export interface AgentFacts {
  site: string;
  state: string;
  receivedAt: Date;
}

export interface ActiveCondition {
  site: string;
  camera: string | null;
  /** When the condition began, when the facts say so; otherwise the evaluator uses the first time it saw it. */
  since: Date | null;
  /** What holds, as a code and parameters (the console words it). */
  reason: AlertReason;
}

const hasProblem = (f: CameraHealthFacts, code: string) => f.problems.some((p) => p.code === code);

/** Whether a fact-driven health condition holds for a camera (tamper and video loss come from events instead). */
export function cameraCondition(rule: AlertRule, f: CameraHealthFacts): ActiveCondition | null {
  const at = { site: f.site, camera: f.camera };
  switch (rule.condition) {
    case 'camera_offline':
      // Unknown because the agent is away (the agent rule's incident) or because the camera never reported is not
      // a camera going offline.
      if (
        f.status === 'offline' ||
        (f.status === 'unknown' && f.statusSince && !hasProblem(f, 'agent_offline') && !hasProblem(f, 'no_health_data'))
      ) {
        return {
          ...at,
          since: f.statusSince,
          reason: { code: 'camera_offline', params: { status: f.status, problems: f.problems.map((p) => p.code) } },
        };
      }
      return null;
    case 'clock_skew': {
      const skew = f.health?.onvif?.clockSkewMs;
      if (f.status === 'offline' || f.status === 'unknown') return null;
      if (typeof skew === 'number' && Math.abs(skew) > (rule.boundMs ?? 5000)) {
        return { ...at, since: null, reason: { code: 'clock_skew', params: { skewMs: skew } } };
      }
      return null;
    }
    case 'events_unsubscribed':
      if (f.status === 'offline' || f.status === 'unknown') return null;
      if (f.health?.onvif?.eventsSubscribed === false || hasProblem(f, 'events_unsubscribed')) {
        return { ...at, since: null, reason: { code: 'events_unsubscribed', params: {} } };
      }
      return null;
    default:
      return null;
  }
}

export function agentCondition(rule: AlertRule, a: AgentFacts): ActiveCondition | null {
  if (rule.condition !== 'agent_offline' || a.state !== 'offline') return null;
  return { site: a.site, camera: null, since: a.receivedAt, reason: { code: 'agent_offline', params: {} } };
}

/** Conditions judged from camera and agent facts (the rest are driven by events). */
export const FACT_CONDITIONS = new Set(['camera_offline', 'agent_offline', 'clock_skew', 'events_unsubscribed']);
/** Health conditions driven by events: a `start` (or pulse) begins them, the matching `end` clears them. */
export const EVENT_CONDITIONS = { tamper: 'tamper', video_loss: 'video_loss' } as const;

/**
 * The event types that enabled rules can act on: those of event rules, and tamper / video loss when a health rule
 * watches that condition. `null`: every type (an enabled event rule names no types). Ingest records for alert
 * evaluation only the new events of these types (alert_outbox): the evaluation drops every other event anyway, and
 * reading each stored event back cost PostgreSQL about half of what inserting it did (docs/performance.md).
 */
export function alertEventTypes(rules: readonly AlertRule[]): ReadonlySet<string> | null {
  const types = new Set<string>();
  for (const r of rules) {
    if (!r.enabled) continue;
    if (r.kind === 'event') {
      if (!r.eventTypes) return null;
      for (const t of r.eventTypes) types.add(t);
    } else if (r.condition !== null && r.condition in EVENT_CONDITIONS) {
      types.add(EVENT_CONDITIONS[r.condition as keyof typeof EVENT_CONDITIONS]);
    }
  }
  return types;
}

/**
 * The title kept for clients that do not localise: the rule's name (words an administrator chose) and the place,
 * no sentence of ours. The console renders its own title from `reason`.
 */
export function alertTitle(rule: Pick<AlertRule, 'name'>, site: string, camera: string | null): string {
  return `${rule.name} — ${camera ? `${site}/${camera}` : site}`;
}

/** Tamper and video loss from an event: who saw it (the camera's ONVIF event, or the agent's own stream probe). */
export function eventConditionReason(e: Pick<EventItem, 'type' | 'source' | 'data'>): AlertReason {
  const params: Record<string, unknown> = { source: e.source.kind === 'stream' ? 'stream' : 'camera' };
  const why = e.data?.reason ?? e.data?.tamper;
  if (typeof why === 'string') params.reason = why;
  return { code: e.type, params };
}

/** What an event alert is about: the event types that opened it. */
export function eventsReason(events: Pick<EventItem, 'type'>[]): AlertReason {
  return { code: 'events', params: { types: [...new Set(events.map((e) => e.type))].sort() } };
}
