import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ISO_TIME_FORMAT, isValidIsoTime } from '@camhub/shared';
import fp from 'fastify-plugin';
import { loadOrCreateHubKey } from './auth/keys.js';
import type { HubConfig } from './config.js';
import { buildContainer, type Container } from './container.js';
import { AppError } from './errors.js';
import alertsPlugin from './alerts/alerts.plugin.js';
import authPlugin from './auth/auth.plugin.js';
import configPlugin from './plugins/config.js';
import consolePlugin from './plugins/console.js';
import afterCommitPlugin from './ingest/after-commit.plugin.js';
import ingestPlugin, { type IngestPluginOptions } from './ingest/ingest.plugin.js';
import livePlugin from './live/live.plugin.js';
import maintenancePlugin from './maintenance/maintenance.plugin.js';
import metricsPlugin from './metrics/metrics.plugin.js';
import mqttOutPlugin from './mqtt-out/mqtt-out.plugin.js';
import notifyPlugin from './notify/notify.plugin.js';
import pgPlugin from './plugins/pg.js';
import queuesPlugin from './plugins/queues.js';
import redisPlugin from './plugins/redis.js';
import alertsRoutes from './alerts/alerts.routes.js';
import auditRoutes from './audit/audit.routes.js';
import authRoutes from './auth/auth.routes.js';
import camerasRoutes from './cameras/cameras.routes.js';
import registryRoutes from './cameras/registry.routes.js';
import siteConfigPlugin from './cameras/site-config.plugin.js';
import clipsRoutes from './clips/clips.routes.js';
import eventsRoutes from './events/events.routes.js';
import exportsRoutes from './exports/exports.routes.js';
import ingestRoutes from './ingest/ingest.routes.js';
import liveRoutes from './live/live.routes.js';
import mediaRoutes from './media/media.routes.js';
import opsRoutes from './ops/ops.routes.js';
import rulesRoutes from './alerts/rules.routes.js';
import usersRoutes from './users/users.routes.js';
import reportsRoutes from './reports/reports.routes.js';
import sitesPlugin from './sites/sites.plugin.js';
import sitesRoutes from './sites/sites.routes.js';
import notifyRoutes from './notify/notify.routes.js';
import webhooksRoutes from './notify/webhooks.routes.js';
import videoPlugin from './video/video.plugin.js';
import videoRoutes from './video/video.routes.js';

export interface AppOptions {
  config: HubConfig;
  ingest?: IngestPluginOptions;
  /** Run periodic jobs (heartbeat sweep, retention) in this process (default true). */
  maintenance?: boolean;
}

/** Fastify's own 4xx codes, renamed to our machine codes. */
function fastifyErrorCode(err: FastifyError): string {
  if (err.validation) return 'invalid_request';
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'invalid_body';
    default:
      return 'bad_request';
  }
}

