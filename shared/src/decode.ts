import type { TSchema } from '@sinclair/typebox';
import { compileSchema } from './compile.js';
import { isValidIsoTime } from './ids.js';
import {
  AgentStatusSchema,
  CameraEventSchema,
  CameraStatusSchema,
  EventClipSchema,
  HealthSampleSchema,
  MAX_EVENT_DATA_BYTES,
  MAX_MESSAGE_BYTES,
} from './schemas.js';
import { DEFAULT_TOPIC_ROOT, type ParsedTopic, parseTopic, type TopicKind, type TopicPayloads } from './topics.js';

/** Why a message was refused. Stable machine codes: they are stored with the rejection and counted in metrics. */
export const RejectionReasonEnum = {
  unknown_topic: 'unknown_topic',
  too_large: 'too_large',
  not_utf8: 'not_utf8',
  not_json: 'not_json',
  unsupported_version: 'unsupported_version',
  invalid_payload: 'invalid_payload',
  topic_mismatch: 'topic_mismatch',
  /** Valid by the schema, yet PostgreSQL refused to store it (e.g. a number out of range). */
  storage_rejected: 'storage_rejected',
  /** Dated further ahead of the hub's clock than INGEST_FUTURE_TOLERANCE_SEC: it would sit on top of history. */
  future_time: 'future_time',
} as const;
export type RejectionReason = keyof typeof RejectionReasonEnum;
export const REJECTION_REASONS = Object.keys(RejectionReasonEnum) as RejectionReason[];

export type Decoded = {
  [K in TopicKind]: { ok: true; kind: K; topic: ParsedTopic; payload: TopicPayloads[K] };
}[TopicKind];
export type DecodeResult = Decoded | { ok: false; reason: RejectionReason; detail: string };

const compiled = {
  agent: compileSchema(AgentStatusSchema),
  events: compileSchema(CameraEventSchema),
  health: compileSchema(HealthSampleSchema),
  status: compileSchema(CameraStatusSchema),
  clips: compileSchema(EventClipSchema),
};

/** Compiled validators for each payload kind (TypeBox compiler: no Ajv, no per-call schema walk). */
export const validators = compiled;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function firstError(kind: TopicKind, value: unknown): string {
  const err = compiled[kind].Errors(value).First();
  if (!err) return 'invalid payload';
  return `${err.path || '/'}: ${err.message}`;
}

/** The time fields each kind carries; the schema checks their shape, this checks they name real instants. */
const TIME_FIELDS: Record<TopicKind, readonly string[]> = {
  agent: ['at'],
  events: ['at'],
  health: ['at'],
  status: ['since'],
  clips: ['startAt', 'at'],
};

/**
 * Turns a raw MQTT message into a typed contract payload, or says exactly why not.
 * Never throws: whatever arrives on the wire gets a verdict.
 */
export function decodeMessage(topic: string, raw: Uint8Array, root: string = DEFAULT_TOPIC_ROOT): DecodeResult {
  const parsed = parseTopic(topic, root);
  if (!parsed) return { ok: false, reason: 'unknown_topic', detail: `not a camhub v1 topic: ${topic.slice(0, 200)}` };
  if (raw.byteLength > MAX_MESSAGE_BYTES) {
    return { ok: false, reason: 'too_large', detail: `${raw.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}` };
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return { ok: false, reason: 'not_utf8', detail: 'payload is not valid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: 'not_json', detail: (e as Error).message.slice(0, 200) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'invalid_payload', detail: 'payload is not a JSON object' };
  }
  const v = (value as { v?: unknown }).v;
  if (v !== 1) {
    return { ok: false, reason: 'unsupported_version', detail: `v is ${JSON.stringify(v) ?? 'missing'}, expected 1` };
  }
  const kind = parsed.kind;
  if (!compiled[kind].Check(value)) return { ok: false, reason: 'invalid_payload', detail: firstError(kind, value) };
  const record = value as Record<string, unknown>;
  for (const field of TIME_FIELDS[kind]) {
    if (!isValidIsoTime(record[field] as string)) {
      return { ok: false, reason: 'invalid_payload', detail: `/${field}: not a real time` };
    }
  }
  if (record.site !== parsed.site) {
    return {
      ok: false,
      reason: 'topic_mismatch',
      detail: `payload site "${String(record.site)}" differs from topic site "${parsed.site}"`,
    };
  }
  if (parsed.kind !== 'agent' && record.camera !== parsed.camera) {
    return {
      ok: false,
      reason: 'topic_mismatch',
      detail: `payload camera "${String(record.camera)}" differs from topic camera "${parsed.camera}"`,
    };
  }
  if (kind === 'events' && record.data !== undefined) {
    const size = Buffer.byteLength(JSON.stringify(record.data));
    if (size > MAX_EVENT_DATA_BYTES) {
      return { ok: false, reason: 'too_large', detail: `data is ${size} bytes, at most ${MAX_EVENT_DATA_BYTES}` };
    }
  }
  return { ok: true, kind, topic: parsed, payload: value } as Decoded;
}

/** Checks a value against a schema and returns every error, for config files and tests. */
export function schemaErrors(schema: TSchema, value: unknown): string[] {
  const c = compileSchema(schema);
  return [...c.Errors(value)].map((e) => `${e.path || '/'}: ${e.message}`);
}
