import {
  CameraParamsSchema,
  CamerasQuerySchema,
  CamerasResponseSchema,
  ErrorResponseSchema,
  HealthHistorySchema,
  TimeRangeQuerySchema,
} from '@camhub/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

const camerasRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/cameras',
    {
      schema: {
        tags: ['cameras'],
        summary: 'Every known camera with its status, latest health and problems',
        querystring: CamerasQuerySchema,
        response: { 200: CamerasResponseSchema, 400: ErrorResponseSchema },
      },
    },
    async (req) => ({ items: await app.services.cameras.list(req.query) }),
  );

  app.get(
    '/cameras/:site/:camera/health',
    {
      schema: {
        tags: ['cameras'],
        summary: "A camera's health samples over a time range (default: the last 24 hours)",
        params: CameraParamsSchema,
        querystring: TimeRangeQuerySchema,
        response: { 200: HealthHistorySchema, 400: ErrorResponseSchema, 404: ErrorResponseSchema },
      },
    },
    async (req) => ({
      items: await app.services.cameras.health(req.params.site, req.params.camera, req.query.from, req.query.to),
    }),
  );
};
export default camerasRoutes;
