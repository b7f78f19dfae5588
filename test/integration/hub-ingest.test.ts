import { type Topics, type EventItem } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeAgentStatus, makeCameraStatus, makeEvent, makeHealth } from '../support/factories.js';
import { authHeaders, createUser } from '../support/auth.js';
import { type TestHubEnv } from '../support/hub.js';
import { usePublisher, useTestHub } from '../support/hub-fixture.js';
import { publishJson } from '../support/mqtt.js';
import { waitFor } from '../support/wait.js';

let env: TestHubEnv;
let hub: FastifyInstance;
let pub: MqttClient;
let t: Topics;

const api = async <T = unknown>(url: string) => {
  const res = await hub.inject({ method: 'GET', url, headers: await authHeaders(hub, 'admin') });
  return { status: res.statusCode, body: res.json() as T };
};
const countEvents = async (site: string) => {
  const r = await hub.pg.query('SELECT count(*)::int AS n FROM events WHERE site = $1', [site]);
  return r.rows[0].n as number;
};

const fixture = useTestHub();
const mqtt = usePublisher(fixture);
beforeAll(async () => {
  ({ env, hub } = fixture);
  ({ pub, topics: t } = mqtt);
});

describe('hub ingest over real MQTT, Redis and PostgreSQL', () => {
  it('stores each event exactly once despite redelivery and replay', async () => {
    const events = Array.from({ length: 60 }, (_, i) =>
      makeEvent({ site: 'dup-site', camera: `cam-${i % 3}`, seq: i }),
    );
    for (const e of events) await publishJson(pub, t.events(e.site, e.camera), e);
    // Replay all of them, and some a third time, as an agent draining its outbox after a crash would.
    for (const e of events) await publishJson(pub, t.events(e.site, e.camera), e);
    for (const e of events.slice(0, 10)) await publishJson(pub, t.events(e.site, e.camera), e);
    // Every one of the 130 messages has been through the worker once 70 duplicates have been counted.
    const duplicates = async () =>
      Number(/camhub_ingest_events_duplicate_total (\d+)/.exec((await hub.inject('/metrics')).body)?.[1] ?? 0);
    await waitFor(async () => (await duplicates()) >= 70, { what: '70 duplicates seen' });
    expect(await duplicates()).toBe(70);
    expect(await countEvents('dup-site')).toBe(60);

    const one = await api<EventItem>(`/api/v1/events/${events[5]!.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: events[5]!.id, site: 'dup-site', seq: 5, type: 'motion', state: 'start' });
    expect(one.body.receivedAt).toMatch(/Z$/);
  });

  it('keeps every kind of bad message with its reason, and stays up', async () => {
    const good = makeEvent({ site: 'bad-site', camera: 'cam-1' });
    const topic = t.events('bad-site', 'cam-1');
    const sends: [string, string | Buffer][] = [
      [topic, 'not json at all'],
      [topic, Buffer.from([0xc3, 0x28, 0x7b])],
      [topic, JSON.stringify({ ...good, v: 2 })],
      [topic, JSON.stringify({ ...good, seq: 'seven' })],
      [topic, JSON.stringify({ ...good, camera: 'cam-2' })],
      [topic, JSON.stringify({ ...good, data: { x: 'y'.repeat(20_000) } })],
      [`${env.config.MQTT_TOPIC_ROOT}/Bad_Site/agent`, JSON.stringify(makeAgentStatus())],
    ];
    for (const [tp, payload] of sends) await pub.publishAsync(tp, payload, { qos: 1 });
    await publishJson(pub, topic, good);
    await waitFor(async () => (await api<{ items: unknown[] }>('/api/v1/ingest/rejections')).body.items.length >= 7);
    const { body } = await api<{
      items: { reason: string; topic: string; payload: string; payloadBytes: number; truncated: boolean }[];
    }>('/api/v1/ingest/rejections?limit=50');
    const reasons = body.items.map((r) => r.reason).sort();
    expect(reasons).toEqual(
      [
        'invalid_payload',
        'not_json',
        'not_utf8',
        'too_large',
        'topic_mismatch',
        'unknown_topic',
        'unsupported_version',
      ].sort(),
    );
    const big = body.items.find((r) => r.reason === 'too_large')!;
    expect(big.truncated).toBe(true);
    expect(big.payloadBytes).toBeGreaterThan(16 * 1024);
    expect(big.payload.length).toBeLessThanOrEqual(env.config.REJECTION_PAYLOAD_MAX_BYTES);
    expect(body.items.find((r) => r.reason === 'not_json')!.payload).toBe('not json at all');
    // The valid message sent after the garbage is stored.
    await waitFor(async () => (await api(`/api/v1/events/${good.id}`)).status === 200, { what: 'good event stored' });
    const filtered = await api<{ items: unknown[] }>('/api/v1/ingest/rejections?reason=not_json');
    expect(filtered.body.items).toHaveLength(1);
    // A technician limited to another site sees none of bad-site's rejections; one limited to bad-site sees them.
    const other = await createUser(hub, ['technician'], { sites: ['other-site'] });
    const mine = await createUser(hub, ['technician'], { sites: ['bad-site'] });
    const as = async (u: { headers: { authorization: string } }) =>
      (await hub.inject({ url: '/api/v1/ingest/rejections?limit=100', headers: u.headers })).json().items as {
        topic: string;
      }[];
    expect(await as(other)).toEqual([]);
    const seen = await as(mine);
    expect(seen.length).toBeGreaterThanOrEqual(6);
    expect(seen.every((r) => r.topic.startsWith(`${env.config.MQTT_TOPIC_ROOT}/bad-site/`))).toBe(true);
    const metrics = (await hub.inject('/metrics')).body;
    expect(metrics).toMatch(/camhub_ingest_messages_rejected_total\{reason="not_json"\} 1/);
  });

  it('paginates newest first without skipping or repeating while new events arrive', async () => {
    const base = Date.parse('2026-11-01T00:00:00.000Z');
    const old = Array.from({ length: 230 }, (_, i) =>
      // Several events share a timestamp so the id tie-breaker is exercised.
      makeEvent({
        site: 'page-site',
        camera: 'cam-1',
        seq: i,
        at: new Date(base + Math.floor(i / 3) * 1000).toISOString(),
      }),
    );
    await Promise.all(old.map((e) => publishJson(pub, t.events(e.site, e.camera), e)));
    await waitFor(async () => (await countEvents('page-site')) === 230, { what: 'page events stored' });

    const seen: EventItem[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const q: string = `/api/v1/events?site=page-site&limit=40${cursor ? `&cursor=${cursor}` : ''}`;
      const { status, body } = await api<{ items: EventItem[]; nextCursor: string | null }>(q);
      expect(status).toBe(200);
      seen.push(...body.items);
      cursor = body.nextCursor;
      // Concurrent inserts: newer events keep arriving between pages.
      const fresh = makeEvent({ site: 'page-site', camera: 'cam-2', seq: 1000 + page++ });
      await publishJson(pub, t.events(fresh.site, fresh.camera), fresh);
    } while (cursor);

    const ids = seen.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const oldIds = new Set(old.map((e) => e.id));
    expect(ids.filter((id) => oldIds.has(id))).toHaveLength(230);
    for (let i = 1; i < seen.length; i++) {
      const a = seen[i - 1]!;
      const b = seen[i]!;
      expect(a.at > b.at || (a.at === b.at && a.id > b.id)).toBe(true);
    }
  });

  it('filters by camera, type and time range', async () => {
    const at = (s: string) => `2026-10-05T${s}.000Z`;
    const evs = [
      makeEvent({ site: 'flt', camera: 'c1', type: 'motion', at: at('01:00:00') }),
      makeEvent({ site: 'flt', camera: 'c1', type: 'tamper', at: at('02:00:00') }),
      makeEvent({ site: 'flt', camera: 'c2', type: 'motion', at: at('03:00:00') }),
    ];
    for (const e of evs) await publishJson(pub, t.events(e.site, e.camera), e);
    await waitFor(async () => (await countEvents('flt')) === 3);
    const ids = async (q: string) =>
      (await api<{ items: EventItem[] }>(`/api/v1/events?${q}`)).body.items.map((e) => e.id);
    expect(await ids('site=flt&camera=c1')).toEqual([evs[1]!.id, evs[0]!.id]);
    expect(await ids('site=flt&type=motion')).toEqual([evs[2]!.id, evs[0]!.id]);
    expect(await ids(`site=flt&from=${at('01:30:00')}&to=${at('03:00:00')}`)).toEqual([evs[1]!.id]);
  });

  it('answers invalid requests with 4xx and the contract error shape', async () => {
    const cases: [string, number, string][] = [
      ['/api/v1/events?limit=0', 400, 'invalid_request'],
      ['/api/v1/events?limit=1001', 400, 'invalid_request'],
      ['/api/v1/events?type=explosion', 400, 'invalid_request'],
      ['/api/v1/events?from=yesterday', 400, 'invalid_request'],
      // The right shape but no real instant: PostgreSQL would refuse it, so the API must, first.
      ['/api/v1/events?from=0000-00-00T00:00:00Z', 400, 'invalid_request'],
      ['/api/v1/events?to=2026-02-31T00:00:00Z', 400, 'invalid_request'],
      ['/api/v1/events?site=td-01&bogus=1', 400, 'invalid_request'],
      ['/api/v1/events?cursor=not-a-cursor', 400, 'invalid_cursor'],
      ['/api/v1/events?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', 400, 'invalid_range'],
      ['/api/v1/events?camera=c1', 400, 'invalid_request'],
      ["/api/v1/events?site=x'%20OR%201=1--", 400, 'invalid_request'],
      ['/api/v1/events/not-a-uuid', 400, 'invalid_request'],
      ['/api/v1/events/01936b7e-8c1a-7c35-9f0e-000000000000', 404, 'not_found'],
      ['/api/v1/nothing-here', 404, 'route_not_found'],
    ];
    for (const [url, status, code] of cases) {
      const res = await api<{ error: { code: string; message: string } }>(url);
      expect({ url, status: res.status, code: res.body.error?.code }).toEqual({ url, status, code });
      expect(typeof res.body.error.message).toBe('string');
    }
  });

  it('keeps camera state from health, status and agent messages, and the last will makes cameras unknown', async () => {
    const h = makeHealth({
      site: 'st-site',
      camera: 'cam-9',
      status: 'degraded',
      problems: [{ code: 'low_fps', message: 'fps 2' }],
    });
    await publishJson(pub, t.agent('st-site'), makeAgentStatus({ site: 'st-site' }));
    await publishJson(pub, t.health('st-site', 'cam-9'), h);
    await publishJson(
      pub,
      t.status('st-site', 'cam-9'),
      makeCameraStatus({
        site: 'st-site',
        camera: 'cam-9',
        status: 'degraded',
        problems: h.problems,
        name: 'Cổng chính',
      }),
    );
    const cam = async () =>
      (
        await api<{ items: { camera: string; status: string; health: unknown; problems: { code: string }[] }[] }>(
          '/api/v1/cameras?site=st-site',
        )
      ).body.items[0];
    await waitFor(async () => (await cam())?.status === 'degraded', { what: 'camera degraded' });
    expect((await cam())!.health).toMatchObject({ status: 'degraded', stream: { fps: 12.5 } });
    // The name a status message carries (the agent's configuration) is what people see.
    expect((await cam()) as unknown as { name: string }).toMatchObject({ name: 'Cổng chính' });
    const hist = await api<{ items: unknown[] }>(`/api/v1/cameras/st-site/cam-9/health`);
    expect(hist.body.items).toHaveLength(1);
    expect(hist.body.items[0]).toMatchObject({ status: 'degraded', onvif: { latencyMs: 42 } });
    // Last will: the agent is gone; the hub cannot know whether its cameras work.
    await publishJson(
      pub,
      t.agent('st-site'),
      makeAgentStatus({ site: 'st-site', state: 'offline', at: '2020-01-01T00:00:00.000Z' }),
    );
    await waitFor(async () => (await cam())?.status === 'unknown', { what: 'camera unknown' });
    expect((await cam())!.problems.map((p) => p.code)).toEqual(['agent_offline']);
    expect((await api('/api/v1/cameras/st-site/nope/health')).status).toBe(404);
  });

  it('reports readiness of PostgreSQL, Redis and MQTT', async () => {
    const res = await api<{ ready: boolean; checks: Record<string, string> }>('/readyz');
    expect(res).toEqual({ status: 200, body: { ready: true, checks: { postgres: 'ok', redis: 'ok', mqtt: 'ok' } } });
    expect((await api('/healthz')).status).toBe(200);
    const docs = await hub.inject('/docs/json');
    expect(docs.statusCode).toBe(200);
    expect(Object.keys(docs.json().paths)).toContain('/api/v1/events');
  });
});
