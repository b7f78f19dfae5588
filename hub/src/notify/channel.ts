import type { AlertNotificationPayload } from '@camhub/shared';

/** One message to deliver: the JSON payload and its serialised body (what is signed is exactly what is sent). */
export interface OutgoingNotification {
  deliveryId: string;
  payload: AlertNotificationPayload;
  body: string;
}

/**
 * A way to tell people about alerts. Adding one (Telegram, Zalo OA, e-mail) is one file implementing this and
 * one line in `channels.ts`; targets of it are rows of `notification_targets` with `channel` = its name and its
 * own settings in `config`.
 */
export interface NotificationChannel<Config = unknown> {
  readonly name: string;
  /** Checks a target's settings when it is created or changed; throws BadRequestError naming what is wrong. */
  parseConfig(raw: unknown): Config;
  /** Delivers once. Throws DeliveryError; the queue retries with backoff unless `retryable` is false. */
  send(config: Config, message: OutgoingNotification): Promise<{ status?: number }>;
}

export class DeliveryError extends Error {
  readonly code = 'delivery_failed';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}
