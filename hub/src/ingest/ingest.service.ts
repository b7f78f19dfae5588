import type pg from 'pg';
import { withTransaction } from '../db/queryable.js';
import type { HubMetrics } from '../metrics/metrics.js';
import type { CameraTouch, IngestRepository } from './ingest.repository.js';
import type { AcceptedMessage, IngestBatch, IngestResult, Rejection } from './ingest-types.js';
import type { CameraTouchBuffer } from './touch-buffer.js';

/** SQLSTATE classes that mean "this data can never be stored", as opposed to "try again later". */
const isDataError = (err: unknown) => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
};

const later = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);

/** Folds a batch into one row per camera: what the cameras table learns from it. */
export function cameraTouches(messages: AcceptedMessage[]): CameraTouch[] {
  const byCamera = new Map<string, CameraTouch>();
  for (const m of messages) {
    if (m.kind === 'agent' || m.kind === 'clips') continue;
    const p = m.payload;
    const key = `${p.site}/${p.camera}`;
    let t = byCamera.get(key);
    if (!t) {
      t = {
        site: p.site,
        camera: p.camera,
        lastSeenAt: m.receivedAt,
        lastEventAt: null,
        lastEventSeq: null,
        healthAt: null,
        health: null,
        reportedStatus: null,
        reportedSince: null,
        reportedProblems: null,
        name: null,
      };
      byCamera.set(key, t);
    }
    t.lastSeenAt = later(t.lastSeenAt, m.receivedAt)!;
    if (m.kind === 'events') {
      const at = new Date(m.payload.at).toISOString();
      t.lastEventAt = later(t.lastEventAt, at);
      t.lastEventSeq = Math.max(t.lastEventSeq ?? -1, m.payload.seq);
    } else if (m.kind === 'health') {
      const at = new Date(m.payload.at).toISOString();
      if (t.healthAt === null || at >= t.healthAt) {
        t.healthAt = at;
        t.health = m.payload;
      }
    } else {
      const since = new Date(m.payload.since).toISOString();
      if (t.reportedSince === null || since >= t.reportedSince) {
        t.reportedSince = since;
        t.reportedStatus = m.payload.status;
        t.reportedProblems = m.payload.problems;
        t.name = m.payload.name ?? t.name;
      }
    }
  }
  return [...byCamera.values()];
}

export interface StoredBatch {
  /** Events stored for the first time by this batch (duplicates excluded), in batch order. */
  newEvents: Extract<AcceptedMessage, { kind: 'events' }>[];
  accepted: AcceptedMessage[];
  /** Outbox rows (alert_outbox) this batch left for alert evaluation, by batch id. */
  alertBatches: string[];
}

