import { BadRequestError } from '../errors.js';
import { DeliveryError, type NotificationChannel } from './channel.js';

/**
 * Telegram Bot API (https://core.telegram.org/bots/api): `sendPhoto` (multipart, the snapshot with the text as its
 * caption) or `sendMessage` (JSON) to a chat, group or channel. Every answer is `{ok, result}` or
 * `{ok: false, error_code, description, parameters?: {retry_after, migrate_to_chat_id}}`.
 */
export interface TelegramConfig {
  /** From @BotFather, "123456:ABC…"; secret. */
  botToken: string;
  /** A numeric chat id (groups are negative, supergroups -100…) or "@channelname". */
  chatId: string;
}

/** Telegram's limits: captions 1024 characters, messages 4096. */
const CAPTION_MAX = 1024;
const TEXT_MAX = 4096;
const cut = (s: string, max: number) => ([...s].length <= max ? s : `${[...s].slice(0, max - 1).join('')}…`);

interface TelegramAnswer {
  ok: boolean;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

export function createTelegramChannel(opts: {
  apiUrl: string;
  timeoutMs: number;
}): NotificationChannel<TelegramConfig> {
  const base = opts.apiUrl.replace(/\/+$/, '');
  return {
    name: 'telegram',
    secretFields: ['botToken'],

    parseConfig(raw) {
      const c = (raw ?? {}) as Partial<Record<keyof TelegramConfig, unknown>>;
      if (typeof c.botToken !== 'string' || !/^\d+:[A-Za-z0-9_-]{20,}$/.test(c.botToken)) {
        throw new BadRequestError(
          'invalid_target',
          'config.botToken: a Telegram bot token "<digits>:<key>" from @BotFather',
        );
      }
      const chatId = typeof c.chatId === 'number' ? String(c.chatId) : c.chatId;
      if (typeof chatId !== 'string' || !/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$/.test(chatId)) {
        throw new BadRequestError('invalid_target', 'config.chatId: a numeric chat id or @channelname');
      }
      return { botToken: c.botToken, chatId };
    },

    async send(config, message) {
      const method = message.snapshot ? 'sendPhoto' : 'sendMessage';
      let body: FormData | string;
      const headers: Record<string, string> = {};
      if (message.snapshot) {
        const form = new FormData();
        form.set('chat_id', config.chatId);
        form.set('caption', cut(message.message.text, CAPTION_MAX));
        form.set('photo', new Blob([message.snapshot], { type: 'image/jpeg' }), 'snapshot.jpg');
        body = form;
      } else {
        headers['content-type'] = 'application/json';
        body = JSON.stringify({ chat_id: config.chatId, text: cut(message.message.text, TEXT_MAX) });
      }
      let res: Response;
      try {
        res = await fetch(`${base}/bot${config.botToken}/${method}`, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
      } catch (err) {
        // The URL carries the token: report the cause only.
        const e = err as Error & { cause?: { code?: string } };
        throw new DeliveryError(`telegram unreachable: ${e.cause?.code ?? e.name}`, true, {
          reason: 'unreachable',
          params: { service: 'telegram' },
        });
      }
      const answer = (await res.json().catch(() => null)) as TelegramAnswer | null;
      if (res.ok && answer?.ok) return { status: res.status };
      const code = answer?.error_code ?? res.status;
      const what = `telegram ${method} ${code}: ${answer?.description ?? res.statusText}`;
      if (code === 429) {
        const after = answer?.parameters?.retry_after;
        throw new DeliveryError(what, true, {
          reason: 'rate_limited',
          status: res.status,
          retryAfterMs: after !== undefined ? after * 1000 : undefined,
          params: after !== undefined ? { retryAfterSec: after } : {},
        });
      }
      if (res.status >= 500) throw new DeliveryError(what, true, { reason: 'http_status', status: res.status });
      const moved = answer?.parameters?.migrate_to_chat_id;
      // 400 chat not found, 401 bad token, 403 bot blocked or removed: only an admin can fix these.
      if (moved !== undefined) {
        throw new DeliveryError(`${what} (the group is now chat ${moved}: change chatId)`, false, {
          reason: 'chat_moved',
          status: res.status,
          params: { chatId: String(moved) },
        });
      }
      throw new DeliveryError(what, false, {
        reason: 'service_refused',
        status: res.status,
        params: { service: 'telegram', code },
      });
    },
  };
}
