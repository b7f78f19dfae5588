import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { createRedis } from './redis-client.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** General-purpose Redis connection (readiness, pub/sub fan-out publishing). BullMQ makes its own. */
    redis: Redis;
    redisConnection: () => Redis;
  }
}

export default fp(
  async (app) => {
    const made: Redis[] = [];
    // BullMQ needs maxRetriesPerRequest: null on connections it blocks on; we use the same settings everywhere.
    const connect = () => {
      const r = createRedis(app.config, { maxRetriesPerRequest: null, enableReadyCheck: true });
      r.on('error', (err) => app.log.warn({ err: err.message }, 'redis connection error'));
      made.push(r);
      return r;
    };
    app.decorate('redis', connect());
    app.decorate('redisConnection', connect);
    app.addHook('onClose', async () => {
      await Promise.all(made.map((r) => r.quit().catch(() => r.disconnect())));
    });
  },
  { name: 'redis', dependencies: ['config'] },
);
