import type { CameraClip } from '@camhub/shared';
import type { Readable } from 'node:stream';
import type { AuditActor, AuditService } from '../audit/audit.service.js';
import type { ViewWindows } from '../audit/view-windows.js';
import type { MediaService } from '../media/media.service.js';
import { AppError, NotFoundError } from '../errors.js';
import type { ClipStore } from './clip-store.js';
import type { ClipsRepository } from './clips.repository.js';
import { type ByteRange, parseRange } from './range.js';

export class ClipQuotaError extends AppError {
  constructor(site: string, quota: number) {
    super('clip_quota_exceeded', `site ${site} keeps ${quota} bytes of clips at most; retention frees room`, 507);
  }
}

export class RangeNotSatisfiableError extends AppError {
  constructor(readonly size: number) {
    super('range_not_satisfiable', 'the requested range lies outside the clip', 416);
  }
}

const DAY_MS = 86_400_000;

export interface ClipStream {
  stream: Readable;
  size: number;
  range: ByteRange | null;
}

/** Event clips at the hub: uploads within each site's quota, audited views, the camera timeline. */
export function createClipsService(deps: {
  repo: ClipsRepository;
  store: ClipStore;
  audit: AuditService;
  /** The upload ledger: clips count against the site's daily clip quota there, like snapshots against theirs. */
  media: Pick<MediaService, 'admit' | 'forget'>;
  /** Clip bytes the site may keep (the stored total, freed by retention). */
  quotaBytes: number;
  /** One clip.view row per session, clip and `viewWindowSec` (0: one per request). */
  views: ViewWindows;
  viewWindowSec: number;
}) {
  const { repo, store, audit } = deps;
  return {
    /**
     * An agent's upload: checked, then held to its site's stored total (CLIP_SITE_QUOTA_BYTES) and daily quota (the
     * media ledger), stored. A file already stored is answered without counting, so retries never use quota up.
     */
    async upload(site: string, ref: string, bytes: Buffer): Promise<{ created: boolean }> {
      // Digest and format first: the ledger only ever holds what the store would accept.
      store.check(ref, bytes);
      let counted = false;
      if (!(await repo.fileKnown(ref))) {
        const used = await repo.siteBytes(site);
        if (used + bytes.length > deps.quotaBytes) throw new ClipQuotaError(site, deps.quotaBytes);
        ({ counted } = await deps.media.admit(site, 'clip', ref, bytes.length));
      }
      try {
        const { created } = await store.put(ref, bytes);
        // After the file: a row is the promise that the file is there.
        await repo.recordFile(ref, site, bytes.length);
        return { created };
      } catch (err) {
        if (counted) await deps.media.forget(ref);
        throw err;
      }
    },

    /**
     * The clip of an event, whole or the range asked for, audited before the first byte leaves. `visible` decides
     * whether the caller may see the event's site (not found otherwise, like the event itself). `session`: the
     * caller's login session, whose requests for this clip within the view window are one view.
     */
    async open(
      eventId: string,
      rangeHeader: string | undefined,
      who: AuditActor,
      session: string | null,
      visible: (site: string) => boolean,
    ): Promise<ClipStream> {
      const clip = await repo.forEvent(eventId);
      if (!clip || !visible(clip.site)) throw new NotFoundError('clip', 'no_clip');
      const size = clip.available ? await store.size(clip.ref) : null;
      if (size === null) throw new NotFoundError('clip file (not uploaded yet, or expired)', 'clip_pending');
      const range = parseRange(rangeHeader, size);
      if (range === 'unsatisfiable') throw new RangeNotSatisfiableError(size);
      // A player asks again for every seek: its session's first request for the clip opens a view, audited with
      // what it read; the rest of the window is the same view. Without a session, every request is a view.
      const opens =
        deps.viewWindowSec === 0 || session === null
          ? true
          : await deps.views.opens(`clip:${session}:${eventId}`, deps.viewWindowSec);
      if (opens) {
        await audit.record(who, {
          action: 'clip.view',
          target: eventId,
          detail: {
            site: clip.site,
            camera: clip.camera,
            clip: clip.ref,
            ...(range ? { range: `${range.start}-${range.end}` } : {}),
          },
        });
      }
      return { stream: store.read(clip.ref, range ?? undefined), size, range };
    },

    /** A camera's clips of the last day (or [from, to)), audited like a search. */
    async forCamera(
      site: string,
      camera: string,
      query: { from?: string; to?: string; limit?: number },
      who: AuditActor,
    ): Promise<CameraClip[]> {
      const to = query.to ? new Date(query.to) : new Date();
      const from = query.from ? new Date(query.from) : new Date(to.getTime() - DAY_MS);
      const items = await repo.forCamera(site, camera, from, to, query.limit ?? 200);
      await audit.record(who, {
        action: 'clips.search',
        target: `${site}/${camera}`,
        detail: { site, camera, from: from.toISOString(), to: to.toISOString(), results: items.length },
      });
      return items;
    },
  };
}
export type ClipsService = ReturnType<typeof createClipsService>;
