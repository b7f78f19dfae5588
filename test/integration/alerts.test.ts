import { type Alert, type AlertDetail, type AlertRule, type Topics } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { createUser, adminApi, type AdminApi } from '../support/auth.js';
import { makeEvent, makeHealth } from '../support/factories.js';
import { usePublisher, useTestHub } from '../support/hub-fixture.js';
import { publishJson } from '../support/mqtt.js';
import { sleep, waitFor } from '../support/wait.js';

let hub: FastifyInstance;
let pub: MqttClient;
let api: AdminApi;
let t: Topics;

type Page = { items: Alert[]; nextCursor: string | null };
const alertsOf = async (site: string) => (await api.get<Page>(`/api/v1/alerts?site=${site}&limit=500`)).body.items;
const storedEvents = async (site: string) =>
  (await hub.pg.query('SELECT count(*)::int AS n FROM events WHERE site = $1', [site])).rows[0].n as number;

/** Publishes events and waits until they are stored and every rule evaluation has finished. */
async function send(events: ReturnType<typeof makeEvent>[]) {
  const before = new Map<string, number>();
  for (const e of events) before.set(e.site, before.get(e.site) ?? (await storedEvents(e.site)));
  for (const e of events) await publishJson(pub, t.events(e.site, e.camera), e);
  for (const [site, n] of before) {
    const expected = n + events.filter((e) => e.site === site).length;
    await waitFor(async () => (await storedEvents(site)) === expected, { what: `events of ${site} stored` });
  }
  await hub.alerts.idle();
}

