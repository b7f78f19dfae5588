import { readFileSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { createAlertsRepository } from './alerts/alerts.repository.js';
import { createAlertsService } from './alerts/alerts.service.js';
import { createRulesRepository } from './alerts/rules.repository.js';
import { alertEventTypes } from './alerts/rules.js';
import { createRulesService } from './alerts/rules.service.js';
import { parseSiteTimeZones } from './alerts/time-zones.js';
import { createAuditRepository } from './audit/audit.repository.js';
import { createAuditService } from './audit/audit.service.js';
import { createAuthRepository } from './auth/auth.repository.js';
import { createAuthService } from './auth/auth.service.js';
import type { HubKeys } from './auth/keys.js';
import { createRateLimiter } from './auth/rate-limit.js';
import { createRefusedLoginLog } from './auth/refused-logins.js';
import { createSessionEvents } from './auth/session-events.js';
import { HubBus } from './bus.js';
import { createCamerasRepository } from './cameras/cameras.repository.js';
import { createCamerasService } from './cameras/cameras.service.js';
import { createClipStore } from './clips/clip-store.js';
import { createClipsRepository } from './clips/clips.repository.js';
import { createClipsService } from './clips/clips.service.js';
import { createViewWindows } from './audit/view-windows.js';
import { createHealthRepository } from './cameras/health.repository.js';
import { createRegistryRepository } from './cameras/registry.repository.js';
import { createRegistryService } from './cameras/registry.service.js';
import { createStatusRepository } from './cameras/status.repository.js';
import { createStatusService } from './cameras/status.service.js';
import { type HubConfig, parseAgentTokens } from './config.js';
import { createEventsRepository } from './events/events.repository.js';
import { createEventsService } from './events/events.service.js';
import { createExportsRepository } from './exports/exports.repository.js';
import { createExportsService } from './exports/exports.service.js';
import { createIngestRepository } from './ingest/ingest.repository.js';
import { type AfterCommitFollower, runAfterCommit } from './ingest/after-commit.js';
import { createIngestService } from './ingest/ingest.service.js';
import { CameraTouchBuffer } from './ingest/touch-buffer.js';
import { createMediaRepository } from './media/media.repository.js';
import { createMediaService } from './media/media.service.js';
import { createSnapshotStore } from './media/snapshot-store.js';
import type { HubMetrics } from './metrics/metrics.js';
import { createAddressGuard } from './notify/address-guard.js';
import { createChannels } from './notify/channels.js';
import { createNotifier } from './notify/notifier.service.js';
import { createNotifyJobs, type NotifyJobs } from './notify/notify-jobs.js';
import { createNotifyRepository } from './notify/notify.repository.js';
import { createSecretBox } from './notify/secrets.js';
import { createTargetSecrets } from './notify/target-secrets.js';
import { createTargetsService } from './notify/targets.service.js';
import type { HubQueues } from './plugins/queues.js';
import { createRejectionsRepository } from './rejections/rejections.repository.js';
import { createRejectionsService } from './rejections/rejections.service.js';
import { createRetentionRepository } from './retention/retention.repository.js';
import { createReportsRepository } from './reports/reports.repository.js';
import { createReportsService } from './reports/reports.service.js';
import { createRetentionService } from './retention/retention.service.js';
import { createSitesRepository } from './sites/sites.repository.js';
import { createSitesService } from './sites/sites.service.js';
import { createUsersRepository } from './users/users.repository.js';
import { createUsersService } from './users/users.service.js';

export interface ContainerDeps {
  config: HubConfig;
  pg: pg.Pool;
  /** Rule-change announcements (pub/sub) and login rate limits. */
  redis: Redis;
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;
  keys: HubKeys;
  metrics: HubMetrics;
  /** The server's BullMQ queues; the CLI has none (it sends no notification). */
  queues?: Pick<HubQueues, 'notify'>;
}

/** Notification jobs where there is no queue (the CLI): none of its commands changes an alert. */
const noNotifyQueue: NotifyJobs = {
  enqueue: () => Promise.reject(new Error('notifications are queued by the hub server only')),
  scheduleDigest: () => Promise.reject(new Error('notifications are queued by the hub server only')),
};

/** The channel on which hubs announce rule changes to each other. */
export const rulesChannel = (config: HubConfig) => `${config.QUEUE_PREFIX}:alert-rules-changed`;

/**
 * The composition root: every repository (all I/O, bound to the pool, with an optional transaction argument) and
 * every service (rules) is built here, once, for the server (app.ts decorates it) and the CLI alike. Plugins add
 * workers and hooks around it; routes receive the services they use.
 */
export function buildContainer(deps: ContainerDeps) {
  const { config: cfg, pg: pool, keys, metrics } = deps;
  const bus = new HubBus();
  const snapshots = createSnapshotStore(cfg.SNAPSHOT_DIR);
  const clipStore = createClipStore(cfg.CLIP_DIR);

  const repositories = {
    alerts: createAlertsRepository(pool),
    audit: createAuditRepository(pool),
    auth: createAuthRepository(pool),
    cameras: createCamerasRepository(pool),
    clips: createClipsRepository(pool),
    events: createEventsRepository(pool, { idMarginSec: cfg.EVENTS_ID_MARGIN_SEC }),
    exports: createExportsRepository(pool, { idMarginSec: cfg.EVENTS_ID_MARGIN_SEC }),
    health: createHealthRepository(pool),
    ingest: createIngestRepository(pool),
    media: createMediaRepository(pool),
    notify: createNotifyRepository(pool),
    registry: createRegistryRepository(pool),
    rejections: createRejectionsRepository(pool),
    reports: createReportsRepository(pool, { idMarginSec: cfg.EVENTS_ID_MARGIN_SEC }),
    retention: createRetentionRepository(pool),
    rules: createRulesRepository(pool),
    sites: createSitesRepository(pool),
    status: createStatusRepository(pool),
    users: createUsersRepository(pool),
  };
  const r = repositories;

  const audit = createAuditService(r.audit);
  // SITE_TIME_ZONES is the registry's bootstrap (seeded by the sites plugin); parsed here so a bad zone stops the
  // start with every other configuration error.
  const siteSeed = parseSiteTimeZones(cfg.ALERT_TIME_ZONE, cfg.SITE_TIME_ZONES);
  const sites = createSitesService({ sites: r.sites, audit, defaultTimeZone: cfg.ALERT_TIME_ZONE });
  const refusedLogins = createRefusedLoginLog({
    audit,
    redis: deps.redis,
    prefix: cfg.QUEUE_PREFIX,
    windowSec: cfg.AUTH_AUDIT_WINDOW_SEC,
    onError: (err) => deps.log.error({ err }, 'could not write a refused-login audit summary'),
  });
  // Published by every hub (and the CLI); each hub's auth plugin listens and closes the streams concerned.
  const sessions = createSessionEvents({
    publisher: deps.redis,
    channel: `${cfg.QUEUE_PREFIX}:sessions`,
    onError: (err) => deps.log.warn({ err: err.message }, 'session change not understood'),
  });
  const auth = createAuthService({
    repo: r.auth,
    users: r.users,
    audit,
    refusedLogins,
    sessions,
    settings: {
      tokenKey: keys.tokenKey,
      tokenTtlSec: cfg.AUTH_TOKEN_TTL_SEC,
      refreshTtlSec: cfg.AUTH_REFRESH_TTL_SEC,
      userMaxFailures: cfg.AUTH_USER_MAX_FAILURES,
      ipMaxFailures: cfg.AUTH_IP_MAX_FAILURES,
      failureWindowSec: cfg.AUTH_FAILURE_WINDOW_SEC,
      knownIpDays: cfg.AUTH_KNOWN_IP_DAYS,
      concurrentUser: cfg.AUTH_LOGIN_CONCURRENT_USER,
      concurrentIp: cfg.AUTH_LOGIN_CONCURRENT_IP,
      pairFreeFailures: cfg.AUTH_PAIR_FREE_FAILURES,
      pairDelayMaxSec: cfg.AUTH_PAIR_DELAY_MAX_SEC,
      envAgentTokens: parseAgentTokens(cfg.AGENT_TOKENS),
    },
  });
  const rules = createRulesService({
    repo: r.rules,
    audit,
    announce: async () => {
      await deps.redis.publish(rulesChannel(cfg), String(Date.now()));
    },
  });
  const status = createStatusService({
    pool,
    repo: r.status,
    cameras: r.cameras,
    bus,
    staleMs: cfg.HEALTH_STALE_SEC * 1000,
  });

  // Camera last-seen/last-event touches of event messages, folded in memory and written every
  // INGEST_TOUCH_FLUSH_MS by the ingest plugin (0: inside each batch transaction).
  const eventTouches =
    cfg.INGEST_TOUCH_FLUSH_MS > 0 ? new CameraTouchBuffer((touches) => r.ingest.touchCameras(touches)) : undefined;
  /** Followers of a committed batch, in order (ingest/after-commit.ts; wired by its plugin). */
  const afterCommit: AfterCommitFollower[] = [];

  // Notifications. loadConfig has already checked every setting used here (webhook pair, allowed addresses, CA file).
  const channels = createChannels({
    timeoutMs: cfg.WEBHOOK_TIMEOUT_MS,
    guard: createAddressGuard(cfg.WEBHOOK_ALLOWED_ADDRESSES),
    telegramApiUrl: cfg.TELEGRAM_API_URL,
    zaloApiUrl: cfg.ZALO_API_URL,
    zaloOauthUrl: cfg.ZALO_OAUTH_URL,
    zaloZnsUrl: cfg.ZALO_ZNS_URL,
    smtpCa: cfg.SMTP_CA_FILE ? readFileSync(cfg.SMTP_CA_FILE, 'utf8') : undefined,
  });
  // One box for every secret kept in the database: notification targets' and camera passwords.
  const secretBox = createSecretBox(keys.secretsKey);
  const targetSecrets = createTargetSecrets(secretBox, r.notify, channels);
  const notifyJobs = deps.queues ? createNotifyJobs(deps.queues.notify) : noNotifyQueue;
  const notifier = createNotifier({
    repo: r.notify,
    channels,
    secrets: targetSecrets,
    enqueue: notifyJobs.enqueue,
    scheduleDigest: notifyJobs.scheduleDigest,
    countInWindow: async (targetId, windowStart, ttlSec) => {
      const key = `${cfg.QUEUE_PREFIX}:notify-rate:${targetId}:${windowStart}`;
      const [[, n]] = (await deps.redis.multi().incr(key).expire(key, ttlSec).exec()) as [[Error | null, number]];
      return n;
    },
    globalWebhook: cfg.WEBHOOK_URL && cfg.WEBHOOK_SECRET ? { url: cfg.WEBHOOK_URL, secret: cfg.WEBHOOK_SECRET } : null,
    zoneOf: (site) => sites.timeZoneOf(site),
    siteName: (site) => sites.nameOf(site),
    consoleUrl: cfg.CONSOLE_URL ?? null,
    readSnapshot: async (ref) => {
      const file = await snapshots.open(ref);
      if (!file || file.size > cfg.SNAPSHOT_MAX_BYTES) return null;
      const chunks: Buffer[] = [];
      for await (const c of file.stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    failureLimit: cfg.NOTIFY_FAILURE_LIMIT,
  });

  const rateLimiter = createRateLimiter(deps.redis, cfg.QUEUE_PREFIX);
  const media = createMediaService({
    repo: r.media,
    snapshots,
    clips: clipStore,
    rateLimiter,
    limits: {
      snapshot: {
        bytesPerDay: cfg.MEDIA_SNAPSHOT_SITE_MB_PER_DAY * 1024 * 1024,
        perMinute: cfg.MEDIA_SNAPSHOT_SITE_PER_MIN,
      },
      clip: { bytesPerDay: cfg.MEDIA_CLIP_SITE_MB_PER_DAY * 1024 * 1024, perMinute: cfg.MEDIA_CLIP_SITE_PER_MIN },
    },
    sweepAfterHours: cfg.MEDIA_SWEEP_AFTER_HOURS,
    batch: cfg.RETENTION_BATCH,
  });

  const services = {
    alerts: createAlertsService({
      pool,
      repo: r.alerts,
      rules,
      bus,
      zoneOf: (site) => sites.timeZoneOf(site),
      defaultEscalationSec: cfg.ALERT_ESCALATION_MIN * 60,
    }),
    audit,
    auth,
    cameras: createCamerasService({ cameras: r.cameras, health: r.health }),
    clips: createClipsService({
      repo: r.clips,
      store: clipStore,
      audit,
      media,
      quotaBytes: cfg.CLIP_SITE_QUOTA_BYTES,
      views: createViewWindows(deps.redis, cfg.QUEUE_PREFIX),
      viewWindowSec: cfg.CLIP_VIEW_AUDIT_WINDOW_SEC,
    }),
    events: createEventsService(r.events),
    exports: createExportsService({
      repo: r.exports,
      audit,
      snapshots,
      clips: clipStore,
      keys,
      dir: cfg.EXPORT_DIR,
      maxEvents: cfg.EXPORT_MAX_EVENTS,
    }),
    notifier,
    notifyTargets: createTargetsService({
      repo: r.notify,
      channels,
      secrets: targetSecrets,
      audit,
      testTimeoutMs: cfg.WEBHOOK_TIMEOUT_MS + 5000,
    }),
    ingest: createIngestService({
      pool,
      repo: r.ingest,
      eventTouches,
      metrics,
      alertEventTypes: async () => alertEventTypes(await rules.current()),
      afterStore: runAfterCommit(afterCommit, deps.log),
    }),
    retention: createRetentionService({
      repo: r.retention,
      auditRepo: r.audit,
      authRepo: r.auth,
      healthRepo: r.status,
      audit,
      snapshots,
      clips: { repo: r.clips, store: clipStore },
      settings: {
        eventsDays: cfg.RETENTION_EVENTS_DAYS,
        snapshotsDays: cfg.RETENTION_SNAPSHOTS_DAYS,
        clipsDays: cfg.RETENTION_CLIPS_DAYS,
        auditDays: cfg.RETENTION_AUDIT_DAYS,
        attemptsKeepSec: Math.max(cfg.AUTH_FAILURE_WINDOW_SEC, cfg.AUTH_KNOWN_IP_DAYS * 86_400),
        rejectionsDays: cfg.RETENTION_REJECTIONS_DAYS,
        batch: cfg.RETENTION_BATCH,
        healthDays: cfg.HEALTH_RETENTION_DAYS,
        healthBatch: cfg.HEALTH_RETENTION_BATCH,
      },
    }),
    media,
    rateLimiter,
    refusedLogins,
    // Camera passwords are sealed like notification targets' secrets: the same box, the same hub-derived key.
    registry: createRegistryService({ pool, repo: r.registry, box: secretBox, audit }),
    rejections: createRejectionsService({ repo: r.rejections, topicRoot: cfg.MQTT_TOPIC_ROOT }),
    reports: createReportsService({ reports: r.reports }),
    rules,
    sites,
    status,
    sessions,
    users: createUsersService({ users: r.users, auth: r.auth, audit, sessions }),
  };

  return {
    config: cfg,
    keys,
    bus,
    snapshots,
    clipStore,
    eventTouches,
    afterCommit,
    siteSeed,
    repositories,
    services,
  };
}

export type Container = ReturnType<typeof buildContainer>;
export type Services = Container['services'];
