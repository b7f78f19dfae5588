/** Job counts of the ingest queue by state, as BullMQ's `getJobCounts` returns them. */
export type QueueCounts = Partial<Record<'waiting' | 'active' | 'delayed' | 'prioritized', number>>;

export interface BackpressureOptions {
  /** Reads the queue's counts (one Redis round trip). */
  counts: () => Promise<QueueCounts>;
  /** Batches queued or in work at which new batches wait (INGEST_MAX_QUEUED_BATCHES). */
  maxQueued: number;
  /** Told every fresh reading (metrics). */
  onCounts?: (counts: QueueCounts) => void;
  onError?: (err: Error) => void;
  /** How often the depth is read in the background; and how often while a batch waits. */
  refreshMs?: number;
  waitMs?: number;
}

/**
 * Queue-depth backpressure: when PostgreSQL falls behind and the Redis queue grows past `maxQueued`, `admit()` holds
 * the next batch back. The batch is then not durable, so its messages are not acknowledged, so the broker stops
 * sending and keeps the rest in our persistent session instead of this process growing without bound.
 */
export class QueueBackpressure {
  private depthNow = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly refreshMs: number;
  private readonly waitMs: number;

  constructor(private readonly opts: BackpressureOptions) {
    this.refreshMs = opts.refreshMs ?? 250;
    this.waitMs = opts.waitMs ?? 100;
  }

  /** Batches waiting, active, delayed or prioritized at the last reading. */
  get depth(): number {
    return this.depthNow;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.refresh().catch((err: Error) => this.opts.onError?.(err));
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async refresh(): Promise<void> {
    const c = await this.opts.counts();
    this.depthNow = (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
    this.opts.onCounts?.(c);
  }

  /** Resolves once the queue is below its limit (at once if it already is). */
  async admit(): Promise<void> {
    while (this.depthNow >= this.opts.maxQueued) {
      await new Promise((r) => setTimeout(r, this.waitMs));
      await this.refresh();
    }
  }
}
