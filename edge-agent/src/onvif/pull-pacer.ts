/**
 * Paces PullMessages for cameras that do not hold the request. A conforming camera keeps an empty pull open until
 * its Timeout; some answer at once with nothing, and pulling again straight away was 27,577 requests in 33 s
 * (issue 18). So: never two pulls of one camera less than MIN_PULL_INTERVAL_MS apart, and while pulls keep coming
 * back empty early, wait longer each time (doubling up to MAX_EMPTY_WAIT_MS, bounded by the pull timeout so such a
 * camera is asked at least as often as a holding one would answer). Events are not lost by waiting: the camera
 * queues them on the subscription until the next pull.
 */
export const MIN_PULL_INTERVAL_MS = 100;
export const MAX_EMPTY_WAIT_MS = 1000;

export class PullPacer {
  private emptyEarly = 0;

  /**
   * The wait before the next pull, given the last one: when it started and ended (ms), the Timeout it asked for,
   * and whether it brought messages.
   */
  next(startedAt: number, endedAt: number, requestedTimeoutMs: number, gotMessages: boolean): number {
    const elapsed = endedAt - startedAt;
    // Held for at least half the timeout: the camera long-polls as it should.
    const early = elapsed < requestedTimeoutMs / 2;
    if (gotMessages || !early) this.emptyEarly = 0;
    else this.emptyEarly += 1;
    const minGap = Math.max(0, MIN_PULL_INTERVAL_MS - elapsed);
    if (this.emptyEarly === 0) return minGap;
    const cap = Math.max(MIN_PULL_INTERVAL_MS, Math.min(MAX_EMPTY_WAIT_MS, requestedTimeoutMs));
    const wait = Math.min(cap, MIN_PULL_INTERVAL_MS * 2 ** Math.min(this.emptyEarly - 1, 10));
    return Math.max(minGap, wait);
  }

  /** Empty early pulls in a row (shown in logs). */
  get streak(): number {
    return this.emptyEarly;
  }

  reset(): void {
    this.emptyEarly = 0;
  }
}
