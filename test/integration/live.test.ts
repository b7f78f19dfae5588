import { createTopics } from '@camhub/shared';
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareIds } from '../../hub/src/live/live-feed.js';
import { createUser, adminApi } from '../support/auth.js';
import { makeEvent, makeHealth } from '../support/factories.js';
import { buildHub, hubUrl, type TestHubEnv } from '../support/hub.js';
import { useTestHub } from '../support/hub-fixture.js';
import { connectPublisher, publishJson } from '../support/mqtt.js';
import { openSse, type SseMessage } from '../support/sse.js';
import { sleep, waitFor } from '../support/wait.js';

let env: TestHubEnv;
let writer: FastifyInstance;
let reader: FastifyInstance;
let pub: MqttClient;
let headers: Record<string, string>;
let t: ReturnType<typeof createTopics>;

// One writer so that storage order is publication order, which the test checks end to end.
const fixture = useTestHub({ INGEST_WORKER_CONCURRENCY: 1 }, { listen: true });
beforeAll(async () => {
  ({ env, hub: writer } = fixture);
  // A second hub process that takes no MQTT at all: its SSE clients see what the writer stored, through Redis.
  reader = await buildHub(env.config, { listen: true, ingest: { subscribe: false, work: false } });
  headers = await adminApi(reader).headers();
  t = createTopics(env.config.MQTT_TOPIC_ROOT);
  await waitFor(() => writer.ingest.mqtt?.connected, { what: 'hub mqtt connection' });
  pub = await connectPublisher();
});

afterAll(async () => {
  await pub?.endAsync();
  await reader?.close();
});

const eventsOf = (msgs: SseMessage[]) =>
  msgs.filter((m) => m.event === 'event').map((m) => m.data as { seq: number; site: string });

