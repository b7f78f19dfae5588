import type { Queue } from 'bullmq';
import fp from 'fastify-plugin';
import type { MqttClient } from 'mqtt';
import { INGEST_QUEUE } from '../plugins/queues.js';
import { QueueBackpressure } from './backpressure.js';
import { startIngestWorker } from './batch-queue.js';
import { IngestBatcher } from './batcher.js';
import type { IngestService } from './ingest.service.js';
import type { IngestBatch } from './ingest-types.js';
import { MqttSource } from './mqtt-source.js';
import { isPostgresUnavailable } from './postgres-availability.js';
import { PostgresWatch } from './postgres-watch.js';

declare module 'fastify' {
  interface FastifyInstance {
    ingest: {
      mqtt: MqttClient | null;
      queue: Queue<IngestBatch>;
      service: IngestService;
      /** Seals the open batch and waits until every received message is queued (tests, shutdown). */
      drain: () => Promise<void>;
    };
  }
}

export interface IngestPluginOptions {
  /** Subscribe to MQTT and queue batches (default true). */
  subscribe?: boolean;
  /** Run the BullMQ worker that writes batches to PostgreSQL (default: INGEST_WORKER_CONCURRENCY > 0). */
  work?: boolean;
}

/**
 * Ingest, wired: MQTT source → batcher → BullMQ "ingest" queue (durable, then acknowledged) → worker → one
 * transaction per batch (ingest.service). Each piece is its own module; this file only connects them.
 */
export default fp<IngestPluginOptions>(
  async (app, opts) => {
    const cfg = app.config;
    const { metrics, log } = app;
    const queue = app.queues.ingest;
    const service = app.container.services.ingest;
    const touches = app.container.eventTouches;
    const flushTouches = () =>
      touches?.flush().catch((err: Error) => log.warn({ err: err.message }, 'camera touches not written; retrying'));
    const touchTimer = touches ? setInterval(() => void flushTouches(), cfg.INGEST_TOUCH_FLUSH_MS).unref() : null;

    const pgWatch = new PostgresWatch({
      probe: () => app.pg.query('SELECT 1'),
      onBack: async () => {
        await queue.promoteJobs();
        log.info('PostgreSQL is back: waiting ingest batches released');
      },
      onError: (err) => log.warn({ err: err.message }, 'could not release waiting ingest batches'),
    });
    const worker =
      (opts.work ?? cfg.INGEST_WORKER_CONCURRENCY > 0)
        ? startIngestWorker({
            queueName: INGEST_QUEUE,
            connection: app.redisConnection(),
            prefix: cfg.QUEUE_PREFIX,
            concurrency: cfg.INGEST_WORKER_CONCURRENCY,
            // Run from onReady, below.
            autorun: false,
            write: (batch, batchId) => service.writeBatch(batch, batchId),
            onError: (err) => log.warn({ err: err.message }, 'ingest worker error'),
            onFailed: (err, attempts) => {
              log.warn({ err: err.message, attempts }, 'ingest batch failed; will retry');
              if (isPostgresUnavailable(err)) void pgWatch.watch();
            },
          })
        : null;

    const backpressure = new QueueBackpressure({
      counts: () => queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
      maxQueued: cfg.INGEST_MAX_QUEUED_BATCHES,
      onCounts: (c) => {
        for (const state of ['waiting', 'active', 'delayed'] as const) metrics.queueDepth.set({ state }, c[state] ?? 0);
      },
      onError: (err) => log.debug({ err: err.message }, 'queue depth refresh failed'),
    });
    backpressure.start();

    let source: MqttSource | null = null;
    const batcher = new IngestBatcher({
      maxMessages: cfg.INGEST_BATCH_MAX,
      maxWaitMs: cfg.INGEST_BATCH_MS,
      topicRoot: cfg.MQTT_TOPIC_ROOT,
      rejectionPayloadMaxBytes: cfg.REJECTION_PAYLOAD_MAX_BYTES,
      futureToleranceMs: cfg.INGEST_FUTURE_TOLERANCE_SEC * 1000,
      persist: async (batch) => {
        await queue.add('batch', batch);
      },
      onDurable: (generation, acks) => source?.released(generation, acks),
      onDecoded: (o) => {
        metrics.received.inc();
        if (o.ok) metrics.accepted.inc({ kind: o.kind });
        else metrics.rejected.inc({ reason: o.reason });
      },
      onPersistError: (err, attempt) => {
        metrics.persistErrors.inc();
        if (attempt === 1 || attempt % 20 === 0) log.warn({ err: err.message, attempt }, 'queueing batch failed');
      },
      admit: () => backpressure.admit(),
      // About 10 MB; at 15,000 events/s it covers the last several seconds, where concurrent copies collide.
      recentEventIds: 100_000,
      onRepeat: () => metrics.duplicates.inc(),
      concurrency: cfg.INGEST_PERSIST_CONCURRENCY,
    });
    if (opts.subscribe ?? true) {
      source = new MqttSource({
        config: cfg,
        log,
        onMessage: (topic, payload, qos, generation) => batcher.add(topic, payload, qos, generation),
        onClose: () => batcher.seal(),
        onPending: (n) => metrics.pendingAcks.set(n),
      });
    }

    app.decorate('ingest', { mqtt: source?.client ?? null, queue, service, drain: () => batcher.drain() });

    // Work is taken only once every plugin has loaded. The worker: a batch written before after-commit.plugin has
    // added its followers would get no status verdict and no live-feed announcement. MQTT: a hub restarted after a
    // crash finds its session full, and reading it while the other plugins still load made the start compete with
    // the catch-up (MqttSource.start).
    app.addHook('onReady', async () => {
      worker?.run().catch((err: Error) => log.error({ err: err.message }, 'ingest worker stopped'));
      source?.start();
    });

    app.addHook('onClose', async () => {
      backpressure.stop();
      pgWatch.stop();
      if (source) {
        // Make what we already took durable so it is acknowledged before we go.
        source.stopTaking();
        await Promise.race([batcher.drain(), new Promise((r) => setTimeout(r, 5000))]);
        batcher.stop();
        await source.end().catch((err: Error) => log.warn({ err: err.message }, 'mqtt end failed'));
      } else batcher.stop();
      if (worker) await worker.close();
      if (touchTimer) clearInterval(touchTimer);
      await flushTouches();
    });
  },
  { name: 'ingest', dependencies: ['config', 'pg', 'redis', 'queues'] },
);
