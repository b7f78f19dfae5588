import type { RejectionsRepository } from './rejections.repository.js';

/** Messages the hub refused, as a site-limited reader may see them. */
export function createRejectionsService(deps: { repo: RejectionsRepository; topicRoot: string }) {
  return {
    /**
     * Newest first. A user limited to some sites (`sites`) sees only what was sent on those sites' topics: a message
     * on no valid site's topic belongs to nobody's site.
     */
    latest(limit: number, reason: string | undefined, sites: string[] | null) {
      const prefixes = sites ? sites.map((site) => `${deps.topicRoot}/${site}/`) : undefined;
      return deps.repo.latest(limit, reason, prefixes);
    },
  };
}

export type RejectionsService = ReturnType<typeof createRejectionsService>;
