import {
  CameraParamsSchema,
  CamerasQuerySchema,
  CamerasResponseSchema,
  ErrorResponseSchema,
  HealthHistorySchema,
  TimeRangeQuerySchema,
  TransitionsResponseSchema,
} from '@camhub/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ALL_ROLES, HEALTH_READERS } from '../auth/access.js';
import { siteScope } from '../auth/request-auth.js';

const camerasRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/cameras',
    {
      config: { access: { roles: ALL_ROLES, siteQuery: 'site' } },
      schema: {
        tags: ['cameras'],
        summary: 'Every known camera with its status, latest health and problems',
        querystring: CamerasQuerySchema,
        response: { 200: CamerasResponseSchema, 400: ErrorResponseSchema },
      },
    },
    async (req) => ({ items: await app.services.cameras.list(req.query, siteScope(req)) }),
  );

  app.get(
    '/cameras/:site/:camera/health',
    {
      config: { access: { roles: HEALTH_READERS, siteParam: 'site' } },
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

  app.get(
    '/cameras/:site/:camera/transitions',
    {
      config: { access: { roles: HEALTH_READERS, siteParam: 'site' } },
      schema: {
        tags: ['cameras'],
        summary: "A camera's status transitions over a range (default: the last 7 days) and its uptime",
        params: CameraParamsSchema,
        querystring: TimeRangeQuerySchema,
        response: { 200: TransitionsResponseSchema, 400: ErrorResponseSchema, 404: ErrorResponseSchema },
      },
    },
    async (req) => app.services.status.transitions(req.params.site, req.params.camera, req.query.from, req.query.to),
  );
};
export default camerasRoutes;
