import { Queue, Worker } from 'bullmq';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { AlertChanges } from './alert-changes.js';
import { createAlertsRepository } from './alerts.repository.js';
import { type AlertsService, createAlertsService } from './alerts.service.js';
import { createRulesRepository } from './rules.repository.js';
import { createRulesService, type RulesService } from './rules.service.js';
import { siteTimeZones } from './time-zones.js';

declare module 'fastify' {
  interface FastifyInstance {
    alerts: {
      service: AlertsService;
      rules: RulesService;
      /** Alert changes made by this process (live feed, notifications). */
      changes: AlertChanges;
      /** Runs one tick now: health conditions, escalation, pruning (tests, operators). */
      tick: () => Promise<void>;
      /** Resolves when every evaluation started so far has finished (tests, shutdown). */
      idle: () => Promise<void>;
    };
  }
}

export const ALERTS_QUEUE = 'alerts';
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
    const zoneOf = siteTimeZones(cfg.ALERT_TIME_ZONE, cfg.SITE_TIME_ZONES);
    const work = opts.work ?? true;

    // Rule changes reach every hub's in-memory copy through Redis pub/sub.
    const rulesChannel = `${cfg.QUEUE_PREFIX}:alert-rules-changed`;
    const subscriber: Redis = app.redisConnection();
    const rules = createRulesService({
      repo: createRulesRepository(app.pg),
      announce: async () => {
        await app.redis.publish(rulesChannel, String(Date.now()));
      },
    });
    await subscriber.subscribe(rulesChannel);
    subscriber.on('message', (channel) => {
      if (channel === rulesChannel) rules.invalidate();
    });

    const changes = new AlertChanges();
    const service = createAlertsService({
      pool: app.pg,
      repo: createAlertsRepository(),
      rules,
      changes,
      zoneOf,
      defaultEscalationSec: cfg.ALERT_ESCALATION_MIN * 60,
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
    app.bus.on('events.stored', (events) => enqueue('events', () => service.evaluateEvents(events)));
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
    app.bus.on('camera.status', healthChanged);
    app.bus.on('agent.state', healthChanged);

    const tick = async () => {
      await service.evaluateHealth();
      const escalated = await service.escalate();
      if (escalated.length) app.log.info({ escalated: escalated.length }, 'alerts escalated');
      await service.pruneCandidates();
    };

    const alertsQueue = new Queue(ALERTS_QUEUE, { connection: app.redisConnection(), prefix: cfg.QUEUE_PREFIX });
    alertsQueue.on('error', (err) => app.log.warn({ err: err.message }, 'alerts queue error'));
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
      service,
      rules,
      changes,
      tick,
      idle: async () => {
        while (pending > 0) await chain;
      },
    });

    app.addHook('onClose', async () => {
      await Promise.all(workers.map((w) => w.close()));
      await chain;
      await alertsQueue.close();
      await subscriber.quit().catch(() => subscriber.disconnect());
    });
  },
  { name: 'alerts', dependencies: ['config', 'pg', 'redis', 'services'] },
);
