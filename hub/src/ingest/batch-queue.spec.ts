import { describe, expect, it } from 'vitest';
import { ingestBackoff } from './batch-queue.js';

describe(ingestBackoff.name, () => {
  it('starts at 100 ms, doubles, and never waits more than 30 s however long PostgreSQL is down', () => {
    expect(ingestBackoff(0)).toBe(100);
    expect(ingestBackoff(1)).toBe(200);
    expect(ingestBackoff(8)).toBe(25_600);
    expect(ingestBackoff(9)).toBe(30_000);
    expect(ingestBackoff(1_000_000)).toBe(30_000);
  });
});
