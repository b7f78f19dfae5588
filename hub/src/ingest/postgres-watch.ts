export interface PostgresWatchOptions {
  /** One cheap query; rejects while PostgreSQL is unreachable. */
  probe: () => Promise<unknown>;
  /** Runs once PostgreSQL answers again (releases the batches waiting in backoff). */
  onBack: () => Promise<void>;
  onError?: (err: Error) => void;
  intervalMs?: number;
}

/**
 * While PostgreSQL is down, failed batches back off up to 30 s each, so without this the hub would sit idle for up to
 * that long after PostgreSQL is back. This probes it instead and calls `onBack` the moment it answers: catch-up
 * starts within one probe interval of the outage ending. One watch at a time, however many batches fail.
 */
export class PostgresWatch {
  private watching = false;
  private stopped = false;

  constructor(private readonly opts: PostgresWatchOptions) {}

  get active(): boolean {
    return this.watching;
  }

  /** Starts watching unless a watch already runs; resolves when it ends (PostgreSQL back, or stopped). */
  async watch(): Promise<void> {
    if (this.watching || this.stopped) return;
    this.watching = true;
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, this.opts.intervalMs ?? 500));
        if (this.stopped) return;
        const back = await this.opts.probe().then(
          () => true,
          () => false,
        );
        if (back) break;
      }
      await this.opts.onBack();
    } catch (err) {
      this.opts.onError?.(err as Error);
    } finally {
      this.watching = false;
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
