import { BadRequestError } from '../errors.js';
import { DeliveryError, type NotificationChannel, type OutgoingNotification, type SendContext } from './channel.js';

/**
 * Zalo Official Account API (https://developers.zalo.me/docs/official-account) and Zalo Notification Service
 * (https://developers.zalo.me/docs/zalo-notification-service). Every call carries the OA's `access_token` header;
 * answers are HTTP 200 with `{error: 0, message, data}` or `{error: <negative code>, message}`. Access tokens live
 * about a day and are renewed with the single-use refresh token at oauth.zaloapp.com (`/v4/oa/access_token`),
 * which answers a new pair: both are stored again, sealed.
 */
export interface ZaloConfig {
  appId: string;
  /** "users": the OA's followers named in userIds; "followers": every follower; "zns": phone numbers via a ZNS template. */
  mode: 'users' | 'followers' | 'zns';
  userIds?: string[];
  phones?: string[];
  /** ZNS template registered with Zalo, with parameters what, where, time, severity, link. */
  templateId?: string;
  appSecret: string;
  accessToken: string;
  refreshToken: string;
}

/** Access token invalid (-216, OA API) or expired/invalid (-124, ZNS): refresh once and try again. */
const TOKEN_ERRORS = new Set([-216, -124]);
/** Zalo's own "try later": unknown error, too many requests. */
const RETRYABLE_ERRORS = new Set([-1, -100, -32]);
/** "Exceeded the rate limit": said as rate_limited. */
const RATE_ERROR = -32;
const TEXT_MAX = 2000;
const FOLLOWERS_PAGE = 50;
const cut = (s: string, max: number) => ([...s].length <= max ? s : `${[...s].slice(0, max - 1).join('')}…`);

interface ZaloAnswer {
  error?: number;
  message?: string;
  data?: Record<string, unknown>;
}

class ZaloTokenError extends Error {}

