import fp from 'fastify-plugin';
import type { HubConfig } from '../config.js';
import { createMetrics, type HubMetrics } from '../metrics/metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: HubConfig;
    metrics: HubMetrics;
  }
}

export default fp<{ config: HubConfig }>(
  async (app, opts) => {
    app.decorate('config', opts.config);
    app.decorate('metrics', createMetrics());
  },
  { name: 'config' },
);
