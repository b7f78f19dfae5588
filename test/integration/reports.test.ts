import type { Report } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, createUser } from '../support/auth.js';
import { makeEvent } from '../support/factories.js';
import { useTestHub } from '../support/hub-fixture.js';
import { insertEvents } from '../support/security.js';

/**
 * The committee's report against a seeded history whose figures this file computes on its own, by other means than
 * the hub's SQL: counting in JavaScript, percentiles by interpolation, and uptime by sampling each camera's status
 * minute by minute.
 */
const FROM = Date.parse('2026-10-01T00:00:00.000Z');
const TO = Date.parse('2026-11-01T00:00:00.000Z');
const MIN = 60_000;
const SITES = ['rp-a', 'rp-b', 'rp-c'];
const ASKED = ['rp-a', 'rp-b'];
const CAMERAS = SITES.flatMap((site) => ['cam-1', 'cam-2', 'cam-3'].map((camera) => ({ site, camera })));
const TYPES = ['motion', 'tamper', 'intrusion'] as const;
const STATUSES = ['online', 'degraded', 'offline', 'unknown'] as const;

let hub: FastifyInstance;
let admin: { authorization: string };

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(20261125);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
/** A whole minute between a and b. */
const minuteBetween = (a: number, b: number) => a + Math.floor((random() * (b - a)) / MIN) * MIN;

interface SeedAlert {
  site: string;
  severity: string;
  openedAt: number;
  ackAfter: number | null;
  resolveAfter: number | null;
  resolution: 'manual' | 'auto' | 'false_alarm' | null;
  escalated: boolean;
}
const seedEvents = Array.from({ length: 400 }, (_, i) => {
  const cam = pick(CAMERAS);
  return makeEvent({
    site: cam.site,
    camera: cam.camera,
    seq: i + 1,
    type: pick(TYPES),
    state: pick(['start', 'end', 'pulse'] as const),
    at: new Date(minuteBetween(FROM - 5 * 86_400_000, TO + 5 * 86_400_000) + 1234).toISOString(),
  });
});
const seedAlerts: SeedAlert[] = Array.from({ length: 60 }, () => {
  const resolution = pick(['manual', 'auto', 'false_alarm', null] as const);
  const ackAfter = random() < 0.8 ? Math.round(random() * 3600) : null;
  return {
    site: pick(SITES),
    severity: pick(['info', 'warning', 'critical']),
    openedAt: minuteBetween(FROM - 3 * 86_400_000, TO + 3 * 86_400_000),
    ackAfter,
    resolveAfter: resolution ? (ackAfter ?? 0) + Math.round(random() * 7200) : null,
    resolution,
    escalated: random() < 0.2,
  };
});
/** Each camera's transitions: a status change every few hours to a few days, from before the period to after it. */
const seedTransitions = CAMERAS.flatMap(({ site, camera }, index) => {
  const out: { site: string; camera: string; to: string; at: number }[] = [];
  // The third camera of every site first speaks inside the period: unknown until then.
  let at = index % 3 === 2 ? FROM + 10 * 86_400_000 : FROM - 2 * 86_400_000;
  while (at < TO + 86_400_000) {
    out.push({ site, camera, to: pick(STATUSES), at });
    at += Math.ceil(random() * 72 * 60) * MIN;
  }
  return out;
});

