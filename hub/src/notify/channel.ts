import type { DeliveryFailure, FailureParams } from '@camhub/shared';
import type { RenderedMessage } from './message.js';

/** The JSON form of a notification: what webhooks receive (alert changes, digests, tests). */
export interface NotificationPayload {
  v: 1;
  id: string;
  event: string;
  at: string;
  [field: string]: unknown;
}

/** One message to deliver, in both forms: JSON for machines, text for people, and the snapshot if there is one. */
export interface OutgoingNotification {
  deliveryId: string;
  payload: NotificationPayload;
  /** The serialised payload (what is signed is exactly what is sent). */
  body: string;
  message: RenderedMessage;
  /** The alert's newest snapshot (JPEG bytes), when it has one. */
  snapshot: Buffer | null;
}

/** What a channel may ask of the hub while sending. */
export interface SendContext<Config> {
  /**
   * Replaces the target's stored settings under a lock shared by every hub process (a rotated token): `update`
   * gets the settings as stored now, which may already be newer than those this attempt started with.
   */
  updateConfig?: (update: (current: Config) => Promise<Config>) => Promise<Config>;
}

/**
 * A way to tell people about alerts. Adding one is one file implementing this and one line in `channels.ts`;
 * targets of it are rows of `notification_targets` with `channel` = its name, its settings in `config` and its
 * `secretFields` sealed with the hub key in `secrets`.
 */
export interface NotificationChannel<Config = unknown> {
  readonly name: string;
  /** Settings that are secrets: kept sealed at rest, never returned by the API. */
  readonly secretFields: readonly string[];
  /** Checks a target's settings when it is created or changed; throws BadRequestError naming what is wrong. */
  parseConfig(raw: unknown): Config;
  /** Delivers once. Throws DeliveryError; the queue retries with backoff unless `retryable` is false. */
  send(config: Config, message: OutgoingNotification, ctx: SendContext<Config>): Promise<{ status?: number }>;
}

export class DeliveryError extends Error {
  readonly code = 'delivery_failed';
  /** Why, as a code the console words (the message is technical detail only). */
  readonly reason: DeliveryFailure;
  readonly status?: number;
  /** The service said when to try again (Telegram's retry_after): the next attempt waits this long instead. */
  readonly retryAfterMs?: number;
  readonly params: FailureParams;
  constructor(
    message: string,
    readonly retryable: boolean,
    why: { reason: DeliveryFailure; status?: number; retryAfterMs?: number; params?: FailureParams },
  ) {
    super(message);
    this.name = 'DeliveryError';
    this.reason = why.reason;
    this.status = why.status;
    this.retryAfterMs = why.retryAfterMs;
    this.params = { ...(why.status !== undefined ? { status: why.status } : {}), ...why.params };
  }
}
