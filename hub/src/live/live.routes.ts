import { randomUUID } from 'node:crypto';
import { ErrorResponseSchema, LIVE_KINDS, type LiveKind, LiveQuerySchema } from '@camhub/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { rolesOf, sitesOf } from '../alerts/actor.js';
import { ALL_ROLES, EVENT_READERS, type Role } from '../auth/access.js';
import { RateLimitedError } from '../auth/rate-limit.js';
import { auditActor } from '../auth/request-auth.js';
import type { Services } from '../container.js';
import type { LiveEntry, LiveFeed } from './live-feed.js';
import { TooManyStreamsError } from './stream-registry.js';
import type { StreamRegistry } from './stream-registry.js';

const ALERT_READERS: readonly Role[] = ['admin', 'operator', 'police'];
const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
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

const liveRoutes: FastifyPluginAsyncTypebox<
  Pick<Services, 'auth' | 'audit' | 'rateLimiter' | 'sessions'> & { live: LiveFeed; streams: StreamRegistry }
> = async (app, deps) => {
  const cfg = app.config;
  const heartbeatMs = cfg.LIVE_HEARTBEAT_SEC * 1000;

  app.get(
    '/live',
    {
      config: { access: { roles: ALL_ROLES, siteQuery: 'site' } },
      schema: {
        tags: ['live'],
        summary:
          'Server-Sent Events: new events, alert changes, camera status changes (resume with Last-Event-ID). ' +
          'Ends with an `end` event when the session ends or changes or the token expires; reconnect then.',
        querystring: LiveQuerySchema,
        response: { 400: ErrorResponseSchema, 429: ErrorResponseSchema },
      },
    },
    async (req, reply) => {
      const user = req.user!;
      const rate = await deps.rateLimiter.hit(`live:${user.id}`, cfg.LIVE_CONNECTS_PER_MIN, 60);
      if (!rate.ok) throw new RateLimitedError(rate.retryAfterSec);
      const allowed = allowedKinds(rolesOf(req));
      const asked = req.query.kinds ? new Set(req.query.kinds.split(',') as LiveKind[]) : new Set(LIVE_KINDS);
      const kinds = new Set([...asked].filter((k) => allowed.has(k)));
      const userSites = sitesOf(req);
      let sites: Set<string> | undefined;
      if (req.query.site) sites = new Set([req.query.site]);
      if (userSites) sites = new Set(userSites.filter((s) => !sites || sites.has(s)));
      const header = req.headers['last-event-id'];
      const lastEventId = typeof header === 'string' && STREAM_ID.test(header.trim()) ? header.trim() : undefined;

      const streamId = randomUUID();
      const place = await deps.streams.acquire(user.id, user.sessionId, streamId, {
        perUser: cfg.LIVE_MAX_STREAMS_PER_USER,
        perSession: cfg.LIVE_MAX_STREAMS_PER_SESSION,
      });
      if (place !== 'ok') throw new TooManyStreamsError(place);
      const who = auditActor(req);
      const opened = Date.now();
      let connectedAt: string | undefined;
      try {
        await deps.audit.record(who, {
          action: 'live.open',
          target: streamId,
          detail: { sites: sites ? [...sites] : null, kinds: [...kinds], resumeFrom: lastEventId ?? null },
        });
        // Where a new client starts: what is written from here on reaches it, even while the feed wakes below.
        connectedAt = lastEventId ? undefined : await deps.live.tail();
        // Before the headers: once the client sees them, every entry published from then on is written.
        await deps.live.awaken();
      } catch (err) {
        await deps.streams.release(user.id, user.sessionId, streamId);
        throw err;
      }

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store, no-transform',
        connection: 'keep-alive',
        // Reverse proxies (nginx) must not buffer the stream.
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');

      let closed = false;
      let sent = 0;
      const subscription: { off?: () => void } = {};
      const warn = (what: string) => (err: Error) => req.log.warn({ err: err.message, stream: streamId }, what);
      const close = (reason: string) => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        clearTimeout(expiry);
        unwatch();
        subscription.off?.();
        // The client learns why, so it reconnects (token_expired: after a refresh) or shows the login.
        if (reason !== 'client_closed' && !res.destroyed) res.write(`event: end\ndata: {"reason":"${reason}"}\n\n`);
        res.end();
        for (const resolve of waiting.splice(0)) resolve();
        deps.streams.release(user.id, user.sessionId, streamId).catch(warn('live stream place not released'));
        deps.audit
          .record(who, {
            action: 'live.close',
            target: streamId,
            detail: { reason, seconds: Math.round((Date.now() - opened) / 100) / 10, entries: sent },
          })
          .catch(warn('live.close not audited'));
      };
      const write = (chunk: string): boolean => {
        if (closed) return false;
        const ok = res.write(chunk);
        if (res.writableLength > MAX_BUFFERED_BYTES) close('too_slow');
        return ok && !closed;
      };
      const waiting: (() => void)[] = [];
      res.on('drain', () => {
        for (const resolve of waiting.splice(0)) resolve();
      });
      const drained = () =>
        new Promise<void>((resolve) => {
          if (closed) resolve();
          else waiting.push(resolve);
        });
      // Each heartbeat re-checks the session: a change published by another hub closes the stream at once
      // (below), one made behind the hubs' back (the CLI, the database) at the next beat.
      const heartbeat = setInterval(() => {
        write(': keep-alive\n\n');
        deps.streams.refresh(user.id, user.sessionId, streamId).catch(warn('live stream place not refreshed'));
        deps.auth
          .sessionState(user)
          .then((state) => {
            if (state === 'ended') close('session_ended');
            else if (state === 'changed') close('access_changed');
          })
          .catch(warn('live session check failed'));
      }, heartbeatMs);
      const expiry = setTimeout(() => close('token_expired'), Math.max(0, user.expiresAt - Date.now()));
      const unwatch = deps.sessions.watch(user.id, user.sessionId, (change) =>
        close(change.reason === 'logout' || change.reason === 'disabled' ? 'session_ended' : 'access_changed'),
      );
      req.raw.on('close', () => close('client_closed'));
      res.on('close', () => close('client_closed'));
      subscription.off = await deps.live.subscribe(
        {
          filter: { kinds, sites },
          send: (e: LiveEntry) => {
            sent += 1;
            return write(`id: ${e.id}\nevent: ${e.kind}\ndata: ${e.data}\n\n`);
          },
          drained,
          open: () => !closed,
          gap: () => write('event: gap\ndata: {"message":"some entries were too old to replay"}\n\n'),
          close: () => close('hub_closing'),
        },
        lastEventId,
        connectedAt,
      );
      // The client may have gone while we replayed to it.
      if (closed) subscription.off();
    },
  );
};
export default liveRoutes;
