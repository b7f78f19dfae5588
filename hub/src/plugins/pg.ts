import fp from 'fastify-plugin';
import pg from 'pg';

declare module 'fastify' {
  interface FastifyInstance {
    pg: pg.Pool;
  }
}

// bigint (int8) as JS number: seq values stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export default fp(
  async (app) => {
    const pool = new pg.Pool({
      connectionString: app.config.DATABASE_URL,
      max: app.config.DB_POOL_MAX,
      connectionTimeoutMillis: 5000,
      application_name: 'camhub-hub',
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
