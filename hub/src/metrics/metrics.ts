import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per hub instance (tests run several in one process), exposed at /metrics. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'camhub_process_' });
  const m = {
    registry,
    received: new Counter({
      name: 'camhub_ingest_messages_received_total',
      help: 'MQTT messages received by this hub process',
      registers: [registry],
    }),
    accepted: new Counter({
      name: 'camhub_ingest_messages_accepted_total',
      help: 'Messages that passed validation, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'camhub_ingest_messages_rejected_total',
      help: 'Messages refused, by reason (each is kept at /api/v1/ingest/rejections)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'camhub_ingest_events_duplicate_total',
      help: 'Events whose id was already stored (redelivery or replay)',
      registers: [registry],
    }),
    stored: new Counter({
      name: 'camhub_ingest_events_stored_total',
      help: 'Events stored for the first time',
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'camhub_ingest_batch_size',
      help: 'Messages per ingest batch written to PostgreSQL',
      buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000],
      registers: [registry],
    }),
    insertSeconds: new Histogram({
      name: 'camhub_ingest_insert_duration_seconds',
      help: 'Time to write one batch to PostgreSQL (one transaction)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    persistErrors: new Counter({
      name: 'camhub_ingest_queue_errors_total',
      help: 'Failed attempts to queue a batch in Redis (retried; messages stay unacknowledged meanwhile)',
      registers: [registry],
    }),
    pendingAcks: new Gauge({
      name: 'camhub_ingest_pending_acks',
      help: 'MQTT messages received and not yet acknowledged (not yet durable)',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'camhub_ingest_queue_depth',
      help: 'Ingest batches waiting or active in the BullMQ queue',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
  };
  return m;
}
export type HubMetrics = ReturnType<typeof createMetrics>;