async function createRule(rule: Record<string, unknown>): Promise<AlertRule> {
  const res = await api.post<AlertRule>('/api/v1/alert-rules', rule);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const fixture = useTestHub({
  ALERT_TICK_SEC: 1,
  SITE_TIME_ZONES: 'tz-ny=America/New_York',
});
const mqtt = usePublisher(fixture);
beforeAll(async () => {
  ({ hub } = fixture);
  ({ pub, topics: t } = mqtt);
  api = adminApi(hub);
});

describe('alert rules', () => {
  it('has documented default rules on a fresh install', async () => {
    const { status, body } = await api.get<{ items: AlertRule[] }>('/api/v1/alert-rules');
    expect(status).toBe(200);
    const byName = Object.fromEntries(body.items.map((r) => [r.name, r]));
    expect(Object.keys(byName).sort()).toEqual(
      [
        'Bộ thu tại điểm mất kết nối',
        'Camera mất kết nối',
        'Lệch giờ camera',
        'Không nhận được sự kiện',
        'Xâm nhập hoặc vượt hàng rào ảo',
        'Chuyển động ban đêm',
        'Lỗi lưu trữ',
        'Camera bị che/can thiệp',
        'Mất hình',
      ].sort(),
    );
    expect(byName['Xâm nhập hoặc vượt hàng rào ảo']).toMatchObject({
      kind: 'event',
      enabled: true,
      severity: 'critical',
      eventTypes: ['intrusion', 'line_crossing'],
    });
    expect(byName['Camera mất kết nối']).toMatchObject({ kind: 'health', condition: 'camera_offline', forSec: 300 });
    expect(byName['Chuyển động ban đêm']).toMatchObject({
      enabled: false,
      schedule: { windows: [{ start: '22:00', end: '05:00' }] },
      threshold: { count: 3, windowSec: 60 },
    });
  });

  it('records for evaluation only the events an enabled rule can act on', async () => {
    const recorded: string[][] = [];
    const repo = hub.container.repositories.ingest;
    const record = repo.recordForAlerts;
    repo.recordForAlerts = async (batchId, ids, db) => {
      recorded.push(ids);
      return record(batchId, ids, db);
    };
    try {
      const motion = makeEvent({ site: 'td-owed', camera: 'cam-1', type: 'motion', state: 'start' });
      const intrusion = makeEvent({ site: 'td-owed', camera: 'cam-1', type: 'intrusion', state: 'pulse' });
      await send([motion, intrusion]);
      // Runs before the other tests add rules: the default rules act on intrusions (and tamper, video loss, storage failures), not on motion by day.
      expect(recorded.flat()).toEqual([intrusion.id.toLowerCase()]);
      expect(await storedEvents('td-owed')).toBe(2);
      expect((await alertsOf('td-owed')).map((a) => a.ruleName)).toHaveLength(1);
      // A rule that names no event types acts on every event, motion included.
      await createRule({ name: 'every event at td-owed', kind: 'event', severity: 'info', sites: ['td-owed'] });
      recorded.length = 0;
      const later = makeEvent({ site: 'td-owed', camera: 'cam-2', type: 'motion', state: 'start' });
      await send([later]);
      expect(recorded.flat()).toEqual([later.id.toLowerCase()]);
    } finally {
      repo.recordForAlerts = record;
    }
  });

  it('refuses invalid rules with the contract error shape', async () => {
    const bad: [unknown, number, string][] = [
      [{ kind: 'event', name: 'x', severity: 'loud' }, 400, 'invalid_request'],
      [
        { kind: 'event', name: 'x', severity: 'info', schedule: { windows: [{ start: '25:00', end: '01:00' }] } },
        400,
        'invalid_request',
      ],
      [
        {
          kind: 'event',
          name: 'x',
          severity: 'info',
          schedule: { timeZone: 'Mars/Base', windows: [{ start: '22:00', end: '01:00' }] },
        },
        400,
        'invalid_time_zone',
      ],
      [{ kind: 'health', name: 'x', severity: 'info', condition: 'clock_skew' }, 400, 'invalid_rule'],
      [{ kind: 'event', name: 'x', severity: 'info', sites: ['a'], cameras: ['b/cam-1'] }, 400, 'invalid_rule'],
    ];
    for (const [body, status, code] of bad) {
      const res = await api.post<{ error: { code: string; message: string } }>('/api/v1/alert-rules', body);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
    }
    const missing = await api.get<{ error: { code: string } }>(
      '/api/v1/alert-rules/01936b7e-8c1a-7c35-9f0e-000000000000',
    );
    expect(missing.status).toBe(404);
  });

  it('applies schedules across midnight in each site time zone', async () => {
    await createRule({
      kind: 'event',
      name: 'School night motion',
      severity: 'warning',
      eventTypes: ['motion'],
      sites: ['tz-hcm', 'tz-ny'],
      schedule: { windows: [{ start: '22:00', end: '05:00' }] },
    });
    // tz-hcm uses the default zone (Asia/Ho_Chi_Minh, UTC+7); tz-ny is America/New_York (UTC-5 in November).
    const at = (iso: string, site: string, camera: string) => makeEvent({ site, camera, type: 'motion', at: iso });
    await send([
      at('2026-11-22T16:00:00.000Z', 'tz-hcm', 'evening'), // 23:00 in HCM: in
      at('2026-11-22T20:30:00.000Z', 'tz-hcm', 'after-midnight'), // 03:30 in HCM: in
      at('2026-11-22T08:00:00.000Z', 'tz-hcm', 'afternoon'), // 15:00 in HCM: out
      at('2026-11-22T22:00:00.000Z', 'tz-hcm', 'at-end'), // 05:00 in HCM: out (end excluded)
      at('2026-11-22T16:00:00.000Z', 'tz-ny', 'morning'), // 11:00 in New York: out
      at('2026-11-23T04:00:00.000Z', 'tz-ny', 'night'), // 23:00 in New York: in
    ]);
    const cams = [...(await alertsOf('tz-hcm')), ...(await alertsOf('tz-ny'))].map((a) => `${a.site}/${a.camera}`);
    expect(cams.sort()).toEqual(['tz-hcm/after-midnight', 'tz-hcm/evening', 'tz-ny/night']);
  });

  it('opens only after the threshold, and groups a flood of events into one alert', async () => {
    await createRule({
      kind: 'event',
      name: 'Repeated motion',
      severity: 'info',
      eventTypes: ['motion'],
      sites: ['thr'],
      threshold: { count: 5, windowSec: 60 },
    });
    // Within the last day: the alert tick forgets threshold candidates older than that.
    const base = Date.now() - 3_600_000;
    const ev = (i: number, offsetSec: number) =>
      makeEvent({
        site: 'thr',
        camera: 'cam-1',
        type: 'motion',
        at: new Date(base + offsetSec * 1000).toISOString(),
        seq: i,
      });
    // Four within a minute, then one 5 minutes later: the window never holds five.
    await send([ev(1, 0), ev(2, 10), ev(3, 20), ev(4, 30), ev(5, 330)]);
    expect(await alertsOf('thr')).toHaveLength(0);
    await send([ev(6, 340), ev(7, 350), ev(8, 360)]);
    expect(await alertsOf('thr')).toHaveLength(0);
    await send([ev(9, 370)]);
    const [alert, ...rest] = await alertsOf('thr');
    expect(rest).toHaveLength(0);
    expect(alert).toMatchObject({ status: 'open', eventCount: 5, severity: 'info' });

    await createRule({
      kind: 'event',
      name: 'Any motion',
      severity: 'warning',
      eventTypes: ['motion'],
      sites: ['flood'],
    });
    const start = Date.now() - 60_000;
    const flood = Array.from({ length: 100 }, (_, i) =>
      makeEvent({ site: 'flood', camera: 'cam-1', type: 'motion', at: new Date(start + i * 500).toISOString() }),
    );
    await send(flood);
    const alerts = await alertsOf('flood');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.eventCount).toBe(100);
    const detail = await api.get<AlertDetail>(`/api/v1/alerts/${alerts[0]!.id}`);
    expect(detail.body.events).toHaveLength(100);
    expect(new Set(detail.body.events.map((e) => e.id))).toEqual(new Set(flood.map((e) => e.id)));
    expect(detail.body.firstEventAt).toBe(flood[0]!.at);
    expect(detail.body.lastEventAt).toBe(flood[99]!.at);
  });

  it('opens a new alert for an event after a resolution whatever the cooldown; late parts of the burst join it', async () => {
    await createRule({
      kind: 'event',
      name: 'Gate input',
      severity: 'warning',
      eventTypes: ['digital_input'],
      sites: ['cool'],
      cooldownSec: 300,
    });
    const ev = (at?: string) =>
      makeEvent({ site: 'cool', camera: 'gate', type: 'digital_input', state: 'pulse', ...(at ? { at } : {}) });
    const burstAt = new Date(Date.now() - 2000).toISOString();
    await send([ev(burstAt)]);
    const [first] = await alertsOf('cool');
    expect(first).toMatchObject({ reason: { code: 'events', params: { types: ['digital_input'] } } });
    expect((await api.post(`/api/v1/alerts/${first!.id}/resolve`, { note: 'checked' })).status).toBe(200);
    // Delivered after the resolution but it happened before (an agent's outbox): the same burst, nothing new.
    await send([ev(new Date(Date.parse(burstAt) + 500).toISOString())]);
    const late = await alertsOf('cool');
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ id: first!.id, status: 'resolved', eventCount: 2 });
    // It happened after the resolution: a new incident, inside the 300 s cooldown.
    await send([ev()]);
    const after = await alertsOf('cool');
    expect(after).toHaveLength(2);
    expect(after[0]).toMatchObject({ status: 'open', eventCount: 1 });
  });
});

