import { describe, expect, it } from 'vitest';
import { quietUntil, rateWindow } from './quiet-hours.js';

const zone = 'Asia/Ho_Chi_Minh'; // UTC+7, no daylight saving

describe('quiet hours', () => {
  const night = { windows: [{ start: '22:00', end: '06:00' }] };

  it('holds until the window ends, across midnight, on the zone wall clock', () => {
    // 23:30 in Hà Nội = 16:30Z; the window ends at 06:00 local = 23:00Z.
    expect(quietUntil(night, new Date('2026-11-25T16:30:00Z'), zone)?.toISOString()).toBe('2026-11-25T23:00:00.000Z');
    // 02:10 local = 19:10Z the day before... still the same night.
    expect(quietUntil(night, new Date('2026-11-25T19:10:30Z'), zone)?.toISOString()).toBe('2026-11-25T23:00:00.000Z');
  });

  it('does not hold outside the window', () => {
    expect(quietUntil(night, new Date('2026-11-25T05:00:00Z'), zone)).toBeNull(); // 12:00 local
  });

  it('releases an always-quiet schedule after a week instead of never', () => {
    const at = new Date('2026-11-25T05:00:00Z');
    const until = quietUntil({ windows: [{ start: '00:00', end: '00:00' }] }, at, zone)!;
    expect(until.getTime() - at.getTime()).toBe(7 * 24 * 3600 * 1000);
  });
});

describe('rate windows', () => {
  it('are fixed and aligned', () => {
    expect(rateWindow(125_000, 60)).toEqual({ start: 120_000, end: 180_000 });
    expect(rateWindow(180_000, 60)).toEqual({ start: 180_000, end: 240_000 });
  });
});
