import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Camera statuses, each always exported (0 when none) so an alert on one never sees a missing series. */
export const CAMERA_STATUSES = ['online', 'degraded', 'offline', 'unknown'] as const;

/** One registry per hub instance (tests run several in one process), exposed at /metrics. */
export function createMetrics() {
  const registry = new Registry();
  // The client's own names (process_cpu_seconds_total, nodejs_eventloop_lag_seconds, …): stock Node.js dashboards
  // query exactly these; the `job`/`instance` labels Prometheus adds already tell the hub from other processes.
  collectDefaultMetrics({ register: registry });
  let countCameras: (() => Promise<Map<string, number> | null>) | null = null;
  const m = {
    registry,
    /** Where the camera gauge reads its counts at each scrape (set once the database is there). */
    countCamerasWith(fn: () => Promise<Map<string, number> | null>) {
      countCameras = fn;
    },
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by route template (never the concrete path), method and status class',
      labelNames: ['method', 'route', 'status_class'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    cameras: new Gauge({
      name: 'camhub_cameras',
      help: 'Cameras by current status, read from PostgreSQL at each scrape (absent while it does not answer)',
      labelNames: ['status'] as const,
      registers: [registry],
      async collect() {
        if (!countCameras) return;
        const counts = await countCameras();
        // No figure rather than a stale one when the database does not answer; the rest of the scrape still goes out.
        this.reset();
        if (!counts) return;
        for (const status of new Set([...CAMERA_STATUSES, ...counts.keys()])) {
          this.set({ status }, counts.get(status) ?? 0);
        }
      },
    }),
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
