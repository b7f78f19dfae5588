import type { CameraItem, HealthSample, Problem } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';

interface CameraRow {
  site: string;
  camera: string;
  name: string | null;
  last_seen_at: Date | null;
  last_event_at: Date | null;
  status: CameraItem['status'];
  status_since: Date | null;
  status_problems: Problem[];
  health: HealthSample | null;
}

function toItem(r: CameraRow): CameraItem {
  return {
    site: r.site,
    camera: r.camera,
    name: r.name ?? r.camera,
    status: r.status,
    since: r.status_since ? r.status_since.toISOString() : null,
    lastSeenAt: r.last_seen_at ? r.last_seen_at.toISOString() : null,
    lastEventAt: r.last_event_at ? r.last_event_at.toISOString() : null,
    health: r.health,
    problems: r.status_problems,
  };
}

export function createCamerasRepository(db: Queryable) {
  return {
    async list(filter: { site?: string; sites?: string[]; status?: string }): Promise<CameraItem[]> {
      const values: unknown[] = [];
      const where: string[] = [];
      if (filter.site) where.push(`c.site = $${values.push(filter.site)}`);
      if (filter.sites) where.push(`c.site = ANY($${values.push(filter.sites)}::text[])`);
      if (filter.status) where.push(`c.status = $${values.push(filter.status)}`);
      const { rows } = await db.query<CameraRow>(
        `SELECT c.site, c.camera, c.name, c.last_seen_at, c.last_event_at, c.status, c.status_since,
                c.status_problems, c.health
         FROM cameras c
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY c.site, c.camera`,
        values,
      );
      return rows.map(toItem);
    },

    async exists(site: string, camera: string): Promise<boolean> {
      const { rowCount } = await db.query('SELECT 1 FROM cameras WHERE site = $1 AND camera = $2', [site, camera]);
      return (rowCount ?? 0) > 0;
    },
  };
}
export type CamerasRepository = ReturnType<typeof createCamerasRepository>;
