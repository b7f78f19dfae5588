import {
  CreateSiteTokenBodySchema,
  ErrorResponseSchema,
  LoginBodySchema,
  RefreshBodySchema,
  SiteTokenItemSchema,
  TokenResponseSchema,
  type TokenResponse,
  UserItemSchema,
  UuidSchema,
} from '@camhub/shared';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ALL_ROLES } from './access.js';
import { RateLimitedError } from './rate-limit.js';
import { auditActor, readCookie, REFRESH_COOKIE, SESSION_COOKIE, serializeCookie } from './request-auth.js';
import { UnauthorizedError } from '../errors.js';
import type { Services } from '../container.js';

const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 403: ErrorResponseSchema };
const REFRESH_PATH = '/api/v1/auth';

/** Login, refresh, logout, who am I; and the edge agents' upload tokens (admin). */
const authRoutes: FastifyPluginAsyncTypebox<
  Pick<Services, 'auth' | 'users' | 'rateLimiter' | 'refusedLogins'>
> = async (app, deps) => {
  const secure = app.config.AUTH_COOKIE_SECURE === 'true';

  const setCookies = (reply: FastifyReply, t: TokenResponse) => {
    reply.header('set-cookie', [
      serializeCookie(SESSION_COOKIE, t.token, { path: '/', maxAgeSec: app.config.AUTH_TOKEN_TTL_SEC, secure }),
      serializeCookie(REFRESH_COOKIE, t.refreshToken, {
        path: REFRESH_PATH,
        maxAgeSec: (Date.parse(t.refreshExpiresAt) - Date.now()) / 1000,
        secure,
      }),
    ]);
  };

  /** A cheap per-IP limit in front of the login and refresh routes: one Redis INCR before any password or query. */
  const rateLimit = async (req: FastifyRequest) => {
    const r = await deps.rateLimiter.hit(`login:${req.ip}`, app.config.AUTH_LOGIN_RATE_PER_MIN, 60);
    if (r.ok) return;
    const body = req.body as { username?: unknown } | undefined;
    const name = typeof body?.username === 'string' ? body.username.trim().toLowerCase().slice(0, 64) : '';
    await deps.refusedLogins.refused(req.ip, name, 'rate_limited');
    throw new RateLimitedError(r.retryAfterSec);
  };

  app.post(
    '/auth/login',
    {
      config: { access: { roles: 'public' }, audited: true },
      preValidation: rateLimit,
      schema: {
        tags: ['auth'],
        summary: 'Password login: a short-lived Bearer token and a refresh token (cookies too with `cookie: true`)',
        body: LoginBodySchema,
        response: { 200: TokenResponseSchema, 429: ErrorResponseSchema, ...errors },
      },
    },
    async (req, reply) => {
      const tokens = await deps.auth.login(req.body.username, req.body.password, req.ip);
      if (req.body.cookie) setCookies(reply, tokens);
      return tokens;
    },
  );

  app.post(
    '/auth/refresh',
    {
      config: { access: { roles: 'public' }, audited: true },
      preValidation: rateLimit,
      schema: {
        tags: ['auth'],
        summary: 'A new token pair for a refresh token (body or cookie); the old refresh token stops working',
        body: Type.Optional(RefreshBodySchema),
        response: { 200: TokenResponseSchema, 429: ErrorResponseSchema, ...errors },
      },
    },
    async (req, reply) => {
      const fromBody = req.body?.refreshToken;
      const presented = fromBody ?? readCookie(req, REFRESH_COOKIE);
      if (!presented) throw new UnauthorizedError('a refresh token is required', 'invalid_refresh_token');
      const tokens = await deps.auth.refresh(presented, req.ip);
      if (!fromBody) setCookies(reply, tokens);
      return tokens;
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { access: { roles: ALL_ROLES }, audited: true },
      schema: {
        tags: ['auth'],
        summary: 'Ends this session (token and refresh token)',
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await deps.auth.logout(req.user!, auditActor(req));
      reply.header('set-cookie', [
        serializeCookie(SESSION_COOKIE, '', { path: '/', maxAgeSec: 0, secure }),
        serializeCookie(REFRESH_COOKIE, '', { path: REFRESH_PATH, maxAgeSec: 0, secure }),
      ]);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/auth/me',
    {
      config: { access: { roles: ALL_ROLES } },
      schema: { tags: ['auth'], summary: 'The logged-in user', response: { 200: UserItemSchema, ...errors } },
    },
    async (req) => deps.users.get(req.user!.username),
  );

  app.get(
    '/site-tokens',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['auth'],
        summary: 'Edge agent upload tokens (never the secrets themselves)',
        response: { 200: Type.Object({ items: Type.Array(SiteTokenItemSchema) }), ...errors },
      },
    },
    async () => ({ items: await deps.auth.listSiteTokens() }),
  );

  app.post(
    '/site-tokens',
    {
      config: { access: { roles: ['admin'] }, audited: true },
      schema: {
        tags: ['auth'],
        summary: "A new upload token for a site's edge agent; the secret is shown only in this response",
        body: CreateSiteTokenBodySchema,
        response: { 201: Type.Intersect([SiteTokenItemSchema, Type.Object({ token: Type.String() })]), ...errors },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await deps.auth.createSiteToken(req.body.site, req.body.label ?? null, auditActor(req))),
  );

  app.delete(
    '/site-tokens/:id',
    {
      config: { access: { roles: ['admin'] }, audited: true },
      schema: {
        tags: ['auth'],
        summary: 'Revokes an upload token',
        params: Type.Object({ id: UuidSchema }),
        response: { 200: SiteTokenItemSchema, 404: ErrorResponseSchema, ...errors },
      },
    },
    async (req) => deps.auth.revokeSiteToken(req.params.id, auditActor(req)),
  );
};
export default authRoutes;
