import { InvalidRequestError } from './errors.js';

const DURATION =
  /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const UNIT_MS = [365 * 86_400_000, 30 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000];

/** Milliseconds in an xs:duration such as `PT600S`, `PT1M` or `P1DT2H`. */
export function parseDurationMs(value: string): number {
  const match = DURATION.exec(value.trim());
  if (!match || value.trim() === 'P' || value.trim().endsWith('T')) {
    throw new InvalidRequestError(`not an xs:duration: ${JSON.stringify(value)}`);
  }
  return match
    .slice(1)
    .reduce((total, part, index) => total + (part === undefined ? 0 : Number(part) * (UNIT_MS[index] ?? 0)), 0);
}

/**
 * A WS-BaseNotification termination time: either a duration from now or an absolute xs:dateTime.
 * Absolute times are on the camera's clock, so they are turned into a lease length against `cameraNowMs`.
 * Returns the lease length in milliseconds (may be <= 0 for a time already past).
 */
export function parseTerminationLeaseMs(value: string, cameraNowMs: number): number {
  const trimmed = value.trim();
  if (trimmed.startsWith('P')) return parseDurationMs(trimmed);
  const absolute = Date.parse(trimmed);
  if (Number.isNaN(absolute)) {
    throw new InvalidRequestError(`termination time is neither a duration nor a date-time: ${JSON.stringify(value)}`);
  }
  return absolute - cameraNowMs;
}
