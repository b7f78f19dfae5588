import { IDENTIFIER_REGEX } from './ids.js';
import type { AgentStatus, CameraEvent, CameraStatus, EventClip, HealthSample } from './schemas.js';

/** The contract's topic root. Tests and multi-tenant brokers may put a prefix in front of it. */
export const DEFAULT_TOPIC_ROOT = 'camhub/v1';

/** Every MQTT payload of the contract, keyed by the kind of topic that carries it. */
export interface TopicPayloads {
  agent: AgentStatus;
  events: CameraEvent;
  health: HealthSample;
  status: CameraStatus;
  clips: EventClip;
}
export type TopicKind = keyof TopicPayloads;
export const TOPIC_KINDS: readonly TopicKind[] = ['agent', 'events', 'health', 'status', 'clips'];

/** QoS and retain flag the contract fixes for each kind of topic. */
export const TOPIC_QOS: Record<TopicKind, { qos: 1; retain: boolean }> = {
  agent: { qos: 1, retain: true },
  events: { qos: 1, retain: false },
  health: { qos: 1, retain: false },
  status: { qos: 1, retain: true },
  clips: { qos: 1, retain: false },
};

export type ParsedTopic =
  { kind: 'agent'; site: string } | { kind: 'events' | 'health' | 'status' | 'clips'; site: string; camera: string };

export class TopicError extends Error {
  readonly code = 'invalid_identifier';
  constructor(message: string) {
    super(message);
    this.name = 'TopicError';
  }
}

function checkId(what: string, value: string): string {
  if (!IDENTIFIER_REGEX.test(value)) throw new TopicError(`${what} "${value}" is not a valid identifier`);
  return value;
}

/** Typed topic builders: the only place topic strings are assembled. */
export function createTopics(root: string = DEFAULT_TOPIC_ROOT) {
  const r = root.replace(/\/+$/, '');
  return {
    root: r,
    agent: (site: string) => `${r}/${checkId('site', site)}/agent`,
    events: (site: string, camera: string) =>
      `${r}/${checkId('site', site)}/cameras/${checkId('camera', camera)}/events`,
    health: (site: string, camera: string) =>
      `${r}/${checkId('site', site)}/cameras/${checkId('camera', camera)}/health`,
    status: (site: string, camera: string) =>
      `${r}/${checkId('site', site)}/cameras/${checkId('camera', camera)}/status`,
    clips: (site: string, camera: string) => `${r}/${checkId('site', site)}/cameras/${checkId('camera', camera)}/clips`,
    /** Subscription filters, one per kind. */
    filters: {
      agent: `${r}/+/agent`,
      events: `${r}/+/cameras/+/events`,
      health: `${r}/+/cameras/+/health`,
      status: `${r}/+/cameras/+/status`,
      clips: `${r}/+/cameras/+/clips`,
    } satisfies Record<TopicKind, string>,
    /** Builds the topic for a payload from its own site/camera fields. */
    forPayload<K extends TopicKind>(kind: K, payload: TopicPayloads[K]): string {
      if (kind === 'agent') return this.agent(payload.site);
      const p = payload as CameraEvent | HealthSample | CameraStatus | EventClip;
      return this[kind as 'events' | 'health' | 'status' | 'clips'](p.site, p.camera);
    },
    parse: (topic: string): ParsedTopic | null => parseTopic(topic, r),
  };
}
export type Topics = ReturnType<typeof createTopics>;

/** Parses a contract topic; null when it is not one (wrong root, shape or identifiers). */
export function parseTopic(topic: string, root: string = DEFAULT_TOPIC_ROOT): ParsedTopic | null {
  const prefix = `${root.replace(/\/+$/, '')}/`;
  if (!topic.startsWith(prefix)) return null;
  const parts = topic.slice(prefix.length).split('/');
  const site = parts[0];
  if (site === undefined || !IDENTIFIER_REGEX.test(site)) return null;
  if (parts.length === 2 && parts[1] === 'agent') return { kind: 'agent', site };
  if (parts.length === 4 && parts[1] === 'cameras') {
    const camera = parts[2] as string;
    const kind = parts[3];
    if (!IDENTIFIER_REGEX.test(camera)) return null;
    if (kind === 'events' || kind === 'health' || kind === 'status' || kind === 'clips') return { kind, site, camera };
  }
  return null;
}

/** MQTT 5 shared subscription filter: several hub processes in one group split the messages. */
export function sharedFilter(group: string, filter: string): string {
  return `$share/${group}/${filter}`;
}
