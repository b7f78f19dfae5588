import type { Redis } from 'ioredis';
import { AppError } from '../errors.js';

/**
 * Open live streams per user and per session, counted in Redis so that the caps hold across every hub. Each stream
 * is a member with an expiry score that its heartbeat pushes forward: a hub that dies without closing its streams
 * frees their places within a few heartbeats.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 2 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 1 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 0`;

export function createStreamRegistry(deps: { redis: Redis; prefix: string; ttlMs: number }) {
  const { redis, prefix, ttlMs } = deps;
  const keys = (userId: string, sessionId: string) => [
    `${prefix}:streams:u:${userId}`,
    `${prefix}:streams:s:${sessionId}`,
  ];
  return {
    /** Takes a place for a new stream; 'user' or 'session' names the cap that is full. */
    async acquire(
      userId: string,
      sessionId: string,
      streamId: string,
      caps: { perUser: number; perSession: number },
    ): Promise<'ok' | 'user' | 'session'> {
      const now = Date.now();
      const r = (await redis.eval(
        ACQUIRE,
        2,
        ...keys(userId, sessionId),
        now,
        now + ttlMs,
        streamId,
        caps.perUser,
        caps.perSession,
        ttlMs,
      )) as number;
      return r === 0 ? 'ok' : r === 1 ? 'user' : 'session';
    },

    /** Keeps a stream's place (called on each heartbeat). */
    async refresh(userId: string, sessionId: string, streamId: string): Promise<void> {
      const expiry = Date.now() + ttlMs;
      const [u, s] = keys(userId, sessionId);
      await redis.multi().zadd(u!, 'XX', expiry, streamId).zadd(s!, 'XX', expiry, streamId).exec();
    },

    async release(userId: string, sessionId: string, streamId: string): Promise<void> {
      const [u, s] = keys(userId, sessionId);
      await redis.multi().zrem(u!, streamId).zrem(s!, streamId).exec();
    },
  };
}
export type StreamRegistry = ReturnType<typeof createStreamRegistry>;

/** The user or the session already holds as many live streams as allowed. */
export class TooManyStreamsError extends AppError {
  constructor(readonly cap: 'user' | 'session') {
    super('too_many_streams', `too many live streams open for this ${cap}; close one first`, 429);
  }
}
