import { type Static, Type } from '@sinclair/typebox';
import { EventItemSchema } from './api.js';
import { CameraIdSchema, IDENTIFIER_PATTERN, IsoTimeSchema, SiteIdSchema, UuidSchema } from './ids.js';
import { EventTypeSchema } from './schemas.js';

const literals = <T extends string>(values: readonly T[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const SeveritySchema = literals(SEVERITIES, 'info < warning < critical');

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export const AlertStatusSchema = literals(ALERT_STATUSES);

export const HEALTH_CONDITIONS = [
  'camera_offline',
  'agent_offline',
  'tamper',
  'video_loss',
  'clock_skew',
  'events_unsubscribed',
] as const;
export type HealthCondition = (typeof HEALTH_CONDITIONS)[number];
export const HealthConditionSchema = literals(HEALTH_CONDITIONS);

/** "HH:MM", 00:00 to 23:59 (24:00 allowed as an end: the end of the day). */
const ClockTimeSchema = Type.String({ pattern: '^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$', examples: ['22:00'] });

export const ScheduleWindowSchema = Type.Object(
  {
    start: ClockTimeSchema,
    end: ClockTimeSchema,
    days: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
        minItems: 1,
        maxItems: 7,
        uniqueItems: true,
        description: 'ISO weekdays the window STARTS on (1 = Monday); all days when absent',
      }),
    ),
  },
  { additionalProperties: false, description: 'Active from start to end; start > end crosses midnight' },
);

export const ScheduleSchema = Type.Object(
  {
    timeZone: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "IANA zone; default: the site's time zone" }),
    ),
    windows: Type.Array(ScheduleWindowSchema, { minItems: 1, maxItems: 20 }),
  },
  { additionalProperties: false },
);
export type Schedule = Static<typeof ScheduleSchema>;

export const CameraRefSchema = Type.String({
  pattern: IDENTIFIER_PATTERN.replace('$', '') + '/' + IDENTIFIER_PATTERN.replace('^', ''),
  description: '"site/camera"',
  examples: ['td-01/cam-03'],
});

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const ruleFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  enabled: Type.Optional(Type.Boolean({ description: 'Default true' })),
  severity: SeveritySchema,
  sites: Type.Optional(Nullable(Type.Array(SiteIdSchema, { minItems: 1, maxItems: 1000, uniqueItems: true }))),
  cameras: Type.Optional(Nullable(Type.Array(CameraRefSchema, { minItems: 1, maxItems: 5000, uniqueItems: true }))),
  escalateAfterSec: Type.Optional(
    Nullable(Type.Integer({ minimum: 1, maximum: 7 * 86400, description: 'Escalate an unacknowledged alert' })),
  ),
  escalateTo: Type.Optional(Type.Array(UuidSchema, { maxItems: 20, description: 'Notification targets' })),
};

export const EventRuleInputSchema = Type.Object(
  {
    kind: Type.Literal('event'),
    ...ruleFields,
    eventTypes: Type.Optional(Nullable(Type.Array(EventTypeSchema, { minItems: 1, uniqueItems: true }))),
    schedule: Type.Optional(Nullable(ScheduleSchema)),
    threshold: Type.Optional(
      Nullable(
        Type.Object(
          {
            count: Type.Integer({ minimum: 1, maximum: 100_000 }),
            windowSec: Type.Integer({ minimum: 1, maximum: 86_400 }),
          },
          { additionalProperties: false, description: 'Open only after `count` matching events within `windowSec`' },
        ),
      ),
    ),
    groupBy: Type.Optional(literals(['camera', 'site'] as const)),
    cooldownSec: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86400 })),
  },
  { additionalProperties: false },
);

export const HealthRuleInputSchema = Type.Object(
  {
    kind: Type.Literal('health'),
    ...ruleFields,
    condition: HealthConditionSchema,
    forSec: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86400 })),
    boundMs: Type.Optional(Nullable(Type.Integer({ minimum: 1, description: 'clock_skew: the largest tolerated' }))),
  },
  { additionalProperties: false },
);

export const AlertRuleInputSchema = Type.Union([EventRuleInputSchema, HealthRuleInputSchema]);
export type AlertRuleInput = Static<typeof AlertRuleInputSchema>;

