import type { Redis } from 'ioredis';
import { AppError } from '../errors.js';

export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSec: number) {
    super('rate_limited', 'too many requests; try again later', 429);
  }
}

/**
 * Sliding-window counters in Redis, shared by every hub process: the current window's count plus the previous
 * window's weighted by how much of it still overlaps, so a burst across a window boundary gets no double allowance.
 * One INCR and one GET per request: cheap enough to sit in front of a password check or a replay.
 */
export function createRateLimiter(redis: Redis, prefix: string) {
  return {
    /** Counts one hit for `key`; over `limit` hits in the last `windowSec` it answers how long to wait. */
    async hit(
      key: string,
      limit: number,
      windowSec: number,
    ): Promise<{ ok: true } | { ok: false; retryAfterSec: number }> {
      const windowMs = windowSec * 1000;
      const now = Date.now();
      const slot = Math.floor(now / windowMs);
      const current = `${prefix}:rate:${key}:${slot}`;
      const previous = `${prefix}:rate:${key}:${slot - 1}`;
      const results = await redis
        .multi()
        .incr(current)
        .expire(current, windowSec * 2 + 1)
        .get(previous)
        .exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('rate limiter: transaction aborted');
      const count = Number(results[0]![1]);
      const before = Number(results[2]![1] ?? 0);
      const overlap = 1 - (now - slot * windowMs) / windowMs;
      if (count + before * overlap <= limit) return { ok: true };
      // Waiting until the previous window no longer weighs enough, at most until the current one ends.
      const retryAfterSec = Math.max(1, Math.ceil(((slot + 1) * windowMs - now) / 1000));
      return { ok: false, retryAfterSec };
    },
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;
