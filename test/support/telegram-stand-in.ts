import { answer, listen, readRequest, type SeenRequest } from './http-stand-in.js';

/**
 * A local Telegram Bot API for tests, written from https://core.telegram.org/bots/api ("Making requests",
 * "sendMessage", "sendPhoto", "ResponseParameters"): POST https://api.telegram.org/bot<token>/<method> with JSON,
 * urlencoded or multipart parameters; every answer is {"ok":true,"result":…} or
 * {"ok":false,"error_code":N,"description":"…","parameters"?:{"retry_after":S}}. Flood control answers 429 with
 * retry_after. Point the hub at it with TELEGRAM_API_URL.
 */
export interface TelegramSent {
  method: 'sendMessage' | 'sendPhoto';
  chatId: string;
  text: string;
  photo: { name: string; type: string; bytes: Buffer } | null;
  at: number;
}

export async function startTelegramStandIn(opts: { token: string; chats: string[] }) {
  const sent: TelegramSent[] = [];
  const attempts: SeenRequest[] = [];
  /** Answers to give before serving normally (flood control, outages), one per request. */
  const scripted: { status: number; body: Record<string, unknown> }[] = [];
  const blocked = new Set<string>();
  let messageId = 0;

  const stand = await listen((req, res) => {
    void (async () => {
      const seen = await readRequest(req);
      attempts.push(seen);
      const m = /^\/bot([^/]+)\/(\w+)$/.exec(seen.path);
      if (!m) return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      const [, token, method] = m;
      if (token !== opts.token) return answer(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      const next = scripted.shift();
      if (next) return answer(res, next.status, next.body);
      if (method !== 'sendMessage' && method !== 'sendPhoto') {
        return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
      }
      const param = (k: string) => (seen.json ? seen.json[k] : seen.form.get(k));
      const chatId = String(param('chat_id') ?? '');
      if (!chatId)
        return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: chat_id is empty' });
      if (!opts.chats.includes(chatId))
        return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' });
      if (blocked.has(chatId)) {
        return answer(res, 403, {
          ok: false,
          error_code: 403,
          description: 'Forbidden: bot was kicked from the group chat',
        });
      }
      let text: string;
      let photo: TelegramSent['photo'] = null;
      if (method === 'sendMessage') {
        text = String(param('text') ?? '');
        if (!text)
          return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
        if ([...text].length > 4096)
          return answer(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message is too long' });
      } else {
        text = String(param('caption') ?? '');
        if ([...text].length > 1024) {
          return answer(res, 400, {
            ok: false,
            error_code: 400,
            description: 'Bad Request: message caption is too long',
          });
        }
        const p = seen.form.get('photo');
        if (!p || typeof p === 'string') {
          return answer(res, 400, {
            ok: false,
            error_code: 400,
            description: 'Bad Request: there is no photo in the request',
          });
        }
        photo = p;
      }
      sent.push({ method, chatId, text, photo, at: seen.at });
      messageId += 1;
      return answer(res, 200, {
        ok: true,
        result: {
          message_id: messageId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: Number(chatId), type: 'group' },
        },
      });
    })();
  });

  return {
    url: stand.url,
    close: stand.close,
    sent,
    attempts,
    /** The next request is refused by flood control: HTTP 429 with parameters.retry_after. */
    floodOnce(retryAfterSec: number) {
      scripted.push({
        status: 429,
        body: {
          ok: false,
          error_code: 429,
          description: `Too Many Requests: retry after ${retryAfterSec}`,
          parameters: { retry_after: retryAfterSec },
        },
      });
    },
    /** The bot was removed from this chat: every send answers 403. */
    kickFrom(chatId: string) {
      blocked.add(chatId);
    },
    readmit(chatId: string) {
      blocked.delete(chatId);
    },
  };
}
export type TelegramStandIn = Awaited<ReturnType<typeof startTelegramStandIn>>;
