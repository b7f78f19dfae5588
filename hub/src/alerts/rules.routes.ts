import {
  AlertIdParamsSchema,
  AlertRuleInputSchema,
  AlertRuleSchema,
  AlertRulesResponseSchema,
  ErrorResponseSchema,
} from '@camhub/shared';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { auditActor, siteScope } from '../auth/request-auth.js';
import type { Services } from '../container.js';

const admin = { access: { roles: ['admin'] as const } };
/** Changes write their own audit entry, with what changed. */
const adminAudited = { ...admin, audited: true };
const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema };

const rulesRoutes: FastifyPluginAsyncTypebox<Pick<Services, 'rules'>> = async (app, deps) => {
  const rules = () => deps.rules;

  app.get(
    '/alert-rules',
    {
      config: admin,
      schema: { tags: ['alerts'], summary: 'Every alert rule', response: { 200: AlertRulesResponseSchema } },
    },
    async (req) => ({ items: await rules().list(siteScope(req)) }),
  );

  app.get(
    '/alert-rules/:id',
    {
      config: admin,
      schema: {
        tags: ['alerts'],
        summary: 'One alert rule',
        params: AlertIdParamsSchema,
        response: { 200: AlertRuleSchema, ...errors },
      },
    },
    async (req) => rules().get(req.params.id, siteScope(req)),
  );

  app.post(
    '/alert-rules',
    {
      config: adminAudited,
      schema: {
        tags: ['alerts'],
        summary: 'Create an event or health rule',
        body: AlertRuleInputSchema,
        response: { 201: AlertRuleSchema, 400: ErrorResponseSchema },
      },
    },
    async (req, reply) => reply.code(201).send(await rules().create(req.body, auditActor(req), siteScope(req))),
  );

  app.put(
    '/alert-rules/:id',
    {
      config: adminAudited,
      schema: {
        tags: ['alerts'],
        summary: 'Replace a rule (its kind cannot change)',
        params: AlertIdParamsSchema,
        body: AlertRuleInputSchema,
        response: { 200: AlertRuleSchema, ...errors },
      },
    },
    async (req) => rules().replace(req.params.id, req.body, auditActor(req), siteScope(req)),
  );

  app.delete(
    '/alert-rules/:id',
    {
      config: adminAudited,
      schema: {
        tags: ['alerts'],
        summary: "Delete a rule (its alerts stay, with the rule's name)",
        params: AlertIdParamsSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await rules().remove(req.params.id, auditActor(req), siteScope(req));
      return reply.code(204).send(null);
    },
  );
};
export default rulesRoutes;
