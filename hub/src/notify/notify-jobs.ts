import type { Queue } from 'bullmq';

/** A job of the `notify` queue: one delivery attempt, or the digest of a rate-limited target's window. */
export type NotifyJob =
  | { kind?: 'deliver'; deliveryId: string }
  | { kind: 'digest'; targetId: string; windowStart: number; windowEnd: number };

/** Our own backoff: exponential from WEBHOOK_BACKOFF_MS, unless the service named its wait (Telegram's retry_after). */
export const NOTIFY_BACKOFF = 'camhub-notify';

/** The notifier's side of the `notify` queue: what it puts in; the worker (notify.plugin.ts) takes it out. */
export function createNotifyJobs(queue: Queue<NotifyJob>) {
  return {
    async enqueue(items: { deliveryId: string; delayMs?: number }[]): Promise<void> {
      await queue.addBulk(
        items.map((i) => ({
          name: 'deliver',
          data: { deliveryId: i.deliveryId },
          opts: i.delayMs ? { delay: i.delayMs } : {},
        })),
      );
    },
    async scheduleDigest(targetId: string, windowStart: number, windowEnd: number): Promise<void> {
      // One job per target and window whatever the number of hubs: BullMQ refuses a second job with the same id.
      await queue.add(
        'digest',
        { kind: 'digest', targetId, windowStart, windowEnd },
        { jobId: `digest-${targetId}-${windowStart}`, delay: Math.max(0, windowEnd - Date.now()), attempts: 3 },
      );
    },
  };
}
export type NotifyJobs = ReturnType<typeof createNotifyJobs>;
