import type { EventItem, ExportItem } from '@camhub/shared';
import { clipColumn } from '../clips/clips.repository.js';
import type { Queryable } from '../db/queryable.js';
import type { EventCursor } from '../events/cursor.js';
import { type EventFilter, eventWhere, rowToEvent } from '../events/events.repository.js';
import { orderedPage } from '../events/id-window.js';

interface ExportRow {
  id: string;
  created_by: string;
  created_at: Date;
  filters: Record<string, unknown>;
  status: string;
  events: number | null;
  snapshots: number | null;
  bytes: number | null;
  sha256: string | null;
  file: string | null;
  released_at: Date | null;
}

export interface ExportRecord extends ExportItem {
  file: string | null;
}

const COLUMNS = 'id, created_by, created_at, filters, status, events, snapshots, bytes, sha256, file, released_at';
const EVENT_COLUMNS =
  'id, site, camera, seq, type, state, at, received_at, source_kind, source_topic, data, snapshot, snapshot_purged_at';

const toRecord = (r: ExportRow): ExportRecord => ({
  id: r.id,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  filters: r.filters,
  status: r.status,
  events: r.events,
  snapshots: r.snapshots,
  bytes: r.bytes === null ? null : Number(r.bytes),
  sha256: r.sha256,
  file: r.file,
  releasedAt: r.released_at?.toISOString() ?? null,
});

export function createExportsRepository(db: Queryable, opts: { idMarginSec?: number } = {}) {
  // Only the day partitions of the export's window are read (events.repository.ts eventWhere, id-window.ts).
  const idMarginMs = opts.idMarginSec === undefined ? -1 : opts.idMarginSec * 1000;
  return {
    async countEvents(filter: EventFilter): Promise<number> {
      const { parts, values } = eventWhere(filter, { idMarginMs });
      const counts = parts.map((p) => `(SELECT count(*)::int ${p})`).join(' + ');
      const { rows } = await db.query<{ n: number }>(`SELECT ${counts} AS n`, values);
      return rows[0]!.n;
    },

    async insert(e: { id: string; createdBy: string; filters: Record<string, unknown> }): Promise<ExportRecord> {
      const { rows } = await db.query<ExportRow>(
        `INSERT INTO exports (id, created_by, filters, status) VALUES ($1, $2, $3, 'building') RETURNING ${COLUMNS}`,
        [e.id, e.createdBy, e.filters],
      );
      return toRecord(rows[0]!);
    },

    /** Holds every event the export covers, in one statement, before the archive is read: retention keeps them. */
    async holdEvents(exportId: string, filter: EventFilter): Promise<number> {
      const { parts, values } = eventWhere(filter, { idMarginMs });
      values.push(exportId);
      const ref = `$${values.length}`;
      const { rowCount } = await db.query(
        `INSERT INTO event_holds (event_id, reason, ref)
         ${parts.map((p) => `SELECT id, 'export', ${ref} ${p}`).join(' UNION ALL ')}
         ON CONFLICT DO NOTHING`,
        values,
      );
      return rowCount ?? 0;
    },

    /** Oldest first, in keyset pages: an archive reads like a timeline, and no page holds the whole result. */
    async eventsAfter(
      filter: EventFilter,
      after: EventCursor | null,
      limit: number,
    ): Promise<(EventItem & { snapshotPurged: boolean })[]> {
      const { parts, values } = eventWhere(filter, { after: after ?? undefined, idMarginMs });
      values.push(limit);
      const { rows } = await db.query(
        orderedPage(parts, `${EVENT_COLUMNS}, ${clipColumn('events')}`, 'at, id', `$${values.length}`),
        values,
      );
      return rows.map((r) => ({
        ...rowToEvent(r as Parameters<typeof rowToEvent>[0]),
        snapshotPurged: (r as { snapshot_purged_at: Date | null }).snapshot_purged_at !== null,
      }));
    },

    async finish(
      id: string,
      r: {
        status: 'ready' | 'failed';
        events?: number;
        snapshots?: number;
        bytes?: number;
        sha256?: string;
        file?: string;
      },
    ) {
      await db.query(
        `UPDATE exports SET status = $2, events = $3, snapshots = $4, bytes = $5, sha256 = $6, file = $7 WHERE id = $1`,
        [id, r.status, r.events ?? null, r.snapshots ?? null, r.bytes ?? null, r.sha256 ?? null, r.file ?? null],
      );
    },

    async get(id: string): Promise<ExportRecord | null> {
      const { rows } = await db.query<ExportRow>(`SELECT ${COLUMNS} FROM exports WHERE id = $1`, [id]);
      return rows[0] ? toRecord(rows[0]) : null;
    },

    async list(createdBy?: string): Promise<ExportRecord[]> {
      const { rows } = createdBy
        ? await db.query<ExportRow>(
            `SELECT ${COLUMNS} FROM exports WHERE created_by = $1 ORDER BY created_at DESC LIMIT 1000`,
            [createdBy],
          )
        : await db.query<ExportRow>(`SELECT ${COLUMNS} FROM exports ORDER BY created_at DESC LIMIT 1000`);
      return rows.map(toRecord);
    },

    /** Ends the export's holds; its events then age out like any other. */
    async release(id: string, by: string): Promise<number> {
      await db.query(
        `UPDATE exports SET status = 'released', released_at = now(), released_by = $2, file = NULL WHERE id = $1`,
        [id, by],
      );
      const { rowCount } = await db.query(
        `UPDATE event_holds SET released_at = now() WHERE reason = 'export' AND ref = $1 AND released_at IS NULL`,
        [id],
      );
      return rowCount ?? 0;
    },
  };
}
export type ExportsRepository = ReturnType<typeof createExportsRepository>;
