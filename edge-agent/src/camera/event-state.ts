import type { EventState, EventType } from '@camhub/shared';
import type { ItemValue, NormalisedNotification } from '../onvif/normalise.js';

/** An event ready to be numbered and stored: everything but id, seq and snapshot. */
export interface EventDraft {
  type: EventType;
  state: EventState;
  /** On the hub's clock. */
  at: Date;
  topic: string;
  data: Record<string, ItemValue>;
}

export interface EventStateOptions {
  motionTimeoutMs: number;
  /** Every other type that never receives its `false` ends after this long. */
  stateTimeoutMs: number;
  emit: (draft: EventDraft) => void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

interface OpenCondition {
  type: EventType;
  topic: string;
  data: Record<string, ItemValue>;
  timer: unknown;
  /** Opened before the subscription was re-created: the camera has not confirmed it since. */
  stale: boolean;
}

/**
 * Turns camera notifications into start/end/pulse events. It remembers which conditions are open so that
 * "Initialized" reports (current state after SetSynchronizationPoint or a re-subscription) do not invent a second
 * start, ends a condition whose `false` never comes (`motionTimeoutMs` for motion, `stateTimeoutMs` for the rest),
 * and never holds back a real `false`.
 *
 * Across a re-subscription (see `markStale`/`closeStale`) the camera's `false` may have been lost: an open condition
 * the camera does not confirm with an Initialized `true` is ended, and a `Changed` `true` for it is a new start (the
 * end it lost is emitted first), so a start is never swallowed as a repeat (issue 18).
 */
export class EventStateTracker {
  private readonly open = new Map<string, OpenCondition>();
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly options: EventStateOptions) {
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref());
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
  }

  /** `at` is the event time already corrected to the hub's clock. */
  handle(n: NormalisedNotification, at: Date): void {
    const current = this.open.get(n.key);
    if (n.active === null && !n.deleted) {
      this.options.emit({ type: n.type, state: 'pulse', at, topic: n.topic, data: n.data });
      return;
    }
    if (n.active === true && !n.deleted) {
      if (current?.stale && !n.initialized) {
        // A fresh start of a condition whose end was lost with the old subscription.
        this.close(n.key, current);
        this.options.emit({
          type: current.type,
          state: 'end',
          at,
          topic: current.topic,
          data: { ...current.data, reason: 'resubscribed' },
        });
      } else if (current) {
        current.stale = false;
        // Still active (a repeat, or the camera re-reporting state): keep it open, restart the motion timeout.
        this.arm(n.key, current);
        return;
      }
      const condition: OpenCondition = { type: n.type, topic: n.topic, data: n.data, timer: null, stale: false };
      this.open.set(n.key, condition);
      this.arm(n.key, condition);
      this.options.emit({ type: n.type, state: 'start', at, topic: n.topic, data: n.data });
      return;
    }
    // false, or the property was deleted: the condition is over.
    if (!current) return; // Not open: either never started or already ended by the motion timeout.
    this.close(n.key, current);
    this.options.emit({ type: n.type, state: 'end', at, topic: n.topic, data: n.data });
  }

  private arm(key: string, condition: OpenCondition): void {
    if (condition.timer !== null) this.clearTimer(condition.timer);
    const ms = condition.type === 'motion' ? this.options.motionTimeoutMs : this.options.stateTimeoutMs;
    condition.timer = this.setTimer(() => {
      if (this.open.get(key) !== condition) return;
      this.open.delete(key);
      this.options.emit({
        type: condition.type,
        state: 'end',
        at: new Date(this.now()),
        topic: condition.topic,
        data: { ...condition.data, reason: 'timeout' },
      });
    }, ms);
  }

  /** The subscription was re-created: what is open now may have ended unseen. */
  markStale(): void {
    for (const c of this.open.values()) c.stale = true;
  }

  /**
   * The new subscription's first answer is in: whatever it did not confirm is ended (`data.reason: "resubscribed"`,
   * dated `at`), so the next `true` is a start again.
   */
  closeStale(at: Date): void {
    for (const [key, c] of [...this.open]) {
      if (!c.stale) continue;
      this.close(key, c);
      this.options.emit({
        type: c.type,
        state: 'end',
        at,
        topic: c.topic,
        data: { ...c.data, reason: 'resubscribed' },
      });
    }
  }

  private close(key: string, condition: OpenCondition): void {
    if (condition.timer !== null) this.clearTimer(condition.timer);
    this.open.delete(key);
  }

  /** Stops timers (shutdown). Open conditions are not ended: the agent did not see them end. */
  dispose(): void {
    for (const c of this.open.values()) if (c.timer !== null) this.clearTimer(c.timer);
    this.open.clear();
  }

  get openCount(): number {
    return this.open.size;
  }
}
