import { type ConnectionOptions, Worker } from 'bullmq';
import type { IngestBatch } from './ingest-types.js';

/** Retry delay of a batch PostgreSQL refused: 100 ms doubling, capped at 30 s (PostgreSQL down is waited out). */
export function ingestBackoff(attemptsMade: number): number {
  return Math.min(30_000, 100 * 2 ** Math.min(attemptsMade, 9));
}

export interface IngestWorkerOptions {
  queueName: string;
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  /** Writes one batch in one transaction (ingest.service); `batchId` is stable across retries of the job. */
  write: (batch: IngestBatch, batchId: string) => Promise<unknown>;
  /** A batch failed; it will be retried. */
  onFailed?: (err: Error, attempts: number | undefined) => void;
  onError?: (err: Error) => void;
  /** Take jobs at once (default true); false: only once `worker.run()` is called. */
  autorun?: boolean;
}

/**
 * The worker side of the ingest queue: each job is one batch, written in one transaction. Jobs are never given up
 * (attempts in the queue's defaults), a stalled job of a killed hub is taken over once its lock lapses, and batches
 * are idempotent (events by id, upserts forward in time), so writing one again is harmless.
 */
export function startIngestWorker(o: IngestWorkerOptions): Worker<IngestBatch> {
  const worker = new Worker<IngestBatch>(o.queueName, async (job) => o.write(job.data, `ingest-${job.id}`), {
    connection: o.connection,
    prefix: o.prefix,
    concurrency: Math.max(1, o.concurrency),
    lockDuration: 15_000,
    stalledInterval: 5_000,
    maxStalledCount: 1_000_000,
    settings: { backoffStrategy: ingestBackoff },
    autorun: o.autorun ?? true,
  });
  worker.on('error', (err) => o.onError?.(err));
  worker.on('failed', (job, err) => o.onFailed?.(err, job?.attemptsMade));
  return worker;
}
