import type { CameraItem, HealthSample, Problem } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';

interface CameraRow {
  site: string;
  camera: string;
  name: string | null;
  last_seen_at: Date | null;
  last_event_at: Date | null;
  reported_status: string | null;
  reported_since: Date | null;
  reported_problems: Problem[];
  health: HealthSample | null;
  agent_state: string | null;
  agent_received_at: Date | null;
}

/** The hub's verdict on a camera from what it stored (the health issue refines this into a state machine). */
function toItem(r: CameraRow): CameraItem {
  let status = (r.reported_status ?? r.health?.status ?? 'unknown') as CameraItem['status'];
  let since = r.reported_since ?? null;
  let problems: Problem[] = r.reported_problems ?? r.health?.problems ?? [];
  if (r.agent_state === 'offline') {
    status = 'unknown';
    since = r.agent_received_at;
    problems = [{ code: 'agent_offline', message: `the edge agent of site ${r.site} is offline` }];
  }
  return {
    site: r.site,
    camera: r.camera,
    name: r.name ?? r.camera,
    status,
    since: since ? since.toISOString() : null,
    lastSeenAt: r.last_seen_at ? r.last_seen_at.toISOString() : null,
    lastEventAt: r.last_event_at ? r.last_event_at.toISOString() : null,
    health: r.health,
    problems,
  };
}

export function createCamerasRepository(db: Queryable) {
  return {
    async list(filter: { site?: string; sites?: string[] }): Promise<CameraItem[]> {
      const values: unknown[] = [];
      const where: string[] = [];
      if (filter.site) where.push(`c.site = $${values.push(filter.site)}`);
      if (filter.sites) where.push(`c.site = ANY($${values.push(filter.sites)}::text[])`);
      const { rows } = await db.query<CameraRow>(
        `SELECT c.site, c.camera, c.name, c.last_seen_at, c.last_event_at, c.reported_status, c.reported_since,
                c.reported_problems, c.health, a.state AS agent_state, a.received_at AS agent_received_at
         FROM cameras c LEFT JOIN agents a ON a.site = c.site
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
