import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { RouteAccess } from './access.js';
import { auditActor, bearerToken, readCookie, SESSION_COOKIE } from './request-auth.js';
import { AppError, ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route writes its own audit entries; the generic "mutating request" entry is skipped. */
    audited?: boolean;
  }
  interface FastifyInstance {
    /** Every route registered after this plugin, with its declared access: the access test walks it. */
    routeTable: RouteTableEntry[];
  }
}

export interface RouteTableEntry {
  method: string;
  url: string;
  access: RouteAccess | undefined;
}

/** A route under /api/v1 that declares no access: a programming error, so the request is refused, never served. */
export class AccessNotDeclaredError extends AppError {
  constructor(method: string, url: string) {
    super('access_not_declared', `${method} ${url} declares no access rule`, 500);
  }
}

export const API_PREFIX = '/api/v1';

/** The host of an Origin header; null for "null" or garbage, which never matches. */
function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null; // an unparseable Origin is treated as foreign
  }
}
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Access control in one place. Every route declares `config.access`; this hook enforces it before anything else
 * runs (so an anonymous caller learns nothing from validation errors), sets `req.user` or `req.agent`, and hides
 * other sites' resources behind 404. Mutating requests and refusals are written to the audit trail.
 */
export default fp(
  async (app: FastifyInstance) => {
    const { auth, audit, sessions } = app.container.services;
    // Session changes from every hub (logout, disabled users…) close this hub's open streams.
    await sessions.listen(app.redisConnection());
    // Refused-login summaries are not flushed here: their windows live in Redis, shared with the other hubs, and the
    // maintenance queue writes them when the window ends (auth/refused-logins.ts).
    app.addHook('preClose', async () => {
      await sessions.close();
    });

    const routeTable: RouteTableEntry[] = [];
    app.decorate('routeTable', routeTable);
    app.addHook('onRoute', (route: RouteOptions) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        // Read lazily: a later onRoute hook (e.g. the console's static files) may still set the route's config.
        routeTable.push({
          method,
          url: route.url,
          get access() {
            return route.config?.access;
          },
        });
      }
    });

    if (app.config.CAMHUB_ADMIN_PASSWORD) {
      const r = await auth.ensureAdmin(app.config.CAMHUB_ADMIN_PASSWORD);
      if (r.changed) app.log.info({ created: r.created }, 'admin user set from CAMHUB_ADMIN_PASSWORD');
    }

    const authenticateUser = async (req: FastifyRequest) => {
      const bearer = bearerToken(req);
      const token = bearer ?? readCookie(req, SESSION_COOKIE);
      if (!token) throw new UnauthorizedError();
      const user = await auth.authenticate(token);
      if (!user) throw new UnauthorizedError('the token is invalid, expired or revoked', 'invalid_token');
      // Cookies ride along on cross-site requests; SameSite=Strict stops that in browsers, this stops the rest.
      if (!bearer && !SAFE_METHODS.has(req.method)) {
        const origin = req.headers.origin;
        if (origin !== undefined && originHost(origin) !== req.headers.host) {
          throw new ForbiddenError('cross-origin request with a session cookie', 'cross_origin');
        }
      }
      return user;
    };

    app.addHook('onRequest', async (req) => {
      const url = req.routeOptions.url;
      if (!url) return; // no route matched: the not-found handler answers
      const access = req.routeOptions.config.access;
      if (!access) {
        if (url.startsWith(API_PREFIX)) throw new AccessNotDeclaredError(req.method, url);
        return; // outside the API (docs, liveness): public unless declared otherwise
      }
      if (access.roles === 'public') return;
      if (access.roles === 'agent') {
        const site = await auth.authenticateAgent(bearerToken(req) ?? '');
        if (!site) throw new UnauthorizedError('a valid agent token is required', 'invalid_agent_token');
        req.agent = { site };
        return;
      }
      const user = await authenticateUser(req);
      req.user = user;
      if (!user.roles.some((r) => (access.roles as readonly string[]).includes(r))) {
        throw new ForbiddenError(`needs one of the roles: ${access.roles.join(', ')}`);
      }
      if (user.sites) {
        const site = access.siteParam
          ? (req.params as Record<string, string | undefined>)[access.siteParam]
          : access.siteQuery
            ? (req.query as Record<string, string | undefined>)[access.siteQuery]
            : undefined;
        if (site !== undefined && !user.sites.includes(site)) throw new NotFoundError('site');
      }
    });

    app.addHook('onResponse', async (req, reply) => {
      const url = req.routeOptions.url;
      if (!url?.startsWith(API_PREFIX)) return;
      const config = req.routeOptions.config;
      const roles = config.access?.roles;
      const denied = reply.statusCode === 403;
      const mutated = !SAFE_METHODS.has(req.method) && reply.statusCode < 400 && !config.audited;
      if (!denied && !(mutated && roles !== 'agent' && roles !== 'public')) return;
      try {
        await audit.record(auditActor(req), {
          action: denied ? 'access.denied' : 'api.request',
          target: `${req.method} ${url}`,
          // Parameters name the thing acted on; bodies are left out (they may carry passwords or secrets).
          detail: { params: req.params ?? {}, status: reply.statusCode },
        });
      } catch (err) {
        req.log.error({ err, url }, 'could not write the audit entry for a request');
      }
    });
  },
  { name: 'auth', dependencies: ['config'] },
);
