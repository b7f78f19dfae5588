import { randomUUID } from 'node:crypto';
import type { CameraEvent } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminApi } from '../support/auth.js';
import { eventWhere } from '../../hub/src/events/events.repository.js';
import { orderedPage } from '../../hub/src/events/id-window.js';
import { makeEvent } from '../support/factories.js';
import { useTestHub } from '../support/hub-fixture.js';
import { daysAgo, insertEvents, jpeg } from '../support/security.js';

let hub: FastifyInstance;

const DAY_MS = 86_400_000;

// No scheduled runs: the tests run maintenance themselves (runNow).
const fixture = useTestHub(
  {
    RETENTION_EVENTS_DAYS: 30,
    RETENTION_SNAPSHOTS_DAYS: 7,
    RETENTION_BATCH: 10,
  },
  { maintenance: false },
);
beforeAll(() => {
  ({ hub } = fixture);
});

/** A UUIDv7 whose time is `ms` (random tail): the id an agent would have made at that instant. */
function v7At(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0') + '7' + randomUUID().replaceAll('-', '').slice(13, 16) + '8';
  const tail = randomUUID().replaceAll('-', '').slice(0, 15);
  const h = hex + tail;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Midday (UTC) `n` days ago: safely inside that day's partition. */
const middayDaysAgo = (n: number) => {
  const d = new Date(Date.now() - n * DAY_MS);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 12);
};

