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
import type { Static } from '@sinclair/typebox';
import { ALL_ROLES, HEALTH_READERS } from '../auth/access.js';
import { siteScope } from '../auth/request-auth.js';
import type { Services } from '../container.js';

const camerasRoutes: FastifyPluginAsyncTypebox<Pick<Services, 'cameras' | 'status'>> = async (app, deps) => {
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
    // The response schema still documents the contract (/docs); the body is PostgreSQL's JSON, sent as it is: a
    // string with a JSON content type is not serialised again (cameras.repository.ts listJson says why).
    async (req, reply) => {
      const items = await deps.cameras.listJson(req.query, siteScope(req));
      const body = `{"items":${items}}`;
      // The type provider only knows the object form of the schema; the text is that object, already serialised.
      return reply
        .type('application/json; charset=utf-8')
        .send(body as unknown as Static<typeof CamerasResponseSchema>);
    },
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
      items: await deps.cameras.health(req.params.site, req.params.camera, req.query.from, req.query.to),
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
    async (req) => deps.status.transitions(req.params.site, req.params.camera, req.query.from, req.query.to),
  );
};
export default camerasRoutes;
