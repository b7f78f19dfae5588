import type { RateLimiter } from '../auth/rate-limit.js';
import { AppError } from '../errors.js';
import type { MediaKind, MediaRepository } from './media.repository.js';
import type { SnapshotStore } from './snapshot-store.js';

/** What the sweep needs of a kind's files. */
interface MediaFiles {
  remove(ref: string): Promise<void>;
}

/** What one site may upload of one kind. */
export interface MediaLimits {
  /** Bytes stored in any 24 hours (a rolling day, not a calendar day: no burst at midnight). */
  bytesPerDay: number;
  /** Uploads per minute, counted across hubs in Redis. */
  perMinute: number;
}

export class MediaQuotaError extends AppError {
  constructor(
    readonly kind: MediaKind,
    readonly quotaBytes: number,
  ) {
    super(
      'media_quota_exceeded',
      `the site's ${kind} uploads of the last 24 hours would exceed ${quotaBytes} bytes`,
      413,
    );
  }
}

export class MediaRateLimitedError extends AppError {
  constructor(
    readonly kind: MediaKind,
    readonly retryAfterSec: number,
  ) {
    super('media_rate_limited', `too many ${kind} uploads from this site; try again later`, 429);
  }
}

/**
 * Uploads from edge agents, held to a quota and a rate per site and per kind of media, and the sweep of uploads
 * nothing refers to. A site token can thus fill neither the disk nor the hub's time: with the token alone an
 * attacker gets at most the site's daily quota, and anything no event names is deleted after `sweepAfterHours`.
 * Each kind has its limits and its ledger's "referenced" test (media.repository.ts); clips are admitted here by the
 * clips service, which stores them.
 */
export function createMediaService(deps: {
  repo: MediaRepository;
  snapshots: SnapshotStore;
  /** The clip store (clip retention deletes clips; the ledger only counts them, see media.repository.ts). */
  clips: MediaFiles;
  rateLimiter: RateLimiter;
  limits: Record<MediaKind, MediaLimits>;
  sweepAfterHours: number;
  batch: number;
}) {
  const { repo, limits } = deps;
  /**
   * Counts a new upload of `kind` against the site's quota of the last 24 hours; throws MediaQuotaError past it.
   * `counted` is false for a reference the ledger already holds (not counted twice): a caller whose file then cannot
   * be written gives a counted admission back with `forget`.
   */
  async function admit(site: string, kind: MediaKind, ref: string, bytes: number): Promise<{ counted: boolean }> {
    const admission = await repo.admit({ ref, site, kind, bytes }, limits[kind].bytesPerDay);
    if (!admission.admitted) throw new MediaQuotaError(kind, limits[kind].bytesPerDay);
    return { counted: admission.counted };
  }

  /** Where each kind's files are. */
  const files: Record<MediaKind, MediaFiles> = { snapshot: deps.snapshots, clip: deps.clips };

  return {
    /** Counts one upload attempt of the site before its body is read; throws MediaRateLimitedError over the rate. */
    async checkRate(site: string, kind: MediaKind): Promise<void> {
      const r = await deps.rateLimiter.hit(`media:${kind}:${site}`, limits[kind].perMinute, 60);
      if (!r.ok) throw new MediaRateLimitedError(kind, r.retryAfterSec);
    },

    admit,

    forget: (ref: string): Promise<void> => repo.forget(ref),

    /**
     * Stores a snapshot for `site` if it is new and fits the site's quota. Bytes already stored (same digest) are
     * accepted without counting, so retries after a lost answer never use quota up.
     */
    async putSnapshot(site: string, ref: string, bytes: Buffer): Promise<{ created: boolean }> {
      // Digest and format first (throws on a mismatch): the ledger only ever holds what the store would accept.
      deps.snapshots.check(ref, bytes);
      if (await deps.snapshots.has(ref)) return { created: false };
      const { counted } = await admit(site, 'snapshot', ref, bytes.length);
      try {
        return await deps.snapshots.put(ref, bytes);
      } catch (err) {
        if (counted) await repo.forget(ref);
        throw err;
      }
    },

    /**
     * Deletes uploads older than `sweepAfterHours` that nothing refers to (files and ledger rows), and forgets the
     * ledger rows of referenced uploads once the quota's day is over for them. Bounded batches, run by the
     * maintenance queue.
     */
    async sweep(now = new Date()): Promise<{ deleted: number; bytes: number; forgotten: number }> {
      const before = new Date(now.getTime() - deps.sweepAfterHours * 3_600_000);
      let deleted = 0;
      let bytes = 0;
      for (;;) {
        const taken = await repo.takeUnreferenced(before, deps.batch);
        for (const t of taken) {
          bytes += t.bytes;
          await files[t.kind].remove(t.ref);
        }
        deleted += taken.length;
        if (taken.length < deps.batch) break;
      }
      // The quota sums the last 24 hours: a row younger than that still counts, referenced or not.
      const keepFor = Math.max(deps.sweepAfterHours, 24) * 3_600_000;
      let forgotten = 0;
      for (;;) {
        const n = await repo.forgetReferenced(new Date(now.getTime() - keepFor), deps.batch);
        forgotten += n;
        if (n === 0) break;
      }
      return { deleted, bytes, forgotten };
    },
  };
}
export type MediaService = ReturnType<typeof createMediaService>;
