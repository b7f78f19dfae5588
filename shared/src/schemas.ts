import { type Static, Type } from '@sinclair/typebox';
import { CameraIdSchema, IsoTimeSchema, SiteIdSchema, UUID_PATTERN, UuidSchema } from './ids.js';
import { AgentConfigReportSchema } from './site-config.js';

export const CONTRACT_VERSION = 1 as const;
/** A whole MQTT message is at most 16 KiB. */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** `data` on an event is at most 4 KiB serialized. */
export const MAX_EVENT_DATA_BYTES = 4 * 1024;

export const EventTypeEnum = {
  motion: 'motion',
  tamper: 'tamper',
  video_loss: 'video_loss',
  line_crossing: 'line_crossing',
  intrusion: 'intrusion',
  object: 'object',
  digital_input: 'digital_input',
  storage_failure: 'storage_failure',
  other: 'other',
} as const;
export type EventType = keyof typeof EventTypeEnum;
export const EVENT_TYPES = Object.keys(EventTypeEnum) as EventType[];

export const EventStateEnum = { start: 'start', end: 'end', pulse: 'pulse' } as const;
export type EventState = keyof typeof EventStateEnum;

export const SourceKindEnum = { onvif: 'onvif', stream: 'stream', agent: 'agent' } as const;
export type SourceKind = keyof typeof SourceKindEnum;

export const CameraHealthStatusEnum = { online: 'online', degraded: 'degraded', offline: 'offline' } as const;
export type CameraHealthStatus = keyof typeof CameraHealthStatusEnum;

/** Hub's own verdict adds `unknown` (the camera's agent is gone, so nobody can tell). */
export const CameraViewStatusEnum = { ...CameraHealthStatusEnum, unknown: 'unknown' } as const;
export type CameraViewStatus = keyof typeof CameraViewStatusEnum;

const literalUnion = <T extends string>(values: readonly T[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );

export const EventTypeSchema = literalUnion(EVENT_TYPES, 'Normalised event type');
export const EventStateSchema = literalUnion(Object.keys(EventStateEnum) as EventState[]);
export const SourceKindSchema = literalUnion(Object.keys(SourceKindEnum) as SourceKind[]);
export const CameraHealthStatusSchema = literalUnion(Object.keys(CameraHealthStatusEnum) as CameraHealthStatus[]);
export const CameraViewStatusSchema = literalUnion(Object.keys(CameraViewStatusEnum) as CameraViewStatus[]);

export const EventSourceSchema = Type.Object(
  {
    kind: SourceKindSchema,
    topic: Type.Optional(Type.String({ maxLength: 512, description: 'Original ONVIF topic, when there was one' })),
  },
  { additionalProperties: true },
);

export const CameraEventSchema = Type.Object(
  {
    v: Type.Literal(1),
    id: UuidSchema,
    site: SiteIdSchema,
    camera: CameraIdSchema,
    seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Per-camera counter' }),
    type: EventTypeSchema,
    state: EventStateSchema,
    at: IsoTimeSchema,
    source: EventSourceSchema,
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'At most 4 KiB serialized' })),
    snapshot: Type.Optional(Type.String({ maxLength: 256, description: 'Media reference, e.g. sha256:…' })),
  },
  // Contract v1 may gain optional fields: a newer agent's extra fields are not a reason to refuse its events.
  { $id: 'CameraEvent', additionalProperties: true },
);
export type CameraEvent = Static<typeof CameraEventSchema>;

export const ProblemSchema = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 64, description: 'Stable machine code, e.g. unreachable' }),
    message: Type.String({ maxLength: 1024, description: 'For people' }),
    params: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.String({ maxLength: 256 }), Type.Number()]), {
        description: 'Optional (camhub addition): machine values a console shows in its own words, e.g. {reason}',
      }),
    ),
  },
  { additionalProperties: true },
);
export type Problem = Static<typeof ProblemSchema>;

const NullableNumber = (opts: object = {}) => Type.Union([Type.Number(opts), Type.Null()]);

export const OnvifHealthSchema = Type.Object(
  {
    reachable: Type.Boolean(),
    latencyMs: Type.Optional(NullableNumber({ minimum: 0 })),
    eventsSubscribed: Type.Optional(Type.Boolean()),
    lastPullAt: Type.Optional(Type.Union([IsoTimeSchema, Type.Null()])),
    clockSkewMs: Type.Optional(NullableNumber()),
    // Optional (camhub additions, issue 18): how the subscription fares against what the camera grants.
    renewals: Type.Optional(Type.Integer({ minimum: 0, description: 'Subscription renewals since the agent started' })),
    resubscriptions: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'Subscriptions re-created since the agent started (each a possible gap)',
      }),
    ),
    unsubscribedReason: Type.Optional(
      Type.Union([Type.String({ maxLength: 64 }), Type.Null()], { description: 'Why there is no subscription' }),
    ),
    eventsNotSupported: Type.Optional(Type.Boolean({ description: 'The camera offers no working ONVIF events' })),
  },
  { additionalProperties: true },
);

