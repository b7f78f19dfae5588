import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from './errors.js';
import { parseDurationMs, parseTerminationLeaseMs } from './durations.js';

describe('parseDurationMs', () => {
  it.each([
    ['PT600S', 600_000],
    ['PT1M', 60_000],
    ['PT1.5S', 1_500],
    ['P1DT2H', 26 * 3_600_000],
    ['PT0S', 0],
  ])('reads %s', (value, expected) => {
    expect(parseDurationMs(value)).toBe(expected);
  });

  it.each(['600', 'P', 'PT', 'PT5X', '-PT5S', ''])('rejects %j', (value) => {
    expect(() => parseDurationMs(value)).toThrow(InvalidRequestError);
  });
});

describe('parseTerminationLeaseMs', () => {
  it('measures absolute times against the camera clock, not the host clock', () => {
    const cameraNow = Date.parse('2030-01-01T10:00:00Z');
    expect(parseTerminationLeaseMs('2030-01-01T10:10:00Z', cameraNow)).toBe(600_000);
  });

  it('accepts durations and rejects garbage', () => {
    expect(parseTerminationLeaseMs(' PT2M ', 0)).toBe(120_000);
    expect(() => parseTerminationLeaseMs('tomorrow', 0)).toThrow(InvalidRequestError);
  });
});