const partitions = async () =>
  (
    await hub.pg.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'events'::regclass ORDER BY 1`,
    )
  ).rows.map((r) => r.name);
const partitionOf = async (id: string) =>
  (await hub.pg.query<{ p: string }>('SELECT tableoid::regclass::text AS p FROM events WHERE id = $1', [id])).rows[0]
    ?.p;
const dayName = (ms: number) => `events_p${new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')}`;

describe('events partitioned by the day of their id', () => {
  it('creates the days ahead, routes v7 ids to their day and other ids to the default partition', async () => {
    await hub.pg.query(
      `SELECT events_add_partition((d AT TIME ZONE 'UTC')::date) FROM generate_series(now() - interval '3 days', now() - interval '1 day', interval '1 day') d`,
    );
    expect(await hub.maintenance.runNow('event-partitions')).toBeGreaterThanOrEqual(0);
    const names = await partitions();
    for (let d = -1; d <= 7; d++) expect(names).toContain(dayName(Date.now() + d * DAY_MS));
    expect(names).toContain('events_default');

    const now = makeEvent({ site: 'part', camera: 'cam-1' });
    const v4 = makeEvent({ site: 'part', camera: 'cam-1', id: randomUUID() });
    const far = makeEvent({ site: 'part', camera: 'cam-1', id: v7At(Date.now() + 40 * DAY_MS) });
    await insertEvents(hub.pg, [now, v4, far]);
    expect(await partitionOf(now.id)).toBe(dayName(Date.now()));
    expect(await partitionOf(v4.id)).toBe('events_default');
    expect(await partitionOf(far.id)).toBe('events_default');
    // Uniqueness by id holds across partitions: the same id again is refused whatever its other columns.
    await expect(insertEvents(hub.pg, [{ ...now, at: daysAgo(3) }])).rejects.toMatchObject({ code: '23505' });

    // A day created later takes its rows out of the default partition.
    await hub.pg.query(`SELECT events_add_partition(((now() + interval '40 days') AT TIME ZONE 'UTC')::date)`);
    expect(await partitionOf(far.id)).toBe(dayName(Date.now() + 40 * DAY_MS));

    // The history API reads across partitions as before.
    const api = adminApi(hub);
    const res = await hub.inject({ url: '/api/v1/events?site=part', headers: await api.headers() });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { items: { id: string }[] }).items.map((e) => e.id).sort()).toEqual(
      [now.id, v4.id, far.id].sort(),
    );
  });

  it('retention drops a whole expired day, keeps a day with a held or younger row for the per-row path, and leaves the day of the cutoff to its partition', async () => {
    const [dropDay, heldDay, skewDay] = [middayDaysAgo(45), middayDaysAgo(44), middayDaysAgo(43)];
    for (const d of [dropDay, heldDay, skewDay]) {
      await hub.pg.query('SELECT events_add_partition($1::date)', [new Date(d).toISOString().slice(0, 10)]);
    }
    const pic = jpeg('part-old');
    await hub.container.snapshots.put(pic.ref, pic.bytes);
    const at = (ms: number, extra: Partial<CameraEvent> = {}) =>
      makeEvent({ site: 'part-ret', camera: 'cam-1', id: v7At(ms), at: new Date(ms).toISOString(), ...extra });
    const dropped = [at(dropDay, { snapshot: pic.ref }), at(dropDay + 1000), at(dropDay + 2000)];
    const held = at(heldDay);
    const heldNeighbour = at(heldDay + 1000);
    // Its id is 43 days old, its time (a camera's clock) two days old: not expired.
    const skewed = makeEvent({ site: 'part-ret', camera: 'cam-1', id: v7At(skewDay), at: daysAgo(2) });
    const skewNeighbour = at(skewDay + 1000);
    await insertEvents(hub.pg, [...dropped, held, heldNeighbour, skewed, skewNeighbour]);
    await hub.pg.query(`INSERT INTO event_holds (event_id, reason, ref) VALUES ($1, 'legal', 'case-1')`, [held.id]);

    const result = (await hub.maintenance.runNow('retention')) as { events: number; partitions: number };
    const names = await partitions();
    expect(names).not.toContain(dayName(dropDay));
    expect(names).toContain(dayName(heldDay));
    expect(names).toContain(dayName(skewDay));
    expect(result.partitions).toBe(1);
    // The dropped day's three rows, and the unheld, expired neighbours through the per-row path.
    expect(result.events).toBe(5);
    expect(await hub.container.snapshots.has(pic.ref)).toBe(false);
    const left = (await hub.pg.query(`SELECT id FROM events WHERE site = 'part-ret'`)).rows.map((r) => r.id as string);
    expect(new Set(left)).toEqual(new Set([held.id, skewed.id]));
    const audit = await hub.pg.query(`SELECT detail FROM audit_log WHERE action = 'retention.run' ORDER BY seq`);
    expect(audit.rows.at(-1)!.detail).toMatchObject({ events: 5, partitions: 1 });

    // The day the cutoff (30 days) falls in: its expired rows wait to go with their partition, whole, a day later.
    const cutoff = Date.now() - 30 * DAY_MS;
    const straddleDay = Date.UTC(
      new Date(cutoff).getUTCFullYear(),
      new Date(cutoff).getUTCMonth(),
      new Date(cutoff).getUTCDate(),
    );
    await hub.pg.query('SELECT events_add_partition($1::date)', [new Date(straddleDay).toISOString().slice(0, 10)]);
    const waiting = at(straddleDay);
    await insertEvents(hub.pg, [waiting]);
    expect(await hub.maintenance.runNow('retention')).toMatchObject({ events: 0, partitions: 0 });
    expect(await partitionOf(waiting.id)).toBe(dayName(straddleDay));

    // Released, the held day goes whole at the next run.
    await hub.pg.query(`UPDATE event_holds SET released_at = now() WHERE ref = 'case-1'`);
    expect(await hub.maintenance.runNow('retention')).toMatchObject({ events: 1, partitions: 1 });
    expect(await partitions()).not.toContain(dayName(heldDay));
  });

  it('bounds a history window by the id days it can hold: PostgreSQL reads only those days, and every event of the window is found', async () => {
    const HOUR = 3_600_000;
    // A two-hour window, ten days back, that does not cross a day boundary.
    const from = middayDaysAgo(10);
    const to = from + 2 * HOUR;
    for (let d = 14; d >= 6; d--) {
      await hub.pg.query('SELECT events_add_partition($1::date)', [
        new Date(middayDaysAgo(d)).toISOString().slice(0, 10),
      ]);
    }
    const ev = (atMs: number, id: string) =>
      makeEvent({ site: 'part-win', camera: 'cam-1', id, at: new Date(atMs).toISOString() });
    // Inside the window, ids minted within the margin (1 day) on either side: a camera time believed within the
    // agent's tolerance, a picture event dated when first seen and confirmed later. Their id days differ from their
    // `at` day (the ids are 20 h before and after, so in the days before and after the window's day).
    const before = ev(from + HOUR, v7At(from + HOUR - 20 * HOUR));
    const after = ev(from + HOUR, v7At(from + HOUR + 20 * HOUR));
    const same = ev(from + 30 * 60_000, v7At(from + 30 * 60_000 + 150));
    // Not v7 (events_default): found whatever its id.
    const v4 = ev(from + 90 * 60_000, randomUUID());
    // An id inside the window's day, `at` outside the window: not in the answer.
    const outside = ev(to + HOUR, v7At(from + 10 * 60_000));
    await insertEvents(hub.pg, [before, after, same, v4, outside]);
    expect(await partitionOf(before.id)).toBe(dayName(from - DAY_MS));
    expect(await partitionOf(after.id)).toBe(dayName(from + DAY_MS));

    const api = adminApi(hub);
    const url = `/api/v1/events?site=part-win&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
    const res = await hub.inject({ url, headers: await api.headers() });
    expect(res.statusCode).toBe(200);
    const ids = (res.json() as { items: { id: string }[] }).items.map((e) => e.id);
    expect(new Set(ids)).toEqual(new Set([before.id, after.id, same.id, v4.id]));
    // Newest first, as before: `at` then id.
    const ats = (res.json() as { items: { at: string }[] }).items.map((e) => e.at);
    expect([...ats].sort().reverse()).toEqual(ats);
    // Pages of one: the keyset cursor walks the same four.
    let cursor: string | null = null;
    const walked: string[] = [];
    do {
      const page = await hub.inject({
        url: `${url}&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        headers: await api.headers(),
      });
      const body = page.json() as { items: { id: string }[]; nextCursor: string | null };
      walked.push(...body.items.map((e) => e.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(walked).toEqual(ids);

    // The plan reads the window's day, the day on each side (the margin) and events_default: no other day.
    const { parts, values } = eventWhere(
      { site: 'part-win', from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      { idMarginMs: 86_400_000 },
    );
    values.push(101);
    const plan = await hub.pg.query<{ 'QUERY PLAN': unknown }>(
      `EXPLAIN (FORMAT JSON) ${orderedPage(parts, 'id, at', 'at DESC, id DESC', `$${values.length}`)}`,
      values,
    );
    const read = new Set<string>();
    const walk = (node: Record<string, unknown>) => {
      if (typeof node['Relation Name'] === 'string') read.add(node['Relation Name']);
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk((plan.rows[0]!['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
    expect([...read].sort()).toEqual(
      [dayName(from - DAY_MS), dayName(from), dayName(from + DAY_MS), 'events_default'].sort(),
    );
    expect((await partitions()).length).toBeGreaterThan(10);
  });
});
