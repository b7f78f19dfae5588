import type { AgentConfigReport, DiscoveredCamera } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';
import { ConflictError } from '../errors.js';

export interface RegistryRow {
  site: string;
  camera: string;
  /** The registry name, else the agent-reported one, else the id. */
  name: string;
  registry_name: string | null;
  location: string;
  enabled: boolean;
  adopted: boolean;
  host: string | null;
  port: number | null;
  username: string | null;
  secrets: string | null;
  profile: string | null;
  sub_profile: string | null;
  endpoint: string | null;
  /** From the cameras table: null for a camera that never reported. */
  status: string | null;
  /** Whether the row exists in camera_registry (a camera only heard from has none). */
  registered: boolean;
}

export interface SiteConfigState {
  version: number | null;
  published_version: number | null;
}

export interface AgentRow {
  state: string;
  at: Date;
  unadopted: DiscoveredCamera[];
  config: AgentConfigReport | null;
}

/** The columns a change may set; names are fixed here, never taken from input. */
export interface RegistryChange {
  name?: string | null;
  location?: string;
  enabled?: boolean;
  adopted?: boolean;
  host?: string;
  port?: number;
  username?: string;
  secrets?: string;
  profile?: string | null;
  sub_profile?: string | null;
  endpoint?: string | null;
}
const COLUMNS = [
  'name',
  'location',
  'enabled',
  'adopted',
  'host',
  'port',
  'username',
  'secrets',
  'profile',
  'sub_profile',
  'endpoint',
] as const satisfies readonly (keyof RegistryChange)[];

/** A site's cameras: registered ones and ones only heard from, with the hub's status. */
const SELECT_CAMERAS = `
  SELECT k.site, k.camera, coalesce(r.name, c.name, k.camera) AS name, r.name AS registry_name,
         coalesce(r.location, '') AS location, coalesce(r.enabled, true) AS enabled,
         coalesce(r.adopted, false) AS adopted, r.host, r.port, r.username, r.secrets, r.profile, r.sub_profile,
         r.endpoint, c.status, r.camera IS NOT NULL AS registered
    FROM (SELECT site, camera FROM camera_registry WHERE site = $1
          UNION SELECT site, camera FROM cameras WHERE site = $1) k
    LEFT JOIN camera_registry r ON r.site = k.site AND r.camera = k.camera
    LEFT JOIN cameras c ON c.site = k.site AND c.camera = k.camera`;

