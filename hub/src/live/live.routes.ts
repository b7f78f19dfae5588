import { ErrorResponseSchema, LIVE_KINDS, type LiveKind, LiveQuerySchema } from '@camhub/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { rolesOf, sitesOf } from '../alerts/actor.js';
import { ALL_ROLES, EVENT_READERS, type Role } from '../auth/access.js';
import type { LiveEntry } from './live-feed.js';
import type { LiveFeed } from './live-feed.js';

const ALERT_READERS: readonly Role[] = ['admin', 'operator', 'police'];
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
const HEARTBEAT_MS = 15_000;
/** A client this far behind is dropped; it reconnects with Last-Event-ID and catches up from Redis. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** What each role may see live: technicians get camera status only (no events, no alerts). */
function allowedKinds(roles: readonly Role[] | null): Set<LiveKind> {
  if (roles === null) return new Set(LIVE_KINDS);
  const kinds = new Set<LiveKind>(['camera']);
  if (roles.some((r) => EVENT_READERS.includes(r))) kinds.add('event');
  if (roles.some((r) => ALERT_READERS.includes(r))) kinds.add('alert');
  return kinds;
}

const liveRoutes: FastifyPluginAsyncTypebox<{ live: LiveFeed }> = async (app, deps) => {
  app.get(
    '/live',
    {
      config: { access: { roles: ALL_ROLES, siteQuery: 'site' } },
      schema: {
        tags: ['live'],
        summary: 'Server-Sent Events: new events, alert changes, camera status changes (resume with Last-Event-ID)',
        querystring: LiveQuerySchema,
        response: { 400: ErrorResponseSchema },
      },
    },
    async (req, reply) => {
      const allowed = allowedKinds(rolesOf(req));
      const asked = req.query.kinds ? new Set(req.query.kinds.split(',') as LiveKind[]) : new Set(LIVE_KINDS);
      const kinds = new Set([...asked].filter((k) => allowed.has(k)));
      const userSites = sitesOf(req);
      let sites: Set<string> | undefined;
      if (req.query.site) sites = new Set([req.query.site]);
      if (userSites) sites = new Set(userSites.filter((s) => !sites || sites.has(s)));
      const header = req.headers['last-event-id'];
      const lastEventId = typeof header === 'string' && STREAM_ID.test(header.trim()) ? header.trim() : undefined;

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // Reverse proxies (nginx) must not buffer the stream.
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');

      let closed = false;
      const subscription: { off?: () => void } = {};
      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        subscription.off?.();
        res.end();
      };
      const write = (chunk: string) => {
        if (closed) return;
        res.write(chunk);
        if (res.writableLength > MAX_BUFFERED_BYTES) close();
      };
      const heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
      req.raw.on('close', close);
      subscription.off = await deps.live.subscribe(
        {
          filter: { kinds, sites },
          send: (e: LiveEntry) => write(`id: ${e.id}\nevent: ${e.kind}\ndata: ${e.data}\n\n`),
          gap: () => write('event: gap\ndata: {"message":"some entries were too old to replay"}\n\n'),
          close,
        },
        lastEventId,
      );
      // The client may have gone while we replayed to it.
      if (closed) subscription.off();
    },
  );
};
export default liveRoutes;
