import { describe, expect, it } from 'vitest';
import { inSchedule, isKnownTimeZone, localTime } from './schedule.js';

const night = { windows: [{ start: '22:00', end: '05:00' }] };
const HCM = 'Asia/Ho_Chi_Minh'; // UTC+7, no daylight saving

describe('inSchedule', () => {
  it('crosses midnight on the wall clock of the zone', () => {
    // 15:30Z is 22:30 in Ho Chi Minh City, 20:30Z is 03:30 the next day, 22:00Z is 05:00 (end: excluded).
    expect(inSchedule(night, new Date('2026-11-22T15:30:00Z'), HCM)).toBe(true);
    expect(inSchedule(night, new Date('2026-11-22T20:30:00Z'), HCM)).toBe(true);
    expect(inSchedule(night, new Date('2026-11-22T22:00:00Z'), HCM)).toBe(false);
    expect(inSchedule(night, new Date('2026-11-22T14:59:00Z'), HCM)).toBe(false);
    // The same instant is still evening in UTC, outside the window.
    expect(inSchedule(night, new Date('2026-11-22T20:30:00Z'), 'UTC')).toBe(false);
    expect(inSchedule(night, new Date('2026-11-22T23:00:00Z'), 'UTC')).toBe(true);
  });

  it('gives the early hours to the day the window started on', () => {
    const fridayNight = { windows: [{ start: '22:00', end: '05:00', days: [5] }] };
    // Saturday 2026-11-28 02:00 local is the tail of Friday's window; Sunday 02:00 is not.
    expect(inSchedule(fridayNight, new Date('2026-11-27T19:00:00Z'), HCM)).toBe(true);
    expect(inSchedule(fridayNight, new Date('2026-11-28T19:00:00Z'), HCM)).toBe(false);
    // Friday 23:00 local is in; Thursday 23:00 is not.
    expect(inSchedule(fridayNight, new Date('2026-11-27T16:00:00Z'), HCM)).toBe(true);
    expect(inSchedule(fridayNight, new Date('2026-11-26T16:00:00Z'), HCM)).toBe(false);
  });

  it('handles same-day windows, whole days and daylight saving zones', () => {
    const office = { windows: [{ start: '08:00', end: '17:30', days: [1, 2, 3, 4, 5] }] };
    expect(inSchedule(office, new Date('2026-11-23T01:00:00Z'), HCM)).toBe(true); // Mon 08:00
    expect(inSchedule(office, new Date('2026-11-22T03:00:00Z'), HCM)).toBe(false); // Sunday
    expect(
      inSchedule({ windows: [{ start: '00:00', end: '00:00', days: [7] }] }, new Date('2026-11-22T03:00Z'), HCM),
    ).toBe(true);
    // New York: 22:30 local is 03:30Z in winter (EST) but 02:30Z in summer (EDT).
    expect(inSchedule(night, new Date('2026-01-15T03:30:00Z'), 'America/New_York')).toBe(true);
    expect(inSchedule(night, new Date('2026-07-15T01:30:00Z'), 'America/New_York')).toBe(false);
    expect(inSchedule(night, new Date('2026-07-15T02:30:00Z'), 'America/New_York')).toBe(true);
  });

  it('reads local time and knows zones', () => {
    expect(localTime(new Date('2026-11-22T17:05:00Z'), HCM)).toEqual({ minute: 5, weekday: 1 });
    expect(isKnownTimeZone(HCM)).toBe(true);
    expect(isKnownTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});
