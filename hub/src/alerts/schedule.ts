import type { Schedule } from '@camhub/shared';

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** True when `zone` is an IANA time zone this runtime knows. */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch (err) {
    if (err instanceof RangeError) return false;
    throw err;
  }
}

/** Wall-clock minute of the day and ISO weekday of an instant in a zone. */
export function localTime(at: Date, zone: string): { minute: number; weekday: number } {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    formatters.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
  return { minute: Number(parts.hour) * 60 + Number(parts.minute), weekday: WEEKDAYS[parts.weekday!]! };
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Whether `at` falls in one of the schedule's windows, on the wall clock of `zone`.
 * A window whose start is after its end crosses midnight; its `days` name the day it starts on, so the early
 * hours of Saturday belong to a Friday 22:00-05:00 window. start == end means the whole day.
 */
export function inSchedule(schedule: Schedule, at: Date, zone: string): boolean {
  const { minute, weekday } = localTime(at, zone);
  const previousDay = weekday === 1 ? 7 : weekday - 1;
  return schedule.windows.some((w) => {
    const start = minutes(w.start);
    const end = minutes(w.end);
    const on = (day: number) => !w.days || w.days.includes(day);
    if (start === end) return on(weekday);
    if (start < end) return minute >= start && minute < end && on(weekday);
    return (minute >= start && on(weekday)) || (minute < end && on(previousDay));
  });
}