describe('changing rules', () => {
  it('audits each change with what changed, and keeps a site-limited admin to rules of its own sites', async () => {
    const rule = await createRule({ kind: 'event', name: 'Chuyển động (aud)', severity: 'info', sites: ['aud'] });
    const put = await api.put<AlertRule>(`/api/v1/alert-rules/${rule.id}`, {
      kind: 'event',
      name: 'Chuyển động (aud)',
      severity: 'warning',
      sites: ['aud'],
      enabled: false,
      threshold: { count: 3, windowSec: 60 },
    });
    expect(put.status).toBe(200);
    expect((await api.del(`/api/v1/alert-rules/${rule.id}`)).status).toBe(204);
    const { rows } = await hub.pg.query<{ action: string; actor: string; detail: Record<string, unknown> }>(
      `SELECT action, actor, detail FROM audit_log WHERE target = $1 ORDER BY seq`,
      [rule.id],
    );
    expect(rows.map((r) => `${r.actor} ${r.action}`)).toEqual([
      'admin rule.create',
      'admin rule.update',
      'admin rule.delete',
    ]);
    expect(rows[0]!.detail).toMatchObject({ name: 'Chuyển động (aud)', sites: ['aud'] });
    expect(rows[1]!.detail).toEqual({
      name: 'Chuyển động (aud)',
      changes: {
        severity: { from: 'info', to: 'warning' },
        enabled: { from: true, to: false },
        threshold: { from: null, to: { count: 3, windowSec: 60 } },
      },
    });
    expect(rows[2]!.detail).toEqual({ name: 'Chuyển động (aud)' });

    const limited = await createUser(hub, ['admin'], { sites: ['aud-a'] });
    const as = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
      hub.inject({ method, url, headers: limited.headers, payload });
    const everywhere = (await api.get<{ items: AlertRule[] }>('/api/v1/alert-rules')).body.items.find(
      (r) => r.sites === null && r.kind === 'event',
    )!;
    const own = await as('POST', '/api/v1/alert-rules', {
      kind: 'event',
      name: 'Riêng',
      severity: 'info',
      sites: ['aud-a'],
    });
    expect(own.statusCode).toBe(201);
    const listed = (await as('GET', '/api/v1/alert-rules')).json().items as AlertRule[];
    expect(listed.map((r) => r.name)).toEqual(['Riêng']);
    const refused = await as('POST', '/api/v1/alert-rules', { kind: 'event', name: 'Khắp nơi', severity: 'info' });
    expect(refused.json().error.code).toBe('rule_outside_sites');
    const widen = await as('PUT', `/api/v1/alert-rules/${own.json().id}`, {
      kind: 'event',
      name: 'Riêng',
      severity: 'info',
      sites: ['aud-a', 'aud-b'],
    });
    expect(widen.json().error.code).toBe('rule_outside_sites');
    expect(
      (
        await as('PUT', `/api/v1/alert-rules/${everywhere.id}`, {
          kind: 'event',
          name: everywhere.name,
          severity: everywhere.severity,
          sites: ['aud-a'],
        })
      ).statusCode,
    ).toBe(404);
    expect((await as('DELETE', `/api/v1/alert-rules/${everywhere.id}`)).statusCode).toBe(404);
  });
});

