import type { Redis } from 'ioredis';

/**
 * "Is this the first request of its window?" per key, shared by every hub through Redis (`SET NX EX`): the window
 * opens with the first request and lasts `windowSec` from then. A player's many range requests for one clip are one
 * view in the audit trail this way, not one row per seek.
 */
export function createViewWindows(redis: Redis, prefix: string) {
  return {
    async opens(key: string, windowSec: number): Promise<boolean> {
      return (await redis.set(`${prefix}:view:${key}`, '1', 'EX', windowSec, 'NX')) === 'OK';
    },
  };
}
export type ViewWindows = ReturnType<typeof createViewWindows>;