export function createZaloChannel(opts: {
  apiUrl: string;
  oauthUrl: string;
  znsUrl: string;
  timeoutMs: number;
}): NotificationChannel<ZaloConfig> {
  const api = opts.apiUrl.replace(/\/+$/, '');
  const zns = opts.znsUrl.replace(/\/+$/, '');
  const oauth = opts.oauthUrl.replace(/\/+$/, '');

  async function call(url: string, init: RequestInit & { token: string }): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await fetch(url, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), access_token: init.token },
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new DeliveryError(`zalo unreachable: ${e.cause?.code ?? e.name}`, true, {
        reason: 'unreachable',
        params: { service: 'zalo' },
      });
    }
    const answer = (await res.json().catch(() => null)) as ZaloAnswer | null;
    if (res.status >= 500 || !answer)
      throw new DeliveryError(`zalo answered HTTP ${res.status}`, res.status >= 500 || res.ok, {
        reason: 'http_status',
        status: res.status,
      });
    if (answer.error === 0 || answer.error === undefined) return answer.data ?? {};
    if (TOKEN_ERRORS.has(answer.error)) throw new ZaloTokenError(`zalo ${answer.error}: ${answer.message ?? ''}`);
    throw new DeliveryError(`zalo ${answer.error}: ${answer.message ?? ''}`, RETRYABLE_ERRORS.has(answer.error), {
      reason: answer.error === RATE_ERROR ? 'rate_limited' : 'service_refused',
      params: { service: 'zalo', code: answer.error },
    });
  }

  async function refresh(c: ZaloConfig): Promise<ZaloConfig> {
    let res: Response;
    try {
      res = await fetch(`${oauth}/v4/oa/access_token`, {
        method: 'POST',
        headers: { secret_key: c.appSecret, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ refresh_token: c.refreshToken, app_id: c.appId, grant_type: 'refresh_token' }),
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new DeliveryError(`zalo oauth unreachable: ${e.cause?.code ?? e.name}`, true, {
        reason: 'unreachable',
        params: { service: 'zalo' },
      });
    }
    const answer = (await res.json().catch(() => null)) as Record<string, unknown> | null;
    if (res.status >= 500) {
      throw new DeliveryError(`zalo oauth answered HTTP ${res.status}`, true, {
        reason: 'http_status',
        status: res.status,
      });
    }
    if (!answer || typeof answer.access_token !== 'string' || typeof answer.refresh_token !== 'string') {
      // An expired or already used refresh token: a person must authorise the app again (docs/alerts.md).
      const why = answer
        ? `${String(answer.error ?? '')} ${String(answer.error_name ?? answer.error_description ?? '')}`
        : '';
      throw new DeliveryError(`zalo token refresh refused:${why}`.trim(), false, {
        reason: 'token_refresh_refused',
        status: res.status,
      });
    }
    return { ...c, accessToken: answer.access_token, refreshToken: answer.refresh_token };
  }

  async function deliver(c: ZaloConfig, m: OutgoingNotification): Promise<void> {
    const token = c.accessToken;
    if (c.mode === 'zns') {
      for (const phone of c.phones ?? []) {
        await call(`${zns}/message/template`, {
          token,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            phone,
            template_id: c.templateId,
            template_data: m.message.fields,
            tracking_id: m.deliveryId,
          }),
        });
      }
      return;
    }
    let recipients = c.userIds ?? [];
    if (c.mode === 'followers') {
      recipients = [];
      for (let offset = 0; ; offset += FOLLOWERS_PAGE) {
        const q = encodeURIComponent(JSON.stringify({ offset, count: FOLLOWERS_PAGE, is_follower: true }));
        const data = await call(`${api}/v3.0/oa/user/getlist?data=${q}`, { token, method: 'GET' });
        const users = (data.users as { user_id?: string }[] | undefined) ?? [];
        recipients.push(...users.map((u) => String(u.user_id)));
        if (users.length < FOLLOWERS_PAGE || recipients.length >= Number(data.total ?? 0)) break;
      }
    }
    let attachmentId: string | null = null;
    if (m.snapshot) {
      const form = new FormData();
      form.set('file', new Blob([m.snapshot], { type: 'image/jpeg' }), 'snapshot.jpg');
      const data = await call(`${api}/v2.0/oa/upload/image`, { token, method: 'POST', body: form });
      attachmentId = typeof data.attachment_id === 'string' ? data.attachment_id : null;
    }
    const message: Record<string, unknown> = { text: cut(m.message.text, TEXT_MAX) };
    if (attachmentId) {
      message.attachment = {
        type: 'template',
        payload: { template_type: 'media', elements: [{ media_type: 'image', attachment_id: attachmentId }] },
      };
    }
    for (const userId of recipients) {
      await call(`${api}/v3.0/oa/message/cs`, {
        token,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ recipient: { user_id: userId }, message }),
      });
    }
  }

  return {
    name: 'zalo',
    secretFields: ['appSecret', 'accessToken', 'refreshToken'],

    parseConfig(raw) {
      const c = (raw ?? {}) as Record<string, unknown>;
      const str = (k: string) => typeof c[k] === 'string' && (c[k] as string).length > 0;
      const bad = (what: string) => new BadRequestError('invalid_target', what);
      if (!str('appId') || !/^\d{1,32}$/.test(c.appId as string)) throw bad('config.appId: the Zalo app id (digits)');
      for (const k of ['appSecret', 'accessToken', 'refreshToken']) {
        if (!str(k) || (c[k] as string).length > 2000) throw bad(`config.${k}: required (from the Zalo app)`);
      }
      const mode = c.mode ?? 'users';
      if (mode !== 'users' && mode !== 'followers' && mode !== 'zns') throw bad('config.mode: users, followers or zns');
      const list = (k: string, pattern: RegExp) => {
        const v = c[k];
        if (
          !Array.isArray(v) ||
          v.length === 0 ||
          v.length > 200 ||
          !v.every((x) => typeof x === 'string' && pattern.test(x))
        ) {
          throw bad(`config.${k}: a list of 1-200 ${k === 'phones' ? 'phone numbers (84…)' : 'Zalo user ids'}`);
        }
        return v as string[];
      };
      const out: ZaloConfig = {
        appId: c.appId as string,
        mode,
        appSecret: c.appSecret as string,
        accessToken: c.accessToken as string,
        refreshToken: c.refreshToken as string,
      };
      if (mode === 'users') out.userIds = list('userIds', /^\d{1,32}$/);
      if (mode === 'zns') {
        out.phones = list('phones', /^(84|0)\d{8,10}$/);
        if (!str('templateId') || !/^\d{1,20}$/.test(c.templateId as string))
          throw bad('config.templateId: the ZNS template id');
        out.templateId = c.templateId as string;
      }
      return out;
    },

    async send(config, message, ctx: SendContext<ZaloConfig>) {
      try {
        await deliver(config, message);
        return {};
      } catch (err) {
        if (!(err instanceof ZaloTokenError)) throw err;
        if (!ctx.updateConfig) throw new DeliveryError(err.message, false, { reason: 'token_expired' });
        const failed = config.accessToken;
        // Another attempt (or hub) may have refreshed already: then the stored token is newer, use it.
        const fresh = await ctx.updateConfig(async (current) =>
          current.accessToken !== failed ? current : refresh(current),
        );
        try {
          await deliver(fresh, message);
          return {};
        } catch (again) {
          if (again instanceof ZaloTokenError)
            throw new DeliveryError(`${again.message} (after a token refresh)`, false, { reason: 'token_expired' });
          throw again;
        }
      }
    },
  };
}