describe('alert lifecycle', () => {
  it('turns the night-time intrusion into one alert that is acknowledged and resolved through the API', async () => {
    // Defaults only: the intrusion rule. An intruder trips the camera repeatedly for a minute, at 23:10 local time.
    const base = Date.parse('2026-11-22T16:10:00.000Z');
    const intrusion = [
      makeEvent({
        site: 'school-01',
        camera: 'yard',
        type: 'intrusion',
        state: 'start',
        at: new Date(base).toISOString(),
      }),
      ...Array.from({ length: 8 }, (_, i) =>
        makeEvent({
          site: 'school-01',
          camera: 'yard',
          type: 'intrusion',
          state: 'pulse',
          at: new Date(base + (i + 1) * 5000).toISOString(),
        }),
      ),
      makeEvent({
        site: 'school-01',
        camera: 'yard',
        type: 'intrusion',
        state: 'end',
        at: new Date(base + 60_000).toISOString(),
      }),
    ];
    await send(intrusion);
    const alerts = await alertsOf('school-01');
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(alert).toMatchObject({
      status: 'open',
      severity: 'critical',
      ruleName: 'Xâm nhập hoặc vượt hàng rào ảo',
      title: 'Xâm nhập hoặc vượt hàng rào ảo — school-01/yard',
      reason: { code: 'events', params: { types: ['intrusion'] } },
      site: 'school-01',
      camera: 'yard',
      eventCount: 10,
    });

    const ack = await api.post<Alert>(`/api/v1/alerts/${alert.id}/ack`, { note: 'guard sent' });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ status: 'acknowledged' });
    expect(ack.body.acknowledgedBy).toEqual(expect.any(String));
    expect(ack.body.acknowledgedAt).toEqual(expect.any(String));

    const twice = await api.post<{ error: { code: string; message: string } }>(`/api/v1/alerts/${alert.id}/ack`, {});
    expect(twice.status).toBe(409);
    expect(twice.body.error).toEqual({ code: 'alert_already_acknowledged', message: expect.any(String) });

    expect((await api.post(`/api/v1/alerts/${alert.id}/assign`, { assignee: 'guard-lan' })).status).toBe(200);
    expect((await api.post(`/api/v1/alerts/${alert.id}/comments`, { note: 'gate found open' })).status).toBe(200);
    const resolved = await api.post<Alert>(`/api/v1/alerts/${alert.id}/resolve`, { note: 'a teacher, working late' });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolution: 'manual', assignee: 'guard-lan' });

    for (const action of ['resolve', 'ack', 'false-alarm']) {
      const again = await api.post<{ error: { code: string } }>(`/api/v1/alerts/${alert.id}/${action}`, {});
      expect({ action, status: again.status, code: again.body.error.code }).toEqual({
        action,
        status: 409,
        code: 'alert_resolved',
      });
    }
    expect((await api.post(`/api/v1/alerts/${alert.id}/assign`, { assignee: 'x' })).status).toBe(409);
    // Comments are still welcome after resolution.
    expect((await api.post(`/api/v1/alerts/${alert.id}/comments`, { note: 'camera angle adjusted' })).status).toBe(200);

    const detail = await api.get<AlertDetail>(`/api/v1/alerts/${alert.id}`);
    expect(detail.body.events).toHaveLength(10);
    expect(detail.body.history.map((h) => h.action)).toEqual([
      'opened',
      'acknowledged',
      'assigned',
      'commented',
      'resolved',
      'commented',
    ]);
    expect(detail.body.history[1]).toMatchObject({ note: 'guard sent' });
    expect(detail.body.history[2]).toMatchObject({ data: { assignee: 'guard-lan' } });

    // Another intrusion after the resolution is a new incident, even inside the rule's 5 minute cooldown.
    await send([makeEvent({ site: 'school-01', camera: 'yard', type: 'intrusion', state: 'start' })]);
    const again = await alertsOf('school-01');
    expect(again).toHaveLength(2);
    expect(again[0]).toMatchObject({ status: 'open', eventCount: 1 });
  });

  it('keeps an end that was stored before its start with the alert the start opens', async () => {
    const start = makeEvent({ site: 'ooo', camera: 'c1', type: 'intrusion', state: 'start' });
    const end = makeEvent({ site: 'ooo', camera: 'c1', type: 'intrusion', state: 'end' });
    // As when two ingest workers commit the batches in the other order.
    await send([end]);
    expect(await alertsOf('ooo')).toHaveLength(0);
    await send([start]);
    const [alert, ...more] = await alertsOf('ooo');
    expect(more).toHaveLength(0);
    expect(alert).toMatchObject({ eventCount: 2, status: 'open' });
  });

  it('marks false alarms, filters the list, and answers bad requests', async () => {
    await send([makeEvent({ site: 'fa-site', camera: 'c1', type: 'line_crossing', state: 'pulse' })]);
    const [alert] = await alertsOf('fa-site');
    const fa = await api.post<Alert>(`/api/v1/alerts/${alert!.id}/false-alarm`, { note: 'a cat' });
    expect(fa.body).toMatchObject({ status: 'resolved', resolution: 'false_alarm' });
    const detail = await api.get<AlertDetail>(`/api/v1/alerts/${alert!.id}`);
    expect(detail.body.history.at(-1)).toMatchObject({ action: 'false_alarm', note: 'a cat' });

    const q = async (query: string) => (await api.get<Page>(`/api/v1/alerts?${query}`)).body.items.map((a) => a.id);
    expect(await q('site=fa-site&status=resolved')).toEqual([alert!.id]);
    expect(await q('site=fa-site&status=open')).toEqual([]);
    expect(await q('site=fa-site&severity=critical&camera=c1')).toEqual([alert!.id]);
    expect(await q(`site=fa-site&from=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual([]);

    const cases: [string, number, string][] = [
      ['/api/v1/alerts?status=closed', 400, 'invalid_request'],
      ['/api/v1/alerts?camera=c1', 400, 'invalid_request'],
      ['/api/v1/alerts?cursor=nope', 400, 'invalid_cursor'],
      ['/api/v1/alerts/not-a-uuid', 400, 'invalid_request'],
      ['/api/v1/alerts/01936b7e-8c1a-7c35-9f0e-000000000000', 404, 'not_found'],
    ];
    for (const [url, status, code] of cases) {
      const res = await api.get<{ error: { code: string } }>(url);
      expect({ url, status: res.status, code: res.body.error.code }).toEqual({ url, status, code });
    }
    const none = await api.post<{ error: { code: string } }>(
      '/api/v1/alerts/01936b7e-8c1a-7c35-9f0e-000000000000/ack',
      {},
    );
    expect(none.status).toBe(404);
  });

  it('pages through alerts newest first', async () => {
    await createRule({ kind: 'event', name: 'Paging', severity: 'info', eventTypes: ['object'], sites: ['pages'] });
    await send(Array.from({ length: 7 }, (_, i) => makeEvent({ site: 'pages', camera: `c${i}`, type: 'object' })));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: Page } = await api.get<Page>(
        `/api/v1/alerts?site=pages&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...res.body.items.map((a) => a.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(7);
  });
});

describe('health alerts and escalation', () => {
  it('opens one alert for a camera that goes offline and resolves it when the camera returns', async () => {
    const rules = (await api.get<{ items: AlertRule[] }>('/api/v1/alert-rules')).body.items;
    const offline = rules.find((r) => r.condition === 'camera_offline')!;
    const { id, createdAt, updatedAt, ...rest } = offline;
    void [createdAt, updatedAt];
    const put = await api.put<AlertRule>(`/api/v1/alert-rules/${id}`, {
      ...Object.fromEntries(
        Object.entries(rest).filter(
          ([k]) => !['eventTypes', 'schedule', 'threshold', 'groupBy', 'cooldownSec'].includes(k),
        ),
      ),
      forSec: 2,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.forSec).toBe(2);

    await publishJson(pub, t.health('hl', 'cam-1'), makeHealth({ site: 'hl', camera: 'cam-1', status: 'online' }));
    await waitFor(
      async () => (await hub.pg.query(`SELECT 1 FROM cameras WHERE site = 'hl' AND status = 'online'`)).rowCount,
    );
    const wentOffline = Date.now();
    await publishJson(
      pub,
      t.health('hl', 'cam-1'),
      makeHealth({
        site: 'hl',
        camera: 'cam-1',
        status: 'offline',
        problems: [{ code: 'unreachable', message: 'no answer on port 80' }],
      }),
    );
    const opened = await waitFor(async () => (await alertsOf('hl'))[0], { what: 'offline alert', timeoutMs: 15_000 });
    // Not before the condition lasted forSec.
    expect(Date.now() - wentOffline).toBeGreaterThanOrEqual(1900);
    expect(opened).toMatchObject({ kind: 'health', condition: 'camera_offline', status: 'open', camera: 'cam-1' });
    expect(opened.reason).toEqual({ code: 'camera_offline', params: { status: 'offline', problems: ['unreachable'] } });

    // Further offline samples and ticks do not add alerts.
    await publishJson(pub, t.health('hl', 'cam-1'), makeHealth({ site: 'hl', camera: 'cam-1', status: 'offline' }));
    await sleep(1500);
    expect(await alertsOf('hl')).toHaveLength(1);

    await publishJson(pub, t.health('hl', 'cam-1'), makeHealth({ site: 'hl', camera: 'cam-1', status: 'online' }));
    const resolved = await waitFor(async () => (await alertsOf('hl')).find((a) => a.status === 'resolved'), {
      what: 'alert resolved by the system',
    });
    expect(resolved).toMatchObject({ id: opened.id, resolvedBy: 'system', resolution: 'auto' });
    const detail = await api.get<AlertDetail>(`/api/v1/alerts/${opened.id}`);
    expect(detail.body.history.map((h) => [h.action, h.actor, h.note])).toEqual([
      ['opened', 'system', null],
      ['auto_resolved', 'system', null],
    ]);
    expect(detail.body.history[1]!.data).toEqual({ reason: 'condition_cleared' });
    await sleep(1500);
    expect(await alertsOf('hl')).toHaveLength(1);
  });

  it('opens a tamper alert on the start event and resolves it on the end', async () => {
    await send([makeEvent({ site: 'tmp', camera: 'door', type: 'tamper', state: 'start' })]);
    const [open] = await alertsOf('tmp');
    expect(open).toMatchObject({ condition: 'tamper', status: 'open', severity: 'critical', eventCount: 1 });
    expect(open!.reason).toMatchObject({
      code: 'tamper',
      params: { source: expect.stringMatching(/^(camera|stream)$/) },
    });
    await send([makeEvent({ site: 'tmp', camera: 'door', type: 'tamper', state: 'end' })]);
    const [done] = await alertsOf('tmp');
    expect(done).toMatchObject({ id: open!.id, status: 'resolved', resolution: 'auto', eventCount: 2 });
  });

  it('escalates an alert nobody acknowledged in time, once', async () => {
    await createRule({
      kind: 'event',
      name: 'Panic button',
      severity: 'warning',
      eventTypes: ['digital_input'],
      sites: ['esc'],
      escalateAfterSec: 1,
    });
    await send([makeEvent({ site: 'esc', camera: 'desk', type: 'digital_input', state: 'pulse' })]);
    await send([makeEvent({ site: 'esc', camera: 'lobby', type: 'digital_input', state: 'pulse' })]);
    const [lobby] = (await alertsOf('esc')).filter((a) => a.camera === 'lobby');
    expect((await api.post(`/api/v1/alerts/${lobby!.id}/ack`, {})).status).toBe(200);

    const escalated = await waitFor(async () => (await alertsOf('esc')).find((a) => a.escalationLevel > 0), {
      what: 'escalation',
    });
    expect(escalated).toMatchObject({ camera: 'desk', severity: 'critical', escalationLevel: 1, status: 'open' });
    await sleep(2500);
    const after = await alertsOf('esc');
    expect(after.find((a) => a.camera === 'desk')!.escalationLevel).toBe(1);
    expect(after.find((a) => a.camera === 'lobby')!).toMatchObject({ escalationLevel: 0, severity: 'warning' });
    const detail = await api.get<AlertDetail>(`/api/v1/alerts/${escalated.id}`);
    expect(detail.body.history.map((h) => h.action)).toEqual(['opened', 'escalated']);
    expect(detail.body.history[1]).toMatchObject({ note: null, data: { reason: 'not_acknowledged' } });
  });
});
