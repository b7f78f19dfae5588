import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { CamerasRepository } from '../cameras/cameras.repository.js';

/**
 * What the hub tells Prometheus beyond its counters: how long each route takes to answer, and how many cameras are
 * in each status (the figure people alert on). The route label is the template (`/api/v1/cameras/:site/:camera`),
 * `unmatched` for requests no route took, so label values stay bounded whatever clients send.
 */
export default fp(
  async (app: FastifyInstance, opts: { cameras: Pick<CamerasRepository, 'countByStatus'> }) => {
    app.metrics.countCamerasWith(() =>
      opts.cameras.countByStatus().catch((err: unknown) => {
        app.log.warn({ err }, 'cannot count cameras by status for /metrics');
        return null;
      }),
    );
    app.addHook('onResponse', async (req, reply) => {
      app.metrics.httpDuration.observe(
        {
          method: req.method,
          route: req.routeOptions.url ?? 'unmatched',
          status_class: `${Math.floor(reply.statusCode / 100)}xx`,
        },
        reply.elapsedTime / 1000,
      );
    });
  },
  { name: 'metrics', dependencies: ['config'] },
);
