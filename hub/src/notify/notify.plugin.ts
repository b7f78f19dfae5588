import { readFileSync } from 'node:fs';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import fp from 'fastify-plugin';
import { ConfigError } from '../errors.js';
import { createAddressGuard } from './address-guard.js';
import { DeliveryError } from './channel.js';
import { createChannels } from './channels.js';
import { createNotifier, type Notifier } from './notifier.service.js';
import { createNotifyRepository } from './notify.repository.js';
import { createSecretBox } from './secrets.js';
import { createTargetSecrets } from './target-secrets.js';
import { createTargetsService, type TargetsService } from './targets.service.js';

declare module 'fastify' {
  interface FastifyInstance {
    notify: { notifier: Notifier; targets: TargetsService };
  }
}

export const NOTIFY_QUEUE = 'notify';
/** Our own backoff: exponential from WEBHOOK_BACKOFF_MS, unless the service named its wait (Telegram's retry_after). */
const BACKOFF_TYPE = 'camhub-notify';

type NotifyJob =
  | { kind?: 'deliver'; deliveryId: string }
  | { kind: 'digest'; targetId: string; windowStart: number; windowEnd: number };

/**
 * Notifications: every alert change becomes deliveries to its targets, queued on the `notify` BullMQ queue, which
 * retries with backoff; digests of rate-limited targets run as delayed jobs on the same queue.
 */
export default fp<{ work?: boolean }>(
  async (app, opts) => {
    const cfg = app.config;
    const problems: string[] = [];
    if (Boolean(cfg.WEBHOOK_URL) !== Boolean(cfg.WEBHOOK_SECRET))
      problems.push('WEBHOOK_URL and WEBHOOK_SECRET: set both or neither');
    let smtpCa: string | undefined;
    if (cfg.SMTP_CA_FILE) {
      try {
        smtpCa = readFileSync(cfg.SMTP_CA_FILE, 'utf8');
      } catch (err) {
        problems.push(`SMTP_CA_FILE: cannot read ${cfg.SMTP_CA_FILE} (${(err as Error).message})`);
      }
    }
    if (problems.length) throw new ConfigError(problems);
    const guard = createAddressGuard(cfg.WEBHOOK_ALLOWED_ADDRESSES);
    const { sites } = app.container.services;
    const zoneOf = (site: string) => sites.timeZoneOf(site);
    const nameOf = (site: string) => sites.nameOf(site);

    const repo = createNotifyRepository(app.pg);
    const channels = createChannels({
      timeoutMs: cfg.WEBHOOK_TIMEOUT_MS,
      guard,
      telegramApiUrl: cfg.TELEGRAM_API_URL,
      zaloApiUrl: cfg.ZALO_API_URL,
      zaloOauthUrl: cfg.ZALO_OAUTH_URL,
      zaloZnsUrl: cfg.ZALO_ZNS_URL,
      smtpCa,
    });
    const secrets = createTargetSecrets(createSecretBox(app.container.keys.secretsKey), repo, channels);

    const queue = new Queue<NotifyJob>(NOTIFY_QUEUE, {
      connection: app.redisConnection(),
      prefix: cfg.QUEUE_PREFIX,
      defaultJobOptions: {
        attempts: cfg.WEBHOOK_ATTEMPTS,
        backoff: { type: BACKOFF_TYPE, delay: cfg.WEBHOOK_BACKOFF_MS },
        removeOnComplete: true,
        removeOnFail: { count: 1000 },
      },
    });
    queue.on('error', (err) => app.log.warn({ err: err.message }, 'notify queue error'));
    const rateKey = (targetId: string, windowStart: number) =>
      `${cfg.QUEUE_PREFIX}:notify-rate:${targetId}:${windowStart}`;

    const notifier = createNotifier({
      repo,
      channels,
      secrets,
      enqueue: async (items) => {
        await queue.addBulk(
          items.map((i) => ({
            name: 'deliver',
            data: { deliveryId: i.deliveryId },
            opts: i.delayMs ? { delay: i.delayMs } : {},
          })),
        );
      },
      countInWindow: async (targetId, windowStart, ttlSec) => {
        const key = rateKey(targetId, windowStart);
        const [[, n]] = (await app.redis.multi().incr(key).expire(key, ttlSec).exec()) as [[Error | null, number]];
        return n;
      },
      scheduleDigest: async (targetId, windowStart, windowEnd) => {
        // One job per target and window whatever the number of hubs: BullMQ refuses a second job with the same id.
        await queue.add(
          'digest',
          { kind: 'digest', targetId, windowStart, windowEnd },
          { jobId: `digest-${targetId}-${windowStart}`, delay: Math.max(0, windowEnd - Date.now()), attempts: 3 },
        );
      },
      globalWebhook:
        cfg.WEBHOOK_URL && cfg.WEBHOOK_SECRET ? { url: cfg.WEBHOOK_URL, secret: cfg.WEBHOOK_SECRET } : null,
      zoneOf,
      siteName: nameOf,
      consoleUrl: cfg.CONSOLE_URL ?? null,
      readSnapshot: async (ref) => {
        const file = await app.container.snapshots.open(ref);
        if (!file || file.size > cfg.SNAPSHOT_MAX_BYTES) return null;
        const chunks: Buffer[] = [];
        for await (const c of file.stream) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      },
      failureLimit: cfg.NOTIFY_FAILURE_LIMIT,
    });
    const targets = createTargetsService({
      repo,
      channels,
      secrets,
      audit: app.container.services.audit,
      testTimeoutMs: cfg.WEBHOOK_TIMEOUT_MS + 5000,
    });

    app.container.bus.on('alert.change', (c) => {
      notifier
        .onAlertChange(c)
        .catch((err: Error) => app.log.error({ err, alert: c.alert.id }, 'queueing notifications failed'));
    });

    let worker: Worker<NotifyJob> | null = null;
    if (opts.work ?? true) {
      worker = new Worker<NotifyJob>(
        NOTIFY_QUEUE,
        async (job) => {
          if (job.data.kind === 'digest') {
            await notifier.digest(job.data.targetId, job.data.windowStart, job.data.windowEnd);
            return;
          }
          const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          const r = await notifier.attempt(job.data.deliveryId, last);
          if (!r.error) return;
          // Throwing is how BullMQ schedules the next attempt (backoff below) or gives up.
          if (r.done) throw new UnrecoverableError(r.error.message);
          throw r.error;
        },
        {
          connection: app.redisConnection(),
          prefix: cfg.QUEUE_PREFIX,
          concurrency: 4,
          settings: {
            backoffStrategy: (attemptsMade, _type, err) =>
              err instanceof DeliveryError && err.retryAfterMs !== undefined
                ? err.retryAfterMs
                : Math.round(2 ** (attemptsMade - 1) * cfg.WEBHOOK_BACKOFF_MS),
          },
        },
      );
      worker.on('error', (err) => app.log.warn({ err: err.message }, 'notify worker error'));
    }

    app.decorate('notify', { notifier, targets });
    app.addHook('onClose', async () => {
      await worker?.close();
      await queue.close();
    });
  },
  { name: 'notify', dependencies: ['config', 'pg', 'redis'] },
);