describe('live feed (SSE)', () => {
  it('streams events, camera status and alert changes from another hub, in order, filtered by site', async () => {
    const sse = await openSse(`${hubUrl(reader)}/api/v1/live?site=live-1`, headers);
    expect(sse.status()).toBe(200);
    expect(sse.contentType()).toContain('text/event-stream');
    await sleep(200);

    const mine = Array.from({ length: 30 }, (_, i) => makeEvent({ site: 'live-1', camera: 'cam-1', seq: i + 1 }));
    const other = makeEvent({ site: 'live-2', camera: 'cam-1' });
    for (const e of [...mine.slice(0, 15), other, ...mine.slice(15)])
      await publishJson(pub, t.events(e.site, e.camera), e);
    await publishJson(
      pub,
      t.health('live-1', 'cam-1'),
      makeHealth({ site: 'live-1', camera: 'cam-1', status: 'online' }),
    );
    await publishJson(
      pub,
      t.events('live-1', 'cam-9'),
      makeEvent({ site: 'live-1', camera: 'cam-9', type: 'intrusion', seq: 99 }),
    );

    await waitFor(() => sse.messages.some((m) => m.event === 'alert'), { what: 'alert on the live feed' });
    await waitFor(() => sse.messages.some((m) => m.event === 'camera'), { what: 'camera status on the live feed' });
    await waitFor(() => eventsOf(sse.messages).length === 31, { what: '31 events' });
    const evs = eventsOf(sse.messages);
    expect(evs.every((e) => e.site === 'live-1')).toBe(true);
    expect(evs.slice(0, 30).map((e) => e.seq)).toEqual(mine.map((e) => e.seq));
    const ids = sse.messages.map((m) => m.id!);
    expect([...ids].sort(compareIds)).toEqual(ids);
    expect(sse.messages.find((m) => m.event === 'camera')!.data).toMatchObject({
      site: 'live-1',
      camera: 'cam-1',
      to: 'online',
    });
    expect(sse.messages.find((m) => m.event === 'alert')!.data).toMatchObject({
      action: 'opened',
      alert: { site: 'live-1', camera: 'cam-9', ruleName: 'Xâm nhập hoặc vượt hàng rào ảo' },
    });
    sse.close();
  });

  it('resumes after a short disconnect with Last-Event-ID: every missed entry once, in order', async () => {
    const first = await openSse(`${hubUrl(reader)}/api/v1/live?site=live-3&kinds=event`, headers);
    await sleep(200);
    const before = Array.from({ length: 5 }, (_, i) => makeEvent({ site: 'live-3', camera: 'cam-1', seq: 100 + i }));
    for (const e of before) await publishJson(pub, t.events(e.site, e.camera), e);
    await waitFor(() => eventsOf(first.messages).length === 5, { what: 'first five' });
    const lastId = first.messages.at(-1)!.id!;
    first.close();

    const missed = Array.from({ length: 12 }, (_, i) => makeEvent({ site: 'live-3', camera: 'cam-1', seq: 200 + i }));
    for (const e of missed) await publishJson(pub, t.events(e.site, e.camera), e);
    await waitFor(
      async () =>
        (await writer.pg.query(`SELECT count(*)::int AS n FROM events WHERE site = 'live-3'`)).rows[0].n === 17,
      { what: 'missed events stored' },
    );
    // Reconnect to the other hub process: the ids are shared.
    const again = await openSse(`${hubUrl(writer)}/api/v1/live?site=live-3&kinds=event`, {
      ...headers,
      'last-event-id': lastId,
    });
    await waitFor(() => eventsOf(again.messages).length >= 12, { what: 'replayed events' });
    const after = makeEvent({ site: 'live-3', camera: 'cam-1', seq: 300 });
    await publishJson(pub, t.events(after.site, after.camera), after);
    await waitFor(() => eventsOf(again.messages).length === 13, { what: 'live event after replay' });
    expect(eventsOf(again.messages).map((e) => e.seq)).toEqual([...missed.map((e) => e.seq), 300]);
    await sleep(300);
    expect(eventsOf(again.messages)).toHaveLength(13);
    again.close();
  });

  it('shows technicians camera status only, and operators limited to a site only that site', async () => {
    const tech = await createUser(reader, ['technician']);
    const local = await createUser(reader, ['operator'], { sites: ['live-5'] });
    const techSse = await openSse(`${hubUrl(reader)}/api/v1/live?kinds=event,alert,camera`, tech.headers);
    const localSse = await openSse(`${hubUrl(reader)}/api/v1/live`, local.headers);
    expect([techSse.status(), localSse.status()]).toEqual([200, 200]);
    await sleep(200);
    for (const site of ['live-4', 'live-5']) {
      await publishJson(pub, t.events(site, 'cam-1'), makeEvent({ site, camera: 'cam-1', type: 'intrusion' }));
      await publishJson(pub, t.health(site, 'cam-1'), makeHealth({ site, camera: 'cam-1', status: 'online' }));
    }
    await waitFor(() => techSse.messages.filter((m) => m.event === 'camera').length === 2, { what: 'camera status' });
    await waitFor(() => localSse.messages.filter((m) => m.event === 'alert').length === 1, { what: 'alert' });
    await sleep(300);
    expect(new Set(techSse.messages.map((m) => m.event))).toEqual(new Set(['camera']));
    expect(
      new Set(
        localSse.messages.map(
          (m) =>
            (m.data as { site?: string; alert?: { site: string } }).site ??
            (m.data as { alert: { site: string } }).alert.site,
        ),
      ),
    ).toEqual(new Set(['live-5']));
    expect(new Set(localSse.messages.map((m) => m.event))).toEqual(new Set(['event', 'camera', 'alert']));
    // The REST side agrees: technicians do not read alerts; a site-limited user gets 404 for another site.
    expect((await reader.inject({ url: '/api/v1/alerts', headers: tech.headers })).statusCode).toBe(403);
    expect((await reader.inject({ url: '/api/v1/live?site=live-4', headers: local.headers })).statusCode).toBe(404);
    techSse.close();
    localSse.close();
  });

  it('refuses bad filters with the error shape', async () => {
    const res = await reader.inject({ method: 'GET', url: '/api/v1/live?kinds=everything', headers });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'invalid_request' } });
  });
});

