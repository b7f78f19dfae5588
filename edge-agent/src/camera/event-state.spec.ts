import { describe, expect, it } from 'vitest';
import { normalise } from '../onvif/normalise.js';
import { type EventDraft, EventStateTracker } from './event-state.js';

function setup() {
  const emitted: EventDraft[] = [];
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  let now = 1_000_000;
  const tracker = new EventStateTracker({
    motionTimeoutMs: 60_000,
    stateTimeoutMs: 3_600_000,
    emit: (d) => emitted.push(d),
    now: () => now,
    setTimer: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      (h as { cleared: boolean }).cleared = true;
    },
  });
  const fire = () => {
    for (const t of timers.filter((x) => !x.cleared)) {
      t.cleared = true;
      t.fn();
    }
  };
  return { tracker, emitted, fire, timers, advance: (ms: number) => (now += ms) };
}

const motion = (value: string, propertyOperation = 'Changed') =>
  normalise({
    topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
    propertyOperation,
    data: { SimpleItem: { Name: 'IsMotion', Value: value } },
  });
const tamper = (value: string, propertyOperation = 'Changed') =>
  normalise({
    topic: 'tns1:RuleEngine/TamperDetector/Tamper',
    propertyOperation,
    data: { SimpleItem: { Name: 'IsTamper', Value: value } },
  });
const at = new Date('2026-11-22T14:05:09.120Z');
const later = new Date('2026-11-22T14:09:00.000Z');

describe(EventStateTracker.name, () => {
  it('emits start then end, and a quick true/false/true is never swallowed', () => {
    const { tracker, emitted } = setup();
    tracker.handle(motion('true'), at);
    tracker.handle(motion('false'), at);
    tracker.handle(motion('true'), at);
    expect(emitted.map((e) => e.state)).toEqual(['start', 'end', 'start']);
  });

  it('ignores a repeated true while open', () => {
    const { tracker, emitted } = setup();
    tracker.handle(motion('true'), at);
    tracker.handle(motion('true'), at);
    expect(emitted.map((e) => e.state)).toEqual(['start']);
  });

  it('ends a motion that never gets its false after the timeout, with reason timeout, at the hub time', () => {
    const { tracker, emitted, fire, advance } = setup();
    tracker.handle(motion('true'), at);
    advance(60_000);
    fire();
    expect(emitted.map((e) => [e.state, e.data.reason])).toEqual([
      ['start', undefined],
      ['end', 'timeout'],
    ]);
    expect(emitted[1]!.at.getTime()).toBe(1_060_000);
    // The late real false after the timeout does not produce a second end.
    tracker.handle(motion('false'), at);
    expect(emitted).toHaveLength(2);
  });

  it('Initialized true reports current state once; it does not invent a second start while one is open', () => {
    const { tracker, emitted } = setup();
    tracker.handle(motion('true', 'Initialized'), at);
    tracker.handle(motion('true', 'Initialized'), at); // re-subscription after a fault
    expect(emitted.map((e) => e.state)).toEqual(['start']);
    tracker.handle(motion('false', 'Initialized'), at);
    expect(emitted.map((e) => e.state)).toEqual(['start', 'end']);
    tracker.handle(motion('false', 'Initialized'), at);
    expect(emitted).toHaveLength(2);
  });

  it('ends every type after its timeout, not only motion', () => {
    const { tracker, emitted, fire, timers } = setup();
    tracker.handle(tamper('true'), at);
    expect(timers.at(-1)!.ms).toBe(3_600_000);
    fire();
    expect(emitted.map((e) => [e.type, e.state, e.data.reason])).toEqual([
      ['tamper', 'start', undefined],
      ['tamper', 'end', 'timeout'],
    ]);
  });

  it('after a re-subscription without Initialized, a new true is a new start: the lost end is emitted first', () => {
    const { tracker, emitted } = setup();
    tracker.handle(motion('true'), at);
    // The false was lost with the old subscription.
    tracker.markStale();
    tracker.handle(motion('true'), later);
    expect(emitted.map((e) => [e.state, e.data.reason])).toEqual([
      ['start', undefined],
      ['end', 'resubscribed'],
      ['start', undefined],
    ]);
    expect(emitted[1]!.at).toBe(later);
    // The new start is not stale: its repeat is a repeat again.
    tracker.handle(motion('true'), later);
    expect(emitted).toHaveLength(3);
  });

  it('after a re-subscription, what the camera does not confirm is closed; what it confirms stays open', () => {
    const { tracker, emitted } = setup();
    tracker.handle(motion('true'), at);
    tracker.handle(tamper('true'), at);
    tracker.markStale();
    tracker.handle(tamper('true', 'Initialized'), later); // still tampered: confirmed
    tracker.closeStale(later);
    expect(emitted.map((e) => [e.type, e.state, e.data.reason])).toEqual([
      ['motion', 'start', undefined],
      ['tamper', 'start', undefined],
      ['motion', 'end', 'resubscribed'],
    ]);
    expect(tracker.openCount).toBe(1);
    tracker.handle(motion('true'), later);
    expect(emitted.at(-1)).toMatchObject({ type: 'motion', state: 'start' });
  });

  it('a false after a re-subscription still ends the open condition once', () => {
    const { tracker, emitted } = setup();
    tracker.handle(motion('true'), at);
    tracker.markStale();
    tracker.handle(motion('false'), later);
    tracker.closeStale(later);
    expect(emitted.map((e) => e.state)).toEqual(['start', 'end']);
  });

  it('emits pulses for instant topics', () => {
    const { tracker, emitted } = setup();
    tracker.handle(
      normalise({
        topic: 'tns1:RuleEngine/LineDetector/Crossed',
        data: { SimpleItem: { Name: 'ObjectId', Value: '4' } },
      }),
      at,
    );
    expect(emitted).toMatchObject([{ type: 'line_crossing', state: 'pulse', data: { ObjectId: '4' } }]);
  });
});
