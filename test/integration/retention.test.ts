import { randomUUID } from 'node:crypto';
import type { CameraEvent } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRetentionService } from '../../hub/src/retention/retention.service.js';
import { makeEvent } from '../support/factories.js';
import type { TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { daysAgo, insertEvents, jpeg } from '../support/security.js';

// Small batches, so a run takes several of them. No scheduled runs: their first tick, at start, would race the runs
// these tests make themselves (runNow).
const fixture = useTestHub(
  { RETENTION_EVENTS_DAYS: 30, RETENTION_SNAPSHOTS_DAYS: 7, RETENTION_BATCH: 10, HEALTH_RETENTION_BATCH: 10 },
  { maintenance: false },
);
let env: TestHubEnv;
let hub: FastifyInstance;
beforeAll(() => {
  ({ env, hub } = fixture);
});

const ids = async (site: string) =>
  new Set((await hub.pg.query('SELECT id FROM events WHERE site = $1', [site])).rows.map((r) => r.id as string));

async function alertWith(eventIds: string[], status: 'open' | 'acknowledged' | 'resolved') {
  const id = randomUUID();
  await hub.pg.query(
    `INSERT INTO alerts (id, rule_name, kind, group_key, severity, status, site, title, opened_at, updated_at)
     VALUES ($1, 'test', 'event', 'ret/cam', 'warning', $2, 'ret', 'test alert', now(), now())`,
    [id, status],
  );
  for (const e of eventIds) {
    await hub.pg.query('INSERT INTO alert_events (alert_id, event_id, at) VALUES ($1, $2, now())', [id, e]);
  }
}

describe('retention', () => {
  it('deletes exactly the expired events and snapshot files, and keeps what is held', async () => {
    const ev = (days: number, extra: Partial<CameraEvent> = {}) =>
      makeEvent({ site: 'ret', camera: 'cam-1', at: daysAgo(days), ...extra });
    const img = (name: string) => jpeg(`ret-${name}`);
    const pics = {
      young: img('young'),
      mid: img('mid'),
      midHeld: img('mid-held'),
      shared: img('shared'),
      oldHeld: img('old-held'),
    };
    for (const p of Object.values(pics)) await hub.container.snapshots.put(p.ref, p.bytes);

    const expired = Array.from({ length: 35 }, (_, i) => ev(31 + i));
    const young = ev(2, { snapshot: pics.young.ref });
    const mid = ev(10, { snapshot: pics.mid.ref }); // event kept (30 d), snapshot expired (7 d)
    const midExported = ev(12, { snapshot: pics.midHeld.ref });
    const sharedOld = ev(20, { snapshot: pics.shared.ref }); // same file as a young event: the file stays
    const sharedYoung = ev(1, { snapshot: pics.shared.ref });
    const exported = ev(60, { snapshot: pics.oldHeld.ref });
    const releasedExport = ev(61);
    const openAlert = ev(62);
    const ackedAlert = ev(63);
    const resolvedAlert = ev(64);
    const all = [
      ...expired,
      young,
      mid,
      midExported,
      sharedOld,
      sharedYoung,
      exported,
      releasedExport,
      openAlert,
      ackedAlert,
      resolvedAlert,
    ];
    await insertEvents(hub.pg, all);
    await hub.pg.query(
      `INSERT INTO event_holds (event_id, reason, ref, released_at) VALUES
         ($1, 'export', 'exp-1', NULL), ($2, 'export', 'exp-1', NULL), ($3, 'export', 'exp-0', now())`,
      [exported.id, midExported.id, releasedExport.id],
    );
    await alertWith([openAlert.id], 'open');
    await alertWith([ackedAlert.id], 'acknowledged');
    await alertWith([resolvedAlert.id], 'resolved');

    const result = (await hub.maintenance.runNow('retention')) as { events: number; snapshots: number };

    const kept = [young, mid, midExported, sharedOld, sharedYoung, exported, openAlert, ackedAlert].map((e) => e.id);
    expect(await ids('ret')).toEqual(new Set(kept));
    expect(result.events).toBe(expired.length + 2); // + released export + resolved alert
    expect(await hub.container.snapshots.has(pics.mid.ref)).toBe(false);
    expect(result.snapshots).toBe(1);
    for (const p of [pics.young, pics.midHeld, pics.shared, pics.oldHeld]) {
      expect(await hub.container.snapshots.has(p.ref)).toBe(true);
    }
    const purged = await hub.pg.query('SELECT id FROM events WHERE snapshot_purged_at IS NOT NULL');
    expect(purged.rows.map((r) => r.id)).toEqual([mid.id]);

    // Nothing else has expired: a second run deletes nothing.
    expect(await hub.maintenance.runNow('retention')).toMatchObject({ events: 0, snapshots: 0 });

    // Releasing the export lets its events age out like the rest.
    await hub.pg.query(`UPDATE event_holds SET released_at = now() WHERE ref = 'exp-1'`);
    expect(await hub.maintenance.runNow('retention')).toMatchObject({ events: 1, snapshots: 2 });
    expect((await ids('ret')).has(exported.id)).toBe(false);
    expect(await hub.container.snapshots.has(pics.oldHeld.ref)).toBe(false);
    expect(await hub.container.snapshots.has(pics.midHeld.ref)).toBe(false);

    const runs = await hub.pg.query(`SELECT detail FROM audit_log WHERE action = 'retention.run' ORDER BY seq`);
    expect(runs.rows.map((r) => r.detail.events)).toEqual([expired.length + 2, 1]);
  });

  it('deletes health samples past HEALTH_RETENTION_DAYS in batches of HEALTH_RETENTION_BATCH', async () => {
    const days = env.config.HEALTH_RETENTION_DAYS;
    // 25 expired samples take three batches of 10; the young ones stay.
    for (let i = 0; i < 25; i++) {
      await hub.pg.query(`INSERT INTO health_samples (site, camera, at, status) VALUES ('ret-h', 'cam-1', $1, 'ok')`, [
        daysAgo(days + 1 + i),
      ]);
    }
    for (const d of [1, days - 1]) {
      await hub.pg.query(`INSERT INTO health_samples (site, camera, at, status) VALUES ('ret-h', 'cam-1', $1, 'ok')`, [
        daysAgo(d),
      ]);
    }
    expect(await hub.maintenance.runNow('health-retention')).toBe(25);
    const left = await hub.pg.query(`SELECT count(*)::int AS n FROM health_samples WHERE site = 'ret-h'`);
    expect(left.rows[0].n).toBe(2);
  });

  it('prunes the oldest audit entries and the remaining chain still verifies', async () => {
    for (let i = 0; i < 25; i++) {
      await hub.container.services.audit.record(
        { actor: 'ret', roles: [], ip: null },
        { action: 'events.search', detail: { i } },
      );
    }
    const before = await hub.container.services.audit.verify();
    expect(before.ok).toBe(true);
    // A clock far ahead makes every entry older than the audit retention.
    const future = new Date(Date.now() + (env.config.RETENTION_AUDIT_DAYS + 1) * 86_400_000);
    const retention = createRetentionService({
      repo: hub.container.repositories.retention,
      auditRepo: hub.container.repositories.audit,
      authRepo: hub.container.repositories.auth,
      healthRepo: hub.container.repositories.status,
      audit: hub.container.services.audit,
      snapshots: hub.container.snapshots,
      clips: { repo: hub.container.repositories.clips, store: hub.container.clipStore },
      settings: {
        eventsDays: 100_000,
        snapshotsDays: 100_000,
        clipsDays: 100_000,
        auditDays: env.config.RETENTION_AUDIT_DAYS,
        attemptsKeepSec: 1,
        rejectionsDays: 100_000,
        batch: 10,
        healthDays: 100_000,
        healthBatch: 10,
      },
      now: () => future,
    });
    const r = await retention.run();
    expect(r.audit).toBe(before.head.seq);
    const after = await hub.container.services.audit.verify();
    // The run's own entry is all that is left, chained to the last pruned one.
    expect(after).toMatchObject({ ok: true, checked: 1, base: { seq: before.head.seq } });
  });
});
