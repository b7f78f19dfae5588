import { type Static, Type } from '@sinclair/typebox';
import { type Alert, ScheduleSchema, SeveritySchema } from './alerts.js';
import { IsoTimeSchema, SiteIdSchema, UuidSchema } from './ids.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const NOTIFY_CHANNELS = ['webhook', 'telegram', 'zalo', 'email'] as const;
export type NotifyChannelName = (typeof NOTIFY_CHANNELS)[number];
export const NOTIFY_LANGUAGES = ['vi', 'en'] as const;
export type NotifyLanguage = (typeof NOTIFY_LANGUAGES)[number];

/**
 * Why a delivery (or a target's test) failed, as a code the console words (never the hub's English): with
 * `params` (status: HTTP or SMTP reply code; code: the service's own error code; service; chatId; ms).
 */
export const DELIVERY_FAILURES = [
  'unreachable', // network, DNS, TLS, no answer in time
  'http_status', // the receiver answered with an HTTP error status
  'address_refused', // the address guard refused the webhook's address
  'rate_limited', // the service asked to slow down (Telegram 429, Zalo -32)
  'service_refused', // the service refused the request (Telegram 400/401/403, a Zalo error code)
  'chat_moved', // the Telegram group became a supergroup: chatId must change
  'token_expired', // the Zalo access token expired and could not be renewed here
  'token_refresh_refused', // Zalo refused the refresh token: authorise the app again
  'smtp_temporary', // SMTP 4xx
  'smtp_permanent', // SMTP 5xx
  'smtp_auth', // SMTP authentication failed
  'smtp_message_refused', // the server refused the sender, every recipient or the message
  'target_failing', // the target is marked failing: nothing is sent until an admin saves or tests it
  'target_removed',
  'unknown_channel',
  'unexpected', // anything else (the detail is in lastError)
] as const;
export type DeliveryFailure = (typeof DELIVERY_FAILURES)[number];
export const DeliveryFailureSchema = Type.Union(DELIVERY_FAILURES.map((c) => Type.Literal(c)));
export const FailureParamsSchema = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]));
export type FailureParams = Static<typeof FailureParamsSchema>;

export const RateLimitSchema = Type.Object(
  {
    count: Type.Integer({ minimum: 1, maximum: 1000, description: 'Messages per window; the rest go into a digest' }),
    windowSec: Type.Integer({ minimum: 1, maximum: 86_400 }),
  },
  { additionalProperties: false },
);

const targetFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  enabled: Type.Optional(Type.Boolean()),
  minSeverity: Type.Optional(SeveritySchema),
  ruleIds: Type.Optional(Nullable(Type.Array(UuidSchema, { maxItems: 1000, description: 'null: every rule' }))),
  siteIds: Type.Optional(
    Nullable(
      Type.Array(SiteIdSchema, { minItems: 1, maxItems: 1000, uniqueItems: true, description: 'null: every site' }),
    ),
  ),
  language: Type.Optional(Type.Union(NOTIFY_LANGUAGES.map((l) => Type.Literal(l)))),
  quietHours: Type.Optional(Nullable(ScheduleSchema)),
  rateLimit: Type.Optional(Nullable(RateLimitSchema)),
  escalateTo: Type.Optional(Nullable(UuidSchema)),
  /** Channel settings; secret fields (tokens, passwords) are write-only. Checked by the channel: 400 invalid_target. */
  config: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 32 }),
};

export const TargetInputSchema = Type.Object(
  { channel: Type.Union(NOTIFY_CHANNELS.map((c) => Type.Literal(c))), ...targetFields },
  { additionalProperties: false },
);
export type TargetInput = Static<typeof TargetInputSchema>;
/** A change; `config` is merged into the stored one, so secrets left out are kept. */
export const TargetPatchSchema = Type.Partial(Type.Object(targetFields), { additionalProperties: false });
export type TargetPatch = Static<typeof TargetPatchSchema>;

export const TargetSchema = Type.Object({
  id: UuidSchema,
  channel: Type.String(),
  name: Type.String(),
  enabled: Type.Boolean(),
  minSeverity: SeveritySchema,
  ruleIds: Nullable(Type.Array(UuidSchema)),
  siteIds: Nullable(Type.Array(Type.String())),
  language: Type.String(),
  quietHours: Nullable(ScheduleSchema),
  rateLimit: Nullable(RateLimitSchema),
  escalateTo: Nullable(UuidSchema),
  config: Type.Record(Type.String(), Type.Unknown(), { description: 'Without secrets' }),
  secretsSet: Type.Array(Type.String(), { description: 'Which secret fields hold a value' }),
  failing: Type.Boolean({
    description: 'Repeated permanent failures: nothing is sent until an admin edits or tests it',
  }),
  failingSince: Nullable(IsoTimeSchema),
  lastFailure: Nullable(Type.String({ description: 'Technical detail of the last failure (service text)' })),
  lastFailureCode: Nullable(DeliveryFailureSchema),
  lastFailureParams: Nullable(FailureParamsSchema),
  createdAt: IsoTimeSchema,
  updatedAt: IsoTimeSchema,
});
export type Target = Static<typeof TargetSchema>;
export const TargetsResponseSchema = Type.Object({ items: Type.Array(TargetSchema) });
export const TargetTestResultSchema = Type.Object({
  ok: Type.Boolean(),
  error: Nullable(Type.String({ description: 'Technical detail (service text)' })),
  code: Nullable(DeliveryFailureSchema),
  params: Nullable(FailureParamsSchema),
  status: Nullable(Type.Integer()),
});

/** A rate-limited target's summary of the alerts it was not told one by one (webhooks receive it as JSON). */
export interface DigestNotificationPayload {
  v: 1;
  id: string;
  event: 'alert.digest';
  at: string;
  /** How many alert changes were held back in the window. */
  count: number;
  windowStart: string;
  windowEnd: string;
  /** The newest one, in full. */
  alert: Alert;
  alertIds: string[];
}
