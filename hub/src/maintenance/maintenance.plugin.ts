import { type Queue, Worker } from 'bullmq';
import { MAINTENANCE_QUEUE } from '../plugins/queues.js';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    maintenance: { queue: Queue; runNow: (name: MaintenanceJob) => Promise<unknown> };
  }
}

export type MaintenanceJob =
  'health-sweep' | 'health-retention' | 'retention' | 'media-sweep' | 'event-partitions' | 'refused-logins';

/** Days of event partitions kept created ahead (migration 015): a week of hubs not running maintenance. */
const PARTITIONS_AHEAD_DAYS = 7;

/**
 * Periodic work that must run once per tick however many hubs there are: BullMQ job schedulers put one job in the
 * shared queue per interval, and whichever hub's worker takes it does it.
 */
export default fp<{ work?: boolean }>(
  async (app, opts) => {
    const cfg = app.config;
    const queue = app.queues.maintenance;

    const handlers: Record<MaintenanceJob, () => Promise<unknown>> = {
      'health-sweep': async () => {
        const changed = await app.container.services.status.sweep();
        if (changed > 0) app.log.info({ changed }, 'heartbeat sweep changed camera status');
        return changed;
      },
      'health-retention': () => app.container.services.retention.purgeHealth(),
      // Day partitions of events, created ahead (migration 015).
      'event-partitions': async () => {
        const created = await app.container.services.retention.ensureEventPartitions(PARTITIONS_AHEAD_DAYS);
        if (created > 0) app.log.info({ created }, 'event partitions created ahead');
        return created;
      },
      // Events, snapshots, the audit log and login housekeeping (hub/src/retention).
      retention: async () => {
        const result = await app.container.services.retention.run();
        app.log.info(result, 'retention run');
        return result;
      },
      // One audit summary per IP and ended window of refused logins, whichever hub refused them (auth/refused-logins.ts).
      'refused-logins': () => app.container.services.refusedLogins.flush(),
      // Uploads no event refers to (issue 19, finding 6; hub/src/media/media.service.ts).
      'media-sweep': async () => {
        const result = await app.container.services.media.sweep();
        if (result.deleted > 0) app.log.info(result, 'unreferenced uploads swept');
        return result;
      },
    };

    let worker: Worker | null = null;
    if (opts.work ?? true) {
      await queue.upsertJobScheduler('health-sweep', { every: cfg.HEALTH_SWEEP_SEC * 1000 }, { name: 'health-sweep' });
      await queue.upsertJobScheduler('health-retention', { every: 3600_000 }, { name: 'health-retention' });
      await queue.upsertJobScheduler('event-partitions', { every: 3600_000 }, { name: 'event-partitions' });
      await queue.upsertJobScheduler('retention', { every: cfg.RETENTION_INTERVAL_SEC * 1000 }, { name: 'retention' });
      // A summary reaches the trail within a quarter window (at most a minute) after its window ends.
      await queue.upsertJobScheduler(
        'refused-logins',
        { every: Math.min(60, Math.max(5, cfg.AUTH_AUDIT_WINDOW_SEC / 4)) * 1000 },
        { name: 'refused-logins' },
      );
      await queue.upsertJobScheduler(
        'media-sweep',
        { every: cfg.MEDIA_SWEEP_INTERVAL_SEC * 1000 },
        { name: 'media-sweep' },
      );
      worker = new Worker(
        MAINTENANCE_QUEUE,
        async (job) => {
          const handler = handlers[job.name as MaintenanceJob];
          if (!handler) throw new Error(`no handler for maintenance job ${job.name}`);
          return handler();
        },
        { connection: app.redisConnection(), prefix: cfg.QUEUE_PREFIX, concurrency: 1 },
      );
      worker.on('error', (err) => app.log.warn({ err: err.message }, 'maintenance worker error'));
      worker.on('failed', (job, err) => app.log.warn({ job: job?.name, err: err.message }, 'maintenance job failed'));
    }

    app.decorate('maintenance', { queue, runNow: (name: MaintenanceJob) => handlers[name]() });
    app.addHook('onClose', async () => {
      if (worker) await worker.close();
    });
  },
  { name: 'maintenance', dependencies: ['config', 'queues'] },
);
