import { describe, expect, it } from 'vitest';
import { eventTime } from './event-time.js';

const received = new Date('2026-11-25T10:00:10.000Z');

describe('eventTime', () => {
  it('corrects the camera time by the measured offset when it is plausible', () => {
    const r = eventTime(new Date('2026-11-25T12:00:08.000Z'), 2 * 3_600_000, received, 120_000);
    expect(r).toEqual({ at: new Date('2026-11-25T10:00:08.000Z'), replaced: false });
  });

  it('replaces a time beyond the tolerance, in the future or the past, by the receive time', () => {
    expect(eventTime(new Date('2053-11-25T10:00:08.000Z'), 0, received, 120_000)).toEqual({
      at: received,
      replaced: true,
    });
    expect(eventTime(new Date('2026-11-25T09:50:00.000Z'), 0, received, 120_000)).toEqual({
      at: received,
      replaced: true,
    });
  });

  it('keeps a time exactly at the tolerance; a missing time is the receive time without a flag', () => {
    expect(eventTime(new Date('2026-11-25T09:58:10.000Z'), 0, received, 120_000).replaced).toBe(false);
    expect(eventTime(null, 0, received, 120_000)).toEqual({ at: received, replaced: false });
  });
});
