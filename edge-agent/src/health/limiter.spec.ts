import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter } from './limiter.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('ConcurrencyLimiter', () => {
  it('never runs more than the limit at once and serves waiters in order', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const order: number[] = [];
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        limiter.run(async () => {
          running += 1;
          peak = Math.max(peak, running);
          order.push(i);
          await tick();
          running -= 1;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(limiter.peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(limiter.running).toBe(0);
  });

  it('releases the slot when the task fails', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run(() => Promise.resolve(42))).resolves.toBe(42);
  });

  it('a waiter aborted while queued leaves the queue and never runs', async () => {
    const limiter = new ConcurrencyLimiter(1);
    let release!: () => void;
    const first = limiter.run(() => new Promise<void>((r) => (release = r)));
    const abort = new AbortController();
    let ran = false;
    const second = limiter.run(async () => {
      ran = true;
    }, abort.signal);
    expect(limiter.queued).toBe(1);
    abort.abort(new Error('stopping'));
    await expect(second).rejects.toThrow('stopping');
    expect(limiter.queued).toBe(0);
    release();
    await first;
    expect(ran).toBe(false);
    expect(limiter.running).toBe(0);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new ConcurrencyLimiter(0)).toThrow(RangeError);
  });
});
