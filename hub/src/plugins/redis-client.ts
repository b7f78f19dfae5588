import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { HubConfig } from '../config.js';

/**
 * A Redis client for REDIS_URL: one server, or with REDIS_CLUSTER=true a Redis Cluster that REDIS_URL names one node
 * of (ioredis discovers the rest; user, password and TLS from the URL apply to every node). Every key the hub and
 * BullMQ use begins with QUEUE_PREFIX, which in a cluster is a hash tag (`{camhub}`, checked by the config), so
 * every multi-key command, MULTI and script lands on one slot. The cluster client has the same commands; it is typed
 * as `Redis` because the hub uses only commands both have.
 */
export function createRedis(config: Pick<HubConfig, 'REDIS_URL' | 'REDIS_CLUSTER'>, options: RedisOptions): Redis {
  if (config.REDIS_CLUSTER !== 'true') return new Redis(config.REDIS_URL, options);
  const url = new URL(config.REDIS_URL);
  const redisOptions: RedisOptions = {
    ...options,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const cluster = new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], {
    redisOptions,
    enableReadyCheck: options.enableReadyCheck ?? true,
    lazyConnect: options.lazyConnect ?? false,
    maxRedirections: 16,
  });
  return cluster as unknown as Redis;
}
