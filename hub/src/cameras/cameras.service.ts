import type { CameraItem, CamerasQuery, HealthSample } from '@camhub/shared';
import { BadRequestError, NotFoundError } from '../errors.js';
import type { CamerasRepository } from './cameras.repository.js';
import type { HealthRepository } from './health.repository.js';

const DAY_MS = 24 * 3600 * 1000;
/** Bound on one history response: 31 days of 30-second samples. */
export const HEALTH_HISTORY_MAX = 31 * 2880;

export function createCamerasService(deps: { cameras: CamerasRepository; health: HealthRepository; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return {
    async list(q: CamerasQuery, scope?: { sites?: string[] }): Promise<CameraItem[]> {
      return deps.cameras.list({ site: q.site, sites: scope?.sites, status: q.status });
    },

    /** The same list as JSON text (a CameraItem array), for the API to send without parsing and serialising it. */
    async listJson(q: CamerasQuery, scope?: { sites?: string[] }): Promise<string> {
      return deps.cameras.listJson({ site: q.site, sites: scope?.sites, status: q.status });
    },

    async health(site: string, camera: string, from?: string, to?: string): Promise<HealthSample[]> {
      const end = to ?? now().toISOString();
      const start = from ?? new Date(Date.parse(end) - DAY_MS).toISOString();
      if (Date.parse(start) >= Date.parse(end))
        throw new BadRequestError('invalid_range', '`from` must be before `to`');
      if (!(await deps.cameras.exists(site, camera))) throw new NotFoundError('camera');
      return deps.health.history(site, camera, start, end, HEALTH_HISTORY_MAX);
    },
  };
}
export type CamerasService = ReturnType<typeof createCamerasService>;