export const StreamHealthSchema = Type.Object(
  {
    ok: Type.Boolean(),
    codec: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Null()])),
    width: Type.Optional(NullableNumber({ minimum: 0 })),
    height: Type.Optional(NullableNumber({ minimum: 0 })),
    fps: Type.Optional(NullableNumber({ minimum: 0 })),
    bitrateKbps: Type.Optional(NullableNumber({ minimum: 0 })),
    frozen: Type.Optional(Type.Boolean()),
    black: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

export const HealthSampleSchema = Type.Object(
  {
    v: Type.Literal(1),
    site: SiteIdSchema,
    camera: CameraIdSchema,
    at: IsoTimeSchema,
    status: CameraHealthStatusSchema,
    onvif: Type.Optional(OnvifHealthSchema),
    stream: Type.Optional(Type.Union([StreamHealthSchema, Type.Null()])),
    problems: Type.Array(ProblemSchema, { maxItems: 32 }),
  },
  { $id: 'HealthSample', additionalProperties: true },
);
export type HealthSample = Static<typeof HealthSampleSchema>;

export const CameraStatusSchema = Type.Object(
  {
    v: Type.Literal(1),
    site: SiteIdSchema,
    camera: CameraIdSchema,
    status: CameraHealthStatusSchema,
    since: IsoTimeSchema,
    problems: Type.Array(ProblemSchema, { maxItems: 32 }),
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: "Optional (camhub addition): the camera's name for people, from the agent's configuration",
      }),
    ),
  },
  { $id: 'CameraStatus', additionalProperties: true },
);
export type CameraStatus = Static<typeof CameraStatusSchema>;

/** A camera answering WS-Discovery on the agent's network that is not in its configuration (to adopt). */
export const DiscoveredCameraSchema = Type.Object(
  {
    endpoint: Type.String({ maxLength: 256, description: 'WS-Discovery EndpointReference address (urn:uuid:…)' }),
    xaddrs: Type.Array(Type.String({ maxLength: 512 }), { maxItems: 8 }),
    hardware: Type.Optional(Type.String({ maxLength: 128 })),
    name: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: true },
);
export type DiscoveredCamera = Static<typeof DiscoveredCameraSchema>;

export const AgentStateEnum = { online: 'online', offline: 'offline' } as const;
export type AgentState = keyof typeof AgentStateEnum;

export const AgentStatusSchema = Type.Object(
  {
    v: Type.Literal(1),
    site: SiteIdSchema,
    agent: Type.String({ minLength: 1, maxLength: 128, description: 'Agent instance id' }),
    state: literalUnion(Object.keys(AgentStateEnum) as AgentState[]),
    version: Type.String({ maxLength: 64 }),
    at: IsoTimeSchema,
    cameras: Type.Integer({ minimum: 0 }),
    unadopted: Type.Optional(
      Type.Array(DiscoveredCameraSchema, {
        maxItems: 64,
        description: 'Optional (camhub addition): discovered cameras not in the configuration',
      }),
    ),
    config: Type.Optional(AgentConfigReportSchema),
  },
  { $id: 'AgentStatus', additionalProperties: true },
);
export type AgentStatus = Static<typeof AgentStatusSchema>;

/** Longest clip the contract carries: the agent's `clips.maxSec` is bounded by it. */
export const MAX_CLIP_SEC = 600;

/**
 * The link from an event to its video clip. The event is published as soon as it happens; its clip exists only after
 * the post-roll, so the link is a message of its own. Idempotent: the hub keeps one clip per event, the first.
 */
export const EventClipSchema = Type.Object(
  {
    v: Type.Literal(1),
    site: SiteIdSchema,
    camera: CameraIdSchema,
    event: Type.String({ pattern: UUID_PATTERN, description: 'The id of the event (its start) the clip belongs to' }),
    clip: Type.String({ pattern: '^sha256:[0-9a-f]{64}$', description: 'Media reference of the MP4: sha256:<hex>' }),
    startAt: IsoTimeSchema,
    durationMs: Type.Integer({ minimum: 1, maximum: MAX_CLIP_SEC * 1000, description: 'Length of the video' }),
    bytes: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    at: IsoTimeSchema,
  },
  { $id: 'EventClip', additionalProperties: true },
);
export type EventClip = Static<typeof EventClipSchema>;