export const AlertRuleSchema = Type.Object({
  id: UuidSchema,
  kind: literals(['event', 'health'] as const),
  name: Type.String(),
  description: Nullable(Type.String()),
  enabled: Type.Boolean(),
  severity: SeveritySchema,
  sites: Nullable(Type.Array(Type.String())),
  cameras: Nullable(Type.Array(Type.String())),
  eventTypes: Nullable(Type.Array(EventTypeSchema)),
  schedule: Nullable(ScheduleSchema),
  threshold: Nullable(Type.Object({ count: Type.Integer(), windowSec: Type.Integer() })),
  groupBy: literals(['camera', 'site'] as const),
  cooldownSec: Type.Integer(),
  condition: Nullable(HealthConditionSchema),
  forSec: Type.Integer(),
  boundMs: Nullable(Type.Integer()),
  escalateAfterSec: Nullable(Type.Integer()),
  escalateTo: Type.Array(UuidSchema),
  createdAt: IsoTimeSchema,
  updatedAt: IsoTimeSchema,
});
export type AlertRule = Static<typeof AlertRuleSchema>;
export const AlertRulesResponseSchema = Type.Object({ items: Type.Array(AlertRuleSchema) });

/**
 * What an alert is about, as a code with parameters (never a sentence): clients render it in their own language.
 * Codes: `events` ({types: event types that opened it}), and the health conditions: `camera_offline` ({status,
 * problems: problem codes}), `agent_offline`, `tamper` / `video_loss` ({source: 'camera' | 'stream' (the agent's
 * own stream probe), reason?}), `clock_skew` ({skewMs}), `events_unsubscribed`.
 */
export const AlertReasonSchema = Type.Object({
  code: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
});
export type AlertReason = Static<typeof AlertReasonSchema>;

export const AlertSchema = Type.Object({
  id: UuidSchema,
  ruleId: Nullable(UuidSchema),
  ruleName: Type.String(),
  kind: literals(['event', 'health'] as const),
  severity: SeveritySchema,
  status: AlertStatusSchema,
  site: SiteIdSchema,
  camera: Nullable(CameraIdSchema),
  title: Type.String({
    description: 'Rule name and place ("<rule> — site/camera"), for clients that do not localise; render from codes',
  }),
  reason: Nullable(AlertReasonSchema),
  condition: Nullable(HealthConditionSchema),
  eventCount: Type.Integer(),
  firstEventAt: Nullable(IsoTimeSchema),
  lastEventAt: Nullable(IsoTimeSchema),
  openedAt: IsoTimeSchema,
  acknowledgedAt: Nullable(IsoTimeSchema),
  acknowledgedBy: Nullable(Type.String()),
  assignee: Nullable(Type.String()),
  resolvedAt: Nullable(IsoTimeSchema),
  resolvedBy: Nullable(Type.String({ description: "A user, or 'system' when the condition cleared" })),
  resolution: Nullable(literals(['manual', 'auto', 'false_alarm'] as const)),
  escalatedAt: Nullable(IsoTimeSchema),
  escalationLevel: Type.Integer(),
  updatedAt: IsoTimeSchema,
});
export type Alert = Static<typeof AlertSchema>;

export const ALERT_ACTIONS = [
  'opened',
  'acknowledged',
  'assigned',
  'commented',
  'resolved',
  'auto_resolved',
  'false_alarm',
  'escalated',
] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];

export const AlertHistoryEntrySchema = Type.Object({
  at: IsoTimeSchema,
  actor: Type.String({ description: "A username, or 'system'" }),
  action: literals(ALERT_ACTIONS),
  note: Nullable(Type.String({ description: "A person's note; the system never writes one (see data.reason)" })),
  data: Nullable(
    Type.Record(Type.String(), Type.Unknown(), {
      description:
        'Codes and parameters: reason (condition_cleared, not_acknowledged), events, since, assignee, severity, level',
    }),
  ),
});
export type AlertHistoryEntry = Static<typeof AlertHistoryEntrySchema>;

export const AlertDetailSchema = Type.Intersect([
  AlertSchema,
  Type.Object({
    events: Type.Array(EventItemSchema, { description: 'Attached events, newest first (at most 1000)' }),
    history: Type.Array(AlertHistoryEntrySchema),
  }),
]);
export type AlertDetail = Static<typeof AlertDetailSchema>;

