import {
  AlertIdParamsSchema,
  ErrorResponseSchema,
  TargetInputSchema,
  TargetPatchSchema,
  TargetSchema,
  TargetsResponseSchema,
  TargetTestResultSchema,
} from '@camhub/shared';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { auditActor } from '../auth/request-auth.js';
import type { Services } from '../container.js';

const admin = { access: { roles: ['admin'] as const } };
/** Changes and tests write their own audit entry (what changed, never a secret). */
const adminAudited = { ...admin, audited: true };
const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema };
const tags = ['notifications'];

/** Notification targets (Telegram, Zalo, e-mail, webhooks): admins only; secrets are write-only. */
const notifyRoutes: FastifyPluginAsyncTypebox<Pick<Services, 'notifyTargets'>> = async (app, deps) => {
  const targets = () => deps.notifyTargets;

  app.get(
    '/notification-targets',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Notification targets (secrets are never returned)',
        response: { 200: TargetsResponseSchema },
      },
    },
    async () => ({ items: await targets().list() }),
  );

  app.get(
    '/notification-targets/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'One notification target',
        params: AlertIdParamsSchema,
        response: { 200: TargetSchema, ...errors },
      },
    },
    async (req) => targets().get(req.params.id),
  );

  app.post(
    '/notification-targets',
    {
      config: adminAudited,
      schema: {
        tags,
        summary: 'Add a target: channel settings in config (checked by the channel), secrets sealed at rest',
        body: TargetInputSchema,
        response: { 201: TargetSchema, 400: ErrorResponseSchema },
      },
    },
    async (req, reply) => reply.code(201).send(await targets().create(req.body, auditActor(req))),
  );

  app.patch(
    '/notification-targets/:id',
    {
      config: adminAudited,
      schema: {
        tags,
        summary: 'Change a target; config is merged, secrets left out are kept; clears a failing mark',
        params: AlertIdParamsSchema,
        body: TargetPatchSchema,
        response: { 200: TargetSchema, ...errors },
      },
    },
    async (req) => targets().update(req.params.id, req.body, auditActor(req)),
  );

  app.delete(
    '/notification-targets/:id',
    {
      config: adminAudited,
      schema: {
        tags,
        summary: 'Remove a target (its delivery log stays)',
        params: AlertIdParamsSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await targets().remove(req.params.id, auditActor(req));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/notification-targets/:id/test',
    {
      config: adminAudited,
      schema: {
        tags,
        summary: 'Send a test message now; answers whether it went through (a success clears a failing mark)',
        params: AlertIdParamsSchema,
        response: { 200: TargetTestResultSchema, ...errors },
      },
    },
    async (req) => targets().test(req.params.id, auditActor(req)),
  );
};
export default notifyRoutes;
