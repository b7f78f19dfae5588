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
import { NotFoundError } from '../errors.js';

const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema };

const eventsRoutes: FastifyPluginAsyncTypebox = async (app) => {
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
    async (req) => app.services.events.search(req.query),
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
    async (req) => app.services.events.get(req.params.id),
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
      const event = await app.services.events.get(req.params.id);
      if (!event.snapshot) throw new NotFoundError('snapshot', 'no_snapshot');
      const file = await app.snapshots.open(event.snapshot);
      if (!file) throw new NotFoundError('snapshot file (not uploaded yet)', 'snapshot_pending');
      return reply
        .header('content-type', 'image/jpeg')
        .header('content-length', file.size)
        .header('cache-control', 'private, max-age=31536000, immutable')
        .send(file.stream);
    },
  );
};
export default eventsRoutes;
