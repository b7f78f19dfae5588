import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import opsRoutes from './ops.routes.js';

const SECRET = 'password authentication failed for user "camhub" at db.internal:5432';

/** The readiness route over stand-ins of the three dependencies (no database needed for what it says). */
async function opsApp(fail: { pg?: Error; redis?: Error; mqttDown?: boolean }) {
  const logged: unknown[] = [];
  const stream = { write: (line: string) => logged.push(JSON.parse(line)) };
  const app = Fastify({ logger: { level: 'warn', stream } });
  app.decorate('pg', {
    query: async () => {
      if (fail.pg) throw fail.pg;
      return { rows: [] };
    },
  } as never);
  app.decorate('redis', {
    ping: async () => {
      if (fail.redis) throw fail.redis;
      return 'PONG';
    },
  } as never);
  app.decorate('ingest', { mqtt: { connected: !fail.mqttDown } } as never);
  await app.register(opsRoutes);
  await app.ready();
  return { app, logged };
}

describe('/readyz', () => {
  it('answers one code per dependency and keeps the error text for the log', async () => {
    const { app, logged } = await opsApp({ pg: new Error(SECRET), mqttDown: true });
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      ready: false,
      checks: { postgres: 'unavailable', redis: 'ok', mqtt: 'unavailable' },
    });
    expect(res.body).not.toContain('db.internal');
    expect(JSON.stringify(logged)).toContain('db.internal');
    await app.close();
  });

  it('is ready when every dependency answers', async () => {
    const { app } = await opsApp({});
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ready: true, checks: { postgres: 'ok', redis: 'ok', mqtt: 'ok' } });
    await app.close();
  });
});
