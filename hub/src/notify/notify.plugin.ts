import { UnrecoverableError, Worker } from 'bullmq';
import fp from 'fastify-plugin';
import { NOTIFY_QUEUE } from '../plugins/queues.js';
import { DeliveryError } from './channel.js';
import type { NotifyJob } from './notify-jobs.js';

/**
 * Notifications (the notifier and targets services are built in container.ts): every alert change becomes
 * deliveries to its targets, queued on the `notify` BullMQ queue; this plugin hands the changes to the notifier and
 * runs the worker, which retries with backoff and sends the digests of rate-limited targets.
 */
export default fp<{ work?: boolean }>(
  async (app, opts) => {
    const cfg = app.config;
    const { notifier, notifyTargets } = app.container.services;

    // Targets saved by hubs older than their sealing keep a webhook's secret or a URL's password in clear: sealed
    // now, with the hub key (which SQL migrations do not have). Idempotent, so every start runs it.
    const legacy = await notifyTargets.sealLegacy();
    if (legacy.sealed.length) app.log.info({ targets: legacy.sealed }, 'sealed secrets kept in clear by older hubs');
    for (const f of legacy.failed) app.log.error({ target: f.id, err: f.error }, "could not seal a target's secrets");

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

    app.addHook('onClose', async () => {
      await worker?.close();
    });
  },
  { name: 'notify', dependencies: ['config', 'redis', 'queues'] },
);
