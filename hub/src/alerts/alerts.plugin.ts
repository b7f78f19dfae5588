import { Worker } from 'bullmq';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { rulesChannel } from '../container.js';
import { ALERTS_QUEUE } from '../plugins/queues.js';

declare module 'fastify' {
  interface FastifyInstance {
    alerts: {
      /** Runs one tick now: health conditions, escalation, pruning (tests, operators). */
      tick: () => Promise<void>;
      /** Resolves when every evaluation started so far has finished (tests, shutdown). */
      idle: () => Promise<void>;
    };
  }
}

/** Batches waiting for rule evaluation in one process before new ones are dropped (and logged): a safety valve. */
const MAX_PENDING_EVALUATIONS = 500;

/**
 * Alerts (notifications: notify/notify.plugin.ts). Rules are evaluated after each stored batch, in the process that stored it, off the
 * ingest path: the batch is committed and acknowledged before evaluation starts, and a failure is logged, never
 * retried through ingest. Periodic work (escalation, health conditions that must last X minutes) runs as a BullMQ
 * job scheduler, once per tick whatever the number of hubs.
 */
export default fp<{ work?: boolean }>(
  async (app, opts) => {
    const cfg = app.config;
    const { alerts: service, rules } = app.container.services;
    const bus = app.container.bus;
    const work = opts.work ?? true;

    // Rule changes reach every hub's in-memory copy through Redis pub/sub.
    const channel = rulesChannel(cfg);
    const subscriber: Redis = app.redisConnection();
    await subscriber.subscribe(channel);
    subscriber.on('message', (ch) => {
      if (ch === channel) rules.invalidate();
    });

    // One evaluation at a time per process, in the order batches were stored.
    let chain: Promise<void> = Promise.resolve();
    let pending = 0;
    const enqueue = (what: string, fn: () => Promise<void>) => {
      if (pending >= MAX_PENDING_EVALUATIONS) {
        app.log.error({ what, pending }, 'alert evaluation is too far behind; skipping this batch');
        return;
      }
      pending += 1;
      chain = chain
        .then(fn)
        .catch((err: Error) => app.log.error({ err, what }, 'alert evaluation failed'))
        .finally(() => {
          pending -= 1;
        });
    };
    bus.on('events.stored', (events) => enqueue('events', () => service.evaluateEvents(events)));
    // Status and agent changes come in bursts (a site going away): one health evaluation covers them all.
    let healthQueued = false;
    const healthChanged = () => {
      if (healthQueued) return;
      healthQueued = true;
      enqueue('health', async () => {
        healthQueued = false;
        await service.evaluateHealth();
      });
    };
    bus.on('camera.status', healthChanged);
    bus.on('agent.state', healthChanged);

    const tick = async () => {
      await service.evaluateHealth();
      const escalated = await service.escalate();
      if (escalated.length) app.log.info({ escalated: escalated.length }, 'alerts escalated');
      await service.pruneCandidates();
    };

    const alertsQueue = app.queues.alerts;
    const workers: Worker[] = [];
    if (work) {
      await alertsQueue.upsertJobScheduler(
        'alerts-tick',
        { every: cfg.ALERT_TICK_SEC * 1000 },
        { name: 'alerts-tick', opts: { removeOnComplete: true, removeOnFail: 100 } },
      );
      const tickWorker = new Worker(ALERTS_QUEUE, tick, {
        connection: app.redisConnection(),
        prefix: cfg.QUEUE_PREFIX,
        concurrency: 1,
      });
      tickWorker.on('error', (err) => app.log.warn({ err: err.message }, 'alerts worker error'));
      workers.push(tickWorker);
      tickWorker.on('failed', (_job, err) => app.log.warn({ err: err.message }, 'alerts tick failed'));
    }

    app.decorate('alerts', {
      tick,
      idle: async () => {
        while (pending > 0) await chain;
      },
    });

    app.addHook('onClose', async () => {
      await Promise.all(workers.map((w) => w.close()));
      await chain;
      await subscriber.quit().catch(() => subscriber.disconnect());
    });
  },
  { name: 'alerts', dependencies: ['config', 'redis', 'queues'] },
);
