import { createTopics, sharedFilter, TOPIC_KINDS } from '@camhub/shared';
import { type Queue, Worker } from 'bullmq';
import fp from 'fastify-plugin';
import mqtt, { type MqttClient } from 'mqtt';
import { AckGate } from './ack-gate.js';
import { IngestBatcher } from './batcher.js';
import type { IngestService } from './ingest.service.js';
import type { IngestBatch } from './ingest-types.js';
import { isPostgresUnavailable } from './postgres-availability.js';
import { INGEST_QUEUE } from '../plugins/queues.js';

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

export default fp<IngestPluginOptions>(
  async (app, opts) => {
    const cfg = app.config;
    const queue = app.queues.ingest;
    const service = app.container.services.ingest;
    const eventTouches = app.container.eventTouches;
    const flushTouches = async () => {
      await eventTouches
        ?.flush()
        .catch((err: Error) => app.log.warn({ err: err.message }, 'camera touches not written; next flush retries'));
    };
    const touchTimer = eventTouches ? setInterval(() => void flushTouches(), cfg.INGEST_TOUCH_FLUSH_MS) : null;
    touchTimer?.unref();

    let worker: Worker<IngestBatch> | null = null;
    if (opts.work ?? cfg.INGEST_WORKER_CONCURRENCY > 0) {
      worker = new Worker<IngestBatch>(INGEST_QUEUE, async (job) => service.writeBatch(job.data), {
        connection: app.redisConnection(),
        prefix: cfg.QUEUE_PREFIX,
        concurrency: Math.max(1, cfg.INGEST_WORKER_CONCURRENCY),
        // A hub killed mid-batch leaves its job "active"; another worker takes it over once the lock lapses.
        // Batches are idempotent, so a stalled batch is simply written again, however often that happens.
        lockDuration: 15_000,
        stalledInterval: 5_000,
        maxStalledCount: 1_000_000,
        settings: { backoffStrategy: (attemptsMade: number) => Math.min(30_000, 100 * 2 ** Math.min(attemptsMade, 9)) },
      });
      worker.on('error', (err) => app.log.warn({ err: err.message }, 'ingest worker error'));
      worker.on('failed', (job, err) => {
        app.log.warn({ err: err.message, attempts: job?.attemptsMade }, 'ingest batch failed; will retry');
        if (isPostgresUnavailable(err)) void watchPostgres();
      });
    }

    // While PostgreSQL is down, failed batches back off up to 30 s each, so without this the hub would sit idle for
    // up to that long after PostgreSQL is back. Probe it instead, and release every waiting batch the moment it
    // answers: catch-up starts within a probe interval of the outage ending.
    let watchingPostgres = false;
    const watchPostgres = async () => {
      if (watchingPostgres) return;
      watchingPostgres = true;
      try {
        for (;;) {
          await new Promise((r) => setTimeout(r, 500));
          if (closing) return;
          const back = await app.pg.query('SELECT 1').then(
            () => true,
            () => false,
          );
          if (back) break;
        }
        await queue.promoteJobs();
        app.log.info('PostgreSQL is back: waiting ingest batches released');
      } catch (err) {
        app.log.warn({ err: (err as Error).message }, 'could not release waiting ingest batches');
      } finally {
        watchingPostgres = false;
      }
    };

    // Backpressure: when PostgreSQL falls behind, stop acknowledging MQTT. The broker then holds messages in our
    // persistent session (bounded by the receive maximum we announce) instead of this process growing without bound.
    let depth = 0;
    const refreshDepth = async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      depth = (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0);
      app.metrics.queueDepth.set({ state: 'waiting' }, counts.waiting ?? 0);
      app.metrics.queueDepth.set({ state: 'active' }, counts.active ?? 0);
      app.metrics.queueDepth.set({ state: 'delayed' }, counts.delayed ?? 0);
    };
    const depthTimer = setInterval(() => {
      refreshDepth().catch((err: Error) => app.log.debug({ err: err.message }, 'queue depth refresh failed'));
    }, 250);
    depthTimer.unref();
    const admit = async () => {
      while (depth >= cfg.INGEST_MAX_QUEUED_BATCHES) {
        await new Promise((r) => setTimeout(r, 100));
        await refreshDepth();
      }
    };

    let closing = false;
    let client: MqttClient | null = null;
    let gate: AckGate | null = null;
    const batcher = new IngestBatcher({
      maxMessages: cfg.INGEST_BATCH_MAX,
      maxWaitMs: cfg.INGEST_BATCH_MS,
      topicRoot: cfg.MQTT_TOPIC_ROOT,
      rejectionPayloadMaxBytes: cfg.REJECTION_PAYLOAD_MAX_BYTES,
      persist: async (batch) => {
        await queue.add('batch', batch);
      },
      onDurable: (generation, acks) => {
        // Resume before releasing: a held message's PUBACK is queued in the gate only when its callback runs, and it
        // must be queued before the batch holding that message releases its count.
        if (heldCallbacks.length > 0 && (gate?.pending ?? 0) - acks <= resumeBelow) resumeReading();
        gate?.release(generation, acks);
        app.metrics.pendingAcks.set(gate?.pending ?? 0);
      },
      onDecoded: (o) => {
        app.metrics.received.inc();
        if (o.ok) app.metrics.accepted.inc({ kind: o.kind });
        else app.metrics.rejected.inc({ reason: o.reason });
      },
      onPersistError: (err, attempt) => {
        app.metrics.persistErrors.inc();
        if (attempt === 1 || attempt % 20 === 0) app.log.warn({ err: err.message, attempt }, 'queueing batch failed');
      },
      admit,
      // About 10 MB; at 15,000 events/s it covers the last several seconds, where concurrent copies collide.
      recentEventIds: 100_000,
      onRepeat: () => app.metrics.duplicates.inc(),
      concurrency: cfg.INGEST_PERSIST_CONCURRENCY,
    });

    // Memory bound that does not trust the broker: Mosquitto 2.0.11 stops honouring our receive maximum once
    // acknowledgements flow with a backlog queued (docs/performance.md) and sends tens of thousands of messages ahead
    // of their acknowledgements. Past the high-water mark we hold mqtt.js's per-message callback (`handleMessage`):
    // it then parses nothing more, its input stream stops draining, the socket is no longer read, and TCP flow control
    // holds the broker, which keeps the rest in our persistent session. Below the low-water mark reading goes on.
    // (Pausing the socket itself does not hold: the pipe into mqtt.js resumes it on its next 'drain'.)
    const pauseAbove = cfg.INGEST_MAX_PENDING > 0 ? cfg.INGEST_MAX_PENDING : cfg.MQTT_RECEIVE_MAXIMUM;
    const resumeBelow = Math.floor(pauseAbove / 2);
    let heldCallbacks: (() => void)[] = [];
    const resumeReading = () => {
      const callbacks = heldCallbacks;
      heldCallbacks = [];
      for (const cb of callbacks) cb();
    };
    if (opts.subscribe ?? true) {
      const topics = createTopics(cfg.MQTT_TOPIC_ROOT);
      client = mqtt.connect(cfg.MQTT_URL, {
        clientId: cfg.MQTT_CLIENT_ID,
        username: cfg.MQTT_USERNAME,
        password: cfg.MQTT_PASSWORD,
        protocolVersion: cfg.MQTT_PROTOCOL_VERSION === 4 ? 4 : 5,
        clean: false,
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
        // MQTT 3.1.1 has no properties: clean:false alone keeps the session, with no expiry and no flow control.
        properties:
          cfg.MQTT_PROTOCOL_VERSION === 4
            ? undefined
            : { sessionExpiryInterval: cfg.MQTT_SESSION_EXPIRY_SEC, receiveMaximum: cfg.MQTT_RECEIVE_MAXIMUM },
        resubscribe: true,
      });
      gate = new AckGate(client);
      // Every batch belongs to one connection: acknowledgements never cross a reconnect.
      client.on('close', () => {
        batcher.seal();
        // Never run a held callback of a closed connection: its PUBACK would be queued among the next connection's.
        heldCallbacks = [];
      });
      client.on('message', (topic, payload, packet) => {
        // While closing, take nothing new: its acknowledgement stays held, so the broker redelivers it later.
        if (closing) return;
        batcher.add(topic, payload, packet.qos, gate!.currentGeneration);
        app.metrics.pendingAcks.set(gate!.pending + 1);
      });
      client.handleMessage = (_packet, callback) => {
        // The PUBACK of this message is not in the gate yet (it is queued when the callback runs): hence + 1.
        if (gate!.pending + 1 > pauseAbove) heldCallbacks.push(() => callback());
        else callback();
      };
      client.on('error', (err) => app.log.warn({ err: err.message }, 'mqtt error'));
      client.on('connect', (connack) => {
        app.log.info({ sessionPresent: connack.sessionPresent }, 'mqtt connected');
        // Subscribing again on a present session is harmless and repairs a session the broker lost.
        // Events and health may be split across hubs (shared subscription); retained status and agent topics
        // are never delivered to shared subscriptions, so every hub reads those itself (upserts are idempotent).
        const share = (filter: string) => (cfg.MQTT_SHARE_GROUP ? sharedFilter(cfg.MQTT_SHARE_GROUP, filter) : filter);
        const subs: Record<string, { qos: 1 }> = {};
        for (const kind of TOPIC_KINDS) {
          const filter = topics.filters[kind];
          subs[kind === 'events' || kind === 'health' ? share(filter) : filter] = { qos: 1 };
        }
        client!.subscribe(subs, (err) => {
          if (err) app.log.error({ err: err.message }, 'mqtt subscribe failed');
        });
      });
    }

    app.decorate('ingest', {
      mqtt: client,
      queue,
      service,
      drain: () => batcher.drain(),
    });

    app.addHook('onClose', async () => {
      clearInterval(depthTimer);
      closing = true;
      if (client) {
        // Never unsubscribe: the persistent session must keep collecting messages while the hub is down.
        // Make what we already took durable so it is acknowledged before we go.
        const c = client;
        await Promise.race([batcher.drain(), new Promise((r) => setTimeout(r, 5000))]);
        batcher.stop();
        await c.endAsync().catch((err: Error) => app.log.warn({ err: err.message }, 'mqtt end failed'));
      } else batcher.stop();
      if (worker) await worker.close();
      if (touchTimer) clearInterval(touchTimer);
      await flushTouches();
    });
  },
  { name: 'ingest', dependencies: ['config', 'pg', 'redis', 'queues'] },
);
