import type pg from 'pg';
import { withTransaction } from '../db/queryable.js';

/**
 * An event retention must keep: inside an export (or another hold) not yet released, or part of an alert that is
 * not resolved. Written against alias `e`.
 */
const HELD = `(
  EXISTS (SELECT 1 FROM event_holds h WHERE h.event_id = e.id AND h.released_at IS NULL)
  OR EXISTS (SELECT 1 FROM alert_events ae JOIN alerts a ON a.id = ae.alert_id
             WHERE ae.event_id = e.id AND a.status <> 'resolved'))`;

/** Day partitions of `events` (migration 015): `events_pYYYYMMDD`, a UTC day of UUIDv7 ids. */
const PARTITION_NAME = /^events_p(\d{4})(\d{2})(\d{2})$/;

export interface EventPartition {
  name: string;
  /** The UTC day whose ids it holds. */
  day: Date;
}

/** The partition of a UTC day, by name. */
export function partitionName(day: Date): string {
  return `events_p${day.toISOString().slice(0, 10).replaceAll('-', '')}`;
}

export function createRetentionRepository(db: pg.Pool) {
  return {
    /** Day partitions of events, oldest first (events_default is not one of them: it is never dropped). */
    async eventPartitions(): Promise<EventPartition[]> {
      const { rows } = await db.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'events'::regclass ORDER BY c.relname`,
      );
      return rows.flatMap(({ name }) => {
        const m = PARTITION_NAME.exec(name);
        return m ? [{ name, day: new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) }] : [];
      });
    },

    /** Creates the day partitions from `from` to `to` (UTC days, inclusive) that are missing; returns how many. */
    async ensureEventPartitions(from: Date, to: Date): Promise<number> {
      const { rows } = await db.query<{ created: number }>(
        `SELECT count(*) FILTER (WHERE events_add_partition(d::date))::int AS created
         FROM generate_series($1::date, $2::date, interval '1 day') AS d`,
        [from.toISOString().slice(0, 10), to.toISOString().slice(0, 10)],
      );
      return rows[0]!.created;
    },

    /**
     * Drops a day partition if none of its rows is kept any more: every row expired (as deleteExpiredEvents judges)
     * and none held. Decided and dropped in one transaction with the partition locked, so no row arrives in between;
     * a short lock timeout keeps ingest from queueing behind the parent's lock (retried at the next run).
     * Returns its row count and the snapshot files its rows still referenced, or null when it was kept.
     */
    async dropExpiredPartition(p: EventPartition, before: Date): Promise<{ rows: number; snapshots: string[] } | null> {
      if (!PARTITION_NAME.test(p.name)) return null;
      try {
        return await withTransaction(db, async (tx) => {
          await tx.query(`SET LOCAL lock_timeout = '2s'`);
          await tx.query(`LOCK TABLE ${p.name} IN ACCESS EXCLUSIVE MODE`);
          const { rows } = await tx.query<{ kept: boolean }>(
            `WITH bounds AS (SELECT events_id_floor($2::date::timestamp AT TIME ZONE 'UTC') AS lo,
                                    events_id_floor(($2::date + 1)::timestamp AT TIME ZONE 'UTC') AS hi)
             SELECT EXISTS (SELECT 1 FROM ${p.name} e
                            WHERE e.at >= $1 AND NOT (e.at > clock_timestamp() AND e.stored_at < $1))
                 OR EXISTS (SELECT 1 FROM event_holds h, bounds b
                            WHERE h.event_id >= b.lo AND h.event_id < b.hi AND h.released_at IS NULL)
                 OR EXISTS (SELECT 1 FROM alert_events ae JOIN alerts a ON a.id = ae.alert_id, bounds b
                            WHERE ae.event_id >= b.lo AND ae.event_id < b.hi AND a.status <> 'resolved') AS kept`,
            [before, p.day.toISOString().slice(0, 10)],
          );
          if (rows[0]!.kept) return null;
          const refs = await tx.query<{ snapshot: string }>(
            `SELECT DISTINCT snapshot FROM ${p.name} WHERE snapshot IS NOT NULL AND snapshot_purged_at IS NULL`,
          );
          const count = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${p.name}`);
          await tx.query(`DROP TABLE ${p.name}`);
          return { rows: count.rows[0]!.n, snapshots: refs.rows.map((r) => r.snapshot) };
        });
      } catch (err) {
        // 55P03: a lock not had within the timeout; the partition waits for the next run.
        if ((err as { code?: string }).code === '55P03') return null;
        throw err;
      }
    },

    /**
     * Deletes up to `batch` expired, unheld events, oldest first, and returns their snapshot references. SKIP LOCKED
     * and a bounded batch keep each transaction short: ingest inserts never wait on it.
     */
    async deleteExpiredEvents(
      before: Date,
      batch: number,
      /** Rows of this day partition are left to be dropped with it, whole, once its last id has expired. */
      leave?: EventPartition,
    ): Promise<{ deleted: number; snapshots: string[] }> {
      const { rows, rowCount } = await db.query<{ snapshot: string | null; purged: boolean }>(
        `DELETE FROM events WHERE id IN (
           SELECT e.id FROM events e
           -- By time, or for an event dated in the future (stored before ingest refused those), by when it was
           -- stored: otherwise it would sit on top of history forever. Both ranges use the (at) index.
           WHERE (e.at < $1 OR (e.at > clock_timestamp() AND e.stored_at < $1)) AND NOT ${HELD}
             AND ($3::date IS NULL OR NOT (e.id >= events_id_floor($3::date::timestamp AT TIME ZONE 'UTC')
                                       AND e.id < events_id_floor(($3::date + 1)::timestamp AT TIME ZONE 'UTC')))
           ORDER BY e.at LIMIT $2
           FOR UPDATE SKIP LOCKED)
         RETURNING snapshot, snapshot_purged_at IS NOT NULL AS purged`,
        [before, batch, leave ? leave.day.toISOString().slice(0, 10) : null],
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
