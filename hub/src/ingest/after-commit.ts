import type { FastifyBaseLogger } from 'fastify';
import type { HubBus } from '../bus.js';
import type { StatusService } from '../cameras/status.service.js';
import type { StoredBatch } from './ingest.service.js';

/** One thing done after a batch commits, in the worker that wrote it. */
export interface AfterCommitFollower {
  name: 'status' | 'live' | 'alerts';
  follow: (stored: StoredBatch) => Promise<void>;
}

/**
 * Everything that follows a commit, in this order:
 *  1. status: re-decide the cameras the batch spoke of (health, status) and the sites whose agent changed state;
 *     verdict changes go on the bus as 'camera.status' (live feed, health alerts);
 *  2. live: announce the new events ('events.stored', read by the live feed);
 *  3. alerts: queue the evaluation of the new events as a BullMQ job keyed by the batch id; the events to evaluate
 *     were recorded in the batch's own transaction (alert_outbox), so this survives a crash and runs once.
 */
export function afterCommitFollowers(deps: {
  status: Pick<StatusService, 'reconcile' | 'reconcileSite'>;
  bus: HubBus;
  /** Queues the evaluation of these outbox batches (waits while the alert queue is full: backpressure). */
  queueAlertEvaluation: (batchIds: string[]) => Promise<void>;
}): AfterCommitFollower[] {
  return [
    {
      name: 'status',
      follow: async (stored) => {
        const cameras = new Map<string, { site: string; camera: string }>();
        const sites = new Map<string, { agent: string; state: 'online' | 'offline'; at: string }>();
        for (const m of stored.accepted) {
          if (m.kind === 'health' || m.kind === 'status') {
            cameras.set(`${m.payload.site}/${m.payload.camera}`, { site: m.payload.site, camera: m.payload.camera });
          } else if (m.kind === 'agent') {
            sites.set(m.payload.site, { agent: m.payload.agent, state: m.payload.state, at: m.receivedAt });
          }
        }
        if (cameras.size > 0) await deps.status.reconcile([...cameras.values()]);
        for (const [site, s] of sites) {
          await deps.status.reconcileSite(site);
          deps.bus.emit('agent.state', { site, agent: s.agent, state: s.state, at: s.at });
        }
      },
    },
    {
      name: 'live',
      follow: async (stored) => {
        if (stored.newEvents.length === 0) return;
        deps.bus.emit(
          'events.stored',
          stored.newEvents.map((m) => ({ ...m.payload, receivedAt: m.receivedAt })),
        );
      },
    },
    {
      name: 'alerts',
      follow: async (stored) => {
        if (stored.alertBatches.length > 0) await deps.queueAlertEvaluation(stored.alertBatches);
      },
    },
  ];
}

/** Runs the followers in order; one failing does not stop the others nor make the committed batch retry. */
export function runAfterCommit(followers: AfterCommitFollower[], log: Pick<FastifyBaseLogger, 'error'>) {
  return async (stored: StoredBatch) => {
    for (const f of followers) {
      try {
        await f.follow(stored);
      } catch (err) {
        log.error({ err, follower: f.name }, 'after-commit follower failed');
      }
    }
  };
}