export function createRegistryRepository(db: Queryable) {
  return {
    async list(site: string, q: Queryable = db): Promise<RegistryRow[]> {
      const { rows } = await q.query<RegistryRow>(`${SELECT_CAMERAS} ORDER BY k.camera`, [site]);
      return rows;
    },

    async get(site: string, camera: string, q: Queryable = db): Promise<RegistryRow | null> {
      const { rows } = await q.query<RegistryRow>(`${SELECT_CAMERAS} WHERE k.camera = $2`, [site, camera]);
      return rows[0] ?? null;
    },

    /** Rows that go into the site's configuration: adopted cameras and disabled ones. */
    async configRows(site: string, q: Queryable = db): Promise<RegistryRow[]> {
      const { rows } = await q.query<RegistryRow>(
        `${SELECT_CAMERAS} WHERE r.adopted OR NOT r.enabled OR r.name IS NOT NULL ORDER BY k.camera`,
        [site],
      );
      return rows;
    },

    async insert(site: string, camera: string, change: RegistryChange, q: Queryable = db): Promise<void> {
      const cols = COLUMNS.filter((c) => change[c] !== undefined);
      try {
        await q.query(
          `INSERT INTO camera_registry (site, camera${cols.map((c) => `, ${c}`).join('')})
           VALUES ($1, $2${cols.map((_, i) => `, $${i + 3}`).join('')})`,
          [site, camera, ...cols.map((c) => change[c])],
        );
      } catch (err) {
        if ((err as { code?: string }).code === '23505') {
          throw new ConflictError('camera_exists', `camera ${site}/${camera} is already registered`);
        }
        throw err;
      }
    },

    /** Creates the row when the camera had none (a YAML camera named for the first time). */
    async upsert(site: string, camera: string, change: RegistryChange, q: Queryable = db): Promise<void> {
      const cols = COLUMNS.filter((c) => change[c] !== undefined);
      await q.query(
        `INSERT INTO camera_registry (site, camera${cols.map((c) => `, ${c}`).join('')})
         VALUES ($1, $2${cols.map((_, i) => `, $${i + 3}`).join('')})
         ON CONFLICT (site, camera) DO UPDATE SET updated_at = now()${cols.map((c) => `, ${c} = excluded.${c}`).join('')}`,
        [site, camera, ...cols.map((c) => change[c])],
      );
    },

    async remove(site: string, camera: string, q: Queryable = db): Promise<boolean> {
      const { rowCount } = await q.query('DELETE FROM camera_registry WHERE site = $1 AND camera = $2', [site, camera]);
      return (rowCount ?? 0) > 0;
    },

    /** The hub's own camera row (status, name): renamed at once, dropped with a removed camera. */
    async renameKnown(site: string, camera: string, name: string, q: Queryable = db): Promise<void> {
      await q.query('UPDATE cameras SET name = $3 WHERE site = $1 AND camera = $2', [site, camera, name]);
    },
    async forgetKnown(site: string, camera: string, q: Queryable = db): Promise<void> {
      await q.query('DELETE FROM cameras WHERE site = $1 AND camera = $2', [site, camera]);
    },

    /**
     * Marks a removed camera (with the configuration version that removed it) so that what its agent sent before
     * applying that version does not write its row back (migration 021); `unmarkRemoved` when it is adopted again.
     */
    async markRemoved(site: string, camera: string, version: number, q: Queryable = db): Promise<void> {
      await q.query(
        `INSERT INTO camera_removals (site, camera, version) VALUES ($1, $2, $3)
         ON CONFLICT (site, camera) DO UPDATE SET version = excluded.version, removed_at = now()`,
        [site, camera, version],
      );
    },
    async unmarkRemoved(site: string, camera: string, q: Queryable = db): Promise<void> {
      await q.query('DELETE FROM camera_removals WHERE site = $1 AND camera = $2', [site, camera]);
    },

    /** The next configuration version of the site (1 for the first), in the caller's transaction. */
    async bumpVersion(site: string, q: Queryable = db): Promise<number> {
      const { rows } = await q.query<{ version: string }>(
        `INSERT INTO site_configs (site, version) VALUES ($1, 1)
         ON CONFLICT (site) DO UPDATE SET version = site_configs.version + 1, changed_at = now()
         RETURNING version`,
        [site],
      );
      return Number(rows[0]!.version);
    },

    async configState(site: string, q: Queryable = db): Promise<SiteConfigState> {
      const { rows } = await q.query<{ version: string; published_version: string | null }>(
        'SELECT version, published_version FROM site_configs WHERE site = $1',
        [site],
      );
      const r = rows[0];
      return {
        version: r ? Number(r.version) : null,
        published_version: r?.published_version != null ? Number(r.published_version) : null,
      };
    },

    /** Sites with a configuration: every one is published again when a hub starts (a broker may have lost it). */
    async configuredSites(q: Queryable = db): Promise<string[]> {
      const { rows } = await q.query<{ site: string }>('SELECT site FROM site_configs ORDER BY site');
      return rows.map((r) => r.site);
    },

    async markPublished(site: string, version: number, q: Queryable = db): Promise<void> {
      await q.query(
        `UPDATE site_configs SET published_version = GREATEST(coalesce(published_version, 0), $2), published_at = now()
         WHERE site = $1`,
        [site, version],
      );
    },

    async agent(site: string, q: Queryable = db): Promise<AgentRow | null> {
      const { rows } = await q.query<AgentRow>('SELECT state, at, unadopted, config FROM agents WHERE site = $1', [
        site,
      ]);
      return rows[0] ?? null;
    },
  };
}
export type RegistryRepository = ReturnType<typeof createRegistryRepository>;
