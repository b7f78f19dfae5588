import { describe, expect, it } from 'vitest';
import { ClockOffset } from './clock.js';

const YEARS_27 = 27 * 365 * 86_400_000;

describe(ClockOffset.name, () => {
  it('is the GetSystemDateAndTime baseline until CurrentTime refines it to milliseconds', () => {
    const c = new ClockOffset();
    expect(c.offsetMs).toBeNull();
    c.measured(1000);
    expect(c.offsetMs).toBe(1000);
    expect(c.observe(1234, true)).toBe('accepted');
    expect(c.offsetMs).toBe(1234);
    // Whole seconds confirm, they do not replace.
    expect(c.observe(1500, false)).toBe('accepted');
    expect(c.offsetMs).toBe(1234);
  });

  it('ignores a CurrentTime years off, and does not flip back and forth on every answer', () => {
    const c = new ClockOffset();
    c.measured(0);
    const seen: Array<number | null> = [];
    for (let i = 0; i < 20; i++) {
      c.observe(i % 2 === 0 ? 120 : YEARS_27 + 120, true);
      seen.push(c.offsetMs);
    }
    expect(seen.every((o) => o === 120)).toBe(true);
    expect(c.ignored).toBe(10);
    // The next measurement is not a jump.
    expect(c.measured(300)).toBe(120);
    expect(c.offsetMs).toBe(120);
  });

  it('smooths: one outlier within the window does not move the median', () => {
    const c = new ClockOffset();
    c.measured(0);
    for (const e of [100, 102, 98, 101, 1400, 99]) c.observe(e, true);
    expect(c.offsetMs).toBe(101);
  });

  it('asks for a re-measure when an answer disagrees (a real jump?) without moving; the re-measure moves it', () => {
    const c = new ClockOffset();
    c.measured(0);
    c.observe(50, true);
    expect(c.observe(90_020, true)).toBe('remeasure');
    expect(c.offsetMs).toBe(50);
    expect(c.measured(90_000)).toBe(50);
    expect(c.offsetMs).toBe(90_000);
    c.observe(90_012, true);
    expect(c.offsetMs).toBe(90_012);
  });
});
