import type { Site, SiteInput, SitePatch } from '@camhub/shared';
import { isKnownTimeZone } from '../alerts/schedule.js';
import type { AuditActor, AuditService } from '../audit/audit.service.js';
import { BadRequestError, ForbiddenError, NotFoundError } from '../errors.js';
import type { SiteRecord, SitesRepository } from './sites.repository.js';

/** The scope of the person asking: `sites` undefined means every site. */
export interface SiteScope {
  sites?: string[];
}

function assertTimeZone(zone: string | undefined): void {
  if (zone !== undefined && !isKnownTimeZone(zone)) {
    throw new BadRequestError('invalid_time_zone', `unknown time zone ${zone}`);
  }
}

/**
 * The registry of participating units. Names and time zones are read on every alert and notification, so they are
 * kept in memory: reloaded after each change made here and at every `refresh()` (other hubs' changes).
 */
export function createSitesService(deps: { sites: SitesRepository; audit: AuditService; defaultTimeZone: string }) {
  const { sites, audit, defaultTimeZone } = deps;
  let directory = new Map<string, { name: string; timeZone: string }>();

  const view = (r: SiteRecord): Site => ({ ...r, timeZone: r.timeZone ?? defaultTimeZone });
  const visible = (scope: SiteScope, id: string) => !scope.sites || scope.sites.includes(id);

  async function refresh(): Promise<void> {
    directory = await sites.directory();
  }

  return {
    refresh,

    /** The site's time zone (the hub default for a site nobody registered). Synchronous: from memory. */
    timeZoneOf(site: string): string {
      return directory.get(site)?.timeZone ?? defaultTimeZone;
    },

    /** The site's name for people, or its id where nobody registered it. Synchronous: from memory. */
    nameOf(site: string): string {
      return directory.get(site)?.name ?? site;
    },

    async list(scope: SiteScope): Promise<Site[]> {
      return (await sites.list(scope)).map(view);
    },

    async get(id: string, scope: SiteScope): Promise<Site> {
      const found = visible(scope, id) ? await sites.get(id) : null;
      if (!found) throw new NotFoundError('site');
      return view(found);
    },

    async create(input: SiteInput, scope: SiteScope, who: AuditActor): Promise<Site> {
      // An admin limited to some sites manages those only; registering others is for an admin of every site.
      if (!visible(scope, input.id)) throw new ForbiddenError('outside your sites', 'site_scope');
      assertTimeZone(input.timeZone);
      await sites.insert({ ...input, timeZone: input.timeZone ?? defaultTimeZone });
      await audit.record(who, { action: 'site.create', target: input.id, detail: { ...input } });
      await refresh();
      return view((await sites.get(input.id))!);
    },

    async update(id: string, patch: SitePatch, scope: SiteScope, who: AuditActor): Promise<Site> {
      if (!visible(scope, id)) throw new NotFoundError('site');
      assertTimeZone(patch.timeZone);
      if (!(await sites.update(id, patch))) throw new NotFoundError('site');
      await audit.record(who, { action: 'site.update', target: id, detail: { ...patch } });
      await refresh();
      return view((await sites.get(id))!);
    },

    /** SITE_TIME_ZONES as a bootstrap: sites it lists are registered once (named by their id), never overwritten. */
    async seed(entries: { id: string; timeZone: string }[]): Promise<string[]> {
      const added = await sites.seed(entries);
      await refresh();
      return added;
    },
  };
}
export type SitesService = ReturnType<typeof createSitesService>;
