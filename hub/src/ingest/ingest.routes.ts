import { ErrorResponseSchema, RejectionsQuerySchema, RejectionsResponseSchema } from '@camhub/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EVENT_READERS } from '../auth/access.js';
import type { Services } from '../container.js';

const ingestRoutes: FastifyPluginAsyncTypebox<Pick<Services, 'rejections'>> = async (app, deps) => {
  app.get(
    '/ingest/rejections',
    {
      config: { access: { roles: ['admin', 'technician'] } },
      schema: {
        tags: ['ingest'],
        summary: 'Messages the hub could not accept, newest first, each with its reason',
        querystring: RejectionsQuerySchema,
        response: { 200: RejectionsResponseSchema, 400: ErrorResponseSchema },
      },
    },
    async (req) => {
      // A technician limited to some sites sees what those sites' agents sent, nothing else.
      const sites = req.user?.sites ?? null;
      const eventPayloads = req.user!.roles.some((r) => EVENT_READERS.includes(r));
      return {
        items: await deps.rejections.latest(req.query.limit ?? 100, req.query.reason, sites, { eventPayloads }),
      };
    },
  );
};
export default ingestRoutes;
