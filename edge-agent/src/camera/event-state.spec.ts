import { describe, expect, it } from 'vitest';
import { normalise } from '../onvif/normalise.js';
import { type EventDraft, EventStateTracker } from './event-state.js';

function setup() {
  const emitted: EventDraft[] = [];
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  let now = 1_000_000;
  const tracker = new EventStateTracker({
    motionTimeoutMs: 60_000,
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
  return { tracker, emitted, fire, advance: (ms: number) => (now += ms) };
}

const motion = (value: string, propertyOperation = 'Changed') =>
  normalise({
    topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
    propertyOperation,
    data: { SimpleItem: { Name: 'IsMotion', Value: value } },
  });
const at = new Date('2026-11-22T14:05:09.120Z');

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
