/**
 * The alert-rule editor's form, apart from its view: a rule as form fields, the problems that keep it from being
 * saved (as catalogue keys with parameters, so every message is in the user's language) and the hub's input.
 * Pure: no DOM, no catalogue, so it is unit-tested as is.
 */
import type { AlertRule, AlertRuleInput, EventType } from '@camhub/shared';

export type Severity = AlertRule['severity'];
export type HealthCondition = NonNullable<AlertRule['condition']>;
export const HEALTH_CONDITIONS: HealthCondition[] = [
  'camera_offline',
  'agent_offline',
  'tamper',
  'video_loss',
  'clock_skew',
  'events_unsubscribed',
];
export const SEVERITIES: Severity[] = ['info', 'warning', 'critical'];
/** ISO weekdays, Monday first. */
export const DAYS = [1, 2, 3, 4, 5, 6, 7] as const;

export interface WindowForm {
  start: string;
  end: string;
  /** ISO weekdays the window starts on; empty: every day. */
  days: number[];
}

export interface RuleForm {
  kind: 'event' | 'health';
  name: string;
  description: string;
  enabled: boolean;
  severity: Severity;
  /** Empty: every site. */
  sites: string[];
  /** "site/camera"; empty: every camera of the sites. */
  cameras: string[];
  /** Empty: every type. */
  eventTypes: EventType[];
  timeZone: string;
  windows: WindowForm[];
  thresholdCount: string;
  thresholdWindowSec: string;
  groupBy: 'camera' | 'site';
  cooldownSec: string;
  condition: HealthCondition;
  forSec: string;
  boundMs: string;
  escalateAfterSec: string;
  escalateTo: string[];
}

export const EMPTY_RULE: RuleForm = {
  kind: 'event',
  name: '',
  description: '',
  enabled: true,
  severity: 'warning',
  sites: [],
  cameras: [],
  eventTypes: [],
  timeZone: '',
  windows: [],
  thresholdCount: '',
  thresholdWindowSec: '',
  groupBy: 'camera',
  cooldownSec: '300',
  condition: 'camera_offline',
  forSec: '300',
  boundMs: '',
  escalateAfterSec: '',
  escalateTo: [],
};

const num = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));

export function formOfRule(r: AlertRule): RuleForm {
  return {
    kind: r.kind,
    name: r.name,
    description: r.description ?? '',
    enabled: r.enabled,
    severity: r.severity,
    sites: r.sites ?? [],
    cameras: r.cameras ?? [],
    eventTypes: r.eventTypes ?? [],
    timeZone: r.schedule?.timeZone ?? '',
    windows: (r.schedule?.windows ?? []).map((w) => ({ start: w.start, end: w.end, days: w.days ?? [] })),
    thresholdCount: num(r.threshold?.count),
    thresholdWindowSec: num(r.threshold?.windowSec),
    groupBy: r.groupBy,
    cooldownSec: num(r.cooldownSec),
    condition: r.condition ?? 'camera_offline',
    forSec: num(r.forSec),
    boundMs: num(r.boundMs),
    escalateAfterSec: num(r.escalateAfterSec),
    escalateTo: r.escalateTo,
  };
}

/** A problem: the catalogue key of its message and the message's parameters. */
export interface Problem {
  key: string;
  params?: Record<string, string | number>;
}

const CLOCK = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const WEEK_SEC = 7 * 86_400;

/** An integer within [min, max] written in a field; null when the field says something else. */
function integer(text: string, min: number, max: number): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

/**
 * What keeps the form from being saved, in the order of its fields. `zoneKnown` says whether a time zone exists
 * (the browser's Intl knows them; the hub checks again).
 */
export function ruleProblems(f: RuleForm, zoneKnown: (zone: string) => boolean): Problem[] {
  const out: Problem[] = [];
  if (!f.name.trim()) out.push({ key: 'rules.v.name' });
  if (f.kind === 'event') {
    f.windows.forEach((w, i) => {
      if (!CLOCK.test(w.start) || !CLOCK.test(w.end) || w.start === '24:00')
        out.push({ key: 'rules.v.window', params: { n: i + 1 } });
      else if (w.start === w.end) out.push({ key: 'rules.v.windowEmpty', params: { n: i + 1 } });
    });
    if (f.timeZone.trim() && !zoneKnown(f.timeZone.trim())) out.push({ key: 'rules.v.timeZone' });
    const count = f.thresholdCount.trim();
    const window = f.thresholdWindowSec.trim();
    if ((count || window) && (integer(count, 1, 100_000) === null || integer(window, 1, 86_400) === null))
      out.push({ key: 'rules.v.threshold' });
    if (integer(f.cooldownSec || '0', 0, WEEK_SEC) === null) out.push({ key: 'rules.v.cooldown' });
  } else {
    if (integer(f.forSec || '0', 0, WEEK_SEC) === null) out.push({ key: 'rules.v.forSec' });
    if (f.condition === 'clock_skew' && integer(f.boundMs, 1, 86_400_000) === null)
      out.push({ key: 'rules.v.boundMs' });
  }
  if (f.escalateAfterSec.trim() && integer(f.escalateAfterSec, 1, WEEK_SEC) === null)
    out.push({ key: 'rules.v.escalateAfter' });
  return out;
}

/** The hub's input for a form without problems. Cameras outside the chosen sites are dropped (the hub refuses them). */
export function inputOfForm(f: RuleForm): AlertRuleInput {
  const cameras = f.cameras.filter((c) => f.sites.length === 0 || f.sites.includes(c.split('/')[0]!));
  const common = {
    name: f.name.trim(),
    description: f.description.trim() || null,
    enabled: f.enabled,
    severity: f.severity,
    sites: f.sites.length ? f.sites : null,
    cameras: cameras.length ? cameras : null,
    escalateAfterSec: f.escalateAfterSec.trim() ? Number(f.escalateAfterSec) : null,
    escalateTo: f.escalateTo,
  };
  if (f.kind === 'health') {
    return {
      kind: 'health',
      ...common,
      condition: f.condition,
      forSec: Number(f.forSec || '0'),
      boundMs: f.condition === 'clock_skew' && f.boundMs.trim() ? Number(f.boundMs) : null,
    };
  }
  return {
    kind: 'event',
    ...common,
    eventTypes: f.eventTypes.length ? f.eventTypes : null,
    schedule: f.windows.length
      ? {
          ...(f.timeZone.trim() ? { timeZone: f.timeZone.trim() } : {}),
          windows: f.windows.map((w) => ({ start: w.start, end: w.end, ...(w.days.length ? { days: w.days } : {}) })),
        }
      : null,
    threshold: f.thresholdCount.trim()
      ? { count: Number(f.thresholdCount), windowSec: Number(f.thresholdWindowSec) }
      : null,
    groupBy: f.groupBy,
    cooldownSec: Number(f.cooldownSec || '0'),
  };
}

/** The same rule, switched on or off: what the table's quick toggle sends. */
export function toggled(r: AlertRule): AlertRuleInput {
  return inputOfForm({ ...formOfRule(r), enabled: !r.enabled });
}
