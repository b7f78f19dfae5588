import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { HubBus } from '../bus.js';
import { createCamerasRepository } from '../cameras/cameras.repository.js';
import { createCamerasService } from '../cameras/cameras.service.js';
import { createHealthRepository } from '../cameras/health.repository.js';
import { createStatusRepository } from '../cameras/status.repository.js';
import { createStatusService } from '../cameras/status.service.js';
import { createEventsRepository } from '../events/events.repository.js';
import { createEventsService } from '../events/events.service.js';
import { createSnapshotStore, type SnapshotStore } from '../media/snapshot-store.js';
import { createRejectionsRepository } from '../rejections/rejections.repository.js';

function build(app: FastifyInstance, bus: HubBus) {
  const repositories = {
    events: createEventsRepository(app.pg),
    cameras: createCamerasRepository(app.pg),
    health: createHealthRepository(app.pg),
    status: createStatusRepository(),
    rejections: createRejectionsRepository(app.pg),
  };
  const services = {
    events: createEventsService(repositories.events),
    cameras: createCamerasService({ cameras: repositories.cameras, health: repositories.health }),
    status: createStatusService({
      pool: app.pg,
      repo: repositories.status,
      cameras: repositories.cameras,
      bus,
      staleMs: app.config.HEALTH_STALE_SEC * 1000,
    }),
  };
  return { repositories, services };
}

declare module 'fastify' {
  interface FastifyInstance {
    bus: HubBus;
    repositories: ReturnType<typeof build>['repositories'];
    services: ReturnType<typeof build>['services'];
    snapshots: SnapshotStore;
  }
}

/** Composition root: repositories (all I/O) are built once and handed to the services (rules). */
export default fp(
  async (app: FastifyInstance) => {
    const bus = new HubBus();
    const { repositories, services } = build(app, bus);
    app.decorate('bus', bus);
    app.decorate('repositories', repositories);
    app.decorate('services', services);
    app.decorate('snapshots', createSnapshotStore(app.config.SNAPSHOT_DIR));
  },
  { name: 'services', dependencies: ['config', 'pg'] },
);