/** The hub, as a plugin: infrastructure, then services, then routes. `server.ts` boots it. */
const app: FastifyPluginAsync<AppOptions> = async (fastify, opts) => {
  const instance = fastify.withTypeProvider<TypeBoxTypeProvider>();
  await instance.register(configPlugin, { config: opts.config });
  await instance.register(pgPlugin);
  await instance.register(redisPlugin);
  await instance.register(queuesPlugin);
  const container = buildContainer({
    config: opts.config,
    pg: instance.pg,
    redis: instance.redis,
    log: instance.log,
    keys: await loadOrCreateHubKey(opts.config.HUB_KEY_FILE, (m) => instance.log.warn(m)),
    metrics: instance.metrics,
    queues: instance.queues,
  });
  instance.decorate('container', container);
  await instance.register(metricsPlugin, { cameras: container.repositories.cameras });
  // Before any route: it collects the route table and enforces each route's declared access.
  await instance.register(authPlugin);
  await instance.register(sitesPlugin);
  await instance.register(ingestPlugin, opts.ingest ?? {});
  await instance.register(afterCommitPlugin);
  await instance.register(maintenancePlugin, { work: opts.maintenance ?? true });
  await instance.register(alertsPlugin, { work: opts.maintenance ?? true });
  await instance.register(notifyPlugin, { work: opts.maintenance ?? true });
  await instance.register(siteConfigPlugin, { work: opts.maintenance ?? true });
  await instance.register(mqttOutPlugin);
  await instance.register(livePlugin);
  await instance.register(videoPlugin);

  await instance.register(helmet, {
    contentSecurityPolicy: {
      // Same-origin only: the console's scripts, images (snapshots, blob: previews) and SSE come from the hub itself.
      // Swagger UI needs inline styles; nothing needs inline scripts.
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        // Live video plays through Media Source Extensions: the <video> element's source is a blob: URL.
        mediaSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        // Plain-HTTP LAN installs: upgrading subresources to an HTTPS that does not exist would break the console.
        upgradeInsecureRequests: null,
      },
    },
    // Plain-HTTP installs on a LAN would otherwise be told to upgrade every request to HTTPS they do not have.
    strictTransportSecurity: false,
  });
  await instance.register(swagger, {
    openapi: {
      info: { title: 'camhub hub API', version: '1.0.0', description: 'Events, cameras and health (contract v1)' },
    },
  });
  await instance.register(swaggerUi, { routePrefix: '/docs', staticCSP: false });

  instance.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (err instanceof AppError) {
      if (err.statusCode >= 500) req.log.error({ err }, err.message);
      // Throttles (429) say when to come back.
      const retryAfter = (err as { retryAfterSec?: unknown }).retryAfterSec;
      if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
      return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
    }
    const status = (err as FastifyError).statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: { code: fastifyErrorCode(err as FastifyError), message: err.message } });
    }
    req.log.error({ err }, 'request failed');
    // 5xx details stay in the log: they may name tables, hosts or credentials.
    return reply.code(status).send({ error: { code: 'internal_error', message: 'internal server error' } });
  });
  instance.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'route_not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );

  await instance.register(opsRoutes);
  await instance.register(
    async (api) => {
      const s = container.services;
      await api.register(eventsRoutes, { events: s.events, audit: s.audit, snapshots: container.snapshots });
      await api.register(camerasRoutes, { cameras: s.cameras, status: s.status });
      await api.register(ingestRoutes, { rejections: s.rejections });
      await api.register(mediaRoutes, { media: s.media });
      await api.register(clipsRoutes, {
        clips: s.clips,
        maxBytes: instance.config.CLIP_MAX_BYTES,
        checkRate: (site) => s.media.checkRate(site, 'clip'),
      });
      await api.register(alertsRoutes, { alerts: s.alerts, audit: s.audit });
      await api.register(rulesRoutes, { rules: s.rules });
      await api.register(webhooksRoutes, { notifyTargets: s.notifyTargets, notifier: s.notifier });
      await api.register(notifyRoutes, { notifyTargets: s.notifyTargets });
      await api.register(liveRoutes, {
        live: instance.live,
        streams: instance.liveStreams,
        auth: s.auth,
        audit: s.audit,
        rateLimiter: s.rateLimiter,
        sessions: s.sessions,
      });
      await api.register(authRoutes, {
        auth: s.auth,
        users: s.users,
        rateLimiter: s.rateLimiter,
        refusedLogins: s.refusedLogins,
      });
      await api.register(usersRoutes, { users: s.users });
      await api.register(sitesRoutes, { sites: s.sites });
      await api.register(registryRoutes, { registry: s.registry });
      await api.register(reportsRoutes, { reports: s.reports });
      await api.register(auditRoutes, { audit: s.audit });
      await api.register(exportsRoutes, { exports: s.exports });
      await api.register(videoRoutes, {
        audit: s.audit,
        auth: s.auth,
        sessions: s.sessions,
        cameras: container.repositories.cameras,
      });
    },
    { prefix: '/api/v1' },
  );
  // The web console at `/`: a catch-all file route; API routes still win (the router prefers static paths).
  await instance.register(consolePlugin);
};

export default fp(app, { name: 'camhub-hub' });

/** Fastify options shared by the server and tests: strict query validation, unknown parameters refused. */
export const fastifyOptions = {
  ajv: {
    customOptions: {
      removeAdditional: false,
      coerceTypes: true,
      allErrors: false,
      // The contract's time format: a real instant, not only the right shape (see shared/src/ids.ts).
      formats: { [ISO_TIME_FORMAT]: isValidIsoTime },
    },
  },
  // Responses with unions (allOf/anyOf) are serialised with a validator of their own; it must know the format too.
  serializerOpts: { ajv: { formats: { [ISO_TIME_FORMAT]: isValidIsoTime } } },
  // The router refuses some requests before any route or error handler runs (a path parameter over 100 characters,
  // a malformed URL); without this they would get Fastify's own error shape instead of the contract's.
  frameworkErrors: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) =>
    reply.code(400).send({ error: { code: 'bad_request', message: err.message.slice(0, 200) } }),
  bodyLimit: 1024 * 1024,
  // Header/connection timeouts protect against slow clients holding sockets.
  requestTimeout: 30_000,
  connectionTimeout: 60_000,
  // A plugin's start (Redis, BullMQ queues, the MQTT session, the container) may take longer than Fastify's 10 s
  // default on a loaded machine: a hub restarted there must come up late, not fail with "Plugin did not start in time"
  // (the fault case two-hubs-one-killed, load 14-17).
  pluginTimeout: 60_000,
} as const;

export type HubApp = FastifyInstance;

declare module 'fastify' {
  interface FastifyInstance {
    /** Every repository and service of the hub, built once (container.ts). */
    container: Container;
  }
}
