import {
  ErrorResponseSchema,
  EventIdParamsSchema,
  EventItemSchema,
  EventsPageSchema,
  EventsQuerySchema,
} from '@camhub/shared';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EVENT_READERS } from '../auth/access.js';
import { assertSiteVisible, auditActor, siteScope } from '../auth/request-auth.js';
import { NotFoundError } from '../errors.js';
import type { Services } from '../container.js';
import type { SnapshotStore } from '../media/snapshot-store.js';

const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema };

const eventsRoutes: FastifyPluginAsyncTypebox<
  Pick<Services, 'events' | 'audit'> & { snapshots: SnapshotStore }
> = async (app, deps) => {
  app.get(
    '/events',
    {
      config: { access: { roles: EVENT_READERS, siteQuery: 'site' } },
      schema: {
        tags: ['events'],
        summary: 'Search event history, newest first (keyset pagination)',
        querystring: EventsQuerySchema,
        response: { 200: EventsPageSchema, 400: ErrorResponseSchema },
      },
    },
    async (req) => {
      const page = await deps.events.search(req.query, siteScope(req));
      // Who searched people's movements, and for what: recorded once the query is known to be valid.
      const { cursor: _cursor, ...filters } = req.query;
      await deps.audit.record(auditActor(req), {
        action: 'events.search',
        detail: { filters, page: req.query.cursor ? 'next' : 'first', results: page.items.length },
      });
      return page;
    },
  );

  app.get(
    '/events/:id',
    {
      config: { access: { roles: EVENT_READERS } },
      schema: {
        tags: ['events'],
        summary: 'One event',
        params: EventIdParamsSchema,
        response: { 200: EventItemSchema, ...errors },
      },
    },
    async (req) => {
      const event = await deps.events.get(req.params.id);
      assertSiteVisible(req, event.site, 'event');
      // Viewing one event is a sensitive read like a search: recorded before it is answered.
      await deps.audit.record(auditActor(req), {
        action: 'event.view',
        target: event.id,
        detail: { site: event.site, camera: event.camera, type: event.type, at: event.at },
      });
      return event;
    },
  );

  app.get(
    '/events/:id/snapshot',
    {
      config: { access: { roles: EVENT_READERS } },
      schema: {
        tags: ['events'],
        summary: "The event's snapshot (JPEG)",
        params: EventIdParamsSchema,
        response: {
          200: Type.Unsafe<Buffer | NodeJS.ReadableStream>({
            type: 'string',
            format: 'binary',
            description: 'image/jpeg',
          }),
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const event = await deps.events.get(req.params.id);
      assertSiteVisible(req, event.site, 'event');
      if (!event.snapshot) throw new NotFoundError('snapshot', 'no_snapshot');
      const file = await deps.snapshots.open(event.snapshot);
      if (!file) throw new NotFoundError('snapshot file (not uploaded yet, or expired)', 'snapshot_pending');
      // Audited before the first byte leaves: a view that cannot be recorded is not served. Never cached (no-store),
      // so every repeat view reaches the hub and its trail.
      await deps.audit.record(auditActor(req), {
        action: 'snapshot.view',
        target: event.id,
        detail: { site: event.site, camera: event.camera, snapshot: event.snapshot },
      });
      return reply
        .header('content-type', 'image/jpeg')
        .header('content-length', file.size)
        .header('cache-control', 'no-store')
        .send(file.stream);
    },
  );
};
export default eventsRoutes;
