import type { AlertRule, CameraViewStatus, EventItem, HealthSample, Problem, Severity } from '@camhub/shared';
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
  detail: string;
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
        const why = f.problems.map((p) => p.code).join(', ') || 'no reason given';
        return { ...at, since: f.statusSince, detail: `camera is ${f.status} (${why})` };
      }
      return null;
    case 'clock_skew': {
      const skew = f.health?.onvif?.clockSkewMs;
      if (f.status === 'offline' || f.status === 'unknown') return null;
      if (typeof skew === 'number' && Math.abs(skew) > (rule.boundMs ?? 5000)) {
        return { ...at, since: null, detail: `camera clock is off by ${(skew / 1000).toFixed(1)} s` };
      }
      return null;
    }
    case 'events_unsubscribed':
      if (f.status === 'offline' || f.status === 'unknown') return null;
      if (f.health?.onvif?.eventsSubscribed === false || hasProblem(f, 'events_unsubscribed')) {
        return { ...at, since: null, detail: 'the agent is not subscribed to the camera events' };
      }
      return null;
    default:
      return null;
  }
}

export function agentCondition(rule: AlertRule, a: AgentFacts): ActiveCondition | null {
  if (rule.condition !== 'agent_offline' || a.state !== 'offline') return null;
  return { site: a.site, camera: null, since: a.receivedAt, detail: `the edge agent of site ${a.site} is offline` };
}

/** Conditions judged from camera and agent facts (the rest are driven by events). */
export const FACT_CONDITIONS = new Set(['camera_offline', 'agent_offline', 'clock_skew', 'events_unsubscribed']);
/** Health conditions driven by events: a `start` (or pulse) begins them, the matching `end` clears them. */
export const EVENT_CONDITIONS = { tamper: 'tamper', video_loss: 'video_loss' } as const;

export function alertTitle(rule: AlertRule, site: string, camera: string | null, detail?: string): string {
  const where = camera ? `${site}/${camera}` : site;
  return detail ? `${rule.name} at ${where}: ${detail}` : `${rule.name} at ${where}`;
}
