import { EVENTS_DEFAULT_LIMIT, type EventItem, type EventsPage, type EventsQuery } from '@camhub/shared';
import { BadRequestError, NotFoundError } from '../errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { EventsRepository } from './events.repository.js';

export function createEventsService(repo: EventsRepository) {
  return {
    async search(q: EventsQuery, scope?: { sites?: string[] }): Promise<EventsPage> {
      if (q.from && q.to && Date.parse(q.from) >= Date.parse(q.to)) {
        throw new BadRequestError('invalid_range', '`from` must be earlier than `to`');
      }
      if (q.camera && !q.site) {
        throw new BadRequestError('invalid_request', '`camera` needs `site`: camera ids are unique only within a site');
      }
      const limit = q.limit ?? EVENTS_DEFAULT_LIMIT;
      const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
      const { items, more } = await repo.page({ ...q, sites: scope?.sites }, limit, cursor);
      const last = items[items.length - 1];
      return { items, nextCursor: more && last ? encodeCursor({ at: last.at, id: last.id }) : null };
    },

    async get(id: string): Promise<EventItem> {
      const e = await repo.get(id.toLowerCase());
      if (!e) throw new NotFoundError('event');
      return e;
    },
  };
}
export type EventsService = ReturnType<typeof createEventsService>;
