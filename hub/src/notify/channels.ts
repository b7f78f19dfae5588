import type { AddressGuard } from './address-guard.js';
import type { NotificationChannel } from './channel.js';
import { createEmailChannel } from './email.channel.js';
import { createTelegramChannel } from './telegram.channel.js';
import { createWebhookChannel } from './webhook.channel.js';
import { createZaloChannel } from './zalo.channel.js';

export interface ChannelSettings {
  timeoutMs: number;
  guard: AddressGuard;
  telegramApiUrl: string;
  zaloApiUrl: string;
  zaloOauthUrl: string;
  zaloZnsUrl: string;
  /** PEM of extra CAs trusted by SMTP (a private relay). */
  smtpCa?: string;
}

/** Every channel this hub can deliver through, by name. A new channel is one file and one line here. */
export function createChannels(s: ChannelSettings): Map<string, NotificationChannel> {
  const list = [
    createWebhookChannel({ timeoutMs: s.timeoutMs, guard: s.guard }),
    createTelegramChannel({ apiUrl: s.telegramApiUrl, timeoutMs: s.timeoutMs }),
    createZaloChannel({ apiUrl: s.zaloApiUrl, oauthUrl: s.zaloOauthUrl, znsUrl: s.zaloZnsUrl, timeoutMs: s.timeoutMs }),
    createEmailChannel({ timeoutMs: s.timeoutMs, ca: s.smtpCa }),
  ] as NotificationChannel[];
  return new Map(list.map((c) => [c.name, c]));
}