export const AlertsQuerySchema = Type.Object(
  {
    status: Type.Optional(AlertStatusSchema),
    severity: Type.Optional(SeveritySchema),
    site: Type.Optional(SiteIdSchema),
    camera: Type.Optional(CameraIdSchema),
    from: Type.Optional(IsoTimeSchema),
    to: Type.Optional(IsoTimeSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false, description: '`from`/`to` bound when the alert opened' },
);
export type AlertsQuery = Static<typeof AlertsQuerySchema>;
export const AlertsPageSchema = Type.Object({
  items: Type.Array(AlertSchema),
  nextCursor: Nullable(Type.String()),
});

export const AlertIdParamsSchema = Type.Object({ id: UuidSchema });
export const AlertNoteBodySchema = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 4000 })) },
  { additionalProperties: false },
);
export const AlertCommentBodySchema = Type.Object(
  { note: Type.String({ minLength: 1, maxLength: 4000 }) },
  { additionalProperties: false },
);
export const AlertAssignBodySchema = Type.Object(
  {
    assignee: Nullable(Type.String({ minLength: 1, maxLength: 200, description: 'A username; null unassigns' })),
    note: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  { additionalProperties: false },
);

export const WebhookInputSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    url: Type.String({ pattern: '^https?://', maxLength: 2000 }),
    secret: Type.String({ minLength: 16, maxLength: 200, description: 'HMAC SHA-256 key; never returned' }),
    enabled: Type.Optional(Type.Boolean()),
    minSeverity: Type.Optional(SeveritySchema),
    ruleIds: Type.Optional(Nullable(Type.Array(UuidSchema, { description: 'Only these rules; null: every rule' }))),
  },
  { additionalProperties: false },
);
export type WebhookInput = Static<typeof WebhookInputSchema>;
export const WebhookPatchSchema = Type.Partial(WebhookInputSchema, { additionalProperties: false });

export const WebhookSchema = Type.Object({
  id: UuidSchema,
  name: Type.String(),
  url: Type.String(),
  enabled: Type.Boolean(),
  minSeverity: SeveritySchema,
  ruleIds: Nullable(Type.Array(UuidSchema)),
  createdAt: IsoTimeSchema,
  updatedAt: IsoTimeSchema,
});
export type Webhook = Static<typeof WebhookSchema>;
export const WebhooksResponseSchema = Type.Object({ items: Type.Array(WebhookSchema) });

export const DELIVERY_STATUSES = ['pending', 'retrying', 'delivered', 'failed', 'held', 'digested'] as const;
export const DeliverySchema = Type.Object({
  id: UuidSchema,
  targetId: Nullable(UuidSchema),
  channel: Type.String(),
  alertId: UuidSchema,
  event: Type.String(),
  status: literals(DELIVERY_STATUSES),
  attempts: Type.Integer(),
  lastError: Nullable(Type.String({ description: 'Technical detail of the last failure (service text)' })),
  lastErrorCode: Nullable(Type.String({ description: 'Why it failed: one of DELIVERY_FAILURES' })),
  lastErrorParams: Nullable(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]))),
  lastStatus: Nullable(Type.Integer({ description: 'HTTP status of the last attempt' })),
  createdAt: IsoTimeSchema,
  updatedAt: IsoTimeSchema,
  deliveredAt: Nullable(IsoTimeSchema),
});
export type Delivery = Static<typeof DeliverySchema>;
export const DeliveriesQuerySchema = Type.Object(
  {
    status: Type.Optional(literals(DELIVERY_STATUSES)),
    alertId: Type.Optional(UuidSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
export const DeliveriesResponseSchema = Type.Object({ items: Type.Array(DeliverySchema) });

/** What a webhook receives (JSON body), signed: see docs/alerts.md. */
export interface AlertNotificationPayload {
  v: 1;
  id: string;
  event: 'alert.opened' | 'alert.acknowledged' | 'alert.escalated' | 'alert.resolved';
  at: string;
  alert: Alert;
}

export const LIVE_KINDS = ['event', 'alert', 'camera'] as const;
export type LiveKind = (typeof LIVE_KINDS)[number];
export const LiveQuerySchema = Type.Object(
  {
    site: Type.Optional(SiteIdSchema),
    kinds: Type.Optional(Type.String({ pattern: '^(event|alert|camera)(,(event|alert|camera))*$' })),
  },
  { additionalProperties: false },
);