const fixture = useTestHub();
beforeAll(async () => {
  ({ hub } = fixture);
  admin = await authHeaders(hub, 'admin');
  await insertEvents(hub.pg, seedEvents);
  for (const c of CAMERAS) {
    await hub.pg.query('INSERT INTO cameras (site, camera, name, status) VALUES ($1, $2, $3, $4)', [
      c.site,
      c.camera,
      `Camera ${c.camera} ${c.site}`,
      'online',
    ]);
  }
  for (const t of seedTransitions) {
    await hub.pg.query(
      `INSERT INTO camera_transitions (site, camera, from_status, to_status, at) VALUES ($1, $2, 'unknown', $3, $4)`,
      [t.site, t.camera, t.to, new Date(t.at)],
    );
  }
  for (const a of seedAlerts) {
    const ack = a.ackAfter === null ? null : new Date(a.openedAt + a.ackAfter * 1000);
    const resolved = a.resolveAfter === null ? null : new Date(a.openedAt + a.resolveAfter * 1000);
    await hub.pg.query(
      `INSERT INTO alerts (rule_name, kind, group_key, severity, status, site, title, opened_at, acknowledged_at,
                           resolved_at, resolution, escalated_at, updated_at)
       VALUES ('seeded', 'event', $1, $2, $3, $1, 'seeded', $4, $5, $6, $7, $8, now())`,
      [
        a.site,
        a.severity,
        resolved ? 'resolved' : ack ? 'acknowledged' : 'open',
        new Date(a.openedAt),
        ack,
        resolved,
        a.resolution,
        a.escalated ? new Date(a.openedAt + 900_000) : null,
      ],
    );
  }
}, 120_000);

/** percentile_cont: linear interpolation between the closest ranks. */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** Minutes spent in each status, by sampling the status at the start of every minute of the period. */
function sampledSeconds(site: string, camera: string) {
  const mine = seedTransitions.filter((t) => t.site === site && t.camera === camera);
  const seconds = { online: 0, degraded: 0, offline: 0, unknown: 0 } as Record<string, number>;
  let i = -1;
  for (let t = FROM; t < TO; t += MIN) {
    while (i + 1 < mine.length && mine[i + 1]!.at <= t) i++;
    seconds[i < 0 ? 'unknown' : mine[i]!.to] = (seconds[i < 0 ? 'unknown' : mine[i]!.to] ?? 0) + 60;
  }
  return seconds;
}

