import type { Site, SiteInput, SiteKind, SitePatch } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';
import { ConflictError } from '../errors.js';

interface SiteRow {
  id: string;
  registered: boolean;
  name: string | null;
  kind: SiteKind | null;
  address: string | null;
  contact_name: string | null;
  contact_phone: string | null;
  time_zone: string | null;
  joined_on: string | null;
  notes: string | null;
  active: boolean | null;
  created_at: Date | null;
  updated_at: Date | null;
  total: string;
  online: string;
  degraded: string;
  offline: string;
  unknown: string;
}

/** What a site row says for people; `timeZone` is filled in by the service where the row has none. */
export type SiteRecord = Omit<Site, 'timeZone'> & { timeZone: string | null };

const toRecord = (r: SiteRow): SiteRecord => ({
  id: r.id,
  registered: r.registered,
  name: r.name,
  kind: r.kind,
  address: r.address ?? '',
  contactName: r.contact_name ?? '',
  contactPhone: r.contact_phone ?? '',
  timeZone: r.time_zone,
  joinedOn: r.joined_on,
  notes: r.notes ?? '',
  active: r.active ?? true,
  cameras: {
    total: Number(r.total),
    online: Number(r.online),
    degraded: Number(r.degraded),
    offline: Number(r.offline),
    unknown: Number(r.unknown),
  },
  createdAt: r.created_at?.toISOString() ?? null,
  updatedAt: r.updated_at?.toISOString() ?? null,
});

/**
 * Every site the hub knows: registered ones, and ones it has only heard from (an agent or a camera reported under
 * that id), with camera counts by status. `to_char` keeps `joined_on` a calendar date whatever the session's zone.
 */
const SELECT_SITES = `
  WITH known AS (
    SELECT id FROM sites UNION SELECT site FROM cameras UNION SELECT site FROM agents
  ), counts AS (
    SELECT site,
           count(*) AS total,
           count(*) FILTER (WHERE status = 'online') AS online,
           count(*) FILTER (WHERE status = 'degraded') AS degraded,
           count(*) FILTER (WHERE status = 'offline') AS offline,
           count(*) FILTER (WHERE status NOT IN ('online', 'degraded', 'offline')) AS unknown
      FROM cameras GROUP BY site
  )
  SELECT k.id, s.id IS NOT NULL AS registered, s.name, s.kind, s.address, s.contact_name, s.contact_phone,
         s.time_zone, to_char(s.joined_on, 'YYYY-MM-DD') AS joined_on, s.notes, s.active, s.created_at, s.updated_at,
         coalesce(c.total, 0) AS total, coalesce(c.online, 0) AS online, coalesce(c.degraded, 0) AS degraded,
         coalesce(c.offline, 0) AS offline, coalesce(c.unknown, 0) AS unknown
    FROM known k LEFT JOIN sites s ON s.id = k.id LEFT JOIN counts c ON c.site = k.id`;

export function createSitesRepository(db: Queryable) {
  return {
    /** Every known site, or those of `sites` only (a user limited to some sites). */
    async list(filter: { sites?: string[] } = {}): Promise<SiteRecord[]> {
      const { rows } = filter.sites
        ? await db.query<SiteRow>(`${SELECT_SITES} WHERE k.id = ANY($1::text[]) ORDER BY k.id`, [filter.sites])
        : await db.query<SiteRow>(`${SELECT_SITES} ORDER BY k.id`);
      return rows.map(toRecord);
    },

    async get(id: string): Promise<SiteRecord | null> {
      const { rows } = await db.query<SiteRow>(`${SELECT_SITES} WHERE k.id = $1`, [id]);
      return rows[0] ? toRecord(rows[0]) : null;
    },

    /** Each registered site's name and time zone (the lookups alerts and notifications use). */
    async directory(): Promise<Map<string, { name: string; timeZone: string }>> {
      const { rows } = await db.query<{ id: string; name: string; time_zone: string }>(
        'SELECT id, name, time_zone FROM sites',
      );
      return new Map(rows.map((r) => [r.id, { name: r.name, timeZone: r.time_zone }]));
    },

    async insert(input: SiteInput & { timeZone: string }): Promise<void> {
      try {
        await db.query(
          `INSERT INTO sites (id, name, kind, address, contact_name, contact_phone, time_zone, joined_on, notes, active)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            input.id,
            input.name,
            input.kind,
            input.address ?? '',
            input.contactName ?? '',
            input.contactPhone ?? '',
            input.timeZone,
            input.joinedOn ?? null,
            input.notes ?? '',
            input.active ?? true,
          ],
        );
      } catch (err) {
        if ((err as { code?: string }).code === '23505') {
          throw new ConflictError('site_exists', `site ${input.id} is already registered`);
        }
        throw err;
      }
    },

    /** Changes the given fields; false when no such registered site. Columns are fixed here, never from input. */
    async update(id: string, patch: SitePatch): Promise<boolean> {
      const { rowCount } = await db.query(
        `UPDATE sites SET
           name = coalesce($2, name), kind = coalesce($3, kind), address = coalesce($4, address),
           contact_name = coalesce($5, contact_name), contact_phone = coalesce($6, contact_phone),
           time_zone = coalesce($7, time_zone),
           joined_on = CASE WHEN $8::boolean THEN $9::date ELSE joined_on END,
           notes = coalesce($10, notes), active = coalesce($11, active), updated_at = now()
         WHERE id = $1`,
        [
          id,
          patch.name ?? null,
          patch.kind ?? null,
          patch.address ?? null,
          patch.contactName ?? null,
          patch.contactPhone ?? null,
          patch.timeZone ?? null,
          patch.joinedOn !== undefined,
          patch.joinedOn ?? null,
          patch.notes ?? null,
          patch.active ?? null,
        ],
      );
      return (rowCount ?? 0) > 0;
    },

    /** The bootstrap from SITE_TIME_ZONES: registers listed sites that have no row yet, never overwrites one. */
    async seed(entries: { id: string; timeZone: string }[]): Promise<string[]> {
      if (entries.length === 0) return [];
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO sites (id, name, kind, time_zone)
         SELECT id, id, 'other', zone FROM unnest($1::text[], $2::text[]) AS t(id, zone)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [entries.map((e) => e.id), entries.map((e) => e.timeZone)],
      );
      return rows.map((r) => r.id);
    },
  };
}
export type SitesRepository = ReturnType<typeof createSitesRepository>;
