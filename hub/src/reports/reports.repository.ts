import type { Report } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';
import { eventsParts, idRange } from '../events/id-window.js';

/** The period and the sites a report covers (`sites` null: every site). */
export interface ReportScope {
  from: Date;
  to: Date;
  sites: string[] | null;
}

interface UptimeRow {
  site: string;
  camera: string;
  name: string | null;
  online: number;
  degraded: number;
  offline: number;
  unknown: number;
}

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

/**
 * The report's figures, each one SQL over the stored history. Sites filter as `$3::text[] IS NULL OR site = ANY($3)`.
 * Uptime walks `camera_transitions`: a camera's status at `from` is its last transition before it (unknown if none),
 * and each later transition inside the period starts a new segment.
 */
export function createReportsRepository(db: Queryable, opts: { idMarginSec?: number } = {}) {
  const idMarginMs = opts.idMarginSec === undefined ? -1 : opts.idMarginSec * 1000;
  return {
    async events(scope: ReportScope): Promise<Report['events']> {
      const values: unknown[] = [scope.from, scope.to, scope.sites];
      // Only the day partitions of the period are read (id-window.ts).
      const parts = eventsParts(
        idRange({ from: scope.from, to: scope.to }, idMarginMs),
        [`at >= $1 AND at < $2 AND state <> 'end' AND ($3::text[] IS NULL OR site = ANY($3))`],
        (v) => {
          values.push(v);
          return `$${values.length}`;
        },
      );
      const { rows } = await db.query<{ site: string; type: string; count: string }>(
        `SELECT site, type, count(*) AS count FROM (${parts.map((p) => `SELECT site, type ${p}`).join(' UNION ALL ')}) e
          GROUP BY site, type ORDER BY site, type`,
        values,
      );
      return rows.map((r) => ({ site: r.site, type: r.type, count: Number(r.count) }));
    },

    async alerts(scope: ReportScope): Promise<Report['alerts']> {
      const args = [scope.from, scope.to, scope.sites];
      const where = `opened_at >= $1 AND opened_at < $2 AND ($3::text[] IS NULL OR site = ANY($3))`;
      const bySeverity = await db.query<{ site: string; severity: string; count: string }>(
        `SELECT site, severity, count(*) AS count FROM alerts WHERE ${where} GROUP BY site, severity ORDER BY site, severity`,
        args,
      );
      const { rows } = await db.query<{
        opened: string;
        acknowledged: string;
        resolved: string;
        auto_resolved: string;
        false_alarms: string;
        by_person: string;
        escalated: string;
        ack_median: number | null;
        ack_p90: number | null;
        resolve_median: number | null;
        resolve_p90: number | null;
      }>(
        `SELECT count(*) AS opened,
                count(*) FILTER (WHERE acknowledged_at IS NOT NULL) AS acknowledged,
                count(*) FILTER (WHERE resolved_at IS NOT NULL) AS resolved,
                count(*) FILTER (WHERE resolution = 'auto') AS auto_resolved,
                count(*) FILTER (WHERE resolution = 'false_alarm') AS false_alarms,
                count(*) FILTER (WHERE resolution IN ('manual', 'false_alarm')) AS by_person,
                count(*) FILTER (WHERE escalated_at IS NOT NULL) AS escalated,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - opened_at))
                  FILTER (WHERE acknowledged_at IS NOT NULL) AS ack_median,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - opened_at))
                  FILTER (WHERE acknowledged_at IS NOT NULL) AS ack_p90,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - opened_at))
                  FILTER (WHERE resolution IN ('manual', 'false_alarm')) AS resolve_median,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - opened_at))
                  FILTER (WHERE resolution IN ('manual', 'false_alarm')) AS resolve_p90
           FROM alerts WHERE ${where}`,
        args,
      );
      const r = rows[0]!;
      const byPerson = Number(r.by_person);
      return {
        bySeverity: bySeverity.rows.map((x) => ({ site: x.site, severity: x.severity, count: Number(x.count) })),
        opened: Number(r.opened),
        acknowledged: Number(r.acknowledged),
        resolved: Number(r.resolved),
        autoResolved: Number(r.auto_resolved),
        falseAlarms: Number(r.false_alarms),
        falseAlarmShare: byPerson > 0 ? Number(r.false_alarms) / byPerson : null,
        escalated: Number(r.escalated),
        ackSeconds: { median: num(r.ack_median), p90: num(r.ack_p90) },
        resolveSeconds: { median: num(r.resolve_median), p90: num(r.resolve_p90) },
      };
    },

    /** Seconds each camera spent in each status over the period. */
    async cameraSeconds(scope: ReportScope): Promise<UptimeRow[]> {
      const { rows } = await db.query<UptimeRow>(
        `WITH cams AS (
           SELECT site, camera, name FROM cameras WHERE ($3::text[] IS NULL OR site = ANY($3))
         ), points AS (
           SELECT c.site, c.camera, $1::timestamptz AS at, 0::bigint AS id,
                  coalesce((SELECT t.to_status FROM camera_transitions t
                             WHERE t.site = c.site AND t.camera = c.camera AND t.at < $1
                             ORDER BY t.at DESC, t.id DESC LIMIT 1), 'unknown') AS status
             FROM cams c
           UNION ALL
           SELECT t.site, t.camera, t.at, t.id, t.to_status
             FROM camera_transitions t JOIN cams c ON c.site = t.site AND c.camera = t.camera
            WHERE t.at >= $1 AND t.at < $2
         ), segments AS (
           SELECT site, camera, status,
                  extract(epoch FROM coalesce(lead(at) OVER (PARTITION BY site, camera ORDER BY at, id), $2) - at)
                    AS seconds
             FROM points
         )
         SELECT s.site, s.camera, c.name,
                coalesce(sum(seconds) FILTER (WHERE status = 'online'), 0)::float8 AS online,
                coalesce(sum(seconds) FILTER (WHERE status = 'degraded'), 0)::float8 AS degraded,
                coalesce(sum(seconds) FILTER (WHERE status = 'offline'), 0)::float8 AS offline,
                coalesce(sum(seconds) FILTER (WHERE status NOT IN ('online', 'degraded', 'offline')), 0)::float8
                  AS unknown
           FROM segments s JOIN cams c ON c.site = s.site AND c.camera = s.camera
          GROUP BY s.site, s.camera, c.name ORDER BY s.site, s.camera`,
        [scope.from, scope.to, scope.sites],
      );
      return rows;
    },
  };
}
export type ReportsRepository = ReturnType<typeof createReportsRepository>;
