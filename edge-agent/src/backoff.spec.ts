import { describe, expect, it } from 'vitest';
import { Backoff, sleep } from './backoff.js';

describe(Backoff.name, () => {
  it('doubles the ceiling up to the maximum; jitter stays within [min, ceiling]', () => {
    const top = new Backoff(100, 1000, () => 1);
    expect([top.next(), top.next(), top.next(), top.next(), top.next(), top.next()]).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    const bottom = new Backoff(100, 1000, () => 0);
    expect([bottom.next(), bottom.next(), bottom.next()]).toEqual([100, 100, 100]);
  });

  it('spreads retries (full jitter) and starts over after reset', () => {
    const b = new Backoff(100, 60_000);
    const delays = Array.from({ length: 12 }, () => b.next());
    expect(new Set(delays).size).toBeGreaterThan(6);
    expect(Math.max(...delays)).toBeLessThanOrEqual(60_000);
    b.reset();
    expect(b.next()).toBeLessThanOrEqual(100);
    expect(b.failures).toBe(1);
  });

  it('sleep ends early on abort', async () => {
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 20);
    await sleep(10_000, ac.signal);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
