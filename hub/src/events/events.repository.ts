import type { EventItem, EventType } from '@camhub/shared';
import { clipColumn, toClipInfo } from '../clips/clips.repository.js';
import type { Queryable } from '../db/queryable.js';
import type { EventCursor } from './cursor.js';
import { eventsParts, idRange, intersect, orderedPage } from './id-window.js';

export interface EventFilter {
  site?: string;
  camera?: string;
  type?: EventType;
  from?: string;
  to?: string;
  /** Restrict to these sites (access control); undefined = all. */
  sites?: string[];
}

interface EventRow {
  id: string;
  site: string;
  camera: string;
  seq: number;
  type: string;
  state: string;
  at: Date;
  received_at: Date;
  source_kind: string;
  source_topic: string | null;
  data: Record<string, unknown> | null;
  snapshot: string | null;
  /** From `clipColumn`, when the query selected it. */
  clip?: unknown;
}

export const EVENT_COLUMNS =
  'id, site, camera, seq, type, state, at, received_at, source_kind, source_topic, data, snapshot';

export function rowToEvent(r: EventRow): EventItem {
  const e: EventItem = {
    v: 1,
    id: r.id,
    site: r.site,
    camera: r.camera,
    seq: r.seq,
    type: r.type as EventItem['type'],
    state: r.state as EventItem['state'],
    at: r.at.toISOString(),
    source: r.source_topic
      ? { kind: r.source_kind as EventItem['source']['kind'], topic: r.source_topic }
      : { kind: r.source_kind as EventItem['source']['kind'] },
    receivedAt: r.received_at.toISOString(),
  };
  if (r.data !== null) e.data = r.data;
  if (r.snapshot !== null) e.snapshot = r.snapshot;
  const clip = toClipInfo(r.clip);
  if (clip) e.clip = clip;
  return e;
}

/**
 * The FROM … WHERE parts shared by history search and exports (see `eventsParts`); values are always parameters.
 * `idMarginMs` (EVENTS_ID_MARGIN_SEC): read only the day partitions of the id range of the time window
 * (id-window.ts); omitted or negative, every day is read.
 */
export function eventWhere(
  filter: EventFilter,
  opts: { cursor?: EventCursor; after?: EventCursor; idMarginMs?: number } = {},
): { parts: string[]; values: unknown[] } {
  const { cursor, after, idMarginMs = -1 } = opts;
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const add = (clause: string, ...vals: unknown[]) => {
    let c = clause;
    for (const v of vals) c = c.replace('?', param(v));
    where.push(c);
  };
  if (filter.site) add('site = ?', filter.site);
  if (filter.sites) add('site = ANY(?::text[])', filter.sites);
  if (filter.camera) add('camera = ?', filter.camera);
  if (filter.type) add('type = ?', filter.type);
  if (filter.from) add('at >= ?::timestamptz', filter.from);
  if (filter.to) add('at < ?::timestamptz', filter.to);
  // Keyset positions: before `cursor` (newest first), after `after` (oldest first).
  if (cursor) add('(at, id) < (?::timestamptz, ?::uuid)', cursor.at, cursor.id);
  if (after) add('(at, id) > (?::timestamptz, ?::uuid)', after.at, after.id);
  const range = intersect(
    idRange({ from: filter.from, to: filter.to }, idMarginMs),
    intersect(
      cursor ? idRange({ to: cursor.at, toInclusive: true }, idMarginMs) : null,
      after ? idRange({ from: after.at }, idMarginMs) : null,
    ),
  );
  return { parts: eventsParts(range, where, param), values };
}

export function createEventsRepository(db: Queryable, opts: { idMarginSec?: number } = {}) {
  const idMarginMs = opts.idMarginSec === undefined ? -1 : opts.idMarginSec * 1000;
  return {
    /** One page, newest first, plus one extra row to know whether another page exists. */
    async page(
      filter: EventFilter,
      limit: number,
      cursor?: EventCursor,
    ): Promise<{ items: EventItem[]; more: boolean }> {
      const { parts, values } = eventWhere(filter, { cursor, idMarginMs });
      values.push(limit + 1);
      const { rows } = await db.query<EventRow>(
        orderedPage(parts, `${EVENT_COLUMNS}, ${clipColumn('events')}`, 'at DESC, id DESC', `$${values.length}`),
        values,
      );
      return { items: rows.slice(0, limit).map(rowToEvent), more: rows.length > limit };
    },

    async get(id: string): Promise<EventItem | null> {
      const { rows } = await db.query<EventRow>(
        `SELECT ${EVENT_COLUMNS}, ${clipColumn('events')} FROM events WHERE id = $1`,
        [id],
      );
      return rows[0] ? rowToEvent(rows[0]) : null;
    },
  };
}
export type EventsRepository = ReturnType<typeof createEventsRepository>;