async function report(query: string, headers = admin): Promise<Report> {
  const res = await hub.inject({ method: 'GET', url: `/api/v1/reports/summary?${query}`, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Report;
}

const QUERY = `from=${new Date(FROM).toISOString()}&to=${new Date(TO).toISOString()}&site=rp-a&site=rp-b`;

describe("the committee's report", () => {
  it('counts incidents by site and type inside the period, for the sites asked', async () => {
    const r = await report(QUERY);
    const expected = new Map<string, number>();
    for (const e of seedEvents) {
      const at = Date.parse(e.at);
      if (at < FROM || at >= TO || e.state === 'end' || !ASKED.includes(e.site)) continue;
      expected.set(`${e.site}/${e.type}`, (expected.get(`${e.site}/${e.type}`) ?? 0) + 1);
    }
    expect(new Map(r.events.map((e) => [`${e.site}/${e.type}`, e.count]))).toEqual(expected);
    expect(r.sites).toEqual(ASKED);
  });

  it('sums alerts by severity and measures how they were handled', async () => {
    const r = await report(QUERY);
    const inside = seedAlerts.filter((a) => a.openedAt >= FROM && a.openedAt < TO && ASKED.includes(a.site));
    expect(inside.length).toBeGreaterThan(5);
    const bySeverity = new Map<string, number>();
    for (const a of inside)
      bySeverity.set(`${a.site}/${a.severity}`, (bySeverity.get(`${a.site}/${a.severity}`) ?? 0) + 1);
    expect(new Map(r.alerts.bySeverity.map((a) => [`${a.site}/${a.severity}`, a.count]))).toEqual(bySeverity);
    const byPerson = inside.filter((a) => a.resolution === 'manual' || a.resolution === 'false_alarm');
    const falseAlarms = inside.filter((a) => a.resolution === 'false_alarm').length;
    expect(r.alerts).toMatchObject({
      opened: inside.length,
      acknowledged: inside.filter((a) => a.ackAfter !== null).length,
      resolved: inside.filter((a) => a.resolution !== null).length,
      autoResolved: inside.filter((a) => a.resolution === 'auto').length,
      falseAlarms,
      escalated: inside.filter((a) => a.escalated).length,
    });
    expect(r.alerts.falseAlarmShare).toBeCloseTo(falseAlarms / byPerson.length, 9);
    const acks = inside.filter((a) => a.ackAfter !== null).map((a) => a.ackAfter!);
    const resolves = byPerson.map((a) => a.resolveAfter!);
    expect(r.alerts.ackSeconds.median).toBeCloseTo(percentile(acks, 0.5)!, 6);
    expect(r.alerts.ackSeconds.p90).toBeCloseTo(percentile(acks, 0.9)!, 6);
    expect(r.alerts.resolveSeconds.median).toBeCloseTo(percentile(resolves, 0.5)!, 6);
    expect(r.alerts.resolveSeconds.p90).toBeCloseTo(percentile(resolves, 0.9)!, 6);
  });

  it('gives camera uptime per site and the worst cameras, from the status history', async () => {
    const r = await report(QUERY);
    const perCamera = CAMERAS.filter((c) => ASKED.includes(c.site)).map((c) => ({
      ...c,
      s: sampledSeconds(c.site, c.camera),
    }));
    for (const site of ASKED) {
      const mine = perCamera.filter((c) => c.site === site);
      const sum = (k: string) => mine.reduce((n, c) => n + c.s[k]!, 0);
      const got = r.uptime.bySite.find((s) => s.site === site)!;
      expect(got.cameras).toBe(3);
      expect(got.seconds).toEqual({
        online: sum('online'),
        degraded: sum('degraded'),
        offline: sum('offline'),
        unknown: sum('unknown'),
      });
      const known = sum('online') + sum('degraded') + sum('offline');
      expect(got.uptimePct).toBeCloseTo((100 * (sum('online') + sum('degraded'))) / known, 9);
      expect(got.offlineHours).toBeCloseTo(sum('offline') / 3600, 2);
    }
    const ranked = perCamera
      .map((c) => ({
        key: `${c.site}/${c.camera}`,
        pct: (100 * (c.s.online! + c.s.degraded!)) / (c.s.online! + c.s.degraded! + c.s.offline!),
      }))
      .sort((a, b) => a.pct - b.pct);
    expect(r.uptime.worstCameras.map((c) => `${c.site}/${c.camera}`)).toEqual(ranked.map((c) => c.key));
    expect(r.uptime.worstCameras[0]!.uptimePct).toBeCloseTo(ranked[0]!.pct, 9);
    expect(r.uptime.worstCameras[0]!.name).toMatch(/^Camera /);
  });

  it('keeps a site-limited reader to their own sites, whatever they ask for', async () => {
    const police = await createUser(hub, ['police'], { sites: ['rp-b'] });
    const r = await report(QUERY, police.headers);
    expect(r.sites).toEqual(['rp-b']);
    expect(r.events.every((e) => e.site === 'rp-b')).toBe(true);
    expect(r.events.length).toBeGreaterThan(0);
    const technician = await authHeaders(hub, 'technician');
    const refused = await hub.inject({ method: 'GET', url: `/api/v1/reports/summary?${QUERY}`, headers: technician });
    expect(refused.statusCode).toBe(403);
  });

  it('exports the same figures as CSV, and refuses a backwards period with a code', async () => {
    const res = await hub.inject({ method: 'GET', url: `/api/v1/reports/summary.csv?${QUERY}`, headers: admin });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('section,site,camera,key,value');
    const r = await report(QUERY);
    const motionA = r.events.find((e) => e.site === 'rp-a' && e.type === 'motion')!;
    expect(lines).toContain(`events,rp-a,,motion,${motionA.count}`);
    expect(lines).toContain(`alert_handling,,,opened,${r.alerts.opened}`);
    const bad = await hub.inject({
      method: 'GET',
      url: `/api/v1/reports/summary?from=${new Date(TO).toISOString()}&to=${new Date(FROM).toISOString()}`,
      headers: admin,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'invalid_period' } });
  });
});
