import type { Schedule } from '@camhub/shared';
import { inSchedule } from '../alerts/schedule.js';

const MINUTE = 60_000;
/** A schedule that is always on (a whole-day window every day) would hold forever: release after a week. */
const LONGEST_HOLD_MIN = 7 * 24 * 60;

/**
 * When the quiet hours holding `at` end: the first whole minute outside every window (windows are whole minutes, so
 * stepping minute by minute is exact). Null when `at` is not in quiet hours.
 */
export function quietUntil(schedule: Schedule, at: Date, zone: string): Date | null {
  if (!inSchedule(schedule, at, zone)) return null;
  const start = Math.floor(at.getTime() / MINUTE) * MINUTE;
  for (let i = 1; i <= LONGEST_HOLD_MIN; i++) {
    const t = new Date(start + i * MINUTE);
    if (!inSchedule(schedule, t, zone)) return t;
  }
  return new Date(start + LONGEST_HOLD_MIN * MINUTE);
}

/** Fixed rate-limit windows: the one holding `now`, as [start, end) in ms. */
export function rateWindow(now: number, windowSec: number): { start: number; end: number } {
  const ms = windowSec * 1000;
  const start = Math.floor(now / ms) * ms;
  return { start, end: start + ms };
}
