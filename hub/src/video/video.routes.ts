import {
  type AuditAction,
  ErrorResponseSchema,
  type LiveUnavailableCode,
  STREAM_ID_PATTERN,
  VideoLiveParamsSchema,
  VideoLiveQuerySchema,
  VideoSettingsSchema,
} from '@camhub/shared';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ALL_ROLES, type Role } from '../auth/access.js';
import type { CamerasRepository } from '../cameras/cameras.repository.js';
import type { Services } from '../container.js';
import { auditActor } from '../auth/request-auth.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { Viewer } from './relay.js';

/** Who may open live video at all; police only when VIDEO_LIVE_POLICE allows (checked in the handler). */
const LIVE_ROLES: readonly Role[] = ['admin', 'operator', 'police'];
/** A viewer this far behind skips to the next keyframe instead of growing the hub's memory. */
const BEHIND_BYTES = 2 * 1024 * 1024;
const CAUGHT_UP_BYTES = 256 * 1024;

const videoRoutes: FastifyPluginAsyncTypebox<
  Pick<Services, 'audit' | 'auth' | 'sessions'> & { cameras: CamerasRepository }
> = async (app, deps) => {
  const policeLive = app.config.VIDEO_LIVE_POLICE === 'true';
  const mayWatch = (roles: readonly Role[]) =>
    roles.some((r) => r === 'admin' || r === 'operator') || (policeLive && roles.includes('police'));

  app.get(
    '/video/settings',
    {
      config: { access: { roles: ALL_ROLES } },
      schema: {
        tags: ['video'],
        summary: 'Live-video settings for the console: whether this user may watch, and the wall cap',
        response: { 200: VideoSettingsSchema },
      },
    },
    async (req) => ({ wallMaxLive: app.config.VIDEO_WALL_MAX_LIVE, live: mayWatch(req.user!.roles) }),
  );

  app.get(
    '/video/live/:site/:camera',
    {
      config: { access: { roles: LIVE_ROLES, siteParam: 'site' }, audited: true },
      schema: {
        tags: ['video'],
        summary:
          "A camera's live video: fragmented MP4 (init segment, then fragments from the latest keyframe) until the " +
          'client leaves; Content-Type carries the codec. 503 with a reason code when there is no video. Audited.',
        params: VideoLiveParamsSchema,
        querystring: VideoLiveQuerySchema,
        response: { 400: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema },
      },
    },
    async (req, reply) => {
      const user = req.user!;
      if (!mayWatch(user.roles))
        throw new ForbiddenError('live video is not enabled for this role', 'live_not_allowed');
      const { site, camera } = req.params;
      if (!(await deps.cameras.exists(site, camera))) throw new NotFoundError('camera');
      const profile = req.query.profile ?? 'main';
      const who = auditActor(req);
      const openedAt = new Date();
      const audit = (action: AuditAction, detail: Record<string, unknown>) =>
        deps.audit
          .record(who, { action, target: `${site}/${camera}`, detail: { profile, ...detail } })
          .catch((err: Error) => req.log.error({ err: err.message }, 'live session audit entry not written'));
      await audit('video.live.open', {});

      reply.hijack();
      const res = reply.raw;
      let bytes = 0;
      let skipping = false;
      let closed = false;
      let endReason: LiveUnavailableCode | 'viewer_left' | 'session_ended' = 'viewer_left';
      const viewer: Viewer = {
        start(codec, init) {
          if (closed) return;
          res.writeHead(200, {
            'content-type': codec ? `video/mp4; codecs="${codec}"` : 'video/mp4',
            'cache-control': 'no-store',
            'x-accel-buffering': 'no',
          });
          res.write(init);
          bytes += init.length;
        },
        fragment(data, keyframe) {
          if (closed) return;
          // A slow viewer drops whole GOPs and resumes at a keyframe: its picture jumps, others are not held back.
          if (skipping && !(keyframe && res.writableLength < CAUGHT_UP_BYTES)) return;
          skipping = false;
          if (res.writableLength > BEHIND_BYTES) {
            skipping = true;
            return;
          }
          res.write(data);
          bytes += data.length;
        },
        end(reason) {
          endReason = reason;
          finish();
        },
      };
      const leave = app.video.relay.watch(site, camera, profile, viewer);
      // Logout, a disabled user, new roles or sites end the stream at once (published to every hub, issue 19)...
      const unwatch = deps.sessions.watch(user.id, user.sessionId, () => {
        endReason = 'session_ended';
        finish();
      });
      // ...and a periodic check catches what is not published (a session that expired, a missed message).
      const check = setInterval(() => {
        deps.auth
          .sessionLive(user)
          .then((live) => {
            if (!live) {
              endReason = 'session_ended';
              finish();
            }
          })
          .catch((err: Error) => req.log.warn({ err: err.message }, 'live session check failed'));
      }, app.config.VIDEO_SESSION_CHECK_SEC * 1000);
      function finish() {
        if (closed) return;
        closed = true;
        clearInterval(check);
        unwatch();
        leave();
        if (!res.headersSent) {
          const status = endReason === 'session_ended' ? 401 : 503;
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
          res.end(JSON.stringify({ error: { code: endReason, message: `no live video: ${endReason}` } }));
        } else res.end();
        const closedAt = new Date();
        void audit('video.live.close', {
          openedAt: openedAt.toISOString(),
          closedAt: closedAt.toISOString(),
          seconds: Math.round((closedAt.getTime() - openedAt.getTime()) / 100) / 10,
          bytes,
          reason: endReason,
        });
      }
      req.raw.on('close', finish);
      res.on('close', finish);
    },
  );

  app.get(
    '/video/upstream/:stream',
    {
      config: { access: { roles: 'agent' } },
      schema: {
        tags: ['video'],
        summary:
          'WebSocket (upgrade only): an agent delivers a live stream it was asked for (live.start) as binary ' +
          'fragmented MP4 messages, with its site token. A plain GET is answered 426.',
        params: Type.Object({ stream: Type.String({ pattern: STREAM_ID_PATTERN }) }),
        response: { 426: ErrorResponseSchema },
      },
    },
    async (_req, reply) =>
      reply.code(426).send({ error: { code: 'upgrade_required', message: 'open this path as a WebSocket' } }),
  );
};
export default videoRoutes;
