import fp from 'fastify-plugin';
import type pg from 'pg';
import { createHubPool } from '../db/pool.js';

declare module 'fastify' {
  interface FastifyInstance {
    pg: pg.Pool;
  }
}

export default fp(
  async (app) => {
    const pool = createHubPool({
      url: app.config.DATABASE_URL,
      max: app.config.DB_POOL_MAX,
      applicationName: 'camhub-hub',
    });
    // An idle client losing its server (PostgreSQL restart) must not crash the hub; the next query reconnects.
    pool.on('error', (err) => app.log.warn({ err }, 'idle PostgreSQL client error'));
    app.decorate('pg', pool);
    app.addHook('onClose', async () => {
      await pool.end();
    });
  },
  { name: 'pg', dependencies: ['config'] },
);
