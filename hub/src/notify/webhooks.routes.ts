import {
  AlertIdParamsSchema,
  DeliveriesQuerySchema,
  DeliveriesResponseSchema,
  ErrorResponseSchema,
  WebhookInputSchema,
  WebhookPatchSchema,
  WebhookSchema,
  WebhooksResponseSchema,
} from '@camhub/shared';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { auditActor } from '../auth/request-auth.js';
import type { Services } from '../container.js';

// Changes get the generic request entry and, from the targets service, one saying what changed (never a secret).
const admin = { access: { roles: ['admin'] as const } };
const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema };

const webhooksRoutes: FastifyPluginAsyncTypebox<Pick<Services, 'notifyTargets' | 'notifier'>> = async (app, deps) => {
  const targets = () => deps.notifyTargets;

  app.get(
    '/webhooks',
    {
      config: admin,
      schema: {
        tags: ['notifications'],
        summary: 'Webhooks (secrets are never returned)',
        response: { 200: WebhooksResponseSchema },
      },
    },
    async () => ({ items: await targets().listWebhooks() }),
  );

  app.post(
    '/webhooks',
    {
      config: admin,
      schema: {
        tags: ['notifications'],
        summary: 'Add a webhook: every rule (ruleIds null) or some rules, from a minimum severity',
        body: WebhookInputSchema,
        response: { 201: WebhookSchema, 400: ErrorResponseSchema },
      },
    },
    async (req, reply) => reply.code(201).send(await targets().createWebhook(req.body, auditActor(req))),
  );

  app.patch(
    '/webhooks/:id',
    {
      config: admin,
      schema: {
        tags: ['notifications'],
        summary: 'Change a webhook',
        params: AlertIdParamsSchema,
        body: WebhookPatchSchema,
        response: { 200: WebhookSchema, ...errors },
      },
    },
    async (req) => targets().updateWebhook(req.params.id, req.body, auditActor(req)),
  );

  app.delete(
    '/webhooks/:id',
    {
      config: admin,
      schema: {
        tags: ['notifications'],
        summary: 'Remove a webhook (its delivery log stays)',
        params: AlertIdParamsSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await targets().deleteWebhook(req.params.id, auditActor(req));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/notifications/deliveries',
    {
      config: admin,
      schema: {
        tags: ['notifications'],
        summary: 'Delivery log, newest first: status, attempts, last error',
        querystring: DeliveriesQuerySchema,
        response: { 200: DeliveriesResponseSchema, 400: ErrorResponseSchema },
      },
    },
    async (req) => ({ items: await deps.notifier.deliveries(req.query) }),
  );
};
export default webhooksRoutes;
