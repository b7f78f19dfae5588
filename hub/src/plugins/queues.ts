import { Queue } from 'bullmq';
import fp from 'fastify-plugin';
import type { IngestBatch } from '../ingest/ingest-types.js';
import { NOTIFY_BACKOFF, type NotifyJob } from '../notify/notify-jobs.js';

export const INGEST_QUEUE = 'ingest';
export const ALERTS_QUEUE = 'alerts';
export const MAINTENANCE_QUEUE = 'maintenance';
export const NOTIFY_QUEUE = 'notify';

export interface HubQueues {
  /** Batches of received messages, written to PostgreSQL by the ingest workers. */
  ingest: Queue<IngestBatch>;
  /** Alert evaluation of committed batches, and the periodic alert tick. */
  alerts: Queue;
  /** Periodic housekeeping: heartbeat sweep, health and data retention. */
  maintenance: Queue;
  /** Notification deliveries (retried with backoff) and the digests of rate-limited targets. */
  notify: Queue<NotifyJob>;
}

declare module 'fastify' {
  interface FastifyInstance {
    queues: HubQueues;
  }
}

/** The BullMQ queues, shared by every hub through Redis; each gets its own connection and closes with the app. */
export default fp(
  async (app) => {
    const cfg = app.config;
    const common = { prefix: cfg.QUEUE_PREFIX };
    const queues: HubQueues = {
      ingest: new Queue<IngestBatch>(INGEST_QUEUE, {
        ...common,
        connection: app.redisConnection(),
        defaultJobOptions: {
          // A batch is never given up: PostgreSQL being down is a reason to wait, not to drop events.
          attempts: 1_000_000,
          backoff: { type: 'capped' },
          removeOnComplete: true,
          removeOnFail: false,
        },
      }),
      alerts: new Queue(ALERTS_QUEUE, { ...common, connection: app.redisConnection() }),
      maintenance: new Queue(MAINTENANCE_QUEUE, { ...common, connection: app.redisConnection() }),
      notify: new Queue<NotifyJob>(NOTIFY_QUEUE, {
        ...common,
        connection: app.redisConnection(),
        defaultJobOptions: {
          attempts: cfg.WEBHOOK_ATTEMPTS,
          backoff: { type: NOTIFY_BACKOFF, delay: cfg.WEBHOOK_BACKOFF_MS },
          removeOnComplete: true,
          removeOnFail: { count: 1000 },
        },
      }),
    };
    for (const [name, q] of Object.entries(queues) as [string, Queue][]) {
      q.on('error', (err) => app.log.warn({ err: err.message, queue: name }, 'queue error'));
    }
    app.decorate('queues', queues);
    // Registered before every worker, so closed after them (Fastify closes plugins in reverse order).
    app.addHook('onClose', async () => {
      await Promise.all(Object.values(queues).map((q: Queue) => q.close()));
    });
  },
  { name: 'queues', dependencies: ['config', 'redis'] },
);
