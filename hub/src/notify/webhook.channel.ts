import { createHmac, timingSafeEqual } from 'node:crypto';
import { BadRequestError } from '../errors.js';
import { AddressRefusedError, type AddressGuard } from './address-guard.js';
import { DeliveryError, type NotificationChannel } from './channel.js';
import { httpPost } from './http-post.js';

export interface WebhookConfig {
  url: string;
  secret: string;
}

export const SIGNATURE_HEADER = 'x-camhub-signature';
export const TIMESTAMP_HEADER = 'x-camhub-timestamp';

/** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the timestamp is signed too, so replays can be refused. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does (documented in docs/alerts.md); used by our tests as a receiver would. */
export function verifyWebhook(
  secret: string,
  headers: { signature?: string; timestamp?: string },
  body: string,
  opts: { toleranceSec?: number; nowSec?: number } = {},
): boolean {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp || !/^\d+$/.test(timestamp)) return false;
  const nowSec = opts.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(nowSec - Number(timestamp)) > (opts.toleranceSec ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Whether an HTTP status is worth trying again: server trouble, timeouts, rate limits. */
const retryableStatus = (s: number) => s >= 500 || s === 408 || s === 429;

export function createWebhookChannel(opts: {
  timeoutMs: number;
  guard: AddressGuard;
}): NotificationChannel<WebhookConfig> {
  return {
    name: 'webhook',
    secretFields: ['secret'],

    parseConfig(raw) {
      const c = raw as Partial<WebhookConfig> | null;
      if (!c || typeof c.url !== 'string' || !/^https?:\/\//.test(c.url) || !URL.canParse(c.url)) {
        throw new BadRequestError('invalid_target', 'a webhook needs an http(s) url');
      }
      if (typeof c.secret !== 'string' || c.secret.length < 16) {
        throw new BadRequestError('invalid_target', 'a webhook needs a secret of at least 16 characters');
      }
      return { url: c.url, secret: c.secret };
    },

    async send(config, message) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const url = new URL(config.url);
      let res: { status: number };
      try {
        opts.guard.checkLiteral(url.hostname);
        res = await httpPost(url, {
          headers: {
            'content-type': 'application/json',
            'user-agent': 'camhub-hub',
            'x-camhub-event': message.payload.event,
            'x-camhub-delivery': message.deliveryId,
            [TIMESTAMP_HEADER]: timestamp,
            [SIGNATURE_HEADER]: signWebhook(config.secret, timestamp, message.body),
          },
          body: message.body,
          timeoutMs: opts.timeoutMs,
          lookup: opts.guard.lookup,
        });
      } catch (err) {
        // A refused address stays refused until an admin changes the allow-list: no point retrying.
        if (err instanceof AddressRefusedError)
          throw new DeliveryError(`address_refused: ${err.message}`, false, { reason: 'address_refused' });
        const e = err as Error & { code?: string };
        throw new DeliveryError(`request failed: ${e.code ?? e.name}: ${e.message}`, true, { reason: 'unreachable' });
      }
      if (res.status >= 200 && res.status < 300) return { status: res.status };
      throw new DeliveryError(`receiver answered HTTP ${res.status}`, retryableStatus(res.status), {
        reason: res.status === 429 ? 'rate_limited' : 'http_status',
        status: res.status,
      });
    },
  };
}
