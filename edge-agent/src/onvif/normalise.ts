import type { EventType } from '@camhub/shared';

/**
 * One ONVIF NotificationMessage as either parser produces it. The `onvif` package turns "true" into true, "1" into 1
 * and dates into Date, gives a single SimpleItem as an object instead of an array and puts attributes under `$`;
 * our own parser keeps strings. Everything here accepts all of those shapes.
 */
export interface RawNotification {
  topic: unknown;
  utcTime?: unknown;
  propertyOperation?: unknown;
  source?: unknown;
  data?: unknown;
}

export type ItemValue = string | number | boolean;

export interface NormalisedNotification {
  type: EventType;
  /** true = the condition started/holds, false = it ended, null = an instant (pulse). */
  active: boolean | null;
  /** Identifies the condition (type + source items + rule) so a start can be matched with its end. */
  key: string;
  /** The topic as the camera sent it, whitespace removed, prefixes kept (for `source.topic`). */
  topic: string;
  /** Camera-clock time of the event, or null when missing or bogus (e.g. 0000-00-00T00:00:00Z). */
  cameraTime: Date | null;
  /** PropertyOperation="Initialized": the camera reports current state (after SetSynchronizationPoint). */
  initialized: boolean;
  deleted: boolean;
  data: Record<string, ItemValue>;
}

interface TopicRule {
  /** Canonical topic: no namespace prefixes, compared case-insensitively. */
  pattern: RegExp;
  type: EventType;
  /** Extra data to attach, e.g. which kind of tamper or which object class. */
  data?: Record<string, string>;
  /** Data item names that carry the boolean state, most specific first. */
  stateItems?: string[];
  /** The topic reports an instant even when it carries a boolean-looking item. */
  pulse?: boolean;
}

const COMMON_STATE_ITEMS = ['IsMotion', 'State', 'IsTamper', 'IsInside', 'LogicalState', 'Failed', 'Value', 'Active'];
const IMAGING_SERVICES = '(?:/(?:AnalyticsService|ImagingService|RecordingService))?';

