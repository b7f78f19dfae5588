import { ErrorResponseSchema, RejectionsQuerySchema, RejectionsResponseSchema } from '@camhub/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

const ingestRoutes: FastifyPluginAsyncTypebox = async (app) => {
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
      const prefixes = sites ? sites.map((site) => `${app.config.MQTT_TOPIC_ROOT}/${site}/`) : undefined;
      return { items: await app.repositories.rejections.latest(req.query.limit ?? 100, req.query.reason, prefixes) };
    },
  );
};
export default ingestRoutes;
