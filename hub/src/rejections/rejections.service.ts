import type { RejectionsRepository } from './rejections.repository.js';

/** Messages the hub refused, as a site-limited reader may see them. */
export function createRejectionsService(deps: { repo: RejectionsRepository; topicRoot: string }) {
  return {
    /**
     * Newest first. A user limited to some sites (`sites`) sees only what was sent on those sites' topics: a message
     * on no valid site's topic belongs to nobody's site.
     */
    async latest(limit: number, reason: string | undefined, sites: string[] | null, opts: { eventPayloads: boolean }) {
      const prefixes = sites ? sites.map((site) => `${deps.topicRoot}/${site}/`) : undefined;
      const items = await deps.repo.latest(limit, reason, prefixes);
      if (opts.eventPayloads) return items;
      // A rejected event still says where someone moved: technicians see why it was refused, not what it said.
      return items.map((r) =>
        r.topic.endsWith('/events') ? { ...r, payload: '', truncated: false, payloadHidden: true } : r,
      );
    },
  };
}

export type RejectionsService = ReturnType<typeof createRejectionsService>;
