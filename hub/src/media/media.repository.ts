import type pg from 'pg';
import { withTransaction } from '../db/queryable.js';

/** Kinds of uploaded media, each with its own per-site quota and rate. */
export type MediaKind = 'snapshot' | 'clip';

/**
 * What makes an upload of a kind wanted, against the ledger row `m`: something refers to it. Unwanted uploads are
 * swept (file and row); wanted ones leave the ledger once the quota's day is over for them.
 */
const REFERENCED: Record<MediaKind, string> = {
  snapshot: 'EXISTS (SELECT 1 FROM events e WHERE e.snapshot = m.ref)',
  // A clip's file is clip retention's (clip_files: its link may come after it, and a file nothing links is removed
  // there after a grace): the ledger holds clips for the daily quota only, so it never sweeps one.
  clip: 'true',
};

export interface SweptUpload {
  ref: string;
  site: string;
  kind: MediaKind;
  bytes: number;
}

export type Admission = { admitted: true; counted: boolean } | { admitted: false; usedBytes: number };

/** The upload ledger (`media_uploads`): who uploaded what, when, how big. */
export function createMediaRepository(pool: pg.Pool) {
  return {
    /**
     * Records an upload if the site's uploads of this kind in the last 24 hours leave room for it. Under a lock per
     * (site, kind), so parallel uploads, on any hub, cannot all fit under the quota together. A reference already in
     * the ledger is admitted without counting twice (an agent retrying, or two cameras seeing the same picture).
     */
    async admit(u: { ref: string; site: string; kind: MediaKind; bytes: number }, quotaBytes: number) {
      return withTransaction(pool, async (tx): Promise<Admission> => {
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext('camhub.media_quota'), hashtext($1 || '/' || $2))`, [
          u.site,
          u.kind,
        ]);
        const known = await tx.query('SELECT 1 FROM media_uploads WHERE ref = $1', [u.ref]);
        if (known.rowCount) return { admitted: true, counted: false };
        const { rows } = await tx.query<{ used: string }>(
          `SELECT coalesce(sum(bytes), 0) AS used FROM media_uploads
           WHERE site = $1 AND kind = $2 AND uploaded_at > now() - interval '1 day'`,
          [u.site, u.kind],
        );
        const used = Number(rows[0]!.used);
        if (used + u.bytes > quotaBytes) return { admitted: false, usedBytes: used };
        await tx.query(
          'INSERT INTO media_uploads (ref, site, kind, bytes) VALUES ($1, $2, $3, $4) ON CONFLICT (ref) DO NOTHING',
          [u.ref, u.site, u.kind, u.bytes],
        );
        return { admitted: true, counted: true };
      });
    },

    /** Takes back an admission whose file could not be written. */
    async forget(ref: string): Promise<void> {
      await pool.query('DELETE FROM media_uploads WHERE ref = $1', [ref]);
    },

    /**
     * Removes from the ledger up to `batch` uploads older than `before` that nothing refers to, and returns them: the
     * caller deletes their files. Deleted first, so a file is never left without its row being gone too; an event
     * that names such a file later (hours late) finds no picture, as it would had the upload never arrived.
     */
    async takeUnreferenced(before: Date, batch: number): Promise<SweptUpload[]> {
      const found: SweptUpload[] = [];
      for (const kind of Object.keys(REFERENCED) as MediaKind[]) {
        const { rows } = await pool.query<{ ref: string; site: string; kind: MediaKind; bytes: string }>(
          `DELETE FROM media_uploads WHERE ref IN (
             SELECT m.ref FROM media_uploads m
             WHERE m.kind = $1 AND m.uploaded_at < $2 AND NOT ${REFERENCED[kind]}
             ORDER BY m.uploaded_at LIMIT $3 FOR UPDATE SKIP LOCKED)
           RETURNING ref, site, kind, bytes`,
          [kind, before, batch - found.length],
        );
        found.push(...rows.map((r) => ({ ...r, bytes: Number(r.bytes) })));
        if (found.length >= batch) break;
      }
      return found;
    },

    /**
     * Drops ledger rows older than `before` whose upload something refers to: the quota no longer counts them, and
     * the file is the referrer's now (event retention deletes it with its event).
     */
    async forgetReferenced(before: Date, batch: number): Promise<number> {
      let n = 0;
      for (const kind of Object.keys(REFERENCED) as MediaKind[]) {
        const { rowCount } = await pool.query(
          `DELETE FROM media_uploads WHERE ref IN (
             SELECT m.ref FROM media_uploads m
             WHERE m.kind = $1 AND m.uploaded_at < $2 AND ${REFERENCED[kind]}
             ORDER BY m.uploaded_at LIMIT $3 FOR UPDATE SKIP LOCKED)`,
          [kind, before, batch],
        );
        n += rowCount ?? 0;
      }
      return n;
    },
  };
}
export type MediaRepository = ReturnType<typeof createMediaRepository>;