describe('live feed with nobody listening', () => {
  let idleEnv: TestHubEnv;
  let hub: FastifyInstance;
  let idleHeaders: Record<string, string>;
  const stored = async (site: string) =>
    (await hub.pg.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE site = $1', [site])).rows[0]!.n;

  const idle = useTestHub({ LIVE_IDLE_GRACE_SEC: 1 }, { listen: true });
  beforeAll(async () => {
    ({ env: idleEnv, hub } = idle);
    idleHeaders = await adminApi(hub).headers();
    await waitFor(() => hub.ingest.mqtt?.connected, { what: 'hub mqtt connection' });
  });

  it('writes no entry while no hub has a client; a client resuming across that time is told of the gap', async () => {
    const tp = createTopics(idleEnv.config.MQTT_TOPIC_ROOT);
    const key = `${idleEnv.config.QUEUE_PREFIX}:live`;
    const first = await openSse(`${hubUrl(hub)}/api/v1/live?site=idle-1&kinds=event`, idleHeaders);
    const e1 = makeEvent({ site: 'idle-1', camera: 'cam-1', seq: 1 });
    await publishJson(pub, tp.events(e1.site, e1.camera), e1);
    await waitFor(() => eventsOf(first.messages).length === 1, { what: 'event seen live' });
    const lastId = first.messages.at(-1)!.id!;
    first.close();

    // The grace (1 s) and the next check (1 s) pass: the feed goes quiet.
    await sleep(3000);
    const before = await hub.redis.xlen(key);
    const quiet = Array.from({ length: 5 }, (_, i) => makeEvent({ site: 'idle-1', camera: 'cam-1', seq: 10 + i }));
    for (const e of quiet) await publishJson(pub, tp.events(e.site, e.camera), e);
    await waitFor(async () => (await stored('idle-1')) === 6, { what: 'quiet events stored' });
    await sleep(200);
    expect(await hub.redis.xlen(key)).toBe(before);

    const again = await openSse(`${hubUrl(hub)}/api/v1/live?site=idle-1&kinds=event`, {
      ...idleHeaders,
      'last-event-id': lastId,
    });
    await waitFor(() => again.messages.some((m) => m.event === 'gap'), { what: 'gap announced' });
    const e2 = makeEvent({ site: 'idle-1', camera: 'cam-1', seq: 20 });
    await publishJson(pub, tp.events(e2.site, e2.camera), e2);
    await waitFor(() => eventsOf(again.messages).length === 1, { what: 'live event after waking' });
    expect(eventsOf(again.messages)[0]!.seq).toBe(20);
    again.close();
  });

  it('gives a new client the event published while it connects to a quiet feed, without a gap', async () => {
    const tp = createTopics(idleEnv.config.MQTT_TOPIC_ROOT);
    // The last client left above: after the grace (1 s) and the next check (1 s) the feed is quiet again.
    await sleep(3000);
    // The hub wakes the feed before it answers (one check, ~1.1 s): an event stored meanwhile was written to the feed
    // before this client was added, and used to be lost to it (the console's wall missed the first motion).
    const opening = openSse(`${hubUrl(hub)}/api/v1/live?site=idle-2&kinds=event`, idleHeaders);
    await sleep(150);
    const e = makeEvent({ site: 'idle-2', camera: 'cam-1', seq: 30 });
    await publishJson(pub, tp.events(e.site, e.camera), e);
    await waitFor(async () => (await stored('idle-2')) === 1, { what: 'event stored while the client connects' });
    const sse = await opening;
    await waitFor(() => eventsOf(sse.messages).length === 1, {
      timeoutMs: 5000,
      what: 'the event reaching the client',
    });
    expect(eventsOf(sse.messages)[0]!.seq).toBe(30);
    expect(sse.messages.some((m) => m.event === 'gap')).toBe(false);
    sse.close();
  });
});
