import type { CameraViewStatus, HealthSample, Problem } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';
import type { CameraFacts } from './status-decider.js';

interface FactsRow {
  site: string;
  camera: string;
  status: CameraViewStatus;
  health_at: Date | null;
  health: HealthSample | null;
  reported_status: string | null;
  reported_since: Date | null;
  reported_problems: Problem[];
  agent_state: string | null;
  agent_received_at: Date | null;
}

export interface StoredFacts extends CameraFacts {
  current: CameraViewStatus;
}

const toFacts = (r: FactsRow): StoredFacts => ({
  site: r.site,
  camera: r.camera,
  current: r.status,
  healthAt: r.health_at,
  health: r.health,
  reportedStatus: r.reported_status,
  reportedSince: r.reported_since,
  reportedProblems: r.reported_problems,
  agentState: r.agent_state,
  agentReceivedAt: r.agent_received_at,
});

const FACTS = `SELECT c.site, c.camera, c.status, c.health_at, c.health, c.reported_status, c.reported_since,
                      c.reported_problems, a.state AS agent_state, a.received_at AS agent_received_at
               FROM cameras c LEFT JOIN agents a ON a.site = c.site`;

/**
 * A camera disabled in the registry is stopped at its agent on purpose: its silence is no fault, so no verdict is
 * re-decided for it (it keeps the one it had) and the sweeper passes it by.
 */
const ENABLED = `NOT EXISTS (SELECT 1 FROM camera_registry r
                                 WHERE r.site = c.site AND r.camera = c.camera AND NOT r.enabled)`;

export function createStatusRepository(pool: Queryable) {
  return {
    /** Locks the cameras' rows (sorted, so concurrent callers cannot deadlock) and returns what decides them. */
    async lockFacts(keys: { site: string; camera: string }[], tx: Queryable): Promise<StoredFacts[]> {
      if (keys.length === 0) return [];
      const sorted = [...keys].sort((a, b) =>
        a.site === b.site ? a.camera.localeCompare(b.camera) : a.site.localeCompare(b.site),
      );
      const { rows } = await tx.query<FactsRow>(
        `${FACTS} WHERE (c.site, c.camera) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND ${ENABLED}
         ORDER BY c.site, c.camera FOR UPDATE OF c`,
        [sorted.map((k) => k.site), sorted.map((k) => k.camera)],
      );
      return rows.map(toFacts);
    },

    async camerasOfSite(site: string, db: Queryable = pool): Promise<{ site: string; camera: string }[]> {
      const { rows } = await db.query<{ site: string; camera: string }>(
        `SELECT site, camera FROM cameras c WHERE site = $1 AND ${ENABLED}`,
        [site],
      );
      return rows;
    },

    /** Enabled cameras believed up whose last health sample is older than `before`. */
    async silentSince(before: Date, limit: number, db: Queryable = pool): Promise<{ site: string; camera: string }[]> {
      const { rows } = await db.query<{ site: string; camera: string }>(
        `SELECT site, camera FROM cameras c
         WHERE status IN ('online', 'degraded') AND health_at < $1 AND ${ENABLED} LIMIT $2`,
        [before, limit],
      );
      return rows;
    },

    async setStatus(
      c: {
        site: string;
        camera: string;
        from: CameraViewStatus;
        to: CameraViewStatus;
        problems: Problem[];
        since: Date;
      },
      tx: Queryable,
    ): Promise<void> {
      await tx.query(
        `UPDATE cameras SET status = $3, status_since = $4, status_problems = $5 WHERE site = $1 AND camera = $2`,
        [c.site, c.camera, c.to, c.since, JSON.stringify(c.problems)],
      );
      if (c.from !== c.to) {
        await tx.query(
          `INSERT INTO camera_transitions (site, camera, from_status, to_status, problems, at) VALUES ($1, $2, $3, $4, $5, $6)`,
          [c.site, c.camera, c.from, c.to, JSON.stringify(c.problems), c.since],
        );
      }
    },

    /** Status in force at `at`: the target of the last transition before it (null: none recorded yet). */
    async statusAt(site: string, camera: string, at: Date, db: Queryable = pool): Promise<CameraViewStatus | null> {
      const { rows } = await db.query<{ to_status: CameraViewStatus }>(
        `SELECT to_status FROM camera_transitions WHERE site = $1 AND camera = $2 AND at < $3
         ORDER BY at DESC, id DESC LIMIT 1`,
        [site, camera, at],
      );
      return rows[0]?.to_status ?? null;
    },

    async transitions(site: string, camera: string, from: Date, to: Date, limit: number, db: Queryable = pool) {
      const { rows } = await db.query<{
        from_status: CameraViewStatus;
        to_status: CameraViewStatus;
        problems: Problem[];
        at: Date;
      }>(
        `SELECT from_status, to_status, problems, at FROM camera_transitions
         WHERE site = $1 AND camera = $2 AND at >= $3 AND at < $4 ORDER BY at ASC, id ASC LIMIT $5`,
        [site, camera, from, to, limit],
      );
      return rows;
    },

    async deleteHealthBefore(before: Date, batch: number, db: Queryable = pool): Promise<number> {
      const res = await db.query(
        `DELETE FROM health_samples WHERE ctid IN (SELECT ctid FROM health_samples WHERE at < $1 LIMIT $2)`,
        [before, batch],
      );
      return res.rowCount ?? 0;
    },
  };
}
export type StatusRepository = ReturnType<typeof createStatusRepository>;
