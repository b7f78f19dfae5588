import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config.js';
import { ConfigError } from '../errors.js';

const base = {
  site: 's1',
  mqtt: { url: 'mqtt://127.0.0.1:1883' },
  dataDir: '/tmp/x',
  outbox: { maxBytes: 65536 },
  cameras: [],
};

function problems(health: Record<string, unknown>): string[] {
  try {
    parseConfig({ ...base, health });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('health config', () => {
  it('has documented defaults', () => {
    expect(parseConfig(base).health).toEqual({
      intervalSec: 30,
      concurrency: 8,
      stream: true,
      streamProbeSec: 5,
      streamTimeoutSec: 15,
      detectorIntervalSec: 300,
      freezeSec: 3,
      freezeNoiseDb: -60,
      blackSec: 3,
      blackPixelThreshold: 0.1,
      confirmRuns: 2,
      lowFpsRatio: 0.5,
      lowFpsFloor: 1,
      clockSkewMaxMs: 5000,
    });
  });

  it('names every bad field, including the relations between them', () => {
    expect(problems({ concurrency: 0, bogus: 1 }).sort()).toEqual([
      'health.bogus: is not a known field',
      'health.concurrency: must be integer to be greater or equal to 1',
    ]);
    expect(problems({ streamProbeSec: 5, streamTimeoutSec: 5, freezeSec: 6 })).toEqual([
      'health.streamTimeoutSec: must be more than health.streamProbeSec (5)',
      'health.freezeSec: must be less than health.streamProbeSec (5)',
    ]);
  });
});
