import type { Queryable } from '../db/queryable.js';

/**
 * An event retention must keep: inside an export (or another hold) not yet released, or part of an alert that is
 * not resolved. Written against alias `e`.
 */
const HELD = `(
  EXISTS (SELECT 1 FROM event_holds h WHERE h.event_id = e.id AND h.released_at IS NULL)
  OR EXISTS (SELECT 1 FROM alert_events ae JOIN alerts a ON a.id = ae.alert_id
             WHERE ae.event_id = e.id AND a.status <> 'resolved'))`;

export function createRetentionRepository(db: Queryable) {
  return {
    /**
     * Deletes up to `batch` expired, unheld events, oldest first, and returns their snapshot references. SKIP LOCKED
     * and a bounded batch keep each transaction short: ingest inserts never wait on it.
     */
    async deleteExpiredEvents(before: Date, batch: number): Promise<{ deleted: number; snapshots: string[] }> {
      const { rows, rowCount } = await db.query<{ snapshot: string | null; purged: boolean }>(
        `DELETE FROM events WHERE id IN (
           SELECT e.id FROM events e
           -- By time, or for an event dated in the future (stored before ingest refused those), by when it was
           -- stored: otherwise it would sit on top of history forever. Both ranges use the (at) index.
           WHERE (e.at < $1 OR (e.at > clock_timestamp() AND e.stored_at < $1)) AND NOT ${HELD}
           ORDER BY e.at LIMIT $2
           FOR UPDATE SKIP LOCKED)
         RETURNING snapshot, snapshot_purged_at IS NOT NULL AS purged`,
        [before, batch],
      );
      const refs = new Set(rows.filter((r) => r.snapshot && !r.purged).map((r) => r.snapshot!));
      return { deleted: rowCount ?? 0, snapshots: [...refs] };
    },

    /** Ingest rejections received before `before`, a batch at a time. */
    async deleteOldRejections(before: Date, batch: number): Promise<number> {
      const { rowCount } = await db.query(
        `DELETE FROM ingest_rejections WHERE id IN (
           SELECT id FROM ingest_rejections WHERE received_at < $1 ORDER BY received_at LIMIT $2)`,
        [before, batch],
      );
      return rowCount ?? 0;
    },

    /** Snapshot references of expired, unheld events whose file is still there, in (at, id) order after a cursor. */
    async expiredSnapshotCandidates(before: Date, after: { at: Date; id: string } | null, batch: number) {
      const { rows } = await db.query<{ id: string; at: Date; snapshot: string }>(
        `SELECT e.id, e.at, e.snapshot FROM events e
         WHERE e.at < $1 AND e.snapshot IS NOT NULL AND e.snapshot_purged_at IS NULL
           AND ($2::timestamptz IS NULL OR (e.at, e.id) > ($2::timestamptz, $3::uuid))
           AND NOT ${HELD}
         ORDER BY e.at, e.id LIMIT $4`,
        [before, after?.at ?? null, after?.id ?? null, batch],
      );
      return rows;
    },

    /** True when some event still needs this file: not expired yet, or held. */
    async snapshotStillNeeded(ref: string, before: Date): Promise<boolean> {
      const { rows } = await db.query<{ needed: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM events e WHERE e.snapshot = $1 AND (e.at >= $2 OR ${HELD})) AS needed`,
        [ref, before],
      );
      return rows[0]!.needed;
    },

    async markSnapshotPurged(ref: string): Promise<number> {
      const { rowCount } = await db.query(
        'UPDATE events SET snapshot_purged_at = now() WHERE snapshot = $1 AND snapshot_purged_at IS NULL',
        [ref],
      );
      return rowCount ?? 0;
    },

    /** After events are deleted: is any event left that points at this file? */
    async snapshotReferenced(ref: string): Promise<boolean> {
      const { rows } = await db.query<{ referenced: boolean }>(
        'SELECT EXISTS (SELECT 1 FROM events WHERE snapshot = $1 AND snapshot_purged_at IS NULL) AS referenced',
        [ref],
      );
      return rows[0]!.referenced;
    },
  };
}
export type RetentionRepository = ReturnType<typeof createRetentionRepository>;