export function createIngestService(deps: {
  pool: pg.Pool;
  repo: IngestRepository;
  metrics: HubMetrics;
  /** Called after a batch is committed (alerts, live feed, health state hook in here). */
  afterStore?: (stored: StoredBatch) => Promise<void> | void;
  /**
   * Where the camera touches of event messages go after commit, to be written every few hundred ms (see
   * touch-buffer.ts). Without it every touch is written inside the batch transaction.
   */
  eventTouches?: CameraTouchBuffer;
  /**
   * The event types alert rules act on now (null: all; see alerts/rules.ts alertEventTypes). Only new events of these
   * types are recorded for alert evaluation. Without it every new event is.
   */
  alertEventTypes?: () => Promise<ReadonlySet<string> | null>;
}) {
  const { pool, repo, metrics } = deps;

  async function writeOnce(
    batch: IngestBatch,
    batchId: string | undefined,
  ): Promise<{ result: IngestResult; stored: StoredBatch }> {
    const seen = new Set<string>();
    const events: Extract<AcceptedMessage, { kind: 'events' }>[] = [];
    const health: Extract<AcceptedMessage, { kind: 'health' }>[] = [];
    const agents: Extract<AcceptedMessage, { kind: 'agent' }>[] = [];
    const clips: Extract<AcceptedMessage, { kind: 'clips' }>[] = [];
    let status = 0;
    for (const m of batch.accepted) {
      if (m.kind === 'events') {
        const id = m.payload.id.toLowerCase();
        if (seen.has(id)) continue;
        seen.add(id);
        events.push(m);
      } else if (m.kind === 'health') health.push(m);
      else if (m.kind === 'agent') agents.push(m);
      else if (m.kind === 'clips') clips.push(m);
      else status += 1;
    }
    // Read before the transaction (rules are kept in memory, reloaded when one changes): a rule takes effect for the
    // batches stored after it reaches this hub.
    const alertTypes = deps.alertEventTypes && events.length > 0 ? await deps.alertEventTypes() : null;
    const stop = metrics.insertSeconds.startTimer();
    const out = await withTransaction(pool, async (tx) => {
      const insertedIds = await repo.insertEvents(events, tx);
      await repo.insertHealth(
        health.map((h) => h.payload),
        tx,
      );
      await repo.touchCameras(
        cameraTouches(deps.eventTouches ? batch.accepted.filter((m) => m.kind !== 'events') : batch.accepted),
        tx,
      );
      await repo.upsertAgents(agents, tx);
      await repo.insertClipLinks(clips, tx);
      await repo.insertRejections(batch.rejected, tx);
      // Alert evaluation is owed for the new events: recorded with them, so a crash after the commit cannot lose it.
      // Only events some rule can act on: with the default rules a motion event is never read back for evaluation.
      const owedIds =
        alertTypes === null
          ? [...insertedIds]
          : events
              .filter((e) => alertTypes.has(e.payload.type) && insertedIds.has(e.payload.id.toLowerCase()))
              .map((e) => e.payload.id.toLowerCase());
      const owed =
        batchId !== undefined && events.length > 0 ? await repo.recordForAlerts(batchId, owedIds, tx) : false;
      return { insertedIds, owed };
    });
    stop();
    deps.eventTouches?.add(cameraTouches(batch.accepted.filter((m) => m.kind === 'events')));
    const newEvents = events.filter((e) => out.insertedIds.has(e.payload.id.toLowerCase()));
    const result: IngestResult = {
      events: batch.accepted.filter((m) => m.kind === 'events').length,
      eventsInserted: newEvents.length,
      health: health.length,
      status,
      agent: agents.length,
      clips: clips.length,
      rejected: batch.rejected.length,
    };
    return {
      result,
      stored: { newEvents, accepted: batch.accepted, alertBatches: out.owed && batchId ? [batchId] : [] },
    };
  }

  return {
    /**
     * Writes one batch in one transaction. A batch PostgreSQL refuses for its data (not for being down) is split so
     * that one bad message cannot hold back the rest: each message is retried alone and refusals become rejections.
     */
    async writeBatch(batch: IngestBatch, batchId?: string): Promise<IngestResult> {
      metrics.batchSize.observe(batch.accepted.length + batch.rejected.length);
      let outcome: { result: IngestResult; stored: StoredBatch };
      try {
        outcome = await writeOnce(batch, batchId);
      } catch (err) {
        if (!isDataError(err) || batch.accepted.length + batch.rejected.length <= 1) throw err;
        outcome = await writeSplit(batch, batchId);
      }
      metrics.stored.inc(outcome.result.eventsInserted);
      metrics.duplicates.inc(outcome.result.events - outcome.result.eventsInserted);
      if (
        deps.afterStore &&
        (outcome.stored.accepted.length > 0 ||
          outcome.stored.newEvents.length > 0 ||
          outcome.stored.alertBatches.length > 0)
      ) {
        await deps.afterStore(outcome.stored);
      }
      return outcome.result;
    },
  };

  async function writeSplit(batch: IngestBatch, batchId: string | undefined) {
    const total: IngestResult = {
      events: 0,
      eventsInserted: 0,
      health: 0,
      status: 0,
      agent: 0,
      clips: 0,
      rejected: 0,
    };
    const stored: StoredBatch = { newEvents: [], accepted: [], alertBatches: [] };
    const refused: Rejection[] = [];
    for (const [i, m] of batch.accepted.entries()) {
      try {
        const part = batchId === undefined ? undefined : `${batchId}/${i}`;
        const { result, stored: s } = await writeOnce({ accepted: [m], rejected: [] }, part);
        for (const k of Object.keys(total) as (keyof IngestResult)[]) total[k] += result[k];
        stored.newEvents.push(...s.newEvents);
        stored.accepted.push(...s.accepted);
        stored.alertBatches.push(...s.alertBatches);
      } catch (err) {
        if (!isDataError(err)) throw err;
        const payload = JSON.stringify(m.payload);
        refused.push({
          topic: `(${m.kind}) ${'camera' in m.payload ? `${m.payload.site}/${m.payload.camera}` : m.payload.site}`,
          reason: 'storage_rejected',
          detail: `PostgreSQL refused it: ${(err as Error).message}`.slice(0, 500),
          receivedAt: m.receivedAt,
          payload: payload.slice(0, 4096),
          payloadBytes: Buffer.byteLength(payload),
          truncated: payload.length > 4096,
        });
      }
    }
    const rejections = [...batch.rejected, ...refused];
    await withTransaction(pool, (tx) => repo.insertRejections(rejections, tx));
    total.rejected = rejections.length;
    return { result: total, stored };
  }
}
export type IngestService = ReturnType<typeof createIngestService>;
