import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)),
  ]);

/** Liveness, readiness and metrics: outside /api/v1, for orchestrators and Prometheus. */
const opsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    { schema: { tags: ['ops'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({
      status: 'ok' as const,
    }),
  );

  app.get(
    '/readyz',
    {
      config: { access: { roles: 'public' } },
      schema: {
        tags: ['ops'],
        response: {
          200: Type.Object({ ready: Type.Boolean(), checks: Type.Record(Type.String(), Type.String()) }),
          503: Type.Object({ ready: Type.Boolean(), checks: Type.Record(Type.String(), Type.String()) }),
        },
      },
    },
    async (_req, reply) => {
      const checks: Record<string, string> = {};
      const probe = async (name: string, fn: () => Promise<unknown>) => {
        try {
          await withTimeout(fn(), 2000);
          checks[name] = 'ok';
        } catch (err) {
          checks[name] = (err as Error).message || 'failed';
        }
      };
      await Promise.all([
        probe('postgres', () => app.pg.query('SELECT 1')),
        probe('redis', () => app.redis.ping()),
        probe('mqtt', async () => {
          if (app.ingest.mqtt && !app.ingest.mqtt.connected) throw new Error('not connected');
        }),
      ]);
      const ready = Object.values(checks).every((v) => v === 'ok');
      return reply.code(ready ? 200 : 503).send({ ready, checks });
    },
  );

  app.get(
    '/metrics',
    { config: { access: { roles: 'public' } }, schema: { tags: ['ops'], hide: true } },
    async (_req, reply) =>
      reply.header('content-type', app.metrics.registry.contentType).send(await app.metrics.registry.metrics()),
  );
};
export default opsRoutes;
