import { Type } from '@sinclair/typebox';

/** Sites and cameras are safe as MQTT topic levels and URL path segments. */
export const IDENTIFIER_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
export const IDENTIFIER_REGEX = new RegExp(IDENTIFIER_PATTERN);

export const SiteIdSchema = Type.String({ pattern: IDENTIFIER_PATTERN, description: 'Site identifier, e.g. td-01' });
export const CameraIdSchema = Type.String({
  pattern: IDENTIFIER_PATTERN,
  description: 'Camera identifier, unique within its site, e.g. cam-03',
});

/** ISO 8601 UTC, e.g. 2026-11-22T14:05:09.120Z. Fractions are optional on input; we always emit milliseconds. */
export const ISO_TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$';
/**
 * Schema format for times that must name a real instant: the shape alone lets `0000-00-00T00:00:00Z` through, which
 * PostgreSQL then refuses. Registered with TypeBox where schemas are compiled (compile.ts) and with the hub's Ajv (hub/src/app.ts), so MQTT payloads and
 * HTTP parameters are checked by the same function.
 */
export const ISO_TIME_FORMAT = 'camhub-iso-time';

export const IsoTimeSchema = Type.String({
  pattern: ISO_TIME_PATTERN,
  format: ISO_TIME_FORMAT,
  description: 'ISO 8601 UTC time with milliseconds',
  examples: ['2026-11-22T14:05:09.120Z'],
});

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
export const UuidSchema = Type.String({ pattern: UUID_PATTERN, description: 'UUID (v7 recommended)' });

/** True when `s` has the contract's time shape AND names a real instant (rejects 0000-00-00T00:00:00Z). */
export function isValidIsoTime(s: string): boolean {
  if (!new RegExp(ISO_TIME_PATTERN).test(s)) return false;
  // Year 0 parses in JavaScript but is no year in PostgreSQL (nor in the Gregorian calendar).
  if (s.startsWith('0000')) return false;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) return false;
  // Date.parse rolls over impossible dates (2026-02-31); compare the calendar date back.
  return new Date(ms).toISOString().slice(0, 10) === s.slice(0, 10);
}
