/**
 * History queries filter on `at` (when the event happened), but `events` is partitioned by the UTC day of its id
 * (migration 015), which `at` does not bound: a query on `at` alone reads every day's index. This module turns a time
 * window into the id range that holds it, so PostgreSQL prunes the days outside it at plan time.
 *
 * Why an id range can bound `at`: ids are UUIDv7 and the agent takes one when the event happens, on its own clock,
 * the same clock `at` is corrected to (edge-agent `camera-supervisor.ts` `enqueue`/`append`). Buffering on disk
 * during an uplink cut comes after that, so a late event keeps an id of its own time, however late it arrives. What
 * separates an id's time from `at` is only:
 * - a camera's event time believed within `onvif.eventTimeToleranceSec` of its receipt (default 120 s, at most 1 day);
 * - a picture event (frozen, black) dated when first seen, confirmed `stream.confirmRuns` probes later (≈ 1 min);
 * - a few seconds of the agent's event chain waiting for snapshot fetches.
 * `EVENTS_ID_MARGIN_SEC` (default 1 day, the largest tolerance an agent accepts) widens the range on both sides.
 *
 * Ids outside any day (not v7, as the contract allows, or dated where no day partition exists) live in
 * `events_default`, which is always read too (the second arm below, with the complementary range), so such events
 * are found as before. A v7 id whose time is farther from `at` than the margin (a producer other than the agent) is
 * the one case a windowed query misses.
 */

const MAX_MS = 2 ** 48 - 1;

/** The smallest UUIDv7 of an instant (its millisecond timestamp, then zeros): `events_id_floor` in SQL. */
export function idFloor(ms: number): string {
  const h = Math.min(MAX_MS, Math.max(0, Math.floor(ms)))
    .toString(16)
    .padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-0000-0000-000000000000`;
}

/** The ids of a time window: `lo <= id < hi`, either side open. */
export interface IdRange {
  lo?: string;
  hi?: string;
}

/**
 * The id range that holds every event with `from <= at < to` (either may be missing), widened by `marginMs`.
 * `toInclusive`: `at <= to` (a keyset cursor). Null when nothing bounds the window, or the margin is off (< 0).
 */
export function idRange(
  window: { from?: string | Date; to?: string | Date; toInclusive?: boolean },
  marginMs: number,
): IdRange | null {
  if (marginMs < 0) return null;
  const ms = (t: string | Date | undefined) => (t === undefined ? undefined : new Date(t).getTime());
  const from = ms(window.from);
  const to = ms(window.to);
  const range: IdRange = {};
  // PostgreSQL keeps microseconds, JavaScript milliseconds: one more on each side covers the rounding.
  if (from !== undefined && Number.isFinite(from)) range.lo = idFloor(from - marginMs - 1);
  if (to !== undefined && Number.isFinite(to)) range.hi = idFloor(to + marginMs + (window.toInclusive ? 2 : 1));
  return range.lo || range.hi ? range : null;
}

/** The tighter of two ranges (both bounds of each apply). */
export function intersect(a: IdRange | null, b: IdRange | null): IdRange | null {
  if (!a) return b;
  if (!b) return a;
  const max = (x?: string, y?: string) => (x === undefined ? y : y === undefined ? x : x > y ? x : y);
  const min = (x?: string, y?: string) => (x === undefined ? y : y === undefined ? x : x < y ? x : y);
  return { lo: max(a.lo, b.lo), hi: min(a.hi, b.hi) };
}

/**
 * The statements' FROM … WHERE parts that read `events` under `conditions` within this range: the day partitions the
 * range names (PostgreSQL prunes the rest at plan time), then the rest of `events_default`, to be combined with
 * UNION ALL (`orderedPage`, or a count per part). Both read as `events`. One part when there is no range.
 *
 * Two whole statements and not one FROM item `(… UNION ALL …) events`: PostgreSQL does not flatten a UNION ALL
 * whose arm is a partitioned table into the outer query, so ORDER BY … LIMIT over it sorted every matching row of
 * the window instead of merging the partitions' index order (EXPLAIN: 0.3 → 300 ms for a keyset page of 1 M events).
 * `param` adds a value and returns its placeholder.
 */
export function eventsParts(range: IdRange | null, conditions: string[], param: (value: unknown) => string): string[] {
  const where = (extra?: string) => {
    const all = extra ? [...conditions, extra] : conditions;
    return all.length ? ` WHERE ${all.join(' AND ')}` : '';
  };
  if (!range) return [`FROM events${where()}`];
  const bounds: string[] = [];
  if (range.lo) bounds.push(`id >= ${param(range.lo)}::uuid`);
  if (range.hi) bounds.push(`id < ${param(range.hi)}::uuid`);
  const inRange = bounds.join(' AND ');
  return [`FROM events${where(inRange)}`, `FROM events_default events${where(`NOT (${inRange})`)}`];
}

/** One page over the parts, in `order`: each part's first `limit` rows (its index order), then the best of them. */
export function orderedPage(parts: string[], select: string, order: string, limit: string): string {
  if (parts.length === 1) return `SELECT ${select} ${parts[0]} ORDER BY ${order} LIMIT ${limit}`;
  const each = parts.map((p) => `(SELECT ${select} ${p} ORDER BY ${order} LIMIT ${limit})`).join(' UNION ALL ');
  return `${each} ORDER BY ${order} LIMIT ${limit}`;
}