/** The topic table. Order matters: the first match wins. Documented in docs/edge-agent.md. */
export const TOPIC_RULES: readonly TopicRule[] = [
  { pattern: /^VideoSource\/MotionAlarm$/i, type: 'motion', stateItems: ['State'] },
  { pattern: /^RuleEngine\/CellMotionDetector\/Motion$/i, type: 'motion', stateItems: ['IsMotion'] },
  { pattern: /^RuleEngine\/MotionRegionDetector\/Motion$/i, type: 'motion', stateItems: ['State', 'IsMotion'] },
  { pattern: /^RuleEngine\/MotionDetector\/Motion$/i, type: 'motion', stateItems: ['IsMotion', 'State'] },
  // People/vehicle/animal detection rules (many current cameras): the object class goes into data.
  {
    pattern: /^RuleEngine\/(?:Human|People|Person)Detector(?:\/[^/]+)?$/i,
    type: 'object',
    data: { object: 'person' },
    stateItems: ['IsHuman', 'IsPeople', 'IsPerson', 'State', 'IsMotion'],
  },
  {
    pattern: /^RuleEngine\/VehicleDetector(?:\/[^/]+)?$/i,
    type: 'object',
    data: { object: 'vehicle' },
    stateItems: ['IsVehicle', 'State', 'IsMotion'],
  },
  {
    pattern: /^RuleEngine\/(?:Animal|Pet)Detector(?:\/[^/]+)?$/i,
    type: 'object',
    data: { object: 'animal' },
    stateItems: ['IsAnimal', 'IsPet', 'State', 'IsMotion'],
  },
  // Tapo puts its smart detections under CellMotionDetector.
  { pattern: /^RuleEngine\/CellMotionDetector\/People$/i, type: 'object', data: { object: 'person' } },
  { pattern: /^RuleEngine\/CellMotionDetector\/Tamper$/i, type: 'tamper' },
  { pattern: /^RuleEngine\/CellMotionDetector\/LineCross$/i, type: 'line_crossing' },
  { pattern: /^RuleEngine\/CellMotionDetector\/Intrusion$/i, type: 'intrusion' },
  { pattern: /^RuleEngine\/TamperDetector\/Tamper$/i, type: 'tamper', stateItems: ['IsTamper', 'State'] },
  { pattern: /^RuleEngine\/FieldDetector\/ObjectsInside$/i, type: 'intrusion', stateItems: ['IsInside'] },
  { pattern: /^RuleEngine\/LineDetector\/Crossed$/i, type: 'line_crossing', pulse: true },
  // Reolink: MyRuleDetector/{MotionDetect,PeopleDetect,VehicleDetect,DogCatDetect,FaceDetect,Visitor,…}.
  { pattern: /^RuleEngine\/MyRuleDetector\/Motion(?:Detect)?$/i, type: 'motion' },
  { pattern: /^RuleEngine\/MyRuleDetector\/People(?:Detect)?$/i, type: 'object', data: { object: 'person' } },
  { pattern: /^RuleEngine\/MyRuleDetector\/Vehicle(?:Detect)?$/i, type: 'object', data: { object: 'vehicle' } },
  { pattern: /^RuleEngine\/MyRuleDetector\/DogCat(?:Detect)?$/i, type: 'object', data: { object: 'animal' } },
  { pattern: /^RuleEngine\/MyRuleDetector\/Face(?:Detect)?$/i, type: 'object', data: { object: 'face' } },
  { pattern: /^RuleEngine\/MyRuleDetector\/Visitor$/i, type: 'digital_input', data: { input: 'doorbell' } },
  { pattern: /^RuleEngine\/MyRuleDetector\/[^/]+$/i, type: 'object' },
  {
    pattern: new RegExp(`^VideoSource/ImageTooBlurry${IMAGING_SERVICES}$`, 'i'),
    type: 'tamper',
    data: { tamper: 'blurry' },
  },
  {
    pattern: new RegExp(`^VideoSource/ImageTooDark${IMAGING_SERVICES}$`, 'i'),
    type: 'tamper',
    data: { tamper: 'dark' },
  },
  {
    pattern: new RegExp(`^VideoSource/ImageTooBright${IMAGING_SERVICES}$`, 'i'),
    type: 'tamper',
    data: { tamper: 'bright' },
  },
  {
    pattern: new RegExp(`^VideoSource/GlobalSceneChange${IMAGING_SERVICES}$`, 'i'),
    type: 'tamper',
    data: { tamper: 'scene_change' },
  },
  { pattern: /^VideoSource\/SignalLoss$/i, type: 'video_loss' },
  { pattern: /^Device\/Trigger\/DigitalInput$/i, type: 'digital_input', stateItems: ['LogicalState', 'State'] },
  { pattern: /^Device\/HardwareFailure\/StorageFailure$/i, type: 'storage_failure', stateItems: ['Failed'] },
];

const TRUE_WORDS = new Set(['true', '1', 'on', 'active', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'off', 'inactive', 'no']);

/** true/"true"/1/"1"/"on" → true, the opposites → false, anything else → null. */
export function parseBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : null;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (TRUE_WORDS.has(v)) return true;
    if (FALSE_WORDS.has(v)) return false;
  }
  return null;
}

/** Text content of a parsed element: a string, `{ _: text }` (xml2js), `{ '#text': text }` (fast-xml-parser). */
export function textOf(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') return String(node);
  if (Array.isArray(node)) return textOf(node[0]);
  if (typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if ('_' in o) return textOf(o._);
    if ('#text' in o) return textOf(o['#text']);
  }
  return '';
}

/** Removes all whitespace (cameras pretty-print topic text) but keeps prefixes. */
export function cleanTopic(topic: unknown): string {
  return textOf(topic).replace(/\s+/g, '');
}

/** `tns1:RuleEngine/tnsaxis:CellMotionDetector/Motion` → `RuleEngine/CellMotionDetector/Motion`. */
export function canonicalTopic(topic: string): string {
  return topic
    .split('/')
    .map((part) => part.replace(/^[^:]*:/, ''))
    .filter((part) => part.length > 0)
    .join('/');
}

function scalar(value: unknown): ItemValue | null {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  const text = textOf(value);
  return text === '' ? null : text;
}

