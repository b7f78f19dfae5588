import { randomBytes } from 'node:crypto';
import { answer, listen, readRequest, type SeenRequest } from './http-stand-in.js';

/**
 * A local Zalo for tests, written from the Zalo for Developers documentation:
 * - Official Account API v3 (https://developers.zalo.me/docs/official-account/tin-nhan/tin-tu-van/gui-tin-tu-van):
 *   POST /v3.0/oa/message/cs, POST /v2.0/oa/upload/image (multipart "file"), GET /v3.0/oa/user/getlist?data={…};
 *   the OA's token in the `access_token` header; answers HTTP 200 {"error":0,"message":"Success","data":…} or
 *   {"error":<negative>,"message":…}: -216 access token invalid, -213 user has not followed the OA.
 * - ZNS (https://developers.zalo.me/docs/zalo-notification-service/gui-tin-zns/gui-zns): POST /message/template
 *   {phone, template_id, template_data, tracking_id}; -124 access token invalid.
 * - Token refresh (https://developers.zalo.me/docs/official-account/bat-dau/xac-thuc-va-uy-quyen-cho-ung-dung-new):
 *   POST /v4/oa/access_token, header secret_key, form refresh_token, app_id, grant_type=refresh_token; answers a new
 *   {access_token, refresh_token, expires_in}; a refresh token works once, then {"error":-14014,…}.
 * Point the hub at it with ZALO_API_URL, ZALO_OAUTH_URL and ZALO_ZNS_URL (one server serves all three).
 */
export interface ZaloSent {
  kind: 'cs' | 'zns';
  to: string;
  text: string | null;
  image: Buffer | null;
  templateId: string | null;
  templateData: Record<string, unknown> | null;
  at: number;
}

const token = () => randomBytes(24).toString('base64url');

export async function startZaloStandIn(opts: { appId: string; appSecret: string; followers: string[] }) {
  let accessToken = token();
  let refreshToken = token();
  const spentRefreshTokens = new Set<string>();
  const images = new Map<string, Buffer>();
  const sent: ZaloSent[] = [];
  const requests: SeenRequest[] = [];
  let refreshes = 0;

  const stand = await listen((req, res) => {
    void (async () => {
      const seen = await readRequest(req);
      requests.push(seen);
      if (seen.path === '/v4/oa/access_token' && seen.method === 'POST') {
        const rt = seen.form.get('refresh_token');
        if (seen.headers.secret_key !== opts.appSecret || seen.form.get('app_id') !== opts.appId) {
          return answer(res, 200, { error: -14002, error_name: 'Invalid app id or secret key' });
        }
        if (seen.form.get('grant_type') !== 'refresh_token' || rt !== refreshToken || spentRefreshTokens.has(rt)) {
          return answer(res, 200, {
            error: -14014,
            error_name: 'Invalid refresh token',
            error_reason: 'refresh token is invalid or used',
          });
        }
        spentRefreshTokens.add(rt);
        accessToken = token();
        refreshToken = token();
        refreshes += 1;
        return answer(res, 200, { access_token: accessToken, refresh_token: refreshToken, expires_in: '90000' });
      }
      const isZns = seen.path === '/message/template';
      if (seen.headers.access_token !== accessToken) {
        return answer(
          res,
          200,
          isZns
            ? { error: -124, message: 'Access token is invalid' }
            : { error: -216, message: 'Access token is invalid' },
        );
      }
      if (seen.path === '/v2.0/oa/upload/image' && seen.method === 'POST') {
        const file = seen.form.get('file');
        if (!file || typeof file === 'string') return answer(res, 200, { error: -201, message: 'File is invalid' });
        const id = token();
        images.set(id, file.bytes);
        return answer(res, 200, { error: 0, message: 'Success', data: { attachment_id: id } });
      }
      if (seen.path === '/v3.0/oa/user/getlist' && seen.method === 'GET') {
        const q = JSON.parse(seen.query.get('data') ?? '{}') as { offset?: number; count?: number };
        const offset = q.offset ?? 0;
        const count = Math.min(q.count ?? 15, 50);
        const users = opts.followers.slice(offset, offset + count).map((user_id) => ({ user_id }));
        return answer(res, 200, {
          error: 0,
          message: 'Success',
          data: { total: opts.followers.length, count: users.length, offset, users },
        });
      }
      if (seen.path === '/v3.0/oa/message/cs' && seen.method === 'POST') {
        const body = seen.json as {
          recipient?: { user_id?: string };
          message?: { text?: string; attachment?: { payload?: { elements?: { attachment_id?: string }[] } } };
        };
        const userId = body.recipient?.user_id ?? '';
        if (!opts.followers.includes(userId))
          return answer(res, 200, { error: -213, message: 'User has not followed OA' });
        const attachmentId = body.message?.attachment?.payload?.elements?.[0]?.attachment_id;
        if (attachmentId && !images.has(attachmentId))
          return answer(res, 200, { error: -201, message: 'Attachment id is invalid' });
        sent.push({
          kind: 'cs',
          to: userId,
          text: body.message?.text ?? null,
          image: attachmentId ? images.get(attachmentId)! : null,
          templateId: null,
          templateData: null,
          at: seen.at,
        });
        return answer(res, 200, { error: 0, message: 'Success', data: { message_id: token(), user_id: userId } });
      }
      if (isZns && seen.method === 'POST') {
        const body = seen.json as { phone?: string; template_id?: string; template_data?: Record<string, unknown> };
        if (!body.phone || !/^(84|0)\d{8,10}$/.test(body.phone))
          return answer(res, 200, { error: -108, message: 'Phone number is invalid' });
        sent.push({
          kind: 'zns',
          to: body.phone,
          text: null,
          image: null,
          templateId: body.template_id ?? null,
          templateData: body.template_data ?? null,
          at: seen.at,
        });
        return answer(res, 200, {
          error: 0,
          message: 'Success',
          data: { msg_id: token(), sent_time: String(Date.now()) },
        });
      }
      return answer(res, 404, { error: -1, message: 'Not found' });
    })();
  });

  return {
    url: stand.url,
    close: stand.close,
    sent,
    requests,
    tokens: () => ({ accessToken, refreshToken }),
    refreshes: () => refreshes,
    /** The access token expires now (as Zalo's do after about a day): the next call answers -216 / -124. */
    expireAccessToken() {
      accessToken = token();
    },
    /** The refresh token is no longer valid (unused for three months, or the app's authorisation was removed). */
    revokeRefreshToken() {
      spentRefreshTokens.add(refreshToken);
    },
  };
}
export type ZaloStandIn = Awaited<ReturnType<typeof startZaloStandIn>>;
