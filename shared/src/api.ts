import { type Static, Type } from '@sinclair/typebox';
import { REJECTION_REASONS } from './decode.js';
import { CameraIdSchema, IsoTimeSchema, SiteIdSchema, UuidSchema } from './ids.js';
import {
  CameraEventSchema,
  CameraViewStatusSchema,
  EventTypeSchema,
  HealthSampleSchema,
  ProblemSchema,
} from './schemas.js';

export const ErrorResponseSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Machine code, e.g. invalid_request' }),
      message: Type.String({ description: 'For people' }),
    }),
  },
  { $id: 'ErrorResponse' },
);
export type ErrorResponse = Static<typeof ErrorResponseSchema>;

/** An event's clip as the hub knows it; `available` false while the file is on its way, or after retention. */
export const ClipInfoSchema = Type.Object({
  ref: Type.String({ description: 'sha256:<hex> of the MP4' }),
  startAt: IsoTimeSchema,
  durationMs: Type.Integer({ minimum: 1 }),
  bytes: Type.Integer({ minimum: 1 }),
  available: Type.Boolean(),
});
export type ClipInfo = Static<typeof ClipInfoSchema>;

export const EventItemSchema = Type.Intersect([
  CameraEventSchema,
  Type.Object({
    receivedAt: IsoTimeSchema,
    clip: Type.Optional(ClipInfoSchema),
  }),
]);
export type EventItem = Static<typeof EventItemSchema>;

export const EVENTS_DEFAULT_LIMIT = 100;
export const EVENTS_MAX_LIMIT = 1000;

export const EventsQuerySchema = Type.Object(
  {
    site: Type.Optional(SiteIdSchema),
    camera: Type.Optional(CameraIdSchema),
    type: Type.Optional(EventTypeSchema),
    from: Type.Optional(IsoTimeSchema),
    to: Type.Optional(IsoTimeSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: EVENTS_MAX_LIMIT, default: EVENTS_DEFAULT_LIMIT })),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'Opaque; nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type EventsQuery = Static<typeof EventsQuerySchema>;

export const EventsPageSchema = Type.Object({
  items: Type.Array(EventItemSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type EventsPage = Static<typeof EventsPageSchema>;

export const EventIdParamsSchema = Type.Object({ id: UuidSchema });

export const CameraItemSchema = Type.Object({
  site: SiteIdSchema,
  camera: CameraIdSchema,
  name: Type.String(),
  status: CameraViewStatusSchema,
  since: Type.Union([IsoTimeSchema, Type.Null()]),
  lastSeenAt: Type.Union([IsoTimeSchema, Type.Null()]),
  lastEventAt: Type.Union([IsoTimeSchema, Type.Null()]),
  health: Type.Union([HealthSampleSchema, Type.Null()]),
  problems: Type.Array(ProblemSchema),
  enabled: Type.Boolean({
    description:
      'false when an admin or technician switched the camera off in the registry: the agent stops watching it, so ' +
      'its status is the last one measured and no longer current',
  }),
});
export type CameraItem = Static<typeof CameraItemSchema>;

export const CamerasQuerySchema = Type.Object(
  {
    site: Type.Optional(SiteIdSchema),
    status: Type.Optional(CameraViewStatusSchema),
  },
  { additionalProperties: false },
);
export type CamerasQuery = Static<typeof CamerasQuerySchema>;

export const CamerasResponseSchema = Type.Object({ items: Type.Array(CameraItemSchema) });

export const CameraParamsSchema = Type.Object({ site: SiteIdSchema, camera: CameraIdSchema });

export const TimeRangeQuerySchema = Type.Object(
  { from: Type.Optional(IsoTimeSchema), to: Type.Optional(IsoTimeSchema) },
  { additionalProperties: false },
);

export const HealthHistorySchema = Type.Object({ items: Type.Array(HealthSampleSchema) });

export const RejectionReasonSchema = Type.Union(REJECTION_REASONS.map((r) => Type.Literal(r)));

export const RejectionsQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    reason: Type.Optional(RejectionReasonSchema),
  },
  { additionalProperties: false },
);

export const RejectionItemSchema = Type.Object({
  topic: Type.String(),
  reason: RejectionReasonSchema,
  detail: Type.String(),
  receivedAt: IsoTimeSchema,
  payload: Type.String({ description: 'Raw payload as text (invalid UTF-8 replaced), truncated to a bound' }),
  payloadBytes: Type.Integer({ description: 'Size of the original payload' }),
  truncated: Type.Boolean(),
  payloadHidden: Type.Optional(
    Type.Boolean({ description: 'The payload of a rejected event is withheld from readers without event access' }),
  ),
});
export const RejectionsResponseSchema = Type.Object({ items: Type.Array(RejectionItemSchema) });

export const TransitionSchema = Type.Object({
  from: CameraViewStatusSchema,
  to: CameraViewStatusSchema,
  problems: Type.Array(ProblemSchema),
  at: IsoTimeSchema,
});

export const TransitionsResponseSchema = Type.Object({
  items: Type.Array(TransitionSchema),
  uptime: Type.Object({
    from: IsoTimeSchema,
    to: IsoTimeSchema,
    pct: Type.Union([Type.Number(), Type.Null()], {
      description: 'Percent of observed time the camera was online or degraded; null when never observed',
    }),
    seconds: Type.Record(Type.String(), Type.Number(), { description: 'Seconds spent in each status' }),
  }),
});

export const CameraClipsQuerySchema = Type.Object(
  {
    from: Type.Optional(IsoTimeSchema),
    to: Type.Optional(IsoTimeSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
  },
  { additionalProperties: false },
);
export type CameraClipsQuery = Static<typeof CameraClipsQuerySchema>;

/** One clip on a camera's timeline: the event it belongs to and where it lies in time. */
export const CameraClipSchema = Type.Intersect([
  ClipInfoSchema,
  Type.Object({
    event: UuidSchema,
    type: Type.Union([Type.String(), Type.Null()]),
    at: Type.Union([IsoTimeSchema, Type.Null()]),
  }),
]);
export type CameraClip = Static<typeof CameraClipSchema>;
export const CameraClipsPageSchema = Type.Object({ items: Type.Array(CameraClipSchema) });
export type CameraClipsPage = Static<typeof CameraClipsPageSchema>;
