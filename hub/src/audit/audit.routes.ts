import { AuditPageSchema, AuditQuerySchema, ErrorResponseSchema } from '@camhub/shared';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../container.js';

const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 403: ErrorResponseSchema };

/** The audit trail: admins read all of it; police read their own actions. */
const auditRoutes: FastifyPluginAsyncTypebox<Pick<Services, 'audit'>> = async (app, deps) => {
  app.get(
    '/audit',
    {
      config: { access: { roles: ['admin', 'police'] } },
      schema: {
        tags: ['audit'],
        summary: 'Audit entries, newest first (police: only their own)',
        querystring: AuditQuerySchema,
        response: { 200: AuditPageSchema, ...errors },
      },
    },
    async (req) => {
      const user = req.user!;
      return deps.audit.search(req.query, user.roles.includes('admin') ? undefined : user.username);
    },
  );

  app.get(
    '/audit/verify',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['audit'],
        summary: 'Recomputes the hash chain; reports edited, deleted or reordered entries',
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            checked: Type.Integer(),
            head: Type.Object({ seq: Type.Integer(), hash: Type.String() }),
            base: Type.Object({ seq: Type.Integer(), hash: Type.String() }),
            problems: Type.Array(Type.Object({ seq: Type.Integer(), problem: Type.String(), detail: Type.String() })),
          }),
          ...errors,
        },
      },
    },
    async () => deps.audit.verify(),
  );
};
export default auditRoutes;
