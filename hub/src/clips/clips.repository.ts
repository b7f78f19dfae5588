import type { CameraClip, ClipInfo } from '@camhub/shared';
import type { Queryable } from '../db/queryable.js';

/**
 * The SQL expression of an event's clip (JSON, or null), for any query over `events` under `alias`: the link from
 * event_clips, playable when its file is stored and not purged.
 */
export const clipColumn = (alias: string) => `(
  SELECT json_build_object('ref', c.ref, 'startAt', c.start_at, 'durationMs', c.duration_ms, 'bytes', c.bytes,
    'available', c.purged_at IS NULL AND EXISTS (SELECT 1 FROM clip_files f WHERE f.ref = c.ref))
  FROM event_clips c WHERE c.event_id = ${alias}.id) AS clip`;

/** JSON from PostgreSQL carries times as its own text: the contract's ISO form, with milliseconds, is made here. */
export function toClipInfo(raw: unknown): ClipInfo | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const c = raw as { ref: string; startAt: string; durationMs: number; bytes: number | string; available: boolean };
  return {
    ref: c.ref,
    startAt: new Date(c.startAt).toISOString(),
    durationMs: c.durationMs,
    bytes: Number(c.bytes),
    available: c.available,
  };
}

/**
 * A clip retention must keep: its event is inside an export (or another hold) not yet released, or part of an
 * alert that is not resolved. Written against alias `c` (event_clips).
 */
const HELD = `(
  EXISTS (SELECT 1 FROM event_holds h WHERE h.event_id = c.event_id AND h.released_at IS NULL)
  OR EXISTS (SELECT 1 FROM alert_events ae JOIN alerts a ON a.id = ae.alert_id
             WHERE ae.event_id = c.event_id AND a.status <> 'resolved'))`;

export function createClipsRepository(db: Queryable) {
  return {
    /** Records a stored file for its site (quota); idempotent. */
    async recordFile(ref: string, site: string, bytes: number): Promise<void> {
      await db.query('INSERT INTO clip_files (ref, site, bytes) VALUES ($1, $2, $3) ON CONFLICT (ref) DO NOTHING', [
        ref,
        site,
        bytes,
      ]);
    },

    async fileKnown(ref: string): Promise<boolean> {
      const { rows } = await db.query<{ known: boolean }>(
        'SELECT EXISTS (SELECT 1 FROM clip_files WHERE ref = $1) AS known',
        [ref],
      );
      return rows[0]!.known;
    },

    async siteBytes(site: string): Promise<number> {
      const { rows } = await db.query<{ bytes: string }>(
        'SELECT coalesce(sum(bytes), 0)::text AS bytes FROM clip_files WHERE site = $1',
        [site],
      );
      return Number(rows[0]!.bytes);
    },

    /** The event's clip link with its site and camera (for access checks), or null. */
    async forEvent(eventId: string): Promise<(ClipInfo & { site: string; camera: string }) | null> {
      const { rows } = await db.query<{
        site: string;
        camera: string;
        ref: string;
        start_at: Date;
        duration_ms: number;
        bytes: string;
        available: boolean;
      }>(
        `SELECT c.site, c.camera, c.ref, c.start_at, c.duration_ms, c.bytes::text AS bytes,
                c.purged_at IS NULL AND EXISTS (SELECT 1 FROM clip_files f WHERE f.ref = c.ref) AS available
         FROM event_clips c WHERE c.event_id = $1`,
        [eventId],
      );
      const r = rows[0];
      if (!r) return null;
      return {
        site: r.site,
        camera: r.camera,
        ref: r.ref,
        startAt: r.start_at.toISOString(),
        durationMs: r.duration_ms,
        bytes: Number(r.bytes),
        available: r.available,
      };
    },

    /** A camera's clips that overlap [from, to), newest first. */
    async forCamera(site: string, camera: string, from: Date, to: Date, limit: number): Promise<CameraClip[]> {
      const { rows } = await db.query<{
        event: string;
        type: string | null;
        at: Date | null;
        ref: string;
        start_at: Date;
        duration_ms: number;
        bytes: string;
        available: boolean;
      }>(
        `SELECT c.event_id AS event, e.type, e.at, c.ref, c.start_at, c.duration_ms, c.bytes::text AS bytes,
                c.purged_at IS NULL AND EXISTS (SELECT 1 FROM clip_files f WHERE f.ref = c.ref) AS available
         FROM event_clips c LEFT JOIN events e ON e.id = c.event_id
         WHERE c.site = $1 AND c.camera = $2 AND c.start_at < $4
           AND c.start_at + make_interval(secs => c.duration_ms / 1000.0) > $3
         ORDER BY c.start_at DESC LIMIT $5`,
        [site, camera, from, to, limit],
      );
      return rows.map((r) => ({
        event: r.event,
        type: r.type,
        at: r.at ? r.at.toISOString() : null,
        ref: r.ref,
        startAt: r.start_at.toISOString(),
        durationMs: r.duration_ms,
        bytes: Number(r.bytes),
        available: r.available,
      }));
    },

    /** Links of clips that started before `before`, not held and not purged yet: a batch at a time. */
    async expiredLinks(before: Date, batch: number): Promise<Array<{ event: string; ref: string }>> {
      const { rows } = await db.query<{ event: string; ref: string }>(
        `SELECT c.event_id AS event, c.ref FROM event_clips c
         WHERE c.purged_at IS NULL AND c.start_at < $1 AND NOT ${HELD}
         ORDER BY c.start_at LIMIT $2`,
        [before, batch],
      );
      return rows;
    },

    async markPurged(events: string[]): Promise<void> {
      await db.query('UPDATE event_clips SET purged_at = now() WHERE event_id = ANY($1::uuid[])', [events]);
    },

    /**
     * Files no live link needs: every link to them purged, or never linked and stored before `before` (a link lost
     * with an agent killed at the wrong moment; the grace lets a late link arrive).
     */
    async unneededFiles(before: Date, batch: number): Promise<string[]> {
      const { rows } = await db.query<{ ref: string }>(
        `SELECT f.ref FROM clip_files f
         WHERE NOT EXISTS (SELECT 1 FROM event_clips c WHERE c.ref = f.ref AND c.purged_at IS NULL)
           AND (EXISTS (SELECT 1 FROM event_clips c WHERE c.ref = f.ref) OR f.stored_at < $1)
         ORDER BY f.stored_at LIMIT $2`,
        [before, batch],
      );
      return rows.map((r) => r.ref);
    },

    async forgetFile(ref: string): Promise<void> {
      await db.query('DELETE FROM clip_files WHERE ref = $1', [ref]);
    },

    /** The clips of these events that can go into an export: linked, stored, not purged. */
    async forExport(eventIds: string[]): Promise<Array<{ event: string; ref: string; bytes: number }>> {
      if (eventIds.length === 0) return [];
      const { rows } = await db.query<{ event: string; ref: string; bytes: string }>(
        `SELECT c.event_id AS event, c.ref, f.bytes::text AS bytes FROM event_clips c JOIN clip_files f ON f.ref = c.ref
         WHERE c.event_id = ANY($1::uuid[]) AND c.purged_at IS NULL`,
        [eventIds],
      );
      return rows.map((r) => ({ event: r.event, ref: r.ref, bytes: Number(r.bytes) }));
    },
  };
}
export type ClipsRepository = ReturnType<typeof createClipsRepository>;
