import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

class ProbeTimeout extends Error {
  readonly code = 'timeout';
}

const withTimeout = <T>(p: Promise<T>, ms: number) => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ProbeTimeout(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

/** What a dependency check may answer: codes only. Driver errors can name hosts, users and databases. */
const CheckResult = Type.Union([Type.Literal('ok'), Type.Literal('unavailable'), Type.Literal('timeout')]);
const Readiness = Type.Object({ ready: Type.Boolean(), checks: Type.Record(Type.String(), CheckResult) });
type CheckCode = 'ok' | 'unavailable' | 'timeout';

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
          200: Readiness,
          503: Readiness,
        },
      },
    },
    async (req, reply) => {
      const checks: Record<string, CheckCode> = {};
      const probe = async (name: string, fn: () => Promise<unknown>) => {
        try {
          await withTimeout(fn(), 2000);
          checks[name] = 'ok';
        } catch (err) {
          // The details go to the operator's log; anyone may call this route.
          req.log.warn({ err, check: name }, `readiness check ${name} failed`);
          checks[name] = err instanceof ProbeTimeout ? 'timeout' : 'unavailable';
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
