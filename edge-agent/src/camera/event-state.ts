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
}

/**
 * Turns camera notifications into start/end/pulse events. It remembers which conditions are open so that
 * "Initialized" reports (current state after SetSynchronizationPoint or a re-subscription) do not invent a second
 * start, ends a motion whose `false` never comes after `motionTimeoutMs`, and never holds back a real `false`.
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
      if (current) {
        // Still active (a repeat, or the camera re-reporting state): keep it open, restart the motion timeout.
        this.arm(n.key, current);
        return;
      }
      const condition: OpenCondition = { type: n.type, topic: n.topic, data: n.data, timer: null };
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
    if (condition.type !== 'motion') return;
    if (condition.timer !== null) this.clearTimer(condition.timer);
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
    }, this.options.motionTimeoutMs);
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
