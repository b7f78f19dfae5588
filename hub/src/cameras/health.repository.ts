import type { HealthSample, Problem } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';

interface HealthRow {
  site: string;
  camera: string;
  at: Date;
  status: string;
  reachable: boolean | null;
  latency_ms: number | null;
  events_subscribed: boolean | null;
  last_pull_at: Date | null;
  clock_skew_ms: number | null;
  stream_ok: boolean | null;
  codec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  bitrate_kbps: number | null;
  frozen: boolean | null;
  black: boolean | null;
  problems: Problem[] | null;
}

/** Rebuilds a contract HealthSample from its compact row. */
export function rowToSample(r: HealthRow): HealthSample {
  const s: HealthSample = {
    v: 1,
    site: r.site,
    camera: r.camera,
    at: r.at.toISOString(),
    status: r.status as HealthSample['status'],
    problems: r.problems ?? [],
  };
  if (r.reachable !== null) {
    s.onvif = {
      reachable: r.reachable,
      latencyMs: r.latency_ms,
      eventsSubscribed: r.events_subscribed ?? undefined,
      lastPullAt: r.last_pull_at ? r.last_pull_at.toISOString() : null,
      clockSkewMs: r.clock_skew_ms,
    };
    if (s.onvif.eventsSubscribed === undefined) delete s.onvif.eventsSubscribed;
  }
  if (r.stream_ok !== null) {
    s.stream = {
      ok: r.stream_ok,
      codec: r.codec,
      width: r.width,
      height: r.height,
      fps: r.fps,
      bitrateKbps: r.bitrate_kbps,
      frozen: r.frozen ?? false,
      black: r.black ?? false,
    };
  }
  return s;
}

export function createHealthRepository(db: Queryable) {
  return {
    async history(site: string, camera: string, from: string, to: string, limit: number): Promise<HealthSample[]> {
      const { rows } = await db.query<HealthRow>(
        `SELECT * FROM health_samples WHERE site = $1 AND camera = $2 AND at >= $3::timestamptz AND at < $4::timestamptz
         ORDER BY at ASC LIMIT $5`,
        [site, camera, from, to, limit],
      );
      return rows.map(rowToSample);
    },
  };
}
export type HealthRepository = ReturnType<typeof createHealthRepository>;
