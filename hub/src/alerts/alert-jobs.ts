import type { Queue } from 'bullmq';

/** The job of the `alerts` queue that evaluates one committed batch's new events (alert_outbox). */
export const EVALUATE_BATCH = 'evaluate-batch';
/** The periodic job: health conditions, escalation, pruning, and owed evaluations queued again. */
export const ALERTS_TICK = 'alerts-tick';

export interface EvaluateBatchJob {
  batchId: string;
}

/**
 * Queues evaluations keyed by batch id: BullMQ keeps one job per id, so a batch queued again (a retried ingest job,
 * the tick's sweep of owed batches) is evaluated once; the outbox row makes it once even across hubs.
 */
export async function queueAlertEvaluations(queue: Pick<Queue, 'addBulk'>, batchIds: string[]): Promise<void> {
  await queue.addBulk(
    batchIds.map((batchId) => ({
      name: EVALUATE_BATCH,
      data: { batchId } satisfies EvaluateBatchJob,
      opts: {
        jobId: batchId,
        attempts: 10,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        // Removed when it fails for good: its outbox row stays, and the tick queues it again.
        removeOnFail: true,
      },
    })),
  );
}
