import type { NotificationChannel } from './channel.js';
import { createWebhookChannel } from './webhook.channel.js';

/** Every channel this hub can deliver through, by name. A new channel is one file and one line here. */
export function createChannels(opts: { webhookTimeoutMs: number }): Map<string, NotificationChannel> {
  const list: NotificationChannel[] = [
    createWebhookChannel({ timeoutMs: opts.webhookTimeoutMs }) as NotificationChannel,
  ];
  return new Map(list.map((c) => [c.name, c]));
}