/** SimpleItems in any shape → name/value pairs, in document order. */
export function simpleItems(container: unknown): Array<[string, ItemValue]> {
  if (container === undefined || container === null || typeof container !== 'object') return [];
  const c = container as Record<string, unknown>;
  const raw = c.simpleItem ?? c.SimpleItem ?? c.simpleitem;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const out: Array<[string, ItemValue]> = [];
  for (const item of list) {
    if (!item || typeof item !== 'object') continue;
    const record = item as Record<string, unknown>;
    const attrs = (record.$ && typeof record.$ === 'object' ? record.$ : record) as Record<string, unknown>;
    const name = scalar(attrs.Name ?? attrs.name);
    const value = scalar(attrs.Value ?? attrs.value);
    if (name === null || value === null) continue;
    out.push([String(name).trim(), typeof value === 'string' ? value.trim() : value]);
  }
  return out;
}

const EARLIEST_PLAUSIBLE = Date.UTC(2000, 0, 1);

/** A camera time, or null when missing or bogus (0000-00-00T00:00:00Z, 1970 from a camera without a clock). */
export function parseCameraTime(value: unknown): Date | null {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else {
    const text = textOf(value).trim();
    if (!text) return null;
    ms = Date.parse(text);
  }
  if (Number.isNaN(ms) || ms < EARLIEST_PLAUSIBLE) return null;
  return new Date(ms);
}

/** The boolean state and the item that carried it; null for instants. */
function findState(
  rule: TopicRule | undefined,
  data: Array<[string, ItemValue]>,
): { active: boolean | null; item?: string } {
  if (rule?.pulse) return { active: null };
  const names = [...(rule?.stateItems ?? []), ...COMMON_STATE_ITEMS].map((n) => n.toLowerCase());
  for (const name of names) {
    const hit = data.find(([n]) => n.toLowerCase() === name);
    const b = hit ? parseBoolean(hit[1]) : null;
    if (hit && b !== null) return { active: b, item: hit[0] };
  }
  // Vendor topics often carry one item with a vendor name ("Detected", "Alarm"…): use it when it is boolean.
  const only = data.length === 1 ? data[0] : undefined;
  const b = only ? parseBoolean(only[1]) : null;
  if (only && b !== null) return { active: b, item: only[0] };
  return { active: null };
}

/** Maps one notification to a contract event type and state. Never throws: unknown topics become `other`. */
export function normalise(raw: RawNotification): NormalisedNotification {
  const topic = cleanTopic(raw.topic);
  const canonical = canonicalTopic(topic);
  const rule = TOPIC_RULES.find((r) => r.pattern.test(canonical));
  const source = simpleItems(raw.source);
  const data = simpleItems(raw.data);
  const operation = textOf(raw.propertyOperation).trim().toLowerCase();
  const { active, item } = findState(rule, data);
  const type: EventType = rule?.type ?? 'other';
  const payload: Record<string, ItemValue> = { ...(rule?.data ?? {}) };
  for (const [name, value] of source) payload[name] = value;
  // The item that became `state` is not repeated in data.
  for (const [name, value] of data) if (name !== item) payload[name] = value;
  const sourceKey = source.map(([n, v]) => `${n}=${String(v)}`).join('&');
  return {
    type,
    active,
    key: `${type}|${canonical.toLowerCase()}|${sourceKey}`,
    topic,
    cameraTime: parseCameraTime(raw.utcTime),
    initialized: operation === 'initialized',
    deleted: operation === 'deleted',
    data: payload,
  };
}

/** Adapts a message as the `onvif` package parses it (`message.message.$.UtcTime`, …). */
export function fromLibraryMessage(message: unknown): RawNotification {
  const m = (message ?? {}) as Record<string, unknown>;
  const outer = (m.message ?? {}) as Record<string, unknown>;
  const inner = (outer.message ?? outer) as Record<string, unknown>;
  const attrs = (inner.$ ?? {}) as Record<string, unknown>;
  return {
    topic: m.topic,
    utcTime: attrs.UtcTime,
    propertyOperation: attrs.PropertyOperation,
    source: inner.source,
    data: inner.data,
  };
}
