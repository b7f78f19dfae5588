import { randomUUID } from 'node:crypto';
import type { CameraEvent } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../support/factories.js';
import { buildHub, createHubEnv, type TestHubEnv } from '../support/hub.js';
import { daysAgo, insertEvents, jpeg } from '../support/security.js';
import { ALERTS_TEST_ADMIN_PASSWORD, apiClient } from './alerts-support.js';

let env: TestHubEnv;
let hub: FastifyInstance;

const DAY_MS = 86_400_000;

beforeAll(async () => {
  env = await createHubEnv({
    RETENTION_EVENTS_DAYS: 30,
    RETENTION_SNAPSHOTS_DAYS: 7,
    RETENTION_BATCH: 10,
    CAMHUB_ADMIN_PASSWORD: ALERTS_TEST_ADMIN_PASSWORD,
  });
  // No scheduled runs: the tests run maintenance themselves (runNow).
  hub = await buildHub(env.config, { maintenance: false });
});

afterAll(async () => {
  await hub?.close();
  await env?.cleanup();
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
    const api = apiClient(hub);
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
});
