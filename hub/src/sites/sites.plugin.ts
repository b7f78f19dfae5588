import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** Other hubs' registry changes reach this hub's in-memory names and time zones within this long. */
const REFRESH_MS = 30_000;

/**
 * The sites registry at start: SITE_TIME_ZONES seeds it (sites it lists and nobody registered yet), then this hub
 * keeps its in-memory names and time zones fresh for alerts and notifications.
 */
export default fp(
  async (app: FastifyInstance) => {
    const { sites } = app.container.services;
    const added = await sites.seed(app.container.siteSeed);
    if (added.length) app.log.info({ sites: added }, 'sites registered from SITE_TIME_ZONES');
    const timer = setInterval(() => {
      sites.refresh().catch((err: Error) => app.log.warn({ err: err.message }, 'could not reload the sites registry'));
    }, REFRESH_MS);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  },
  { name: 'sites', dependencies: ['config', 'pg'] },
);
