import fp from 'fastify-plugin';
import { queueAlertEvaluations } from '../alerts/alert-jobs.js';
import { QueueBackpressure } from './backpressure.js';
import { afterCommitFollowers } from './after-commit.js';

/** Evaluations queued (not yet done) at which the ingest worker waits before queueing more: backpressure. */
const MAX_QUEUED_EVALUATIONS = 500;

/** The after-commit pipeline of the ingest worker (after-commit.ts), wired to the bus and the alert queue. */
export default fp(
  async (app) => {
    const queue = app.queues.alerts;
    // Waiting, not skipping: a full alert queue holds the ingest worker, whose queue then holds MQTT reading.
    const backpressure = new QueueBackpressure({
      counts: () => queue.getJobCounts('waiting', 'active', 'prioritized'),
      maxQueued: MAX_QUEUED_EVALUATIONS,
      onError: (err) => app.log.debug({ err: err.message }, 'alert queue depth refresh failed'),
    });
    backpressure.start();
    app.container.afterCommit.push(
      ...afterCommitFollowers({
        status: app.container.services.status,
        bus: app.container.bus,
        queueAlertEvaluation: async (batchIds) => {
          await backpressure.admit();
          await queueAlertEvaluations(queue, batchIds);
        },
      }),
    );
    app.addHook('onClose', async () => backpressure.stop());
  },
  { name: 'after-commit', dependencies: ['ingest', 'queues'] },
);
