import type { AgentStatus, CameraEvent, EventClip, HealthSample } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';
import type { Rejection } from './ingest-types.js';

/** Millisecond precision everywhere: what we store is exactly what a keyset cursor can carry back. */
const ms = (iso: string) => new Date(iso).toISOString();

export interface CameraTouch {
  site: string;
  camera: string;
  lastSeenAt: string;
  lastEventAt: string | null;
  lastEventSeq: number | null;
  healthAt: string | null;
  health: HealthSample | null;
  reportedStatus: string | null;
  reportedSince: string | null;
  reportedProblems: unknown[] | null;
  /** The camera's name for people, when a status message carried one. */
  name: string | null;
}

/** All SQL of the ingest path. Each call is one statement over a whole batch (arrays + unnest), never per row. */
export function createIngestRepository(pool: Queryable) {
  return {
    /** Inserts events once by id; returns the ids that were new (the rest were duplicates). */
    async insertEvents(
      events: { payload: CameraEvent; receivedAt: string }[],
      db: Queryable = pool,
    ): Promise<Set<string>> {
      if (events.length === 0) return new Set();
      const cols: unknown[][] = Array.from({ length: 12 }, () => []);
      // Rows in id order: two batches holding the same ids (a duplicate split across concurrent workers or hubs)
      // then take their row locks in the same order and wait for each other instead of deadlocking.
      const ordered = events
        .map((e) => ({ key: e.payload.id.toLowerCase(), e }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const {
        e: { payload: e, receivedAt },
      } of ordered) {
        const row = [
          e.id.toLowerCase(),
          e.site,
          e.camera,
          e.seq,
          e.type,
          e.state,
          ms(e.at),
          receivedAt,
          e.source.kind,
          e.source.topic ?? null,
          e.data === undefined ? null : JSON.stringify(e.data),
          e.snapshot ?? null,
        ];
        row.forEach((v, i) => cols[i]!.push(v));
      }
      const res = await db.query(
        `INSERT INTO events (id, site, camera, seq, type, state, at, received_at, source_kind, source_topic, data, snapshot)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
                              $7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[], $11::jsonb[], $12::text[])
         ON CONFLICT (id) DO NOTHING
         RETURNING id`,
        cols,
      );
      return new Set(res.rows.map((r) => r.id as string));
    },

    /** Links events to their clips; the first link of an event wins (an agent may send it again). */
    async insertClipLinks(links: { payload: EventClip; receivedAt: string }[], db: Queryable = pool): Promise<number> {
      if (links.length === 0) return 0;
      const cols: unknown[][] = Array.from({ length: 9 }, () => []);
      const ordered = [...links].sort((a, b) =>
        a.payload.event.toLowerCase() < b.payload.event.toLowerCase() ? -1 : 1,
      );
      for (const { payload: c, receivedAt } of ordered) {
        const row = [
          c.event.toLowerCase(),
          c.site,
          c.camera,
          c.clip,
          ms(c.startAt),
          c.durationMs,
          c.bytes,
          ms(c.at),
          receivedAt,
        ];
        row.forEach((v, i) => cols[i]!.push(v));
      }
      const res = await db.query(
        `INSERT INTO event_clips (event_id, site, camera, ref, start_at, duration_ms, bytes, cut_at, received_at)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::int[],
                              $7::bigint[], $8::timestamptz[], $9::timestamptz[])
         ON CONFLICT (event_id) DO NOTHING`,
        cols,
      );
      return res.rowCount ?? 0;
    },

    async insertHealth(samples: HealthSample[], db: Queryable = pool): Promise<number> {
      if (samples.length === 0) return 0;
      const cols: unknown[][] = Array.from({ length: 18 }, () => []);
      for (const h of samples) {
        const o = h.onvif;
        const s = h.stream ?? null;
        const row = [
          h.site,
          h.camera,
          ms(h.at),
          h.status,
          o?.reachable ?? null,
          o?.latencyMs ?? null,
          o?.eventsSubscribed ?? null,
          o?.lastPullAt ? ms(o.lastPullAt) : null,
          o?.clockSkewMs ?? null,
          s?.ok ?? null,
          s?.codec ?? null,
          s?.width == null ? null : Math.round(s.width),
          s?.height == null ? null : Math.round(s.height),
          s?.fps ?? null,
          s?.bitrateKbps ?? null,
          s?.frozen ?? null,
          s?.black ?? null,
          h.problems.length > 0 ? JSON.stringify(h.problems) : null,
        ];
        row.forEach((v, i) => cols[i]!.push(v));
      }
      const res = await db.query(
        `INSERT INTO health_samples (site, camera, at, status, reachable, latency_ms, events_subscribed, last_pull_at,
                                     clock_skew_ms, stream_ok, codec, width, height, fps, bitrate_kbps, frozen, black, problems)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::boolean[], $6::real[],
                              $7::boolean[], $8::timestamptz[], $9::real[], $10::boolean[], $11::text[], $12::int[],
                              $13::int[], $14::real[], $15::real[], $16::boolean[], $17::boolean[], $18::jsonb[])
         ON CONFLICT (site, camera, at) DO NOTHING`,
        cols,
      );
      return res.rowCount ?? 0;
    },

    /**
     * One upsert for every camera a batch touched. Rows are sorted by (site, camera) so that concurrent batches
     * lock camera rows in the same order and cannot deadlock. Each field only moves forward in time. A camera removed
     * from the registry (camera_removals) is not written back by what its agent sent before it stopped it.
     */
    async touchCameras(touches: CameraTouch[], db: Queryable = pool): Promise<void> {
      if (touches.length === 0) return;
      const sorted = [...touches].sort((a, b) =>
        a.site === b.site ? (a.camera < b.camera ? -1 : 1) : a.site < b.site ? -1 : 1,
      );
      const cols: unknown[][] = Array.from({ length: 11 }, () => []);
      for (const t of sorted) {
        const row = [
          t.site,
          t.camera,
          t.lastSeenAt,
          t.lastEventAt,
          t.lastEventSeq,
          t.healthAt,
          t.health ? JSON.stringify(t.health) : null,
          t.reportedStatus,
          t.reportedSince,
          t.reportedProblems ? JSON.stringify(t.reportedProblems) : null,
          t.name,
        ];
        row.forEach((v, i) => cols[i]!.push(v));
      }
      await db.query(
        `INSERT INTO cameras AS c (site, camera, last_seen_at, last_event_at, last_event_seq, health_at, health,
                                   reported_status, reported_since, reported_problems, name)
         SELECT site, camera, seen, ev_at, ev_seq, h_at, h, r_status, r_since, COALESCE(r_problems, '[]'::jsonb), nm
         FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::bigint[], $6::timestamptz[],
                     $7::jsonb[], $8::text[], $9::timestamptz[], $10::jsonb[], $11::text[])
              AS t(site, camera, seen, ev_at, ev_seq, h_at, h, r_status, r_since, r_problems, nm)
         WHERE NOT EXISTS (SELECT 1 FROM camera_removals x WHERE x.site = t.site AND x.camera = t.camera)
         ON CONFLICT (site, camera) DO UPDATE SET
           name = COALESCE(excluded.name, c.name),
           last_seen_at = GREATEST(c.last_seen_at, excluded.last_seen_at),
           last_event_at = GREATEST(c.last_event_at, excluded.last_event_at),
           last_event_seq = GREATEST(c.last_event_seq, excluded.last_event_seq),
           health = CASE WHEN excluded.health_at IS NOT NULL AND (c.health_at IS NULL OR excluded.health_at >= c.health_at)
                         THEN excluded.health ELSE c.health END,
           health_at = GREATEST(c.health_at, excluded.health_at),
           reported_status = CASE WHEN excluded.reported_since IS NOT NULL
                                   AND (c.reported_since IS NULL OR excluded.reported_since >= c.reported_since)
                                  THEN excluded.reported_status ELSE c.reported_status END,
           reported_problems = CASE WHEN excluded.reported_since IS NOT NULL
                                     AND (c.reported_since IS NULL OR excluded.reported_since >= c.reported_since)
                                    THEN excluded.reported_problems ELSE c.reported_problems END,
           reported_since = GREATEST(c.reported_since, excluded.reported_since)`,
        cols,
      );
    },

    /** Latest agent status per site; ordered by the hub's receive time because a last will carries its connect time. */
    async upsertAgents(agents: { payload: AgentStatus; receivedAt: string }[], db: Queryable = pool): Promise<void> {
      const latest = new Map<string, { payload: AgentStatus; receivedAt: string }>();
      for (const a of agents) latest.set(a.payload.site, a);
      for (const { payload: a, receivedAt } of [...latest.values()].sort((x, y) =>
        x.payload.site < y.payload.site ? -1 : 1,
      )) {
        await db.query(
          `INSERT INTO agents AS g (site, agent, state, version, at, cameras, unadopted, config, received_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (site) DO UPDATE SET agent = excluded.agent, state = excluded.state, version = excluded.version,
             at = excluded.at, cameras = excluded.cameras, unadopted = excluded.unadopted,
             config = coalesce(excluded.config, g.config), received_at = excluded.received_at
           WHERE excluded.received_at >= g.received_at`,
          [
            a.site,
            a.agent,
            a.state,
            a.version,
            ms(a.at),
            a.cameras,
            JSON.stringify(a.unadopted ?? []),
            a.config ? JSON.stringify(a.config) : null,
            receivedAt,
          ],
        );
        // A removed camera its agent runs again, at or after the version that removed it (its YAML names it): heard.
        const running = a.config?.version != null ? a.config.cameras.map((c) => c.id) : [];
        if (running.length > 0) {
          await db.query('DELETE FROM camera_removals WHERE site = $1 AND version <= $2 AND camera = ANY($3)', [
            a.site,
            a.config!.version,
            running,
          ]);
        }
      }
    },

    /**
     * Records the events a batch stored for the first time, for alert evaluation (one row per batch, in the batch's
     * transaction). Returns whether the batch has a row waiting: a batch written again after a crash stores no new
     * event, but its first attempt's row may still wait for its evaluation.
     */
    async recordForAlerts(batchId: string, eventIds: string[], db: Queryable = pool): Promise<boolean> {
      if (eventIds.length > 0) {
        await db.query(
          'INSERT INTO alert_outbox (batch_id, event_ids) VALUES ($1, $2) ON CONFLICT (batch_id) DO NOTHING',
          [batchId, eventIds],
        );
        return true;
      }
      const { rowCount } = await db.query('SELECT 1 FROM alert_outbox WHERE batch_id = $1', [batchId]);
      return (rowCount ?? 0) > 0;
    },

    async insertRejections(rejections: Rejection[], db: Queryable = pool): Promise<void> {
      if (rejections.length === 0) return;
      const cols: unknown[][] = Array.from({ length: 7 }, () => []);
      for (const r of rejections) {
        [r.topic, r.reason, r.detail, r.receivedAt, r.payload, r.payloadBytes, r.truncated].forEach((v, i) =>
          cols[i]!.push(v),
        );
      }
      await db.query(
        `INSERT INTO ingest_rejections (topic, reason, detail, received_at, payload, payload_bytes, truncated)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::int[], $7::boolean[])`,
        cols,
      );
    },
  };
}
export type IngestRepository = ReturnType<typeof createIngestRepository>;
