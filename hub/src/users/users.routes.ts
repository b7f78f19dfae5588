import {
  CreateUserBodySchema,
  ErrorResponseSchema,
  UpdateUserBodySchema,
  UserItemSchema,
  UsernameParamsSchema,
} from '@camhub/shared';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { auditActor } from '../auth/request-auth.js';
import type { Services } from '../container.js';

const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  409: ErrorResponseSchema,
};

/** User administration (admin only); every change is audited by the service. */
const usersRoutes: FastifyPluginAsyncTypebox<Pick<Services, 'users'>> = async (app, deps) => {
  app.get(
    '/users',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['users'],
        summary: 'Every user',
        response: { 200: Type.Object({ items: Type.Array(UserItemSchema) }), ...errors },
      },
    },
    async () => ({ items: await deps.users.list() }),
  );

  app.post(
    '/users',
    {
      config: { access: { roles: ['admin'] }, audited: true },
      schema: {
        tags: ['users'],
        summary: 'Creates a user with roles and, optionally, the sites they may see',
        body: CreateUserBodySchema,
        response: { 201: UserItemSchema, ...errors },
      },
    },
    async (req, reply) => reply.code(201).send(await deps.users.create(req.body, auditActor(req))),
  );

  app.get(
    '/users/:username',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['users'],
        summary: 'One user',
        params: UsernameParamsSchema,
        response: { 200: UserItemSchema, ...errors },
      },
    },
    async (req) => deps.users.get(req.params.username),
  );

  app.patch(
    '/users/:username',
    {
      config: { access: { roles: ['admin'] }, audited: true },
      schema: {
        tags: ['users'],
        summary: "Changes roles, sites, password or disabled; a new password or disabling ends the user's sessions",
        params: UsernameParamsSchema,
        body: UpdateUserBodySchema,
        response: { 200: UserItemSchema, ...errors },
      },
    },
    async (req) => deps.users.update(req.params.username, req.body, auditActor(req)),
  );
};
export default usersRoutes;
