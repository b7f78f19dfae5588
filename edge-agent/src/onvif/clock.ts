/**
 * The camera's clock offset (camera − us), kept from two sources of different trust:
 * - GetSystemDateAndTime (measured at connect, every `clockCheckSec`, and after WS-Security refusals) is the
 *   baseline: whole seconds, so ±0.5 s, but the one answer ONVIF defines for this.
 * - PullMessages `CurrentTime` can refine it to milliseconds, but only within what the baseline allows: one device
 *   sent a CurrentTime 27 years off in every other answer (issue 18), which, adopted, dated events 2053 and made the
 *   next GetSystemDateAndTime look like a clock jump at every probe. So an estimate farther than
 *   CONSISTENT_WITHIN_MS from the baseline is ignored, and accepted ones are smoothed (median of the last few).
 * A disagreeing answer asks for a re-measure (a camera whose clock really jumped, e.g. after a reboot); the baseline
 * moves only by GetSystemDateAndTime, so one bad CurrentTime never moves it.
 */
export const CONSISTENT_WITHIN_MS = 1500;
const WINDOW = 9;

export type Observation = 'accepted' | 'ignored' | 'remeasure';

export class ClockOffset {
  private baseline: number | null = null;
  private readonly refinements: number[] = [];
  /** CurrentTime estimates ignored as inconsistent with the baseline (for logs and health). */
  ignored = 0;

  /** The best current offset, ms; null until measured. */
  get offsetMs(): number | null {
    if (this.baseline === null) return null;
    if (this.refinements.length === 0) return this.baseline;
    const sorted = [...this.refinements].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  }

  /** A GetSystemDateAndTime measurement. Returns the previous offset (to tell a jump). */
  measured(offsetMs: number): number | null {
    const previous = this.offsetMs;
    const moved = this.baseline === null || Math.abs(offsetMs - this.baseline) > CONSISTENT_WITHIN_MS;
    this.baseline = offsetMs;
    // Refinements taken against the old baseline say nothing about the new clock.
    if (moved) this.refinements.length = 0;
    else this.dropInconsistent();
    return previous;
  }

  /** A CurrentTime-derived estimate (`precise`: it carried milliseconds). */
  observe(estimateMs: number, precise: boolean): Observation {
    if (this.baseline === null) return 'ignored';
    if (Math.abs(estimateMs - this.baseline) > CONSISTENT_WITHIN_MS) {
      this.ignored += 1;
      return 'remeasure';
    }
    // Whole seconds do not beat the baseline; they only confirm it.
    if (!precise) return 'accepted';
    this.refinements.push(estimateMs);
    if (this.refinements.length > WINDOW) this.refinements.shift();
    return 'accepted';
  }

  private dropInconsistent(): void {
    const keep = this.refinements.filter((r) => Math.abs(r - this.baseline!) <= CONSISTENT_WITHIN_MS);
    this.refinements.length = 0;
    this.refinements.push(...keep);
  }
}
