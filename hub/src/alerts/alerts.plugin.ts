import { Worker } from 'bullmq';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { rulesChannel } from '../container.js';
import { ALERTS_QUEUE } from '../plugins/queues.js';
import { ALERTS_TICK, EVALUATE_BATCH, type EvaluateBatchJob, queueAlertEvaluations } from './alert-jobs.js';

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

/** An outbox row older than this has lost its job (or its job failed for good): the tick queues it again. */
const OWED_AFTER_MS = 60_000;

/**
 * Alerts (notifications: notify/notify.plugin.ts). Each committed batch's new events are evaluated by an
 * `evaluate-batch` job of the `alerts` BullMQ queue, keyed by the batch id and backed by the batch's outbox row
 * (alert-jobs.ts): durable across a crash, done once across hubs. Periodic work (escalation, health conditions that
 * must last X minutes, owed evaluations) runs as a job scheduler, once per tick whatever the number of hubs.
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

    // Status and agent changes come in bursts (a site going away): one health evaluation covers them all. Health is
    // also evaluated on every tick, so an evaluation lost with this process is made up within ALERT_TICK_SEC.
    let health: Promise<void> = Promise.resolve();
    let healthQueued = false;
    const healthChanged = () => {
      if (healthQueued) return;
      healthQueued = true;
      health = health
        .then(async () => {
          healthQueued = false;
          await service.evaluateHealth();
        })
        .catch((err: Error) => app.log.error({ err }, 'health alert evaluation failed'));
    };
    bus.on('camera.status', healthChanged);
    bus.on('agent.state', healthChanged);

    const alertsQueue = app.queues.alerts;
    const tick = async () => {
      await service.evaluateHealth();
      const escalated = await service.escalate();
      if (escalated.length) app.log.info({ escalated: escalated.length }, 'alerts escalated');
      await service.pruneCandidates();
      // Evaluations whose job was lost (Redis flushed) or failed for good: queued again under the same id.
      const owed = await service.owedBatches(new Date(Date.now() - OWED_AFTER_MS));
      if (owed.length) {
        app.log.warn({ batches: owed.length }, 'alert evaluations owed: queued again');
        await queueAlertEvaluations(alertsQueue, owed);
      }
    };

    const workers: Worker[] = [];
    if (work) {
      await alertsQueue.upsertJobScheduler(
        'alerts-tick',
        { every: cfg.ALERT_TICK_SEC * 1000 },
        { name: ALERTS_TICK, opts: { removeOnComplete: true, removeOnFail: 100 } },
      );
      const tickWorker = new Worker<EvaluateBatchJob | undefined>(
        ALERTS_QUEUE,
        async (job) => {
          if (job.name === EVALUATE_BATCH) return service.evaluateBatch((job.data as EvaluateBatchJob).batchId);
          return tick();
        },
        { connection: app.redisConnection(), prefix: cfg.QUEUE_PREFIX, concurrency: 1 },
      );
      tickWorker.on('error', (err) => app.log.warn({ err: err.message }, 'alerts worker error'));
      workers.push(tickWorker);
      tickWorker.on('failed', (job, err) => app.log.warn({ err: err.message, job: job?.name }, 'alerts job failed'));
    }

    app.decorate('alerts', {
      tick,
      idle: async () => {
        // Committed batches first (their followers queue the evaluations), then the evaluations themselves.
        for (;;) {
          const ingest = await app.queues.ingest.getJobCounts('waiting', 'active', 'prioritized');
          const jobs = await alertsQueue.getJobs(['waiting', 'active', 'prioritized', 'delayed']);
          const owed = (ingest.waiting ?? 0) + (ingest.active ?? 0) + (ingest.prioritized ?? 0);
          if (owed === 0 && !jobs.some((j) => j?.name === EVALUATE_BATCH)) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        while (healthQueued) await health;
        await health;
      },
    });

    app.addHook('onClose', async () => {
      await Promise.all(workers.map((w) => w.close()));
      await health;
      await subscriber.quit().catch(() => subscriber.disconnect());
    });
  },
  { name: 'alerts', dependencies: ['config', 'redis', 'queues'] },
);
