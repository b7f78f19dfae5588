import type { EventState, EventType } from '@camhub/shared';

/** A stream-sourced event to store: what the agent saw in the video. */
export interface PictureEventDraft {
  type: EventType;
  state: EventState;
  topic: string;
  at: Date;
  data: Record<string, string | number>;
}

type Condition = 'frozen' | 'black';

const EVENTS: Record<Condition, { type: EventType; topic: string; data: Record<string, string> }> = {
  // The camera keeps sending packets, but no picture: the operator has lost the video.
  frozen: { type: 'video_loss', topic: 'stream/frozen', data: { reason: 'frozen' } },
  // A black picture from a camera that is up is most often a covered or painted lens: tampering.
  black: { type: 'tamper', topic: 'stream/black', data: { tamper: 'black' } },
};

/**
 * Turns detector runs into start/end events. A condition opens after `confirmRuns` consecutive runs saw it (one
 * still second is not video loss) and closes on the first run that did not. Black wins over frozen (a black picture
 * is also still), and switching from one to the other ends the first. Runs that could not look at the picture
 * (stream unavailable) change nothing: absence of evidence is not recovery.
 */
export class PictureWatch {
  private streak: { condition: Condition | null; runs: number; since: Date | null } = {
    condition: null,
    runs: 0,
    since: null,
  };
  private open: { condition: Condition; since: Date } | null = null;

  constructor(private readonly confirmRuns: number) {}

  /** True while a condition is suspected or open: the detector should then run on every probe. */
  get watching(): boolean {
    return this.streak.condition !== null || this.open !== null;
  }

  observe(result: { frozen: boolean; black: boolean }, at: Date): PictureEventDraft[] {
    const condition: Condition | null = result.black ? 'black' : result.frozen ? 'frozen' : null;
    if (condition === this.streak.condition) this.streak.runs += 1;
    else this.streak = { condition, runs: 1, since: at };
    const drafts: PictureEventDraft[] = [];
    if (this.open && this.open.condition !== condition) {
      const e = EVENTS[this.open.condition];
      const seconds = Math.round((at.getTime() - this.open.since.getTime()) / 1000);
      drafts.push({ type: e.type, state: 'end', topic: e.topic, at, data: { ...e.data, durationSec: seconds } });
      this.open = null;
    }
    if (condition && !this.open && this.streak.runs >= this.confirmRuns) {
      const e = EVENTS[condition];
      // The event starts when the condition was first seen, not when it was confirmed.
      const since = this.streak.since ?? at;
      drafts.push({ type: e.type, state: 'start', topic: e.topic, at: since, data: { ...e.data } });
      this.open = { condition, since };
    }
    return drafts;
  }
}
